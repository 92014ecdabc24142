/**
 * How the GEO commands print numbers, with the exact output of the C
 * library calls Redis uses:
 *  - distances: `%.4f` (GEODIST, WITHDIST);
 *  - coordinates: `%.17Lf` of the double, trailing zeros trimmed (GEOPOS,
 *    WITHCOORD — Redis's "human" long double format);
 *  - coordinates in the invalid-pair error: `%f`.
 * glibc prints the exact decimal value of the double, rounded to the
 * precision with ties to even, keeping the sign of negative zero and of
 * negative values that round to zero.
 */
import { formatLongDoubleHuman, longDoubleFromNumber } from '../numbers/format.js';

/** C `printf("%.<prec>f", d)` as glibc prints it ("inf", "-inf", "nan" for the specials). */
export function formatFixed(d: number, prec: number): string {
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  const neg = d < 0 || Object.is(d, -0);
  const x = longDoubleFromNumber(Math.abs(d));
  if (x.kind !== 'finite') return 'nan';
  let digits: string;
  if (x.exp >= 0) {
    digits = (x.mant << BigInt(x.exp)).toString() + '0'.repeat(prec);
  } else {
    // round(mant * 10^prec / 2^-exp), ties to even.
    const sh = BigInt(-x.exp);
    const scaled = x.mant * 10n ** BigInt(prec);
    let units = scaled >> sh;
    const twiceRem = (scaled - (units << sh)) << 1n;
    const one = 1n << sh;
    if (twiceRem > one || (twiceRem === one && (units & 1n) === 1n)) units++;
    digits = units.toString().padStart(prec + 1, '0');
  }
  const out = prec === 0 ? digits : `${digits.slice(0, -prec)}.${digits.slice(-prec)}`;
  return neg ? '-' + out : out;
}

/**
 * `%.4f` of a distance. Number.prototype.toFixed rounds the exact value too,
 * but breaks exact ties upward; a tie at the 4th decimal needs a value with
 * exactly 5 fractional bits (k/32, k odd), redone exactly.
 */
export function formatDistance(d: number): string {
  if (d > 0 && d < 1e15) {
    const t = d * 32;
    if (!(Number.isInteger(t) && t % 2 === 1)) return d.toFixed(4);
  }
  return formatFixed(d, 4);
}

/** A coordinate as GEOPOS prints it: `%.17Lf` of the (exactly converted) double, zeros trimmed. */
export function formatCoord(d: number): string {
  return formatLongDoubleHuman(longDoubleFromNumber(d));
}
