/**
 * Forkless point-in-time snapshots of the whole data set.
 *
 * Redis forks and lets the child serialize the memory image the fork froze.
 * Here the image is serialized incrementally, a slice per event-loop turn,
 * while clients keep reading and writing, and is kept exact by copy-on-write
 * per key: the Keyspace `beforeWrite` hook fires before any key is
 * overwritten, mutated, expired or deleted, and if that key belongs to the
 * image and has not been serialized yet, its current (= pre-snapshot) state
 * is serialized right then. Only pre-images of keys modified during the
 * snapshot are ever held in memory, already encoded.
 *
 * Iteration walks each database's dense slots from the highest to the
 * lowest. Slots [0, cursor] are "not yet visited"; everything above the
 * cursor was either serialized already or created after the start.
 *  - A key inserted after the start lands in the slot past the end, above
 *    the cursor (the cursor is pulled down first if deletions shrank the
 *    database below it: the `created` hook).
 *  - Deletion moves the last key into the hole (`moved` hook): a key moved
 *    from above the cursor into the unvisited part is either already
 *    serialized or new, so it is added to `skip`; a key moved within the
 *    unvisited part will be visited once at its new place.
 *  - A key serialized early by copy-on-write is added to `skip` too.
 *  - FLUSHDB/FLUSHALL (`beforeClear`) freeze the database's old arrays: the
 *    rest of its image is read from them, untouched by later writes.
 *  - SWAPDB moves each database's iteration state with its data.
 * Each key of the image is therefore written exactly once, with the value,
 * expiry and access metadata it had when the snapshot started.
 *
 * The output format is pluggable (RDB for dump.rdb and AOF bases with an RDB
 * preamble; commands for AOF bases without one). Sections are written in
 * database order; pre-images of a database whose section has not started
 * wait in that database's pending list, so the file stays canonical.
 *
 * A big value (millions of elements, or a string of MBs: see rdb-slices.ts)
 * is written in pieces across slices, so that one key never blocks the loop
 * for long. Meanwhile it stays point-in-time: a write about to change that
 * key first finishes its serialization (synchronously, once), and pre-images
 * of other keys taken meanwhile are encoded apart and follow it.
 */
import type { Engine } from '../server/engine.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { Value } from '../keyspace/values.js';

/**
 * How a snapshot is encoded. `dbHeader` and `entry` append to the format's
 * own output, drained by `take`; `entryBytes` encodes one key on its own
 * (a copy-on-write pre-image for a database whose section has not started).
 */
export interface SnapshotFormat {
  /** Opens the section of database `db`, which had `size` keys, `expires` of them with a TTL, at the start. */
  dbHeader(db: number, size: number, expires: number): void;
  /** One key. `expireAt` is absolute ms (0 = none); `meta` the LRU clock or LFU word of the key. */
  entry(db: number, key: string, value: Value, expireAt: number, meta: number): void;
  /** One key, encoded apart from the output. */
  entryBytes(db: number, key: string, value: Value, expireAt: number, meta: number): Buffer[];
  /**
   * For a big value: write the key's header now and return the generator
   * writing its value a piece per next() (into the same output as entry());
   * null when the value is written at once by entry().
   */
  entryPieces?(db: number, key: string, value: Value, expireAt: number, meta: number): Iterator<void, void, void> | null;
  /** Drain the output produced so far. */
  take(): Buffer[];
  /** Bytes produced by dbHeader/entry so far (taken or not). */
  readonly bytes: number;
}

type SlotArrays = ReturnType<Keyspace['slotArrays']>;

interface DbState {
  /** Database number in the file: that of the data when the snapshot started (follows SWAPDB). */
  readonly index: number;
  /** The Keyspace currently holding this data (changes on SWAPDB). */
  db: Keyspace;
  readonly size: number;
  readonly expires: number;
  /** Highest slot not yet visited; -1 when the database is done. */
  cursor: number;
  /** Keys in slots [0, cursor] that must not be written (already written, or created after the start). */
  skip: Set<string>;
  /** The arrays the database had when FLUSHDB/FLUSHALL emptied it. */
  frozen: SlotArrays | null;
  /** Pre-images encoded before this database's section started. */
  pending: Buffer[];
  started: boolean;
}

/** How often (in keys) a slice looks at the clock. */
const CLOCK_EVERY = 32;

export class Snapshot {
  /** Date.now() when the image was taken. */
  readonly startTime = Date.now();
  /** Keys in the image, and how many are serialized so far (INFO current_save_keys_*). */
  readonly keysTotal: number;
  keysDone = 0;
  /** Keys serialized early by copy-on-write, and their encoded bytes (INFO current_cow_size). */
  cowKeys = 0;
  cowBytes = 0;
  private readonly states: DbState[] = [];
  private readonly byDb = new Map<Keyspace, DbState>();
  private current = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  /** format.bytes already moved to `out`. */
  private formatTaken = 0;
  private readonly unhook: (() => void)[] = [];
  private closed = false;
  /** The big key being written in pieces, and pre-images encoded apart that must follow it. */
  private partial: { st: DbState; key: string; pieces: Iterator<void, void, void> } | null = null;
  private afterPartial: Buffer[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly format: SnapshotFormat,
  ) {
    let total = 0;
    for (const db of engine.dbs) {
      const size = db.size;
      const st: DbState = {
        index: db.id,
        db,
        size,
        expires: db.volatileCount,
        cursor: size - 1,
        skip: new Set(),
        frozen: null,
        pending: [],
        started: false,
      };
      total += size;
      this.byDb.set(db, st);
      if (size > 0) this.states.push(st);
    }
    this.keysTotal = total;
    if (this.states.length === 0) return;
    this.unhook.push(
      engine.addKeyspaceHook('beforeWrite', (db, key, slot) => this.beforeWrite(db, key, slot)),
      engine.addKeyspaceHook('moved', (db, key, from, to) => this.moved(db, key, from, to)),
      engine.addKeyspaceHook('created', (db) => this.created(db)),
      engine.addKeyspaceHook('beforeClear', (db) => this.beforeClear(db)),
    );
    const onSwap = (a: number, b: number) => this.swapped(a, b);
    engine.swapDbListeners.push(onSwap);
    this.unhook.push(() => {
      const i = engine.swapDbListeners.indexOf(onSwap);
      if (i >= 0) engine.swapDbListeners.splice(i, 1);
    });
  }

  get done(): boolean {
    return this.current >= this.states.length;
  }

  /** The big key being written in pieces right now, null when none. */
  get keyInPieces(): string | null {
    return this.partial === null ? null : this.partial.key;
  }

  /** Bytes produced and not yet taken. */
  get buffered(): number {
    return this.outBytes + this.format.bytes - this.formatTaken;
  }

  /** Drain the bytes produced so far. */
  take(): Buffer[] {
    this.flushFormat();
    const o = this.out;
    this.out = [];
    this.outBytes = 0;
    return o;
  }

  /** Move the format's output to `out` (before inserting bytes encoded apart). */
  private flushFormat(): void {
    if (this.format.bytes === this.formatTaken) return;
    this.formatTaken = this.format.bytes;
    this.emit(this.format.take());
  }

  /**
   * Serialize keys until `deadline` (performance.now() ms), `maxKeys` keys,
   * or until `maxBytes` are buffered. Returns true when the image is complete
   * (the hooks are then removed).
   */
  step(deadline: number, maxKeys = Infinity, maxBytes = Infinity): boolean {
    if (this.partial !== null && !this.continuePartial(deadline, maxBytes)) return false;
    const pieces = this.format.entryPieces;
    let n = 0;
    while (this.current < this.states.length) {
      const st = this.states[this.current]!;
      if (!st.started) this.open(st);
      const src = st.frozen;
      if (src === null) st.cursor = Math.min(st.cursor, st.db.size - 1);
      else st.cursor = Math.min(st.cursor, src.keys.length - 1);
      while (st.cursor >= 0) {
        if (n >= maxKeys || (n % CLOCK_EVERY === 0 && this.buffered >= maxBytes)) return false;
        if (++n % CLOCK_EVERY === 0 && performance.now() >= deadline) return false;
        const slot = st.cursor--;
        let key: string, value: Value, exp: number, meta: number;
        if (src === null) {
          const db = st.db;
          key = db.keyOf(slot);
          value = db.valueOf(slot);
          exp = db.expireOf(slot);
          meta = db.metaOf(slot);
        } else {
          key = src.keys[slot]!;
          value = src.valueAt(slot);
          exp = src.expires[slot]!;
          meta = src.meta[slot]!;
        }
        if (st.skip.size > 0 && st.skip.delete(key)) continue;
        if (pieces !== undefined) {
          const it = pieces.call(this.format, st.index, key, value, exp, meta);
          if (it !== null) {
            this.partial = { st, key, pieces: it };
            if (!this.continuePartial(deadline, maxBytes)) return false;
            continue;
          }
        }
        this.format.entry(st.index, key, value, exp, meta);
        this.keysDone++;
      }
      st.skip.clear();
      this.current++;
    }
    this.close();
    return true;
  }

  /** Write pieces of the big key until it is complete (true), the deadline, or `maxBytes` buffered. */
  private continuePartial(deadline: number, maxBytes: number): boolean {
    const it = this.partial!.pieces;
    for (;;) {
      if (it.next().done === true) break;
      if (this.buffered >= maxBytes || performance.now() >= deadline) return false;
    }
    this.endPartial();
    return true;
  }

  /** The big key is about to change: write the rest of it now. */
  private finishPartial(): void {
    const it = this.partial!.pieces;
    while (it.next().done !== true);
    this.endPartial();
  }

  private endPartial(): void {
    this.partial = null;
    this.keysDone++;
    if (this.afterPartial.length > 0) {
      this.flushFormat();
      this.emit(this.afterPartial);
      this.afterPartial = [];
    }
  }

  /** Stop listening to the keyspace (when done or aborted). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.partial = null;
    this.afterPartial = [];
    for (const u of this.unhook) u();
    for (const st of this.states) {
      st.frozen = null;
      st.skip.clear();
      st.pending = [];
    }
  }

  private open(st: DbState): void {
    st.started = true;
    this.format.dbHeader(st.index, st.size, st.expires);
    if (st.pending.length > 0) {
      this.flushFormat();
      this.emit(st.pending);
      st.pending = [];
    }
  }

  private emit(bufs: Buffer[]): void {
    for (let i = 0; i < bufs.length; i++) {
      this.out.push(bufs[i]!);
      this.outBytes += bufs[i]!.length;
    }
  }

  /** The state tracking `db`'s data while its unvisited part may still change. */
  private live(db: Keyspace): DbState | null {
    const st = this.byDb.get(db);
    if (st === undefined || st.frozen !== null || st.cursor < 0) return null;
    return st;
  }

  /** Copy-on-write: serialize the pre-image of an image key about to change. */
  private beforeWrite(db: Keyspace, key: string, slot: number): void {
    const p = this.partial;
    if (p !== null && p.key === key && this.byDb.get(db) === p.st) return this.finishPartial();
    const st = this.live(db);
    if (st === null || slot > st.cursor || st.skip.has(key)) return;
    st.skip.add(key);
    this.cowKeys++;
    this.keysDone++;
    if (st.started && p !== null) {
      // Not in the middle of the big key's bytes: after them.
      const bufs = this.format.entryBytes(st.index, key, db.valueOf(slot), db.expireOf(slot), db.metaOf(slot));
      for (const b of bufs) {
        this.cowBytes += b.length;
        this.afterPartial.push(b);
      }
    } else if (st.started) {
      const before = this.format.bytes;
      this.format.entry(st.index, key, db.valueOf(slot), db.expireOf(slot), db.metaOf(slot));
      this.cowBytes += this.format.bytes - before;
    } else {
      const bufs = this.format.entryBytes(st.index, key, db.valueOf(slot), db.expireOf(slot), db.metaOf(slot));
      for (const b of bufs) {
        this.cowBytes += b.length;
        st.pending.push(b);
      }
    }
  }

  private moved(db: Keyspace, key: string, from: number, to: number): void {
    const st = this.live(db);
    if (st !== null && from > st.cursor && to <= st.cursor) st.skip.add(key);
  }

  /** A key was inserted at the end: keep it above the cursor. */
  private created(db: Keyspace): void {
    const st = this.live(db);
    if (st === null) return;
    const slot = db.size - 1;
    if (slot <= st.cursor) st.cursor = slot - 1;
  }

  private beforeClear(db: Keyspace): void {
    const st = this.live(db);
    if (st !== null) st.frozen = db.slotArrays();
  }

  private swapped(a: number, b: number): void {
    const da = this.engine.dbs[a]!;
    const dbb = this.engine.dbs[b]!;
    const sa = this.byDb.get(da)!;
    const sb = this.byDb.get(dbb)!;
    // The data of `a` now lives in Keyspace `b` and the other way round.
    this.byDb.set(dbb, sa);
    this.byDb.set(da, sb);
    sa.db = dbb;
    sb.db = da;
  }
}
