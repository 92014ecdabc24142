/**
 * Stale entries: revalidation with ETag / Last-Modified (304 refresh),
 * stale-while-revalidate (one background refresh), stale-if-error (RFC 5861)
 * from the response and from the route, 502/504, and invalidation by unsafe
 * methods (URL, Location, Content-Location).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/sidecar/engine-client.js';
import type { RunningSidecar } from '../../src/sidecar/server.js';
import { freePort, get, route, sidecarOn, sleep, startTestEngine, startUpstream, type TestEngine, type Upstream } from './sidecar-harness.js';

let engine: TestEngine;
let client: EngineClient;
let up: Upstream;
let sc: RunningSidecar;
/** path → behaviour switches flipped by the tests */
const mode: Record<string, 'ok' | '500' | 'slow'> = {};
let version = 1;

beforeAll(async () => {
  engine = await startTestEngine();
  client = engine.client();
  up = await startUpstream(async (req, res, _body, n) => {
    const u = new URL(req.url!, 'http://x');
    const m = mode[u.pathname] ?? 'ok';
    if (m === '500') {
      res.statusCode = 500;
      res.end('boom');
      return;
    }
    if (m === 'slow') await sleep(1000);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = u.searchParams.get('status') !== null ? Number(u.searchParams.get('status')) : 201;
      const loc = u.searchParams.get('loc');
      if (loc !== null) res.setHeader('location', loc);
      const cl = u.searchParams.get('cloc');
      if (cl !== null) res.setHeader('content-location', cl);
      res.end('done');
      return;
    }
    // `recc` is the Cache-Control of answers to conditional requests: a test
    // that expects a hit right after a revalidation gives the refreshed entry
    // a lifetime longer than the up to 1 s of apparent age that Date's
    // one-second resolution adds (RFC 9111 §4.2.3).
    const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
    const cc = (conditional ? u.searchParams.get('recc') : null) ?? u.searchParams.get('cc');
    if (cc !== null) res.setHeader('cache-control', cc);
    if (u.pathname.startsWith('/etag')) {
      res.setHeader('etag', `"v${version}"`);
      if (req.headers['if-none-match'] === `"v${version}"`) {
        res.statusCode = 304;
        res.setHeader('x-refreshed', String(n));
        res.end();
        return;
      }
    }
    if (u.pathname.startsWith('/lm')) {
      res.setHeader('last-modified', 'Mon, 01 Jan 2024 00:00:00 GMT');
      if (req.headers['if-modified-since'] === 'Mon, 01 Jan 2024 00:00:00 GMT') {
        res.statusCode = 304;
        res.end();
        return;
      }
    }
    res.end(`${u.pathname} v${version} n=${n}`);
  });
  sc = await sidecarOn(client, {
    routes: [
      route({ prefix: '/', upstream: up.url, revalidateWindow: 60 }),
      route({ prefix: '/r', name: 'r', upstream: up.url, ttl: 1, staleWhileRevalidate: 30, staleIfError: 60, stripPrefix: true }),
      route({ prefix: '/t', name: 't', upstream: up.url, ttl: 60, timeout: 0.2, stripPrefix: true }),
    ],
  });
});

afterAll(async () => {
  await sc?.close();
  await up?.close();
  await engine?.stop();
});

describe('revalidation', () => {
  it('a stale entry is revalidated with If-None-Match; a 304 refreshes it', async () => {
    const p = '/etag1?cc=max-age%3D1&recc=max-age%3D60';
    const a = await get(sc.url + p);
    expect(a.headers.get('x-cache')).toBe('MISS');
    await sleep(1100);
    const b = await get(sc.url + p);
    expect(up.requests.at(-1)!.headers['if-none-match']).toBe('"v1"');
    expect(b.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('cache-status')).toMatch(/^cacheside; fwd=stale; fwd-status=304; stored; ttl=(59|60)$/);
    expect(b.headers.get('x-refreshed')).toBe(String(up.count()));
    const c = await get(sc.url + p);
    expect(c.headers.get('x-cache')).toBe('HIT');
    expect(c.headers.get('cache-status')).toMatch(/^cacheside; hit/);
    expect(up.count(p)).toBe(2);
  });

  it('Last-Modified is used as If-Modified-Since', async () => {
    const p = '/lm1?cc=max-age%3D1';
    await get(sc.url + p);
    await sleep(1100);
    const b = await get(sc.url + p);
    expect(up.requests.at(-1)!.headers['if-modified-since']).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    expect(b.headers.get('cache-status')).toContain('fwd-status=304');
  });

  it('a changed resource (200 on revalidation) replaces the entry', async () => {
    const p = '/etag2?cc=max-age%3D1&recc=max-age%3D60';
    const a = await get(sc.url + p);
    version++;
    await sleep(1100);
    const b = await get(sc.url + p);
    expect(b.text).not.toBe(a.text);
    expect(b.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('cache-status')).toMatch(/fwd=stale; fwd-status=200; stored/);
    const c = await get(sc.url + p);
    expect(c.text).toBe(b.text);
    expect(c.headers.get('x-cache')).toBe('HIT');
  });
});

describe('stale-while-revalidate', () => {
  it('serves stale at once and refreshes exactly once in the background', async () => {
    const p = '/swr?cc=max-age%3D2%2C%20stale-while-revalidate%3D30';
    const a = await get(sc.url + p);
    await sleep(2100);
    const before = up.count(p);
    mode['/swr'] = 'slow'; // the refresh takes 1 s: every request below sees the stale entry
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 10 }, () => get(sc.url + p)));
    expect(Date.now() - t0).toBeLessThan(900);
    mode['/swr'] = 'ok';
    for (const r of rs) {
      expect(r.headers.get('x-cache')).toBe('STALE');
      expect(r.text).toBe(a.text);
      expect(r.headers.get('cache-status')).toMatch(/^cacheside; hit; ttl=(0|-1); detail=stale-while-revalidate$/);
      expect(Number(r.headers.get('age'))).toBeGreaterThanOrEqual(2);
    }
    await sc.cache.idle();
    expect(up.count(p) - before).toBe(1);
    const c = await get(sc.url + p);
    expect(c.headers.get('x-cache')).toBe('HIT');
    expect(c.text).not.toBe(a.text);
  });

  it('route windows apply to responses without their own (cache-aside route)', async () => {
    const a = await get(sc.url + '/r/one');
    await sleep(1100);
    const b = await get(sc.url + '/r/one');
    expect(b.headers.get('x-cache')).toBe('STALE');
    expect(b.text).toBe(a.text);
    await sc.cache.idle();
    expect(up.count('/one')).toBe(2);
  });

  it('must-revalidate forbids stale serving', async () => {
    const p = '/etag3?cc=max-age%3D1%2C%20must-revalidate%2C%20stale-while-revalidate%3D30';
    await get(sc.url + p);
    await sleep(1100);
    const b = await get(sc.url + p);
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('cache-status')).toContain('fwd=stale; fwd-status=304');
  });
});

describe('stale-if-error and upstream errors', () => {
  it('serves stale when the upstream answers 500, inside stale-if-error', async () => {
    const p = '/sie?cc=max-age%3D1%2C%20stale-if-error%3D60';
    const a = await get(sc.url + p);
    await sleep(1100);
    mode['/sie'] = '500';
    const b = await get(sc.url + p);
    expect(b.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(b.headers.get('x-cache')).toBe('STALE');
    expect(b.headers.get('cache-status')).toMatch(/fwd=stale; fwd-status=500; ttl=(0|-1); detail=stale-if-error$/);
    mode['/sie'] = 'ok';
  });

  it('without stale-if-error the 500 passes through', async () => {
    const p = '/nosie?cc=max-age%3D1';
    await get(sc.url + p);
    await sleep(1100);
    mode['/nosie'] = '500';
    const b = await get(sc.url + p);
    expect(b.status).toBe(500);
    expect(b.text).toBe('boom');
    mode['/nosie'] = 'ok';
  });

  it('timeout: 504 with a short body naming the cause; stale served when the route allows', async () => {
    mode['/slow'] = 'slow';
    const t = await get(sc.url + '/t/slow');
    expect(t.status).toBe(504);
    expect(t.text).toBe('504 Gateway Timeout: upstream timeout: no response headers in time\n');
    expect(t.headers.get('x-cache')).toBe('MISS');
    mode['/slow'] = 'ok';
  });

  it('unreachable upstream: 502, or the stale entry inside the route stale-if-error window', async () => {
    const port = await freePort();
    const dead = await sidecarOn(client, {
      routes: [route({ prefix: '/', upstream: `http://127.0.0.1:${port}` })],
    });
    const r = await get(dead.url + '/x');
    expect(r.status).toBe(502);
    expect(r.text).toMatch(/^502 Bad Gateway: upstream unreachable: ECONNREFUSED\n$/);
    await dead.close();
    // a route whose upstream dies after filling the cache
    const tmp = await startUpstream((_q, res) => {
      res.end('kept');
    });
    const sc2 = await sidecarOn(client, { routes: [route({ prefix: '/', upstream: tmp.url, ttl: 1, staleIfError: 60 })] });
    expect((await get(sc2.url + '/k')).text).toBe('kept');
    await tmp.close();
    await sleep(1100);
    const s = await get(sc2.url + '/k');
    expect(s.status).toBe(200);
    expect(s.text).toBe('kept');
    expect(s.headers.get('x-cache')).toBe('STALE');
    expect(s.headers.get('cache-status')).toContain('fwd-status=502');
    await sc2.close();
  });
});

describe('unsafe methods invalidate', () => {
  const cached = async (p: string) => {
    await get(sc.url + p);
    expect((await get(sc.url + p)).headers.get('x-cache')).toBe('HIT');
  };

  it('a successful POST drops the cached URL on this node', async () => {
    await cached('/inv1?cc=max-age%3D60');
    const r = await get(sc.url + '/inv1?cc=max-age%3D60', { method: 'POST', body: 'x' });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-cache')).toBe('BYPASS');
    expect(up.requests.at(-1)!.body).toBe('x');
    expect((await get(sc.url + '/inv1?cc=max-age%3D60')).headers.get('x-cache')).toBe('MISS');
  });

  it('Location and Content-Location of a successful PUT/DELETE are dropped too', async () => {
    await cached('/a?cc=max-age%3D60');
    await cached('/b?cc=max-age%3D60');
    await get(sc.url + '/c?loc=' + encodeURIComponent('/a?cc=max-age%3D60') + '&cloc=' + encodeURIComponent(`http://127.0.0.1:${sc.port}/b?cc=max-age%3D60`), { method: 'PUT' });
    expect((await get(sc.url + '/a?cc=max-age%3D60')).headers.get('x-cache')).toBe('MISS');
    expect((await get(sc.url + '/b?cc=max-age%3D60')).headers.get('x-cache')).toBe('MISS');
  });

  it('a failed unsafe request invalidates nothing; other hosts in Location are ignored', async () => {
    await cached('/d?cc=max-age%3D60');
    await get(sc.url + '/d?cc=max-age%3D60&status=500', { method: 'DELETE' });
    await get(sc.url + '/e?loc=' + encodeURIComponent('http://elsewhere.example/d?cc=max-age%3D60'), { method: 'POST' });
    expect((await get(sc.url + '/d?cc=max-age%3D60')).headers.get('x-cache')).toBe('HIT');
  });
});
