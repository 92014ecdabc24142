/**
 * Proxy mode with the engine going away: requests pass through to the
 * upstream uncached (never a wave of 500s), a metric and a log line say so,
 * /readyz turns 503, and caching resumes when the engine returns.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RedisEngineClient } from '../../src/sidecar/redis-engine-client.js';
import type { RunningSidecar } from '../../src/sidecar/server.js';
import { get, hasRedisServer, route, sidecarOn, sleep, startTcpEngine, startUpstream, type TcpEngine, type Upstream } from './sidecar-harness.js';

let engine: TcpEngine;
let up: Upstream;
let sc: RunningSidecar;
let client: RedisEngineClient;
const lines: { level: number; msg: string }[] = [];

beforeAll(async () => {
  engine = await startTcpEngine();
  up = await startUpstream((req, res, _b, n) => {
    res.setHeader('cache-control', 'max-age=60');
    res.end(`${req.url} n=${n}`);
  });
  client = new RedisEngineClient(engine.url, { commandTimeout: 300, connectTimeout: 300 });
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  sc = await sidecarOn(client, { log, routes: [route({ prefix: '/', upstream: up.url })] });
});

afterAll(async () => {
  await sc?.close();
  await client?.close();
  await up?.close();
  await engine?.stop();
});

async function until(cond: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(25);
  }
}

describe('engine down in proxy mode', () => {
  it('caches while the engine is up', async () => {
    expect((await get(sc.url + '/a')).headers.get('x-cache')).toBe('MISS');
    expect((await get(sc.url + '/a')).headers.get('x-cache')).toBe('HIT');
    expect((await get(sc.url + '/readyz')).status).toBe(200);
  });

  it('passes requests through uncached while it is down, and says so', async () => {
    await engine.stop();
    await until(() => !client.up);
    const n = up.count();
    const rs = await Promise.all(Array.from({ length: 20 }, () => get(sc.url + '/a')));
    for (const r of rs) {
      expect(r.status).toBe(200);
      expect(r.headers.get('x-cache')).toBe('BYPASS');
      expect(r.headers.get('cache-status')).toBe('cacheside; fwd=bypass; fwd-status=200; detail=engine-down');
    }
    expect(up.count() - n).toBe(20);
    expect((await get(sc.url + '/readyz')).status).toBe(503);
    expect((await get(sc.url + '/healthz')).status).toBe(200);
    const m = (await get(sc.url + '/metrics')).text;
    expect(m).toContain('cacheside_engine_up 0');
    expect(m).toMatch(/cacheside_bypass_total\{reason="engine-down"\} 20/);
    expect(lines.some((l) => l.level === 40 && l.msg.startsWith('engine unreachable'))).toBe(true);
  });

  it('resumes caching when the engine returns', async () => {
    await engine.start();
    await until(() => client.up);
    await until(async () => (await get(sc.url + '/readyz')).status === 200);
    expect(lines.some((l) => l.msg.startsWith('engine reachable again'))).toBe(true);
    // the restarted engine is empty: one miss, then hits again
    expect((await get(sc.url + '/b')).headers.get('x-cache')).toBe('MISS');
    expect((await get(sc.url + '/b')).headers.get('x-cache')).toBe('HIT');
    expect((await get(sc.url + '/metrics')).text).toContain('cacheside_engine_up 1');
  });
});

describe.skipIf(!hasRedisServer())('entries survive an engine reload with their expiry (redis-server, RDB)', () => {
  it('PXAT keeps the absolute expiry across DEBUG RELOAD; the next request is a hit', async () => {
    const redis = await startTcpEngine('redis');
    const c = new RedisEngineClient(redis.url);
    const u = await startUpstream((_q, res) => {
      res.setHeader('cache-control', 'max-age=100');
      res.end('persisted');
    });
    const s = await sidecarOn(c, { l1MaxBytes: 0, keyPrefix: 'cs:', routes: [route({ prefix: '/', upstream: u.url })] });
    try {
      expect((await get(s.url + '/p')).headers.get('x-cache')).toBe('MISS');
      const cli = (...a: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...a], { encoding: 'utf8' }).stdout.trim();
      const before = Number(cli('PEXPIRETIME', 'cs:e:/:/p'));
      expect(before).toBeGreaterThan(Date.now() + 90_000);
      expect(cli('DEBUG', 'RELOAD')).toBe('OK');
      expect(Number(cli('PEXPIRETIME', 'cs:e:/:/p'))).toBe(before);
      const r = await get(s.url + '/p');
      expect(r.headers.get('x-cache')).toBe('HIT');
      expect(r.text).toBe('persisted');
      expect(u.count()).toBe(1);
    } finally {
      await s.close();
      await c.close();
      await u.close();
      await redis.stop();
    }
  });
});
