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
  isWeak,
  parseCacheControl,
  parseEtagList,
  parseHttpDate,
  strongEtagMatch,
  weakEtagMatch,
  type HeaderGetter,
  type HeaderRecord,
} from './http-headers.js';
import { targetedDirectives } from './targeted.js';

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
  /**
   * Seconds any stale entry stays stored after its stale windows (Varnish
   * `keep`): for a client's max-stale or stale-if-error, and HEAD updates.
   */
  keep: number;
}

/**
 * Statuses cacheable by default (RFC 9110 §15.1): heuristic freshness (or
 * the route TTL) may apply. 206 is among them but partial responses are
 * never stored here.
 */
const HEURISTIC_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
/** Statuses whose semantics this cache knows (must-understand, RFC 9111 §5.2.2.3): those of RFC 9110. */
const UNDERSTOOD_STATUS = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505,
]);
/** Upper bound of a heuristic freshness lifetime (one day), ms. */
export const HEURISTIC_MAX = 86_400_000;

export interface RequestDirectives {
  noCache: boolean;
  noStore: boolean;
  maxAge: number | null;
  minFresh: number | null;
  /** seconds of staleness the client accepts; Infinity for a bare max-stale */
  maxStale: number | null;
  onlyIfCached: boolean;
  /** RFC 5861 stale-if-error in the request, seconds */
  staleIfError: number | null;
}

const NO_DIRECTIVES: RequestDirectives = Object.freeze({ noCache: false, noStore: false, maxAge: null, minFresh: null, maxStale: null, onlyIfCached: false, staleIfError: null });
const PRAGMA_NO_CACHE: RequestDirectives = Object.freeze({ ...NO_DIRECTIVES, noCache: true });

/** Request Cache-Control (RFC 9111 §5.2.1); Pragma: no-cache counts only without Cache-Control (§5.4). */
export function requestDirectives(get: HeaderGetter): RequestDirectives {
  const raw = get('cache-control');
  if (raw === undefined) {
    const pragma = get('pragma');
    if (pragma === undefined) return NO_DIRECTIVES;
    return /(^|,)\s*no-cache\s*(,|$)/i.test(pragma) ? PRAGMA_NO_CACHE : NO_DIRECTIVES;
  }
  const cc = parseCacheControl(raw);
  if (cc.size === 0) return NO_DIRECTIVES;
  const maxStaleArg = cc.get('max-stale');
  return {
    noCache: cc.has('no-cache'),
    noStore: cc.has('no-store'),
    maxAge: deltaSeconds(cc, 'max-age') ?? (cc.has('max-age') ? 0 : null),
    minFresh: deltaSeconds(cc, 'min-fresh'),
    maxStale: maxStaleArg === undefined ? null : maxStaleArg === true ? Infinity : deltaSeconds(cc, 'max-stale'),
    onlyIfCached: cc.has('only-if-cached'),
    staleIfError: deltaSeconds(cc, 'stale-if-error'),
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Unsafe, or of unknown safety: a success invalidates the target (RFC 9111 §4.4). */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

/**
 * Why a request is not answered from (nor stored in) the cache, or null.
 * Only GET and HEAD are served from cache. If-Match and If-Unmodified-Since
 * are not for a cache to evaluate (RFC 9111 §4.3.2): such requests go to the
 * upstream. Range and If-Range are answered from a stored complete response.
 */
export function bypassReason(method: string, get: HeaderGetter): string | null {
  if (method !== 'GET' && method !== 'HEAD') return 'method';
  if (get('if-match') !== undefined || get('if-unmodified-since') !== undefined) return 'precondition';
  if (get('upgrade') !== undefined) return 'upgrade';
  return null;
}

export type Storability =
  | { store: false; reason: string }
  | {
      store: true;
      /** Freshness lifetime, ms. */
      freshness: number;
      /** Stale windows (ms) this response may be served in: zero where forbidden. */
      swr: number;
      sie: number;
      /** No staleness beyond those windows (must-revalidate, proxy-revalidate, s-maxage, no-cache): no client max-stale. */
      noStale: boolean;
      /** Every reuse needs validation (no-cache). */
      alwaysRevalidate: boolean;
      /** Headers not to store (private="..", no-cache="..", Set-Cookie when stripped). */
      strip: string[];
      /** Where freshness came from, for Cache-Status detail. */
      source: 'explicit' | 'route-ttl' | 'heuristic';
    };

/**
 * May a response to GET be stored by a shared cache (RFC 9111 §3), and with
 * which freshness? `hasAuth` says the request carried Authorization.
 *
 * Explicit freshness (s-maxage > max-age > Expires) makes any final status
 * storable; without it only heuristically cacheable statuses (or `public`)
 * are, with the route TTL where the route sets one, else 10% of the time
 * since Last-Modified (at most a day). CDN-Cache-Control or Surrogate-Control
 * addressed to this cache (targeted.ts) stands in for Cache-Control and Expires.
 */
export function storability(status: number, h: HeaderRecord, hasAuth: boolean, route: PolicyRoute, requestNoStore = false): Storability {
  if (requestNoStore) return { store: false, reason: 'request-no-store' };
  if (status < 200 || status === 206 || status === 304) return { store: false, reason: `status-${status}` };
  // CDN-Cache-Control / Surrogate-Control addressed to this cache replace Cache-Control and Expires.
  const targeted = h['cdn-cache-control'] !== undefined || h['surrogate-control'] !== undefined ? targetedDirectives(h) : null;
  const cc = targeted ?? parseCacheControl(headerString(h, 'cache-control'));
  // must-understand: store only what we understand; then it overrides no-store
  const mustUnderstand = cc.has('must-understand');
  if (mustUnderstand && !UNDERSTOOD_STATUS.has(status)) return { store: false, reason: 'must-understand' };
  if (cc.has('no-store') && !mustUnderstand) return { store: false, reason: 'no-store' };
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
  let source: 'explicit' | 'route-ttl' | 'heuristic' = 'explicit';
  const maxAge = deltaSeconds(cc, 'max-age');
  if (sMaxAge !== null) freshness = sMaxAge * 1000;
  else if (maxAge !== null) freshness = maxAge * 1000;
  else if (cc.has('max-age') || cc.has('s-maxage')) {
    freshness = 0; // a malformed argument: stale (and Expires does not apply)
  } else if (targeted === null && h['expires'] !== undefined) {
    const exp = parseHttpDate(headerString(h, 'expires'));
    const date = parseHttpDate(headerString(h, 'date'));
    // An invalid Expires means "already expired" (RFC 9111 §5.3).
    freshness = Number.isNaN(exp) ? 0 : Math.max(0, exp - (Number.isNaN(date) ? Date.now() : date));
  }
  if (freshness === null) {
    if (!(HEURISTIC_STATUS.has(status) || cc.has('public'))) return { store: false, reason: alwaysRevalidate ? 'no-cache-without-freshness' : 'no-freshness' };
    if (route.ttl !== null) {
      // The cache-aside case: the route's default TTL stands in for heuristic freshness.
      freshness = route.ttl * 1000;
      source = 'route-ttl';
    } else {
      const lm = parseHttpDate(headerString(h, 'last-modified'));
      const dv = parseHttpDate(headerString(h, 'date'));
      const date = Number.isNaN(dv) ? Date.now() : dv;
      if (!Number.isNaN(lm) && lm < date) {
        freshness = Math.min(HEURISTIC_MAX, Math.floor((date - lm) / 10));
        source = 'heuristic';
      } else if (alwaysRevalidate) freshness = 0;
      else return { store: false, reason: 'no-freshness' };
    }
  }
  if (alwaysRevalidate) freshness = 0;

  // must-revalidate / proxy-revalidate / no-cache forbid every stale use.
  // s-maxage carries proxy-revalidate for a shared cache: no route windows and
  // no client max-stale, but stale windows the response itself names apply.
  const noStaleAtAll = mustRevalidate || proxyRevalidate || alwaysRevalidate;
  const noStale = noStaleAtAll || sMaxAge !== null;
  const respSwr = deltaSeconds(cc, 'stale-while-revalidate');
  const respSie = deltaSeconds(cc, 'stale-if-error');
  const routeStale = sMaxAge === null;
  const swr = noStaleAtAll ? 0 : (respSwr ?? (routeStale ? route.staleWhileRevalidate : 0)) * 1000;
  const sie = noStaleAtAll ? 0 : (respSie ?? (routeStale ? route.staleIfError : 0)) * 1000;
  const hasValidator = h['etag'] !== undefined || h['last-modified'] !== undefined;
  // A zero lifetime without validator or stale window: nothing could ever use it.
  if (freshness === 0 && swr === 0 && sie === 0 && !(hasValidator && Math.max(route.revalidateWindow, route.keep) > 0)) {
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
  // Age is a single delta-seconds: of a list (or several field lines) the first
  // member counts; anything else is ignored.
  const ageHeader = headerString(h, 'age');
  const first = ageHeader === undefined ? undefined : ageHeader.split(',', 1)[0]!;
  const ageValue = first !== undefined && /^\s*\d+\s*$/.test(first) ? Number(first) * 1000 : 0;
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

/**
 * Does If-Range allow the Range to apply (RFC 9110 §13.1.5)? An entity-tag
 * must strongly match; a date must equal a strong Last-Modified (one at least
 * a second older than Date). True without If-Range.
 */
export function ifRangeMatches(ifRange: string | undefined, etag: string | undefined, lastModified: string | undefined, date: string | undefined): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"') || /^w\//i.test(v)) return etag !== undefined && strongEtagMatch(v, etag);
  const when = parseHttpDate(v);
  const lm = parseHttpDate(lastModified);
  if (Number.isNaN(when) || Number.isNaN(lm) || when !== lm) return false;
  const d = parseHttpDate(date);
  return !Number.isNaN(d) && d - lm >= 1000;
}

/**
 * Does a 304 from the upstream select the stored response it revalidated
 * for update (RFC 9111 §4.3.4)? A strong ETag must be the stored strong
 * ETag; a weak one must match it weakly; without an ETag, a Last-Modified
 * must be the stored one. A 304 carrying neither updates the one response
 * it revalidated (the common case of servers that omit them).
 */
export function selectedBy304(h: HeaderRecord, etag: string | undefined, lastModified: string | undefined): boolean {
  const et = headerString(h, 'etag')?.trim();
  if (et !== undefined && et !== '') {
    if (etag === undefined) return false;
    return isWeak(et) ? weakEtagMatch(et, etag) : strongEtagMatch(et, etag);
  }
  const lm = headerString(h, 'last-modified');
  if (lm !== undefined) {
    if (lastModified === undefined) return false;
    const a = parseHttpDate(lm);
    const b = parseHttpDate(lastModified);
    return Number.isNaN(a) || Number.isNaN(b) ? lm.trim() === lastModified.trim() : a === b;
  }
  return true;
}

/** Headers a 304 carries (RFC 9110 §15.4.5). */
export const NOT_MODIFIED_HEADERS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified'];

/** Headers a 304 from the upstream must not change in the stored response (RFC 9111 §3.2). */
export const NO_UPDATE_ON_304 = new Set(['content-length', 'content-encoding', 'content-range', 'transfer-encoding']);

/** Statuses after which stale-if-error may serve a stale response (RFC 5861 §4). */
export function isErrorStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}
