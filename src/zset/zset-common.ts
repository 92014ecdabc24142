/**
 * Helpers shared by the sorted set command files: key lookups, range
 * argument parsing with Redis's exact acceptance rules and error texts, and
 * the reply shapes of scored results.
 */
import { type KeySpec, typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError } from '../errors.js';
import { IEEE_DOUBLE, parseFloatLiteral, roundBinary } from '../numbers/parse.js';
import type { LexBound, LexRange, ScoreRange } from './skiplist.js';
import { ZsetValue, asZset, listpackLimits, type ListpackLimits } from './zset-value.js';

export const ERR_SCORE_RANGE = 'ERR min or max is not a float';
export const ERR_LEX_RANGE = 'ERR min or max not valid string range item';
export const ERR_NAN_SCORE = 'ERR resulting score is not a number (NaN)';

// ---------------------------------------------------------------------------
// Lookups

/** Read lookup (hit/miss stats, LRU touch): the sorted set, undefined when missing; WRONGTYPE otherwise. */
export function readZset(s: Session, key: string): ZsetValue | undefined {
  return asZset(s.db.get(key));
}

/** Write lookup: the sorted set to modify in place (copy-on-write hook run), or undefined. */
export function writeZset(s: Session, key: string): ZsetValue | undefined {
  return asZset(s.db.getForWrite(key));
}

export function limitsOf(s: Session): ListpackLimits {
  return listpackLimits(s.engine.config);
}

/** After removing members of `key`: delete the key when it became empty, with the 'del' event. */
export function deleteIfEmpty(s: Session, key: string, z: ZsetValue): void {
  if (z.size > 0) return;
  s.db.delete(key);
  s.wrote('g', 'del', key, 0);
}

/**
 * Store a computed result at `dst` (the STORE commands): a non-empty result
 * replaces whatever was there (TTL cleared) and fires `event`; an empty one
 * deletes `dst`, firing 'del' if it existed. Returns the stored size.
 */
export function storeResult(s: Session, dst: string, z: ZsetValue, event: string): number {
  if (z.size > 0) {
    z.shrinkEncodingIfFits(limitsOf(s));
    s.db.set(dst, z);
    s.wrote('z', event, dst);
    s.engine.blocking.signalKeyReady(s.dbIndex, dst);
    return z.size;
  }
  if (s.db.delete(dst)) s.wrote('g', 'del', dst);
  return 0;
}

// ---------------------------------------------------------------------------
// Range arguments

/** C isspace() in the "C" locale. */
function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * C strtod() applied to a whole C string, as Redis parses score range bounds:
 * the argument ends at its first NUL byte; leading whitespace is skipped;
 * the rest must be one complete literal (decimal, hex, inf/infinity), except
 * that an empty string reads as 0; out-of-range values become ±inf or 0
 * (strtod's ERANGE is not checked). NaN and trailing bytes are rejected
 * (null).
 */
export function strtodWhole(arg: string): number | null {
  const nul = arg.indexOf('\x00');
  const str = nul < 0 ? arg : arg.slice(0, nul);
  if (str.length === 0) return 0;
  let i = 0;
  while (i < str.length && isCSpace(str.charCodeAt(i))) i++;
  const lit = parseFloatLiteral(str.slice(i));
  if (lit === null) return null;
  if (lit.kind === 'inf') return lit.neg ? -Infinity : Infinity;
  if (lit.kind === 'dec') return Number(str.slice(i)); // correctly rounded, ±Infinity / ±0 out of range
  const r = roundBinary(lit.mant, 1n, lit.exp2, IEEE_DOUBLE);
  const v = r === null ? Infinity : Number(r.mant) * 2 ** r.exp;
  return lit.neg ? -v : v;
}

/** One score bound: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`, ... */
function scoreBound(arg: string): { v: number; ex: boolean } {
  const ex = arg.charCodeAt(0) === 40; /* ( */
  const v = strtodWhole(ex ? arg.slice(1) : arg);
  if (v === null || Number.isNaN(v)) throw new CommandError(ERR_SCORE_RANGE);
  return { v, ex };
}

/** ZRANGEBYSCORE-style min and max ("ERR min or max is not a float"). */
export function parseScoreRange(minArg: string, maxArg: string): ScoreRange {
  const min = scoreBound(minArg);
  const max = scoreBound(maxArg);
  return { min: min.v, minex: min.ex, max: max.v, maxex: max.ex };
}

/** One lex bound: `[a` inclusive, `(a` exclusive, `-` and `+` the infinities. */
function lexBound(arg: string): LexBound {
  const c = arg.charCodeAt(0);
  // '+' and '-' must stand alone (a C string: a NUL byte ends it).
  const alone = arg.length === 1 || arg.charCodeAt(1) === 0;
  if (c === 43 /* + */ && alone) return { inf: 1, value: '', ex: false };
  if (c === 45 /* - */ && alone) return { inf: -1, value: '', ex: false };
  if (c === 40 /* ( */) return { inf: 0, value: arg.slice(1), ex: true };
  if (c === 91 /* [ */) return { inf: 0, value: arg.slice(1), ex: false };
  throw new CommandError(ERR_LEX_RANGE);
}

/** ZRANGEBYLEX-style min and max ("ERR min or max not valid string range item"). */
export function parseLexRange(minArg: string, maxArg: string): LexRange {
  return { min: lexBound(minArg), max: lexBound(maxArg) };
}

/**
 * Redis's rank range normalization (ZRANGE, ZREMRANGEBYRANK): negative
 * indexes count from the end; null when the range selects nothing.
 */
export function rankRange(start: number, end: number, size: number): { start: number; end: number } | null {
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  if (start > end || start >= size) return null;
  if (end >= size) end = size - 1;
  return { start, end };
}

// ---------------------------------------------------------------------------
// Replies

/**
 * Members, with their scores when `scores` is given: RESP2 a flat array
 * (member, score, ...), RESP3 an array of [member, score] pairs.
 */
export function replyScored(s: Session, members: readonly string[], scores: readonly number[] | null): void {
  const r = s.reply;
  if (scores === null) {
    r.arrayLen(members.length);
    for (const m of members) r.bulk(m);
    return;
  }
  const nested = r.resp === 3;
  r.arrayLen(nested ? members.length : members.length * 2);
  for (let i = 0; i < members.length; i++) {
    if (nested) r.arrayLen(2);
    r.bulk(members[i]!);
    r.double(scores[i]!);
  }
}

/** Always nested [member, score] pairs, in either protocol (ZMPOP, BZMPOP). */
export function replyNestedPairs(s: Session, members: readonly string[], scores: readonly number[]): void {
  const r = s.reply;
  r.arrayLen(members.length);
  for (let i = 0; i < members.length; i++) {
    r.arrayLen(2);
    r.bulk(members[i]!);
    r.double(scores[i]!);
  }
}

// ---------------------------------------------------------------------------
// Command table helpers

/** A one-key spec at argv[index] (range [lastkey, step, limit]). */
export function zkeySpec(flags: string[], index = 1, range: [number, number, number] = [0, 1, 0]): KeySpec {
  return { flags, begin: { index }, find: { range } };
}

/** The key spec of commands taking `numkeys key [key ...]` at argv[index]. */
export function numkeysSpec(flags: string[], index: number): KeySpec {
  return { flags, begin: { index }, find: { keynum: [0, 1, 1] } };
}

/** argv indexes of `numkeys key [key ...]` starting at argv[at] (movable keys). */
export function numkeysIndexes(argv: string[], at: number): number[] {
  const n = Number.parseInt(argv[at] ?? '', 10);
  const out: number[] = [];
  // More keys announced than there are arguments: no keys at all (the command fails on its syntax), as Redis.
  if (!Number.isFinite(n) || n <= 0 || n > argv.length - at - 1) return out;
  for (let i = 0; i < n; i++) out.push(at + 1 + i);
  return out;
}

export const zcmd = typeCommand('sorted-set');
