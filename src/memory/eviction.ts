/**
 * Eviction: keeping used_memory (the size model) under `maxmemory`.
 *
 * Before each command, while a maxmemory is set (dispatch.ts memoryGate),
 * `perform` compares used memory with the limit and, when over, deletes keys
 * chosen by `maxmemory-policy` until it has freed the excess:
 *  - allkeys-lru / volatile-lru: approximated LRU. Each round samples
 *    `maxmemory-samples` keys of every database (allkeys-lru: the next that
 *    many consecutive slots, a hand sweeping the slots; otherwise random
 *    keys) and
 *    merges them into a pool of the 16 best candidates seen so far,
 *    ordered by idle time (from the key's 24-bit LRU clock, seconds, and the
 *    tenths of a second kept above it: keyspace.ts lruFine); the
 *    best candidate still present is evicted. The pool outlives the call, so
 *    good candidates found earlier are remembered — with 5 samples this comes
 *    close to true LRU at a fraction of its cost, as in Redis.
 *  - allkeys-lfu / volatile-lfu: the same pool ordered by 255 − the key's LFU
 *    counter. The counter (8 bits of the key's metadata, with the 16-bit
 *    minute of its last decrement above them) is logarithmic: an access
 *    increments it with probability 1 / ((counter − 5) × lfu-log-factor + 1),
 *    and it loses one every lfu-decay-time minutes without access. New keys
 *    start at 5 (LFU_INIT_VAL) so that they are not evicted before they had a
 *    chance to be read.
 *  - volatile-ttl: the pool ordered by nearest expiry.
 *  - allkeys-random / volatile-random: a random key, databases in turn.
 *  - noeviction, or a volatile policy with no key with a TTL left: nothing
 *    can be freed; denyoom commands answer -OOM (dispatch.ts).
 * Each evicted key is counted (evicted_keys), fires an `evicted` keyspace
 * event, invalidates WATCH and client tracking, and is propagated as DEL (or
 * UNLINK with lazyfree-lazy-eviction) to the AOF and replicas.
 *
 * Never stalling the loop: one call evicts for at most a time budget set by
 * `maxmemory-eviction-tenacity` (0 → none, 10 → 500 µs, then growing 15% a
 * step, 100 → unbounded); when the budget runs out with memory still over
 * the limit, the command goes ahead and eviction goes on in the background,
 * one budget per event-loop turn (setImmediate), until the limit is reached.
 * That is also how a maxmemory lowered by CONFIG SET is reached.
 *
 * Nothing is evicted while clients are paused, nor on a replica with
 * replica-ignore-maxmemory (its master's DELs do it).
 *
 * Client eviction (`maxmemory-clients`, bytes or a percentage of maxmemory):
 * when the clients' memory exceeds it, the cron disconnects the clients using
 * the most memory until it fits, never one in CLIENT NO-EVICT mode
 * (evicted_clients).
 */
import type { Engine } from '../server/engine.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import { LRU_CLOCK_MAX, clock, idleMsFromLru } from '../keyspace/clock.js';
import { lfuDecayedCounter } from '../keyspace/object-encoding.js';
import { touchLru } from '../keyspace/keyspace.js';
import type { MemoryState } from './memory-state.js';
import { dbOverheadBytes } from './size-model.js';

/** The LFU counter of a new key. */
export const LFU_INIT_VAL = 5;
/** Candidates kept between eviction rounds. */
export const EVICTION_POOL_SIZE = 16;

export const EVICT_OK = 0;
export const EVICT_RUNNING = 1;
export const EVICT_FAIL = 2;
export type EvictResult = typeof EVICT_OK | typeof EVICT_RUNNING | typeof EVICT_FAIL;

type PolicyKind = 'none' | 'lru' | 'lfu' | 'ttl' | 'random';

/** The 16-bit minute clock of LFU decay (refreshed by the cron). */
export const lfuClock = { minutes: lfuMinutesNow() };

function lfuMinutesNow(): number {
  return Math.floor(Date.now() / 60000) & 65535;
}

/** LFU metadata of a new key: now, LFU_INIT_VAL. */
export function lfuInit(rec: Int32Array, at: number): void {
  rec[at] = (lfuClock.minutes << 8) | LFU_INIT_VAL;
}

/**
 * The logarithmic increment: from `counter`, one more with probability
 * 1 / ((counter − LFU_INIT_VAL) × factor + 1); 255 is the ceiling.
 */
export function lfuLogIncr(counter: number, factor: number): number {
  if (counter >= 255) return 255;
  const base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0;
  return Math.random() * (base * factor + 1) < 1 ? counter + 1 : counter;
}

/** The time budget (ms) of one eviction call for a tenacity (Infinity at 100). */
export function evictionTimeLimitMs(tenacity: number): number {
  if (tenacity >= 100) return Infinity;
  if (tenacity <= 10) return (50 * tenacity) / 1000;
  return (500 * Math.pow(1.15, tenacity - 10)) / 1000;
}

/**
 * LRU eviction score of a key's metadata: its idle time in ms, at the 100 ms
 * resolution of the tenths kept above the seconds clock (keyspace.ts lruFine).
 */
function lruScore(meta: number): number {
  return idleMsFromLru(meta) - (meta >>> 24) * 100;
}

/** Bytes of a database (keys, values, structure): what deleting a key changes. */
function dbBytes(db: Keyspace): number {
  return db.memBytes + dbOverheadBytes(db);
}

export class Evictor {
  maxmemory = 0;
  private kind: PolicyKind = 'none';
  private volatileOnly = false;
  private samples = 5;
  private timeLimitMs = 0.5;
  lfuLogFactor = 10;
  lfuDecayTime = 1;
  private lazy = false;
  private replicaIgnores = true;
  /**
   * The pool: candidates sorted by ascending score (the best is last). A
   * candidate is a slot, not a key: it holds no string (sampling reads one
   * typed array per sample, and the pool moves numbers only). Its identity
   * is what its score was computed from — the slot's access metadata (LRU
   * clock or LFU counter) or, for volatile-ttl, its expiry — read again when
   * it is popped: unchanged, the key now in the slot scores exactly what was
   * pooled (the same key, or one moved into the slot that is as good a
   * victim by this policy), and it is evicted; changed (the key was read, or
   * another key moved in), the slot is pooled again at its current score.
   */
  private readonly poolScore = new Float64Array(EVICTION_POOL_SIZE);
  private readonly poolIdent = new Float64Array(EVICTION_POOL_SIZE);
  private readonly poolDb = new Int32Array(EVICTION_POOL_SIZE);
  private readonly poolSlot = new Int32Array(EVICTION_POOL_SIZE);
  private poolLen = 0;
  /** Round-robin database for the random policies. */
  private nextDb = 0;
  /** allkeys-lru: per database, the slot the next consecutive sample starts at (see populate). */
  private hands = new Int32Array(16);
  /** Background eviction scheduled (setImmediate). */
  private background: NodeJS.Immediate | null = null;
  private stopped = false;
  /** LFU access update for this engine's keyspaces. */
  readonly touchLfu: (rec: Int32Array, at: number) => void;

  constructor(
    private readonly engine: Engine,
    private readonly mem: MemoryState,
  ) {
    this.touchLfu = (rec, at) => {
      const counter = lfuLogIncr(lfuDecayedCounter(rec[at]! & LRU_CLOCK_MAX, this.lfuDecayTime), this.lfuLogFactor);
      rec[at] = (lfuClock.minutes << 8) | counter;
    };
    const c = engine.config;
    this.configure();
    for (const name of [
      'maxmemory',
      'maxmemory-policy',
      'maxmemory-samples',
      'maxmemory-eviction-tenacity',
      'lfu-log-factor',
      'lfu-decay-time',
      'lazyfree-lazy-eviction',
      'replica-ignore-maxmemory',
    ]) {
      c.onChange(name, () => this.configure());
    }
    c.onChange('maxmemory', () => this.maxmemoryChanged());
  }

  get policy(): string {
    return this.engine.config.str('maxmemory-policy');
  }

  /** Read the settings, switch the access-metadata functions with the policy. */
  private configure(): void {
    const c = this.engine.config;
    this.maxmemory = c.num('maxmemory');
    const p = c.str('maxmemory-policy');
    this.volatileOnly = p.startsWith('volatile-');
    this.kind = p === 'noeviction' ? 'none' : (p.slice(p.indexOf('-') + 1) as PolicyKind);
    this.samples = c.num('maxmemory-samples');
    this.timeLimitMs = evictionTimeLimitMs(c.num('maxmemory-eviction-tenacity'));
    this.lfuLogFactor = c.num('lfu-log-factor');
    this.lfuDecayTime = c.num('lfu-decay-time');
    this.lazy = c.bool('lazyfree-lazy-eviction');
    this.replicaIgnores = c.bool('replica-ignore-maxmemory');
    const ev = this.engine.keyspaceEvents;
    if (this.kind === 'lfu') {
      ev.touch = this.touchLfu;
      ev.init = lfuInit;
    } else {
      ev.touch = touchLru;
      ev.init = touchLru;
    }
    // Pool scores of another policy mean nothing now.
    this.clearPool();
  }

  private maxmemoryChanged(): void {
    if (this.maxmemory === 0) return;
    const used = this.mem.usedForEviction();
    if (used > this.maxmemory) {
      this.engine.log.warning(
        'WARNING: the new maxmemory value set via CONFIG SET (' +
          this.maxmemory +
          ') is smaller than the current memory usage (' +
          used +
          '). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.',
      );
      this.startBackground();
    }
  }

  /** Stop background work (engine shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.background !== null) clearImmediate(this.background);
    this.background = null;
  }

  /** Background eviction is going on (memory over the limit, being freed turn by turn). */
  get running(): boolean {
    return this.background !== null;
  }

  private startBackground(): void {
    if (this.background !== null || this.stopped) return;
    this.background = setImmediate(() => {
      this.background = null;
      this.perform();
    });
  }

  /** Is eviction suspended (clients paused, replica ignoring maxmemory)? */
  private suspended(): boolean {
    const e = this.engine;
    if (e.pause.mode !== null) return true;
    return e.role === 'slave' && this.replicaIgnores;
  }

  /**
   * Free memory down to maxmemory if over it. EVICT_OK: under the limit;
   * EVICT_RUNNING: the time budget ran out, the rest goes on in the
   * background; EVICT_FAIL: over the limit with nothing (more) to evict.
   */
  perform(): EvictResult {
    if (this.maxmemory === 0 || this.suspended()) return EVICT_OK;
    const used = this.mem.usedForEviction();
    if (used <= this.maxmemory) return EVICT_OK;
    if (this.kind === 'none') return EVICT_FAIL;
    const toFree = used - this.maxmemory;
    let freed = 0;
    let n = 0;
    // Most calls evict one key or two: the clock is read once 16 keys are gone (the budget counts from there).
    let start = 0;
    const e = this.engine;
    const latencyThreshold = e.latencyThresholdMs;
    while (freed < toFree) {
      const t0 = latencyThreshold > 0 ? performance.now() : 0;
      if (start === 0 && latencyThreshold > 0) start = t0;
      const db = this.pick();
      if (db === null) break;
      const key = this.picked!;
      this.picked = null;
      const before = this.deleted ? this.pickedBytes : dbBytes(db);
      // Pool candidates are deleted straight away (a missing key is just skipped), random ones were just sampled.
      if (this.deleted || db.delete(key)) {
        this.deleted = false;
        if (latencyThreshold > 0) {
          const ms = performance.now() - t0;
          if (ms >= latencyThreshold) e.latency.add('eviction-del', Math.round(ms));
        }
        e.stats.evictedKeys++;
        e.keyModified(db.id, key, 0);
        e.notify('e', 'evicted', key, db.id);
        if (e.propagators.length > 0) e.propagate(db.id, [this.lazy ? 'UNLINK' : 'DEL', key]);
      }
      freed += before - dbBytes(db);
      this.pickedBytes = 0;
      n++;
      if ((n & 15) === 0 && freed < toFree) {
        const t = performance.now();
        if (start === 0) start = t;
        else if (t - start > this.timeLimitMs) {
          this.cycleLatency(start);
          this.startBackground();
          return EVICT_RUNNING;
        }
      }
    }
    if (start !== 0) this.cycleLatency(start);
    return freed >= toFree ? EVICT_OK : EVICT_FAIL;
  }

  private cycleLatency(start: number): void {
    const t = this.engine.latencyThresholdMs;
    if (t <= 0) return;
    const ms = performance.now() - start;
    if (ms >= t) this.engine.latency.add('eviction-cycle', Math.round(ms));
  }

  /** The key chosen by pick(). */
  private picked: string | null = null;
  /** pick() already deleted it; the database's bytes before that. */
  private deleted = false;
  private pickedBytes = 0;

  /** Choose the next victim: its database (key in `picked`), or null when there is none. */
  private pick(): Keyspace | null {
    return this.kind === 'random' ? this.pickRandom() : this.pickFromPool();
  }

  private pickRandom(): Keyspace | null {
    const dbs = this.engine.dbs;
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[this.nextDb++ % dbs.length]!;
      const slot = this.volatileOnly ? db.randomVolatileSlot() : db.randomSlot();
      if (slot < 0) continue;
      this.picked = db.keyOf(slot);
      return db;
    }
    return null;
  }

  private pickFromPool(): Keyspace | null {
    const dbs = this.engine.dbs;
    for (;;) {
      let sampled = false;
      for (let i = 0; i < dbs.length; i++) {
        const db = dbs[i]!;
        if ((this.volatileOnly ? db.volatileCount : db.size) === 0) continue;
        this.populate(db);
        sampled = true;
      }
      if (!sampled && this.poolLen === 0) return null;
      // The best candidate whose slot still scores what it was pooled at is evicted there.
      while (this.poolLen > 0) {
        const i = --this.poolLen;
        const db = dbs[this.poolDb[i]!]!;
        const slot = this.poolSlot[i]!;
        if (slot >= db.size) continue;
        if (this.volatileOnly && db.expireOf(slot) === 0) continue;
        const ident = this.identOf(db, slot);
        if (ident !== this.poolIdent[i]) {
          // Read since it was pooled, or another key moved into the slot: pooled again at its score now.
          this.poolInsert(db.id, slot, ident, this.scoreOf(db, slot));
          continue;
        }
        const key = db.keyOf(slot);
        const before = dbBytes(db);
        if (db.deleteAt(slot, key) !== 1) continue; // it had expired: reclaimed, not evicted
        this.deleted = true;
        this.pickedBytes = before;
        this.picked = key;
        return db;
      }
      if (!sampled) return null;
    }
  }

  /** What a slot's score is computed from: its access metadata, or its expiry for volatile-ttl. */
  private identOf(db: Keyspace, slot: number): number {
    return this.kind === 'ttl' ? db.expireOf(slot) : db.metaOf(slot);
  }

  /** A slot's eviction score now (higher: evicted first). */
  private scoreOf(db: Keyspace, slot: number): number {
    if (this.kind === 'lru') return lruScore(db.metaOf(slot));
    if (this.kind === 'lfu') return 255 - lfuDecayedCounter(db.metaOf(slot) & LRU_CLOCK_MAX, this.lfuDecayTime);
    return Number.MAX_SAFE_INTEGER - db.expireOf(slot);
  }

  /**
   * Sample a database into the pool. Only the metadata of a sample is read
   * unless it makes it into the pool (random slots are cache misses: the
   * fewer arrays touched per sample, the cheaper eviction is). A volatile
   * sample already expired is reclaimed on the spot (not an eviction).
   */
  private populate(db: Keyspace): void {
    const t = this.volatileOnly ? (clock.frozen !== 0 ? clock.frozen : Date.now()) : 0;
    // allkeys-lru sweeps: each call samples the next `samples` consecutive slots after the
    // previous call's (a hand going round the slots), like Redis's dictGetSomeKeys, which walks
    // consecutive buckets — but from where the last call stopped, not a random bucket. The
    // victims are then mostly in slots just read, so deleting one finds its record, key and
    // value array elements in cache (and the hardware prefetcher follows the hand): at random
    // slots they were four cache misses per eviction, and an evicting SET cost 1.7x a plain one;
    // swept, 1.2x (benchmarks/RESULTS.md). Slot order is insertion order only until deletions
    // (each moves the newest key into the hole) mix it; the pool keeps the best candidates
    // across calls. The Zipf hit ratio did not change (76.70% before and after, Redis 76.56%).
    // Not for LFU: the newest keys, all at the initial counter, sit together at the end; swept,
    // allkeys-lfu's hit ratio fell to 78.83-79.09% (Redis 78.85-79.51%), and with consecutive
    // slots from a random start it was 79.38-79.57%; with random samples 79.58-79.64%.
    const size = db.size;
    const consecutive = !this.volatileOnly && this.kind === 'lru';
    let first = 0;
    if (consecutive) {
      if (db.id >= this.hands.length) {
        const h = new Int32Array(db.id + 1);
        h.set(this.hands);
        this.hands = h;
      }
      first = this.hands[db.id]!;
      if (first >= size) first = 0;
      this.hands[db.id] = first + this.samples;
    }
    for (let i = 0; i < this.samples; i++) {
      let slot: number;
      if (!consecutive) slot = this.volatileOnly ? db.randomVolatileSlot() : db.randomSlot();
      else {
        slot = first + i;
        if (slot >= size) slot -= size;
        if (i >= size) return;
      }
      if (slot < 0) return;
      if (this.volatileOnly && db.expireIfDue(slot, t)) continue;
      let score: number;
      let ident: number;
      if (this.kind === 'lru') score = lruScore((ident = db.metaOf(slot)));
      else if (this.kind === 'lfu') score = 255 - lfuDecayedCounter((ident = db.metaOf(slot)) & LRU_CLOCK_MAX, this.lfuDecayTime);
      else score = Number.MAX_SAFE_INTEGER - (ident = db.expireOf(slot));
      if (this.poolLen === EVICTION_POOL_SIZE && score <= this.poolScore[0]!) continue;
      this.poolInsert(db.id, slot, ident, score);
    }
  }

  /** Insert a candidate keeping the pool sorted by ascending score; a full pool drops its worst. */
  private poolInsert(dbId: number, slot: number, ident: number, score: number): void {
    const scores = this.poolScore;
    const idents = this.poolIdent;
    const dbIds = this.poolDb;
    const slots = this.poolSlot;
    let len = this.poolLen;
    // Already pooled (same slot): the old entry goes, the new score replaces it.
    for (let i = 0; i < len; i++) {
      if (slots[i] === slot && dbIds[i] === dbId) {
        scores.copyWithin(i, i + 1, len);
        idents.copyWithin(i, i + 1, len);
        dbIds.copyWithin(i, i + 1, len);
        slots.copyWithin(i, i + 1, len);
        len--;
        break;
      }
    }
    if (len === EVICTION_POOL_SIZE) {
      if (score <= scores[0]!) {
        this.poolLen = len;
        return;
      }
      // Drop the worst (index 0) to make room.
      scores.copyWithin(0, 1, len);
      idents.copyWithin(0, 1, len);
      dbIds.copyWithin(0, 1, len);
      slots.copyWithin(0, 1, len);
      len--;
    }
    let k = len;
    while (k > 0 && scores[k - 1]! > score) {
      scores[k] = scores[k - 1]!;
      idents[k] = idents[k - 1]!;
      dbIds[k] = dbIds[k - 1]!;
      slots[k] = slots[k - 1]!;
      k--;
    }
    scores[k] = score;
    idents[k] = ident;
    dbIds[k] = dbId;
    slots[k] = slot;
    this.poolLen = len + 1;
  }

  private clearPool(): void {
    this.poolLen = 0;
  }

  /** Cron: keep LFU minutes current, go on evicting if over the limit, evict clients over maxmemory-clients. */
  cron(): void {
    lfuClock.minutes = lfuMinutesNow();
    // Clients first, as Redis: memory they free may spare keys.
    this.evictClients();
    if (this.maxmemory > 0 && this.background === null && !this.suspended()) {
      if (this.mem.usedForEviction() > this.maxmemory && this.kind !== 'none') this.perform();
    }
  }

  /** clientsLimit() as of the last change of maxmemory or maxmemory-clients (memory.ts keeps it). */
  clientsLimitBytes = 0;

  /** maxmemory-clients in bytes, 0 when off. */
  clientsLimit(): number {
    const v = this.engine.config.get('maxmemory-clients');
    if (typeof v === 'number') return v;
    const pct = Number(String(v).replace('%', ''));
    return this.maxmemory > 0 ? Math.floor((this.maxmemory * pct) / 100) : 0;
  }

  /** maxmemory-clients: disconnect the biggest evictable clients until the clients' memory is under it (before every command, and on the cron). */
  evictClients(): void {
    const limit = this.clientsLimitBytes;
    if (limit === 0 || this.mem.clientsBytes <= limit) return;
    const e = this.engine;
    const candidates = [...e.sessions.values()]
      .filter((s) => !s.noEvict && s.transport !== null && !s.closing && !s.obeyClient)
      .sort((a, b) => this.mem.clientBytes(b.id) - this.mem.clientBytes(a.id));
    let total = this.mem.clientsBytes;
    for (const s of candidates) {
      if (total <= limit) break;
      const bytes = this.mem.clientBytes(s.id);
      e.log.verbose(`Evicting client: id=${s.id} addr=${s.transport!.addr} tot-mem=${bytes}`);
      e.stats.evictedClients++;
      total -= bytes;
      // The closed session leaves the figures at once (MemoryState.forgetClient).
      s.transport!.close(false);
    }
  }
}
