/**
 * An off-heap store for short plain string values (one per Keyspace).
 *
 * Why: a value string stored in the keyspace lives long enough to be
 * promoted to V8's old generation, and when it is overwritten, deleted or
 * evicted it becomes old-generation garbage that only a full mark-sweep
 * reclaims. Under constant eviction that is a mark-sweep every ~100k SETs.
 * Bytes kept in Buffers outside the heap are neither promoted nor swept: the
 * string a command builds (from the request, or by reading a value here)
 * dies young, in a cheap scavenge.
 *
 * Layout: slabs of SLAB_BYTES (Buffer.allocUnsafeSlow: their own backing
 * store, not the 8 KiB pool), carved into chunks of a size class (multiples
 * of UNIT bytes, up to MAX_CHUNK). A chunk holds the value's length (2 bytes,
 * little-endian) then its latin1 bytes (a latin1 string is one byte a char).
 * A freed chunk goes to its class's free list (a stack of handles) and is
 * reused before new space is carved; space is never moved between classes.
 *
 * A handle is the chunk's offset in UNIT-byte units from the start of slab 0:
 * slab = handle >>> UNITS_PER_SLAB_LOG, offset = (handle & mask) * UNIT.
 * Handles are non-negative small integers (Smis: storing one allocates
 * nothing), below 2^26 with MAX_SLABS slabs. `store` returns -1 when the
 * value does not fit (too long, or the arena is at MAX_SLABS): keep the
 * string on the heap then.
 */

const UNIT_LOG = 4;
const UNIT = 1 << UNIT_LOG;
const SLAB_LOG = 20;
const SLAB_BYTES = 1 << SLAB_LOG;
const UNITS_PER_SLAB_LOG = SLAB_LOG - UNIT_LOG;
const UNIT_MASK = (1 << UNITS_PER_SLAB_LOG) - 1;
/** Bytes before the value in a chunk (its length). */
const HEADER = 2;
/** The largest chunk, and so the longest value the arena holds. */
const MAX_CHUNK = 528;
export const ARENA_MAX_LENGTH = MAX_CHUNK - HEADER;
/** Slabs at most (1 GiB); beyond that values stay on the heap. */
const MAX_SLABS = 1024;
const CLASSES = MAX_CHUNK >>> UNIT_LOG;

interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length: number): number;
}

export class ValueArena {
  private slabs: Latin1Buffer[] = [];
  /** Next free unit in the last slab (bump allocation), in units from its start. */
  private bump = 1 << UNITS_PER_SLAB_LOG;
  /** Per class (chunk units - 1): a stack of free handles, and its depth. */
  private free: Int32Array[] = [];
  private freeTop = new Int32Array(CLASSES);
  /** Values stored now, and the bytes of their chunks (for INFO / tests). */
  count = 0;
  chunkBytes = 0;

  constructor() {
    for (let c = 0; c < CLASSES; c++) this.free.push(new Int32Array(0));
  }

  /** Bytes of slab memory allocated (off the V8 heap). */
  get slabBytes(): number {
    return this.slabs.length * SLAB_BYTES;
  }

  /** Store a latin1 string; its handle, or -1 if it does not fit (keep it on the heap). */
  store(s: string): number {
    const len = s.length;
    if (len > ARENA_MAX_LENGTH) return -1;
    const units = (len + HEADER + UNIT - 1) >>> UNIT_LOG;
    const c = units - 1;
    let h: number;
    const top = this.freeTop[c]!;
    if (top > 0) {
      h = this.free[c]![top - 1]!;
      this.freeTop[c] = top - 1;
    } else {
      if (this.bump + units > 1 << UNITS_PER_SLAB_LOG) {
        if (this.slabs.length >= MAX_SLABS) return -1;
        this.slabs.push(Buffer.allocUnsafeSlow(SLAB_BYTES) as Latin1Buffer);
        this.bump = 0;
      }
      h = ((this.slabs.length - 1) << UNITS_PER_SLAB_LOG) | this.bump;
      this.bump += units;
    }
    const buf = this.slabs[h >>> UNITS_PER_SLAB_LOG]!;
    const off = (h & UNIT_MASK) << UNIT_LOG;
    buf[off] = len & 0xff;
    buf[off + 1] = len >>> 8;
    if (len > 0) buf.latin1Write(s, off + HEADER, len);
    this.count++;
    this.chunkBytes += units << UNIT_LOG;
    return h;
  }

  /** The string stored under a handle (a new string each call). */
  read(h: number): string {
    const buf = this.slabs[h >>> UNITS_PER_SLAB_LOG]!;
    const off = (h & UNIT_MASK) << UNIT_LOG;
    const len = buf[off]! | (buf[off + 1]! << 8);
    return len === 0 ? '' : buf.latin1Slice(off + HEADER, off + HEADER + len);
  }

  /** Length of the string stored under a handle. */
  lengthOf(h: number): number {
    const buf = this.slabs[h >>> UNITS_PER_SLAB_LOG]!;
    const off = (h & UNIT_MASK) << UNIT_LOG;
    return buf[off]! | (buf[off + 1]! << 8);
  }

  /** Give a handle's chunk back (the handle must not be used again). */
  release(h: number): void {
    const len = this.lengthOf(h);
    const units = (len + HEADER + UNIT - 1) >>> UNIT_LOG;
    const c = units - 1;
    const top = this.freeTop[c]!;
    let stack = this.free[c]!;
    if (top >= stack.length) {
      const bigger = new Int32Array(Math.max(64, stack.length * 2));
      bigger.set(stack);
      this.free[c] = stack = bigger;
    }
    stack[top] = h;
    this.freeTop[c] = top + 1;
    this.count--;
    this.chunkBytes -= units << UNIT_LOG;
  }
}
