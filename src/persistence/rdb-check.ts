/**
 * `cacheside check-rdb <file>`: read a whole RDB file with the loader's
 * decoder and report what it holds and whether it is sound, in the style of
 * redis-check-rdb (offsets after each item, AUX fields, databases, the
 * checksum verdict, key counts; on a problem, the offset, what was being
 * read and the key).
 */
import { open } from 'node:fs/promises';
import { RdbDecoder, RdbError } from './rdb-decoder.js';

const CHUNK = 1 << 20;

export interface RdbCheckResult {
  ok: boolean;
  report: string;
}

export async function checkRdbFile(path: string): Promise<RdbCheckResult> {
  const lines: string[] = [];
  const log = (offset: number, msg: string) => lines.push(`[offset ${offset}] ${msg}`);
  let keys = 0;
  let expires = 0;
  let expired = 0;
  const counts = () => {
    lines.push(`[info] ${keys} keys read`, `[info] ${expires} expires`, `[info] ${expired} already expired`);
  };
  log(0, `Checking RDB file ${path}`);
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    lines.push(`--- RDB ERROR DETECTED ---`, `[offset 0] Cannot open RDB file: ${(e as Error).message}`);
    return { ok: false, report: lines.join('\n') + '\n' };
  }
  const dec = new RdbDecoder({ source: path });
  const now = Date.now();
  let ok = true;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    let eof = false;
    while (!dec.done) {
      if (dec.needsInput && !eof) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
        if (bytesRead === 0) {
          eof = true;
          dec.finish();
        } else {
          pos += bytesRead;
          dec.feed(Buffer.from(buf.subarray(0, bytesRead)));
        }
        continue;
      }
      for (const ev of dec.step(1, 1)) {
        switch (ev.t) {
          case 'aux':
            log(dec.offset, `AUX FIELD ${ev.key} = '${ev.value}'`);
            break;
          case 'db':
            log(dec.offset, `Selecting DB ID ${ev.db}`);
            break;
          case 'function':
            log(dec.offset, `Function library: ${ev.code.split('\n', 1)[0]}`);
            break;
          case 'entry':
            keys++;
            if (ev.expireAtMs !== 0) {
              expires++;
              if (ev.expireAtMs < now) expired++;
            }
            break;
          case 'eof':
            if (ev.checksum === 0n) log(dec.offset, 'RDB file was saved with checksum disabled: no check performed.');
            else if (ev.checksum !== null) log(dec.offset, 'Checksum OK');
            log(dec.offset, '\\o/ RDB looks OK! \\o/');
            break;
          default:
            break;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    ok = false;
    lines.push('--- RDB ERROR DETECTED ---');
    lines.push(`[offset ${e.offset}] ${e.reason}`);
    if (dec.version > 0) lines.push(`[additional info] RDB version ${dec.version}`);
    if (dec.currentKey !== null) lines.push(`[additional info] Reading key '${dec.currentKey}'`);
  } finally {
    await fh.close();
  }
  counts();
  return { ok, report: lines.join('\n') + '\n' };
}
