/**
 * An engine's memory accounting from the size model (size-model.ts):
 * used_memory and its parts, the peak, the clients' share, and the values
 * waiting to be re-measured after an in-place change.
 *
 * used_memory = start-up + Σ databases (keys and values + structure)
 *             + clients (refreshed by the cron, O(clients) there).
 * Reading it is O(databases): the keyspaces keep their sums exact.
 */
import type { Engine } from '../server/engine.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import { memoryGate } from '../server/dispatch.js';
import { CLIENT_BASE, ENGINE_BASE, dbExpiresBytes, dbOverheadBytes } from './size-model.js';

// ---- values changed in place ------------------------------------------------------

/**
 * Keys whose values were handed out by getForWrite: their size is measured
 * again once the command is over (call() settles through memoryGate; the
 * cron settles anything changed outside a command). Databases of every
 * engine of the process share the list: a key is re-measured in its own.
 */
const pendingDb: Keyspace[] = [];
const pendingKey: string[] = [];
/**
 * Entries in use. The arrays keep their capacity between commands (setting
 * `length = 0` would free the backing stores and reallocate them on the next
 * write: ~300 bytes of garbage per write command).
 */
let pendingCount = 0;
/** Past this many entries a settle gives the memory back. */
const PENDING_KEEP = 64;

export function markMutated(db: Keyspace, key: string): void {
  pendingDb[pendingCount] = db;
  pendingKey[pendingCount] = key;
  pendingCount++;
  memoryGate.dirty = true;
}

/** Re-measure every value changed since the last settle. */
export function settleMutations(): void {
  const n = pendingCount;
  for (let i = 0; i < n; i++) pendingDb[i]!.remeasure(pendingKey[i]!);
  pendingCount = 0;
  if (n > PENDING_KEEP) {
    pendingDb.length = 0;
    pendingKey.length = 0;
  }
  memoryGate.dirty = false;
}

// ---- one engine -------------------------------------------------------------------

/** Memory held outside the data set that eviction must not count (AOF buffer, replication backlog). */
export type NotCountedSource = (e: Engine) => number;

export class MemoryState {
  /** used_memory right after start-up (the fixed tables and the empty databases). */
  readonly startup: number;
  peak: number;
  /** The clients' memory (objects, query buffers, pending output, MULTI queues), from the last cron. */
  clientsBytes = 0;
  /** Per session, from the last refresh (client eviction picks the largest). */
  readonly perClient = new Map<number, number>();
  readonly notCounted: NotCountedSource[] = [];

  constructor(private readonly engine: Engine) {
    this.startup = ENGINE_BASE + this.databasesBytes();
    this.peak = this.startup;
    this.refreshClients();
  }

  /** Keys, values and structure of every database. */
  databasesBytes(): number {
    let n = 0;
    const dbs = this.engine.dbs;
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[i]!;
      n += db.memBytes + dbOverheadBytes(db);
    }
    return n;
  }

  /** used_memory. */
  used(): number {
    if (memoryGate.dirty) settleMutations();
    return ENGINE_BASE + this.databasesBytes() + this.clientsBytes;
  }

  /** mem_not_counted_for_evict. */
  notCountedForEvict(): number {
    let n = 0;
    for (const f of this.notCounted) n += f(this.engine);
    return n;
  }

  /** What maxmemory is compared with. */
  usedForEviction(): number {
    const used = this.used();
    if (this.notCounted.length === 0) return used;
    const nc = this.notCountedForEvict();
    return used > nc ? used - nc : 0;
  }

  /** used_memory_overhead: start-up, clients, the databases' structure and expiry entries. */
  overhead(): number {
    let n = ENGINE_BASE + this.clientsBytes;
    for (const db of this.engine.dbs) n += dbOverheadBytes(db);
    return n;
  }

  /** The databases' own structure (MEMORY STATS db.N): the main index and the expiry entries. */
  dbOverhead(db: Keyspace): { main: number; expires: number } {
    const total = dbOverheadBytes(db);
    const expires = dbExpiresBytes(db);
    return { main: total - expires, expires };
  }

  updatePeak(used = this.used()): number {
    if (used > this.peak) this.peak = used;
    return this.peak;
  }

  /** One client's memory in the model. */
  clientBytes(id: number): number {
    return this.perClient.get(id) ?? CLIENT_BASE;
  }

  /** Recompute the clients' memory (cron). */
  refreshClients(): void {
    let total = 0;
    this.perClient.clear();
    for (const s of this.engine.sessions.values()) {
      let n = CLIENT_BASE;
      const t = s.transport;
      if (t !== null) n += t.queryBufferBytes() + t.outputBytes();
      const m = s.multi;
      if (m !== null) {
        for (const q of m.queue) {
          n += 64;
          for (const a of q.argv) n += 20 + a.length;
        }
      }
      this.perClient.set(s.id, n);
      total += n;
    }
    this.clientsBytes = total;
  }

  /**
   * A client went away: its memory leaves the figure at once, as in Redis
   * (not at the next cron), so that a command right after a big client
   * disconnects is not refused for memory that is already free.
   */
  forgetClient(id: number): void {
    const n = this.perClient.get(id);
    if (n === undefined) return;
    this.perClient.delete(id);
    this.clientsBytes -= n;
  }

  /** mem_clients_normal: the clients' buffers and objects. */
  get clientsNormal(): number {
    return this.clientsBytes;
  }
}
