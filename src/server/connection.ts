/**
 * One TCP client: socket + RESP parser + RESP writer around a Session.
 * Commands are executed as soon as they are parsed; replies are flushed to
 * the socket once per event-loop turn for all clients (setImmediate), so a
 * pipeline of N commands costs one write.
 */
import type { Socket } from 'node:net';
import { RespParser, ProtocolError } from '../protocol/resp-parser.js';
import { RespWriter } from '../protocol/resp-writer.js';
import { Session, type Transport } from './session.js';
import { dispatch, mustWait } from './dispatch.js';
import type { Engine } from './engine.js';
import type { ObufLimits } from '../config/config-store.js';
import { configCache } from '../commands/config-cache.js';

/** Limits read on every socket read (kept current by CONFIG SET). */
const inputLimits = configCache({ maxBulkLen: 'proto-max-bulk-len', queryBufferLimit: 'client-query-buffer-limit' });

const pendingFlush: Connection[] = [];
let flushScheduled = false;

/**
 * Reply gate for `appendfsync always` (src/persistence): `barrier()` returns
 * a promise when writes already executed are not yet durable; the replies
 * produced so far are then held until it resolves (group commit: one
 * barrier per event-loop turn for every client). null = nothing to wait for.
 * `beforeFlush` runs first (the AOF writes what this turn's commands appended,
 * so no reply ever leaves before its write reached the kernel).
 */
export const replyGate: { barrier: (() => Promise<void> | null) | null; beforeFlush: (() => void) | null } = { barrier: null, beforeFlush: null };
/** Batches of replies held by the gate, released in order. */
let held: Promise<void> | null = null;
let heldBatches = 0;

function flushAll(): void {
  flushScheduled = false;
  if (replyGate.beforeFlush !== null) replyGate.beforeFlush();
  const wait = replyGate.barrier !== null ? replyGate.barrier() : null;
  if (wait === null && heldBatches === 0) {
    // Flushing may not add to the list (it only writes), so a plain loop is safe.
    for (let i = 0; i < pendingFlush.length; i++) pendingFlush[i]!.flush();
    pendingFlush.length = 0;
    return;
  }
  // Take the replies produced so far; release them once durable and after earlier batches.
  const conns = pendingFlush.splice(0);
  const outs = conns.map((c) => c.takeOutput());
  const after = wait === null ? held! : held === null ? wait : Promise.all([held, wait]).then(() => {});
  heldBatches++;
  held = after.then(() => {
    for (let i = 0; i < conns.length; i++) conns[i]!.writeOutput(outs[i]!);
    if (--heldBatches === 0) held = null;
  });
}

export class Connection implements Transport {
  readonly session: Session;
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  private readonly parser: RespParser;
  private readonly writer = new RespWriter();
  private queued = false;
  private closeAfterFlush = false;
  private closed = false;
  private softLimitSince = 0;
  /** A parsed command waiting for CLIENT PAUSE to end. */
  private held: string[] | null = null;
  private resumeScheduled = false;
  /** Bytes of the command last parsed (counted in the query buffer while it runs). */
  private current = 0;

  constructor(
    private readonly engine: Engine,
    private readonly socket: Socket,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.addr = formatAddr(socket.remoteAddress, socket.remotePort);
    this.laddr = formatAddr(socket.localAddress, socket.localPort);
    this.fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    const cfg = engine.config;
    this.parser = new RespParser({
      maxBulkLen: cfg.num('proto-max-bulk-len'),
      maxMultibulkLen: 1024 * 1024 * 1024,
      maxInlineLen: 64 * 1024,
    });
    this.writer.onFirstWrite = () => this.scheduleFlush();
    this.session = new Session(engine, this.writer, this);
    socket.setNoDelay(true);
    const ka = cfg.num('tcp-keepalive');
    if (ka > 0) socket.setKeepAlive(true, ka * 1000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.teardown());
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.session.closing) return;
    this.engine.stats.netInputBytes += chunk.length;
    this.engine.stats.readsProcessed++;
    this.session.lastInteraction = Date.now();
    // proto-max-bulk-len is read live, as Redis does: CONFIG SET applies to connected clients.
    const lim = inputLimits(this.engine.config);
    this.parser.limits.maxBulkLen = lim.maxBulkLen;
    this.parser.feed(chunk);
    if (this.parser.buffered > lim.queryBufferLimit) {
      this.engine.log.warning(`Closing client that reached max query buffer length: id=${this.session.id} addr=${this.addr}`);
      this.close(false);
      return;
    }
    this.process();
  }

  /** Execute every complete command, unless blocked or paused. */
  process(): void {
    const s = this.session;
    const w = this.writer;
    while (!s.closing && s.blocked === null && !this.closeAfterFlush) {
      let argv = this.held;
      if (argv !== null) this.releaseHeld();
      else {
        try {
          this.parser.limits.unauthenticated = !s.authenticated;
          const before = this.parser.buffered;
          argv = this.parser.next();
          this.current = before - this.parser.buffered;
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          this.engine.countError('ERR');
          w.error(`ERR Protocol error: ${e.message}`);
          this.engine.log.verbose(`Protocol error (${e.message}) from client: id=${s.id} addr=${this.addr}`);
          this.close(true);
          return;
        }
        if (argv === null) return;
      }
      if (this.engine.pause.mode !== null && mustWait(s, argv)) {
        // A client held by CLIENT PAUSE counts as blocked (INFO blocked_clients), as in Redis.
        this.held = argv;
        this.engine.blocking.blockedCount++;
        return;
      }
      if (s.replyMode === 'on') dispatch(s, argv);
      else {
        const skipOnce = s.replyMode === 'skip';
        w.mute();
        dispatch(s, argv);
        w.unmute();
        if (skipOnce && s.replyMode === 'skip') s.replyMode = 'on';
      }
      this.current = 0;
    }
  }

  /** Continue processing after an unblock or an unpause (next turn, never re-entrantly). */
  resume(): void {
    if (this.resumeScheduled || this.closed) return;
    this.resumeScheduled = true;
    setImmediate(() => {
      this.resumeScheduled = false;
      if (!this.closed) this.process();
    });
  }

  private scheduleFlush(): void {
    if (this.queued) return;
    this.queued = true;
    pendingFlush.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  flush(): void {
    this.writeOutput(this.takeOutput());
  }

  /** The replies encoded so far (first half of flush, for the reply gate). */
  takeOutput(): Buffer[] {
    this.queued = false;
    return this.closed ? [] : this.writer.take();
  }

  /** Write replies taken by takeOutput (second half of flush). */
  writeOutput(out: Buffer[]): void {
    if (this.closed) return;
    if (out.length > 0) this.engine.stats.writesProcessed++;
    if (out.length === 1) {
      this.engine.stats.netOutputBytes += out[0]!.length;
      this.socket.write(out[0]!);
    } else if (out.length > 1) {
      this.socket.cork();
      for (const b of out) {
        this.engine.stats.netOutputBytes += b.length;
        this.socket.write(b);
      }
      this.socket.uncork();
    }
    if (this.closeAfterFlush) {
      // Close both ways once the reply is out, as Redis closes the fd: a client still
      // sending (a protocol desync) sees its writes fail rather than a half-open socket.
      this.socket.destroySoon();
      this.closed = true;
      this.session.close();
      return;
    }
    this.checkOutputLimits();
  }

  sendRaw(bytes: Buffer): void {
    if (this.closed) return;
    this.writeOutput(this.takeOutput());
    if (this.closed) return;
    this.engine.stats.netOutputBytes += bytes.length;
    this.socket.write(bytes);
  }

  /** client-output-buffer-limit: a client that stops reading is disconnected. */
  private checkOutputLimits(): void {
    const used = this.socket.writableLength;
    if (used === 0) {
      this.softLimitSince = 0;
      return;
    }
    const limits = this.engine.config.get('client-output-buffer-limit') as ObufLimits;
    const lim = this.session.subscriptionCount > 0 ? limits.pubsub : limits.normal;
    let over = lim.hard > 0 && used >= lim.hard;
    if (!over && lim.soft > 0 && used >= lim.soft) {
      const t = Date.now();
      if (this.softLimitSince === 0) this.softLimitSince = t;
      else if (t - this.softLimitSince >= lim.softSeconds * 1000) over = true;
    } else if (lim.soft > 0) this.softLimitSince = 0;
    if (over) {
      this.engine.log.warning(
        `Client id=${this.session.id} addr=${this.addr} scheduled to be closed ASAP for overcoming of output buffer limits.`,
      );
      this.close(false);
    }
  }

  outputBytes(): number {
    return this.writer.pendingBytes + this.socket.writableLength;
  }

  queryBufferBytes(): number {
    // Like Redis's querybuf, it still holds the command being executed (CLIENT LIST qbuf=26 for itself).
    return this.parser.buffered + this.current;
  }

  close(afterReply: boolean): void {
    if (this.closed) return;
    if (afterReply) {
      this.closeAfterFlush = true;
      this.scheduleFlush();
      return;
    }
    this.closed = true;
    this.releaseHeld();
    this.writer.discard();
    this.socket.destroy();
    this.session.close();
  }

  private releaseHeld(): void {
    if (this.held === null) return;
    this.held = null;
    this.engine.blocking.blockedCount--;
  }

  private teardown(): void {
    this.releaseHeld();
    this.closed = true;
    this.writer.discard();
    this.session.close();
    this.onClose(this);
  }
}

function formatAddr(host: string | undefined, port: number | undefined): string {
  if (!host) return '?:0';
  const h = host.startsWith('::ffff:') ? host.slice(7) : host;
  return `${h}:${port ?? 0}`;
}
