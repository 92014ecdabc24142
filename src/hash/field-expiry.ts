/**
 * Hash field expiry (Redis 7.4 field TTLs): lazy expiry on access and the
 * active expiry step the engine cron runs.
 *
 * An expired field is never visible: every hash command first deletes the
 * fields of its hash that are due (`expireFieldsOnAccess`). Fields nobody
 * reads are reclaimed by the active step, which each database drives from a
 * min-heap of (next field expiry, key, hash) entries kept in
 * `Keyspace.fieldExpiry`. Either way a reclaimed field fires one `hexpired`
 * keyspace event per hash and batch, is propagated to replicas/AOF as
 * `HDEL key field` (as Redis 7.4 does), and a hash whose last field goes is
 * deleted (`del` event).
 *
 * The heap is an index of hints, checked when an entry comes up: an entry is
 * current only if it is the last one pushed for its hash (HashValue.sched),
 * for the same database index and key, and the database still holds that
 * very hash object at that key. So nothing has to be unscheduled when a hash
 * is deleted, overwritten, renamed, moved or its fields persisted: the stale
 * entry is dropped when it surfaces, and the heap is compacted when stale
 * entries pile up. Hashes that arrive under a key by any other route than a
 * hash command (RENAME, MOVE, COPY, RESTORE, loading) are picked up by the
 * Keyspace.onStore hook; SWAPDB carries the index along with the data; a
 * flush drops it.
 */
import { Keyspace } from '../keyspace/keyspace.js';
import { now } from '../keyspace/clock.js';
import { activeExpireSteps, type Engine } from '../server/engine.js';
import type { Session } from '../server/session.js';
import { HashValue } from './hash-value.js';

interface Entry {
  at: number;
  key: string;
  h: HashValue;
}

/** Compact a database's heap once it holds this many entries and twice its last live size. */
const MIN_COMPACT = 1024;
/** Fields expired from one hash before moving on to the next due hash. */
const FIELDS_PER_HASH = 100;
/** Entries handled per database and cycle even when the CPU budget is spent. */
const MIN_WORK = 32;

/** Counters for INFO-like reporting. */
export const fieldExpiryStats = { expiredFields: 0 };

/** The per-database index: a binary min-heap of entries by `at`. */
class FieldExpiryIndex {
  heap: Entry[] = [];
  compactAt = MIN_COMPACT;

  push(e: Entry): void {
    const a = this.heap;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= e.at) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }

  pop(): Entry {
    const a = this.heap;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1]!.at < a[c]!.at) c++;
        if (a[c]!.at >= last.at) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  /** Drop stale entries and rebuild the heap. */
  compact(db: Keyspace): void {
    const live = this.heap.filter((e) => isCurrent(db, this, e));
    this.heap = [];
    for (const e of live) this.push(e);
    this.compactAt = Math.max(MIN_COMPACT, 2 * this.heap.length);
  }
}

function isCurrent(db: Keyspace, idx: FieldExpiryIndex, e: Entry): boolean {
  const sc = e.h.sched;
  if (sc === null || sc.index !== idx || sc.key !== e.key || sc.at !== e.at) return false;
  const slot = db.slotOf(e.key);
  return slot >= 0 && db.valueOf(slot) === e.h;
}

/**
 * Make sure the active expiry will visit hash `h`, stored at `key` of `db`,
 * by the time its earliest field TTL is due. Call after setting a field TTL.
 */
export function scheduleHash(db: Keyspace, key: string, h: HashValue): void {
  const at = h.minExpire();
  if (at === 0) return;
  let idx = db.fieldExpiry as FieldExpiryIndex | null;
  if (idx === null) db.fieldExpiry = idx = new FieldExpiryIndex();
  const sc = h.sched;
  if (sc === null) {
    h.sched = { index: idx, key, at };
  } else {
    // An entry for this place that comes up no later than needed is already there.
    if (sc.index === idx && sc.key === key && sc.at !== 0 && sc.at <= at) return;
    sc.index = idx;
    sc.key = key;
    sc.at = at;
  }
  idx.push({ at, key, h });
  if (idx.heap.length >= idx.compactAt) idx.compact(db);
}

/**
 * Delete the fields of hash `h` (stored at `key` of `db`) whose TTL is due at
 * time `t`, at most `limit` of them: one `HDEL key field` propagated per
 * field, one `hexpired` event, and the key deleted (`del` event) if the hash
 * is left empty. Returns the number of fields deleted.
 */
export function expireDueFields(engine: Engine, db: Keyspace, key: string, h: HashValue, t: number, limit = Infinity): number {
  if (h.volatileCount === 0 || h.minExpire() > t) return 0;
  // Copy-on-write hook, and a check that the key itself is still live and holds this hash.
  if (db.getForWrite(key) !== h) return 0;
  let n = 0;
  while (n < limit && h.volatileCount > 0 && h.minExpire() <= t) {
    const field = h.minExpireField();
    h.delete(field);
    engine.propagate(db.id, ['HDEL', key, field]);
    n++;
  }
  fieldExpiryStats.expiredFields += n;
  engine.keyModified(db.id, key, 0);
  engine.notify('h', 'hexpired', key, db.id);
  if (h.size === 0) {
    db.delete(key);
    engine.notify('g', 'del', key, db.id);
  }
  return n;
}

/**
 * Lazy field expiry for a command about to use hash `h` at `key` of the
 * session's database. Returns false when the hash was deleted because every
 * field had expired. On a replica the fields are left for the master's HDELs.
 */
export function expireFieldsOnAccess(s: Session, key: string, h: HashValue): boolean {
  if (h.volatileCount === 0) return true;
  const t = now();
  if (h.minExpire() > t) return true;
  const e = s.engine;
  if (e.keyspaceEvents.lazyDeleteDisabled || e.role !== 'master' || e.loading) return true;
  expireDueFields(e, s.db, key, h, t);
  return h.size > 0;
}

/** The active expiry step: reclaim due fields of every database, within the cycle's CPU budget. */
function activeFieldExpire(engine: Engine, t: number, deadline: number): void {
  if (engine.role !== 'master') return;
  for (const db of engine.dbs) {
    const idx = db.fieldExpiry as FieldExpiryIndex | null;
    if (idx === null) continue;
    let work = 0;
    while (idx.heap.length > 0 && idx.heap[0]!.at <= t) {
      if (work >= MIN_WORK && performance.now() > deadline) return;
      const e = idx.pop();
      if (!isCurrent(db, idx, e)) continue;
      work++;
      const h = e.h;
      const sc = h.sched!;
      sc.at = 0; // this entry is consumed
      expireDueFields(engine, db, e.key, h, t, FIELDS_PER_HASH);
      const slot = db.slotOf(e.key);
      if (h.volatileCount > 0 && slot >= 0 && db.valueOf(slot) === h) scheduleHash(db, e.key, h);
      else sc.index = null;
    }
  }
}

activeExpireSteps.push(activeFieldExpire);

// Hashes with field TTLs stored under a key by RENAME, MOVE, COPY, RESTORE, loads ...
const previousOnStore = Keyspace.onStore;
Keyspace.onStore = (db, key, value) => {
  if (previousOnStore !== null) previousOnStore(db, key, value);
  if (value instanceof HashValue && value.volatileCount > 0) scheduleHash(db, key, value);
};
