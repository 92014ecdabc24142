/**
 * Sorted set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
 * ZCOUNT ZLEXCOUNT ZRANDMEMBER ZSCAN, and the command table of every sorted
 * set command (the ranges live in zset-range-commands.ts, the set operations
 * in zset-setop-commands.ts, the pops and blocking pops in
 * zset-pop-commands.ts).
 *
 * The value type is zset-value.ts (a skiplist plus a member map); scores
 * reply through Reply.double (RESP3 doubles, RESP2 %.17g bulk strings).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { cursorArg, floatArg, int64Arg, is, longArg } from '../commands/args.js';
import { compileGlob } from '../keyspace/glob.js';
import { formatDouble17g } from '../numbers/format.js';
import { NIL, ZsetValue, listpackScoreString, type ListpackLimits } from './zset-value.js';
import {
  ERR_NAN_SCORE,
  limitsOf,
  deleteIfEmpty,
  parseLexRange,
  parseScoreRange,
  readZset,
  replyScored,
  writeZset,
  zcmd,
  zkeySpec,
} from './zset-common.js';
import { zsetRangeCommands } from './zset-range-commands.js';
import { zsetSetopCommands } from './zset-setop-commands.js';
import { zsetPopCommands } from './zset-pop-commands.js';

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY

const NX = 1;
const XX = 2;
const GT = 4;
const LT = 8;
const CH = 16;
const INCR = 32;

/** ZADD's option tokens (upper case) and their flag bits. */
const ZADD_OPTIONS = new Map<string, number>([
  ['NX', NX],
  ['XX', XX],
  ['GT', GT],
  ['LT', LT],
  ['CH', CH],
  ['INCR', INCR],
]);

/**
 * A score argument: what floatArg reads (Redis's strtod rules), with a
 * shortcut for the common plain integers (at most 15 digits, optionally
 * negative), which read exactly.
 */
function scoreArg(arg: string): number {
  const len = arg.length;
  if (len > 0 && len <= 15) {
    let i = arg.charCodeAt(0) === 45 /* - */ ? 1 : 0;
    if (i < len) {
      let v = 0;
      for (; i < len; i++) {
        const d = arg.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === len) return arg.charCodeAt(0) === 45 ? -v : v;
    }
  }
  return floatArg(arg);
}

/** Parsed scores of the current ZADD, when few (reused: commands run one at a time). */
const scoreBuf = new Float64Array(256);

/**
 * ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and
 * ZINCRBY (= ZADD key INCR increment member, replying with the new score).
 * `flags` are the option bits, `scoreIdx` the index of the first score.
 */
function zaddGeneric(s: Session, argv: string[], flags: number, scoreIdx: number): void {
  const key = argv[1]!;
  const nelems = argv.length - scoreIdx;
  if (nelems % 2 !== 0 || nelems === 0) throw new CommandError(Err.syntax);
  const nx = (flags & NX) !== 0;
  const xx = (flags & XX) !== 0;
  const gt = (flags & GT) !== 0;
  const lt = (flags & LT) !== 0;
  const incr = (flags & INCR) !== 0;
  if (nx && xx) throw new CommandError('ERR XX and NX options at the same time are not compatible');
  if (Number(gt) + Number(lt) + Number(nx) > 1) throw new CommandError('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (incr && nelems > 2) throw new CommandError('ERR INCR option supports a single increment-element pair');
  const n = nelems / 2;
  const scores = n <= scoreBuf.length ? scoreBuf : new Float64Array(n);
  for (let i = 0; i < n; i++) scores[i] = scoreArg(argv[scoreIdx + i * 2]!);

  let z = writeZset(s, key);
  let limits: ListpackLimits | null = null;
  let created = false;
  if (z === undefined) {
    if (xx) {
      // Nothing to update: no key is created.
      if (incr) s.reply.nullBulk();
      else s.reply.int(0);
      return;
    }
    limits = limitsOf(s);
    z = ZsetValue.forFirstMember(argv[scoreIdx + 1]!, limits);
    s.db.set(key, z);
    created = true;
  }

  let added = 0;
  let updated = 0;
  let processed = 0;
  let result = 0;
  for (let i = 0; i < n; i++) {
    const member = argv[scoreIdx + i * 2 + 1]!;
    let score = scores[i]!;
    const cur = z.score(member);
    if (cur !== undefined) {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) throw new CommandError(ERR_NAN_SCORE);
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      result = score;
      processed++;
      if (score !== cur) {
        z.update(member, score);
        updated++;
      }
    } else {
      if (xx) continue;
      result = score;
      processed++;
      z.insert(member, score, (limits ??= limitsOf(s)));
      added++;
    }
  }

  if (added + updated > 0) s.wrote('z', incr ? 'zincr' : 'zadd', key, added + updated);
  // A new key always got its first element (only XX refuses new members).
  if (created) s.engine.blocking.signalKeyReady(s.dbIndex, key);
  if (incr) {
    if (processed > 0) s.reply.double(result);
    else s.reply.nullBulk();
  } else {
    s.reply.int((flags & CH) !== 0 ? added + updated : added);
  }
}

function zadd(s: Session, argv: string[]): void {
  let flags = 0;
  let i = 2;
  for (; i < argv.length; i++) {
    // Options are letters; a score that starts with one (inf) is no option either.
    const a = argv[i]!;
    const c = a.charCodeAt(0) | 0x20;
    if (c < 97 || c > 122) break;
    const bit = ZADD_OPTIONS.get(a.toUpperCase());
    if (bit === undefined) break;
    flags |= bit;
  }
  zaddGeneric(s, argv, flags, i);
}

/** ZINCRBY key increment member */
function zincrby(s: Session, argv: string[]): void {
  zaddGeneric(s, argv, INCR, 2);
}

// ---------------------------------------------------------------------------
// ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT

function zrem(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const z = writeZset(s, key);
  if (z === undefined) {
    s.reply.int(0);
    return;
  }
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (z.remove(argv[i]!)) {
      deleted++;
      if (z.size === 0) break;
    }
  }
  if (deleted > 0) {
    s.wrote('z', 'zrem', key, deleted);
    deleteIfEmpty(s, key, z);
  }
  s.reply.int(deleted);
}

function zcard(s: Session, argv: string[]): void {
  s.reply.int(readZset(s, argv[1]!)?.size ?? 0);
}

function zscore(s: Session, argv: string[]): void {
  const sc = readZset(s, argv[1]!)?.score(argv[2]!);
  if (sc === undefined) s.reply.nullBulk();
  else s.reply.double(sc);
}

function zmscore(s: Session, argv: string[]): void {
  const z = readZset(s, argv[1]!);
  s.reply.arrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const sc = z?.score(argv[i]!);
    if (sc === undefined) s.reply.nullBulk();
    else s.reply.double(sc);
  }
}

/** ZRANK / ZREVRANK key member [WITHSCORE] (WITHSCORE as in Redis 7.2). */
function zrankGeneric(s: Session, argv: string[], reverse: boolean): void {
  if (argv.length > 4) throw new CommandError(Err.wrongArgs(reverse ? 'zrevrank' : 'zrank'));
  const withScore = argv.length === 4;
  if (withScore && !is(argv[3], 'WITHSCORE')) throw new CommandError(Err.syntax);
  const z = readZset(s, argv[1]!);
  const rank = z === undefined ? -1 : z.rankOf(argv[2]!, reverse);
  if (rank < 0) {
    if (withScore) s.reply.nullArray();
    else s.reply.nullBulk();
    return;
  }
  if (!withScore) {
    s.reply.int(rank);
    return;
  }
  s.reply.arrayLen(2);
  s.reply.int(rank);
  s.reply.double(z!.score(argv[2]!)!);
}

function zcount(s: Session, argv: string[]): void {
  const range = parseScoreRange(argv[2]!, argv[3]!);
  const z = readZset(s, argv[1]!);
  s.reply.int(z === undefined ? 0 : z.countInScoreRange(range));
}

function zlexcount(s: Session, argv: string[]): void {
  const range = parseLexRange(argv[2]!, argv[3]!);
  const z = readZset(s, argv[1]!);
  s.reply.int(z === undefined ? 0 : z.countInLexRange(range));
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER

const LONG_MAX = 9223372036854775807n;
/** Largest reply of a negative-count ZRANDMEMBER we build (Redis has no limit). */
const MAX_PICKS = 2 ** 31;

/** ZRANDMEMBER key [count [WITHSCORES]] */
function zrandmember(s: Session, argv: string[]): void {
  const key = argv[1]!;
  if (argv.length === 2) {
    const z = readZset(s, key);
    const node = z === undefined ? NIL : z.random();
    s.reply.bulk(node === NIL ? null : z!.memberOf(node));
    return;
  }
  const big = int64Arg(argv[2]!);
  if (big < -LONG_MAX) throw new CommandError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  if (argv.length > 4 || (argv.length === 4 && !is(argv[3], 'WITHSCORES'))) throw new CommandError(Err.syntax);
  const withScores = argv.length === 4;
  if (withScores && (big < -LONG_MAX / 2n || big > LONG_MAX / 2n)) throw new CommandError('ERR value is out of range');
  const z = readZset(s, key);
  if (z === undefined || big === 0n) {
    s.reply.arrayLen(0);
    return;
  }
  const count = Number(big);
  const size = z.size;
  let picked: number[];
  if (count < 0) {
    // Repetitions allowed: |count| independent picks. (Redis would try to send
    // billions of elements; refuse a reply no client could take.)
    if (count < -MAX_PICKS) throw new CommandError('ERR value is out of range');
    picked = new Array<number>(-count);
    for (let i = 0; i < -count; i++) picked[i] = z.random();
  } else if (count >= size) {
    // The whole set, in order.
    picked = [];
    for (let x = z.first(); x !== NIL; x = z.next(x)) picked.push(x);
  } else {
    // Distinct members in no particular order (Redis replies in hash table order).
    picked = sampleDistinct(z, count);
  }
  replyScored(
    s,
    picked.map((n) => z.memberOf(n)),
    withScores ? picked.map((n) => z.scoreOf(n)) : null,
  );
}

/** `count` distinct random members (count < size). */
function sampleDistinct(z: ZsetValue, count: number): number[] {
  const size = z.size;
  const out: number[] = [];
  if (count * 3 > size) {
    // Partial Fisher-Yates over the slots.
    const idx = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
      out.push(z.atSlot(idx[i]!));
    }
    return out;
  }
  const seen = new Set<number>();
  while (out.length < count) {
    const i = Math.floor(Math.random() * size);
    if (seen.has(i)) continue;
    seen.add(i);
    out.push(z.atSlot(i));
  }
  return out;
}

// ---------------------------------------------------------------------------
// ZSCAN

/** ZSCAN key cursor [MATCH pattern] [COUNT count] */
function zscan(s: Session, argv: string[]): void {
  const cursor = cursorArg(argv[2]!);
  const z = readZset(s, argv[1]!);
  if (z === undefined) {
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
  let next = 0;
  if (z.listpack) {
    // A listpack is returned whole in one call, scores as it stores them.
    z.forEach((member, score) => {
      if (match === null || match(member)) out.push(member, listpackScoreString(score));
    });
  } else {
    next = z.scan(cursor, count, (member, score) => {
      if (match === null || match(member)) out.push(member, formatDouble17g(score));
    });
  }
  s.reply.arrayLen(2);
  s.reply.bulk(String(next));
  s.reply.bulkArray(out);
}

// ---------------------------------------------------------------------------
// Command table

const RO = [zkeySpec(['RO'])];
const RO_ACCESS = [zkeySpec(['RO', 'access'])];
const LOG_N = 'O(log(N))';

const zsetCoreCommands: CommandSpec[] = [
  zcmd('zadd', -4, ['write', 'denyoom', 'fast'], 'Add one or more members to a sorted set, or update its score if it already exists', '1.2.0',
    'O(log(N)) for each item added, where N is the number of elements in the sorted set.', [zkeySpec(['RW', 'update'])], zadd),
  zcmd('zincrby', 4, ['write', 'denyoom', 'fast'], 'Increment the score of a member in a sorted set', '1.2.0',
    'O(log(N)) where N is the number of elements in the sorted set.',
    [zkeySpec(['RW', 'access', 'update'])], zincrby),
  zcmd('zrem', -3, ['write', 'fast'], 'Remove one or more members from a sorted set', '1.2.0',
    'O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.',
    [zkeySpec(['RW', 'delete'])], zrem),
  zcmd('zcard', 2, ['readonly', 'fast'], 'Get the number of members in a sorted set', '1.2.0', 'O(1)', RO, zcard),
  zcmd('zscore', 3, ['readonly', 'fast'], 'Get the score associated with the given member in a sorted set', '1.2.0', 'O(1)', RO_ACCESS, zscore),
  zcmd('zmscore', -3, ['readonly', 'fast'], 'Get the score associated with the given members in a sorted set', '6.2.0',
    'O(N) where N is the number of members being requested.', RO_ACCESS, zmscore),
  zcmd('zrank', -3, ['readonly', 'fast'], 'Determine the index of a member in a sorted set', '2.0.0', LOG_N, RO_ACCESS,
    (s, argv) => zrankGeneric(s, argv, false)),
  zcmd('zrevrank', -3, ['readonly', 'fast'], 'Determine the index of a member in a sorted set, with scores ordered from high to low', '2.0.0',
    LOG_N, RO_ACCESS, (s, argv) => zrankGeneric(s, argv, true)),
  zcmd('zcount', 4, ['readonly', 'fast'], 'Count the members in a sorted set with scores within the given values', '2.0.0',
    'O(log(N)) with N being the number of elements in the sorted set.', RO_ACCESS, zcount),
  zcmd('zlexcount', 4, ['readonly', 'fast'], 'Count the number of members in a sorted set between a given lexicographical range', '2.8.9',
    'O(log(N)) with N being the number of elements in the sorted set.', RO_ACCESS, zlexcount),
  zcmd('zrandmember', -2, ['readonly'], 'Get one or multiple random elements from a sorted set', '6.2.0',
    'O(N) where N is the number of elements returned', RO_ACCESS, zrandmember, { tips: ['nondeterministic_output'] }),
  zcmd('zscan', -3, ['readonly'], 'Incrementally iterate sorted sets elements and associated scores', '2.8.0',
    'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    RO_ACCESS, zscan, { tips: ['nondeterministic_output'] }),
];

/** Every sorted set command. */
export const zsetCommands: CommandSpec[] = [...zsetCoreCommands, ...zsetRangeCommands, ...zsetSetopCommands, ...zsetPopCommands];
