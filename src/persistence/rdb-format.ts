/**
 * RDB format constants, the error type, the low-level writer (lengths,
 * strings with integer and LZF encodings) and reader, shared by the encoder
 * (rdb-encoder.ts), the decoder (rdb-decoder.ts) and the stream codec.
 *
 * Lengths: 00xxxxxx (6 bits), 01xxxxxx yyyyyyyy (14 bits, big-endian),
 * 0x80 + u32 BE, 0x81 + u64 BE. 11xxxxxx introduces a special string
 * encoding: 0 int8, 1 int16 LE, 2 int32 LE (the string is the decimal text),
 * 3 LZF (compressed length, original length, compressed bytes).
 */
import { latin1Slice, latin1Write } from '../protocol/bytes.js';
import { lzfCompress, lzfDecompress } from './lzf.js';

/** The version cacheside writes: Redis 7.0's. */
export const RDB_VERSION = 10;
/** The newest version cacheside reads (Redis 7.4). */
export const RDB_MAX_READ_VERSION = 12;

export const RdbType = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;

export const RdbOpcode = {
  SLOT_INFO: 244,
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2). */
export const QUICKLIST_NODE_PLAIN = 1;
export const QUICKLIST_NODE_PACKED = 2;

/** A malformed, truncated or unsupported RDB file or DUMP payload. */
export class RdbError extends Error {
  constructor(
    message: string,
    /** Byte offset in the file (or payload) where the problem was found; -1 when unknown. */
    readonly offset = -1,
    /** The problem alone, without the file name and offset the message may add. */
    readonly reason = message,
  ) {
    super(message);
    this.name = 'RdbError';
  }
}

/** Redis's wording for a malformed encoded blob ("Ziplist integrity check failed."), else the decoder's reason. */
export function redisErrorReason(e: RdbError): string {
  const m = /^invalid ((?:zset |hash |stream )?(?:ziplist|listpack)|intset|zipmap)\b/.exec(e.reason);
  if (m !== null) return `${m[1]![0]!.toUpperCase()}${m[1]!.slice(1)} integrity check failed.`;
  if (/^(stream listpack|empty listpack inside stream)/.test(e.reason)) return 'Stream listpack integrity check failed.';
  if (/^duplicate|odd number of elements/.test(e.reason)) return `${e.reason}: integrity check failed.`;
  return e.reason;
}

/** The CRC-64 trailer does not match the data (`expected`: computed; `got`: stored in the file). */
export class RdbChecksumError extends RdbError {
  constructor(
    message: string,
    offset: number,
    readonly expected: bigint,
    readonly got: bigint,
    reason = message,
  ) {
    super(message, offset, reason);
  }
}

/** Thrown by the reader when the buffered input ends inside an item (incremental decoding). */
export class NeedMore {
  constructor(readonly at: number) {}
}

// ---- writing ---------------------------------------------------------------------

const CHUNK = 64 * 1024;
/** Strings at least this long are appended as their own buffer rather than copied into a chunk. */
const BIG = 16 * 1024;

/**
 * Appends RDB-encoded items to a list of buffers (64 KiB chunks, large
 * strings as their own buffers). `compress` enables LZF for strings longer
 * than 20 bytes, as `rdbcompression yes`.
 */
export class RdbWriter {
  protected out: Buffer[] = [];
  protected cur: Buffer = Buffer.allocUnsafe(CHUNK);
  protected pos = 0;
  /** Bytes written so far. */
  written = 0;

  constructor(readonly compress: boolean) {}

  protected seal(): void {
    if (this.pos === 0) return;
    this.out.push(this.cur.subarray(0, this.pos));
    this.cur = this.pos > CHUNK / 2 ? Buffer.allocUnsafe(CHUNK) : this.cur.subarray(this.pos);
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.seal();
    if (n > this.cur.length) this.cur = Buffer.allocUnsafe(Math.max(n, CHUNK));
  }

  byte(b: number): void {
    this.ensure(1);
    this.cur[this.pos++] = b;
    this.written++;
  }

  raw(b: Uint8Array): void {
    const n = b.length;
    if (n >= BIG) {
      this.seal();
      this.out.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, n));
    } else {
      this.ensure(n);
      this.cur.set(b, this.pos);
      this.pos += n;
    }
    this.written += n;
  }

  private latin1(s: string): void {
    const n = s.length;
    if (n >= BIG) {
      this.seal();
      this.out.push(Buffer.from(s, 'latin1'));
    } else {
      this.ensure(n);
      latin1Write(this.cur, s, this.pos);
      this.pos += n;
    }
    this.written += n;
  }

  len(n: number): void {
    this.ensure(9);
    const b = this.cur;
    let p = this.pos;
    if (n < 64) b[p++] = n;
    else if (n < 16384) {
      b[p++] = 0x40 | (n >> 8);
      b[p++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      b[p++] = 0x80;
      b.writeUInt32BE(n, p);
      p += 4;
    } else {
      b[p++] = 0x81;
      b.writeBigUInt64BE(BigInt(n), p);
      p += 8;
    }
    this.written += p - this.pos;
    this.pos = p;
  }

  /** A length-encoded unsigned 64-bit value (stream IDs and counters); a negative bigint/number is written as its two's complement. */
  lenU64(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= 0xffffffff) return this.len(v);
    this.ensure(9);
    this.cur[this.pos] = 0x81;
    this.cur.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)), this.pos + 1);
    this.pos += 9;
    this.written += 9;
  }

  /** A millisecond time (or any int64), 8 bytes little-endian. */
  millis(ms: number): void {
    this.ensure(8);
    if (ms >= 0 && ms <= Number.MAX_SAFE_INTEGER) {
      this.cur.writeUInt32LE(ms % 4294967296, this.pos);
      this.cur.writeUInt32LE(Math.floor(ms / 4294967296), this.pos + 4);
    } else this.cur.writeBigInt64LE(BigInt(Math.trunc(ms)), this.pos);
    this.pos += 8;
    this.written += 8;
  }

  /** A binary double, 8 bytes little-endian (ZSET_2 scores). */
  double(d: number): void {
    this.ensure(8);
    this.cur.writeDoubleLE(d, this.pos);
    this.pos += 8;
    this.written += 8;
  }

  /**
   * A string (rdbSaveRawString): as an int8/16/32 when it is the canonical
   * text of one (11 bytes at most), LZF-compressed when compression is on,
   * it is longer than 20 bytes and compresses by at least 4 bytes, else
   * plain.
   */
  string(s: string): void {
    const n = s.length;
    if (n <= 11 && n > 0 && this.intString(s)) return;
    if (this.compress && n > 20) {
      const b = Buffer.from(s, 'latin1');
      if (this.lzf(b)) return;
      this.len(n);
      this.raw(b);
      return;
    }
    this.len(n);
    this.latin1(s);
  }

  /** A binary blob as an RDB string (listpacks, intsets): LZF when enabled and worth it, else plain. */
  blob(b: Buffer): void {
    if (this.compress && b.length > 20 && this.lzf(b)) return;
    this.len(b.length);
    this.raw(b);
  }

  private lzf(b: Buffer): boolean {
    const c = lzfCompress(b, b.length - 4);
    if (c === null) return false;
    this.byte(0xc3);
    this.len(c.length);
    this.len(b.length);
    this.raw(c);
    return true;
  }

  /** Int-encode a canonical integer string that fits 32 bits; false when it does not qualify. */
  private intString(s: string): boolean {
    const c0 = s.charCodeAt(0);
    let i = c0 === 45 ? 1 : 0;
    if (i === s.length) return false;
    const first = s.charCodeAt(i);
    if (first === 48 && s.length !== 1) return false;
    let v = 0;
    for (; i < s.length; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      v = v * 10 + d;
    }
    if (c0 === 45) v = -v;
    this.ensure(5);
    const b = this.cur;
    if (v >= -128 && v <= 127) {
      b[this.pos] = 0xc0;
      b.writeInt8(v, this.pos + 1);
      this.pos += 2;
      this.written += 2;
    } else if (v >= -32768 && v <= 32767) {
      b[this.pos] = 0xc1;
      b.writeInt16LE(v, this.pos + 1);
      this.pos += 3;
      this.written += 3;
    } else if (v >= -2147483648 && v <= 2147483647) {
      b[this.pos] = 0xc2;
      b.writeInt32LE(v, this.pos + 1);
      this.pos += 5;
      this.written += 5;
    } else return false;
    return true;
  }

  /** Everything written since the last take(). */
  take(): Buffer[] {
    this.seal();
    const out = this.out;
    this.out = [];
    return out;
  }
}

// ---- reading ---------------------------------------------------------------------

/**
 * Reads RDB items from one buffer. `base` is the file offset of buf[0] (for
 * error messages). Running past the end throws NeedMore (the caller decides
 * whether that means "wait for more input" or "truncated").
 */
export class RdbReader {
  pos = 0;

  constructor(
    public buf: Buffer,
    public base = 0,
  ) {}

  get offset(): number {
    return this.base + this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new NeedMore(this.base + this.pos + n);
  }

  fail(message: string, at = this.offset): never {
    throw new RdbError(message, at);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Set by lenOrEnc(): the special string encoding (0..3) when the byte was one, else -1. */
  enc = -1;

  /** A length, or (with `enc` set to 0..3) the special string encoding that was found instead. */
  lenOrEnc(): number {
    this.need(1);
    const c = this.buf[this.pos++]!;
    const t = c >> 6;
    this.enc = -1;
    if (t === 0) return c & 0x3f;
    if (t === 1) {
      this.need(1);
      return ((c & 0x3f) << 8) | this.buf[this.pos++]!;
    }
    if (t === 3) {
      this.enc = c & 0x3f;
      return 0;
    }
    if (c === 0x80) {
      this.need(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (c === 0x81) {
      this.need(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} out of range`, this.offset - 9);
      return Number(v);
    }
    return this.fail(`invalid length encoding byte 0x${c.toString(16)}`, this.offset - 1);
  }

  /** A length that may exceed 2^53 (module type ids). */
  lenBig(): bigint {
    const c = this.buf[this.pos];
    if (c === 0x81) {
      this.pos++;
      this.need(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return v;
    }
    return BigInt(this.len());
  }

  len(): number {
    const n = this.lenOrEnc();
    if (this.enc >= 0) this.fail('expected a length, found an encoded string', this.offset - 1);
    return n;
  }

  /** A string item as raw bytes (decompressed, integers as decimal text). */
  stringBuf(): Buffer {
    const at = this.offset;
    const len = this.lenOrEnc();
    const enc = this.enc;
    if (enc < 0) return this.bytes(len);
    if (enc === 0) return Buffer.from(String(this.bytes(1).readInt8(0)), 'latin1');
    if (enc === 1) return Buffer.from(String(this.bytes(2).readInt16LE(0)), 'latin1');
    if (enc === 2) return Buffer.from(String(this.bytes(4).readInt32LE(0)), 'latin1');
    if (enc === 3) {
      const clen = this.len();
      const ulen = this.len();
      const c = this.bytes(clen);
      try {
        return lzfDecompress(c, ulen);
      } catch (e) {
        return this.fail(`invalid LZF string: ${(e as Error).message}`, at);
      }
    }
    return this.fail(`unknown string encoding ${enc}`, at);
  }

  /** A string item as a latin1 JS string. */
  string(): string {
    const at = this.offset;
    const len = this.lenOrEnc();
    const enc = this.enc;
    if (enc < 0) {
      this.need(len);
      const s = latin1Slice(this.buf, this.pos, this.pos + len);
      this.pos += len;
      return s;
    }
    if (enc === 0) return String(this.bytes(1).readInt8(0));
    if (enc === 1) return String(this.bytes(2).readInt16LE(0));
    if (enc === 2) return String(this.bytes(4).readInt32LE(0));
    this.pos = at - this.base;
    const b = this.stringBuf();
    return latin1Slice(b, 0, b.length);
  }

  /** 8-byte little-endian millisecond time. */
  millis(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  /** 4-byte little-endian seconds (old EXPIRETIME). */
  u32le(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A binary double, 8 bytes little-endian. */
  binaryDouble(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** An old-style ZSET score: a length byte (253 nan, 254 +inf, 255 -inf) then ASCII. */
  asciiDouble(): number {
    const n = this.u8();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    const s = latin1Slice(this.bytes(n), 0, n);
    const v = Number(s);
    if (Number.isNaN(v) && s.trim().toLowerCase() !== 'nan') this.fail(`invalid score '${s}'`);
    return v;
  }
}
