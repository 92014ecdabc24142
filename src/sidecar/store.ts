/**
 * The two cache tiers and what keeps nodes coherent:
 *   L1  an lru-cache in this process, bounded in bytes, holding fresh
 *       entries no longer than their remaining freshness;
 *   L2  the engine (in-process or shared over RESP), values with PXAT expiry;
 *   bus one pub/sub channel: "changed/purged" drops L1 copies on every node,
 *       "filled/failed" wakes the nodes waiting on a cross-node fill lock;
 *   tag index: a set per tag of primary keys.
 *
 * Engine keys (prefix default "cs:"):
 *   <p>e:<route>:<path?query>            entry, or vary record
 *   <p>v:<route>:<path?query>#<gen>#<sk> variant entry (sk: request header values)
 *   <p>l:<key>                           fill lock
 *   <p>t:<tag>                           tag → primary keys
 *   <p>events                            pub/sub channel
 */
import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { CacheEntry, decodeValue, encodeEntry, encodeVary, type Decoded, type VaryRecord } from './entry.js';
import type { EngineClient } from './engine-client.js';
import { asciiJson, normalizeVaryValue, type HeaderGetter } from './http-headers.js';
import type { CacheMetrics } from './metrics.js';

type L1Item = CacheEntry | { vary: VaryRecord };

export interface StoreOptions {
  engine: EngineClient;
  /** Engine key prefix (default "cs:"). */
  prefix?: string;
  /** L1 byte budget; 0 disables L1. */
  l1MaxBytes?: number;
  log: Logger;
  metrics: CacheMetrics;
}

/** A lookup's outcome: the entry (if any), its storage key, and how it missed. */
export interface Lookup {
  entry: CacheEntry | null;
  /** Storage key of the entry, or the key a fill will write (variant key once the Vary is known). */
  key: string;
  vary: VaryRecord | null;
  tier: 'l1' | 'l2' | null;
  miss: 'uri-miss' | 'vary-miss' | null;
}

type Waiter = (outcome: 'filled' | 'failed') => void;

interface BusMessage {
  /** sender node */
  n: string;
  /** f filled (drop + wake), u fill failed (wake), d dropped (purge) */
  t: 'f' | 'u' | 'd';
  /** storage keys to drop from L1 */
  k: string[];
  /** the coalescing key woken */
  w?: string;
}

export class TieredStore {
  readonly engine: EngineClient;
  readonly prefix: string;
  readonly nodeId = randomBytes(8).toString('hex');
  readonly l1: LRUCache<string, L1Item> | null;
  private readonly channel: string;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly log: Logger;
  private readonly metrics: CacheMetrics;
  private lastErrorLog = 0;
  private lockSeq = 0;

  constructor(opts: StoreOptions) {
    this.engine = opts.engine;
    this.prefix = opts.prefix ?? 'cs:';
    this.channel = this.prefix + 'events';
    this.log = opts.log;
    this.metrics = opts.metrics;
    const max = opts.l1MaxBytes ?? 64 * 1024 * 1024;
    this.l1 = max > 0 ? new LRUCache<string, L1Item>({ maxSize: max, sizeCalculation: (v) => (v instanceof CacheEntry ? v.size : 256), allowStale: false }) : null;
    this.metrics.engineUp.set(this.engine.up ? 1 : 0);
    let everUp = this.engine.up;
    this.engine.onStatus((up) => {
      // Invalidations may have been missed while disconnected: start L1 afresh.
      this.l1?.clear();
      this.metrics.engineUp.set(up ? 1 : 0);
      if (up) this.log.info({ engine: this.engine.kind }, everUp ? 'engine reachable again: caching resumed' : 'engine connected: caching on');
      else this.log.warn({ engine: this.engine.kind }, 'engine unreachable: passing requests through to the upstream uncached');
      everUp ||= up;
      if (!up) for (const k of [...this.waiters.keys()]) this.wake(k, 'failed');
    });
  }

  get up(): boolean {
    return this.engine.up;
  }

  async start(): Promise<void> {
    await this.engine.subscribe(this.channel, (m) => this.onMessage(m));
  }

  // ---- keys ------------------------------------------------------------

  entryKey(pk: string): string {
    return this.prefix + 'e:' + pk;
  }

  variantKey(pk: string, vary: VaryRecord, get: HeaderGetter): string {
    let sk = '';
    for (const name of vary.vary) sk += name + '=' + normalizeVaryValue(name, get(name)) + '\n';
    if (sk.length > 256) sk = createHash('sha256').update(sk, 'latin1').digest('base64url');
    return this.prefix + 'v:' + pk + '#' + vary.g + '#' + sk;
  }

  private lockKey(ck: string): string {
    return this.prefix + 'l:' + ck;
  }

  tagKey(tag: string): string {
    return this.prefix + 't:' + tag;
  }

  // ---- lookups ----------------------------------------------------------

  /** L1 only, synchronous; undefined means "ask L2". */
  lookupL1(pk: string, get: HeaderGetter): Lookup | undefined {
    if (this.l1 === null) return undefined;
    const key = this.entryKey(pk);
    const item = this.l1.get(key);
    if (item === undefined) return undefined;
    if (item instanceof CacheEntry) return { entry: item, key, vary: null, tier: 'l1', miss: null };
    const vkey = this.variantKey(pk, item.vary, get);
    const v = this.l1.get(vkey);
    if (!(v instanceof CacheEntry)) return undefined;
    return { entry: v, key: vkey, vary: item.vary, tier: 'l1', miss: null };
  }

  /** L1 then L2. Engine failures count as misses (and are counted). */
  async lookup(pk: string, get: HeaderGetter): Promise<Lookup> {
    const fast = this.lookupL1(pk, get);
    if (fast !== undefined) return fast;
    const key = this.entryKey(pk);
    const d = await this.l2Get(key);
    if (d === null) return { entry: null, key, vary: null, tier: null, miss: 'uri-miss' };
    if (d.kind === 'entry') {
      this.l1Set(key, d.entry);
      return { entry: d.entry, key, vary: null, tier: 'l2', miss: null };
    }
    const vkey = this.variantKey(pk, d.vary, get);
    const l1v = this.l1?.get(vkey);
    const v = l1v instanceof CacheEntry ? l1v : await this.l2Get(vkey).then((x) => (x?.kind === 'entry' ? x.entry : null));
    if (v === null) return { entry: null, key: vkey, vary: d.vary, tier: null, miss: 'vary-miss' };
    if (this.l1Set(vkey, v, d.vary.sp) && this.l1 !== null) {
      this.l1.set(key, { vary: d.vary }, { ttl: Math.max(1, v.freshUntil - Date.now()) });
    }
    return { entry: v, key: vkey, vary: d.vary, tier: l1v instanceof CacheEntry ? 'l1' : 'l2', miss: null };
  }

  async l2Get(key: string): Promise<Decoded | null> {
    if (!this.engine.up) return null;
    try {
      const buf = await this.engine.get(key);
      return buf === null ? null : decodeValue(buf);
    } catch (e) {
      this.engineError('get', e);
      return null;
    }
  }

  /** Keep a fresh entry in L1 for at most its remaining freshness. */
  l1Set(key: string, e: CacheEntry, softPurgedAt?: number): boolean {
    if (this.l1 === null || e.meta.ar === 1 || e.invalidated(softPurgedAt)) return false;
    const ttl = e.freshUntil - Date.now();
    if (ttl <= 0) return false;
    this.l1.set(key, e, { ttl });
    return true;
  }

  // ---- writes -----------------------------------------------------------

  /**
   * Store an entry under its primary key, or as a variant when `varyNames`
   * is non-empty; index its tags; tell the other nodes to drop their copies.
   * Returns the storage key and vary record, or null when the engine refused.
   */
  async put(pk: string, entry: CacheEntry, varyNames: string[], get: HeaderGetter, wakeKey: string | null): Promise<{ key: string; vary: VaryRecord | null } | null> {
    const key = this.entryKey(pk);
    const exp = entry.meta.exp;
    try {
      if (varyNames.length === 0) {
        await this.engine.set(key, encodeEntry(entry), exp);
        this.l1Set(key, entry);
        await this.indexTags(pk, entry);
        this.emit({ n: this.nodeId, t: 'f', k: [key], w: wakeKey ?? undefined });
        this.metrics.stores.inc();
        return { key, vary: null };
      }
      const cur = await this.l2Get(key);
      let vary: VaryRecord;
      if (cur?.kind === 'vary' && cur.vary.vary.join(',') === varyNames.join(',')) {
        vary = cur.vary.exp >= exp ? cur.vary : { ...cur.vary, exp };
      } else {
        vary = { g: randomBytes(6).toString('base64url'), vary: varyNames, exp };
      }
      const vkey = this.variantKey(pk, vary, get);
      await this.engine.set(vkey, encodeEntry(entry), exp);
      if (!(cur?.kind === 'vary' && vary === cur.vary)) await this.engine.set(key, encodeVary(vary), vary.exp);
      if (this.l1Set(vkey, entry, vary.sp) && this.l1 !== null) this.l1.set(key, { vary }, { ttl: Math.max(1, entry.freshUntil - Date.now()) });
      await this.indexTags(pk, entry);
      this.emit({ n: this.nodeId, t: 'f', k: [key, vkey], w: wakeKey ?? undefined });
      this.metrics.stores.inc();
      return { key: vkey, vary };
    } catch (e) {
      this.engineError('set', e);
      return null;
    }
  }

  /** Rewrite an entry's metadata in place (304 refresh keeps its body). */
  async replace(key: string, entry: CacheEntry, wakeKey: string | null): Promise<void> {
    try {
      await this.engine.set(key, encodeEntry(entry), entry.meta.exp);
      this.l1Set(key, entry);
      this.emit({ n: this.nodeId, t: 'f', k: [key], w: wakeKey ?? undefined });
    } catch (e) {
      this.engineError('set', e);
    }
  }

  private async indexTags(pk: string, entry: CacheEntry): Promise<void> {
    const tags = entry.meta.tg;
    if (tags === undefined || tags.length === 0) return;
    await Promise.all(
      tags.map(async (t) => {
        const tk = this.tagKey(t);
        await this.engine.sadd(tk, [pk]);
        await this.engine.expireAt(tk, entry.meta.exp);
      }),
    );
  }

  /** Purge primary keys: hard deletes them (variants become unreachable), soft marks them stale. */
  async purgeKeys(pks: string[], soft: boolean): Promise<number> {
    if (pks.length === 0) return 0;
    const keys = pks.map((pk) => this.entryKey(pk));
    let n = 0;
    if (!soft) {
      n = await this.engine.del(keys);
    } else {
      const now = Date.now();
      for (const key of keys) {
        const d = await this.l2Get(key);
        if (d === null) continue;
        n++;
        if (d.kind === 'entry') await this.engine.set(key, encodeEntry(d.entry.withMeta({ inv: now })), d.entry.meta.exp);
        else await this.engine.set(key, encodeVary({ ...d.vary, sp: now }), d.vary.exp);
      }
    }
    for (const k of keys) this.l1?.delete(k);
    this.emit({ n: this.nodeId, t: 'd', k: keys });
    return n;
  }

  async purgeTags(tags: string[], soft: boolean): Promise<number> {
    let n = 0;
    for (const tag of tags) {
      const tk = this.tagKey(tag);
      const members = await this.engine.smembers(tk);
      n += await this.purgeKeys(members, soft);
      if (!soft) await this.engine.del([tk]);
    }
    return n;
  }

  /** Drop keys from L1 here and on every node (after an unsafe request changed them). */
  async invalidate(pks: string[]): Promise<void> {
    if (pks.length === 0) return;
    const keys = pks.map((pk) => this.entryKey(pk));
    for (const k of keys) this.l1?.delete(k);
    try {
      await this.engine.del(keys);
    } catch (e) {
      this.engineError('del', e);
    }
    this.emit({ n: this.nodeId, t: 'd', k: keys });
  }

  // ---- cross-node fill coordination ------------------------------------------------

  /** Take the fill lock of a key: the token when taken, null when someone holds it, undefined on engine error. */
  async tryLock(ck: string, ttlMs: number): Promise<string | null | undefined> {
    if (!this.engine.up) return undefined;
    const token = `${this.nodeId}:${++this.lockSeq}`;
    try {
      return (await this.engine.lock(this.lockKey(ck), token, ttlMs)) ? token : null;
    } catch (e) {
      this.engineError('lock', e);
      return undefined;
    }
  }

  async unlock(ck: string, token: string): Promise<void> {
    try {
      await this.engine.unlock(this.lockKey(ck), token);
    } catch (e) {
      this.engineError('unlock', e);
    }
  }

  /** Register interest in a fill before checking for it, so no wake-up is lost. */
  waitFill(ck: string, timeoutMs: number): { promise: Promise<'filled' | 'failed' | 'timeout'>; cancel(): void } {
    let set = this.waiters.get(ck);
    if (set === undefined) this.waiters.set(ck, (set = new Set()));
    let done: Waiter = () => {};
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<'filled' | 'failed' | 'timeout'>((resolve) => {
      done = (o) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(ck) === set) this.waiters.delete(ck);
        resolve(o);
      };
      timer = setTimeout(() => {
        set.delete(done);
        if (set.size === 0 && this.waiters.get(ck) === set) this.waiters.delete(ck);
        resolve('timeout');
      }, timeoutMs);
    });
    set.add(done);
    return { promise, cancel: () => done('failed') };
  }

  /** Announce a failed or uncacheable fill so waiting nodes fetch for themselves. */
  fillFailed(ck: string): void {
    this.emit({ n: this.nodeId, t: 'u', k: [], w: ck });
  }

  private wake(ck: string, outcome: 'filled' | 'failed'): void {
    const set = this.waiters.get(ck);
    if (set === undefined) return;
    for (const w of [...set]) w(outcome);
  }

  private emit(m: BusMessage): void {
    if (m.w !== undefined) this.wake(m.w, m.t === 'u' ? 'failed' : 'filled');
    if (!this.engine.up) return;
    this.engine.publish(this.channel, asciiJson(m)).catch((e) => this.engineError('publish', e));
  }

  private onMessage(raw: string): void {
    let m: BusMessage;
    try {
      m = JSON.parse(raw) as BusMessage;
    } catch {
      return;
    }
    if (m.n === this.nodeId) return;
    if (this.l1 !== null && Array.isArray(m.k)) for (const k of m.k) this.l1.delete(k);
    if (typeof m.w === 'string') this.wake(m.w, m.t === 'u' ? 'failed' : 'filled');
  }

  engineError(op: string, e: unknown): void {
    this.metrics.engineErrors.inc({ op });
    const now = Date.now();
    if (now - this.lastErrorLog > 5000) {
      this.lastErrorLog = now;
      this.log.warn({ op, err: (e as Error).message }, 'engine operation failed; serving without the shared cache');
    }
  }

  async close(): Promise<void> {
    for (const k of [...this.waiters.keys()]) this.wake(k, 'failed');
    this.l1?.clear();
  }
}
