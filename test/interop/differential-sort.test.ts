/**
 * Differential test for SORT / SORT_RO: random lists, sets (intset and
 * hashtable) and sorted sets, random weight keys (strings, hashes, keys of
 * the wrong type, unreadable numbers) and random SORT commands (BY, LIMIT,
 * GET, ASC/DESC, ALPHA, STORE, syntax and number errors) go to a real
 * redis-server 7.0 and to the built cacheside, in RESP2 and RESP3 rounds.
 *
 * Replies are compared exactly, except where Redis's answer depends on
 * something unspecified:
 *  - "don't sort" (BY without *) on a hashtable set returns the set's hash
 *    order: compared as a multiset (and only by length with LIMIT);
 *  - ALPHA with BY compares weights only, so elements with equal (or
 *    missing) weights come in an order that depends on the set's hash order,
 *    on a sorted set's dict order, or on Redis's partial quicksort (LIMIT):
 *    both replies must list elements of the same weights in the same
 *    sequence (and the same elements overall when the whole range is
 *    returned). A stored result of such a sort is copied from redis-server
 *    to cacheside afterwards, so that the data sets stay identical.
 * The data sets are compared with DEBUG DIGEST at the end of every round.
 * redis-server keeps a stale errno after a SORT that failed on an out-of-range
 * number (it reads errno after strtod without clearing it), which fails later
 * sorts until something clears errno: cacheside does not copy that, and the
 * test clears errno (with INCRBYFLOAT) after such a failure.
 *
 * Needs `npm run build` and redis-server on PATH. Knobs: DIFF_SEED (replay),
 * DIFF_ROUNDS (default 4), DIFF_STEPS (commands per round, default 700), DIFF_TAIL (history shown, default 30).
 */
import { describe, expect, it } from 'vitest';
import { Prng, diffSeed, envInt, fmtReply, runRounds, useServerPair } from './diff-kit.js';
import type { RawClient, RespValue } from './harness.js';

const SEED = diffSeed();
const ROUNDS = envInt('DIFF_ROUNDS', 4);
const STEPS = envInt('DIFF_STEPS', 700);

const LISTS = ['l0', 'l1'];
const SETS = ['s0', 's1'];
const ZSETS = ['z0', 'z1'];
const SORTABLE = [...LISTS, ...SETS, ...ZSETS];
const DSTS = ['d0', 'd1', 'l1'];
const OTHER = ['str', 'h', 'strm', 'missing'];
/** Numbers: integers (intsets) and other spellings strtod reads. */
const NUMBERS = ['0', '1', '2', '3', '7', '10', '-1', '-20', '100', '9223372036854775807', '1.5', '-0.25', '1e1', '0x10', ' 4', 'inf', '-inf', ''];
/** Elements: numbers and words (ALPHA); no two equal up to a NUL byte. Keys ending in 0 only get numbers. */
const ELEMS = [...NUMBERS, 'a', 'b', 'B', 'abc', 'zz', '\xff', 'q\x00z'];
/** Elements whose numeric value fails (only sometimes in the mix). */
const BAD_ELEMS = ['nan', '1e400', 'x y', '5 '];
const WEIGHTS = ['0', '1', '2', '-3', '10', '2.5', '1e2', '-inf', '', ' 8', '007', '0', '1', '2', '-3', '10', '2.5', 'a', 'b', 'zz', 'B', '1e-400', 'bad'];

type Mode = 'exact' | 'unordered' | 'ties';
/** A data change, or a SORT of `key`. */
type Step = { kind: 'mutation'; argv: string[] } | { kind: 'sort'; argv: string[]; key: string };

class Gen {
  /** Whether unreadable numbers may be added to the sortable keys in this round. */
  allowBad = false;
  constructor(private readonly r: Prng) {}

  elem(key = ''): string {
    if (this.allowBad && this.r.chance(0.03)) return this.r.pick(BAD_ELEMS);
    return this.r.pick(key.endsWith('0') ? NUMBERS : ELEMS);
  }
  elems(key: string, min: number, max: number): string[] {
    return Array.from({ length: this.r.int(min, max) }, () => this.elem(key));
  }
  /** A BY/GET pattern. */
  pattern(forBy: boolean): string {
    const r = this.r;
    const pats = ['w_*', 'w_*', 'hw_*->f', 'hw_*->g', '*', 'nosort', '#', 'hw_*->', 'w_*x', 'missing_*'];
    if (!forBy) pats.push('#', '#', 'w_*', 'str', 'hw_*->f');
    return r.pick(pats);
  }

  mutation(): string[] {
    const r = this.r;
    const n = r.int(0, 100);
    if (n < 20) {
      const key = r.pick(LISTS);
      return [r.pick(['RPUSH', 'LPUSH']), key, ...this.elems(key, 1, 5)];
    }
    if (n < 38) {
      const key = r.pick(SETS);
      return ['SADD', key, ...this.elems(key, 1, 5)];
    }
    if (n < 55) {
      const key = r.pick(ZSETS);
      const argv = ['ZADD', key];
      for (let i = r.int(1, 4); i > 0; i--) argv.push(String(r.int(-5, 5)), this.elem(key));
      return argv;
    }
    if (n < 75) return ['SET', 'w_' + r.pick(ELEMS), r.pick(WEIGHTS)];
    if (n < 88) return ['HSET', 'hw_' + r.pick(ELEMS), r.pick(['f', 'g']), r.pick(WEIGHTS)];
    if (n < 91) return ['RPUSH', 'w_' + r.pick(ELEMS), 'wrong type'];
    if (n < 93) return ['SET', 'hw_' + r.pick(ELEMS) + '->', r.pick(WEIGHTS)];
    if (n < 97) return ['DEL', r.pick([...SORTABLE, 'w_' + r.pick(ELEMS), 'hw_' + r.pick(ELEMS)])];
    if (n < 99) return [r.pick(['LPOP', 'SPOP', 'ZPOPMIN']), r.pick(SORTABLE), String(r.int(1, 3))].filter((_, i) => i !== 2 || r.chance(0.5));
    return ['CONFIG', 'SET', 'zset-max-listpack-entries', r.pick(['2', '128'])];
  }

  sort(): { argv: string[]; key: string } {
    const r = this.r;
    const ro = r.chance(0.2);
    const key = r.chance(0.93) ? r.pick(SORTABLE) : r.pick(OTHER);
    const opts: string[][] = [];
    if (r.chance(0.5)) opts.push(['BY', this.pattern(true)]);
    if (r.chance(0.4)) opts.push([r.pick(['ALPHA', 'alpha'])]);
    if (r.chance(0.35)) opts.push([r.pick(['ASC', 'DESC', 'desc'])]);
    if (r.chance(0.35)) {
      const num = ['0', '1', '2', '3', '5', '-1', '-3', '100', '9223372036854775807'];
      opts.push(['LIMIT', r.pick(num), r.pick(num)]);
    }
    for (let i = r.chance(0.4) ? r.int(1, 3) : 0; i > 0; i--) opts.push(['GET', this.pattern(false)]);
    if (!ro && r.chance(0.3)) opts.push(['STORE', r.pick(DSTS)]);
    if (r.chance(0.03)) opts.push([r.pick(['LIMIT', 'foo', 'BY', 'GET', 'STORE']), ...(r.chance(0.5) ? ['x'] : [])]);
    if (r.chance(0.02)) opts.push(['LIMIT', r.pick(['x', '1.5', '']), '1']);
    r.shuffle(opts);
    return { argv: [ro ? 'SORT_RO' : 'SORT', key, ...opts.flat()], key };
  }

  next(): Step {
    return this.r.chance(0.45) ? { kind: 'mutation', argv: this.mutation() } : { kind: 'sort', ...this.sort() };
  }
}

const items = (v: RespValue): string[] | null => (v.type === 'array' ? v.value.map(fmtReply) : null);

/** The weight an element has for BY `pattern` in redis-server's data (the string, or null when missing). */
async function weightOf(redis: RawClient, pattern: string, elem: string): Promise<string | null> {
  const star = pattern.indexOf('*');
  const arrow = pattern.indexOf('->', star + 1);
  const hasField = arrow >= 0 && arrow + 2 < pattern.length;
  const key = pattern.slice(0, star) + elem + pattern.slice(star + 1, hasField ? arrow : pattern.length);
  const type = await redis.send('TYPE', key);
  const t = type.type === 'simple' ? type.value : '';
  let v: RespValue;
  if (hasField) {
    if (t !== 'hash') return null;
    v = await redis.send('HGET', key, pattern.slice(arrow + 2));
  } else {
    if (t !== 'string') return null;
    v = await redis.send('GET', key);
  }
  return v.type === 'bulk' ? v.value : null;
}

describe('differential: SORT, cacheside vs redis-server 7.0', () => {
  const servers = useServerPair();

  it(`random SORT commands get the same replies (seed ${SEED})`, async () => {
    const r = new Prng(SEED);
    const gen = new Gen(r);
    const stats = { sorts: 0, errors: 0, stores: 0, nonEmpty: 0, ties: 0, unordered: 0 };
    await runRounds({
      name: 'differential-sort',
      file: 'differential-sort.test.ts',
      seed: SEED,
      rounds: ROUNDS,
      steps: STEPS,
      servers,
      tail: 30,
      setup: [
        ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'],
        ['SET', 'str', 'v'],
        ['HSET', 'h', 'f', '1'],
        ['XADD', 'strm', '1-1', 'f', 'v'],
      ],
      startRound: (round) => {
        gen.allowBad = round % 2 === 1;
      },
      next: () => gen.next(),
      async check(step, { a, b, record, fail }) {
        const both = async (argv: string[]): Promise<[RespValue, RespValue]> => {
          const [x, y] = await Promise.all([a.send(...argv), b.send(...argv)]);
          record(argv, x);
          return [x, y];
        };
        if (step.kind === 'mutation') {
          const { argv } = step;
          const [x, y] = await both(argv);
          if (argv[0] === 'SPOP' && x.type !== 'error') {
            // SPOP picks at random: make cacheside's set redis-server's again.
            await copyKey(a, b, argv[1]!);
            return;
          }
          if (fmtReply(x) !== fmtReply(y)) fail('replies differ', argv, x, y);
          return;
        }
        const { argv, key } = step;
        const sortStep = analyze(argv);
        const by = sortStep.by;
        stats.sorts++;
        const typeReply = await a.send('TYPE', key);
        const type = typeReply.type === 'simple' ? typeReply.value : '';
        const enc = type === 'set' ? await a.send('OBJECT', 'ENCODING', key) : null;
        const hashSet = enc !== null && enc.type === 'bulk' && enc.value === 'hashtable';
        const { dontSort, withGets } = sortStep;
        let mode: Mode = 'exact';
        if (dontSort && hashSet && !sortStep.store) mode = 'unordered';
        else if (sortStep.alpha && by !== null && !dontSort && (sortStep.limit || type === 'set' || type === 'zset')) mode = 'ties';
        const [x, y] = await both(argv);
        if (x.type === 'error' && x.value.includes("can't be converted")) {
          // Redis 7.0 reads errno after strtod without clearing it first, so the
          // ERANGE of a failed SORT sticks and fails later sorts of non-integer
          // elements until something clears errno. INCRBYFLOAT does.
          await Promise.all([a.send('INCRBYFLOAT', 'errno-reset', '0'), b.send('INCRBYFLOAT', 'errno-reset', '0')]);
        }
        if (x.type === 'error') stats.errors++;
        else if (x.type === 'array' && x.value.length > 0) stats.nonEmpty++;
        const fx = fmtReply(x);
        const fy = fmtReply(y);
        if (fx === fy || x.type === 'error' || y.type === 'error') {
          if (fx !== fy) fail('replies differ', argv, x, y);
        } else if (mode === 'exact') {
          fail('replies differ', argv, x, y);
        } else if (mode === 'unordered') {
          stats.unordered++;
          const ix = items(x);
          const iy = items(y);
          if (ix === null || iy === null || ix.length !== iy.length) fail('replies differ in shape', argv, x, y);
          if (!sortStep.limit && [...ix!].sort().join('\n') !== [...iy!].sort().join('\n')) fail('replies differ as multisets', argv, x, y);
        } else {
          stats.ties++;
          if (withGets) {
            // Only the shape can be compared when GET values replace the elements.
            const ix = items(x);
            const iy = items(y);
            if (ix === null || iy === null || ix.length !== iy.length) fail('replies differ in shape', argv, x, y);
          } else if (!sortStep.store) {
            await checkTies(a, by!, sortStep.limit, x, y, () => fail('tied elements differ in weight order', argv, x, y));
          }
        }
        if (sortStep.store && x.type === 'integer') {
          stats.stores++;
          const dst = sortStep.store;
          const [lx, ly] = await both(['LRANGE', dst, '0', '-1']);
          if (fmtReply(lx) !== fmtReply(ly)) {
            if (mode !== 'ties') fail('stored lists differ', ['LRANGE', dst, '0', '-1'], lx, ly);
            if (!withGets) await checkTies(a, by!, sortStep.limit, lx, ly, () => fail('stored tied elements differ', argv, lx, ly));
            await copyKey(a, b, dst);
          }
        }
        if (r.chance(0.05)) {
          const k = r.pick(SORTABLE);
          const [ex, ey] = await both(['OBJECT', 'ENCODING', k]);
          if (fmtReply(ex) !== fmtReply(ey)) fail('encodings differ', ['OBJECT', 'ENCODING', k], ex, ey);
        }
      },
      summary: () => `; ${JSON.stringify(stats)}`,
    });
    expect(stats.nonEmpty).toBeGreaterThan(ROUNDS * 20);
  });
});

/** What a SORT command line asks for, read the way the server parses it. */
function analyze(argv: string[]): { by: string | null; dontSort: boolean; alpha: boolean; limit: boolean; withGets: boolean; store: string | null } {
  const o = { by: null as string | null, dontSort: false, alpha: false, limit: false, withGets: false, store: null as string | null };
  for (let j = 2; j < argv.length; j++) {
    const t = argv[j]!.toUpperCase();
    const left = argv.length - j - 1;
    if (t === 'ALPHA') o.alpha = true;
    else if (t === 'LIMIT' && left >= 2) {
      o.limit = true;
      j += 2;
    } else if (t === 'BY' && left >= 1) {
      o.by = argv[++j]!;
      if (!o.by.includes('*')) o.dontSort = true;
    } else if (t === 'GET' && left >= 1) {
      o.withGets = true;
      j++;
    } else if (t === 'STORE' && left >= 1 && argv[0] === 'SORT') o.store = argv[++j]!;
  }
  return o;
}

/** Replace cacheside's copy of `key` (a list or a set) with redis-server's. */
async function copyKey(redis: RawClient, cs: RawClient, key: string): Promise<void> {
  const t = await redis.send('TYPE', key);
  await cs.send('DEL', key);
  if (t.type !== 'simple' || t.value === 'none') return;
  if (t.value === 'list') {
    const v = await redis.send('LRANGE', key, '0', '-1');
    if (v.type === 'array' && v.value.length > 0) await cs.send('RPUSH', key, ...v.value.map((e) => (e as { value: string }).value));
  } else if (t.value === 'set') {
    const v = await redis.send('SMEMBERS', key);
    const members = v.type === 'array' || v.type === 'set' ? v.value.map((e) => (e as { value: string }).value) : [];
    // Keep the encoding: an intset only stays an intset if every member is added while it qualifies.
    const enc = await redis.send('OBJECT', 'ENCODING', key);
    if (enc.type === 'bulk' && enc.value === 'hashtable' && members.every((m) => /^-?[1-9]\d*$|^0$/.test(m))) {
      await cs.send('SADD', key, 'not-an-int');
      await cs.send('SADD', key, ...members);
      await cs.send('SREM', key, 'not-an-int');
    } else if (members.length > 0) await cs.send('SADD', key, ...members);
  } else throw new Error(`copyKey: unexpected type ${t.value}`);
}

/**
 * Two ALPHA BY replies with ties: the weight of each returned element must
 * be the same position by position, and without LIMIT the same elements
 * must come back overall.
 */
async function checkTies(redis: RawClient, by: string, limit: boolean, x: RespValue, y: RespValue, fail: () => never): Promise<void> {
  const ex = x.type === 'array' ? x.value.map((e) => (e.type === 'bulk' ? e.value : null)) : null;
  const ey = y.type === 'array' ? y.value.map((e) => (e.type === 'bulk' ? e.value : null)) : null;
  if (ex === null || ey === null || ex.length !== ey.length || ex.includes(null) || ey.includes(null)) fail();
  for (let i = 0; i < ex!.length; i++) {
    if (ex![i] === ey![i]) continue;
    if ((await weightOf(redis, by, ex![i]!)) !== (await weightOf(redis, by, ey![i]!))) fail();
  }
  if (!limit && [...ex!].sort().join('\n') !== [...ey!].sort().join('\n')) fail();
}
