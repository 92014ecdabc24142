/**
 * Request coalescing: concurrent misses in one process share one upstream
 * request; two sidecars (separate caches, one engine) coordinate through the
 * engine lock and pub/sub; a dead lock holder costs a bounded wait.
 * (The 3-process version is sidecar-multiprocess.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/sidecar/engine-client.js';
import type { RunningSidecar } from '../../src/sidecar/server.js';
import { get, route, sidecarOn, sleep, startTestEngine, startUpstream, type TestEngine, type Upstream } from './sidecar-harness.js';

let engine: TestEngine;
let client: EngineClient;
let up: Upstream;

beforeAll(async () => {
  engine = await startTestEngine();
  client = engine.client();
  up = await startUpstream(async (req, res, _body, n) => {
    const u = new URL(req.url!, 'http://x');
    await sleep(Number(u.searchParams.get('delay') ?? 200));
    if (u.searchParams.has('nostore')) res.setHeader('cache-control', 'no-store');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, n }));
  });
});

afterAll(async () => {
  await up?.close();
  await engine?.stop();
});

describe('coalescing', () => {
  let sc: RunningSidecar;
  beforeAll(async () => {
    sc = await sidecarOn(client, { routes: [route({ prefix: '/', upstream: up.url, ttl: 60 })] });
  });
  afterAll(() => sc?.close());

  it('100 concurrent requests for a cold key: one upstream request', async () => {
    const rs = await Promise.all(Array.from({ length: 100 }, () => get(sc.url + '/getLecture/1')));
    expect(up.count('/getLecture/1')).toBe(1);
    const bodies = new Set(rs.map((r) => r.text));
    expect(bodies.size).toBe(1);
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(rs.filter((r) => r.headers.get('cache-status')!.includes('collapsed')).length).toBe(99);
    expect(rs.filter((r) => /^cacheside; fwd=uri-miss; fwd-status=200; stored; ttl=5\d$/.test(r.headers.get('cache-status')!)).length).toBe(1);
    const metrics = (await get(sc.url + '/metrics')).text;
    expect(metrics).toMatch(/cacheside_coalesced_waiters_total\{scope="process"\} 99/);
    expect(metrics).toMatch(/cacheside_upstream_requests_total\{route="\/",status="200"\} 1/);
  });

  it('uncacheable responses are not shared: each waiter asks for itself', async () => {
    const rs = await Promise.all(Array.from({ length: 5 }, () => get(sc.url + '/p?nostore=1&delay=50')));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(up.count('/p?nostore=1&delay=50')).toBe(5);
  });
});

describe('across nodes sharing one engine', () => {
  it('two sidecars, 50 concurrent requests each: one upstream request', async () => {
    const prefix = `x${Math.random().toString(36).slice(2, 8)}:`;
    const a = await sidecarOn(engine.client(), { keyPrefix: prefix, routes: [route({ prefix: '/', upstream: up.url, ttl: 60 })] });
    const b = await sidecarOn(engine.client(), { keyPrefix: prefix, routes: [route({ prefix: '/', upstream: up.url, ttl: 60 })] });
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => get((i % 2 ? a : b).url + '/getLecture/2')));
    expect(up.count('/getLecture/2')).toBe(1);
    expect(new Set(rs.map((r) => r.text)).size).toBe(1);
    const m = (await get(a.url + '/metrics')).text + (await get(b.url + '/metrics')).text;
    expect(m).toMatch(/cacheside_coalesced_waiters_total\{scope="cluster"\} 1/);
    await a.close();
    await b.close();
  });

  it('a lock left by a dead holder costs a bounded wait, then the node fetches itself', async () => {
    const prefix = `d${Math.random().toString(36).slice(2, 8)}:`;
    const sc = await sidecarOn(engine.client(), { keyPrefix: prefix, lockWait: 300, routes: [route({ prefix: '/', upstream: up.url, ttl: 60 })] });
    // the lock a crashed node would leave behind (it expires on its own after 10 s)
    await client.lock(`${prefix}l:${prefix}e:/:/dead?delay=0`, 'ghost', 10_000);
    const t0 = Date.now();
    const r = await get(sc.url + '/dead?delay=0');
    const took = Date.now() - t0;
    expect(r.status).toBe(200);
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2000);
    expect(up.count('/dead?delay=0')).toBe(1);
    expect((await get(sc.url + '/dead?delay=0')).headers.get('x-cache')).toBe('HIT');
    await sc.close();
  });

  it('a waiting node is woken by the fill, long before its wait bound', async () => {
    const prefix = `w${Math.random().toString(36).slice(2, 8)}:`;
    const a = await sidecarOn(engine.client(), { keyPrefix: prefix, lockWait: 10_000, routes: [route({ prefix: '/', upstream: up.url, ttl: 60 })] });
    const b = await sidecarOn(engine.client(), { keyPrefix: prefix, lockWait: 10_000, routes: [route({ prefix: '/', upstream: up.url, ttl: 60 })] });
    const p1 = get(a.url + '/wake?delay=300');
    await sleep(50);
    const t0 = Date.now();
    const r2 = await get(b.url + '/wake?delay=300');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r2.headers.get('cache-status')).toContain('collapsed');
    expect((await p1).text).toBe(r2.text);
    expect(up.count('/wake?delay=300')).toBe(1);
    await a.close();
    await b.close();
  });
});
