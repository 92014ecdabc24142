/**
 * Sorted set range commands: the unified ZRANGE (BYSCORE, BYLEX, REV, LIMIT,
 * WITHSCORES), ZRANGESTORE, the legacy ZREVRANGE ZRANGEBYSCORE
 * ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX, and ZREMRANGEBYRANK
 * ZREMRANGEBYSCORE ZREMRANGEBYLEX.
 *
 * Every range starts from a node found in O(log n) (by rank, or the first /
 * last node in a score or lex range) and walks the level-0 links, so a range
 * costs O(log n + M). A LIMIT offset skips nodes without looking at them, as
 * Redis does, which is a rank jump here.
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { NIL, ZsetValue, type LexRange, type ScoreRange } from './zset-value.js';
import { lexGteMin, lexLteMax, scoreGteMin, scoreLteMax } from './skiplist.js';
import {
  deleteIfEmpty,
  parseLexRange,
  parseScoreRange,
  rankRange,
  readZset,
  replyScored,
  storeResult,
  writeZset,
  zcmd,
  zkeySpec,
} from './zset-common.js';

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'fwd' | 'rev';

const ERR_LIMIT = 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX';
const ERR_WITHSCORES_BYLEX = 'ERR syntax error, WITHSCORES not supported in combination with BYLEX';

type Range = { type: 'rank'; start: number; end: number } | { type: 'score'; r: ScoreRange } | { type: 'lex'; r: LexRange };

/** The nodes of a range, in reply order. */
function collect(z: ZsetValue, range: Range, reverse: boolean, offset: number, limit: number): number[] {
  const out: number[] = [];
  const size = z.size;
  if (range.type === 'rank') {
    const rr = rankRange(range.start, range.end, size);
    if (rr === null) return out;
    const n = rr.end - rr.start + 1;
    let x = z.atRank(reverse ? size - 1 - rr.start : rr.start);
    for (let i = 0; i < n && x !== NIL; i++) {
      out.push(x);
      x = reverse ? z.prev(x) : z.next(x);
    }
    return out;
  }
  if (offset < 0 || limit === 0) return out;
  let x: number;
  if (range.type === 'score') x = reverse ? z.lastInScoreRange(range.r) : z.firstInScoreRange(range.r);
  else x = reverse ? z.lastInLexRange(range.r) : z.firstInLexRange(range.r);
  if (x === NIL) return out;
  if (offset > 0) {
    // Skipping `offset` nodes without checking them is a rank jump.
    const r = z.rankOfNode(x) + (reverse ? -offset : offset);
    x = r < 0 ? NIL : z.atRank(r);
  }
  while (x !== NIL && (limit < 0 || out.length < limit)) {
    let inRange: boolean;
    if (range.type === 'score') inRange = reverse ? scoreGteMin(z.scoreOf(x), range.r) : scoreLteMax(z.scoreOf(x), range.r);
    else inRange = reverse ? lexGteMin(z.memberOf(x), range.r) : lexLteMax(z.memberOf(x), range.r);
    if (!inRange) break;
    out.push(x);
    x = reverse ? z.prev(x) : z.next(x);
  }
  return out;
}

/**
 * The shared ZRANGE machinery (Redis's zrangeGenericCommand): options after
 * `key min max`, then the range, then the key. `store` is ZRANGESTORE
 * (argv[1] the destination, argv[2] the source).
 */
function zrangeGeneric(s: Session, argv: string[], store: boolean, type: RangeType, dir: Direction): void {
  const keyIdx = store ? 2 : 1;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = keyIdx + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const a = argv[j]!;
    if (!store && is(a, 'WITHSCORES')) withScores = true;
    else if (is(a, 'LIMIT') && left >= 2) {
      offset = longArg(argv[j + 1]!);
      limit = longArg(argv[j + 2]!);
      j += 2;
    } else if (dir === 'auto' && is(a, 'REV')) dir = 'rev';
    else if (type === 'auto' && is(a, 'BYSCORE')) type = 'score';
    else if (type === 'auto' && is(a, 'BYLEX')) type = 'lex';
    else throw new CommandError(Err.syntax);
  }
  if (type === 'auto') type = 'rank';
  const reverse = dir === 'rev';
  if (withScores && type === 'lex') throw new CommandError(ERR_WITHSCORES_BYLEX);
  // Redis only looks at the count: `LIMIT <offset> -1` passes (and is ignored) with a rank range.
  if (limit !== -1 && type === 'rank') throw new CommandError(ERR_LIMIT);
  // BYSCORE / BYLEX with REV take max before min.
  let minArg = argv[keyIdx + 1]!;
  let maxArg = argv[keyIdx + 2]!;
  if (reverse && type !== 'rank') [minArg, maxArg] = [maxArg, minArg];
  let range: Range;
  if (type === 'rank') range = { type, start: longArg(minArg), end: longArg(maxArg) };
  else if (type === 'score') range = { type, r: parseScoreRange(minArg, maxArg) };
  else range = { type, r: parseLexRange(minArg, maxArg) };

  const z = readZset(s, argv[keyIdx]!);
  const nodes = z === undefined ? [] : collect(z, range, reverse, offset, limit);
  if (store) {
    const dst = new ZsetValue(false);
    const all = { entries: Infinity, value: Infinity };
    for (const n of nodes) dst.insert(z!.memberOf(n), z!.scoreOf(n), all);
    s.reply.int(storeResult(s, argv[1]!, dst, 'zrangestore'));
    return;
  }
  replyScored(
    s,
    nodes.map((n) => z!.memberOf(n)),
    withScores ? nodes.map((n) => z!.scoreOf(n)) : null,
  );
}

// ---------------------------------------------------------------------------
// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX

function zremrange(s: Session, argv: string[], type: 'rank' | 'score' | 'lex'): void {
  const key = argv[1]!;
  let start = 0;
  let end = 0;
  let sr: ScoreRange | null = null;
  let lr: LexRange | null = null;
  if (type === 'rank') {
    start = longArg(argv[2]!);
    end = longArg(argv[3]!);
  } else if (type === 'score') sr = parseScoreRange(argv[2]!, argv[3]!);
  else lr = parseLexRange(argv[2]!, argv[3]!);
  const z = writeZset(s, key);
  if (z === undefined) {
    s.reply.int(0);
    return;
  }
  let deleted: number;
  if (type === 'rank') {
    const rr = rankRange(start, end, z.size);
    deleted = rr === null ? 0 : z.removeRankRange(rr.start, rr.end);
  } else if (type === 'score') deleted = z.removeScoreRange(sr!);
  else deleted = z.removeLexRange(lr!);
  if (deleted > 0) {
    s.wrote('z', 'zremrangeby' + type, key, deleted);
    deleteIfEmpty(s, key, z);
  }
  s.reply.int(deleted);
}

// ---------------------------------------------------------------------------
// Command table

const RO_ACCESS = [zkeySpec(['RO', 'access'])];
const RW_DELETE = [zkeySpec(['RW', 'delete'])];
const RANGE_COMPLEXITY = 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.';
const BYSCORE_COMPLEXITY =
  'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).';
const REM_COMPLEXITY = 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.';

export const zsetRangeCommands: CommandSpec[] = [
  zcmd('zrange', -4, ['readonly'], 'Return a range of members in a sorted set', '1.2.0', RANGE_COMPLEXITY, RO_ACCESS,
    (s, argv) => zrangeGeneric(s, argv, false, 'auto', 'auto')),
  zcmd('zrangestore', -5, ['write', 'denyoom'], 'Store a range of members from sorted set into another key', '6.2.0',
    'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.',
    [zkeySpec(['OW', 'update']), zkeySpec(['RO', 'access'], 2)], (s, argv) => zrangeGeneric(s, argv, true, 'auto', 'auto'), { keys: [1, 2, 1] }),
  zcmd('zrevrange', -4, ['readonly'], 'Return a range of members in a sorted set, by index, with scores ordered from high to low', '1.2.0',
    RANGE_COMPLEXITY, RO_ACCESS, (s, argv) => zrangeGeneric(s, argv, false, 'rank', 'rev')),
  zcmd('zrangebyscore', -4, ['readonly'], 'Return a range of members in a sorted set, by score', '1.0.5', BYSCORE_COMPLEXITY, RO_ACCESS,
    (s, argv) => zrangeGeneric(s, argv, false, 'score', 'fwd')),
  zcmd('zrevrangebyscore', -4, ['readonly'], 'Return a range of members in a sorted set, by score, with scores ordered from high to low', '2.2.0',
    BYSCORE_COMPLEXITY, RO_ACCESS, (s, argv) => zrangeGeneric(s, argv, false, 'score', 'rev')),
  zcmd('zrangebylex', -4, ['readonly'], 'Return a range of members in a sorted set, by lexicographical range', '2.8.9', BYSCORE_COMPLEXITY,
    RO_ACCESS, (s, argv) => zrangeGeneric(s, argv, false, 'lex', 'fwd')),
  zcmd('zrevrangebylex', -4, ['readonly'], 'Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.', '2.8.9',
    BYSCORE_COMPLEXITY, RO_ACCESS, (s, argv) => zrangeGeneric(s, argv, false, 'lex', 'rev')),
  zcmd('zremrangebyrank', 4, ['write'], 'Remove all members in a sorted set within the given indexes', '2.0.0', REM_COMPLEXITY, RW_DELETE,
    (s, argv) => zremrange(s, argv, 'rank')),
  zcmd('zremrangebyscore', 4, ['write'], 'Remove all members in a sorted set within the given scores', '1.2.0', REM_COMPLEXITY, RW_DELETE,
    (s, argv) => zremrange(s, argv, 'score')),
  zcmd('zremrangebylex', 4, ['write'], 'Remove all members in a sorted set between the given lexicographical range', '2.8.9', REM_COMPLEXITY,
    RW_DELETE, (s, argv) => zremrange(s, argv, 'lex')),
];
