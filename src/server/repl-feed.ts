/**
 * One engine's replication stream: the replicas attached to it, the backlog
 * and the offset. On a master the stream is made of the propagated writes
 * (engine.propagators, the stream the AOF gets) with a SELECT whenever the
 * database changes, a PING every `repl-ping-replica-period` seconds and
 * `REPLCONF GETACK *` when WAIT needs fresh acknowledgements; every byte of
 * it counts in master_repl_offset and goes to the backlog. On a replica the
 * stream is its master's, byte for byte (replica-link proxies what it
 * applied), so that its own replicas, and its backlog, share the master's
 * offsets: after a failover the siblings continue from it (PSYNC).
 *
 * The backlog is created when the first replica attaches and freed
 * `repl-backlog-ttl` seconds after the last one left (on a master only; the
 * replication ID changes then, as history is lost).
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from './engine.js';
import type { Session } from './session.js';
import { ReplBacklog } from './repl-backlog.js';
import { encodeCommand } from '../persistence/aof-reader.js';
import type { ObufLimits } from '../config/config-store.js';


export interface Replica {
  session: Session;
  /** REPLCONF listening-port, 0 when not told. */
  port: number;
  /** REPLCONF ACK: the offset the replica processed. */
  ackOffset: number;
  ackTime: number;
  /**
   * wait_bgsave: asked for a full resync that has not started yet (a
   * diskless sync waits repl-diskless-sync-delay seconds for more replicas);
   * online: fed the stream.
   */
  state: 'wait_bgsave' | 'online';
  /** Since when it is over the soft output buffer limit (while waiting for its image). */
  softSince?: number | undefined;
  /** It asked with PSYNC (answered +FULLRESYNC; it sends REPLCONF ACKs) rather than SYNC. */
  psync: boolean;
  /** REPLCONF capa eof: it can load an RDB streamed without a length ($EOF:<mark>). */
  eof: boolean;
  /**
   * The offset its RDB image is at, once the image is being made (-1
   * before): the stream after it waits in the backlog until the image is sent.
   */
  startOffset: number;
  /** Its image streams to it right now (diskless): no keep-alive newline may cut in. */
  streaming?: boolean;
}

/** A client blocked in WAIT. */
interface Waiter {
  session: Session;
  offset: number;
  want: number;
  finish(): void;
}

export class Feed {
  readonly replicas: Replica[] = [];
  backlog: ReplBacklog | null = null;
  selectedDb = -1;
  /** When the last replica left (for repl-backlog-ttl). */
  noReplicasSince = Date.now();
  private readonly waiters = new Set<Waiter>();
  private cron: NodeJS.Timeout | null = null;
  private lastPing = Date.now();
  private ackRequested = false;
  private readonly propagator = (db: number, argv: string[]): void => this.feedCommand(db, argv);
  /** Starts the full resyncs that are due (replication.ts), run by the cron. */
  startPendingSyncs: (() => void) | null = null;

  constructor(private readonly engine: Engine) {}

  /** A backlog starting after the current offset (the propagator and the cron come with it). */
  createBacklog(): void {
    const e = this.engine;
    this.backlog = new ReplBacklog(e.config.num('repl-backlog-size'), e.masterReplOffset);
    this.backlog.pinned = () => this.pinned();
    this.selectedDb = -1;
    if (this.cron !== null) return;
    e.propagators.push(this.propagator);
    e.replicaFeeds++;
    this.lastPing = Date.now();
    this.cron = setInterval(() => this.tick(), 1000);
    this.cron.unref();
  }

  freeBacklog(): void {
    this.backlog = null;
    if (this.cron === null) return;
    clearInterval(this.cron);
    this.cron = null;
    const e = this.engine;
    const i = e.propagators.indexOf(this.propagator);
    if (i >= 0) {
      e.propagators.splice(i, 1);
      e.replicaFeeds--;
    }
  }

  attach(r: Replica): void {
    this.replicas.push(r);
  }

  /** The oldest offset a replica waiting for its image will need (Infinity: none). */
  private pinned(): number {
    let min = Infinity;
    for (const r of this.replicas) if (r.state === 'wait_bgsave' && r.startOffset >= 0 && !r.session.closing) min = Math.min(min, r.startOffset + 1);
    return min;
  }

  /**
   * A replica got its RDB image: the stream from the image's offset (kept in
   * the backlog meanwhile), then everything as it comes.
   */
  online(r: Replica): void {
    const pending = r.startOffset >= 0 ? this.backlog?.readFrom(r.startOffset + 1) : null;
    if (pending !== null && pending !== undefined && pending.length > 0) r.session.transport?.sendRaw?.(pending);
    r.state = 'online';
    r.ackTime = Date.now();
    this.backlog?.trim();
  }

  /** Bytes of the stream a replica waiting for its image holds in the backlog (its output buffer). */
  pendingOf(r: Replica): number {
    return r.state === 'wait_bgsave' && r.startOffset >= 0 ? this.engine.masterReplOffset - r.startOffset : 0;
  }

  has(s: Session): boolean {
    return this.replicas.some((r) => r.session === s);
  }

  live(): Replica[] {
    this.prune();
    return this.replicas;
  }

  private prune(): void {
    const before = this.replicas.length;
    for (let i = this.replicas.length - 1; i >= 0; i--) if (this.replicas[i]!.session.closing) this.replicas.splice(i, 1);
    if (this.replicas.length === before) return;
    // A replica that left no longer keeps history in the backlog.
    this.backlog?.trim();
    if (before > 0 && this.replicas.length === 0) this.noReplicasSince = Date.now();
  }

  /** A propagated write, on a master. */
  private feedCommand(db: number, argv: string[]): void {
    if (this.engine.role === 'slave' || this.backlog === null) return;
    if (db !== this.selectedDb) {
      this.write(encodeCommand(['SELECT', String(db)]));
      this.selectedDb = db;
    }
    this.write(encodeCommand(argv));
  }

  /** DEBUG REPLICATE: a command into the stream as it is (no SELECT), on a master with a backlog. */
  feedRaw(argv: string[]): void {
    if (this.engine.role === 'slave' || this.backlog === null) return;
    this.write(encodeCommand(argv));
  }

  /** Bytes of the stream: counted in the offset, kept in the backlog, sent to every replica. */
  write(data: string | Buffer): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (bytes.length === 0) return;
    this.engine.masterReplOffset += bytes.length;
    this.backlog?.append(bytes);
    this.prune();
    for (const r of this.replicas) {
      if (r.state === 'online') r.session.transport?.sendRaw?.(bytes);
      else if (r.startOffset >= 0) this.checkWaitingLimit(r);
    }
  }

  /** client-output-buffer-limit replica, for what a replica waiting for its image holds. */
  private checkWaitingLimit(r: Replica): void {
    const e = this.engine;
    const lim = (e.config.get('client-output-buffer-limit') as ObufLimits).replica;
    const used = this.pendingOf(r);
    // A limit below repl-backlog-size is raised to it (the backlog holds that much anyway).
    const hard = lim.hard > 0 ? Math.max(lim.hard, e.config.num('repl-backlog-size')) : 0;
    let over = hard > 0 && used >= hard;
    if (!over && lim.soft > 0 && used >= lim.soft) {
      r.softSince ??= Date.now();
      over = Date.now() - r.softSince >= lim.softSeconds * 1000;
    } else r.softSince = undefined;
    if (!over) return;
    e.log.warning(`Client id=${r.session.id} addr=${r.session.transport?.addr ?? ''} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    r.session.transport?.close(false);
  }

  /** Replicas that acknowledged at least `offset` (WAIT). */
  countAcked(offset: number): number {
    return this.live().filter((r) => r.state === 'online' && r.ackOffset >= offset).length;
  }

  /** Replicas whose last ACK is at most min-replicas-max-lag seconds old. */
  goodReplicas(): number {
    // In whole seconds, as Redis counts the lag (INFO's lag=).
    const maxLag = this.engine.config.num('min-replicas-max-lag');
    const t = Math.floor(Date.now() / 1000);
    return this.live().filter((r) => r.state === 'online' && t - Math.floor(r.ackTime / 1000) <= maxLag).length;
  }

  /** Drop every replica (they reconnect and PSYNC). */
  disconnectAll(): void {
    for (const r of this.replicas) r.session.transport?.close(false);
    this.replicas.length = 0;
    this.noReplicasSince = Date.now();
  }

  /** `REPLCONF GETACK *` to every replica, once per event-loop turn (WAIT). */
  requestAck(): void {
    if (this.ackRequested) return;
    this.ackRequested = true;
    setImmediate(() => {
      this.ackRequested = false;
      if (this.engine.role === 'master' && this.backlog !== null && this.live().length > 0) this.write(encodeCommand(['REPLCONF', 'GETACK', '*']));
    });
  }

  /** WAIT: call `finish` once `want` replicas acknowledged `offset`, or on the timeout (0 = none). */
  wait(session: Session, offset: number, want: number, timeoutMs: number, reply: (n: number) => void): Waiter {
    let timer: NodeJS.Timeout | null = null;
    const w: Waiter = {
      session, offset, want,
      finish: () => {
        if (!this.waiters.delete(w)) return;
        if (timer !== null) clearTimeout(timer);
        reply(this.countAcked(offset));
      },
    };
    this.waiters.add(w);
    if (timeoutMs > 0) timer = setTimeout(() => w.finish(), timeoutMs);
    this.requestAck();
    return w;
  }

  cancelWait(w: Waiter): void {
    this.waiters.delete(w);
  }

  /** A replica acknowledged: serve the WAITs now satisfied. */
  acked(): void {
    for (const w of [...this.waiters]) if (this.countAcked(w.offset) >= w.want) w.finish();
  }

  private tick(): void {
    const e = this.engine;
    this.prune();
    const timeout = e.config.num('repl-timeout') * 1000;
    const t = Date.now();
    for (const r of [...this.replicas]) {
      // A newline keeps a replica waiting for its RDB from timing out (it is not part of the stream).
      if (r.state === 'wait_bgsave') {
        if (r.streaming !== true) r.session.transport?.sendRaw?.(NEWLINE);
      }
      else if (r.psync && t - r.ackTime > timeout) {
        e.log.warning(`Disconnecting timedout replica (streaming sync): ${replicaName(r)}`);
        r.session.transport?.close(false);
      }
    }
    this.prune();
    this.startPendingSyncs?.();
    if (e.role !== 'master') return;
    if (this.replicas.length > 0) {
      const period = e.config.num('repl-ping-replica-period') * 1000;
      if (Date.now() - this.lastPing >= period) {
        this.lastPing = Date.now();
        this.write(encodeCommand(['PING']));
      }
      return;
    }
    const ttl = e.config.num('repl-backlog-ttl');
    if (this.backlog !== null && ttl > 0 && Date.now() - this.noReplicasSince >= ttl * 1000) {
      // History is gone: the replication ID changes so that no one continues from it.
      this.freeBacklog();
      e.replId = randomBytes(20).toString('hex');
      e.replId2 = '0'.repeat(40);
      e.secondReplOffset = -1;
      e.log.notice(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
    }
  }
}

/** Replication info an RDB file carries (AUX fields repl-id, repl-offset, repl-stream-db). */
export interface RdbReplInfo {
  id: string;
  offset: number;
  db: number;
}

/** Hooks of the replication module for persistence (which does not import it). */
export const rdbReplication = {
  /** The info a dump.rdb saves, or null (Redis's rdbPopulateSaveInfo). */
  saveInfo: null as ((e: Engine) => RdbReplInfo | null) | null,
  /** Before dump.rdb is loaded at start-up: a master gets a backlog (the keys found expired are DELs in it). */
  beforeLoad: null as ((e: Engine) => void) | null,
  /** After: continue the history the file names (null: none). */
  restore: null as ((e: Engine, info: RdbReplInfo | null) => void) | null,
  /** An RDB image for replicas is being made (INFO rdb_bgsave_in_progress). */
  syncInProgress: null as ((e: Engine) => boolean) | null,
};

const NEWLINE = Buffer.from('\n');

/** How Redis names a replica in its log: ip:listening-port. */
export function replicaName(r: Replica): string {
  const ip = r.session.transport?.addr.replace(/:\d+$/, '') ?? '?';
  return `${ip}:${r.port === 0 ? '<unknown-replica-port>' : r.port}`;
}

const feeds = new WeakMap<Engine, Feed>();

export function feedOf(e: Engine): Feed {
  let f = feeds.get(e);
  if (f === undefined) {
    f = new Feed(e);
    feeds.set(e, f);
  }
  return f;
}

/** The session is a replica fed by this server (CLIENT LIST / KILL TYPE replica). */
export function isReplica(s: Session): boolean {
  return feeds.get(s.engine)?.has(s) ?? false;
}
