/**
 * List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET
 * LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP. The blocking variants live
 * in blocking-list-commands.ts and share the helpers exported here.
 *
 * Argument-parsing order, replies (RESP2 and RESP3 nulls), keyspace events
 * and propagation follow redis-server 7.0.15 as observed:
 *  - reads (LLEN LRANGE LINDEX LPOS) count keyspace hits/misses, writes don't;
 *  - a list emptied by a command is deleted, firing `del` after the list event;
 *  - LMOVE fires the push event on the destination before the pop event on
 *    the source; LMPOP propagates as LPOP/RPOP key <popped count>.
 */
import { type CommandSpec, type KeySpec, typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { int64Arg, is, longArg } from '../commands/args.js';
import type { Value } from '../keyspace/values.js';
import { parseInt64 } from '../numbers/parse.js';
import { ListValue, type ListEnd } from './list-value.js';

const POSITIVE = 'ERR value is out of range, must be positive';
const INT64_MIN = -(2n ** 63n);

// ---------------------------------------------------------------------------
// Helpers (shared with blocking-list-commands.ts)

/** The value as a list, undefined when missing; WRONGTYPE for another type. */
export function asList(v: Value | undefined): ListValue | undefined {
  if (v === undefined || v instanceof ListValue) return v;
  throw new CommandError(Err.wrongType);
}

/** Read lookup (counts a hit or miss, touches the key). */
function readList(s: Session, key: string): ListValue | undefined {
  return asList(s.db.get(key));
}

/** Write lookup: the list to modify in place (copy-on-write hook run), or undefined. */
export function writeList(s: Session, key: string): ListValue | undefined {
  return asList(s.db.getForWrite(key));
}

/** LEFT / RIGHT argument (any case), else a syntax error. */
export function endArg(arg: string): ListEnd {
  if (is(arg, 'LEFT')) return 'left';
  if (is(arg, 'RIGHT')) return 'right';
  throw new CommandError(Err.syntax);
}

const popEvent = (end: ListEnd): string => (end === 'left' ? 'lpop' : 'rpop');
const pushEvent = (end: ListEnd): string => (end === 'left' ? 'lpush' : 'rpush');

/** Delete `key` if its list became empty, firing `del` (after the list event). */
function deleteIfEmpty(s: Session, key: string, l: ListValue): void {
  if (l.size === 0) {
    s.db.delete(key);
    s.wrote('g', 'del', key, 0);
  }
}

/**
 * Pop up to `count` elements from one end of the (non-empty) list at `key`,
 * reply [key, [elements]] (LMPOP / BLMPOP), fire the events and delete the
 * key if emptied. Propagates as LPOP/RPOP key <popped count>.
 */
export function popRangeWithKey(s: Session, key: string, l: ListValue, end: ListEnd, count: number): void {
  const n = Math.min(count, l.size);
  const r = s.reply;
  r.arrayLen(2);
  r.bulk(key);
  r.arrayLen(n);
  for (let i = 0; i < n; i++) r.bulk(l.pop(end)!);
  s.wrote('l', popEvent(end), key, n);
  deleteIfEmpty(s, key, l);
  s.rewriteAs([end === 'left' ? 'LPOP' : 'RPOP', key, String(n)]);
}

/** Pop one element for BLPOP/BRPOP: reply [key, element], propagate as LPOP/RPOP key. */
export function popOneWithKey(s: Session, key: string, l: ListValue, end: ListEnd): void {
  const v = l.pop(end)!;
  const r = s.reply;
  r.arrayLen(2);
  r.bulk(key);
  r.bulk(v);
  s.wrote('l', popEvent(end), key);
  deleteIfEmpty(s, key, l);
  s.rewriteAs([end === 'left' ? 'LPOP' : 'RPOP', key]);
}

/**
 * The move of LMOVE/BLMOVE once the source is known to be a non-empty list:
 * checks the destination type (WRONGTYPE, nothing moved), pops from the
 * source, pushes to the destination (created if missing), replies with the
 * element. Events: push on the destination, then pop (and del) on the source.
 */
export function moveElement(s: Session, src: string, dst: string, from: ListEnd, to: ListEnd, sl: ListValue): void {
  let dl = src === dst ? sl : writeList(s, dst);
  const v = sl.pop(from)!;
  if (dl === undefined) {
    dl = new ListValue();
    s.db.set(dst, dl);
  }
  dl.push(to, v);
  s.wrote('l', pushEvent(to), dst, 0);
  s.engine.blocking.signalKeyReady(s.dbIndex, dst);
  s.reply.bulk(v);
  s.wrote('l', popEvent(from), src);
  deleteIfEmpty(s, src, sl);
}

/** Redis's range normalisation (LRANGE/LTRIM): [start, end] clamped, or null when empty. */
function clampRange(start: number, end: number, size: number): [number, number] | null {
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  if (start > end || start >= size) return null;
  if (end >= size) end = size - 1;
  return [start, end];
}

// ---------------------------------------------------------------------------
// Push

function pushGeneric(s: Session, argv: string[], end: ListEnd, onlyIfExists: boolean): void {
  const key = argv[1]!;
  let l = writeList(s, key);
  if (l === undefined) {
    if (onlyIfExists) {
      s.reply.int(0);
      return;
    }
    l = new ListValue();
    s.db.set(key, l);
  }
  for (let i = 2; i < argv.length; i++) l.push(end, argv[i]!);
  s.reply.int(l.size);
  s.wrote('l', pushEvent(end), key, argv.length - 2);
  s.engine.blocking.signalKeyReady(s.dbIndex, key);
}

// ---------------------------------------------------------------------------
// Pop

/** LPOP/RPOP key [count] */
function popGeneric(s: Session, argv: string[], end: ListEnd): void {
  if (argv.length > 3) throw new CommandError(Err.wrongArgs(end === 'left' ? 'lpop' : 'rpop'));
  const hasCount = argv.length === 3;
  let count = 1;
  if (hasCount) {
    count = longArg(argv[2]!, POSITIVE);
    if (count < 0) throw new CommandError(POSITIVE);
  }
  const key = argv[1]!;
  const l = writeList(s, key);
  if (l === undefined) {
    if (hasCount) s.reply.nullArray();
    else s.reply.nullBulk();
    return;
  }
  if (!hasCount) {
    s.reply.bulk(l.pop(end)!);
    s.wrote('l', popEvent(end), key);
    deleteIfEmpty(s, key, l);
    return;
  }
  if (count === 0) {
    s.reply.arrayLen(0);
    return;
  }
  const n = Math.min(count, l.size);
  s.reply.arrayLen(n);
  for (let i = 0; i < n; i++) s.reply.bulk(l.pop(end)!);
  s.wrote('l', popEvent(end), key, n);
  deleteIfEmpty(s, key, l);
}

/** Parsed LMPOP/BLMPOP arguments after the numkeys argument at `numkeysIdx`. */
export interface MpopArgs {
  keys: string[];
  end: ListEnd;
  count: number;
}

/** LMPOP/BLMPOP grammar: numkeys key [key ...] LEFT|RIGHT [COUNT count]. */
export function parseMpop(argv: string[], numkeysIdx: number): MpopArgs {
  const numkeys = longArg(argv[numkeysIdx]!, 'ERR numkeys should be greater than 0');
  if (numkeys < 1) throw new CommandError('ERR numkeys should be greater than 0');
  const endIdx = numkeysIdx + numkeys + 1;
  if (endIdx >= argv.length) throw new CommandError(Err.syntax);
  const end = endArg(argv[endIdx]!);
  let count = -1;
  for (let j = endIdx + 1; j < argv.length; j++) {
    if (count === -1 && is(argv[j], 'COUNT') && j + 1 < argv.length) {
      count = longArg(argv[++j]!, 'ERR count should be greater than 0');
      if (count < 1) throw new CommandError('ERR count should be greater than 0');
    } else throw new CommandError(Err.syntax);
  }
  return { keys: argv.slice(numkeysIdx + 1, endIdx), end, count: count === -1 ? 1 : count };
}

/** The first key of `keys` holding a non-empty list (WRONGTYPE stops the scan), or null. */
export function firstNonEmpty(s: Session, keys: readonly string[]): { key: string; list: ListValue } | null {
  for (const key of keys) {
    const l = writeList(s, key);
    if (l !== undefined && l.size > 0) return { key, list: l };
  }
  return null;
}

function lmpop(s: Session, argv: string[]): void {
  const a = parseMpop(argv, 1);
  const hit = firstNonEmpty(s, a.keys);
  if (hit === null) s.reply.nullArray();
  else popRangeWithKey(s, hit.key, hit.list, a.end, a.count);
}

// ---------------------------------------------------------------------------
// Reads

function llen(s: Session, argv: string[]): void {
  s.reply.int(readList(s, argv[1]!)?.size ?? 0);
}

function lrange(s: Session, argv: string[]): void {
  const start = longArg(argv[2]!);
  const end = longArg(argv[3]!);
  const l = readList(s, argv[1]!);
  const range = l === undefined ? null : clampRange(start, end, l.size);
  if (range === null) {
    s.reply.arrayLen(0);
    return;
  }
  const r = s.reply;
  const [from, to] = range;
  r.arrayLen(to - from + 1);
  for (let i = from; i <= to; i++) r.bulk(l!.at(i));
}

function lindex(s: Session, argv: string[]): void {
  const l = readList(s, argv[1]!);
  if (l === undefined) {
    s.reply.nullBulk();
    return;
  }
  let i = longArg(argv[2]!);
  if (i < 0) i += l.size;
  s.reply.bulk(i >= 0 && i < l.size ? l.at(i) : null);
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
function lpos(s: Session, argv: string[]): void {
  let rank = 1;
  let count = -1; // -1: not given
  let maxlen = 0;
  let minRank = false;
  for (let j = 3; j < argv.length; j++) {
    const more = j + 1 < argv.length;
    if (is(argv[j], 'RANK') && more) {
      const r = int64Arg(argv[++j]!);
      if (r === 0n) {
        throw new CommandError(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
      rank = Number(r);
      minRank = r === INT64_MIN;
    } else if (is(argv[j], 'COUNT') && more) {
      const c = parseInt64(argv[++j]!);
      if (c === null || c < 0n) throw new CommandError("ERR COUNT can't be negative");
      count = Number(c);
    } else if (is(argv[j], 'MAXLEN') && more) {
      const m = parseInt64(argv[++j]!);
      if (m === null || m < 0n) throw new CommandError("ERR MAXLEN can't be negative");
      maxlen = Number(m);
    } else throw new CommandError(Err.syntax);
  }
  const l = readList(s, argv[1]!);
  if (l === undefined) {
    if (count === -1) s.reply.nullBulk();
    else s.reply.arrayLen(0);
    return;
  }
  // RANK -9223372036854775808: Redis's 64-bit arithmetic wraps (its negation
  // stays negative, so every match qualifies, from the tail, and the COUNT
  // test never succeeds): the first match without COUNT, all of them with it.
  const found = minRank
    ? l.positions(argv[2]!, -1, count === -1 ? 1 : 0, maxlen)
    : l.positions(argv[2]!, rank, count === -1 ? 1 : count, maxlen);
  if (count === -1) {
    if (found.length === 0) s.reply.nullBulk();
    else s.reply.int(found[0]!);
    return;
  }
  s.reply.arrayLen(found.length);
  for (const i of found) s.reply.int(i);
}

// ---------------------------------------------------------------------------
// In-place writes

function lset(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const l = writeList(s, key);
  if (l === undefined) throw new CommandError(Err.noSuchKey);
  let i = longArg(argv[2]!);
  if (i < 0) i += l.size;
  if (i < 0 || i >= l.size) throw new CommandError(Err.outOfRange);
  l.setAt(i, argv[3]!);
  s.reply.ok();
  s.wrote('l', 'lset', key);
}

/** LINSERT key BEFORE|AFTER pivot element */
function linsert(s: Session, argv: string[]): void {
  let after: boolean;
  if (is(argv[2], 'AFTER')) after = true;
  else if (is(argv[2], 'BEFORE')) after = false;
  else throw new CommandError(Err.syntax);
  const key = argv[1]!;
  const l = writeList(s, key);
  if (l === undefined) {
    s.reply.int(0);
    return;
  }
  const i = l.indexOf(argv[3]!);
  if (i < 0) {
    s.reply.int(-1);
    return;
  }
  l.insertAt(after ? i + 1 : i, argv[4]!);
  s.reply.int(l.size);
  s.wrote('l', 'linsert', key);
}

/** LREM key count element */
function lrem(s: Session, argv: string[]): void {
  const count = longArg(argv[2]!);
  const key = argv[1]!;
  const l = writeList(s, key);
  if (l === undefined) {
    s.reply.int(0);
    return;
  }
  const removed = l.removeValue(argv[3]!, count);
  if (removed > 0) {
    s.wrote('l', 'lrem', key, removed);
    deleteIfEmpty(s, key, l);
  }
  s.reply.int(removed);
}

/** LTRIM key start stop: fires `ltrim` even when nothing is removed, as Redis does. */
function ltrim(s: Session, argv: string[]): void {
  const start = longArg(argv[2]!);
  const end = longArg(argv[3]!);
  const key = argv[1]!;
  const l = writeList(s, key);
  if (l === undefined) {
    s.reply.ok();
    return;
  }
  const n = l.size;
  const range = clampRange(start, end, n);
  const left = range === null ? n : range[0];
  const right = range === null ? 0 : n - range[1] - 1;
  l.trim(left, right);
  s.wrote('l', 'ltrim', key, left + right);
  deleteIfEmpty(s, key, l);
  s.reply.ok();
}

// ---------------------------------------------------------------------------
// Moves

function lmoveGeneric(s: Session, src: string, dst: string, from: ListEnd, to: ListEnd): void {
  const sl = writeList(s, src);
  if (sl === undefined || sl.size === 0) {
    s.reply.nullBulk();
    return;
  }
  moveElement(s, src, dst, from, to, sl);
}

function lmove(s: Session, argv: string[]): void {
  const from = endArg(argv[3]!);
  const to = endArg(argv[4]!);
  lmoveGeneric(s, argv[1]!, argv[2]!, from, to);
}

function rpoplpush(s: Session, argv: string[]): void {
  lmoveGeneric(s, argv[1]!, argv[2]!, 'right', 'left');
}

// ---------------------------------------------------------------------------
// Command table

/** A one-key spec at argv[index]. */
export function listKeySpec(flags: readonly string[], index = 1, lastkey = 0): KeySpec {
  return { flags, begin: { index }, find: { range: [lastkey, 1, 0] } };
}

const RW_INSERT = [listKeySpec(['RW', 'insert'])];
const RW_ACCESS_DELETE = [listKeySpec(['RW', 'access', 'delete'])];
const RO_ACCESS = [listKeySpec(['RO', 'access'])];
/** Source and destination of LMOVE-like commands. */
export const MOVE_KEY_SPECS = [listKeySpec(['RW', 'access', 'delete']), listKeySpec(['RW', 'insert'], 2)];

const cmd = typeCommand('list');

const PUSH_COMPLEXITY =
  'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.';
const POP_COMPLEXITY = 'O(N) where N is the number of elements returned';

export const listCommands: CommandSpec[] = [
  cmd('lpush', -3, ['write', 'denyoom', 'fast'], 'Prepend one or multiple elements to a list', '1.0.0', PUSH_COMPLEXITY, RW_INSERT,
    (s, argv) => pushGeneric(s, argv, 'left', false)),
  cmd('rpush', -3, ['write', 'denyoom', 'fast'], 'Append one or multiple elements to a list', '1.0.0', PUSH_COMPLEXITY, RW_INSERT,
    (s, argv) => pushGeneric(s, argv, 'right', false)),
  cmd('lpushx', -3, ['write', 'denyoom', 'fast'], 'Prepend an element to a list, only if the list exists', '2.2.0', PUSH_COMPLEXITY,
    RW_INSERT, (s, argv) => pushGeneric(s, argv, 'left', true)),
  cmd('rpushx', -3, ['write', 'denyoom', 'fast'], 'Append an element to a list, only if the list exists', '2.2.0', PUSH_COMPLEXITY,
    RW_INSERT, (s, argv) => pushGeneric(s, argv, 'right', true)),
  cmd('lpop', -2, ['write', 'fast'], 'Remove and get the first elements in a list', '1.0.0', POP_COMPLEXITY, RW_ACCESS_DELETE,
    (s, argv) => popGeneric(s, argv, 'left')),
  cmd('rpop', -2, ['write', 'fast'], 'Remove and get the last elements in a list', '1.0.0', POP_COMPLEXITY, RW_ACCESS_DELETE,
    (s, argv) => popGeneric(s, argv, 'right')),
  cmd('llen', 2, ['readonly', 'fast'], 'Get the length of a list', '1.0.0', 'O(1)', [listKeySpec(['RO'])], llen),
  cmd('lrange', 4, ['readonly'], 'Get a range of elements from a list', '1.0.0',
    'O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.',
    RO_ACCESS, lrange),
  cmd('lindex', 3, ['readonly'], 'Get an element from a list by its index', '1.0.0',
    'O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).',
    RO_ACCESS, lindex),
  cmd('lset', 4, ['write', 'denyoom'], 'Set the value of an element in a list by its index', '1.0.0',
    'O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).',
    [listKeySpec(['RW', 'update'])], lset),
  cmd('linsert', 5, ['write', 'denyoom'], 'Insert an element before or after another element in a list', '2.2.0',
    'O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).',
    RW_INSERT, linsert),
  cmd('lrem', 4, ['write'], 'Remove elements from a list', '1.0.0',
    'O(N+M) where N is the length of the list and M is the number of elements removed.', [listKeySpec(['RW', 'delete'])], lrem),
  cmd('ltrim', 4, ['write'], 'Trim a list to the specified range', '1.0.0', 'O(N) where N is the number of elements to be removed by the operation.',
    [listKeySpec(['RW', 'delete'])], ltrim),
  cmd('lpos', -3, ['readonly'], 'Return the index of matching elements on a list', '6.0.6',
    'O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.',
    RO_ACCESS, lpos),
  cmd('lmove', 5, ['write', 'denyoom'], 'Pop an element from a list, push it to another list and return it', '6.2.0', 'O(1)',
    MOVE_KEY_SPECS, lmove, { keys: [1, 2, 1] }),
  cmd('rpoplpush', 3, ['write', 'denyoom'], 'Remove the last element in a list, prepend it to another list and return it', '1.2.0', 'O(1)',
    MOVE_KEY_SPECS, rpoplpush, { keys: [1, 2, 1] }),
  cmd('lmpop', -4, ['write', 'movablekeys'], 'Pop elements from a list', '7.0.0',
    'O(N+M) where N is the number of provided keys and M is the number of elements returned.',
    [{ flags: ['RW', 'access', 'delete'], begin: { index: 1 }, find: { keynum: [0, 1, 1] } }], lmpop, { keys: [0, 0, 0] }),
];
