/**
 * Damaged AOFs: a truncated tail (loaded, file truncated, or refused with
 * aof-load-truncated no), a corrupt command in the middle, an unfinished
 * MULTI, a damaged manifest or a missing file; old-style single-file AOFs;
 * and `cacheside check-aof` / `check-rdb` on all of these.
 */
import { describe, it, expect, afterEach, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CACHESIDE_CLI, REPO_ROOT } from '../interop/harness.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop().catch(() => {});
});

beforeAll(() => {
  if (!fs.existsSync(CACHESIDE_CLI)) spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
}, 120_000);

async function start(dir: string, directives: Record<string, string | number | boolean> = {}): Promise<TestServer> {
  const s = await startTestServer({ dir, appendonly: 'yes', ...directives });
  servers.push(s);
  return s;
}

/** A directory holding an AOF written by a server: base + incr with a few commands. */
async function makeAof(directives: Record<string, string | number | boolean> = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cacheside-aofd-'));
  const s = await start(dir, directives);
  const c = s.client();
  for (let i = 0; i < 10; i++) await c.call('SET', `k${i}`, `v${i}`);
  await c.call('RPUSH', 'list', 'a', 'b');
  await s.stop();
  servers.splice(servers.indexOf(s), 1);
  return dir;
}

const incr = (dir: string) => path.join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
const manifestPath = (dir: string) => path.join(dir, 'appendonlydir', 'appendonly.aof.manifest');

function cli(args: string[], input = ''): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CACHESIDE_CLI, ...args], { input, encoding: 'latin1' });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

describe('loading damaged AOFs', () => {
  it('a truncated last command is dropped, the file truncated on disk, with warnings', async () => {
    const dir = await makeAof();
    const good = fs.statSync(incr(dir)).size;
    fs.appendFileSync(incr(dir), '*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$3\r\nva');
    const s = await start(dir);
    const c = s.client();
    expect(await c.call('GET', 'k9')).toBe('v9');
    expect(await c.call('EXISTS', 'lost')).toBe(0);
    expect(fs.statSync(incr(dir)).size).toBe(good + 0); // truncated back, then nothing written yet
    expect(s.logs.some((l) => l.includes('!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!'))).toBe(true);
    expect(s.logs.some((l) => l.includes(`!!! Truncating the AOF appendonly.aof.1.incr.aof at offset ${good} !!!`))).toBe(true);
    expect(s.logs.some((l) => l.includes('AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled'))).toBe(true);
    // New writes follow the last good command.
    await c.call('SET', 'after', '1');
    await s.stop();
    servers.length = 0;
    const s2 = await start(dir);
    expect(await s2.client().call('GET', 'after')).toBe('1');
  });

  it('with aof-load-truncated no, a truncated tail stops the start-up', async () => {
    const dir = await makeAof();
    const good = fs.statSync(incr(dir)).size;
    fs.appendFileSync(incr(dir), '*2\r\n$3\r\nDEL\r\n');
    await expect(start(dir, { 'aof-load-truncated': 'no' })).rejects.toThrow(
      new RegExp(`Unexpected end of file reading the append only file appendonly\\.aof\\.1\\.incr\\.aof \\(the last complete command ends at byte offset ${good}\\)`),
    );
    expect(fs.statSync(incr(dir)).size).toBeGreaterThan(good);
  });

  it('a corrupt command in the middle stops the start-up, naming the file and the offset', async () => {
    const dir = await makeAof();
    const buf = fs.readFileSync(incr(dir));
    const at = buf.indexOf('$2\r\nk5');
    buf[at] = 'X'.charCodeAt(0);
    fs.writeFileSync(incr(dir), buf);
    const cmdStart = buf.lastIndexOf('*3', at);
    await expect(start(dir)).rejects.toThrow(
      `Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest> (the command starting at byte offset ${cmdStart} is malformed at byte offset ${at})`,
    );
    const r = cli(['check-aof', manifestPath(dir)]);
    expect(r.code).toBe(1);
    // redis-check-aof's words: the offset of the line read, in hex.
    expect(r.out).toContain(`0x${at.toString(16).padStart(16, ' ')}: Expected prefix '$', got: 'X'`);
    expect(r.out).toContain(`ok_up_to=${cmdStart}`);
  });

  it('an unfinished MULTI at the end is reverted', async () => {
    const dir = await makeAof();
    fs.appendFileSync(incr(dir), '*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\ntx\r\n$1\r\n1\r\n');
    const s = await start(dir);
    expect(await s.client().call('EXISTS', 'tx', 'k1')).toBe(1);
    expect(s.logs.some((l) => l.includes('Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof'))).toBe(true);
  });

  it('a truncated file that is not the last one is fatal', async () => {
    const dir = await makeAof({ 'aof-use-rdb-preamble': 'no' });
    // Make the incr file a non-last one by adding another incr file to the manifest.
    fs.appendFileSync(incr(dir), '*2\r\n$3\r\nDEL');
    fs.writeFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.2.incr.aof'), '');
    fs.appendFileSync(manifestPath(dir), 'file appendonly.aof.2.incr.aof seq 2 type i\n');
    await expect(start(dir)).rejects.toThrow('Fatal error: the truncated file appendonly.aof.1.incr.aof is not the last file');
  });

  it('a damaged manifest or a missing file is refused with a clear error', async () => {
    const dir = await makeAof();
    const m = fs.readFileSync(manifestPath(dir), 'latin1');
    fs.writeFileSync(manifestPath(dir), m.replace('type i', 'type q'));
    await expect(start(dir)).rejects.toThrow(/AOF manifest.*Unknown AOF file type: q/);
    fs.writeFileSync(manifestPath(dir), m + 'file appendonly.aof.9.incr.aof seq 9 type i\n');
    // Redis 7.0's line (the TCL suite greps "appendonly.aof.1.incr.aof .*No such file or directory").
    await expect(start(dir)).rejects.toThrow('Unable to obtain the AOF file appendonly.aof.9.incr.aof length. stat: No such file or directory');
    fs.writeFileSync(manifestPath(dir), 'garbage\n');
    await expect(start(dir)).rejects.toThrow(/Invalid AOF manifest file format/);
  });

  it('an old-style single-file AOF is moved into the AOF directory and loaded', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cacheside-aofold-'));
    fs.writeFileSync(path.join(dir, 'appendonly.aof'), '*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nstyle\r\n');
    const s = await start(dir);
    expect(await s.client().call('GET', 'old')).toBe('style');
    expect(fs.existsSync(path.join(dir, 'appendonly.aof'))).toBe(false);
    expect(fs.readFileSync(manifestPath(dir), 'latin1')).toBe(
      'file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    expect(s.logs.some((l) => l.includes('Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).'))).toBe(true);
  });

  it('an interrupted upgrade (manifest written, old file not moved yet) is completed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cacheside-aofup-'));
    fs.writeFileSync(path.join(dir, 'appendonly.aof'), '*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n');
    fs.mkdirSync(path.join(dir, 'appendonlydir'));
    fs.writeFileSync(manifestPath(dir), 'file appendonly.aof seq 1 type b\n');
    const s = await start(dir);
    expect(await s.client().call('GET', 'k1')).toBe('v1');
    expect(fs.existsSync(path.join(dir, 'appendonly.aof'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'appendonlydir', 'appendonly.aof'))).toBe(true);
    expect(fs.readFileSync(manifestPath(dir), 'latin1')).toBe('file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
  });

  it('a manifest naming the old AOF that exists nowhere is fatal', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cacheside-aofup-'));
    fs.mkdirSync(path.join(dir, 'appendonlydir'));
    fs.writeFileSync(manifestPath(dir), 'file appendonly.aof seq 1 type b\n');
    await expect(start(dir)).rejects.toThrow('Unable to obtain the AOF file appendonly.aof length. stat: No such file or directory');
  });
});

describe('cacheside check-aof / check-rdb', () => {
  it('accepts a sound AOF, finds a truncated tail, and --fix truncates it after confirmation', async () => {
    const dir = await makeAof();
    let r = cli(['check-aof', manifestPath(dir)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Start checking Multi Part AOF');
    expect(r.out).toContain('RDB preamble is OK, proceeding with AOF tail...');
    expect(r.out).toContain('INCR AOF appendonly.aof.1.incr.aof is valid');
    expect(r.out.trimEnd().endsWith('All AOF files and manifest are valid')).toBe(true);
    const good = fs.statSync(incr(dir)).size;
    fs.appendFileSync(incr(dir), '*1\r\n$4\r\nPING');
    r = cli(['check-aof', manifestPath(dir)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`AOF analyzed: filename=appendonly.aof.1.incr.aof, size=${good + 12}, ok_up_to=${good}`);
    expect(r.out).toContain('AOF appendonly.aof.1.incr.aof is not valid. Use the --fix option to try fixing it.');
    r = cli(['check-aof', '--fix', manifestPath(dir)], 'n\n');
    expect(r.code).toBe(1);
    expect(fs.statSync(incr(dir)).size).toBe(good + 12);
    r = cli(['check-aof', '--fix', manifestPath(dir)], 'y\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`This will shrink the AOF appendonly.aof.1.incr.aof from ${good + 12} bytes, with 12 bytes, to ${good} bytes`);
    expect(r.out).toContain('Successfully truncated AOF appendonly.aof.1.incr.aof');
    expect(fs.statSync(incr(dir)).size).toBe(good);
    // A single file, and the usage line.
    r = cli(['check-aof', incr(dir)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Start checking Old-Style AOF');
    expect(cli(['check-aof']).code).toBe(1);
    expect(cli(['check-aof', '/nonexistent.aof']).out).toContain('Cannot open file /nonexistent.aof: No such file or directory');
  });

  it('check-rdb accepts a dump and reports a bad checksum', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cacheside-chk-'));
    const s = await startTestServer({ dir });
    servers.push(s);
    const c = s.client();
    for (let i = 0; i < 50; i++) await c.call('SET', `k${i}`, `v${i}`);
    await c.call('SAVE');
    const file = path.join(dir, 'dump.rdb');
    let r = cli(['check-rdb', file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('\\o/ RDB looks OK! \\o/');
    expect(r.out).toContain('[info] 50 keys read');
    const buf = fs.readFileSync(file);
    buf[buf.length - 3] ^= 1;
    fs.writeFileSync(file, buf);
    r = cli(['check-rdb', file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/checksum/i);
  });
});
