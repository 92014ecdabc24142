/**
 * RFC 9111 storage and freshness through the real sidecar against a counting
 * upstream on loopback: max-age / s-maxage / Expires / Age, the route TTL
 * (cache-aside), no-store / private / no-cache, Authorization, Set-Cookie,
 * Vary, conditional requests and the Age header.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/sidecar/engine-client.js';
import type { RunningSidecar } from '../../src/sidecar/server.js';
import { get, route, sidecarOn, sleep, startTestEngine, startUpstream, type GetInit, type TestEngine, type Upstream } from './sidecar-harness.js';

let engine: TestEngine;
let client: EngineClient;
let up: Upstream;
let sc: RunningSidecar;

beforeAll(async () => {
  engine = await startTestEngine();
  client = engine.client();
  up = await startUpstream((req, res, _body, n) => {
    const u = new URL(req.url!, 'http://x');
    const cc = u.searchParams.get('cc');
    if (cc !== null) res.setHeader('cache-control', cc);
    if (u.pathname === '/expires') {
      res.setHeader('date', new Date().toUTCString());
      res.setHeader('expires', new Date(Date.now() + 60_000).toUTCString());
    }
    if (u.pathname === '/aged') res.setHeader('age', '50');
    if (u.pathname === '/cookie') res.setHeader('set-cookie', ['a=1', 'b=2']);
    if (u.pathname === '/vary') {
      res.setHeader('vary', 'Accept-Language');
      res.end(`lang=${req.headers['accept-language'] ?? '-'} n=${n}`);
      return;
    }
    if (u.pathname === '/varystar') res.setHeader('vary', '*');
    if (u.pathname === '/etag') {
      res.setHeader('etag', '"v1"');
      res.setHeader('last-modified', 'Tue, 01 Jan 2030 00:00:00 GMT');
      if (req.headers['if-none-match'] === '"v1"') {
        res.statusCode = 304;
        res.end();
        return;
      }
    }
    if (u.pathname === '/hop') {
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('x-up', 'yes');
    }
    if (u.pathname === '/big') {
      res.end('x'.repeat(5000));
      return;
    }
    res.setHeader('content-type', 'text/plain');
    res.end(`body ${u.pathname} n=${n}`);
  });
  sc = await sidecarOn(client, {
    routes: [
      route({ prefix: '/', upstream: up.url }),
      route({ prefix: '/ttl', name: 'ttl', upstream: up.url, ttl: 60, stripPrefix: true }),
      route({ prefix: '/strip', name: 'strip', upstream: up.url, ttl: 60, setCookie: 'strip', stripPrefix: true }),
      route({ prefix: '/small', name: 'small', upstream: up.url, ttl: 60, maxObjectSize: 1000, stripPrefix: true }),
    ],
  });
});

afterAll(async () => {
  await sc?.close();
  await up?.close();
  await engine?.stop();
});

async function twice(path: string, init: GetInit = {}) {
  const before = up.requests.length;
  const a = await get(sc.url + path, init);
  const b = await get(sc.url + path, init);
  return { a, b, upstream: up.requests.length - before };
}

describe('freshness', () => {
  it('max-age: MISS then HIT with one upstream request, Age and Cache-Status', async () => {
    const { a, b, upstream } = await twice('/ma?cc=max-age%3D60');
    expect(upstream).toBe(1);
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(a.headers.get('cache-status')).toMatch(/^cacheside; fwd=uri-miss; fwd-status=200; stored; ttl=(58|59|60)$/);
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('cache-status')).toMatch(/^cacheside; hit; ttl=(58|59|60)$/);
    expect(b.headers.get('age')).toBe('0');
    expect(b.text).toBe(a.text);
    expect(b.headers.get('content-length')).toBe(String(Buffer.byteLength(a.text)));
  });

  it('s-maxage wins over max-age for a shared cache', async () => {
    const { b, upstream } = await twice('/sm?cc=max-age%3D0%2C%20s-maxage%3D30');
    expect(upstream).toBe(1);
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('cache-status')).toMatch(/ttl=(29|30)$/);
  });

  it('Expires - Date gives freshness', async () => {
    const { b, upstream } = await twice('/expires');
    expect(upstream).toBe(1);
    expect(b.headers.get('x-cache')).toBe('HIT');
  });

  it('an upstream Age counts against freshness and shows in the served Age', async () => {
    const { b, upstream } = await twice('/aged?cc=max-age%3D100');
    expect(upstream).toBe(1);
    expect(Number(b.headers.get('age'))).toBeGreaterThanOrEqual(50);
    expect(b.headers.get('cache-status')).toMatch(/ttl=(49|50)$/);
  });

  it('max-age expiry: the next request goes upstream again', async () => {
    const { upstream } = await twice('/short?cc=max-age%3D1');
    expect(upstream).toBe(1);
    await sleep(1100);
    const c = await get(sc.url + '/short?cc=max-age%3D1');
    expect(c.headers.get('x-cache')).toBe('MISS');
    expect(up.count('/short?cc=max-age%3D1')).toBe(2);
  });

  it('no cache headers and no route TTL: not stored (strict RFC)', async () => {
    const { a, b, upstream } = await twice('/plain');
    expect(upstream).toBe(2);
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('cache-status')).toContain('detail=no-freshness');
  });

  it('route TTL: the cache-aside case for an API without cache headers', async () => {
    const { b, upstream } = await twice('/ttl/lecture/1');
    expect(upstream).toBe(1);
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('cache-status')).toMatch(/ttl=(59|60)$/);
  });

  it('route TTL never overrides no-store, private or no-cache without validators', async () => {
    for (const cc of ['no-store', 'private', 'no-cache']) {
      const { b, upstream } = await twice(`/ttl/x?cc=${encodeURIComponent(cc)}`);
      expect(upstream, cc).toBe(2);
      expect(b.headers.get('x-cache'), cc).toBe('MISS');
    }
  });

  it('no-cache with validators: stored but revalidated on every use', async () => {
    const before = up.count();
    const a = await get(sc.url + '/etag?cc=no-cache');
    const b = await get(sc.url + '/etag?cc=no-cache');
    expect(up.count() - before).toBe(2);
    expect(up.requests.at(-1)!.headers['if-none-match']).toBe('"v1"');
    expect(b.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(b.headers.get('cache-status')).toMatch(/^cacheside; fwd=stale; fwd-status=304; stored; ttl=0$/);
  });

  it('query parameters are normalised in the key', async () => {
    const a = await get(sc.url + '/q?cc=max-age%3D60&a=1&b=2');
    const b = await get(sc.url + '/q?b=2&cc=max-age%3D60&a=1');
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('x-cache')).toBe('HIT');
  });

  it('bodies over maxObjectSize stream through uncached', async () => {
    const { a, b, upstream } = await twice('/small/big');
    expect(upstream).toBe(2);
    expect(a.text.length).toBe(5000);
    expect(b.text.length).toBe(5000);
    expect(b.headers.get('cache-status')).toContain('detail=too-big');
  });

  it('HEAD is answered from a stored GET entry', async () => {
    await get(sc.url + '/h?cc=max-age%3D60');
    const h = await get(sc.url + '/h?cc=max-age%3D60', { method: 'HEAD' });
    expect(h.headers.get('x-cache')).toBe('HIT');
    expect(h.text).toBe('');
    expect(up.count('/h?cc=max-age%3D60')).toBe(1);
  });
});

describe('proxying', () => {
  it('hop-by-hop headers are dropped both ways; Forwarded and X-Forwarded-* are added', async () => {
    // a raw request: HTTP clients rewrite Connection themselves
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect(sc.port, '127.0.0.1', () =>
        s.write(`GET /hop?cc=no-store HTTP/1.1\r\nHost: 127.0.0.1:${sc.port}\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\nX-Kept: 2\r\nX-Forwarded-For: 10.9.8.7\r\n\r\n`),
      );
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    const seen = up.requests.at(-1)!.headers;
    expect(seen['x-secret']).toBeUndefined();
    expect(seen['x-kept']).toBe('2');
    expect(seen['x-forwarded-for']).toBe('10.9.8.7, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(`127.0.0.1:${sc.port}`);
    expect(seen['forwarded']).toBe(`for=127.0.0.1;proto=http;host="127.0.0.1:${sc.port}"`);
    expect(raw).toMatch(/\r\nx-up: yes\r\n/);
    expect(raw).not.toContain('timeout=5');
  });
});

describe('Authorization and Set-Cookie', () => {
  it('a response to an authorized request is not stored without public/s-maxage/must-revalidate', async () => {
    const { upstream } = await twice('/ttl/auth', { headers: { authorization: 'Bearer a' } });
    expect(upstream).toBe(2);
    const { b, upstream: u2 } = await twice('/ttl/auth2?cc=public%2C%20max-age%3D60', { headers: { authorization: 'Bearer a' } });
    expect(u2).toBe(1);
    expect(b.headers.get('x-cache')).toBe('HIT');
  });

  it('Set-Cookie responses are not stored by default', async () => {
    const { b, upstream } = await twice('/ttl/cookie');
    expect(upstream).toBe(2);
    expect(b.headers.get('cache-status')).toContain('detail=set-cookie');
  });

  it("setCookie 'strip' stores without the cookie; the filling client still gets it", async () => {
    const { a, b, upstream } = await twice('/strip/cookie');
    expect(upstream).toBe(1);
    expect(a.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.getSetCookie()).toEqual([]);
  });
});

describe('Vary and conditional requests', () => {
  it('Vary: one entry per variant', async () => {
    const en = { headers: { 'accept-language': 'en' } };
    const fr = { headers: { 'accept-language': 'fr' } };
    const a = await get(sc.url + '/ttl/vary'.replace('/ttl', '/ttl'), en);
    const b = await get(sc.url + '/ttl/vary', fr);
    const c = await get(sc.url + '/ttl/vary', en);
    const d = await get(sc.url + '/ttl/vary', fr);
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('x-cache')).toBe('MISS');
    expect(b.headers.get('cache-status')).toContain('fwd=vary-miss');
    expect(c.headers.get('x-cache')).toBe('HIT');
    expect(c.text).toBe(a.text);
    expect(d.text).toBe(b.text);
    expect(a.text).toContain('lang=en');
    expect(b.text).toContain('lang=fr');
  });

  it('Vary: * is not stored', async () => {
    const { upstream } = await twice('/ttl/varystar');
    expect(upstream).toBe(2);
  });

  it('If-None-Match and If-Modified-Since are answered 304 from cache', async () => {
    await get(sc.url + '/etag?cc=max-age%3D60');
    const n = up.count();
    const a = await get(sc.url + '/etag?cc=max-age%3D60', { headers: { 'if-none-match': 'W/"v1"' } });
    expect(a.status).toBe(304);
    expect(a.headers.get('etag')).toBe('"v1"');
    expect(a.headers.get('x-cache')).toBe('HIT');
    expect(a.headers.get('age')).not.toBeNull();
    const b = await get(sc.url + '/etag?cc=max-age%3D60', { headers: { 'if-modified-since': 'Wed, 02 Jan 2030 00:00:00 GMT' } });
    expect(b.status).toBe(304);
    const c = await get(sc.url + '/etag?cc=max-age%3D60', { headers: { 'if-none-match': '"other"' } });
    expect(c.status).toBe(200);
    expect(up.count()).toBe(n);
  });

  it('a conditional request on a miss fills the cache, then gets its 304', async () => {
    const a = await get(sc.url + '/etag?cc=max-age%3D60&fresh=1', { headers: { 'if-none-match': '"v1"' } });
    expect(a.status).toBe(304);
    expect(up.requests.at(-1)!.headers['if-none-match']).toBeUndefined();
    const b = await get(sc.url + '/etag?cc=max-age%3D60&fresh=1');
    expect(b.status).toBe(200);
    expect(b.headers.get('x-cache')).toBe('HIT');
  });
});
