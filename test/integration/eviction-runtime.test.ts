/**
 * Eviction at run time: `evicted` notifications, DEL propagation, the
 * evicted_keys stat, CONFIG SET of every eviction setting while running, a
 * lowered maxmemory reached over several turns without stalling the loop,
 * LFU counters, and client eviction (maxmemory-clients, CLIENT NO-EVICT).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { memoryOf } from '../../src/memory/memory.js';

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
const VALUE = 'v'.repeat(1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function info(c: Redis, field: string): Promise<number> {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec((await c.call('INFO', 'all')) as string);
  if (m === null) throw new Error(`no ${field}`);
  return Number(m[1]);
}

async function fill(c: Redis, prefix: string, n: number, value = VALUE): Promise<void> {
  for (let start = 0; start < n; start += 1000) {
    const p = c.pipeline();
    for (let i = start; i < Math.min(n, start + 1000); i++) p.set(`${prefix}:${i}`, value);
    const res = (await p.exec())!;
    const err = res.find(([e]) => e !== null);
    if (err) throw err[0];
  }
}

describe('evictions are visible: notifications, propagation, stats', () => {
  let srv: TestServer;
  let c: Redis;
  const propagated: { db: number; argv: string[] }[] = [];

  beforeAll(async () => {
    srv = await startTestServer({ 'maxmemory-policy': 'allkeys-random', 'notify-keyspace-events': 'KEe' });
    srv.engine.propagators.push((db, argv) => propagated.push({ db, argv: [...argv] }));
    c = srv.client();
  });
  afterAll(async () => srv.stop());

  it('fires an evicted event per key, counts evicted_keys, and propagates DEL (UNLINK with lazyfree-lazy-eviction)', async () => {
    const sub = srv.client();
    const events: string[] = [];
    const keyspace: string[] = [];
    sub.on('pmessage', (_p: string, ch: string, msg: string) => {
      if (ch === '__keyevent@3__:evicted') events.push(msg);
      else if (ch.startsWith('__keyspace@3__:')) keyspace.push(`${ch.slice(15)} ${msg}`);
    });
    await sub.psubscribe('__keyevent@3__:*', '__keyspace@3__:*');
    await c.select(3);
    await fill(c, 'k', 200);
    const used = await info(c, 'used_memory');
    propagated.length = 0;
    await c.call('CONFIG', 'SET', 'maxmemory', String(used - 50_000));
    expect(await c.ping()).toBe('PONG');
    await sleep(100);
    const evicted = await info(c, 'evicted_keys');
    expect(evicted).toBeGreaterThan(30);
    expect(await c.dbsize()).toBe(200 - evicted);
    expect(events.length).toBe(evicted);
    expect(new Set(events).size).toBe(evicted);
    for (const k of events) expect(await c.exists(k)).toBe(0);
    expect(keyspace.filter((l) => l.endsWith(' evicted')).length).toBe(evicted);
    const dels = propagated.filter((p) => p.argv[0] === 'DEL');
    expect(dels.length).toBe(evicted);
    expect(dels.every((p) => p.db === 3 && events.includes(p.argv[1]!))).toBe(true);

    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await fill(c, 'j', 100);
    await c.call('CONFIG', 'SET', 'lazyfree-lazy-eviction', 'yes');
    propagated.length = 0;
    await c.call('CONFIG', 'SET', 'maxmemory', String((await info(c, 'used_memory')) - 20_000));
    await c.ping();
    expect(propagated.length).toBeGreaterThan(0);
    expect(propagated.every((p) => p.argv[0] === 'UNLINK')).toBe(true);
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await c.call('CONFIG', 'SET', 'lazyfree-lazy-eviction', 'no');
    // CONFIG RESETSTAT clears the counter.
    await c.call('CONFIG', 'RESETSTAT');
    expect(await info(c, 'evicted_keys')).toBe(0);
    await c.select(0);
  });

  it('invalidates WATCH on an evicted key', async () => {
    await c.flushall();
    await fill(c, 'w', 100);
    const w = srv.client();
    await w.watch('w:1', 'w:2', 'w:3', 'w:4', 'w:5', 'w:6', 'w:7', 'w:8', 'w:9', 'w:10');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    await c.call('CONFIG', 'SET', 'maxmemory', String((await info(c, 'used_memory')) - 90_000));
    await c.ping();
    let gone = 0;
    for (let i = 1; i <= 10; i++) gone += 1 - (await c.exists(`w:${i}`));
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    expect(gone).toBeGreaterThan(0);
    const r = await w.multi().set('x', '1').exec();
    expect(r).toBeNull();
  });
});

describe('CONFIG SET at run time', () => {
  let srv: TestServer;
  let c: Redis;
  beforeAll(async () => {
    srv = await startTestServer();
    c = srv.client();
  });
  afterAll(async () => srv.stop());
  afterEach(async () => {
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    await c.flushall();
  });

  it('maxmemory, then the policy: from OOM to evicting, and back', async () => {
    await fill(c, 'a', 1000);
    const used = await info(c, 'used_memory');
    await c.call('CONFIG', 'SET', 'maxmemory', String(used - 100_000));
    expect(await c.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', String(used - 100_000)]);
    await expect(c.set('x', 'y')).rejects.toThrow(OOM);
    expect(await c.dbsize()).toBe(1000);
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    expect(await c.set('x', 'y')).toBe('OK');
    expect(await c.dbsize()).toBeLessThan(1000);
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru');
    await fill(c, 'b', 10).catch((e: Error) => expect(e.message).toBe(OOM));
    // allkeys-lru stopped just under the limit: go well over it, with nothing volatile to evict.
    await c.call('CONFIG', 'SET', 'maxmemory', String((await info(c, 'used_memory')) - 100_000));
    await expect(c.set('x2', 'y')).rejects.toThrow(OOM);
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    expect(await c.set('x2', 'y')).toBe('OK');
  });

  it('switching to an LFU policy turns on OBJECT FREQ (new keys start at 5) and off OBJECT IDLETIME', async () => {
    await c.set('k', 'v');
    await expect(c.call('OBJECT', 'FREQ', 'k')).rejects.toThrow('ERR An LFU maxmemory policy is not selected');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu');
    await c.set('fresh', 'v');
    expect(await c.call('OBJECT', 'FREQ', 'fresh')).toBe(5);
    await c.get('fresh');
    expect(await c.call('OBJECT', 'FREQ', 'fresh')).toBe(6);
    await expect(c.call('OBJECT', 'IDLETIME', 'fresh')).rejects.toThrow('ERR An LFU maxmemory policy is selected');
    // The counter grows logarithmically: lfu-log-factor 0 increments on every access up to 255.
    await c.call('CONFIG', 'SET', 'lfu-log-factor', '0');
    for (let i = 0; i < 20; i++) await c.get('fresh');
    expect(await c.call('OBJECT', 'FREQ', 'fresh')).toBe(26);
    await c.call('CONFIG', 'SET', 'lfu-log-factor', '100');
    for (let i = 0; i < 20; i++) await c.get('fresh');
    expect(Number(await c.call('OBJECT', 'FREQ', 'fresh'))).toBeLessThanOrEqual(27);
    await c.call('CONFIG', 'SET', 'lfu-log-factor', '10');
    // CLIENT NO-TOUCH reads leave the counter alone.
    await c.call('CLIENT', 'NO-TOUCH', 'on');
    const f = await c.call('OBJECT', 'FREQ', 'fresh');
    await c.call('CONFIG', 'SET', 'lfu-log-factor', '0');
    await c.get('fresh');
    expect(await c.call('OBJECT', 'FREQ', 'fresh')).toBe(f);
    await c.call('CLIENT', 'NO-TOUCH', 'off');
    await c.call('CONFIG', 'SET', 'lfu-log-factor', '10');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    await expect(c.call('OBJECT', 'FREQ', 'fresh')).rejects.toThrow('ERR An LFU maxmemory policy is not selected');
    // The metadata holds an LFU counter until the key is accessed again (as in Redis).
    await c.get('fresh');
    expect(await c.call('OBJECT', 'IDLETIME', 'fresh')).toBe(0);
  });

  it('validates the eviction settings as Redis does', async () => {
    await expect(c.call('CONFIG', 'SET', 'maxmemory-policy', 'lru')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
    );
    await expect(c.call('CONFIG', 'SET', 'maxmemory-eviction-tenacity', '101')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-eviction-tenacity') - argument must be between 0 and 100 inclusive",
    );
    await expect(c.call('CONFIG', 'SET', 'maxmemory-samples', '0')).rejects.toThrow('argument must be between 1 and 2147483647 inclusive');
    for (const [k, v] of [['maxmemory-samples', '10'], ['maxmemory-eviction-tenacity', '50'], ['lfu-decay-time', '5'], ['maxmemory-clients', '10%']]) {
      expect(await c.call('CONFIG', 'SET', k!, v!)).toBe('OK');
      expect(await c.call('CONFIG', 'GET', k!)).toEqual([k, v]);
    }
    await c.call('CONFIG', 'SET', 'maxmemory-samples', '5', 'maxmemory-eviction-tenacity', '10', 'lfu-decay-time', '1', 'maxmemory-clients', '0');
  });

  it('a lowered maxmemory is reached over several turns, never stalling the loop', async () => {
    // 100k small keys, then a limit that needs most of them gone, with a tenacity of 0:
    // each turn evicts only a few keys, the rest happens in later turns.
    const p = c.pipeline();
    for (let i = 0; i < 100_000; i++) p.set(`s:${i}`, 'x'.repeat(50));
    await p.exec();
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random', 'maxmemory-eviction-tenacity', '0');
    const st = memoryOf(srv.engine).state;
    const target = st.startup + 2 * 1024 * 1024;
    // Measure the event loop's responsiveness while eviction runs.
    let worst = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      const t = performance.now();
      worst = Math.max(worst, t - last);
      last = t;
    }, 1);
    await c.call('CONFIG', 'SET', 'maxmemory', String(target));
    const evictedAfterSet = await info(c, 'evicted_keys');
    // No command needed: the background turns get there.
    const deadline = Date.now() + 10_000;
    while (st.used() > target && Date.now() < deadline) await sleep(20);
    clearInterval(probe);
    expect(st.used()).toBeLessThanOrEqual(target);
    expect(evictedAfterSet).toBeLessThan(50_000);
    expect(await info(c, 'evicted_keys')).toBeGreaterThan(80_000);
    expect(worst).toBeLessThan(100);
    await c.call('CONFIG', 'SET', 'maxmemory-eviction-tenacity', '10');
  });

  it('eviction waits while clients are paused', async () => {
    await fill(c, 'p', 300);
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    await c.call('CLIENT', 'PAUSE', '300', 'WRITE');
    await c.call('CONFIG', 'SET', 'maxmemory', String((await info(c, 'used_memory')) - 100_000));
    expect(await c.dbsize()).toBe(300);
    await c.call('CLIENT', 'UNPAUSE');
    await c.ping();
    await sleep(150);
    expect(await c.dbsize()).toBeLessThan(300);
  });
});

describe('client eviction (maxmemory-clients)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => srv.stop());

  it('disconnects the clients using the most memory, never one in CLIENT NO-EVICT mode', async () => {
    const admin = srv.client();
    const protectedClient = srv.client();
    const victims = [srv.client(), srv.client(), srv.client()];
    await Promise.all([admin.ping(), protectedClient.ping(), ...victims.map((v) => v.ping())]);
    expect(await protectedClient.call('CLIENT', 'NO-EVICT', 'on')).toBe('OK');
    await admin.call('CLIENT', 'NO-EVICT', 'on');
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    expect(list).toMatch(/flags=e/);
    const closed: number[] = [];
    victims.forEach((v, i) => v.on('close', () => closed.push(i)));
    let protectedClosed = false;
    protectedClient.on('close', () => (protectedClosed = true));
    admin.on('close', () => (protectedClosed = true));
    // Five clients of 8 KiB each in the model: a limit of 20 KiB must evict down to it.
    await admin.call('CONFIG', 'SET', 'maxmemory-clients', String(20 * 1024));
    await sleep(400);
    await admin.call('CONFIG', 'SET', 'maxmemory-clients', '0');
    expect(protectedClosed).toBe(false);
    expect(closed.length).toBeGreaterThan(0);
    expect(Number(/evicted_clients:(\d+)/.exec((await protectedClient.call('INFO', 'stats')) as string)![1])).toBeGreaterThan(0);
    expect(await protectedClient.ping()).toBe('PONG');
  });
});
