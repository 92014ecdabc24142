/**
 * Stream IDs: `<ms>-<seq>`, both unsigned 64-bit integers.
 *
 * Each part is a `U64`: a JS number when it is at most 2^53-1 (the common
 * case: millisecond times and small sequence numbers) and a bigint above
 * that. The representation is canonical (a value that fits a safe integer is
 * always a number), so `===` is equality, and `<` / `>` compare exactly even
 * between a number and a bigint. Arithmetic falls back to bigint only at the
 * top of the range.
 *
 * Parsing follows Redis's rules for stream ID arguments (observed on 7.0):
 * each part is read like C's strtoull after a strict int64 attempt — so
 * leading spaces, a '+' sign, leading zeros, and even a '-' sign on a part
 * written with a leading zero (wrapping modulo 2^64) are accepted, while a
 * canonical negative integer, an empty part or trailing garbage is not; the
 * argument is read up to its first NUL byte and may be at most 127 bytes.
 */

import { latin1Decode } from '../protocol/bytes.js';

/** An unsigned 64-bit integer: a number up to 2^53-1, a bigint beyond. */
export type U64 = number | bigint;

export interface StreamID {
  ms: U64;
  seq: U64;
}

export const U64_MAX_BIG = (1n << 64n) - 1n;
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** The canonical U64 for a bigint in [0, 2^64). */
export function u64(b: bigint): U64 {
  return b <= SAFE_BIG ? Number(b) : b;
}

export const U64_MAX: U64 = U64_MAX_BIG;
export const MIN_ID: StreamID = Object.freeze({ ms: 0, seq: 0 }) as StreamID;
export const MAX_ID: StreamID = Object.freeze({ ms: U64_MAX_BIG, seq: U64_MAX_BIG }) as StreamID;

export function cmpU64(a: U64, b: U64): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function cmpId(a: StreamID, b: StreamID): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq === b.seq) return 0;
  return a.seq < b.seq ? -1 : 1;
}

/** a < b for two IDs given as parts (no object allocation). */
export function idLess(ams: U64, aseq: U64, bms: U64, bseq: U64): boolean {
  return ams < bms || (ams === bms && aseq < bseq);
}

export function idEq(a: StreamID, b: StreamID): boolean {
  return a.ms === b.ms && a.seq === b.seq;
}

export function isZeroId(id: StreamID): boolean {
  return id.ms === 0 && id.seq === 0;
}

export function isMaxId(id: StreamID): boolean {
  return id.ms === U64_MAX_BIG && id.seq === U64_MAX_BIG;
}

/** v + 1 (v < 2^64-1). */
export function incU64(v: U64): U64 {
  if (typeof v === 'number' && v < Number.MAX_SAFE_INTEGER) return v + 1;
  return u64(BigInt(v) + 1n);
}

/** v - 1 (v > 0). */
export function decU64(v: U64): U64 {
  if (typeof v === 'number') return v - 1;
  return u64(v - 1n);
}

/** The next ID, or null after the maximum ID. */
export function incrId(id: StreamID): StreamID | null {
  if (id.seq !== U64_MAX_BIG) return { ms: id.ms, seq: incU64(id.seq) };
  if (id.ms !== U64_MAX_BIG) return { ms: incU64(id.ms), seq: 0 };
  return null;
}

/** The previous ID, or null before 0-0. */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq !== 0) return { ms: id.ms, seq: decU64(id.seq) };
  if (id.ms !== 0) return { ms: decU64(id.ms), seq: U64_MAX_BIG };
  return null;
}

export function formatId(id: StreamID): string {
  return formatIdParts(id.ms, id.seq);
}

/** Scratch bytes for formatIdParts: the digits of `scratchMs` stay at its start. */
const idScratch = Buffer.allocUnsafe(48);
let scratchMs = -1;
let scratchMsEnd = 0;

/** Decimal digits of a safe non-negative integer into `b` at `p` (int32 arithmetic only); returns the end. */
function putDigits(b: Buffer, p: number, v: number): number {
  if (v >= 0x80000000) {
    // Up to 2^53: the high part (< 2^31) and then 8 digits of the low part.
    const hi = Math.floor(v / 1e8);
    p = putDigits(b, p, hi);
    let x = (v - hi * 1e8) | 0;
    for (let q = p + 7; q >= p; q--) {
      const t = (x / 10) | 0;
      b[q] = 48 + x - t * 10;
      x = t;
    }
    return p + 8;
  }
  let x = v | 0;
  let end = p + 1;
  for (let t = x; t >= 10; t = (t / 10) | 0) end++;
  for (let q = end - 1; q >= p; q--) {
    const t = (x / 10) | 0;
    b[q] = 48 + x - t * 10;
    x = t;
  }
  return end;
}

/**
 * `<ms>-<seq>` as a flat string. A template literal would give a V8 cons
 * string (13+ chars), which the reply encoder's per-char copy reads through
 * a slow runtime path; the ID is written as bytes and decoded instead (the
 * ms digits are kept from the previous call when ms is the same).
 */
export function formatIdParts(ms: U64, seq: U64): string {
  if (typeof ms !== 'number' || typeof seq !== 'number') return `${ms}-${seq}`;
  if (ms !== scratchMs) {
    scratchMsEnd = putDigits(idScratch, 0, ms);
    scratchMs = ms;
  }
  let p = scratchMsEnd;
  idScratch[p++] = 45; // '-'
  p = putDigits(idScratch, p, seq);
  return latin1Decode(idScratch, 0, p);
}

/** A signed 64-bit difference a - b, wrapped like C's int64 arithmetic on uint64 operands. */
export function diffI64(a: U64, b: U64): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return BigInt.asIntN(64, BigInt(a) - BigInt(b));
}

// ---------------------------------------------------------------------------
// Parsing

const CANONICAL_INT = /^(0|-?[1-9][0-9]*)$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** C isspace(): space, \t, \n, \v, \f, \r. */
const STRTOULL = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/;

/** One ID part, as Redis's string2ull reads it; null when invalid. */
export function parseU64(s: string): U64 | null {
  if (s.length <= 20 && CANONICAL_INT.test(s)) {
    // A canonical int64 (string2ll): negative values are rejected.
    const b = BigInt(s);
    if (b >= INT64_MIN && b <= INT64_MAX) return b < 0n ? null : u64(b);
  }
  const m = STRTOULL.exec(s);
  if (m === null) return null;
  let b = BigInt(m[2]!);
  if (b > U64_MAX_BIG) return null; // ERANGE
  if (m[1] === '-' && b !== 0n) b = (1n << 64n) - b;
  return u64(b);
}

export interface ParsedId {
  id: StreamID;
  /** False for the `<ms>-*` form (XADD only). */
  seqGiven: boolean;
}

/**
 * Parse a stream ID argument: `<ms>-<seq>`, `<ms>` (seq = missingSeq), and
 * unless `strict` also `-` (0-0) and `+` (max). With `allowSeqStar`, the
 * `<ms>-*` form is accepted (seqGiven false). Null when invalid.
 */
export function parseStreamId(arg: string, missingSeq: U64, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (arg.length > 127) return null;
  const nul = arg.indexOf('\0');
  const s = nul < 0 ? arg : arg.slice(0, nul);
  if (s === '-' || s === '+') {
    if (strict) return null;
    return { id: s === '-' ? MIN_ID : MAX_ID, seqGiven: true };
  }
  const dash = s.indexOf('-');
  const ms = parseU64(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) return null;
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const rest = s.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) return null;
  return { id: { ms, seq }, seqGiven: true };
}

// ---------------------------------------------------------------------------
// Signed 64-bit counters (entries-added, entries-read, lag)

/** A signed counter: a number within the safe range, a bigint beyond. */
export type I64 = number | bigint;

export function i64(b: bigint): I64 {
  return b <= SAFE_BIG && b >= -SAFE_BIG ? Number(b) : b;
}

export function incI64(v: I64): I64 {
  if (typeof v === 'number' && v < Number.MAX_SAFE_INTEGER) return v + 1;
  return i64(BigInt(v) + 1n);
}

export function subI64(a: I64, b: I64): I64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return i64(BigInt.asIntN(64, BigInt(a) - BigInt(b)));
}

export function addI64(a: I64, b: I64): I64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return i64(BigInt.asIntN(64, BigInt(a) + BigInt(b)));
}
