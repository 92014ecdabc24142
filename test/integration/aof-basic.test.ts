/**
 * The multi-part AOF: layout and manifest, the command stream (SELECT,
 * MULTI/EXEC, deterministic rewrites), restarts, DEBUG LOADAOF, the
 * runtime switch, INFO fields.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { fillEveryType } from '../helpers/dataset.js';
import { persistenceInfo as info, serversPerTest, tempDir, until } from '../helpers/persistence.js';

const { start, restart } = serversPerTest({ 'enable-debug-command': 'yes', appendonly: 'yes' });
const tmpDir = (): string => tempDir('aof');

const aofDir = (dir: string) => path.join(dir, 'appendonlydir');
const manifest = (dir: string) => fs.readFileSync(path.join(aofDir(dir), 'appendonly.aof.manifest'), 'latin1');
const read = (dir: string, name: string) => fs.readFileSync(path.join(aofDir(dir), name), 'latin1');

/** Wait for the end of a rewrite. */
const rewriteDone = (c: Redis) => until(async () => (await info(c)).aof_rewrite_in_progress === '0');

describe('AOF files', () => {
  it('a fresh AOF: base + incr + manifest, as Redis 7 creates them on start-up', async () => {
    const dir = tmpDir();
    const s = await start({ dir });
    expect(manifest(dir)).toBe('file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
    expect(read(dir, 'appendonly.aof.1.base.rdb').startsWith('REDIS0010')).toBe(true);
    expect(read(dir, 'appendonly.aof.1.incr.aof')).toBe('');
    expect(s.logs.some((l) => l.includes('Creating AOF base file appendonly.aof.1.base.rdb on server start'))).toBe(true);
  });

  it('writes are appended as RESP with SELECT on database changes; MULTI/EXEC pass through; reads are not', async () => {
    const dir = tmpDir();
    const s = await start({ dir });
    const c = s.client();
    await c.call('set', 'a', '1');
    await c.call('GET', 'a');
    await c.call('SELECT', 3);
    await c.call('SET', 'b', '2', 'EX', '100');
    await c.multi().call('SET', 'x', '1').call('INCR', 'x').exec();
    await c.call('SELECT', 0);
    await c.call('DEL', 'nothing');
    await c.call('INCRBYFLOAT', 'f', '1.5');
    await until(async () => read(dir, 'appendonly.aof.1.incr.aof').includes('INCRBYFLOAT') || read(dir, 'appendonly.aof.1.incr.aof').includes('KEEPTTL'));
    const text = read(dir, 'appendonly.aof.1.incr.aof');
    const cmds = parseAof(text);
    expect(cmds[0]).toEqual(['SELECT', '0']);
    expect(cmds[1]).toEqual(['set', 'a', '1']);
    expect(cmds[2]).toEqual(['SELECT', '3']);
    expect(cmds[3]!.slice(0, 4)).toEqual(['SET', 'b', '2', 'PXAT']);
    expect(Number(cmds[3]![4])).toBeGreaterThan(Date.now() + 90_000);
    expect(cmds.slice(4, 8)).toEqual([['MULTI'], ['SET', 'x', '1'], ['INCR', 'x'], ['EXEC']]);
    expect(cmds[8]).toEqual(['SELECT', '0']);
    expect(cmds[9]).toEqual(['SET', 'f', '1.5', 'KEEPTTL']);
    expect(cmds.length).toBe(10);
  });

  it('a restart loads base + incr files: every type, TTLs, databases', async () => {
    const dir = tmpDir();
    let s = await start({ dir });
    let c = s.client();
    await fillEveryType(c);
    await c.call('LPOP', 'list:big');
    await c.call('ZINCRBY', 'zset:big', 5, 'm3');
    const digest = await c.call('DEBUG', 'DIGEST');
    s = await restart(s, { dir });
    c = s.client();
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
    expect(Number(await c.call('PTTL', 'ttl:str'))).toBeGreaterThan(3_500_000);
    expect(s.logs.some((l) => l.includes('DB loaded from incr file appendonly.aof.1.incr.aof'))).toBe(true);
    expect(s.logs.some((l) => l.includes('Opening AOF incr file appendonly.aof.1.incr.aof on server start'))).toBe(true);
    // Appending continues in the same incremental file.
    await c.call('SET', 'after', 'restart');
    await until(async () => read(dir, 'appendonly.aof.1.incr.aof').includes('restart'));
  });

  it('a key set with a TTL then made persistent survives a restart after the TTL (nothing expires while loading)', async () => {
    const dir = tmpDir();
    let s = await start({ dir });
    let c = s.client();
    await c.call('SET', 'k', 'v', 'PX', 200);
    await c.call('PERSIST', 'k');
    await c.call('SET', 'gone', 'v', 'PX', 100);
    await new Promise((r) => setTimeout(r, 300));
    s = await restart(s, { dir });
    c = s.client();
    expect(await c.call('GET', 'k')).toBe('v');
    expect(await c.call('PTTL', 'k')).toBe(-1);
    expect(await c.call('EXISTS', 'gone')).toBe(0);
  });

  it('with both a dump.rdb and an AOF, start-up loads the AOF (as Redis does)', async () => {
    const dir = tmpDir();
    let s = await start({ dir });
    let c = s.client();
    await c.call('SET', 'in-aof', '1');
    await c.call('CONFIG', 'SET', 'appendonly', 'no');
    await c.call('SET', 'only-in-rdb', '1');
    await c.call('SAVE');
    s = await restart(s, { dir, appendonly: 'yes' });
    c = s.client();
    expect(await c.call('EXISTS', 'in-aof', 'only-in-rdb')).toBe(1);
    expect(await c.call('GET', 'in-aof')).toBe('1');
    s = await restart(s, { dir, appendonly: 'no' });
    expect(await s.client().call('EXISTS', 'in-aof', 'only-in-rdb')).toBe(2);
  });

  it('aof-use-rdb-preamble no: the base is written as commands', async () => {
    const dir = tmpDir();
    let s = await start({ dir, 'aof-use-rdb-preamble': 'no' });
    let c = s.client();
    await fillEveryType(c, { big: 100 });
    const digest = await c.call('DEBUG', 'DIGEST');
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await rewriteDone(c);
    expect(manifest(dir)).toBe('file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n');
    const base = parseAof(read(dir, 'appendonly.aof.2.base.aof'));
    expect(base[0]).toEqual(['SELECT', '0']);
    expect(base.some((a) => a[0] === 'RPUSH' && a[1] === 'list:big' && a.length === 66)).toBe(true);
    expect(base.some((a) => a[0] === 'PEXPIREAT' && a[1] === 'ttl:str')).toBe(true);
    expect(base.some((a) => a[0] === 'HMSET' && a[1] === 'hash:small')).toBe(true);
    expect(base.some((a) => a[0] === 'ZADD' && a[1] === 'zset:small' && a.includes('inf'))).toBe(true);
    s = await restart(s, { dir, 'aof-use-rdb-preamble': 'no' });
    c = s.client();
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
  });

  it('DEBUG LOADAOF reloads the data set from the files', async () => {
    const s = await start();
    const c = s.client();
    await fillEveryType(c, { big: 50 });
    const digest = await c.call('DEBUG', 'DIGEST');
    expect(await c.call('DEBUG', 'LOADAOF')).toBe('OK');
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
    await c.call('SET', 'more', '1');
    expect(await c.call('DEBUG', 'LOADAOF')).toBe('OK');
    expect(await c.call('GET', 'more')).toBe('1');
    // Loading did not write its commands to the AOF again.
    const i = await info(c);
    expect(await c.call('DEBUG', 'LOADAOF')).toBe('OK');
    expect((await info(c)).aof_current_size).toBe(i.aof_current_size);
  });

  it('INFO shows the AOF sizes while enabled', async () => {
    const s = await start();
    const c = s.client();
    let i = await info(c);
    expect(i.aof_enabled).toBe('1');
    const base = Number(i.aof_base_size);
    expect(base).toBeGreaterThan(0);
    expect(Number(i.aof_current_size)).toBe(base);
    await c.call('SET', 'k', 'v');
    await until(async () => Number((await info(c)).aof_current_size) > base);
    i = await info(c);
    expect(Number(i.aof_current_size)).toBe(base + '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n'.length);
    for (const f of ['aof_pending_rewrite', 'aof_buffer_length', 'aof_pending_bio_fsync', 'aof_delayed_fsync']) expect(i[f]).toBeDefined();
  });
});

describe('rewrites', () => {
  it('BGREWRITEAOF: new base and incr, manifest switched, history deleted, data intact', async () => {
    const dir = tmpDir();
    let s = await start({ dir });
    let c = s.client();
    await fillEveryType(c, { big: 50 });
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await rewriteDone(c);
    expect(manifest(dir)).toBe('file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n');
    expect(fs.readdirSync(aofDir(dir)).sort()).toEqual(['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    const i = await info(c);
    expect(i.aof_rewrites).toBe('1');
    expect(i.aof_last_bgrewrite_status).toBe('ok');
    await c.call('SET', 'after', 'rewrite');
    const digest = await c.call('DEBUG', 'DIGEST');
    s = await restart(s, { dir });
    c = s.client();
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
  });

  it('BGREWRITEAOF while a rewrite runs is refused; during a BGSAVE it is scheduled', async () => {
    const s = await start({ 'rdb-key-save-delay': 2000 });
    const c = s.client();
    for (let i = 0; i < 200; i++) await c.call('SET', `k${i}`, 'v');
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await expect(c.call('BGREWRITEAOF')).rejects.toThrow('ERR Background append only file rewriting already in progress');
    await expect(c.call('BGSAVE')).rejects.toThrow(
      "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
    );
    expect(await c.call('BGSAVE', 'SCHEDULE')).toBe('Background saving scheduled');
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', 0);
  });

  it('rewrites under concurrent writes lose nothing', async () => {
    const dir = tmpDir();
    let s = await start({ dir, 'rdb-key-save-delay': 300 });
    let c = s.client();
    await fillEveryType(c, { big: 100 });
    for (let i = 0; i < 1000; i++) await c.call('SET', `k${i}`, `v${i}`);
    const w = s.client();
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    let n = 0;
    while ((await info(c)).aof_rewrite_in_progress === '1') {
      for (let j = 0; j < 20; j++, n++) {
        await w.call('SET', `k${n % 1200}`, `w${n}`);
        await w.call('DEL', `k${(n * 7) % 1000}`);
        await w.call('RPUSH', 'list:big', `w${n}`);
        await w.call('HSET', 'hash:big', `field${n % 300}`, `w${n}`);
      }
    }
    expect(n).toBeGreaterThan(100);
    const digest = await c.call('DEBUG', 'DIGEST');
    s = await restart(s, { dir });
    c = s.client();
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
  });

  it('automatic rewrite on growth (auto-aof-rewrite-percentage / min-size)', async () => {
    const s = await start({ 'auto-aof-rewrite-min-size': '1kb', 'auto-aof-rewrite-percentage': 100 });
    const c = s.client();
    for (let i = 0; i < 100; i++) await c.call('SET', `key${i}`, 'x'.repeat(50));
    await until(async () => (await info(c)).aof_rewrites === '1', 5000);
    expect(s.logs.some((l) => /Starting automatic rewriting of AOF on \d+% growth/.test(l))).toBe(true);
  });
});

describe('switching at runtime', () => {
  it('CONFIG SET appendonly yes writes the data set as a base, then appends; no stops appending', async () => {
    const dir = tmpDir();
    let s = await start({ dir, appendonly: 'no' });
    let c = s.client();
    await fillEveryType(c, { big: 50 });
    expect(fs.existsSync(aofDir(dir))).toBe(false);
    expect(await c.call('CONFIG', 'SET', 'appendonly', 'yes')).toBe('OK');
    await c.call('SET', 'during', 'enable');
    await rewriteDone(c);
    expect((await info(c)).aof_enabled).toBe('1');
    expect(manifest(dir)).toBe('file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
    await c.call('SET', 'after', 'enable');
    const digest = await c.call('DEBUG', 'DIGEST');
    s = await restart(s, { dir });
    c = s.client();
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
    expect(await c.call('CONFIG', 'SET', 'appendonly', 'no')).toBe('OK');
    expect((await info(c)).aof_enabled).toBe('0');
    const size = fs.statSync(path.join(aofDir(dir), 'appendonly.aof.1.incr.aof')).size;
    await c.call('SET', 'not', 'logged');
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.statSync(path.join(aofDir(dir), 'appendonly.aof.1.incr.aof')).size).toBe(size);
  });

  it('BGREWRITEAOF with appendonly no writes a base-only AOF', async () => {
    const dir = tmpDir();
    const s = await start({ dir, appendonly: 'no' });
    const c = s.client();
    await c.call('SET', 'a', '1');
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await rewriteDone(c);
    expect(manifest(dir)).toBe('file appendonly.aof.1.base.rdb seq 1 type b\n');
  });
});

/** Parse a RESP command file (test oracle, deliberately naive). */
export function parseAof(text: string): string[][] {
  const out: string[][] = [];
  let i = 0;
  const line = () => {
    const e = text.indexOf('\r\n', i);
    const l = text.slice(i, e);
    i = e + 2;
    return l;
  };
  while (i < text.length) {
    const n = Number(line().slice(1));
    const argv: string[] = [];
    for (let k = 0; k < n; k++) {
      const len = Number(line().slice(1));
      argv.push(text.slice(i, i + len));
      i += len + 2;
    }
    out.push(argv);
  }
  return out;
}
