/**
 * The command part of an AOF file as `cacheside check-aof` reads it, in the
 * manner of redis-check-aof 7.0 (its observable behaviour: verdicts, offsets,
 * line numbers and messages):
 *  - a command is `*<argc>\r\n` then argc times `$<len>\r\n<bytes>\r\n`; a
 *    line starting with `#` is an annotation (`#TS:<unix seconds>` with
 *    aof-timestamp-enabled), skipped; anything else is a format error;
 *  - "ok up to" is the end of the last complete command outside MULTI/EXEC
 *    (a transaction without its EXEC is cut before its MULTI);
 *  - lines are counted from 1 over the whole run (every file checked), one
 *    per `*`/`$` line and one per argument read whole; annotations do not
 *    count;
 *  - errors name the offset where the failing read started, as
 *    `0x<16-wide hex>: <what>`. "Expected \r\n, got: xxyy" shows the two
 *    bytes after the number in the 128-byte buffer the line was read into,
 *    NUL-terminated, as redis-check-aof does: for `*` lines that buffer keeps
 *    what longer `*` lines before left after the terminator; for `$` lines
 *    it is zeros there (as observed from redis-check-aof 7.0.15).
 *  - with a timestamp, the scan stops at the first `#TS:` annotation later
 *    than it (the truncation point of --truncate-to-timestamp).
 */
import fs from 'node:fs';

export interface ScanResult {
  size: number;
  okUpTo: number;
  /** The error line, null when the part is sound (or only stops early at EOF). */
  problem: string | null;
  /** Offset of the first `#TS:` annotation later than the timestamp, if any. */
  tsAt: number | null;
}

const LINE_BUF = 128;
const CHUNK = 1 << 16;
/** Largest argument redis-check-aof reads (its proto-max-bulk-len default, 512 MB). */
const MAX_ARG = 512 * 1024 * 1024;

const hex2 = (a: number, b: number): string => a.toString(16).padStart(2, '0') + b.toString(16).padStart(2, '0');
const at = (off: number, msg: string): string => `0x${off.toString(16).padStart(16, ' ')}: ${msg}`;

/** Buffered positional reads of one file. */
class FileBytes {
  private buf = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private base = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** The byte at file offset `off` (-1 past the end). */
  byte(off: number): number {
    if (off >= this.size) return -1;
    if (off < this.base || off >= this.base + this.buf.length) {
      this.base = off;
      this.buf = Buffer.allocUnsafe(Math.min(CHUNK, this.size - off));
      fs.readSync(this.fd, this.buf, 0, this.buf.length, off);
    }
    return this.buf[off - this.base]!;
  }

  /** Bytes [from, to) as latin1 text. */
  text(from: number, to: number): string {
    let s = '';
    for (let i = from; i < to; i++) s += String.fromCharCode(this.byte(i));
    return s;
  }
}

/**
 * Check the commands of `file` from offset `start`. `lines` is the running
 * line count (updated). With `truncateTo` (> 0): stop at the first later
 * timestamp annotation.
 */
export function scanAofCommands(file: string, start: number, lines: { n: number }, truncateTo = 0, shown = file): ScanResult {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const f = new FileBytes(fd, size);
    const starLine = new Uint8Array(LINE_BUF);
    const dollarLine = new Uint8Array(LINE_BUF);
    let line = starLine;
    let pos = start;
    let okUpTo = start;
    let multiAt = -1;
    /** Where the last argument read started (the offset of MULTI/EXEC errors). */
    let lastArg = start;
    const res = (problem: string | null, tsAt: number | null = null): ScanResult => ({ size, okUpTo, problem, tsAt });

    /** Read one line (to its \n, at most 127 bytes) into `line`, NUL-terminated; its length, 0 at EOF. */
    const readLine = (into: Uint8Array<ArrayBuffer>): number => {
      line = into;
      let n = 0;
      while (n < LINE_BUF - 1) {
        const b = f.byte(pos + n);
        if (b < 0) break;
        line[n++] = b;
        if (b === 10) break;
      }
      line[n] = 0;
      return n;
    };

    /** A `<prefix><number>\r\n` line: the number, or an error text / null at EOF. */
    const readLong = (prefix: number): { v: number; from: number } | string | null => {
      const from = pos;
      if (prefix !== 42) dollarLine.fill(0);
      const n = readLine(prefix === 42 ? starLine : dollarLine);
      if (n === 0) return null;
      if (line[0] !== prefix) return at(from, `Expected prefix '${String.fromCharCode(prefix)}', got: '${String.fromCharCode(line[0]!)}'`);
      // strtol: optional sign and digits.
      let i = 1;
      let neg = false;
      if (line[i] === 45 || line[i] === 43) neg = line[i++] === 45;
      let v = 0;
      for (; line[i]! >= 48 && line[i]! <= 57; i++) v = v * 10 + (line[i]! - 48);
      if (i === 1 + (line[1] === 45 || line[1] === 43 ? 1 : 0)) i = 1; // no digits: the number ends where it began
      if (line[i] !== 13 || line[i + 1] !== 10) return at(from, `Expected \\r\\n, got: ${hex2(line[i]!, line[i + 1]!)}`);
      pos += n;
      lines.n++;
      return { v: neg ? -v : v, from };
    };

    for (;;) {
      const first = f.byte(pos);
      if (first < 0) break;
      if (first === 35 /* # */) {
        const from = pos;
        const n = readLine(dollarLine);
        if (truncateTo !== 0) {
          const text = f.text(from, from + n).replace(/\r?\n$/, '');
          const m = /^#TS:(-?\d+)/.exec(text);
          if (m !== null && Number(m[1]) > truncateTo) return res(null, from);
        }
        pos += n;
        if (multiAt < 0) okUpTo = pos;
        continue;
      }
      if (first !== 42 /* * */) return res(`AOF ${shown} format error`);
      const argc = readLong(42);
      if (argc === null) break;
      if (typeof argc === 'string') return res(argc);
      let name = '';
      for (let i = 0; i < argc.v; i++) {
        const len = readLong(36);
        if (len === null) return res(null);
        if (typeof len === 'string') return res(len);
        if (len.v < 0 || len.v > MAX_ARG) return res(at(len.from, `Expected to read string of ${len.v} bytes, which is not in the suitable range`));
        lastArg = pos;
        const avail = Math.max(0, size - pos);
        if (avail < len.v + 2) return res(at(pos, `Expected to read ${len.v + 2} bytes, got ${avail} bytes`));
        const cr = f.byte(pos + len.v);
        const lf = f.byte(pos + len.v + 1);
        if (cr !== 13 || lf !== 10) return res(at(pos, `Expected \\r\\n, got: ${hex2(cr, lf)}`));
        if (i === 0 && len.v <= 5) name = f.text(pos, pos + len.v).toLowerCase();
        pos += len.v + 2;
        lines.n++;
      }
      if (name === 'multi') {
        if (multiAt >= 0) return res(at(lastArg, `Unexpected MULTI in AOF ${shown}`));
        multiAt = okUpTo;
      } else if (name === 'exec') {
        if (multiAt < 0) return res(at(lastArg, `Unexpected EXEC in AOF ${shown}`));
        multiAt = -1;
      }
      if (multiAt < 0) okUpTo = pos;
    }
    if (multiAt >= 0) return res(at(lastArg, 'Reached EOF before reading EXEC for MULTI'));
    return res(null);
  } finally {
    fs.closeSync(fd);
  }
}
