/**
 * RFC 9111 freshness and storage through the real sidecar against a scripted
 * upstream on loopback: Cache-Control parsing (case, quoting, duplicates,
 * invalid forms), Expires (invalid dates, max-age precedence), the Age
 * calculation, heuristic freshness, which status codes are stored, what
 * forbids serving stale, and qualified no-cache / private.
 */
import { describe, expect, it } from 'vitest';
import { scriptedSidecarForFile, at, get, route, sleep, type Scripted } from './sidecar-harness.js';

const { client, up, sc } = await scriptedSidecarForFile((upstream) => ({
    routes: [
      route({ prefix: '/', upstream: upstream }),
      route({ prefix: '/ttl', name: 'ttl', upstream: upstream, ttl: 60 }),
      route({ prefix: '/w', name: 'w', upstream: upstream, staleWhileRevalidate: 30, staleIfError: 600 }),
    ],
  }));

const req = (path: string, headers?: Record<string, string>) => get(sc.url + path, { headers });
const cc = (v: string): [string, string] => ['cache-control', v];
let seq = 0;

/** Script one response on a fresh path, request it twice (pausing `pause` ms between); was the second from cache? */
async function reused(r: Scripted, pause = 0, prefix = ''): Promise<boolean> {
  const p = up.script(`${prefix}/r${++seq}`, r);
  await req(p);
  if (pause > 0) await sleep(pause);
  await req(p);
  return up.seen(p).length === 1;
}

describe.concurrent('Cache-Control parsing', () => {
  it('directive names are case-insensitive', async () => {
    expect(await reused({ headers: [cc('MaX-AgE=3600')] })).toBe(true);
    expect(await reused({ headers: [cc('No-StOrE, max-age=3600')] })).toBe(false);
    expect(await reused({ headers: [cc('max-age=3600, PRIVATE')] })).toBe(false);
  });

  it('a quoted max-age counts; a quoted string neither hides nor fakes a directive', async () => {
    const [q, before, after] = await Promise.all([
      reused({ headers: [cc('max-age="3600"')] }, 1100),
      reused({ headers: [cc('extension="max-age=3600", max-age=1')] }, 1100),
      reused({ headers: [cc('max-age=1, extension="max-age=3600, no-store"')] }, 1100),
    ]);
    expect([q, before, after]).toEqual([true, false, false]);
  });

  it('a duplicated directive keeps its first value, on one line or two', async () => {
    const [sepFirstLong, lineFirstShort] = await Promise.all([
      reused({ headers: [cc('max-age=3600'), cc('max-age=1')] }, 1100),
      reused({ headers: [cc('max-age=1, max-age=3600')] }, 1100),
    ]);
    expect(sepFirstLong).toBe(true);
    expect(lineFirstShort).toBe(false);
  });

  it('invalid forms give no freshness', async () => {
    for (const v of ['max-age =3600', 'max-age= 3600', 'max-age=-1', 'max-age=a3600', 'max-age=3600a', "max-age='3600'", 'max-age=']) {
      expect(await reused({ headers: [cc(v)] }), v).toBe(false);
    }
  });

  it('a delta-seconds beyond 2^31 is capped, not rejected; leading zeros are fine', async () => {
    expect(await reused({ headers: [cc('max-age=99999999999')] })).toBe(true);
    expect(await reused({ headers: [cc('max-age=003600')] })).toBe(true);
  });
});

describe.concurrent('Expires', () => {
  it('an invalid Expires means already expired', async () => {
    for (const v of ['0', 'garbage', 'Thu, 18 Aug 50 02:01:18 GMT', 'Thu, 18-Aug-2050 02:01:18 GMT', 'Thu, 18 Aug 2050 02:01:18 UTC', 'Thu 18 Aug 2050 02:01:18 GMT', 'Thu, 18 Aug 2050 2:01:18 GMT']) {
      expect(await reused({ headers: [['expires', v], ['date', () => at(0)]] }), v).toBe(false);
    }
  });

  it('the three HTTP-date formats, in any case', async () => {
    for (const v of ['Thu, 18 Aug 2050 02:01:18 GMT', 'Thursday, 18-Aug-50 02:01:18 GMT', 'Thu Aug 18 02:01:18 2050', 'THU, 18 AUG 2050 02:01:18 gmt']) {
      expect(await reused({ headers: [['expires', v], ['date', () => at(0)]] }), v).toBe(true);
    }
  });

  it('max-age wins over Expires, both ways', async () => {
    expect(await reused({ headers: [cc('max-age=3600'), ['expires', () => at(-10000)], ['date', () => at(0)]] })).toBe(true);
    expect(await reused({ headers: [cc('max-age=3600'), ['expires', '0']] })).toBe(true);
    expect(await reused({ headers: [cc('max-age=0'), ['expires', () => at(10000)], ['date', () => at(0)]] })).toBe(false);
  });

  it('Expires before Date is stale; an invalid Date counts as the time received', async () => {
    expect(await reused({ headers: [['expires', () => at(300)], ['date', () => at(400)]] })).toBe(false);
    expect(await reused({ headers: [['date', 'foo'], ['expires', () => at(10)]] })).toBe(true);
  });
});

describe.concurrent('Age', () => {
  it('an Age beyond the freshness lifetime is stale on arrival', async () => {
    expect(await reused({ headers: [cc('max-age=10'), ['age', '15'], ['date', () => at(0)]] })).toBe(false);
    expect(await reused({ headers: [['expires', () => at(10)], ['age', '25'], ['date', () => at(-10)]] })).toBe(false);
    // a Date in the future does not hide Age: corrected_age_value still counts
    expect(await reused({ headers: [['expires', () => at(20)], ['age', '15'], ['date', () => at(10)]] })).toBe(false);
  });

  it('the upstream Age plus the response delay (RFC 9111 §4.2.3)', async () => {
    const p = up.script('/age1', { delay: 1200, headers: [cc('max-age=60'), ['age', '5'], ['date', () => at(0)]] });
    await req(p);
    const h = await req(p);
    expect(h.headers.get('x-cache')).toBe('HIT');
    expect(Number(h.headers.get('age'))).toBeGreaterThanOrEqual(6);
    expect(h.headers.get('cache-status')).toMatch(/ttl=(52|53)$/);
  });

  it('the apparent age from Date, and the served Age grows while stored', async () => {
    const p = up.script('/age2', { headers: [cc('max-age=600'), ['date', () => at(-30)]] });
    await req(p);
    const h = await req(p);
    expect(Number(h.headers.get('age'))).toBeGreaterThanOrEqual(30);
    const q = up.script('/age3', { headers: [cc('max-age=600'), ['age', '30']] });
    await req(q);
    await sleep(1100);
    expect(Number((await req(q)).headers.get('age'))).toBeGreaterThanOrEqual(31);
  });
});

describe.concurrent('heuristic freshness (RFC 9111 §4.2.2)', () => {
  it('10% of the time since Last-Modified, on a route without a TTL', async () => {
    const p = up.script('/heur1', { headers: [['last-modified', () => at(-1000)], ['date', () => at(0)]] });
    const a = await req(p);
    expect(a.headers.get('cache-status')).toMatch(/stored; ttl=(98|99|100); detail=heuristic$/);
    const b = await req(p);
    expect(b.headers.get('x-cache')).toBe('HIT');
    const long = up.script('/heur2', { headers: [['last-modified', () => at(-86400 * 100)]] });
    expect((await req(long)).headers.get('cache-status')).toMatch(/ttl=(86399|86400); detail=heuristic$/);
  });

  it('only for heuristically cacheable statuses, or when marked public', async () => {
    const lm: [string, string | (() => string)][] = [['last-modified', () => at(-86400)], ['date', () => at(0)]];
    for (const status of [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]) {
      expect(await reused({ status, headers: lm }), String(status)).toBe(true);
    }
    for (const status of [201, 202, 302, 403, 500, 502, 503, 504, 599]) {
      expect(await reused({ status, headers: lm }), String(status)).toBe(false);
    }
    expect(await reused({ status: 599, headers: [...lm, cc('public')] })).toBe(true);
  });

  it('a route TTL, where the route sets one, stands in instead of the heuristic', async () => {
    const p = up.script('/ttl/heur', { headers: [['last-modified', () => at(-100000)]] });
    expect((await req(p)).headers.get('cache-status')).toMatch(/stored; ttl=(59|60)$/);
    const e = up.script('/ttl/err', { status: 500 });
    await req(e);
    await req(e);
    expect(up.seen(e).length).toBe(2);
  });
});

describe.concurrent('status codes', () => {
  it('any final status with explicit freshness is stored', async () => {
    for (const status of [200, 203, 204, 299, 301, 302, 303, 307, 308, 400, 404, 410, 499, 500, 502, 503, 504, 599]) {
      expect(await reused({ status, headers: [cc('max-age=3600'), ['location', '/elsewhere']] }), String(status)).toBe(true);
    }
  });

  it('a 206 is not stored', async () => {
    expect(await reused({ status: 206, body: '01234', headers: [cc('max-age=3600'), ['content-range', 'bytes 0-4/10']] })).toBe(false);
  });

  it('must-understand: stored only for a status the cache understands, then no-store is ignored', async () => {
    expect(await reused({ headers: [cc('must-understand, no-store, max-age=3600')] })).toBe(true);
    expect(await reused({ status: 599, headers: [cc('must-understand, no-store, max-age=3600')] })).toBe(false);
    expect(await reused({ status: 599, headers: [cc('must-understand, max-age=3600')] })).toBe(false);
  });
});

describe.concurrent('what forbids serving stale', () => {
  const stale = async (path: string, r: Scripted, after: Scripted = { status: 500, body: 'boom' }) => {
    const p = up.script(path, r, after);
    await req(p);
    await sleep(1100);
    return req(p);
  };

  it('the route stale-if-error window applies to a plain max-age response (control)', async () => {
    const r = await stale('/w/ok', { headers: [cc('max-age=1')] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('STALE');
  });

  it('must-revalidate and proxy-revalidate: no stale-if-error, route or response, and no stale-while-revalidate', async () => {
    const [a, b, c, d] = await Promise.all([
      stale('/w/mr1', { headers: [cc('max-age=1, must-revalidate')] }),
      stale('/w/mr2', { headers: [cc('max-age=1, must-revalidate, stale-if-error=600')] }),
      stale('/w/pr1', { headers: [cc('max-age=1, proxy-revalidate')] }),
      stale('/w/mr3', { headers: [cc('max-age=1, must-revalidate, stale-while-revalidate=600'), ['etag', '"a"']] }, { headers: [cc('max-age=60'), ['etag', '"b"']] }),
    ]);
    expect([a.status, b.status, c.status]).toEqual([500, 500, 500]);
    expect(d.headers.get('x-cache')).toBe('MISS');
    expect(d.text).toBe('/w/mr3 #2');
  });

  it('s-maxage carries proxy-revalidate: no route windows; windows the response names still apply', async () => {
    const [a, b] = await Promise.all([stale('/w/sm1', { headers: [cc('s-maxage=1')] }), stale('/w/sm2', { headers: [cc('s-maxage=1, stale-if-error=600')] })]);
    expect(a.status).toBe(500);
    expect(b.status).toBe(200);
    expect(b.headers.get('x-cache')).toBe('STALE');
  });

  it('no-cache: stored with a validator, revalidated on every use, never served stale', async () => {
    const r = await stale('/w/nc', { headers: [cc('no-cache, stale-if-error=600'), ['etag', '"a"']] });
    expect(r.status).toBe(500);
  });
});

describe.concurrent('qualified no-cache and private', () => {
  it('the listed fields are not stored; the client that filled still gets them', async () => {
    const p = up.script('/q1', {
      headers: [cc('no-cache="a, B"'), ['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], cc('max-age=3600, private="c"')],
    });
    const m = await req(p);
    expect([m.headers.get('a'), m.headers.get('b'), m.headers.get('c'), m.headers.get('d')]).toEqual(['1', '2', '3', '4']);
    const h = await req(p);
    expect(h.headers.get('x-cache')).toBe('HIT');
    expect([h.headers.get('a'), h.headers.get('b'), h.headers.get('c'), h.headers.get('d')]).toEqual([null, null, null, '4']);
  });

  it('unqualified private and no-store are not stored; a response without Date gets one when stored', async () => {
    expect(await reused({ headers: [cc('private, max-age=3600')] })).toBe(false);
    const p = up.script('/nodate', { noDate: true, headers: [cc('max-age=3600')] });
    const before = Date.now();
    await req(p);
    await sleep(2100);
    const h = await req(p);
    expect(h.headers.get('x-cache')).toBe('HIT');
    // the time it was received, not the time it is served
    const d = Date.parse(h.headers.get('date')!);
    expect(d).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(d).toBeLessThan(before + 1500);
  });
});
