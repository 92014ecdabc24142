/**
 * Differential test for hashes: random hash commands (a few keys, a small
 * field pool, values mixing integers, floats and strings, a long field and a
 * long value that force the listpack → hashtable conversion, CONFIG SET of
 * the listpack thresholds, plus a string key for WRONGTYPE and argument
 * errors) go to a real redis-server 7.0 and to the built cacheside, in RESP2
 * and RESP3 rounds. Every reply is compared:
 *  - exactly (wire types included) for deterministic commands, errors,
 *    HINCRBYFLOAT results (x87 long double arithmetic), OBJECT ENCODING and
 *    DEBUG DIGEST-VALUE;
 *  - as multisets for HKEYS / HVALS, as sets of pairs for HGETALL when the
 *    hash is a hashtable (whose order is unspecified), exactly when it is a
 *    listpack (insertion order);
 *  - by validity for HRANDFIELD (reply shape, size, membership, values,
 *    distinctness for positive counts, the whole hash when the count covers it);
 *  - HSCAN by the union of the pairs of a full iteration.
 * The data sets are compared with DEBUG DIGEST at the end of every round.
 *
 * The field TTL commands of Redis 7.4 (HEXPIRE ...) are not generated: the
 * reference server does not have them. Neither is HSCAN NOVALUES (7.4).
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

const HASH_KEYS = ['h0', 'h1', 'h2', 'h3'];
const KEYS = [...HASH_KEYS, 'str', 'missing'];
const LONG_FIELD = 'F'.repeat(70);
const LONG_VALUE = 'v'.repeat(80);
const FIELDS = [
  ...Array.from({ length: 10 }, (_, i) => 'f' + i),
  '0', '1', '-1', '', 'x y', '\x00\xff', 'é', LONG_FIELD,
];
const VALUES = [
  '0', '1', '-1', '7', '42', '100', '-250', '9223372036854775807', '-9223372036854775808', '9223372036854775806',
  '007', '-0', ' 1', '1.5', '-2.25', '1e3', '3.0', '0.1', '1e308', '1.2e-5', 'inf', 'nan',
  'a', 'hello', '', 'x y', '\x00\xff', LONG_VALUE,
];
const INCRS = ['1', '-1', '5', '0', '100', '-3', '9223372036854775807', '-9223372036854775808', 'x', '1.5', '', '007', '+1'];
const FLOAT_INCRS = [
  '1', '-1', '0.5', '1.1', '-0.1', '3.14159', '1e3', '1e-3', '1e308', '-1e308', '1e4931', '1.5e70', '0x10', '0',
  '-0', 'inf', '-inf', 'nan', 'x', '', '1e', ' 1', '10.000000000000000001', '9223372036854775807',
];

type Mode = 'exact' | 'multiset' | 'pairs' | 'hrandfield' | 'hscan';
interface Step {
  argv: string[];
  mode: Mode;
}

class Gen {
  constructor(private readonly r: Prng) {}
  key(): string {
    return this.r.chance(0.88) ? this.r.pick(HASH_KEYS) : this.r.pick(KEYS);
  }
  field(): string {
    return this.r.chance(0.97) ? this.r.pick(FIELDS.slice(0, -1)) : LONG_FIELD;
  }
  value(): string {
    return this.r.chance(0.97) ? this.r.pick(VALUES.slice(0, -1)) : LONG_VALUE;
  }
  fields(min: number, max: number): string[] {
    return Array.from({ length: this.r.int(min, max) }, () => this.field());
  }
  pairs(min: number, max: number): string[] {
    const out: string[] = [];
    for (let i = this.r.int(min, max); i > 0; i--) out.push(this.field(), this.value());
    if (this.r.chance(0.03)) out.push(this.field()); // odd: arity error
    return out;
  }
  randCount(): string {
    return this.r.pick([
      '0', '1', '2', '3', '5', '10', '40', '-1', '-3', '-20', 'x', '1.5', '', '9223372036854775807',
      '-9223372036854775808', '4611686018427387904', '-4611686018427387904', '4611686018427387903',
    ]);
  }

  next(): Step {
    const r = this.r;
    const n = r.int(0, 100);
    const exact = (...argv: string[]): Step => ({ argv, mode: 'exact' });
    if (n < 18) return exact(r.pick(['HSET', 'HSET', 'HMSET']), this.key(), ...this.pairs(1, 4));
    if (n < 22) return exact('HSETNX', this.key(), this.field(), this.value());
    if (n < 27) return exact('HGET', this.key(), this.field());
    if (n < 30) return exact('HMGET', this.key(), ...this.fields(1, 4));
    if (n < 37) return exact('HDEL', this.key(), ...this.fields(1, 4));
    if (n < 40) return exact('HEXISTS', this.key(), this.field());
    if (n < 42) return exact('HLEN', this.key());
    if (n < 44) return exact('HSTRLEN', this.key(), this.field());
    if (n < 46) return { argv: [r.pick(['HKEYS', 'HVALS']), this.key()], mode: 'multiset' };
    if (n < 48) return { argv: ['HGETALL', this.key()], mode: 'pairs' };
    if (n < 55) return exact('HINCRBY', this.key(), this.field(), r.pick(INCRS));
    if (n < 62) return exact('HINCRBYFLOAT', this.key(), this.field(), r.pick(FLOAT_INCRS));
    if (n < 68) {
      const argv = ['HRANDFIELD', this.key()];
      if (r.chance(0.8)) {
        argv.push(this.randCount());
        if (r.chance(0.5)) argv.push(r.pick(['WITHVALUES', 'withvalues', 'WITHVALUES', 'VALUES']));
        if (r.chance(0.03)) argv.push('x');
        // Without WITHVALUES (whose range check rejects it) this would ask for 2^62 replies.
        if (argv.length === 3 && argv[2] === '-4611686018427387904') argv[2] = '-2';
      }
      return { argv, mode: 'hrandfield' };
    }
    if (n < 74) {
      const opts: string[] = [];
      if (r.chance(0.4)) opts.push('MATCH', r.pick(['*', 'f*', '?', '[ab]*', 'f[0-4]', '*1', '\x00*']));
      if (r.chance(0.4)) opts.push('COUNT', r.pick(['1', '2', '5', '100', '0', 'x', '-1']));
      if (r.chance(0.05)) opts.push(r.pick(['TYPE', 'MATCH', 'foo', 'COUNT']));
      return { argv: ['HSCAN', this.key(), r.chance(0.95) ? '0' : r.pick(['x', '1.5', '18446744073709551616', '-']), ...opts], mode: 'hscan' };
    }
    if (n < 79) return exact('OBJECT', 'ENCODING', this.key());
    if (n < 83) return exact('DEBUG', 'DIGEST-VALUE', ...HASH_KEYS);
    if (n < 85) {
      return r.chance(0.5)
        ? exact('CONFIG', 'SET', 'hash-max-listpack-entries', r.pick(['0', '1', '3', '5', '512']))
        : exact('CONFIG', 'SET', 'hash-max-listpack-value', r.pick(['0', '1', '3', '8', '64']));
    }
    if (n < 87) return exact('SET', 'str', 'v');
    if (n < 89) return exact('DEL', this.key());
    if (n < 90) return exact('COPY', this.key(), this.key(), 'REPLACE');
    if (n < 91) return exact('RENAME', this.key(), this.key());
    if (n < 92) return exact('TYPE', this.key());
    if (n < 93) return exact('EXISTS', this.key());
    // Arity errors.
    if (r.chance(0.5)) return exact(r.pick(['HLEN', 'HKEYS', 'HVALS', 'HGETALL', 'HRANDFIELD', 'HSET', 'HSCAN']));
    const cmd = r.pick(['HSET', 'HMSET', 'HSETNX', 'HGET', 'HMGET', 'HDEL', 'HEXISTS', 'HSTRLEN', 'HINCRBY', 'HINCRBYFLOAT', 'HSCAN']);
    return exact(cmd, this.key());
  }
}

const str = (v: RespValue | undefined): string | null => (v !== undefined && v.type === 'bulk' ? v.value : null);

/** HGETALL as [field, value] pairs, from a RESP2 flat array or a RESP3 map; null if neither. */
function pairsOf(v: RespValue): [string, string][] | null {
  if (v.type === 'map') {
    const out: [string, string][] = [];
    for (const [k, x] of v.value) {
      if (str(k) === null || str(x) === null) return null;
      out.push([str(k)!, str(x)!]);
    }
    return out;
  }
  const items = bulkItems(v);
  if (items === null || items.length % 2 !== 0) return null;
  const out: [string, string][] = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
  return out;
}

const pairKey = ([f, v]: [string, string]): string => JSON.stringify([f, v]);

describe('differential: hashes, cacheside vs redis-server 7.0', () => {
  const servers = useServerPair();

  it(`random hash commands get the same replies (seed ${SEED})`, async () => {
    const gen = new Gen(new Prng(SEED));
    const counts = await runRounds({
      name: 'differential-hash',
      file: 'differential-hash.test.ts',
      seed: SEED,
      rounds: ROUNDS,
      steps: STEPS,
      servers,
      setup: [
        ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'],
        ['CONFIG', 'SET', 'hash-max-listpack-value', '64'],
      ],
      next: () => gen.next(),
      async check({ argv, mode }, { a, b, resp, record, fail }) {
        if (mode === 'hscan') {
          const [x, y] = await Promise.all([fullScan(a, argv), fullScan(b, argv)]);
          record(argv, x, ' (full iteration)');
          if (fmtReply(x) !== fmtReply(y)) fail('HSCAN iterations differ', argv, x, y);
          return;
        }
        // The hash's content (both servers hold the same data) for validity checks.
        let before: [string, string][] | null = null;
        if (mode === 'hrandfield') {
          const all = await a.send('HGETALL', argv[1]!);
          before = pairsOf(all) ?? [];
        }
        // A listpack keeps insertion order: then the order must match too.
        let ordered = false;
        if (mode === 'multiset' || mode === 'pairs') {
          const enc = await a.send('OBJECT', 'ENCODING', argv[1]!);
          ordered = enc.type === 'bulk' && enc.value === 'listpack';
        }
        const [x, y] = await Promise.all([a.send(...argv), b.send(...argv)]);
        record(argv, x);
        const fx = fmtReply(x);
        const fy = fmtReply(y);
        if (mode === 'exact' || ordered) {
          if (fx !== fy) fail(ordered ? 'replies differ (listpack order)' : 'replies differ', argv, x, y);
        } else if (mode === 'multiset') {
          const ix = bulkItems(x);
          const iy = bulkItems(y);
          if (x.type !== y.type || (ix === null) !== (iy === null)) fail('reply types differ', argv, x, y);
          if (ix === null ? fx !== fy : [...ix].sort().join('\n') !== [...iy!].sort().join('\n')) fail('replies differ (as multisets)', argv, x, y);
        } else if (mode === 'pairs') {
          const px = pairsOf(x);
          const py = pairsOf(y);
          if (x.type !== y.type || (px === null) !== (py === null)) fail('reply types differ', argv, x, y);
          if (px === null ? fx !== fy : px.map(pairKey).sort().join('\n') !== py!.map(pairKey).sort().join('\n')) {
            fail('replies differ (as sets of pairs)', argv, x, y);
          }
        } else {
          const why = checkRandField(argv, before!, x, y, resp === '3');
          if (why !== null) fail(why, argv, x, y);
        }
      },
    });
    expect(counts.size).toBeGreaterThan(15);
  });
});

/** A full HSCAN iteration: the first error, or the sorted union of the (field, value) pairs. */
function fullScan(c: RawClient, argv: string[]): Promise<RespValue> {
  return scanUnion(c, argv, (items) => {
    const flat = bulkItems(items);
    if (flat === null || flat.length % 2 !== 0) return null;
    const pairs: string[] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push(pairKey([flat[i]!, flat[i + 1]!]));
    return pairs;
  });
}

/** HRANDFIELD replies as [field, value|null] entries; null if the shape is not one HRANDFIELD gives. */
function randEntries(v: RespValue, withValues: boolean, resp3: boolean): [string, string | null][] | null {
  if (v.type !== 'array') return null;
  const out: [string, string | null][] = [];
  if (!withValues) {
    for (const x of v.value) {
      if (x.type !== 'bulk') return null;
      out.push([x.value, null]);
    }
    return out;
  }
  if (resp3) {
    for (const x of v.value) {
      if (x.type !== 'array' || x.value.length !== 2 || str(x.value[0]) === null || str(x.value[1]) === null) return null;
      out.push([str(x.value[0])!, str(x.value[1])!]);
    }
    return out;
  }
  const flat = bulkItems(v);
  if (flat === null || flat.length % 2 !== 0) return null;
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Validity of HRANDFIELD replies; null when both are acceptable and agree in shape. */
function checkRandField(argv: string[], before: [string, string][], x: RespValue, y: RespValue, resp3: boolean): string | null {
  if (x.type !== y.type) return 'reply types differ';
  if (x.type === 'error' || x.type === 'null' || x.type === 'null-bulk') return fmtReply(x) === fmtReply(y) ? null : 'replies differ';
  const content = new Map(before);
  if (x.type === 'bulk' && y.type === 'bulk') return content.has(y.value) ? null : 'cacheside returned a non-field';
  const withValues = argv.length === 4;
  const ex = randEntries(x, withValues, resp3);
  const ey = randEntries(y, withValues, resp3);
  if (ex === null) return 'unexpected redis-server reply shape';
  if (ey === null) return 'unexpected cacheside reply shape';
  if (ex.length !== ey.length) return 'different number of fields';
  for (const [f, v] of ey) {
    if (!content.has(f)) return 'cacheside returned a non-field';
    if (v !== null && content.get(f) !== v) return 'cacheside returned a wrong value';
  }
  const count = Number(argv[2]);
  if (count > 0 && new Set(ey.map(([f]) => f)).size !== ey.length) return 'cacheside repeated a field';
  if (count > 0 && ex.length === before.length) {
    const k = (e: [string, string | null][]) => e.map((p) => JSON.stringify(p)).sort().join('\n');
    if (k(ex) !== k(ey)) return 'whole-hash replies differ';
  }
  return null;
}
