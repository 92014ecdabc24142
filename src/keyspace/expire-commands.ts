/**
 * Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX, GT,
 * LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.
 *
 * Times are parsed and checked as 64-bit integers, as Redis does, and kept
 * in the keyspace as absolute milliseconds. Relative forms are propagated
 * as PEXPIREAT with the absolute time so that replicas and the AOF agree; a
 * time already in the past deletes the key and propagates DEL (or UNLINK
 * with lazyfree-lazy-expire).
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err, truncateForError } from '../errors.js';
import { int64Arg } from '../commands/args.js';
import { now } from './clock.js';
import { lookupNoTouch } from './lookup.js';

const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/** An integer reply for a millisecond quantity that may exceed 2^53 (kept exact up to INT64_MAX). */
function replyLong(s: Session, n: number): void {
  if (Number.isSafeInteger(n)) s.reply.int(n);
  else {
    const b = BigInt(Math.trunc(n));
    s.reply.int(b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b);
  }
}

const NX = 1;
const XX = 2;
const GT = 4;
const LT = 8;

function expireFlags(argv: string[]): number {
  let f = 0;
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i]!.toUpperCase();
    if (a === 'NX') f |= NX;
    else if (a === 'XX') f |= XX;
    else if (a === 'GT') f |= GT;
    else if (a === 'LT') f |= LT;
    else throw new CommandError(`ERR Unsupported option ${truncateForError(argv[i]!, Infinity)}`); // C %s: stops at a NUL
  }
  if (f & NX && f & (XX | GT | LT)) throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (f & GT && f & LT) throw new CommandError('ERR GT and LT options at the same time are not compatible');
  return f;
}

/**
 * EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT].
 * `relative`: the time is added to now; `seconds`: the time is in seconds.
 */
function expireGeneric(s: Session, argv: string[], name: string, relative: boolean, seconds: boolean): void {
  const flags = expireFlags(argv);
  let when = int64Arg(argv[2]!);
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw new CommandError(Err.invalidExpire(name));
    when *= 1000n;
  }
  const t = now();
  if (relative) {
    const base = BigInt(t);
    if (when > INT64_MAX - base) throw new CommandError(Err.invalidExpire(name));
    when += base;
  }
  const key = argv[1]!;
  const db = s.db;
  if (!db.has(key)) {
    s.reply.int(0);
    return;
  }
  const at = Number(when);
  if (flags !== 0) {
    const cur = db.getExpire(key); // 0: no expiry, i.e. an infinite TTL
    if ((flags & NX && cur !== 0) || (flags & XX && cur === 0) || (flags & GT && (cur === 0 || at <= cur)) || (flags & LT && cur !== 0 && at >= cur)) {
      s.reply.int(0);
      return;
    }
  }
  const e = s.engine;
  if (when <= BigInt(t) && e.role === 'master' && !e.loading) {
    db.delete(key);
    s.wrote('g', 'del', key);
    s.rewriteAs([e.config.bool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]);
    s.reply.int(1);
    return;
  }
  db.setExpire(key, at);
  if (name !== 'pexpireat') s.rewriteAs(['PEXPIREAT', key, when.toString(), ...argv.slice(3)]);
  s.wrote('g', 'expire', key);
  s.reply.int(1);
}

function expire(s: Session, argv: string[]): void {
  expireGeneric(s, argv, 'expire', true, true);
}
function pexpire(s: Session, argv: string[]): void {
  expireGeneric(s, argv, 'pexpire', true, false);
}
function expireat(s: Session, argv: string[]): void {
  expireGeneric(s, argv, 'expireat', false, true);
}
function pexpireat(s: Session, argv: string[]): void {
  expireGeneric(s, argv, 'pexpireat', false, false);
}

/** TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 missing key, -1 no expiry. */
function ttlGeneric(s: Session, argv: string[], ms: boolean, absolute: boolean): void {
  const key = argv[1]!;
  if (lookupNoTouch(s, key) === undefined) {
    s.reply.int(-2);
    return;
  }
  const exp = s.db.getExpire(key);
  if (exp === 0) {
    s.reply.int(-1);
    return;
  }
  let v = absolute ? exp : exp - now();
  if (v < 0) v = 0;
  replyLong(s, ms ? v : Math.floor((v + 500) / 1000));
}

function ttl(s: Session, argv: string[]): void {
  ttlGeneric(s, argv, false, false);
}
function pttl(s: Session, argv: string[]): void {
  ttlGeneric(s, argv, true, false);
}
function expiretime(s: Session, argv: string[]): void {
  ttlGeneric(s, argv, false, true);
}
function pexpiretime(s: Session, argv: string[]): void {
  ttlGeneric(s, argv, true, true);
}

function persist(s: Session, argv: string[]): void {
  const key = argv[1]!;
  if (s.db.persist(key)) {
    s.wrote('g', 'persist', key);
    s.reply.int(1);
  } else s.reply.int(0);
}

const rwUpdate: KeySpec = { flags: ['RW', 'update'], begin: { index: 1 }, find: { range: [0, 1, 0] } };
const roAccess: KeySpec = { flags: ['RO', 'access'], begin: { index: 1 }, find: { range: [0, 1, 0] } };
const write = { arity: -3, flags: ['write', 'fast'], group: 'generic', keys: [1, 1, 1], keySpecs: [rwUpdate], complexity: 'O(1)' } as const;
const read = { arity: 2, flags: ['readonly', 'fast'], group: 'generic', keys: [1, 1, 1], keySpecs: [roAccess], complexity: 'O(1)' } as const;
const ttlTips = ['nondeterministic_output'] as const;

export const expireCommands: CommandSpec[] = [
  { name: 'expire', ...write, summary: "Set a key's time to live in seconds", since: '1.0.0', handler: expire },
  { name: 'pexpire', ...write, summary: "Set a key's time to live in milliseconds", since: '2.6.0', handler: pexpire },
  { name: 'expireat', ...write, summary: 'Set the expiration for a key as a UNIX timestamp', since: '1.2.0', handler: expireat },
  { name: 'pexpireat', ...write, summary: 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', since: '2.6.0', handler: pexpireat },
  { name: 'ttl', ...read, tips: ttlTips, summary: 'Get the time to live for a key in seconds', since: '1.0.0', handler: ttl },
  { name: 'pttl', ...read, tips: ttlTips, summary: 'Get the time to live for a key in milliseconds', since: '2.6.0', handler: pttl },
  { name: 'expiretime', ...read, summary: 'Get the expiration Unix timestamp for a key', since: '7.0.0', handler: expiretime },
  { name: 'pexpiretime', ...read, summary: 'Get the expiration Unix timestamp for a key in milliseconds', since: '7.0.0', handler: pexpiretime },
  { name: 'persist', ...write, arity: 2, summary: 'Remove the expiration from a key', since: '2.2.0', handler: persist },
];
