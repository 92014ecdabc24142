/**
 * Building what the cache answers: responses from stored entries (Age,
 * conditional 304s), pass-through responses, short 502/504 bodies, the
 * Cache-Status (RFC 9211) and X-Cache headers; and building entries from
 * upstream responses (header filtering, 304 merges, bounded body reads).
 */
import { Readable } from 'node:stream';
import { CacheEntry, type EntryMeta } from './entry.js';
import { headerString, responseTags, type HeaderGetter, type HeaderRecord } from './http-headers.js';
import { correctedInitialAge, NO_UPDATE_ON_304, NOT_MODIFIED_HEADERS, notModified, type Storability } from './policy.js';
import type { OriginResponse, UpstreamError } from './upstream.js';

export interface ServeResult {
  status: number;
  headers: HeaderRecord;
  body: Buffer | Readable | null;
}

export type XCache = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

export interface CacheStatusParts {
  hit?: boolean;
  fwd?: 'uri-miss' | 'vary-miss' | 'miss' | 'stale' | 'request' | 'bypass';
  fwdStatus?: number;
  stored?: boolean;
  collapsed?: boolean;
  /** remaining freshness, ms (negative when stale) */
  ttl?: number;
  detail?: string;
}

export const CACHE_NAME = 'cacheside';

/** RFC 9211 Cache-Status member for this cache. */
export function cacheStatus(p: CacheStatusParts): string {
  if (p.hit && p.fwd === undefined && p.detail === undefined && p.ttl !== undefined) return `${CACHE_NAME}; hit; ttl=${Math.trunc(p.ttl / 1000)}`;
  let s = CACHE_NAME;
  if (p.hit) s += '; hit';
  if (p.fwd !== undefined) s += `; fwd=${p.fwd}`;
  if (p.fwdStatus !== undefined) s += `; fwd-status=${p.fwdStatus}`;
  if (p.stored) s += '; stored';
  if (p.collapsed) s += '; collapsed';
  if (p.ttl !== undefined) s += `; ttl=${Math.trunc(p.ttl / 1000)}`;
  if (p.detail !== undefined) s += `; detail=${/^[A-Za-z][A-Za-z0-9_\-.*]*$/.test(p.detail) ? p.detail : JSON.stringify(p.detail.replace(/[^\x20-\x7e]/g, '?'))}`;
  return s;
}

/** Serve a stored entry (a 304 when the client's validators match). */
export function fromEntry(e: CacheEntry, method: string, get: HeaderGetter | null, now: number, x: XCache, cs: CacheStatusParts, extra?: HeaderRecord): ServeResult {
  const age = e.age(now);
  const status = cacheStatus({ ...cs, ttl: e.freshUntil - now });
  if (get !== null && e.meta.s === 200 && (get('if-none-match') !== undefined || get('if-modified-since') !== undefined) && notModified(get, e.etag, e.lastModified, e.date)) {
    const h: HeaderRecord = {};
    for (const n of NOT_MODIFIED_HEADERS) {
      const v = e.headers[n];
      if (v !== undefined) h[n] = v;
    }
    h['age'] = String(Math.floor(age / 1000));
    h['x-cache'] = x;
    h['cache-status'] = status;
    return { status: 304, headers: h, body: null };
  }
  if (extra === undefined) return new EntryServe(e, String(Math.floor(age / 1000)), x, status, method === 'HEAD' ? null : e.body);
  const h: HeaderRecord = { ...e.headers };
  h['age'] = String(Math.floor(age / 1000));
  h['x-cache'] = x;
  h['cache-status'] = status;
  Object.assign(h, extra);
  return { status: e.meta.s, headers: h, body: method === 'HEAD' ? null : e.body };
}

/**
 * A stored response served as is: its headers are only turned into a record
 * when someone asks; the sidecar's hit path writes `flat()` straight to the
 * socket instead (no per-hit header object).
 */
export class EntryServe implements ServeResult {
  private record: HeaderRecord | null = null;
  readonly status: number;
  constructor(
    private readonly entry: CacheEntry,
    private readonly age: string,
    private readonly xcache: XCache,
    private readonly cacheStatus: string,
    readonly body: Buffer | null,
  ) {
    this.status = entry.meta.s;
  }

  get headers(): HeaderRecord {
    if (this.record === null) {
      const h: HeaderRecord = { ...this.entry.headers };
      h['age'] = this.age;
      h['x-cache'] = this.xcache;
      h['cache-status'] = this.cacheStatus;
      this.record = h;
    }
    return this.record;
  }

  /** [name, value, ...] for ServerResponse.writeHead. */
  flat(): string[] {
    const f = this.entry.flat.slice();
    f.push('age', this.age, 'x-cache', this.xcache, 'cache-status', this.cacheStatus);
    return f;
  }
}

/** An upstream response passed through (not from cache). */
export function passThrough(res: OriginResponse, x: XCache, cs: CacheStatusParts, body: Readable | Buffer | null = res.body): ServeResult {
  const h: HeaderRecord = { ...res.headers };
  h['x-cache'] = x;
  h['cache-status'] = cacheStatus({ ...cs, fwdStatus: cs.fwdStatus ?? res.status });
  return { status: res.status, headers: h, body };
}

/** 502 / 504 (or any short error) with a one-line text body naming the cause. */
export function errorResult(status: number, message: string, x: XCache = 'MISS', cs: CacheStatusParts = {}): ServeResult {
  const body = Buffer.from(`${status} ${status === 504 ? 'Gateway Timeout' : status === 502 ? 'Bad Gateway' : 'Error'}: ${message}\n`, 'utf8');
  return {
    status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      'x-cache': x,
      'cache-status': cacheStatus({ ...cs, detail: message }),
    },
    body,
  };
}

export function upstreamErrorResult(err: UpstreamError, cs: CacheStatusParts): ServeResult {
  return errorResult(err.status, err.message, 'MISS', cs);
}

/** Headers never stored: recomputed (age, content-length) or turned into tags. */
const NOT_STORED = new Set(['age', 'content-length', 'surrogate-key', 'cache-tag', 'x-cache', 'cache-status']);

export interface BuildOptions {
  routeTags: string[];
  varyValues: [string, string][] | undefined;
  /** Extra seconds kept past freshness for revalidation (validators present). */
  revalidateWindow: number;
}

/** An entry from an upstream response (or a 304-merged one) and its body. */
export function buildEntry(status: number, headers: HeaderRecord, body: Buffer, st: Extract<Storability, { store: true }>, times: { requestTime: number; responseTime: number }, opts: BuildOptions): CacheEntry {
  const strip = new Set(st.strip);
  const pairs: [string, string][] = [];
  for (const name in headers) {
    if (NOT_STORED.has(name) || strip.has(name)) continue;
    const v = headers[name]!;
    if (Array.isArray(v)) for (const x of v) pairs.push([name, x]);
    else pairs.push([name, v]);
  }
  pairs.push(['content-length', String(body.length)]);
  const ia = correctedInitialAge(headers, times.requestTime, times.responseTime);
  const freshUntil = times.responseTime + st.freshness - ia;
  const hasValidator = headers['etag'] !== undefined || headers['last-modified'] !== undefined;
  const keep = Math.max(st.swr, st.sie, hasValidator ? opts.revalidateWindow * 1000 : 0);
  const tags = [...new Set([...opts.routeTags, ...responseTags(headers)])];
  const meta: EntryMeta = {
    s: status,
    h: pairs,
    rq: times.requestTime,
    rs: times.responseTime,
    st: Date.now(),
    ia,
    fl: st.freshness,
    swr: st.swr,
    sie: st.sie,
    exp: Math.max(freshUntil + keep, Date.now() + 1),
  };
  if (st.noStale) meta.ns = 1;
  if (st.alwaysRevalidate) meta.ar = 1;
  if (tags.length > 0) meta.tg = tags;
  if (opts.varyValues !== undefined && opts.varyValues.length > 0) meta.vh = opts.varyValues;
  if (st.source === 'route-ttl') meta.src = 'r';
  return new CacheEntry(meta, body);
}

/** Stored headers updated with a 304's (RFC 9111 §3.2), as a header record. */
export function mergeNotModified(e: CacheEntry, fresh: HeaderRecord): HeaderRecord {
  const out: HeaderRecord = {};
  for (const [k, v] of e.meta.h) {
    if (k === 'content-length') continue;
    const cur = out[k];
    out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  const tags = e.meta.tg;
  for (const name in fresh) {
    if (NO_UPDATE_ON_304.has(name)) continue;
    out[name] = fresh[name]!;
  }
  // Keep the entry's tags when the 304 names none.
  if (fresh['surrogate-key'] === undefined && fresh['cache-tag'] === undefined && tags !== undefined) out['cache-tag'] = tags.join(',');
  return out;
}

/** Conditional headers for revalidating an entry. */
export function validatorsOf(e: CacheEntry): Record<string, string> | undefined {
  const v: Record<string, string> = {};
  if (e.etag !== undefined) v['if-none-match'] = e.etag;
  if (e.lastModified !== undefined) v['if-modified-since'] = e.lastModified;
  return e.etag === undefined && e.lastModified === undefined ? undefined : v;
}

export type BodyRead = { ok: true; body: Buffer } | { ok: false; stream: Readable };

/**
 * Read a body whole if it fits in `max` bytes; otherwise hand back a stream
 * replaying what was read, then the rest (the response streams through uncached).
 */
export async function readBounded(body: Readable | Buffer | null, max: number, headers: HeaderRecord): Promise<BodyRead> {
  if (body === null) return { ok: true, body: Buffer.alloc(0) };
  if (Buffer.isBuffer(body)) return body.length <= max ? { ok: true, body } : { ok: false, stream: Readable.from([body]) };
  const declared = Number(headerString(headers, 'content-length'));
  if (Number.isFinite(declared) && declared > max) return { ok: false, stream: body };
  const chunks: Buffer[] = [];
  let total = 0;
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(chunk);
    total += chunk.length;
    if (total > max) {
      const rest = (async function* () {
        yield* chunks;
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          yield n.value;
        }
      })();
      return { ok: false, stream: Readable.from(rest, { objectMode: false }) };
    }
  }
  return { ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) };
}

/** Throw away a response body nobody will read. */
export function discard(r: ServeResult): void {
  if (r.body instanceof Readable) r.body.resume().on('error', () => {});
}
