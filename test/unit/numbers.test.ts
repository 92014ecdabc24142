import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  isIntegerEncodable,
  parseInt64,
  parseRedisDouble,
  parseSafeInt,
} from '../../src/numbers/parse.js';
import {
  addLongDouble,
  formatDouble17g,
  formatInteger,
  formatLongDoubleHuman,
  incrByFloat,
  longDoubleFromNumber,
  parseLongDouble,
} from '../../src/numbers/format.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function fromBits(bits: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, bits);
  return dv.getFloat64(0);
}

describe('parseInt64 / parseSafeInt (string2ll)', () => {
  const valid: Array<[string, bigint]> = [
    ['0', 0n],
    ['1', 1n],
    ['-1', -1n],
    ['123', 123n],
    ['9007199254740991', 9007199254740991n],
    ['9007199254740992', 9007199254740992n],
    ['9223372036854775807', INT64_MAX],
    ['-9223372036854775808', INT64_MIN],
  ];
  const invalid = ['', '-', '+1', '-0', '00', '01', '-01', ' 1', '1 ', '1a', '1.0', '1e3', '0x10',
    '9223372036854775808', '-9223372036854775809', '12345678901234567890', '99999999999999999999', '١'];

  it.each(valid)('accepts %j', (s, v) => {
    expect(parseInt64(s)).toBe(v);
    const safe = v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n;
    expect(parseSafeInt(s)).toBe(safe ? Number(v) : null);
    expect(isIntegerEncodable(s)).toBe(true);
  });
  it.each(invalid)('rejects %j', (s) => {
    expect(parseInt64(s)).toBeNull();
    expect(parseSafeInt(s)).toBeNull();
    expect(isIntegerEncodable(s)).toBe(false);
  });
  it('round-trips every int64 and agrees between fast and slow paths', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (v) => {
        expect(parseInt64(v.toString())).toBe(v);
        const n = parseSafeInt(v.toString());
        if (n === null) expect(v > 2n ** 53n - 1n || v < -(2n ** 53n - 1n)).toBe(true);
        else expect(BigInt(n)).toBe(v);
      }),
    );
  });
  it('never accepts a string that does not print back identically', () => {
    const s = fc.array(fc.constantFrom('0', '1', '9', '-', '+', ' ', '.'), { maxLength: 21 }).map((a) => a.join(''));
    fc.assert(
      fc.property(s, (str) => {
        const v = parseInt64(str);
        if (v !== null) expect(v.toString()).toBe(str);
        const n = parseSafeInt(str);
        if (n !== null) expect(String(n)).toBe(str);
        expect(isIntegerEncodable(str)).toBe(v !== null);
      }),
    );
  });
});

describe('parseRedisDouble (string2d)', () => {
  // Checked against ZADD/ZSCORE on redis-server 7.0.15.
  const ok: Array<[string, number]> = [
    ['1', 1], ['-2.5', -2.5], ['+3', 3], ['.5', 0.5], ['1.', 1], ['1e+5', 1e5], ['1E-5', 1e-5], ['00012', 12],
    ['inf', Infinity], ['-Infinity', -Infinity], ['+INF', Infinity], ['-inFinity', -Infinity],
    ['1e308', 1e308], ['5e-324', 5e-324], ['3e-324', 5e-324], ['1e-320', 1e-320], ['0e-999999', 0],
    ['0x10', 16], ['0x.8', 0.5], ['0x1p-1074', 5e-324], ['0x1.fffffffffffffp1023', Number.MAX_VALUE],
  ];
  const bad = ['', ' 1', '1 ', '\t1', 'nan', 'NaN', '.', '1e', '1e+', 'infx', 'infinit', '1_0', '1,5', '1\x00',
    '1e309', '1e-400', '2e-324', '0x', '0x1p', '0x1p1024', '0x1p-1076', '0x1.fffffffffffff8p1023'];
  it.each(ok)('accepts %j', (s, v) => expect(parseRedisDouble(s)).toBe(v));
  it.each(bad)('rejects %j', (s) => expect(parseRedisDouble(s)).toBeNull());
  it('keeps the sign of zero', () => expect(Object.is(parseRedisDouble('-0'), -0)).toBe(true));
  it('parses every finite double from its shortest repr', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
      // String(-0) is "0", hence === rather than Object.is.
      expect(parseRedisDouble(String(d)) === d).toBe(true);
    }));
  });
});

/** [IEEE-754 bits, output of glibc printf("%.17g")] */
const PRINTF_17G: Array<[bigint, string]> = [
    [0x1n, '4.9406564584124654e-324'],
    [0x10000000000000n, '2.2250738585072014e-308'],
    [0x1a56e1fc2f8f359n, '1e-300'],
    [0x3e8421f5f40d8376n, '1.4999999999999999e-07'],
    [0x3ee4f8b588e368f1n, '1.0000000000000001e-05'],
    [0x3f0a36e2eb1c432dn, '5.0000000000000002e-05'],
    [0x3f1a36e2eb1c432dn, '0.0001'],
    [0x3f201f31f46ed246n, '0.00012300000000000001'],
    [0x3f50624dd2f1a9fcn, '0.001'],
    [0x3fb999999999999an, '0.10000000000000001'],
    [0x3fc999999999999an, '0.20000000000000001'],
    [0x3fd3333333333333n, '0.29999999999999999'],
    [0x3fd5555555555555n, '0.33333333333333331'],
    [0x3fe0000000000000n, '0.5'],
    [0x3fe5555555555555n, '0.66666666666666663'],
    [0x3ff0000000000001n, '1.0000000000000002'],
    [0x3ff199999999999an, '1.1000000000000001'],
    [0x400921f9f01b866en, '3.1415899999999999'],
    [0x4011666666666666n, '4.3499999999999996'],
    [0x4059000000000000n, '100'],
    [0x40fe240c9fbe76c9n, '123456.789'],
    [0x4132d68720000000n, '1234567.125'],
    [0x419acf00a9960000n, '112443434.39648438'],
    [0x430c6bf526340002n, '1000000000000000.2'],
    [0x4340000000000000n, '9007199254740992'],
    [0x4340000000000001n, '9007199254740994'],
    [0x4341c37937e08000n, '10000000000000000'],
    [0x4376345785d8a000n, '1e+17'],
    [0x43e56a95319d63e1n, '1.2345678901234567e+19'],
    [0x4415af1d78b58c41n, '1.0000000000000002e+20'],
    [0x444b1ae4d6e2ef50n, '1e+21'],
    [0x44dfe185ca57c517n, '6.0221407599999999e+23'],
    [0x7fefffffffffffffn, '1.7976931348623157e+308'],
    [0xbe7ad7f29abcaf48n, '-9.9999999999999995e-08'],
    [0xc004000000000000n, '-2.5'],
    [0x3f3b280000000000n, '0.00041437149047851562'],
    [0x42344d43a71f9a00n, '87195625247.601562'],
    [0x42d06d99063c1fb4n, '72251619209342.812'],
    [0x3f82568000000000n, '0.0089540481567382812'],
    [0x40e4eda27d000000n, '42861.077758789062'],
    [0x43b0000000000000n, '1.152921504606847e+18'],
    [0x4376345785d89fffn, '99999999999999984'],
    [0x8000000000000000n, '-0'],
    [0x433fffffffffffffn, '9007199254740991'],
    [0x3ca0000000000000n, '1.1102230246251565e-16'],
];

/**
 * Independent %.17g reference: exact decimal expansion of the double via
 * BigInt, rounded half-to-even to 17 significant digits, %g layout.
 */
function ref17g(d: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.abs(d));
  const bits = dv.getBigUint64(0);
  const be = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  const m = be === 0 ? frac : frac | (1n << 52n);
  const e2 = (be === 0 ? 1 : be) - 1075;
  // value = m * 2^e2 = num * 10^-scale exactly
  const scale = e2 < 0 ? -e2 : 0;
  const num = e2 < 0 ? m * 5n ** BigInt(-e2) : m << BigInt(e2);
  let s = num.toString();
  let exp = s.length - 1 - scale;
  if (s.length > 17) {
    let head = BigInt(s.slice(0, 17));
    const rest = s.slice(17);
    const cmp = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1))) ? 1 : rest[0] === '5' ? 0 : -1;
    if (cmp > 0 || (cmp === 0 && head % 2n === 1n)) head++;
    s = head.toString();
    if (s.length > 17) {
      s = s.slice(0, 17);
      exp++;
    }
  }
  s = s.replace(/0+$/, '') || '0';
  const sign = d < 0 ? '-' : '';
  if (exp < -4 || exp >= 17) {
    const mant = s.length > 1 ? `${s[0]}.${s.slice(1)}` : s;
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${s}`;
  return s.length <= exp + 1 ? sign + s.padEnd(exp + 1, '0') : `${sign}${s.slice(0, exp + 1)}.${s.slice(exp + 1)}`;
}

describe('formatDouble17g', () => {
  it.each(PRINTF_17G)('bits %s -> %s', (bits, expected) => {
    expect(formatDouble17g(fromBits(bits))).toBe(expected);
    expect(ref17g(fromBits(bits))).toBe(expected);
  });
  it('prints the special values the way Redis does', () => {
    expect(formatDouble17g(Infinity)).toBe('inf');
    expect(formatDouble17g(-Infinity)).toBe('-inf');
    expect(formatDouble17g(NaN)).toBe('nan');
    expect(formatDouble17g(0)).toBe('0');
    expect(formatDouble17g(-0)).toBe('-0');
    expect(formatDouble17g(1e-5)).toBe('1.0000000000000001e-05');
  });
  it('round-trips every finite double', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
      expect(Object.is(Number(formatDouble17g(d)), d)).toBe(true);
    }), { numRuns: 5000 });
  });
  it('matches the exact reference on random doubles (incl. decimal ties)', () => {
    const tie = fc.tuple(fc.integer({ min: 1, max: 25 }), fc.double({ min: 0, max: 1, noNaN: true })).map(([k, f]) => {
      const lo = 1e17 / 5 ** k;
      const m = Math.floor(lo + f * 9 * lo) | 1;
      return m / 2 ** k;
    });
    const arb = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), tie, fc.integer().map((i) => i / 1024));
    fc.assert(fc.property(arb, (d) => {
      expect(formatDouble17g(d)).toBe(ref17g(d));
    }), { numRuns: 3000 });
  });
});

describe('formatInteger', () => {
  it('never uses exponent notation', () => {
    expect(formatInteger(0)).toBe('0');
    expect(formatInteger(-0)).toBe('0');
    expect(formatInteger(-42)).toBe('-42');
    expect(formatInteger(1e21)).toBe('1000000000000000000000');
    expect(formatInteger(2 ** 64)).toBe('18446744073709551616');
    expect(formatInteger(INT64_MIN)).toBe('-9223372036854775808');
    expect(() => formatInteger(1.5)).toThrow(RangeError);
  });
});

describe('incrByFloat (x87 long double emulation)', () => {
  /** [current, increment, result] — verified with SET + INCRBYFLOAT on redis-server 7.0.15. */
  const REDIS: Array<[string, string, string]> = [
    ['10.5', '0.1', '10.6'],
    ['5.0e3', '2.0e2', '5200'],
    ['0', '3.0e3', '3000'],
    ['10', '-10', '0'],
    ['1', '1.5', '2.5'],
    ['0.1', '0.2', '0.3'],
    ['0.3333333333333333', '-0.3333333333333333', '0'],
    ['17179869184', '1.5', '17179869185.5'],
    ['9223372036854775807', '1', '9223372036854775808'],
    ['-9223372036854775808', '-1', '-9223372036854775809'],
    ['1e20', '1', '100000000000000000000'],
    ['0.000003814697265625', '0', '0.00000381469726562'], // exact tie -> even
    ['0.000011444091796875', '0', '0.00001144409179688'], // exact tie -> even
    ['1.1', '2.2', '3.3'],
    ['3.0', '-0.1', '2.9'],
    ['0', '-0.00000000000000001', '-0.00000000000000001'],
    ['0', '0.000000000000000005', '0'],
    ['0', '0.000000000000000015', '0.00000000000000002'],
    ['0', '1e-18', '0'],
    ['0x10', '1', '17'],
    ['0x1.8p1', '0', '3'],
    ['+.5', '5.', '5.5'],
    ['-0', '0', '0'],
    ['123456789012345678', '0.5', '123456789012345678.5'],
    ['0.1', '0.7', '0.8'],
    ['99.99', '0.01', '100'],
    ['-5', '2.5e-1', '-4.75'],
    ['3.14159265358979323846264338327950288', '0', '3.14159265358979324'],
    ['1e-4940', '0', '0'],
    ['inf', '1', 'nan-or-inf'],
    ['1', '-inf', 'nan-or-inf'],
    ['1.18e4932', '1.18e4932', 'nan-or-inf'],
    ['1e4933', '0', 'not-a-float'],
    ['1e-5000', '1', 'not-a-float'],
    ['nan', '1', 'not-a-float'],
    [' 1', '1', 'not-a-float'],
    ['1 ', '1', 'not-a-float'],
    ['1', 'abc', 'not-a-float'],
    ['', '1', 'not-a-float'],
    ['1e', '1', 'not-a-float'],
  ];
  it.each(REDIS)('%j + %j -> %j', (a, b, r) => expect(incrByFloat(a, b)).toBe(r));

  it('prints huge values in full positional notation', () => {
    const r = incrByFloat('1e300', '0');
    expect(r).toMatch(/^1000000000000000000008997324079559193870\d+$/);
    expect(r.length).toBe(301);
  });
  it('rejects operands of 5120 bytes or more (MAX_LONG_DOUBLE_CHARS)', () => {
    expect(incrByFloat('0.' + '1'.repeat(5117), '0')).toBe('0.11111111111111111');
    expect(incrByFloat('0.' + '1'.repeat(5118), '0')).toBe('not-a-float');
  });
  it('adds integers exactly up to 64 bits', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), (a, b) => {
      expect(incrByFloat(a.toString(), b.toString())).toBe((a + b).toString());
    }));
  });
  it('long double arithmetic is exact for doubles that fit in 64 bits', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 0, max: 20 }), (n, k) => {
      const ld = addLongDouble(longDoubleFromNumber(n / 2 ** k), longDoubleFromNumber(0.25));
      const expected = formatDouble17g(n / 2 ** k + 0.25);
      expect(Number(formatLongDoubleHuman(ld))).toBe(Number(expected));
    }));
  });
  it('parseLongDouble handles the special forms', () => {
    expect(parseLongDouble('inf')).toEqual({ kind: 'inf', neg: false });
    expect(parseLongDouble('-Infinity')).toEqual({ kind: 'inf', neg: true });
    expect(parseLongDouble('nan')).toBeNull();
    expect(parseLongDouble('1')).toEqual({ kind: 'finite', neg: false, mant: 2n ** 63n, exp: -63 });
    expect(formatLongDoubleHuman({ kind: 'nan' })).toBe('nan');
    expect(formatLongDoubleHuman({ kind: 'inf', neg: true })).toBe('-inf');
  });
});
