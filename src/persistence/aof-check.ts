/**
 * `cacheside check-aof [--fix] <file.manifest|file.aof>`, in the manner of
 * redis-check-aof: with a manifest, every file it lists (the base, RDB or
 * commands, then the incremental files); with a single file, that file
 * (an RDB preamble followed by commands, or commands only). Each file is
 * parsed to the last complete, well-formed command; anything after it (a
 * truncated or damaged tail, an unfinished MULTI) makes the file invalid.
 * `--fix` truncates the invalid tail of the last file after confirmation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AofReader, AofFormatError } from './aof-reader.js';
import { ManifestError, parseManifest } from './aof-manifest.js';
import { RdbDecoder, RdbError } from './rdb-decoder.js';
import { checkRdbFile } from './rdb-check.js';

export interface AofCheckOptions {
  fix: boolean;
  /** Asked before truncating a file (redis-check-aof asks "Continue? [y/N]"). */
  confirm: (question: string) => Promise<boolean>;
  out: (line: string) => void;
}

interface Analysis {
  size: number;
  okUpTo: number;
  /** What is wrong after okUpTo, when something is. */
  problem: string | null;
  /** The whole file is empty. */
  empty: boolean;
}

const CHUNK = 1 << 20;

/** Where the RDB at the start of `file` ends (after its checksum); throws RdbError. */
function rdbEnd(file: string): number {
  const dec = new RdbDecoder({ source: path.basename(file) });
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    let eof = false;
    while (!dec.done) {
      if (dec.needsInput && !eof) {
        const n = fs.readSync(fd, buf, 0, CHUNK, pos);
        if (n === 0) {
          eof = true;
          dec.finish();
        } else {
          pos += n;
          dec.feed(Buffer.from(buf.subarray(0, n)));
        }
        continue;
      }
      dec.step(1 << 16);
    }
    return dec.offset;
  } finally {
    fs.closeSync(fd);
  }
}

/** Parse the commands of `file` from `start`: how far it is sound. */
function analyzeCommands(file: string, start: number): Analysis {
  const size = fs.statSync(file).size;
  const reader = new AofReader(start);
  const fd = fs.openSync(file, 'r');
  let problem: string | null = null;
  let multiAt = -1;
  let okUpTo = start;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = start;
    let eof = false;
    for (;;) {
      let argv: string[] | null;
      try {
        argv = reader.next();
      } catch (e) {
        if (!(e instanceof AofFormatError)) throw e;
        problem = `Bad file format at byte offset ${e.offset} (in the command starting at byte offset ${e.commandOffset})`;
        break;
      }
      if (argv === null) {
        if (eof) break;
        const n = fs.readSync(fd, buf, 0, CHUNK, pos);
        if (n === 0) eof = true;
        else {
          pos += n;
          reader.feed(Buffer.from(buf.subarray(0, n)));
        }
        continue;
      }
      const name = argv[0]!.toLowerCase();
      if (name === 'multi') {
        if (multiAt >= 0) {
          problem = `Unexpected MULTI at byte offset ${okUpTo}`;
          break;
        }
        multiAt = okUpTo;
      } else if (name === 'exec') {
        if (multiAt < 0) {
          problem = `Unexpected EXEC at byte offset ${okUpTo}`;
          break;
        }
        multiAt = -1;
      }
      okUpTo = reader.validUpTo;
    }
    if (problem === null && reader.truncated) problem = `Unexpected end of file at byte offset ${size} (truncated command starting at byte offset ${reader.validUpTo})`;
    if (multiAt >= 0) {
      // A transaction without its EXEC is cut before its MULTI.
      problem ??= `Reached EOF before reading EXEC for MULTI at byte offset ${multiAt}`;
      okUpTo = multiAt;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { size, okUpTo, problem, empty: size === 0 };
}

/** Line number of `offset`, counting lines of the command part (from `from`). */
function lineOf(file: string, from: number, offset: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    let lines = 1;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let pos = from; pos < offset; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, offset - pos), pos);
      if (n === 0) break;
      for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
      pos += n;
    }
    return lines;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Check one file (RDB preamble + commands, or commands). Returns true when
 * valid (or fixed). `label` prefixes the verdict ("BASE AOF", "INCR AOF", "AOF").
 */
async function checkFile(file: string, shown: string, label: string, canFix: boolean, o: AofCheckOptions): Promise<boolean> {
  let start = 0;
  const head = Buffer.alloc(5);
  const fd = fs.openSync(file, 'r');
  const n = fs.readSync(fd, head, 0, 5, 0);
  fs.closeSync(fd);
  if (n === 5 && head.toString('latin1') === 'REDIS') {
    const r = await checkRdbFile(file);
    for (const l of r.report.trimEnd().split('\n')) o.out(l.replace(file, shown));
    if (!r.ok) {
      o.out(`RDB preamble of AOF file is not sane, aborting.`);
      return false;
    }
    try {
      start = rdbEnd(file);
    } catch (e) {
      if (!(e instanceof RdbError)) throw e;
      o.out(`RDB preamble of AOF file is not sane, aborting.`);
      return false;
    }
    o.out('RDB preamble is OK, proceeding with AOF tail...');
  }
  const a = analyzeCommands(file, start);
  if (a.empty) {
    o.out(`${label} ${shown} is empty`);
    return true;
  }
  if (a.problem !== null) o.out(a.problem);
  const diff = a.size - a.okUpTo;
  o.out(`AOF analyzed: filename=${shown}, size=${a.size}, ok_up_to=${a.okUpTo}, ok_up_to_line=${lineOf(file, start, a.okUpTo)}, diff=${diff}`);
  if (diff === 0) {
    o.out(`${label} ${shown} is valid`);
    return true;
  }
  if (!o.fix) {
    o.out(`AOF ${shown} is not valid. Use the --fix option to try fixing it.`);
    return false;
  }
  if (!canFix) {
    o.out(`Failed to truncate AOF ${shown}: only the last file of an AOF can be fixed by truncation.`);
    return false;
  }
  const ok = await o.confirm(`This will shrink the AOF ${shown} from ${a.size} bytes, with ${diff} bytes, to ${a.okUpTo} bytes\nContinue? [y/N]: `);
  if (!ok) {
    o.out('Aborting...');
    return false;
  }
  try {
    fs.truncateSync(file, a.okUpTo);
  } catch (e) {
    o.out(`Failed to truncate AOF ${shown}: ${(e as Error).message}`);
    return false;
  }
  o.out(`Successfully truncated AOF ${shown}`);
  return true;
}

/** Run the check; returns the process exit code (0 = valid or fixed). */
export async function checkAof(target: string, o: AofCheckOptions): Promise<number> {
  if (!fs.existsSync(target)) {
    o.out(`Cannot open file ${target}: No such file or directory`);
    return 1;
  }
  if (!target.endsWith('.manifest')) {
    o.out('Start checking Old-Style AOF');
    return (await checkFile(target, target, 'AOF', true, o)) ? 0 : 1;
  }
  o.out('Start checking Multi Part AOF');
  const dir = path.dirname(target);
  let m;
  try {
    m = parseManifest(fs.readFileSync(target, 'latin1'));
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    o.out(`Invalid AOF manifest file format: ${e.message}`);
    return 1;
  }
  const order = m.loadOrder();
  const lastName = order[order.length - 1]?.name;
  for (const f of order) {
    if (!fs.existsSync(path.join(dir, f.name))) {
      o.out(`AOF file ${f.name} listed in the manifest does not exist`);
      return 1;
    }
  }
  if (m.base !== null) {
    const p = path.join(dir, m.base.name);
    const head = Buffer.alloc(5);
    const fd = fs.openSync(p, 'r');
    const isRdb = fs.readSync(fd, head, 0, 5, 0) === 5 && head.toString('latin1') === 'REDIS';
    fs.closeSync(fd);
    o.out(`Start to check BASE AOF (${isRdb ? 'RDB' : 'RESP'} format).`);
    if (!(await checkFile(p, m.base.name, 'BASE AOF', m.base.name === lastName, o))) return 1;
  }
  if (m.incrs.length > 0) {
    o.out('Start to check INCR files.');
    for (const f of m.incrs) {
      if (!(await checkFile(path.join(dir, f.name), f.name, 'INCR AOF', f.name === lastName, o))) return 1;
    }
  }
  o.out('All AOF files and manifest are valid');
  return 0;
}
