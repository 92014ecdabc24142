/**
 * dump.rdb: SAVE / BGSAVE / LASTSAVE, restart round trips of every type,
 * forkless BGSAVE under concurrent writes, save points, MISCONF,
 * FLUSHALL and SHUTDOWN saves, DEBUG RELOAD, damaged files, INFO fields.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { startTestServer } from '../helpers/server.js';
import { fillEveryType, fillStrings, prng, randomWrite } from '../helpers/dataset.js';
import { persistenceInfo as info, serversPerTest, tempDir, until } from '../helpers/persistence.js';

const { start, forget } = serversPerTest({ 'enable-debug-command': 'yes' });
const tmpDir = (): string => tempDir('rdb');

const bgsaveDone = (c: Redis) => until(async () => (await info(c)).rdb_bgsave_in_progress === '0');

describe('SAVE and restart', () => {
  it('every type and encoding survives SAVE + restart (DEBUG DIGEST, TTLs, databases)', async () => {
    const dir = tmpDir();
    let s = await start({ dir });
    let c = s.client();
    await fillEveryType(c);
    const digest = await c.call('DEBUG', 'DIGEST');
    const encodings = await encodingsOf(c);
    expect(new Set(Object.values(encodings))).toEqual(new Set(['int', 'embstr', 'raw', 'quicklist', 'intset', 'hashtable', 'listpack', 'skiplist', 'stream']));
    const before = Number(await c.call('LASTSAVE'));
    expect(await c.call('SAVE')).toBe('OK');
    expect(Number(await c.call('LASTSAVE'))).toBeGreaterThanOrEqual(before);
    const i = await info(c);
    expect(i.rdb_changes_since_last_save).toBe('0');
    expect(i.rdb_saves).toBe('1');
    expect(fs.existsSync(path.join(dir, 'dump.rdb'))).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('temp-'))).toEqual([]);
    await s.stop();
    forget();

    s = await start({ dir });
    c = s.client();
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
    const pttl = Number(await c.call('PTTL', 'ttl:str'));
    expect(pttl).toBeGreaterThan(3_500_000);
    // As in Redis, a loaded string of at most 44 bytes is an embstr, whatever it was before.
    expect(await encodingsOf(c)).toEqual({ ...encodings, 'str:appended': 'embstr', 'str:bits': 'embstr', hll: 'embstr' });
    expect(await c.call('GETRANGE', 'str:bin', 0, -1)).toBe('\x00\x01\x02\ufffd\ufffd\r\n');
    expect((await info(c)).rdb_last_load_keys_loaded).toBe(String(await totalKeys(c)));
  });

  it('SAVE inside MULTI is refused; BGSAVE takes only SCHEDULE', async () => {
    const s = await start();
    const c = s.client();
    expect(await c.multi().call('SAVE').exec().catch((e: Error) => e.message)).toMatch(/EXECABORT/);
    await expect(c.call('BGSAVE', 'foo')).rejects.toThrow('ERR syntax error');
    await expect(c.call('BGSAVE', 'SCHEDULE', 'x')).rejects.toThrow('ERR syntax error');
    expect(await c.call('BGSAVE', 'SCHEDULE')).toBe('Background saving started');
    await bgsaveDone(c);
  });

  it('keys already expired are not loaded', async () => {
    const dir = tmpDir();
    let s = await start({ dir });
    let c = s.client();
    await c.call('SET', 'short', 'v', 'PX', 150);
    await c.call('SET', 'long', 'v', 'EX', 100);
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', 0);
    await c.call('SAVE');
    await s.stop();
    forget();
    await new Promise((r) => setTimeout(r, 200));
    s = await start({ dir });
    c = s.client();
    expect(await c.call('EXISTS', 'short', 'long')).toBe(1);
    const i = await info(c);
    expect(i.rdb_last_load_keys_expired).toBe('1');
    expect(i.rdb_last_load_keys_loaded).toBe('1');
  });
});

/** OBJECT ENCODING of every key of database 0. */
async function encodingsOf(c: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of (await c.call('KEYS', '*')) as string[]) out[k] = (await c.call('OBJECT', 'ENCODING', k)) as string;
  return out;
}

async function totalKeys(c: Redis): Promise<number> {
  let n = 0;
  for (const db of [0, 1, 2, 3]) {
    await c.call('SELECT', db);
    n += Number(await c.call('DBSIZE'));
  }
  await c.call('SELECT', 0);
  return n;
}

describe('BGSAVE', () => {
  it('the file is the data set at the moment BGSAVE started, whatever is written meanwhile', async () => {
    const dir = tmpDir();
    const s = await start({ dir, 'rdb-key-save-delay': 200 });
    const c = s.client();
    await fillEveryType(c, { big: 200 });
    await fillStrings(c, 3000);
    const writer = s.client();
    const digest = await c.call('DEBUG', 'DIGEST');
    expect(await c.call('BGSAVE')).toBe('Background saving started');
    expect((await info(c)).rdb_bgsave_in_progress).toBe('1');
    await expect(c.call('BGSAVE')).rejects.toThrow('ERR Background save already in progress');
    await expect(c.call('SAVE')).rejects.toThrow('ERR Background save already in progress');
    const rnd = prng(7);
    let i = 0;
    let writes = 0;
    while ((await info(c)).rdb_bgsave_in_progress === '1') {
      for (let j = 0; j < 20; j++, i++) await randomWrite(writer, rnd, i);
      if (i % 100 === 0) {
        await writer.call('FLUSHDB'); // in db 0 of this client... keep some data around
        await fillEveryType(writer, { big: 20 });
      }
      writes += 20;
    }
    expect(writes).toBeGreaterThan(100);
    const now = await c.call('DEBUG', 'DIGEST');
    expect(now).not.toBe(digest);
    const i2 = await info(c);
    expect(i2.rdb_last_bgsave_status).toBe('ok');
    expect(Number(i2.rdb_last_cow_size)).toBeGreaterThan(0);
    // Load the file into the running server: its content must be the image.
    expect(await c.call('DEBUG', 'RELOAD', 'NOSAVE')).toBe('OK');
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
  });

  it('a failed BGSAVE with save points turns writes (and PING) into MISCONF until a save succeeds', async () => {
    const dir = tmpDir();
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    const s = await start({ dir: sub, 'enable-protected-configs': 'yes', save: '3600 1' });
    const c = s.client();
    await c.call('SET', 'a', '1');
    fs.rmSync(sub, { recursive: true });
    expect(await c.call('BGSAVE')).toBe('Background saving started');
    await bgsaveDone(c);
    expect((await info(c)).rdb_last_bgsave_status).toBe('err');
    const misconf =
      "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
    await expect(c.call('SET', 'b', '1')).rejects.toThrow(misconf);
    await expect(c.call('PING')).rejects.toThrow(misconf);
    expect(await c.call('GET', 'a')).toBe('1');
    await expect(c.call('SAVE')).rejects.toThrow(/^ERR$/);
    await c.call('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no');
    expect(await c.call('SET', 'b', '1')).toBe('OK');
    await c.call('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'yes');
    await expect(c.call('SET', 'b', '2')).rejects.toThrow(/^MISCONF/);
    fs.mkdirSync(sub);
    expect(await c.call('SAVE')).toBe('OK');
    expect(await c.call('SET', 'b', '3')).toBe('OK');
    expect(await c.call('PING')).toBe('PONG');
  });

  it('save points start a BGSAVE once enough changes happened', async () => {
    const dir = tmpDir();
    const s = await start({ dir, save: '1 3' });
    const c = s.client();
    await c.call('SET', 'a', '1');
    await new Promise((r) => setTimeout(r, 1300));
    expect(fs.existsSync(path.join(dir, 'dump.rdb'))).toBe(false); // 1 change < 3
    await c.call('SET', 'b', '1');
    await c.call('SET', 'c', '1');
    await until(async () => fs.existsSync(path.join(dir, 'dump.rdb')), 5000);
    await until(async () => (await info(c)).rdb_changes_since_last_save === '0');
    expect(s.logs.some((l) => l.includes('3 changes in 1 seconds. Saving...'))).toBe(true);
  });

  it('FLUSHALL with save points saves at once (0 changes since); without, it only counts', async () => {
    const dir = tmpDir();
    const s = await start({ dir, save: '3600 1' });
    const c = s.client();
    await c.call('SET', 'a', '1');
    await c.call('FLUSHALL');
    expect(fs.existsSync(path.join(dir, 'dump.rdb'))).toBe(true);
    expect((await info(c)).rdb_changes_since_last_save).toBe('0');
    await c.call('CONFIG', 'SET', 'save', '');
    await c.call('SET', 'a', '1');
    await c.call('FLUSHALL');
    expect((await info(c)).rdb_changes_since_last_save).toBe('3');
  });
});

describe('SHUTDOWN and DEBUG RELOAD', () => {
  it('SHUTDOWN saves when save points exist, not with NOSAVE; SHUTDOWN SAVE always', async () => {
    const dir = tmpDir();
    let s = await start({ dir, save: '3600 1' });
    let c = s.client({ retryStrategy: () => null });
    await c.call('SET', 'k', 'v1');
    await c.call('SHUTDOWN').catch(() => {});
    await until(async () => fs.existsSync(path.join(dir, 'dump.rdb')));
    forget();
    s = await start({ dir, save: '3600 1' });
    c = s.client({ retryStrategy: () => null });
    expect(await c.call('GET', 'k')).toBe('v1');
    await c.call('SET', 'k', 'v2');
    await c.call('SHUTDOWN', 'NOSAVE').catch(() => {});
    forget();
    await new Promise((r) => setTimeout(r, 100));
    s = await start({ dir });
    c = s.client({ retryStrategy: () => null });
    expect(await c.call('GET', 'k')).toBe('v1');
    await c.call('SET', 'k', 'v3');
    await c.call('SHUTDOWN', 'SAVE').catch(() => {});
    forget();
    await new Promise((r) => setTimeout(r, 100));
    s = await start({ dir });
    expect(await s.client({ retryStrategy: () => null }).call('GET', 'k')).toBe('v3');
  });

  it('DEBUG RELOAD keeps the data; NOSAVE loads the file; MERGE adds to the data set', async () => {
    const s = await start();
    const c = s.client();
    await fillEveryType(c, { big: 50 });
    const digest = await c.call('DEBUG', 'DIGEST');
    expect(await c.call('DEBUG', 'RELOAD')).toBe('OK');
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
    await c.call('SET', 'extra', '1');
    expect(await c.call('DEBUG', 'RELOAD', 'NOSAVE')).toBe('OK');
    expect(await c.call('EXISTS', 'extra')).toBe(0);
    await c.call('SET', 'extra', '1');
    await c.call('SET', 'str:small', 'changed');
    expect(await c.call('DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH', 'MERGE')).toBe('OK');
    expect(await c.call('GET', 'extra')).toBe('1');
    expect(await c.call('GET', 'str:small')).toBe('hello');
    await expect(c.call('DEBUG', 'RELOAD', 'FOO')).rejects.toThrow('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
  });
});

describe('damaged files and INFO', () => {
  it('a dump.rdb with a bad checksum stops the start-up with a clear error and is left as it was', async () => {
    const dir = tmpDir();
    const s = await start({ dir });
    const c = s.client();
    await fillStrings(c, 100);
    await c.call('SAVE');
    await s.stop();
    forget();
    const file = path.join(dir, 'dump.rdb');
    const buf = fs.readFileSync(file);
    buf[buf.length - 20] ^= 0xff;
    fs.writeFileSync(file, buf);
    await expect(startTestServer({ dir, save: '3600 1' })).rejects.toThrow(/dump\.rdb.*(checksum|CRC)|(checksum|CRC).*dump\.rdb/i);
    expect(fs.readFileSync(file).equals(buf)).toBe(true);
  });

  it('a truncated dump.rdb is refused', async () => {
    const dir = tmpDir();
    const s = await start({ dir });
    await fillStrings(s.client(), 100);
    await s.client().call('SAVE');
    await s.stop();
    forget();
    const file = path.join(dir, 'dump.rdb');
    fs.truncateSync(file, fs.statSync(file).size - 30);
    await expect(startTestServer({ dir })).rejects.toThrow(/truncated|end of file/i);
  });

  it('dir must exist; dbfilename is a file name, not a path (Redis replies)', async () => {
    const s = await start({ 'enable-protected-configs': 'yes' });
    const c = s.client();
    await expect(c.call('CONFIG', 'SET', 'dir', '/nonexistent-cacheside-dir')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory",
    );
    await expect(c.call('CONFIG', 'SET', 'dbfilename', 'a/b')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename",
    );
    const other = tmpDir();
    expect(await c.call('CONFIG', 'SET', 'dir', other, 'dbfilename', 'other.rdb')).toBe('OK');
    await c.call('SAVE');
    expect(fs.existsSync(path.join(other, 'other.rdb'))).toBe(true);
  });

  it('INFO persistence has Redis 7.0 fields in order, with live values', async () => {
    const s = await start();
    const c = s.client();
    await c.call('SET', 'a', '1');
    const text = (await c.call('INFO', 'persistence')) as string;
    const names = text.split('\r\n').filter((l) => l.includes(':')).map((l) => l.split(':')[0]);
    expect(names).toEqual([
      'loading', 'async_loading', 'current_cow_peak', 'current_cow_size', 'current_cow_size_age', 'current_fork_perc',
      'current_save_keys_processed', 'current_save_keys_total', 'rdb_changes_since_last_save', 'rdb_bgsave_in_progress',
      'rdb_last_save_time', 'rdb_last_bgsave_status', 'rdb_last_bgsave_time_sec', 'rdb_current_bgsave_time_sec', 'rdb_saves',
      'rdb_last_cow_size', 'rdb_last_load_keys_expired', 'rdb_last_load_keys_loaded', 'aof_enabled', 'aof_rewrite_in_progress',
      'aof_rewrite_scheduled', 'aof_last_rewrite_time_sec', 'aof_current_rewrite_time_sec', 'aof_last_bgrewrite_status',
      'aof_rewrites', 'aof_rewrites_consecutive_failures', 'aof_last_write_status', 'aof_last_cow_size', 'module_fork_in_progress',
      'module_fork_last_cow_size',
    ]);
    expect((await info(c)).rdb_changes_since_last_save).toBe('1');
  });
});
