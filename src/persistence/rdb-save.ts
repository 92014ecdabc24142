/**
 * Writing snapshots to disk: dump.rdb (SAVE, BGSAVE, save points, shutdown)
 * and AOF base files (rewrite), RDB-encoded or as commands.
 *
 * A file is written to a temp name in the same directory, fsynced, then
 * renamed over the target (and the directory fsynced), so a crash at any
 * moment leaves the previous file intact. SAVE runs the snapshot to the end
 * synchronously (the server blocks, as Redis's SAVE does); BGSAVE and
 * rewrites serialize a slice per event-loop turn and write it off the loop
 * (see snapshot.ts for how the image stays exact meanwhile).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../server/engine.js';
import type { Value } from '../keyspace/values.js';
import { idleMsFromLru } from '../keyspace/clock.js';
import { isLfuPolicy, lfuDecayedCounter } from '../keyspace/object-encoding.js';
import { usedMemory } from '../server/info.js';
import { Snapshot, type SnapshotFormat } from './snapshot.js';
import { RdbEncoder } from './rdb-encoder.js';
import type { BodyPieces } from './rdb-slices.js';
import { Crc64 } from './crc64.js';
import { fsyncDir } from './aof-manifest.js';
import { libraryCodes } from '../scripting/function-library.js';
import { rdbReplication } from '../server/repl-feed.js';

const RDB_OPCODE_EOF = 0xff;

/** Snapshot format: RDB keys (SELECTDB + RESIZEDB per database). */
export class RdbFormat implements SnapshotFormat {
  private readonly enc: RdbEncoder;
  /** Encoder for keys encoded apart (pre-images held for a later database). */
  private readonly side: RdbEncoder;
  /** enc.bytes when the header was taken. */
  private base = 0;
  /** maxmemory-policy class when the snapshot started: IDLE / FREQ opcodes as Redis writes them. */
  private readonly policy: 'lru' | 'lfu' | 'none';
  private readonly decay: number;

  constructor(engine: Engine) {
    const cfg = engine.config;
    const opts = {
      compress: cfg.bool('rdbcompression'),
      checksum: false,
      listMaxListpackSize: cfg.num('list-max-listpack-size'),
    };
    this.enc = new RdbEncoder(opts);
    this.side = new RdbEncoder(opts);
    const p = cfg.str('maxmemory-policy');
    this.policy = isLfuPolicy(p) ? 'lfu' : p.includes('lru') ? 'lru' : 'none';
    this.decay = cfg.num('lfu-decay-time');
  }

  /** "REDIS0010" and the AUX fields Redis 7.0 writes. */
  header(engine: Engine, aofBase: boolean): Buffer[] {
    const e = this.enc;
    e.header(10);
    e.aux('redis-ver', engine.redisVersion);
    e.aux('redis-bits', '64');
    e.aux('ctime', String(Math.floor(Date.now() / 1000)));
    e.aux('used-mem', String(usedMemory(engine)));
    // The replication history this data set is at (a restarted server continues it with PSYNC).
    const repl = aofBase ? null : (rdbReplication.saveInfo?.(engine) ?? null);
    if (repl !== null) {
      e.aux('repl-stream-db', String(repl.db));
      e.aux('repl-id', repl.id);
      e.aux('repl-offset', String(repl.offset));
    }
    e.aux('aof-base', aofBase ? '1' : '0');
    for (const code of libraryCodes(engine)) e.functionLibrary(code);
    const out = e.take();
    this.base = e.bytes;
    return out;
  }

  get bytes(): number {
    return this.enc.bytes - this.base;
  }

  take(): Buffer[] {
    return this.enc.take();
  }

  dbHeader(db: number, size: number, expires: number): void {
    this.enc.selectDb(db);
    this.enc.resizeDb(size, expires);
  }

  private meta(meta: number): { lruIdleSec?: number; lfuFreq?: number } | undefined {
    if (this.policy === 'lru') return { lruIdleSec: Math.floor(idleMsFromLru(meta & 0xffffff) / 1000) };
    if (this.policy === 'lfu') return { lfuFreq: lfuDecayedCounter(meta, this.decay) };
    return undefined;
  }

  entry(_db: number, key: string, value: Value, expireAt: number, meta: number): void {
    this.enc.entry(key, value, expireAt, this.policy === 'none' ? undefined : this.meta(meta));
  }

  entryBytes(_db: number, key: string, value: Value, expireAt: number, meta: number): Buffer[] {
    this.side.entry(key, value, expireAt, this.policy === 'none' ? undefined : this.meta(meta));
    return this.side.take();
  }

  entryPieces(_db: number, key: string, value: Value, expireAt: number, meta: number): BodyPieces | null {
    return this.enc.entryPieces(key, value, expireAt, this.policy === 'none' ? undefined : this.meta(meta));
  }
}

export interface SnapshotFileOptions {
  /** Final path. */
  file: string;
  /** Temp path in the same directory. */
  tmp: string;
  /** RDB (with trailer and checksum) or commands. */
  kind: 'rdb' | 'aof';
  /** Bytes before the keys (RDB header). */
  header: Buffer[];
  /** rdbchecksum (RDB only). */
  checksum: boolean;
}

export class SaveAborted extends Error {}

/** Slice of serialization per event-loop turn, in ms. */
const SLICE_MS = 1;
/** Stop a slice early when this many bytes are waiting to be written. */
const SLICE_BYTES = 1024 * 1024;
/** Staging buffer size: a slice's output plus what the last keys of a slice may add. */
const STAGE_BYTES = 2 * SLICE_BYTES;

/**
 * One snapshot written to one file. `runSync()` (SAVE) or `run()` (in the
 * background); `abort()` stops a background run and removes the temp file.
 */
export class SnapshotFile {
  bytes = 0;
  private readonly crc = new Crc64();
  private fd = -1;
  private aborted = false;
  /** Microseconds to spend per key (rdb-key-save-delay, for tests), read when the run starts. */
  keyDelayUs = 0;

  constructor(
    readonly snapshot: Snapshot,
    private readonly opts: SnapshotFileOptions,
  ) {}

  /** Count bytes about to be written and run them through the checksum. */
  private track(b: Buffer): void {
    this.bytes += b.length;
    if (this.opts.kind === 'rdb' && this.opts.checksum) this.crc.update(b);
  }

  /** RDB: the EOF opcode and the CRC-64 of everything before the checksum (zeros when rdbchecksum is off). */
  private trailer(): Buffer[] {
    if (this.opts.kind !== 'rdb') return [];
    const op = Buffer.from([RDB_OPCODE_EOF]);
    this.track(op);
    const sum = this.opts.checksum ? this.crc.bytesLE() : Buffer.alloc(8);
    this.bytes += 8;
    return [op, sum];
  }

  /** Write everything now (blocks the event loop, as SAVE does). */
  runSync(): void {
    const { file, tmp } = this.opts;
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      const write = (bufs: Buffer[], tracked = false) => {
        if (bufs.length === 0) return;
        const b = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
        if (!tracked) this.track(b);
        let off = 0;
        while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
      };
      write(this.opts.header);
      while (!this.snapshot.done) {
        this.snapshot.step(Infinity, Infinity, SLICE_BYTES);
        write(this.snapshot.take());
      }
      write(this.trailer(), true);
      fs.fsyncSync(fd);
    } catch (e) {
      this.snapshot.close();
      fs.closeSync(fd);
      rmQuiet(tmp);
      throw e;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
    fsyncDir(path.dirname(file));
  }

  /** Write in the background, a slice per event-loop turn. Rejects with SaveAborted after abort(). */
  async run(): Promise<void> {
    const { file, tmp } = this.opts;
    this.fd = await new Promise<number>((res, rej) => fs.open(tmp, 'w', 0o644, (err, fd) => (err ? rej(err) : res(fd))));
    let inFlight: Promise<void> | null = null;
    try {
      inFlight = this.writeAsync(this.opts.header);
      const snap = this.snapshot;
      const delay = this.keyDelayUs;
      while (!snap.done) {
        if (this.aborted) throw new SaveAborted('aborted');
        const maxKeys = delay > 0 ? Math.max(1, Math.floor((SLICE_MS * 1000) / delay)) : Infinity;
        snap.step(performance.now() + SLICE_MS, maxKeys, SLICE_BYTES);
        const bufs = snap.take();
        if (bufs.length > 0) {
          // Copy the slice's output into a reusable buffer at once, so the encoder's chunks die
          // young (held across turns they would be promoted and kept until a full GC).
          const staged = this.stage(bufs);
          if (inFlight !== null) await inFlight;
          if (this.aborted) throw new SaveAborted('aborted');
          inFlight = this.writeAsync([staged]);
        }
        if (delay > 0) await this.sleep((maxKeys * delay) / 1000);
        else await yieldTurn();
      }
      if (inFlight !== null) await inFlight;
      if (this.aborted) throw new SaveAborted('aborted');
      await this.writeAsync(this.trailer(), true);
      await new Promise<void>((res, rej) => fs.fsync(this.fd, (err) => (err ? rej(err) : res())));
      await closeFd(this.fd);
      this.fd = -1;
      if (this.aborted) throw new SaveAborted('aborted');
      fs.renameSync(tmp, file);
      fsyncDir(path.dirname(file));
    } catch (e) {
      this.snapshot.close();
      if (inFlight !== null) await inFlight.catch(() => {});
      if (this.fd >= 0) await closeFd(this.fd).catch(() => {});
      this.fd = -1;
      rmQuiet(tmp);
      throw e;
    }
  }

  /** Two staging buffers: one being written, one being filled (one write in flight at most). */
  private readonly staging = [Buffer.allocUnsafeSlow(STAGE_BYTES), Buffer.allocUnsafeSlow(STAGE_BYTES)];
  private stageNext = 0;

  private stage(bufs: Buffer[]): Buffer {
    let total = 0;
    for (const b of bufs) total += b.length;
    const into = total <= STAGE_BYTES ? this.staging[this.stageNext]! : Buffer.allocUnsafe(total);
    this.stageNext ^= 1;
    let off = 0;
    for (const b of bufs) off += b.copy(into, off);
    return into.subarray(0, total);
  }

  /** Write buffers in order (writev: no copy into one big buffer). */
  private writeAsync(bufs: Buffer[], tracked = false): Promise<void> {
    if (!tracked) for (const b of bufs) this.track(b);
    const fd = this.fd;
    return new Promise<void>((res, rej) => {
      let list = bufs.filter((b) => b.length > 0);
      const more = (): void => {
        if (list.length === 0) return res();
        fs.writev(fd, list, (err, n) => {
          if (err) return rej(err);
          // A short write: drop what was written and go on with the rest.
          while (n > 0 && list.length > 0) {
            const b = list[0]!;
            if (n >= b.length) {
              n -= b.length;
              list.shift();
            } else {
              list[0] = b.subarray(n);
              n = 0;
            }
          }
          more();
        });
      };
      list = list.slice();
      more();
    });
  }

  abort(): void {
    this.aborted = true;
    this.snapshot.close();
    this.wake?.();
  }

  /** Wakes the rdb-key-save-delay sleep in course (abort). */
  private wake: (() => void) | null = null;

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.wake = null;
        r();
      }
      this.wake = done;
    });
  }
}

function yieldTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function closeFd(fd: number): Promise<void> {
  return new Promise((res, rej) => fs.close(fd, (err) => (err ? rej(err) : res())));
}

export function rmQuiet(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch {
    /* not there */
  }
}

/** A SnapshotFile for dump.rdb (or an AOF base with an RDB preamble when aofBase). */
export function rdbSnapshotFile(engine: Engine, file: string, tmp: string, aofBase = false): SnapshotFile {
  const format = new RdbFormat(engine);
  const header = format.header(engine, aofBase);
  const snap = new Snapshot(engine, format);
  return new SnapshotFile(snap, { file, tmp, kind: 'rdb', header, checksum: engine.config.bool('rdbchecksum') });
}
