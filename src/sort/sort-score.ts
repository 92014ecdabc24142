/**
 * How SORT reads a number from an element or a BY weight: C strtod() on the
 * string as a C string, accepted only when the whole string was consumed,
 * errno is not ERANGE and the result is not NaN (what redis-server 7.0.15
 * on glibc does, checked value by value):
 *  - the string ends at its first NUL byte ("1\0x" reads 1);
 *  - leading C whitespace is skipped, trailing whitespace is garbage;
 *  - the empty string reads 0 (strtod consumes nothing and stops at the end),
 *    a string of whitespace only is an error (nothing consumed, not at the end);
 *  - decimal, hex ("0x10", "0x1p-3") and inf/infinity literals, any sign;
 *  - ERANGE: overflow ("1e400", "0x1p1024") and underflow — a result below
 *    DBL_MIN (subnormal or zero) that is not exact ("1e-400", "4e-320"),
 *    while an exact tiny value ("0x1p-1074", "0e-500") is fine.
 */
import { IEEE_DOUBLE, parseFloatLiteral, roundBinary } from '../numbers/parse.js';

/** DBL_MIN, the smallest normal double. */
const DBL_MIN = 2 ** -1022;

/** C isspace() in the "C" locale. */
function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Is the positive rational digits * 10^exp10 exactly the double d (> 0)? */
function decimalIsExact(digits: string, exp10: number, d: number): boolean {
  // d = mant * 2^-1074 for any d below DBL_MIN.
  const mant = BigInt(Math.round(d / 2 ** -1074));
  const m = BigInt(digits);
  // m * 10^exp10 == mant * 2^-1074  <=>  m * 10^exp10 * 2^1074 == mant
  const two = 1n << 1074n;
  if (exp10 >= 0) return m * 10n ** BigInt(exp10) * two === mant;
  return m * two === mant * 10n ** BigInt(-exp10);
}

/** The number SORT reads from `s`, or null when Redis reports "One or more scores can't be converted into double". */
export function sortScore(s: string): number | null {
  const nul = s.indexOf('\x00');
  let str = nul < 0 ? s : s.slice(0, nul);
  let i = 0;
  while (i < str.length && isCSpace(str.charCodeAt(i))) i++;
  // Nothing to convert: strtod leaves the end pointer at the start, which is
  // the end of the string only when the string is empty.
  if (i === str.length) return i === 0 ? 0 : null;
  if (i > 0) str = str.slice(i);
  const lit = parseFloatLiteral(str);
  if (lit === null) return null; // trailing garbage, NaN, malformed
  if (lit.kind === 'inf') return lit.neg ? -Infinity : Infinity;
  let v: number;
  if (lit.kind === 'dec') {
    if (lit.digits.length === 0) return lit.neg ? -0 : 0;
    v = Math.abs(Number(str)); // correctly rounded, like glibc strtod
    if (!Number.isFinite(v)) return null;
    if (v < DBL_MIN && (v === 0 || !decimalIsExact(lit.digits, lit.exp10, v))) return null;
  } else {
    if (lit.mant === 0n) return lit.neg ? -0 : 0;
    const r = roundBinary(lit.mant, 1n, lit.exp2, IEEE_DOUBLE);
    if (r === null || r.mant === 0n) return null;
    v = Number(r.mant) * 2 ** r.exp;
    if (v < DBL_MIN) {
      const exact = r.exp >= lit.exp2 ? r.mant << BigInt(r.exp - lit.exp2) === lit.mant : lit.mant << BigInt(lit.exp2 - r.exp) === r.mant;
      if (!exact) return null;
    }
  }
  return lit.neg ? -v : v;
}
