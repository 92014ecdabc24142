/**
 * Persistence of one engine: dump.rdb (SAVE, BGSAVE, save points, shutdown,
 * FLUSHALL), the multi-part AOF (aof-control.ts), start-up loading, the
 * "child" slot (one background save or rewrite at a time, as Redis has one
 * fork child), INFO persistence, and the MISCONF write gate.
 *
 * Installed on an engine by `installPersistence` (bootstrap), reached from
 * commands with `persistenceOf(engine)`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../server/engine.js';
import type { SavePoint } from '../config/config-store.js';
import { writeGate } from '../server/dispatch.js';
import { extendInfoSection, type InfoFields } from '../server/info.js';
import { rdbSnapshotFile, SaveAborted, type SnapshotFile } from './rdb-save.js';
import { newProgress, rdbFileJob, runBackground, type LoadProgress } from './loading.js';
import { AofControl } from './aof-control.js';
import { ChildProxy } from './child-proxy.js';
import { RdbChecksumError, RdbError, redisErrorReason } from './rdb-format.js';
import { rdbReplication } from '../server/repl-feed.js';

const MISCONF_RDB =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
/** Redis's CONFIG_BGSAVE_RETRY_DELAY: seconds before a failed BGSAVE is retried by the save points. */
const BGSAVE_RETRY_DELAY = 5;

/** The background job in the one "child" slot. */
export interface ChildJob {
  type: 'rdb' | 'aof';
  file: SnapshotFile;
  /** ms */
  startTime: number;
  /** The placeholder child process (child-proxy.ts), set while the job is in the slot. */
  proxy?: ChildProxy;
  /** The signal that killed the placeholder: the job was aborted by it. */
  signal?: number;
}

const registry = new WeakMap<Engine, Persistence>();

export function persistenceOf(e: Engine): Persistence {
  const p = registry.get(e);
  if (p === undefined) throw new Error('persistence is not installed on this engine');
  return p;
}

export function installPersistence(e: Engine): Persistence {
  let p = registry.get(e);
  if (p === undefined) registry.set(e, (p = new Persistence(e)));
  return p;
}

export class Persistence {
  private job: ChildJob | null = null;
  /** Background jobs started in the child slot (INFO total_forks). */
  forks = 0;
  /** The job in the "child" slot; filling the slot starts its placeholder process, emptying it ends that. */
  get child(): ChildJob | null {
    return this.job;
  }
  set child(j: ChildJob | null) {
    const old = this.job;
    if (old === j) return;
    this.job = j;
    if (old !== null) old.proxy?.release();
    if (j !== null && j.proxy === undefined) {
      this.forks++;
      j.proxy = new ChildProxy((sig) => {
        if (this.job !== j) return;
        j.signal = sig;
        j.file.abort();
      });
    }
  }
  bgsaveScheduled = false;
  lastBgsaveOk = true;
  /** Unix seconds of the last BGSAVE attempt. */
  lastBgsaveTry = 0;
  lastBgsaveTimeSec = -1;
  rdbSaves = 0;
  lastCowSize = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** Set while a start-up load runs (INFO loading_*). */
  loading: LoadProgress | null = null;
  readonly aof: AofControl;
  private misconfReported: string | null = null;

  constructor(readonly engine: Engine) {
    this.aof = new AofControl(this);
    const cfg = engine.config;
    engine.cronHooks.push(() => this.cron());
    engine.flushAllHooks.push(() => this.onFlushAll());
    engine.shutdownHooks.push((o) => this.onShutdown(o.save));
    cfg.onChange('stop-writes-on-bgsave-error', () => this.updateGate());
    cfg.onChange('save', () => this.updateGate());
    extendInfoSection('persistence', (e, f) => {
      if (e === this.engine) this.info(f);
    });
    extendInfoSection('stats', (e, f) => {
      if (e === this.engine) f.set('total_forks', this.forks);
    });
  }

  // ---- paths --------------------------------------------------------------------------

  get dir(): string {
    return path.resolve(this.engine.config.str('dir'));
  }
  get rdbPath(): string {
    return path.join(this.dir, this.engine.config.str('dbfilename'));
  }
  private get savePoints(): SavePoint[] {
    return this.engine.config.get('save') as SavePoint[];
  }

  // ---- start-up ----------------------------------------------------------------------

  /**
   * Load the data set (AOF when appendonly is on, else dump.rdb), in the
   * background with engine.loading set. Throws on a damaged file (the server
   * must not start, nor overwrite it).
   */
  async loadAtStartup(): Promise<void> {
    const e = this.engine;
    const progress = newProgress(0);
    this.loading = progress;
    e.loading = true;
    const t0 = performance.now();
    let lastLog = Date.now();
    const onProgress = () => {
      const t = Date.now();
      if (t - lastLog < 2000) return;
      lastLog = t;
      const perc = progress.totalBytes > 0 ? (progress.loadedBytes * 100) / progress.totalBytes : 0;
      e.log.notice(`Loading... ${perc.toFixed(2)}% (${progress.keysLoaded} keys so far)`);
    };
    try {
      if (e.config.bool('appendonly')) {
        await this.aof.loadAtStartup(progress, onProgress);
      } else {
        const file = this.rdbPath;
        if (fs.existsSync(file)) {
          // The replication history the file was at (AUX fields): continued by replicas' PSYNCs.
          const aux = new Map<string, string>();
          const feedRepl = e.role === 'master' && rdbReplication.beforeLoad !== null;
          if (feedRepl) rdbReplication.beforeLoad!(e);
          await runBackground(rdbFileJob(e, file, { feedRepl, onAux: (k, v) => aux.set(k, v) }, progress), onProgress);
          const id = aux.get('repl-id');
          const offset = Number(aux.get('repl-offset') ?? -1);
          const db = Number(aux.get('repl-stream-db') ?? -1);
          const valid = id !== undefined && id.length === 40 && Number.isSafeInteger(offset) && offset >= 0 && Number.isInteger(db) && db >= 0;
          rdbReplication.restore?.(e, valid ? { id, offset, db } : null);
          if (progress.emptyKeysSkipped > 0) {
            e.log.warning(
              `Done loading RDB, keys loaded: ${progress.keysLoaded}, keys expired: ${progress.keysExpired}, empty keys skipped: ${progress.emptyKeysSkipped}.`,
            );
          } else e.log.notice(`Done loading RDB, keys loaded: ${progress.keysLoaded}, keys expired: ${progress.keysExpired}.`);
          e.log.notice(`DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
        }
      }
      this.lastLoadKeysLoaded = progress.keysLoaded;
      this.lastLoadKeysExpired = progress.keysExpired;
    } catch (err) {
      if (err instanceof RdbError && !e.config.bool('appendonly')) {
        // Redis's own lines for a damaged dump.rdb.
        if (err instanceof RdbChecksumError) {
          e.log.warning(`Wrong RDB checksum expected: (${err.expected.toString(16)}) but got (${err.got.toString(16)}). Aborting now.`);
          e.log.warning(`Internal error in RDB reading offset ${progress.loadedBytes}, function at rdb.c:3225 -> RDB CRC error`);
        } else {
          const msg = `Internal error in RDB reading offset ${progress.loadedBytes}, function at rdb.c:0 -> ${redisErrorReason(err)}`;
          e.log.warning(msg);
          // Redis then checks the file (redis-check-rdb's report, unprefixed).
          e.log.raw(`--- RDB ERROR DETECTED ---\n[offset ${Math.max(0, err.offset)}] ${msg}\n[additional info] ${err.message}`);
        }
        e.log.warning('Terminating server after rdb file reading failure.');
        throw err;
      }
      e.log.warning(`${(err as Error).message}`);
      // Redis exits right after an AOF's own message (scripts read the log's last line); an RDB gets one line more.
      if (!e.config.bool('appendonly')) e.log.warning('Fatal error loading the DB, check server logs. Exiting.');
      throw err;
    } finally {
      e.loading = false;
      this.loading = null;
      e.dirty = 0;
    }
  }

  // ---- RDB saving ---------------------------------------------------------------------

  private tmpRdb(tag: string): string {
    return path.join(this.dir, `temp-${tag}${process.pid}.rdb`);
  }

  /** SAVE (and shutdown, FLUSHALL, DEBUG RELOAD): blocking. Returns false on failure (logged). */
  saveSync(): boolean {
    const e = this.engine;
    const tmp = this.tmpRdb('');
    try {
      const f = rdbSnapshotFile(e, this.rdbPath, tmp);
      f.runSync();
      this.lastCowSize = 0;
    } catch (err) {
      e.log.warning(`Failed saving the DB to ${this.rdbPath}: ${(err as Error).message}`);
      return false;
    }
    e.log.notice('DB saved on disk');
    e.dirty = 0;
    e.lastSave = Math.floor(Date.now() / 1000);
    this.lastBgsaveOk = true;
    this.rdbSaves++;
    this.updateGate();
    return true;
  }

  /** Start a background save now. Returns an error text, or null when started. */
  startBgsave(): string | null {
    if (this.child !== null) return 'child';
    const e = this.engine;
    this.lastBgsaveTry = Math.floor(Date.now() / 1000);
    let file: SnapshotFile;
    try {
      file = rdbSnapshotFile(e, this.rdbPath, this.tmpRdb('bg-'));
    } catch (err) {
      this.lastBgsaveOk = false;
      this.updateGate();
      e.log.warning(`Can't save in background: ${(err as Error).message}`);
      return `Can't save in background: ${(err as Error).message}`;
    }
    file.keyDelayUs = e.config.num('rdb-key-save-delay');
    const job: ChildJob = { type: 'rdb', file, startTime: Date.now() };
    this.child = job;
    this.bgsaveScheduled = false;
    const dirtyBefore = e.dirty;
    e.log.notice('Background saving started');
    file.run().then(
      () => {
        if (this.child === job) this.child = null;
        this.lastBgsaveTimeSec = Math.round((Date.now() - job.startTime) / 1000);
        this.lastCowSize = file.snapshot.cowBytes;
        e.log.notice('DB saved on disk');
        e.log.notice('Background saving terminated with success');
        e.dirty = Math.max(0, e.dirty - dirtyBefore);
        e.lastSave = Math.floor(Date.now() / 1000);
        this.lastBgsaveOk = true;
        this.rdbSaves++;
        this.updateGate();
        this.runScheduled();
      },
      (err: Error) => {
        if (this.child === job) this.child = null;
        this.lastBgsaveTimeSec = Math.round((Date.now() - job.startTime) / 1000);
        if (err instanceof SaveAborted) {
          // killChild() (SIGUSR1 in Redis: not an error), or the placeholder child killed by a signal.
          const sig = job.signal ?? 10;
          e.log.warning(`Background saving terminated by signal ${sig}`);
          if (sig !== 10) {
            this.lastBgsaveOk = false;
            this.updateGate();
          }
        } else {
          e.log.warning(`Write error saving DB on disk: ${err.message}`);
          e.log.warning('Background saving error');
          this.lastBgsaveOk = false;
          this.updateGate();
        }
        this.runScheduled();
      },
    );
    return null;
  }

  /** Abort the background job, if any (FLUSHALL, SHUTDOWN, turning AOF off). */
  killChild(type?: 'rdb' | 'aof'): void {
    const c = this.child;
    if (c === null || (type !== undefined && c.type !== type)) return;
    this.child = null;
    c.file.abort();
  }

  /** Start what BGSAVE SCHEDULE / BGREWRITEAOF / enabling the AOF scheduled, when the slot is free. */
  runScheduled(): void {
    if (this.child !== null) return;
    if (this.aof.rewriteScheduled && !this.aof.rewriteLimited()) {
      this.aof.startRewrite();
      return;
    }
    if (this.bgsaveScheduled) this.startBgsave();
  }

  // ---- hooks --------------------------------------------------------------------------

  private cron(): void {
    const e = this.engine;
    if (e.loading) return;
    if (this.child === null) this.runScheduled();
    if (this.child === null) {
      const t = Math.floor(Date.now() / 1000);
      for (const sp of this.savePoints) {
        if (e.dirty >= sp.changes && t - e.lastSave > sp.seconds && (t - this.lastBgsaveTry > BGSAVE_RETRY_DELAY || this.lastBgsaveOk)) {
          e.log.notice(`${sp.changes} changes in ${sp.seconds} seconds. Saving...`);
          this.startBgsave();
          break;
        }
      }
    }
    if (this.child === null) this.aof.autoRewriteCheck();
  }

  /** FLUSHALL: a background save is dropped; with save points, an (empty) RDB is saved now. */
  private onFlushAll(): void {
    if (this.child?.type === 'rdb') {
      this.killChild('rdb');
      this.bgsaveScheduled = false;
    }
    if (this.savePoints.length > 0) this.saveSync();
  }

  private async onShutdown(save: boolean | null): Promise<void> {
    const e = this.engine;
    if (this.child !== null) {
      e.log.warning(this.child.type === 'rdb' ? 'There is a child saving an .rdb. Killing it!' : 'There is a child rewriting the AOF. Killing it!');
      this.killChild();
    }
    this.aof.onShutdown();
    if (save === true || (save === null && this.savePoints.length > 0)) {
      e.log.notice('Saving the final RDB snapshot before exiting.');
      if (!this.saveSync()) {
        e.log.warning("Error trying to save the DB, can't exit.");
        throw new Error("Error trying to save the DB, can't exit.");
      }
    }
  }

  // ---- MISCONF ------------------------------------------------------------------------

  /** Recompute the write gate: a failed BGSAVE with save points, or a failing AOF write. */
  updateGate(): void {
    const e = this.engine;
    let m: string | null = null;
    if (e.config.bool('stop-writes-on-bgsave-error') && this.savePoints.length > 0 && !this.lastBgsaveOk) m = MISCONF_RDB;
    else if (this.aof.state !== 'off' && this.aof.lastWriteError !== null) m = `MISCONF Errors writing to the AOF file: ${this.aof.lastWriteError}`;
    if (m !== this.misconfReported) {
      // The gate is process-wide; only the engine that set it clears it.
      if (m !== null || writeGate.misconf === this.misconfReported) writeGate.misconf = m;
      this.misconfReported = m;
    }
  }

  // ---- INFO ---------------------------------------------------------------------------

  private info(f: InfoFields): void {
    const e = this.engine;
    const c = this.child;
    const snap = c?.file.snapshot ?? null;
    const now = Date.now();
    const set = (k: string, v: string | number) => f.set(k, v);
    set('loading', e.loading ? 1 : 0);
    set('current_cow_peak', snap?.cowBytes ?? 0);
    set('current_cow_size', snap?.cowBytes ?? 0);
    set('current_cow_size_age', 0);
    set('current_fork_perc', snap && snap.keysTotal > 0 ? ((snap.keysDone * 100) / snap.keysTotal).toFixed(2) : '0.00');
    set('current_save_keys_processed', snap?.keysDone ?? 0);
    set('current_save_keys_total', snap?.keysTotal ?? 0);
    set('rdb_changes_since_last_save', e.dirty);
    // An RDB image being made for replicas counts too (Redis forks the same child for it).
    set('rdb_bgsave_in_progress', c?.type === 'rdb' || rdbReplication.syncInProgress?.(this.engine) === true ? 1 : 0);
    set('rdb_last_save_time', e.lastSave);
    set('rdb_last_bgsave_status', this.lastBgsaveOk ? 'ok' : 'err');
    set('rdb_last_bgsave_time_sec', this.lastBgsaveTimeSec);
    set('rdb_current_bgsave_time_sec', c?.type === 'rdb' ? Math.floor((now - c.startTime) / 1000) : -1);
    set('rdb_saves', this.rdbSaves);
    set('rdb_last_cow_size', this.lastCowSize);
    set('rdb_last_load_keys_expired', this.lastLoadKeysExpired);
    set('rdb_last_load_keys_loaded', this.lastLoadKeysLoaded);
    this.aof.info(f, now);
    const l = this.loading;
    if (l !== null) {
      const elapsed = (now - l.startTime) / 1000;
      const perc = l.totalBytes > 0 ? (l.loadedBytes * 100) / l.totalBytes : 0;
      const eta = l.loadedBytes > 0 && elapsed > 0 ? Math.round(((l.totalBytes - l.loadedBytes) * elapsed) / l.loadedBytes) : 1;
      set('loading_start_time', Math.floor(l.startTime / 1000));
      set('loading_total_bytes', l.totalBytes);
      set('loading_rdb_used_mem', l.rdbUsedMem);
      set('loading_loaded_bytes', l.loadedBytes);
      set('loading_loaded_perc', perc.toFixed(2));
      set('loading_eta_seconds', eta);
    }
  }
}

