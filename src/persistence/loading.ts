/**
 * Loading data sets: dump.rdb and the multi-part AOF (base + incremental
 * files, see aof-manifest.ts), at start-up (in the background, a slice per
 * event-loop turn, while clients get -LOADING) and synchronously for DEBUG
 * RELOAD / DEBUG LOADAOF.
 *
 * RDB keys go straight into the keyspaces (keys already expired are skipped,
 * except in an AOF preamble, as Redis does); AOF commands are executed by a
 * client of the engine's own, through the command table, with MULTI/EXEC
 * honoured. A truncated last command of the last AOF file is dropped (and the
 * file truncated on disk) when `aof-load-truncated` is on; any other damage
 * stops the load with an error naming the file and the byte offset.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../server/engine.js';
import { NullReply } from '../protocol/reply.js';
import { Session } from '../server/session.js';
import { call } from '../server/dispatch.js';
import { clock, LRU_CLOCK_MAX } from '../keyspace/clock.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import { RdbDecoder, rdbLimitsFromConfig, type RdbEvent } from './rdb-decoder.js';
import { AofReader, AofFormatError } from './aof-reader.js';
import type { AofFileInfo, AofManifest } from './aof-manifest.js';
import { loadLibrary } from '../scripting/function-library.js';

export class LoadError extends Error {}

/** Progress of a load in course (INFO loading_* fields). */
export interface LoadProgress {
  startTime: number;
  totalBytes: number;
  loadedBytes: number;
  /** used-mem aux field of the RDB being loaded. */
  rdbUsedMem: number;
  keysLoaded: number;
  keysExpired: number;
  /** Empty aggregates found in an RDB (not loaded). */
  emptyKeysSkipped: number;
}

export function newProgress(totalBytes: number): LoadProgress {
  return { startTime: Date.now(), totalBytes, loadedBytes: 0, rdbUsedMem: 0, keysLoaded: 0, keysExpired: 0, emptyKeysSkipped: 0 };
}

/** Time slice of background loading, in ms. */
const SLICE_MS = 20;
const READ_CHUNK = 1 << 20;

/**
 * A load in steps: `step(deadline)` does work until `deadline`
 * (performance.now() ms) and returns true when finished. Reads are
 * synchronous (a chunk at a time, as Redis reads), so a step can run inside
 * a command (DEBUG RELOAD) or as one slice of a background load.
 */
export interface LoadJob {
  step(deadline: number): boolean;
  /** Release files (after an error). */
  close(): void;
}

/** Run a job to the end now. */
export function runSync(job: LoadJob): void {
  try {
    while (!job.step(Infinity));
  } finally {
    job.close();
  }
}

/** Run a job a slice per event-loop turn. */
export async function runBackground(job: LoadJob, onSlice?: () => void): Promise<void> {
  try {
    while (!job.step(performance.now() + SLICE_MS)) {
      onSlice?.();
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    job.close();
  }
}

/** Reads a file in chunks. */
class ChunkReader {
  private fd: number;
  pos = 0;
  readonly size: number;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'r');
    this.size = fs.fstatSync(this.fd).size;
  }
  next(): Buffer | null {
    const b = Buffer.allocUnsafe(READ_CHUNK);
    const n = fs.readSync(this.fd, b, 0, READ_CHUNK, this.pos);
    if (n === 0) return null;
    this.pos += n;
    return n === READ_CHUNK ? b : b.subarray(0, n);
  }
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Wait `usec` microseconds (busy: the load is synchronous within its slice);
 * a negative value waits 1µs once every -usec keys on average, as Redis does.
 */
function keyLoadDelay(usec: number): void {
  if (usec < 0) usec = Math.floor(Math.random() * -usec) === 0 ? 1 : 0;
  if (usec === 0) return;
  const until = performance.now() + usec / 1000;
  while (performance.now() < until);
}

// ---- RDB ---------------------------------------------------------------------------

export interface RdbLoadOptions {
  /** Loading the preamble of an AOF: keep keys that already expired (the AOF's DELs follow). */
  aofPreamble?: boolean;
  /** DEBUG RELOAD MERGE: a key already present is replaced instead of being an error. */
  merge?: boolean;
  /** A master loading dump.rdb at start-up: the keys found expired are deleted in the replication stream too. */
  feedRepl?: boolean;
  /** Every AUX field read (the replication info a start-up restores). */
  onAux?: (key: string, value: string) => void;
}

/** Put RDB events into the keyspaces. */
class RdbApplier {
  private db: Keyspace;
  constructor(
    private readonly engine: Engine,
    private readonly source: string,
    private readonly opts: RdbLoadOptions,
    private readonly progress: LoadProgress,
  ) {
    this.db = engine.dbs[0]!;
    this.keyLoadDelay = engine.config.num('key-load-delay');
  }

  /** key-load-delay (a test knob): microseconds to wait after each key. */
  private readonly keyLoadDelay: number;

  apply(events: RdbEvent[]): void {
    const e = this.engine;
    const now = Date.now();
    for (const ev of events) {
      switch (ev.t) {
        case 'aux':
          this.aux(ev.key, ev.value);
          break;
        case 'db': {
          const db = e.dbs[ev.db];
          if (db === undefined) {
            throw new LoadError(
              `FATAL: Data file was created with a Redis server configured to handle more than ${e.dbs.length} databases. Exiting`,
            );
          }
          this.db = db;
          break;
        }
        case 'entry': {
          const db = e.dbs[ev.db]!;
          if (ev.expireAtMs !== 0 && ev.expireAtMs < now && !this.opts.aofPreamble && e.role === 'master') {
            this.progress.keysExpired++;
            if (this.opts.feedRepl) e.propagate(ev.db, ['DEL', ev.key]);
            break;
          }
          const before = db.size;
          db.set(ev.key, ev.value);
          if (db.size === before && !this.opts.merge) throw new LoadError(`RDB has duplicated key '${ev.key}' in DB ${ev.db}`);
          if (ev.expireAtMs !== 0) db.setExpire(ev.key, ev.expireAtMs);
          if (ev.lruIdleSec !== undefined || ev.lfuFreq !== undefined) {
            const slot = db.slotOf(ev.key);
            if (ev.lfuFreq !== undefined) db.setMeta(slot, ((Math.floor(Date.now() / 60000) & 65535) << 8) | (ev.lfuFreq & 255));
            else db.setMeta(slot, (clock.lru - Math.min(ev.lruIdleSec!, LRU_CLOCK_MAX)) & LRU_CLOCK_MAX);
          }
          this.progress.keysLoaded++;
          if (this.keyLoadDelay !== 0) keyLoadDelay(this.keyLoadDelay);
          break;
        }
        case 'function':
          try {
            loadLibrary(e, ev.code, this.opts.merge === true);
          } catch (err) {
            throw new LoadError(`Failed loading library: ${(err as Error).message}`);
          }
          break;
        default:
          break;
      }
    }
  }

  private aux(key: string, value: string): void {
    this.opts.onAux?.(key, value);
    const log = this.engine.log;
    if (key === 'redis-ver') log.notice(`Loading RDB produced by version ${value}`);
    else if (key === 'ctime') {
      const age = Math.floor(Date.now() / 1000) - Number(value);
      log.notice(`RDB age ${age < 0 ? 0 : age} seconds`);
    } else if (key === 'used-mem') {
      this.progress.rdbUsedMem = Number(value) || 0;
      log.notice(`RDB memory usage when created ${(Number(value) / 1024 / 1024).toFixed(2)} Mb`);
    } else if (key === 'aof-base' && value === '1' && this.opts.aofPreamble) log.notice('RDB is base AOF');
  }
}

/** An RDB read from a ChunkReader, starting with `first` (bytes already read). */
class RdbStream {
  private readonly dec: RdbDecoder;
  private readonly applier: RdbApplier;
  private readonly base: number;
  private eof = false;

  constructor(
    engine: Engine,
    private readonly reader: ChunkReader,
    first: Buffer | null,
    opts: RdbLoadOptions,
    private readonly progress: LoadProgress,
  ) {
    const source = path.basename(reader.file);
    this.dec = new RdbDecoder({
      source,
      limits: rdbLimitsFromConfig(engine.config),
      onEmptyKey: (key) => {
        progress.emptyKeysSkipped++;
        engine.log.warning(`rdbLoadObject skipping empty key: ${key}`);
      },
    });
    this.applier = new RdbApplier(engine, source, opts, progress);
    this.base = progress.loadedBytes;
    if (first !== null) this.dec.feed(first);
  }

  /** True when the whole RDB has been loaded. */
  step(deadline: number): boolean {
    const dec = this.dec;
    while (!dec.done) {
      if (dec.needsInput && !this.eof) {
        const chunk = this.reader.next();
        if (chunk === null) {
          this.eof = true;
          dec.finish();
        } else dec.feed(chunk);
        continue;
      }
      this.applier.apply(dec.step(256));
      this.progress.loadedBytes = this.base + dec.offset;
      if (performance.now() >= deadline) return dec.done;
    }
    return true;
  }

  /** Bytes read past the end of the RDB (an old-style AOF's commands). */
  rest(): Buffer {
    return this.dec.rest();
  }
}

/** Load dump.rdb (or any RDB file). */
export function rdbFileJob(engine: Engine, file: string, opts: RdbLoadOptions, progress: LoadProgress): LoadJob {
  const reader = new ChunkReader(file);
  if (progress.totalBytes === 0) progress.totalBytes = reader.size;
  const stream = new RdbStream(engine, reader, null, opts, progress);
  return {
    step: (deadline) => stream.step(deadline),
    close: () => reader.close(),
  };
}

// ---- AOF ---------------------------------------------------------------------------


const MULTI_PASSTHROUGH = new Set(['exec', 'discard', 'multi']);

/** Executes AOF commands as a client of the engine (Redis's fake client). */
class AofReplayer {
  readonly session: Session;
  constructor(private readonly engine: Engine) {
    this.session = new Session(engine, new NullReply(), null);
    this.session.name = 'aof-loader';
    this.session.obeyClient = true;
  }

  /** Run one command; throws LoadError for an unknown command. */
  exec(argv: string[], file: string): void {
    const s = this.session;
    let cmd = this.engine.commands.get(argv[0]!);
    if (cmd === undefined) throw new LoadError(`Unknown command '${argv[0]}' reading the append only file ${file}`);
    if (cmd.sub !== null && argv.length > 1) cmd = cmd.sub.get(argv[1]!.toLowerCase()) ?? cmd;
    if (cmd.handler === undefined) throw new LoadError(`Unknown command '${argv.join(' ')}' reading the append only file ${file}`);
    const name = cmd.parent ? cmd.parent.name : cmd.name;
    if (s.multi !== null && !MULTI_PASSTHROUGH.has(name)) {
      s.multi.queue.push({ cmd, argv });
      return;
    }
    call(s, cmd, argv);
  }

  get inMulti(): boolean {
    return this.session.multi !== null;
  }

  close(): void {
    this.session.multi = null;
    this.session.close();
  }
}

export interface AofLoadResult {
  /** 'empty': no commands at all. */
  status: 'ok' | 'empty' | 'truncated';
  /** Total size of the AOF files (after a truncation). */
  bytes: number;
  /** Size of the base file. */
  baseBytes: number;
}

/** The file of a manifest being loaded. */
interface AofFileState {
  f: AofFileInfo;
  last: boolean;
  reader: ChunkReader;
  /** The RDB preamble still being loaded. */
  rdb: RdbStream | null;
  aof: AofReader | null;
  /** File offset before the MULTI of a transaction in course. */
  validBeforeMulti: number;
  base: number;
  t0: number;
}

/**
 * Load every file of a manifest, in order, as one job. Errors are LoadErrors
 * (bad format, truncation not allowed, unknown command) with Redis's
 * messages plus the byte offset.
 */
export class AofLoadJob implements LoadJob {
  readonly result: AofLoadResult = { status: 'empty', bytes: 0, baseBytes: 0 };
  private readonly files: AofFileInfo[];
  private next = 0;
  private cur: AofFileState | null = null;
  private readonly replayer: AofReplayer;
  private readonly propagators: Engine['propagators'];
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly dir: string,
    m: AofManifest,
    private readonly progress: LoadProgress,
  ) {
    this.files = m.loadOrder();
    let total = 0;
    for (const f of this.files) {
      try {
        total += fs.statSync(path.join(dir, f.name)).size;
      } catch (e) {
        // As Redis: a file listed in the manifest but missing on disk is fatal, before anything is loaded.
        const err = e as NodeJS.ErrnoException;
        const text = err.code === 'ENOENT' ? 'No such file or directory' : err.code === 'EACCES' ? 'Permission denied' : err.message;
        throw new LoadError(`Unable to obtain the AOF file ${f.name} length. stat: ${text}`);
      }
    }
    progress.totalBytes = total;
    // Writes replayed from the AOF must not be written to it again.
    this.propagators = engine.propagators.splice(0);
    this.replayer = new AofReplayer(engine);
  }

  step(deadline: number): boolean {
    for (;;) {
      if (this.cur === null) {
        if (this.next >= this.files.length) return true;
        this.open(this.files[this.next]!, this.next === this.files.length - 1);
        this.next++;
      }
      const c = this.cur!;
      if (c.rdb !== null) {
        if (!c.rdb.step(deadline)) return false;
        const rest = c.rdb.rest();
        c.aof = new AofReader(c.reader.pos - rest.length);
        if (rest.length > 0) c.aof.feed(rest);
        c.rdb = null;
      }
      if (!this.commands(c, deadline)) return false;
      this.finishFile(c);
      c.reader.close();
      this.cur = null;
    }
  }

  private open(f: AofFileInfo, last: boolean): void {
    const file = path.join(this.dir, f.name);
    if (!fs.existsSync(file)) throw new LoadError(`The AOF file ${f.name} doesn't exist`);
    const reader = new ChunkReader(file);
    const c: AofFileState = { f, last, reader, rdb: null, aof: null, validBeforeMulti: -1, base: this.progress.loadedBytes, t0: performance.now() };
    this.cur = c;
    const first = reader.next();
    if (first !== null && first.length >= 5 && first.subarray(0, 5).toString('latin1') === 'REDIS') {
      // An RDB preamble (the base of a multi-part AOF, or an old-style AOF): commands may follow it.
      c.rdb = new RdbStream(this.engine, reader, first, { aofPreamble: true }, this.progress);
    } else {
      c.aof = new AofReader(0);
      if (first !== null) c.aof.feed(first);
    }
  }

  /** Execute commands until the deadline; true at the end of the file. */
  private commands(c: AofFileState, deadline: number): boolean {
    const aof = c.aof!;
    const ev = this.engine.keyspaceEvents;
    // Nothing expires while loading (Redis's keyIsExpired says no during a load).
    ev.noExpiry = true;
    try {
      let n = 0;
      for (;;) {
        let argv: string[] | null;
        try {
          argv = aof.next();
        } catch (e) {
          if (e instanceof AofFormatError) {
            throw new LoadError(
              `Bad file format reading the append only file ${c.f.name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest> ` +
                `(the command starting at byte offset ${e.commandOffset} is malformed at byte offset ${e.offset})`,
            );
          }
          throw e;
        }
        if (argv === null) {
          const chunk = c.reader.next();
          if (chunk === null) return true;
          aof.feed(chunk);
          continue;
        }
        const name = argv[0]!.toLowerCase();
        if (name === 'multi') c.validBeforeMulti = aof.validUpTo - encodedLength(argv);
        this.replayer.exec(argv, c.f.name);
        if (name === 'exec') c.validBeforeMulti = -1;
        if (++n % 64 === 0) {
          this.progress.loadedBytes = c.base + aof.offset;
          if (performance.now() >= deadline) return false;
        }
      }
    } finally {
      ev.noExpiry = false;
    }
  }

  /** End of a file: a truncated tail or an unfinished MULTI, logging. */
  private finishFile(c: AofFileState): void {
    const log = this.engine.log;
    const aof = c.aof!;
    const f = c.f;
    let size = c.reader.size;
    let truncatedAt = -1;
    if (this.replayer.inMulti) {
      log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${f.name}`);
      this.replayer.session.multi = null;
      truncatedAt = c.validBeforeMulti;
    } else if (aof.truncated) truncatedAt = aof.validUpTo;
    let status: 'ok' | 'empty' | 'truncated' = size === 0 ? 'empty' : 'ok';
    if (truncatedAt >= 0) {
      const allowed = this.engine.config.bool('aof-load-truncated');
      if (allowed && c.last) {
        log.warning(`!!! Warning: short read while loading the AOF file ${f.name}!!!`);
        log.warning(`!!! Truncating the AOF ${f.name} at offset ${truncatedAt} !!!`);
        try {
          fs.truncateSync(path.join(this.dir, f.name), truncatedAt);
        } catch (e) {
          throw new LoadError(`Error truncating the AOF file ${f.name}: ${(e as Error).message}`);
        }
        log.warning(`AOF ${f.name} loaded anyway because aof-load-truncated is enabled`);
        size = truncatedAt;
        status = 'truncated';
      } else if (allowed) {
        throw new LoadError(`Fatal error: the truncated file ${f.name} is not the last file`);
      } else {
        throw new LoadError(
          `Unexpected end of file reading the append only file ${f.name} (the last complete command ends at byte offset ${truncatedAt}). You can: ` +
            '1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. ' +
            "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
        );
      }
    }
    this.progress.loadedBytes = c.base + c.reader.size;
    if (status !== 'empty') {
      const what = f.type === 'b' ? 'base' : 'incr';
      log.notice(`DB loaded from ${what} file ${f.name}: ${((performance.now() - c.t0) / 1000).toFixed(3)} seconds`);
    }
    const r = this.result;
    r.bytes += size;
    if (f.type === 'b') r.baseBytes = size;
    if (status === 'truncated') r.status = 'truncated';
    else if (status === 'ok' && r.status === 'empty') r.status = 'ok';
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cur?.reader.close();
    this.cur = null;
    this.replayer.close();
    this.engine.propagators.push(...this.propagators);
  }
}

function encodedLength(argv: string[]): number {
  let n = `*${argv.length}\r\n`.length;
  for (const a of argv) n += `$${a.length}\r\n`.length + a.length + 2;
  return n;
}
