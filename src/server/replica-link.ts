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
import { Session } from './session.js';
import { NullReply } from '../protocol/reply.js';
import { RespParser } from '../protocol/resp-parser.js';
import { dispatch, writeGate } from './dispatch.js';
import { newProgress, rdbFileJob, runSync } from '../persistence/loading.js';
import { encodeCommand } from '../persistence/aof-reader.js';
import { feedOf } from './repl-feed.js';
import { flushFunctions } from '../scripting/function-library.js';

type LinkState = 'connect' | 'connecting' | 'handshake' | 'transfer' | 'connected';


export class ReplicaLink {
  state: LinkState = 'connect';
  lastIo = 0;
  /** When the link went down (0: it never was up). */
  downSince = 0;
  /** The master's stream, fed to the parser but not applied yet. */
  private unapplied: Buffer = Buffer.alloc(0);
  /** The database the master's stream selected (kept across a partial resync). */
  private streamDb = 0;
  private sock: net.Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private step = 0;
  private fullSync: { replid: string; offset: number } | null = null;
  private payload: { len: number; eofMark: string | null; parts: Buffer[]; got: number } | null = null;
  private parser: RespParser | null = null;
  private session: Session | null = null;
  private retry: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly engine: Engine,
    readonly host: string,
    readonly port: number,
    /** We hold a history of the master's stream (replid, offset) a PSYNC may continue. */
    private cached: boolean,
  ) {
    this.connect();
  }

  /** Offset of the master's stream applied so far (slave_repl_offset). */
  get offset(): number {
    return this.engine.masterReplOffset;
  }

  /** Offset read so far (slave_read_repl_offset): applied plus a partly received command. */
  get readOffset(): number {
    return this.engine.masterReplOffset + (this.state === 'connected' ? this.unapplied.length : 0);
  }

  /** Is the history still ours to continue from (REPLICAOF to another master keeps it)? */
  get hasHistory(): boolean {
    return this.cached;
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    this.buf = Buffer.alloc(0);
    this.step = 0;
    this.payload = null;
    const sock = net.connect({ host: this.host, port: this.port });
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('connect', () => {
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
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.ackTimer !== null) clearInterval(this.ackTimer);
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
    if (this.state === 'connected') return this.stream(d);
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    if (this.state === 'transfer') return this.transfer();
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
          if (line.startsWith('-')) return this.fail(`unable to AUTH to MASTER: ${line}`);
          this.sendListeningPort();
          break;
        case 2: // listening-port (an error is not fatal)
          this.send(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
          this.step = 3;
          break;
        case 3: { // capa
          const e = this.engine;
          if (this.cached) {
            e.log.notice(`Trying a partial resynchronization (request ${e.replId}:${e.masterReplOffset + 1}).`);
            this.send(['PSYNC', e.replId, String(e.masterReplOffset + 1)]);
          } else {
            e.log.notice('Partial resynchronization not possible (no cached master)');
            this.send(['PSYNC', '?', '-1']);
          }
          this.step = 4;
          break;
        }
        case 4: {
          const c = /^\+CONTINUE(?: (\S+))?$/.exec(line);
          if (c !== null) return this.continued(c[1]);
          const m = /^\+FULLRESYNC (\S+) (\d+)/.exec(line);
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
      const eof = line.startsWith('$EOF:') ? line.slice(5) : null;
      this.payload = { len: eof === null ? Number(line.slice(1)) : -1, eofMark: eof, parts: [], got: 0 };
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
      p.parts.push(this.buf);
      this.buf = Buffer.alloc(0);
      const all = Buffer.concat(p.parts);
      p.parts = [all];
      const mark = Buffer.from(p.eofMark, 'latin1');
      const at = all.indexOf(mark);
      if (at < 0) return;
      p.parts = [all.subarray(0, at)];
      rest = all.subarray(at + mark.length);
    }
    this.load(Buffer.concat(p.parts));
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
    this.streamDb = 0;
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
      for (let i = 0; i < e.dbs.length; i++) {
        if (e.dbs[i]!.size === 0) continue;
        e.touchWatchedKeysInDb(i, null);
        e.dbs[i]!.clear();
      }
      flushFunctions(e);
      runSync(rdbFileJob(e, file, {}, newProgress(0)));
    } finally {
      e.loading = false;
      fs.rmSync(file, { force: true });
    }
    e.log.notice(`MASTER <-> REPLICA sync: Finished with success (${rdb.length} bytes)`);
  }

  private startStreaming(rest: Buffer): void {
    const e = this.engine;
    this.state = 'connected';
    const s = new Session(e, new NullReply() /* Redis never answers its master */, null);
    s.name = '';
    s.authenticated = true;
    s.obeyClient = true;
    if (this.streamDb !== 0 && this.streamDb < e.dbs.length) {
      s.dbIndex = this.streamDb;
      s.db = e.dbs[this.streamDb]!;
    }
    this.session = s;
    this.parser = new RespParser({ maxBulkLen: 1 << 30, maxMultibulkLen: 1 << 30, maxInlineLen: 1 << 30 });
    this.unapplied = Buffer.alloc(0);
    updateGates(e);
    this.ackTimer = setInterval(() => this.ack(), 1000);
    this.ackTimer.unref();
    this.ack();
    if (rest.length > 0) this.stream(rest);
  }

  private ack(): void {
    this.send(['REPLCONF', 'ACK', String(this.engine.masterReplOffset)]);
  }

  /** Apply the master's commands as they arrive. */
  private stream(d: Buffer): void {
    const p = this.parser!;
    const s = this.session!;
    const ev = this.engine.keyspaceEvents;
    const feed = feedOf(this.engine);
    p.feed(d);
    this.unapplied = this.unapplied.length === 0 ? d : Buffer.concat([this.unapplied, d]);
    for (;;) {
      const before = p.buffered;
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
        try {
          dispatch(s, argv);
        } finally {
          ev.noExpiry = prev;
        }
      }
      // GETACK is answered with the offset before it, as Redis does.
      if (isGetack) this.ack();
      // The applied bytes: counted, kept in the backlog and passed to our replicas.
      const n = before - p.buffered;
      const applied = this.unapplied.subarray(0, n);
      this.unapplied = this.unapplied.subarray(n);
      feed.write(applied);
      if (this.session !== s) return; // the command dropped the link (REPLICAOF NO ONE from the stream...)
    }
  }
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

/** REPLICAOF host port: start following a master (returns false when it already follows this one). */
export function becomeReplica(e: Engine, host: string, port: number, atStartup = false): boolean {
  const old = links.get(e);
  if (old !== undefined && old.host === host && old.port === port) return false;
  old?.stop();
  const f = feedOf(e);
  // Our replicas resync with us (hopefully partially) and learn of the change.
  f.disconnectAll();
  // A master offers its own history to the new master; a replica the one it followed.
  const cached = old !== undefined ? old.hasHistory : e.role === 'master' && !atStartup;
  if (old === undefined && cached) {
    e.log.notice('Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.');
  }
  e.role = 'slave';
  links.set(e, new ReplicaLink(e, host, port, cached));
  updateGates(e);
  e.log.notice(`Connecting to MASTER ${host}:${port}`);
  return true;
}

/** REPLICAOF NO ONE: a master again, with a new replication ID (the old one kept as replid2). */
export function becomeMaster(e: Engine): void {
  const link = links.get(e);
  if (link === undefined) return;
  link.stop();
  links.delete(e);
  e.replId2 = e.replId;
  e.secondReplOffset = e.masterReplOffset + 1;
  e.replId = randomBytes(20).toString('hex');
  e.role = 'master';
  const f = feedOf(e);
  // Our replicas reconnect, learn the new ID and continue (PSYNC with replid2).
  f.disconnectAll();
  f.selectedDb = -1;
  updateGates(e);
  e.log.notice('MASTER MODE enabled (user request)');
}
