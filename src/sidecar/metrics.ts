/**
 * Prometheus metrics of one cache (its own prom-client Registry, so several
 * caches in one process — tests, library use — never collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class CacheMetrics {
  readonly registry = new Registry();
  readonly hits: Counter<'tier'>;
  readonly misses: Counter<'reason'>;
  readonly stale: Counter<'reason'>;
  readonly coalesced: Counter<'scope'>;
  readonly bypass: Counter<'reason'>;
  readonly upstreamRequests: Counter<'route' | 'status'>;
  readonly upstreamDuration: Histogram<'route'>;
  readonly engineErrors: Counter<'op'>;
  readonly engineUp: Gauge;
  readonly purges: Counter<'kind'>;
  readonly stores: Counter;
  readonly l1Bytes: Gauge;
  readonly l1Entries: Gauge;
  readonly l2Keys: Gauge;

  constructor(opts: { defaultMetrics?: boolean; l1?: () => { bytes: number; entries: number }; l2?: () => Promise<number | null> } = {}) {
    const registers = [this.registry];
    this.hits = new Counter({ name: 'cacheside_cache_hits_total', help: 'Responses served from cache', labelNames: ['tier'], registers });
    this.misses = new Counter({ name: 'cacheside_cache_misses_total', help: 'Cacheable requests forwarded to the upstream', labelNames: ['reason'], registers });
    this.stale = new Counter({ name: 'cacheside_stale_served_total', help: 'Stale responses served (stale-while-revalidate, stale-if-error)', labelNames: ['reason'], registers });
    this.coalesced = new Counter({ name: 'cacheside_coalesced_waiters_total', help: 'Requests that waited for another request to fill the cache', labelNames: ['scope'], registers });
    this.bypass = new Counter({ name: 'cacheside_bypass_total', help: 'Requests passed through without the cache', labelNames: ['reason'], registers });
    this.upstreamRequests = new Counter({ name: 'cacheside_upstream_requests_total', help: 'Requests sent to upstreams', labelNames: ['route', 'status'], registers });
    this.upstreamDuration = new Histogram({
      name: 'cacheside_upstream_duration_seconds',
      help: 'Upstream response time (to headers)',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.engineErrors = new Counter({ name: 'cacheside_engine_errors_total', help: 'Failed engine operations', labelNames: ['op'], registers });
    this.engineUp = new Gauge({ name: 'cacheside_engine_up', help: '1 while the engine is reachable', registers });
    this.purges = new Counter({ name: 'cacheside_purges_total', help: 'Purge requests', labelNames: ['kind'], registers });
    this.stores = new Counter({ name: 'cacheside_stores_total', help: 'Responses stored in the engine', registers });
    const l1 = opts.l1;
    this.l1Bytes = new Gauge({
      name: 'cacheside_l1_bytes',
      help: 'Bytes held in the in-process L1 cache',
      registers,
      collect() {
        if (l1) this.set(l1().bytes);
      },
    });
    this.l1Entries = new Gauge({
      name: 'cacheside_l1_entries',
      help: 'Entries held in the in-process L1 cache',
      registers,
      collect() {
        if (l1) this.set(l1().entries);
      },
    });
    const l2 = opts.l2;
    this.l2Keys = new Gauge({
      name: 'cacheside_l2_keys',
      help: 'Keys in the engine (DBSIZE; absent for clusters)',
      registers,
      async collect() {
        if (!l2) return;
        const n = await l2().catch(() => null);
        if (n !== null) this.set(n);
      },
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'cacheside_' });
  }
}
