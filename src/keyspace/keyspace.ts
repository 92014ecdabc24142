/**
 * One logical database: key → value, with expiries.
 *
 * Layout: keys live in dense slots — parallel arrays indexed by slot (key,
 * value, a record of key hash and position in the volatile index, access
 * metadata for LRU/LFU) — and an open-addressing hash table (linear probing,
 * Int32Array of slot + 1, 0 = empty) finds a key's slot. A second dense pair
 * of arrays lists the slots of volatile keys (those with a TTL) with their
 * absolute expiry, so keys without a TTL carry no expiry field at all.
 * Deletion swaps the last slot into the hole, so:
 *  - random sampling is O(1) (RANDOMKEY, eviction, active expiry), for all keys
 *    or volatile keys only;
 *  - SCAN walks slots from the highest to the lowest. A swap only ever moves an
 *    element from the highest slot to a lower one, so an element present for
 *    the whole scan is reported at least once (it can only move into the part
 *    not yet visited, or be visited again).
 * The table stores no keys, only slots: a lookup hashes the key once (seeded,
 * see hashKey) and compares the stored hash of each probed slot before the
 * key itself; deletes (backward-shift, no tombstones), swaps and rehashes use
 * the stored hashes and compare slot numbers only. The table is kept between
 * 15% and 60% full. Per key this costs a 16-byte slot record (plus growth
 * slack), 16 bytes of key/value array elements and ~7-13 bytes of table,
 * beyond the key and value strings — less than half of what a JS Map index
 * cost (28 bytes per entry of a table 1-4 times the number of keys, plus 24
 * bytes of typed arrays).
 *
 * Memory model (src/memory/size-model.ts): `memBytes` is the sum of the
 * modelled bytes of every key and value (`Keyspace.measure`, O(1)), kept
 * exact on insert, overwrite and delete; a value handed out by `getForWrite`
 * is measured out then, and back in when its command ends
 * (`KeyspaceEvents.mutated` → `remeasure`). `shape` follows the capacity of
 * the key/value arrays (src/memory/table-shape.ts); the typed arrays report
 * their own lengths.
 *
 * Short plain string values (up to ARENA_MAX_LENGTH chars) are kept off the
 * V8 heap, in the database's ValueArena (value-arena.ts): the value array
 * holds their handle (a small integer), and every method handing a value
 * out reads it back into a new string. They are measured as the heap string
 * they replace, so used_memory does not change with where a value is kept.
 */
import { clock, now } from './clock.js';
import type { Value } from './values.js';
import { newTableShape, shapeAdded, shapeRemoved, type TableShape } from '../memory/table-shape.js';
import { ARENA_MAX_LENGTH, ValueArena } from './value-arena.js';

export interface KeyspaceEvents {
  /** A key was found logically expired and removed (lazily or actively). */
  expired(db: Keyspace, key: string): void;
  /** Called before an existing key is overwritten, mutated or deleted (copy-on-write snapshots). */
  beforeWrite: ((db: Keyspace, key: string, slot: number) => void) | null;
  /** Access metadata update on a read or write (LRU clock or LFU counter). */
  touch(rec: Int32Array, at: number): void;
  /** Access metadata of a key just added (LFU starts new keys at a fixed counter); `touch` when absent. */
  init?: (rec: Int32Array, at: number) => void;
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

/** Slots of the per-slot typed arrays a new (or cleared) database starts with. */
const INITIAL_SLOTS = 16;
/** Entries of the hash table a new database starts with (a power of two). */
const INITIAL_TABLE = 16;
/** The table grows (doubles) past this fill ratio, and halves below SHRINK_LOAD. */
const MAX_LOAD = 0.6;
const SHRINK_LOAD = 0.15;
/** Int32s per slot record (16 bytes: a record never straddles a cache line), and the fields' offsets in it. */
const REC = 4;
const R_HASH = 0;
const R_AUX = 1;
/** Access metadata: the LRU clock or LFU (ldt << 8 | counter), see keyspace/clock.ts; 28 bits at most. */
const R_META = 2;
/** The modelled bytes of key and value counted in memBytes (SIZE_SAT: that many or more, measure again). */
const R_SIZE = 3;
const SIZE_SAT = 0x7fffffff;
/** R_AUX: position in the volatile index + 1 (0: no expiry) in the low bits ... */
const VOL_MASK = (1 << 30) - 1;
/** ... and this bit while the value is "measured out" (handed to getForWrite, re-measured at the command's end). */
const OUT = 1 << 30;

/**
 * Grow a typed array to hold `need` elements: by half again (as V8 grows a
 * JS array's backing store), so that the slack after growth is at most a
 * third and the garbage a growth leaves (the old array) two thirds of the new.
 */
function grow<T extends Float64Array | Uint32Array | Int32Array>(a: T, need: number, exact = 0): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(exact > 0 ? exact : Math.max(need, a.length + (a.length >>> 1), INITIAL_SLOTS));
  b.set(a);
  return b;
}

/** Per-process random seed of the key hash (hash flooding needs the seed to aim collisions). */
const HASH_SEED = (Math.random() * 0x100000000) | 0;

/**
 * The hash of a key (a latin1 string): FNV-1a over its chars, four at a
 * time (a latin1 char is a byte), from a random seed, then murmur3's
 * finalizer so the low bits (the table index) depend on every char. An int32.
 */
export function hashKey(key: string): number {
  const n = key.length;
  let h = HASH_SEED ^ n;
  let i = 0;
  // Four chars (bytes: latin1) a step, then the tail one by one.
  for (const end = n - 3; i < end; i += 4) {
    h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24)), 0x01000193);
  }
  for (; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class Keyspace {
  /** Open-addressing index: slot + 1 of a key, 0 for an empty entry; length a power of two. */
  private table = new Int32Array(INITIAL_TABLE);
  private mask = INITIAL_TABLE - 1;
  /** Keys the table takes before it doubles. */
  private growAt = Math.floor(INITIAL_TABLE * MAX_LOAD);
  private keyAt: string[] = [];
  /**
   * Per slot, the value, or for a short plain string its handle in `arena`
   * (a small integer: see value-arena.ts). Every method handing a value out
   * reads an arena value back into a (new, young) string.
   */
  private valAt: (Value | number)[] = [];
  /** Off-heap bytes of the short plain string values; replaced by clear(), so frozen slot arrays keep theirs. */
  private arena = new ValueArena();
  /**
   * Per slot, one record of REC int32s in one cache line: [R_HASH] hashKey
   * of the key; [R_AUX] position in `volatile` / `volExp` + 1 (0: no expiry,
   * VOL_MASK bits) and the OUT flag; [R_META] access metadata; [R_SIZE] the
   * bytes the slot counts in memBytes. What a lookup, an access update and an
   * eviction read of a key other than its strings is one line (eviction
   * reads neither the key nor the value string: a miss each at random slots).
   */
  private rec = new Int32Array(INITIAL_SLOTS * REC);
  /** Dense list of slots that have an expiry, and their absolute expiry in ms. */
  private volatile = new Int32Array(INITIAL_SLOTS);
  private volExp = new Float64Array(INITIAL_SLOTS);
  private volCount = 0;
  /** Modelled bytes of every key and value (Keyspace.measure summed; see sizeOfSlot). */
  memBytes = 0;
  /** Capacity of the key and value arrays, as V8 grows them (memory model). */
  shape: TableShape = newTableShape();
  /** The memory model's size of one key and its value; installed by src/memory/size-model.ts. */
  static measure: (key: string, value: Value) => number = () => 0;
  /** Bumped on every write to a key; used by WATCH and blocking wake-ups. */
  version = 0;
  /**
   * The last key hashed and its hash: commands look a key up more than once
   * (SET: NX/XX check, then the write; in-place writes: lookup, then the
   * re-measure), with the same string, which then hashes once.
   */
  private hashedKey = '';
  private hashed = hashKey('');
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
  /** Entries of the hash table (memory model). */
  get tableCapacity(): number {
    return this.table.length;
  }
  /** Capacity of the per-slot typed arrays (memory model). */
  get slotCapacity(): number {
    return this.rec.length / REC;
  }

  /** Access metadata of a slot (LRU clock or LFU ldt << 8 | counter; see keyspace/clock.ts). */
  metaOf(slot: number): number {
    return this.rec[slot * REC + R_META]!;
  }
  setMeta(slot: number, meta: number): void {
    this.rec[slot * REC + R_META] = meta;
  }

  // ---- the hash table ----------------------------------------------------

  private hashOf(key: string): number {
    if (key === this.hashedKey) return this.hashed;
    const h = hashKey(key);
    this.hashedKey = key;
    this.hashed = h;
    return h;
  }

  /** Slot of a key (expired or not), or -1; `h` is hashKey(key). */
  private find(key: string, h: number): number {
    const table = this.table;
    const mask = this.mask;
    const rec = this.rec;
    let i = h & mask;
    for (;;) {
      const s = table[i]!;
      if (s === 0) return -1;
      if (rec[(s - 1) * REC] === h && this.keyAt[s - 1] === key) return s - 1;
      i = (i + 1) & mask;
    }
  }

  /** Put a slot into the table (it is not there yet; the table has room). */
  private place(h: number, slot: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot + 1;
  }

  /** The table entry holding a slot. */
  private entryOf(slot: number): number {
    const table = this.table;
    const mask = this.mask;
    const want = slot + 1;
    let i = this.rec[slot * REC]! & mask;
    while (table[i] !== want) i = (i + 1) & mask;
    return i;
  }

  /**
   * Empty table entry `i`, then move back every entry of the probe run after
   * it that may move into the hole (backward-shift deletion: no tombstones,
   * so probe runs stay as short as the fill ratio makes them).
   */
  private unlink(i: number): void {
    const table = this.table;
    const mask = this.mask;
    const rec = this.rec;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = table[j]!;
      if (s === 0) break;
      const home = rec[(s - 1) * REC]! & mask;
      // The entry at j may fill the hole at i when i lies in its probe run [home, j).
      if (((j - home) & mask) >= ((j - i) & mask)) {
        table[i] = s;
        i = j;
      }
    }
    table[i] = 0;
  }

  /** Rebuild the table with `cap` entries (a power of two) from the stored hashes. */
  private rehash(cap: number): void {
    this.table = new Int32Array(cap);
    this.mask = cap - 1;
    this.growAt = Math.floor(cap * MAX_LOAD);
    const rec = this.rec;
    for (let s = this.keyAt.length - 1; s >= 0; s--) this.place(rec[s * REC]!, s);
  }

  // ---- sizes (memory model) ------------------------------------------------

  /**
   * The modelled bytes of a slot's key and value, measured now (the size
   * model is O(1) for every value, size-model.ts). What memBytes counts for
   * a slot is stored in its record when it is counted (a key added or
   * overwritten, a value re-measured), so that deleting it reads neither
   * string. A value changed in place is "measured out" by getForWrite (its
   * size leaves memBytes, the OUT flag is set) and measured back in by
   * remeasure when its command ends.
   */
  sizeOfSlot(slot: number): number {
    return Keyspace.measure(this.keyAt[slot]!, this.val(slot));
  }

  /** The value at a slot (read out of the arena when it is stored there). */
  private val(slot: number): Value {
    const v = this.valAt[slot]!;
    return typeof v === 'number' ? this.arena.read(v) : v;
  }

  /** What valAt keeps for a value: an arena handle for a short plain string, else the value. */
  private pack(value: Value): Value | number {
    if (typeof value === 'string' && value.length <= ARENA_MAX_LENGTH) {
      const h = this.arena.store(value);
      if (h >= 0) return h;
    }
    return value;
  }

  /** Free the slot's arena chunk, if its value has one (before it is overwritten or removed). */
  private unpack(slot: number): void {
    const v = this.valAt[slot];
    if (typeof v === 'number') this.arena.release(v);
  }

  /** Record what a slot counts in memBytes now; returns it. */
  private countIn(slot: number, bytes: number): number {
    this.rec[slot * REC + R_SIZE] = bytes >= SIZE_SAT ? SIZE_SAT : bytes;
    return bytes;
  }

  /** The slot's bytes counted in memBytes now (0 while measured out). */
  private countedBytes(slot: number): number {
    const r = slot * REC;
    if ((this.rec[r + R_AUX]! & OUT) !== 0) return 0;
    const b = this.rec[r + R_SIZE]!;
    return b === SIZE_SAT ? Keyspace.measure(this.keyAt[slot]!, this.val(slot)) : b;
  }

  /** Position of a slot in the volatile index, or -1. */
  private volOf(slot: number): number {
    return (this.rec[slot * REC + R_AUX]! & VOL_MASK) - 1;
  }

  private setVol(slot: number, p: number): void {
    const i = slot * REC + R_AUX;
    this.rec[i] = (this.rec[i]! & OUT) | (p + 1);
  }

  // ---- lookups -----------------------------------------------------------

  /** Absolute expiry of a slot in ms, 0 for none. */
  private expiryOf(slot: number): number {
    const vp = (this.rec[slot * REC + R_AUX]! & VOL_MASK) - 1;
    return vp < 0 ? 0 : this.volExp[vp]!;
  }

  /** Slot of a live key, expiring it first if needed; -1 if absent. `h` is hashKey(key). */
  private live(key: string, h = this.hashOf(key)): number {
    const slot = this.find(key, h);
    if (slot < 0) return -1;
    const vp = (this.rec[slot * REC + R_AUX]! & VOL_MASK) - 1;
    if (vp >= 0) {
      const exp = this.volExp[vp]!;
      if (exp !== 0 && exp <= now()) {
        if (this.ev.noExpiry === true) return slot;
        if (this.ev.lazyDeleteDisabled) return -1;
        this.expireSlot(slot);
        return -1;
      }
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
    if (this.ev.noTouch !== true) this.ev.touch(this.rec, slot * REC + R_META);
    return this.val(slot);
  }

  /** Lookup with no side effect on stats or access time (TYPE, OBJECT, EXISTS-like checks). */
  peek(key: string): Value | undefined {
    const slot = this.live(key);
    return slot < 0 ? undefined : this.val(slot);
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
    if (this.ev.noTouch !== true) this.ev.touch(this.rec, slot * REC + R_META);
    const m = this.ev.mutated;
    if (m != null) {
      const i = slot * REC + R_AUX;
      const a = this.rec[i]!;
      if ((a & OUT) === 0) {
        this.memBytes -= this.countedBytes(slot);
        this.rec[i] = a | OUT;
        m(this, key);
      }
    }
    const v = this.valAt[slot]!;
    if (typeof v !== 'number') return v;
    // Changed in place next: keep it on the heap from now on (same modelled size).
    const str = this.arena.read(v);
    this.arena.release(v);
    this.valAt[slot] = str;
    return str;
  }

  /** Re-measure a key's value after an in-place change (memory model). */
  remeasure(key: string): void {
    const slot = this.find(key, this.hashOf(key));
    if (slot < 0) return;
    const i = slot * REC + R_AUX;
    const a = this.rec[i]!;
    if ((a & OUT) === 0) return; // overwritten (or deleted and added again) since: counted already
    this.rec[i] = a & ~OUT;
    this.memBytes += this.countIn(slot, Keyspace.measure(key, this.val(slot)));
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
    const h = this.hashOf(key);
    const slot = this.live(key, h);
    if (slot < 0 && this.ev.lazyDeleteDisabled) {
      // A write to a key that expired but is kept (hidden) on a writable replica deletes it as expired
      // first, as Redis's write lookups do; the new value is a new key.
      const stale = this.find(key, h);
      if (stale >= 0) this.expireSlot(stale);
    }
    if (slot >= 0) {
      this.beforeWrite(key, slot);
      const old = this.countedBytes(slot);
      this.rec[slot * REC + R_AUX] &= ~OUT;
      this.unpack(slot);
      this.valAt[slot] = this.pack(value);
      this.memBytes += this.countIn(slot, Keyspace.measure(key, value)) - old;
      if (!keepTtl && this.volOf(slot) >= 0) this.clearExpiry(slot);
      this.ev.touch(this.rec, slot * REC + R_META);
    } else {
      this.insert(key, h, value);
    }
    if (Keyspace.onStore !== null) Keyspace.onStore(this, key, value);
  }

  /** Insert a key known to be absent; `h` is hashKey(key). */
  private insert(key: string, h: number, value: Value): number {
    const slot = this.keyAt.length;
    this.version++;
    shapeAdded(this.shape, slot);
    this.keyAt.push(key);
    this.valAt.push(this.pack(value));
    const r = slot * REC;
    if (r >= this.rec.length) {
      const cap = this.rec.length / REC;
      this.rec = grow(this.rec, r + REC, Math.max(slot + 1, cap + (cap >>> 1), INITIAL_SLOTS) * REC);
    }
    this.rec[r + R_HASH] = h;
    this.rec[r + R_AUX] = 0;
    this.memBytes += this.countIn(slot, Keyspace.measure(key, value));
    (this.ev.init ?? this.ev.touch)(this.rec, r + R_META);
    if (slot >= this.growAt) this.rehash(this.table.length * 2);
    else this.place(h, slot);
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

  /**
   * Delete `key` at `slot` if that slot still holds it (the same string:
   * eviction deletes the candidates it sampled without looking them up).
   * 1: deleted; 0: it had expired (removed as expired, or hidden on a
   * replica); -1: the slot holds another key now (look the key up instead).
   */
  deleteAt(slot: number, key: string): number {
    if (slot >= this.keyAt.length || this.keyAt[slot] !== key) return -1;
    const exp = this.expiryOf(slot);
    if (exp !== 0 && exp <= now() && this.ev.noExpiry !== true) {
      if (!this.ev.lazyDeleteDisabled) this.expireSlot(slot);
      return 0;
    }
    this.beforeWrite(key, slot);
    this.removeSlot(slot);
    return 1;
  }

  /** Set the absolute expiry (ms since the epoch) of an existing key. */
  setExpire(key: string, at: number): boolean {
    const slot = this.live(key);
    if (slot < 0) return false;
    this.beforeWrite(key, slot);
    const vp = this.volOf(slot);
    if (vp >= 0) this.volExp[vp] = at;
    else this.addVolatile(slot, at);
    return true;
  }

  /** Absolute expiry in ms, 0 when the key has none, -1 when it does not exist. */
  getExpire(key: string): number {
    const slot = this.live(key);
    return slot < 0 ? -1 : this.expiryOf(slot);
  }

  /** Remove a key's expiry; true if it had one. */
  persist(key: string): boolean {
    const slot = this.live(key);
    if (slot < 0 || this.expiryOf(slot) === 0) return false;
    this.beforeWrite(key, slot);
    this.clearExpiry(slot);
    return true;
  }

  /** Remove every key. Returns how many there were. */
  clear(): number {
    const n = this.keyAt.length;
    if (this.ev.beforeClear != null) this.ev.beforeClear(this);
    this.table = new Int32Array(INITIAL_TABLE);
    this.mask = INITIAL_TABLE - 1;
    this.growAt = Math.floor(INITIAL_TABLE * MAX_LOAD);
    this.keyAt = [];
    this.valAt = [];
    this.arena = new ValueArena();
    this.rec = new Int32Array(INITIAL_SLOTS * REC);
    this.volatile = new Int32Array(INITIAL_SLOTS);
    this.volExp = new Float64Array(INITIAL_SLOTS);
    this.volCount = 0;
    this.memBytes = 0;
    this.shape = newTableShape();
    this.fieldExpiry = null;
    this.version++;
    return n;
  }

  /** Swap the whole contents with another database (SWAPDB). */
  swapWith(other: Keyspace): void {
    const fields = [
      'table',
      'mask',
      'growAt',
      'keyAt',
      'valAt',
      'arena',
      'rec',
      'volatile',
      'volExp',
      'volCount',
      'fieldExpiry',
      'memBytes',
      'shape',
    ] as const;
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
    return this.val(slot);
  }
  /** Absolute expiry of a slot in ms, 0 for none. */
  expireOf(slot: number): number {
    return this.expiryOf(slot);
  }
  slotOf(key: string): number {
    return this.find(key, this.hashOf(key));
  }

  /**
   * The dense per-slot arrays, for snapshots. Read only. clear() and
   * swapWith() replace them wholesale (so arrays taken in a beforeClear hook
   * stay frozen), and growth may replace the typed ones: take them again
   * rather than keeping them across writes. `expires` is built for the call
   * (keys without a TTL have no expiry field of their own).
   */
  slotArrays(): { keys: readonly string[]; valueAt: (slot: number) => Value; expires: Float64Array; meta: Uint32Array } {
    const n = this.keyAt.length;
    const expires = new Float64Array(n);
    for (let v = 0; v < this.volCount; v++) expires[this.volatile[v]!] = this.volExp[v]!;
    const meta = new Uint32Array(n);
    for (let s = 0; s < n; s++) meta[s] = this.rec[s * REC + R_META]!;
    const values = this.valAt;
    const arena = this.arena;
    const valueAt = (slot: number): Value => {
      const v = values[slot]!;
      return typeof v === 'number' ? arena.read(v) : v;
    };
    return { keys: this.keyAt, valueAt, expires, meta };
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
      const exp = this.expiryOf(slot);
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
    const exp = this.expiryOf(slot);
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
      const exp = this.expiryOf(i);
      if (exp !== 0 && exp <= t) {
        // Like Redis, SCAN deletes the expired keys it meets. The last slot moves into this one;
        // every slot above was visited already, so the scan guarantees hold.
        if (this.ev.noExpiry !== true && !this.ev.lazyDeleteDisabled) this.expireSlot(i);
        continue;
      }
      visit(this.keyAt[i]!, this.val(i));
    }
    return i < 0 ? 0 : i + 1;
  }

  /** Every live key (KEYS). */
  forEachLive(visit: (key: string, value: Value, slot: number) => void): void {
    const t = now();
    for (let i = this.keyAt.length - 1; i >= 0; i--) {
      const exp = this.expiryOf(i);
      if (exp !== 0 && exp <= t) continue;
      visit(this.keyAt[i]!, this.val(i), i);
    }
  }

  // ---- internals ---------------------------------------------------------

  private expireSlot(slot: number): void {
    const key = this.keyAt[slot]!;
    this.beforeWrite(key, slot);
    this.removeSlot(slot);
    this.ev.expired(this, key);
  }

  private addVolatile(slot: number, at: number): void {
    const p = this.volCount;
    if (p >= this.volatile.length) {
      this.volatile = grow(this.volatile, p + 1);
      this.volExp = grow(this.volExp, p + 1);
    }
    this.volatile[p] = slot;
    this.volExp[p] = at;
    this.setVol(slot, p);
    this.volCount = p + 1;
  }

  private clearExpiry(slot: number): void {
    const p = this.volOf(slot);
    const last = --this.volCount;
    if (p !== last) {
      const lastSlot = this.volatile[last]!;
      this.volatile[p] = lastSlot;
      this.volExp[p] = this.volExp[last]!;
      this.setVol(lastSlot, p);
    }
    this.setVol(slot, -1);
    const cap = this.volatile.length;
    if (cap > 64 && this.volCount < cap >>> 2) {
      this.volatile = this.volatile.slice(0, cap >>> 1);
      this.volExp = this.volExp.slice(0, cap >>> 1);
    }
  }

  private removeSlot(slot: number): void {
    const key = this.keyAt[slot]!;
    if (this.volOf(slot) >= 0) this.clearExpiry(slot);
    this.memBytes -= this.countedBytes(slot);
    this.unpack(slot);
    this.unlink(this.entryOf(slot));
    const last = this.keyAt.length - 1;
    if (slot !== last) {
      const movedKey = this.keyAt[last]!;
      // Repoint the moved key's table entry (found by its stored hash) before its hash moves.
      this.table[this.entryOf(last)] = slot + 1;
      this.keyAt[slot] = movedKey;
      this.valAt[slot] = this.valAt[last]!;
      const rec = this.rec;
      const to = slot * REC;
      const from = last * REC;
      rec[to + R_HASH] = rec[from + R_HASH]!;
      const aux = rec[from + R_AUX]!;
      rec[to + R_AUX] = aux;
      rec[to + R_META] = rec[from + R_META]!;
      rec[to + R_SIZE] = rec[from + R_SIZE]!;
      const vp = (aux & VOL_MASK) - 1;
      if (vp >= 0) this.volatile[vp] = slot;
      if (this.ev.moved != null) this.ev.moved(this, movedKey, last, slot);
    }
    this.keyAt.pop();
    this.valAt.pop();
    shapeRemoved(this.shape, last);
    // Give memory back when the table and slots are mostly unused (amortized O(1), as they grew).
    const tcap = this.table.length;
    if (tcap > INITIAL_TABLE && last < tcap * SHRINK_LOAD) this.rehash(tcap >>> 1);
    const cap = this.rec.length / REC;
    if (cap > 64 && last < cap >>> 2) this.shrinkSlots(cap >>> 1);
  }

  private shrinkSlots(cap: number): void {
    this.rec = this.rec.slice(0, cap * REC);
  }
}

/**
 * Tenths of a second (0-9) into the LRU clock's current second, as of the
 * last cron tick (src/memory/memory.ts refreshes it right after the LRU
 * clock). touchLru keeps it in the metadata's top 8 bits, above Redis's
 * 24-bit seconds clock that OBJECT IDLETIME, DEBUG OBJECT and RDB files read
 * (idleMsFromLru masks it off): the eviction pool orders keys idle for the
 * same number of seconds by it, at the cron's resolution (100 ms at hz 10).
 */
export const lruFine = { tenths: 0 };

/** Redis's default LRU access update (plus the tenths of a second, see lruFine). */
export function touchLru(rec: Int32Array, at: number): void {
  rec[at] = clock.lru | (lruFine.tenths << 24);
}
