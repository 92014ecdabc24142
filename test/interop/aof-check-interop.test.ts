/**
 * `cacheside check-aof` against redis-check-aof 7.0 on the same files:
 * the same output (the tool's name aside), exit code and resulting files,
 * for sound and damaged command files (truncations, bad headers, bad
 * lengths, MULTI/EXEC errors, annotations; line numbers counted across the
 * files of a manifest) and for --truncate-to-timestamp on a multi-part AOF
 * and single files. Needs `npm run build` and redis-check-aof.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBuilt, tempDir } from '../helpers/spawn-server.js';
import { CACHESIDE_CLI } from './harness.js';
import { writeAofDir } from '../helpers/aof-files.js';

beforeAll(() => ensureBuilt(), 120_000);

function run(tool: 'redis' | 'cacheside', args: string[], cwd: string): { code: number; out: string } {
  const r =
    tool === 'redis'
      ? spawnSync('redis-check-aof', args, { cwd, encoding: 'latin1', input: 'n\n' })
      : spawnSync(process.execPath, [CACHESIDE_CLI, 'check-aof', ...args], { cwd, encoding: 'latin1', input: 'n\n' });
  return { code: r.status ?? -1, out: ((r.stdout ?? '') + (r.stderr ?? '')).replace(/redis-check-aof|cacheside check-aof/g, '<tool>') };
}

/** Every file under `dir`, name → content. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, e);
    if (fs.statSync(p).isFile()) out[e] = fs.readFileSync(p, 'latin1');
  }
  return out;
}

/** Run both tools on identical copies made by `make(dir)`; compare output, exit code and files. */
function compare(make: (dir: string) => void, args: string[]): void {
  const a = tempDir('chk-redis');
  const b = tempDir('chk-cs');
  make(a);
  make(b);
  const want = run('redis', args, a);
  const got = run('cacheside', args, b);
  expect({ out: got.out, code: got.code }, `check-aof ${args.join(' ')}`).toEqual({ out: want.out, code: want.code });
  expect(files(b)).toEqual(files(a));
}

const P = '*1\r\n$4\r\nPING\r\n';
const damaged: Record<string, string> = {
  sound: P + '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n',
  'with annotations': '#TS:10\r\n' + P + '#hello\r\n' + P + '#TS:20\r\n' + P + '#TS:30',
  'header cut': P + '*1',
  'star alone': P + '*',
  'header without LF': P + '*1\r',
  'blank line': P + '\r\n',
  garbage: P + 'xyz',
  'count only': P + '*1\r\n',
  'length cut': P + '*1\r\n$4',
  'argument cut': P + '*1\r\n$4\r\nPI',
  'argument without CRLF': P + '*1\r\n$4\r\nPING',
  'argument with CR only': P + '*1\r\n$4\r\nPING\r',
  'argument too long': P + '*1\r\n$4\r\nPINGxx',
  'negative length': P + '*1\r\n$-1\r\n',
  'missing arguments': P + '*2\r\n$1\r\na\r\n',
  'bad count': '*1x\r\n',
  'LF only': '*1\nfoo',
  'bad length prefix': P + '*1\r\n#4\r\n',
  'zero count': P + '*0\r\n',
  'MULTI without EXEC': '*1\r\n$5\r\nMULTI\r\n' + P,
  'EXEC without MULTI': '*1\r\n$4\r\nEXEC\r\n',
  'nested MULTI': '*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nmulti\r\n',
  'a transaction': P + '*1\r\n$5\r\nMULTI\r\n' + P + '*1\r\n$4\r\nexec\r\n' + P,
};

describe('check-aof and redis-check-aof agree', () => {
  for (const [name, content] of Object.entries(damaged)) {
    it(`a single file: ${name}`, () => {
      compare((d) => fs.writeFileSync(path.join(d, 'x.aof'), content, 'latin1'), ['x.aof']);
    });
  }

  it('a manifest: line numbers run on across the files', () => {
    compare((d) => writeAofDir(d), ['appendonlydir/appendonly.aof.manifest']);
    compare((d) => {
      const x = writeAofDir(d);
      fs.appendFileSync(x.file(2), '*2\r\n$3\r\nGET\r\n$1');
    }, ['appendonlydir/appendonly.aof.manifest']);
  });

  for (const t of ['50', '100', '150', '200', '250', '300', '350', '450', '500', '900', '-5', '+7', 'abc', '1.5', '', ' 12', '99999999999999999999']) {
    it(`--truncate-to-timestamp ${JSON.stringify(t)}: a manifest, an incremental file, a single damaged file`, () => {
      compare((d) => writeAofDir(d), ['--truncate-to-timestamp', t, 'appendonlydir/appendonly.aof.manifest']);
      compare((d) => writeAofDir(d), ['--truncate-to-timestamp', t, 'appendonlydir/appendonly.aof.1.incr.aof']);
      compare((d) => {
        const x = writeAofDir(d);
        fs.appendFileSync(x.file(2), '*1\r\n$4\r\nPI');
      }, ['--truncate-to-timestamp', t, 'appendonlydir/appendonly.aof.2.incr.aof']);
    });
  }

  it('usage errors', () => {
    const make = (d: string) => fs.writeFileSync(path.join(d, 'x.aof'), P);
    for (const args of [[], ['--fix'], ['a', 'b'], ['--fix', '--truncate-to-timestamp', '5', 'x.aof'], ['--truncate-to-timestamp', '5', 'x.aof', 'y'], ['/nonexistent.aof']]) compare(make, args);
  });
});
