/**
 * Differential test for HyperLogLog: random PFADD / PFCOUNT / PFMERGE /
 * PFDEBUG commands go to a real redis-server 7.0 and to the built cacheside,
 * in RESP2 and RESP3 rounds, and every reply is compared exactly (wire types
 * included). The raw bytes are compared too: GET of the keys after writes
 * must be byte-identical (sparse code, dense registers, cached cardinality
 * and its invalid flag).
 *
 * Besides HLLs built by PFADD (small element batches keep them sparse, big
 * ones make them dense, hll-sparse-max-bytes changes move the promotion
 * point), the keys receive hand-made values through SET: valid sparse codes
 * with non-canonical opcode runs, corrupt ones (too few or too many
 * registers, a truncated XZERO), dense values with arbitrary registers (up
 * to 63), stale or bogus cached cardinalities, wrong magic/encoding/length,
 * plus SETRANGE/APPEND damage to existing HLLs: PFADD/PFCOUNT/PFMERGE must
 * answer the same (estimates, INVALIDOBJ, WRONGTYPE) and leave the same bytes.
 *
 * Needs `npm run build` and redis-server on PATH. Knobs: DIFF_SEED (replay),
 * DIFF_ROUNDS (default 4), DIFF_STEPS (commands per round, default 500), DIFF_TAIL (history shown, default 25).
 */
import { describe, expect, it } from 'vitest';
import { Prng, diffSeed, envInt, jsonArgv, runRounds, useServerPair } from './diff-kit.js';

const SEED = diffSeed();
const ROUNDS = envInt('DIFF_ROUNDS', 4);
const STEPS = envInt('DIFF_STEPS', 500);

const HLL_KEYS = ['h0', 'h1', 'h2', 'h3'];
const KEYS = [...HLL_KEYS, 'str', 'lst', 'missing'];
const REGISTERS = 16384;
const SMALL_ELEMENTS = ['', 'a', 'b', 'c', 'foo', 'bar', '0', '1', '-1', '12345678', '123456789', 'x y', '\x00', '\xff\xfe\x00\x01'];

/** Bytes as a latin1 string. */
const latin1 = (b: number[]): string => String.fromCharCode(...b);

/** A 16-byte header: magic, encoding byte, 3 unused bytes, 8 cardinality bytes. */
function header(r: Prng, encoding: number): number[] {
  const h = [0x48, 0x59, 0x4c, 0x4c, encoding, 0, 0, 0];
  if (r.chance(0.1)) h[5] = r.int(0, 255); // unused bytes are kept as they are
  const card = r.chance(0.5)
    ? [r.int(0, 255), r.int(0, 255), r.int(0, 3), 0, 0, 0, 0, r.chance(0.5) ? 0x80 : 0]
    : Array.from({ length: 8 }, () => r.int(0, 255));
  return [...h, ...card];
}

/** A sparse code covering all registers with random runs (some mergeable), optionally damaged. */
function sparseValue(r: Prng): string {
  const ops: number[] = [];
  let left = REGISTERS;
  const maxVal = r.pick([3, 12, 32]);
  const zeroBias = r.pick([0.5, 0.8, 0.95]);
  while (left > 0) {
    if (r.chance(zeroBias)) {
      if (r.chance(0.6)) {
        const len = r.int(1, Math.min(64, left));
        ops.push(len - 1);
        left -= len;
      } else {
        const len = r.int(1, Math.min(r.chance(0.5) ? 300 : REGISTERS, left));
        ops.push(0x40 | ((len - 1) >> 8), (len - 1) & 0xff);
        left -= len;
      }
    } else {
      const len = r.int(1, Math.min(4, left));
      ops.push(0x80 | ((r.int(1, maxVal) - 1) << 2) | (len - 1));
      left -= len;
    }
  }
  const damage = r.int(0, 9);
  if (damage === 0) ops.pop(); // too few registers (or a truncated XZERO)
  else if (damage === 1) ops.push(0x80 | (r.int(0, 31) << 2)); // one register too many
  else if (damage === 2) ops.push(0x40); // a truncated XZERO: its length byte reads as 0
  return latin1([...header(r, 1), ...ops]);
}

/** A dense value with random registers (mostly small, some up to 63). */
function denseValue(r: Prng): string {
  const bits = new Uint8Array(12288);
  const max = r.pick([0, 3, 8, 20, 63]);
  const all63 = r.chance(0.05);
  for (let i = 0; i < REGISTERS; i++) {
    const v = all63 ? 63 : r.chance(0.3) ? 0 : r.int(0, max);
    const pos = i * 6;
    const at = pos >> 3;
    const shift = pos & 7;
    bits[at]! |= (v << shift) & 0xff;
    if (shift > 2) bits[at + 1]! |= v >> (8 - shift);
  }
  const body = latin1([...header(r, 0)]) + Buffer.from(bits).toString('latin1');
  const bad = r.int(0, 19);
  if (bad === 0) return body.slice(0, -1); // wrong length
  if (bad === 1) return body + 'x';
  return body;
}

type Step = string[];

class Gen {
  private counter = 0;
  constructor(private readonly r: Prng) {}
  key(): string {
    return this.r.chance(0.9) ? this.r.pick(HLL_KEYS) : this.r.pick(KEYS);
  }
  keys(min: number, max: number): string[] {
    return Array.from({ length: this.r.int(min, max) }, () => this.key());
  }
  element(): string {
    const r = this.r;
    if (r.chance(0.3)) return r.pick(SMALL_ELEMENTS);
    const len = r.int(0, 24);
    if (r.chance(0.2)) return Array.from({ length: len }, () => String.fromCharCode(r.int(0, 255))).join('');
    return `e:${r.int(0, 5000)}`.padEnd(len, '#');
  }
  /** Elements: a few from small pools, or a big batch of fresh ones. */
  elements(): string[] {
    const r = this.r;
    if (r.chance(0.12)) {
      const n = r.pick([50, 200, 600, 1500]);
      const base = this.counter;
      this.counter += n;
      return Array.from({ length: n }, (_, i) => `bulk:${base + i}`);
    }
    return Array.from({ length: r.int(0, 6) }, () => this.element());
  }

  next(): Step {
    const r = this.r;
    const n = r.int(0, 100);
    if (n < 30) return ['PFADD', this.key(), ...this.elements()];
    if (n < 40) return ['PFCOUNT', this.key()];
    if (n < 46) return ['PFCOUNT', ...this.keys(2, 4)];
    if (n < 52) return ['PFMERGE', this.key(), ...this.keys(0, 3)];
    if (n < 60) return ['GET', this.key()];
    if (n < 64) return ['PFDEBUG', r.pick(['ENCODING', 'encoding', 'DECODE', 'decode']), this.key()];
    if (n < 66) return ['PFDEBUG', r.pick(['TODENSE', 'GETREG', 'nope']), this.key()];
    if (n < 68) return ['OBJECT', 'ENCODING', this.key()];
    if (n < 71) return ['SET', r.pick(HLL_KEYS), sparseValue(r)];
    if (n < 73) return ['SET', r.pick(HLL_KEYS), denseValue(r)];
    if (n < 74) {
      const bad = r.pick(['', 'HYLL', 'HYLL\x02' + '\x00'.repeat(11) + '\x7f\xff', 'hyll' + '\x01' + '\x00'.repeat(11) + '\x7f\xff', '12345', 'hello world']);
      return ['SET', r.pick(HLL_KEYS), bad];
    }
    if (n < 76) {
      // Damage or patch an existing value: a register byte, the card, the encoding byte.
      const off = r.pick([4, 8, 15, 16, 17, 18, r.int(16, 3000)]);
      return ['SETRANGE', r.pick(HLL_KEYS), String(off), String.fromCharCode(r.int(0, 255))];
    }
    if (n < 77) return ['APPEND', r.pick(HLL_KEYS), String.fromCharCode(r.int(0, 255))];
    if (n < 80) return ['CONFIG', 'SET', 'hll-sparse-max-bytes', r.pick(['0', '20', '40', '100', '300', '1000', '3000', '10000'])];
    if (n < 83) return ['DEL', this.key()];
    if (n < 85) return ['COPY', this.key(), this.key(), 'REPLACE'];
    if (n < 88) return ['DEBUG', 'DIGEST-VALUE', ...HLL_KEYS];
    if (n < 89) return ['SET', 'str', 'v'];
    if (n < 90) return ['RPUSH', 'lst', 'x'];
    if (n < 93) return ['STRLEN', this.key()];
    // Arity errors (PFSELFTEST itself takes seconds on redis-server, and fails there at random when
    // hll-sparse-max-bytes is low: it is tested in the integration tests).
    if (r.chance(0.2)) return ['PFSELFTEST', ...this.keys(1, 2)];
    return [r.pick(['PFADD', 'PFCOUNT', 'PFMERGE', 'PFDEBUG']), ...(r.chance(0.5) ? [] : [this.key(), 'x', 'y'])];
  }
}

describe('differential: HyperLogLog, cacheside vs redis-server 7.0', () => {
  const servers = useServerPair();

  it(`random HLL commands get the same replies and leave the same bytes (seed ${SEED})`, async () => {
    const gen = new Gen(new Prng(SEED));
    const errors = new Set<string>();
    const counts = await runRounds({
      name: 'differential-hll',
      file: 'differential-hll.test.ts',
      seed: SEED,
      rounds: ROUNDS,
      steps: STEPS,
      servers,
      timeoutMs: 20_000,
      setup: [['CONFIG', 'SET', 'hll-sparse-max-bytes', '3000']],
      style: 'hex',
      fmtArgv: (argv) => jsonArgv(argv, true),
      historyClip: 200,
      reportClip: 600,
      next: () => ({ argv: gen.next() }),
      async check({ argv }, { same }) {
        const name = argv[0]!.toLowerCase();
        const x = await same(argv, 'replies differ');
        if (x.type === 'error') errors.add(x.value.split(' ')[0]!);
        // After a write to an HLL key, its bytes must be identical.
        if (['pfadd', 'pfcount', 'pfmerge', 'pfdebug'].includes(name) && x.type !== 'error') {
          const key = name === 'pfdebug' ? argv[2]! : argv[1]!;
          await same(['GET', key], `bytes differ after ${argv[0]}`);
        }
      },
      summary: () => `; error kinds seen: ${[...errors].join(' ')}`,
    });
    expect(counts.get('pfadd')).toBeGreaterThan(0);
    expect(errors.has('WRONGTYPE')).toBe(true);
  });
});
