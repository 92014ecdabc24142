/**
 * cacheAside(): the sidecar's caching as a hono middleware in an existing
 * app. The downstream handler plays the upstream: it runs on a miss (once
 * for concurrent misses, in this process and across processes sharing the
 * engine), its response is stored by the same RFC 9111 rules, and hits never
 * reach it. The route options are those of a sidecar route.
 */
import { Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import type { HeaderRecord } from './http-headers.js';
import type { Origin } from './http-cache.js';
import { getDefaultCache, type Cache } from './library.js';
import { parseRoute } from './routes.js';
import { toResponse, viewRequest } from './adapter.js';
import type { OriginResponse } from './upstream.js';

export interface CacheAsideOptions {
  /** Default freshness (s) for responses without cache headers (the cache-aside case). */
  ttl?: number;
  staleWhileRevalidate?: number;
  staleIfError?: number;
  /** Seconds a stale response stays stored after its stale windows (for max-stale and HEAD updates; default 10). */
  keep?: number;
  /** Query parameters in the key: "all" (default), "none", or a list. */
  query?: 'all' | 'none' | string[];
  ignoreQuery?: string[];
  /** Request headers that select a variant (an implicit Vary). */
  keyHeaders?: string[];
  tags?: string[];
  /** Larger bodies are not stored (bytes, default 8 MiB). */
  maxObjectSize?: number;
  setCookie?: 'bypass' | 'strip' | 'store';
  /** Key namespace (default "app"); two middlewares with one name share entries. */
  name?: string;
  cache?: Cache;
}

function responseHeaders(res: Response): HeaderRecord {
  const h: HeaderRecord = {};
  res.headers.forEach((v, k) => {
    if (k !== 'set-cookie') h[k] = v;
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length > 0) h['set-cookie'] = cookies;
  return h;
}

export function cacheAside(opts: CacheAsideOptions = {}): MiddlewareHandler {
  const { cache: given, name, ...rest } = opts;
  const route = parseRoute({ prefix: '/', name: name ?? 'app', ...rest }, 'cacheAside()', {}, false);
  return async (c, next) => {
    const cache = given ?? getDefaultCache();
    await cache.ready();
    const v = viewRequest(c);
    let called = false;
    const origin: Origin = async () => {
      if (called) throw new Error('cacheAside: handler already ran for this request');
      called = true;
      const requestTime = Date.now();
      // A fresh slot, so that hono takes the handler's response as is (it would
      // otherwise merge an earlier c.res's headers in, or ignore the handler's
      // response once the context is finalized, as in a background refresh).
      c.res = undefined as unknown as Response;
      c.finalized = false;
      await next();
      const res = c.res;
      const out: OriginResponse = {
        status: res.status,
        headers: responseHeaders(res),
        body: res.body === null ? null : Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        requestTime,
        responseTime: Date.now(),
      };
      return out;
    };
    const r = await cache.http.handle({ method: v.method, target: v.target, get: v.get, route }, origin);
    const response = toResponse(r);
    if (called) {
      c.res = undefined as unknown as Response;
      c.res = response;
      return;
    }
    return response;
  };
}
