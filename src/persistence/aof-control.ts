/**
 * The AOF's life: state (off / on / waiting for the first rewrite after
 * CONFIG SET appendonly yes), the writer attached to engine.propagators,
 * the manifest, start-up loading, and forkless rewrites (BGREWRITEAOF,
 * automatic growth-based rewrites, enabling the AOF at runtime).
 *
 * A rewrite, like Redis 7's: new writes go to a new incremental file from the
 * moment the rewrite starts (the manifest lists it at once, so a crash
 * mid-rewrite loses nothing), while a snapshot taken at that same moment is
 * written as the new base file (RDB preamble or commands). When the base is
 * on disk the manifest switches atomically to "new base + incremental files
 * since the rewrite", and the old files, now history, are deleted.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Persistence, ChildJob } from './persistence.js';
import type { InfoFields } from '../server/info.js';
import { AofWriter, type AofTarget, type FsyncPolicy } from './aof-writer.js';
import {
  AofManifest,
  baseName,
  fsyncDir,
  incrName,
  ManifestError,
  persistManifest,
  readManifest,
  tempIncrName,
  type AofFileInfo,
} from './aof-manifest.js';
import { AofLoadJob, runBackground, type LoadProgress } from './loading.js';
import { rdbSnapshotFile, rmQuiet, SaveAborted, SnapshotFile } from './rdb-save.js';
import { Snapshot } from './snapshot.js';
import { AofCommandFormat } from './aof-commands.js';
import { encodeCommand } from './aof-reader.js';
import { libraryCodes } from '../scripting/function-library.js';

export type AofState = 'off' | 'on' | 'wait_rewrite';

/** After this many consecutive failed rewrites, automatic retries wait (Redis's aofRewriteLimited). */
const REWRITE_FAILURES_BEFORE_DELAY = 3;

export class AofControl {
  state: AofState = 'off';
  writer: AofWriter | null = null;
  manifest: AofManifest | null = null;
  rewriteScheduled = false;
  /** Bytes of the base file and of incremental files no longer written to. */
  private baseSize = 0;
  private closedIncrSize = 0;
  /** aof_current_size after the last rewrite or load (growth for auto rewrites). */
  private rewriteBaseSize = 0;
  lastRewriteTimeSec = -1;
  rewrites = 0;
  lastRewriteOk = true;
  consecutiveFailures = 0;
  private nextRetry = 0;
  /** The current wait of the rewrite limit, in minutes. */
  private nextDelayMin = 0;
  private lastCowSize = 0;

  constructor(private readonly p: Persistence) {
    const cfg = p.engine.config;
    cfg.onChange('appendonly', (v) => (v ? this.enable() : this.disable()));
    cfg.onChange('appendfsync', (v) => this.writer?.setPolicy(v as FsyncPolicy));
    cfg.onChange('aof-disable-auto-gc', (v) => {
      if (!v && this.manifest !== null) this.deleteHistory(this.manifest);
    });
    cfg.onChange('aof-timestamp-enabled', (v) => {
      if (this.writer !== null) this.writer.timestamps = v as boolean;
    });
  }

  private get e() {
    return this.p.engine;
  }
  private get fileName(): string {
    return this.e.config.str('appendfilename');
  }
  get dir(): string {
    return path.join(this.p.dir, this.e.config.str('appenddirname'));
  }
  private get policy(): FsyncPolicy {
    return this.e.config.str('appendfsync') as FsyncPolicy;
  }
  get currentSize(): number {
    return this.baseSize + this.closedIncrSize + (this.writer?.target.size ?? 0);
  }
  /** The last AOF write error, null when writes succeed. */
  get lastWriteError(): string | null {
    return this.writer === null || this.writer.lastWriteOk ? null : this.writer.lastWriteError;
  }

  // ---- files ------------------------------------------------------------------------

  private ensureDir(): void {
    fs.mkdirSync(this.dir, { recursive: true });
  }

  private openTarget(name: string, flags: 'a' | 'w'): AofTarget {
    const fd = fs.openSync(path.join(this.dir, name), flags, 0o644);
    return { fd, name, size: fs.fstatSync(fd).size };
  }

  private attach(target: AofTarget): void {
    const w = new AofWriter(this.e, target, this.policy);
    w.onStatus = () => this.p.updateGate();
    w.timestamps = this.e.config.bool('aof-timestamp-enabled');
    this.writer = w;
    this.e.propagators.push(w.propagator);
  }

  private detach(): void {
    const w = this.writer;
    if (w === null) return;
    const i = this.e.propagators.indexOf(w.propagator);
    if (i >= 0) this.e.propagators.splice(i, 1);
    w.close();
    this.writer = null;
    this.p.updateGate();
  }

  private fileSize(name: string): number {
    try {
      return fs.statSync(path.join(this.dir, name)).size;
    } catch {
      return 0;
    }
  }

  /** Delete history files and drop them from the manifest. */
  private deleteHistory(m: AofManifest): void {
    if (m.history.length === 0 || this.e.config.bool('aof-disable-auto-gc')) return;
    for (const h of m.history) {
      this.e.log.notice(`Removing the history file ${h.name} in the background`);
      rmQuiet(path.join(this.dir, h.name));
    }
    m.history = [];
    persistManifest(this.dir, this.fileName, m);
  }

  // ---- start-up ---------------------------------------------------------------------

  /** appendonly yes at start-up: load the AOF (creating it when there is none) and start appending. */
  async loadAtStartup(progress: LoadProgress, onProgress: () => void): Promise<void> {
    const e = this.e;
    const fn = this.fileName;
    let m: AofManifest | null;
    try {
      m = readManifest(this.dir, fn);
    } catch (err) {
      if (err instanceof ManifestError) throw new Error(`Failed to load the AOF manifest ${path.join(this.dir, fn + '.manifest')}: ${err.message}`);
      throw err;
    }
    m = this.migrateOldStyle(m);
    const t0 = performance.now();
    if (m !== null) {
      const job = new AofLoadJob(e, this.dir, m, progress);
      await runBackground(job, onProgress);
      const r = job.result;
      if (r.status !== 'empty') e.log.notice(`DB loaded from append only file: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
      this.deleteHistory(m);
    } else {
      m = new AofManifest();
    }
    this.ensureDir();
    if (m.base === null && m.incrs.length === 0) {
      // A fresh AOF: a base holding the data set as it is now (empty), as Redis creates on server start.
      m.baseSeq++;
      const rdb = e.config.bool('aof-use-rdb-preamble');
      const name = baseName(fn, m.baseSeq, rdb);
      this.snapshotFile(name, rdb).runSync();
      m.base = { name, seq: m.baseSeq, type: 'b' };
      e.log.notice(`Creating AOF base file ${name} on server start`);
    }
    let target: AofTarget;
    const lastIncr = m.incrs[m.incrs.length - 1];
    if (lastIncr === undefined) {
      m.incrSeq++;
      const name = incrName(fn, m.incrSeq);
      target = this.openTarget(name, 'w');
      m.incrs.push({ name, seq: m.incrSeq, type: 'i' });
      e.log.notice(`Creating AOF incr file ${name} on server start`);
    } else {
      target = this.openTarget(lastIncr.name, 'a');
      e.log.notice(`Opening AOF incr file ${lastIncr.name} on server start`);
    }
    persistManifest(this.dir, fn, m);
    this.manifest = m;
    this.baseSize = m.base ? this.fileSize(m.base.name) : 0;
    this.closedIncrSize = 0;
    for (const f of m.incrs) if (f.name !== target.name) this.closedIncrSize += this.fileSize(f.name);
    this.state = 'on';
    this.attach(target);
    this.rewriteBaseSize = this.currentSize;
  }

  /**
   * A Redis < 7 single-file AOF (`dir/appendonly.aof`) becomes the base of a
   * multi-part one when there is no AOF directory or manifest yet, or when an
   * earlier upgrade was interrupted (the manifest lists only that base, not
   * yet moved into the AOF directory). As Redis, the manifest is written
   * before the file is moved, so an interruption is resumed the next time.
   */
  private migrateOldStyle(m: AofManifest | null): AofManifest | null {
    const old = path.join(this.p.dir, this.fileName);
    if (!fs.existsSync(old) || !fs.statSync(old).isFile()) return m;
    const dirExists = fs.existsSync(this.dir);
    const empty = m === null || (m.base === null && m.incrs.length === 0);
    const interrupted =
      m !== null && m.base !== null && m.incrs.length === 0 && m.base.name === this.fileName && !fs.existsSync(path.join(this.dir, this.fileName));
    if (dirExists && !empty && !interrupted) return m;
    this.ensureDir();
    const up = m ?? new AofManifest();
    up.baseSeq = 1;
    up.base = { name: this.fileName, seq: 1, type: 'b' };
    persistManifest(this.dir, this.fileName, up);
    fs.renameSync(old, path.join(this.dir, this.fileName));
    fsyncDir(this.p.dir);
    this.e.log.notice(`Successfully migrated an old-style AOF file (${this.fileName}) into the AOF directory (${this.e.config.str('appenddirname')}).`);
    return up;
  }

  // ---- runtime switch ---------------------------------------------------------------

  /** CONFIG SET appendonly yes: the AOF starts with a rewrite of the current data set. */
  private enable(): void {
    if (this.state !== 'off' || this.e.loading) return;
    this.state = 'wait_rewrite';
    if (this.p.child?.type === 'aof') this.p.killChild('aof');
    if (this.p.child !== null) {
      this.rewriteScheduled = true;
      this.e.log.warning('AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.');
      return;
    }
    if (this.startRewrite() !== null) {
      this.rewriteScheduled = true;
    }
  }

  /** CONFIG SET appendonly no. */
  private disable(): void {
    if (this.state === 'off') return;
    if (this.p.child?.type === 'aof') {
      this.e.log.notice('Killing running AOF rewrite child');
      this.p.killChild('aof');
    }
    this.rewriteScheduled = false;
    this.detach();
    // Turned off before the first rewrite finished: its temp incremental file is of no use.
    if (this.state === 'wait_rewrite') rmQuiet(path.join(this.dir, tempIncrName(this.fileName)));
    this.state = 'off';
    this.p.updateGate();
  }

  onShutdown(): void {
    if (this.writer !== null) {
      this.e.log.notice('Calling fsync() on the AOF file.');
      this.detach();
    }
  }

  // ---- rewrite ----------------------------------------------------------------------

  private snapshotFile(name: string, rdb: boolean, tmpName = `temp-rewriteaof-${process.pid}.aof`): SnapshotFile {
    const file = path.join(this.dir, name);
    const tmp = path.join(this.dir, tmpName);
    if (rdb) return rdbSnapshotFile(this.e, file, tmp, true);
    // A command base starts with a timestamp annotation when they are enabled (as Redis's rewrite).
    const header = this.e.config.bool('aof-timestamp-enabled') ? [Buffer.from(`#TS:${Math.floor(Date.now() / 1000)}\r\n`, 'latin1')] : [];
    for (const code of libraryCodes(this.e)) header.push(Buffer.from(encodeCommand(['FUNCTION', 'LOAD', code]), 'latin1'));
    return new SnapshotFile(new Snapshot(this.e, new AofCommandFormat()), { file, tmp, kind: 'aof', header, checksum: false });
  }

  /** BGREWRITEAOF and friends. Returns an error text, or null when started. */
  startRewrite(): string | null {
    const p = this.p;
    const e = this.e;
    if (p.child !== null) return 'child';
    this.rewriteScheduled = false;
    const fn = this.fileName;
    let m: AofManifest;
    let newIncr: AofFileInfo | null = null;
    let tempIncr: AofTarget | null = null;
    try {
      this.ensureDir();
      m = this.manifest?.clone() ?? new AofManifest();
      if (this.state === 'on' && this.writer !== null) {
        // Writes from now on go to a new incremental file, listed in the manifest right away.
        m.incrSeq++;
        newIncr = { name: incrName(fn, m.incrSeq), seq: m.incrSeq, type: 'i' };
        const target = this.openTarget(newIncr.name, 'w');
        m.incrs.push(newIncr);
        try {
          persistManifest(this.dir, fn, m);
        } catch (err) {
          fs.closeSync(target.fd);
          rmQuiet(path.join(this.dir, newIncr.name));
          throw err;
        }
        this.manifest = m;
        const old = this.writer.switchTarget(target);
        this.closedIncrSize += old.size;
        e.log.notice(`Creating AOF incr file ${newIncr.name} on background rewrite`);
      } else if (this.state === 'wait_rewrite') {
        // First rewrite after enabling: writes wait in a temp incremental file until the base exists.
        tempIncr = this.openTarget(tempIncrName(fn), 'w');
        this.attach(tempIncr);
      }
    } catch (err) {
      e.log.warning(`Can't rewrite append only file in background: ${(err as Error).message}`);
      this.failed();
      return `Can't rewrite append only file in background: ${(err as Error).message}`;
    }
    const rdb = e.config.bool('aof-use-rdb-preamble');
    const baseSeq = (this.manifest?.baseSeq ?? 0) + 1;
    const name = baseName(fn, baseSeq, rdb);
    const file = this.snapshotFile(name, rdb, `temp-rewriteaof-bg-${process.pid}.aof`);
    file.keyDelayUs = e.config.num('rdb-key-save-delay');
    const job: ChildJob = { type: 'aof', file, startTime: Date.now() };
    p.child = job;
    e.log.notice('Background append only file rewriting started');
    const startIncrSeq = newIncr?.seq ?? Infinity;
    file.run().then(
      () => {
        if (p.child === job) p.child = null;
        try {
          this.rewriteDone(name, baseSeq, startIncrSeq, file);
          this.lastRewriteTimeSec = Math.round((Date.now() - job.startTime) / 1000);
          e.log.notice('Background AOF rewrite terminated with success');
          e.log.notice('Background AOF rewrite finished successfully');
        } catch (err) {
          e.log.warning(`Error trying to finish the AOF rewrite: ${(err as Error).message}`);
          rmQuiet(path.join(this.dir, name));
          this.rewriteFailedCleanup();
          this.failed();
        }
        p.runScheduled();
      },
      (err: Error) => {
        if (p.child === job) p.child = null;
        this.lastRewriteTimeSec = Math.round((Date.now() - job.startTime) / 1000);
        // killChild() is Redis's SIGUSR1 (not an error); the placeholder child killed by another signal is.
        const sig = err instanceof SaveAborted ? (job.signal ?? 10) : 0;
        if (sig !== 0) e.log.warning(`Background AOF rewrite terminated by signal ${sig}`);
        else e.log.warning(`Background AOF rewrite error: ${err.message}`);
        this.rewriteFailedCleanup();
        if (sig !== 10) this.failed();
        p.runScheduled();
      },
    );
    return null;
  }

  private failed(): void {
    this.lastRewriteOk = false;
    this.consecutiveFailures++;
    if (this.state === 'wait_rewrite') this.rewriteScheduled = true;
  }

  /**
   * After REWRITE_FAILURES_BEFORE_DELAY consecutive failures, automatic and
   * scheduled rewrites wait: 1 minute, then 2, 4, ... up to 60 (BGREWRITEAOF
   * still runs at once). True while waiting.
   */
  rewriteLimited(): boolean {
    if (this.consecutiveFailures < REWRITE_FAILURES_BEFORE_DELAY) {
      this.nextDelayMin = 0;
      this.nextRetry = 0;
      return false;
    }
    if (this.nextRetry !== 0) {
      if (Date.now() < this.nextRetry) return true;
      this.nextRetry = 0;
      return false;
    }
    this.nextDelayMin = this.nextDelayMin === 0 ? 1 : Math.min(60, this.nextDelayMin * 2);
    this.nextRetry = Date.now() + this.nextDelayMin * 60_000;
    this.e.log.warning(`Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.nextDelayMin} minutes`);
    return true;
  }

  /** A failed rewrite while enabling: the temp incremental file is dropped (the retry takes a new snapshot). */
  private rewriteFailedCleanup(): void {
    if (this.state === 'wait_rewrite') {
      this.detach();
      this.e.log.notice(`Removing the temp incr aof file ${tempIncrName(this.fileName)} in the background`);
      rmQuiet(path.join(this.dir, tempIncrName(this.fileName)));
    }
  }

  /** DEBUG LOADAOF: the manifest was read from disk again (its history files are deleted, as Redis does). */
  reloadedManifest(m: AofManifest): void {
    this.manifest = m;
    this.deleteHistory(m);
  }

  /** The new base is on disk: switch the manifest. */
  private rewriteDone(name: string, baseSeq: number, startIncrSeq: number, file: SnapshotFile): void {
    const fn = this.fileName;
    const m = this.manifest?.clone() ?? new AofManifest();
    // Newest history first, as Redis lists it: the replaced incremental files (in order), then the replaced base.
    const older = m.history;
    const hist: AofFileInfo[] = [];
    const oldBase = m.base;
    m.base = { name, seq: baseSeq, type: 'b' };
    m.baseSeq = baseSeq;
    const keep: AofFileInfo[] = [];
    for (const f of m.incrs) {
      if (f.seq >= startIncrSeq) keep.push(f);
      else hist.push({ ...f, type: 'h' });
    }
    m.incrs = keep;
    if (this.state === 'wait_rewrite' && this.writer !== null) {
      // The temp incremental file becomes the first real one.
      m.incrSeq++;
      const incr = incrName(fn, m.incrSeq);
      fs.renameSync(path.join(this.dir, tempIncrName(fn)), path.join(this.dir, incr));
      this.writer.target.name = incr;
      m.incrs = [{ name: incr, seq: m.incrSeq, type: 'i' }];
      this.state = 'on';
      this.e.log.notice('AOF rewrite: the AOF is now enabled.');
    } else if (this.state === 'off') {
      for (const f of m.incrs) hist.push({ ...f, type: 'h' });
      m.incrs = [];
    }
    if (oldBase !== null) hist.push({ ...oldBase, type: 'h' });
    m.history = [...hist, ...older];
    persistManifest(this.dir, fn, m);
    this.manifest = m;
    this.deleteHistory(m);
    this.baseSize = file.bytes;
    this.closedIncrSize = 0;
    for (const f of m.incrs) if (f.name !== this.writer?.target.name) this.closedIncrSize += this.fileSize(f.name);
    this.rewriteBaseSize = this.currentSize;
    this.lastCowSize = file.snapshot.cowBytes;
    this.rewrites++;
    this.lastRewriteOk = true;
    this.consecutiveFailures = 0;
    this.nextRetry = 0;
  }

  /** auto-aof-rewrite-percentage / auto-aof-rewrite-min-size, from the cron. */
  autoRewriteCheck(): void {
    if (this.state !== 'on' || this.p.child !== null) return;
    const cfg = this.e.config;
    const perc = cfg.num('auto-aof-rewrite-percentage');
    const size = this.currentSize;
    if (perc === 0 || size <= cfg.num('auto-aof-rewrite-min-size')) return;
    const base = this.rewriteBaseSize > 0 ? this.rewriteBaseSize : 1;
    const growth = Math.floor((size * 100) / base) - 100;
    if (growth >= perc && !this.rewriteLimited()) {
      this.e.log.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
      this.startRewrite();
    }
  }

  info(f: InfoFields, now: number): void {
    const c = this.p.child;
    f.set('aof_enabled', this.state !== 'off' ? 1 : 0);
    f.set('aof_rewrite_in_progress', c?.type === 'aof' ? 1 : 0);
    f.set('aof_rewrite_scheduled', this.rewriteScheduled ? 1 : 0);
    f.set('aof_last_rewrite_time_sec', this.lastRewriteTimeSec);
    f.set('aof_current_rewrite_time_sec', c?.type === 'aof' ? Math.floor((now - c.startTime) / 1000) : -1);
    f.set('aof_last_bgrewrite_status', this.lastRewriteOk ? 'ok' : 'err');
    f.set('aof_rewrites', this.rewrites);
    f.set('aof_rewrites_consecutive_failures', this.consecutiveFailures);
    f.set('aof_last_write_status', this.lastWriteError === null ? 'ok' : 'err');
    f.set('aof_last_cow_size', this.lastCowSize);
    if (this.state !== 'off') {
      // After module_fork_last_cow_size, as Redis appends them.
      f.set('aof_current_size', this.currentSize);
      f.set('aof_base_size', this.baseSize);
      f.set('aof_pending_rewrite', this.rewriteScheduled ? 1 : 0);
      f.set('aof_buffer_length', this.writer?.bufferLength ?? 0);
      f.set('aof_pending_bio_fsync', this.writer !== null && this.writer.written > this.writer.synced ? 1 : 0);
      f.set('aof_delayed_fsync', this.writer?.delayedFsync ?? 0);
    }
  }
}
