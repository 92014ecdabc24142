/**
 * RFC 9111 shared-cache policy, as pure functions: which requests the cache
 * may answer, which responses it may store and for how long (freshness,
 * stale windows from RFC 5861), the age calculation, and conditional
 * requests answered from a stored response.
 */
import {
  deltaSeconds,
  fieldList,
  headerString,
  parseCacheControl,
  parseEtagList,
  parseHttpDate,
  weakEtagMatch,
  type HeaderGetter,
  type HeaderRecord,
} from './http-headers.js';

/** What a route contributes to policy decisions. */
export interface PolicyRoute {
  /** Default freshness (s) for responses without explicit freshness; null = none (strict RFC). */
  ttl: number | null;
  /** Route stale windows (s), used where the response names none. */
  staleWhileRevalidate: number;
  staleIfError: number;
  /** What to do with Set-Cookie responses. */
  setCookie: 'bypass' | 'strip' | 'store';
  /** Seconds a stale entry with validators is kept for revalidation. */
  revalidateWindow: number;
}

/** Statuses cacheable by default (RFC 9110 §15.1): heuristic freshness may apply. */
const HEURISTIC_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
/** Other statuses stored only with explicit freshness. */
const EXPLICIT_ONLY_STATUS = new Set([302, 303, 307]);

export interface RequestDirectives {
  noCache: boolean;
  noStore: boolean;
  maxAge: number | null;
  minFresh: number | null;
  maxStale: number | null;
  onlyIfCached: boolean;
}

const NO_DIRECTIVES: RequestDirectives = Object.freeze({ noCache: false, noStore: false, maxAge: null, minFresh: null, maxStale: null, onlyIfCached: false });

export function requestDirectives(get: HeaderGetter): RequestDirectives {
  const raw = get('cache-control');
  if (raw === undefined) {
    const pragma = get('pragma');
    if (pragma === undefined) return NO_DIRECTIVES;
    const nc = pragma !== undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(pragma);
    return { noCache: nc, noStore: false, maxAge: null, minFresh: null, maxStale: null, onlyIfCached: false };
  }
  const cc = parseCacheControl(raw);
  const maxStaleArg = cc.get('max-stale');
  return {
    noCache: cc.has('no-cache'),
    noStore: cc.has('no-store'),
    maxAge: deltaSeconds(cc, 'max-age'),
    minFresh: deltaSeconds(cc, 'min-fresh'),
    maxStale: maxStaleArg === undefined ? null : maxStaleArg === true ? Infinity : deltaSeconds(cc, 'max-stale'),
    onlyIfCached: cc.has('only-if-cached'),
  };
}

/**
 * Why a request is not answered from (nor stored in) the cache, or null.
 * Only GET and HEAD are served from cache; preconditions other than
 * If-None-Match / If-Modified-Since and range requests go to the upstream.
 */
export function bypassReason(method: string, get: HeaderGetter): string | null {
  if (method !== 'GET' && method !== 'HEAD') return 'method';
  if (get('range') !== undefined) return 'range';
  if (get('if-match') !== undefined || get('if-unmodified-since') !== undefined || get('if-range') !== undefined) return 'precondition';
  if (get('upgrade') !== undefined) return 'upgrade';
  return null;
}

export type Storability =
  | { store: false; reason: string }
  | {
      store: true;
      /** Freshness lifetime, ms. */
      freshness: number;
      swr: number;
      sie: number;
      /** Stale serving forbidden (must-revalidate, proxy-revalidate, no-cache). */
      noStale: boolean;
      /** Every reuse needs validation (no-cache). */
      alwaysRevalidate: boolean;
      /** Headers not to store (private="..", no-cache="..", Set-Cookie when stripped). */
      strip: string[];
      /** Where freshness came from, for Cache-Status detail. */
      source: 'explicit' | 'route-ttl';
    };

/**
 * May a response to GET be stored by a shared cache (RFC 9111 §3), and with
 * which freshness? `hasAuth` says the request carried Authorization.
 */
export function storability(status: number, h: HeaderRecord, hasAuth: boolean, route: PolicyRoute, requestNoStore = false): Storability {
  if (requestNoStore) return { store: false, reason: 'request-no-store' };
  if (!HEURISTIC_STATUS.has(status) && !EXPLICIT_ONLY_STATUS.has(status)) return { store: false, reason: `status-${status}` };
  const cc = parseCacheControl(headerString(h, 'cache-control'));
  if (cc.has('no-store')) return { store: false, reason: 'no-store' };
  const strip: string[] = [];
  const priv = cc.get('private');
  if (priv === true) return { store: false, reason: 'private' };
  if (priv !== undefined) strip.push(...(fieldList(cc, 'private') ?? []));
  const sMaxAge = deltaSeconds(cc, 's-maxage');
  const mustRevalidate = cc.has('must-revalidate');
  const proxyRevalidate = cc.has('proxy-revalidate');
  if (hasAuth && !(cc.has('public') || mustRevalidate || sMaxAge !== null)) return { store: false, reason: 'authorization' };
  const vary = headerString(h, 'vary');
  if (vary !== undefined && vary.split(',').some((v) => v.trim() === '*')) return { store: false, reason: 'vary-star' };
  if (h['set-cookie'] !== undefined) {
    if (route.setCookie === 'bypass') return { store: false, reason: 'set-cookie' };
    if (route.setCookie === 'strip') strip.push('set-cookie');
  }
  const noCacheArg = cc.get('no-cache');
  const alwaysRevalidate = noCacheArg === true;
  if (noCacheArg !== undefined && noCacheArg !== true) strip.push(...(fieldList(cc, 'no-cache') ?? []));

  let freshness: number | null = null;
  let source: 'explicit' | 'route-ttl' = 'explicit';
  const maxAge = deltaSeconds(cc, 'max-age');
  if (sMaxAge !== null) freshness = sMaxAge * 1000;
  else if (maxAge !== null) freshness = maxAge * 1000;
  else if (h['expires'] !== undefined) {
    const exp = parseHttpDate(headerString(h, 'expires'));
    const date = parseHttpDate(headerString(h, 'date'));
    // An invalid Expires means "already expired" (RFC 9111 §5.3).
    freshness = Number.isNaN(exp) ? 0 : Math.max(0, exp - (Number.isNaN(date) ? Date.now() : date));
  } else if (cc.has('max-age') || cc.has('s-maxage')) {
    freshness = 0; // malformed argument: treat as stale
  }
  if (freshness === null && alwaysRevalidate) freshness = 0;
  if (freshness === null) {
    // The cache-aside case: the route's default TTL stands in for heuristic
    // freshness (statuses cacheable by default, or any status marked public).
    if (route.ttl === null || !(HEURISTIC_STATUS.has(status) || cc.has('public'))) return { store: false, reason: 'no-freshness' };
    freshness = route.ttl * 1000;
    source = 'route-ttl';
  }
  if (alwaysRevalidate) freshness = 0;

  const noStale = mustRevalidate || proxyRevalidate || alwaysRevalidate;
  const respSwr = deltaSeconds(cc, 'stale-while-revalidate');
  const respSie = deltaSeconds(cc, 'stale-if-error');
  // s-maxage carries proxy-revalidate for shared caches: route windows do not
  // apply to it, but stale windows the response itself names still do.
  const routeStale = sMaxAge === null;
  const swr = noStale ? 0 : (respSwr ?? (routeStale ? route.staleWhileRevalidate : 0)) * 1000;
  const sie = noStale ? 0 : (respSie ?? (routeStale ? route.staleIfError : 0)) * 1000;
  const hasValidator = h['etag'] !== undefined || h['last-modified'] !== undefined;
  if (freshness === 0 && swr === 0 && sie === 0 && !(hasValidator && route.revalidateWindow > 0)) {
    return { store: false, reason: alwaysRevalidate ? 'no-cache-without-validator' : 'stale-on-arrival' };
  }
  return { store: true, freshness, swr, sie, noStale, alwaysRevalidate, strip, source };
}

/**
 * corrected_initial_age (RFC 9111 §4.2.3), ms: the larger of the apparent age
 * (response time − Date) and the Age header plus the response delay.
 */
export function correctedInitialAge(h: HeaderRecord, requestTime: number, responseTime: number): number {
  const date = parseHttpDate(headerString(h, 'date'));
  const apparent = Number.isNaN(date) ? 0 : Math.max(0, responseTime - date);
  const ageHeader = headerString(h, 'age');
  const ageValue = ageHeader !== undefined && /^\s*\d+\s*$/.test(ageHeader) ? Number(ageHeader) * 1000 : 0;
  const corrected = ageValue + Math.max(0, responseTime - requestTime);
  return Math.max(apparent, corrected);
}

/**
 * Does a stored response (its validators and status) satisfy the client's
 * If-None-Match / If-Modified-Since, so that a 304 is the answer?
 * (RFC 9110 §13.1.2, §13.1.3; If-None-Match takes precedence.)
 */
export function notModified(get: HeaderGetter, etag: string | undefined, lastModified: string | undefined, date: string | undefined): boolean {
  const inm = get('if-none-match');
  if (inm !== undefined) {
    const tags = parseEtagList(inm);
    if (tags.includes('*')) return true;
    if (etag === undefined) return false;
    return tags.some((t) => weakEtagMatch(t, etag));
  }
  const ims = get('if-modified-since');
  if (ims === undefined) return false;
  const since = parseHttpDate(ims);
  if (Number.isNaN(since)) return false;
  const lm = parseHttpDate(lastModified ?? date);
  if (Number.isNaN(lm)) return false;
  return lm <= since;
}

/** Headers a 304 carries (RFC 9110 §15.4.5). */
export const NOT_MODIFIED_HEADERS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified'];

/** Headers a 304 from the upstream must not change in the stored response (RFC 9111 §3.2). */
export const NO_UPDATE_ON_304 = new Set(['content-length', 'content-encoding', 'content-range', 'transfer-encoding']);

/** Statuses after which stale-if-error may serve a stale response (RFC 5861 §4). */
export function isErrorStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}
