/**
 * The master side of replication: SYNC, PSYNC (always a full resync) and
 * REPLCONF. A replica gets an RDB image of the dataset as a bulk payload
 * (`$<len>\r\n<rdb>`, no trailing CRLF), then every propagated write as a
 * RESP command, with a SELECT whenever the database changes (and before the
 * first command after a replica attaches), and a PING every
 * `repl-ping-replica-period` seconds. The stream is the one the AOF gets
 * (engine.propagators), so MULTI/EXEC, rewritten TTLs and lazy-expiry DELs
 * reach replicas exactly as they reach the AOF. There is no backlog: a
 * replica that reconnects resyncs in full. cacheside does not replicate
 * from another server (REPLICAOF is not supported).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Engine } from './engine.js';
import type { Session } from './session.js';
import { CommandError } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { extendInfoSection, usedMemory } from './info.js';
import { RdbEncoder } from '../persistence/rdb-encoder.js';
import { encodeCommand } from '../persistence/aof-reader.js';
import { writeGate } from './dispatch.js';
import { becomeMaster, becomeReplica, replicaLinkOf, updateGates } from './replica-link.js';

interface Replica {
  session: Session;
  /** REPLCONF listening-port, 0 when not told. */
  port: number;
  /** REPLCONF ACK: the offset the replica processed. */
  ackOffset: number;
  ackTime: number;
}

/** One engine's replication feed: its replicas and the database the stream last selected. */
class Feed {
  readonly replicas: Replica[] = [];
  selectedDb = -1;
  private pingTimer: NodeJS.Timeout | null = null;
  private lastPing = Date.now();
  readonly propagator = (db: number, argv: string[]): void => this.feed(db, argv);

  constructor(private readonly engine: Engine) {}

  attach(r: Replica): void {
    if (this.replicas.length === 0) {
      this.engine.propagators.push(this.propagator);
      this.engine.replicaFeeds++;
      this.lastPing = Date.now();
      this.pingTimer = setInterval(() => this.maybePing(), 1000);
      this.pingTimer.unref();
    }
    this.replicas.push(r);
    // The new replica needs the database of the next command, whatever was selected before.
    this.selectedDb = -1;
  }

  private prune(): void {
    for (let i = this.replicas.length - 1; i >= 0; i--) if (this.replicas[i]!.session.closing) this.replicas.splice(i, 1);
    if (this.replicas.length === 0) {
      const i = this.engine.propagators.indexOf(this.propagator);
      if (i >= 0) {
        this.engine.propagators.splice(i, 1);
        this.engine.replicaFeeds--;
      }
      if (this.pingTimer !== null) clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
  }

  private feed(db: number, argv: string[]): void {
    this.prune();
    if (this.replicas.length === 0) return;
    if (db !== this.selectedDb) {
      this.send(['SELECT', String(db)]);
      this.selectedDb = db;
    }
    this.send(argv);
  }

  private send(argv: string[]): void {
    const bytes = Buffer.from(encodeCommand(argv), 'latin1');
    this.engine.masterReplOffset += bytes.length;
    for (const r of this.replicas) r.session.transport?.sendRaw?.(bytes);
  }

  /** Replicas whose last ACK is at most min-replicas-max-lag seconds old. */
  goodReplicas(): number {
    const maxLag = this.engine.config.num('min-replicas-max-lag') * 1000;
    const t = Date.now();
    return this.replicas.filter((r) => !r.session.closing && t - r.ackTime <= maxLag).length;
  }

  /** REPLICAOF: every replica of ours is dropped (it resyncs with the new data). */
  disconnectAll(): void {
    for (const r of this.replicas) r.session.transport?.close(false);
    this.prune();
  }

  private maybePing(): void {
    this.prune();
    if (this.replicas.length === 0) return;
    const period = this.engine.config.num('repl-ping-replica-period') * 1000;
    if (Date.now() - this.lastPing < period) return;
    this.lastPing = Date.now();
    this.send(['PING']);
  }
}

const feeds = new WeakMap<Engine, Feed>();

function feedOf(e: Engine): Feed {
  let f = feeds.get(e);
  if (f === undefined) {
    f = new Feed(e);
    feeds.set(e, f);
    const feed = f;
    extendInfoSection('replication', (eng, fields) => {
      if (eng !== e) return;
      const live = feed.replicas.filter((r) => !r.session.closing);
      const entries = [...fields.entries()];
      fields.clear();
      for (const [k, v] of entries) {
        if (k === 'connected_slaves') {
          fields.set(k, live.length);
          live.forEach((r, i) => {
            const ip = r.session.transport?.addr.replace(/:\d+$/, '') ?? '?';
            const lag = Math.floor((Date.now() - r.ackTime) / 1000);
            fields.set(`slave${i}`, `ip=${ip},port=${r.port},state=online,offset=${r.ackOffset},lag=${lag}`);
          });
        } else fields.set(k, v);
      }
    });
  }
  return f;
}

/** The session is a replica fed by this server. */
export function isReplica(s: Session): boolean {
  const f = feeds.get(s.engine);
  return f !== undefined && f.replicas.some((r) => r.session === s);
}

/** The dataset as an RDB file (what a full resync sends). */
function rdbImage(e: Engine): Buffer {
  const cfg = e.config;
  const enc = new RdbEncoder({ compress: cfg.bool('rdbcompression'), checksum: cfg.bool('rdbchecksum'), listMaxListpackSize: cfg.num('list-max-listpack-size') });
  enc.header(10);
  enc.aux('redis-ver', e.redisVersion);
  enc.aux('redis-bits', '64');
  enc.aux('ctime', String(Math.floor(Date.now() / 1000)));
  enc.aux('used-mem', String(usedMemory(e)));
  enc.aux('repl-stream-db', '0');
  enc.aux('repl-id', e.replId);
  enc.aux('repl-offset', String(e.masterReplOffset));
  enc.aux('aof-base', '0');
  e.dbs.forEach((db, i) => {
    if (db.size === 0) return;
    const keys: { key: string; value: Parameters<RdbEncoder['entry']>[1]; exp: number }[] = [];
    let expires = 0;
    db.forEachLive((key, value) => {
      const exp = db.getExpire(key);
      if (exp > 0) expires++;
      keys.push({ key, value, exp: exp > 0 ? exp : 0 });
    });
    enc.selectDb(i);
    enc.resizeDb(keys.length, expires);
    for (const k of keys) enc.entry(k.key, k.value, k.exp);
  });
  enc.eof();
  return Buffer.concat(enc.take());
}

/** Turn the client into a replica: the RDB image, then the command stream. */
function fullResync(s: Session, psync: boolean): void {
  const e = s.engine;
  if (isReplica(s)) return; // a second SYNC from a replica is ignored
  const send = s.transport?.sendRaw;
  if (send === undefined) throw new CommandError('ERR Replica can\'t be attached to a client without a connection');
  const f = feedOf(e);
  if (psync) s.reply.simple(`FULLRESYNC ${e.replId} ${e.masterReplOffset}`);
  const rdb = rdbImage(e);
  send.call(s.transport, Buffer.from(`$${rdb.length}\r\n`, 'latin1'));
  send.call(s.transport, rdb);
  const r = f.replicas.find((x) => x.session === s);
  if (r === undefined) f.attach({ session: s, port: pendingPorts.get(s) ?? 0, ackOffset: 0, ackTime: Date.now() });
  pendingPorts.delete(s);
  e.log.notice(`Synchronization with replica ${s.transport?.addr ?? '?'} succeeded`);
}

/** REPLCONF listening-port, before the replica's PSYNC. */
const pendingPorts = new WeakMap<Session, number>();

/** REPLCONF <option> <value> [<option> <value> ...] */
function replconf(s: Session, argv: string[]): void {
  if (argv.length % 2 === 0) throw new CommandError('ERR syntax error');
  for (let i = 1; i < argv.length; i += 2) {
    const opt = argv[i]!;
    const val = argv[i + 1]!;
    if (is(opt, 'LISTENING-PORT')) {
      pendingPorts.set(s, longArg(val));
    } else if (is(opt, 'ACK') || is(opt, 'FACK')) {
      // A replica's acknowledgement gets no reply.
      const r = feeds.get(s.engine)?.replicas.find((x) => x.session === s);
      if (r !== undefined && is(opt, 'ACK')) {
        const off = Number.parseInt(val, 10);
        if (Number.isFinite(off) && off > r.ackOffset) r.ackOffset = off;
        r.ackTime = Date.now();
      }
      return;
    } else if (is(opt, 'GETACK')) {
      return; // only a master asks this of its replica
    } else if (!(is(opt, 'IP-ADDRESS') || is(opt, 'CAPA') || is(opt, 'RDB-ONLY') || is(opt, 'RDB-FILTER-ONLY'))) {
      throw new CommandError(`ERR Unrecognized REPLCONF option: ${opt}`);
    }
  }
  s.reply.ok();
}

/** min-replicas-to-write: the write gate asks this on a master (installed once some engine sets it). */
function notEnoughReplicas(s: Session): boolean {
  const e = s.engine;
  const min = e.config.num('min-replicas-to-write');
  return min > 0 && e.role === 'master' && min > (feeds.get(e)?.goodReplicas() ?? 0);
}

/** Replication settings of an engine (createEngine calls it): the gates follow the config; `replicaof` at start-up. */
export function installReplication(e: Engine): void {
  const minReplicas = (): void => {
    if (e.config.num('min-replicas-to-write') > 0) writeGate.notEnoughReplicas = notEnoughReplicas;
  };
  e.config.onChange('min-replicas-to-write', minReplicas);
  e.config.onChange('replica-read-only', () => updateGates(e));
  e.config.onChange('replica-serve-stale-data', () => updateGates(e));
  minReplicas();
  extendInfoSection('replication', (eng, fields) => {
    const link = replicaLinkOf(eng);
    if (eng !== e || eng.role !== 'slave' || link === undefined) return;
    const up = link.state === 'connected';
    const entries = [...fields.entries()];
    fields.clear();
    for (const [k, v] of entries) {
      fields.set(k, v);
      if (k !== 'role') continue;
      fields.set('master_host', link.host);
      fields.set('master_port', link.port);
      fields.set('master_link_status', up ? 'up' : 'down');
      fields.set('master_last_io_seconds_ago', up ? Math.floor((Date.now() - link.lastIo) / 1000) : -1);
      fields.set('master_sync_in_progress', link.state === 'transfer' ? 1 : 0);
      fields.set('slave_read_repl_offset', link.offset);
      fields.set('slave_repl_offset', link.offset);
      if (!up) fields.set('master_link_down_since_seconds', Math.floor((Date.now() - link.downSince) / 1000));
      fields.set('slave_priority', eng.config.num('replica-priority'));
      fields.set('slave_read_only', eng.config.bool('replica-read-only') ? 1 : 0);
      fields.set('replica_announced', eng.config.bool('replica-announced') ? 1 : 0);
    }
  });
  const m = /^(\S+)\s+(\d+)$/.exec(e.config.str('replicaof').trim());
  if (m !== null) becomeReplica(e, m[1]!, Number(m[2]));
}

/** REPLICAOF host port | NO ONE */
function replicaof(s: Session, argv: string[]): void {
  const e = s.engine;
  if (is(argv[1]!, 'NO') && is(argv[2]!, 'ONE')) {
    becomeMaster(e);
    s.reply.ok();
    return;
  }
  const port = Number(argv[2]);
  if (!/^-?\d+$/.test(argv[2]!) || port < 0 || port > 65535) throw new CommandError('ERR Invalid master port');
  const link = replicaLinkOf(e);
  if (link !== undefined && link.host === argv[1] && link.port === port) {
    s.reply.simple('OK Already connected to specified master');
    return;
  }
  feedOf(e).disconnectAll();
  becomeReplica(e, argv[1]!, port);
  s.reply.ok();
}

/** ROLE: master with its replicas, or replica with its master and link state. */
function role(s: Session): void {
  const e = s.engine;
  const r = s.reply;
  const link = replicaLinkOf(e);
  if (e.role === 'slave' && link !== undefined) {
    r.arrayLen(5);
    r.bulk('slave');
    r.bulk(link.host);
    r.int(link.port);
    r.bulk(link.state === 'transfer' ? 'sync' : link.state);
    r.int(link.state === 'connected' ? link.offset : -1);
    return;
  }
  const live = feeds.get(e)?.replicas.filter((x) => !x.session.closing) ?? [];
  r.arrayLen(3);
  r.bulk('master');
  r.int(e.masterReplOffset);
  r.arrayLen(live.length);
  for (const x of live) {
    r.arrayLen(3);
    r.bulk(x.session.transport?.addr.replace(/:\d+$/, '') ?? '?');
    r.bulk(String(x.port));
    r.bulk(String(x.ackOffset));
  }
}

const adm = ['admin', 'noscript', 'no_async_loading', 'no_multi'] as const;

export const replicationCommands: CommandSpec[] = [
  {
    name: 'sync', arity: 1, flags: adm, group: 'server', summary: 'Internal command used for replication', since: '1.0.0',
    handler: (s) => fullResync(s, false),
  },
  {
    name: 'psync', arity: -3, flags: adm, group: 'server', summary: 'Internal command used for replication', since: '2.8.0',
    handler: (s, argv) => {
      longArg(argv[2]!); // the offset must be a number; any request gets a full resync
      fullResync(s, true);
    },
  },
  {
    name: 'replicaof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], group: 'server',
    summary: 'Make the server a replica of another instance, or promote it as master.', since: '5.0.0', complexity: 'O(1)', handler: replicaof,
  },
  {
    name: 'slaveof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], group: 'server',
    summary: 'Make the server a replica of another instance, or promote it as master. Deprecated starting with Redis 5. Use REPLICAOF instead.',
    since: '1.0.0', complexity: 'O(1)', handler: replicaof,
  },
  {
    name: 'role', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast'], group: 'server', acl: ['admin', 'dangerous'],
    summary: 'Return the role of the instance in the context of replication', since: '2.8.12', complexity: 'O(1)', handler: role,
  },
  {
    name: 'replconf', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'allow_busy'], group: 'server',
    summary: 'An internal command for configuring the replication stream', since: '3.0.0', complexity: 'O(1)', handler: replconf,
  },
];
