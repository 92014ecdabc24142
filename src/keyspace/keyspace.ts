/**
 * One logical database: key → value, with expiries.
 *
 * Layout: a Map from key to a dense slot, and parallel dense arrays indexed by
 * slot (key, value, absolute expiry in ms, access metadata for LRU/LFU). A
 * second dense array indexes the slots of volatile keys (those with a TTL).
 * Deletion swaps the last slot into the hole, so:
 *  - random sampling is O(1) (RANDOMKEY, eviction, active expiry), for all keys
 *    or volatile keys only;
 *  - SCAN walks slots from the highest to the lowest. A swap only ever moves an
 *    element from the highest slot to a lower one, so an element present for
 *    the whole scan is reported at least once (it can only move into the part
 *    not yet visited, or be visited again).
 * This costs ~50 bytes per key beyond the key and value strings.
 *
 * Memory model (src/memory/size-model.ts): each slot also records the
 * modelled bytes of its key and value (`Keyspace.measure`), and `memBytes`
 * is their sum, kept exact on insert, overwrite and delete; a value changed
 * in place after `getForWrite` is re-measured when its command ends
 * (`KeyspaceEvents.mutated` → `remeasure`). `shape` follows the capacity of
 * the index Map and arrays (src/memory/table-shape.ts).
 */
import { clock, now } from './clock.js';
import type { Value } from './values.js';
import { newTableShape, shapeAdded, shapeRemoved, type TableShape } from '../memory/table-shape.js';

export interface KeyspaceEvents {
  /** A key was found logically expired and removed (lazily or actively). */
  expired(db: Keyspace, key: string): void;
  /** Called before an existing key is overwritten, mutated or deleted (copy-on-write snapshots). */
  beforeWrite: ((db: Keyspace, key: string, slot: number) => void) | null;
  /** Access metadata update on a read or write (LRU clock or LFU counter). */
  touch(meta: Uint32Array, slot: number): void;
  /** Access metadata of a key just added (LFU starts new keys at a fixed counter); `touch` when absent. */
  init?: (meta: Uint32Array, slot: number) => void;
  /** A value is about to be changed in place (getForWrite): re-measure it after the command (memory model). */
  mutated?: ((db: Keyspace, key: string) => void) | null;
  /** Set while a CLIENT NO-TOUCH client's command runs: lookups of existing keys leave their metadata alone. */
  noTouch?: boolean;
  /** A read lookup missed (keymiss notifications); null when nobody listens. */
  miss: ((db: Keyspace, key: string) => void) | null;
  /** A key was added to the database (new-key notifications); null when nobody listens. */
  created: ((db: Keyspace, key: string) => void) | null;
  /**
   * Deletion moved the key in the last slot into the hole at `toSlot`
   * (snapshots iterate slots and must neither miss nor repeat it); null when
   * nobody listens.
   */
  moved?: ((db: Keyspace, key: string, fromSlot: number, toSlot: number) => void) | null;
  /** The whole database is about to be emptied (clear()); null when nobody listens. */
  beforeClear?: ((db: Keyspace) => void) | null;
  /** When true, expired keys are hidden but not deleted (replicas). */
  lazyDeleteDisabled: boolean;
  /** When true (an AOF is being loaded), no key counts as expired: the commands replayed must see them as Redis does. */
  noExpiry?: boolean;
  stats: { hits: number; misses: number };
}

function grow<T extends Float64Array | Uint32Array | Int32Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 16));
  b.set(a);
  return b;
}

export class Keyspace {
  private index = new Map<string, number>();
  private keyAt: string[] = [];
  private valAt: Value[] = [];
  private expireAt = new Float64Array(16);
  /** LRU clock or LFU (ldt << 8 | counter) per slot; see keyspace/clock.ts. */
  meta = new Uint32Array(16);
  /** Slot → position in `volatile`, or -1. */
  private volPos = new Int32Array(16);
  /** Dense list of slots that have an expiry. */
  private volatile = new Int32Array(16);
  private volCount = 0;
  /** Modelled bytes of each slot's key and value (src/memory/size-model.ts). */
  private sizes = new Float64Array(16);
  /** Sum of `sizes` over the live slots. */
  memBytes = 0;
  /** Capacity of the index Map and slot arrays, as V8 grows them (memory model). */
  shape: TableShape = newTableShape();
  /** The memory model's size of one key and its value; installed by src/memory/size-model.ts. */
  static measure: (key: string, value: Value) => number = () => 0;
  /** Bumped on every write to a key; used by WATCH and blocking wake-ups. */
  version = 0;
  /**
   * Per-database index of values with sub-key expiries (hashes with field
   * TTLs), owned by src/hash/field-expiry.ts. It moves with the data on
   * SWAPDB and is dropped by clear().
   */
  fieldExpiry: object | null = null;
  /**
   * Called after any value is stored under a key (set(): SET, RENAME, MOVE,
   * COPY, RESTORE, loads ...), so that src/hash can keep track of hashes with
   * field TTLs wherever they go. Installed once by that module.
   */
  static onStore: ((db: Keyspace, key: string, value: Value) => void) | null = null;

  constructor(
    public readonly id: number,
    private readonly ev: KeyspaceEvents,
  ) {}

  get size(): number {
    return this.keyAt.length;
  }
  get volatileCount(): number {
    return this.volCount;
  }
  /** Capacity of the volatile-slot index, in entries (memory model). */
  get volatileCapacity(): number {
    return this.volatile.length;
  }

  // ---- lookups -----------------------------------------------------------

  /** Slot of a live key, expiring it first if needed; -1 if absent. */
  private live(key: string): number {
    const slot = this.index.get(key);
    if (slot === undefined) return -1;
    const exp = this.expireAt[slot]!;
    if (exp !== 0 && exp <= now()) {
      if (this.ev.noExpiry === true) return slot;
      if (this.ev.lazyDeleteDisabled) return -1;
      this.expireSlot(slot);
      return -1;
    }
    return slot;
  }

  /** Read lookup: counts a hit or miss and updates access metadata. */
  get(key: string): Value | undefined {
    const slot = this.live(key);
    if (slot < 0) {
      this.ev.stats.misses++;
      if (this.ev.miss !== null) this.ev.miss(this, key);
      return undefined;
    }
    this.ev.stats.hits++;
    if (this.ev.noTouch !== true) this.ev.touch(this.meta, slot);
    return this.valAt[slot];
  }

  /** Lookup with no side effect on stats or access time (TYPE, OBJECT, EXISTS-like checks). */
  peek(key: string): Value | undefined {
    const slot = this.live(key);
    return slot < 0 ? undefined : this.valAt[slot];
  }

  has(key: string): boolean {
    return this.live(key) >= 0;
  }

  /**
   * Lookup for a command about to modify the value in place: runs the
   * copy-on-write hook and bumps the key's version.
   */
  getForWrite(key: string): Value | undefined {
    const slot = this.live(key);
    if (slot < 0) return undefined;
    this.beforeWrite(key, slot);
    if (this.ev.noTouch !== true) this.ev.touch(this.meta, slot);
    const m = this.ev.mutated;
    if (m != null) m(this, key);
    return this.valAt[slot];
  }

  /** Re-measure a key's value after an in-place change (memory model). */
  remeasure(key: string): void {
    const slot = this.index.get(key);
    if (slot === undefined) return;
    const n = Keyspace.measure(key, this.valAt[slot]!);
    this.memBytes += n - this.sizes[slot]!;
    this.sizes[slot] = n;
  }

  /** The modelled bytes recorded for a slot's key and value. */
  sizeOfSlot(slot: number): number {
    return this.sizes[slot]!;
  }

  private beforeWrite(key: string, slot: number): void {
    this.version++;
    if (this.ev.beforeWrite !== null) this.ev.beforeWrite(this, key, slot);
  }

  // ---- writes ------------------------------------------------------------

  /**
   * Store a value (Redis's setKey): overwrites any value and, unless keepTtl,
   * clears its expiry.
   */
  set(key: string, value: Value, keepTtl = false): void {
    const slot = this.live(key);
    if (slot >= 0) {
      this.beforeWrite(key, slot);
      this.valAt[slot] = value;
      const n = Keyspace.measure(key, value);
      this.memBytes += n - this.sizes[slot]!;
      this.sizes[slot] = n;
      if (!keepTtl && this.expireAt[slot] !== 0) this.clearExpiry(slot);
      this.ev.touch(this.meta, slot);
    } else {
      this.insert(key, value);
    }
    if (Keyspace.onStore !== null) Keyspace.onStore(this, key, value);
  }

  /** Insert a key known to be absent. */
  private insert(key: string, value: Value): number {
    const slot = this.keyAt.length;
    this.version++;
    shapeAdded(this.shape, slot);
    this.keyAt.push(key);
    this.valAt.push(value);
    if (slot >= this.expireAt.length) {
      this.expireAt = grow(this.expireAt, slot + 1);
      this.meta = grow(this.meta, slot + 1);
      this.volPos = grow(this.volPos, slot + 1);
      this.sizes = grow(this.sizes, slot + 1);
    }
    this.expireAt[slot] = 0;
    this.volPos[slot] = -1;
    const n = Keyspace.measure(key, value);
    this.sizes[slot] = n;
    this.memBytes += n;
    (this.ev.init ?? this.ev.touch)(this.meta, slot);
    this.index.set(key, slot);
    if (this.ev.created !== null) this.ev.created(this, key);
    return slot;
  }

  /** Delete a key; true if it existed (and was not expired). */
  delete(key: string): boolean {
    const slot = this.live(key);
    if (slot < 0) return false;
    this.beforeWrite(key, slot);
    this.removeSlot(slot);
    return true;
  }

  /** Set the absolute expiry (ms since the epoch) of an existing key. */
  setExpire(key: string, at: number): boolean {
    const slot = this.live(key);
    if (slot < 0) return false;
    this.beforeWrite(key, slot);
    if (this.expireAt[slot] === 0) this.addVolatile(slot);
    this.expireAt[slot] = at;
    return true;
  }

  /** Absolute expiry in ms, 0 when the key has none, -1 when it does not exist. */
  getExpire(key: string): number {
    const slot = this.live(key);
    return slot < 0 ? -1 : this.expireAt[slot]!;
  }

  /** Remove a key's expiry; true if it had one. */
  persist(key: string): boolean {
    const slot = this.live(key);
    if (slot < 0 || this.expireAt[slot] === 0) return false;
    this.beforeWrite(key, slot);
    this.clearExpiry(slot);
    return true;
  }

  /** Remove every key. Returns how many there were. */
  clear(): number {
    const n = this.keyAt.length;
    if (this.ev.beforeClear != null) this.ev.beforeClear(this);
    this.index = new Map();
    this.keyAt = [];
    this.valAt = [];
    this.expireAt = new Float64Array(16);
    this.meta = new Uint32Array(16);
    this.volPos = new Int32Array(16);
    this.volatile = new Int32Array(16);
    this.volCount = 0;
    this.sizes = new Float64Array(16);
    this.memBytes = 0;
    this.shape = newTableShape();
    this.fieldExpiry = null;
    this.version++;
    return n;
  }

  /** Swap the whole contents with another database (SWAPDB). */
  swapWith(other: Keyspace): void {
    const fields = ['index', 'keyAt', 'valAt', 'expireAt', 'meta', 'volPos', 'volatile', 'volCount', 'fieldExpiry', 'sizes', 'memBytes', 'shape'] as const;
    for (const f of fields) {
      const t = (this as any)[f];
      (this as any)[f] = (other as any)[f];
      (other as any)[f] = t;
    }
    this.version++;
    other.version++;
  }

  // ---- sampling and iteration ------------------------------------------------

  /** Key at a slot (for sampling / iteration by callers that know slots). */
  keyOf(slot: number): string {
    return this.keyAt[slot]!;
  }
  valueOf(slot: number): Value {
    return this.valAt[slot]!;
  }
  expireOf(slot: number): number {
    return this.expireAt[slot]!;
  }
  slotOf(key: string): number {
    return this.index.get(key) ?? -1;
  }

  /**
   * The dense per-slot arrays, for snapshots. Read only. clear() and
   * swapWith() replace them wholesale (so arrays taken in a beforeClear hook
   * stay frozen), and growth may replace the typed ones: take them again
   * rather than keeping them across writes.
   */
  slotArrays(): { keys: readonly string[]; values: readonly Value[]; expires: Float64Array; meta: Uint32Array } {
    return { keys: this.keyAt, values: this.valAt, expires: this.expireAt, meta: this.meta };
  }

  /** A random slot, or -1 when empty. Expired keys may be returned. */
  randomSlot(): number {
    const n = this.keyAt.length;
    return n === 0 ? -1 : Math.floor(Math.random() * n);
  }

  /** A random volatile slot, or -1 when there is none. */
  randomVolatileSlot(): number {
    return this.volCount === 0 ? -1 : this.volatile[Math.floor(Math.random() * this.volCount)]!;
  }

  /** RANDOMKEY: a random live key, deleting expired keys met on the way. */
  randomKey(): string | null {
    for (let tries = 0; this.keyAt.length > 0; tries++) {
      const slot = this.randomSlot();
      const exp = this.expireAt[slot]!;
      if (exp !== 0 && exp <= now()) {
        // On a replica with only volatile keys, give up after a while as Redis does.
        if (this.ev.lazyDeleteDisabled) {
          if (tries > 100 && this.volCount === this.keyAt.length) return this.keyAt[slot]!;
          continue;
        }
        this.expireSlot(slot);
        continue;
      }
      return this.keyAt[slot]!;
    }
    return null;
  }

  /**
   * Expire the slot if its time has passed; returns true if it was removed.
   * Used by the active expiry cycle on sampled volatile slots.
   */
  expireIfDue(slot: number, t: number): boolean {
    const exp = this.expireAt[slot]!;
    if (exp === 0 || exp > t) return false;
    this.expireSlot(slot);
    return true;
  }

  /**
   * One SCAN step: visits slots downward from the cursor. Cursor 0 starts a
   * scan; the returned cursor is 0 when the scan is complete.
   */
  scan(cursor: number, count: number, visit: (key: string, value: Value) => void): number {
    let i = cursor === 0 ? this.keyAt.length - 1 : Math.min(cursor - 1, this.keyAt.length - 1);
    const t = now();
    for (let n = 0; i >= 0 && n < count; i--, n++) {
      const exp = this.expireAt[i]!;
      if (exp !== 0 && exp <= t) continue;
      visit(this.keyAt[i]!, this.valAt[i]!);
    }
    return i < 0 ? 0 : i + 1;
  }

  /** Every live key (KEYS). */
  forEachLive(visit: (key: string, value: Value, slot: number) => void): void {
    const t = now();
    for (let i = this.keyAt.length - 1; i >= 0; i--) {
      const exp = this.expireAt[i]!;
      if (exp !== 0 && exp <= t) continue;
      visit(this.keyAt[i]!, this.valAt[i]!, i);
    }
  }

  // ---- internals ---------------------------------------------------------

  private expireSlot(slot: number): void {
    const key = this.keyAt[slot]!;
    this.beforeWrite(key, slot);
    this.removeSlot(slot);
    this.ev.expired(this, key);
  }

  private addVolatile(slot: number): void {
    if (this.volCount >= this.volatile.length) this.volatile = grow(this.volatile, this.volCount + 1);
    this.volatile[this.volCount] = slot;
    this.volPos[slot] = this.volCount++;
  }

  private clearExpiry(slot: number): void {
    const p = this.volPos[slot]!;
    const lastSlot = this.volatile[--this.volCount]!;
    this.volatile[p] = lastSlot;
    this.volPos[lastSlot] = p;
    this.volPos[slot] = -1;
    this.expireAt[slot] = 0;
    const cap = this.volatile.length;
    if (cap > 64 && this.volCount < cap >>> 2) this.volatile = this.volatile.slice(0, cap >>> 1);
  }

  private removeSlot(slot: number): void {
    const key = this.keyAt[slot]!;
    if (this.expireAt[slot] !== 0) this.clearExpiry(slot);
    this.memBytes -= this.sizes[slot]!;
    const last = this.keyAt.length - 1;
    if (slot !== last) {
      const movedKey = this.keyAt[last]!;
      this.keyAt[slot] = movedKey;
      this.valAt[slot] = this.valAt[last]!;
      this.expireAt[slot] = this.expireAt[last]!;
      this.meta[slot] = this.meta[last]!;
      this.sizes[slot] = this.sizes[last]!;
      const vp = this.volPos[last]!;
      this.volPos[slot] = vp;
      if (vp >= 0) this.volatile[vp] = slot;
      this.index.set(movedKey, slot);
      if (this.ev.moved != null) this.ev.moved(this, movedKey, last, slot);
    }
    this.keyAt.pop();
    this.valAt.pop();
    this.index.delete(key);
    shapeRemoved(this.shape, last);
    // Give memory back when the slots are mostly unused (amortized O(1), as they grew).
    const cap = this.meta.length;
    if (cap > 64 && last < cap >>> 2) this.shrinkSlots(cap >>> 1);
  }

  private shrinkSlots(cap: number): void {
    this.expireAt = this.expireAt.slice(0, cap);
    this.meta = this.meta.slice(0, cap);
    this.volPos = this.volPos.slice(0, cap);
    this.sizes = this.sizes.slice(0, cap);
    if (this.volatile.length > cap) this.volatile = this.volatile.slice(0, cap);
  }
}

/** Redis's default LRU access update. */
export function touchLru(meta: Uint32Array, slot: number): void {
  meta[slot] = clock.lru;
}
