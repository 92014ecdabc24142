/**
 * Routes: path prefix → upstream and caching rules, validated from the JSON
 * config (errors name the field), matched by longest prefix, and turned into
 * cache keys (which query parameters count, normalised order).
 */
import { createHash } from 'node:crypto';
import type { PolicyRoute } from './policy.js';

export class ConfigFieldError extends Error {}

export interface Route extends PolicyRoute {
  /** Name used in cache keys and metrics (default: the prefix). */
  name: string;
  /** Path prefix, starting with '/'. */
  prefix: string;
  /** Upstream origin (+ base path); null in library mode. */
  upstream: URL | null;
  /** Remove the prefix before appending the path to the upstream's base path. */
  stripPrefix: boolean;
  /** Query parameters in the key: all, none, or only these. */
  query: 'all' | 'none' | string[];
  /** Query parameters never in the key (tracking parameters). */
  ignoreQuery: Set<string>;
  /** Request headers in the key (lower case): an implicit Vary. */
  keyHeaders: string[];
  /** Tags every stored response of the route carries. */
  tags: string[];
  /** Larger bodies stream through uncached (bytes). */
  maxObjectSize: number;
  /** false: the route is a plain proxy, nothing cached. */
  cache: boolean;
  /** Upstream timeouts (ms): response headers, then body inactivity. */
  timeout: number;
  bodyTimeout: number;
  /** Upstream connection limit (undici Pool). */
  connections: number;
}

export const ROUTE_DEFAULTS = {
  ttl: null as number | null,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  revalidateWindow: 300,
  keep: 10,
  setCookie: 'bypass' as const,
  query: 'all' as const,
  maxObjectSize: 8 * 1024 * 1024,
  timeout: 30,
  bodyTimeout: 30,
  connections: 128,
};

const ROUTE_FIELDS = new Set([
  'name',
  'prefix',
  'upstream',
  'stripPrefix',
  'ttl',
  'staleWhileRevalidate',
  'staleIfError',
  'revalidateWindow',
  'keep',
  'setCookie',
  'query',
  'ignoreQuery',
  'keyHeaders',
  'tags',
  'maxObjectSize',
  'cache',
  'timeout',
  'bodyTimeout',
  'connections',
]);

type Json = Record<string, unknown>;

function fail(field: string, msg: string, got?: unknown): never {
  throw new ConfigFieldError(`config: ${field}: ${msg}${got !== undefined ? `, got ${JSON.stringify(got)}` : ''}`);
}

export function num(o: Json, key: string, field: string, opts: { min?: number; integer?: boolean } = {}): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) fail(field, 'expected a number', v);
  if (opts.integer && !Number.isInteger(n)) fail(field, 'expected an integer', v);
  if (opts.min !== undefined && n < opts.min) fail(field, `expected a number >= ${opts.min}`, v);
  return n;
}

function strList(o: Json, key: string, field: string): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(field, 'expected an array of strings', v);
  return v as string[];
}

export function parseUpstream(v: unknown, field: string): URL {
  if (typeof v !== 'string') fail(field, 'expected an http:// or https:// URL', v);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    fail(field, 'expected an http:// or https:// URL', v);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(field, 'expected an http:// or https:// URL', v);
  if (u.search !== '' || u.hash !== '') fail(field, 'an upstream URL has no query or fragment', v);
  return u;
}

/** Route defaults a config's top level may set for every route. */
export type RouteDefaults = Partial<Record<'ttl' | 'staleWhileRevalidate' | 'staleIfError' | 'keep' | 'maxObjectSize' | 'timeout', number | null>> & { upstream?: URL | null };

/** Validate one route object; `field` names it in errors (e.g. "routes[2]"). */
export function parseRoute(o: unknown, field: string, defaults: RouteDefaults = {}, requireUpstream = true): Route {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) fail(field, 'expected an object', o);
  const r = o as Json;
  for (const k of Object.keys(r)) if (!ROUTE_FIELDS.has(k)) fail(`${field}.${k}`, `unknown field (known: ${[...ROUTE_FIELDS].join(', ')})`);
  const prefix = r.prefix === undefined ? '/' : r.prefix;
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) fail(`${field}.prefix`, "expected a path starting with '/'", prefix);
  const upstream = r.upstream !== undefined ? parseUpstream(r.upstream, `${field}.upstream`) : (defaults.upstream ?? null);
  if (upstream === null && requireUpstream) fail(`${field}.upstream`, 'missing (set it on the route, at the top level, with --upstream or CACHESIDE_UPSTREAM)');
  const ttlRaw = r.ttl === null ? null : num(r, 'ttl', `${field}.ttl`, { min: 0 });
  const query = r.query ?? ROUTE_DEFAULTS.query;
  if (query !== 'all' && query !== 'none' && !(Array.isArray(query) && query.every((x) => typeof x === 'string'))) {
    fail(`${field}.query`, 'expected "all", "none" or an array of parameter names', query);
  }
  const setCookie = r.setCookie ?? ROUTE_DEFAULTS.setCookie;
  if (setCookie !== 'bypass' && setCookie !== 'strip' && setCookie !== 'store') fail(`${field}.setCookie`, 'expected "bypass", "strip" or "store"', setCookie);
  for (const k of ['cache', 'stripPrefix']) {
    if (r[k] !== undefined && typeof r[k] !== 'boolean') fail(`${field}.${k}`, 'expected true or false', r[k]);
  }
  if (r.name !== undefined && (typeof r.name !== 'string' || r.name === '' || /[\s:]/.test(r.name))) fail(`${field}.name`, 'expected a non-empty name without spaces or colons', r.name);
  const ttl = ttlRaw === undefined ? (defaults.ttl ?? ROUTE_DEFAULTS.ttl) : ttlRaw;
  return {
    name: (r.name as string | undefined) ?? prefix,
    prefix,
    upstream,
    stripPrefix: (r.stripPrefix as boolean | undefined) ?? false,
    ttl,
    staleWhileRevalidate: num(r, 'staleWhileRevalidate', `${field}.staleWhileRevalidate`, { min: 0 }) ?? defaults.staleWhileRevalidate ?? ROUTE_DEFAULTS.staleWhileRevalidate,
    staleIfError: num(r, 'staleIfError', `${field}.staleIfError`, { min: 0 }) ?? defaults.staleIfError ?? ROUTE_DEFAULTS.staleIfError,
    revalidateWindow: num(r, 'revalidateWindow', `${field}.revalidateWindow`, { min: 0 }) ?? ROUTE_DEFAULTS.revalidateWindow,
    keep: num(r, 'keep', `${field}.keep`, { min: 0 }) ?? defaults.keep ?? ROUTE_DEFAULTS.keep,
    setCookie,
    query: query as Route['query'],
    ignoreQuery: new Set(strList(r, 'ignoreQuery', `${field}.ignoreQuery`) ?? []),
    keyHeaders: (strList(r, 'keyHeaders', `${field}.keyHeaders`) ?? []).map((h) => h.toLowerCase()).sort(),
    tags: strList(r, 'tags', `${field}.tags`) ?? [],
    maxObjectSize: num(r, 'maxObjectSize', `${field}.maxObjectSize`, { min: 0, integer: true }) ?? defaults.maxObjectSize ?? ROUTE_DEFAULTS.maxObjectSize,
    cache: (r.cache as boolean | undefined) ?? true,
    timeout: (num(r, 'timeout', `${field}.timeout`, { min: 0.001 }) ?? defaults.timeout ?? ROUTE_DEFAULTS.timeout) * 1000,
    bodyTimeout: (num(r, 'bodyTimeout', `${field}.bodyTimeout`, { min: 0.001 }) ?? ROUTE_DEFAULTS.bodyTimeout) * 1000,
    connections: num(r, 'connections', `${field}.connections`, { min: 1, integer: true }) ?? ROUTE_DEFAULTS.connections,
  };
}

/** Routes by longest prefix. A prefix matches at a path-segment boundary. */
export class RouteTable {
  private readonly sorted: Route[];
  constructor(readonly routes: Route[]) {
    this.sorted = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
    const seen = new Set<string>();
    for (const r of routes) {
      if (seen.has(r.name)) throw new ConfigFieldError(`config: routes: two routes named '${r.name}' (names and prefixes must be unique)`);
      seen.add(r.name);
    }
  }

  match(path: string): Route | null {
    for (const r of this.sorted) {
      const p = r.prefix;
      if (!path.startsWith(p)) continue;
      if (p.endsWith('/') || path.length === p.length) return r;
      const c = path[p.length];
      if (c === '/' || c === '?') return r;
    }
    return null;
  }
}

/** Split an origin-form request target into path and query (without '?'). */
export function splitTarget(target: string): [string, string] {
  const q = target.indexOf('?');
  return q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q + 1)];
}

/** The query string as it counts for the key: filtered, sorted. */
export function keyQuery(route: Pick<Route, 'query' | 'ignoreQuery'>, query: string): string {
  if (query === '' || route.query === 'none') return '';
  let parts = query.split('&').filter((p) => p !== '');
  const name = (p: string) => {
    const eq = p.indexOf('=');
    return eq < 0 ? p : p.slice(0, eq);
  };
  if (Array.isArray(route.query)) {
    const allow = route.query;
    parts = parts.filter((p) => allow.includes(name(p)));
  }
  if (route.ignoreQuery.size > 0) parts = parts.filter((p) => !route.ignoreQuery.has(name(p)));
  if (parts.length > 1) parts.sort();
  return parts.join('&');
}

/** The primary cache key of a request target on a route (without the engine key prefix). */
export function primaryKey(route: Pick<Route, 'name' | 'query' | 'ignoreQuery'>, target: string): string {
  if (target.length <= 1024 && target.indexOf('?') < 0) return route.name + ':' + target;
  const [path, query] = splitTarget(target);
  const q = keyQuery(route, query);
  const k = q === '' ? `${route.name}:${path}` : `${route.name}:${path}?${q}`;
  return k.length > 1024 ? `${route.name}:#${createHash('sha256').update(k, 'latin1').digest('base64url')}` : k;
}
