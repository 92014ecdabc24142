/**
 * The HTTP cache: one request in, one response out, whatever produces the
 * upstream response (an undici pool in the sidecar, the downstream handler in
 * the hono middleware).
 *
 *   fresh entry (L1, synchronous; or L2)      → HIT (304 when validators match,
 *                                               206 for a byte range)
 *   stale, inside stale-while-revalidate      → STALE, one background refresh
 *   stale, inside the client's max-stale      → STALE
 *   stale otherwise / no-cache                → revalidate (a 304 selecting the entry
 *                                               by its validators refreshes it, one
 *                                               naming another representation leads
 *                                               to an unconditional fetch; a HEAD
 *                                               revalidates with HEAD)
 *   miss                                      → fill (a HEAD or a range with a whole
 *                                               GET), coalesced in-process and
 *                                               across nodes (engine lock)
 *   only-if-cached and nothing usable         → 504
 *   upstream error, inside stale-if-error     → STALE
 *   unsafe method that succeeded              → invalidate URL, same-host Location,
 *                                               Content-Location
 */
import type { Logger } from 'pino';
import type { CacheEntry, VaryRecord } from './entry.js';
import { headerString, normalizeVaryValue, type HeaderGetter, type HeaderRecord } from './http-headers.js';
import type { CacheMetrics } from './metrics.js';
import { bypassReason, isErrorStatus, isUnsafeMethod, notModified, requestDirectives, selectedBy304, storability, type RequestDirectives } from './policy.js';
import {
  buildEntry,
  discard,
  dropBody,
  errorResult,
  fromEntry,
  mergeNotModified,
  passThrough,
  rangeOfPassThrough,
  readBounded,
  upstreamErrorResult,
  validatorsOf,
  type CacheStatusParts,
  type ServeResult,
} from './respond.js';
import { primaryKey, splitTarget, type Route } from './routes.js';
import type { Lookup, TieredStore } from './store.js';
import { classifyError, UpstreamError, type OriginResponse } from './upstream.js';

export interface CacheRequest {
  /** upper-case method */
  method: string;
  /** origin-form target: path?query */
  target: string;
  get: HeaderGetter;
  route: Route;
}

/**
 * Produces the upstream response; throws UpstreamError (or anything: treated
 * as unreachable). `fill`: a cache fill (the client's conditionals and Range
 * are not sent); `validators`: a revalidation's conditionals; `method`: the
 * method to use upstream when it differs from the client's (GET for a HEAD miss).
 */
export type Origin = (opts: { fill: boolean; validators?: Record<string, string>; method?: string }) => Promise<OriginResponse>;

export interface HttpCacheOptions {
  store: TieredStore;
  log: Logger;
  metrics: CacheMetrics;
  /** Cross-node fill lock lifetime, ms (a dead holder's lock expires after this). */
  lockTtl?: number;
  /** How long a node waits for another node's fill before fetching itself, ms. */
  lockWait?: number;
  /** Route of another path (Location / Content-Location invalidation); default: the request's route. */
  routeFor?: (path: string) => Route | null;
}

type Outcome =
  | { kind: 'entry'; entry: CacheEntry; key: string; vary: VaryRecord | null }
  | { kind: 'error'; error: UpstreamError }
  | { kind: 'uncacheable'; status: number };

interface Lead {
  outcome: Outcome;
  result: ServeResult;
}

const L1_LABELS = { tier: 'l1' } as const;
const HIT_PARTS: CacheStatusParts = { hit: true };

export class HttpCache {
  readonly store: TieredStore;
  private readonly log: Logger;
  private readonly metrics: CacheMetrics;
  private readonly lockTtl: number;
  private readonly lockWait: number;
  private readonly routeFor: ((path: string) => Route | null) | undefined;
  private readonly inflight = new Map<string, Promise<Outcome>>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(opts: HttpCacheOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.metrics = opts.metrics;
    this.lockTtl = opts.lockTtl ?? 15_000;
    this.lockWait = opts.lockWait ?? 5_000;
    this.routeFor = opts.routeFor;
  }

  /** Answer a request; synchronous for fresh L1 hits. */
  handle(req: CacheRequest, origin: Origin): ServeResult | Promise<ServeResult> {
    const route = req.route;
    const why = !route.cache ? 'route' : bypassReason(req.method, req.get);
    if (why === 'method' && isUnsafeMethod(req.method)) return this.unsafe(req, origin);
    const rd = requestDirectives(req.get);
    const notStored = why ?? (this.store.up ? null : 'engine-down');
    if (notStored !== null) return rd.onlyIfCached && (req.method === 'GET' || req.method === 'HEAD') ? onlyIfCached() : this.pass(req, origin, notStored);
    const pk = primaryKey(route, req.target);
    return this.fromL1(req, pk, rd) ?? this.slow(req, origin, pk, rd);
  }

  /**
   * The whole hit path, synchronous and side-effect free but for metrics:
   * a fresh L1 entry for a cacheable request, or null (then use handle()).
   */
  hitL1(req: CacheRequest): ServeResult | null {
    if (!req.route.cache || !this.store.up || bypassReason(req.method, req.get) !== null) return null;
    return this.fromL1(req, primaryKey(req.route, req.target), requestDirectives(req.get));
  }

  private fromL1(req: CacheRequest, pk: string, rd: RequestDirectives): ServeResult | null {
    if (rd.noCache) return null;
    const l1 = this.store.lookupL1(pk, req.get);
    if (l1 === undefined || l1.entry === null) return null;
    const now = Date.now();
    if (this.verdict(l1.entry, l1.vary, rd, now) !== 'fresh') return null;
    this.metrics.hits.inc(L1_LABELS);
    return fromEntry(l1.entry, req.method, req.get, now, 'HIT', HIT_PARTS);
  }

  /**
   * What a stored entry is good for (RFC 9111 §4.2, §5.2.1; RFC 5861):
   * fresh; stale but inside stale-while-revalidate; stale but inside the
   * client's max-stale; or only after revalidation. The client's max-age and
   * min-fresh rule out serving it unvalidated at all.
   */
  private verdict(e: CacheEntry, vary: VaryRecord | null, rd: RequestDirectives, now: number): 'fresh' | 'swr' | 'max-stale' | 'revalidate' {
    if (rd.noCache || e.meta.ar === 1) return 'revalidate';
    if (rd.maxAge !== null && e.age(now) > rd.maxAge * 1000) return 'revalidate';
    if (rd.minFresh !== null && e.freshUntil - now < rd.minFresh * 1000) return 'revalidate';
    if (now < e.freshUntil && !e.invalidated(vary?.sp)) return 'fresh';
    const staleness = Math.max(0, now - e.freshUntil);
    if (staleness < e.meta.swr) return 'swr';
    if (rd.maxStale !== null && e.meta.ns !== 1 && staleness <= rd.maxStale * 1000) return 'max-stale';
    return 'revalidate';
  }

  /** May a stale entry stand in for an upstream error (its stale-if-error, or the client's)? */
  private staleIfErrorOk(e: CacheEntry, now: number, rd: RequestDirectives): boolean {
    if (e.meta.ar === 1) return false;
    const staleness = Math.max(0, now - e.freshUntil);
    if (staleness < e.meta.sie) return true;
    return rd.staleIfError !== null && e.meta.ns !== 1 && staleness <= rd.staleIfError * 1000;
  }

  private async slow(req: CacheRequest, origin: Origin, pk: string, rd: RequestDirectives): Promise<ServeResult> {
    const l = await this.store.lookup(pk, req.get);
    const now = Date.now();
    if (l.entry !== null) {
      const v = this.verdict(l.entry, l.vary, rd, now);
      if (v === 'fresh') {
        this.metrics.hits.inc({ tier: l.tier ?? 'l2' });
        return fromEntry(l.entry, req.method, req.get, now, 'HIT', { hit: true });
      }
      if (v === 'swr') {
        this.metrics.stale.inc({ reason: 'stale-while-revalidate' });
        this.refresh(req, origin, pk, l, rd);
        return fromEntry(l.entry, req.method, req.get, now, 'STALE', { hit: true, detail: 'stale-while-revalidate' });
      }
      if (v === 'max-stale') {
        this.metrics.stale.inc({ reason: 'max-stale' });
        return fromEntry(l.entry, req.method, req.get, now, 'STALE', { hit: true, detail: 'max-stale' });
      }
    }
    if (rd.onlyIfCached) return onlyIfCached();
    // no-store: nothing from this exchange is stored, and what is stored stays
    if (rd.noStore) return this.pass(req, origin, 'request-no-store', 'MISS', l.entry !== null ? 'request' : 'miss');
    return this.fill(req, origin, pk, l, rd, 0);
  }

  /** A miss or a revalidation, coalesced with concurrent ones in this process. */
  private async fill(req: CacheRequest, origin: Origin, pk: string, l: Lookup, rd: RequestDirectives, depth: number): Promise<ServeResult> {
    const fwd: CacheStatusParts['fwd'] = rd.noCache ? 'request' : l.entry !== null ? 'stale' : (l.miss ?? 'miss');
    const ck = l.key;
    const inflight = this.inflight.get(ck);
    if (inflight !== undefined) {
      this.metrics.coalesced.inc({ scope: 'process' });
      const out = await inflight;
      return this.serveWaiter(req, origin, pk, l, rd, out, fwd, depth);
    }
    let settle!: (o: Outcome) => void;
    this.inflight.set(ck, new Promise<Outcome>((r) => (settle = r)));
    try {
      const lead = await this.lead(req, origin, pk, l, rd, fwd, false);
      settle(lead!.outcome);
      return lead!.result;
    } catch (e) {
      const err = classifyError(e);
      settle({ kind: 'error', error: err });
      return upstreamErrorResult(err, { fwd });
    } finally {
      this.inflight.delete(ck);
    }
  }

  private serveWaiter(req: CacheRequest, origin: Origin, pk: string, l: Lookup, rd: RequestDirectives, out: Outcome, fwd: CacheStatusParts['fwd'], depth: number): ServeResult | Promise<ServeResult> {
    const now = Date.now();
    if (out.kind === 'entry') {
      // The fill may have produced a variant for other request headers.
      const matches = out.vary === null || out.entry.meta.vh === undefined || out.entry.meta.vh.every(([n, v]) => v === normalizeVaryValue(n, req.get(n)));
      if (matches) return fromEntry(out.entry, req.method, req.get, now, 'MISS', { fwd, fwdStatus: out.entry.meta.s, collapsed: true });
      if (depth < 1) return this.store.lookup(pk, req.get).then((l2) => this.fill(req, origin, pk, l2, rd, depth + 1));
      return this.pass(req, origin, 'vary-mismatch', 'MISS');
    }
    if (out.kind === 'error') {
      if (l.entry !== null && this.staleIfErrorOk(l.entry, now, rd)) return this.serveStaleOnError(req, l.entry, now, out.error.status);
      return upstreamErrorResult(out.error, { fwd, collapsed: true });
    }
    if (l.entry !== null && isErrorStatus(out.status) && this.staleIfErrorOk(l.entry, now, rd)) return this.serveStaleOnError(req, l.entry, now, out.status);
    // Not storable: every waiter asks the upstream itself.
    return this.pass(req, origin, 'uncacheable', 'MISS');
  }

  private serveStaleOnError(req: CacheRequest, e: CacheEntry, now: number, status: number): ServeResult {
    this.metrics.stale.inc({ reason: 'stale-if-error' });
    return fromEntry(e, req.method, req.get, now, 'STALE', { fwd: 'stale', fwdStatus: status, detail: 'stale-if-error' });
  }

  /**
   * The fill itself: take the cross-node lock (or wait for its holder),
   * fetch, store. `background`: a stale-while-revalidate refresh, which gives
   * up when another node holds the lock. Returns null only for a background
   * refresh that had nothing to do.
   */
  private async lead(req: CacheRequest, origin: Origin, pk: string, l: Lookup, rd: RequestDirectives, fwd: CacheStatusParts['fwd'], background: boolean): Promise<Lead | null> {
    const ck = l.key;
    const started = Date.now();
    const token = await this.store.tryLock(ck, this.lockTtl);
    if (token === null) {
      if (background) return null;
      const w = this.store.waitFill(ck, this.lockWait);
      let again = await this.store.lookup(pk, req.get);
      if (!this.usable(again, l.entry, started, rd)) {
        await w.promise;
        again = await this.store.lookup(pk, req.get);
      }
      w.cancel();
      if (this.usable(again, l.entry, started, rd)) {
        this.metrics.coalesced.inc({ scope: 'cluster' });
        const e = again.entry!;
        return { outcome: { kind: 'entry', entry: e, key: again.key, vary: again.vary }, result: fromEntry(e, req.method, req.get, Date.now(), 'MISS', { fwd, fwdStatus: e.meta.s, collapsed: true }) };
      }
      // Holder failed, stored nothing usable, or is too slow: fetch ourselves.
    } else if (token !== undefined) {
      const again = await this.store.lookup(pk, req.get);
      if (this.usable(again, l.entry, started, rd) && again.entry !== l.entry) {
        await this.store.unlock(ck, token);
        if (background) return null;
        const e = again.entry!;
        return { outcome: { kind: 'entry', entry: e, key: again.key, vary: again.vary }, result: fromEntry(e, req.method, req.get, Date.now(), 'MISS', { fwd, fwdStatus: e.meta.s, collapsed: true }) };
      }
    }
    try {
      return await this.fetchAndStore(req, origin, pk, l, rd, fwd, ck);
    } finally {
      if (typeof token === 'string') await this.store.unlock(ck, token);
    }
  }

  /** Is what a re-check found good to serve instead of fetching? */
  private usable(found: Lookup, seen: CacheEntry | null, started: number, rd: RequestDirectives): boolean {
    const e = found.entry;
    if (e === null) return false;
    if (seen !== null && e.meta.st === seen.meta.st && e.meta.inv === seen.meta.inv) return false;
    if (e.invalidated(found.vary?.sp)) return false;
    if (e.meta.st >= started - 50) return true;
    return this.verdict(e, found.vary, { ...rd, noCache: false }, Date.now()) === 'fresh';
  }

  private async fetchAndStore(req: CacheRequest, origin: Origin, pk: string, l: Lookup, rd: RequestDirectives, fwd: CacheStatusParts['fwd'], ck: string): Promise<Lead> {
    const route = req.route;
    const stale = l.entry;
    // A HEAD miss is filled with a GET (the response is stored, the client
    // gets its headers); a HEAD on a stored response is revalidated with HEAD.
    const method = req.method === 'HEAD' && stale === null ? 'GET' : undefined;
    const attempt = async (validators: Record<string, string> | undefined, reason: string): Promise<OriginResponse | Lead> => {
      try {
        return await this.fetch(req, origin, { fill: true, validators, method }, reason);
      } catch (e) {
        const err = classifyError(e);
        this.store.fillFailed(ck);
        const now = Date.now();
        if (stale !== null && this.staleIfErrorOk(stale, now, rd)) return { outcome: { kind: 'error', error: err }, result: this.serveStaleOnError(req, stale, now, err.status) };
        return { outcome: { kind: 'error', error: err }, result: upstreamErrorResult(err, { fwd }) };
      }
    };
    let got = await attempt(stale !== null ? validatorsOf(stale) : undefined, fwd ?? 'miss');
    if ('outcome' in got) return got;
    let res = got;
    const hasAuth = req.get('authorization') !== undefined;
    const now = () => Date.now();

    // A 304 updates the stored response only when its validators select it
    // (RFC 9111 §4.3.4): one naming another representation updates nothing.
    // It then answers a client whose own conditional it satisfies; anyone
    // else gets the response fetched again, unconditionally.
    if (res.status === 304 && stale !== null && !selectedBy304(res.headers, stale.etag, stale.lastModified)) {
      const rh = res.headers;
      if ((req.get('if-none-match') !== undefined || req.get('if-modified-since') !== undefined) && notModified(req.get, headerString(rh, 'etag'), headerString(rh, 'last-modified'), headerString(rh, 'date'))) {
        this.store.fillFailed(ck);
        return { outcome: { kind: 'uncacheable', status: 304 }, result: passThrough(res, 'MISS', { fwd, detail: 'validator-mismatch' }) };
      }
      this.log.debug({ url: req.target, etag: headerString(rh, 'etag'), stored: stale.etag }, '304 names another representation: fetching again');
      got = await attempt(undefined, 'validator-mismatch');
      if ('outcome' in got) return got;
      res = got;
      if (res.status === 304) {
        // still a 304 to an unconditional request: nothing to store or update
        this.store.fillFailed(ck);
        return { outcome: { kind: 'uncacheable', status: 304 }, result: passThrough(res, 'MISS', { fwd, detail: 'unexpected-304' }) };
      }
    }

    if (res.status === 304 && stale !== null) {
      const merged = mergeNotModified(stale, res.headers);
      const st = storability(stale.meta.s, merged, hasAuth, route);
      if (!st.store) {
        this.store.fillFailed(ck);
        await this.store.invalidate([pk]);
        return { outcome: { kind: 'uncacheable', status: 304 }, result: fromEntry(stale, req.method, req.get, now(), 'MISS', { fwd, fwdStatus: 304, detail: st.reason }) };
      }
      const entry = buildEntry(stale.meta.s, merged, stale.body, st, res, { routeTags: route.tags, varyValues: stale.meta.vh, revalidateWindow: route.revalidateWindow, keep: route.keep });
      await this.store.replace(l.key, entry, ck);
      this.metrics.hits.inc({ tier: 'revalidated' });
      return { outcome: { kind: 'entry', entry, key: l.key, vary: l.vary }, result: fromEntry(entry, req.method, req.get, now(), 'HIT', { fwd, fwdStatus: 304, stored: true }) };
    }
    if (stale !== null && isErrorStatus(res.status) && this.staleIfErrorOk(stale, now(), rd)) {
      if (res.body !== null && !Buffer.isBuffer(res.body)) res.body.resume();
      this.store.fillFailed(ck);
      return { outcome: { kind: 'uncacheable', status: res.status }, result: this.serveStaleOnError(req, stale, now(), res.status) };
    }
    if (stale !== null && req.method === 'HEAD') return this.freshenFromHead(req, pk, l, stale, res, fwd, ck, hasAuth);
    const st = res.status === 304 ? ({ store: false, reason: 'unexpected-304' } as const) : storability(res.status, res.headers, hasAuth, route);
    if (!st.store) {
      this.store.fillFailed(ck);
      if (stale !== null) await this.store.invalidate([pk]);
      return { outcome: { kind: 'uncacheable', status: res.status }, result: this.forClient(req, passThrough(res, 'MISS', { fwd, detail: st.reason })) };
    }
    let read;
    try {
      read = await readBounded(res.body, route.maxObjectSize, res.headers);
    } catch (e) {
      const err = classifyError(e);
      this.store.fillFailed(ck);
      if (stale !== null && this.staleIfErrorOk(stale, now(), rd)) return { outcome: { kind: 'error', error: err }, result: this.serveStaleOnError(req, stale, now(), err.status) };
      return { outcome: { kind: 'error', error: err }, result: upstreamErrorResult(err, { fwd }) };
    }
    if (!read.ok) {
      this.store.fillFailed(ck);
      return { outcome: { kind: 'uncacheable', status: res.status }, result: this.forClient(req, passThrough(res, 'MISS', { fwd, detail: 'too-big' }, read.stream)) };
    }
    const varyNames = this.varyNames(res.headers, route);
    const varyValues = varyNames.length > 0 ? varyNames.map((n): [string, string] => [n, normalizeVaryValue(n, req.get(n))]) : undefined;
    const entry = buildEntry(res.status, res.headers, read.body, st, res, { routeTags: route.tags, varyValues, revalidateWindow: route.revalidateWindow, keep: route.keep });
    const put = await this.store.put(pk, entry, varyNames, req.get, ck);
    if (put === null) this.store.fillFailed(ck);
    // The client that caused the fill still gets headers kept out of the store.
    const extra: HeaderRecord | undefined = st.strip.length > 0 ? Object.fromEntries(st.strip.filter((n) => res.headers[n] !== undefined).map((n) => [n, res.headers[n]!])) : undefined;
    const detail = put === null ? 'engine-error' : st.source === 'heuristic' ? 'heuristic' : undefined;
    return {
      outcome: { kind: 'entry', entry, key: put?.key ?? l.key, vary: put?.vary ?? (varyNames.length > 0 ? { g: '', vary: varyNames, exp: entry.meta.exp } : null) },
      result: fromEntry(entry, req.method, req.get, now(), 'MISS', { fwd, fwdStatus: res.status, stored: put !== null, detail }, extra),
    };
  }

  /**
   * What a fill that stored nothing hands its client: the fill asked for the
   * whole response, so a GET gets the range it asked for cut out of it, and a
   * HEAD (filled with a GET) no body.
   */
  private forClient(req: CacheRequest, r: ServeResult): ServeResult {
    if (req.method === 'GET') return rangeOfPassThrough(r, req.get);
    if (req.method === 'HEAD' && r.body !== null) {
      dropBody(r);
      return { ...r, body: null };
    }
    return r;
  }

  /**
   * The upstream's answer to a HEAD revalidation (RFC 9111 §4.3.5): a 200
   * whose validators and Content-Length agree with the stored GET response
   * updates its headers and freshness; one that disagrees makes it stale
   * (it is dropped). Other statuses pass through and leave it alone.
   */
  private async freshenFromHead(req: CacheRequest, pk: string, l: Lookup, stale: CacheEntry, res: OriginResponse, fwd: CacheStatusParts['fwd'], ck: string, hasAuth: boolean): Promise<Lead> {
    if (res.body !== null && !Buffer.isBuffer(res.body)) res.body.resume();
    if (res.status === 200) {
      const h = res.headers;
      const same = (name: string, stored: string | undefined) => h[name] === undefined || headerString(h, name) === stored;
      const lengthOk = h['content-length'] === undefined || Number(headerString(h, 'content-length')) === stale.body.length;
      if (same('etag', stale.etag) && same('last-modified', stale.lastModified) && lengthOk) {
        const merged = mergeNotModified(stale, h);
        const st = storability(stale.meta.s, merged, hasAuth, req.route);
        if (st.store) {
          const route = req.route;
          const entry = buildEntry(stale.meta.s, merged, stale.body, st, res, { routeTags: route.tags, varyValues: stale.meta.vh, revalidateWindow: route.revalidateWindow, keep: route.keep });
          await this.store.replace(l.key, entry, ck);
          return { outcome: { kind: 'entry', entry, key: l.key, vary: l.vary }, result: fromEntry(entry, 'HEAD', req.get, Date.now(), 'MISS', { fwd, fwdStatus: 200, stored: true }) };
        }
      }
      await this.store.invalidate([pk]);
    }
    this.store.fillFailed(ck);
    return { outcome: { kind: 'uncacheable', status: res.status }, result: passThrough(res, 'MISS', { fwd, detail: 'head' }, null) };
  }

  private varyNames(h: HeaderRecord, route: Route): string[] {
    const v = headerString(h, 'vary');
    if (v === undefined && route.keyHeaders.length === 0) return [];
    const names = new Set(route.keyHeaders);
    if (v !== undefined) for (const n of v.split(',')) if (n.trim() !== '') names.add(n.trim().toLowerCase());
    return [...names].sort();
  }

  /** stale-while-revalidate: one background refresh per key across the cluster. */
  private refresh(req: CacheRequest, origin: Origin, pk: string, l: Lookup, rd: RequestDirectives): void {
    const ck = l.key;
    if (this.inflight.has(ck)) return;
    let settle!: (o: Outcome) => void;
    this.inflight.set(ck, new Promise<Outcome>((r) => (settle = r)));
    const p = this.lead(req, origin, pk, l, rd, 'stale', true)
      .then((lead) => {
        if (lead === null) settle({ kind: 'uncacheable', status: 0 });
        else {
          settle(lead.outcome);
          discard(lead.result);
        }
      })
      .catch((e) => {
        settle({ kind: 'error', error: classifyError(e) });
        this.log.debug({ err: (e as Error).message, url: req.target }, 'background refresh failed');
      })
      .finally(() => {
        this.inflight.delete(ck);
        this.background.delete(p);
      });
    this.background.add(p);
  }

  /** One upstream fetch: metrics, and one debug log line. */
  private async fetch(req: CacheRequest, origin: Origin, opts: Parameters<Origin>[0], reason: string): Promise<OriginResponse> {
    const route = req.route.name;
    const t0 = performance.now();
    try {
      const res = await origin(opts);
      const secs = (performance.now() - t0) / 1000;
      this.metrics.upstreamRequests.inc({ route, status: String(res.status) });
      this.metrics.upstreamDuration.observe({ route }, secs);
      if (opts.fill) this.metrics.misses.inc({ reason });
      this.log.debug({ route, method: opts.method ?? req.method, url: req.target, status: res.status, ms: Math.round(secs * 1000), reason, conditional: opts.validators !== undefined }, 'upstream fetch');
      return res;
    } catch (e) {
      const err = classifyError(e);
      this.metrics.upstreamRequests.inc({ route, status: err.kind });
      this.log.debug({ route, method: req.method, url: req.target, err: err.message, reason }, 'upstream fetch failed');
      throw err;
    }
  }

  /** Straight to the upstream, nothing read from or written to the cache. */
  private async pass(req: CacheRequest, origin: Origin, reason: string, x: 'BYPASS' | 'MISS' = 'BYPASS', fwd: CacheStatusParts['fwd'] = x === 'BYPASS' ? 'bypass' : 'miss'): Promise<ServeResult> {
    if (x === 'BYPASS') this.metrics.bypass.inc({ reason });
    try {
      const res = await this.fetch(req, origin, { fill: false }, reason);
      return passThrough(res, x, { fwd, detail: reason });
    } catch (e) {
      return upstreamErrorResult(classifyError(e), { fwd });
    }
  }

  /**
   * Unsafe methods (and those of unknown safety): pass through; on a non-error
   * status drop the URL, and Location / Content-Location when they name the
   * same host (RFC 9111 §4.4). Cache keys ignore the scheme (a TLS-terminating
   * proxy usually sits in front), so http and https URLs of the host count.
   */
  private async unsafe(req: CacheRequest, origin: Origin): Promise<ServeResult> {
    const result = await this.pass(req, origin, 'method');
    if (result.status >= 200 && result.status < 400) {
      const pks = [primaryKey(req.route, req.target)];
      const host = req.get('host');
      let base: URL | null;
      try {
        base = new URL(req.target, `http://${host ?? 'localhost'}`);
      } catch {
        base = null;
      }
      for (const h of ['location', 'content-location']) {
        const v = headerString(result.headers, h)?.trim();
        if (v === undefined || v === '' || base === null) continue;
        let u: URL;
        try {
          u = new URL(v, base);
        } catch {
          continue;
        }
        const relative = !/^[a-z][a-z0-9+.-]*:/i.test(v) && !v.startsWith('//');
        if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !(relative || (host !== undefined && u.host === base.host))) continue;
        const target = u.pathname + u.search;
        const route = this.routeFor?.(splitTarget(target)[0]) ?? req.route;
        if (route.cache) pks.push(primaryKey(route, target));
      }
      await this.store.invalidate([...new Set(pks)]);
    }
    return result;
  }

  /** Wait for background refreshes (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }
}

/** only-if-cached with nothing usable stored (RFC 9111 §5.2.1.7). */
function onlyIfCached(): ServeResult {
  return errorResult(504, 'not in cache (only-if-cached)', 'MISS', {});
}
