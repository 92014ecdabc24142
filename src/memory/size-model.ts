/**
 * The memory model: what `used_memory` counts, and so what `maxmemory`
 * bounds.
 *
 * cacheside keeps its data in V8's heap, where no allocator tells how many
 * bytes one key costs, and reading the heap (process.memoryUsage()) is both
 * slow and blind to what is garbage. So, as Redis adds up its allocations,
 * the engine adds up a *model* of them: for every key, the bytes of the V8
 * objects that hold the key and its value, computed in O(1) from counters
 * each value keeps exact (`size`, `bytes`, capacities), and summed per
 * database in the keyspace (keyspace.ts: `memBytes`). used_memory is then a
 * handful of additions, O(number of databases), whatever the number of keys.
 *
 * Layout facts the model uses (64-bit V8 as Node ships it: no pointer
 * compression, 8-byte words):
 *  - a string of n latin1 chars is a sequential one-byte string: a 16-byte
 *    header (map, hash, length) and the chars, rounded up to 8 bytes;
 *  - a JS array is a 32-byte object and a backing store of 16 bytes + 8 per
 *    element of capacity; pushes grow the capacity to 1.5 × the need + 16;
 *  - a Map is a 32-byte object and an ordered hash table of 40 bytes + 28
 *    per entry of capacity (3 words per entry, a bucket word per 2 entries);
 *    the capacity is a power of two, at least the number of entries;
 *  - a Buffer below 4 KiB is a slice of an 8 KiB pool (which it shares with
 *    as many equal slices as fit), a larger one has its own backing store.
 *
 * Per key (computed when a key is added, overwritten, changed in place or deleted):
 *    string(key) + value
 * Per value type (n = elements, b = sum of element lengths; strings(n, b) =
 * 20n + b, i.e. a 16-byte header per string and 4 bytes of rounding on
 * average):
 *  - string:          string(len) (also for a short string the keyspace
 *                     keeps off the heap, in its ValueArena: a chunk of
 *                     2 + len bytes rounded up to 16, about as much)
 *  - grown string (APPEND/SETRANGE/SETBIT result): 170 + its buffer; a
 *    pooled buffer counts 1.5 times, as the pool slices it outgrew stay
 *    allocated while their pool lives
 *  - hash:            112 + 2 arrays(n) + strings(2n, b) + Map(n) once n > 8
 *                     (+ 2 arrays and a Map over the fields with a TTL)
 *  - list:            120 (with its ring's array object) + 8 × ring capacity
 *                     + strings(n, b)
 *  - set:             72 + array(n) + Map(n) + strings(n, b)
 *  - sorted set:      700 (the value, skiplist and typed-array objects) +
 *                     the skiplist's typed arrays as allocated (node records,
 *                     slot handles: ZsetValue.arrayBytes) + array(n) + Map(n)
 *                     + strings(n, b)
 *  - stream:          200 + 400 per node + per entry 88 (ID slots, the
 *                     field/value array) + strings(2n, b) (one pair a entry);
 *                     an entry of the node's lone master field is its value
 *                     string alone: 24 + one string
 *  - other kinds register a sizer with `registerSizer`.
 * Per database (computed when read): the key/value arrays at the capacities
 * V8 gives them (table-shape.ts), the key index (an Int32Array hash table, 4
 * bytes an entry), 12 bytes per slot of the typed arrays (key hash, LRU/LFU
 * metadata, volatile position), 12 bytes per entry of the
 * volatile index (slot and expiry time) — the expiry entries.
 * Per client: 8 KiB (session, connection, socket and parser objects) + its
 * query buffer + its pending output + its MULTI queue; refreshed by the cron.
 * Start-up: a fixed 768 KiB for the engine's own tables, near Redis's own
 * start-up figure, so that a maxmemory tuned for Redis holds about the same
 * data here, plus the empty databases.
 *
 * test/unit/size-model.test.ts checks the model against the real heap growth
 * (node's heap statistics after forced GCs) for every type.
 */
import type { AggregateKind, AggregateValue, Value } from '../keyspace/values.js';
import { MutableString } from '../keyspace/values.js';
import { Keyspace } from '../keyspace/keyspace.js';
import type { HashValue } from '../hash/hash-value.js';
import type { ListValue } from '../list/list-value.js';
import type { SetValue } from '../set/set-value.js';
import type { ZsetValue } from '../zset/zset-value.js';

// ---- V8 layout ----------------------------------------------------------------------

const STRING_HEADER = 16;
const JS_ARRAY = 32;
const FIXED_ARRAY_HEADER = 16;
const JS_MAP = 32;
const HASH_TABLE_HEADER = 40;
const HASH_TABLE_ENTRY = 28;
const BUFFER_POOL = 8192;
const ARRAY_BUFFER_OVERHEAD = 72;

/** One sequential latin1 string of `len` chars. */
export function stringBytes(len: number): number {
  return Math.ceil((STRING_HEADER + len) / 8) * 8;
}

/** `n` strings of `bytes` chars in all (rounding averaged). */
export function stringsBytes(n: number, bytes: number): number {
  return n * (STRING_HEADER + 4) + bytes;
}

/** Capacities a JS array goes through when filled by push: 17, 43, 82, 140, ... */
const ARRAY_CAPS: number[] = [];
for (let c = 0; c < 2 ** 32; ) {
  c = c + 1 + ((c + 1) >>> 1) + 16;
  ARRAY_CAPS.push(c);
}

/** The backing-store capacity of an array of `n` elements built by push. */
export function arrayCapacity(n: number): number {
  if (n === 0) return 0;
  let lo = 0;
  let hi = ARRAY_CAPS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ARRAY_CAPS[mid]! >= n) hi = mid;
    else lo = mid + 1;
  }
  return ARRAY_CAPS[lo]!;
}

/** A JS array holding `n` elements (built by push). */
export function arrayBytes(n: number): number {
  return JS_ARRAY + (n === 0 ? 0 : FIXED_ARRAY_HEADER + 8 * arrayCapacity(n));
}

/** The smallest power of two >= n, at least 4 (an ordered hash table's capacity). */
function tableCapacity(n: number): number {
  if (n <= 4) return 4;
  return n > 2 ** 30 ? 2 ** Math.ceil(Math.log2(n)) : 2 ** (32 - Math.clz32(n - 1));
}

/** A Map holding `n` entries (filled by set). */
export function mapBytes(n: number): number {
  return JS_MAP + HASH_TABLE_HEADER + HASH_TABLE_ENTRY * tableCapacity(n);
}

/** A Buffer's backing memory: its share of an 8 KiB pool (with what it outgrew), or its own store. */
function bufferBytes(cap: number): number {
  if (cap < BUFFER_POOL >>> 1) {
    const slice = Math.ceil(cap / 8) * 8 || 8;
    return Math.ceil((1.5 * BUFFER_POOL) / Math.floor(BUFFER_POOL / slice));
  }
  return cap + ARRAY_BUFFER_OVERHEAD;
}

// ---- values -------------------------------------------------------------------------

/** MutableString object + its Buffer view object. */
const MUTABLE_STRING = 170;
/** The value objects alone (their arrays and Maps are counted apart). */
const HASH_BASE = 112;
const LIST_BASE = 120;
const SET_BASE = 72;
/** ZsetValue + Skiplist + their typed-array objects (the nodes are records in those arrays: ZsetValue.arrayBytes). */
const ZSET_BASE = 700;
/** Hashes find fields by linear scan up to this many fields, then build a Map (hash-value.ts). */
const HASH_LINEAR_MAX = 8;

export type Sizer = (v: AggregateValue) => number;
const sizers = new Map<AggregateKind, Sizer>();

/** Let a value kind (streams, ...) size its values. The function must be O(1). */
export function registerSizer(kind: AggregateKind, fn: Sizer): void {
  sizers.set(kind, fn);
}

registerSizer('hash', (v) => {
  const h = v as HashValue;
  const n = h.size;
  let b = HASH_BASE + 2 * arrayBytes(n) + stringsBytes(2 * n, h.bytes);
  if (n > HASH_LINEAR_MAX) b += mapBytes(n);
  const t = h.volatileCount;
  if (t > 0) b += 2 * arrayBytes(t) + mapBytes(t);
  return b;
});

registerSizer('list', (v) => {
  const l = v as ListValue;
  return LIST_BASE + 8 * l.capacity + stringsBytes(l.size, l.bytes);
});

registerSizer('set', (v) => {
  const s = v as SetValue;
  const n = s.size;
  return SET_BASE + arrayBytes(n) + mapBytes(n) + stringsBytes(n, s.bytes);
});

registerSizer('zset', (v) => {
  const z = v as ZsetValue;
  const n = z.size;
  return ZSET_BASE + z.arrayBytes + arrayBytes(n) + mapBytes(n) + stringsBytes(n, z.bytes);
});

/**
 * Streams: per entry its ID (two array slots) and its field/value array with
 * the strings (one pair counted per entry: the model cannot see how many
 * fields an entry has, only their total length), per node its arrays.
 * Consumer groups and their pending entries are not counted.
 */
const STREAM_BASE = 200;
const STREAM_NODE = 400;
const STREAM_ENTRY = 2 * 8 + 8 + JS_ARRAY + FIXED_ARRAY_HEADER + 2 * 8;
/** An entry of the node's lone master field, stored as its value string alone: ID slots and one slot. */
const STREAM_COMPACT_ENTRY = 2 * 8 + 8;
registerSizer('stream', (v) => {
  const st = v as unknown as { size: number; bytes: number; nodeCount: number; compactEntries: number };
  const c = st.compactEntries;
  return (
    STREAM_BASE +
    STREAM_NODE * st.nodeCount +
    (st.size - c) * STREAM_ENTRY +
    c * STREAM_COMPACT_ENTRY +
    stringsBytes(2 * st.size - c, st.bytes)
  );
});

/** Fallback for a kind with no sizer: 64 bytes per element plus its bytes. */
function genericSize(v: AggregateValue): number {
  const g = v as unknown as { size?: unknown; bytes?: unknown; length?: unknown };
  const n = typeof g.size === 'number' ? g.size : typeof g.length === 'number' ? g.length : 0;
  const b = typeof g.bytes === 'number' ? g.bytes : 0;
  return 256 + 64 * n + b;
}

/** Modelled bytes of a value. */
export function valueBytes(v: Value): number {
  if (typeof v === 'string') return stringBytes(v.length);
  if (v instanceof MutableString) return MUTABLE_STRING + bufferBytes(v.buf.length);
  const fn = sizers.get(v.kind);
  return fn === undefined ? genericSize(v) : fn(v);
}

/** Modelled bytes of a key and its value (what a keyspace slot records). */
export function entryBytes(key: string, v: Value): number {
  return stringBytes(key.length) + valueBytes(v);
}

Keyspace.measure = entryBytes;

// ---- databases ----------------------------------------------------------------------

/** The Keyspace object, its array objects, its typed-array objects. */
const DB_BASE = 1024;
/** Per slot of the typed arrays: key hash (4), volatile position and flags (4), metadata (4), counted size (4). */
const DB_SLOT = 16;
/** Per entry of the key index (an Int32Array hash table, 15-60% full). */
const TABLE_ENTRY = 4;
/** Per entry of the volatile index: its slot (Int32Array) and expiry (Float64Array). */
const VOLATILE_ENTRY = 12;

/** The bytes of a database's own structure: key index, slot arrays, expiry index. */
export function dbOverheadBytes(db: Keyspace): number {
  return (
    DB_BASE +
    TABLE_ENTRY * db.tableCapacity +
    2 * (FIXED_ARRAY_HEADER + 8 * db.shape.arrCap) +
    DB_SLOT * db.slotCapacity +
    VOLATILE_ENTRY * db.volatileCapacity
  );
}

/** Of which the expiry entries (overhead.hashtable.expires): the volatile index and the slots' positions in it. */
export function dbExpiresBytes(db: Keyspace): number {
  return VOLATILE_ENTRY * db.volatileCapacity + 4 * db.slotCapacity;
}

/**
 * The average per-key share of a database's structure (MEMORY USAGE adds it
 * to the key's own bytes): the key and value array elements, the slot's typed
 * arrays, and the hash table at its middle fill ratio.
 */
export const PER_KEY_OVERHEAD = 2 * 8 + DB_SLOT + Math.round(TABLE_ENTRY / 0.4);

/** The engine's fixed tables at start-up. */
export const ENGINE_BASE = 768 * 1024;
/** One client's objects beyond its buffers. */
export const CLIENT_BASE = 8 * 1024;
