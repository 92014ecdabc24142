/**
 * Differential test for sets: random set commands (a few keys, a small member
 * pool mixing integers and strings so that both encodings and the
 * intset → hashtable conversion are exercised, plus a string key for
 * WRONGTYPE and argument errors) go to a real redis-server 7.0 and to the
 * built cacheside, in RESP2 and RESP3 rounds. Every reply is compared:
 *  - exactly (wire types included) for deterministic commands, errors, OBJECT
 *    ENCODING and DEBUG DIGEST-VALUE (an order-independent digest of the
 *    members);
 *  - as multisets for SMEMBERS / SINTER / SUNION / SDIFF (hash order differs);
 *  - by validity for SRANDMEMBER and SPOP (reply type, size, distinctness,
 *    membership). After an SPOP the two servers popped different members:
 *    cacheside gets its own members back and loses redis-server's, so that the
 *    data sets stay identical;
 *  - SSCAN by the union of a full iteration.
 *
 * Needs `npm run build` and redis-server on PATH. Knobs: DIFF_SEED (replay),
 * DIFF_ROUNDS (default 4), DIFF_STEPS (commands per round, default 600), DIFF_TAIL (history shown, default 25).
 */
import { describe, expect, it } from 'vitest';
import { Prng, bulkItems, diffSeed, envInt, fmtReply, runRounds, scanUnion, useServerPair } from './diff-kit.js';
import type { RawClient, RespValue } from './harness.js';

const SEED = diffSeed();
const ROUNDS = envInt('DIFF_ROUNDS', 4);
const STEPS = envInt('DIFF_STEPS', 600);

const KEYS = ['s0', 's1', 's2', 's3', 'str', 'missing'];
const SET_KEYS = ['s0', 's1', 's2', 's3'];
const MEMBERS = [
  ...Array.from({ length: 12 }, (_, i) => String(i)),
  '-1', '-7', '100', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0',
  'a', 'b', 'c', 'foo', 'bar', '', 'x y', '\x00\xff',
];

type Mode = 'exact' | 'sorted' | 'srandmember' | 'spop' | 'sscan';
interface Step {
  argv: string[];
  mode: Mode;
}

class Gen {
  constructor(private readonly r: Prng) {}
  key(): string {
    return this.r.chance(0.85) ? this.r.pick(SET_KEYS) : this.r.pick(KEYS);
  }
  member(): string {
    return this.r.pick(MEMBERS);
  }
  members(min: number, max: number): string[] {
    return Array.from({ length: this.r.int(min, max) }, () => this.member());
  }
  keys(min: number, max: number): string[] {
    return Array.from({ length: this.r.int(min, max) }, () => this.key());
  }
  count(): string {
    const r = this.r;
    return r.pick(['0', '1', '2', '3', '5', '10', '40', '-1', '-3', '-20', 'x', '1.5', '', '9223372036854775807', '-9223372036854775808']);
  }

  next(): Step {
    const r = this.r;
    const n = r.int(0, 100);
    const exact = (...argv: string[]): Step => ({ argv, mode: 'exact' });
    if (n < 22) return exact('SADD', this.key(), ...this.members(1, 6));
    if (n < 30) return exact('SREM', this.key(), ...this.members(1, 4));
    if (n < 33) return exact('SCARD', this.key());
    if (n < 36) return exact('SISMEMBER', this.key(), this.member());
    if (n < 39) return exact('SMISMEMBER', this.key(), ...this.members(1, 4));
    if (n < 43) return { argv: ['SMEMBERS', this.key()], mode: 'sorted' };
    if (n < 48) {
      const argv = ['SRANDMEMBER', this.key()];
      if (r.chance(0.75)) argv.push(this.count());
      if (r.chance(0.03)) argv.push('1');
      return { argv, mode: 'srandmember' };
    }
    if (n < 53) {
      const argv = ['SPOP', this.key()];
      if (r.chance(0.6)) argv.push(r.chance(0.8) ? String(r.int(0, 6)) : this.count());
      if (r.chance(0.03)) argv.push('1');
      return { argv, mode: 'spop' };
    }
    if (n < 58) return exact('SMOVE', this.key(), this.key(), this.member());
    if (n < 64) return { argv: [r.pick(['SINTER', 'SUNION', 'SDIFF']), ...this.keys(1, 4)], mode: 'sorted' };
    if (n < 71) return exact(r.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), this.key(), ...this.keys(1, 4));
    if (n < 75) {
      const ks = this.keys(1, 3);
      const numkeys = r.chance(0.9) ? String(ks.length) : r.pick(['0', '-1', 'x', String(ks.length + 1), '9223372036854775808']);
      const argv = ['SINTERCARD', numkeys, ...ks];
      if (r.chance(0.4)) argv.push(r.pick(['LIMIT', 'limit']), r.pick(['0', '1', '2', '5', '-1', 'x']));
      if (r.chance(0.05)) argv.push(r.pick(['LIMIT', 'foo']));
      return exact(...argv);
    }
    if (n < 80) {
      const argv: string[] = [];
      if (r.chance(0.4)) argv.push('MATCH', r.pick(['*', '1*', '?', '[ab]*', 'f*', '*0']));
      if (r.chance(0.4)) argv.push('COUNT', r.pick(['1', '2', '5', '100', '0', 'x']));
      if (r.chance(0.05)) argv.push(r.pick(['TYPE', 'MATCH', 'foo']));
      return { argv: ['SSCAN', this.key(), '0', ...argv], mode: 'sscan' };
    }
    if (n < 85) return exact('OBJECT', 'ENCODING', this.key());
    if (n < 89) return exact('DEBUG', 'DIGEST-VALUE', ...SET_KEYS);
    if (n < 91) return exact('CONFIG', 'SET', 'set-max-intset-entries', r.pick(['0', '3', '5', '512']));
    if (n < 93) return exact('SET', 'str', 'v');
    if (n < 95) return exact('DEL', this.key());
    if (n < 96) return exact('EXPIRE', this.key(), '100');
    if (n < 97) return exact('COPY', this.key(), this.key(), 'REPLACE');
    // Arity errors.
    return exact(r.pick(['SADD', 'SREM', 'SISMEMBER', 'SMOVE', 'SCARD', 'SINTERCARD', 'SSCAN', 'SINTERSTORE']), ...(r.chance(0.5) ? [] : [this.key()]));
  }
}

describe('differential: sets, cacheside vs redis-server 7.0', () => {
  const servers = useServerPair();

  it(`random set commands get the same replies (seed ${SEED})`, async () => {
    const gen = new Gen(new Prng(SEED));
    const counts = await runRounds({
      name: 'differential-set',
      file: 'differential-set.test.ts',
      seed: SEED,
      rounds: ROUNDS,
      steps: STEPS,
      servers,
      setup: [['CONFIG', 'SET', 'set-max-intset-entries', '512']],
      next: () => gen.next(),
      async check({ argv, mode }, { a, b, record, fail }) {
        // The current members (from redis-server: both hold the same data) for validity checks.
        let before: string[] | null = null;
        if (mode === 'srandmember' || mode === 'spop') {
          const m = await a.send('SMEMBERS', argv[1]!);
          before = bulkItems(m) ?? [];
        }
        if (mode === 'sscan') {
          const [x, y] = await Promise.all([fullScan(a, argv), fullScan(b, argv)]);
          record(argv, x, ' (full iteration)');
          if (fmtReply(x) !== fmtReply(y)) fail('SSCAN iterations differ', argv, x, y);
          return;
        }
        const [x, y] = await Promise.all([a.send(...argv), b.send(...argv)]);
        record(argv, x);
        const fx = fmtReply(x);
        const fy = fmtReply(y);
        if (mode === 'exact') {
          if (fx !== fy) fail('replies differ', argv, x, y);
        } else if (mode === 'sorted') {
          const ix = bulkItems(x);
          const iy = bulkItems(y);
          if (x.type !== y.type || (ix === null) !== (iy === null)) fail('reply types differ', argv, x, y);
          if (ix === null ? fx !== fy : [...ix].sort().join('\n') !== [...iy!].sort().join('\n')) fail('replies differ (as multisets)', argv, x, y);
        } else {
          const why = checkRandom(mode, argv, before!, x, y);
          if (why !== null) fail(why, argv, x, y);
          if (mode === 'spop') await resyncPop(a, b, argv, before!.length, x, y);
        }
      },
    });
    expect(counts.size).toBeGreaterThan(10);
  });
});

/** A full SSCAN iteration: the first error, or the sorted union of what came back. */
function fullScan(c: RawClient, argv: string[]): Promise<RespValue> {
  return scanUnion(c, argv, (items) => items.value.flatMap((m) => (m.type === 'bulk' ? [m.value] : [])));
}

/** Validity of SRANDMEMBER / SPOP replies; null when both are acceptable and agree in shape. */
function checkRandom(mode: Mode, argv: string[], before: string[], x: RespValue, y: RespValue): string | null {
  if (x.type !== y.type) return 'reply types differ';
  if (x.type === 'error' || x.type === 'null' || x.type === 'null-bulk' || x.type === 'integer') {
    return fmtReply(x) === fmtReply(y) ? null : 'replies differ';
  }
  const members = new Set(before);
  if (x.type === 'bulk' && y.type === 'bulk') return members.has(y.value) ? null : 'cacheside returned a non-member';
  const ix = bulkItems(x);
  const iy = bulkItems(y);
  if (ix === null || iy === null) return 'unexpected reply shape';
  if (ix.length !== iy.length) return 'different number of members';
  if (!iy.every((m) => members.has(m))) return 'cacheside returned a non-member';
  const count = Number(argv[2]);
  const distinct = mode === 'spop' || count > 0;
  if (distinct && new Set(iy).size !== iy.length) return 'cacheside repeated a member';
  if (distinct && ix.length === before.length && [...ix].sort().join('\n') !== [...iy].sort().join('\n')) return 'whole-set replies differ';
  return null;
}

/**
 * After SPOP on both: cacheside gets back what it popped and loses what
 * redis-server popped, with set-max-intset-entries lifted meanwhile, so that
 * the encoding stays what the pop left (the members put back were in the set
 * already, so only the size could have converted it). When the pop left few
 * members, both servers rebuilt the set from the remaining members (encoding
 * decided afresh): cacheside's copy is then rebuilt from redis-server's
 * members the same way, TTL included.
 */
async function resyncPop(redis: RawClient, cs: RawClient, argv: string[], sizeBefore: number, x: RespValue, y: RespValue): Promise<void> {
  const key = argv[1]!;
  const px = x.type === 'bulk' ? [x.value] : (bulkItems(x) ?? []);
  const py = y.type === 'bulk' ? [y.value] : (bulkItems(y) ?? []);
  const toRemove = px.filter((m) => !py.includes(m));
  const toAdd = py.filter((m) => !px.includes(m));
  if (toRemove.length === 0) return;
  const count = argv.length === 3 ? Number(argv[2]) : 0;
  if (count > 0 && (sizeBefore - count) * 5 <= count) {
    const members = bulkItems(await redis.send('SMEMBERS', key)) ?? [];
    const at = await redis.send('PEXPIRETIME', key);
    await cs.send('DEL', key);
    await cs.send('SADD', key, ...members);
    if (at.type === 'integer' && at.value > 0n) await cs.send('PEXPIREAT', key, at.value.toString());
    return;
  }
  const max = await cs.send('CONFIG', 'GET', 'set-max-intset-entries');
  const old = max.type === 'array' ? max.value[1] : max.type === 'map' ? max.value[0]![1] : undefined;
  if (old?.type !== 'bulk') throw new Error(`CONFIG GET set-max-intset-entries: ${fmtReply(max)}`);
  await cs.send('CONFIG', 'SET', 'set-max-intset-entries', '1000000');
  // Add first: removing first could empty the set, and a new set would start as an intset.
  await cs.send('SADD', key, ...toAdd);
  await cs.send('SREM', key, ...toRemove);
  await cs.send('CONFIG', 'SET', 'set-max-intset-entries', old.value);
}
