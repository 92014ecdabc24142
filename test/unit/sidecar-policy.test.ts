/**
 * The sidecar's pure pieces: Cache-Control parsing, RFC 9111 storability and
 * freshness, the age calculation, conditional matching, cache keys, the
 * entry codec and engine URLs.
 */
import { describe, expect, it } from 'vitest';
import { normalizeVaryValue, parseCacheControl, parseEtagList, parseHttpDate, responseTags, strongEtagMatch, weakEtagMatch } from '../../src/sidecar/http-headers.js';
import { bypassReason, correctedInitialAge, ifRangeMatches, isUnsafeMethod, notModified, requestDirectives, storability, type PolicyRoute } from '../../src/sidecar/policy.js';
import { selectRange } from '../../src/sidecar/range.js';
import { CacheEntry, decodeValue, encodeEntry, encodeVary } from '../../src/sidecar/entry.js';
import { keyQuery, parseRoute, primaryKey, RouteTable } from '../../src/sidecar/routes.js';
import { parseEngineUrl } from '../../src/sidecar/redis-engine-client.js';
import { cacheStatus } from '../../src/sidecar/respond.js';

const strict: PolicyRoute = { ttl: null, staleWhileRevalidate: 0, staleIfError: 0, setCookie: 'bypass', revalidateWindow: 300, keep: 10 };
const aside: PolicyRoute = { ...strict, ttl: 60, staleWhileRevalidate: 10, staleIfError: 100 };
const getter = (h: Record<string, string>) => (n: string) => h[n];

describe('Cache-Control', () => {
  it('parses tokens, quoted strings, case and spacing', () => {
    const cc = parseCacheControl('Max-Age=60 , no-cache="Set-Cookie, X-A", public,s-maxage="30"');
    expect(cc.get('max-age')).toBe('60');
    expect(cc.get('no-cache')).toBe('Set-Cookie, X-A');
    expect(cc.get('public')).toBe(true);
    expect(cc.get('s-maxage')).toBe('30');
    expect(parseCacheControl('max-age=1, max-age=99').get('max-age')).toBe('1');
    expect(parseCacheControl('x="a, max-age=9", max-age=1').get('max-age')).toBe('1');
  });

  it('a directive breaking the grammar keeps its name and loses its argument', () => {
    for (const v of ['max-age =5', 'max-age= 5', 'max-age="5" junk', 'max-age="5', 'max-age=', "max-age='5'"]) {
      const cc = parseCacheControl(v);
      expect(cc.has('max-age'), v).toBe(true);
      expect(typeof cc.get('max-age') === 'string' && /^\d+$/.test(cc.get('max-age') as string), v).toBe(false);
    }
    expect(parseCacheControl('no-store =1, max-age=5').has('no-store')).toBe(true);
    expect(parseCacheControl('max-age="5" , public').get('public')).toBe(true);
  });

  it('request directives, with Pragma: no-cache when Cache-Control is absent', () => {
    expect(requestDirectives(getter({ pragma: 'no-cache' })).noCache).toBe(true);
    expect(requestDirectives(getter({ pragma: 'no-cache', 'cache-control': 'max-age=5' })).noCache).toBe(false);
    const d = requestDirectives(getter({ 'cache-control': 'max-age=5, min-fresh=2, only-if-cached, no-store' }));
    expect(d).toMatchObject({ maxAge: 5, minFresh: 2, onlyIfCached: true, noStore: true, noCache: false });
    expect(requestDirectives(getter({ 'cache-control': 'max-stale' })).maxStale).toBe(Infinity);
    expect(requestDirectives(getter({ 'cache-control': 'max-stale=7, stale-if-error=9' }))).toMatchObject({ maxStale: 7, staleIfError: 9 });
    expect(requestDirectives(getter({ 'cache-control': 'max-age=x' })).maxAge).toBe(0);
    expect(requestDirectives(getter({ pragma: 'x, no-cache' })).noCache).toBe(true);
  });

  it('only GET/HEAD are answered from cache; If-Match / If-Unmodified-Since go upstream', () => {
    expect(bypassReason('GET', getter({}))).toBeNull();
    expect(bypassReason('HEAD', getter({ 'if-none-match': '"x"' }))).toBeNull();
    expect(bypassReason('POST', getter({}))).toBe('method');
    expect(bypassReason('GET', getter({ range: 'bytes=0-1', 'if-range': '"x"' }))).toBeNull();
    expect(bypassReason('GET', getter({ 'if-match': '"x"' }))).toBe('precondition');
    expect(bypassReason('GET', getter({ 'if-unmodified-since': 'x' }))).toBe('precondition');
    expect(['POST', 'PUT', 'DELETE', 'PATCH', 'M-SEARCH'].every(isUnsafeMethod)).toBe(true);
    expect(['GET', 'HEAD', 'OPTIONS', 'TRACE'].some(isUnsafeMethod)).toBe(false);
  });
});

describe('storability and freshness (shared cache)', () => {
  const st = (status: number, h: Record<string, string | string[]>, route = strict, auth = false) => storability(status, h, auth, route);

  it('s-maxage > max-age > Expires', () => {
    expect(st(200, { 'cache-control': 'max-age=10, s-maxage=20' })).toMatchObject({ store: true, freshness: 20_000 });
    expect(st(200, { 'cache-control': 'max-age=10' }, aside)).toMatchObject({ store: true, freshness: 10_000, source: 'explicit' });
    const date = 'Mon, 01 Jan 2024 00:00:00 GMT';
    expect(st(200, { date, expires: 'Mon, 01 Jan 2024 00:01:40 GMT' })).toMatchObject({ store: true, freshness: 100_000 });
    expect(st(200, { date, expires: '0' })).toEqual({ store: false, reason: 'stale-on-arrival' });
    // inside the route's stale-while-revalidate window it is still worth keeping
    expect(st(200, { date, expires: '0' }, aside)).toMatchObject({ store: true, freshness: 0, swr: 10_000 });
  });

  it('the route TTL applies only without explicit freshness', () => {
    expect(st(200, {})).toEqual({ store: false, reason: 'no-freshness' });
    expect(st(200, {}, aside)).toMatchObject({ store: true, freshness: 60_000, source: 'route-ttl', swr: 10_000, sie: 100_000 });
    expect(st(404, {}, aside)).toMatchObject({ store: true });
    expect(st(302, {}, aside)).toMatchObject({ store: false });
    expect(st(500, {}, aside)).toEqual({ store: false, reason: 'no-freshness' });
  });

  it('explicit freshness makes any final status storable; 206 and 1xx never are', () => {
    for (const s of [302, 307, 400, 500, 503, 599]) expect(st(s, { 'cache-control': 'max-age=60' }), String(s)).toMatchObject({ store: true, freshness: 60_000 });
    expect(st(599, { expires: 'Mon, 01 Jan 2024 00:01:40 GMT', date: 'Mon, 01 Jan 2024 00:00:00 GMT' })).toMatchObject({ store: true, freshness: 100_000 });
    expect(st(206, { 'cache-control': 'max-age=60' })).toEqual({ store: false, reason: 'status-206' });
    expect(st(103, { 'cache-control': 'max-age=60' })).toMatchObject({ store: false });
  });

  it('heuristic freshness: 10% of Date - Last-Modified, at most a day, where no route TTL applies', () => {
    const date = 'Mon, 01 Jan 2024 00:00:00 GMT';
    expect(st(200, { date, 'last-modified': 'Sun, 31 Dec 2023 23:43:20 GMT' })).toMatchObject({ store: true, freshness: 100_000, source: 'heuristic' });
    expect(st(404, { date, 'last-modified': 'Mon, 01 Jan 2001 00:00:00 GMT' })).toMatchObject({ store: true, freshness: 86_400_000 });
    expect(st(200, { date, 'last-modified': 'Tue, 02 Jan 2024 00:00:00 GMT' })).toEqual({ store: false, reason: 'no-freshness' });
    expect(st(201, { date, 'last-modified': 'Sun, 31 Dec 2023 00:00:00 GMT' })).toEqual({ store: false, reason: 'no-freshness' });
    expect(st(599, { date, 'last-modified': 'Sun, 31 Dec 2023 00:00:00 GMT', 'cache-control': 'public' })).toMatchObject({ store: true, source: 'heuristic' });
    expect(st(200, { date, 'last-modified': 'Sun, 31 Dec 2023 00:00:00 GMT' }, aside)).toMatchObject({ freshness: 60_000, source: 'route-ttl' });
  });

  it('must-understand: only understood statuses are stored, and no-store is then ignored', () => {
    expect(st(200, { 'cache-control': 'must-understand, no-store, max-age=5' })).toMatchObject({ store: true });
    expect(st(599, { 'cache-control': 'must-understand, max-age=5' })).toEqual({ store: false, reason: 'must-understand' });
  });

  it('Expires: an invalid date is already expired; max-age, even malformed, wins', () => {
    const date = 'Mon, 01 Jan 2024 00:00:00 GMT';
    expect(st(200, { date, expires: 'Mon, 01-Jan-2024 00:01:40 GMT', etag: '"a"' })).toMatchObject({ store: true, freshness: 0 });
    expect(st(200, { date, expires: 'Mon, 01 Jan 2024 00:01:40 GMT', 'cache-control': 'max-age=x', etag: '"a"' })).toMatchObject({ store: true, freshness: 0 });
    expect(st(200, { date, expires: 'Mon, 01 Jan 2020 00:00:00 GMT', 'cache-control': 'max-age=9' })).toMatchObject({ store: true, freshness: 9000 });
  });

  it('no-store, private and Authorization win over the route TTL', () => {
    expect(st(200, { 'cache-control': 'no-store' }, aside)).toEqual({ store: false, reason: 'no-store' });
    expect(st(200, { 'cache-control': 'private' }, aside)).toEqual({ store: false, reason: 'private' });
    expect(st(200, {}, aside, true)).toEqual({ store: false, reason: 'authorization' });
    expect(st(200, { 'cache-control': 'public' }, aside, true)).toMatchObject({ store: true });
    expect(st(200, { 'cache-control': 's-maxage=5' }, strict, true)).toMatchObject({ store: true });
    expect(st(200, { 'cache-control': 'must-revalidate, max-age=5' }, strict, true)).toMatchObject({ store: true, noStale: true });
    expect(st(200, { 'cache-control': 'max-age=5' }, strict, true)).toMatchObject({ store: false });
  });

  it('qualified private / no-cache strip fields; Set-Cookie per route', () => {
    expect(st(200, { 'cache-control': 'max-age=5, private="x-user", no-cache="x-b"' })).toMatchObject({ store: true, strip: ['x-user', 'x-b'] });
    expect(st(200, { 'set-cookie': ['a=1'] }, aside)).toEqual({ store: false, reason: 'set-cookie' });
    expect(st(200, { 'set-cookie': ['a=1'] }, { ...aside, setCookie: 'strip' })).toMatchObject({ store: true, strip: ['set-cookie'] });
    expect(st(200, { 'set-cookie': ['a=1'] }, { ...aside, setCookie: 'store' })).toMatchObject({ store: true, strip: [] });
  });

  it('no-cache: stored (with validators) but always revalidated; Vary: * never stored', () => {
    expect(st(200, { 'cache-control': 'no-cache', etag: '"a"' })).toMatchObject({ store: true, alwaysRevalidate: true, freshness: 0, noStale: true });
    expect(st(200, { 'cache-control': 'no-cache' }, aside)).toEqual({ store: false, reason: 'no-cache-without-validator' });
    expect(st(200, { vary: 'accept, *' }, aside)).toEqual({ store: false, reason: 'vary-star' });
  });

  it('stale windows: from the response, else the route; must-revalidate and s-maxage rules', () => {
    expect(st(200, { 'cache-control': 'max-age=1, stale-while-revalidate=5, stale-if-error=7' }, aside)).toMatchObject({ swr: 5000, sie: 7000 });
    expect(st(200, { 'cache-control': 'max-age=1' }, aside)).toMatchObject({ swr: 10_000, sie: 100_000 });
    expect(st(200, { 'cache-control': 'max-age=1, must-revalidate, stale-while-revalidate=5' }, aside)).toMatchObject({ swr: 0, sie: 0, noStale: true });
    expect(st(200, { 'cache-control': 's-maxage=1' }, aside)).toMatchObject({ swr: 0, sie: 0, noStale: true });
    expect(st(200, { 'cache-control': 's-maxage=1, stale-while-revalidate=9' }, aside)).toMatchObject({ swr: 9000, noStale: true });
    expect(st(200, { 'cache-control': 'max-age=1, proxy-revalidate, stale-if-error=9' }, aside)).toMatchObject({ swr: 0, sie: 0, noStale: true });
  });

  it('corrected initial age: max(apparent age, Age + response delay)', () => {
    const rs = Date.parse('Mon, 01 Jan 2024 00:00:10 GMT');
    expect(correctedInitialAge({ date: 'Mon, 01 Jan 2024 00:00:00 GMT' }, rs - 100, rs)).toBe(10_000);
    expect(correctedInitialAge({ date: 'Mon, 01 Jan 2024 00:00:10 GMT', age: '30' }, rs - 500, rs)).toBe(30_500);
    expect(correctedInitialAge({}, rs - 20, rs)).toBe(20);
  });
});

describe('HTTP-dates', () => {
  it('IMF-fixdate, rfc850-date and asctime-date, case-insensitive', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(t);
    expect(parseHttpDate('SUN, 06 NOV 1994 08:49:37 gmt')).toBe(t);
    // rfc850 two-digit years: never more than 50 years ahead
    const yy = (new Date().getUTCFullYear() + 10) % 100;
    expect(new Date(parseHttpDate(`Monday, 01-Jan-${String(yy).padStart(2, '0')} 00:00:00 GMT`)).getUTCFullYear()).toBe(new Date().getUTCFullYear() + 10);
    const old = (new Date().getUTCFullYear() + 60) % 100;
    expect(new Date(parseHttpDate(`Monday, 01-Jan-${String(old).padStart(2, '0')} 00:00:00 GMT`)).getUTCFullYear()).toBe(new Date().getUTCFullYear() - 40);
  });

  it('anything else is invalid', () => {
    for (const v of ['0', '', 'foo', 'Sun, 06 Nov 94 08:49:37 GMT', 'Sun, 06-Nov-1994 08:49:37 GMT', 'Sun 06 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun, 06  Nov  1994 08:49:37 GMT', 'Sun, 06 Nov 1994 8:49:37 GMT', 'Sun, 06 Nov 1994 08.49.37 GMT', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', '1994-11-06T08:49:37Z']) {
      expect(parseHttpDate(v), v).toBeNaN();
    }
  });
});

describe('ranges and validators', () => {
  it('one byte range, 416, or ignored', () => {
    expect(selectRange('bytes=0-1', 11)).toEqual({ start: 0, end: 1 });
    expect(selectRange('bytes=5-', 11)).toEqual({ start: 5, end: 10 });
    expect(selectRange('bytes=-3', 11)).toEqual({ start: 8, end: 10 });
    expect(selectRange('bytes=-30', 11)).toEqual({ start: 0, end: 10 });
    expect(selectRange('BYTES=3-300', 11)).toEqual({ start: 3, end: 10 });
    expect(selectRange('bytes=11-', 11)).toBe('unsatisfiable');
    expect(selectRange('bytes=-0', 11)).toBe('unsatisfiable');
    expect(selectRange('bytes=0-0', 0)).toBe('unsatisfiable');
    expect(selectRange('bytes=20-30, 40-', 11)).toBe('unsatisfiable');
    for (const v of ['bytes=0-1,3-4', 'bytes=3-1', 'bytes=a-b', 'items=0-1', 'bytes =0-1', 'bytes=', 'bytes=0-1,x']) expect(selectRange(v, 11), v).toBeNull();
  });

  it('If-Range: strong entity-tag match, or a strong Last-Modified', () => {
    const lm = 'Mon, 01 Jan 2024 00:00:00 GMT';
    const date = 'Mon, 01 Jan 2024 00:00:05 GMT';
    expect(ifRangeMatches(undefined, undefined, undefined, undefined)).toBe(true);
    expect(ifRangeMatches('"a"', '"a"', lm, date)).toBe(true);
    expect(ifRangeMatches('W/"a"', 'W/"a"', lm, date)).toBe(false);
    expect(ifRangeMatches('"a"', 'W/"a"', lm, date)).toBe(false);
    expect(ifRangeMatches(lm, '"a"', lm, date)).toBe(true);
    expect(ifRangeMatches(lm, '"a"', lm, lm)).toBe(false); // Last-Modified as late as Date is weak
    expect(ifRangeMatches('Tue, 02 Jan 2024 00:00:00 GMT', undefined, lm, date)).toBe(false);
  });

  it('entity tags: quoted or not, weak flag in either case; Vary values normalised', () => {
    expect(parseEtagList('"a,b", c ,W/"d"')).toEqual(['"a,b"', 'c', 'W/"d"']);
    expect(weakEtagMatch('abc', '"abc"')).toBe(true);
    expect(weakEtagMatch('w/"abc"', '"abc"')).toBe(true);
    expect(strongEtagMatch('"abc"', '"abc"')).toBe(true);
    expect(strongEtagMatch('W/"abc"', '"abc"')).toBe(false);
    expect(normalizeVaryValue('foo', ' 1, 2 ')).toBe(normalizeVaryValue('foo', '1,2'));
    expect(normalizeVaryValue('foo', 'a  b')).toBe('a b');
    expect(normalizeVaryValue('foo', undefined)).toBe('');
    // case matters only where the field's values are case-insensitive
    expect(normalizeVaryValue('accept-language', 'eN, De')).toBe('en,de');
    expect(normalizeVaryValue('foo', 'eN')).toBe('eN');
  });
});

describe('conditional requests', () => {
  it('If-None-Match (weak comparison, *, lists) takes precedence over If-Modified-Since', () => {
    expect(parseEtagList('W/"a", "b" ,*')).toEqual(['W/"a"', '"b"', '*']);
    expect(weakEtagMatch('W/"a"', '"a"')).toBe(true);
    const lm = 'Mon, 01 Jan 2024 00:00:00 GMT';
    expect(notModified(getter({ 'if-none-match': '"x", W/"a"' }), '"a"', lm, undefined)).toBe(true);
    expect(notModified(getter({ 'if-none-match': '"x"', 'if-modified-since': 'Tue, 02 Jan 2024 00:00:00 GMT' }), '"a"', lm, undefined)).toBe(false);
    expect(notModified(getter({ 'if-modified-since': 'Tue, 02 Jan 2024 00:00:00 GMT' }), undefined, lm, undefined)).toBe(true);
    expect(notModified(getter({ 'if-modified-since': 'Sun, 31 Dec 2023 00:00:00 GMT' }), undefined, lm, undefined)).toBe(false);
    expect(notModified(getter({ 'if-none-match': '*' }), undefined, undefined, undefined)).toBe(true);
  });
});

describe('keys and routes', () => {
  const r = parseRoute({ prefix: '/api', upstream: 'http://a:1', query: ['id', 'page'] }, 'r');
  it('filters and sorts query parameters', () => {
    expect(keyQuery(r, 'page=2&utm=x&id=1')).toBe('id=1&page=2');
    expect(primaryKey(r, '/api/x?page=2&utm=x&id=1')).toBe('/api:/api/x?id=1&page=2');
    expect(primaryKey({ ...r, query: 'none' }, '/api/x?a=1')).toBe('/api:/api/x');
    expect(keyQuery({ query: 'all', ignoreQuery: new Set(['utm']) }, 'b=1&utm=2&a=3')).toBe('a=3&b=1');
    expect(primaryKey(r, '/api/' + 'x'.repeat(2000))).toMatch(/^\/api:#[A-Za-z0-9_-]{43}$/);
  });

  it('longest prefix wins, at segment boundaries', () => {
    const t = new RouteTable([parseRoute({ prefix: '/', upstream: 'http://a:1' }, 'a'), r, parseRoute({ prefix: '/api/v2/', name: 'v2', upstream: 'http://b:1' }, 'b')]);
    expect(t.match('/api/v2/x')!.name).toBe('v2');
    expect(t.match('/api')!.name).toBe('/api');
    expect(t.match('/api/x')!.name).toBe('/api');
    expect(t.match('/apix')!.name).toBe('/');
  });

  it('bad routes are errors naming the field', () => {
    expect(() => parseRoute({ prefix: 'api', upstream: 'http://a' }, 'routes[0]')).toThrow('config: routes[0].prefix: expected a path starting with \'/\', got "api"');
    expect(() => parseRoute({ upstream: 'ftp://a' }, 'routes[1]')).toThrow('config: routes[1].upstream: expected an http:// or https:// URL, got "ftp://a"');
    expect(() => parseRoute({ upstream: 'http://a', ttl: 'x' }, 'routes[2]')).toThrow('config: routes[2].ttl: expected a number, got "x"');
    expect(() => parseRoute({ upstream: 'http://a', tll: 5 }, 'routes[3]')).toThrow(/^config: routes\[3\]\.tll: unknown field/);
    expect(() => parseRoute({ upstream: 'http://a', setCookie: 'keep' }, 'r')).toThrow('config: r.setCookie: expected "bypass", "strip" or "store", got "keep"');
    expect(() => parseRoute({}, 'r')).toThrow(/config: r\.upstream: missing/);
  });
});

describe('entry codec', () => {
  it('round-trips binary bodies and metadata; rejects foreign values', () => {
    const body = Buffer.from([0, 1, 2, 255, 254, 0x43, 0x53]);
    const e = new CacheEntry({ s: 200, h: [['content-type', 'application/octet-stream'], ['set-cookie', 'a'], ['set-cookie', 'b']], rq: 1, rs: 2, st: 3, ia: 0, fl: 1000, swr: 0, sie: 0, exp: 5000, tg: ['t'] }, body);
    const d = decodeValue(encodeEntry(e));
    expect(d?.kind).toBe('entry');
    if (d?.kind !== 'entry') return;
    expect(Buffer.compare(d.entry.body, body)).toBe(0);
    expect(d.entry.headers['set-cookie']).toEqual(['a', 'b']);
    expect(d.entry.freshUntil).toBe(1002);
    // through a latin1 string, as the in-process engine stores it
    const viaLatin1 = decodeValue(Buffer.from(encodeEntry(e).toString('latin1'), 'latin1'));
    expect(viaLatin1?.kind === 'entry' && Buffer.compare(viaLatin1.entry.body, body)).toBe(0);
    expect(decodeValue(encodeVary({ g: 'g1', vary: ['accept'], exp: 9 }))).toEqual({ kind: 'vary', vary: { g: 'g1', vary: ['accept'], exp: 9 } });
    expect(decodeValue(Buffer.from('plain value'))).toBeNull();
  });

  it('tags from Surrogate-Key and Cache-Tag', () => {
    expect(responseTags({ 'surrogate-key': 'a  b', 'cache-tag': 'c, d' })).toEqual(['a', 'b', 'c', 'd']);
  });

  it('Cache-Status members', () => {
    expect(cacheStatus({ hit: true, ttl: 5400 })).toBe('cacheside; hit; ttl=5');
    expect(cacheStatus({ fwd: 'uri-miss', fwdStatus: 200, stored: true, collapsed: true, detail: 'x y' })).toBe('cacheside; fwd=uri-miss; fwd-status=200; stored; collapsed; detail="x y"');
  });
});

describe('engine URLs', () => {
  it('redis, cluster and sentinel forms', () => {
    expect(parseEngineUrl('redis://:pw@h:6380/2')).toMatchObject({ kind: 'redis', nodes: [{ host: 'h', port: 6380 }], password: 'pw', db: 2 });
    expect(parseEngineUrl('redis+cluster://a:7000,b:7001')).toMatchObject({ kind: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }] });
    expect(parseEngineUrl('redis+sentinel://s1,s2:26380/mymaster')).toMatchObject({ kind: 'sentinel', name: 'mymaster', nodes: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }] });
    expect(() => parseEngineUrl('http://x')).toThrow(/not a redis:\/\//);
    expect(() => parseEngineUrl('redis+sentinel://s1')).toThrow(/names the master/);
  });
});
