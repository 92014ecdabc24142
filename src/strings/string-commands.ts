/**
 * String commands: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET
 * MSETNX APPEND STRLEN GETRANGE SUBSTR SETRANGE INCR DECR INCRBY DECRBY
 * INCRBYFLOAT LCS. The bitmap commands live in strings/bit-commands.ts and use
 * the value helpers exported here.
 *
 * Values are latin1 strings, or MutableStrings once mutated in place (APPEND,
 * SETRANGE, SETBIT, BITFIELD); every reader accepts both.
 */
import { type CommandSpec, type KeySpec, typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { int64Arg, is, longArg } from '../commands/args.js';
import { MutableString, isString, stringLength, stringValue, type StringValue, type Value } from '../keyspace/values.js';
import { now } from '../keyspace/clock.js';
import { latin1Slice, latin1Write } from '../protocol/bytes.js';
import { parseInt64, parseSafeInt } from '../numbers/parse.js';
import { incrByFloat } from '../numbers/format.js';
import { EMBSTR_SIZE_LIMIT } from '../keyspace/object-encoding.js';
import { filterLcsMatches, lcs, lcsLength, lcsTableBytes } from './lcs.js';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

// ---------------------------------------------------------------------------
// Value helpers (shared with bit-commands.ts)

/** The value as a string value, undefined when missing; WRONGTYPE for other types. */
export function asString(v: Value | undefined): StringValue | undefined {
  if (v === undefined || isString(v)) return v;
  throw new CommandError(Err.wrongType);
}

/** The bytes of a string value (a view for a MutableString: do not keep it across writes). */
export function valueBytes(v: StringValue): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v.bytes();
}

/**
 * Reply with a string value as a bulk string. A MutableString is copied: the
 * reply sink may keep a reference to large payloads until the socket write,
 * and the value can be mutated in place before that.
 */
export function replyValue(s: Session, v: StringValue): void {
  if (typeof v === 'string') s.reply.bulk(v);
  else s.reply.bulkBytes(Buffer.from(v.bytes()));
}

/** proto-max-bulk-len: the largest string a command may build. */
export function maxBulkLen(s: Session): number {
  return s.engine.config.num('proto-max-bulk-len');
}

/** Redis checkStringLength: a string of size+append bytes must fit proto-max-bulk-len. */
function checkStringLength(s: Session, size: number, append: number): void {
  if (size + append > maxBulkLen(s)) throw new CommandError(Err.stringTooLong);
}

/**
 * The existing string value of `key` as a MutableString, ready for an in-place
 * write (runs the keyspace's before-write hook; converts a plain string once).
 */
export function mutableForWrite(s: Session, key: string): MutableString {
  const v = s.db.getForWrite(key) as StringValue;
  if (v instanceof MutableString) {
    v.storedAs = 'raw';
    return v;
  }
  const m = new MutableString(v);
  s.db.set(key, m, true);
  return m;
}

/** A new zero-filled MutableString of `len` bytes. */
export function zeroString(len: number): MutableString {
  const m = new MutableString('', len);
  m.growTo(len);
  return m;
}

// ---------------------------------------------------------------------------
// SET and friends

type ExpireKind = 'EX' | 'PX' | 'EXAT' | 'PXAT';

interface ExtendedOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  expire: ExpireKind | null;
  expireArg: string;
}

/**
 * The option grammar shared by SET and GETEX (Redis's
 * parseExtendedStringArgumentsOrReply): tokens may repeat, conflicting tokens
 * and options of the other command are a syntax error.
 */
function noOptions(): ExtendedOptions {
  return { nx: false, xx: false, get: false, keepTtl: false, persist: false, expire: null, expireArg: '' };
}

function parseExtended(argv: string[], start: number, forSet: boolean): ExtendedOptions {
  const o = noOptions();
  for (let j = start; j < argv.length; j++) {
    const tok = argv[j]!.toUpperCase();
    const hasNext = j + 1 < argv.length;
    const ex = o.expire;
    if (tok === 'NX' && forSet && !o.xx) o.nx = true;
    else if (tok === 'XX' && forSet && !o.nx) o.xx = true;
    else if (tok === 'GET' && forSet) o.get = true;
    else if (tok === 'KEEPTTL' && forSet && ex === null) o.keepTtl = true;
    else if (tok === 'PERSIST' && !forSet && ex === null) o.persist = true;
    else if (
      (tok === 'EX' || tok === 'PX' || tok === 'EXAT' || tok === 'PXAT') &&
      !o.keepTtl &&
      !o.persist &&
      (ex === null || ex === tok) &&
      hasNext
    ) {
      o.expire = tok;
      o.expireArg = argv[++j]!;
    } else throw new CommandError(Err.syntax);
  }
  return o;
}

/**
 * Absolute expiry in ms for an EX/PX/EXAT/PXAT argument (Redis
 * getExpireMillisecondsOrReply), as a bigint so that propagation is exact.
 */
function expireAt(arg: string, kind: ExpireKind, cmd: string): bigint {
  const n = int64Arg(arg);
  const seconds = kind === 'EX' || kind === 'EXAT';
  if (n <= 0n || (seconds && n > INT64_MAX / 1000n)) throw new CommandError(Err.invalidExpire(cmd));
  let ms = seconds ? n * 1000n : n;
  if (kind === 'EX' || kind === 'PX') ms += BigInt(now());
  if (ms > INT64_MAX) throw new CommandError(Err.invalidExpire(cmd)); // Redis: signed overflow
  return ms;
}

/** Reply with the current value of `key` (GET semantics): nil, WRONGTYPE or the value. */
function replyGet(s: Session, key: string): void {
  const v = asString(s.db.get(key));
  if (v === undefined) s.reply.nullBulk();
  else replyValue(s, v);
}

/**
 * Redis setGenericCommand. `abort` writes the reply when NX/XX prevents the
 * write, `ok` the reply after a write (neither is used with GET, which already
 * replied with the old value).
 */
function setGeneric(
  s: Session,
  argv: string[],
  key: string,
  val: string,
  o: ExtendedOptions,
  cmd: string,
  ok: () => void,
  abort: () => void,
): void {
  const at = o.expire !== null ? expireAt(o.expireArg, o.expire, cmd) : null;
  if (o.get) replyGet(s, key);
  const found = s.db.peek(key) !== undefined;
  if ((o.nx && found) || (o.xx && !found)) {
    if (!o.get) abort();
    return;
  }
  s.db.set(key, val, o.keepTtl);
  s.wrote('$', 'set', key);
  if (at !== null) {
    s.db.setExpire(key, Number(at));
    s.wrote('g', 'expire', key, 0);
    s.rewriteAs(['SET', key, val, 'PXAT', at.toString()]);
  } else if (o.get) {
    // Propagate without GET (it may be repeated).
    s.rewriteAs(argv.filter((a, i) => i < 3 || !is(a, 'GET')));
  }
  if (!o.get) ok();
}

function set(s: Session, argv: string[]): void {
  const o = parseExtended(argv, 3, true);
  setGeneric(s, argv, argv[1]!, argv[2]!, o, 'set', () => s.reply.ok(), () => s.reply.nullBulk());
}

function setnx(s: Session, argv: string[]): void {
  const o = noOptions();
  o.nx = true;
  setGeneric(s, argv, argv[1]!, argv[2]!, o, 'setnx', () => s.reply.int(1), () => s.reply.int(0));
}

function setexGeneric(s: Session, argv: string[], kind: ExpireKind, cmd: string): void {
  const o = noOptions();
  o.expire = kind;
  o.expireArg = argv[2]!;
  setGeneric(s, argv, argv[1]!, argv[3]!, o, cmd, () => s.reply.ok(), () => s.reply.nullBulk());
}

function get(s: Session, argv: string[]): void {
  replyGet(s, argv[1]!);
}

function getset(s: Session, argv: string[]): void {
  const key = argv[1]!;
  replyGet(s, key);
  s.db.set(key, argv[2]!);
  s.wrote('$', 'set', key);
  s.rewriteAs(['SET', key, argv[2]!]);
}

function getdel(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const v = asString(s.db.get(key));
  if (v === undefined) {
    s.reply.nullBulk();
    return;
  }
  replyValue(s, v);
  s.db.delete(key);
  s.rewriteAs([s.engine.config.bool('lazyfree-lazy-user-del') ? 'UNLINK' : 'DEL', key]);
  s.wrote('g', 'del', key);
}

function getex(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const o = parseExtended(argv, 2, false);
  const v = asString(s.db.get(key));
  if (v === undefined) {
    s.reply.nullBulk();
    return;
  }
  const at = o.expire !== null ? expireAt(o.expireArg, o.expire, 'getex') : null;
  replyValue(s, v);
  const absolute = o.expire === 'EXAT' || o.expire === 'PXAT';
  if (at !== null && absolute && at <= BigInt(now()) && !s.engine.loading && s.engine.role === 'master') {
    // An absolute time already past deletes the key.
    s.db.delete(key);
    s.rewriteAs([s.engine.config.bool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]);
    s.wrote('g', 'del', key);
  } else if (at !== null) {
    s.db.setExpire(key, Number(at));
    s.rewriteAs(['PEXPIREAT', key, at.toString()]);
    s.wrote('g', 'expire', key);
  } else if (o.persist && s.db.persist(key)) {
    s.rewriteAs(['PERSIST', key]);
    s.wrote('g', 'persist', key);
  }
}

function mget(s: Session, argv: string[]): void {
  s.reply.arrayLen(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    const v = s.db.get(argv[i]!);
    if (v === undefined || !isString(v)) s.reply.nullBulk();
    else replyValue(s, v);
  }
}

function msetGeneric(s: Session, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) throw new CommandError(Err.wrongArgs(nx ? 'msetnx' : 'mset'));
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (s.db.peek(argv[j]!) !== undefined) {
        s.reply.int(0);
        return;
      }
    }
  }
  for (let j = 1; j < argv.length; j += 2) {
    s.db.set(argv[j]!, argv[j + 1]!);
    s.wrote('$', 'set', argv[j]!);
  }
  if (nx) s.reply.int(1);
  else s.reply.ok();
}

// ---------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE, SETRANGE

function append(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const add = argv[2]!;
  const v = asString(s.db.peek(key));
  let total: number;
  if (v === undefined) {
    s.db.set(key, add);
    total = add.length;
  } else {
    checkStringLength(s, stringLength(v), add.length);
    const m = mutableForWrite(s, key);
    m.append(add);
    total = m.len;
  }
  s.wrote('$', 'append', key);
  s.reply.int(total);
}

function strlen(s: Session, argv: string[]): void {
  const v = asString(s.db.get(argv[1]!));
  s.reply.int(v === undefined ? 0 : stringLength(v));
}

/**
 * `start > end` for two int64 arguments already parsed with longArg, exact
 * even where the numbers lost precision.
 */
export function exactlyGreater(start: number, end: number, startArg: string, endArg: string): boolean {
  if (Number.isSafeInteger(start) && Number.isSafeInteger(end)) return start > end;
  return int64Arg(startArg) > int64Arg(endArg);
}

function getrange(s: Session, argv: string[]): void {
  let start = longArg(argv[2]!);
  let end = longArg(argv[3]!);
  const v = asString(s.db.get(argv[1]!));
  if (v === undefined) {
    s.reply.bulk('');
    return;
  }
  const len = stringLength(v);
  if (start < 0 && end < 0 && exactlyGreater(start, end, argv[2]!, argv[3]!)) {
    s.reply.bulk('');
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) s.reply.bulk('');
  else if (typeof v === 'string') s.reply.bulk(v.slice(start, end + 1));
  else s.reply.bulk(latin1Slice(v.buf, start, end + 1));
}

function setrange(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const offset = longArg(argv[2]!);
  const val = argv[3]!;
  if (offset < 0) throw new CommandError('ERR offset is out of range');
  const v = asString(s.db.peek(key));
  let m: MutableString;
  if (v === undefined) {
    if (val.length === 0) {
      s.reply.int(0);
      return;
    }
    checkStringLength(s, offset, val.length);
    m = zeroString(offset + val.length);
    s.db.set(key, m);
  } else {
    if (val.length === 0) {
      s.reply.int(stringLength(v));
      return;
    }
    checkStringLength(s, offset, val.length);
    m = mutableForWrite(s, key);
    m.growTo(offset + val.length);
  }
  latin1Write(m.buf, val, offset);
  s.wrote('$', 'setrange', key);
  s.reply.int(m.len);
}

// ---------------------------------------------------------------------------
// INCR / DECR / INCRBY / DECRBY / INCRBYFLOAT

/** The integer held by a string value (Redis string2ll rules). */
function integerValue(v: StringValue): number | bigint {
  if (stringLength(v) > 20) throw new CommandError(Err.notInteger);
  const str = stringValue(v);
  const n = parseSafeInt(str);
  if (n !== null) return n;
  const b = parseInt64(str);
  if (b === null) throw new CommandError(Err.notInteger);
  return b;
}

function incrDecr(s: Session, key: string, incr: number | bigint): void {
  const v = asString(s.db.peek(key));
  const cur = v === undefined ? 0 : integerValue(v);
  let result: number | bigint;
  if (typeof cur === 'number' && typeof incr === 'number' && Number.isSafeInteger(cur + incr)) {
    result = cur + incr;
  } else {
    const r = BigInt(cur) + BigInt(incr);
    if (r > INT64_MAX || r < INT64_MIN) throw new CommandError(Err.overflow);
    result = r;
  }
  s.db.set(key, result.toString(), true);
  s.wrote('$', 'incrby', key);
  s.reply.int(result);
}

function incr(s: Session, argv: string[]): void {
  incrDecr(s, argv[1]!, 1);
}

function decr(s: Session, argv: string[]): void {
  incrDecr(s, argv[1]!, -1);
}

/** An INCRBY/DECRBY amount: a number when safe, else an exact bigint. */
function amountArg(arg: string): number | bigint {
  const n = parseSafeInt(arg);
  return n !== null ? n : int64Arg(arg);
}

function incrby(s: Session, argv: string[]): void {
  incrDecr(s, argv[1]!, amountArg(argv[2]!));
}

function decrby(s: Session, argv: string[]): void {
  const n = amountArg(argv[2]!);
  if (n === INT64_MIN) throw new CommandError('ERR decrement would overflow');
  incrDecr(s, argv[1]!, -n);
}

/** Redis refuses to parse a stored value this long as a long double. */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

function incrbyfloat(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const v = asString(s.db.peek(key));
  if (v !== undefined && stringLength(v) >= MAX_LONG_DOUBLE_CHARS) throw new CommandError(Err.notFloat);
  const r = incrByFloat(v === undefined ? '0' : stringValue(v), argv[2]!);
  if (r === 'not-a-float') throw new CommandError(Err.notFloat);
  if (r === 'nan-or-inf') throw new CommandError(Err.nanOrInf);
  // Redis stores the result as a plain string object, never integer-encoded or shared.
  s.db.set(key, MutableString.withEncoding(r, r.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw'), true);
  s.wrote('$', 'incrbyfloat', key);
  s.reply.bulk(r);
  // Replicas and the AOF get the result, not the float arithmetic.
  s.rewriteAs(['SET', key, r, 'KEEPTTL']);
}

// ---------------------------------------------------------------------------
// LCS

function lcsCommand(s: Session, argv: string[]): void {
  const va = s.db.get(argv[1]!);
  const vb = s.db.get(argv[2]!);
  if ((va !== undefined && !isString(va)) || (vb !== undefined && !isString(vb))) {
    throw new CommandError('ERR The specified keys must contain string values');
  }
  let getIdx = false;
  let getLen = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    if (is(opt, 'IDX')) getIdx = true;
    else if (is(opt, 'LEN')) getLen = true;
    else if (is(opt, 'WITHMATCHLEN')) withMatchLen = true;
    else if (is(opt, 'MINMATCHLEN') && j + 1 < argv.length) {
      minMatchLen = Math.max(0, longArg(argv[++j]!));
    } else throw new CommandError(Err.syntax);
  }
  if (getIdx && getLen) throw new CommandError('ERR If you want both the length and indexes, please just use IDX.');
  const a: string | Uint8Array = va === undefined ? '' : typeof va === 'string' ? va : va.bytes();
  const b: string | Uint8Array = vb === undefined ? '' : typeof vb === 'string' ? vb : vb.bytes();
  if (a.length >= 0xffffffff - 1 || b.length >= 0xffffffff - 1) throw new CommandError('ERR String too long for LCS');
  if (lcsTableBytes(a.length, b.length) > maxBulkLen(s)) {
    throw new CommandError('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  }
  const r = s.reply;
  if (getLen) {
    r.int(lcsLength(a, b));
    return;
  }
  const res = lcs(a, b);
  if (!getIdx) {
    r.bulk(res.str);
    return;
  }
  const matches = filterLcsMatches(res.matches, minMatchLen);
  r.mapLen(2);
  r.bulk('matches');
  r.arrayLen(matches.length);
  for (const m of matches) {
    r.arrayLen(withMatchLen ? 3 : 2);
    r.arrayLen(2);
    r.int(m.a[0]);
    r.int(m.a[1]);
    r.arrayLen(2);
    r.int(m.b[0]);
    r.int(m.b[1]);
    if (withMatchLen) r.int(m.len);
  }
  r.bulk('len');
  r.int(res.len);
}

// ---------------------------------------------------------------------------
// Command table

/** A one-key spec (begin at argv[index], range [lastkey, step, limit]). */
export function keySpec(flags: string[], index = 1, range: [number, number, number] = [0, 1, 0], notes?: string): KeySpec {
  return notes === undefined
    ? { flags, begin: { index }, find: { range } }
    : { notes, flags, begin: { index }, find: { range } };
}

const RO_ACCESS = [keySpec(['RO', 'access'])];
const RW_ACCESS_UPDATE = [keySpec(['RW', 'access', 'update'])];
const OW_UPDATE = [keySpec(['OW', 'update'])];

const cmd = typeCommand('string');

const RANGE_COMPLEXITY =
  'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.';

export const stringCommands: CommandSpec[] = [
  cmd('get', 2, ['readonly', 'fast'], 'Get the value of a key', '1.0.0', 'O(1)', RO_ACCESS, get),
  cmd('set', -3, ['write', 'denyoom'], 'Set the string value of a key', '1.0.0', 'O(1)',
    [keySpec(['RW', 'access', 'update', 'variable_flags'], 1, [0, 1, 0], 'RW and ACCESS due to the optional `GET` argument')], set),
  cmd('setnx', 3, ['write', 'denyoom', 'fast'], 'Set the value of a key, only if the key does not exist', '1.0.0', 'O(1)',
    [keySpec(['OW', 'insert'])], setnx),
  cmd('setex', 4, ['write', 'denyoom'], 'Set the value and expiration of a key', '2.0.0', 'O(1)', OW_UPDATE,
    (s, argv) => setexGeneric(s, argv, 'EX', 'setex')),
  cmd('psetex', 4, ['write', 'denyoom'], 'Set the value and expiration in milliseconds of a key', '2.6.0', 'O(1)', OW_UPDATE,
    (s, argv) => setexGeneric(s, argv, 'PX', 'psetex')),
  cmd('getset', 3, ['write', 'denyoom', 'fast'], 'Set the string value of a key and return its old value', '1.0.0', 'O(1)',
    RW_ACCESS_UPDATE, getset),
  cmd('getdel', 2, ['write', 'fast'], 'Get the value of a key and delete the key', '6.2.0', 'O(1)',
    [keySpec(['RW', 'access', 'delete'])], getdel),
  cmd('getex', -2, ['write', 'fast'], 'Get the value of a key and optionally set its expiration', '6.2.0', 'O(1)',
    [keySpec(['RW', 'access', 'update'], 1, [0, 1, 0], 'RW and UPDATE because it changes the TTL')], getex),
  cmd('mget', -2, ['readonly', 'fast'], 'Get the values of all the given keys', '1.0.0',
    'O(N) where N is the number of keys to retrieve.', [keySpec(['RO', 'access'], 1, [-1, 1, 0])], mget,
    { keys: [1, -1, 1], tips: ['request_policy:multi_shard'] }),
  cmd('mset', -3, ['write', 'denyoom'], 'Set multiple keys to multiple values', '1.0.1',
    'O(N) where N is the number of keys to set.', [keySpec(['OW', 'update'], 1, [-1, 2, 0])],
    (s, argv) => msetGeneric(s, argv, false), { keys: [1, -1, 2], tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'] }),
  cmd('msetnx', -3, ['write', 'denyoom'], 'Set multiple keys to multiple values, only if none of the keys exist', '1.0.1',
    'O(N) where N is the number of keys to set.', [keySpec(['OW', 'insert'], 1, [-1, 2, 0])],
    (s, argv) => msetGeneric(s, argv, true), { keys: [1, -1, 2], tips: ['request_policy:multi_shard', 'response_policy:agg_min'] }),
  cmd('append', 3, ['write', 'denyoom', 'fast'], 'Append a value to a key', '2.0.0',
    'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.',
    [keySpec(['RW', 'insert'])], append),
  cmd('strlen', 2, ['readonly', 'fast'], 'Get the length of the value stored in a key', '2.2.0', 'O(1)',
    [keySpec(['RO'])], strlen),
  cmd('getrange', 4, ['readonly'], 'Get a substring of the string stored at a key', '2.4.0', RANGE_COMPLEXITY, RO_ACCESS, getrange),
  cmd('substr', 4, ['readonly'], 'Get a substring of the string stored at a key', '1.0.0', RANGE_COMPLEXITY, RO_ACCESS, getrange),
  cmd('setrange', 4, ['write', 'denyoom'], 'Overwrite part of a string at key starting at the specified offset', '2.2.0',
    'O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.',
    [keySpec(['RW', 'update'])], setrange),
  cmd('incr', 2, ['write', 'denyoom', 'fast'], 'Increment the integer value of a key by one', '1.0.0', 'O(1)', RW_ACCESS_UPDATE, incr),
  cmd('decr', 2, ['write', 'denyoom', 'fast'], 'Decrement the integer value of a key by one', '1.0.0', 'O(1)', RW_ACCESS_UPDATE, decr),
  cmd('incrby', 3, ['write', 'denyoom', 'fast'], 'Increment the integer value of a key by the given amount', '1.0.0', 'O(1)',
    RW_ACCESS_UPDATE, incrby),
  cmd('decrby', 3, ['write', 'denyoom', 'fast'], 'Decrement the integer value of a key by the given number', '1.0.0', 'O(1)',
    RW_ACCESS_UPDATE, decrby),
  cmd('incrbyfloat', 3, ['write', 'denyoom', 'fast'], 'Increment the float value of a key by the given amount', '2.6.0', 'O(1)',
    RW_ACCESS_UPDATE, incrbyfloat),
  cmd('lcs', -3, ['readonly'], 'Find longest common substring', '7.0.0',
    'O(N*M) where N and M are the lengths of s1 and s2, respectively', [keySpec(['RO', 'access'], 1, [1, 1, 0])], lcsCommand,
    { keys: [1, 2, 1] }),
];
