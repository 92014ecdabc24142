/**
 * Building what the cache answers: responses from stored entries (Age,
 * conditional 304s), pass-through responses, short 502/504 bodies, the
 * Cache-Status (RFC 9211) and X-Cache headers; and building entries from
 * upstream responses (header filtering, 304 merges, bounded body reads).
 */
import { Readable } from 'node:stream';
import { CacheEntry, type EntryMeta } from './entry.js';
import { headerString, httpDate, responseTags, type HeaderGetter, type HeaderRecord } from './http-headers.js';
import { correctedInitialAge, ifRangeMatches, NO_UPDATE_ON_304, NOT_MODIFIED_HEADERS, notModified, type Storability } from './policy.js';
import { contentRange, selectRange, sliceStream } from './range.js';
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

/** The Age field value for an age in ms: delta-seconds, at most 2^31 (RFC 9111 §1.2.2). */
function ageField(age: number): string {
  return age < 2_147_483_648_000 ? String(Math.floor(age / 1000)) : '2147483648';
}

/**
 * Serve a stored entry: a 304 when the client's validators match, the one
 * byte range a GET asks for (206, or 416), else the whole response.
 */
export function fromEntry(e: CacheEntry, method: string, get: HeaderGetter | null, now: number, x: XCache, cs: CacheStatusParts, extra?: HeaderRecord): ServeResult {
  const age = e.age(now);
  const status = cacheStatus({ ...cs, ttl: e.freshUntil - now });
  if (get !== null && e.meta.s === 200) {
    if ((get('if-none-match') !== undefined || get('if-modified-since') !== undefined) && notModified(get, e.etag, e.lastModified, e.date)) {
      return { status: 304, headers: minimalHeaders(e, age, x, status), body: null };
    }
    const range = method === 'GET' ? get('range') : undefined;
    if (range !== undefined && ifRangeMatches(get('if-range'), e.etag, e.lastModified, e.date)) {
      const size = e.body.length;
      const r = selectRange(range, size);
      if (r === 'unsatisfiable') {
        const h = minimalHeaders(e, age, x, status);
        h['content-range'] = `bytes */${size}`;
        h['content-length'] = '0';
        return { status: 416, headers: h, body: null };
      }
      if (r !== null) {
        const h: HeaderRecord = { ...e.headers, ...extra };
        h['content-range'] = contentRange(r, size);
        h['content-length'] = String(r.end - r.start + 1);
        h['age'] = ageField(age);
        h['x-cache'] = x;
        h['cache-status'] = status;
        return { status: 206, headers: h, body: e.body.subarray(r.start, r.end + 1) };
      }
    }
  }
  if (extra === undefined) return new EntryServe(e, ageField(age), x, status, method === 'HEAD' ? null : e.body);
  const h: HeaderRecord = { ...e.headers };
  h['age'] = ageField(age);
  h['x-cache'] = x;
  h['cache-status'] = status;
  Object.assign(h, extra);
  return { status: e.meta.s, headers: h, body: method === 'HEAD' ? null : e.body };
}

/** The headers of a 304 (RFC 9110 §15.4.5) or 416 built from a stored entry. */
function minimalHeaders(e: CacheEntry, age: number, x: XCache, status: string): HeaderRecord {
  const h: HeaderRecord = {};
  for (const n of NOT_MODIFIED_HEADERS) {
    const v = e.headers[n];
    if (v !== undefined) h[n] = v;
  }
  h['age'] = ageField(age);
  h['x-cache'] = x;
  h['cache-status'] = status;
  return h;
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

/**
 * A complete 200 from a fill that is not stored, for a client that asked for
 * a range (the fill asked for the whole): cut that range out of the body
 * when its length is known, as if it came from the cache.
 */
export function rangeOfPassThrough(r: ServeResult, get: HeaderGetter): ServeResult {
  const range = get('range');
  if (range === undefined || r.status !== 200 || r.body === null) return r;
  const size = Number(headerString(r.headers, 'content-length') ?? (Buffer.isBuffer(r.body) ? r.body.length : NaN));
  if (!Number.isSafeInteger(size) || headerString(r.headers, 'content-range') !== undefined) return r;
  if (!ifRangeMatches(get('if-range'), headerString(r.headers, 'etag'), headerString(r.headers, 'last-modified'), headerString(r.headers, 'date'))) return r;
  const sel = selectRange(range, size);
  if (sel === null) return r;
  const h: HeaderRecord = { ...r.headers };
  if (sel === 'unsatisfiable') {
    discard(r);
    h['content-range'] = `bytes */${size}`;
    h['content-length'] = '0';
    delete h['content-type'];
    return { status: 416, headers: h, body: null };
  }
  h['content-range'] = contentRange(sel, size);
  h['content-length'] = String(sel.end - sel.start + 1);
  const body = Buffer.isBuffer(r.body) ? r.body.subarray(sel.start, sel.end + 1) : sliceStream(r.body, sel);
  return { status: 206, headers: h, body };
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
  /** Seconds kept past the stale windows for revalidation (validators present). */
  revalidateWindow: number;
  /** Seconds any response is kept past its stale windows (max-stale, HEAD updates). */
  keep: number;
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
  // a response without Date gets the time it was received (RFC 9110 §6.6.1)
  if (headers['date'] === undefined) pairs.push(['date', httpDate(times.responseTime)]);
  const ia = correctedInitialAge(headers, times.requestTime, times.responseTime);
  const freshUntil = times.responseTime + st.freshness - ia;
  const hasValidator = headers['etag'] !== undefined || headers['last-modified'] !== undefined;
  // Kept through its stale windows, then `keep` seconds more (`revalidateWindow`
  // for a response with a validator, if longer), counted from when the
  // windows end or it arrived, whichever is later. Staleness is decided on
  // use (HttpCache.verdict); this only bounds how long it can be used at all.
  const now = Date.now();
  const windowsEnd = freshUntil + Math.max(st.swr, st.sie);
  const kept = (hasValidator ? Math.max(opts.revalidateWindow, opts.keep) : opts.keep) * 1000;
  const keepUntil = kept > 0 ? Math.max(windowsEnd, now) + kept : windowsEnd;
  const tags = [...new Set([...opts.routeTags, ...responseTags(headers)])];
  const meta: EntryMeta = {
    s: status,
    h: pairs,
    rq: times.requestTime,
    rs: times.responseTime,
    st: now,
    ia,
    fl: st.freshness,
    swr: st.swr,
    sie: st.sie,
    exp: Math.max(keepUntil, now + 1),
  };
  if (st.noStale) meta.ns = 1;
  if (st.alwaysRevalidate) meta.ar = 1;
  if (tags.length > 0) meta.tg = tags;
  if (opts.varyValues !== undefined && opts.varyValues.length > 0) meta.vh = opts.varyValues;
  if (st.source === 'route-ttl') meta.src = 'r';
  else if (st.source === 'heuristic') meta.src = 'h';
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
        try {
          yield* chunks;
          for (;;) {
            const n = await it.next();
            if (n.done) return;
            yield n.value;
          }
        } finally {
          // the reader stopped early (client gone, HEAD, a range cut): release the upstream body
          await it.return?.();
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

/** Stop a response body nobody will read from being read at all. */
export function dropBody(r: ServeResult): void {
  if (r.body instanceof Readable) r.body.on('error', () => {}).destroy();
}
