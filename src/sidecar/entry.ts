/**
 * Stored cache entries and their wire form in the engine.
 *
 * A value in the engine is binary: `C S <version> <kind>` + uint32 BE length
 * of a UTF-8 JSON header + the header + the body bytes. The engine keeps it
 * as a latin1 string (one char per byte), ioredis as a Buffer. Kinds:
 *   'E' an entry: status, headers, timestamps, freshness, validators, tags;
 *   'V' a vary record at the primary key: which request headers select the
 *       variant, and the generation the variants' keys carry (a purge starts
 *       a new generation, so old variants become unreachable at once).
 */
import type { HeaderRecord } from './http-headers.js';

const MAGIC0 = 0x43; // 'C'
const MAGIC1 = 0x53; // 'S'
const VERSION = 1;
const KIND_ENTRY = 0x45; // 'E'
const KIND_VARY = 0x56; // 'V'
const HEAD = 8;

export interface EntryMeta {
  /** status */
  s: number;
  /** stored headers, lower-case names, in order (set-cookie may repeat) */
  h: [string, string][];
  /** request time, response time, stored time (ms since epoch) */
  rq: number;
  rs: number;
  st: number;
  /** corrected initial age at response time (ms) */
  ia: number;
  /** freshness lifetime (ms) */
  fl: number;
  /** stale-while-revalidate / stale-if-error windows (ms) */
  swr: number;
  sie: number;
  /** 1: no staleness beyond the stored windows (must-revalidate, proxy-revalidate, s-maxage, no-cache): no client max-stale or stale-if-error */
  ns?: 1;
  /** 1: every reuse is validated first (no-cache) */
  ar?: 1;
  /** tags (Surrogate-Key, Cache-Tag, route tags) */
  tg?: string[];
  /** request header values that selected this variant (name, value) */
  vh?: [string, string][];
  /** soft-purged at (ms): stale from then on */
  inv?: number;
  /** absolute expiry in the engine (PXAT, ms) */
  exp: number;
  /** where freshness came from: 'r' route TTL, 'h' heuristic (Last-Modified) */
  src?: 'r' | 'h';
}

export interface VaryRecord {
  /** generation: variant keys carry it */
  g: string;
  /** request header names (lower case) forming the secondary key */
  vary: string[];
  /** absolute expiry (ms): the latest of its variants */
  exp: number;
  /** soft-purged at (ms): variants stored before are stale */
  sp?: number;
}

export class CacheEntry {
  readonly headers: HeaderRecord;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
  readonly date: string | undefined;
  /** Absolute end of freshness (ms): response time + lifetime − initial age. */
  readonly freshUntil: number;

  constructor(
    readonly meta: EntryMeta,
    readonly body: Buffer,
  ) {
    const h: HeaderRecord = {};
    for (const [k, v] of meta.h) {
      const cur = h[k];
      if (cur === undefined) h[k] = v;
      else if (Array.isArray(cur)) cur.push(v);
      else h[k] = [cur, v];
    }
    this.headers = h;
    this.etag = typeof h['etag'] === 'string' ? h['etag'] : undefined;
    this.lastModified = typeof h['last-modified'] === 'string' ? h['last-modified'] : undefined;
    this.date = typeof h['date'] === 'string' ? h['date'] : undefined;
    this.freshUntil = meta.rs + meta.fl - meta.ia;
  }

  private flatCache: string[] | null = null;

  /** Stored headers as a flat [name, value, name, value, ...] list (Node's writeHead takes it as is). */
  get flat(): string[] {
    if (this.flatCache === null) {
      const f: string[] = [];
      for (const [k, v] of this.meta.h) f.push(k, v);
      this.flatCache = f;
    }
    return this.flatCache;
  }

  /** current_age (RFC 9111 §4.2.3), ms. */
  age(now: number): number {
    return this.meta.ia + Math.max(0, now - this.meta.rs);
  }

  /** Soft-purged (here or through its vary record's purge time). */
  invalidated(softPurgedAt?: number): boolean {
    return this.meta.inv !== undefined || (softPurgedAt !== undefined && this.meta.st <= softPurgedAt);
  }

  get hasValidator(): boolean {
    return this.etag !== undefined || this.lastModified !== undefined;
  }

  /** Bytes it takes in L1 (body + a rough header estimate). */
  get size(): number {
    let n = this.body.length + 256;
    for (const [k, v] of this.meta.h) n += k.length + v.length + 8;
    return n;
  }

  withMeta(patch: Partial<EntryMeta>): CacheEntry {
    return new CacheEntry({ ...this.meta, ...patch }, this.body);
  }
}

function frame(kind: number, meta: unknown, body: Buffer | null): Buffer {
  const json = Buffer.from(JSON.stringify(meta), 'utf8');
  const out = Buffer.allocUnsafe(HEAD + json.length + (body?.length ?? 0));
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = VERSION;
  out[3] = kind;
  out.writeUInt32BE(json.length, 4);
  json.copy(out, HEAD);
  if (body !== null) body.copy(out, HEAD + json.length);
  return out;
}

export function encodeEntry(e: CacheEntry): Buffer {
  return frame(KIND_ENTRY, e.meta, e.body);
}

export function encodeVary(v: VaryRecord): Buffer {
  return frame(KIND_VARY, v, null);
}

export type Decoded = { kind: 'entry'; entry: CacheEntry } | { kind: 'vary'; vary: VaryRecord };

/** Decode an engine value; null for anything that is not ours (or corrupt). */
export function decodeValue(buf: Buffer): Decoded | null {
  if (buf.length < HEAD || buf[0] !== MAGIC0 || buf[1] !== MAGIC1 || buf[2] !== VERSION) return null;
  const len = buf.readUInt32BE(4);
  if (HEAD + len > buf.length) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(buf.toString('utf8', HEAD, HEAD + len));
  } catch {
    return null;
  }
  if (typeof meta !== 'object' || meta === null) return null;
  if (buf[3] === KIND_ENTRY) {
    const m = meta as EntryMeta;
    if (typeof m.s !== 'number' || !Array.isArray(m.h) || typeof m.rs !== 'number') return null;
    return { kind: 'entry', entry: new CacheEntry(m, buf.subarray(HEAD + len)) };
  }
  if (buf[3] === KIND_VARY) {
    const v = meta as VaryRecord;
    if (typeof v.g !== 'string' || !Array.isArray(v.vary)) return null;
    return { kind: 'vary', vary: v };
  }
  return null;
}
