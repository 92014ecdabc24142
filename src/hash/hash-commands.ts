/**
 * Hash commands: HSET HSETNX HMSET HGET HMGET HDEL HEXISTS HLEN HSTRLEN HKEYS
 * HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN. The field TTL commands
 * (HEXPIRE ... HPERSIST) live in hash-ttl-commands.ts and are exported with
 * these in `hashCommands`.
 *
 * Replies, error texts, argument-check order and encoding conversions follow
 * redis-server 7.0.15 (checked against it); HSCAN also takes 7.4's NOVALUES.
 * Every command first lets due field TTLs expire (field-expiry.ts), so an
 * expired field is never seen.
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { cursorArg, int64Arg, is, longArg } from '../commands/args.js';
import { compileGlob } from '../keyspace/glob.js';
import { parseInt64, parseSafeInt } from '../numbers/parse.js';
import { addLongDouble, formatLongDoubleHuman, longDoubleFromNumber, parseLongDouble } from '../numbers/format.js';
import { keySpec } from '../strings/string-commands.js';
import { HashValue } from './hash-value.js';
import { hashCmd, readHash, writeHash } from './hash-access.js';
import { hashTtlCommands } from './hash-ttl-commands.js';
import { configCache } from '../commands/config-cache.js';
import { outputLimitReached } from '../server/output-limit.js';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
/** LONG_MAX, as the bound of HRANDFIELD counts. */
const LONG_MAX = 9223372036854775807n;

const listpackLimits = configCache({ value: 'hash-max-listpack-value', entries: 'hash-max-listpack-entries' });

function maxListpackValue(s: Session): number {
  return listpackLimits(s.engine.config).value;
}

function maxListpackEntries(s: Session): number {
  return listpackLimits(s.engine.config).entries;
}

/**
 * Store one field as Redis's hashTypeSet does: convert to a hashtable first
 * if the field or value is too long for a listpack, then after the write if
 * there are too many fields (even when only a value changed: the limit may
 * have been lowered by CONFIG SET). Returns true if the field is new.
 */
function setField(s: Session, h: HashValue, field: string, value: string, keepTtl: boolean): boolean {
  if (!h.hashtable) {
    const max = maxListpackValue(s);
    h.checkLength(field.length, max);
    h.checkLength(value.length, max);
  }
  const added = h.set(field, value, keepTtl);
  h.checkEntries(maxListpackEntries(s));
  return added;
}

// ---------------------------------------------------------------------------
// HSET HMSET HSETNX

function hsetGeneric(s: Session, argv: string[], name: 'hset' | 'hmset'): void {
  if (argv.length % 2 !== 0) throw new CommandError(Err.wrongArgs(name));
  const key = argv[1]!;
  let h = writeHash(s, key);
  const created = h === undefined;
  if (h === undefined) h = new HashValue();
  if (!h.hashtable) {
    // hashTypeTryConversion: any long argument converts before the insert.
    const max = maxListpackValue(s);
    for (let i = 2; i < argv.length; i++) h.checkLength(argv[i]!.length, max);
  }
  let added = 0;
  for (let i = 2; i < argv.length; i += 2) if (h.set(argv[i]!, argv[i + 1]!)) added++;
  if (!h.hashtable) h.checkEntries(maxListpackEntries(s));
  if (created) s.db.set(key, h);
  s.wrote('h', 'hset', key, (argv.length - 2) / 2);
  if (name === 'hset') s.reply.int(added);
  else s.reply.ok();
}

function hsetnx(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const field = argv[2]!;
  let h = writeHash(s, key);
  if (h !== undefined && h.has(field)) {
    s.reply.int(0);
    return;
  }
  const created = h === undefined;
  if (h === undefined) h = new HashValue();
  setField(s, h, field, argv[3]!, false);
  if (created) s.db.set(key, h);
  s.wrote('h', 'hset', key);
  s.reply.int(1);
}

// ---------------------------------------------------------------------------
// Reads

function hget(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  s.reply.bulk(h === undefined ? null : (h.get(argv[2]!) ?? null));
}

function hmget(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  s.reply.arrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) s.reply.bulk(h === undefined ? null : (h.get(argv[i]!) ?? null));
}

function hexists(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  s.reply.int(h !== undefined && h.has(argv[2]!) ? 1 : 0);
}

function hlen(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  s.reply.int(h === undefined ? 0 : h.size);
}

function hstrlen(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  const v = h === undefined ? undefined : h.get(argv[2]!);
  s.reply.int(v === undefined ? 0 : v.length);
}

function hkeys(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  const n = h === undefined ? 0 : h.size;
  s.reply.arrayLen(n);
  for (let i = 0; i < n; i++) s.reply.bulk(h!.fieldAt(i));
}

function hvals(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  const n = h === undefined ? 0 : h.size;
  s.reply.arrayLen(n);
  for (let i = 0; i < n; i++) s.reply.bulk(h!.valueAt(i));
}

function hgetall(s: Session, argv: string[]): void {
  const h = readHash(s, argv[1]!);
  const n = h === undefined ? 0 : h.size;
  s.reply.mapLen(n);
  for (let i = 0; i < n; i++) {
    s.reply.bulk(h!.fieldAt(i));
    s.reply.bulk(h!.valueAt(i));
  }
}

// ---------------------------------------------------------------------------
// HDEL

function hdel(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const h = writeHash(s, key);
  if (h === undefined) {
    s.reply.int(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let i = 2; i < argv.length; i++) {
    if (!h.delete(argv[i]!)) continue;
    deleted++;
    if (h.size === 0) {
      s.db.delete(key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    s.wrote('h', 'hdel', key, deleted);
    if (keyRemoved) s.wrote('g', 'del', key, 0);
  }
  s.reply.int(deleted);
}

// ---------------------------------------------------------------------------
// HINCRBY HINCRBYFLOAT

/** A signed 64-bit integer: a number when safe, else an exact bigint; null if not an integer. */
function int64Value(str: string): number | bigint | null {
  const n = parseSafeInt(str);
  return n !== null ? n : parseInt64(str);
}

function hincrby(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const field = argv[2]!;
  const incr = int64Value(argv[3]!) ?? int64Arg(argv[3]!);
  let h = writeHash(s, key);
  const cur = h === undefined ? undefined : h.get(field);
  let value: number | bigint = 0;
  if (cur !== undefined) {
    const v = int64Value(cur);
    if (v === null) throw new CommandError('ERR hash value is not an integer');
    value = v;
  }
  let result: number | bigint;
  if (typeof value === 'number' && typeof incr === 'number' && Number.isSafeInteger(value + incr)) {
    result = value + incr;
  } else {
    const r = BigInt(value) + BigInt(incr);
    if (r > INT64_MAX || r < INT64_MIN) throw new CommandError(Err.overflow);
    result = r;
  }
  const created = h === undefined;
  if (h === undefined) h = new HashValue();
  setField(s, h, field, result.toString(), true);
  if (created) s.db.set(key, h);
  s.wrote('h', 'hincrby', key);
  s.reply.int(result);
}

function hincrbyfloat(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const field = argv[2]!;
  const incr = parseLongDouble(argv[3]!);
  if (incr === null) throw new CommandError(Err.notFloat);
  if (incr.kind !== 'finite') throw new CommandError('ERR value is NaN or Infinity');
  let h = writeHash(s, key);
  const cur = h === undefined ? undefined : h.get(field);
  let base = longDoubleFromNumber(0);
  if (cur !== undefined) {
    const v = parseLongDouble(cur);
    if (v === null) throw new CommandError('ERR hash value is not a float');
    base = v;
  }
  const sum = addLongDouble(base, incr);
  if (sum.kind !== 'finite') throw new CommandError(Err.nanOrInf);
  const str = formatLongDoubleHuman(sum);
  const created = h === undefined;
  if (h === undefined) h = new HashValue();
  setField(s, h, field, str, true);
  if (created) s.db.set(key, h);
  s.wrote('h', 'hincrbyfloat', key);
  s.reply.bulk(str);
  // Replicas and the AOF get the result, not the float arithmetic. HSET
  // clears a field TTL, so a TTL the field keeps is propagated again.
  s.rewriteAs(['HSET', key, field, str]);
  const at = h.expireOf(field);
  if (at !== 0) s.propagateAlso(['HPEXPIREAT', key, String(at), 'FIELDS', '1', field]);
}

// ---------------------------------------------------------------------------
// HRANDFIELD

/** The HRANDFIELD count: Redis's getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX). */
function randCountArg(arg: string): bigint {
  const b = int64Arg(arg);
  if (b < -LONG_MAX || b > LONG_MAX) {
    throw new CommandError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  }
  return b;
}

function replyPair(s: Session, h: HashValue, slot: number, withValues: boolean): void {
  if (!withValues) {
    s.reply.bulk(h.fieldAt(slot));
    return;
  }
  if (s.resp === 3) s.reply.arrayLen(2);
  s.reply.bulk(h.fieldAt(slot));
  s.reply.bulk(h.valueAt(slot));
}

function hrandfield(s: Session, argv: string[]): void {
  const key = argv[1]!;
  if (argv.length === 2) {
    const h = readHash(s, key);
    s.reply.bulk(h === undefined ? null : h.fieldAt(h.randomSlot()));
    return;
  }
  const big = randCountArg(argv[2]!);
  let withValues = false;
  if (argv.length > 4 || (argv.length === 4 && !is(argv[3], 'WITHVALUES'))) throw new CommandError(Err.syntax);
  if (argv.length === 4) {
    withValues = true;
    // Twice as many replies must not overflow.
    if (big < -LONG_MAX / 2n || big > LONG_MAX / 2n) throw new CommandError('ERR value is out of range');
  }
  const count = Number(big);
  const h = readHash(s, key);
  if (h === undefined || count === 0) {
    s.reply.arrayLen(0);
    return;
  }
  const size = h.size;
  const per = withValues && s.resp === 2 ? 2 : 1;
  if (count < 0) {
    // Repetitions allowed.
    const n = -count;
    s.reply.arrayLen(n * per);
    for (let i = 0; i < n; i++) {
      replyPair(s, h, h.randomSlot(), withValues);
      // A reply past the client's output limit: stop, the client is being closed.
      if ((i & 1023) === 1023 && outputLimitReached(s)) break;
    }
    return;
  }
  if (count >= size) {
    s.reply.arrayLen(size * per);
    for (let i = 0; i < size; i++) replyPair(s, h, i, withValues);
    return;
  }
  // Distinct fields: a partial shuffle when asking for a good part of the
  // hash, else random picks until enough distinct slots.
  let slots: number[];
  if (count * 3 > size) {
    const all = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
    }
    slots = all.slice(0, count);
  } else {
    const picked = new Set<number>();
    while (picked.size < count) picked.add(h.randomSlot());
    slots = [...picked];
  }
  s.reply.arrayLen(count * per);
  for (const slot of slots) replyPair(s, h, slot, withValues);
}

// ---------------------------------------------------------------------------
// HSCAN

/** HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] */
function hscan(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const cursor = cursorArg(argv[2]!);
  const h = readHash(s, key);
  if (h === undefined) {
    s.reply.arrayLen(2);
    s.reply.bulk('0');
    s.reply.arrayLen(0);
    return;
  }
  let count = 10;
  let pattern: string | null = null;
  let noValues = false;
  for (let i = 3; i < argv.length; ) {
    const more = argv.length - i >= 2;
    if (is(argv[i], 'COUNT') && more) {
      count = longArg(argv[i + 1]!);
      if (count < 1) throw new CommandError(Err.syntax);
      i += 2;
    } else if (is(argv[i], 'MATCH') && more) {
      pattern = argv[i + 1]!;
      i += 2;
    } else if (is(argv[i], 'NOVALUES')) {
      noValues = true;
      i++;
    } else throw new CommandError(Err.syntax);
  }
  const match = pattern === null || pattern === '*' ? null : compileGlob(pattern);
  const out: string[] = [];
  const next = h.scan(cursor, count, (f, v) => {
    if (match !== null && !match(f)) return;
    out.push(f);
    if (!noValues) out.push(v);
  });
  s.reply.arrayLen(2);
  s.reply.bulk(String(next));
  s.reply.bulkArray(out);
}

// ---------------------------------------------------------------------------
// Command table

const RW_UPDATE = [keySpec(['RW', 'update'])];
const RW_ACCESS_UPDATE = [keySpec(['RW', 'access', 'update'])];
const RO_ACCESS = [keySpec(['RO', 'access'])];
const RO = [keySpec(['RO'])];

const ALL_COMPLEXITY = 'O(N) where N is the size of the hash.';

export const hashCommands: CommandSpec[] = [
  hashCmd('hset', -4, ['write', 'denyoom', 'fast'], 'Set the string value of a hash field', '2.0.0',
    'O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.',
    RW_UPDATE, (s, argv) => hsetGeneric(s, argv, 'hset')),
  hashCmd('hmset', -4, ['write', 'denyoom', 'fast'], 'Set multiple hash fields to multiple values', '2.0.0',
    'O(N) where N is the number of fields being set.', RW_UPDATE, (s, argv) => hsetGeneric(s, argv, 'hmset')),
  hashCmd('hsetnx', 4, ['write', 'denyoom', 'fast'], 'Set the value of a hash field, only if the field does not exist', '2.0.0',
    'O(1)', [keySpec(['RW', 'insert'])], hsetnx),
  hashCmd('hget', 3, ['readonly', 'fast'], 'Get the value of a hash field', '2.0.0', 'O(1)', RO_ACCESS, hget),
  hashCmd('hmget', -3, ['readonly', 'fast'], 'Get the values of all the given hash fields', '2.0.0',
    'O(N) where N is the number of fields being requested.', RO_ACCESS, hmget),
  hashCmd('hdel', -3, ['write', 'fast'], 'Delete one or more hash fields', '2.0.0',
    'O(N) where N is the number of fields to be removed.', [keySpec(['RW', 'delete'])], hdel),
  hashCmd('hexists', 3, ['readonly', 'fast'], 'Determine if a hash field exists', '2.0.0', 'O(1)', RO, hexists),
  hashCmd('hlen', 2, ['readonly', 'fast'], 'Get the number of fields in a hash', '2.0.0', 'O(1)', RO, hlen),
  hashCmd('hstrlen', 3, ['readonly', 'fast'], 'Get the length of the value of a hash field', '3.2.0', 'O(1)', RO, hstrlen),
  hashCmd('hkeys', 2, ['readonly'], 'Get all the fields in a hash', '2.0.0', ALL_COMPLEXITY, RO_ACCESS, hkeys,
    { tips: ['nondeterministic_output_order'] }),
  hashCmd('hvals', 2, ['readonly'], 'Get all the values in a hash', '2.0.0', ALL_COMPLEXITY, RO_ACCESS, hvals,
    { tips: ['nondeterministic_output_order'] }),
  hashCmd('hgetall', 2, ['readonly'], 'Get all the fields and values in a hash', '2.0.0', ALL_COMPLEXITY, RO_ACCESS, hgetall,
    { tips: ['nondeterministic_output_order'] }),
  hashCmd('hincrby', 4, ['write', 'denyoom', 'fast'], 'Increment the integer value of a hash field by the given number', '2.0.0',
    'O(1)', RW_ACCESS_UPDATE, hincrby),
  hashCmd('hincrbyfloat', 4, ['write', 'denyoom', 'fast'], 'Increment the float value of a hash field by the given amount',
    '2.6.0', 'O(1)', RW_ACCESS_UPDATE, hincrbyfloat),
  hashCmd('hrandfield', -2, ['readonly'], 'Get one or multiple random fields from a hash', '6.2.0',
    'O(N) where N is the number of fields returned', RO_ACCESS, hrandfield, { tips: ['nondeterministic_output'] }),
  hashCmd('hscan', -3, ['readonly'], 'Incrementally iterate hash fields and associated values', '2.8.0',
    'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    RO_ACCESS, hscan, { tips: ['nondeterministic_output'] }),
  ...hashTtlCommands,
];
