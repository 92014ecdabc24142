/**
 * How stored responses change, through the real sidecar against a scripted
 * upstream on loopback: 304s updating stored headers (RFC 9111 §3.2, §4.3.4),
 * HEAD (a miss fetched with GET, a HEAD response freshening a GET entry,
 * §4.3.5), Vary (several fields, normalised values) and invalidation by
 * unsafe methods on the same origin only (§4.4).
 */
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { scriptedSidecarForFile, get, route, sleep } from './sidecar-harness.js';

const { client, up, sc } = await scriptedSidecarForFile((upstream) => ({ routes: [route({ prefix: '/', upstream: upstream })] }));

const req = (path: string, headers?: Record<string, string>, method?: string) => get(sc.url + path, { headers, method });
const cc = (v: string): [string, string] => ['cache-control', v];

describe.concurrent('304 updates the stored response', () => {
  it('every field the 304 carries replaces the stored one, except Content-Length; the body stays', async () => {
    const p = up.script(
      '/u1',
      { body: 'hello', headers: [cc('max-age=1'), ['etag', '"e"'], ['x-test', 'A'], ['content-type', 'text/plain'], ['x-kept', 'k']] },
      { status: 304, headers: [cc('max-age=3600'), ['etag', '"e"'], ['x-test', 'B'], ['content-type', 'text/html'], ['content-length', '99']] },
    );
    await req(p);
    await sleep(1100);
    const r = await req(p);
    expect(up.seen(p)[1]!.headers['if-none-match']).toBe('"e"');
    expect(r.status).toBe(200);
    expect(r.text).toBe('hello');
    expect([r.headers.get('x-test'), r.headers.get('content-type'), r.headers.get('x-kept'), r.headers.get('content-length')]).toEqual(['B', 'text/html', 'k', '5']);
    const h = await req(p);
    expect(h.headers.get('x-cache')).toBe('HIT');
    expect([h.headers.get('x-test'), h.headers.get('content-type'), h.headers.get('x-kept'), h.headers.get('content-length')]).toEqual(['B', 'text/html', 'k', '5']);
    expect(h.headers.get('cache-status')).toMatch(/ttl=(359\d|3600)$/);
    expect(up.seen(p).length).toBe(2);
  });

  it('Last-Modified validation: the 304 refreshes freshness and keeps fields it omits', async () => {
    const lm = 'Mon, 01 Jan 2024 00:00:00 GMT';
    const p = up.script('/u2', { headers: [cc('max-age=1'), ['last-modified', lm], ['x-test', 'A']] }, { status: 304, headers: [cc('max-age=3600'), ['last-modified', lm]] });
    await req(p);
    await sleep(1100);
    const r = await req(p);
    expect(up.seen(p)[1]!.headers['if-modified-since']).toBe(lm);
    expect(r.headers.get('x-test')).toBe('A');
    expect((await req(p)).headers.get('x-cache')).toBe('HIT');
  });
});

describe.concurrent('HEAD', () => {
  it('a HEAD miss is fetched with GET and stored; the client gets no body', async () => {
    const p = up.script('/h1', { body: 'full', headers: [cc('max-age=3600')] });
    const h = await req(p, undefined, 'HEAD');
    expect(h.status).toBe(200);
    expect(h.text).toBe('');
    expect(h.headers.get('content-length')).toBe('4');
    expect(up.seen(p)[0]!.method).toBe('GET');
    const g = await req(p);
    expect(g.headers.get('x-cache')).toBe('HIT');
    expect(g.text).toBe('full');
    expect(up.seen(p).length).toBe(1);
  });

  it('a HEAD miss whose response is not stored gets the headers only', async () => {
    const p = up.script('/h0', { body: 'secret', headers: [cc('no-store'), ['x-a', '1']] });
    const h = await req(p, undefined, 'HEAD');
    expect([h.status, h.text, h.headers.get('x-a'), h.headers.get('x-cache')]).toEqual([200, '', '1', 'MISS']);
    expect(h.headers.get('cache-status')).toContain('detail=no-store');
  });

  it('a HEAD on a stale entry goes upstream as HEAD; its 200 freshens and updates the GET entry', async () => {
    // (a stale entry stays stored past its freshness when it has a validator)
    const p = up.script('/h2', { headers: [cc('max-age=1'), ['etag', '"a"'], ['x-a', '1'], ['x-b', 'kept']] }, { headers: [cc('max-age=1000'), ['x-a', '2']] });
    await req(p);
    await sleep(1100);
    const h = await req(p, undefined, 'HEAD');
    expect(up.seen(p)[1]!.method).toBe('HEAD');
    expect(up.seen(p)[1]!.headers['if-none-match']).toBe('"a"');
    expect([h.headers.get('x-a'), h.headers.get('x-b'), h.headers.get('etag')]).toEqual(['2', 'kept', '"a"']);
    const g = await req(p);
    expect(g.headers.get('x-cache')).toBe('HIT');
    expect([g.headers.get('x-a'), g.headers.get('x-b'), g.text]).toEqual(['2', 'kept', '/h2 #1']);
    expect(up.seen(p).length).toBe(2);
  });

  it('a HEAD response with another validator makes the stored GET response stale', async () => {
    const p = up.script('/h3', { headers: [cc('max-age=3600'), ['etag', '"a"']] }, { headers: [cc('max-age=3600'), ['etag', '"b"']] }, { headers: [cc('max-age=3600'), ['etag', '"b"']] });
    await req(p);
    await req(p, { 'cache-control': 'no-cache' }, 'HEAD');
    expect(up.seen(p)[1]!.method).toBe('HEAD');
    const g = await req(p);
    expect(g.text).toBe('/h3 #3');
    expect(up.seen(p).length).toBe(3);
  });

  it('a 304 to a HEAD revalidation freshens the GET entry', async () => {
    const p = up.script('/h4', { headers: [cc('max-age=1'), ['etag', '"a"']] }, { status: 304, headers: [cc('max-age=3600'), ['etag', '"a"']] });
    await req(p);
    await sleep(1100);
    const h = await req(p, undefined, 'HEAD');
    expect(h.status).toBe(200);
    expect(up.seen(p)[1]!.headers['if-none-match']).toBe('"a"');
    expect((await req(p)).headers.get('x-cache')).toBe('HIT');
    expect(up.seen(p).length).toBe(2);
  });
});

describe.concurrent('Vary', () => {
  it('several fields, on one line or several, names in any case', async () => {
    const p = up.script('/v1', { headers: [cc('max-age=3600'), ['vary', 'Foo'], ['vary', 'BAR']] });
    expect((await req(p, { foo: '1', bar: 'abc' })).headers.get('x-cache')).toBe('MISS');
    expect((await req(p, { foo: '1', bar: 'abc', other: 'x' })).headers.get('x-cache')).toBe('HIT');
    expect((await req(p, { foo: '2', bar: 'abc' })).headers.get('x-cache')).toBe('MISS');
    expect((await req(p, { foo: '1' })).headers.get('x-cache')).toBe('MISS');
    // storing other variants left the first one in place
    const again = await req(p, { foo: '1', bar: 'abc' });
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(again.text).toBe('/v1 #1');
  });

  it('selecting values are normalised: whitespace around commas, field lines combined', async () => {
    const p = up.script('/v2', { headers: [cc('max-age=3600'), ['vary', 'foo']] });
    await req(p, { foo: '1,2' });
    expect((await req(p, { foo: ' 1, 2 ' })).headers.get('x-cache')).toBe('HIT');
    const r = await request(sc.url + p, { headers: ['foo', '1', 'foo', '2'] });
    await r.body.text();
    expect(r.headers['x-cache']).toBe('HIT');
    expect(up.seen(p).length).toBe(1);
  });

  it('a * anywhere in Vary is not stored', async () => {
    for (const [i, v] of ['*', 'Foo, *', ', *'].entries()) {
      const p = up.script(`/v3-${i}`, { headers: [cc('max-age=3600'), ['vary', v]] });
      await req(p, { foo: '1' });
      await req(p, { foo: '1' });
      expect(up.seen(p).length, v).toBe(2);
    }
  });
});

describe.concurrent('invalidation by unsafe methods (same origin only)', () => {
  const fill = async (p: string) => {
    up.script(p, { headers: [cc('max-age=3600')] });
    await req(p);
    expect((await req(p)).headers.get('x-cache')).toBe('HIT');
  };
  const hit = async (p: string) => (await req(p)).headers.get('x-cache') === 'HIT';

  it('relative and same-origin Location / Content-Location are invalidated', async () => {
    await Promise.all([fill('/i1'), fill('/i2'), fill('/i3')]);
    up.script('/post1', { status: 201, headers: [['location', '/i1'], ['content-location', `http://127.0.0.1:${sc.port}/i2`]] });
    await req('/post1', {}, 'POST');
    expect([await hit('/i1'), await hit('/i2'), await hit('/i3')]).toEqual([false, false, true]);
  });

  it('another host or port is not; the scheme does not matter (keys ignore it)', async () => {
    await Promise.all([fill('/j1'), fill('/j2'), fill('/j3'), fill('/j4')]);
    up.script('/post2', { status: 200, headers: [['location', 'http://elsewhere.example/j1'], ['content-location', `//elsewhere.example/j2`]] });
    await req('/post2', {}, 'PUT');
    up.script('/post3', { status: 200, headers: [['location', `http://127.0.0.1:${sc.port + 1}/j3`], ['content-location', `https://127.0.0.1:${sc.port}/j4`]] });
    await req('/post3', {}, 'DELETE');
    expect([await hit('/j1'), await hit('/j2'), await hit('/j3'), await hit('/j4')]).toEqual([true, true, true, false]);
  });

  it('a method of unknown safety invalidates its target; an error status does not', async () => {
    await Promise.all([fill('/k1'), fill('/k2')]);
    const before = up.seen('/k1').length;
    up.script('/k1', { status: 200, body: 'searched' });
    const m = await req('/k1', {}, 'M-SEARCH');
    expect(m.text).toBe('searched');
    expect(up.seen('/k1').length).toBe(before + 1);
    expect(await hit('/k1')).toBe(false);
    up.script('/k2', { status: 500, body: 'no' });
    await req('/k2', {}, 'POST');
    expect(await hit('/k2')).toBe(true);
  });
});
