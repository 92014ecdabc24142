/**
 * cached(key, { ttl, staleWhileRevalidate }, fn): cache any async function's
 * result (a database query) in the shared engine, as JSON, with the same
 * coalescing as HTTP fills: one call of fn per key at a time in this
 * process, and across processes through the engine lock.
 */
import { CacheEntry } from './entry.js';
import { buildEntry } from './respond.js';
import { getDefaultCache, type Cache } from './library.js';
import type { Lookup } from './store.js';

export interface CachedOptions {
  /** Freshness, seconds. */
  ttl: number;
  /** Serve the stale value this long after ttl while one refresh runs in the background, seconds. */
  staleWhileRevalidate?: number;
  /** Serve the stale value this long after ttl when fn throws, seconds. */
  staleIfError?: number;
  /** Tags for purging by tag. */
  tags?: string[];
  /** The cache to use (default: the configured default cache). */
  cache?: Cache;
}

const noHeaders = () => undefined;
const inflight = new WeakMap<Cache, Map<string, Promise<unknown>>>();

function pkOf(key: string): string {
  return 'fn:' + key;
}

function decode<T>(e: CacheEntry): T {
  return JSON.parse(e.body.toString('utf8')) as T;
}

function state(e: CacheEntry, now: number): 'fresh' | 'swr' | 'stale' {
  if (!e.invalidated() && now < e.freshUntil) return 'fresh';
  return Math.max(0, now - e.freshUntil) < e.meta.swr ? 'swr' : 'stale';
}

export async function cached<T>(key: string, opts: CachedOptions, fn: () => Promise<T> | T): Promise<T> {
  if (!(opts.ttl >= 0)) throw new TypeError('cached(): ttl must be a number of seconds >= 0');
  const cache = opts.cache ?? getDefaultCache();
  await cache.ready();
  const pk = pkOf(key);
  const store = cache.store;
  const l = store.up ? await store.lookup(pk, noHeaders) : null;
  const now = Date.now();
  if (l?.entry) {
    const s = state(l.entry, now);
    if (s === 'fresh') {
      cache.metrics.hits.inc({ tier: l.tier ?? 'l2' });
      return decode<T>(l.entry);
    }
    if (s === 'swr') {
      cache.metrics.stale.inc({ reason: 'stale-while-revalidate' });
      void fill(cache, key, opts, fn, l, true).catch((e) => cache.log.debug({ key, err: (e as Error).message }, 'cached(): background refresh failed'));
      return decode<T>(l.entry);
    }
  }
  if (!store.up) return fn();
  return fill(cache, key, opts, fn, l!, false) as Promise<T>;
}

async function fill<T>(cache: Cache, key: string, opts: CachedOptions, fn: () => Promise<T> | T, l: Lookup, background: boolean): Promise<T> {
  let map = inflight.get(cache);
  if (map === undefined) inflight.set(cache, (map = new Map()));
  const running = map.get(key);
  if (running !== undefined) {
    if (background) return undefined as T;
    cache.metrics.coalesced.inc({ scope: 'process' });
    return running as Promise<T>;
  }
  const p = lead(cache, key, opts, fn, l, background);
  map.set(key, p);
  try {
    return await p;
  } finally {
    map.delete(key);
  }
}

async function lead<T>(cache: Cache, key: string, opts: CachedOptions, fn: () => Promise<T> | T, l: Lookup, background: boolean): Promise<T> {
  const store = cache.store;
  const pk = pkOf(key);
  const ck = l.key;
  const started = Date.now();
  const fresher = (x: Lookup) => x.entry !== null && x.entry !== l.entry && (x.entry.meta.st >= started - 50 || state(x.entry, Date.now()) === 'fresh') && !x.entry.invalidated();
  const token = await store.tryLock(ck, 15_000);
  if (token === null) {
    if (background) return undefined as T;
    const w = store.waitFill(ck, 5_000);
    let again = await store.lookup(pk, noHeaders);
    if (!fresher(again)) {
      await w.promise;
      again = await store.lookup(pk, noHeaders);
    }
    w.cancel();
    if (fresher(again)) {
      cache.metrics.coalesced.inc({ scope: 'cluster' });
      return decode<T>(again.entry!);
    }
  } else if (token !== undefined) {
    const again = await store.lookup(pk, noHeaders);
    if (fresher(again)) {
      await store.unlock(ck, token);
      return decode<T>(again.entry!);
    }
  }
  try {
    const requestTime = Date.now();
    let value: T;
    try {
      value = await fn();
    } catch (e) {
      store.fillFailed(ck);
      const stale = l.entry;
      if (stale !== null && Math.max(0, Date.now() - stale.freshUntil) < stale.meta.sie) {
        cache.metrics.stale.inc({ reason: 'stale-if-error' });
        return decode<T>(stale);
      }
      throw e;
    }
    const responseTime = Date.now();
    const json = JSON.stringify(value);
    if (json === undefined) {
      store.fillFailed(ck);
      return value;
    }
    const entry = buildEntry(
      200,
      { 'content-type': 'application/json' },
      Buffer.from(json, 'utf8'),
      { store: true, freshness: opts.ttl * 1000, swr: (opts.staleWhileRevalidate ?? 0) * 1000, sie: (opts.staleIfError ?? 0) * 1000, noStale: false, alwaysRevalidate: false, strip: [], source: 'explicit' },
      { requestTime, responseTime },
      { routeTags: opts.tags ?? [], varyValues: undefined, revalidateWindow: 0, keep: 0 },
    );
    // the age of a function result starts when it is computed
    const fixed = new CacheEntry({ ...entry.meta, ia: 0 }, entry.body);
    const put = await store.put(pk, fixed, [], noHeaders, ck);
    if (put === null) store.fillFailed(ck);
    // Every caller sees the same JSON round-trip, whether it ran fn or not.
    return JSON.parse(json) as T;
  } finally {
    if (typeof token === 'string') await store.unlock(ck, token);
  }
}

/** Drop a cached() key on every node. */
export async function invalidate(key: string, opts: { cache?: Cache; soft?: boolean } = {}): Promise<void> {
  const cache = opts.cache ?? getDefaultCache();
  await cache.ready();
  await cache.store.purgeKeys([pkOf(key)], opts.soft ?? false);
}
