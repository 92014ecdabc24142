/**
 * The HyperLogLog byte-level code (src/hll/hll.ts) against simple models:
 * the hash against a BigInt MurmurHash64A and against register positions
 * observed on redis-server 7.0.15, dense registers against a byte array, the
 * sparse code against a plain array of 16384 registers (same changes, same
 * registers, always a valid code within hll-sparse-max-bytes), merging
 * against an element-wise max, corruption detection, and the estimator's
 * accuracy against the true count.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MutableString } from '../../src/keyspace/values.js';
import {
  CHANGED,
  CORRUPT,
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_REGISTERS,
  HLL_SPARSE,
  UNCHANGED,
  cacheValid,
  cachedCard,
  decodeSparse,
  denseGet,
  denseWrite,
  elementHash,
  emptySparseBytes,
  encodingOfHll,
  hllAdd,
  hllCount,
  hllSet,
  invalidateCache,
  isHll,
  mergeInto,
  registerOf,
  registersCount,
  sparseToDense,
  storeCard,
} from '../../src/hll/hll.js';
import { selfTest } from '../../src/hll/hll-selftest.js';

const M = 0xc6a4a7935bd1e995n;
const MASK = (1n << 64n) - 1n;

/** MurmurHash64A written directly from its definition, on BigInts. */
function murmurRef(s: string, seed: bigint): bigint {
  const bytes = Buffer.from(s, 'latin1');
  let h = (seed ^ (BigInt(bytes.length) * M)) & MASK;
  const blocks = bytes.length - (bytes.length % 8);
  for (let i = 0; i < blocks; i += 8) {
    let k = bytes.readBigUInt64LE(i);
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  const rest = bytes.length % 8;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) h ^= BigInt(bytes[blocks + j]!) << BigInt(8 * j);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

/** Register index and value from a 64-bit hash, by the definition. */
function registerRef(hash: bigint): [number, number] {
  const index = Number(hash & 16383n);
  let rest = (hash >> 14n) | (1n << 50n);
  let count = 1;
  while ((rest & 1n) === 0n) {
    count++;
    rest >>= 1n;
  }
  return [index, count];
}

const newSparse = (): MutableString => new MutableString(emptySparseBytes());
const newDense = (): MutableString => {
  const m = newSparse();
  sparseToDense(m);
  return m;
};
const registersOf = (m: MutableString): number[] => {
  const copy = new MutableString(m.bytes());
  expect(sparseToDense(copy)).toBe(true);
  return Array.from({ length: HLL_REGISTERS }, (_, i) => denseGet(copy.buf, i));
};
const header = (enc: number): number[] => [0x48, 0x59, 0x4c, 0x4c, enc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];
const sparseOf = (ops: number[]): MutableString => new MutableString(Buffer.from([...header(HLL_SPARSE), ...ops]));

describe('element hash and register choice', () => {
  it('matches a BigInt MurmurHash64A with seed 0xadc83b19', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 }), (s) => {
        expect(elementHash(s)).toBe(murmurRef(s, 0xadc83b19n));
        const [index, count] = registerRef(murmurRef(s, 0xadc83b19n));
        expect(registerOf(s)).toBe(index * 64 + count);
      }),
      { numRuns: 2000 },
    );
  });

  it('picks the registers redis-server picks', () => {
    // [element, register index, register value] as PFDEBUG DECODE shows them on redis-server 7.0.15.
    const seen: [string, number, number][] = [
      ['', 5938, 2], ['a', 12711, 2], ['ab', 719, 1], ['abc', 9474, 1], ['abcd', 11070, 8], ['abcde', 3726, 4],
      ['abcdef', 13647, 2], ['abcdefg', 5634, 2], ['abcdefgh', 1383, 1], ['abcdefghi', 6903, 1],
      ['hello world, 16!', 4590, 4], ['seventeen bytes!!', 554, 5], ['\x00', 8840, 2],
      ['\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7', 5570, 1], ['12345', 14704, 1],
    ];
    for (const [e, index, value] of seen) expect([e, registerOf(e) >>> 6, registerOf(e) & 63]).toEqual([e, index, value]);
  });

  it('gives register values from 1 to 51 only', () => {
    for (let i = 0; i < 20000; i++) {
      const v = registerOf('x' + i) & 63;
      expect(v >= 1 && v <= 51).toBe(true);
    }
  });
});

describe('dense registers', () => {
  it('store 6-bit values independently, like a byte array', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: HLL_REGISTERS - 1 }), fc.integer({ min: 0, max: 63 })), { maxLength: 300 }), (writes) => {
        const b = Buffer.alloc(HLL_DENSE_SIZE);
        const model = new Uint8Array(HLL_REGISTERS);
        for (const [i, v] of writes) {
          denseWrite(b, i, v);
          model[i] = v;
        }
        for (const [i] of writes) {
          for (const j of [i - 1, i, i + 1]) if (j >= 0 && j < HLL_REGISTERS) expect(denseGet(b, j)).toBe(model[j]);
        }
        expect(b.subarray(0, 16).every((x) => x === 0)).toBe(true);
      }),
    );
  });

  it('pack register i at bit 6*i, least significant bit first', () => {
    const b = Buffer.alloc(HLL_DENSE_SIZE);
    denseWrite(b, 0, 0b000001);
    denseWrite(b, 1, 0b111111);
    denseWrite(b, 16383, 63);
    expect([b[16], b[17], b[HLL_DENSE_SIZE - 1]]).toEqual([0b11000001, 0b00001111, 0b11111100]);
  });
});

describe('sparse code', () => {
  const opsArb = fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: HLL_REGISTERS - 1 }), fc.integer({ min: 1, max: 32 })) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 40 })) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 16340, max: HLL_REGISTERS - 1 }), fc.integer({ min: 1, max: 5 })) },
    ),
    { maxLength: 400 },
  );

  it('behaves like an array of registers and stays a valid code within hll-sparse-max-bytes', () => {
    fc.assert(
      fc.property(opsArb, fc.constantFrom(40, 100, 300, 3000, 1 << 30), (ops, maxBytes) => {
        const m = newSparse();
        const model = new Array<number>(HLL_REGISTERS).fill(0);
        for (const [i, v] of ops) {
          const r = hllSet(m, i, v, maxBytes);
          expect(r).toBe(v > model[i]! ? CHANGED : UNCHANGED);
          if (v > model[i]!) model[i] = v;
          if (encodingOfHll(m) === HLL_SPARSE) expect(m.len).toBeLessThanOrEqual(Math.max(maxBytes, 18));
          else expect(m.len).toBe(HLL_DENSE_SIZE);
        }
        expect(isHll(m)).toBe(true);
        expect(registersOf(m)).toEqual(model);
        if (encodingOfHll(m) === HLL_SPARSE) {
          // Adjacent VAL runs of one value are merged while they fit an opcode.
          expect(decodeSparse(m)).not.toMatch(/v:(\d+),1 v:\1,1( |$)/);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('turns dense for a value above 32', () => {
    const m = newSparse();
    expect(hllSet(m, 5, 32, 3000)).toBe(CHANGED);
    expect(encodingOfHll(m)).toBe(HLL_SPARSE);
    expect(hllSet(m, 6, 33, 3000)).toBe(CHANGED);
    expect(encodingOfHll(m)).toBe(HLL_DENSE);
    expect([denseGet(m.buf, 5), denseGet(m.buf, 6)]).toEqual([32, 33]);
  });

  it('splits and merges runs as Redis does', () => {
    const m = newSparse();
    expect(decodeSparse(m)).toBe('Z:16384');
    hllSet(m, 100, 3, 3000);
    expect(decodeSparse(m)).toBe('Z:100 v:3,1 Z:16283');
    hllSet(m, 101, 3, 3000);
    expect(decodeSparse(m)).toBe('Z:100 v:3,2 Z:16282');
    hllSet(m, 0, 1, 3000);
    expect(decodeSparse(m)).toBe('v:1,1 Z:99 v:3,2 Z:16282');
    hllSet(m, 100, 5, 3000);
    expect(decodeSparse(m)).toBe('v:1,1 Z:99 v:5,1 v:3,1 Z:16282');
    expect(hllSet(m, 101, 2, 3000)).toBe(UNCHANGED);
    // Zero runs up to 64 take the one-byte opcode.
    hllSet(m, 165, 1, 3000);
    expect(decodeSparse(m)).toBe('v:1,1 Z:99 v:5,1 v:3,1 z:63 v:1,1 Z:16218');
  });

  it('detects corrupt codes', () => {
    const short = sparseOf([0x7f, 0xfe]); // 16383 registers
    const long = sparseOf([0x7f, 0xff, 0x80]); // one VAL past the end
    const truncated = sparseOf([0x40]); // XZERO without its length byte: 1 register
    for (const h of [short, long, truncated]) {
      expect(isHll(h)).toBe(true);
      expect(hllCount(h)).toBeNull();
      expect(mergeInto(new Uint8Array(HLL_REGISTERS), h)).toBe(false);
      const before = h.toString();
      expect(sparseToDense(h)).toBe(false);
      expect(h.toString()).toBe(before);
    }
    expect(hllSet(sparseOf([]), 3, 1, 3000)).toBe(CORRUPT);
    // A register past the covered ones cannot be found.
    expect(hllSet(sparseOf([0x7f, 0xfe]), 16383, 1, 3000)).toBe(CORRUPT);
  });
});

describe('header', () => {
  it('recognizes HLL strings', () => {
    const ok = newSparse();
    expect(isHll(ok)).toBe(true);
    expect(isHll(newDense())).toBe(true);
    const bad = (b: number[]): boolean => isHll(new MutableString(Buffer.from(b)));
    expect(bad(header(HLL_SPARSE).slice(0, 15))).toBe(false);
    expect(bad(header(HLL_SPARSE))).toBe(true); // no registers: valid until used
    expect(bad(header(2))).toBe(false);
    expect(bad([...header(HLL_DENSE), 0, 0])).toBe(false); // dense must be exactly 12304 bytes
    expect(bad([0x68, ...header(HLL_SPARSE).slice(1)])).toBe(false);
  });

  it('caches the cardinality little-endian with an invalid flag in the top bit', () => {
    const m = newSparse();
    expect(cacheValid(m)).toBe(true);
    storeCard(m, 0x0102030405);
    expect([...m.buf.subarray(8, 16)]).toEqual([5, 4, 3, 2, 1, 0, 0, 0]);
    expect(cachedCard(m)).toBe(0x0102030405);
    invalidateCache(m);
    expect(cacheValid(m)).toBe(false);
    expect([...m.buf.subarray(8, 16)]).toEqual([5, 4, 3, 2, 1, 0, 0, 0x80]);
    storeCard(m, 2n ** 62n + 1n);
    expect(cachedCard(m)).toBe(2n ** 62n + 1n);
  });
});

describe('cardinality', () => {
  it('is 0 for an empty HLL and exact for tiny sets', () => {
    expect(hllCount(newSparse())).toBe(0);
    expect(hllCount(newDense())).toBe(0);
    const m = newSparse();
    for (const e of ['a', 'b', 'c']) hllAdd(m, e, 3000);
    expect(hllCount(m)).toBe(3);
  });

  it('is the same for the sparse, dense and raw-register forms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer(), (n, salt) => {
        const sparse = newSparse();
        const dense = newDense();
        const raw = new Uint8Array(HLL_REGISTERS);
        for (let i = 0; i < n; i++) {
          hllAdd(sparse, `${salt}:${i}`, 1 << 30);
          hllAdd(dense, `${salt}:${i}`, 0);
        }
        expect(mergeInto(raw, sparse)).toBe(true);
        const c = hllCount(dense);
        expect(hllCount(sparse)).toBe(c);
        expect(registersCount(raw)).toBe(c);
      }),
      { numRuns: 20 },
    );
  });

  it('stays within a few standard errors (0.81%) of the true count', () => {
    const m = newSparse();
    let n = 0;
    for (const target of [1000, 10_000, 100_000, 1_000_000]) {
      for (; n < target; n++) hllAdd(m, `element:${n}`, 3000);
      const err = Math.abs(Number(hllCount(m)) - n) / n;
      expect(err).toBeLessThan(3 * 0.0081);
    }
    // Counted the way redis-server 7.0.15 counts the same 1,000,000 elements.
    expect(hllCount(m)).toBe(REDIS_COUNT_1M);
  });

  it('merges as an element-wise max', () => {
    const a = newSparse();
    const b = newDense();
    for (let i = 0; i < 500; i++) hllAdd(a, 'a' + i, 3000);
    for (let i = 0; i < 5000; i++) hllAdd(b, 'b' + i, 3000);
    const max = new Uint8Array(HLL_REGISTERS);
    expect(mergeInto(max, a)).toBe(true);
    expect(mergeInto(max, b)).toBe(true);
    const ra = registersOf(a);
    const rb = registersOf(b);
    for (let i = 0; i < HLL_REGISTERS; i++) expect(max[i]).toBe(Math.max(ra[i]!, rb[i]!));
    const est = Number(registersCount(max));
    expect(Math.abs(est - 5500) / 5500).toBeLessThan(0.03);
  });

  it('overflows to INT64_MIN like llround when every register is saturated', () => {
    const m = newDense();
    for (let i = 0; i < HLL_REGISTERS; i++) denseWrite(m.buf, i, 63);
    expect(hllCount(m)).toBe(-9223372036854775808n);
  });
});

describe('PFSELFTEST', () => {
  it('passes, and fails when hll-sparse-max-bytes cannot hold even one element', () => {
    expect(selfTest(3000)).toBeNull();
    expect(selfTest(20)).toBe('sparse encoding not used');
  });
});

/** PFCOUNT on redis-server 7.0.15 after PFADD of "element:0" ... "element:999999". */
const REDIS_COUNT_1M = 1010357;
