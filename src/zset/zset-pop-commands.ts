/**
 * Sorted set pops: ZPOPMIN ZPOPMAX ZMPOP, and the blocking BZPOPMIN BZPOPMAX
 * BZMPOP.
 *
 * A blocking pop first tries to serve at once, exactly like its
 * non-blocking form. When every key is missing the client blocks on them
 * (server/blocking.ts) until a write from any client gives one of them data
 * (ZADD, ZINCRBY, a STORE command, ...) — clients are served in the order
 * they blocked — or the timeout passes (null array; RESP3 null). Inside
 * MULTI/EXEC it never blocks and answers as on a timeout. A key of another
 * type is WRONGTYPE at call time; once blocked, a client ignores keys that
 * are not sorted sets.
 *
 * Propagation is the deterministic effect, as Redis 7.0 sends it to replicas:
 * BZPOPMIN/BZPOPMAX as `ZPOPMIN|ZPOPMAX key`, ZMPOP/BZMPOP as
 * `ZPOPMIN|ZPOPMAX key <number popped>`.
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { serveOrBlock, serveWhenReady } from '../server/blocking.js';
import { ZsetValue } from './zset-value.js';
import { deleteIfEmpty, numkeysIndexes, numkeysSpec, replyNestedPairs, replyScored, writeZset, zcmd, zkeySpec } from './zset-common.js';

/** Pop up to `count` members from the low (or, `max`, high) end of the non-empty set at `key`. */
function popFrom(s: Session, key: string, z: ZsetValue, max: boolean, count: number): { members: string[]; scores: number[] } {
  const members: string[] = [];
  const scores: number[] = [];
  while (members.length < count) {
    const e = z.pop(max);
    if (e === null) break;
    members.push(e.member);
    scores.push(e.score);
  }
  if (members.length > 0) {
    s.wrote('z', max ? 'zpopmax' : 'zpopmin', key, members.length);
    deleteIfEmpty(s, key, z);
  }
  return { members, scores };
}

const popName = (max: boolean): string => (max ? 'ZPOPMAX' : 'ZPOPMIN');

// ---------------------------------------------------------------------------
// ZPOPMIN / ZPOPMAX

/** ZPOPMIN / ZPOPMAX key [count] */
function zpop(s: Session, argv: string[], max: boolean): void {
  if (argv.length > 3) throw new CommandError(Err.syntax);
  let count = -1;
  if (argv.length === 3) count = positive(argv[2]!, 'ERR value is out of range, must be positive', true);
  const key = argv[1]!;
  const z = writeZset(s, key);
  if (z === undefined || count === 0) {
    s.reply.arrayLen(0);
    return;
  }
  const { members, scores } = popFrom(s, key, z, max, count < 0 ? 1 : count);
  if (count < 0) {
    // No count: a flat [member, score] in either protocol.
    s.reply.arrayLen(2);
    s.reply.bulk(members[0]!);
    s.reply.double(scores[0]!);
  } else {
    replyScored(s, members, scores);
  }
}

/** A non-negative (or, !allowZero, positive) integer argument, else `error`. */
function positive(arg: string, error: string, allowZero: boolean): number {
  let n: number;
  try {
    n = longArg(arg);
  } catch {
    throw new CommandError(error);
  }
  if (n < 0 || (n === 0 && !allowZero)) throw new CommandError(error);
  return n;
}

// ---------------------------------------------------------------------------
// ZMPOP / BZMPOP argument parsing

interface MpopArgs {
  keys: string[];
  max: boolean;
  count: number;
}

/** `numkeys key [key ...] MIN|MAX [COUNT count]` starting at argv[at]. */
function parseMpop(argv: string[], at: number): MpopArgs {
  const numkeys = positive(argv[at]!, 'ERR numkeys should be greater than 0', false);
  if (numkeys > argv.length - at - 1) throw new CommandError(Err.syntax);
  const keys = argv.slice(at + 1, at + 1 + numkeys);
  const whereIdx = at + 1 + numkeys;
  if (whereIdx >= argv.length) throw new CommandError(Err.syntax);
  let max: boolean;
  if (is(argv[whereIdx], 'MIN')) max = false;
  else if (is(argv[whereIdx], 'MAX')) max = true;
  else throw new CommandError(Err.syntax);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (is(argv[j], 'COUNT') && j + 1 < argv.length && count === -1) {
      count = positive(argv[++j]!, 'ERR count should be greater than 0', false);
    } else throw new CommandError(Err.syntax);
  }
  return { keys, max, count: count === -1 ? 1 : count };
}

/** The first of `keys` holding a sorted set (all of them are non-empty), WRONGTYPE on the way. */
function firstNonEmpty(s: Session, keys: readonly string[]): { key: string; z: ZsetValue } | null {
  for (const key of keys) {
    const z = writeZset(s, key);
    if (z !== undefined && z.size > 0) return { key, z };
  }
  return null;
}

/** Pop for (B)ZMPOP, reply [key, [[member, score], ...]] and propagate as ZPOPMIN/ZPOPMAX key n. */
function mpopFrom(s: Session, key: string, z: ZsetValue, a: MpopArgs): void {
  const { members, scores } = popFrom(s, key, z, a.max, a.count);
  s.reply.arrayLen(2);
  s.reply.bulk(key);
  replyNestedPairs(s, members, scores);
  s.rewriteAs([popName(a.max), key, String(members.length)]);
}

/** ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
function zmpop(s: Session, argv: string[]): void {
  const a = parseMpop(argv, 1);
  const hit = firstNonEmpty(s, a.keys);
  if (hit === null) s.reply.nullArray();
  else mpopFrom(s, hit.key, hit.z, a);
}

// ---------------------------------------------------------------------------
// Blocking pops

/** Timeout reply: RESP2 `*-1`, RESP3 `_`. */
const timedOut = (s: Session): void => s.reply.nullArray();

/** Pop one for BZPOPMIN/BZPOPMAX: reply [key, member, score], propagate ZPOPMIN/ZPOPMAX key. */
function bzpopFrom(s: Session, key: string, z: ZsetValue, max: boolean): void {
  const { members, scores } = popFrom(s, key, z, max, 1);
  s.reply.arrayLen(3);
  s.reply.bulk(key);
  s.reply.bulk(members[0]!);
  s.reply.double(scores[0]!);
  s.rewriteAs([popName(max), key]);
}

/** BZPOPMIN / BZPOPMAX key [key ...] timeout */
function bzpop(s: Session, argv: string[], max: boolean): void {
  const keys = argv.slice(1, -1);
  serveOrBlock(s, {
    timeout: argv[argv.length - 1]!,
    keys,
    serveNow: () => {
      const hit = firstNonEmpty(s, keys);
      if (hit !== null) bzpopFrom(s, hit.key, hit.z, max);
      return hit !== null;
    },
    serve: serveWhenReady(ZsetValue, (bs, key, z) => bzpopFrom(bs, key, z, max)),
    onTimeout: timedOut,
    kind: 'zset',
  });
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
function bzmpop(s: Session, argv: string[]): void {
  const a = parseMpop(argv, 2);
  serveOrBlock(s, {
    timeout: argv[1]!,
    keys: a.keys,
    serveNow: () => {
      const hit = firstNonEmpty(s, a.keys);
      if (hit !== null) mpopFrom(s, hit.key, hit.z, a);
      return hit !== null;
    },
    serve: serveWhenReady(ZsetValue, (bs, key, z) => mpopFrom(bs, key, z, a)),
    onTimeout: timedOut,
    kind: 'zset',
  });
}

// ---------------------------------------------------------------------------
// Command table

const POP_SPECS = [zkeySpec(['RW', 'access', 'delete'])];
const MPOP_COMPLEXITY = 'O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.';

export const zsetPopCommands: CommandSpec[] = [
  zcmd('zpopmin', -2, ['write', 'fast'], 'Remove and return members with the lowest scores in a sorted set', '5.0.0',
    'O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.', POP_SPECS,
    (s, argv) => zpop(s, argv, false)),
  zcmd('zpopmax', -2, ['write', 'fast'], 'Remove and return members with the highest scores in a sorted set', '5.0.0',
    'O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.', POP_SPECS,
    (s, argv) => zpop(s, argv, true)),
  zcmd('zmpop', -4, ['write', 'movablekeys'], 'Remove and return members with scores in a sorted set', '7.0.0', MPOP_COMPLEXITY,
    [numkeysSpec(['RW', 'access', 'delete'], 1)], zmpop, { keys: [0, 0, 0], getKeys: (argv) => numkeysIndexes(argv, 1) }),
  zcmd('bzpopmin', -3, ['write', 'noscript', 'blocking', 'fast'],
    'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available', '5.0.0',
    'O(log(N)) with N being the number of elements in the sorted set.', [zkeySpec(['RW', 'access', 'delete'], 1, [-2, 1, 0])],
    (s, argv) => bzpop(s, argv, false), { keys: [1, -2, 1] }),
  zcmd('bzpopmax', -3, ['write', 'noscript', 'blocking', 'fast'],
    'Remove and return the member with the highest score from one or more sorted sets, or block until one is available', '5.0.0',
    'O(log(N)) with N being the number of elements in the sorted set.', [zkeySpec(['RW', 'access', 'delete'], 1, [-2, 1, 0])],
    (s, argv) => bzpop(s, argv, true), { keys: [1, -2, 1] }),
  zcmd('bzmpop', -5, ['write', 'blocking', 'movablekeys'],
    'Remove and return members with scores in a sorted set or block until one is available', '7.0.0', MPOP_COMPLEXITY,
    [numkeysSpec(['RW', 'access', 'delete'], 2)], bzmpop, { keys: [0, 0, 0], getKeys: (argv) => numkeysIndexes(argv, 2) }),
];
