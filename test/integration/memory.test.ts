/**
 * MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP and the INFO
 * memory fields, from the size model. Reply shapes and error texts as
 * redis-server 7.0 gives them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';

function field(text: string, name: string): string {
  const m = new RegExp(`^${name}:(.*)\\r$`, 'm').exec(text);
  if (m === null) throw new Error(`no ${name}`);
  return m[1]!;
}

describe('MEMORY and INFO memory', () => {
  let srv: TestServer;
  let c: Redis;
  beforeAll(async () => {
    srv = await startTestServer();
    c = srv.client();
  });
  afterAll(async () => srv.stop());

  it('MEMORY USAGE: bytes for a key, growing with its value; nil when missing; SAMPLES validated', async () => {
    expect(await c.call('MEMORY', 'USAGE', 'missing')).toBeNull();
    await c.set('small', 'x');
    await c.set('big', 'x'.repeat(10_000));
    const small = Number(await c.call('MEMORY', 'USAGE', 'small'));
    const big = Number(await c.call('MEMORY', 'USAGE', 'big'));
    expect(small).toBeGreaterThan(40);
    expect(small).toBeLessThan(300);
    expect(big - small).toBeGreaterThan(9_900);
    expect(big - small).toBeLessThan(10_100);
    await c.rpush('list', ...Array.from({ length: 1000 }, (_, i) => `element-${i}`));
    expect(Number(await c.call('MEMORY', 'USAGE', 'list'))).toBeGreaterThan(1000 * 30);
    expect(await c.call('MEMORY', 'USAGE', 'list', 'SAMPLES', '0')).toBe(await c.call('MEMORY', 'USAGE', 'list', 'samples', '5'));
    await expect(c.call('MEMORY', 'USAGE', 'list', 'SAMPLES')).rejects.toThrow('ERR syntax error');
    await expect(c.call('MEMORY', 'USAGE', 'list', 'SAMPLES', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(c.call('MEMORY', 'USAGE', 'list', 'SAMPLES', '-1')).rejects.toThrow('ERR syntax error');
    await expect(c.call('MEMORY', 'USAGE', 'list', 'foo', '1')).rejects.toThrow('ERR syntax error');
    await expect(c.call('MEMORY', 'USAGE')).rejects.toThrow("ERR wrong number of arguments for 'memory|usage' command");
    await expect(c.call('MEMORY', 'NOPE')).rejects.toThrow("ERR unknown subcommand 'NOPE'. Try MEMORY HELP.");
  });

  it('MEMORY USAGE does not touch the key', async () => {
    await c.set('idle', 'v');
    await new Promise((r) => setTimeout(r, 2100));
    await c.call('MEMORY', 'USAGE', 'idle');
    expect(Number(await c.call('OBJECT', 'IDLETIME', 'idle'))).toBeGreaterThanOrEqual(1);
  });

  it('used_memory follows the data set: up with keys, back down after FLUSHALL', async () => {
    await c.flushall();
    const base = Number(field((await c.call('INFO', 'memory')) as string, 'used_memory'));
    const p = c.pipeline();
    for (let i = 0; i < 10_000; i++) p.set(`k:${i}`, 'v'.repeat(100));
    await p.exec();
    const full = Number(field((await c.call('INFO', 'memory')) as string, 'used_memory'));
    // ~10000 × (100-byte value + key + per-key overhead).
    expect(full - base).toBeGreaterThan(10_000 * 130);
    expect(full - base).toBeLessThan(10_000 * 400);
    await c.flushall();
    const after = Number(field((await c.call('INFO', 'memory')) as string, 'used_memory'));
    expect(Math.abs(after - base)).toBeLessThan(4096);
  });

  it('INFO memory has Redis fields, consistent with each other', async () => {
    await c.call('CONFIG', 'SET', 'maxmemory', '100mb', 'maxmemory-policy', 'allkeys-lfu');
    await c.set('x', 'y');
    const t = (await c.call('INFO', 'memory')) as string;
    const used = Number(field(t, 'used_memory'));
    const overhead = Number(field(t, 'used_memory_overhead'));
    const dataset = Number(field(t, 'used_memory_dataset'));
    const startup = Number(field(t, 'used_memory_startup'));
    const peak = Number(field(t, 'used_memory_peak'));
    const rss = Number(field(t, 'used_memory_rss'));
    expect(overhead + dataset).toBe(used);
    expect(startup).toBeGreaterThan(0);
    expect(startup).toBeLessThanOrEqual(overhead);
    expect(peak).toBeGreaterThanOrEqual(used);
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(field(t, 'used_memory_human')).toMatch(/^\d+\.\d\d[KMG]$/);
    expect(field(t, 'used_memory_rss_human')).toMatch(/^\d+\.\d\d[KMG]$/);
    expect(field(t, 'used_memory_peak_perc')).toMatch(/^\d+\.\d\d%$/);
    expect(field(t, 'used_memory_dataset_perc')).toMatch(/^\d+\.\d\d%$/);
    expect(field(t, 'maxmemory')).toBe(String(100 * 1024 * 1024));
    expect(field(t, 'maxmemory_human')).toBe('100.00M');
    expect(field(t, 'maxmemory_policy')).toBe('allkeys-lfu');
    expect(Number(field(t, 'total_system_memory'))).toBeGreaterThan(0);
    expect(Number(field(t, 'mem_fragmentation_ratio'))).toBeCloseTo(rss / used, 1);
    expect(field(t, 'mem_not_counted_for_evict')).toBe('0');
    expect(Number(field(t, 'mem_clients_normal'))).toBeGreaterThan(0);
    await c.call('CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction');
  });

  it('MEMORY STATS: the map of Redis 7.0, in RESP2 and RESP3', async () => {
    await c.set('x', 'y');
    await c.call('SELECT', '2');
    await c.set('z', 'y', 'EX', '100');
    await c.call('SELECT', '0');
    const flat = (await c.call('MEMORY', 'STATS')) as unknown[];
    const keys = flat.filter((_, i) => i % 2 === 0);
    expect(keys).toEqual([
      'peak.allocated', 'total.allocated', 'startup.allocated', 'replication.backlog', 'clients.slaves', 'clients.normal',
      'cluster.links', 'aof.buffer', 'lua.caches', 'functions.caches', 'db.0', 'db.2', 'overhead.total', 'keys.count',
      'keys.bytes-per-key', 'dataset.bytes', 'dataset.percentage', 'peak.percentage', 'allocator.allocated', 'allocator.active',
      'allocator.resident', 'allocator-fragmentation.ratio', 'allocator-fragmentation.bytes', 'allocator-rss.ratio',
      'allocator-rss.bytes', 'rss-overhead.ratio', 'rss-overhead.bytes', 'fragmentation', 'fragmentation.bytes',
    ]);
    const m = new Map(keys.map((k, i) => [k, flat[2 * i + 1]]));
    expect(m.get('db.2')).toEqual(['overhead.hashtable.main', expect.any(Number), 'overhead.hashtable.expires', expect.any(Number), 'overhead.hashtable.slot-to-keys', 0]);
    expect(m.get('keys.count')).toBe(Number(await c.dbsize()) + 1);
    expect(typeof m.get('dataset.percentage')).toBe('string');
    expect(Number(m.get('dataset.percentage'))).toBeGreaterThan(0);
    const r3 = await srv.nodeRedis(3);
    const stats = (await r3.sendCommand(['MEMORY', 'STATS'])) as Record<string, unknown>;
    expect(typeof stats['dataset.percentage']).toBe('number');
    expect(typeof stats['total.allocated']).toBe('number');
    expect(stats['db.0']).toEqual({ 'overhead.hashtable.main': expect.any(Number), 'overhead.hashtable.expires': expect.any(Number), 'overhead.hashtable.slot-to-keys': 0 });
  });

  it('MEMORY DOCTOR, MALLOC-STATS, PURGE, HELP', async () => {
    await c.flushall();
    expect(await c.call('MEMORY', 'DOCTOR')).toBe(
      "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.",
    );
    const p = c.pipeline();
    for (let i = 0; i < 60_000; i++) p.set(`k:${i}`, 'v'.repeat(100));
    await p.exec();
    // With data and no peak behind: no peak finding. (The RSS finding depends on the whole process,
    // here the test runner's too, so only the peak is asserted.)
    const healthy = (await c.call('MEMORY', 'DOCTOR')) as string;
    expect(healthy).not.toMatch(/Peak memory/);
    expect(healthy === "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base." || healthy.startsWith('Sam, I detected')).toBe(true);
    await c.flushall();
    // A peak well above the current use is reported once there is data again.
    const q = c.pipeline();
    for (let i = 0; i < 30_000; i++) q.set(`k:${i}`, 'v'.repeat(100));
    await q.exec();
    const report = (await c.call('MEMORY', 'DOCTOR')) as string;
    expect(report).toMatch(/^Sam, I detected a few issues in this Redis instance memory implants:\n\n\* Peak memory: /);
    expect(report).toMatch(/\n\nI'm here to keep you safe, Sam. I want to help you.\n$/);
    expect(await c.call('MEMORY', 'MALLOC-STATS')).toBe('Stats not supported for the current allocator');
    expect(await c.call('MEMORY', 'PURGE')).toBe('OK');
    const help = (await c.call('MEMORY', 'HELP')) as string[];
    expect(help[0]).toBe('MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('USAGE <key> [SAMPLES <count>]');
    expect(help.at(-1)).toBe('    Prints this help.');
    await c.flushall();
  });

  it('COMMAND INFO memory|usage has the key spec of Redis 7.0', async () => {
    const info = (await c.call('COMMAND', 'INFO', 'memory|usage')) as unknown[][];
    expect(info[0]!.slice(0, 6)).toEqual(['memory|usage', -3, ['readonly'], 2, 2, 1]);
    expect(await c.call('COMMAND', 'GETKEYS', 'MEMORY', 'USAGE', 'foo')).toEqual(['foo']);
  });
});

describe('client memory leaves used_memory when the client goes', () => {
  let srv: TestServer;
  let c: Redis;
  // hz 1: the cron refreshes the clients' figure once a second, so only the close itself can lower it in time.
  beforeAll(async () => {
    srv = await startTestServer({ hz: 1 });
    c = srv.client();
  });
  afterAll(async () => srv.stop());

  it('a write right after clients with big unread replies disconnect is not refused for their memory', async () => {
    await c.set('big', 'x'.repeat(100_000));
    const base = Number(field((await c.info('memory')) as string, 'used_memory'));
    await c.config('SET', 'maxmemory-policy', 'noeviction');
    await c.config('SET', 'maxmemory', String(base + 4_000_000));
    const { connect } = await import('node:net');
    const socks = Array.from({ length: 10 }, () => {
      const s = connect(srv.port, '127.0.0.1');
      s.pause(); // never reads: the replies pile up in the server
      s.on('error', () => {});
      return s;
    });
    const mget = '*2\r\n$4\r\nMGET\r\n$3\r\nbig\r\n'.repeat(20);
    const end = Date.now() + 20_000;
    // Pile up output until the server refuses writes for memory.
    for (;;) {
      for (const s of socks) s.write(mget);
      const r = await c.set('probe', '1').catch((e: Error) => e.message);
      if (r !== 'OK') {
        expect(r).toMatch(/^OOM /);
        break;
      }
      if (Date.now() > end) throw new Error('the replies never counted against maxmemory');
      await new Promise((res) => setTimeout(res, 20));
    }
    for (const s of socks) s.destroy();
    // Wait until the server has seen the clients go (CLIENT LIST is live), then write at once.
    while (((await c.call('CLIENT', 'LIST')) as string).trim().split('\n').length > 1) await new Promise((res) => setTimeout(res, 5));
    expect(await c.set('probe', '1')).toBe('OK');
    expect(Number(field((await c.info('memory')) as string, 'mem_clients_normal'))).toBeLessThan(1_000_000);
  }, 30_000);
});
