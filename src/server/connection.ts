/**
 * One TCP client: socket + RESP parser + RESP writer around a Session.
 * Commands are executed as soon as they are read (in the order the kernel
 * reports readable sockets, each read in full); replies are flushed once per
 * event-loop turn for all clients, so a pipeline of N commands costs one
 * write.
 *
 * Replies wait one loop turn more before they are written (staged): the
 * kernel's ready list (epoll, level-triggered) keeps every socket it just
 * reported at its head until the next poll rescans it, so a client that
 * answered our reply before that poll had its next command reported ahead
 * of commands other clients had sent earlier, and run first. Redis writes
 * its replies just before polling again; here one poll (without waiting)
 * always runs between executing a command and writing its reply, so a
 * client's reaction to a reply is queued behind what others sent before it.
 */
import type { Socket } from 'node:net';
import { RespParser, ProtocolError } from '../protocol/resp-parser.js';
import { RespWriter } from '../protocol/resp-writer.js';
import { Session, type Transport } from './session.js';
import { dispatch, mustWait } from './dispatch.js';
import type { Engine } from './engine.js';
import type { ObufLimits } from '../config/config-store.js';
import { configCache } from '../commands/config-cache.js';
import { noteReplyBytes } from './reply-buffer.js';
import { noteQueryRead } from './query-buffer.js';

/** Limits read on every socket read (kept current by CONFIG SET). */
const inputLimits = configCache({ maxBulkLen: 'proto-max-bulk-len', queryBufferLimit: 'client-query-buffer-limit' });

/** Connections with replies produced since the last turn's flush. */
const pendingFlush: Connection[] = [];
/** Pipelined input the memory figures count per client at most (Redis reads 16 KiB at a time). */
const QUERY_READ_CHUNK = 16 * 1024;
/** Connections with replies taken at the last turn's flush, written at the next one (after a poll). */
const staged: Connection[] = [];
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

function scheduleTurn(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushAll);
}

/**
 * Once per turn (check phase): write the replies staged last turn, then
 * stage this turn's (or hand them to the reply gate). An immediate queued
 * from an immediate runs in the next loop turn, after its poll.
 */
function flushAll(): void {
  flushScheduled = false;
  // Writing may not add to either list (it only writes), so plain loops are safe.
  for (let i = 0; i < staged.length; i++) staged[i]!.writeStaged();
  staged.length = 0;
  if (pendingFlush.length === 0) return;
  if (replyGate.beforeFlush !== null) replyGate.beforeFlush();
  const wait = replyGate.barrier !== null ? replyGate.barrier() : null;
  if (wait === null && heldBatches === 0) {
    for (let i = 0; i < pendingFlush.length; i++) {
      const c = pendingFlush[i]!;
      if (c.stage()) staged.push(c);
    }
    pendingFlush.length = 0;
    if (staged.length > 0) scheduleTurn();
    return;
  }
  // Take the replies produced so far; release them once durable and after earlier batches
  // (waiting for the disk takes at least one poll: nothing is staged on top).
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
  /** Replies taken at the last turn's flush, written at the next one (see the file comment). */
  private stagedOut: Buffer[] | null = null;
  /** Close once the staged replies are out (QUIT, a protocol error: they were the last). */
  private stagedClose = false;
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
    noteQueryRead(this.session, this.parser.buffered);
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
      if (w.pendingBytes > 0) this.checkOutputLimits();
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
    scheduleTurn();
  }

  /** Take the replies encoded so far, to be written next turn; false when there is nothing to do. */
  stage(): boolean {
    const out = this.takeOutput();
    if (this.closed || (out.length === 0 && !this.closeAfterFlush)) return false;
    if (this.stagedOut === null) this.stagedOut = out;
    else this.stagedOut.push(...out);
    this.stagedClose = this.closeAfterFlush;
    return true;
  }

  /** Write what stage() took. */
  writeStaged(): void {
    const out = this.stagedOut;
    if (out === null) return;
    this.stagedOut = null;
    this.writeOutput(out, this.stagedClose);
  }

  /** The replies encoded so far (first half of flush, for the reply gate). */
  takeOutput(): Buffer[] {
    this.queued = false;
    if (this.closed) return [];
    const out = this.writer.take();
    // The turn's replies pass through the client's (modelled) reply buffer: CLIENT LIST rbp=.
    if (out.length > 0) {
      let n = 0;
      for (const b of out) n += b.length;
      noteReplyBytes(this.session, n);
    }
    return out;
  }

  /** Write replies taken by takeOutput (second half of flush); `closeAfter`: they end the connection. */
  writeOutput(out: Buffer[], closeAfter = this.closeAfterFlush): void {
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
    if (closeAfter) {
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
    this.writeStaged();
    if (this.closed) return;
    this.writeOutput(this.takeOutput());
    if (this.closed) return;
    this.engine.stats.netOutputBytes += bytes.length;
    this.socket.write(bytes);
  }

  /**
   * client-output-buffer-limit: a client that stops reading is disconnected.
   * Counts replies not yet written too (checked after every command and on
   * the cron), so one command whose reply passes the hard limit closes the
   * client before anything is sent, as in Redis.
   */
  checkOutputLimits(): void {
    if (this.closed) return;
    const used = this.outputBytes();
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

  /**
   * Output waiting for the client: encoded and not yet staged, or handed to
   * the socket and not yet accepted by the kernel. Staged replies are left
   * out: they are written on the next turn whatever happens, and the cron
   * (timers phase) runs exactly between staging and writing, so counting
   * them would put every pipeline's last replies into used_memory.
   */
  outputBytes(): number {
    return this.writer.pendingBytes + this.socket.writableLength;
  }

  /**
   * The query buffer as the memory figures count it: the command running,
   * a command still arriving (its arguments parsed so far and a big
   * argument being assembled), and at most one read's worth (16 KiB,
   * Redis's PROTO_IOBUF_LEN) of pipelined commands not yet run. Redis reads
   * that much at a time and runs it, so a long pipeline is never all in its
   * query buffer; counting ours whole made a pipelining client look
   * hundreds of kB bigger and evict keys it did not need to.
   */
  queryMemoryBytes(): number {
    const p = this.parser;
    return this.current + p.pendingArgBytes + p.bigArgBytes + Math.min(p.unparsedBytes, QUERY_READ_CHUNK);
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
    this.stagedOut = null;
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
    this.stagedOut = null;
    this.session.close();
    this.onClose(this);
  }
}

function formatAddr(host: string | undefined, port: number | undefined): string {
  if (!host) return '?:0';
  const h = host.startsWith('::ffff:') ? host.slice(7) : host;
  return `${h}:${port ?? 0}`;
}
