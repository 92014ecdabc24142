/**
 * The purge API (token-guarded): by URL, by tag (Surrogate-Key / Cache-Tag),
 * soft purge; purges reach every node's L1 (two sidecars share one engine).
 *
 * Tag purges need the engine's set commands. They run against a real
 * redis-server (through ioredis) whenever one is installed, and against the
 * in-process cacheside engine once it has SADD/SMEMBERS/SREM.
 * TODO(sets): drop the local-engine skip once the set commands land.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSidecar } from '../../src/sidecar/server.js';
import { get, hasRedisServer, route, sidecarOn, sleep, startTestEngine, startUpstream, TEST_ENGINE, type TestEngine, type Upstream } from './sidecar-harness.js';

async function localHasSets(): Promise<boolean> {
  const e = await startTestEngine('local');
  try {
    await e.client().sadd('probe', ['x']);
    return true;
  } catch {
    return false;
  } finally {
    await e.stop();
  }
}

const engines: { kind: 'local' | 'redis'; tags: boolean }[] = [];
engines.push({ kind: TEST_ENGINE, tags: TEST_ENGINE === 'redis' || (await localHasSets()) });
if (TEST_ENGINE !== 'redis' && hasRedisServer()) engines.push({ kind: 'redis', tags: true });

describe.each(engines)('purge ($kind engine)', ({ kind, tags }) => {
  let engine: TestEngine;
  let up: Upstream;
  let a: RunningSidecar;
  let b: RunningSidecar;
  const auth = { authorization: 'Bearer sekret', 'content-type': 'application/json' };

  beforeAll(async () => {
    engine = await startTestEngine(kind);
    up = await startUpstream((req, res, _body, n) => {
      const u = new URL(req.url!, 'http://x');
      res.setHeader('cache-control', u.searchParams.get('cc') ?? 'max-age=60');
      const sk = u.searchParams.get('sk');
      if (sk !== null) res.setHeader('surrogate-key', sk);
      const ct = u.searchParams.get('ct');
      if (ct !== null) res.setHeader('cache-tag', ct);
      if (u.pathname.startsWith('/soft')) {
        res.setHeader('etag', '"s1"');
        if (req.headers['if-none-match'] === '"s1"') {
          res.statusCode = 304;
          res.end();
          return;
        }
      }
      if (u.pathname === '/vary') res.setHeader('vary', 'accept-language');
      res.end(`${req.url} n=${n}`);
    });
    const prefix = `p${Math.random().toString(36).slice(2, 8)}:`;
    a = await sidecarOn(engine.client(), { keyPrefix: prefix, routes: [route({ prefix: '/', upstream: up.url }), route({ prefix: '/swr', name: 'swr', upstream: up.url, staleWhileRevalidate: 30 })] });
    b = await sidecarOn(engine.client(), { keyPrefix: prefix, routes: [route({ prefix: '/', upstream: up.url }), route({ prefix: '/swr', name: 'swr', upstream: up.url, staleWhileRevalidate: 30 })] });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await up?.close();
    await engine?.stop();
  });

  const xc = async (sc: RunningSidecar, p: string, headers: Record<string, string> = {}) => (await get(sc.url + p, { headers })).headers.get('x-cache');
  const warm = async (p: string) => {
    expect(await xc(a, p)).toBe('MISS');
    expect(await xc(a, p)).toBe('HIT');
    expect(await xc(b, p)).toBe('HIT');
  };
  const purge = (sc: RunningSidecar, body: unknown, headers: Record<string, string> = auth) => get(sc.url + '/_cacheside/purge', { method: 'POST', headers, body: JSON.stringify(body) });
  /** pub/sub delivery to the other node is asynchronous over RESP */
  const settle = () => sleep(kind === 'redis' ? 100 : 5);

  it('is guarded by the token', async () => {
    expect((await purge(a, { url: '/x' }, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await purge(a, { url: '/x' }, { authorization: 'Bearer nope' })).status).toBe(401);
    const r = await purge(a, { nothing: 1 });
    expect(r.status).toBe(400);
    const off = await sidecarOn(engine.client(), { purgeToken: null, routes: [route({ prefix: '/', upstream: up.url })] });
    const d = await purge(off, { url: '/x' });
    expect(d.status).toBe(403);
    expect(d.text).toContain('CACHESIDE_PURGE_TOKEN');
    await off.close();
  });

  it('by URL: gone from the engine and from every node', async () => {
    await warm('/u1?z=1&y=2');
    const r = await purge(b, { urls: ['/u1?y=2&z=1'] });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ purged: 1, soft: false });
    await settle();
    expect(await xc(a, '/u1?z=1&y=2')).toBe('MISS');
    expect(await xc(b, '/u1?z=1&y=2')).toBe('HIT');
  });

  it('by URL with the PURGE method; all variants of a Vary resource go', async () => {
    await warm('/vary');
    expect(await xc(a, '/vary', { 'accept-language': 'fr' })).toBe('MISS');
    expect(await xc(b, '/vary', { 'accept-language': 'fr' })).toBe('HIT');
    const r = await get(a.url + '/vary', { method: 'PURGE', headers: { 'x-purge-token': 'sekret' } });
    expect(JSON.parse(r.text)).toEqual({ purged: 1, soft: false });
    await settle();
    expect(await xc(b, '/vary')).toBe('MISS');
    expect(await xc(b, '/vary', { 'accept-language': 'fr' })).toBe('MISS');
  });

  it('soft purge: the entry stays but the next request revalidates it', async () => {
    await warm('/soft1');
    const n = up.count();
    const r = await purge(a, { url: '/soft1', soft: true });
    expect(JSON.parse(r.text)).toEqual({ purged: 1, soft: true });
    await settle();
    const s = await get(b.url + '/soft1');
    expect(up.count()).toBe(n + 1);
    expect(up.requests.at(-1)!.headers['if-none-match']).toBe('"s1"');
    expect(s.headers.get('cache-status')).toMatch(/fwd=stale; fwd-status=304; stored/);
    expect(await xc(a, '/soft1')).toBe('HIT');
    expect(up.count()).toBe(n + 1);
  });

  it('soft purge on a route with stale-while-revalidate serves stale once, refreshing', async () => {
    await warm('/swr/s');
    await purge(a, { url: '/swr/s', soft: true });
    await settle();
    expect(await xc(b, '/swr/s')).toBe('STALE');
    await b.cache.idle();
    await settle();
    expect(await xc(a, '/swr/s')).toBe('HIT');
  });

  it.skipIf(!tags)('by tag: Surrogate-Key and Cache-Tag index entries; a tag purge reaches every node', async () => {
    await warm('/t1?sk=' + encodeURIComponent('lecture-1 course-9'));
    await warm('/t2?ct=' + encodeURIComponent('course-9,other'));
    await warm('/t3?sk=lecture-3');
    const hit = await get(a.url + '/t1?sk=' + encodeURIComponent('lecture-1 course-9'));
    expect(hit.headers.get('surrogate-key')).toBeNull();
    const r = await purge(a, { tag: 'course-9' });
    expect(JSON.parse(r.text)).toEqual({ purged: 2, soft: false });
    await settle();
    expect(await xc(b, '/t1?sk=' + encodeURIComponent('lecture-1 course-9'))).toBe('MISS');
    expect(await xc(b, '/t2?ct=' + encodeURIComponent('course-9,other'))).toBe('MISS');
    expect(await xc(b, '/t3?sk=lecture-3')).toBe('HIT');
    expect(await xc(a, '/t3?sk=lecture-3')).toBe('HIT');
  });

  it.skipIf(!tags)('soft purge by tag', async () => {
    await warm('/soft2?sk=grp');
    const r = await purge(b, { tags: ['grp'], soft: true });
    expect(JSON.parse(r.text)).toEqual({ purged: 1, soft: true });
    await settle();
    const s = await get(a.url + '/soft2?sk=grp');
    expect(s.headers.get('cache-status')).toContain('fwd=stale; fwd-status=304');
  });
});
