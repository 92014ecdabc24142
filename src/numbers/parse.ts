/**
 * Number parsing with the exact acceptance rules Redis applies to command
 * arguments and stored string values.
 *
 * Strings are latin1 JS strings (one char per byte).
 */

const INT64_MAX = 9223372036854775807n;
const INT64_MIN_MAGNITUDE = 9223372036854775808n;

/**
 * Redis `LONG_STR_SIZE` is 21: string2ll() rejects strings whose length is
 * >= 21, so at most 20 chars ("-9223372036854775808" is exactly 20).
 */
const MAX_INT_STR_LEN = 20;

/**
 * Shape check shared by both integer parsers (Redis `string2ll`):
 *   - non-empty, at most 20 chars;
 *   - "0" alone is fine; otherwise an optional '-' followed by a digit 1-9
 *     and then only digits (so no '+', no spaces, no leading zeros, no "-0",
 *     no lone "-").
 */
function isInt64Shape(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > MAX_INT_STR_LEN) return false;
  if (n === 1 && s.charCodeAt(0) === 48) return true; // "0"
  let i = s.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (i === n) return false;
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return false; // must be 1-9
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Redis `string2ll()`: parse a signed 64-bit integer, or null if the string
 * is not in canonical form or overflows.
 */
export function parseInt64(s: string): bigint | null {
  if (!isInt64Shape(s)) return null;
  const neg = s.charCodeAt(0) === 45;
  const mag = BigInt(neg ? s.slice(1) : s);
  if (neg) return mag > INT64_MIN_MAGNITUDE ? null : -mag;
  return mag > INT64_MAX ? null : mag;
}

/**
 * Fast path of parseInt64 for the common case: returns the value as a JS
 * number when the string is a valid string2ll integer whose magnitude is at
 * most 2^53-1; returns null otherwise (invalid OR merely too large — callers
 * that need the full int64 range fall back to parseInt64).
 */
export function parseSafeInt(s: string): number | null {
  const n = s.length;
  // 17+ significant digits (no leading zeros) always exceed 2^53-1.
  if (n === 0 || n > 17) return null;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
    if (n === 1) return null;
  }
  let c = s.charCodeAt(i);
  if (c === 48) return n === 1 ? 0 : null; // "0" only; no "-0", no "01"
  if (c < 49 || c > 57) return null;
  if (n - i > 16) return null;
  let v = c - 48;
  for (i++; i < n; i++) {
    c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    v = v * 10 + (c - 48);
  }
  // With <= 16 digits the accumulation is exact below 2^53 and rounding is
  // monotonic, so an out-of-range value can't sneak back under the limit.
  if (v > Number.MAX_SAFE_INTEGER) return null;
  return neg ? -v : v;
}

/**
 * True when Redis would store the string with OBJECT ENCODING "int"
 * (tryObjectEncoding: length <= 20 and string2l() succeeds; `long` is 64-bit).
 */
export function isIntegerEncodable(s: string): boolean {
  return parseSafeInt(s) !== null || parseInt64(s) !== null;
}

/**
 * Decimal float syntax accepted by C strtod()/strtold(): optional sign,
 * digits with an optional '.', at least one digit overall, optional exponent.
 * Groups: 1 sign, 2 integer digits, 3/4 fraction digits, 5 exponent.
 *
 * strtod would stop before a malformed exponent ("1e", "1e+") and leave it
 * as trailing garbage, which Redis rejects — so requiring a complete
 * exponent here is equivalent. Same for "0x" with no hex digit.
 */
const DECIMAL_RE = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/;
/** glibc hex floats: 0x1.8p3, 0x10, 0X.8P-1 (binary exponent optional). */
const HEX_RE = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^([+-]?)(?:inf|infinity)$/i;

/** Exponents are clamped to this: far beyond any format's range either way. */
const EXP_CLAMP = 1e9;

function clampExp(e: string | undefined): number {
  return e === undefined ? 0 : Math.max(-EXP_CLAMP, Math.min(EXP_CLAMP, Number(e)));
}

/**
 * A strtod-style literal split into exact parts:
 *  - dec: value = digits * 10^exp10 (digits without leading/trailing zeros;
 *    "" means zero);
 *  - hex: value = mant * 2^exp2.
 */
export type FloatLiteral =
  | { kind: 'dec'; neg: boolean; digits: string; exp10: number }
  | { kind: 'hex'; neg: boolean; mant: bigint; exp2: number }
  | { kind: 'inf'; neg: boolean };

/**
 * Parse a complete strtod/strtold literal (decimal, hex, inf, infinity), or
 * null if the string is not entirely one: empty, leading/trailing whitespace,
 * trailing garbage, "nan"/"nan(...)" (Redis rejects NaN anyway).
 */
export function parseFloatLiteral(s: string): FloatLiteral | null {
  let m = DECIMAL_RE.exec(s);
  if (m !== null) {
    const fracDigits = m[3] ?? m[4] ?? '';
    let digits = (m[2] ?? '') + fracDigits;
    let exp = clampExp(m[5]) - fracDigits.length;
    let lead = 0;
    while (lead < digits.length && digits.charCodeAt(lead) === 48) lead++;
    let end = digits.length;
    while (end > lead && digits.charCodeAt(end - 1) === 48) end--;
    exp += digits.length - end; // trailing zeros move into the exponent
    digits = digits.slice(lead, end);
    return { kind: 'dec', neg: m[1] === '-', digits, exp10: digits.length === 0 ? 0 : exp };
  }
  m = HEX_RE.exec(s);
  if (m !== null) {
    const frac = m[3] ?? m[4] ?? '';
    const mant = BigInt('0x' + (m[2] ?? '') + frac);
    return { kind: 'hex', neg: m[1] === '-', mant, exp2: clampExp(m[5]) - 4 * frac.length };
  }
  m = INF_RE.exec(s);
  if (m !== null) return { kind: 'inf', neg: m[1] === '-' };
  return null;
}

export function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const h = x.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0]!, 16)));
}

/** A binary floating-point format: `prec` significand bits, ulp exponent range. */
export interface BinaryFormat {
  prec: number;
  /** Exponent of the ulp of subnormals (smallest positive value is 2^minQ). */
  minQ: number;
  /** Largest ulp exponent of a finite value. */
  maxQ: number;
}

export const IEEE_DOUBLE: BinaryFormat = { prec: 53, minQ: -1074, maxQ: 1023 - 52 };
export const X87_EXTENDED: BinaryFormat = { prec: 64, minQ: -16382 - 63, maxQ: 16383 - 63 };

/**
 * Round the exact positive rational (num/den) * 2^scale2 into `fmt`, to
 * nearest with ties to even, with gradual underflow: what strtod/strtold and
 * IEEE/x87 addition do. Returns mant * 2^exp (mant < 2^prec; mant = 0n on
 * underflow to zero) or null on overflow to infinity.
 */
export function roundBinary(
  num: bigint,
  den: bigint,
  scale2: number,
  fmt: BinaryFormat,
): { mant: bigint; exp: number } | null {
  if (num === 0n) return { mant: 0n, exp: 0 };
  // floor(log2(num/den)) is L or L-1.
  let lg = bitLength(num) - bitLength(den);
  if (lg >= 0 ? num < den << BigInt(lg) : num << BigInt(-lg) < den) lg--;
  const top = lg + scale2; // floor(log2(value))
  if (top > fmt.maxQ + fmt.prec) return null;
  if (top < fmt.minQ - 1) return { mant: 0n, exp: 0 }; // < half the smallest subnormal
  let q = Math.max(top - (fmt.prec - 1), fmt.minQ); // ulp exponent
  const shift = scale2 - q;
  const n = shift >= 0 ? num << BigInt(shift) : num;
  const d = shift >= 0 ? den : den << BigInt(-shift);
  let mant = n / d;
  const twiceRem = (n - mant * d) * 2n;
  if (twiceRem > d || (twiceRem === d && (mant & 1n) === 1n)) mant++;
  if (mant === 1n << BigInt(fmt.prec)) {
    mant >>= 1n;
    q++;
  }
  if (q > fmt.maxQ) return null;
  return mant === 0n ? { mant: 0n, exp: 0 } : { mant, exp: q };
}

/**
 * Redis `string2d()` (strtod + checks), used for sorted-set scores, GEO
 * coordinates and other float arguments:
 *   - accepts decimal and hex literals with optional sign/exponent, and
 *     inf / infinity (any case, optional sign);
 *   - rejects empty, leading/trailing whitespace, trailing garbage, NaN;
 *   - rejects overflow (ERANGE with ±HUGE_VAL, e.g. "1e400") and underflow
 *     to zero (ERANGE with 0, e.g. "1e-400"); a literal zero such as "0e-999"
 *     is fine, and so is a subnormal result.
 * Returns -0 for "-0".
 */
export function parseRedisDouble(s: string): number | null {
  const lit = parseFloatLiteral(s);
  if (lit === null) return null;
  if (lit.kind === 'inf') return lit.neg ? -Infinity : Infinity;
  if (lit.kind === 'dec') {
    // JS Number() is correctly rounded (ties to even) like glibc strtod, and
    // the regex guarantees a syntax both read identically.
    const v = Number(s);
    if (!Number.isFinite(v)) return null; // overflow
    if (v === 0 && lit.digits.length > 0) return null; // underflow to zero
    return v;
  }
  if (lit.mant === 0n) return lit.neg ? -0 : 0;
  const r = roundBinary(lit.mant, 1n, lit.exp2, IEEE_DOUBLE);
  if (r === null || r.mant === 0n) return null;
  // mant < 2^53 and exp within range: the product is exact.
  const v = Number(r.mant) * 2 ** r.exp;
  return lit.neg ? -v : v;
}
