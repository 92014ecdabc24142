/**
 * Sorted set algebra: ZUNION ZINTER ZDIFF, their STORE forms, and ZINTERCARD.
 * Plain sets count as sorted sets whose members all score 1.
 *
 * Floating-point sums depend on the order of the operands, so the inputs are
 * combined in Redis's order: sorted by cardinality, smallest first, keeping
 * the argument order among equals (ZDIFF keeps its first key first). A
 * weighted score that is NaN (inf × 0) counts as 0, and so does a NaN sum
 * (inf + -inf).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { floatArg, is, longArg } from '../commands/args.js';
import { SetValue } from '../set/set-value.js';
import type { Value } from '../keyspace/values.js';
import { ZsetValue } from './zset-value.js';
import { numkeysIndexes, numkeysSpec, replyScored, storeResult, zcmd, zkeySpec } from './zset-common.js';

type Op = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

/** One input: a sorted set, a set (scores 1) or nothing (a missing key). */
interface Source {
  z: ZsetValue | null;
  set: SetValue | null;
  weight: number;
}

function sourceSize(src: Source): number {
  return src.z !== null ? src.z.size : src.set !== null ? src.set.size : 0;
}

/** Visit every (member, score) of a source. */
function eachOf(src: Source, visit: (member: string, score: number) => void): void {
  if (src.z !== null) src.z.forEach(visit);
  else if (src.set !== null) for (const m of src.set.members()) visit(m, 1);
}

/** The unweighted score of `member` in a source, undefined when absent. */
function scoreIn(src: Source, member: string): number | undefined {
  if (src.z !== null) return src.z.score(member);
  if (src.set !== null) return src.set.has(member) ? 1 : undefined;
  return undefined;
}

function aggregate(target: number, val: number, how: Aggregate): number {
  if (how === 'sum') {
    const r = target + val;
    return Number.isNaN(r) ? 0 : r;
  }
  if (how === 'min') return val < target ? val : target;
  return val > target ? val : target;
}

interface Parsed {
  sources: Source[];
  agg: Aggregate;
  withScores: boolean;
  limit: number;
}

/**
 * Parse `numkeys key [key ...] [options]` starting at argv[numkeysIdx], with
 * Redis's order of checks: numkeys, then each key's type, then the options.
 */
function parse(s: Session, argv: string[], numkeysIdx: number, op: Op, store: boolean, cardOnly: boolean, cmdName: string): Parsed {
  const numkeys = longArg(argv[numkeysIdx]!);
  if (numkeys < 1) throw new CommandError(`ERR at least 1 input key is needed for '${cmdName}' command`);
  if (numkeys > argv.length - numkeysIdx - 1) throw new CommandError(Err.syntax);
  const sources: Source[] = [];
  for (let i = 0; i < numkeys; i++) {
    const key = argv[numkeysIdx + 1 + i]!;
    const v: Value | undefined = store ? s.db.peek(key) : s.db.get(key);
    if (v === undefined) sources.push({ z: null, set: null, weight: 1 });
    else if (v instanceof ZsetValue) sources.push({ z: v, set: null, weight: 1 });
    else if (v instanceof SetValue) sources.push({ z: null, set: v, weight: 1 });
    else throw new CommandError(Err.wrongType);
  }
  let agg: Aggregate = 'sum';
  let withScores = false;
  let limit = 0;
  let j = numkeysIdx + 1 + numkeys;
  let remaining = argv.length - j;
  while (remaining > 0) {
    const a = argv[j]!;
    if (op !== 'diff' && !cardOnly && remaining >= numkeys + 1 && is(a, 'WEIGHTS')) {
      j++;
      remaining--;
      for (let i = 0; i < numkeys; i++, j++, remaining--) sources[i]!.weight = floatArg(argv[j]!, 'ERR weight value is not a float');
      continue;
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && is(a, 'AGGREGATE')) {
      j++;
      remaining--;
      const how = argv[j]!;
      if (is(how, 'SUM')) agg = 'sum';
      else if (is(how, 'MIN')) agg = 'min';
      else if (is(how, 'MAX')) agg = 'max';
      else throw new CommandError(Err.syntax);
    } else if (!store && !cardOnly && is(a, 'WITHSCORES')) {
      withScores = true;
    } else if (cardOnly && remaining >= 2 && is(a, 'LIMIT')) {
      j++;
      remaining--;
      limit = positiveLimit(argv[j]!);
    } else throw new CommandError(Err.syntax);
    j++;
    remaining--;
  }
  return { sources, agg, withScores, limit };
}

/** ZINTERCARD's LIMIT: a non-negative integer, else "LIMIT can't be negative" (even for non-numbers). */
function positiveLimit(arg: string): number {
  let n: number;
  try {
    n = longArg(arg);
  } catch {
    throw new CommandError("ERR LIMIT can't be negative");
  }
  if (n < 0) throw new CommandError("ERR LIMIT can't be negative");
  return n;
}

/** Inputs in combination order: by cardinality, smallest first, stable (ZDIFF: untouched). */
function ordered(sources: Source[], op: Op): Source[] {
  if (op === 'diff') return sources;
  return sources
    .map((src, i) => ({ src, i, n: sourceSize(src) }))
    .sort((a, b) => a.n - b.n || a.i - b.i)
    .map((x) => x.src);
}

/** Compute the result (a skiplist-encoded set), or only its cardinality up to `limit` (0: no limit). */
function compute(p: Parsed, op: Op, cardLimit: number | null): ZsetValue | number {
  const src = ordered(p.sources, op);
  const all = { entries: Infinity, value: Infinity };
  const out = new ZsetValue(false);
  let card = 0;
  if (op === 'union') {
    const acc = new Map<string, number>();
    for (const s of src) {
      eachOf(s, (member, score) => {
        let v = s.weight * score;
        if (Number.isNaN(v)) v = 0;
        const cur = acc.get(member);
        acc.set(member, cur === undefined ? v : aggregate(cur, v, p.agg));
      });
    }
    for (const [m, v] of acc) out.insert(m, v, all);
    return out;
  }
  if (op === 'inter') {
    const first = src[0]!;
    if (sourceSize(first) === 0) return cardLimit !== null ? 0 : out;
    let stop = false;
    eachOf(first, (member, score) => {
      if (stop) return;
      let v = first.weight * score;
      if (Number.isNaN(v)) v = 0;
      for (let j = 1; j < src.length; j++) {
        const other = scoreIn(src[j]!, member);
        if (other === undefined) return;
        v = aggregate(v, other * src[j]!.weight, p.agg);
      }
      if (cardLimit !== null) {
        card++;
        if (cardLimit > 0 && card >= cardLimit) stop = true;
      } else out.insert(member, v, all);
    });
    return cardLimit !== null ? card : out;
  }
  // diff: members of the first set in none of the others, with their own scores.
  const first = src[0]!;
  eachOf(first, (member, score) => {
    for (let j = 1; j < src.length; j++) if (scoreIn(src[j]!, member) !== undefined) return;
    out.insert(member, score, all);
  });
  return out;
}

/** ZUNION / ZINTER / ZDIFF numkeys key [key ...] [...] [WITHSCORES] */
function setopReply(s: Session, argv: string[], op: Op): void {
  const p = parse(s, argv, 1, op, false, false, argv[0]!.toLowerCase());
  const z = compute(p, op, null) as ZsetValue;
  const members: string[] = [];
  const scores: number[] = [];
  z.forEach((m, sc) => {
    members.push(m);
    scores.push(sc);
  });
  replyScored(s, members, p.withScores ? scores : null);
}

/** ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE destination numkeys key [key ...] [...] */
function setopStore(s: Session, argv: string[], op: Op): void {
  const p = parse(s, argv, 2, op, true, false, argv[0]!.toLowerCase());
  const z = compute(p, op, null) as ZsetValue;
  s.reply.int(storeResult(s, argv[1]!, z, `z${op}store`));
}

/** ZINTERCARD numkeys key [key ...] [LIMIT limit] */
function zintercard(s: Session, argv: string[]): void {
  const p = parse(s, argv, 1, 'inter', false, true, 'zintercard');
  s.reply.int(compute(p, 'inter', p.limit) as number);
}

// ---------------------------------------------------------------------------
// Command table

const numkeysAt = (at: number) => (argv: string[]) => numkeysIndexes(argv, at);
const storeKeys = (argv: string[]) => {
  const keys = numkeysIndexes(argv, 2);
  return keys.length === 0 ? [] : [1, ...keys];
};
const READ_SPECS = [numkeysSpec(['RO', 'access'], 1)];
const STORE_SPECS = [zkeySpec(['OW', 'update']), numkeysSpec(['RO', 'access'], 2)];

const UNION_COMPLEXITY =
  'O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.';
const INTER_COMPLEXITY =
  'O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.';
const DIFF_COMPLEXITY = 'O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.';

function readCmd(name: string, summary: string, since: string, complexity: string, handler: CommandSpec['handler']): CommandSpec {
  return zcmd(name, -3, ['readonly', 'movablekeys'], summary, since, complexity, READ_SPECS, handler, { keys: [0, 0, 0], getKeys: numkeysAt(1) });
}

function storeCmd(name: string, summary: string, since: string, complexity: string, handler: CommandSpec['handler']): CommandSpec {
  return zcmd(name, -4, ['write', 'denyoom', 'movablekeys'], summary, since, complexity, STORE_SPECS, handler, { keys: [1, 1, 1], getKeys: storeKeys });
}

export const zsetSetopCommands: CommandSpec[] = [
  readCmd('zunion', 'Add multiple sorted sets', '6.2.0', UNION_COMPLEXITY, (s, argv) => setopReply(s, argv, 'union')),
  readCmd('zinter', 'Intersect multiple sorted sets', '6.2.0', INTER_COMPLEXITY, (s, argv) => setopReply(s, argv, 'inter')),
  readCmd('zdiff', 'Subtract multiple sorted sets', '6.2.0', DIFF_COMPLEXITY, (s, argv) => setopReply(s, argv, 'diff')),
  readCmd('zintercard', 'Intersect multiple sorted sets and return the cardinality of the result', '7.0.0',
    'O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.', zintercard),
  storeCmd('zunionstore', 'Add multiple sorted sets and store the resulting sorted set in a new key', '2.0.0',
    'O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.',
    (s, argv) => setopStore(s, argv, 'union')),
  storeCmd('zinterstore', 'Intersect multiple sorted sets and store the resulting sorted set in a new key', '2.0.0', INTER_COMPLEXITY,
    (s, argv) => setopStore(s, argv, 'inter')),
  storeCmd('zdiffstore', 'Subtract multiple sorted sets and store the resulting sorted set in a new key', '6.2.0', DIFF_COMPLEXITY,
    (s, argv) => setopStore(s, argv, 'diff')),
];
