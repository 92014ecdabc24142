/**
 * LZF, the compression format of RDB strings (`rdbcompression yes`).
 *
 * The compressed stream is a sequence of runs, each starting with a control
 * byte `c`:
 *  - c < 32: a literal run of c + 1 bytes that follow;
 *  - otherwise a back reference: length field L = c >> 5 (7 means "7 plus the
 *    next byte"), then one more byte; the match copies L + 2 bytes starting
 *    ((c & 31) << 8 | byte) + 1 bytes back in the output (it may overlap the
 *    bytes it produces). So a match is 3..264 bytes long, at most 8192 back.
 *
 * The compressor is a greedy single-pass matcher over a hash of the next
 * three bytes; any valid stream decodes the same, the exact choice of
 * matches is ours.
 */

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3); // 264

/**
 * The hash table of the last position of each 3-byte sequence, shared by all
 * calls. Instead of clearing it for every input, positions are stored offset
 * by `epoch`, which moves past each input: an entry below the current epoch
 * belongs to an earlier input and is ignored.
 */
let table: Int32Array | null = null;
let epoch = 0;
const EPOCH_LIMIT = 0x7fffffff - (1 << 30);

/**
 * Compress `input` into at most `maxOut` bytes; null when the output would
 * not fit (the caller then stores the data uncompressed).
 */
export function lzfCompress(input: Uint8Array, maxOut: number): Buffer | null {
  const n = input.length;
  if (n === 0 || maxOut <= 0) return null;
  const out = Buffer.allocUnsafe(maxOut + 1); // one spare byte for the pending control byte
  const htab = (table ??= new Int32Array(HSIZE));
  if (epoch + n + 1 > EPOCH_LIMIT || n > 1 << 30) {
    htab.fill(0);
    epoch = 0;
  }
  const base = epoch + 1; // stored = base + position; 0 (or anything below base) = empty
  epoch = base + n;
  let ip = 0;
  let op = 1; // out[0] is reserved for the first literal run's control byte
  let lit = 0;
  while (ip + 2 < n) {
    const v = (input[ip]! << 16) | (input[ip + 1]! << 8) | input[ip + 2]!;
    const h = (Math.imul(v, 0x9e3779b1) >>> (32 - HLOG)) & (HSIZE - 1);
    const stored = htab[h]!;
    htab[h] = base + ip;
    const ref = stored - base;
    const off = ip - ref - 1;
    if (
      stored >= base &&
      off < MAX_OFF &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1] &&
      input[ref + 2] === input[ip + 2]
    ) {
      let len = 3;
      const maxLen = Math.min(MAX_REF, n - ip);
      while (len < maxLen && input[ref + len] === input[ip + len]) len++;
      // Close the literal run (or drop its unused control byte).
      if (lit > 0) out[op - lit - 1] = lit - 1;
      else op--;
      if (op + 3 + 1 > maxOut) return null;
      const l = len - 2;
      if (l < 7) out[op++] = (off >> 8) + (l << 5);
      else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // control byte of the next literal run
      // Index the positions inside the match (cheap and improves ratios).
      const end = ip + len;
      for (ip++; ip < end && ip + 2 < n; ip++) {
        const w = (input[ip]! << 16) | (input[ip + 1]! << 8) | input[ip + 2]!;
        htab[(Math.imul(w, 0x9e3779b1) >>> (32 - HLOG)) & (HSIZE - 1)] = base + ip;
      }
      ip = end;
      continue;
    }
    if (op >= maxOut) return null;
    out[op++] = input[ip++]!;
    if (++lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  while (ip < n) {
    if (op >= maxOut) return null;
    out[op++] = input[ip++]!;
    if (++lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (lit > 0) out[op - lit - 1] = lit - 1;
  else op--;
  if (op > maxOut) return null;
  return out.subarray(0, op);
}

/** Decompress into exactly `outLen` bytes; throws on a malformed stream. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  const n = input.length;
  let ip = 0;
  let op = 0;
  while (ip < n) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const len = ctrl + 1;
      if (op + len > outLen) throw new Error('LZF output overflow');
      if (ip + len > n) throw new Error('LZF input truncated');
      for (let i = 0; i < len; i++) out[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= n) throw new Error('LZF input truncated');
        len += input[ip++]!;
      }
      if (ip >= n) throw new Error('LZF input truncated');
      const ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
      len += 2;
      if (ref < 0) throw new Error('LZF back reference before the start');
      if (op + len > outLen) throw new Error('LZF output overflow');
      for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
    }
  }
  if (op !== outLen) throw new Error(`LZF output is ${op} bytes, expected ${outLen}`);
  return out;
}
