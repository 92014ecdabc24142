/**
 * RFC 9111 §5.2.1 request directives through the real sidecar against a
 * scripted upstream on loopback: max-stale, min-fresh, max-age, only-if-cached,
 * no-store, no-cache / Pragma, and the preconditions a cache leaves to the
 * upstream (If-Match, If-Unmodified-Since).
 */
import { describe, expect, it } from 'vitest';
import { scriptedSidecarForFile, get, route, sleep } from './sidecar-harness.js';

const { client, up, sc } = await scriptedSidecarForFile((upstream) => ({
    routes: [
      route({ prefix: '/', upstream: upstream }),
      route({ prefix: '/w', name: 'w', upstream: upstream, staleWhileRevalidate: 30, staleIfError: 600 }),
      route({ prefix: '/off', name: 'off', upstream: upstream, cache: false }),
    ],
  }));

const req = (path: string, headers?: Record<string, string>, method?: string) => get(sc.url + path, { headers, method });
const cc = (v: string): [string, string] => ['cache-control', v];

describe.concurrent('max-stale', () => {
  it('serves a stale response within the limit without asking the upstream; max-stale=0 revalidates', async () => {
    const p = up.script('/ms1', { headers: [cc('max-age=1'), ['etag', '"a"']] }, { status: 304, headers: [cc('max-age=1'), ['etag', '"a"']] });
    await req(p);
    await sleep(1100);
    const b = await req(p, { 'cache-control': 'max-stale=1000' });
    expect(b.status).toBe(200);
    expect(b.text).toBe('/ms1 #1');
    expect(b.headers.get('x-cache')).toBe('STALE');
    expect(b.headers.get('cache-status')).toMatch(/^cacheside; hit; ttl=(0|-\d+); detail=max-stale$/);
    const c = await req(p, { 'cache-control': 'max-stale' });
    expect(c.headers.get('x-cache')).toBe('STALE');
    expect(up.seen(p).length).toBe(1);
    const d = await req(p, { 'cache-control': 'max-stale=0' });
    expect(d.text).toBe('/ms1 #1');
    expect(d.headers.get('cache-status')).toContain('fwd=stale; fwd-status=304');
    expect(up.seen(p).length).toBe(2);
  });

  it('staleness counts the upstream Age', async () => {
    const p = up.script('/ms2', { headers: [cc('max-age=1500'), ['age', '2000'], ['etag', '"a"']] });
    await req(p);
    expect((await req(p, { 'cache-control': 'max-stale=1000' })).headers.get('x-cache')).toBe('STALE');
    expect(up.seen(p).length).toBe(1);
    await req(p, { 'cache-control': 'max-stale=100' });
    expect(up.seen(p).length).toBe(2);
  });

  it('is refused for must-revalidate, proxy-revalidate, s-maxage and no-cache responses', async () => {
    const paths = ['max-age=1, must-revalidate', 'max-age=1, proxy-revalidate', 's-maxage=1', 'no-cache'].map((v, i) =>
      up.script(`/ms3-${i}`, { headers: [cc(v), ['etag', '"a"']] }),
    );
    await Promise.all(paths.map((p) => req(p)));
    await sleep(1100);
    for (const p of paths) {
      const r = await req(p, { 'cache-control': 'max-stale=1000' });
      expect(r.headers.get('x-cache'), p).not.toBe('STALE');
      expect(up.seen(p).length, p).toBe(2);
      expect(up.seen(p)[1]!.headers['if-none-match'], p).toBe('"a"');
    }
  });
});

describe.concurrent('min-fresh and max-age', () => {
  it('min-fresh: a response not fresh enough goes to the upstream', async () => {
    const a = up.script('/mf1', { headers: [cc('max-age=1500')] });
    const b = up.script('/mf2', { headers: [cc('max-age=1500'), ['age', '1000']] });
    const c = up.script('/mf3', { headers: [cc('max-age=1500')] });
    await Promise.all([req(a), req(b), req(c)]);
    expect((await req(a, { 'cache-control': 'min-fresh=2000' })).text).toBe('/mf1 #2');
    expect((await req(b, { 'cache-control': 'min-fresh=1000' })).text).toBe('/mf2 #2');
    const hit = await req(c, { 'cache-control': 'min-fresh=100' });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.text).toBe('/mf3 #1');
  });

  it('max-age: a response older than the client accepts goes to the upstream', async () => {
    const a = up.script('/ma1', { headers: [cc('max-age=3600'), ['age', '1800']] });
    const b = up.script('/ma2', { headers: [cc('max-age=3600')] });
    const c = up.script('/ma3', { headers: [cc('max-age=3600'), ['age', '1']] });
    await Promise.all([req(a), req(b), req(c)]);
    expect((await req(a, { 'cache-control': 'max-age=600' })).text).toBe('/ma1 #2');
    expect((await req(b, { 'cache-control': 'max-age=600' })).headers.get('x-cache')).toBe('HIT');
    expect((await req(c, { 'cache-control': 'max-age=0' })).text).toBe('/ma3 #2');
  });

  it('neither is satisfied by stale-while-revalidate: the answer waits for the upstream', async () => {
    const a = up.script('/w/mf', { headers: [cc('max-age=100, stale-while-revalidate=100')] });
    const b = up.script('/w/ma', { headers: [cc('max-age=100, stale-while-revalidate=100'), ['age', '10']] });
    await Promise.all([req(a), req(b)]);
    const ra = await req(a, { 'cache-control': 'min-fresh=200' });
    expect(ra.text).toBe('/w/mf #2');
    expect(ra.headers.get('x-cache')).toBe('MISS');
    const rb = await req(b, { 'cache-control': 'max-age=5' });
    expect(rb.text).toBe('/w/ma #2');
    expect(rb.headers.get('x-cache')).toBe('MISS');
  });
});

describe.concurrent('only-if-cached', () => {
  it('504 when nothing is stored, without contacting the upstream', async () => {
    const p = up.script('/oic1', { headers: [cc('max-age=3600')] });
    const r = await req(p, { 'cache-control': 'only-if-cached' });
    expect(r.status).toBe(504);
    expect(r.headers.get('cache-status')).toBe('cacheside; detail="not in cache (only-if-cached)"');
    expect(up.seen(p).length).toBe(0);
    await req(p);
    const h = await req(p, { 'cache-control': 'only-if-cached' });
    expect(h.status).toBe(200);
    expect(h.headers.get('x-cache')).toBe('HIT');
  });

  it('a stale entry is not used unless max-stale allows it; an uncached route answers 504', async () => {
    const p = up.script('/oic2', { headers: [cc('max-age=1'), ['etag', '"a"']] });
    await req(p);
    await sleep(1100);
    expect((await req(p, { 'cache-control': 'only-if-cached' })).status).toBe(504);
    const s = await req(p, { 'cache-control': 'only-if-cached, max-stale=60' });
    expect(s.status).toBe(200);
    expect(s.headers.get('x-cache')).toBe('STALE');
    expect(up.seen(p).length).toBe(1);
    const off = up.script('/off/x', { headers: [cc('max-age=3600')] });
    expect((await req(off, { 'cache-control': 'only-if-cached' })).status).toBe(504);
    expect(up.seen(off).length).toBe(0);
  });
});

describe.concurrent('no-store and no-cache requests', () => {
  it('no-store: a stored fresh response may answer it, but nothing from it is stored', async () => {
    const a = up.script('/ns1', { headers: [cc('max-age=3600')] });
    await req(a);
    expect((await req(a, { 'cache-control': 'no-store' })).headers.get('x-cache')).toBe('HIT');
    const b = up.script('/ns2', { headers: [cc('max-age=3600')] });
    expect((await req(b, { 'cache-control': 'no-store' })).headers.get('cache-status')).toContain('detail=request-no-store');
    expect((await req(b)).text).toBe('/ns2 #2');
    expect((await req(b)).headers.get('x-cache')).toBe('HIT');
  });

  it('no-store on a stale entry fetches without dropping what is stored', async () => {
    const p = up.script('/ns3', { headers: [cc('max-age=1'), ['etag', '"a"']] });
    await req(p);
    await sleep(1100);
    const r = await req(p, { 'cache-control': 'no-store' });
    expect(r.text).toBe('/ns3 #2');
    expect(up.seen(p)[1]!.headers['if-none-match']).toBeUndefined();
    const s = await req(p, { 'cache-control': 'max-stale=60' });
    expect(s.text).toBe('/ns3 #1');
    expect(s.headers.get('x-cache')).toBe('STALE');
  });

  it('no-cache revalidates a fresh entry; Pragma: no-cache counts only without Cache-Control', async () => {
    const v = { headers: [cc('max-age=3600'), ['etag', '"a"']] as [string, string][] };
    const nm = { status: 304, headers: [cc('max-age=3600'), ['etag', '"a"']] as [string, string][] };
    const a = up.script('/nc1', v, nm);
    await req(a);
    const r = await req(a, { 'cache-control': 'no-cache' });
    expect(r.text).toBe('/nc1 #1');
    expect(r.headers.get('cache-status')).toContain('fwd=request; fwd-status=304');
    expect(up.seen(a)[1]!.headers['if-none-match']).toBe('"a"');
    const b = up.script('/nc2', v, nm);
    await req(b);
    await req(b, { pragma: 'no-cache' });
    expect(up.seen(b).length).toBe(2);
    expect((await req(b, { pragma: 'no-cache', 'cache-control': 'nothing-to-see-here' })).headers.get('x-cache')).toBe('HIT');
    expect(up.seen(b).length).toBe(2);
  });
});

describe('preconditions a cache does not evaluate', () => {
  it('If-Match and If-Unmodified-Since go to the upstream, which answers them', async () => {
    const p = up.script('/pre', { headers: [cc('max-age=3600'), ['etag', '"a"']] }, { status: 412, body: '' }, { status: 412, body: '' });
    await req(p);
    const m = await req(p, { 'if-match': '"b"' });
    expect(m.status).toBe(412);
    expect(up.seen(p)[1]!.headers['if-match']).toBe('"b"');
    const u = await req(p, { 'if-unmodified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' });
    expect(u.status).toBe(412);
    expect(up.seen(p)[2]!.headers['if-unmodified-since']).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    const h = await req(p);
    expect(h.headers.get('x-cache')).toBe('HIT');
    expect(h.text).toBe('/pre #1');
  });
});
