/**
 * Redis 7's multi-part AOF manifest: which files make up the append-only
 * file, in `appenddirname`, named after `appendfilename`:
 *
 *   file appendonly.aof.1.base.rdb seq 1 type b
 *   file appendonly.aof.1.incr.aof seq 1 type i
 *   file appendonly.aof.2.incr.aof seq 2 type i
 *
 * One base file (type b: an RDB, or commands when aof-use-rdb-preamble is
 * off), incremental files (type i) appended in order, and history files
 * (type h) left over from a rewrite, deleted as soon as possible. The
 * manifest is replaced atomically (temp file, fsync, rename, fsync of the
 * directory), so a crash leaves either the old or the new one.
 */
import fs from 'node:fs';
import path from 'node:path';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofFileInfo {
  name: string;
  seq: number;
  type: AofFileType;
}

export class AofManifest {
  base: AofFileInfo | null = null;
  incrs: AofFileInfo[] = [];
  history: AofFileInfo[] = [];
  /** Highest sequence numbers used so far for base and incr files. */
  baseSeq = 0;
  incrSeq = 0;

  clone(): AofManifest {
    const m = new AofManifest();
    m.base = this.base && { ...this.base };
    m.incrs = this.incrs.map((f) => ({ ...f }));
    m.history = this.history.map((f) => ({ ...f }));
    m.baseSeq = this.baseSeq;
    m.incrSeq = this.incrSeq;
    return m;
  }

  /** The manifest text: base first, then history, then incr files in order (as Redis writes it). */
  format(): string {
    let out = '';
    const line = (f: AofFileInfo) => `file ${quoteArg(f.name)} seq ${f.seq} type ${f.type}\n`;
    if (this.base) out += line(this.base);
    for (const f of this.history) out += line(f);
    for (const f of this.incrs) out += line(f);
    return out;
  }

  /** Files to load, in order: base, then incr files. */
  loadOrder(): AofFileInfo[] {
    return this.base ? [this.base, ...this.incrs] : [...this.incrs];
  }
}

export class ManifestError extends Error {}

/** Parse manifest text. Throws ManifestError with Redis's wording. */
export function parseManifest(text: string): AofManifest {
  const m = new AofManifest();
  const lines = text.split('\n');
  if (text.length === 0) throw new ManifestError('Found an empty AOF manifest');
  let maxIncr = 0;
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (n === lines.length - 1 && line === '') break;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('#')) continue;
    if (line.length > 1024) throw new ManifestError('The AOF manifest file contains too long line');
    const argv = splitArgs(line);
    if (argv === null || argv.length < 6 || argv.length % 2 !== 0) throw new ManifestError('Invalid AOF manifest file format');
    let name: string | null = null;
    let seq: number | null = null;
    let type: string | null = null;
    for (let i = 0; i < argv.length; i += 2) {
      const k = argv[i]!;
      const v = argv[i + 1]!;
      if (k === 'file') name = v;
      else if (k === 'seq') seq = /^\d+$/.test(v) ? Number(v) : NaN;
      else if (k === 'type') type = v;
      // Unknown keys are ignored (forward compatibility), as Redis does.
    }
    if (name === null || seq === null || type === null || Number.isNaN(seq)) throw new ManifestError('Invalid AOF manifest file format');
    if (type !== 'b' && type !== 'h' && type !== 'i') throw new ManifestError(`Unknown AOF file type: ${type}`);
    const f: AofFileInfo = { name, seq, type };
    if (type === 'b') {
      if (m.base !== null) throw new ManifestError('Found duplicate base file information');
      m.base = f;
      m.baseSeq = seq;
    } else if (type === 'h') m.history.push(f);
    else {
      if (seq <= maxIncr) throw new ManifestError('Found a non-monotonic sequence number');
      maxIncr = seq;
      m.incrs.push(f);
      m.incrSeq = seq;
    }
  }
  if (m.base === null && m.incrs.length === 0 && m.history.length === 0) throw new ManifestError('Found an empty AOF manifest');
  return m;
}

/** sdssplitargs-like: spaces separate, "..." with \\ escapes and \xHH, '...' literal. Null on unbalanced quotes. */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) return out;
    let cur = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && i + 3 < n && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (c === '\\' && i + 1 < n) {
          const e = line[i + 1]!;
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
          i += 2;
        } else if (c === '"') {
          i++;
          if (i < n && !/\s/.test(line[i]!)) return null;
          break;
        } else {
          cur += c;
          i++;
        }
      }
    } else if (line[i] === "'") {
      i++;
      for (;;) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
        } else if (c === "'") {
          i++;
          if (i < n && !/\s/.test(line[i]!)) return null;
          break;
        } else {
          cur += c;
          i++;
        }
      }
    } else {
      while (i < n && !/\s/.test(line[i]!)) cur += line[i++];
    }
    out.push(cur);
  }
}

/** Quote a file name when it contains spaces, quotes or non-printable bytes (sdscatrepr). */
function quoteArg(s: string): string {
  if (/^[\x21-\x7e]+$/.test(s) && !s.includes('"') && !s.includes("'") && !s.includes('\\')) return s;
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

// ---- file names ---------------------------------------------------------------------

export function manifestName(appendfilename: string): string {
  return `${appendfilename}.manifest`;
}
export function baseName(appendfilename: string, seq: number, rdb: boolean): string {
  return `${appendfilename}.${seq}.base.${rdb ? 'rdb' : 'aof'}`;
}
export function incrName(appendfilename: string, seq: number): string {
  return `${appendfilename}.${seq}.incr.aof`;
}
export function tempIncrName(appendfilename: string): string {
  return `temp-${appendfilename}.incr`;
}

// ---- disk ---------------------------------------------------------------------------

/** fsync a directory, so a rename in it is durable (best effort: some filesystems refuse). */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported here */
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Write `data` to `file` durably: temp file in the same directory, fsync, rename, fsync the directory. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `temp-${path.basename(file)}`);
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

/** Read and parse the manifest in `dir`; null when there is none. Throws ManifestError. */
export function readManifest(dir: string, appendfilename: string): AofManifest | null {
  const p = path.join(dir, manifestName(appendfilename));
  let text: string;
  try {
    text = fs.readFileSync(p, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return parseManifest(text);
}

export function persistManifest(dir: string, appendfilename: string, m: AofManifest): void {
  writeFileAtomic(path.join(dir, manifestName(appendfilename)), m.format());
}
