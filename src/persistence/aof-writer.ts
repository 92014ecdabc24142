/**
 * The AOF command stream: every propagated write (engine.propagators) is
 * appended, RESP-encoded, to the current incremental file, with a SELECT
 * whenever the database changes. MULTI/EXEC arrive as propagated commands and
 * pass through unchanged.
 *
 * Commands accumulate in a string during an event-loop turn and are written
 * once per turn, synchronously, as Redis writes its AOF buffer before
 * sleeping: just before the turn's replies are flushed (connection.ts
 * replyGate.beforeFlush), or at the end of the turn when no reply is due
 * (expiries). The bytes are in the kernel before any reply of that turn
 * leaves, so a killed process loses nothing that was acknowledged, whatever
 * the fsync policy (a crash of the machine is what fsync is about).
 * fsync, by `appendfsync`:
 *  - always: the replies of a turn are held (connection.ts replyGate) until an
 *    fsync covering that turn's writes completes; one fsync in flight at a
 *    time, shared by every client (group commit), run off the event loop;
 *  - everysec: an fsync off the loop once a second when there were writes;
 *  - no: never (the kernel decides).
 * With aof-timestamp-enabled, a `#TS:<unix seconds>` annotation precedes the
 * first command of each new second (never inside MULTI/EXEC), for
 * `check-aof --truncate-to-timestamp`.
 */
import fs from 'node:fs';
import type { Engine } from '../server/engine.js';
import { replyGate } from '../server/connection.js';
import { encodeCommand } from './aof-reader.js';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

/** The file commands currently go to. */
export interface AofTarget {
  fd: number;
  /** File name in the AOF directory. */
  name: string;
  /** Bytes in the file. */
  size: number;
}

/** Writers in `always` mode, and all open writers (several engines may share a process: tests). */
const alwaysWriters = new Set<AofWriter>();
const openWriters = new Set<AofWriter>();

/** Before replies are flushed: write what the turn's commands appended (see connection.ts). */
function flushWriters(): void {
  for (const w of openWriters) if (w.bufferLength > 0) w.flush();
}

function combinedBarrier(): Promise<void> | null {
  let out: Promise<void>[] | null = null;
  for (const w of alwaysWriters) {
    const p = w.barrier();
    if (p !== null) (out ??= []).push(p);
  }
  if (out === null) return null;
  return out.length === 1 ? out[0]! : Promise.all(out).then(() => {});
}

/** DEBUG AOF-FLUSH-SLEEP: microseconds each engine waits before writing a non-empty AOF buffer (a test knob). */
const flushSleepUs = new WeakMap<Engine, number>();

export function setAofFlushSleep(engine: Engine, usec: number): void {
  if (usec > 0) flushSleepUs.set(engine, usec);
  else flushSleepUs.delete(engine);
}

export class AofWriter {
  private buf = '';
  private scheduled = false;
  private selectedDb = -1;
  /** Bytes ever appended / written to the kernel / known durable (monotonic counters). */
  appended = 0;
  written = 0;
  synced = 0;
  private fsyncing = false;
  /** fd of the fsync in flight; a file switched away from is closed only after it. */
  private fsyncFd = -1;
  private closeAfterFsync = -1;
  private waiters: { upto: number; resolve: () => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** aof_last_write_status / the error, and fsyncs still running (aof_pending_bio_fsync). */
  lastWriteOk = true;
  lastWriteError = '';
  delayedFsync = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** aof-timestamp-enabled: `#TS:` annotations; the second of the last one; inside MULTI/EXEC. */
  timestamps = false;
  private lastTs = 0;
  private inMulti = false;
  /** Called when the write status changes (MISCONF gate). */
  onStatus: (() => void) | null = null;
  /** Commands for replicas only (PUBLISH) are not persisted. */
  readonly propagator = (db: number, argv: string[], replicasOnly: boolean): void => {
    if (!replicasOnly) this.feed(db, argv);
  };
  private readonly flushCb = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly engine: Engine,
    public target: AofTarget,
    private policy: FsyncPolicy,
  ) {
    openWriters.add(this);
    replyGate.beforeFlush = flushWriters;
    this.setPolicy(policy);
  }

  setPolicy(p: FsyncPolicy): void {
    this.policy = p;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (p === 'always') alwaysWriters.add(this);
    else alwaysWriters.delete(this);
    replyGate.barrier = alwaysWriters.size > 0 ? combinedBarrier : null;
    if (p === 'everysec') {
      this.timer = setInterval(() => this.fsyncEverySec(), 1000);
      this.timer.unref();
    }
    // Anything waiting for an fsync under the old policy is released by the next one.
    if (p !== 'always') this.startFsync();
  }

  /** Bytes buffered and not yet written (aof_buffer_length). */
  get bufferLength(): number {
    return this.buf.length;
  }

  /** Append one command (the propagator). */
  feed(db: number, argv: string[]): void {
    let s = this.timestamps ? this.annotation(argv[0]!) : '';
    if (db !== this.selectedDb) {
      s += encodeCommand(['SELECT', String(db)]);
      this.selectedDb = db;
    }
    s += encodeCommand(argv);
    this.buf += s;
    this.appended += s.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushCb);
    }
  }

  /** The `#TS:` line due before a command named `name`, or ''. */
  private annotation(name: string): string {
    let s = '';
    if (!this.inMulti) {
      const t = Math.floor(Date.now() / 1000);
      if (t > this.lastTs) {
        this.lastTs = t;
        s = `#TS:${t}\r\n`;
      }
    }
    if (name === 'MULTI') this.inMulti = true;
    else if (name === 'EXEC') this.inMulti = false;
    return s;
  }

  /** Append raw bytes (already RESP) — used to copy a command stream. */
  feedRaw(data: string): void {
    this.buf += data;
    this.appended += data.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushCb);
    }
  }

  /** Write the buffer to the current file now (synchronously). Returns false on a write error. */
  flush(): boolean {
    if (this.buf.length === 0) return this.lastWriteOk;
    const sleepUs = flushSleepUs.get(this.engine);
    if (sleepUs !== undefined) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, sleepUs / 1000);
    const data = Buffer.from(this.buf, 'latin1');
    const upto = this.appended;
    let off = 0;
    try {
      while (off < data.length) off += fs.writeSync(this.target.fd, data, off, data.length - off);
    } catch (e) {
      // Keep what was not written; retry shortly (Redis retries from its cron).
      this.buf = data.subarray(off).toString('latin1');
      this.target.size += off;
      this.written = upto - this.buf.length;
      this.writeFailed(e as Error);
      return false;
    }
    this.buf = '';
    this.target.size += data.length;
    this.written = upto;
    if (!this.lastWriteOk) {
      this.lastWriteOk = true;
      this.lastWriteError = '';
      this.engine.log.warning('AOF write error looks solved, Redis can write again.');
      this.onStatus?.();
    }
    if (this.policy === 'always') this.startFsync();
    return true;
  }

  private writeFailed(e: Error): void {
    const msg = (e as NodeJS.ErrnoException).code === 'ENOSPC' ? 'No space left on device' : e.message;
    if (this.lastWriteOk) this.engine.log.warning(`Error writing to the AOF file: ${msg}`);
    this.lastWriteOk = false;
    this.lastWriteError = msg;
    this.onStatus?.();
    if (this.retryTimer === null) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flush();
      }, 1000);
      this.retryTimer.unref();
    }
  }

  /**
   * For the reply gate (always): null when every write executed so far is
   * durable; otherwise writes the buffer and returns a promise resolved once
   * an fsync covers it.
   */
  barrier(): Promise<void> | null {
    if (this.buf.length > 0) this.flush();
    const upto = this.appended;
    if (this.synced >= upto) return null;
    this.startFsync();
    return new Promise((resolve) => this.waiters.push({ upto, resolve }));
  }

  /** One fsync at a time, off the loop; chains another if more was written meanwhile (always). */
  private startFsync(): void {
    if (this.fsyncing || this.written <= this.synced) {
      if (this.written <= this.synced) this.release();
      return;
    }
    this.fsyncing = true;
    const mark = this.written;
    const fd = this.target.fd;
    this.fsyncFd = fd;
    fs.fdatasync(fd, (err) => {
      this.fsyncing = false;
      this.fsyncFd = -1;
      if (this.closeAfterFsync === fd) {
        this.closeAfterFsync = -1;
        fs.close(fd, () => {});
        if (this.written > this.synced) this.startFsync();
        return;
      }
      if (err) {
        if (this.policy === 'always') {
          // As Redis: acknowledging writes that may not be on disk is not an option.
          this.engine.log.warning(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${err.message}. Exiting...`);
          process.exit(1);
        }
        this.engine.log.warning(`Error fsyncing the AOF file: ${err.message}`);
        return;
      }
      if (mark > this.synced) this.synced = mark;
      this.release();
      if (this.policy === 'always' && this.written > this.synced) this.startFsync();
    });
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const synced = this.synced;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.upto <= synced) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  private fsyncEverySec(): void {
    if (this.written <= this.synced) return;
    if (this.fsyncing) {
      this.delayedFsync++;
      return;
    }
    this.startFsync();
  }

  /**
   * Send later commands to another file (AOF rewrite): the buffer goes to the
   * old file first, which is then fsynced and closed (off the loop). The next
   * command starts with a SELECT.
   */
  switchTarget(next: AofTarget): AofTarget {
    this.flush();
    const old = this.target;
    this.target = next;
    this.selectedDb = -1;
    // What was written to the old file is made durable now (the new one is empty).
    try {
      fs.fdatasyncSync(old.fd);
    } catch {
      /* reported by the next write */
    }
    this.synced = this.written;
    this.release();
    if (this.fsyncFd === old.fd) this.closeAfterFsync = old.fd;
    else fs.close(old.fd, () => {});
    return old;
  }

  /** Write and fsync everything (shutdown, DEBUG LOADAOF, turning AOF off). */
  flushAndSync(): void {
    this.flush();
    try {
      fs.fdatasyncSync(this.target.fd);
      this.synced = this.written;
    } catch (e) {
      this.engine.log.warning(`Error fsyncing the AOF file: ${(e as Error).message}`);
    }
    this.release();
  }

  /** Stop: flush, fsync and close the file. */
  close(): void {
    this.flushAndSync();
    alwaysWriters.delete(this);
    openWriters.delete(this);
    replyGate.barrier = alwaysWriters.size > 0 ? combinedBarrier : null;
    if (openWriters.size === 0) replyGate.beforeFlush = null;
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = null;
    this.retryTimer = null;
    // Release anyone still waiting (nothing more can be made durable by this writer).
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    try {
      fs.closeSync(this.target.fd);
    } catch {
      /* already closed */
    }
  }
}
