/**
 * Incremental RESP request parser: multibulk (`*<n>\r\n$<len>\r\n...`) and
 * inline commands, any split of the byte stream across chunks, pipelining.
 *
 * Pull-based: `feed(chunk)` appends bytes, `next()` returns the next complete
 * command as latin1 strings, or null when more bytes are needed. The caller may
 * stop pulling at any time (a blocked client) and resume later.
 *
 * Large bulk arguments are assembled into a buffer preallocated to their
 * declared length, so a 100 MB value costs one copy, not a quadratic re-concat.
 */
import { latin1Decode, latin1Slice } from './bytes.js';

export class ProtocolError extends Error {}

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** Redis's bound on the multibulk length (1024*1024 for unauthenticated clients is 10). */
  maxMultibulkLen: number;
  /** Inline requests longer than this are refused (Redis: PROTO_INLINE_MAX_SIZE, 64 KiB). */
  maxInlineLen: number;
  /** Set while the client still has to authenticate: at most 10 arguments of at most 16 KiB (Redis 7.0). */
  unauthenticated?: boolean;
}

export const defaultLimits: ParserLimits = {
  maxBulkLen: 512 * 1024 * 1024,
  maxMultibulkLen: 1024 * 1024 * 1024,
  maxInlineLen: 64 * 1024,
};

const EMPTY = Buffer.alloc(0);
/** Placeholder between commands (never written to). */
const NO_ARGS: string[] = [];
/** Multibulks up to this many arguments get an array of their exact size up front (no growth, no slack). */
const PREALLOC_MAX = 1024;
/** Bulk arguments at least this large are assembled in their own buffer. */
const BIG_ARG = 32 * 1024;

/**
 * Command names repeat all the time: the first argument is looked up in a
 * small direct-mapped table of the names seen, and the same string object
 * is returned on a match (no allocation, and its hash stays cached for the
 * command table lookup). Strings are immutable, so sharing is invisible.
 */
const NAMES: (string | undefined)[] = new Array<string | undefined>(256).fill(undefined);

/**
 * buf.indexOf(10, from): the length lines ("*3", "$5") end within a few
 * bytes, where a JS scan beats the native call; longer scans use it.
 */
function findLF(buf: Buffer, from: number): number {
  const end = Math.min(buf.length, from + 24);
  for (let i = from; i < end; i++) if (buf[i] === 10) return i;
  return end < buf.length ? buf.indexOf(10, end) : -1;
}

function commandName(buf: Buffer, start: number, len: number): string {
  const h = (len * 31 + buf[start]! * 7 + buf[start + len - 1]!) & 255;
  const c = NAMES[h];
  if (c !== undefined && c.length === len) {
    let i = 0;
    while (i < len && c.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return c;
  }
  const name = latin1Decode(buf, start, start + len);
  NAMES[h] = name;
  return name;
}

export class RespParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Multibulk state: arguments still expected, and those parsed so far. */
  private remaining = -1;
  private argv: string[] = NO_ARGS;
  /** Arguments stored in `argv` so far. */
  private argc = 0;
  /** A large bulk being assembled. */
  private big: Buffer | null = null;
  private bigFilled = 0;

  constructor(public limits: ParserLimits = defaultLimits) {}

  /** Bytes received but not yet consumed as commands (the query buffer). */
  get buffered(): number {
    return this.buf.length - this.pos + (this.big !== null ? this.bigFilled : 0);
  }

  /**
   * Bytes of the arguments already parsed of a command still incomplete
   * (Redis's argv-mem of a client mid-command): counted on demand, for the
   * memory figures, so the parse loop does no extra work.
   */
  get pendingArgBytes(): number {
    if (this.remaining < 0) return 0;
    let n = 0;
    for (let i = 0; i < this.argc; i++) n += this.argv[i]!.length;
    return n;
  }

  /** Bytes received of a big argument being assembled in its own buffer. */
  get bigArgBytes(): number {
    return this.big !== null ? this.bigFilled : 0;
  }

  /** Bytes received and not yet parsed (besides a big argument being assembled). */
  get unparsedBytes(): number {
    return this.buf.length - this.pos;
  }

  feed(chunk: Buffer): void {
    if (this.big !== null) {
      // Copy straight into the preallocated big argument.
      const need = this.big.length - this.bigFilled;
      const n = Math.min(need, chunk.length);
      chunk.copy(this.big, this.bigFilled, 0, n);
      this.bigFilled += n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
  }

  /** The next complete command, or null if more input is needed. Throws ProtocolError. */
  next(): string[] | null {
    if (this.big !== null) {
      const big = this.big;
      if (this.bigFilled < big.length) return null;
      this.argv[this.argc++] = latin1Slice(big, 0, big.length - 2);
      this.big = null;
      this.bigFilled = 0;
      this.remaining--;
    }
    if (this.remaining < 0) {
      if (this.pos >= this.buf.length) return null;
      if (this.buf[this.pos] !== 42 /* '*' */) return this.inline();
      const nl = findLF(this.buf, this.pos);
      if (nl < 0) {
        if (this.buf.length - this.pos > this.limits.maxInlineLen)
          throw new ProtocolError('too big mbulk count string');
        return null;
      }
      const n = this.readNumber(this.pos + 1, nl - 1);
      if (n === null || n > this.limits.maxMultibulkLen) throw new ProtocolError('invalid multibulk length');
      if (n > 10 && this.limits.unauthenticated === true) throw new ProtocolError('unauthenticated multibulk length');
      this.pos = nl + 1;
      if (n <= 0) return this.next(); // "*0" and "*-1" are skipped, as Redis does
      this.remaining = n;
      this.argv = n <= PREALLOC_MAX ? new Array<string>(n) : [];
      this.argc = 0;
    }
    const buf = this.buf;
    while (this.remaining > 0) {
      if (this.pos >= buf.length) return null;
      if (buf[this.pos] !== 36 /* '$' */) {
        throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[this.pos]!)}'`);
      }
      const nl = findLF(buf, this.pos);
      if (nl < 0) {
        if (buf.length - this.pos > this.limits.maxInlineLen) throw new ProtocolError('too big bulk count string');
        return null;
      }
      const len = this.readNumber(this.pos + 1, nl - 1);
      if (len === null || len < 0 || len > this.limits.maxBulkLen) throw new ProtocolError('invalid bulk length');
      if (len > 16384 && this.limits.unauthenticated === true) throw new ProtocolError('unauthenticated bulk length');
      const start = nl + 1;
      if (start + len + 2 > buf.length) {
        if (len >= BIG_ARG) {
          // Assemble this argument in its own buffer (payload + CRLF).
          this.big = Buffer.allocUnsafe(len + 2);
          this.bigFilled = buf.length - start;
          buf.copy(this.big, 0, start);
          this.buf = EMPTY;
          this.pos = 0;
        }
        return null;
      }
      this.argv[this.argc] = this.argc === 0 && len > 0 && len <= 16 ? commandName(buf, start, len) : latin1Decode(buf, start, start + len);
      this.argc++;
      this.pos = start + len + 2;
      this.remaining--;
    }
    return this.emit();
  }

  private emit(): string[] {
    const a = this.argv;
    this.argv = NO_ARGS;
    this.remaining = -1;
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    return a;
  }

  /** Parse "<digits>" between [from, crPos] where buf[crPos] must be '\r'. */
  private readNumber(from: number, crPos: number): number | null {
    const buf = this.buf;
    if (buf[crPos] !== 13 || crPos <= from) return null;
    let i = from;
    let neg = false;
    if (buf[i] === 45) {
      neg = true;
      i++;
    }
    if (i >= crPos || crPos - i > 18) return null;
    let n = 0;
    for (; i < crPos; i++) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) return null;
      n = n * 10 + c;
    }
    return neg ? -n : n;
  }

  private inline(): string[] | null {
    const nl = this.buf.indexOf(10, this.pos);
    if (nl < 0) {
      if (this.buf.length - this.pos > this.limits.maxInlineLen) throw new ProtocolError('too big inline request');
      return null;
    }
    let end = nl;
    if (end > this.pos && this.buf[end - 1] === 13) end--;
    const line = latin1Slice(this.buf, this.pos, end);
    this.pos = nl + 1;
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    const args = splitArgs(line);
    if (args === null) throw new ProtocolError('unbalanced quotes in request');
    if (args.length === 0) return this.next(); // empty lines are ignored
    return args;
  }
}

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}

/**
 * Split an inline command line the way Redis's sdssplitargs does: whitespace
 * separated, "double quotes" with \n \r \t \b \a \\ \" and \xHH escapes,
 * 'single quotes' with only \' escaped. A closing quote must be followed by
 * whitespace or the end. Returns null on unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
  for (;;) {
    while (i < n && isSpace(line[i]!)) i++;
    if (i >= n) return out;
    let cur = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === 'x' && i + 3 < n && isHex(line[i + 2]!) && isHex(line[i + 3]!)) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i]!;
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          inDq = false;
          i++;
          break;
        } else cur += c;
        i++;
      } else if (inSq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          inSq = false;
          i++;
          break;
        }
        cur += c;
        i++;
      } else {
        if (i >= n) break;
        const c = line[i]!;
        if (isSpace(c)) break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else cur += c;
        i++;
      }
    }
    out.push(cur);
  }
}
