/**
 * Incremental reader of AOF command files: `*<argc>\r\n` then argc times
 * `$<len>\r\n<bytes>\r\n`, plus `#...\r\n` annotation lines (timestamps),
 * which are skipped. Used by start-up loading, DEBUG LOADAOF and
 * `cacheside check-aof`.
 *
 * `next()` returns the next complete command, or null when more bytes are
 * needed; at the end of the file `finish()` tells whether a partial command
 * remains (a truncated tail) and where the last complete one ended. A
 * malformed command throws AofFormatError with the byte offset at which the
 * command starts and the offset of the bad byte.
 */
import { latin1Slice } from '../protocol/bytes.js';

export class AofFormatError extends Error {
  constructor(
    message: string,
    /** Offset of the first byte of the command that is malformed. */
    readonly commandOffset: number,
    /** Offset of the malformed byte. */
    readonly offset: number,
  ) {
    super(message);
  }
}

const CR = 13;
const LF = 10;
/** Largest bulk length accepted (proto-max-bulk-len's maximum is well below). */
const MAX_LEN = 2 ** 40;

export class AofReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** File offset of buf[0]. */
  private base = 0;
  /** File offset just past the last complete command (or annotation). */
  validUpTo = 0;
  /** Number of commands returned. */
  commands = 0;

  /** Start reading at file offset `offset` (after an RDB preamble). */
  constructor(offset = 0) {
    this.base = offset;
    this.validUpTo = offset;
  }

  feed(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
    } else {
      this.base += this.pos;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  /** Bytes fed and not consumed by complete commands. */
  get pending(): number {
    return this.buf.length - this.pos;
  }

  /** Current file offset (start of the next command). */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Position of the CR of the line starting at `from`, or -1 if not complete yet. */
  private lineEnd(from: number): number {
    const i = this.buf.indexOf(CR, from);
    if (i < 0 || i + 1 >= this.buf.length) return -1;
    return i;
  }

  private fail(message: string, start: number, at: number): never {
    throw new AofFormatError(message, this.base + start, this.base + at);
  }

  /** Parse a decimal integer in buf[from, to); null when malformed. */
  private int(from: number, to: number): number | null {
    if (to <= from || to - from > 15) return null;
    let n = 0;
    let i = from;
    let neg = false;
    if (this.buf[i] === 45) {
      neg = true;
      i++;
      if (i === to) return null;
    }
    for (; i < to; i++) {
      const c = this.buf[i]!;
      if (c < 48 || c > 57) return null;
      n = n * 10 + (c - 48);
    }
    return neg ? -n : n;
  }

  next(): string[] | null {
    const b = this.buf;
    for (;;) {
      const start = this.pos;
      if (start >= b.length) return null;
      const first = b[start]!;
      if (first === 35 /* # */) {
        const e = this.lineEnd(start);
        if (e < 0) return null;
        if (b[e + 1] !== LF) this.fail('Bad file format reading the append only file', start, e + 1);
        this.pos = e + 2;
        this.validUpTo = this.base + this.pos;
        continue;
      }
      if (first !== 42 /* * */) this.fail('Bad file format reading the append only file', start, start);
      let e = this.lineEnd(start);
      if (e < 0) return null;
      if (b[e + 1] !== LF) this.fail('Bad file format reading the append only file', start, e + 1);
      const argc = this.int(start + 1, e);
      if (argc === null || argc < 1) this.fail('Bad file format reading the append only file', start, start + 1);
      let p = e + 2;
      const argv: string[] = new Array(argc);
      for (let i = 0; i < argc; i++) {
        if (p >= b.length) return null;
        if (b[p] !== 36 /* $ */) this.fail('Bad file format reading the append only file', start, p);
        e = this.lineEnd(p);
        if (e < 0) return null;
        if (b[e + 1] !== LF) this.fail('Bad file format reading the append only file', start, e + 1);
        const len = this.int(p + 1, e);
        if (len === null || len < 0 || len > MAX_LEN) this.fail('Bad file format reading the append only file', start, p + 1);
        p = e + 2;
        if (p + len + 2 > b.length) return null;
        if (b[p + len] !== CR || b[p + len + 1] !== LF) this.fail('Bad file format reading the append only file', start, p + len);
        argv[i] = latin1Slice(b, p, p + len);
        p += len + 2;
      }
      this.pos = p;
      this.validUpTo = this.base + p;
      this.commands++;
      return argv;
    }
  }

  /** At end of input: true when a partial command is left over (a truncated tail). */
  get truncated(): boolean {
    return this.pos < this.buf.length;
  }
}

/** RESP encoding of one command, as a latin1 string (one char per byte). */
export function encodeCommand(argv: readonly string[]): string {
  let s = `*${argv.length}\r\n`;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    s += `$${a.length}\r\n${a}\r\n`;
  }
  return s;
}
