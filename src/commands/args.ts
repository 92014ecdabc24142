/**
 * The one argument parser. Every handler parses its arguments through these
 * helpers so that errors carry Redis's exact texts.
 */
import { CommandError, Err } from '../errors.js';
import { parseInt64, parseSafeInt, parseRedisDouble } from '../numbers/parse.js';

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

/** A blocking-command timeout in seconds (fractional), returned in ms; 0 = forever. */
export function timeoutArg(s: string): number {
  const d = parseRedisDouble(s);
  if (d === null || !Number.isFinite(d)) throw new CommandError(Err.timeoutNotFloat);
  if (d < 0) throw new CommandError(Err.timeoutNegative);
  return Math.ceil(d * 1000);
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

/** Parse a cursor argument ("ERR invalid cursor"). */
export function cursorArg(s: string): number {
  const b = /^[0-9]+$/.test(s) ? BigInt(s) : -1n;
  if (b < 0n || b > 0xffffffffffffffffn) throw new CommandError('ERR invalid cursor');
  return b > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(b);
}
