/**
 * Talking to upstreams: one undici Pool per origin (keep-alive, connection
 * limit, header and body timeouts), every method and body passed through
 * streamed, hop-by-hop headers removed both ways, Forwarded / X-Forwarded-*
 * added. Failures become UpstreamError: unreachable (502) or timeout (504).
 */
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { hopByHop, type HeaderRecord } from './http-headers.js';
import type { Route } from './routes.js';
import { SURROGATE_CAPABILITY } from './targeted.js';

export interface OriginResponse {
  status: number;
  headers: HeaderRecord;
  /** Node stream, a whole body, or none (HEAD, 204, 304). */
  body: Readable | Buffer | null;
  requestTime: number;
  responseTime: number;
}

export class UpstreamError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout',
    message: string,
  ) {
    super(message);
  }
  get status(): 502 | 504 {
    return this.kind === 'timeout' ? 504 : 502;
  }
}

export interface ForwardRequest {
  method: string;
  /** origin-form target as received (path?query) */
  target: string;
  /** client request headers (lower-case names) */
  headers: Record<string, string | string[] | undefined>;
  body: Readable | null;
  clientIp: string;
  proto: string;
  route: Route;
}

/** Request headers never sent on a cache fill: the cache asks with its own validators. */
const FILL_DROP = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']);

export function classifyError(e: unknown): UpstreamError {
  if (e instanceof UpstreamError) return e;
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new UpstreamError('timeout', 'upstream timeout: no response headers in time');
  if (code === 'UND_ERR_BODY_TIMEOUT') return new UpstreamError('timeout', 'upstream timeout: response body stalled');
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return new UpstreamError('timeout', 'upstream timeout: connect');
  return new UpstreamError('unreachable', `upstream unreachable: ${code || err.message || 'error'}`);
}

export class Upstreams {
  private readonly pools = new Map<string, Pool>();

  private pool(route: Route): Pool {
    const origin = route.upstream!.origin;
    const id = `${origin}|${route.connections}`;
    let p = this.pools.get(id);
    if (p === undefined) {
      p = new Pool(origin, {
        connections: route.connections,
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 60_000,
        headersTimeout: route.timeout,
        bodyTimeout: route.bodyTimeout,
        connect: { timeout: Math.min(10_000, route.timeout) },
      });
      this.pools.set(id, p);
    }
    return p;
  }

  /** The upstream path for a client target: base path + (target minus prefix when stripPrefix). */
  static path(route: Route, target: string): string {
    let t = target;
    if (route.stripPrefix && route.prefix !== '/' && t.startsWith(route.prefix)) {
      t = t.slice(route.prefix.length);
      if (!t.startsWith('/')) t = '/' + t;
    }
    const base = route.upstream!.pathname;
    if (base === '/' || base === '') return t;
    return base.replace(/\/$/, '') + t;
  }

  /**
   * Send a request upstream. `fill`: a cache fill (client validators and
   * ranges dropped); `validators`: conditional headers of a revalidation.
   */
  async request(req: ForwardRequest, opts: { fill?: boolean; validators?: Record<string, string>; method?: string } = {}): Promise<OriginResponse> {
    const route = req.route;
    const drop = hopByHop(req.headers['connection']);
    const headers: Record<string, string | string[]> = {};
    for (const name in req.headers) {
      const v = req.headers[name];
      if (v === undefined || drop.has(name) || name === 'host' || name === 'expect') continue;
      if (opts.fill && FILL_DROP.has(name)) continue;
      headers[name] = v;
    }
    if (opts.validators) Object.assign(headers, opts.validators);
    if (opts.fill) {
      // Announce this cache, so Surrogate-Control can address it (targeted.ts).
      const sc = headers['surrogate-capability'];
      headers['surrogate-capability'] = sc === undefined ? SURROGATE_CAPABILITY : `${Array.isArray(sc) ? sc.join(', ') : sc}, ${SURROGATE_CAPABILITY}`;
    }
    const host = typeof req.headers['host'] === 'string' ? req.headers['host'] : undefined;
    const ip = req.clientIp;
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = xff === undefined ? ip : `${Array.isArray(xff) ? xff.join(', ') : xff}, ${ip}`;
    if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = req.proto;
    if (host !== undefined && headers['x-forwarded-host'] === undefined) headers['x-forwarded-host'] = host;
    const fwdFor = ip.includes(':') ? `"[${ip}]"` : ip;
    const fwd = `for=${fwdFor};proto=${req.proto}${host !== undefined ? `;host="${host.replace(/"/g, '')}"` : ''}`;
    const prev = req.headers['forwarded'];
    headers['forwarded'] = prev === undefined ? fwd : `${Array.isArray(prev) ? prev.join(', ') : prev}, ${fwd}`;

    const method = opts.method ?? req.method;
    const requestTime = Date.now();
    let res;
    try {
      res = await this.pool(route).request({
        path: Upstreams.path(route, req.target),
        method: method as 'GET',
        headers,
        body: method === 'GET' || method === 'HEAD' ? null : req.body,
        headersTimeout: route.timeout,
        bodyTimeout: route.bodyTimeout,
      });
    } catch (e) {
      throw classifyError(e);
    }
    const responseTime = Date.now();
    const rdrop = hopByHop(res.headers['connection']);
    const out: HeaderRecord = {};
    for (const name in res.headers) {
      const v = res.headers[name];
      if (v === undefined || rdrop.has(name)) continue;
      out[name] = v;
    }
    const noBody = method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
    if (noBody) res.body.resume();
    return { status: res.statusCode, headers: out, body: noBody ? null : res.body, requestTime, responseTime };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => {})));
    this.pools.clear();
  }
}
