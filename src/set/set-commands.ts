/**
 * Set commands: SADD SREM SISMEMBER SMISMEMBER SCARD SMEMBERS SRANDMEMBER
 * SPOP SMOVE SSCAN. The multi-key algebra (SINTER, SINTERCARD, SUNION, SDIFF
 * and the STORE forms) is in set-algebra-commands.ts.
 *
 * Lookups follow Redis 7.0: the writers (SADD, SREM, SPOP, SMOVE) look keys up
 * for writing (no keyspace hit/miss), the readers count hits and misses.
 * Replies, events, dirty counts and propagation were checked against
 * redis-server 7.0.15.
 */
import { type CommandSpec, type KeySpec, typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { cursorArg, int64Arg, is, longArg } from '../commands/args.js';
import { parseInt64 } from '../numbers/parse.js';
import { compileGlob } from '../keyspace/glob.js';
import { SetValue, asSet } from './set-value.js';
import { maxIntsetEntries, replySet, setAlgebraCommands } from './set-algebra-commands.js';
import { outputLimitReached } from '../server/output-limit.js';

const INT64_MAX = 9223372036854775807n;

/** Delete a set that a command emptied, firing `del` after the command's own event. */
function deleteIfEmpty(s: Session, key: string, set: SetValue): void {
  if (set.size > 0) return;
  s.db.delete(key);
  s.wrote('g', 'del', key, 0);
}

// ---- SADD SREM SMOVE ---------------------------------------------------------------

function sadd(s: Session, argv: string[]): void {
  const key = argv[1]!;
  let set = asSet(s.db.getForWrite(key));
  if (set === undefined) {
    set = new SetValue();
    s.db.set(key, set);
  }
  // The intset limit only matters while the set is still an intset (a config read per call otherwise).
  const max = set.isIntset ? maxIntsetEntries(s) : 0;
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (set.add(argv[i]!, max)) added++;
  if (added > 0) s.wrote('s', 'sadd', key, added);
  s.reply.int(added);
}

function srem(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const set = asSet(s.db.getForWrite(key));
  if (set === undefined) {
    s.reply.int(0);
    return;
  }
  let removed = 0;
  for (let i = 2; i < argv.length && set.size > 0; i++) if (set.remove(argv[i]!)) removed++;
  if (removed > 0) {
    s.wrote('s', 'srem', key, removed);
    deleteIfEmpty(s, key, set);
  }
  s.reply.int(removed);
}

/** SMOVE source destination member */
function smove(s: Session, argv: string[]): void {
  const srcKey = argv[1]!;
  const dstKey = argv[2]!;
  const member = argv[3]!;
  const srcValue = s.db.getForWrite(srcKey);
  // A missing source answers 0 before the destination's type is looked at.
  if (srcValue === undefined) {
    s.reply.int(0);
    return;
  }
  const src = asSet(srcValue)!;
  const dst = asSet(srcKey === dstKey ? srcValue : s.db.getForWrite(dstKey));
  if (src === dst) {
    // Same key: nothing moves, no event.
    s.reply.int(src.has(member) ? 1 : 0);
    return;
  }
  if (!src.remove(member)) {
    s.reply.int(0);
    return;
  }
  s.wrote('s', 'srem', srcKey);
  deleteIfEmpty(s, srcKey, src);
  let target = dst;
  if (target === undefined) {
    target = new SetValue();
    s.db.set(dstKey, target);
  }
  if (target.add(member, maxIntsetEntries(s))) s.wrote('s', 'sadd', dstKey);
  s.reply.int(1);
}

// ---- SISMEMBER SMISMEMBER SCARD SMEMBERS ------------------------------------------------

function sismember(s: Session, argv: string[]): void {
  const set = asSet(s.db.get(argv[1]!));
  s.reply.int(set !== undefined && set.has(argv[2]!) ? 1 : 0);
}

function smismember(s: Session, argv: string[]): void {
  const set = asSet(s.db.get(argv[1]!));
  s.reply.arrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) s.reply.int(set !== undefined && set.has(argv[i]!) ? 1 : 0);
}

function scard(s: Session, argv: string[]): void {
  const set = asSet(s.db.get(argv[1]!));
  s.reply.int(set === undefined ? 0 : set.size);
}

function smembers(s: Session, argv: string[]): void {
  const set = asSet(s.db.get(argv[1]!));
  replySet(s, set === undefined ? [] : set.members());
}

// ---- SRANDMEMBER SPOP ---------------------------------------------------------------------

/** SRANDMEMBER key [count] */
function srandmember(s: Session, argv: string[]): void {
  if (argv.length > 3) throw new CommandError(Err.syntax);
  let count: number | null = null;
  if (argv.length === 3) {
    const n = int64Arg(argv[2]!);
    if (n < -INT64_MAX) {
      throw new CommandError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
    }
    count = Number(n);
  }
  const set = asSet(s.db.get(argv[1]!));
  if (count === null) {
    s.reply.bulk(set === undefined ? null : set.random()!);
    return;
  }
  if (set === undefined || count === 0) {
    s.reply.arrayLen(0);
    return;
  }
  if (count < 0) {
    // Negative: exactly -count members, repetitions allowed.
    const n = -count;
    s.reply.arrayLen(n);
    for (let i = 0; i < n; i++) {
      s.reply.bulk(set.random()!);
      // A reply past the client's output limit: stop, the client is being closed.
      if ((i & 1023) === 1023 && outputLimitReached(s)) break;
    }
    return;
  }
  s.reply.bulkArray(set.sampleDistinct(count));
}

/** SPOP key [count] */
function spop(s: Session, argv: string[]): void {
  if (argv.length > 3) throw new CommandError(Err.syntax);
  if (argv.length === 3) {
    spopCount(s, argv[1]!, argv[2]!);
    return;
  }
  const key = argv[1]!;
  const set = asSet(s.db.getForWrite(key));
  if (set === undefined) {
    s.reply.nullBulk();
    return;
  }
  const m = set.pop()!;
  s.rewriteAs(['SREM', key, m]);
  s.wrote('s', 'spop', key);
  deleteIfEmpty(s, key, set);
  s.reply.bulk(m);
}

function spopCount(s: Session, key: string, countArg: string): void {
  const n = parseInt64(countArg);
  if (n === null || n < 0n) throw new CommandError('ERR value is out of range, must be positive');
  const count = Number(n);
  const set = asSet(s.db.getForWrite(key));
  if (set === undefined || count === 0) {
    s.reply.setLen(0);
    return;
  }
  const size = set.size;
  if (count >= size) {
    // The whole set: Redis replies through a read lookup of the key (a keyspace hit) and propagates DEL.
    s.db.get(key);
    replySet(s, set.members());
    s.db.delete(key);
    s.rewriteAs(['DEL', key]);
    s.wrote('s', 'spop', key, size);
    s.wrote('g', 'del', key, 0);
    return;
  }
  const popped: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) popped[i] = set.pop()!;
  // When few members remain (at most a fifth of the count popped), Redis builds
  // a new set from them instead of removing members one by one: its encoding
  // is decided afresh (a hashtable of integers can become an intset again).
  if ((size - count) * 5 <= count) set.reencode(maxIntsetEntries(s));
  // Deterministic effect: one SREM per popped member, in pop order, as Redis 7.0 propagates it
  // (the dispatcher wraps them in MULTI/EXEC).
  s.rewriteAs(['SREM', key, popped[0]!]);
  for (let i = 1; i < count; i++) s.propagateAlso(['SREM', key, popped[i]!]);
  s.wrote('s', 'spop', key, count);
  replySet(s, popped);
}

// ---- SSCAN ------------------------------------------------------------------------------------

/** SSCAN key cursor [MATCH pattern] [COUNT count] */
function sscan(s: Session, argv: string[]): void {
  const cursor = cursorArg(argv[2]!);
  const set = asSet(s.db.get(argv[1]!));
  if (set === undefined) {
    // Options are not even parsed for a missing key.
    s.reply.arrayLen(2);
    s.reply.bulk('0');
    s.reply.arrayLen(0);
    return;
  }
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    const hasValue = i + 1 < argv.length;
    if (is(argv[i], 'COUNT') && hasValue) {
      count = longArg(argv[i + 1]!);
      if (count < 1) throw new CommandError(Err.syntax);
    } else if (is(argv[i], 'MATCH') && hasValue) {
      pattern = argv[i + 1]!;
    } else throw new CommandError(Err.syntax);
  }
  const match = pattern === null || pattern === '*' ? null : compileGlob(pattern);
  const out: string[] = [];
  const next = set.scan(cursor, count, (m) => {
    if (match === null || match(m)) out.push(m);
  });
  s.reply.arrayLen(2);
  s.reply.bulk(String(next));
  s.reply.bulkArray(out);
}

// ---- command table ------------------------------------------------------------------------------

const spec = (flags: readonly string[], index = 1): KeySpec => ({ flags, begin: { index }, find: { range: [0, 1, 0] } });

const cmd = typeCommand('set');

const RO = [spec(['RO'])];
const RO_ACCESS = [spec(['RO', 'access'])];

const basicSetCommands: CommandSpec[] = [
  cmd('sadd', -3, ['write', 'denyoom', 'fast'], 'Add one or more members to a set', '1.0.0',
    'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    [spec(['RW', 'insert'])], sadd),
  cmd('srem', -3, ['write', 'fast'], 'Remove one or more members from a set', '1.0.0',
    'O(N) where N is the number of members to be removed.', [spec(['RW', 'delete'])], srem),
  cmd('sismember', 3, ['readonly', 'fast'], 'Determine if a given value is a member of a set', '1.0.0', 'O(1)', RO, sismember),
  cmd('smismember', -3, ['readonly', 'fast'], 'Returns the membership associated with the given elements for a set', '6.2.0',
    'O(N) where N is the number of elements being checked for membership', RO_ACCESS, smismember),
  cmd('scard', 2, ['readonly', 'fast'], 'Get the number of members in a set', '1.0.0', 'O(1)', RO, scard),
  cmd('smembers', 2, ['readonly'], 'Get all the members in a set', '1.0.0', 'O(N) where N is the set cardinality.', RO_ACCESS,
    smembers, { tips: ['nondeterministic_output_order'] }),
  cmd('srandmember', -2, ['readonly'], 'Get one or multiple random members from a set', '1.0.0',
    'Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.', RO_ACCESS,
    srandmember, { tips: ['nondeterministic_output'] }),
  cmd('spop', -2, ['write', 'fast'], 'Remove and return one or multiple random members from a set', '1.0.0',
    'Without the count argument O(1), otherwise O(N) where N is the value of the passed count.',
    [spec(['RW', 'access', 'delete'])], spop, { tips: ['nondeterministic_output'] }),
  cmd('smove', 4, ['write', 'fast'], 'Move a member from one set to another', '1.0.0', 'O(1)',
    [spec(['RW', 'access', 'delete'], 1), spec(['RW', 'insert'], 2)], smove, { keys: [1, 2, 1] }),
  cmd('sscan', -3, ['readonly'], 'Incrementally iterate Set elements', '2.8.0',
    'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    RO_ACCESS, sscan, { tips: ['nondeterministic_output'] }),
];

export const setCommands: CommandSpec[] = [...basicSetCommands, ...setAlgebraCommands];
