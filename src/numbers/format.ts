/**
 * Number formatting with the exact output of the C library calls Redis uses.
 *
 *  - formatDouble17g: `snprintf("%.17g", d)` (Redis 7.0 addReplyDouble,
 *    ZSCORE/ZINCRBY replies, GEODIST, ...).
 *  - INCRBYFLOAT / HINCRBYFLOAT: x87 80-bit `long double` arithmetic
 *    (strtold, +, then `ld2string(LD_STR_HUMAN)` = "%.17Lf" and trimming),
 *    emulated exactly with BigInt.
 */

import { X87_EXTENDED, parseFloatLiteral, roundBinary } from './parse.js';

// ---------------------------------------------------------------------------
// %.17g
// ---------------------------------------------------------------------------

const TWO_POW_25 = 33554432;
const FIVE_POW_25 = 5n ** 25n;

/**
 * 17 significant digits of |d| (d finite, non-zero) and the decimal exponent
 * of the first digit, rounded like glibc printf: to nearest, ties to even.
 *
 * Number.prototype.toExponential is correctly rounded but breaks exact ties
 * upward, so the rare values whose exact decimal expansion could end exactly
 * on a '5' in the 18th significant digit are redone with BigInt. Such a tie
 * needs a short exact expansion: a non-integer with at most 25 fractional
 * bits (m/2^k has k fractional decimal digits and m*5^k < 10^18 forces
 * k <= 25). Integer doubles can't tie: those with 18+ digits are >= 2^56 and
 * hence multiples of 16, so never end in 5.
 */
function digits17(a: number): { digits: string; exp: number } {
  if (!Number.isInteger(a) && Number.isInteger(a * TWO_POW_25)) {
    // Exact decimal: a = M / 2^25 = M * 5^25 / 10^25.
    const exact = (BigInt(a * TWO_POW_25) * FIVE_POW_25).toString();
    const exp = exact.length - 1 - 25;
    let head = exact.slice(0, 17).padEnd(17, '0');
    const rest = exact.slice(17);
    if (rest.length > 0) {
      const first = rest.charCodeAt(0) - 48;
      const beyond = /[1-9]/.test(rest.slice(1));
      const lastOdd = (head.charCodeAt(16) - 48) % 2 === 1;
      if (first > 5 || (first === 5 && (beyond || lastOdd))) {
        const up = (BigInt(head) + 1n).toString();
        if (up.length > 17) return { digits: up.slice(0, 17), exp: exp + 1 };
        head = up;
      }
    }
    return { digits: head, exp };
  }
  const s = a.toExponential(16); // "d.dddddddddddddddde±X"
  const e = s.indexOf('e');
  return { digits: s[0]! + s.slice(2, e), exp: Number(s.slice(e + 1)) };
}

/**
 * Exactly C's `printf("%.17g", d)` as glibc prints it, except that NaN is
 * always "nan" and infinities are "inf"/"-inf" (the words Redis uses).
 *
 * %g rules with precision P=17: let X be the decimal exponent after rounding
 * to 17 significant digits; use %e style if X < -4 or X >= 17, otherwise %f
 * style; then strip trailing zeros and a dangling '.'. Exponents have at least
 * two digits ("1e-05", "1.0000000000000001e+20"). -0 prints as "-0".
 */
export function formatDouble17g(d: number): string {
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  // Fast path: integers below 1e17 have at most 17 digits and print in full
  // (String() is exact only up to 2^53; beyond it gives the shortest repr).
  if (Number.isInteger(d) && d < 1e17 && d > -1e17) {
    return d <= Number.MAX_SAFE_INTEGER && d >= -Number.MAX_SAFE_INTEGER ? String(d) : BigInt(d).toString();
  }

  const sign = d < 0 ? '-' : '';
  const { digits, exp } = digits17(Math.abs(d));
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  const sig = digits.slice(0, end); // significant digits, no trailing zeros

  if (exp < -4 || exp >= 17) {
    const mant = sig.length > 1 ? sig[0] + '.' + sig.slice(1) : sig;
    const ax = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${sig}`;
  if (sig.length <= exp + 1) return sign + sig.padEnd(exp + 1, '0');
  return `${sign}${sig.slice(0, exp + 1)}.${sig.slice(exp + 1)}`;
}

/**
 * Integer to decimal string: never exponent notation, "-0" prints as "0".
 * Throws RangeError for non-integral or non-finite numbers.
 */
export function formatInteger(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (!Number.isInteger(n)) throw new RangeError(`formatInteger: not an integer: ${n}`);
  if (n === 0) return '0';
  // String() is exact only for safe integers (beyond, it prints the shortest
  // round-trip digits, e.g. 2**64 -> "18446744073709552000").
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

// ---------------------------------------------------------------------------
// x87 80-bit long double emulation
// ---------------------------------------------------------------------------

/**
 * An x87 extended-precision value. Finite values are (-1)^neg * mant * 2^exp
 * with 0 <= mant < 2^64 (mant = 0n is a signed zero).
 */
export type LongDouble =
  | { readonly kind: 'finite'; readonly neg: boolean; readonly mant: bigint; readonly exp: number }
  | { readonly kind: 'inf'; readonly neg: boolean }
  | { readonly kind: 'nan' };

/** Redis MAX_LONG_DOUBLE_CHARS: string2ld rejects inputs of 5120+ bytes. */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

/**
 * Round the exact positive rational (num/den) * 2^scale2 to a long double
 * (64-bit significand, gradual underflow, overflow to infinity).
 */
function roundToLongDouble(neg: boolean, num: bigint, den: bigint, scale2: number): LongDouble {
  const r = roundBinary(num, den, scale2, X87_EXTENDED);
  if (r === null) return { kind: 'inf', neg };
  return { kind: 'finite', neg, mant: r.mant, exp: r.exp };
}

/**
 * Redis `string2ld()`: strtold() on the whole string plus Redis's checks.
 * Returns null (→ "value is not a valid float") for: empty or >= 5120 bytes,
 * leading/trailing whitespace or garbage, NaN, overflow to ±inf ("1e5000")
 * and underflow to zero ("1e-5000"). "inf"/"infinity" parse to infinities.
 * Hex floats ("0x1.8p3", "0x10") are accepted, as glibc strtold does.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null;
  const lit = parseFloatLiteral(s);
  if (lit === null) return null;
  if (lit.kind === 'inf') return { kind: 'inf', neg: lit.neg };
  let r: LongDouble;
  if (lit.kind === 'hex') {
    r = roundToLongDouble(lit.neg, lit.mant, 1n, lit.exp2);
    if (lit.mant === 0n) return r; // a literal zero is fine
  } else {
    const { neg, digits, exp10 } = lit;
    if (digits.length === 0) return { kind: 'finite', neg, mant: 0n, exp: 0 };
    // Cheap range screening before building huge powers of ten.
    // |value| >= 10^(k-1+exp10) and LDBL_MAX ~ 1.19e4932.
    if (digits.length - 1 + exp10 > 4932) return null; // overflow (ERANGE, inf)
    // |value| < 10^(k+exp10); anything below ~1.8e-4951 rounds to zero.
    if (digits.length + exp10 < -4952) return null; // underflow (ERANGE, 0)
    const m = BigInt(digits);
    r =
      exp10 >= 0
        ? roundToLongDouble(neg, m * 10n ** BigInt(exp10), 1n, 0)
        : roundToLongDouble(neg, m, 10n ** BigInt(-exp10), 0);
  }
  // Overflow to inf or underflow to zero: strtold sets ERANGE, Redis rejects.
  if (r.kind !== 'finite' || r.mant === 0n) return null;
  return r;
}

/** Convert a JS double to long double (always exact). */
export function longDoubleFromNumber(d: number): LongDouble {
  if (d !== d) return { kind: 'nan' };
  if (d === Infinity || d === -Infinity) return { kind: 'inf', neg: d < 0 };
  const neg = d < 0 || Object.is(d, -0);
  let a = Math.abs(d);
  if (a === 0) return { kind: 'finite', neg, mant: 0n, exp: 0 };
  // Scale into the integer range exactly (multiplying by 2^k is exact).
  let exp = 0;
  while (!Number.isInteger(a)) {
    a *= 2 ** 64;
    exp -= 64;
  }
  return roundToLongDouble(neg, BigInt(a), 1n, exp);
}

/** x87 `a + b` in 64-bit-mantissa precision, round to nearest even. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  if (a.kind === 'inf') return b.kind === 'inf' && b.neg !== a.neg ? { kind: 'nan' } : a;
  if (b.kind === 'inf') return b;
  if (a.mant === 0n && b.mant === 0n) {
    return { kind: 'finite', neg: a.neg && b.neg, mant: 0n, exp: 0 };
  }
  if (a.mant === 0n) return b;
  if (b.mant === 0n) return a;
  const q = Math.min(a.exp, b.exp);
  const x = a.mant << BigInt(a.exp - q);
  const y = b.mant << BigInt(b.exp - q);
  const sum = (a.neg ? -x : x) + (b.neg ? -y : y);
  // An exact zero sum is +0 under round-to-nearest.
  if (sum === 0n) return { kind: 'finite', neg: false, mant: 0n, exp: 0 };
  return roundToLongDouble(sum < 0n, sum < 0n ? -sum : sum, 1n, q);
}

const TEN_POW_17 = 10n ** 17n;

/**
 * Redis `ld2string(value, LD_STR_HUMAN)`: `snprintf("%.17Lf")` (exact
 * decimal expansion rounded to 17 places, ties to even as glibc does), then
 * trailing zeros and a trailing '.' are removed, and "-0" becomes "0".
 * Infinities print as "inf"/"-inf" and NaN as "nan", like ld2string.
 * Large values print in full positional notation (no exponent).
 */
export function formatLongDoubleHuman(x: LongDouble): string {
  if (x.kind === 'nan') return 'nan';
  if (x.kind === 'inf') return x.neg ? '-inf' : 'inf';
  let s: string;
  if (x.exp >= 0) {
    s = (x.mant << BigInt(x.exp)).toString(); // integer: fraction is all zeros
  } else {
    // round(mant * 10^17 / 2^-exp), ties to even.
    const sh = BigInt(-x.exp);
    const scaled = x.mant * TEN_POW_17;
    let units = scaled >> sh;
    const twiceRem = (scaled - (units << sh)) << 1n;
    const one = 1n << sh;
    if (twiceRem > one || (twiceRem === one && (units & 1n) === 1n)) units++;
    const str = units.toString().padStart(18, '0');
    const intPart = str.slice(0, -17);
    const frac = str.slice(-17).replace(/0+$/, '');
    s = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  }
  if (s === '0') return '0'; // covers "-0" (negative values rounding to zero)
  return x.neg ? '-' + s : s;
}

/**
 * Emulate Redis INCRBYFLOAT (and the arithmetic of HINCRBYFLOAT): parse both
 * operands with string2ld (strtold), add in long double, reject a NaN/Inf
 * result, format with ld2string(LD_STR_HUMAN).
 *
 * Returns the new string value, 'not-a-float' if either operand fails to
 * parse ("ERR value is not a valid float"), or 'nan-or-inf' if the sum is
 * NaN or infinite ("ERR increment would produce NaN or Infinity").
 * A missing key should be passed as current = "0".
 *
 * Note HINCRBYFLOAT differs in its checks/messages: it rejects a NaN/Inf
 * increment up front ("ERR value is NaN or Infinity") and reports an
 * unparsable field as "ERR hash value is not a float" — callers can build
 * that from parseLongDouble/addLongDouble/formatLongDoubleHuman.
 */
export function incrByFloat(current: string, increment: string): string | 'nan-or-inf' | 'not-a-float' {
  const a = parseLongDouble(current);
  if (a === null) return 'not-a-float';
  const b = parseLongDouble(increment);
  if (b === null) return 'not-a-float';
  const sum = addLongDouble(a, b);
  if (sum.kind !== 'finite') return 'nan-or-inf';
  return formatLongDoubleHuman(sum);
}
