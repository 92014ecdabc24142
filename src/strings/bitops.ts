/**
 * Pure bit-level algorithms behind BITCOUNT, BITPOS, BITOP, GETBIT/SETBIT and
 * BITFIELD. Everything here works on raw byte arrays (Redis values are binary
 * strings; the command layer converts) and knows nothing about commands,
 * argument parsing or replies.
 *
 * Bit numbering follows Redis: bit 0 is the most significant bit of byte 0,
 * bit 7 the least significant bit of byte 0, bit 8 the MSB of byte 1, and so on.
 *
 * Index arguments (`start`/`end`) are already-parsed integers, in the range a
 * Redis int64 argument can take (values beyond 2^53 lose precision as JS
 * numbers, which does not change any clamping outcome).
 */

export type BitUnit = 'byte' | 'bit';
export type BitOp = 'AND' | 'OR' | 'XOR' | 'NOT';
export type BitfieldOverflow = 'WRAP' | 'SAT' | 'FAIL';

/** Default `proto-max-bulk-len` (512 MiB): bit offsets must satisfy offset/8 < this. */
export const DEFAULT_MAX_BULK_LEN = 512 * 1024 * 1024;

// ---------------------------------------------------------------------------
// popcount

const POP8 = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP8[i] = (i & 1) + POP8[i >> 1]!;

function pop32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Number of set bits in buf[from, to). */
function popcountBytes(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  let i = from;
  if (to - i >= 64) {
    // Byte-wise up to a 4-byte aligned address, then 32-bit words.
    while (((buf.byteOffset + i) & 3) !== 0) n += POP8[buf[i++]!]!;
    const words = Math.floor((to - i) / 4);
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w++) n += pop32(u32[w]!);
    i += words * 4;
  }
  while (i < to) n += POP8[buf[i++]!]!;
  return n;
}

/** Mask selecting bits lo..hi (0 = MSB, 7 = LSB) of one byte. */
function byteMask(lo: number, hi: number): number {
  return (0xff >> lo) & ((0xff << (7 - hi)) & 0xff);
}

/**
 * Redis 7 range normalisation shared by BITCOUNT and BITPOS: negative indexes
 * count from the end, then both are clamped into [0, total-1]. The result may
 * have start > end (meaning "empty range").
 */
function normalizeRange(start: number, end: number, total: number): [number, number] {
  if (start < 0) start = total + start;
  if (end < 0) end = total + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  return [start, end];
}

// ---------------------------------------------------------------------------
// BITCOUNT

/**
 * BITCOUNT. With no `start`, counts the whole string. `end` defaults to -1 when
 * only `start` is given (Redis itself rejects that form with a syntax error; the
 * caller enforces the argument shape). Missing key → caller replies 0.
 *
 * Redis 7.0 quirk reproduced: if both indexes are negative and start > end the
 * answer is 0 before any clamping (so `-1 -100` → 0), whereas `-100 -50` on a
 * short string clamps both to 0 and counts the first byte/bit.
 */
export function bitcount(buf: Uint8Array, start?: number, end?: number, unit: BitUnit = 'byte'): number {
  const len = buf.length;
  if (start === undefined) return popcountBytes(buf, 0, len);
  let e = end ?? -1;
  let s = start;
  if (s < 0 && e < 0 && s > e) return 0;
  const total = unit === 'bit' ? len * 8 : len;
  [s, e] = normalizeRange(s, e, total);
  if (s > e) return 0;
  if (unit === 'byte') return popcountBytes(buf, s, e + 1);

  const firstByte = Math.floor(s / 8);
  const lastByte = Math.floor(e / 8);
  const sBit = s % 8;
  const eBit = e % 8;
  if (firstByte === lastByte) return POP8[buf[firstByte]! & byteMask(sBit, eBit)]!;
  return (
    POP8[buf[firstByte]! & byteMask(sBit, 7)]! +
    popcountBytes(buf, firstByte + 1, lastByte) +
    POP8[buf[lastByte]! & byteMask(0, eBit)]!
  );
}

// ---------------------------------------------------------------------------
// BITPOS

/** Index of the first byte in [from, to) that is not `skip`, or `to`. */
function skipBytes(buf: Uint8Array, from: number, to: number, skip: number): number {
  let i = from;
  if (to - i >= 64) {
    while (((buf.byteOffset + i) & 3) !== 0) {
      if (buf[i] !== skip) return i;
      i++;
    }
    const words = Math.floor((to - i) / 4);
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    const skipWord = skip === 0 ? 0 : 0xffffffff;
    let w = 0;
    while (w < words && u32[w] === skipWord) w++;
    i += w * 4;
  }
  while (i < to && buf[i] === skip) i++;
  return i;
}

/** Position (0..7, from the MSB) of the first `bit` within the masked byte, or -1. */
function firstBitInByte(byte: number, mask: number, bit: 0 | 1): number {
  const v = (bit === 1 ? byte : ~byte) & mask;
  return v === 0 ? -1 : Math.clz32(v) - 24;
}

/**
 * BITPOS for an existing key (the buffer may be empty, e.g. after SET k "").
 *
 * Caller responsibilities: for a *missing* key Redis replies 0 when looking
 * for bit 0 and -1 when looking for bit 1, whatever the range; BIT unit in
 * Redis requires an explicit end (`BITPOS k 0 5 BIT` fails to parse "BIT" as
 * the end, "ERR value is not an integer or out of range").
 *
 * Semantics: indexes are normalised like BITCOUNT (but *without* BITCOUNT's
 * "both negative and start > end" shortcut); an empty range gives -1 (so an
 * empty existing string gives -1 even for bit 0). If no matching bit is in the
 * range: bit 1 → -1; bit 0 → -1 when the end was given explicitly, otherwise
 * the first bit after the string (len*8), as if the value were right-padded
 * with zeros.
 *
 * `endGiven` defaults to `end !== undefined`; pass it explicitly if the caller
 * substitutes a default end.
 */
export function bitpos(
  buf: Uint8Array,
  bit: 0 | 1,
  start?: number,
  end?: number,
  unit: BitUnit = 'byte',
  endGiven: boolean = end !== undefined,
): number {
  const len = buf.length;
  const total = unit === 'bit' ? len * 8 : len;
  const [s, e] = normalizeRange(start ?? 0, end ?? total - 1, total);
  if (s > e) return -1;
  const sb = unit === 'bit' ? s : s * 8; // first bit of the range
  const eb = unit === 'bit' ? e : e * 8 + 7; // last bit of the range
  const firstByte = Math.floor(sb / 8);
  const lastByte = Math.floor(eb / 8);

  let found = -1;
  if (firstByte === lastByte) {
    const p = firstBitInByte(buf[firstByte]!, byteMask(sb % 8, eb % 8), bit);
    if (p >= 0) found = firstByte * 8 + p;
  } else {
    let p = firstBitInByte(buf[firstByte]!, byteMask(sb % 8, 7), bit);
    if (p >= 0) {
      found = firstByte * 8 + p;
    } else {
      const i = skipBytes(buf, firstByte + 1, lastByte, bit === 1 ? 0 : 0xff);
      if (i < lastByte) {
        found = i * 8 + firstBitInByte(buf[i]!, 0xff, bit);
      } else {
        p = firstBitInByte(buf[lastByte]!, byteMask(0, eb % 8), bit);
        if (p >= 0) found = lastByte * 8 + p;
      }
    }
  }
  if (found >= 0) return found;
  if (bit === 1 || endGiven) return -1;
  return (lastByte + 1) * 8;
}

// ---------------------------------------------------------------------------
// BITOP

/**
 * BITOP. Missing source keys should be passed as empty arrays (Redis treats
 * them as zero-length strings). The result is as long as the longest source,
 * with shorter sources zero-padded (so AND with a short/missing source yields
 * zeros in the tail). A zero-length result means the caller deletes the
 * destination and replies 0; otherwise it stores the result and replies its
 * length. NOT takes exactly one source (the caller replies "ERR BITOP NOT must
 * be called with a single source key."); this function throws otherwise.
 */
export function bitop(op: BitOp, sources: Uint8Array[]): Buffer {
  if (op === 'NOT') {
    if (sources.length !== 1) throw new RangeError('BITOP NOT takes exactly one source');
    const src = sources[0]!;
    const out = Buffer.allocUnsafe(src.length);
    for (let i = 0; i < src.length; i++) out[i] = ~src[i]! & 0xff;
    return out;
  }
  let maxLen = 0;
  for (const s of sources) if (s.length > maxLen) maxLen = s.length;
  const out = Buffer.alloc(maxLen);
  if (sources.length === 0) return out;
  out.set(sources[0]!);
  for (let k = 1; k < sources.length; k++) {
    const src = sources[k]!;
    const n = src.length;
    if (op === 'AND') {
      for (let i = 0; i < n; i++) out[i]! &= src[i]!;
      if (n < maxLen) out.fill(0, n);
    } else if (op === 'OR') {
      for (let i = 0; i < n; i++) out[i]! |= src[i]!;
    } else {
      for (let i = 0; i < n; i++) out[i]! ^= src[i]!;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// GETBIT / SETBIT

/** Bytes a string must have for bit `offset` to exist. */
export function bytesNeededForBit(offset: number): number {
  return Math.floor(offset / 8) + 1;
}

/** GETBIT: bits past the end of the value (or of a missing key) read as 0. */
export function getbit(buf: Uint8Array, offset: number): 0 | 1 {
  const byte = Math.floor(offset / 8);
  if (byte >= buf.length) return 0;
  return ((buf[byte]! >> (7 - (offset % 8))) & 1) as 0 | 1;
}

/**
 * SETBIT on a buffer already grown (zero-filled) to at least
 * bytesNeededForBit(offset) bytes; returns the previous bit. Throws RangeError
 * if the buffer is too short.
 */
export function setbit(buf: Uint8Array, offset: number, bit: 0 | 1): 0 | 1 {
  const byte = Math.floor(offset / 8);
  if (byte >= buf.length) throw new RangeError('setbit: buffer too short for offset');
  const shift = 7 - (offset % 8);
  const old = ((buf[byte]! >> shift) & 1) as 0 | 1;
  if (bit) buf[byte]! |= 1 << shift;
  else buf[byte]! &= ~(1 << shift) & 0xff;
  return old;
}

// ---------------------------------------------------------------------------
// BITFIELD

/**
 * Parses a BITFIELD type: `i1`..`i64` or `u1`..`u63`. Returns null for anything
 * else; the caller replies
 *   "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
 * Matches redis-server 7.0: the prefix letter is case-SENSITIVE (`I8`/`U8` are
 * rejected), and the width must be a canonical integer (`i08`, `i+8`, `i 8` are
 * rejected).
 */
export function parseBitfieldType(s: string): { signed: boolean; bits: number } | null {
  const m = /^([iu])(0|[1-9][0-9]{0,2})$/.exec(s);
  if (!m) return null;
  const signed = m[1] === 'i';
  const bits = Number(m[2]);
  if (bits < 1 || bits > (signed ? 64 : 63)) return null;
  return { signed, bits };
}

function parseOffsetDigits(digits: string, multiplier: number, maxBulkLen: number): number | null {
  // Redis parses with string2ll: canonical decimal, no sign/space/leading zeros.
  // Negative values are always rejected afterwards, so they are rejected here.
  if (!/^(0|[1-9][0-9]{0,18})$/.test(digits)) return null;
  const off = BigInt(digits) * BigInt(multiplier);
  if (off >> 3n >= BigInt(maxBulkLen)) return null;
  return Number(off);
}

/**
 * Parses a BITFIELD offset: a plain bit offset (`100`) or `#N`, meaning N*bits.
 * Returns null when invalid; the caller replies
 *   "ERR bit offset is not an integer or out of range".
 * Valid offsets satisfy offset/8 < proto-max-bulk-len (default 512 MiB, i.e.
 * offset <= 2^32-1).
 *
 * Deliberate divergence: redis-server 7.0 multiplies `#N` by the width in
 * int64 without an overflow check, so e.g. `#2305843009213693952` with i8
 * wraps to offset 0 and is accepted; here it is rejected as out of range.
 */
export function parseBitfieldOffset(s: string, bits: number, maxBulkLen: number = DEFAULT_MAX_BULK_LEN): number | null {
  if (s.startsWith('#')) return parseOffsetDigits(s.slice(1), bits, maxBulkLen);
  return parseOffsetDigits(s, 1, maxBulkLen);
}

/**
 * Parses a SETBIT/GETBIT offset (no `#` form). Null → the caller replies
 * "ERR bit offset is not an integer or out of range".
 */
export function parseBitOffset(s: string, maxBulkLen: number = DEFAULT_MAX_BULK_LEN): number | null {
  return parseOffsetDigits(s, 1, maxBulkLen);
}

/** Bytes a string must have to hold a `bits`-wide field at bit `offset`. */
export function bytesNeededForField(offset: number, bits: number): number {
  return Math.floor((offset + bits - 1) / 8) + 1;
}

/** Inclusive value range of a field type. */
export function bitfieldRange(bits: number, signed: boolean): { min: bigint; max: bigint } {
  if (signed) {
    const half = 1n << BigInt(bits - 1);
    return { min: -half, max: half - 1n };
  }
  return { min: 0n, max: (1n << BigInt(bits)) - 1n };
}

/**
 * BITFIELD GET: reads a `bits`-wide field (MSB first) at bit `offset`. Bits past
 * the end of the buffer read as 0 (a missing key reads as 0 everywhere).
 */
export function bitfieldGet(buf: Uint8Array, offset: number, bits: number, signed: boolean): bigint {
  let hi = 0;
  let lo = 0;
  const len = buf.length;
  for (let i = 0; i < bits; i++) {
    const pos = offset + i;
    const byte = Math.floor(pos / 8);
    const b = byte < len ? (buf[byte]! >> (7 - (pos % 8))) & 1 : 0;
    hi = ((hi << 1) | (lo >>> 31)) >>> 0;
    lo = ((lo << 1) | b) >>> 0;
  }
  const u = bits > 32 ? (BigInt(hi) << 32n) | BigInt(lo) : BigInt(lo);
  return signed ? BigInt.asIntN(bits, u) : u;
}

/**
 * BITFIELD SET primitive: writes the low `bits` bits of `value` (two's
 * complement) at bit `offset`. No overflow handling: pass the result of
 * bitfieldClampForSet / bitfieldIncr. The buffer must already hold
 * bytesNeededForField(offset, bits) bytes (RangeError otherwise).
 * `signed` does not affect the stored bits; it is accepted for symmetry.
 */
export function bitfieldSet(buf: Uint8Array, offset: number, bits: number, signed: boolean, value: bigint): void {
  void signed;
  if (bytesNeededForField(offset, bits) > buf.length) {
    throw new RangeError('bitfieldSet: buffer too short for field');
  }
  const u = BigInt.asUintN(bits, value);
  const hi = Number(u >> 32n);
  const lo = Number(u & 0xffffffffn);
  for (let i = 0; i < bits; i++) {
    const j = bits - 1 - i; // bit of `u` to write, counted from its LSB
    const b = j >= 32 ? (hi >>> (j - 32)) & 1 : (lo >>> j) & 1;
    const pos = offset + i;
    const byte = Math.floor(pos / 8);
    const mask = 1 << (7 - (pos % 8));
    if (b) buf[byte]! |= mask;
    else buf[byte]! &= ~mask & 0xff;
  }
}

/**
 * BITFIELD INCRBY arithmetic. `old` is the current field value (from
 * bitfieldGet), `incr` the int64 increment. When old+incr fits the type the
 * sum is returned with overflowed=false. Otherwise overflowed=true and:
 *  - WRAP: value = (old+incr) modulo 2^bits (sign-extended for signed types);
 *  - SAT:  value = the type's max on overflow upward, min (0 for unsigned) downward;
 *  - FAIL: value = old, unchanged: the caller must NOT write and replies nil
 *          for this operation (other operations in the command still run).
 * For WRAP/SAT the caller writes `value` and replies with it.
 */
export function bitfieldIncr(
  old: bigint,
  incr: bigint,
  bits: number,
  signed: boolean,
  overflow: BitfieldOverflow,
): { value: bigint; overflowed: boolean } {
  const { min, max } = bitfieldRange(bits, signed);
  const sum = old + incr;
  if (sum >= min && sum <= max) return { value: sum, overflowed: false };
  switch (overflow) {
    case 'WRAP':
      return { value: signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum), overflowed: true };
    case 'SAT':
      return { value: sum > max ? max : min, overflowed: true };
    case 'FAIL':
      return { value: old, overflowed: true };
  }
}

/**
 * Value BITFIELD SET actually stores for an int64 argument `value` under the
 * given OVERFLOW mode, or null (FAIL and out of range: the caller writes
 * nothing and replies nil). The caller replies with the *old* value otherwise.
 *
 * Redis quirk reproduced for unsigned types: the int64 argument is reinterpreted
 * as uint64, so a negative value counts as a huge positive one, i.e. it
 * overflows *upward*: `OVERFLOW SAT SET u8 0 -1` stores 255 (not 0), WRAP stores
 * value mod 2^bits (255), FAIL rejects.
 */
export function bitfieldClampForSet(
  value: bigint,
  bits: number,
  signed: boolean,
  overflow: BitfieldOverflow,
): bigint | null {
  const { min, max } = bitfieldRange(bits, signed);
  const v = signed ? value : BigInt.asUintN(64, value);
  if (v >= min && v <= max) return v;
  switch (overflow) {
    case 'WRAP':
      return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
    case 'SAT':
      return v > max ? max : min;
    case 'FAIL':
      return null;
  }
}
