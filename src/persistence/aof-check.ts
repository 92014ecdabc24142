/**
 * `cacheside check-aof [--fix] <file.manifest|file.aof>`, in the manner of
 * redis-check-aof: with a manifest, every file it lists (the base, RDB or
 * commands, then the incremental files); with a single file, that file
 * (an RDB preamble followed by commands, or commands only). Each file is
 * parsed to the last complete, well-formed command; anything after it (a
 * truncated or damaged tail, an unfinished MULTI) makes the file invalid.
 * `--fix` truncates the invalid tail of the last file after confirmation.
 * `--truncate-to-timestamp <ts>` cuts the last file before its first
 * `#TS:<unix seconds>` annotation later than ts (written by the server with
 * aof-timestamp-enabled yes): a point-in-time recovery, as redis-check-aof
 * 7.0 does it (no confirmation; refused when that annotation is in a file
 * that is not the last one, or when nothing would be left of the file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanAofCommands } from './aof-check-scan.js';
import { ManifestError, parseManifest } from './aof-manifest.js';
import { RdbDecoder, RdbError } from './rdb-decoder.js';
import { checkRdbFile } from './rdb-check.js';

export interface AofCheckOptions {
  fix: boolean;
  /** --truncate-to-timestamp (unix seconds); 0 = not given. */
  truncateToTimestamp?: number;
  /** Asked before truncating a file (redis-check-aof asks "Continue? [y/N]"). */
  confirm: (question: string) => Promise<boolean>;
  out: (line: string) => void;
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

/**
 * Check one file (RDB preamble + commands, or commands). Returns true when
 * valid (or fixed). `label` prefixes the verdict ("BASE AOF", "INCR AOF", "AOF").
 */
async function checkFile(file: string, shown: string, label: string, canFix: boolean, o: AofCheckOptions, lines: { n: number }): Promise<boolean> {
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
  const ts = o.truncateToTimestamp ?? 0;
  const a = scanAofCommands(file, start, lines, ts, shown);
  if (a.size === 0) {
    o.out(`${label} ${shown} is empty`);
    return true;
  }
  if (a.tsAt !== null) return truncateToTimestamp(file, shown, a.tsAt, ts, canFix, o);
  if (ts !== 0 && a.problem === null && a.okUpTo === a.size) {
    o.out(`Truncate nothing in AOF ${shown} to timestamp ${ts}`);
    o.out(`${label} ${shown} is valid`);
    return true;
  }
  if (a.problem !== null) o.out(a.problem);
  const diff = a.size - a.okUpTo;
  o.out(`AOF analyzed: filename=${shown}, size=${a.size}, ok_up_to=${a.okUpTo}, ok_up_to_line=${lines.n}, diff=${diff}`);
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

/** --truncate-to-timestamp found a later annotation at `at` in `file`: cut the file there. */
function truncateToTimestamp(file: string, shown: string, at: number, ts: number, last: boolean, o: AofCheckOptions): boolean {
  if (at === 0) {
    o.out(`AOF ${file} has nothing before timestamp ${ts}, aborting...`);
    return false;
  }
  if (!last) {
    o.out(`Failed to truncate AOF ${file} to timestamp ${ts} to offset ${at} because it is not the last file.`);
    o.out(
      'If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof.',
    );
    return false;
  }
  try {
    fs.truncateSync(file, at);
  } catch (e) {
    o.out(`Failed to truncate AOF ${file} to timestamp ${ts}: ${(e as Error).message}`);
    return false;
  }
  o.out(`Successfully truncated AOF ${shown} to timestamp ${ts}`);
  return true;
}

/**
 * The --truncate-to-timestamp argument as redis-check-aof reads it (strtol:
 * optional blanks and sign, decimal digits, nothing after, within 64 bits);
 * null when invalid ("Invalid timestamp, aborting...").
 */
export function parseTimestampArg(s: string): number | null {
  if (s === '') return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[1]!);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null;
  return Number(v);
}

/** Run the check; returns the process exit code (0 = valid or fixed). */
export async function checkAof(target: string, o: AofCheckOptions): Promise<number> {
  if (!fs.existsSync(target)) {
    o.out(`Cannot open file ${target}: No such file or directory`);
    return 1;
  }
  if (!target.endsWith('.manifest')) {
    o.out('Start checking Old-Style AOF');
    return (await checkFile(target, target, 'AOF', true, o, { n: 1 })) ? 0 : 1;
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
  // Lines are counted over every file of the run, as redis-check-aof does.
  const lines = { n: 1 };
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
    if (!(await checkFile(p, m.base.name, 'BASE AOF', m.base.name === lastName, o, lines))) return 1;
  }
  if (m.incrs.length > 0) {
    o.out('Start to check INCR files.');
    for (const f of m.incrs) {
      if (!(await checkFile(path.join(dir, f.name), f.name, 'INCR AOF', f.name === lastName, o, lines))) return 1;
    }
  }
  o.out('All AOF files and manifest are valid');
  return 0;
}
