/**
 * A multi-part AOF directory written by hand, with `#TS:` annotations at known
 * times, for check-aof tests: a command base at 100, incremental file 1 at 200
 * and 300, incremental file 2 at 400 and 500.
 */
import fs from 'node:fs';
import path from 'node:path';

const cmd = (...argv: string[]): string => `*${argv.length}\r\n` + argv.map((a) => `$${a.length}\r\n${a}\r\n`).join('');
const ts = (t: number): string => `#TS:${t}\r\n`;

export interface AofDir {
  dir: string;
  manifest: string;
  base: string;
  incr1: string;
  incr2: string;
  /** Path of incremental file n (as check-aof shows it: manifest directory + name). */
  file(n: 1 | 2): string;
}

export function writeAofDir(root: string): AofDir {
  const dir = path.join(root, 'appendonlydir');
  fs.mkdirSync(dir, { recursive: true });
  const base = ts(100) + cmd('SELECT', '0') + cmd('SET', 'base', 'b');
  const incr1 = ts(200) + cmd('SELECT', '0') + cmd('SET', 'a', '1') + cmd('SET', 'b', '2') + ts(300) + cmd('MULTI') + cmd('INCR', 'n') + cmd('INCR', 'n') + cmd('EXEC');
  const incr2 = ts(400) + cmd('SET', 'c', '3') + ts(500) + cmd('SELECT', '2') + cmd('SET', 'd', '4');
  fs.writeFileSync(path.join(dir, 'appendonly.aof.1.base.aof'), base, 'latin1');
  fs.writeFileSync(path.join(dir, 'appendonly.aof.1.incr.aof'), incr1, 'latin1');
  fs.writeFileSync(path.join(dir, 'appendonly.aof.2.incr.aof'), incr2, 'latin1');
  const manifest = path.join(dir, 'appendonly.aof.manifest');
  fs.writeFileSync(
    manifest,
    'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
  );
  return { dir, manifest, base, incr1, incr2, file: (n) => path.join(dir, `appendonly.aof.${n}.incr.aof`) };
}
