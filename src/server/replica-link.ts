/**
 * The replica side of replication: REPLICAOF host port connects to a master
 * (Redis or cacheside), does the handshake (PING, AUTH with masterauth,
 * REPLCONF listening-port / capa, PSYNC), on +FULLRESYNC receives the RDB payload
 * (`$<len>` or diskless `$EOF:<mark>`), loads it in place of the dataset,
 * then applies the master's command stream through a client that is obeyed
 * (no READONLY, MASTERDOWN or NOREPLICAS, sees keys the master has not
 * expired yet), acknowledging the processed offset every second (REPLCONF
 * ACK, and on REPLCONF GETACK with the offset before the GETACK). What it
 * applied is proxied byte for byte to its own replicas and backlog
 * (repl-feed.ts), so master_repl_offset is the master's offset. A lost link
 * is retried every second with `PSYNC <master replid> <offset+1>`: a
 * `+CONTINUE [<new replid>]` resumes the stream without reloading. A master
 * turned replica offers its own history the same way. While a replica,
 * cacheside expires no keys itself (reads still treat them as gone); writes from clients get
 * READONLY (replica-read-only), and with replica-serve-stale-data no every
 * command not flagged stale gets MASTERDOWN while the link is down.
 * REPLICAOF NO ONE makes it a master again with a new replication ID (the
 * old one kept as replid2, so that sibling replicas continue from it).
 */
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Engine } from './engine.js';
import { Session, type Transport } from './session.js';
import { NullReply } from '../protocol/reply.js';
import { RespParser } from '../protocol/resp-parser.js';
import { dispatch, writeGate } from './dispatch.js';
import { newProgress, rdbFileJob, runSync } from '../persistence/loading.js';
import { encodeCommand } from '../persistence/aof-reader.js';
import { feedOf } from './repl-feed.js';
import { RdbDecoder } from '../persistence/rdb-decoder.js';
import { clientInfoLine } from './client-commands.js';
import { flushFunctions } from '../scripting/function-library.js';

type LinkState = 'connect' | 'connecting' | 'handshake' | 'transfer' | 'connected';

/** Errors the master's stream got (INFO unexpected_error_replies). */
const unexpectedErrors = new WeakMap<Engine, number>();

export function unexpectedErrorReplies(e: Engine): number {
  return unexpectedErrors.get(e) ?? 0;
}

/** Bytes as Redis's log shows them: double-quoted, with C escapes. */
function repr(b: Buffer): string {
  let out = '"';
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x22) out += '\\"';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

/**
 * The master client's replies: none is sent (Redis never answers its
 * master), but an error means the datasets diverged, and is logged.
 */
class MasterReply extends NullReply {
  constructor(private readonly link: ReplicaLink) {
    super();
  }

  override error(line?: string): void {
    this.link.errorToMaster(line ?? '');
  }
}

/** The client that applies the master's stream (CLIENT LIST flags=M, CLIENT KILL TYPE master). */
const masterClients = new WeakSet<Session>();

export function isMasterClient(s: Session): boolean {
  return masterClients.has(s);
}

function peerAddr(host: string | undefined, port: number | undefined): string {
  if (!host) return '?:0';
  return `${host.startsWith('::ffff:') ? host.slice(7) : host}:${port ?? 0}`;
}

/**
 * The master link seen as a client, as on Redis: CLIENT LIST shows it (its
 * addr is the master's), CLIENT KILL closes the link (which is then
 * re-established with a PSYNC continuing the stream).
 */
class MasterTransport implements Transport {
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;

  constructor(
    private readonly link: ReplicaLink,
    private readonly sock: net.Socket,
  ) {
    this.addr = peerAddr(sock.remoteAddress, sock.remotePort);
    this.laddr = peerAddr(sock.localAddress, sock.localPort);
    this.fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  }

  close(): void {
    this.link.dropConnection(this.sock);
  }

  outputBytes(): number {
    return this.sock.writableLength;
  }

  queryBufferBytes(): number {
    return this.link.pendingBytes;
  }

  resume(): void {
    this.link.resumeStream();
  }
}


export class ReplicaLink {
  state: LinkState = 'connect';
  lastIo = 0;
  /** When the link went down (0: it never was up). */
  downSince = 0;
  /** The master's stream, fed to the parser but not applied yet. */
  private unapplied: Buffer[] = [];
  private unappliedLen = 0;
  /** The database the master's stream selected (kept across a partial resync). */
  private streamDb = 0;
  private sock: net.Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private step = 0;
  private fullSync: { replid: string; offset: number } | null = null;
  /** The RDB being received: `len` bytes, or up to the `eofMark` (`tail`: the last bytes before the newest chunk). */
  private payload: { len: number; eofMark: Buffer | null; parts: Buffer[]; got: number; tail: Buffer } | null = null;
  private parser: RespParser | null = null;
  private session: Session | null = null;
  private retry: NodeJS.Timeout | null = null;
  /** Once a second: repl-timeout of the handshake, of the RDB transfer and of the connected link. */
  private readonly cron: NodeJS.Timeout;
  private ackTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The command of the master's stream being applied. */
  private current: string[] | null = null;

  constructor(
    private readonly engine: Engine,
    readonly host: string,
    readonly port: number,
    /** We hold a history of the master's stream (replid, offset) a PSYNC may continue. */
    private cached: boolean,
    /** A FAILOVER in progress: PSYNC ... FAILOVER makes the master hand over; told whether it accepted. */
    private onFailoverPsync: ((accepted: boolean) => void) | null = null,
  ) {
    engine.busyEndHooks.push(this.onBusyEnd);
    this.cron = setInterval(() => this.checkTimeout(), 1000);
    this.cron.unref();
    this.connect();
  }

  /** No byte from the master for repl-timeout seconds: the link is dropped (and re-established). */
  private checkTimeout(): void {
    if (this.stopped || this.sock === null) return;
    const timeout = this.engine.config.num('repl-timeout') * 1000;
    const t = Date.now();
    let why: string | null = null;
    if ((this.state === 'connecting' || this.state === 'handshake') && t - this.lastIo > timeout) why = 'Timeout connecting to the MASTER...';
    else if (this.state === 'transfer' && t - this.lastIo > timeout) {
      why = "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.";
    } else if (this.state === 'connected' && this.session !== null && t - this.session.lastInteraction > timeout) why = 'MASTER timeout: no data nor PING received...';
    if (why === null) return;
    this.engine.log.warning(why);
    this.dropConnection(this.sock);
  }

  /** A busy script ended: apply what the master sent meanwhile (Redis stops reading its master while busy). */
  private readonly onBusyEnd = (): void => {
    if (this.stopped) return;
    if (this.state === 'connected') this.stream(Buffer.alloc(0));
    else if (this.state === 'transfer') this.transfer();
  };

  /** Bytes of the master's stream received and not applied yet (the master client's qbuf). */
  get pendingBytes(): number {
    return this.state === 'connected' ? this.unappliedLen : 0;
  }

  /** CLIENT KILL of the master client: the link is down now, and reconnected by the retry timer. */
  dropConnection(sock: net.Socket): void {
    if (sock !== this.sock) return;
    sock.destroy();
    this.onClose(sock);
  }

  /** The master client's transport resume(): apply what is buffered (next turn, never re-entrantly). */
  resumeStream(): void {
    setImmediate(() => {
      if (!this.stopped && this.state === 'connected' && this.session !== null && this.engine.busyScript === null) this.stream(Buffer.alloc(0));
    });
  }

  /** A command of the master's stream failed here (the datasets diverged): logged as Redis does. */
  errorToMaster(line: string): void {
    const e = this.engine;
    unexpectedErrors.set(e, (unexpectedErrors.get(e) ?? 0) + 1);
    const text = (line.startsWith('ERR ') ? line.slice(4) : '-' + line).slice(0, 4096);
    let name = '<unknown>';
    const argv = this.current;
    let cmd = argv !== null ? e.commands.get(argv[0]!) : undefined;
    if (cmd !== undefined) {
      if (cmd.sub !== null && argv!.length > 1) cmd = cmd.sub.get(argv![1]!.toLowerCase()) ?? cmd;
      name = cmd.fullName;
    }
    e.log.warning(`== CRITICAL == This replica is sending an error to its master: '${text}' after processing the command '${name}'`);
    const bl = feedOf(e).backlog;
    if (bl !== null && bl.histlen > 0) {
      const n = Math.min(256, bl.histlen);
      e.log.warning(`Latest backlog is: '${repr(bl.readFrom(bl.endOffset - n + 1) ?? Buffer.alloc(0))}'`);
    }
  }

  /** The database the master's stream has selected (an RDB made for our own replicas records it). */
  get currentDb(): number {
    return this.session !== null ? this.session.dbIndex : this.streamDb;
  }

  /** Offset of the master's stream applied so far (slave_repl_offset). */
  get offset(): number {
    return this.engine.masterReplOffset;
  }

  /** Offset read so far (slave_read_repl_offset): applied plus a partly received command. */
  get readOffset(): number {
    return this.engine.masterReplOffset + (this.state === 'connected' ? this.unappliedLen : 0);
  }

  /** Start-up loaded a dump.rdb of this replica: continue its history (PSYNC), its stream in database `db`. */
  restoreHistory(db: number): void {
    this.cached = true;
    this.streamDb = db < this.engine.dbs.length ? db : 0;
  }

  /** Is the history still ours to continue from (REPLICAOF to another master keeps it)? */
  get hasHistory(): boolean {
    return this.cached;
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    this.lastIo = Date.now();
    this.buf = Buffer.alloc(0);
    this.step = 0;
    this.payload = null;
    // bind-source-addr: the local address the link connects from.
    const src = this.engine.config.str('bind-source-addr');
    const sock = net.connect({ host: this.host, port: this.port, ...(src !== '' ? { localAddress: src } : {}) });
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('connect', () => {
      // The data set is still being loaded at start-up: the handshake waits for it (retried).
      if (this.engine.loading) {
        sock.destroy();
        return;
      }
      this.state = 'handshake';
      this.send(['PING']);
    });
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (err) => {
      if (this.state !== 'connected') this.engine.log.warning(`Error condition on socket for SYNC: ${err.message}`);
    });
    sock.on('close', () => this.onClose(sock));
  }

  private send(argv: string[]): void {
    this.sock?.write(Buffer.from(encodeCommand(argv), 'latin1'));
  }

  private onClose(sock: net.Socket): void {
    if (sock !== this.sock) return;
    this.sock = null;
    if (this.state === 'connected') {
      this.engine.log.notice('Connection with master lost.');
      this.downSince = Date.now();
    }
    this.state = 'connect';
    if (this.session !== null) this.streamDb = this.session.dbIndex;
    this.session?.close();
    this.session = null;
    this.parser = null;
    if (this.ackTimer !== null) clearInterval(this.ackTimer);
    this.ackTimer = null;
    updateGates(this.engine);
    if (!this.stopped) {
      this.retry = setTimeout(() => this.connect(), 1000);
      this.retry.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    const hooks = this.engine.busyEndHooks;
    if (hooks.includes(this.onBusyEnd)) hooks.splice(hooks.indexOf(this.onBusyEnd), 1);
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.ackTimer !== null) clearInterval(this.ackTimer);
    clearInterval(this.cron);
    this.sock?.destroy();
    this.sock = null;
    this.session?.close();
    this.session = null;
    this.state = 'connect';
  }

  private fail(why: string): void {
    this.engine.log.warning(`Master replied: ${why}. Retrying the synchronization.`);
    this.sock?.destroy();
  }

  /** The next reply line, after the newlines a master sends to keep the link alive. */
  private takeLine(): string | null {
    while (this.buf.length > 0 && this.buf[0] === 0x0a) this.buf = this.buf.subarray(1);
    const i = this.buf.indexOf('\r\n');
    if (i < 0) return null;
    const line = this.buf.subarray(0, i).toString('latin1');
    this.buf = this.buf.subarray(i + 2);
    return line;
  }

  private onData(d: Buffer): void {
    this.lastIo = Date.now();
    if (this.session !== null) this.session.lastInteraction = this.lastIo;
    if (this.state === 'connected') return this.stream(d);
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    // The master's payload does not replace the dataset under a busy script: it waits for the script's end.
    if (this.state === 'transfer') return this.engine.busyScript === null ? this.transfer() : undefined;
    this.handshake();
  }

  private sendListeningPort(): void {
    this.send(['REPLCONF', 'listening-port', String(this.engine.config.num('replica-announce-port') || this.engine.tcpPort)]);
    this.step = 2;
  }

  /** One reply per handshake step: PING, AUTH, REPLCONF x2, PSYNC. */
  private handshake(): void {
    const cfg = this.engine.config;
    for (;;) {
      const line = this.takeLine();
      if (line === null) return;
      switch (this.step) {
        case 0: // PING
          if (line.startsWith('-') && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(line)) return this.fail(`error reply to PING: ${line}`);
          if (cfg.str('masterauth') !== '') {
            const user = cfg.str('masteruser');
            this.send(user !== '' ? ['AUTH', user, cfg.str('masterauth')] : ['AUTH', cfg.str('masterauth')]);
            this.step = 1;
          } else this.sendListeningPort();
          break;
        case 1:
          if (line.startsWith('-')) {
            // Redis's own words (the link is retried, as after any handshake error).
            this.engine.log.warning(`Unable to AUTH to MASTER: ${line}`);
            this.sock?.destroy();
            return;
          }
          this.sendListeningPort();
          break;
        case 2: // listening-port (an error is not fatal)
          this.send(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
          this.step = 3;
          break;
        case 3: { // capa
          const e = this.engine;
          const argv = ['PSYNC', '?', '-1'];
          if (this.cached) {
            e.log.notice(`Trying a partial resynchronization (request ${e.replId}:${e.masterReplOffset + 1}).`);
            argv[1] = e.replId;
            argv[2] = String(e.masterReplOffset + 1);
          } else e.log.notice('Partial resynchronization not possible (no cached master)');
          if (this.onFailoverPsync !== null) argv.push('FAILOVER');
          this.send(argv);
          this.step = 4;
          break;
        }
        case 4: {
          const c = /^\+CONTINUE(?: (\S+))?$/.exec(line);
          const m = c === null ? /^\+FULLRESYNC (\S+) (\d+)/.exec(line) : null;
          const told = this.onFailoverPsync;
          this.onFailoverPsync = null;
          if (told !== null) {
            // The failover ends here: handed over, or refused (the FAILOVER makes us a master again).
            told(c !== null || m !== null);
            if (this.stopped) return;
          }
          if (c !== null) return this.continued(c[1]);
          if (m === null) return this.fail(`unexpected reply to PSYNC: ${line}`);
          this.fullSync = { replid: m[1]!, offset: Number(m[2]) };
          this.state = 'transfer';
          this.engine.log.notice(`Full resync from master: ${m[1]}:${m[2]}`);
          return this.transfer();
        }
      }
    }
  }

  /** The RDB payload: `$<len>\r\n<bytes>` or `$EOF:<40 bytes mark>\r\n<bytes><mark>`, after keepalive newlines. */
  private transfer(): void {
    if (this.payload === null) {
      while (this.buf.length > 0 && this.buf[0] === 0x0a) this.buf = this.buf.subarray(1);
      const line = this.takeLine();
      if (line === null) return;
      if (!line.startsWith('$')) return this.fail(`bad protocol from MASTER, the first byte is not '$': ${line}`);
      const eof = line.startsWith('$EOF:') ? Buffer.from(line.slice(5), 'latin1') : null;
      this.payload = { len: eof === null ? Number(line.slice(1)) : -1, eofMark: eof, parts: [], got: 0, tail: Buffer.alloc(0) };
      const to = this.engine.config.str('repl-diskless-load') === 'disabled' ? 'to disk' : 'to parser';
      this.engine.log.notice(
        eof !== null ? `MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF ${to}` : `MASTER <-> REPLICA sync: receiving ${this.payload.len} bytes from master ${to}`,
      );
    }
    const p = this.payload;
    let rest: Buffer = Buffer.alloc(0);
    if (p.eofMark === null) {
      const need = p.len - p.got;
      const take = this.buf.subarray(0, need);
      p.parts.push(take);
      p.got += take.length;
      rest = this.buf.subarray(take.length);
      this.buf = Buffer.alloc(0);
      if (p.got < p.len) return;
    } else {
      // The mark ends the payload: look for it in the newest bytes only (a big RDB comes in many chunks).
      const mark = p.eofMark;
      const chunk = this.buf;
      this.buf = Buffer.alloc(0);
      const window = p.tail.length > 0 ? Buffer.concat([p.tail, chunk]) : chunk;
      const windowStart = p.got - p.tail.length;
      p.parts.push(chunk);
      p.got += chunk.length;
      const at = window.indexOf(mark);
      if (at < 0) {
        p.tail = Buffer.from(window.subarray(Math.max(0, window.length - mark.length + 1)));
        return;
      }
      const all = Buffer.concat(p.parts);
      p.parts = [all.subarray(0, windowStart + at)];
      rest = all.subarray(windowStart + at + mark.length);
    }
    const rdb = Buffer.concat(p.parts);
    try {
      this.load(rdb);
    } catch (err) {
      // Redis's words; the link is dropped and the sync retried.
      this.engine.log.warning(`Failed trying to load the MASTER synchronization DB from disk: ${(err as Error).message}`);
      this.payload = null;
      this.sock?.destroy();
      return;
    }
    this.payload = null;
    // A new history: the master's ID and offset, a fresh backlog, and our replicas resync.
    const e = this.engine;
    const f = feedOf(e);
    f.disconnectAll();
    f.freeBacklog();
    e.replId = this.fullSync!.replid;
    e.replId2 = '0'.repeat(40);
    e.secondReplOffset = -1;
    e.masterReplOffset = this.fullSync!.offset;
    f.createBacklog();
    this.cached = true;
    // A replica's RDB names the database its master's stream goes on in (no SELECT follows).
    this.streamDb = streamDbOf(rdb);
    this.startStreaming(rest);
  }

  /** +CONTINUE [replid]: the stream goes on from our offset; a new ID moves the old one to replid2. */
  private continued(newId: string | undefined): void {
    const e = this.engine;
    const f = feedOf(e);
    if (newId !== undefined && newId !== e.replId) {
      e.replId2 = e.replId;
      e.secondReplOffset = e.masterReplOffset + 1;
      e.replId = newId;
      e.log.notice(`Master replication ID changed to ${newId}`);
      // Our replicas learn the new ID by reconnecting.
      f.disconnectAll();
    }
    if (f.backlog === null) f.createBacklog();
    e.log.notice('Successful partial resynchronization with master.');
    e.log.notice('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    this.startStreaming(rest);
  }

  /** Replace the dataset with the master's RDB (through a temp file, with the RDB loader). */
  private load(rdb: Buffer): void {
    const e = this.engine;
    const file = path.join(path.resolve(e.config.str('dir')), `temp-${process.pid}.${randomBytes(4).toString('hex')}.rdb`);
    fs.writeFileSync(file, rdb);
    e.loading = true;
    try {
      e.log.notice('MASTER <-> REPLICA sync: Flushing old data');
      for (let i = 0; i < e.dbs.length; i++) {
        if (e.dbs[i]!.size === 0) continue;
        e.touchWatchedKeysInDb(i, null);
        e.dbs[i]!.clear();
      }
      flushFunctions(e);
      e.replicaKeysWithExpire.clear();
      e.log.notice('MASTER <-> REPLICA sync: Loading DB in memory');
      runSync(rdbFileJob(e, file, {}, newProgress(0)));
    } finally {
      e.loading = false;
      fs.rmSync(file, { force: true });
    }
    e.log.notice('MASTER <-> REPLICA sync: Finished with success');
  }

  private startStreaming(rest: Buffer): void {
    const e = this.engine;
    this.state = 'connected';
    const s = new Session(e, new MasterReply(this), new MasterTransport(this, this.sock!));
    s.name = '';
    s.authenticated = true;
    s.obeyClient = true;
    masterClients.add(s);
    if (this.streamDb !== 0 && this.streamDb < e.dbs.length) {
      s.dbIndex = this.streamDb;
      s.db = e.dbs[this.streamDb]!;
    }
    this.session = s;
    this.parser = new RespParser({ maxBulkLen: 1 << 30, maxMultibulkLen: 1 << 30, maxInlineLen: 1 << 30 });
    this.unapplied = [];
    this.unappliedLen = 0;
    updateGates(e);
    this.ackTimer = setInterval(() => this.ack(), 1000);
    this.ackTimer.unref();
    this.ack();
    if (rest.length > 0) this.stream(rest);
  }

  private ack(): void {
    this.send(['REPLCONF', 'ACK', String(this.engine.masterReplOffset)]);
  }

  /** The first `n` bytes not yet counted as applied (chunks are joined only here: a big command costs O(size)). */
  private takeApplied(n: number): Buffer {
    const parts = this.unapplied;
    this.unappliedLen -= n;
    if (n === 0) return Buffer.alloc(0);
    const first = parts[0]!;
    if (first.length >= n) {
      if (first.length === n) parts.shift();
      else parts[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const b = parts[0]!;
      if (b.length <= left) {
        out.push(b);
        parts.shift();
        left -= b.length;
      } else {
        out.push(b.subarray(0, left));
        parts[0] = b.subarray(left);
        left = 0;
      }
    }
    return Buffer.concat(out, n);
  }

  /** Apply the master's commands as they arrive. */
  private stream(d: Buffer): void {
    const p = this.parser!;
    const s = this.session!;
    const ev = this.engine.keyspaceEvents;
    const feed = feedOf(this.engine);
    p.feed(d);
    if (d.length > 0) {
      this.unapplied.push(d);
      this.unappliedLen += d.length;
    }
    for (;;) {
      // Nothing is applied while a script is busy: the stream waits for its end (onBusyEnd).
      if (this.engine.busyScript !== null) return;
      let argv: string[] | null;
      try {
        argv = p.next();
      } catch (err) {
        this.engine.log.warning(`Protocol error from master: ${(err as Error).message}`);
        this.sock?.destroy();
        return;
      }
      if (argv === null) return;
      const isGetack = argv.length >= 2 && argv[0]!.toLowerCase() === 'replconf' && argv[1]!.toLowerCase() === 'getack';
      if (!isGetack) {
        // The master's writes see keys it has not expired yet.
        const prev = ev.noExpiry;
        ev.noExpiry = true;
        this.current = argv;
        try {
          dispatch(s, argv);
        } finally {
          ev.noExpiry = prev;
          this.current = null;
        }
      }
      // GETACK is answered with the offset before it, as Redis does.
      if (isGetack) this.ack();
      // The applied bytes: counted, kept in the backlog and passed to our replicas.
      // (Everything fed and no longer buffered: the parser consumes a partial command's header and
      // arguments before it returns null, so counting around next() alone would miss them.)
      const applied = this.takeApplied(this.unappliedLen - p.buffered);
      feed.write(applied);
      if (this.session !== s) return; // the command dropped the link (REPLICAOF NO ONE from the stream...)
    }
  }
}

/** The repl-stream-db aux field of an RDB made for replication (0 when absent). */
function streamDbOf(rdb: Buffer): number {
  try {
    const d = new RdbDecoder({ source: 'master', skipChecksum: true });
    d.feed(rdb);
    d.finish();
    for (const ev of d.step(1, 64)) {
      if (ev.t !== 'aux') break;
      if (ev.key === 'repl-stream-db') return Math.max(0, Number.parseInt(ev.value, 10) || 0);
    }
  } catch {
    // the loader reported any problem with the file already
  }
  return 0;
}

const links = new WeakMap<Engine, ReplicaLink>();

export function replicaLinkOf(e: Engine): ReplicaLink | undefined {
  return links.get(e);
}

/** MASTERDOWN: a replica with its link down and replica-serve-stale-data no. */
function masterDown(s: Session): boolean {
  const e = s.engine;
  return e.role === 'slave' && links.get(e)?.state !== 'connected' && !e.config.bool('replica-serve-stale-data');
}

/** READONLY / MASTERDOWN follow the role, the link and the replica-* options. */
export function updateGates(e: Engine): void {
  const replica = e.role === 'slave';
  writeGate.readonlyReplica = replica && e.config.bool('replica-read-only');
  if (replica) writeGate.masterDown = masterDown;
  e.keyspaceEvents.lazyDeleteDisabled = replica || e.pause.mode !== null;
}

/**
 * Clients blocked on keys or in WAIT when the server turns replica get an
 * error and lose their connection (after the reply), as on Redis: the
 * dataset will now change under the master's stream only, which a client
 * blocked here must not see served.
 */
function disconnectAllBlockedClients(e: Engine): void {
  for (const s of [...e.sessions.values()]) {
    const b = s.blocked;
    if (b === null || b.kind === 'pause' || b.kind === 'script' || s.transport === null) continue;
    e.countError('UNBLOCKED');
    s.reply.error('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)');
    b.cancel();
    s.blocked = null;
    s.transport.close(true);
  }
}

function recordMaster(e: Engine, value: string): void {
  try {
    e.config.set('replicaof', value, true);
  } catch {
    // a host the directive's check refuses: the link works anyway, only the config does not show it
  }
}

/** REPLICAOF host port: start following a master (returns false when it already follows this one). */
export function becomeReplica(e: Engine, host: string, port: number, atStartup = false, onFailoverPsync?: (accepted: boolean) => void): boolean {
  const old = links.get(e);
  if (old !== undefined && old.host === host && old.port === port) return false;
  // The stream goes on in the database the old master's had selected (Redis's cached master keeps it).
  const streamDb = old?.currentDb;
  old?.stop();
  disconnectAllBlockedClients(e);
  const f = feedOf(e);
  // Our replicas resync with us (hopefully partially) and learn of the change.
  f.disconnectAll();
  // A master offers its own history to the new master; a replica the one it followed.
  const cached = old !== undefined ? old.hasHistory : e.role === 'master' && !atStartup;
  if (old === undefined && cached) {
    e.log.notice('Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.');
  }
  e.role = 'slave';
  const link = new ReplicaLink(e, host, port, cached, onFailoverPsync ?? null);
  if (cached && streamDb !== undefined) link.restoreHistory(streamDb);
  links.set(e, link);
  // CONFIG GET replicaof and CONFIG REWRITE follow the master, as in Redis.
  if (!atStartup) recordMaster(e, `${host} ${port}`);
  updateGates(e);
  e.log.notice(`Connecting to MASTER ${host}:${port}`);
  return true;
}

/**
 * REPLICAOF NO ONE: a master again, with a new replication ID (the old one
 * kept as replid2). `why` and `client`: the log's "MASTER MODE enabled (... from '<client>')".
 */
export function becomeMaster(e: Engine, why = 'user request', client?: Session): void {
  const link = links.get(e);
  if (link === undefined) return;
  link.stop();
  links.delete(e);
  e.replId2 = e.replId;
  e.secondReplOffset = e.masterReplOffset + 1;
  e.replId = randomBytes(20).toString('hex');
  e.role = 'master';
  recordMaster(e, '');
  const f = feedOf(e);
  // Our replicas reconnect, learn the new ID and continue (PSYNC with replid2).
  f.disconnectAll();
  f.selectedDb = -1;
  updateGates(e);
  e.log.notice(client !== undefined ? `MASTER MODE enabled (${why} from '${clientInfoLine(client).trimEnd()}')` : `MASTER MODE enabled (${why})`);
}
