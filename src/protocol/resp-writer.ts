/**
 * RESP2/RESP3 encoder for one client. Replies accumulate in pooled 16 KiB
 * chunks and are handed to the socket once per event-loop turn by the
 * connection (see server/connection.ts), so a pipeline of N commands costs one
 * write, not N.
 */
import type { Reply } from './reply.js';
import { latin1Write } from './bytes.js';
import { formatDouble17g } from '../numbers/format.js';

const CHUNK = 16 * 1024;
/** Strings at least this long are written as their own chunk, not copied. */
const BIG = 4 * 1024;
const POOL_MAX = 128;
const pool: Buffer[] = [];

const CRLF = Buffer.from('\r\n');
const OK = Buffer.from('+OK\r\n');
const NULL_BULK2 = Buffer.from('$-1\r\n');
const NULL_ARRAY2 = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');

/** Cached "$<n>\r\n" / "*<n>\r\n" / ":<n>\r\n" headers for small n. */
const SMALL = 1024;
function headerTable(prefix: string): Buffer[] {
  const t: Buffer[] = [];
  for (let i = 0; i < SMALL; i++) t.push(Buffer.from(`${prefix}${i}\r\n`, 'latin1'));
  return t;
}
const BULK_HDR = headerTable('$');
const ARRAY_HDR = headerTable('*');
const INT_HDR = headerTable(':');

function cleanLine(s: string): string {
  // Redis replaces newlines in status/error lines so the protocol stays intact.
  return s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0 ? s.replace(/[\r\n]/g, ' ') : s;
}

export class RespWriter implements Reply {
  resp: 2 | 3 = 2;
  /** Called when output goes from empty to non-empty: the owner schedules a flush. */
  onFirstWrite: (() => void) | null = null;
  private muted: { buf: Buffer | null; pos: number; chunks: Buffer[]; chunkBytes: number } | null = null;
  private buf: Buffer | null = null;
  private pos = 0;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  /** Bytes encoded but not yet handed to the socket. */
  get pendingBytes(): number {
    return this.chunkBytes + this.pos;
  }

  hasPending(): boolean {
    return this.pos > 0 || this.chunks.length > 0;
  }

  /**
   * Take everything encoded so far: one Buffer, or several to be written with
   * cork/uncork. Small outputs are copied out so the chunk returns to the pool.
   */
  take(): Buffer[] {
    const out = this.chunks;
    if (this.buf !== null && this.pos > 0) {
      if (out.length === 0 && this.pos <= CHUNK / 2) {
        out.push(Buffer.from(this.buf.subarray(0, this.pos)));
        this.release();
      } else {
        out.push(this.buf.subarray(0, this.pos));
        this.buf = null;
        this.pos = 0;
      }
    } else this.release();
    this.chunks = [];
    this.chunkBytes = 0;
    return out;
  }

  /** Drop any encoded output (client closing). */
  discard(): void {
    this.chunks = [];
    this.chunkBytes = 0;
    this.release();
  }

  private release(): void {
    if (this.buf !== null) {
      if (pool.length < POOL_MAX && this.buf.length === CHUNK) pool.push(this.buf);
      this.buf = null;
    }
    this.pos = 0;
  }

  /** Start discarding replies (CLIENT REPLY OFF / SKIP) until unmute(). */
  mute(): void {
    if (this.muted !== null) return;
    this.muted = { buf: this.buf, pos: this.pos, chunks: this.chunks, chunkBytes: this.chunkBytes };
    this.buf = null;
    this.pos = 0;
    this.chunks = [];
    this.chunkBytes = 0;
  }

  unmute(): void {
    const m = this.muted;
    if (m === null) return;
    this.release();
    this.muted = null;
    this.buf = m.buf;
    this.pos = m.pos;
    this.chunks = m.chunks;
    this.chunkBytes = m.chunkBytes;
  }

  private ensure(n: number): Buffer {
    let b = this.buf;
    if (b === null) {
      if (this.chunks.length === 0 && this.muted === null && this.onFirstWrite !== null) this.onFirstWrite();
      b = this.buf = n <= CHUNK ? pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK) : Buffer.allocUnsafeSlow(n);
      this.pos = 0;
    } else if (this.pos + n > b.length) {
      if (this.pos > 0) this.pushChunk(b.subarray(0, this.pos));
      b = this.buf = Buffer.allocUnsafeSlow(Math.max(CHUNK, n));
      this.pos = 0;
    }
    return b;
  }

  private pushChunk(c: Buffer): void {
    if (this.chunks.length === 0 && this.buf === null && this.muted === null && this.onFirstWrite !== null) this.onFirstWrite();
    this.chunks.push(c);
    this.chunkBytes += c.length;
  }

  private raw(src: Buffer): void {
    const n = src.length;
    const b = this.ensure(n);
    if (n <= 16) {
      // A byte loop beats the native copy call for the tiny constant headers.
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = src[i]!;
      this.pos = p;
      return;
    }
    src.copy(b, this.pos);
    this.pos += n;
  }

  private ascii(s: string): void {
    const b = this.ensure(s.length);
    this.pos += latin1Write(b, s, this.pos);
  }

  private header(table: Buffer[], prefix: string, n: number): void {
    if (n >= 0 && n < SMALL) this.raw(table[n]!);
    else if (n >= SMALL && n <= 0xffffffff) this.uint32Line(prefix.charCodeAt(0), n);
    else this.ascii(prefix + n + '\r\n');
  }

  private payload(s: string): void {
    const len = s.length;
    if (len >= BIG) {
      if (this.buf !== null && this.pos > 0) {
        this.pushChunk(this.buf.subarray(0, this.pos));
        this.buf = null;
        this.pos = 0;
      }
      this.pushChunk(Buffer.from(s, 'latin1'));
      this.raw(CRLF);
      return;
    }
    const b = this.ensure(len + 2);
    let p = this.pos;
    if (len <= 32) {
      // Short payloads (list elements, members, fields): a byte loop avoids a native call per string.
      for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
    } else p += latin1Write(b, s, p);
    b[p++] = 13;
    b[p++] = 10;
    this.pos = p;
  }

  ok(): void {
    this.raw(OK);
  }
  simple(s: string): void {
    this.ascii('+' + cleanLine(s) + '\r\n');
  }
  error(line: string): void {
    // Like Redis's formatted errors: CR/LF at either end are trimmed, the others become spaces.
    this.ascii('-' + cleanLine(line.replace(/^[\r\n]+|[\r\n]+$/g, '')) + '\r\n');
  }
  int(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < SMALL && Number.isInteger(n)) this.raw(INT_HDR[n]!);
    else if (typeof n === 'number' && n >= SMALL && n <= 0xffffffff && Number.isInteger(n)) this.uint32Line(58 /* ':' */, n);
    else this.ascii(':' + n.toString() + '\r\n');
  }

  /** "<prefix><n>\r\n" for an integer 0 <= n < 2^32, digits written straight into the buffer (no string). */
  private uint32Line(prefix: number, n: number): void {
    const digits = n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
    const b = this.ensure(digits + 3);
    let p = this.pos;
    b[p] = prefix;
    let q = p + digits;
    while (q > p) {
      const t = (n / 10) >>> 0;
      b[q--] = 48 + n - t * 10;
      n = t;
    }
    p += digits + 1;
    b[p++] = 13;
    b[p++] = 10;
    this.pos = p;
  }
  bulk(s: string | null): void {
    if (s === null) {
      this.nullBulk();
      return;
    }
    this.header(BULK_HDR, '$', s.length);
    this.payload(s);
  }
  bulkBytes(v: Uint8Array): void {
    this.header(BULK_HDR, '$', v.length);
    if (v.length >= BIG) {
      if (this.buf !== null && this.pos > 0) {
        this.pushChunk(this.buf.subarray(0, this.pos));
        this.buf = null;
        this.pos = 0;
      }
      this.pushChunk(Buffer.from(v.buffer, v.byteOffset, v.length));
      this.raw(CRLF);
      return;
    }
    const b = this.ensure(v.length + 2);
    b.set(v, this.pos);
    this.pos += v.length;
    b[this.pos++] = 13;
    b[this.pos++] = 10;
  }
  nullBulk(): void {
    this.raw(this.resp === 3 ? NULL3 : NULL_BULK2);
  }
  nullArray(): void {
    this.raw(this.resp === 3 ? NULL3 : NULL_ARRAY2);
  }
  arrayLen(n: number): void {
    this.header(ARRAY_HDR, '*', n);
  }
  mapLen(n: number): void {
    if (this.resp === 3) this.ascii('%' + n + '\r\n');
    else this.header(ARRAY_HDR, '*', n * 2);
  }
  setLen(n: number): void {
    if (this.resp === 3) this.ascii('~' + n + '\r\n');
    else this.header(ARRAY_HDR, '*', n);
  }
  pushLen(n: number): void {
    if (this.resp === 3) this.ascii('>' + n + '\r\n');
    else this.header(ARRAY_HDR, '*', n);
  }
  double(d: number, text?: string): void {
    if (this.resp === 3) {
      const s = text ?? (Number.isNaN(d) ? 'nan' : formatDouble17g(d));
      this.ascii(',' + s + '\r\n');
    } else this.bulk(text ?? formatDouble17g(d));
  }
  bool(b: boolean): void {
    if (this.resp === 3) this.ascii(b ? '#t\r\n' : '#f\r\n');
    else this.int(b ? 1 : 0);
  }
  verbatim(s: string, format = 'txt'): void {
    if (this.resp === 3) {
      this.ascii('=' + (s.length + 4) + '\r\n' + format + ':');
      this.payload(s);
    } else this.bulk(s);
  }
  bigNumber(s: string): void {
    if (this.resp === 3) this.ascii('(' + s + '\r\n');
    else this.bulk(s);
  }
  attributeLen(n: number): void {
    if (this.resp === 3) this.ascii('|' + n + '\r\n');
  }
  bulkArray(items: readonly (string | null)[]): void {
    this.arrayLen(items.length);
    for (let i = 0; i < items.length; i++) this.bulk(items[i]!);
  }
}
