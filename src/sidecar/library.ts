/**
 * Library use inside an existing Node server:
 *
 *   import { cacheAside, cached, configureCache } from 'cacheside';
 *   configureCache({ engine: 'redis://cache:6379' });    // optional: share with other servers
 *   app.use('/api/*', cacheAside({ ttl: 60, staleWhileRevalidate: 30 }));
 *   const lecture = await cached(`lecture:${id}`, { ttl: 60 }, () => db.lecture(id));
 *
 * Without configureCache() an in-process cacheside engine is created on
 * first use (no listener): caching and coalescing within this process.
 */
import { pino, type Logger } from 'pino';
import { configFrom, createEngine } from '../server/bootstrap.js';
import { LocalEngineClient, type EngineClient } from './engine-client.js';
import { RedisEngineClient } from './redis-engine-client.js';
import { HttpCache } from './http-cache.js';
import { CacheMetrics } from './metrics.js';
import { TieredStore } from './store.js';
import type { Engine } from '../server/engine.js';

export interface CacheOptions {
  /** redis://, redis+cluster://, redis+sentinel:// URL, an EngineClient, or an Engine in this process. Default: a new in-process engine. */
  engine?: string | EngineClient | Engine;
  /** Engine key prefix (default "cs:"). */
  keyPrefix?: string;
  /** L1 byte budget (default 64 MiB; 0 = none). */
  l1MaxBytes?: number;
  log?: Logger;
  /** Cross-node fill lock lifetime and wait bound, ms. */
  lockTtl?: number;
  lockWait?: number;
}

/** One cache: engine client, tiers, HTTP policy and metrics, shared by cached() and cacheAside(). */
export class Cache {
  readonly engine: EngineClient;
  readonly store: TieredStore;
  readonly http: HttpCache;
  readonly metrics: CacheMetrics;
  readonly log: Logger;
  private started: Promise<void> | null = null;
  private ownEngine: Engine | null = null;

  constructor(opts: CacheOptions = {}) {
    this.log = opts.log ?? pino({ level: process.env.CACHESIDE_LOG_LEVEL ?? 'warn' });
    const e = opts.engine;
    if (e === undefined) {
      const config = configFrom({ save: '', appendonly: 'no' });
      const engine = createEngine(config);
      engine.log.sink = () => {};
      engine.start();
      this.ownEngine = engine;
      this.engine = new LocalEngineClient(engine);
    } else if (typeof e === 'string') {
      this.engine = new RedisEngineClient(e);
    } else if ('dbs' in e && 'commands' in e) {
      this.engine = new LocalEngineClient(e as Engine);
    } else {
      this.engine = e as EngineClient;
    }
    let store: TieredStore | null = null;
    this.metrics = new CacheMetrics({ l1: () => ({ bytes: store?.l1?.calculatedSize ?? 0, entries: store?.l1?.size ?? 0 }), l2: () => this.engine.size() });
    store = this.store = new TieredStore({ engine: this.engine, prefix: opts.keyPrefix, l1MaxBytes: opts.l1MaxBytes, log: this.log, metrics: this.metrics });
    this.http = new HttpCache({ store, log: this.log, metrics: this.metrics, lockTtl: opts.lockTtl, lockWait: opts.lockWait });
  }

  /** Subscribe to invalidations (once); awaited by the first use. */
  ready(): Promise<void> {
    this.started ??= this.store.start().catch((e) => {
      this.started = null;
      this.log.warn({ err: (e as Error).message }, 'cache: could not subscribe to invalidations');
    });
    return this.started;
  }

  /** Purge cached() keys, URL keys of cacheAside routes ("<name>:<path>"), or tags. */
  async purge(what: { keys?: string[]; tags?: string[]; soft?: boolean }): Promise<number> {
    await this.ready();
    let n = 0;
    if (what.keys?.length) n += await this.store.purgeKeys(what.keys, what.soft ?? false);
    if (what.tags?.length) n += await this.store.purgeTags(what.tags, what.soft ?? false);
    return n;
  }

  async close(): Promise<void> {
    await this.http.idle();
    await this.store.close();
    await this.engine.close();
    this.ownEngine?.stop();
  }
}

export function createCache(opts: CacheOptions = {}): Cache {
  return new Cache(opts);
}

let defaultCache: Cache | null = null;

/** Set (or replace) the cache cached() and cacheAside() use by default. */
export function configureCache(opts: CacheOptions = {}): Cache {
  const old = defaultCache;
  defaultCache = new Cache(opts);
  if (old !== null) void old.close();
  return defaultCache;
}

/** The default cache, created on first use. */
export function getDefaultCache(): Cache {
  defaultCache ??= new Cache();
  return defaultCache;
}
