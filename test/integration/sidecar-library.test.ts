/**
 * Library use: the cacheAside() middleware inside a plain hono app (through
 * app.request() and through a real listener), and cached() for an async
 * function, with coalescing, stale-while-revalidate and invalidation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { cacheAside, cached, createCache, invalidate, type Cache } from '../../src/index.js';
import { get, quietLog, sleep, startTestEngine, type TestEngine } from './sidecar-harness.js';

let engine: TestEngine;
let cache: Cache;

beforeAll(async () => {
  engine = await startTestEngine();
  cache = createCache({ engine: engine.client(), log: quietLog, keyPrefix: `lib${Math.random().toString(36).slice(2, 6)}:` });
});

afterAll(async () => {
  await cache?.close();
  await engine?.stop();
});

describe('cacheAside() in a plain hono app', () => {
  let calls = 0;
  const app = new Hono();
  app.use('/api/*', cacheAside({ ttl: 60, staleWhileRevalidate: 30, cache }));
  app.get('/api/lecture/:id', async (c) => {
    calls++;
    await sleep(50);
    return c.json({ id: c.req.param('id'), calls });
  });
  app.get('/api/private', (c) => {
    calls++;
    c.header('cache-control', 'private');
    return c.text('mine');
  });
  app.post('/api/lecture/:id', (c) => {
    calls++;
    return c.text('updated', 200);
  });
  app.get('/other', (c) => c.text('not cached'));

  it('MISS then HIT; the handler runs once', async () => {
    const before = calls;
    const a = await app.request('/api/lecture/1');
    const b = await app.request('/api/lecture/1');
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('age')).toBe('0');
    expect(await b.json()).toEqual(await a.json());
    expect(b.headers.get('content-type')).toBe('application/json');
    expect(calls - before).toBe(1);
  });

  it('concurrent misses run the handler once', async () => {
    const before = calls;
    const rs = await Promise.all(Array.from({ length: 20 }, () => app.request('/api/lecture/2')));
    expect(calls - before).toBe(1);
    const texts = new Set(await Promise.all(rs.map((r) => r.text())));
    expect(texts.size).toBe(1);
  });

  it('private responses are not stored; unsafe methods invalidate', async () => {
    const before = calls;
    await app.request('/api/private');
    await app.request('/api/private');
    expect(calls - before).toBe(2);
    await app.request('/api/lecture/3');
    expect((await app.request('/api/lecture/3')).headers.get('x-cache')).toBe('HIT');
    expect((await app.request('/api/lecture/3', { method: 'POST' })).status).toBe(200);
    expect((await app.request('/api/lecture/3')).headers.get('x-cache')).toBe('MISS');
  });

  it('routes outside the middleware are untouched', async () => {
    const r = await app.request('/other');
    expect(r.headers.get('x-cache')).toBeNull();
    expect(await r.text()).toBe('not cached');
  });

  it('works behind a real listener, conditional requests included', async () => {
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server)) as Server;
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const a = await get(url + '/api/lecture/9');
    const b = await get(url + '/api/lecture/9');
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.text).toBe(a.text);
    await new Promise<void>((r) => server.close(() => r()));
  });
});

describe('stale-while-revalidate in the middleware', () => {
  it('serves stale and refreshes in the background through the handler', async () => {
    let n = 0;
    const app = new Hono();
    app.use('*', cacheAside({ ttl: 1, staleWhileRevalidate: 30, cache, name: 'swr' }));
    app.get('/v', (c) => c.text(`v${++n}`));
    expect(await (await app.request('/v')).text()).toBe('v1');
    await sleep(1100);
    const s = await app.request('/v');
    expect(s.headers.get('x-cache')).toBe('STALE');
    expect(await s.text()).toBe('v1');
    await cache.http.idle();
    const f = await app.request('/v');
    expect(f.headers.get('x-cache')).toBe('HIT');
    expect(await f.text()).toBe('v2');
    expect(n).toBe(2);
  });
});

describe('cached() for an async function', () => {
  it('caches the result; concurrent callers share one call', async () => {
    let runs = 0;
    const query = async () => {
      runs++;
      await sleep(100);
      return { id: 42, title: 'Lecture 42', at: runs };
    };
    const rs = await Promise.all(Array.from({ length: 50 }, () => cached('lecture:42', { ttl: 60, cache }, query)));
    expect(runs).toBe(1);
    for (const r of rs) expect(r).toEqual({ id: 42, title: 'Lecture 42', at: 1 });
    expect(await cached('lecture:42', { ttl: 60, cache }, query)).toEqual({ id: 42, title: 'Lecture 42', at: 1 });
    expect(runs).toBe(1);
  });

  it('the value is shared with another cache on the same engine', async () => {
    let runs = 0;
    const other = createCache({ engine: engine.client(), log: quietLog, keyPrefix: (cache.store.prefix) });
    await cached('shared', { ttl: 60, cache }, async () => ++runs);
    expect(await cached('shared', { ttl: 60, cache: other }, async () => ++runs)).toBe(1);
    expect(runs).toBe(1);
    await other.close();
  });

  it('expires after ttl; stale-while-revalidate serves the old value while refreshing', async () => {
    let v = 0;
    const fn = async () => ++v;
    expect(await cached('k1', { ttl: 1, staleWhileRevalidate: 10, cache }, fn)).toBe(1);
    await sleep(1100);
    expect(await cached('k1', { ttl: 1, staleWhileRevalidate: 10, cache }, fn)).toBe(1);
    await sleep(50);
    expect(await cached('k1', { ttl: 1, staleWhileRevalidate: 10, cache }, fn)).toBe(2);
  });

  it('stale-if-error returns the old value when fn throws; errors propagate otherwise', async () => {
    expect(await cached('k2', { ttl: 1, staleIfError: 10, cache }, async () => 'old')).toBe('old');
    await sleep(1100);
    expect(await cached('k2', { ttl: 1, staleIfError: 10, cache }, async () => Promise.reject(new Error('db down')))).toBe('old');
    await expect(cached('k3', { ttl: 1, cache }, async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
  });

  it('invalidate() drops a key', async () => {
    let v = 0;
    await cached('k4', { ttl: 60, cache }, async () => ++v);
    await invalidate('k4', { cache });
    expect(await cached('k4', { ttl: 60, cache }, async () => ++v)).toBe(2);
  });
});
