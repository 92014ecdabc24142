/**
 * Cache policy through hono's app.request(): a handler plays the upstream
 * (cacheAside middleware, in-process engine), and the sidecar app's own
 * endpoints (/healthz, /metrics, purge API guard, unknown routes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { pino } from 'pino';
import { cacheAside, createCache, createSidecar, parseRoute, type Cache } from '../../src/index.js';

const cache: Cache = createCache({ log: pino({ level: 'silent' }) });
const calls: Record<string, number> = {};
const app = new Hono();

beforeAll(() => {
  app.use('*', cacheAside({ cache, keyHeaders: ['x-tenant'] }));
  app.get('/cc/:name', (c) => {
    const name = c.req.param('name');
    calls[name] = (calls[name] ?? 0) + 1;
    const cc = c.req.query('cc');
    if (cc !== undefined) c.header('cache-control', cc);
    if (c.req.query('cookie') !== undefined) c.header('set-cookie', 'sid=1');
    if (c.req.query('vary') !== undefined) c.header('vary', c.req.query('vary')!);
    c.header('etag', '"e1"');
    return c.text(`${name} ${calls[name]} tenant=${c.req.header('x-tenant') ?? '-'} lang=${c.req.header('accept-language') ?? '-'}`);
  });
});

afterAll(() => cache.close());

async function xc(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const r = await app.request(path, { method, headers });
  return { x: r.headers.get('x-cache'), cs: r.headers.get('cache-status'), status: r.status, text: await r.text(), r };
}

describe('policy through app.request()', () => {
  it('no-store and private are never stored; public max-age is', async () => {
    for (const [n, cc, second] of [
      ['ns', 'no-store', 'MISS'],
      ['pv', 'private, max-age=60', 'MISS'],
      ['pb', 'public, max-age=60', 'HIT'],
    ] as const) {
      await xc(`/cc/${n}?cc=${encodeURIComponent(cc)}`);
      expect((await xc(`/cc/${n}?cc=${encodeURIComponent(cc)}`)).x, cc).toBe(second);
    }
    expect(calls.ns).toBe(2);
    expect(calls.pb).toBe(1);
  });

  it('request Cache-Control: no-cache revalidates, only-if-cached on a miss is 504, no-store is served but not stored', async () => {
    await xc('/cc/rq?cc=max-age%3D60');
    const r = await xc('/cc/rq?cc=max-age%3D60', { 'cache-control': 'no-cache' });
    expect(r.cs).toMatch(/fwd=request/);
    expect(calls.rq).toBe(2);
    const o = await xc('/cc/none?cc=max-age%3D60', { 'cache-control': 'only-if-cached' });
    expect(o.status).toBe(504);
    await xc('/cc/nsr?cc=max-age%3D60', { 'cache-control': 'no-store' });
    expect((await xc('/cc/nsr?cc=max-age%3D60')).x).toBe('MISS');
    expect((await xc('/cc/nsr?cc=max-age%3D60', { 'cache-control': 'no-store' })).x).toBe('HIT');
  });

  it('request max-age / min-fresh make a fresh entry unacceptable', async () => {
    await xc('/cc/ma?cc=max-age%3D60');
    expect((await xc('/cc/ma?cc=max-age%3D60', { 'cache-control': 'min-fresh=120' })).cs).toMatch(/fwd=stale/);
    expect((await xc('/cc/ma?cc=max-age%3D60', { 'cache-control': 'max-age=0' })).cs).toMatch(/fwd=stale/);
  });

  it('route keyHeaders act as an implicit Vary; response Vary adds to them', async () => {
    const a = await xc('/cc/kh?cc=max-age%3D60&vary=accept-language', { 'x-tenant': 'a', 'accept-language': 'en' });
    const b = await xc('/cc/kh?cc=max-age%3D60&vary=accept-language', { 'x-tenant': 'b', 'accept-language': 'en' });
    const c = await xc('/cc/kh?cc=max-age%3D60&vary=accept-language', { 'x-tenant': 'a', 'accept-language': 'fr' });
    const d = await xc('/cc/kh?cc=max-age%3D60&vary=accept-language', { 'x-tenant': 'a', 'accept-language': 'en' });
    expect([a.x, b.x, c.x, d.x]).toEqual(['MISS', 'MISS', 'MISS', 'HIT']);
    expect(d.text).toBe(a.text);
    expect(b.text).toContain('tenant=b');
  });

  it('304 from cache for HEAD and GET; HEAD has no body', async () => {
    await xc('/cc/c304?cc=max-age%3D60');
    const g = await xc('/cc/c304?cc=max-age%3D60', { 'if-none-match': '"e1"' });
    expect(g.status).toBe(304);
    expect(g.text).toBe('');
    const h = await xc('/cc/c304?cc=max-age%3D60', {}, 'HEAD');
    expect(h.status).toBe(200);
    expect(h.x).toBe('HIT');
    expect(h.text).toBe('');
  });

  it('Set-Cookie bypasses the cache', async () => {
    await xc('/cc/ck?cc=max-age%3D60&cookie=1');
    const r = await xc('/cc/ck?cc=max-age%3D60&cookie=1');
    expect(r.x).toBe('MISS');
    expect(r.cs).toContain('detail=set-cookie');
  });
});

describe('sidecar app endpoints', () => {
  const sc = createSidecar({ engine: cache.engine, log: pino({ level: 'silent' }), purgeToken: 't0k', routes: [parseRoute({ prefix: '/api/', upstream: 'http://127.0.0.1:9' }, 'r')] });
  afterAll(() => sc.close());

  it('/healthz, /readyz, /metrics', async () => {
    expect(await (await sc.app.request('/healthz')).text()).toBe('ok\n');
    expect((await sc.app.request('/readyz')).status).toBe(200);
    const m = await sc.app.request('/metrics');
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = await m.text();
    for (const name of ['cacheside_cache_hits_total', 'cacheside_cache_misses_total', 'cacheside_stale_served_total', 'cacheside_coalesced_waiters_total', 'cacheside_upstream_requests_total', 'cacheside_upstream_duration_seconds', 'cacheside_l1_bytes', 'cacheside_l2_keys', 'cacheside_engine_errors_total']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
  });

  it('unknown route: 404 naming the path; purge needs the token', async () => {
    const r = await sc.app.request('/nope');
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('404 Error: no route for /nope\n');
    const p = await sc.app.request('/_cacheside/purge', { method: 'POST', body: '{"url":"/api/x"}', headers: { authorization: 'Bearer bad' } });
    expect(p.status).toBe(401);
    const ok = await sc.app.request('/_cacheside/purge', { method: 'POST', body: '{"url":"/api/x"}', headers: { authorization: 'Bearer t0k' } });
    expect(await ok.json()).toEqual({ purged: 0, soft: false });
  });

  it('an unreachable upstream is a 502 with a short body', async () => {
    const r = await sc.app.request('/api/x');
    expect(r.status).toBe(502);
    expect(await r.text()).toMatch(/^502 Bad Gateway: upstream unreachable: /);
  });
});
