/**
 * The sidecar HTTP server: a hono app proxying every route to its upstream
 * through the HTTP cache, plus /healthz, /readyz, /metrics and the purge API
 * (POST /_cacheside/purge, or the PURGE method on a URL), guarded by a token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import { getRequestListener } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { pino, type Logger } from 'pino';
import type { EngineClient } from './engine-client.js';
import { HttpCache } from './http-cache.js';
import { CacheMetrics } from './metrics.js';
import { EntryServe, errorResult } from './respond.js';
import { primaryKey, RouteTable, type Route } from './routes.js';
import { TieredStore } from './store.js';
import { Upstreams } from './upstream.js';
import { toResponse, viewRequest } from './adapter.js';

export interface SidecarOptions {
  routes: Route[];
  engine: EngineClient;
  /** Token for the purge API; null disables it. */
  purgeToken?: string | null;
  /** L1 byte budget (0 = no L1). */
  l1MaxBytes?: number;
  /** Engine key prefix (default "cs:"). */
  keyPrefix?: string;
  log?: Logger;
  lockTtl?: number;
  lockWait?: number;
  /** Also export Node process metrics on /metrics. */
  defaultMetrics?: boolean;
}

export interface Sidecar {
  app: Hono;
  cache: HttpCache;
  store: TieredStore;
  metrics: CacheMetrics;
  routes: RouteTable;
  upstreams: Upstreams;
  /** Subscribe to the invalidation channel (call once before serving). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createSidecar(opts: SidecarOptions): Sidecar {
  const log = opts.log ?? pino({ level: 'info' });
  const table = new RouteTable(opts.routes);
  let store: TieredStore | null = null;
  const metrics = new CacheMetrics({
    defaultMetrics: opts.defaultMetrics,
    l1: () => ({ bytes: store?.l1?.calculatedSize ?? 0, entries: store?.l1?.size ?? 0 }),
    l2: () => opts.engine.size(),
  });
  store = new TieredStore({ engine: opts.engine, prefix: opts.keyPrefix, l1MaxBytes: opts.l1MaxBytes, log, metrics });
  const cache = new HttpCache({ store, log, metrics, lockTtl: opts.lockTtl, lockWait: opts.lockWait, routeFor: (p) => table.match(p) });
  const upstreams = new Upstreams();
  const app = new Hono();
  const token = opts.purgeToken ?? null;
  const s = store;

  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/readyz', async (c) => ((await opts.engine.ready()) ? c.text('ready\n') : c.text('engine not ready\n', 503)));
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));

  const authorize = (c: Context): Response | null => {
    if (token === null || token === '') return c.text('purge API disabled: set --purge-token or CACHESIDE_PURGE_TOKEN\n', 403);
    const auth = c.req.header('authorization');
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (c.req.header('x-purge-token') ?? '');
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return c.text('bad purge token\n', 401);
    return null;
  };

  const keysOf = (urls: string[]): string[] => {
    const pks: string[] = [];
    for (const u of urls) {
      let url: URL;
      try {
        url = new URL(u, 'http://purge.invalid');
      } catch {
        continue;
      }
      const route = table.match(url.pathname);
      if (route !== null) pks.push(primaryKey(route, url.pathname + url.search));
    }
    return pks;
  };

  app.post('/_cacheside/purge', async (c) => {
    const denied = authorize(c);
    if (denied) return denied;
    let body: { url?: unknown; urls?: unknown; tag?: unknown; tags?: unknown; soft?: unknown };
    try {
      body = await c.req.json();
    } catch {
      return c.text('expected a JSON body: {"urls": [...], "tags": [...], "soft": false}\n', 400);
    }
    const list = (one: unknown, many: unknown): string[] | null => {
      const out: string[] = [];
      if (one !== undefined) {
        if (typeof one !== 'string') return null;
        out.push(one);
      }
      if (many !== undefined) {
        if (!Array.isArray(many) || many.some((x) => typeof x !== 'string')) return null;
        out.push(...(many as string[]));
      }
      return out;
    };
    const urls = list(body.url, body.urls);
    const tags = list(body.tag, body.tags);
    if (urls === null || tags === null || (urls.length === 0 && tags.length === 0)) return c.text('expected "url"/"urls" and/or "tag"/"tags" as strings\n', 400);
    const soft = body.soft === true;
    try {
      let purged = 0;
      if (urls.length > 0) purged += await s.purgeKeys(keysOf(urls), soft);
      if (tags.length > 0) purged += await s.purgeTags(tags, soft);
      metrics.purges.inc({ kind: `${urls.length > 0 ? 'url' : 'tag'}${soft ? '-soft' : ''}` }, 1);
      log.info({ urls, tags, soft, purged }, 'purge');
      return c.json({ purged, soft });
    } catch (e) {
      s.engineError('purge', e);
      return c.text(`purge failed: engine error: ${(e as Error).message}\n`, 503);
    }
  });

  app.on('PURGE', '/*', async (c) => {
    const denied = authorize(c);
    if (denied) return denied;
    const v = viewRequest(c);
    const soft = /^(1|true|yes|soft)$/i.test(c.req.header('x-purge-soft') ?? '');
    try {
      const purged = await s.purgeKeys(keysOf([v.target]), soft);
      metrics.purges.inc({ kind: soft ? 'url-soft' : 'url' });
      return c.json({ purged, soft });
    } catch (e) {
      s.engineError('purge', e);
      return c.text(`purge failed: engine error: ${(e as Error).message}\n`, 503);
    }
  });

  app.all('*', (c): Response | Promise<Response> => {
    const v = viewRequest(c);
    const route = table.match(v.path);
    if (route === null) return toResponse(errorResult(404, `no route for ${v.path}`, 'BYPASS'));
    const r = cache.handle({ method: v.method, target: v.target, get: v.get, route }, (o) =>
      upstreams.request({ method: v.method, target: v.target, headers: v.headers, body: v.body, clientIp: v.clientIp, proto: v.proto, route }, o),
    );
    if (r instanceof Promise) return r.then(toResponse);
    // The hit path: straight to the socket, no Response object, no header record.
    const out = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (r instanceof EntryServe && out !== undefined) {
      out.writeHead(r.status, r.flat());
      if (r.body === null) out.end();
      else out.end(r.body);
      return RESPONSE_ALREADY_SENT;
    }
    return toResponse(r);
  });

  app.onError((err, c) => {
    log.error({ err: err.message, stack: err.stack }, 'request failed');
    return c.text(`500 Internal Server Error: ${err.message}\n`, 500);
  });

  return {
    app,
    cache,
    store: s,
    metrics,
    routes: table,
    upstreams,
    start: () => s.start(),
    async close() {
      await cache.idle();
      await s.close();
      await upstreams.close();
    },
  };
}

const ADMIN = /^\/(?:healthz|readyz|metrics|_cacheside\/)/;

function fastHit(sc: Sidecar, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (ADMIN.test(path)) return false;
  const route = sc.routes.match(path);
  if (route === null) return false;
  const h = req.headers;
  const get = (n: string) => {
    const v = h[n];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : v;
  };
  const r = sc.cache.hitL1({ method, target, get, route });
  if (r === null) return false;
  if (r instanceof EntryServe) res.writeHead(r.status, r.flat());
  else res.writeHead(r.status, r.headers);
  if (r.body === null || Buffer.isBuffer(r.body) === false) res.end();
  else res.end(r.body);
  return true;
}

export interface RunningSidecar extends Sidecar {
  server: Server;
  port: number;
  url: string;
}

/** Create the sidecar and listen (port 0 = any free port). */
export async function startSidecar(opts: SidecarOptions & { port?: number; hostname?: string }): Promise<RunningSidecar> {
  const sc = createSidecar(opts);
  await sc.start();
  const honoListener = getRequestListener(sc.app.fetch);
  // Fresh L1 hits are answered before hono builds a Request and a Context;
  // everything else (misses, admin endpoints, other methods) goes through the app.
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (!fastHit(sc, req, res)) void honoListener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.hostname ?? '0.0.0.0', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address === '::' ? '::1' : addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
  return {
    ...sc,
    server,
    port: addr.port,
    url: `http://${host}:${addr.port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      await sc.close();
    },
  };
}
