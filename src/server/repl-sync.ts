/**
 * Full resynchronization, master side: the RDB image replicas load before
 * the stream. As Redis forks a child for it, the image is made in the
 * background (persistence/snapshot.ts: point in time, copy-on-write per
 * key), a slice per event-loop turn, honouring rdb-key-save-delay; the
 * stream after the image's offset waits in the backlog (repl-backlog.ts
 * keeps it for them) and follows the image.
 *
 * Replicas asking together share one image. A diskless sync
 * (repl-diskless-sync, replicas announcing `capa eof`) waits
 * repl-diskless-sync-delay seconds, or for repl-diskless-sync-max-replicas
 * replicas, then streams the image to their sockets as it is made
 * (`$EOF:<40 random hex chars>\r\n<rdb><same 40 chars>`); replicas coming
 * later wait for the next one. Otherwise the image is made first and sent
 * with its length (`$<len>\r\n<rdb>`), and a replica asking meanwhile
 * shares the image being made. While an image is being made INFO shows
 * rdb_bgsave_in_progress:1; replicas waiting for it get a newline every
 * second (cron in repl-feed.ts), except while their image streams.
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from './engine.js';
import { feedOf, rdbReplication, replicaName, type Replica } from './repl-feed.js';
import { RdbFormat } from '../persistence/rdb-save.js';
import { Snapshot } from '../persistence/snapshot.js';
import { Crc64 } from '../persistence/crc64.js';

/** Serialization per event-loop turn, in ms, and bytes after which a slice stops. */
const SLICE_MS = 1;
const SLICE_BYTES = 1024 * 1024;

class SyncJob {
  readonly replicas: Replica[];
  private readonly snap: Snapshot;
  private readonly crc = new Crc64();
  private readonly checksum: boolean;
  /** Disk target: the image, sent once complete. */
  private readonly image: Buffer[] = [];
  private imageBytes = 0;
  private readonly mark: Buffer | null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly engine: Engine,
    replicas: Replica[],
    /** Streamed to the replicas' sockets (diskless) rather than made first. */
    readonly socket: boolean,
    private readonly onEnd: () => void,
  ) {
    const e = engine;
    this.replicas = replicas;
    this.checksum = e.config.bool('rdbchecksum');
    this.mark = socket ? Buffer.from(randomBytes(20).toString('hex'), 'latin1') : null;
    e.log.notice(`Starting BGSAVE for SYNC with target: ${socket ? 'replicas sockets' : 'disk'}`);
    const format = new RdbFormat(e);
    const header = format.header(e, false);
    this.snap = new Snapshot(e, format);
    // The stream after the image starts with a SELECT (the image does not say which database it is in).
    feedOf(e).selectedDb = -1;
    const offset = e.masterReplOffset;
    for (const r of replicas) this.setUp(r, offset);
    if (socket) for (const r of replicas) this.send(r, Buffer.from(`$EOF:${this.mark!.toString('latin1')}\r\n`, 'latin1'));
    this.output(header);
    this.schedule(0);
  }

  /** +FULLRESYNC with the image's offset; the stream after it waits in the backlog. */
  private setUp(r: Replica, offset: number): void {
    r.startOffset = offset;
    r.streaming = this.socket;
    if (r.psync) replyToReplica(r, `FULLRESYNC ${this.engine.replId} ${offset}`);
  }

  /** A replica asking while a disk-target image is being made shares it. */
  join(r: Replica): void {
    this.replicas.push(r);
    this.setUp(r, this.replicas[0]!.startOffset);
    this.engine.log.notice('Waiting for end of BGSAVE for SYNC');
  }

  private send(r: Replica, b: Buffer): void {
    if (b.length > 0) r.session.transport?.sendRaw?.(b);
  }

  private output(bufs: Buffer[]): void {
    for (const chunk of bufs) {
      if (chunk.length === 0) continue;
      // The encoder reuses its memory: what is kept or queued on sockets is a copy.
      const b = Buffer.from(chunk);
      this.crc.update(b);
      if (this.socket) for (const r of this.replicas) this.send(r, b);
      else {
        this.image.push(b);
        this.imageBytes += b.length;
      }
    }
  }

  private schedule(ms: number): void {
    if (ms > 0) {
      this.timer = setTimeout(() => this.slice(), ms);
      this.timer.unref();
    } else setImmediate(() => this.slice());
  }

  private slice(): void {
    this.timer = null;
    if (this.stopped) return;
    // Nobody left to send it to: stop (Redis kills a useless child).
    for (let i = this.replicas.length - 1; i >= 0; i--) if (this.replicas[i]!.session.closing) this.replicas.splice(i, 1);
    if (this.replicas.length === 0) {
      this.engine.log.warning(this.socket ? 'Diskless rdb transfer, last replica dropped, killing fork child.' : 'Background save for SYNC aborted: no replica left.');
      return this.end();
    }
    const delay = this.engine.config.num('rdb-key-save-delay');
    const maxKeys = delay > 0 ? Math.max(1, Math.floor((SLICE_MS * 1000) / delay)) : Infinity;
    this.snap.step(performance.now() + SLICE_MS, maxKeys, SLICE_BYTES);
    this.output(this.snap.take());
    if (!this.snap.done) return this.schedule(delay > 0 ? (maxKeys * delay) / 1000 : 0);
    // EOF opcode and the CRC-64 of everything before it (zeros without rdbchecksum).
    this.output([Buffer.from([0xff])]);
    const sum = this.checksum ? this.crc.bytesLE() : Buffer.alloc(8);
    if (this.socket) for (const r of this.replicas) this.send(r, sum);
    else {
      this.image.push(sum);
      this.imageBytes += sum.length;
    }
    this.finish();
  }

  private finish(): void {
    const e = this.engine;
    const f = feedOf(e);
    e.log.notice(this.socket ? 'Background RDB transfer terminated with success' : 'Background saving terminated with success');
    for (const r of this.replicas) {
      if (r.session.closing) continue;
      if (this.socket) this.send(r, this.mark!);
      else {
        this.send(r, Buffer.from(`$${this.imageBytes}\r\n`, 'latin1'));
        for (const b of this.image) this.send(r, b);
      }
      r.streaming = false;
      f.online(r);
      e.log.notice(`Synchronization with replica ${replicaName(r)} succeeded`);
    }
    this.end();
  }

  private end(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.snap.close();
    this.onEnd();
  }

  stop(): void {
    if (!this.stopped) this.end();
  }
}

const jobs = new WeakMap<Engine, SyncJob>();

/** The target of the image being made for replicas, null when none (INFO rdb_bgsave_in_progress). */
export function syncInProgress(e: Engine): 'socket' | 'disk' | null {
  const job = jobs.get(e);
  return job === undefined ? null : job.socket ? 'socket' : 'disk';
}

rdbReplication.syncInProgress = (e) => jobs.has(e);

/** Writes of this module to a replica (its +FULLRESYNC) pass the guard against replies to replicas. */
export const replicaReplies: { write: (r: Replica, line: string) => void } = {
  write: (r, line) => r.session.reply.simple(line),
};

function replyToReplica(r: Replica, line: string): void {
  replicaReplies.write(r, line);
}

/**
 * Start the full resyncs that are due: replicas waiting for an image get
 * one (or share the one being made). `now`: a replica that cannot wait asked.
 */
export function startPendingSyncs(e: Engine, now: boolean): void {
  const f = feedOf(e);
  const waiting = f.live().filter((r) => r.state === 'wait_bgsave' && r.startOffset < 0);
  if (waiting.length === 0) return;
  const job = jobs.get(e);
  if (job !== undefined) {
    // Redis: a disk-target BGSAVE in progress serves later replicas too; a socket target does not.
    if (!job.socket) for (const r of waiting) job.join(r);
    return;
  }
  const cfg = e.config;
  const diskless = cfg.bool('repl-diskless-sync');
  if (!now && diskless) {
    const max = cfg.num('repl-diskless-sync-max-replicas');
    let idle = 0;
    for (const r of waiting) idle = Math.max(idle, Math.floor((Date.now() - r.session.lastInteraction) / 1000));
    if (!(max > 0 && waiting.length >= max) && idle < cfg.num('repl-diskless-sync-delay')) return;
  }
  const socket = diskless && waiting.every((r) => r.eof);
  const started = new SyncJob(e, waiting, socket, () => {
    if (jobs.get(e) === started) jobs.delete(e);
    // Replicas that came while a socket-target image streamed get the next one.
    setImmediate(() => startPendingSyncs(e, false));
  });
  jobs.set(e, started);
}

/** Stop making an image (the engine stops). */
export function stopSync(e: Engine): void {
  jobs.get(e)?.stop();
}
