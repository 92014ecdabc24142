import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bitcount,
  bitfieldClampForSet,
  bitfieldGet,
  bitfieldIncr,
  bitfieldRange,
  bitfieldSet,
  bitop,
  bitpos,
  bytesNeededForBit,
  bytesNeededForField,
  getbit,
  parseBitfieldOffset,
  parseBitfieldType,
  parseBitOffset,
  setbit,
  type BitfieldOverflow,
  type BitUnit,
} from '../../src/strings/bitops.js';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');

// ---------------------------------------------------------------------------
// Naive reference models

function naiveBit(buf: Uint8Array, i: number): number {
  const byte = Math.floor(i / 8);
  return byte < buf.length ? (buf[byte]! >> (7 - (i % 8))) & 1 : 0;
}

/** Redis 7 range normalisation, returned as an inclusive bit range or null. */
function naiveRange(len: number, start: number, end: number, unit: BitUnit): [number, number] | null {
  const total = unit === 'bit' ? len * 8 : len;
  let s = start < 0 ? total + start : start;
  let e = end < 0 ? total + end : end;
  s = Math.max(s, 0);
  e = Math.min(Math.max(e, 0), total - 1);
  if (s > e) return null;
  return unit === 'bit' ? [s, e] : [s * 8, e * 8 + 7];
}

function naiveBitcount(buf: Uint8Array, start: number, end: number, unit: BitUnit): number {
  if (start < 0 && end < 0 && start > end) return 0;
  const r = naiveRange(buf.length, start, end, unit);
  if (!r) return 0;
  let n = 0;
  for (let i = r[0]; i <= r[1]; i++) n += naiveBit(buf, i);
  return n;
}

function naiveBitpos(buf: Uint8Array, bit: 0 | 1, start: number, end: number | undefined, unit: BitUnit): number {
  const r = naiveRange(buf.length, start, end ?? (unit === 'bit' ? buf.length * 8 : buf.length) - 1, unit);
  if (!r) return -1;
  for (let i = r[0]; i <= r[1]; i++) if (naiveBit(buf, i) === bit) return i;
  if (bit === 1 || end !== undefined) return -1;
  return buf.length * 8;
}

/** A byte array, sometimes as an unaligned view into a bigger buffer. */
const bytesArb = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.nat(300), fc.constantFrom(0, 0xff), fc.nat(300), fc.nat(255)).map(([n, fill, at, v]) => {
        const b = new Uint8Array(n).fill(fill);
        if (n > 0) b[at % n] = v;
        return b;
      }),
    ),
    fc.nat(7),
  )
  .map(([b, pad]) => {
    const backing = new Uint8Array(b.length + pad);
    backing.set(b, pad);
    return backing.subarray(pad);
  });
const idxArb = fc.integer({ min: -3000, max: 3000 });
const unitArb = fc.constantFrom<BitUnit>('byte', 'bit');

// ---------------------------------------------------------------------------

describe('bitcount', () => {
  // Expected values observed on redis-server 7.0.15 with k = "\xff\xf0".
  const k = hex('fff0');
  it.each([
    [undefined, undefined, 'byte', 12],
    [0, 0, 'byte', 8],
    [1, 1, 'byte', 4],
    [-100, -50, 'byte', 8], // both clamp to 0
    [-1, -100, 'byte', 0], // both negative, start > end: 0 before clamping
    [-50, -100, 'byte', 0],
    [-100, -1, 'byte', 12],
    [0, -100, 'byte', 8],
    [1, -100, 'byte', 0],
    [5, 10, 'byte', 0],
    [-2, -1, 'byte', 12],
    [0, -1, 'bit', 12],
    [3, 12, 'bit', 9],
    [-100, -50, 'bit', 1],
    [-5, -1, 'bit', 1],
    [100, 200, 'bit', 0],
    [-1, -1, 'bit', 0],
    [12, 3, 'bit', 0],
  ] as const)('BITCOUNT %s %s %s', (s, e, unit, want) => {
    expect(bitcount(k, s, e, unit)).toBe(want);
  });

  it('empty string counts 0', () => {
    const e = new Uint8Array(0);
    expect(bitcount(e)).toBe(0);
    expect(bitcount(e, 0, -1)).toBe(0);
    expect(bitcount(e, 0, 0, 'bit')).toBe(0);
  });

  it('matches a naive per-bit count', () => {
    fc.assert(
      fc.property(bytesArb, idxArb, idxArb, unitArb, (buf, s, e, unit) => {
        expect(bitcount(buf, s, e, unit)).toBe(naiveBitcount(buf, s, e, unit));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(bytesArb, (buf) => {
        expect(bitcount(buf)).toBe(naiveBitcount(buf, 0, -1, 'byte'));
      }),
    );
  });
});

describe('bitpos', () => {
  // redis-server 7.0.15 observations.
  const k = hex('fff000');
  const ones = hex('ffffff');
  const zeros = hex('000000');
  const mix = hex('00fff0');
  it.each([
    [k, 0, [], 12],
    [k, 1, [], 0],
    [k, 1, [1], 8],
    [k, 0, [-1], 16],
    [k, 0, [5], -1], // start past the end
    [k, 0, [0, 100], 12],
    [k, 0, [-100, -50], -1], // clamps to byte 0 = 0xff, end given
    [k, 1, [-100, -50], 0],
    [k, 0, [0, 7, 'bit'], -1],
    [k, 0, [8, 15, 'bit'], 12],
    [k, 1, [3, 10, 'bit'], 3],
    [k, 0, [20, 100, 'bit'], 20],
    [k, 0, [-3, -1, 'bit'], 21],
    [k, 1, [-3, -1, 'bit'], -1],
    [ones, 0, [], 24], // no explicit end: first bit past the string
    [ones, 0, [1], 24],
    [ones, 0, [0, -1], -1], // explicit end: not found
    [ones, 0, [1, 1], -1],
    [ones, 1, [-3, -1, 'bit'], 21],
    [zeros, 1, [], -1],
    [zeros, 0, [1], 8],
    [zeros, 0, [-50, -100], 0], // BITPOS has no "both negative" shortcut
    [zeros, 0, [-10, -20, 'bit'], -1],
    [zeros, 0, [23, 23, 'bit'], 23],
    [mix, 0, [1], 20],
    [mix, 1, [3, 10, 'bit'], 8],
    [mix, 0, [8, 15, 'bit'], -1],
    [mix, 0, [2, 1], -1],
  ] as const)('BITPOS %# bit=%s', (buf, bit, args, want) => {
    const [s, e, unit] = args as readonly [number?, number?, BitUnit?];
    expect(bitpos(buf, bit, s, e, unit ?? 'byte', e !== undefined)).toBe(want);
  });

  it('existing empty string gives -1 for both bits, with or without a range', () => {
    const e = new Uint8Array(0);
    for (const bit of [0, 1] as const) {
      expect(bitpos(e, bit)).toBe(-1);
      expect(bitpos(e, bit, 0)).toBe(-1);
      expect(bitpos(e, bit, 0, -1)).toBe(-1);
      expect(bitpos(e, bit, 0, 7, 'bit', true)).toBe(-1);
    }
  });

  it('endGiven defaults to whether end was passed', () => {
    expect(bitpos(hex('ff'), 0, 0, 0)).toBe(-1);
    expect(bitpos(hex('ff'), 0, 0, 0, 'byte', false)).toBe(8);
  });

  it('matches a naive scan', () => {
    fc.assert(
      fc.property(
        bytesArb,
        fc.constantFrom<0 | 1>(0, 1),
        fc.option(idxArb, { nil: undefined }),
        fc.option(idxArb, { nil: undefined }),
        unitArb,
        (buf, bit, s, e, unit) => {
          const want = s === undefined ? naiveBitpos(buf, bit, 0, undefined, 'byte') : naiveBitpos(buf, bit, s, e, unit);
          const got = s === undefined ? bitpos(buf, bit) : bitpos(buf, bit, s, e, unit, e !== undefined);
          expect(got).toBe(want);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('bitop', () => {
  it('zero-pads shorter and missing sources (redis-server observations)', () => {
    const b1 = hex('ff0f');
    const b2 = hex('f0');
    const missing = new Uint8Array(0);
    expect(bitop('AND', [b1, b2, missing]).toString('hex')).toBe('0000');
    expect(bitop('OR', [b1, b2, missing]).toString('hex')).toBe('ff0f');
    expect(bitop('XOR', [b1, b2, missing]).toString('hex')).toBe('0f0f');
    expect(bitop('NOT', [b1]).toString('hex')).toBe('00f0');
    expect(bitop('AND', [missing, missing]).length).toBe(0);
    expect(() => bitop('NOT', [b1, b2])).toThrow(RangeError);
  });

  it('matches a naive per-byte model', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('AND', 'OR', 'XOR', 'NOT' as const),
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        (op, srcs) => {
          const sources = op === 'NOT' ? srcs.slice(0, 1) : srcs;
          const len = Math.max(...sources.map((s) => s.length));
          const want: number[] = [];
          for (let i = 0; i < len; i++) {
            const bytes = sources.map((s) => s[i] ?? 0);
            if (op === 'NOT') want.push(~bytes[0]! & 0xff);
            else if (op === 'AND') want.push(bytes.reduce((x, y) => x & y));
            else if (op === 'OR') want.push(bytes.reduce((x, y) => x | y));
            else want.push(bytes.reduce((x, y) => x ^ y));
          }
          expect([...bitop(op, sources)]).toEqual(want);
        },
      ),
    );
  });
});

describe('getbit / setbit', () => {
  it('reads past the end as 0 and sizes buffers', () => {
    expect(getbit(hex('80'), 0)).toBe(1);
    expect(getbit(hex('80'), 1)).toBe(0);
    expect(getbit(hex('80'), 4294967295)).toBe(0);
    expect(bytesNeededForBit(0)).toBe(1);
    expect(bytesNeededForBit(7)).toBe(1);
    expect(bytesNeededForBit(8)).toBe(2);
    expect(bytesNeededForBit(4294967295)).toBe(536870912);
    expect(() => setbit(new Uint8Array(1), 8, 1)).toThrow(RangeError);
  });

  it('setbit returns the old bit and changes only that bit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.nat(), fc.constantFrom<0 | 1>(0, 1), (buf, o, bit) => {
        const off = o % (buf.length * 8);
        const before = Uint8Array.from(buf);
        expect(setbit(buf, off, bit)).toBe(naiveBit(before, off));
        for (let i = 0; i < buf.length * 8; i++) expect(getbit(buf, i)).toBe(i === off ? bit : naiveBit(before, i));
      }),
    );
  });
});

describe('bitfield parsing', () => {
  it('parses types like redis-server 7.0 (case-sensitive prefix)', () => {
    expect(parseBitfieldType('i8')).toEqual({ signed: true, bits: 8 });
    expect(parseBitfieldType('u63')).toEqual({ signed: false, bits: 63 });
    expect(parseBitfieldType('i64')).toEqual({ signed: true, bits: 64 });
    expect(parseBitfieldType('i1')).toEqual({ signed: true, bits: 1 });
    for (const bad of ['u64', 'i65', 'i0', 'u0', 'I8', 'U8', 'i08', 'i+8', 'i-8', 'i', 'x8', 'i8 ', '', 'i9223372036854775807']) {
      expect(parseBitfieldType(bad), bad).toBeNull();
    }
  });

  it('parses offsets, including #N', () => {
    expect(parseBitfieldOffset('100', 8)).toBe(100);
    expect(parseBitfieldOffset('#0', 8)).toBe(0);
    expect(parseBitfieldOffset('#3', 16)).toBe(48);
    expect(parseBitfieldOffset('4294967295', 8)).toBe(4294967295);
    expect(parseBitfieldOffset('#536870911', 8)).toBe(4294967288);
    for (const bad of ['4294967296', '#536870912', '-1', '#-1', '-0', '#-0', '#', '', '+1', '01', ' 1', '# 1', '##1', '1.0', '#1e3', '#2305843009213693952']) {
      expect(parseBitfieldOffset(bad, 8), bad).toBeNull();
    }
    expect(parseBitOffset('4294967295')).toBe(4294967295);
    expect(parseBitOffset('4294967296')).toBeNull();
    expect(parseBitOffset('#1')).toBeNull();
    expect(parseBitOffset('80', 10)).toBeNull(); // custom proto-max-bulk-len
    expect(parseBitOffset('79', 10)).toBe(79);
  });
});

describe('bitfield get/set', () => {
  const typeArb = fc.oneof(
    fc.integer({ min: 1, max: 64 }).map((bits) => ({ signed: true, bits })),
    fc.integer({ min: 1, max: 63 }).map((bits) => ({ signed: false, bits })),
  );

  it('reads bits past the end as 0 and sign-extends', () => {
    expect(bitfieldGet(new Uint8Array(0), 100, 64, true)).toBe(0n);
    expect(bitfieldGet(hex('ff'), 0, 1, true)).toBe(-1n);
    expect(bitfieldGet(hex('ff'), 0, 1, false)).toBe(1n);
    expect(bitfieldGet(hex('ff'), 4, 8, true)).toBe(-16n); // 1111 then 0000 past the end
    expect(bitfieldGet(hex('ffffffffffffffff'), 0, 64, true)).toBe(-1n);
    expect(bitfieldGet(hex('ffffffffffffffff'), 1, 63, false)).toBe((1n << 63n) - 1n);
    expect(bytesNeededForField(0, 8)).toBe(1);
    expect(bytesNeededForField(1, 8)).toBe(2);
    expect(bytesNeededForField(100, 64)).toBe(21);
    expect(() => bitfieldSet(new Uint8Array(1), 1, 8, false, 0n)).toThrow(RangeError);
  });

  it('SET then GET round-trips and leaves other bits alone', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), typeArb, fc.nat(40), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (init, { signed, bits }, off, raw) => {
        const { min, max } = bitfieldRange(bits, signed);
        const value = min + (((raw - min) % (max - min + 1n)) + (max - min + 1n)) % (max - min + 1n);
        const buf = new Uint8Array(Math.max(init.length, bytesNeededForField(off, bits)));
        buf.set(init);
        const before = Uint8Array.from(buf);
        bitfieldSet(buf, off, bits, signed, value);
        expect(bitfieldGet(buf, off, bits, signed)).toBe(value);
        for (let i = 0; i < buf.length * 8; i++) {
          if (i < off || i >= off + bits) expect(naiveBit(buf, i)).toBe(naiveBit(before, i));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('GET matches a naive bit-by-bit read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), typeArb, fc.nat(100), (buf, { signed, bits }, off) => {
        let u = 0n;
        for (let i = 0; i < bits; i++) u = (u << 1n) | BigInt(naiveBit(buf, off + i));
        const want = signed && u >> BigInt(bits - 1) === 1n ? u - (1n << BigInt(bits)) : u;
        expect(bitfieldGet(buf, off, bits, signed)).toBe(want);
      }),
    );
  });
});

describe('bitfield overflow', () => {
  const I64_MAX = 9223372036854775807n;
  const I64_MIN = -9223372036854775808n;
  const U63_MAX = I64_MAX;

  it('INCRBY cases observed on redis-server 7.0.15', () => {
    const cases: Array<[bigint, bigint, number, boolean, BitfieldOverflow, bigint | null]> = [
      [200n, 100n, 8, false, 'WRAP', 44n],
      [44n, 100n, 8, false, 'SAT', 144n],
      [144n, -1000n, 8, false, 'SAT', 0n],
      [0n, -1n, 8, false, 'FAIL', null],
      [I64_MAX, 1n, 64, true, 'WRAP', I64_MIN],
      [I64_MIN, -1n, 64, true, 'SAT', I64_MIN],
      [I64_MIN, I64_MIN, 64, true, 'SAT', I64_MIN],
      [I64_MIN, -1n, 64, true, 'FAIL', null],
      [I64_MIN, I64_MAX, 64, true, 'SAT', -1n],
      [-1n, I64_MAX, 64, true, 'SAT', I64_MAX - 1n],
      [I64_MAX - 1n, I64_MAX, 64, true, 'WRAP', -3n],
      [U63_MAX, 1n, 63, false, 'WRAP', 0n],
      [0n, -1n, 63, false, 'WRAP', U63_MAX],
      [U63_MAX, I64_MAX, 63, false, 'SAT', U63_MAX],
      [0n, 5n, 1, true, 'SAT', 0n],
      [0n, -5n, 1, true, 'SAT', -1n],
    ];
    for (const [old, incr, bits, signed, ovf, want] of cases) {
      const r = bitfieldIncr(old, incr, bits, signed, ovf);
      if (want === null) expect(r).toEqual({ value: old, overflowed: true });
      else expect(r.value).toBe(want);
    }
    expect(bitfieldIncr(1n, 2n, 8, false, 'FAIL')).toEqual({ value: 3n, overflowed: false });
  });

  it('SET clamping observed on redis-server 7.0.15', () => {
    expect(bitfieldClampForSet(-1n, 8, false, 'SAT')).toBe(255n); // int64 -1 read as uint64
    expect(bitfieldClampForSet(-1n, 8, false, 'WRAP')).toBe(255n);
    expect(bitfieldClampForSet(-1n, 8, false, 'FAIL')).toBeNull();
    expect(bitfieldClampForSet(256n, 8, false, 'FAIL')).toBeNull();
    expect(bitfieldClampForSet(300n, 8, false, 'SAT')).toBe(255n);
    expect(bitfieldClampForSet(300n, 8, false, 'WRAP')).toBe(44n);
    expect(bitfieldClampForSet(200n, 8, true, 'SAT')).toBe(127n);
    expect(bitfieldClampForSet(-200n, 8, true, 'SAT')).toBe(-128n);
    expect(bitfieldClampForSet(200n, 8, true, 'WRAP')).toBe(-56n);
    expect(bitfieldClampForSet(-200n, 8, true, 'WRAP')).toBe(56n);
    expect(bitfieldClampForSet(128n, 8, true, 'FAIL')).toBeNull();
    expect(bitfieldClampForSet(1n, 1, true, 'WRAP')).toBe(-1n);
    expect(bitfieldClampForSet(1n, 1, true, 'SAT')).toBe(0n);
    expect(bitfieldClampForSet(-1n, 63, false, 'SAT')).toBe(U63_MAX);
    expect(bitfieldClampForSet(I64_MAX, 64, true, 'FAIL')).toBe(I64_MAX);
    expect(bitfieldClampForSet(5n, 8, false, 'FAIL')).toBe(5n);
  });

  it('INCRBY follows the mathematical WRAP/SAT/FAIL definition', () => {
    const int64 = fc.bigInt({ min: I64_MIN, max: I64_MAX });
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 64 }), int64, int64, fc.constantFrom<BitfieldOverflow>('WRAP', 'SAT', 'FAIL'), (signed, b, rawOld, incr, ovf) => {
        const bits = signed ? b : Math.min(b, 63);
        const old = signed ? BigInt.asIntN(bits, rawOld) : BigInt.asUintN(bits, rawOld);
        const { min, max } = bitfieldRange(bits, signed);
        const sum = old + incr;
        const r = bitfieldIncr(old, incr, bits, signed, ovf);
        expect(r.overflowed).toBe(sum < min || sum > max);
        if (!r.overflowed) expect(r.value).toBe(sum);
        else if (ovf === 'FAIL') expect(r.value).toBe(old);
        else if (ovf === 'SAT') expect(r.value).toBe(sum > max ? max : min);
        else {
          const mod = 1n << BigInt(bits);
          expect(((r.value - sum) % mod + mod) % mod).toBe(0n);
        }
        expect(r.value >= min && r.value <= max).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
