/**
 * Hash field TTL commands, as in Redis 7.4: HEXPIRE HPEXPIRE HEXPIREAT
 * HPEXPIREAT (NX | XX | GT | LT, `FIELDS numfields field ...`), HTTL HPTTL
 * HEXPIRETIME HPEXPIRETIME, HPERSIST. (redis-server 7.0, the interop
 * reference, does not have them: replies and error texts follow the Redis
 * 7.4 documentation.)
 *
 * Per-field reply codes — setters: -2 no such field (or key), 0 the
 * condition was not met, 1 expiry set, 2 field deleted because the time is
 * already past; readers: -2 no such field, -1 no TTL; HPERSIST: -2, -1, 1.
 * A missing key answers -2 for every field.
 *
 * Setters propagate as `HPEXPIREAT key <abs ms> ...` (only the fields that
 * changed when some did not), or `HDEL key field ...` for fields deleted by
 * a past time. Events: `hexpire`, `hdel` (+ `del` when the hash goes),
 * `hpersist`; fields expiring later fire `hexpired` (field-expiry.ts).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { int64Arg, is } from '../commands/args.js';
import { now } from '../keyspace/clock.js';
import { parseInt64 } from '../numbers/parse.js';
import { keySpec } from '../strings/string-commands.js';
import type { HashValue } from './hash-value.js';
import { asHash, hashCmd, liveHash } from './hash-access.js';
import { scheduleHash } from './field-expiry.js';

/** Redis 7.4's largest absolute field expiry in ms (EB_EXPIRE_TIME_MAX >> 2, 2^46 - 1). */
export const HFE_MAX_ABS_TIME_MS = 2 ** 46 - 1;
const INT64_MAX = 9223372036854775807n;

const FIELDS_MISSING = 'ERR Mandatory argument FIELDS is missing or not at the right position';
const NUMFIELDS_MISMATCH = 'ERR The `numfields` parameter must match the number of arguments';

/**
 * `FIELDS numfields field ...` starting at argv[at] (the FIELDS token):
 * returns the index of the first field.
 */
function fieldsArg(argv: string[], at: number, numFieldsError: string): number {
  if (!is(argv[at], 'FIELDS')) throw new CommandError(FIELDS_MISSING);
  const n = parseInt64(argv[at + 1] ?? '');
  if (n === null || n < 1n) throw new CommandError(numFieldsError);
  if (n !== BigInt(argv.length - at - 2)) throw new CommandError(NUMFIELDS_MISMATCH);
  return at + 2;
}

function replyAllMissing(s: Session, n: number): void {
  s.reply.arrayLen(n);
  for (let i = 0; i < n; i++) s.reply.int(-2);
}

// ---------------------------------------------------------------------------
// HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT

type Condition = 'NX' | 'XX' | 'GT' | 'LT';

function conditionMet(cond: Condition | null, cur: number, at: number): boolean {
  switch (cond) {
    case null:
      return true;
    case 'NX':
      return cur === 0;
    case 'XX':
      return cur !== 0;
    case 'GT': // no TTL counts as infinite
      return cur !== 0 && at > cur;
    case 'LT':
      return cur === 0 || at < cur;
  }
}

function hexpireGeneric(s: Session, argv: string[], cmd: string, seconds: boolean, absolute: boolean): void {
  const key = argv[1]!;
  let h = asHash(s.db.getForWrite(key));
  // The time: a non-negative integer in the command's unit, absolute ms within 2^46.
  const n = int64Arg(argv[2]!);
  if (n < 0n) throw new CommandError('ERR invalid expire time, must be >= 0');
  if (seconds && n > INT64_MAX / 1000n) throw new CommandError(Err.invalidExpire(cmd));
  let ms = seconds ? n * 1000n : n;
  if (!absolute) ms += BigInt(now());
  if (ms > BigInt(HFE_MAX_ABS_TIME_MS)) throw new CommandError(Err.invalidExpire(cmd));
  const at = Number(ms);
  const tok = argv[3]!.toUpperCase();
  const cond = tok === 'NX' || tok === 'XX' || tok === 'GT' || tok === 'LT' ? (tok as Condition) : null;
  const first = fieldsArg(argv, cond === null ? 3 : 4, 'ERR Parameter `numFields` should be greater than 0');
  const numFields = argv.length - first;
  h = liveHash(s, key, h);
  if (h === undefined) {
    replyAllMissing(s, numFields);
    return;
  }
  // A time already past deletes the fields (on a master; replicas wait for the HDELs).
  const past = at <= now() && s.engine.role === 'master' && !s.engine.loading;
  const updated: string[] = [];
  const deleted: string[] = [];
  s.reply.arrayLen(numFields);
  for (let i = first; i < argv.length; i++) {
    const field = argv[i]!;
    if (!h.has(field)) {
      s.reply.int(-2);
    } else if (!conditionMet(cond, h.expireOf(field), at)) {
      s.reply.int(0);
    } else if (past) {
      h.delete(field);
      deleted.push(field);
      s.reply.int(2);
    } else {
      h.setExpire(field, at);
      updated.push(field);
      s.reply.int(1);
    }
  }
  if (updated.length > 0) {
    scheduleHash(s.db, key, h);
    s.wrote('h', 'hexpire', key, updated.length);
    const fields = updated.length === numFields ? argv.slice(first) : updated;
    const condArg = cond !== null && updated.length === numFields ? [cond] : [];
    s.rewriteAs(['HPEXPIREAT', key, String(at), ...condArg, 'FIELDS', String(fields.length), ...fields]);
  }
  if (deleted.length > 0) {
    const emptied = h.size === 0;
    if (emptied) s.db.delete(key);
    s.wrote('h', 'hdel', key, deleted.length);
    if (emptied) s.wrote('g', 'del', key, 0);
    s.rewriteAs(['HDEL', key, ...deleted]);
  }
}

// ---------------------------------------------------------------------------
// HTTL HPTTL HEXPIRETIME HPEXPIRETIME

type TtlMode = 'ttl' | 'pttl' | 'expiretime' | 'pexpiretime';

function httlGeneric(s: Session, argv: string[], mode: TtlMode): void {
  const key = argv[1]!;
  let h = asHash(s.db.get(key));
  const first = fieldsArg(argv, 2, 'ERR Number of fields must be a positive integer');
  h = liveHash(s, key, h);
  if (h === undefined) {
    replyAllMissing(s, argv.length - first);
    return;
  }
  const t = now();
  s.reply.arrayLen(argv.length - first);
  for (let i = first; i < argv.length; i++) {
    const field = argv[i]!;
    if (!h.has(field)) {
      s.reply.int(-2);
      continue;
    }
    const at = h.expireOf(field);
    if (at === 0) s.reply.int(-1);
    else if (mode === 'pexpiretime') s.reply.int(at);
    else if (mode === 'expiretime') s.reply.int(Math.floor((at + 999) / 1000));
    else if (mode === 'pttl') s.reply.int(at - t);
    else s.reply.int(Math.floor((at - t + 999) / 1000));
  }
}

// ---------------------------------------------------------------------------
// HPERSIST

function hpersist(s: Session, argv: string[]): void {
  const key = argv[1]!;
  let h: HashValue | undefined = asHash(s.db.getForWrite(key));
  const first = fieldsArg(argv, 2, 'ERR Number of fields must be a positive integer');
  h = liveHash(s, key, h);
  if (h === undefined) {
    replyAllMissing(s, argv.length - first);
    return;
  }
  let persisted = 0;
  s.reply.arrayLen(argv.length - first);
  for (let i = first; i < argv.length; i++) {
    const field = argv[i]!;
    if (!h.has(field)) s.reply.int(-2);
    else if (h.clearExpire(field)) {
      persisted++;
      s.reply.int(1);
    } else s.reply.int(-1);
  }
  if (persisted > 0) s.wrote('h', 'hpersist', key, persisted);
}

// ---------------------------------------------------------------------------
// Command table

const RW_UPDATE = [keySpec(['RW', 'update'])];
const RO_ACCESS = [keySpec(['RO', 'access'])];
const SETTER_COMPLEXITY = 'O(N) where N is the number of specified fields';

export const hashTtlCommands: CommandSpec[] = [
  hashCmd('hexpire', -6, ['write', 'denyoom', 'fast'], 'Set expiry for hash field using relative time to expire (seconds)',
    '7.4.0', SETTER_COMPLEXITY, RW_UPDATE, (s, argv) => hexpireGeneric(s, argv, 'hexpire', true, false)),
  hashCmd('hpexpire', -6, ['write', 'denyoom', 'fast'], 'Set expiry for hash field using relative time to expire (milliseconds)',
    '7.4.0', SETTER_COMPLEXITY, RW_UPDATE, (s, argv) => hexpireGeneric(s, argv, 'hpexpire', false, false)),
  hashCmd('hexpireat', -6, ['write', 'denyoom', 'fast'], 'Set expiry for hash field using an absolute Unix timestamp (seconds)',
    '7.4.0', SETTER_COMPLEXITY, RW_UPDATE, (s, argv) => hexpireGeneric(s, argv, 'hexpireat', true, true)),
  hashCmd('hpexpireat', -6, ['write', 'denyoom', 'fast'],
    'Set expiry for hash field using an absolute Unix timestamp (milliseconds)', '7.4.0', SETTER_COMPLEXITY, RW_UPDATE,
    (s, argv) => hexpireGeneric(s, argv, 'hpexpireat', false, true)),
  hashCmd('httl', -5, ['readonly', 'fast'], 'Returns the TTL in seconds of a hash field.', '7.4.0', SETTER_COMPLEXITY,
    RO_ACCESS, (s, argv) => httlGeneric(s, argv, 'ttl')),
  hashCmd('hpttl', -5, ['readonly', 'fast'], 'Returns the TTL in milliseconds of a hash field.', '7.4.0', SETTER_COMPLEXITY,
    RO_ACCESS, (s, argv) => httlGeneric(s, argv, 'pttl')),
  hashCmd('hexpiretime', -5, ['readonly', 'fast'], 'Returns the expiration time of a hash field as a Unix timestamp, in seconds.',
    '7.4.0', SETTER_COMPLEXITY, RO_ACCESS, (s, argv) => httlGeneric(s, argv, 'expiretime')),
  hashCmd('hpexpiretime', -5, ['readonly', 'fast'], 'Returns the expiration time of a hash field as a Unix timestamp, in msec.',
    '7.4.0', SETTER_COMPLEXITY, RO_ACCESS, (s, argv) => httlGeneric(s, argv, 'pexpiretime')),
  hashCmd('hpersist', -5, ['write', 'fast'], 'Removes the expiration time for each specified field', '7.4.0', SETTER_COMPLEXITY,
    RW_UPDATE, hpersist),
];
