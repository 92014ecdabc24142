/**
 * Consumer groups of a stream: the group's last delivered ID and logical
 * read counter, its pending entries list (PEL: entry ID → NACK) and its
 * consumers, each with its own PEL sharing the group's NACK objects.
 *
 * Pure data: the command files decide replies, events and propagation.
 */
import { IdMap } from './id-map.js';
import type { StreamValue } from './stream-value.js';
import { type I64, type StreamID, type U64, MAX_ID, MIN_ID, addI64, cmpId, incI64, isZeroId, subI64 } from './stream-id.js';

/** A delivered, not yet acknowledged entry. */
export interface Nack {
  consumer: Consumer;
  /** Last delivery time, ms since the epoch. */
  deliveryTime: number;
  /** Number of deliveries (uint64 in Redis). */
  deliveryCount: U64;
}

export class Consumer {
  readonly pel = new IdMap<Nack>();
  constructor(
    readonly name: string,
    /** Last time the consumer was seen by a command that refreshes it (ms). */
    public seenTime: number,
  ) {}
}

/** Redis's SCG_INVALID_ENTRIES_READ: the group's read counter is unknown. */
export const INVALID_ENTRIES_READ = -1;

export class ConsumerGroup {
  readonly pel = new IdMap<Nack>();
  readonly consumers = new Map<string, Consumer>();
  constructor(
    readonly name: string,
    public lastId: StreamID,
    /** Logical number of entries read, or INVALID_ENTRIES_READ. */
    public entriesRead: I64,
  ) {}

  /** Consumers in name order (byte order, as Redis's radix tree lists them). */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** A new consumer, or null when one with this name exists. */
  createConsumer(name: string, nowMs: number): Consumer | null {
    if (this.consumers.has(name)) return null;
    const c = new Consumer(name, nowMs);
    this.consumers.set(name, c);
    return c;
  }

  /** Delete a consumer and its pending entries (also from the group PEL); returns how many it had. */
  deleteConsumer(c: Consumer): number {
    const n = c.pel.size;
    c.pel.forEach((id) => {
      this.pel.delete(id);
    });
    this.consumers.delete(c.name);
    return n;
  }

  /** Remove a NACK from both PELs. */
  ack(id: StreamID): boolean {
    const nack = this.pel.delete(id);
    if (nack === undefined) return false;
    nack.consumer.pel.delete(id);
    return true;
  }

  /** A deep copy (COPY): NACKs stay shared between the copied group and consumer PELs. */
  copy(): ConsumerGroup {
    const g = new ConsumerGroup(this.name, this.lastId, this.entriesRead);
    const map = new Map<Consumer, Consumer>();
    for (const c of this.consumers.values()) {
      const nc = new Consumer(c.name, c.seenTime);
      g.consumers.set(nc.name, nc);
      map.set(c, nc);
    }
    this.pel.forEach((id, n) => {
      const nn: Nack = { consumer: map.get(n.consumer)!, deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount };
      g.pel.set(id, nn);
      nn.consumer.pel.set(id, nn);
    });
    return g;
  }
}

// ---------------------------------------------------------------------------
// Logical read counters (Redis 7.0's entries-read / lag bookkeeping)

/** Could [start, end] (null: unbounded) contain a deleted entry? Judged from max-deleted-entry-id. */
export function rangeHasTombstones(s: StreamValue, start: StreamID | null, end: StreamID | null): boolean {
  if (s.size === 0 || isZeroId(s.maxDeletedId)) return false;
  if (cmpId(s.firstId, s.maxDeletedId) > 0) return false;
  const lo = start ?? MIN_ID;
  const hi = end ?? MAX_ID;
  return cmpId(lo, s.maxDeletedId) <= 0 && cmpId(s.maxDeletedId, hi) <= 0;
}

/**
 * The logical read counter of `id` (its distance from the first entry ever
 * added), when it can be known: INVALID_ENTRIES_READ otherwise.
 */
export function estimateEntriesRead(s: StreamValue, id: StreamID): I64 {
  if (s.entriesAdded === 0) return 0;
  if (s.size === 0 && cmpId(id, s.lastId) < 1) return s.entriesAdded;
  const cmpLast = cmpId(id, s.lastId);
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return INVALID_ENTRIES_READ;
  const cmpFirst = cmpId(id, s.firstId);
  if (isZeroId(s.maxDeletedId) || cmpId(s.maxDeletedId, s.firstId) < 0) {
    if (cmpFirst < 0) return subI64(s.entriesAdded, s.size);
    if (cmpFirst === 0) return addI64(subI64(s.entriesAdded, s.size), 1);
  }
  return INVALID_ENTRIES_READ;
}

/** The group's lag (entries not yet delivered), or null when it cannot be known. */
export function groupLag(s: StreamValue, g: ConsumerGroup): I64 | null {
  if (s.entriesAdded === 0) return 0;
  if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, g.lastId, null)) return subI64(s.entriesAdded, g.entriesRead);
  const read = estimateEntriesRead(s, g.lastId);
  return read === INVALID_ENTRIES_READ ? null : subI64(s.entriesAdded, read);
}

/** Advance the group past a delivered entry `id` (XREADGROUP `>`), keeping entries-read right. */
export function advanceGroup(s: StreamValue, g: ConsumerGroup, id: StreamID): void {
  if (cmpId(id, g.lastId) <= 0) return;
  if (g.entriesRead !== INVALID_ENTRIES_READ && !rangeHasTombstones(s, id, null)) g.entriesRead = incI64(g.entriesRead);
  else if (s.entriesAdded !== 0) g.entriesRead = estimateEntriesRead(s, id);
  g.lastId = id;
}
