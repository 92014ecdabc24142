/**
 * Differential test of the sorted set commands: random ZADD / ZRANGE / ZPOP /
 * ZUNIONSTORE / ... commands over a small key space (seeded PRNG, printed
 * seed) go to a real redis-server 7.0 and to the built cacheside, and every
 * pair of replies must be identical on the wire (types, error texts, scores
 * as printed). Random replies (ZRANDMEMBER) are checked for validity against
 * the set's contents; ZSCAN is compared as the set of pairs of a full
 * iteration.
 *
 * Rounds alternate RESP2 / RESP3 and the listpack limits: the default (every
 * set small enough to be a listpack), 0 (every set a skiplist) and 3 (sets
 * converting as they grow). Lex range commands with mixed scores are only
 * exact for listpacks (a skiplist's answer then depends on its node levels,
 * in Redis too), so in the other rounds they only target the "lex" keys,
 * whose scores are all 0.
 *
 * Needs `npm run build` and redis-server on PATH.
 * Knobs: DIFF_SEED=<n> (replay), DIFF_ROUNDS=<n> (default 6), DIFF_STEPS=<n> (default 500), DIFF_TAIL=<n> (default 25).
 */
import { describe, expect, it } from 'vitest';
import { Prng, cliArgv as fmtArgv, connectBoth, diffSeed, envInt, fmtReply as fmt, historyTail, mismatchMessage, sendBoth, setUpBoth, useServerPair } from './diff-kit.js';
import type { RawClient, RespValue } from './harness.js';

const SEED = diffSeed();
const ROUNDS = envInt('DIFF_ROUNDS', 6);
const STEPS = envInt('DIFF_STEPS', 500);
const TAIL = historyTail(25);

// ---------------------------------------------------------------------------
// Generator

type Compare = 'exact' | 'random' | 'scan';
interface Step {
  argv: string[];
  compare: Compare;
}

const MEMBERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'aa', 'ab', '', '1', '10', '-5', 'm\x00n', '\xe9t\xe9', 'zz'];
const SCORES = ['0', '-0', '1', '2', '-1', '1.5', '3.25', '-2.75', '+inf', '-inf', 'inf', '1e17', '123456789012345678', '0.1', '1e-5', '7', '100', '-100', '2.5e-310', '4611686018427388928'];
const BAD_SCORES = ['nan', 'abc', '(1', '', ' 1', '1e400', '0x10'];
const SCORE_BOUNDS = ['-inf', '+inf', 'inf', '0', '1', '2', '(1', '(2', '(-1', '1.5', '(1.5', '-0', '(0', '100', '(100', '7', '(7', '1e17'];
const BAD_SCORE_BOUNDS = ['x', '((1', '[1', 'nan', '1 ', '', ' 2', '(', '1e400'];
const LEX_BOUNDS = ['-', '+', '[a', '(a', '[b', '(b', '[c', '[aa', '(ab', '[', '(', '[e', '(zz', '[1', '(\xe9'];
const BAD_LEX_BOUNDS = ['a', '-a', '+b', '', 'b['];
const RANKS = ['0', '1', '2', '3', '-1', '-2', '-3', '5', '-5', '100', '-100', '9223372036854775807', '-9223372036854775808'];

/** Key pools: "z*" any scores; "lex*" only score 0 (lex ranges are exact there whatever the encoding). */
const ZKEYS = ['z1', 'z2', 'z3', 'z4'];
const LEXKEYS = ['lex1', 'lex2'];
const SETKEYS = ['set1', 'set2'];
const OTHER = ['str', 'lst', 'missing'];

class Gen {
  constructor(
    private readonly r: Prng,
    /** Lex ranges may target any key (every set is a listpack). */
    private readonly lexAnywhere: boolean,
  ) {}

  private p<T>(a: readonly T[]): T {
    return this.r.pick(a);
  }
  private chance(x: number): boolean {
    return this.r.chance(x);
  }
  private zkey(): string {
    return this.chance(0.08) ? this.p(OTHER) : this.chance(0.1) ? this.p(SETKEYS) : this.p(ZKEYS);
  }
  private anyKey(): string {
    return this.chance(0.25) ? this.p(LEXKEYS) : this.zkey();
  }
  private lexKey(): string {
    return this.lexAnywhere ? this.anyKey() : this.chance(0.05) ? this.p(OTHER) : this.p(LEXKEYS);
  }
  private score(): string {
    return this.chance(0.05) ? this.p(BAD_SCORES) : this.p(SCORES);
  }
  private sbound(): string {
    return this.chance(0.04) ? this.p(BAD_SCORE_BOUNDS) : this.p(SCORE_BOUNDS);
  }
  private lbound(): string {
    return this.chance(0.04) ? this.p(BAD_LEX_BOUNDS) : this.p(LEX_BOUNDS);
  }
  private rank(): string {
    return this.chance(0.03) ? 'x' : this.p(RANKS);
  }
  private members(n: number): string[] {
    return Array.from({ length: n }, () => this.p(MEMBERS));
  }
  private limit(): string[] {
    return ['LIMIT', this.p(['0', '1', '2', '-1', '5']), this.p(['0', '1', '2', '-1', '3', '10'])];
  }
  private keys(n: number, forLex: boolean): string[] {
    return Array.from({ length: n }, () => (forLex ? this.p(LEXKEYS) : this.chance(0.2) ? this.p(SETKEYS) : this.zkey()));
  }

  /** ZADD to a z key (any scores) or a lex key (score 0). */
  private zadd(): string[] {
    const lex = this.chance(0.3);
    const key = lex ? this.p(LEXKEYS) : this.zkey();
    const flags: string[] = [];
    for (const f of ['NX', 'XX', 'GT', 'LT', 'CH']) if (this.chance(lex ? 0.05 : 0.12)) flags.push(f);
    const incr = !lex && this.chance(0.15);
    if (incr) flags.push('INCR');
    this.r.shuffle(flags);
    const n = incr && this.chance(0.9) ? 1 : this.r.int(1, 4);
    const args: string[] = [];
    for (let i = 0; i < n; i++) args.push(lex ? '0' : this.score(), this.p(MEMBERS));
    if (this.chance(0.03)) args.pop(); // odd number of arguments
    return ['ZADD', key, ...flags, ...args];
  }

  private zrangeOpts(type: 'rank' | 'score' | 'lex', store: boolean): string[] {
    const o: string[] = [];
    if (type === 'score' && this.chance(0.9)) o.push('BYSCORE');
    if (type === 'lex' && this.chance(0.9)) o.push('BYLEX');
    if (this.chance(0.35)) o.push('REV');
    if (type !== 'rank' ? this.chance(0.4) : this.chance(0.05)) o.push(...this.limit());
    if (!store && (type !== 'lex' ? this.chance(0.5) : this.chance(0.05))) o.push('WITHSCORES');
    return this.r.shuffle(o);
  }

  private setop(cmd: string, store: boolean): string[] {
    const lex = false;
    const n = this.r.int(1, 3);
    const numkeys = this.chance(0.04) ? this.p(['0', '-1', 'x', String(n + 1)]) : String(n);
    const a: string[] = [cmd];
    if (store) a.push(this.p(ZKEYS));
    a.push(numkeys, ...this.keys(n, lex));
    const diff = cmd.startsWith('ZDIFF');
    if (!diff && this.chance(0.4)) a.push('WEIGHTS', ...Array.from({ length: n }, () => this.p(['1', '2', '0', '-1', '0.5', 'inf', '-0', 'x'])));
    if (!diff && this.chance(0.4)) a.push('AGGREGATE', this.p(['SUM', 'MIN', 'MAX', 'sum', 'max', 'AVG']));
    if (!store && this.chance(0.6)) a.push('WITHSCORES');
    return a;
  }

  next(): Step {
    const r = this.r;
    const x = (argv: string[], compare: Compare = 'exact'): Step => ({ argv, compare });
    const w = r.int(0, 99);
    if (w < 22) return x(this.zadd());
    if (w < 25) return x(['ZINCRBY', this.zkey(), this.score(), this.p(MEMBERS)]);
    if (w < 30) return x(['ZREM', this.anyKey(), ...this.members(r.int(1, 3))]);
    if (w < 32) return x(['ZCARD', this.anyKey()]);
    if (w < 35) return x(['ZSCORE', this.anyKey(), this.p(MEMBERS)]);
    if (w < 37) return x(['ZMSCORE', this.anyKey(), ...this.members(r.int(1, 3))]);
    if (w < 40) return x([this.p(['ZRANK', 'ZREVRANK']), this.anyKey(), this.p(MEMBERS)]);
    if (w < 43) return x(['ZCOUNT', this.anyKey(), this.sbound(), this.sbound()]);
    if (w < 45) return x(['ZLEXCOUNT', this.lexKey(), this.lbound(), this.lbound()]);
    if (w < 49) return x(['ZRANGE', this.anyKey(), this.rank(), this.rank(), ...this.zrangeOpts('rank', false)]);
    if (w < 53) return x(['ZRANGE', this.anyKey(), this.sbound(), this.sbound(), ...this.zrangeOpts('score', false)]);
    if (w < 55) return x(['ZRANGE', this.lexKey(), this.lbound(), this.lbound(), ...this.zrangeOpts('lex', false)]);
    if (w < 57) {
      const c = this.p(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE']);
      const o: string[] = [];
      if (this.chance(0.5)) o.push('WITHSCORES');
      if (this.chance(0.4)) o.push(...this.limit());
      return x([c, this.anyKey(), this.sbound(), this.sbound(), ...r.shuffle(o)]);
    }
    if (w < 59) {
      const o = this.chance(0.4) ? this.limit() : [];
      return x([this.p(['ZRANGEBYLEX', 'ZREVRANGEBYLEX']), this.lexKey(), this.lbound(), this.lbound(), ...o]);
    }
    if (w < 60) return x(['ZREVRANGE', this.anyKey(), this.rank(), this.rank(), ...(this.chance(0.5) ? ['WITHSCORES'] : [])]);
    if (w < 63) {
      const t = this.p(['rank', 'score', 'lex'] as const);
      const lexSrc = t === 'lex' ? this.lexKey() : this.anyKey();
      // Lex sources keep lex destinations all-zero.
      const dst = LEXKEYS.includes(lexSrc) ? this.p(LEXKEYS) : this.p(ZKEYS);
      const bounds = t === 'rank' ? [this.rank(), this.rank()] : t === 'score' ? [this.sbound(), this.sbound()] : [this.lbound(), this.lbound()];
      return x(['ZRANGESTORE', dst, lexSrc, ...bounds, ...this.zrangeOpts(t, true)]);
    }
    if (w < 65) return x(['ZREMRANGEBYRANK', this.anyKey(), this.rank(), this.rank()]);
    if (w < 67) return x(['ZREMRANGEBYSCORE', this.anyKey(), this.sbound(), this.sbound()]);
    if (w < 68) return x(['ZREMRANGEBYLEX', this.lexKey(), this.lbound(), this.lbound()]);
    if (w < 71) {
      const a = [this.p(['ZPOPMIN', 'ZPOPMAX']), this.anyKey()];
      if (this.chance(0.6)) a.push(this.p(['0', '1', '2', '5', '-1', 'x']));
      return x(a);
    }
    if (w < 73) {
      const n = r.int(1, 3);
      const a = ['ZMPOP', this.chance(0.05) ? this.p(['0', 'x']) : String(n), ...Array.from({ length: n }, () => this.anyKey())];
      a.push(this.chance(0.05) ? 'MIDDLE' : this.p(['MIN', 'MAX', 'min']));
      if (this.chance(0.5)) a.push('COUNT', this.p(['1', '2', '10', '0', '-1']));
      return x(a);
    }
    if (w < 75) {
      if (this.chance(0.5)) return x([this.p(['BZPOPMIN', 'BZPOPMAX']), this.anyKey(), ...(this.chance(0.3) ? [this.anyKey()] : []), this.p(['0.01', '0.02', '-1', 'x'])]);
      const a = ['BZMPOP', this.p(['0.01', '0.02', '-1']), '2', this.anyKey(), this.anyKey(), this.p(['MIN', 'MAX'])];
      if (this.chance(0.5)) a.push('COUNT', this.p(['1', '3', '0']));
      return x(a);
    }
    if (w < 78) {
      const a = ['ZRANDMEMBER', this.anyKey()];
      if (this.chance(0.8)) a.push(this.p(['0', '1', '2', '3', '20', '-1', '-3', '-10', 'x']));
      if (a.length === 3 && this.chance(0.5)) a.push(this.chance(0.9) ? 'WITHSCORES' : 'FOO');
      return x(a, 'random');
    }
    if (w < 84) return x(this.setop(this.p(['ZUNION', 'ZINTER', 'ZDIFF']), false));
    if (w < 89) return x(this.setop(this.p(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']), true));
    if (w < 91) {
      const n = r.int(1, 3);
      const a = ['ZINTERCARD', String(n), ...this.keys(n, false)];
      if (this.chance(0.5)) a.push('LIMIT', this.p(['0', '1', '2', '-1']));
      return x(a);
    }
    if (w < 93) {
      const a = [this.anyKey(), '0'];
      if (this.chance(0.3)) a.push('MATCH', this.p(['*', 'a*', '?', '*b*']));
      if (this.chance(0.3)) a.push('COUNT', this.p(['1', '2', '100']));
      return x(a, 'scan');
    }
    if (w < 95) return x(['SADD', this.p(SETKEYS), ...this.members(r.int(1, 3))]);
    if (w < 96) return x(['OBJECT', 'ENCODING', this.anyKey()]);
    if (w < 97) return x(['TYPE', this.anyKey()]);
    if (w < 98) return x(['DEBUG', 'DIGEST-VALUE', this.anyKey()]);
    // Arity errors.
    return x([this.p(['ZADD', 'ZRANGE', 'ZCOUNT', 'ZRANGESTORE', 'ZUNIONSTORE', 'BZMPOP', 'ZSCORE', 'ZMSCORE']), ...(this.chance(0.5) ? [this.p(ZKEYS)] : [])]);
  }
}

// ---------------------------------------------------------------------------
// Execution and comparison

async function fullScan(c: RawClient, key: string, opts: string[]): Promise<RespValue> {
  const pairs = new Set<string>();
  let cursor = '0';
  let calls = 0;
  do {
    const r = await c.send('ZSCAN', key, cursor, ...opts);
    if (r.type === 'error') return r;
    if (r.type !== 'array' || r.value[0]?.type !== 'bulk' || r.value[1]?.type !== 'array') return { type: 'error', value: `bad ZSCAN reply ${fmt(r)}` };
    const items = r.value[1].value;
    for (let i = 0; i + 1 < items.length; i += 2) pairs.add(`${fmt(items[i]!)} ${fmt(items[i + 1]!)}`);
    cursor = r.value[0].value;
  } while (cursor !== '0' && ++calls < 10_000);
  return { type: 'array', value: [...pairs].sort().map((value) => ({ type: 'bulk', value })) };
}

/** Flatten a ZRANDMEMBER reply to [member, score|null] pairs (RESP2 flat or RESP3 nested). */
function randPairs(v: RespValue, withScores: boolean): [string, string | null][] | null {
  if (v.type === 'bulk') return [[v.value, null]];
  if (v.type !== 'array') return null;
  const out: [string, string | null][] = [];
  const items = v.value;
  if (!withScores) {
    for (const it of items) {
      if (it.type !== 'bulk') return null;
      out.push([it.value, null]);
    }
    return out;
  }
  if (items.every((it) => it.type === 'array')) {
    for (const it of items) {
      const [m, s] = (it as { value: RespValue[] }).value;
      if (m?.type !== 'bulk' || (s?.type !== 'double' && s?.type !== 'bulk')) return null;
      out.push([m.value, s.value]);
    }
    return out;
  }
  for (let i = 0; i + 1 < items.length; i += 2) {
    const m = items[i]!;
    const s = items[i + 1]!;
    if (m.type !== 'bulk' || s.type !== 'bulk') return null;
    out.push([m.value, s.value]);
  }
  return out;
}

/** ZRANDMEMBER validity: right count, distinct when count > 0, every pair in `contents`. */
function checkRandom(argv: string[], reply: RespValue, contents: Map<string, string>, resp: 2 | 3): string | undefined {
  const withScores = argv.length === 4;
  if (argv.length === 2) {
    if (contents.size === 0) return reply.type === (resp === 3 ? 'null' : 'null-bulk') ? undefined : 'expected a null';
    return reply.type === 'bulk' && contents.has(reply.value) ? undefined : 'not a member';
  }
  const count = Number(argv[2]);
  const pairs = randPairs(reply, withScores);
  if (pairs === null) return `malformed reply ${fmt(reply)}`;
  if (withScores && resp === 3 && pairs.length > 0 && reply.type === 'array' && reply.value[0]!.type !== 'array') return 'RESP3 pairs must be nested';
  const want = count >= 0 ? Math.min(count, contents.size) : contents.size === 0 ? 0 : -count;
  if (pairs.length !== want) return `expected ${want} elements, got ${pairs.length}`;
  if (count > 0 && new Set(pairs.map((p) => p[0])).size !== pairs.length) return 'duplicates with a positive count';
  for (const [m, s] of pairs) {
    if (!contents.has(m)) return `${JSON.stringify(m)} is not a member`;
    if (s !== null && s !== contents.get(m)) return `score of ${JSON.stringify(m)} is ${s}, want ${contents.get(m)}`;
  }
  return undefined;
}

/** member → score text, from ZRANGE key 0 -1 WITHSCORES (any protocol). */
async function contentsOf(c: RawClient, key: string): Promise<Map<string, string>> {
  const r = await c.send('ZRANGE', key, '0', '-1', 'WITHSCORES');
  const out = new Map<string, string>();
  if (r.type !== 'array') return out;
  for (const [m, s] of randPairs(r, true) ?? []) out.set(m, s!);
  return out;
}

// ---------------------------------------------------------------------------

describe('differential: sorted sets, cacheside vs redis-server 7.0', () => {
  const servers = useServerPair();

  it(`random sorted set commands get identical replies (seed ${SEED})`, async () => {
    console.log(`differential-zset: seed ${SEED} (replay with DIFF_SEED=${SEED}), ${ROUNDS} rounds x ${STEPS} commands`);
    const [a, b] = await connectBoth(servers);
    const both = (argv: string[]): Promise<[RespValue, RespValue]> => sendBoth(a, b, argv);
    const rng = new Prng(SEED);
    let total = 0;
    let errors = 0;
    const seen = new Set<string>();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const resp: 2 | 3 = round % 2 === 0 ? 2 : 3;
        const entries = ['128', '0', '3'][Math.floor(round / 2) % 3]!;
        await setUpBoth(a, b, [['HELLO', String(resp)], ['FLUSHALL'], ['CONFIG', 'SET', 'zset-max-listpack-entries', entries], ['SET', 'str', 'x'], ['RPUSH', 'lst', 'a']]);
        const gen = new Gen(rng, entries === '128');
        const history: string[] = [];
        for (let i = 0; i < STEPS; i++) {
          const step = gen.next();
          let x: RespValue;
          let y: RespValue;
          if (step.compare === 'scan') {
            [x, y] = await Promise.all([fullScan(a, step.argv[0]!, step.argv.slice(2)), fullScan(b, step.argv[0]!, step.argv.slice(2))]);
          } else {
            [x, y] = await both(step.argv);
          }
          total++;
          seen.add(step.compare === 'scan' ? 'ZSCAN' : step.argv[0]!.toUpperCase());
          if (x.type === 'error') errors++;
          let why: string | undefined;
          if (step.compare === 'random' && x.type !== 'error') {
            const [ca, cb] = await Promise.all([contentsOf(a, step.argv[1]!), contentsOf(b, step.argv[1]!)]);
            why =
              checkRandom(step.argv, x, ca, resp) !== undefined
                ? `redis-server's own reply fails the check (${checkRandom(step.argv, x, ca, resp)}): the checker is wrong`
                : checkRandom(step.argv, y, cb, resp);
          } else if (fmt(x) !== fmt(y)) why = 'replies differ';
          const line = `${step.compare === 'scan' ? 'ZSCAN(full) ' : ''}${fmtArgv(step.argv)} -> ${fmt(x).slice(0, 300)}`;
          if (why !== undefined) {
            throw new Error(
              mismatchMessage({
                seed: SEED,
                header: `cacheside differs (seed ${SEED}, round ${round}, RESP${resp}, zset-max-listpack-entries ${entries}, step ${i})`,
                why,
                command: `${step.compare === 'scan' ? 'ZSCAN(full) ' : ''}${fmtArgv(step.argv)}`,
                redis: fmt(x),
                cacheside: fmt(y),
                history,
                tail: TAIL,
                historyNote: ` (after FLUSHALL, CONFIG SET zset-max-listpack-entries ${entries}, SET str x, RPUSH lst a)`,
                file: 'differential-zset.test.ts',
              }),
            );
          }
          history.push(line);
        }
      }
    } finally {
      await both(['CONFIG', 'SET', 'zset-max-listpack-entries', '128']).catch(() => undefined);
      await Promise.all([a.close(), b.close()]);
    }
    console.log(`differential-zset: ${total} commands compared, ${errors} error replies, ${seen.size} distinct commands`);
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(total / 2);
    expect(seen.size).toBeGreaterThan(30);
  }, 600_000);
});
