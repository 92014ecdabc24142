/**
 * The hash value: field → value, with optional per-field expiry times
 * (Redis 7.4 hash field TTLs).
 *
 * Layout: parallel dense arrays of fields and values indexed by slot, so
 * that a random field is O(1) (HRANDFIELD) and iteration needs no
 * allocation, plus a Map from field to slot once the hash has more than a
 * few fields (below that a linear scan is faster and saves the Map, which
 * matters for the common case of millions of tiny hashes).
 *
 * Encoding (what OBJECT ENCODING reports, Redis's names): a hash starts as a
 * "listpack" and becomes a "hashtable" for good once it holds more than
 * hash-max-listpack-entries fields or a field/value longer than
 * hash-max-listpack-value bytes — the commands decide, through
 * `checkEntries`/`checkLength`. While it is a listpack, deletion keeps
 * insertion order (an O(n) shift over at most hash-max-listpack-entries
 * fields, as Redis's listpack delete is), so HGETALL and friends answer in
 * Redis's order; as a hashtable, deletion swaps the last slot into the hole
 * (O(1)) and the order is unspecified, as in Redis. A listpack that ever got
 * a field TTL reports "listpackex" (Redis 7.4).
 *
 * HSCAN over a hashtable walks slots from the highest to the lowest, with the
 * argument of Keyspace.scan: a swap only moves the highest slot into a lower
 * hole, so a field present for the whole scan is reported at least once. A
 * listpack is returned whole in one call (cursor 0), as Redis does.
 *
 * Field TTLs live in an indexed binary min-heap (field → heap position), so
 * the next field to expire is O(1) and setting/clearing one is O(log n).
 * Nothing here looks at the clock: the commands purge due fields
 * (src/hash/field-expiry.ts) before they read or write.
 *
 * `bytes` is the sum of the field and value lengths, kept exact in O(1).
 */
import { registerValueCopier } from '../keyspace/value-copy.js';
import { registerEncodingName } from '../keyspace/object-encoding.js';
import { mixDigest, newDigest, registerDigest, xorDigest } from '../keyspace/digest.js';
import type { AggregateValue } from '../keyspace/values.js';

/** Where the active-expiry index last scheduled this hash (owned by field-expiry.ts). */
export interface HashSchedule {
  /** The per-database index object the entry went to (moves with SWAPDB). */
  index: object | null;
  key: string;
  at: number;
}

/** Up to this many fields, a field is found by a linear scan (no index map), like a small listpack. */
const LINEAR_MAX = 8;

export class HashValue implements AggregateValue {
  readonly kind = 'hash' as const;
  /** Field → slot; null while the hash is small enough for a linear scan. */
  private index: Map<string, number> | null = null;
  private fields: string[] = [];
  private vals: string[] = [];
  /** Sum of field and value lengths (memory model). */
  bytes = 0;
  /** OBJECT ENCODING: hashtable once converted (never converts back). */
  hashtable = false;
  /** A listpack that had a field TTL reports "listpackex" (Redis 7.4). */
  listpackEx = false;
  // Field TTLs: an indexed min-heap of (field, absolute ms), null until the first one.
  private heapF: string[] | null = null;
  private heapAt: number[] | null = null;
  private heapPos: Map<string, number> | null = null;
  /** Active-expiry bookkeeping (src/hash/field-expiry.ts); null until first scheduled. */
  sched: HashSchedule | null = null;

  get size(): number {
    return this.fields.length;
  }

  // ---- fields ----------------------------------------------------------------

  /** Slot of a field, -1 if absent. */
  private find(field: string): number {
    if (this.index !== null) return this.index.get(field) ?? -1;
    return this.fields.indexOf(field);
  }

  get(field: string): string | undefined {
    const i = this.find(field);
    return i < 0 ? undefined : this.vals[i];
  }

  has(field: string): boolean {
    return this.find(field) >= 0;
  }

  /**
   * Set a field's value; true if the field is new. Overwriting a field
   * discards its TTL unless `keepTtl` (HINCRBY/HINCRBYFLOAT keep it).
   */
  set(field: string, value: string, keepTtl = false): boolean {
    const i = this.find(field);
    if (i >= 0) {
      this.bytes += value.length - this.vals[i]!.length;
      this.vals[i] = value;
      if (!keepTtl && this.heapPos !== null) this.clearExpire(field);
      return false;
    }
    const slot = this.fields.length;
    this.fields.push(field);
    this.vals.push(value);
    this.bytes += field.length + value.length;
    if (this.index !== null) this.index.set(field, slot);
    else if (slot >= LINEAR_MAX) {
      const index = new Map<string, number>();
      for (let j = 0; j <= slot; j++) index.set(this.fields[j]!, j);
      this.index = index;
    }
    return true;
  }

  /** Delete a field (and its TTL); true if it existed. */
  delete(field: string): boolean {
    const i = this.find(field);
    if (i < 0) return false;
    if (this.heapPos !== null) this.clearExpire(field);
    this.bytes -= field.length + this.vals[i]!.length;
    const index = this.index;
    if (index !== null) index.delete(field);
    const last = this.fields.length - 1;
    if (!this.hashtable) {
      // Listpack: keep insertion order.
      this.fields.splice(i, 1);
      this.vals.splice(i, 1);
      if (index !== null) for (let j = i; j < last; j++) index.set(this.fields[j]!, j);
      return true;
    }
    if (i !== last) {
      const moved = this.fields[last]!;
      this.fields[i] = moved;
      this.vals[i] = this.vals[last]!;
      if (index !== null) index.set(moved, i);
    }
    this.fields.pop();
    this.vals.pop();
    return true;
  }

  /** Field at a slot (0 <= slot < size). */
  fieldAt(slot: number): string {
    return this.fields[slot]!;
  }

  valueAt(slot: number): string {
    return this.vals[slot]!;
  }

  /** A uniformly random slot; -1 when empty. */
  randomSlot(): number {
    const n = this.fields.length;
    return n === 0 ? -1 : Math.floor(Math.random() * n);
  }

  // ---- encoding ----------------------------------------------------------------

  /** Convert to a hashtable when more than `maxEntries` fields (hash-max-listpack-entries). */
  checkEntries(maxEntries: number): void {
    if (!this.hashtable && this.fields.length > maxEntries) this.hashtable = true;
  }

  /** Convert to a hashtable before storing a string longer than `maxValue` (hash-max-listpack-value). */
  checkLength(len: number, maxValue: number): void {
    if (!this.hashtable && len > maxValue) this.hashtable = true;
  }

  get encoding(): 'listpack' | 'listpackex' | 'hashtable' {
    return this.hashtable ? 'hashtable' : this.listpackEx ? 'listpackex' : 'listpack';
  }

  // ---- iteration -----------------------------------------------------------------

  /**
   * One HSCAN step. A listpack is visited whole and the next cursor is 0; a
   * hashtable is visited from slot `cursor - 1` (cursor 0: the highest slot)
   * downwards, `count` slots at most. Returns the next cursor (0 = done).
   */
  scan(cursor: number, count: number, visit: (field: string, value: string) => void): number {
    const n = this.fields.length;
    if (!this.hashtable) {
      for (let i = 0; i < n; i++) visit(this.fields[i]!, this.vals[i]!);
      return 0;
    }
    let i = cursor === 0 ? n - 1 : Math.min(cursor - 1, n - 1);
    for (let k = 0; i >= 0 && k < count; i--, k++) visit(this.fields[i]!, this.vals[i]!);
    return i < 0 ? 0 : i + 1;
  }

  // ---- field TTLs ----------------------------------------------------------------

  /** Number of fields with a TTL. */
  get volatileCount(): number {
    return this.heapF === null ? 0 : this.heapF.length;
  }

  /** A field's absolute expiry in ms, 0 when it has none (or does not exist). */
  expireOf(field: string): number {
    if (this.heapPos === null) return 0;
    const p = this.heapPos.get(field);
    return p === undefined ? 0 : this.heapAt![p]!;
  }

  /** Set the absolute expiry (ms) of an existing field. */
  setExpire(field: string, at: number): void {
    if (this.find(field) < 0) return;
    if (this.heapPos === null) {
      this.heapF = [];
      this.heapAt = [];
      this.heapPos = new Map();
    }
    if (!this.hashtable) this.listpackEx = true;
    const ha = this.heapAt!;
    const p = this.heapPos.get(field);
    if (p !== undefined) {
      const old = ha[p]!;
      ha[p] = at;
      if (at < old) this.siftUp(p);
      else this.siftDown(p);
      return;
    }
    const i = this.heapF!.length;
    this.heapF!.push(field);
    ha.push(at);
    this.heapPos.set(field, i);
    this.siftUp(i);
  }

  /** Remove a field's TTL; true if it had one. */
  clearExpire(field: string): boolean {
    if (this.heapPos === null) return false;
    const p = this.heapPos.get(field);
    if (p === undefined) return false;
    const hf = this.heapF!;
    const ha = this.heapAt!;
    const last = hf.length - 1;
    this.heapPos.delete(field);
    if (p !== last) {
      const mf = hf[last]!;
      hf[p] = mf;
      ha[p] = ha[last]!;
      this.heapPos.set(mf, p);
      hf.pop();
      ha.pop();
      this.siftUp(p);
      this.siftDown(this.heapPos.get(mf)!);
    } else {
      hf.pop();
      ha.pop();
    }
    return true;
  }

  /** The earliest field expiry in ms, 0 when no field has a TTL. */
  minExpire(): number {
    return this.heapF === null || this.heapF.length === 0 ? 0 : this.heapAt![0]!;
  }

  /** The field with the earliest expiry (only meaningful when volatileCount > 0). */
  minExpireField(): string {
    return this.heapF![0]!;
  }

  private siftUp(i: number): void {
    const hf = this.heapF!;
    const ha = this.heapAt!;
    const pos = this.heapPos!;
    const f = hf[i]!;
    const at = ha[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (ha[parent]! <= at) break;
      hf[i] = hf[parent]!;
      ha[i] = ha[parent]!;
      pos.set(hf[i]!, i);
      i = parent;
    }
    hf[i] = f;
    ha[i] = at;
    pos.set(f, i);
  }

  private siftDown(i: number): void {
    const hf = this.heapF!;
    const ha = this.heapAt!;
    const pos = this.heapPos!;
    const n = hf.length;
    const f = hf[i]!;
    const at = ha[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && ha[c + 1]! < ha[c]!) c++;
      if (ha[c]! >= at) break;
      hf[i] = hf[c]!;
      ha[i] = ha[c]!;
      pos.set(hf[i]!, i);
      i = c;
    }
    hf[i] = f;
    ha[i] = at;
    pos.set(f, i);
  }

  // ---- copy ----------------------------------------------------------------------

  /** A deep copy (COPY): same fields, values, TTLs and encoding; not scheduled anywhere. */
  copy(): HashValue {
    const h = new HashValue();
    h.index = this.index === null ? null : new Map(this.index);
    h.fields = this.fields.slice();
    h.vals = this.vals.slice();
    h.bytes = this.bytes;
    h.hashtable = this.hashtable;
    h.listpackEx = this.listpackEx;
    if (this.heapF !== null) {
      h.heapF = this.heapF.slice();
      h.heapAt = this.heapAt!.slice();
      h.heapPos = new Map(this.heapPos!);
    }
    return h;
  }
}

registerValueCopier('hash', (v) => (v as HashValue).copy());
registerEncodingName('hash', (v) => (v as HashValue).encoding);
registerDigest('hash', (d, v) => {
  const h = v as HashValue;
  for (let i = 0; i < h.size; i++) {
    const e = newDigest();
    mixDigest(e, h.fieldAt(i));
    mixDigest(e, h.valueAt(i));
    xorDigest(d, e);
  }
});
