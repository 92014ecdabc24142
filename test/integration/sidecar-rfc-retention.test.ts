/**
 * Retention and updates through the real sidecar against a scripted upstream
 * on loopback, in the style of the cache-tests suite: stale responses kept
 * `keep` seconds for max-stale and HEAD updates (and never served as fresh),
 * their engine expiry (PXAT), 304s selecting the stored response by its
 * validators (RFC 9111 §4.3.4), Age parsing, fields a cache does not store,
 * and the targeted cache-control fields (Surrogate-Control, CDN-Cache-Control).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisEngineClient } from '../../src/sidecar/redis-engine-client.js';
import type { RunningSidecar } from '../../src/sidecar/server.js';
import { scriptedSidecarForFile, get, route, sidecarOn, sleep, startScriptedUpstream, startTcpEngine, type ScriptedUpstream, type TcpEngine } from './sidecar-harness.js';

const { engine, client, up, sc } = await scriptedSidecarForFile((upstream) => ({
    routes: [route({ prefix: '/', upstream: upstream }), route({ prefix: '/k0', name: 'k0', upstream: upstream, keep: 0 }), route({ prefix: '/k1', name: 'k1', upstream: upstream, keep: 1 })],
  }));

const req = (path: string, headers?: Record<string, string>, method?: string) => get(sc.url + path, { headers, method });
const cc = (v: string): [string, string] => ['cache-control', v];
const xcache = async (path: string, headers?: Record<string, string>) => (await req(path, headers)).headers.get('x-cache');

describe.concurrent('keep: stale responses stay stored for a while', () => {
  it('one without validator or stale window reaches max-stale; a plain request still goes upstream, and its answer is stored', async () => {
    const p = up.script('/r1', { headers: [cc('max-age=1')] }, { headers: [cc('max-age=3600')] });
    await req(p);
    await sleep(1100);
    const s = await req(p, { 'cache-control': 'max-stale=100' });
    expect([s.status, s.text, s.headers.get('x-cache')]).toEqual([200, '/r1 #1', 'STALE']);
    expect(s.headers.get('cache-status')).toMatch(/detail=max-stale$/);
    // read from the engine for max-stale, it does not become a fresh L1 copy
    const plain = await req(p);
    expect([plain.text, plain.headers.get('x-cache')]).toEqual(['/r1 #2', 'MISS']);
    expect(plain.headers.get('cache-status')).toContain('fwd=stale; fwd-status=200; stored');
    expect(up.seen(p)[1]!.headers['if-none-match']).toBeUndefined();
    expect(await xcache(p)).toBe('HIT');
    expect(up.seen(p).length).toBe(2);
  });

  it('only-if-cached does not take it, max-stale beyond its staleness does', async () => {
    const p = up.script('/r2', { headers: [cc('max-age=1')] });
    await req(p);
    await sleep(1100);
    expect((await req(p, { 'cache-control': 'only-if-cached' })).status).toBe(504);
    expect(await xcache(p, { 'cache-control': 'max-stale=0' })).toBe('MISS');
    expect(up.seen(p).length).toBe(2);
  });

  it('a HEAD on it goes upstream as HEAD and its 200 freshens the stored GET response', async () => {
    const p = up.script('/r3', { headers: [cc('max-age=1'), ['x-a', '1'], ['x-b', 'kept']] }, { headers: [cc('max-age=1000'), ['x-a', '2']] });
    await req(p);
    await sleep(1100);
    const h = await req(p, undefined, 'HEAD');
    expect(up.seen(p)[1]!.method).toBe('HEAD');
    expect([h.status, h.text, h.headers.get('x-a'), h.headers.get('x-b')]).toEqual([200, '', '2', 'kept']);
    const g = await req(p);
    expect([g.headers.get('x-cache'), g.text, g.headers.get('x-a'), g.headers.get('x-b')]).toEqual(['HIT', '/r3 #1', '2', 'kept']);
    expect(up.seen(p).length).toBe(2);
  });

  it('the client stale-if-error reaches it when the upstream fails', async () => {
    const p = up.script('/r4', { headers: [cc('max-age=1')] }, { status: 503, body: 'down' });
    await req(p);
    await sleep(1100);
    const r = await req(p, { 'cache-control': 'stale-if-error=100' });
    expect([r.status, r.text, r.headers.get('x-cache')]).toEqual([200, '/r4 #1', 'STALE']);
    expect((await req(p)).status).toBe(503);
  });

  it('a response that arrives stale (Age beyond max-age) is kept too, and the Age sent is capped at 2^31', async () => {
    const p = up.script('/r5', { headers: [cc('max-age=1500'), ['age', '2000']] });
    const q = up.script('/r5b', { headers: [cc('max-age=10'), ['age', '3000000000']] });
    await Promise.all([req(p), req(q)]);
    const a = await req(p, { 'cache-control': 'max-stale=1000' });
    expect([a.text, a.headers.get('x-cache')]).toEqual(['/r5 #1', 'STALE']);
    expect(Number(a.headers.get('age'))).toBeGreaterThanOrEqual(2000);
    expect(await xcache(p)).toBe('MISS');
    const b = await req(q, { 'cache-control': 'max-stale' });
    expect([b.headers.get('x-cache'), b.headers.get('age')]).toEqual(['STALE', '2147483648']);
  });

  it('a zero lifetime without validator is still not stored', async () => {
    const p = up.script('/r6', { headers: [cc('max-age=0')] });
    expect((await req(p)).headers.get('cache-status')).toContain('detail=stale-on-arrival');
    expect(await xcache(p, { 'cache-control': 'max-stale=100' })).toBe('MISS');
    expect(up.seen(p).length).toBe(2);
  });

  it('keep: 0 drops it at the end of freshness; keep: 1 after one more second', async () => {
    // without Date, freshness starts when the response arrives (no one-second rounding)
    const a = up.script('/k0/a', { headers: [cc('max-age=1')], noDate: true });
    const b = up.script('/k1/b', { headers: [cc('max-age=1')], noDate: true });
    await Promise.all([req(a), req(b)]);
    await sleep(1100);
    expect(await xcache(a, { 'cache-control': 'max-stale=100' })).toBe('MISS');
    expect(await xcache(b, { 'cache-control': 'max-stale=100' })).toBe('STALE');
    await sleep(1100);
    expect(await xcache(b, { 'cache-control': 'max-stale=100' })).toBe('MISS');
  });
});

describe('the engine expiry (PXAT) covers freshness, stale windows and keep', () => {
  let tcp: TcpEngine;
  let ec: RedisEngineClient;
  let raw: Redis;
  let s: RunningSidecar;
  let u: ScriptedUpstream;

  beforeAll(async () => {
    tcp = await startTcpEngine();
    ec = new RedisEngineClient(tcp.url);
    raw = new Redis(tcp.port, '127.0.0.1');
    u = await startScriptedUpstream();
    s = await sidecarOn(ec, { keyPrefix: 'cs:', routes: [route({ prefix: '/', name: 'd', upstream: u.url, keep: 30 })] });
  });

  afterAll(async () => {
    await s?.close();
    raw?.disconnect();
    await ec?.close();
    await u?.close();
    await tcp?.stop();
  });

  it('keep seconds after freshness and stale windows; revalidateWindow when it has a validator', async () => {
    u.script('/p1', { headers: [cc('max-age=60')] });
    u.script('/p2', { headers: [cc('max-age=60, stale-while-revalidate=20')] });
    u.script('/p3', { headers: [cc('max-age=60'), ['etag', '"a"']] });
    const t0 = Date.now();
    await Promise.all(['/p1', '/p2', '/p3'].map((p) => get(s.url + p)));
    const t1 = Date.now();
    const at = async (p: string) => Number(await raw.call('PEXPIRETIME', `cs:e:d:${p}`));
    // Date has a one-second resolution: freshness may end up to a second early
    for (const [p, secs] of [['/p1', 90], ['/p2', 110], ['/p3', 360]] as const) {
      const exp = await at(p);
      expect(exp, p).toBeGreaterThan(t0 + secs * 1000 - 1000);
      expect(exp, p).toBeLessThanOrEqual(t1 + secs * 1000);
    }
  });
});

describe.concurrent('a 304 updates only the stored response its validators select (RFC 9111 §4.3.4)', () => {
  it('another strong ETag: nothing is updated; the response is fetched again unconditionally and stored', async () => {
    const p = up.script(
      '/v1',
      { headers: [cc('max-age=1'), ['etag', '"a"'], ['x-v', '1']] },
      { status: 304, headers: [cc('max-age=3600'), ['etag', '"b"'], ['x-v', '2']] },
      { headers: [cc('max-age=3600'), ['etag', '"b"'], ['x-v', '3']] },
    );
    await req(p);
    await sleep(1100);
    const r = await req(p);
    expect([r.status, r.text, r.headers.get('x-v'), r.headers.get('etag')]).toEqual([200, '/v1 #3', '3', '"b"']);
    const seen = up.seen(p);
    expect(seen[1]!.headers['if-none-match']).toBe('"a"');
    expect([seen[2]!.headers['if-none-match'], seen[2]!.headers['if-modified-since']]).toEqual([undefined, undefined]);
    const h = await req(p);
    expect([h.headers.get('x-cache'), h.text, h.headers.get('x-v')]).toEqual(['HIT', '/v1 #3', '3']);
    expect(up.seen(p).length).toBe(3);
  });

  it('strong and weak tags: a weak tag selects by weak comparison, a strong one needs the same strong tag', async () => {
    const cases: [string, string, boolean][] = [
      ['W/"a"', 'W/"a"', true],
      ['"a"', 'W/"a"', true],
      ['W/"a"', '"a"', false],
      ['"a"', '"a"', true],
    ];
    await Promise.all(
      cases.map(async ([stored, got, updates], i) => {
        const p = up.script(`/v2-${i}`, { headers: [cc('max-age=1'), ['etag', stored]] }, { status: 304, headers: [cc('max-age=3600'), ['etag', got]] }, { headers: [cc('max-age=3600'), ['etag', got]] });
        await req(p);
        await sleep(1100);
        const r = await req(p);
        expect(r.text, `${stored} ${got}`).toBe(updates ? `/v2-${i} #1` : `/v2-${i} #3`);
        expect(await xcache(p), `${stored} ${got}`).toBe('HIT');
        expect(up.seen(p).length, `${stored} ${got}`).toBe(updates ? 2 : 3);
      }),
    );
  });

  it('without an ETag, another Last-Modified selects nothing; a 304 with no validator updates', async () => {
    const lm1 = 'Mon, 01 Jan 2024 00:00:00 GMT';
    const lm2 = 'Tue, 02 Jan 2024 00:00:00 GMT';
    const a = up.script('/v3', { headers: [cc('max-age=1'), ['last-modified', lm1]] }, { status: 304, headers: [cc('max-age=3600'), ['last-modified', lm2]] }, { headers: [cc('max-age=3600'), ['last-modified', lm2]] });
    const b = up.script('/v4', { headers: [cc('max-age=1'), ['etag', '"a"']] }, { status: 304, headers: [cc('max-age=3600')] });
    await Promise.all([req(a), req(b)]);
    await sleep(1100);
    expect((await req(a)).text).toBe('/v3 #3');
    expect(up.seen(a)[1]!.headers['if-modified-since']).toBe(lm1);
    const rb = await req(b);
    expect([rb.text, rb.headers.get('etag')]).toEqual(['/v4 #1', '"a"']);
    expect(await xcache(b)).toBe('HIT');
    expect([up.seen(a).length, up.seen(b).length]).toEqual([3, 2]);
  });

  it("a client whose own conditional the 304 satisfies gets it; the stored response stays as it was", async () => {
    const p = up.script(
      '/v5',
      { headers: [cc('max-age=1'), ['etag', '"a"']] },
      { status: 304, headers: [cc('max-age=3600'), ['etag', '"b"']] },
      { headers: [cc('max-age=3600'), ['etag', '"b"']] },
    );
    await req(p);
    await sleep(1100);
    const r = await req(p, { 'if-none-match': '"b"' });
    expect([r.status, r.headers.get('etag'), r.text]).toEqual([304, '"b"', '']);
    expect(r.headers.get('cache-status')).toContain('detail=validator-mismatch');
    expect(up.seen(p)[1]!.headers['if-none-match']).toBe('"a"');
    expect(up.seen(p).length).toBe(2);
    const g = await req(p);
    expect([g.text, g.headers.get('x-cache')]).toEqual(['/v5 #3', 'MISS']);
  });

  it('HEAD: a mismatched 304 is followed by an unconditional HEAD, whose other ETag drops the stored response', async () => {
    const p = up.script(
      '/v6',
      { headers: [cc('max-age=1'), ['etag', '"a"']] },
      { status: 304, headers: [cc('max-age=3600'), ['etag', '"b"']] },
      { headers: [cc('max-age=3600'), ['etag', '"b"']] },
    );
    await req(p);
    await sleep(1100);
    const h = await req(p, undefined, 'HEAD');
    expect([h.status, h.headers.get('etag'), h.text]).toEqual([200, '"b"', '']);
    const seen = up.seen(p);
    expect([seen[1]!.method, seen[1]!.headers['if-none-match'], seen[2]!.method, seen[2]!.headers['if-none-match']]).toEqual(['HEAD', '"a"', 'HEAD', undefined]);
    const g = await req(p);
    expect(g.headers.get('cache-status')).toContain('fwd=uri-miss');
    expect(up.seen(p)[3]!.method).toBe('GET');
  });
});

describe.concurrent('Age and fields a cache does not store', () => {
  it('Age: the first of several values counts, on one line or two; an invalid one is ignored', async () => {
    const stale = [up.script('/a1', { headers: [cc('max-age=3600'), ['age', '7200, 0']] }), up.script('/a2', { headers: [cc('max-age=3600'), ['age', '7200'], ['age', '0']] })];
    const fresh = [
      up.script('/a3', { headers: [cc('max-age=3600'), ['age', '0, 7200']] }),
      up.script('/a4', { headers: [cc('max-age=3600'), ['age', '0'], ['age', '7200']] }),
      up.script('/a5', { headers: [cc('max-age=3600'), ['age', '7200.0']] }),
    ];
    await Promise.all([...stale, ...fresh].map((p) => req(p)));
    for (const p of stale) expect(await xcache(p), p).toBe('MISS');
    for (const p of fresh) expect(await xcache(p), p).toBe('HIT');
  });

  it('Proxy-Authentication-Info concerns one hop: neither stored nor forwarded', async () => {
    const p = up.script('/f1', { headers: [cc('max-age=3600'), ['proxy-authentication-info', 'nextnonce="x"'], ['x-other', '1']] });
    const a = await req(p);
    const b = await req(p);
    expect([a.headers.get('proxy-authentication-info'), a.headers.get('x-other')]).toEqual([null, '1']);
    expect([b.headers.get('x-cache'), b.headers.get('proxy-authentication-info'), b.headers.get('x-other')]).toEqual(['HIT', null, '1']);
  });

  it('Vary on Accept-Language ignores the case of language tags', async () => {
    const p = up.script('/f2', { headers: [cc('max-age=3600'), ['vary', 'Accept-Language']] });
    await req(p, { 'accept-language': 'en, de' });
    expect(await xcache(p, { 'accept-language': 'eN, De' })).toBe('HIT');
    expect(await xcache(p, { 'accept-language': 'de, en' })).toBe('MISS');
  });
});

describe.concurrent('Surrogate-Control (Edge Architecture 1.0)', () => {
  it('announces the device on fills; max-age replaces Cache-Control (even no-store) and Expires; the field is forwarded', async () => {
    const a = up.script('/s1', { headers: [cc('no-store'), ['surrogate-control', 'max-age=3600']] });
    const b = up.script('/s2', { headers: [cc('max-age=3600'), ['surrogate-control', 'max-age=1']] });
    const c = up.script('/s3', { headers: [['expires', new Date(Date.now() - 10_000).toUTCString()], ['surrogate-control', 'max-age=3600']] });
    const first = await req(a);
    await Promise.all([req(b), req(c)]);
    expect(up.seen(a)[0]!.headers['surrogate-capability']).toBe('cacheside="Surrogate/1.0"');
    expect(first.headers.get('surrogate-control')).toBe('max-age=3600');
    const hit = await req(a);
    expect([hit.headers.get('x-cache'), hit.headers.get('cache-control'), hit.headers.get('surrogate-control')]).toEqual(['HIT', 'no-store', 'max-age=3600']);
    expect(await xcache(c)).toBe('HIT');
    await sleep(1100);
    expect(await xcache(b)).toBe('MISS');
  });

  it('no-store forbids storing; directives for another device are ignored, those for cacheside win', async () => {
    const a = up.script('/s4', { headers: [cc('max-age=3600'), ['surrogate-control', 'no-store']] });
    const b = up.script('/s5', { headers: [['surrogate-control', 'max-age=3600;other-device']] });
    const c = up.script('/s6', { headers: [['surrogate-control', 'max-age=1, max-age=3600;cacheside']] });
    const d = up.script('/s7', { headers: [cc('max-age=1'), ['surrogate-control', 'max-age =100']] });
    await Promise.all([a, b, c, d].map((p) => req(p)));
    await sleep(1100);
    expect([await xcache(a), await xcache(b), await xcache(c), await xcache(d)]).toEqual(['MISS', 'MISS', 'HIT', 'MISS']);
  });

  it('max-age=N+M: M seconds in which a stale copy stands in for a failing upstream', async () => {
    const p = up.script('/s8', { headers: [['surrogate-control', 'max-age=1+600']] }, { status: 500, body: 'broken' });
    await req(p);
    await sleep(1100);
    const r = await req(p);
    expect([r.status, r.text, r.headers.get('x-cache')]).toEqual([200, '/s8 #1', 'STALE']);
  });
});

describe.concurrent('CDN-Cache-Control (RFC 9213)', () => {
  it('replaces Cache-Control both ways; its private and no-store apply', async () => {
    const a = up.script('/c1', { headers: [cc('no-store'), ['cdn-cache-control', 'max-age=3600']] });
    const b = up.script('/c2', { headers: [cc('max-age=3600'), ['cdn-cache-control', 'max-age=1']] });
    const c = up.script('/c3', { headers: [cc('max-age=10000'), ['cdn-cache-control', 'private']] });
    const d = up.script('/c4', { headers: [cc('max-age=10000'), ['cdn-cache-control', 'no-store']] });
    await Promise.all([a, b, c, d].map((p) => req(p)));
    expect([await xcache(a), await xcache(c), await xcache(d)]).toEqual(['HIT', 'MISS', 'MISS']);
    await sleep(1100);
    expect(await xcache(b)).toBe('MISS');
  });

  it('an invalid field, or a max-age of the wrong type, does not count; it wins over Surrogate-Control', async () => {
    const a = up.script('/c5', { headers: [cc('no-store'), ['cdn-cache-control', 'max-age=10000, &&&&&']] });
    const b = up.script('/c6', { headers: [cc('no-store'), ['cdn-cache-control', 'max-age="10000"']] });
    const c = up.script('/c7', { headers: [cc('max-age=1'), ['cdn-cache-control', 'MaX-AgE=3600']] });
    const d = up.script('/c8', { headers: [['surrogate-control', 'max-age=1'], ['cdn-cache-control', 'max-age=3600']] });
    await Promise.all([a, b, c, d].map((p) => req(p)));
    await sleep(1100);
    expect([await xcache(a), await xcache(b), await xcache(c), await xcache(d)]).toEqual(['MISS', 'MISS', 'MISS', 'HIT']);
  });
});
