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

export interface Replica {
  session: Session;
  /** REPLCONF listening-port, 0 when not told. */
  port: number;
  /** REPLCONF ACK: the offset the replica processed. */
  ackOffset: number;
  ackTime: number;
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

  constructor(private readonly engine: Engine) {}

  /** A backlog starting after the current offset (the propagator and the cron come with it). */
  createBacklog(): void {
    const e = this.engine;
    this.backlog = new ReplBacklog(e.config.num('repl-backlog-size'), e.masterReplOffset);
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

  attach(r: Replica, fullSync: boolean): void {
    this.replicas.push(r);
    // After an RDB image, the next command needs its SELECT whatever was selected before.
    if (fullSync) this.selectedDb = -1;
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

  /** Bytes of the stream: counted in the offset, kept in the backlog, sent to every replica. */
  write(data: string | Buffer): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (bytes.length === 0) return;
    this.engine.masterReplOffset += bytes.length;
    this.backlog?.append(bytes);
    this.prune();
    for (const r of this.replicas) r.session.transport?.sendRaw?.(bytes);
  }

  /** Replicas that acknowledged at least `offset` (WAIT). */
  countAcked(offset: number): number {
    return this.live().filter((r) => r.ackOffset >= offset).length;
  }

  /** Replicas whose last ACK is at most min-replicas-max-lag seconds old. */
  goodReplicas(): number {
    const maxLag = this.engine.config.num('min-replicas-max-lag') * 1000;
    const t = Date.now();
    return this.live().filter((r) => t - r.ackTime <= maxLag).length;
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
