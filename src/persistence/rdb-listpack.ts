/**
 * The compact blobs RDB values are made of: listpacks (written and read),
 * and, for reading older files, ziplists, zipmaps and intsets (intsets are
 * written too: a small all-integer set). Elements are latin1 strings;
 * integers read back as their decimal text.
 *
 * Listpack layout: u32 LE total bytes, u16 LE element count (65535 = "count
 * it"), the elements, then 0xFF. An element is an encoding byte (with the
 * data) followed by its "backlen": the size of encoding + data, in 1..5
 * bytes of 7 bits, the most significant first, every byte but the first
 * flagged with 0x80, so that it can be read from right to left.
 *  - 0xxxxxxx            7-bit unsigned integer
 *  - 10xxxxxx            string of up to 63 bytes
 *  - 110xxxxx yyyyyyyy   13-bit signed integer
 *  - 1110xxxx yyyyyyyy   string of up to 4095 bytes
 *  - F0 len32            string, 32-bit length
 *  - F1 / F2 / F3 / F4   16 / 24 / 32 / 64-bit signed integer, little-endian
 * A string element that is the canonical text of a 64-bit integer is stored
 * as the smallest integer encoding that holds it.
 */
import { latin1Slice, latin1Write } from '../protocol/bytes.js';
import { parseInt64 } from '../numbers/parse.js';

/** A listpack/ziplist/intset that does not parse. */
export class BlobError extends Error {}

const INT13_MIN = -4096;
const INT13_MAX = 4095;

/**
 * The integer a listpack stores for `s`, or null when `s` is kept as a
 * string: canonical (no leading zeros, "+", "-0", spaces), within int64,
 * at most 20 characters.
 */
export function listpackInt(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return null;
  if (n <= 15) {
    // Fast path: fits a double exactly.
    let i = c === 45 ? 1 : 0;
    if (i === n) return null;
    const first = s.charCodeAt(i);
    if (first === 48) return n === 1 ? 0 : null;
    let v = 0;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return null;
      v = v * 10 + d;
    }
    return c === 45 ? -v : v;
  }
  const b = parseInt64(s);
  if (b === null) return null;
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

function backlenSize(l: number): number {
  return l < 128 ? 1 : l < 16384 ? 2 : l < 2097152 ? 3 : l < 268435456 ? 4 : 5;
}

/** Size of an element's encoding + data. */
function entrySize(s: string, iv: number | bigint | null): number {
  if (iv !== null) {
    if (typeof iv === 'bigint') return iv >= -2147483648n && iv <= 2147483647n ? 5 : 9;
    if (iv >= 0 && iv <= 127) return 1;
    if (iv >= INT13_MIN && iv <= INT13_MAX) return 2;
    if (iv >= -32768 && iv <= 32767) return 3;
    if (iv >= -8388608 && iv <= 8388607) return 4;
    if (iv >= -2147483648 && iv <= 2147483647) return 5;
    return 9;
  }
  const n = s.length;
  return n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
}

/** Bytes one element takes in a listpack (encoding, data and backlen). */
export function listpackEntryBytes(s: string): number {
  const l = entrySize(s, listpackInt(s));
  return l + backlenSize(l);
}

/**
 * Builds a listpack element by element. `append` takes a latin1 string
 * (stored as an integer when it is one) or a number (an integer).
 */
export class ListpackBuilder {
  private buf: Buffer;
  private pos = 6;
  count = 0;

  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 16));
  }

  /** Current size of the listpack if finished now (header and terminator included). */
  get bytes(): number {
    return this.pos + 1;
  }

  private ensure(n: number): void {
    if (this.pos + n + 1 <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.pos + n + 1, this.buf.length * 2));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  append(v: string | number | bigint): this {
    if (typeof v === 'string') {
      const iv = listpackInt(v);
      if (iv !== null) return this.appendInt(iv);
      return this.appendString(v);
    }
    return this.appendInt(v);
  }

  appendString(s: string): this {
    const n = s.length;
    const l = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
    this.ensure(l + 5);
    const b = this.buf;
    let p = this.pos;
    if (n < 64) b[p++] = 0x80 | n;
    else if (n < 4096) {
      b[p++] = 0xe0 | (n >> 8);
      b[p++] = n & 0xff;
    } else {
      b[p++] = 0xf0;
      b.writeUInt32LE(n, p);
      p += 4;
    }
    latin1Write(b, s, p);
    this.pos = this.writeBacklen(p + n, l);
    this.count++;
    return this;
  }

  appendInt(v: number | bigint): this {
    this.ensure(14);
    const b = this.buf;
    let p = this.pos;
    let l: number;
    if (typeof v === 'bigint' && v >= -2147483648n && v <= 2147483647n) v = Number(v);
    if (typeof v === 'bigint') {
      b[p++] = 0xf4;
      b.writeBigInt64LE(v, p);
      p += 8;
      l = 9;
    } else if (v >= 0 && v <= 127) {
      b[p++] = v;
      l = 1;
    } else if (v >= INT13_MIN && v <= INT13_MAX) {
      const u = v < 0 ? v + 8192 : v;
      b[p++] = 0xc0 | (u >> 8);
      b[p++] = u & 0xff;
      l = 2;
    } else if (v >= -32768 && v <= 32767) {
      b[p++] = 0xf1;
      b.writeInt16LE(v, p);
      p += 2;
      l = 3;
    } else if (v >= -8388608 && v <= 8388607) {
      b[p++] = 0xf2;
      b.writeIntLE(v, p, 3);
      p += 3;
      l = 4;
    } else if (v >= -2147483648 && v <= 2147483647) {
      b[p++] = 0xf3;
      b.writeInt32LE(v, p);
      p += 4;
      l = 5;
    } else {
      b[p++] = 0xf4;
      b.writeBigInt64LE(BigInt(v), p);
      p += 8;
      l = 9;
    }
    this.pos = this.writeBacklen(p, l);
    this.count++;
    return this;
  }

  private writeBacklen(p: number, l: number): number {
    const b = this.buf;
    if (l < 128) b[p++] = l;
    else if (l < 16384) {
      b[p++] = l >>> 7;
      b[p++] = (l & 127) | 128;
    } else if (l < 2097152) {
      b[p++] = l >>> 14;
      b[p++] = ((l >>> 7) & 127) | 128;
      b[p++] = (l & 127) | 128;
    } else if (l < 268435456) {
      b[p++] = l >>> 21;
      b[p++] = ((l >>> 14) & 127) | 128;
      b[p++] = ((l >>> 7) & 127) | 128;
      b[p++] = (l & 127) | 128;
    } else {
      b[p++] = Math.floor(l / 268435456);
      b[p++] = ((l >>> 21) & 127) | 128;
      b[p++] = ((l >>> 14) & 127) | 128;
      b[p++] = ((l >>> 7) & 127) | 128;
      b[p++] = (l & 127) | 128;
    }
    return p;
  }

  /** The finished listpack (the builder must not be used afterwards). */
  /** Empty it, to fill it again (the buffer is kept). */
  reset(): void {
    this.pos = 6;
    this.count = 0;
  }

  finish(): Buffer {
    const b = this.buf;
    b.writeUInt32LE(this.pos + 1, 0);
    b.writeUInt16LE(this.count < 65535 ? this.count : 65535, 4);
    b[this.pos] = 0xff;
    return b.subarray(0, this.pos + 1);
  }
}

/** A listpack of these elements. */
export function buildListpack(items: Iterable<string | number | bigint>): Buffer {
  const lb = new ListpackBuilder();
  for (const v of items) lb.append(v);
  return lb.finish();
}

// ---- reading -------------------------------------------------------------------

function intText(v: number | bigint): string {
  return typeof v === 'bigint' ? v.toString() : String(v);
}

/** Every element of a listpack, integers as decimal text; validates the structure. */
export function parseListpack(b: Buffer): string[] {
  if (b.length < 7) throw new BlobError('listpack shorter than its header');
  const total = b.readUInt32LE(0);
  if (total !== b.length) throw new BlobError(`listpack header says ${total} bytes, blob has ${b.length}`);
  const declared = b.readUInt16LE(4);
  const out: string[] = [];
  let p = 6;
  const end = b.length - 1;
  while (p < end) {
    const start = p;
    const c = b[p]!;
    let s: string;
    if (c < 0x80) {
      s = String(c);
      p += 1;
    } else if (c < 0xc0) {
      const n = c & 0x3f;
      p += 1;
      if (p + n > end) throw new BlobError('listpack string runs past the end');
      s = latin1Slice(b, p, p + n);
      p += n;
    } else if (c < 0xe0) {
      if (p + 2 > end) throw new BlobError('listpack truncated');
      let v = ((c & 0x1f) << 8) | b[p + 1]!;
      if (v >= 4096) v -= 8192;
      s = String(v);
      p += 2;
    } else if (c < 0xf0) {
      if (p + 2 > end) throw new BlobError('listpack truncated');
      const n = ((c & 0x0f) << 8) | b[p + 1]!;
      p += 2;
      if (p + n > end) throw new BlobError('listpack string runs past the end');
      s = latin1Slice(b, p, p + n);
      p += n;
    } else if (c === 0xf0) {
      if (p + 5 > end) throw new BlobError('listpack truncated');
      const n = b.readUInt32LE(p + 1);
      p += 5;
      if (p + n > end) throw new BlobError('listpack string runs past the end');
      s = latin1Slice(b, p, p + n);
      p += n;
    } else if (c === 0xf1) {
      if (p + 3 > end) throw new BlobError('listpack truncated');
      s = String(b.readInt16LE(p + 1));
      p += 3;
    } else if (c === 0xf2) {
      if (p + 4 > end) throw new BlobError('listpack truncated');
      s = String(b.readIntLE(p + 1, 3));
      p += 4;
    } else if (c === 0xf3) {
      if (p + 5 > end) throw new BlobError('listpack truncated');
      s = String(b.readInt32LE(p + 1));
      p += 5;
    } else if (c === 0xf4) {
      if (p + 9 > end) throw new BlobError('listpack truncated');
      s = intText(b.readBigInt64LE(p + 1));
      p += 9;
    } else {
      throw new BlobError(`invalid listpack encoding byte 0x${c.toString(16)} at ${p}`);
    }
    const l = p - start;
    const bl = backlenSize(l);
    if (p + bl > end) throw new BlobError('listpack truncated');
    // Verify the backlen (read right to left).
    let v = 0;
    let shift = 0;
    for (let i = p + bl - 1; i >= p; i--) {
      v += (b[i]! & 127) * 2 ** shift;
      shift += 7;
    }
    if (v !== l) throw new BlobError(`listpack backlen mismatch at ${start}`);
    p += bl;
    out.push(s);
  }
  if (p !== end || b[end] !== 0xff) throw new BlobError('listpack not terminated by 0xFF');
  if (declared !== 65535 && declared !== out.length) throw new BlobError(`listpack header says ${declared} elements, found ${out.length}`);
  return out;
}

/** Every element of a ziplist (RDB 7 and older blobs), integers as decimal text. */
export function parseZiplist(b: Buffer): string[] {
  if (b.length < 11) throw new BlobError('ziplist shorter than its header');
  const total = b.readUInt32LE(0);
  if (total !== b.length) throw new BlobError(`ziplist header says ${total} bytes, blob has ${b.length}`);
  const declared = b.readUInt16LE(8);
  const out: string[] = [];
  let p = 10;
  const end = b.length - 1;
  const tail = b.readUInt32LE(4);
  let prevSize = 0;
  let last = 10;
  while (p < end) {
    // prevlen (1 byte, or 0xFE + u32): the size of the previous entry, 0 for the first.
    const start = p;
    last = start;
    if (b[p] === 0xfe && p + 5 > end) throw new BlobError('ziplist truncated');
    const prevlen = b[p] === 0xfe ? b.readUInt32LE(p + 1) : b[p]!;
    if (prevlen !== prevSize) throw new BlobError(`ziplist entry prevlen ${prevlen} does not match the previous entry's size ${prevSize}`);
    p += b[p] === 0xfe ? 5 : 1;
    if (p >= end) throw new BlobError('ziplist truncated');
    const c = b[p]!;
    const top = c >> 6;
    let s: string;
    if (top === 0) {
      const n = c & 0x3f;
      p += 1;
      if (p + n > end) throw new BlobError('ziplist string runs past the end');
      s = latin1Slice(b, p, p + n);
      p += n;
    } else if (top === 1) {
      const n = ((c & 0x3f) << 8) | b[p + 1]!;
      p += 2;
      if (p + n > end) throw new BlobError('ziplist string runs past the end');
      s = latin1Slice(b, p, p + n);
      p += n;
    } else if (top === 2) {
      const n = b.readUInt32BE(p + 1);
      p += 5;
      if (p + n > end) throw new BlobError('ziplist string runs past the end');
      s = latin1Slice(b, p, p + n);
      p += n;
    } else if (c === 0xc0) {
      s = String(b.readInt16LE(p + 1));
      p += 3;
    } else if (c === 0xd0) {
      s = String(b.readInt32LE(p + 1));
      p += 5;
    } else if (c === 0xe0) {
      s = intText(b.readBigInt64LE(p + 1));
      p += 9;
    } else if (c === 0xf0) {
      s = String(b.readIntLE(p + 1, 3));
      p += 4;
    } else if (c === 0xfe) {
      s = String(b.readInt8(p + 1));
      p += 2;
    } else if (c >= 0xf1 && c <= 0xfd) {
      s = String((c & 0x0f) - 1);
      p += 1;
    } else {
      throw new BlobError(`invalid ziplist encoding byte 0x${c.toString(16)}`);
    }
    if (p > end) throw new BlobError('ziplist entry runs past the end');
    prevSize = p - start;
    out.push(s);
  }
  if (p !== end || b[end] !== 0xff) throw new BlobError('ziplist not terminated by 0xFF');
  if (tail !== last) throw new BlobError(`ziplist tail offset ${tail} is not the last entry's offset ${last}`);
  if (declared !== 65535 && declared !== out.length) throw new BlobError(`ziplist header says ${declared} elements, found ${out.length}`);
  return out;
}

/** Field/value pairs of a zipmap (RDB_TYPE_HASH_ZIPMAP, Redis 2.x), flattened. */
export function parseZipmap(b: Buffer): string[] {
  const out: string[] = [];
  let p = 1; // zmlen
  const len = (): number => {
    if (p >= b.length) throw new BlobError('zipmap truncated');
    const c = b[p]!;
    if (c < 254) {
      p += 1;
      return c;
    }
    if (c === 254) {
      if (p + 5 > b.length) throw new BlobError('zipmap truncated');
      const n = b.readUInt32LE(p + 1);
      p += 5;
      return n;
    }
    p += 1;
    return -1; // 255: end
  };
  for (;;) {
    const kl = len();
    if (kl < 0) break;
    if (p + kl > b.length) throw new BlobError('zipmap truncated');
    const key = latin1Slice(b, p, p + kl);
    p += kl;
    const vl = len();
    if (vl < 0) throw new BlobError('zipmap value missing');
    const free = b[p++]!;
    if (p + vl + free > b.length) throw new BlobError('zipmap truncated');
    out.push(key, latin1Slice(b, p, p + vl));
    p += vl + free;
  }
  if (p !== b.length) throw new BlobError('zipmap has bytes after its end');
  return out;
}

/** Members of an intset, ascending, as decimal text. */
export function parseIntset(b: Buffer): string[] {
  if (b.length < 8) throw new BlobError('intset shorter than its header');
  const enc = b.readUInt32LE(0);
  const n = b.readUInt32LE(4);
  if (enc !== 2 && enc !== 4 && enc !== 8) throw new BlobError(`invalid intset encoding ${enc}`);
  if (8 + n * enc !== b.length) throw new BlobError('intset size does not match its length');
  const out = new Array<string>(n);
  let prev: bigint | null = null;
  for (let i = 0; i < n; i++) {
    const p = 8 + i * enc;
    const v = enc === 2 ? BigInt(b.readInt16LE(p)) : enc === 4 ? BigInt(b.readInt32LE(p)) : b.readBigInt64LE(p);
    if (prev !== null && v <= prev) throw new BlobError('intset is not sorted or has duplicates');
    prev = v;
    out[i] = v.toString();
  }
  return out;
}

/** An intset of these integer members (decimal text), sorted ascending. */
export function buildIntset(members: readonly string[]): Buffer {
  const vals = members.map((m) => BigInt(m)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let enc = 2;
  for (const v of vals) {
    if (v < -2147483648n || v > 2147483647n) {
      enc = 8;
      break;
    }
    if (v < -32768n || v > 32767n) enc = 4;
  }
  const b = Buffer.allocUnsafe(8 + vals.length * enc);
  b.writeUInt32LE(enc, 0);
  b.writeUInt32LE(vals.length, 4);
  for (let i = 0; i < vals.length; i++) {
    const p = 8 + i * enc;
    const v = vals[i]!;
    if (enc === 2) b.writeInt16LE(Number(v), p);
    else if (enc === 4) b.writeInt32LE(Number(v), p);
    else b.writeBigInt64LE(v, p);
  }
  return b;
}
