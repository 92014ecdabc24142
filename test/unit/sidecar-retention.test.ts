/**
 * The sidecar's retention and update rules as pure functions: how long an
 * entry stays in the engine (freshness, stale windows, `keep`,
 * `revalidateWindow`), which stored response a 304 may update (RFC 9111
 * §4.3.4), the Age field, and the targeted cache-control fields
 * (CDN-Cache-Control, RFC 9213; Surrogate-Control, Edge Architecture 1.0).
 */
import { describe, expect, it } from 'vitest';
import { correctedInitialAge, selectedBy304, storability, type PolicyRoute } from '../../src/sidecar/policy.js';
import { buildEntry, fromEntry } from '../../src/sidecar/respond.js';
import { cdnCacheControl, parseDictionary, surrogateControl, targetedDirectives } from '../../src/sidecar/targeted.js';
import type { HeaderRecord } from '../../src/sidecar/http-headers.js';

const route: PolicyRoute = { ttl: null, staleWhileRevalidate: 0, staleIfError: 0, setCookie: 'bypass', revalidateWindow: 300, keep: 10 };

/** The entry a response makes, received `at` (its Date), and its engine expiry relative to `at`. */
function expiry(h: HeaderRecord, r: PolicyRoute = route): number {
  const at = Date.now();
  const headers = { date: new Date(at).toUTCString(), ...h };
  const st = storability(200, headers, false, r);
  if (!st.store) throw new Error(`not stored: ${st.reason}`);
  const e = buildEntry(200, headers, Buffer.from('x'), st, { requestTime: at, responseTime: at }, { routeTags: [], varyValues: undefined, revalidateWindow: r.revalidateWindow, keep: r.keep });
  return e.meta.exp - Math.floor(at / 1000) * 1000;
}

describe('retention: the engine expiry (PXAT) of an entry', () => {
  it('freshness plus keep; validators keep it revalidateWindow instead when longer', () => {
    expect(expiry({ 'cache-control': 'max-age=60' })).toBe(70_000);
    expect(expiry({ 'cache-control': 'max-age=60', etag: '"a"' })).toBe(360_000);
    expect(expiry({ 'cache-control': 'max-age=60', etag: '"a"' }, { ...route, revalidateWindow: 5 })).toBe(70_000);
    expect(expiry({ 'cache-control': 'max-age=60' }, { ...route, keep: 0 })).toBe(60_000);
  });

  it('keep counts from the end of the stale windows', () => {
    expect(expiry({ 'cache-control': 'max-age=60, stale-while-revalidate=20' })).toBe(90_000);
    expect(expiry({ 'cache-control': 'max-age=60, stale-if-error=100, stale-while-revalidate=20' })).toBe(170_000);
    expect(expiry({ 'cache-control': 'max-age=60' }, { ...route, staleIfError: 30 })).toBe(100_000);
  });

  it('a response arriving stale is kept from its arrival', () => {
    const e = expiry({ 'cache-control': 'max-age=100', age: '500' });
    expect(e).toBeGreaterThanOrEqual(10_000);
    expect(e).toBeLessThan(11_001);
  });

  it('a zero lifetime is stored only with a validator or a stale window', () => {
    expect(storability(200, { 'cache-control': 'max-age=0' }, false, route)).toEqual({ store: false, reason: 'stale-on-arrival' });
    expect(storability(200, { 'cache-control': 'max-age=0', etag: '"a"' }, false, { ...route, revalidateWindow: 0 }).store).toBe(true);
    expect(storability(200, { 'cache-control': 'max-age=0', etag: '"a"' }, false, { ...route, revalidateWindow: 0, keep: 0 })).toEqual({ store: false, reason: 'stale-on-arrival' });
  });
});

describe('which stored response a 304 updates (RFC 9111 §4.3.4)', () => {
  it('by its ETag: strong must be the same strong tag, weak must match weakly', () => {
    expect(selectedBy304({ etag: '"a"' }, '"a"', undefined)).toBe(true);
    expect(selectedBy304({ etag: '"b"' }, '"a"', undefined)).toBe(false);
    expect(selectedBy304({ etag: '"a"' }, 'W/"a"', undefined)).toBe(false);
    expect(selectedBy304({ etag: 'W/"a"' }, '"a"', undefined)).toBe(true);
    expect(selectedBy304({ etag: 'W/"a"' }, 'W/"a"', undefined)).toBe(true);
    expect(selectedBy304({ etag: 'W/"b"' }, 'W/"a"', undefined)).toBe(false);
    expect(selectedBy304({ etag: '"a"' }, undefined, 'Mon, 01 Jan 2024 00:00:00 GMT')).toBe(false);
  });

  it('without an ETag by its Last-Modified; with neither it updates the response it revalidated', () => {
    const lm = 'Mon, 01 Jan 2024 00:00:00 GMT';
    expect(selectedBy304({ 'last-modified': lm }, '"a"', lm)).toBe(true);
    expect(selectedBy304({ 'last-modified': 'monday, 01-jan-24 00:00:00 gmt' }, undefined, lm)).toBe(true);
    expect(selectedBy304({ 'last-modified': 'Tue, 02 Jan 2024 00:00:00 GMT' }, '"a"', lm)).toBe(false);
    expect(selectedBy304({ 'last-modified': lm }, '"a"', undefined)).toBe(false);
    expect(selectedBy304({ 'cache-control': 'max-age=60' }, '"a"', lm)).toBe(true);
  });
});

describe('Age', () => {
  it('the first member of a list (or of several field lines) counts; anything else is ignored', () => {
    const t = 1_700_000_000_000;
    const age = (v: string | string[]) => correctedInitialAge({ age: v }, t, t);
    expect(age('7200, 0')).toBe(7_200_000);
    expect(age(['7200', '0'])).toBe(7_200_000);
    expect(age('0, 7200')).toBe(0);
    expect(age(['0', '7200'])).toBe(0);
    for (const bad of ['abc', '-7200', '7200.0', '7200;foo=bar']) expect(age(bad), bad).toBe(0);
    expect(age('2147483648')).toBe(2_147_483_648_000);
  });

  it('the Age sent is at most 2147483648', () => {
    const at = Date.now();
    const h = { 'cache-control': 'max-age=10', age: '3000000000', date: new Date(at).toUTCString() };
    const st = storability(200, h, false, route);
    if (!st.store) throw new Error(st.reason);
    const e = buildEntry(200, h, Buffer.from('x'), st, { requestTime: at, responseTime: at }, { routeTags: [], varyValues: undefined, revalidateWindow: 0, keep: 10 });
    expect(fromEntry(e, 'GET', null, at, 'STALE', {}).headers['age']).toBe('2147483648');
  });
});

describe('Structured Field Dictionary (RFC 8941)', () => {
  it('members with Integer, Decimal, String, Token, Boolean, Byte Sequence and Inner List values; parameters dropped', () => {
    const d = parseDictionary('a=1, b=-2;x=y, c="s\\"q", d=tok/en:x, e, f=?0, g=:aGk=:, h=(1 "two" three);p, i=1.5');
    expect(d).not.toBeNull();
    expect([...d!.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']);
    expect(d!.get('a')).toBe(1);
    expect(d!.get('b')).toBe(-2);
    expect(d!.get('c')).toBe('s"q');
    expect(d!.get('d')).toBe('tok/en:x');
    expect(d!.get('e')).toBe(true);
    expect(d!.get('f')).toBe(false);
    expect(d!.get('g')).toEqual(Buffer.from('hi'));
    expect(d!.get('h')).toEqual([1, 'two', 'three']);
    expect(parseDictionary('a=1, a=2')!.get('a')).toBe(2);
    expect(parseDictionary('')!.size).toBe(0);
  });

  it('anything off the grammar is not a Dictionary', () => {
    for (const bad of ['max-age=10000, &&&&&', 'Max-Age=1', 'a=1,', 'a =1', 'a= 1', 'a="x', 'a=1.2345', 'a=1234567890123456', 'a=(1', 'a=?2', 'a=1 b=2']) {
      expect(parseDictionary(bad), bad).toBeNull();
    }
  });
});

describe('targeted cache control', () => {
  it('CDN-Cache-Control: integers for delta-seconds, strings or lists for field lists; other types drop the directive', () => {
    const cc = cdnCacheControl('max-age=60, private="set-cookie", no-cache=("a" "b"), s-maxage="30", stale-if-error=1.0, public');
    expect(Object.fromEntries(cc!)).toEqual({ 'max-age': '60', private: 'set-cookie', 'no-cache': 'a, b', public: true });
    expect(cdnCacheControl('max-age=10000, &&&&&')).toBeNull();
    expect(cdnCacheControl('')).toBeNull();
    // a valid field without a known directive still counts (RFC 9213 §3.1's "none")
    expect(cdnCacheControl('none')!.size).toBe(1);
  });

  it('Surrogate-Control: directives for this device win, others are ignored; max-age=N+M adds stale-if-error', () => {
    expect(Object.fromEntries(surrogateControl('max-age=60')!)).toEqual({ 'max-age': '60' });
    expect(Object.fromEntries(surrogateControl('max-age=60+300, content="ESI/1.0"')!)).toEqual({ 'max-age': '60', 'stale-if-error': '300' });
    expect(Object.fromEntries(surrogateControl('max-age=1, max-age=3600;cacheside')!)).toEqual({ 'max-age': '3600' });
    expect(Object.fromEntries(surrogateControl('No-Store;CacheSide, max-age=5')!)).toEqual({ 'no-store': true });
    for (const none of ['max-age=3600;other', 'max-age =100', 'max-age= 100', 'foo', 'max-age=abc', 'no-store-remote']) expect(surrogateControl(none), none).toBeNull();
  });

  it('CDN-Cache-Control first, then Surrogate-Control; they stand in for Cache-Control and Expires', () => {
    expect(targetedDirectives({ 'cache-control': 'max-age=1' })).toBeNull();
    expect(Object.fromEntries(targetedDirectives({ 'cdn-cache-control': 'max-age=5', 'surrogate-control': 'max-age=9' })!)).toEqual({ 'max-age': '5' });
    expect(Object.fromEntries(targetedDirectives({ 'cdn-cache-control': 'max-age=5, &', 'surrogate-control': 'max-age=9' })!)).toEqual({ 'max-age': '9' });
    const stored = (h: HeaderRecord) => storability(200, h, false, route);
    expect(stored({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' })).toMatchObject({ store: true, freshness: 60_000 });
    expect(stored({ 'cache-control': 'max-age=60', 'cdn-cache-control': 'no-store' })).toEqual({ store: false, reason: 'no-store' });
    expect(stored({ 'cache-control': 'max-age=60', 'surrogate-control': 'no-store' })).toEqual({ store: false, reason: 'no-store' });
    // the targeted field's absence of freshness is not filled in from Expires
    expect(stored({ expires: new Date(Date.now() + 60_000).toUTCString(), 'cdn-cache-control': 'public' })).toEqual({ store: false, reason: 'no-freshness' });
    expect(stored({ 'cache-control': 'max-age=60', 'surrogate-control': 'max-age=60;elsewhere' })).toMatchObject({ store: true, freshness: 60_000 });
    expect(stored({ 'surrogate-control': 'max-age=60+30' })).toMatchObject({ store: true, freshness: 60_000, sie: 30_000 });
  });
});
