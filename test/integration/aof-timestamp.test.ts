/**
 * aof-timestamp-enabled: `#TS:<unix seconds>` annotations in the AOF (before
 * the first command of each new second, never inside MULTI/EXEC; at the head
 * of a command-format base), loading skips them, and `cacheside check-aof
 * --truncate-to-timestamp` cuts an AOF back to a point in time (redis-check-aof
 * 7.0's behaviour and messages; test/interop/aof-check-interop.test.ts
 * compares the two tools on the same files).
 */
import { describe, it, expect, afterEach, beforeAll, vi } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CACHESIDE_CLI, REPO_ROOT } from '../interop/harness.js';
import { tempDir } from '../helpers/spawn-server.js';
import { AofWriter } from '../../src/persistence/aof-writer.js';
import type { Engine } from '../../src/server/engine.js';
import { writeAofDir } from '../helpers/aof-files.js';

const servers: TestServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of servers.splice(0)) await s.stop().catch(() => {});
});

beforeAll(() => {
  if (!fs.existsSync(CACHESIDE_CLI)) spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
}, 120_000);

function cli(args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CACHESIDE_CLI, ...args], { encoding: 'latin1' });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

async function start(dir: string, directives: Record<string, string | number | boolean> = {}): Promise<TestServer> {
  const s = await startTestServer({ dir, appendonly: 'yes', ...directives });
  servers.push(s);
  return s;
}

const incrPath = (dir: string, n = 1) => path.join(dir, 'appendonlydir', `appendonly.aof.${n}.incr.aof`);
const lines = (file: string) => fs.readFileSync(file, 'latin1').split('\r\n');

describe('aof-timestamp-enabled', () => {
  it('annotates the first command of each second, never inside MULTI/EXEC (a writer fed at chosen times)', () => {
    const dir = tempDir('aofts');
    const fd = fs.openSync(path.join(dir, 'x.aof'), 'w');
    let now = 1_700_000_000_123;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const w = new AofWriter({ log: { warning() {}, notice() {} } } as unknown as Engine, { fd, name: 'x.aof', size: 0 }, 'no');
    w.timestamps = true;
    w.feed(0, ['SET', 'a', '1']);
    w.feed(0, ['SET', 'b', '2']);
    now += 1000;
    w.feed(0, ['MULTI']);
    now += 1000;
    w.feed(0, ['SET', 'c', '3']);
    w.feed(0, ['EXEC']);
    w.feed(3, ['SET', 'd', '4']);
    w.timestamps = false;
    now += 5000;
    w.feed(3, ['SET', 'e', '5']);
    w.close();
    const text = fs.readFileSync(path.join(dir, 'x.aof'), 'latin1');
    const cmds = text.split(/(?=\*\d+\r\n\$)|(?=#)/).map((x) => (x.startsWith('#') ? x.trim() : x.split('\r\n').filter((_, i) => i % 2 === 0 && i > 0).join(' ')));
    expect(cmds).toEqual(['#TS:1700000000', 'SELECT 0', 'SET a 1', 'SET b 2', '#TS:1700000001', 'MULTI', 'SET c 3', 'EXEC', '#TS:1700000002', 'SELECT 3', 'SET d 4', 'SET e 5']);
  });

  it('a server writes them (CONFIG SET at runtime too), a command base starts with one, and they load', async () => {
    const dir = tempDir('aofts');
    let s = await start(dir, { 'aof-use-rdb-preamble': 'no' });
    let c = s.client();
    await c.set('before', '0');
    expect(lines(incrPath(dir)).some((l) => l.startsWith('#TS:'))).toBe(false);
    await c.config('SET', 'aof-timestamp-enabled', 'yes');
    await c.set('a', '1');
    const t0 = Math.floor(Date.now() / 1000);
    await new Promise((r) => setTimeout(r, (t0 + 1) * 1000 - Date.now() + 20));
    await c.multi().set('b', '2').incr('n').exec();
    const ts = lines(incrPath(dir)).filter((l) => l.startsWith('#TS:'));
    expect(ts.length).toBe(2);
    expect(Number(ts[1]!.slice(4))).toBe(Number(ts[0]!.slice(4)) + 1);
    // The second annotation comes right before the MULTI.
    const all = lines(incrPath(dir));
    expect(all.slice(all.indexOf(ts[1]!) + 1, all.indexOf(ts[1]!) + 4)).toEqual(['*1', '$5', 'MULTI']);
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await until(async () => String(await c.call('INFO', 'persistence')).includes('aof_rewrite_in_progress:0') && fs.existsSync(path.join(dir, 'appendonlydir', 'appendonly.aof.2.base.aof')));
    expect(lines(path.join(dir, 'appendonlydir', 'appendonly.aof.2.base.aof'))[0]).toMatch(/^#TS:\d{10}$/);
    await c.set('after', '3');
    s = await restartServer(s, dir);
    c = s.client();
    expect(await c.mget('before', 'a', 'b', 'n', 'after')).toEqual(['0', '1', '2', '1', '3']);
  });

  it('check-aof --truncate-to-timestamp brings a server-written AOF back to a point in time', async () => {
    const dir = tempDir('aofts');
    let s = await start(dir, { 'aof-timestamp-enabled': 'yes' });
    let c = s.client();
    await c.set('first', '1');
    const t0 = Math.floor(Date.now() / 1000);
    await new Promise((r) => setTimeout(r, (t0 + 1) * 1000 - Date.now() + 20));
    await c.set('second', '2');
    await s.stop();
    servers.splice(servers.indexOf(s), 1);
    const manifest = path.join(dir, 'appendonlydir', 'appendonly.aof.manifest');
    const ts = lines(incrPath(dir)).filter((l) => l.startsWith('#TS:')).map((l) => Number(l.slice(4)));
    expect(ts.length).toBe(2);
    const r = cli(['check-aof', '--truncate-to-timestamp', String(ts[0]), manifest]);
    expect(r.out).toContain(`Successfully truncated AOF appendonly.aof.1.incr.aof to timestamp ${ts[0]}`);
    expect(r.out.trimEnd().endsWith('All AOF files and manifest are valid')).toBe(true);
    expect(r.code).toBe(0);
    s = await start(dir, { 'aof-timestamp-enabled': 'yes' });
    c = s.client();
    expect(await c.mget('first', 'second')).toEqual(['1', null]);
  });
});

describe('check-aof --truncate-to-timestamp', () => {
  // Base (commands) at 100, incr 1 at 200 and 300, incr 2 at 400 and 500.
  const make = () => writeAofDir(tempDir('aoftt'));

  it('cuts the last file before the first later annotation, without asking; refuses other files', () => {
    let d = make();
    let r = cli(['check-aof', '--truncate-to-timestamp', '450', d.manifest]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'Start checking Multi Part AOF',
        'Start to check BASE AOF (RESP format).',
        'Truncate nothing in AOF appendonly.aof.1.base.aof to timestamp 450',
        'BASE AOF appendonly.aof.1.base.aof is valid',
        'Start to check INCR files.',
        'Truncate nothing in AOF appendonly.aof.1.incr.aof to timestamp 450',
        'INCR AOF appendonly.aof.1.incr.aof is valid',
        'Successfully truncated AOF appendonly.aof.2.incr.aof to timestamp 450',
        'All AOF files and manifest are valid',
        '',
      ].join('\n'),
    );
    expect(fs.readFileSync(d.file(2), 'latin1')).toBe(d.incr2.slice(0, d.incr2.indexOf('#TS:500')));

    d = make();
    r = cli(['check-aof', '--truncate-to-timestamp', '250', d.manifest]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `Failed to truncate AOF ${d.file(1)} to timestamp 250 to offset ${d.incr1.indexOf('#TS:300')} because it is not the last file.\n` +
        'If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof.\n',
    );
    expect(fs.readFileSync(d.file(1), 'latin1')).toBe(d.incr1);

    d = make();
    r = cli(['check-aof', '--truncate-to-timestamp', '350', d.manifest]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`AOF ${d.file(2)} has nothing before timestamp 350, aborting...`);

    d = make();
    r = cli(['check-aof', '--truncate-to-timestamp', '900', d.manifest]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Truncate nothing in AOF appendonly.aof.2.incr.aof to timestamp 900\nINCR AOF appendonly.aof.2.incr.aof is valid\nAll AOF files');
  });

  it('a single file; argument checks as redis-check-aof', () => {
    const d = make();
    let r = cli(['check-aof', '--truncate-to-timestamp', '200', d.file(1)]);
    expect(r).toEqual({ code: 0, out: `Start checking Old-Style AOF\nSuccessfully truncated AOF ${d.file(1)} to timestamp 200\n` });
    expect(cli(['check-aof', '--truncate-to-timestamp', 'abc', d.file(1)])).toEqual({ code: 1, out: 'Invalid timestamp, aborting...\n' });
    expect(cli(['check-aof', '--truncate-to-timestamp', '99999999999999999999', d.file(1)]).out).toBe('Invalid timestamp, aborting...\n');
    const usage = 'Usage: cacheside check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n';
    expect(cli(['check-aof', '--fix', '--truncate-to-timestamp', '5', d.file(1)])).toEqual({ code: 1, out: usage });
    expect(cli(['check-aof', 'x', d.file(1)])).toEqual({ code: 1, out: usage });
    expect(cli(['check-aof'])).toEqual({ code: 1, out: usage });
    // An empty timestamp is no truncation at all: a plain check.
    r = cli(['check-aof', '--truncate-to-timestamp', '', d.file(2)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('AOF analyzed: filename=');
  });
});

async function until(fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function restartServer(s: TestServer, dir: string): Promise<TestServer> {
  await s.stop();
  servers.splice(servers.indexOf(s), 1);
  return start(dir, { 'aof-use-rdb-preamble': 'no' });
}
