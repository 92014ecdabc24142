/**
 * HyperLogLog values in Redis's own byte layout, so that a value written by
 * redis-server (SET of its raw bytes, DUMP/RESTORE) counts the same here and
 * the other way round. An HLL is an ordinary string value:
 *
 *   header (16 bytes)
 *     0..3   "HYLL"
 *     4      encoding: 0 dense, 1 sparse
 *     5..7   unused (kept as found)
 *     8..15  cached cardinality, 64-bit little-endian; the top bit of byte 15
 *            set means "cache invalid" (an invalidation only sets that bit,
 *            the other bytes keep the stale value)
 *   registers
 *     dense:  16384 registers of 6 bits, register i at bit offset 6*i, bits
 *             numbered from the least significant bit of each byte
 *             (12288 bytes: a dense HLL is exactly 12304 bytes long)
 *     sparse: a run-length code of the registers, opcodes
 *             ZERO  00xxxxxx           1..64 zero registers
 *             XZERO 01xxxxxx yyyyyyyy 1..16384 zero registers (14-bit len-1)
 *             VAL   1vvvvvxx           1..4 registers of value 1..32
 *
 * An element is hashed with MurmurHash64A (seed 0xadc83b19) over its bytes;
 * the low 14 bits pick the register and the register value is the position
 * of the lowest set bit among the remaining 50 bits (1-based, 51 when none).
 * A sparse value turns dense for good when a register needs a value above 32
 * or when a change would grow it beyond hll-sparse-max-bytes.
 *
 * The cardinality is Otmar Ertl's improved raw estimator ("New cardinality
 * estimation algorithms for HyperLogLog sketches", 2017) computed from the
 * histogram of register values.
 *
 * Everything here works on raw bytes: `HllBytes` is a buffer and the length
 * in use (a MutableString has that shape); writers take a MutableString and
 * may change its length or replace its buffer.
 */
import type { MutableString } from '../keyspace/values.js';

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
export const HLL_REGISTER_MAX = 63;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + (HLL_REGISTERS * 6) / 8;
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
/** The largest value and run length a VAL opcode holds. */
export const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;
const ENC_BYTE = 4;
const CARD_BYTE = 8;
/** Seed of the element hash. */
const HASH_SEED = 0xadc83b19;
/** 1 / (2 ln 2): the estimator's asymptotic alpha (as the nearest double of its decimal expansion). */
const ALPHA_INF = 0.72134752044448170368;

/** Bytes of an HLL: `buf` may be longer than `len`, only the first `len` bytes count. */
export interface HllBytes {
  buf: Uint8Array;
  len: number;
}

/** The outcome of a register update: changed, unchanged, or corrupt sparse data. */
export const CHANGED = 1;
export const UNCHANGED = 0;
export const CORRUPT = -1;
export type SetResult = typeof CHANGED | typeof UNCHANGED | typeof CORRUPT;

// ---------------------------------------------------------------------------
// MurmurHash64A on 32-bit halves (a 64-bit value is hi:lo, both uint32)

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
let mulHi = 0;
let mulLo = 0;

/** mulHi:mulLo = (aHi:aLo * bHi:bLo) mod 2^64. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33
  const low = a0 * b0 + (mid % 65536) * 65536; // < 2^33
  const carry = low >= 4294967296 ? 1 : 0;
  mulLo = low >>> 0;
  const high = a1 * b1 + Math.floor(mid / 65536) + carry;
  mulHi = (high + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
}

let hashHi = 0;
let hashLo = 0;

/** MurmurHash64A of the latin1 bytes of `s`; the result is left in hashHi:hashLo. */
function murmur64a(s: string, seed: number): void {
  const len = s.length;
  mul64(0, len, M_HI, M_LO);
  let hHi = mulHi;
  let hLo = (mulLo ^ seed) >>> 0;
  const blocksEnd = len - (len & 7);
  for (let i = 0; i < blocksEnd; i += 8) {
    let kLo =
      (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    let kHi =
      (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>>
      0;
    mul64(kHi, kLo, M_HI, M_LO);
    kHi = mulHi;
    kLo = (mulLo ^ (mulHi >>> 15)) >>> 0; // k ^= k >> 47
    mul64(kHi, kLo, M_HI, M_LO);
    hHi = (hHi ^ mulHi) >>> 0;
    hLo = (hLo ^ mulLo) >>> 0;
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = mulHi;
    hLo = mulLo;
  }
  const rest = len & 7;
  if (rest > 0) {
    for (let j = 0; j < rest; j++) {
      const b = s.charCodeAt(blocksEnd + j);
      if (j < 4) hLo ^= b << (8 * j);
      else hHi ^= b << (8 * (j - 4));
    }
    mul64(hHi >>> 0, hLo >>> 0, M_HI, M_LO);
    hHi = mulHi;
    hLo = mulLo;
  }
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  mul64(hHi, hLo, M_HI, M_LO);
  hashHi = mulHi;
  hashLo = (mulLo ^ (mulHi >>> 15)) >>> 0;
}

/** The 64-bit element hash as a bigint (for tests). */
export function elementHash(ele: string): bigint {
  murmur64a(ele, HASH_SEED);
  return (BigInt(hashHi) << 32n) | BigInt(hashLo);
}

/** Trailing zeros of a non-zero uint32. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * The register an element goes to and the value it proposes, packed as
 * index * 64 + value (value 1..51).
 */
export function registerOf(ele: string): number {
  murmur64a(ele, HASH_SEED);
  const index = hashLo & (HLL_REGISTERS - 1);
  // The 50 bits above the index, with a sentinel at bit 50.
  const lo = ((hashLo >>> HLL_P) | (hashHi << (32 - HLL_P))) >>> 0;
  const hi = (hashHi >>> HLL_P) | (1 << (HLL_Q - 32));
  const value = lo !== 0 ? ctz32(lo) + 1 : ctz32(hi) + 33;
  return index * 64 + value;
}

// ---------------------------------------------------------------------------
// Header

/** Is this string a HyperLogLog (magic, known encoding, exact dense size)? */
export function isHll(h: HllBytes): boolean {
  const b = h.buf;
  if (h.len < HLL_HDR_SIZE) return false;
  if (b[0] !== 0x48 || b[1] !== 0x59 || b[2] !== 0x4c || b[3] !== 0x4c) return false;
  const enc = b[ENC_BYTE]!;
  if (enc > HLL_SPARSE) return false;
  return enc !== HLL_DENSE || h.len === HLL_DENSE_SIZE;
}

export function encodingOfHll(h: HllBytes): number {
  return h.buf[ENC_BYTE]!;
}

/** Is the cached cardinality valid? */
export function cacheValid(h: HllBytes): boolean {
  return (h.buf[CARD_BYTE + 7]! & 0x80) === 0;
}

/** Mark the cached cardinality stale (only the flag bit changes). */
export function invalidateCache(h: HllBytes): void {
  h.buf[CARD_BYTE + 7]! |= 0x80;
}

/** The cached cardinality (valid or not: the caller checks cacheValid). */
export function cachedCard(h: HllBytes): number | bigint {
  const b = h.buf;
  const lo = (b[CARD_BYTE]! | (b[CARD_BYTE + 1]! << 8) | (b[CARD_BYTE + 2]! << 16) | (b[CARD_BYTE + 3]! << 24)) >>> 0;
  const hi = (b[CARD_BYTE + 4]! | (b[CARD_BYTE + 5]! << 8) | (b[CARD_BYTE + 6]! << 16) | (b[CARD_BYTE + 7]! << 24)) >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

/** Store a cardinality in the header (as a 64-bit two's complement value). */
export function storeCard(h: HllBytes, card: number | bigint): void {
  let v = BigInt.asUintN(64, BigInt(card));
  for (let i = 0; i < 8; i++) {
    h.buf[CARD_BYTE + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** A new, empty sparse HLL (one XZERO covering every register), cache valid at 0. */
export function emptySparseBytes(): Buffer {
  const b = Buffer.alloc(HLL_HDR_SIZE + 2);
  b.write('HYLL', 0, 'latin1');
  b[ENC_BYTE] = HLL_SPARSE;
  b[HLL_HDR_SIZE] = 0x40 | ((HLL_REGISTERS - 1) >> 8);
  b[HLL_HDR_SIZE + 1] = (HLL_REGISTERS - 1) & 0xff;
  return b;
}

// ---------------------------------------------------------------------------
// Dense registers

/** Register i of a dense HLL (`b` is the whole value: registers start at byte 16). */
export function denseGet(b: Uint8Array, i: number): number {
  const bit = i * 6;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const shift = bit & 7;
  const next = shift > 2 ? b[at + 1]! : 0;
  return ((b[at]! >>> shift) | (next << (8 - shift))) & HLL_REGISTER_MAX;
}

export function denseWrite(b: Uint8Array, i: number, v: number): void {
  const bit = i * 6;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const shift = bit & 7;
  b[at] = (b[at]! & ~(HLL_REGISTER_MAX << shift)) | (v << shift);
  if (shift > 2) {
    const spill = 8 - shift;
    b[at + 1] = (b[at + 1]! & ~(HLL_REGISTER_MAX >>> spill)) | (v >>> spill);
  }
}

/** Raise register i to v if it is lower. */
export function denseSet(b: Uint8Array, i: number, v: number): SetResult {
  if (denseGet(b, i) >= v) return UNCHANGED;
  denseWrite(b, i, v);
  return CHANGED;
}

/** Add every register value of a dense HLL to `histo`. */
function denseHistogram(b: Uint8Array, histo: Float64Array): void {
  // Four registers per three bytes.
  for (let at = HLL_HDR_SIZE; at < HLL_DENSE_SIZE; at += 3) {
    const b0 = b[at]!;
    const b1 = b[at + 1]!;
    const b2 = b[at + 2]!;
    histo[b0 & 63]!++;
    histo[((b0 >>> 6) | (b1 << 2)) & 63]!++;
    histo[((b1 >>> 4) | (b2 << 4)) & 63]!++;
    histo[b2 >>> 2]!++;
  }
}

// ---------------------------------------------------------------------------
// Sparse opcodes

const isZero = (op: number): boolean => (op & 0xc0) === 0;
const isXzero = (op: number): boolean => (op & 0xc0) === 0x40;
const zeroLen = (op: number): number => (op & 0x3f) + 1;
const xzeroLen = (op: number, next: number): number => (((op & 0x3f) << 8) | next) + 1;
const valValue = (op: number): number => ((op >>> 2) & 0x1f) + 1;
const valLen = (op: number): number => (op & 3) + 1;
const valOp = (value: number, len: number): number => 0x80 | ((value - 1) << 2) | (len - 1);

/** The byte at `p`, or 0 past the end (a truncated XZERO reads a zero length byte). */
function byteAt(h: HllBytes, p: number): number {
  return p < h.len ? h.buf[p]! : 0;
}

/** Push the opcodes of a run of `len` zero registers. */
function pushZeros(out: number[], len: number): void {
  if (len > SPARSE_ZERO_MAX_LEN) out.push(0x40 | ((len - 1) >> 8), (len - 1) & 0xff);
  else out.push(len - 1);
}

/** Replace `oldLen` bytes at `p` with `seq`, moving the tail. */
function splice(m: MutableString, p: number, oldLen: number, seq: number[]): void {
  const end = m.len;
  const delta = seq.length - oldLen;
  if (delta > 0) {
    m.growTo(end + delta);
    m.buf.copyWithin(p + seq.length, p + oldLen, end);
  } else if (delta < 0) {
    m.buf.copyWithin(p + seq.length, p + oldLen, end);
    m.len = end + delta;
  }
  for (let i = 0; i < seq.length; i++) m.buf[p + i] = seq[i]!;
}

/**
 * Merge adjacent VAL opcodes of equal value whose runs fit one opcode,
 * looking at no more than five opcodes from `from`.
 */
function mergeAdjacentVals(m: MutableString, from: number): void {
  const b = m.buf;
  let p = from;
  let budget = 5;
  while (p < m.len && budget-- > 0) {
    const op = b[p]!;
    if (isXzero(op)) {
      p += 2;
      continue;
    }
    if (isZero(op)) {
      p++;
      continue;
    }
    if (p + 1 < m.len) {
      const nx = b[p + 1]!;
      if (!isZero(nx) && !isXzero(nx) && valValue(op) === valValue(nx)) {
        const len = valLen(op) + valLen(nx);
        if (len <= SPARSE_VAL_MAX_LEN) {
          b[p + 1] = valOp(valValue(op), len);
          b.copyWithin(p, p + 1, m.len);
          m.len--;
          continue; // try the merged opcode with the next one
        }
      }
    }
    p++;
  }
}

/**
 * Raise register `index` of a sparse HLL to `count` if lower, keeping the
 * sparse code minimal the way Redis does (so that the bytes match). Turns the
 * value dense when `count` does not fit a VAL opcode or the code would grow
 * beyond `maxBytes`.
 */
export function sparseSet(m: MutableString, index: number, count: number, maxBytes: number): SetResult {
  if (count > SPARSE_VAL_MAX_VALUE) return promoteAndSet(m, index, count);
  const b = m.buf;
  const end = m.len;
  // Find the opcode covering `index`.
  let p = HLL_HDR_SIZE;
  let prev = -1;
  let first = 0;
  let span = 0;
  let opLen = 1;
  while (p < end) {
    const op = b[p]!;
    opLen = 1;
    if (isZero(op)) span = zeroLen(op);
    else if (isXzero(op)) {
      span = xzeroLen(op, byteAt(m, p + 1));
      opLen = 2;
    } else span = valLen(op);
    if (index <= first + span - 1) break;
    prev = p;
    p += opLen;
    first += span;
  }
  if (span === 0 || p >= end) return CORRUPT;

  const op = b[p]!;
  const zero = isZero(op);
  const xzero = isXzero(op);
  if (!zero && !xzero) {
    if (valValue(op) >= count) return UNCHANGED;
    if (span === 1) {
      b[p] = valOp(count, 1);
      return updated(m, prev);
    }
  } else if (zero && span === 1) {
    b[p] = valOp(count, 1);
    return updated(m, prev);
  }

  // Split the run into [first, index-1] [index] [index+1, last].
  const last = first + span - 1;
  const seq: number[] = [];
  if (zero || xzero) {
    if (index !== first) pushZeros(seq, index - first);
    seq.push(valOp(count, 1));
    if (index !== last) pushZeros(seq, last - index);
  } else {
    const cur = valValue(op);
    if (index !== first) seq.push(valOp(cur, index - first));
    seq.push(valOp(count, 1));
    if (index !== last) seq.push(valOp(cur, last - index));
  }
  const delta = seq.length - opLen;
  if (delta > 0 && end + delta > maxBytes) return promoteAndSet(m, index, count);
  splice(m, p, opLen, seq);
  return updated(m, prev);
}

function updated(m: MutableString, prev: number): SetResult {
  mergeAdjacentVals(m, prev >= 0 ? prev : HLL_HDR_SIZE);
  invalidateCache(m);
  return CHANGED;
}

function promoteAndSet(m: MutableString, index: number, count: number): SetResult {
  if (!sparseToDense(m)) return CORRUPT;
  return denseSet(m.buf, index, count);
}

/**
 * Turn a sparse HLL dense in place (header kept, encoding byte changed).
 * False, leaving the value untouched, when the sparse code is corrupt: its
 * runs must cover exactly the 16384 registers (an overflow anywhere fails).
 */
export function sparseToDense(m: MutableString): boolean {
  if (m.buf[ENC_BYTE] === HLL_DENSE) return true;
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  dense.set(m.buf.subarray(0, HLL_HDR_SIZE), 0);
  dense[ENC_BYTE] = HLL_DENSE;
  const covered = forEachSparseRun(m, (first, len, value) => {
    if (value > 0) for (let j = first; j < first + len; j++) denseWrite(dense, j, value);
  });
  if (!covered) return false;
  m.buf = dense;
  m.len = HLL_DENSE_SIZE;
  return true;
}

/**
 * Visit the runs of a sparse HLL in order: `visit(first, len, value)` for each
 * run of `len` registers from `first` holding `value` (0 for ZERO / XZERO).
 * False when its code is corrupt: a run passing the last register (the walk
 * stops before visiting it), or runs not covering exactly all registers.
 */
function forEachSparseRun(h: HllBytes, visit: (first: number, len: number, value: number) => void): boolean {
  const b = h.buf;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < h.len) {
    const op = b[p]!;
    let run: number;
    let value = 0;
    if (isZero(op)) {
      run = zeroLen(op);
      p++;
    } else if (isXzero(op)) {
      run = xzeroLen(op, byteAt(h, p + 1));
      p += 2;
    } else {
      run = valLen(op);
      value = valValue(op);
      p++;
    }
    if (idx + run > HLL_REGISTERS) return false;
    visit(idx, run, value);
    idx += run;
  }
  return idx === HLL_REGISTERS;
}

/** Add every register value of a sparse HLL to `histo`; false when the code does not cover exactly all registers. */
function sparseHistogram(h: HllBytes, histo: Float64Array): boolean {
  return forEachSparseRun(h, (_first, len, value) => {
    histo[value]! += len;
  });
}

/** PFDEBUG DECODE: the sparse opcodes as "z:len", "Z:len" and "v:value,len", space-separated. */
export function decodeSparse(h: HllBytes): string {
  const b = h.buf;
  const parts: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < h.len) {
    const op = b[p]!;
    if (isZero(op)) {
      parts.push(`z:${zeroLen(op)}`);
      p++;
    } else if (isXzero(op)) {
      parts.push(`Z:${xzeroLen(op, byteAt(h, p + 1))}`);
      p += 2;
    } else {
      parts.push(`v:${valValue(op)},${valLen(op)}`);
      p++;
    }
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------
// Adding, merging, counting

/** PFADD of one element. */
export function hllAdd(m: MutableString, ele: string, maxBytes: number): SetResult {
  const r = registerOf(ele);
  const index = r >>> 6;
  const count = r & 63;
  if (m.buf[ENC_BYTE] === HLL_DENSE) return denseSet(m.buf, index, count);
  return sparseSet(m, index, count, maxBytes);
}

/** Raise register `index` to `count` in whatever encoding the value has. */
export function hllSet(m: MutableString, index: number, count: number, maxBytes: number): SetResult {
  if (m.buf[ENC_BYTE] === HLL_DENSE) return denseSet(m.buf, index, count);
  return sparseSet(m, index, count, maxBytes);
}

/**
 * max[i] = max(max[i], register i) for every register of a valid HLL; false
 * when its sparse code is corrupt (runs not covering exactly all registers;
 * `max` may then be partly updated).
 */
export function mergeInto(max: Uint8Array, h: HllBytes): boolean {
  const b = h.buf;
  if (b[ENC_BYTE] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(b, i);
      if (v > max[i]!) max[i] = v;
    }
    return true;
  }
  return forEachSparseRun(h, (first, len, value) => {
    if (value > 0) for (let j = first; j < first + len; j++) if (value > max[j]!) max[j] = value;
  });
}

/** sigma(x) of Ertl's estimator (x = fraction of zero registers). */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let prevZ: number;
  do {
    x *= x;
    prevZ = z;
    z += x * y;
    y += y;
  } while (prevZ !== z);
  return z;
}

/** tau(x) of Ertl's estimator (x = fraction of registers below the maximum value). */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let prevZ: number;
  do {
    x = Math.sqrt(x);
    prevZ = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (prevZ !== z);
  return z / 3;
}

const INT64_MIN_BITS = -9223372036854775808n;

/**
 * The cardinality estimate from a histogram of register values (64 slots).
 * Rounded half away from zero; an estimate beyond the int64 range (only
 * reachable with hand-made registers) comes out as INT64_MIN, as C's llround
 * does on x86-64.
 */
export function estimate(histo: Float64Array): number | bigint {
  const m = HLL_REGISTERS;
  let z = m * tau((m - histo[HLL_Q + 1]!) / m);
  for (let k = HLL_Q; k >= 1; k--) {
    z += histo[k]!;
    z *= 0.5;
  }
  z += m * sigma(histo[0]! / m);
  const e = (ALPHA_INF * m * m) / z;
  if (!(e < 9223372036854775808)) return INT64_MIN_BITS;
  const r = Math.round(e);
  return r <= Number.MAX_SAFE_INTEGER ? r : BigInt(r);
}

/** The estimate of a valid HLL, or null when its sparse code is corrupt. */
export function hllCount(h: HllBytes): number | bigint | null {
  const histo = new Float64Array(64);
  if (h.buf[ENC_BYTE] === HLL_DENSE) denseHistogram(h.buf, histo);
  else if (!sparseHistogram(h, histo)) return null;
  return estimate(histo);
}

/** The estimate of raw registers (one byte per register), as several-key PFCOUNT does. */
export function registersCount(max: Uint8Array): number | bigint {
  const histo = new Float64Array(64);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[max[i]! & 63]!++;
  return estimate(histo);
}
