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
import type { Session, Transport } from '../server/session.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import { memoryGate } from '../server/dispatch.js';
import { CLIENT_BASE, ENGINE_BASE, dbExpiresBytes, dbOverheadBytes } from './size-model.js';
// The module binding, not the global (a getter on every access).
import { performance } from 'node:perf_hooks';

/** Per entry of a client's MULTI queue, WATCH list and subscriptions (besides the strings). */
const ENTRY_BYTES = 64;
const ARG_BYTES = 20;

/** A client's own state: the MULTI queue, watched keys, channels, patterns and tracking prefixes (Redis counts them as client memory). */
function sessionStateBytes(s: Session): number {
  let n = 0;
  const m = s.multi;
  if (m !== null) {
    for (const q of m.queue) {
      n += ENTRY_BYTES;
      for (const a of q.argv) n += ARG_BYTES + a.length;
    }
  }
  if (s.watching !== null) for (const k of s.watching) n += ENTRY_BYTES + k.length;
  for (const c of s.channels) n += ENTRY_BYTES + c.length;
  for (const c of s.patterns) n += ENTRY_BYTES + c.length;
  for (const c of s.shardChannels) n += ENTRY_BYTES + c.length;
  const tracking = s.engine.tracking.enabled ? s.engine.tracking.mode(s) : null;
  if (tracking) for (const p of tracking.prefixes) n += ENTRY_BYTES + p.length;
  return n;
}

/** A client's input as counted: its transport's own figure for memory, else its query buffer. */
function inputBytes(t: Transport): number {
  return t.queryMemoryBytes?.() ?? t.queryBufferBytes();
}

/** The clients' figures are refreshed before a command when older than this (ms); the cron refreshes them too. */
const REFRESH_MS = 10;

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
  /** The clients' memory (objects, query buffers, pending output, MULTI queues), from the last refresh; replicas apart. */
  clientsBytes = 0;
  private replicaBytes = 0;
  private replicaOutputBytes = 0;
  private refreshedAt = 0;
  /** Per session: its MULTI queue, WATCH list and subscriptions, from the last full refresh. */
  private readonly stateBytes = new Map<number, number>();
  /** Is the session a replica fed by this server? (set at install: repl-feed is not imported here, an import cycle) */
  isReplica: (s: Session) => boolean = () => false;
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
    return ENGINE_BASE + this.databasesBytes() + this.clientsBytes + this.replicaBytes;
  }

  /** mem_not_counted_for_evict: output waiting for replicas, and the other registered sources. */
  notCountedForEvict(): number {
    let n = this.replicaOutputBytes;
    for (const f of this.notCounted) n += f(this.engine);
    return n;
  }

  /** What maxmemory is compared with. */
  usedForEviction(): number {
    const used = this.used();
    if (this.notCounted.length === 0 && this.replicaOutputBytes === 0) return used;
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

  /**
   * Recompute the clients' memory: on every cron tick, and before a command
   * when the last refresh is older than REFRESH_MS (refreshIfStale), so
   * that buffers that grew since the tick count for eviction in time.
   * Replicas' output buffers are kept apart: mem_clients_slaves, not
   * counted for eviction (Redis's freeMemoryGetNotCountedMemory).
   */
  refreshClients(): void {
    let total = 0;
    let replicas = 0;
    let replicaOutput = 0;
    this.perClient.clear();
    this.stateBytes.clear();
    this.refreshedAt = performance.now();
    for (const s of this.engine.sessions.values()) {
      let n = CLIENT_BASE;
      const t = s.transport;
      if (t !== null) {
        const out = t.outputBytes();
        n += inputBytes(t) + out;
        if (this.isReplica(s)) {
          replicas += n;
          replicaOutput += out;
          continue;
        }
      }
      const state = sessionStateBytes(s);
      this.stateBytes.set(s.id, state);
      n += state;
      this.perClient.set(s.id, n);
      total += n;
    }
    this.clientsBytes = total;
    this.replicaBytes = replicas;
    this.replicaOutputBytes = replicaOutput;
  }

  /** One client's figure, measured now (before its command: its buffers may have grown since the last refresh). */
  refreshClient(s: Session): void {
    const t = s.transport;
    if (t === null || this.isReplica(s)) return;
    // Buffers measured now; the MULTI queue, WATCH list and subscriptions as of the last full refresh (O(1) here).
    const n = CLIENT_BASE + inputBytes(t) + t.outputBytes() + (this.stateBytes.get(s.id) ?? 0);
    const before = this.perClient.get(s.id);
    this.perClient.set(s.id, n);
    this.clientsBytes += n - (before ?? 0);
  }

  /** refreshClients, unless the figures are younger than REFRESH_MS. */
  refreshIfStale(): void {
    if (performance.now() - this.refreshedAt >= REFRESH_MS) this.refreshClients();
  }

  /** The output waiting for replicas (mem_total_replication_buffers). */
  get replicaOutput(): number {
    return this.replicaOutputBytes;
  }

  /** mem_clients_slaves: the replicas' buffers (output waiting for them, query buffers, objects). */
  get clientsSlaves(): number {
    return this.replicaBytes;
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
    this.stateBytes.delete(id);
    this.clientsBytes -= n;
  }

  /** mem_clients_normal: the clients' buffers and objects. */
  get clientsNormal(): number {
    return this.clientsBytes;
  }
}
