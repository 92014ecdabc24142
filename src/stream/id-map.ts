/**
 * An ordered map keyed by stream ID: the pending entries lists of consumer
 * groups and consumers.
 *
 * Keys are kept sorted in chunks of at most CHUNK entries (a two-level
 * sorted array). Finding a key is a binary search over the chunks' last keys
 * then inside one chunk; inserting or removing moves at most one chunk's
 * entries, and appending in order (the usual case: XREADGROUP delivers
 * increasing IDs) is O(1) amortized. `ceil(id)` (the first key >= id) is the
 * iteration primitive, which stays valid while the map is modified.
 */
import { type StreamID, cmpId } from './stream-id.js';

const CHUNK = 256;

interface Chunk<V> {
  keys: StreamID[];
  vals: V[];
}

export class IdMap<V> {
  private chunks: Chunk<V>[] = [];
  size = 0;

  /** Index of the first chunk whose last key is >= id (chunks.length if none). */
  private chunkFor(id: StreamID): number {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cs[mid]!;
      if (cmpId(c.keys[c.keys.length - 1]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first key >= id in a chunk. */
  private static lower(keys: StreamID[], id: StreamID): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpId(keys[mid]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(id: StreamID): V | undefined {
    const ci = this.chunkFor(id);
    const c = this.chunks[ci];
    if (c === undefined) return undefined;
    const i = IdMap.lower(c.keys, id);
    return i < c.keys.length && cmpId(c.keys[i]!, id) === 0 ? c.vals[i] : undefined;
  }

  has(id: StreamID): boolean {
    return this.get(id) !== undefined;
  }

  /** Insert or replace; returns true when the key was new. */
  set(id: StreamID, v: V): boolean {
    const cs = this.chunks;
    const last = cs[cs.length - 1];
    // Fast path: append after the greatest key.
    if (last === undefined || cmpId(last.keys[last.keys.length - 1]!, id) < 0) {
      if (last === undefined || last.keys.length >= CHUNK) cs.push({ keys: [id], vals: [v] });
      else {
        last.keys.push(id);
        last.vals.push(v);
      }
      this.size++;
      return true;
    }
    const ci = this.chunkFor(id);
    const c = cs[ci]!;
    const i = IdMap.lower(c.keys, id);
    if (i < c.keys.length && cmpId(c.keys[i]!, id) === 0) {
      c.vals[i] = v;
      return false;
    }
    c.keys.splice(i, 0, id);
    c.vals.splice(i, 0, v);
    this.size++;
    if (c.keys.length > CHUNK * 2) {
      const half = c.keys.length >>> 1;
      cs.splice(ci + 1, 0, { keys: c.keys.splice(half), vals: c.vals.splice(half) });
    }
    return true;
  }

  /** Remove a key; returns its value, or undefined when absent. */
  delete(id: StreamID): V | undefined {
    const ci = this.chunkFor(id);
    const c = this.chunks[ci];
    if (c === undefined) return undefined;
    const i = IdMap.lower(c.keys, id);
    if (i >= c.keys.length || cmpId(c.keys[i]!, id) !== 0) return undefined;
    const v = c.vals[i]!;
    if (i === 0 && c.keys.length > 1 && ci === 0) {
      // Removing from the front of the first chunk (XACK of the oldest): shift.
      c.keys.shift();
      c.vals.shift();
    } else {
      c.keys.splice(i, 1);
      c.vals.splice(i, 1);
    }
    this.size--;
    if (c.keys.length === 0) this.chunks.splice(ci, 1);
    else if (c.keys.length < CHUNK / 4 && ci + 1 < this.chunks.length) {
      const n = this.chunks[ci + 1]!;
      if (n.keys.length + c.keys.length <= CHUNK) {
        c.keys.push(...n.keys);
        c.vals.push(...n.vals);
        this.chunks.splice(ci + 1, 1);
      }
    }
    return v;
  }

  /** The first entry with key >= id, or null. */
  ceil(id: StreamID): { id: StreamID; value: V } | null {
    const ci = this.chunkFor(id);
    const c = this.chunks[ci];
    if (c === undefined) return null;
    const i = IdMap.lower(c.keys, id);
    return { id: c.keys[i]!, value: c.vals[i]! };
  }

  first(): { id: StreamID; value: V } | null {
    const c = this.chunks[0];
    return c === undefined ? null : { id: c.keys[0]!, value: c.vals[0]! };
  }

  last(): { id: StreamID; value: V } | null {
    const c = this.chunks[this.chunks.length - 1];
    return c === undefined ? null : { id: c.keys[c.keys.length - 1]!, value: c.vals[c.vals.length - 1]! };
  }

  /**
   * Visit entries with key >= start in order while `visit` returns true.
   * The map must not be modified during the visit.
   */
  forEachFrom(start: StreamID, visit: (id: StreamID, v: V) => boolean): void {
    const cs = this.chunks;
    let ci = this.chunkFor(start);
    if (ci >= cs.length) return;
    let i = IdMap.lower(cs[ci]!.keys, start);
    for (; ci < cs.length; ci++, i = 0) {
      const c = cs[ci]!;
      for (; i < c.keys.length; i++) if (!visit(c.keys[i]!, c.vals[i]!)) return;
    }
  }

  /** Every entry in order. */
  forEach(visit: (id: StreamID, v: V) => void): void {
    for (const c of this.chunks) for (let i = 0; i < c.keys.length; i++) visit(c.keys[i]!, c.vals[i]!);
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}
