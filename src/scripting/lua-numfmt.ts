/**
 * C's "%.<prec>g" for the Lua libraries (glibc's rounding and spellings):
 * used for Lua 5.1's tostring ("%.14g") and by cjson (its precision option).
 */

/**
 * The `prec` significant digits of |d| and its decimal exponent, rounded as
 * glibc's printf does (exact ties to even; JS's toExponential rounds them
 * away from zero).
 */
function significand(d: number, prec: number): { digits: string; exp: number } {
  const a = Math.abs(d);
  const [m, e] = a.toExponential(prec - 1).split('e') as [string, string];
  const [fm, fe] = a.toExponential(99).split('e') as [string, string];
  const full = fm.replace('.', '');
  if (full[prec] === '5' && /^0*$/.test(full.slice(prec + 1)) && Number(full[prec - 1]) % 2 === 0) {
    return { digits: full.slice(0, prec), exp: Number(fe) };
  }
  return { digits: m.replace('.', ''), exp: Number(e) };
}

/** C's "%.<prec>g" (glibc spellings for inf and nan). */
export function formatG(d: number, prec: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const { digits, exp } = significand(d, prec);
  const sign = d < 0 ? '-' : '';
  const strip = (t: string): string => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (exp < -4 || exp >= prec) {
    const e = Math.abs(exp);
    return `${sign}${strip(digits[0] + '.' + digits.slice(1))}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
  }
  if (exp < 0) return sign + strip('0.' + '0'.repeat(-exp - 1) + digits);
  return sign + strip(digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1));
}
