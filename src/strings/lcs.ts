/**
 * Longest common subsequence as computed by the Redis LCS command.
 *
 * Inputs are byte strings: pass a Uint8Array, or a JS string whose char codes
 * are the bytes (latin1/"binary" encoding). Positions in `matches` are byte
 * positions. Non-latin1 strings are compared by UTF-16 code unit.
 *
 * Redis-compatible details:
 *  - The DP table is the classic (alen+1)*(blen+1) table of LCS lengths of
 *    prefixes, held in one Uint32Array.
 *  - The subsequence is rebuilt walking back from (alen, blen): on equal bytes
 *    both indexes step back; otherwise `a` steps back only if that keeps a
 *    strictly longer LCS than stepping back in `b` (ties step back in `b`).
 *    This tie rule decides *which* LCS is returned, so it must not change.
 *  - Matches (IDX) are the maximal runs of consecutive equal bytes taken on that
 *    walk, reported in walk order, i.e. from the end of the strings backwards.
 *    Each range is inclusive: { a: [start, end], b: [start, end], len }.
 *  - MINMATCHLEN only hides shorter ranges from `matches`; `len` and `str` are
 *    unaffected. Redis treats a negative MINMATCHLEN as 0 (no filtering).
 *
 * The caller enforces size limits; Redis refuses with
 *   "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
 * when lcsTableBytes(alen, blen) exceeds proto-max-bulk-len (and LEN is
 * combined with IDX with "ERR If you want both the length and indexes, please
 * just use IDX."). Missing keys are empty strings.
 */

export interface LcsMatch {
  /** Inclusive [start, end] byte range in the first string. */
  a: [number, number];
  /** Inclusive [start, end] byte range in the second string. */
  b: [number, number];
  len: number;
}

export interface LcsResult {
  /** The common subsequence itself (as a latin1/binary string). */
  str: string;
  /** Its length (never affected by minMatchLen). */
  len: number;
  /** Ranges, end of the strings first (Redis IDX order). */
  matches: LcsMatch[];
}

type Bytes = string | Uint8Array;

function codeArray(s: Bytes): Uint8Array | Uint16Array {
  if (typeof s !== 'string') return s;
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function codesToString(codes: Uint16Array): string {
  let s = '';
  const CHUNK = 8192;
  for (let i = 0; i < codes.length; i += CHUNK) {
    s += String.fromCharCode(...codes.subarray(i, i + CHUNK));
  }
  return s;
}

/** Transient memory Redis accounts for the DP table, in bytes. */
export function lcsTableBytes(alen: number, blen: number): number {
  return (alen + 1) * (blen + 1) * 4;
}

/** Filters matches the way LCS IDX MINMATCHLEN does (`<= 0` keeps everything). */
export function filterLcsMatches(matches: LcsMatch[], minMatchLen: number): LcsMatch[] {
  if (minMatchLen <= 0) return matches;
  return matches.filter((m) => m.len >= minMatchLen);
}

/**
 * Full Redis LCS: string, length and IDX matches (optionally pre-filtered by
 * minMatchLen; the unfiltered list can be filtered later with filterLcsMatches).
 */
export function lcs(a: Bytes, b: Bytes, minMatchLen = 0): LcsResult {
  const A = codeArray(a);
  const B = codeArray(b);
  const m = A.length;
  const n = B.length;
  const w = n + 1;
  const T = new Uint32Array((m + 1) * w);

  for (let i = 1; i <= m; i++) {
    const ai = A[i - 1];
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= n; j++) {
      if (ai === B[j - 1]) {
        T[row + j] = T[prev + j - 1]! + 1;
      } else {
        const up = T[prev + j]!;
        const left = T[row + j - 1]!;
        T[row + j] = up > left ? up : left;
      }
    }
  }

  const total = T[m * w + n]!;
  const codes = new Uint16Array(total);
  const matches: LcsMatch[] = [];
  let k = total;
  let i = m;
  let j = n;
  // Current run, tracked as its end (inclusive) in a/b and its length; -1 = none.
  let runAEnd = -1;
  let runBEnd = -1;
  let runLen = 0;

  const emit = (): void => {
    if (minMatchLen <= 0 || runLen >= minMatchLen) {
      matches.push({
        a: [runAEnd - runLen + 1, runAEnd],
        b: [runBEnd - runLen + 1, runBEnd],
        len: runLen,
      });
    }
    runAEnd = -1;
    runLen = 0;
  };

  while (i > 0 && j > 0) {
    if (A[i - 1] === B[j - 1]) {
      codes[--k] = A[i - 1]!;
      if (runAEnd < 0) {
        runAEnd = i - 1;
        runBEnd = j - 1;
      }
      runLen++;
      i--;
      j--;
      // A run touching the start of either string is complete.
      if (i === 0 || j === 0) emit();
    } else {
      if (T[(i - 1) * w + j]! > T[i * w + j - 1]!) i--;
      else j--;
      if (runAEnd >= 0) emit();
    }
  }

  return { str: codesToString(codes), len: total, matches };
}

/**
 * LCS length only (LCS ... LEN), with O(min(alen, blen)) memory. Same value as
 * lcs(a, b).len.
 */
export function lcsLength(a: Bytes, b: Bytes): number {
  let A = codeArray(a);
  let B = codeArray(b);
  if (B.length > A.length) [A, B] = [B, A];
  const n = B.length;
  let prev = new Uint32Array(n + 1);
  let cur = new Uint32Array(n + 1);
  for (let i = 1; i <= A.length; i++) {
    const ai = A[i - 1];
    for (let j = 1; j <= n; j++) {
      if (ai === B[j - 1]) cur[j] = prev[j - 1]! + 1;
      else cur[j] = prev[j]! > cur[j - 1]! ? prev[j]! : cur[j - 1]!;
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n]!;
}
