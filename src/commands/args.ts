/**
 * The one argument parser. Every handler parses its arguments through these
 * helpers so that errors carry Redis's exact texts.
 */
import { CommandError, Err } from '../errors.js';
import { X87_EXTENDED, parseFloatLiteral, parseInt64, parseSafeInt, parseRedisDouble, roundBinary } from '../numbers/parse.js';

/** A signed integer argument that fits a JS safe integer, else `error`. */
export function intArg(s: string, error: string = Err.notInteger): number {
  const n = parseSafeInt(s);
  if (n === null) throw new CommandError(error);
  return n;
}

/**
 * A signed 64-bit integer argument as a number, saturating nothing: values
 * beyond 2^53 are still accepted (as Redis accepts them) but lose precision.
 * Use int64Arg where exact 64-bit arithmetic matters (INCRBY, BITFIELD).
 */
export function longArg(s: string, error: string = Err.notInteger): number {
  const n = parseSafeInt(s);
  if (n !== null) return n;
  const b = parseInt64(s);
  if (b === null) throw new CommandError(error);
  return Number(b);
}

export function int64Arg(s: string, error: string = Err.notInteger): bigint {
  const b = parseInt64(s);
  if (b === null) throw new CommandError(error);
  return b;
}

/** A non-negative integer ("ERR value is out of range, must be positive" where Redis says so). */
export function nonNegIntArg(s: string, error: string = Err.notInteger, negError = 'ERR value is out of range, must be positive'): number {
  const n = longArg(s, error);
  if (n < 0) throw new CommandError(negError);
  return n;
}

export function floatArg(s: string, error: string = Err.notFloat): number {
  const d = parseRedisDouble(s);
  if (d === null) throw new CommandError(error);
  return d;
}

const INT64_LIMIT = 2n ** 63n;

/**
 * A blocking-command timeout in seconds (fractional), returned in ms; 0 =
 * forever. Exactly as Redis computes it: (long long)ceill(strtold(s) * 1000)
 * on x87 long doubles (64-bit significand). So hex and "inf" are read, the
 * range is far wider than a double's, a product at or beyond 2^63 (inf,
 * 1e16 seconds) converts to LLONG_MIN and is reported "negative", a positive
 * value under a millisecond rounds up to 1 ms and a negative one above -1 ms
 * to 0 (block forever).
 */
export function timeoutArg(s: string): number {
  const lit = parseFloatLiteral(s);
  // string2ld: at most 5 KiB; overflow and underflow to zero (ERANGE) are rejected.
  if (lit === null || s.length >= 5 * 1024) throw new CommandError(Err.timeoutNotFloat);
  if (lit.kind === 'inf') throw new CommandError(Err.timeoutNegative);
  let v: { mant: bigint; exp: number } | null;
  if (lit.kind === 'dec') {
    if (lit.digits === '') return 0;
    const mag = lit.exp10 + lit.digits.length; // 10^(mag-1) <= |value| < 10^mag
    if (mag > 4933 || mag < -4952) throw new CommandError(Err.timeoutNotFloat);
    const d = BigInt(lit.digits);
    v = lit.exp10 >= 0
      ? roundBinary(d * 10n ** BigInt(lit.exp10), 1n, 0, X87_EXTENDED)
      : roundBinary(d, 10n ** BigInt(-lit.exp10), 0, X87_EXTENDED);
  } else {
    if (lit.mant === 0n) return 0;
    v = roundBinary(lit.mant, 1n, lit.exp2, X87_EXTENDED);
  }
  if (v === null || v.mant === 0n) throw new CommandError(Err.timeoutNotFloat);
  const p = roundBinary(v.mant * 1000n, 1n, v.exp, X87_EXTENDED); // ftval * 1000, rounded
  if (p === null) throw new CommandError(Err.timeoutNegative);
  // ceill: magnitude floor for negatives (ceil(-x) = -floor(x)), rounded up for positives.
  let ms: bigint;
  if (p.exp >= 0) ms = p.mant << BigInt(p.exp);
  else {
    const sh = BigInt(-p.exp);
    ms = p.mant >> sh;
    if (!lit.neg && ms << sh !== p.mant) ms += 1n;
  }
  if (lit.neg) ms = -ms;
  if (ms < 0n || ms >= INT64_LIMIT) throw new CommandError(Err.timeoutNegative);
  return Number(ms);
}

/** Case-insensitive equality with an uppercase token. */
export function is(arg: string | undefined, upperToken: string): boolean {
  return arg !== undefined && arg.length === upperToken.length && arg.toUpperCase() === upperToken;
}

export interface OptionSpec {
  /** Number of values following the token. */
  values?: number;
  /** Tokens that may not appear together with this one (syntax error). */
  conflicts?: readonly string[];
}

/**
 * Parse trailing options like `NX XX EX 10 GET`: tokens are matched
 * case-insensitively against `spec`; an unknown token, a missing value, a
 * repeated or conflicting token is "ERR syntax error" (Redis's text for these).
 * Returns the uppercase tokens present, each with its values.
 */
export function parseOptions(
  argv: readonly string[],
  start: number,
  spec: Readonly<Record<string, OptionSpec>>,
): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (let i = start; i < argv.length; i++) {
    const tok = argv[i]!.toUpperCase();
    const o = spec[tok];
    if (!o || seen.has(tok)) throw new CommandError(Err.syntax);
    for (const c of o.conflicts ?? []) if (seen.has(c)) throw new CommandError(Err.syntax);
    const n = o.values ?? 0;
    if (i + n >= argv.length) throw new CommandError(Err.syntax);
    seen.set(tok, argv.slice(i + 1, i + 1 + n) as string[]);
    i += n;
  }
  return seen;
}

/**
 * Parse a cursor argument ("ERR invalid cursor") as Redis does with
 * strtoull(): an optional sign and decimal digits ("" is 0), a negative value
 * wrapping modulo 2^64; no spaces, no trailing garbage, no overflow.
 */
export function cursorArg(s: string): number {
  const m = /^([+-]?)([0-9]*)$/.exec(s);
  let b = m === null || (m[1] !== '' && m[2] === '') ? -1n : m[2] === '' ? 0n : BigInt(m[2]!);
  if (b < 0n || b > 0xffffffffffffffffn) throw new CommandError('ERR invalid cursor');
  if (m![1] === '-' && b !== 0n) b = (1n << 64n) - b;
  return b > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(b);
}
