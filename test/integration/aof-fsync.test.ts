/**
 * appendfsync policies, observed through a slowed-down fdatasync: with
 * `always` a write is acknowledged only after an fsync that covers it, one
 * fsync serving every client of a turn (group commit), and replies keep their
 * order; with `everysec` and `no` replies never wait for the disk.
 */
import { describe, it, expect, afterEach, beforeEach } from 'vitest';
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { LocalClient, ReplyError } from '../../src/server/local-session.js';
import { LocalEngineClient } from '../../src/sidecar/engine-client.js';

const FSYNC_MS = 150;
const servers: TestServer[] = [];
let realFdatasync: typeof fs.fdatasync;
let fsyncCalls = 0;
/** Bytes of the AOF file when each fsync started. */
let fsyncStarts: number[] = [];

beforeEach(() => {
  realFdatasync = fs.fdatasync;
  fsyncCalls = 0;
  fsyncStarts = [];
  (fs as { fdatasync: unknown }).fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    fsyncCalls++;
    fsyncStarts.push(fs.fstatSync(fd).size);
    setTimeout(() => realFdatasync(fd, cb), FSYNC_MS);
  };
});

afterEach(async () => {
  (fs as { fdatasync: unknown }).fdatasync = realFdatasync;
  for (const s of servers.splice(0)) await s.stop().catch(() => {});
});

async function start(fsync: string): Promise<{ s: TestServer; c: Redis }> {
  const s = await startTestServer({ appendonly: 'yes', appendfsync: fsync });
  servers.push(s);
  return { s, c: s.client() };
}

async function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await p;
  return [v, performance.now() - t0];
}

describe('appendfsync', () => {
  it('always: the reply of a write waits for the fsync; reads alone do not', async () => {
    const { c } = await start('always');
    await c.call('PING');
    const [r, ms] = await timed(c.call('SET', 'k', 'v'));
    expect(r).toBe('OK');
    expect(ms).toBeGreaterThanOrEqual(FSYNC_MS - 5);
    expect(fsyncCalls).toBeGreaterThanOrEqual(1);
    const [g, gms] = await timed(c.call('GET', 'k'));
    expect(g).toBe('v');
    expect(gms).toBeLessThan(FSYNC_MS / 2);
  });

  it('always: many clients writing at once share fsyncs (group commit), and pipelined replies stay in order', async () => {
    const { s, c } = await start('always');
    const clients = Array.from({ length: 20 }, () => s.client());
    await Promise.all(clients.map((x) => x.call('PING')));
    const before = fsyncCalls;
    const t0 = performance.now();
    await Promise.all(clients.map((x, i) => x.call('SET', `k${i}`, 'v')));
    const ms = performance.now() - t0;
    expect(fsyncCalls - before).toBeLessThanOrEqual(3);
    expect(ms).toBeLessThan(FSYNC_MS * 4);
    // A pipeline mixing reads and writes: replies in command order.
    const p = c.pipeline();
    for (let i = 0; i < 50; i++) {
      p.incr('counter');
      p.get('counter');
    }
    const res = (await p.exec())!.map(([, v]) => v);
    for (let i = 0; i < 50; i++) {
      expect(res[2 * i]).toBe(i + 1);
      expect(res[2 * i + 1]).toBe(String(i + 1));
    }
  });

  it('always: the acknowledged write is in the file when the reply arrives', async () => {
    const { s, c } = await start('always');
    const dir = s.engine.config.str('dir');
    for (let i = 0; i < 5; i++) {
      await c.call('SET', `key${i}`, `value${i}`);
      // The fsync that released the reply started after the command was written to the file.
      const file = `${dir}/appendonlydir/appendonly.aof.1.incr.aof`;
      expect(fs.readFileSync(file, 'latin1')).toContain(`value${i}`);
      expect(Math.max(...fsyncStarts)).toBe(fs.statSync(file).size);
    }
  });

  it('everysec: replies do not wait; one fsync per second while writes come in', async () => {
    const { c } = await start('everysec');
    const [, ms] = await timed(c.call('SET', 'k', 'v'));
    expect(ms).toBeLessThan(FSYNC_MS / 2);
    const t0 = Date.now();
    let n = 0;
    while (Date.now() - t0 < 2300) {
      await c.call('INCR', 'n');
      n++;
    }
    expect(n).toBeGreaterThan(100);
    expect(fsyncCalls).toBeGreaterThanOrEqual(2);
    expect(fsyncCalls).toBeLessThanOrEqual(3);
  });

  it('no: never fsyncs; CONFIG SET appendfsync switches at runtime', async () => {
    const { c } = await start('no');
    for (let i = 0; i < 50; i++) await c.call('SET', 'k', i);
    await new Promise((r) => setTimeout(r, 1200));
    expect(fsyncCalls).toBe(0);
    await c.call('CONFIG', 'SET', 'appendfsync', 'always');
    const [, ms] = await timed(c.call('SET', 'k', 'v'));
    expect(ms).toBeGreaterThanOrEqual(FSYNC_MS - 5);
    await c.call('CONFIG', 'SET', 'appendfsync', 'everysec');
    const [, ms2] = await timed(c.call('SET', 'k', 'w'));
    expect(ms2).toBeLessThan(FSYNC_MS / 2);
  });

  it('a failing AOF write turns writes into MISCONF until a retry succeeds', async () => {
    const { c } = await start('everysec');
    const realWriteSync = fs.writeSync;
    let failing = true;
    (fs as { writeSync: unknown }).writeSync = (fd: number, data: Buffer, ...rest: unknown[]) => {
      if (failing && Buffer.isBuffer(data) && data.includes('fail-me')) {
        const e = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
        e.code = 'ENOSPC';
        throw e;
      }
      return (realWriteSync as (...a: unknown[]) => number)(fd, data, ...rest);
    };
    try {
      await c.call('SET', 'fail-me', '1');
      await new Promise((r) => setTimeout(r, 50));
      const info = String(await c.call('INFO', 'persistence'));
      expect(info).toContain('aof_last_write_status:err');
      await expect(c.call('SET', 'other', '1')).rejects.toThrow('MISCONF Errors writing to the AOF file: No space left on device');
      expect(await c.call('GET', 'fail-me')).toBe('1');
      failing = false;
      // The writer retries (once a second) and the gate opens again.
      const end = Date.now() + 5000;
      while (String(await c.call('INFO', 'persistence')).includes('aof_last_write_status:err') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(await c.call('SET', 'other', '1')).toBe('OK');
    } finally {
      (fs as { writeSync: unknown }).writeSync = realWriteSync;
    }
  });

  it('always: a write of an in-process (sidecar) client resolves only after the fsync covering it', async () => {
    const { s } = await start('always');
    const lc = new LocalClient(s.engine);
    const file = `${s.engine.config.str('dir')}/appendonlydir/appendonly.aof.1.incr.aof`;
    for (let i = 0; i < 3; i++) {
      const starts = fsyncStarts.length;
      const [r, ms] = await timed(lc.send('SET', `lk${i}`, `lv${i}`));
      expect(r).toBe('OK');
      expect(ms).toBeGreaterThanOrEqual(FSYNC_MS - 5);
      // An fsync that started once the command was in the file released it.
      expect(fs.readFileSync(file, 'latin1')).toContain(`lv${i}`);
      expect(fsyncStarts.length).toBeGreaterThan(starts);
      expect(Math.max(...fsyncStarts.slice(starts))).toBe(fs.statSync(file).size);
    }
    // Writes of one turn share one fsync; errors reject after it; a read with nothing pending does not wait.
    const before = fsyncCalls;
    const all = await Promise.all([lc.send('INCR', 'n'), lc.send('INCR', 'n'), lc.send('INCR', 'n')]);
    expect(all).toEqual([1, 2, 3]);
    expect(fsyncCalls - before).toBe(1);
    await expect(lc.send('INCR', 'lk0')).rejects.toThrow(ReplyError);
    const [g, gms] = await timed(lc.send('GET', 'lk1'));
    expect(g).toBe('lv1');
    expect(gms).toBeLessThan(FSYNC_MS / 2);
    // The synchronous form answers at once (not acknowledged).
    expect(lc.call('SET', 'fast', '1')).toBe('OK');
    await lc.durable();
    expect(fs.readFileSync(file, 'latin1')).toContain('fast');
    lc.close();
  });

  it('always: the in-process sidecar engine client acknowledges SET/DEL after the fsync; everysec does not wait', async () => {
    const { s } = await start('always');
    const ec = new LocalEngineClient(s.engine);
    const [, ms] = await timed(ec.set('page', Buffer.from('body'), Date.now() + 60_000));
    expect(ms).toBeGreaterThanOrEqual(FSYNC_MS - 5);
    const [n, dms] = await timed(ec.del(['page']));
    expect(n).toBe(1);
    expect(dms).toBeGreaterThanOrEqual(FSYNC_MS - 5);
    s.engine.config.set('appendfsync', 'everysec', false);
    const [, ms2] = await timed(ec.set('page', Buffer.from('body'), Date.now() + 60_000));
    expect(ms2).toBeLessThan(FSYNC_MS / 2);
    await ec.close();
  });
});
