/**
 * The master side of replication: SYNC, PSYNC and REPLCONF, WAIT, REPLICAOF
 * and ROLE, and the replication fields of INFO. PSYNC <replid> <offset>
 * continues a replica's stream from the backlog (`+CONTINUE <replid>`) when
 * the ID is ours (or our previous one, replid2, up to second_repl_offset)
 * and the offset is still held; otherwise (and for SYNC and `PSYNC ? -1`)
 * the replica gets `+FULLRESYNC <replid> <offset>` and an RDB image of the
 * dataset as a bulk payload (`$<len>\r\n<rdb>`, no trailing CRLF), then the
 * stream (repl-feed.ts). The replica side (REPLICAOF) is replica-link.ts.
 */
import { randomBytes } from 'node:crypto';
import type { CommandSpec } from '../commands/command-table.js';
import type { Engine } from './engine.js';
import type { Session, BlockState } from './session.js';
import { CommandError } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { extendInfoSection, usedMemory } from './info.js';
import { RdbEncoder } from '../persistence/rdb-encoder.js';
import { writeGate } from './dispatch.js';
import { becomeMaster, becomeReplica, replicaLinkOf, updateGates } from './replica-link.js';
import { feedOf, isReplica } from './repl-feed.js';
import { libraryCodes } from '../scripting/function-library.js';

export { isReplica };

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
  for (const code of libraryCodes(e)) enc.functionLibrary(code);
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

/** Attach the client as a replica fed from now on (after its RDB image or its backlog). */
function attachReplica(s: Session, fullSync: boolean): void {
  const e = s.engine;
  const f = feedOf(e);
  f.attach({ session: s, port: pendingPorts.get(s) ?? 0, ackOffset: 0, ackTime: Date.now() }, fullSync);
  pendingPorts.delete(s);
  pendingCapa.delete(s);
}

/** Checks common to SYNC and PSYNC; false when the request is ignored. */
function syncAllowed(s: Session): boolean {
  const e = s.engine;
  if (isReplica(s)) return false; // a second SYNC from a replica is ignored
  if (s.transport?.sendRaw === undefined) throw new CommandError('ERR Replica can\'t be attached to a client without a connection');
  const link = replicaLinkOf(e);
  if (e.role === 'slave' && (link === undefined || link.state !== 'connected')) throw new CommandError("NOMASTERLINK Can't SYNC while not connected with my master");
  return true;
}

/** The RDB image, then the command stream. */
function fullResync(s: Session, psync: boolean): void {
  const e = s.engine;
  const f = feedOf(e);
  const send = s.transport!.sendRaw!;
  e.stats.syncFull++;
  if (f.backlog === null) {
    // A backlog created from scratch starts a new history: a new replication ID.
    if (e.role === 'master') {
      e.replId = randomReplId();
      e.replId2 = '0'.repeat(40);
      e.secondReplOffset = -1;
    }
    f.createBacklog();
    e.log.notice(`Replication backlog created, my new replication IDs are '${e.replId}' and '${e.replId2}'`);
  }
  if (psync) s.reply.simple(`FULLRESYNC ${e.replId} ${e.masterReplOffset}`);
  e.log.notice(`Starting BGSAVE for SYNC with target: replicas sockets`);
  const rdb = rdbImage(e);
  send.call(s.transport, Buffer.from(`$${rdb.length}\r\n`, 'latin1'));
  send.call(s.transport, rdb);
  attachReplica(s, true);
  e.log.notice(`Synchronization with replica ${s.transport?.addr ?? '?'} succeeded`);
}

function randomReplId(): string {
  return randomBytes(20).toString('hex');
}

/** PSYNC replid offset: +CONTINUE from the backlog when possible, else a full resync. */
function psync(s: Session, argv: string[]): void {
  if (!syncAllowed(s)) return;
  const e = s.engine;
  const f = feedOf(e);
  const replid = argv[1]!;
  const offset = longArg(argv[2]!);
  const addr = s.transport?.addr ?? '?';
  const ours = replid.toLowerCase() === e.replId;
  const previous = !ours && replid.toLowerCase() === e.replId2 && offset <= e.secondReplOffset;
  const bl = f.backlog;
  const data = (ours || previous) && bl !== null ? bl.readFrom(offset) : null;
  if (data === null) {
    if (replid !== '?') {
      e.stats.syncPartialErr++;
      if (!ours && !previous) {
        e.log.notice(`Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${e.replId}' and '${e.replId2}')`);
      } else {
        e.log.notice(`Unable to partial resync with replica ${addr} for lack of backlog (Replica request was: ${offset}).`);
      }
    } else e.log.notice(`Full resync requested by replica ${addr}`);
    fullResync(s, true);
    return;
  }
  e.stats.syncPartialOk++;
  const capa = pendingCapa.get(s);
  s.reply.simple(capa?.has('psync2') ? `CONTINUE ${e.replId}` : 'CONTINUE');
  s.transport!.sendRaw!.call(s.transport, data);
  attachReplica(s, false);
  e.log.notice(`Partial resynchronization request from ${addr} accepted. Sending ${data.length} bytes of backlog starting from offset ${offset}.`);
}

/** REPLCONF listening-port and capa, before the replica's PSYNC. */
const pendingPorts = new WeakMap<Session, number>();
const pendingCapa = new WeakMap<Session, Set<string>>();

/** REPLCONF <option> <value> [<option> <value> ...] */
function replconf(s: Session, argv: string[]): void {
  if (argv.length % 2 === 0) throw new CommandError('ERR syntax error');
  for (let i = 1; i < argv.length; i += 2) {
    const opt = argv[i]!;
    const val = argv[i + 1]!;
    if (is(opt, 'LISTENING-PORT')) {
      pendingPorts.set(s, longArg(val));
    } else if (is(opt, 'CAPA')) {
      let c = pendingCapa.get(s);
      if (c === undefined) pendingCapa.set(s, (c = new Set()));
      c.add(val.toLowerCase());
    } else if (is(opt, 'ACK') || is(opt, 'FACK')) {
      // A replica's acknowledgement gets no reply.
      const f = feedOf(s.engine);
      const r = f.replicas.find((x) => x.session === s);
      if (r !== undefined && is(opt, 'ACK')) {
        const off = Number.parseInt(val, 10);
        if (Number.isFinite(off) && off > r.ackOffset) r.ackOffset = off;
        r.ackTime = Date.now();
        f.acked();
      }
      return;
    } else if (is(opt, 'GETACK')) {
      return; // only a master asks this of its replica (replica-link answers it)
    } else if (!(is(opt, 'IP-ADDRESS') || is(opt, 'RDB-ONLY') || is(opt, 'RDB-FILTER-ONLY'))) {
      throw new CommandError(`ERR Unrecognized REPLCONF option: ${opt}`);
    }
  }
  s.reply.ok();
}

/** min-replicas-to-write: the write gate asks this on a master (installed once some engine sets it). */
function notEnoughReplicas(s: Session): boolean {
  const e = s.engine;
  const min = e.config.num('min-replicas-to-write');
  return min > 0 && e.role === 'master' && min > feedOf(e).goodReplicas();
}

/** WAIT numreplicas timeout: how many replicas acknowledged the stream up to the client's writes. */
function wait(s: Session, argv: string[]): void {
  const e = s.engine;
  if (e.role === 'slave') {
    throw new CommandError('ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.');
  }
  const want = longArg(argv[1]!);
  const timeout = longArg(argv[2]!, 'ERR timeout is not an integer or out of range');
  if (timeout < 0) throw new CommandError('ERR timeout is negative');
  const f = feedOf(e);
  // The stream up to now holds this client's writes (cacheside does not track each client's last write offset).
  const target = e.masterReplOffset;
  const acked = f.countAcked(target);
  if (acked >= want || s.inExec || s.transport === null) {
    s.reply.int(acked);
    return;
  }
  const b: BlockState = {
    deadline: timeout > 0 ? Date.now() + timeout : 0,
    kind: 'wait',
    onTimeout: () => w.finish(),
    cancel: () => {
      f.cancelWait(w);
      if (s.blocked === b) s.blocked = null;
    },
  };
  const w = f.wait(s, target, want, timeout, (n) => {
    if (s.blocked !== b) return;
    s.blocked = null;
    s.reply.int(n);
    s.transport?.resume();
  });
  s.blocked = b;
}

extendInfoSection('replication', (e, fields) => {
  const f = feedOf(e);
  const bl = f.backlog;
  fields.set('repl_backlog_active', bl !== null ? 1 : 0);
  fields.set('repl_backlog_size', e.config.num('repl-backlog-size'));
  fields.set('repl_backlog_first_byte_offset', bl !== null ? bl.firstByteOffset : 0);
  fields.set('repl_backlog_histlen', bl !== null ? bl.histlen : 0);
  const live = f.live();
  const link = replicaLinkOf(e);
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
      continue;
    }
    fields.set(k, v);
    if (k !== 'role' || e.role !== 'slave' || link === undefined) continue;
    const up = link.state === 'connected';
    fields.set('master_host', link.host);
    fields.set('master_port', link.port);
    fields.set('master_link_status', up ? 'up' : 'down');
    fields.set('master_last_io_seconds_ago', up ? Math.floor((Date.now() - link.lastIo) / 1000) : -1);
    fields.set('master_sync_in_progress', link.state === 'transfer' ? 1 : 0);
    fields.set('slave_read_repl_offset', link.readOffset);
    fields.set('slave_repl_offset', link.offset);
    if (!up) fields.set('master_link_down_since_seconds', link.downSince === 0 ? -1 : Math.floor((Date.now() - link.downSince) / 1000));
    fields.set('slave_priority', e.config.num('replica-priority'));
    fields.set('slave_read_only', e.config.bool('replica-read-only') ? 1 : 0);
    fields.set('replica_announced', e.config.bool('replica-announced') ? 1 : 0);
  }
});

/** Replication settings of an engine (createEngine calls it): the gates follow the config; `replicaof` at start-up. */
export function installReplication(e: Engine): void {
  const minReplicas = (): void => {
    if (e.config.num('min-replicas-to-write') > 0) writeGate.notEnoughReplicas = notEnoughReplicas;
  };
  e.config.onChange('min-replicas-to-write', minReplicas);
  e.config.onChange('replica-read-only', () => updateGates(e));
  e.config.onChange('replica-serve-stale-data', () => updateGates(e));
  e.config.onChange('repl-backlog-size', () => feedOf(e).backlog?.resize(e.config.num('repl-backlog-size')));
  minReplicas();
  const m = /^(\S+)\s+(\d+)$/.exec(e.config.str('replicaof').trim());
  if (m !== null) becomeReplica(e, m[1]!, Number(m[2]), true);
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
  const live = feedOf(e).live();
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
    handler: (s) => {
      if (syncAllowed(s)) fullResync(s, false);
    },
  },
  {
    name: 'psync', arity: -3, flags: adm, group: 'server', summary: 'Internal command used for replication', since: '2.8.0',
    handler: psync,
  },
  {
    name: 'wait', arity: 3, flags: ['noscript'], group: 'generic', acl: ['connection'],
    summary: 'Wait for the synchronous replication of all the write commands sent in the context of the current connection',
    since: '3.0.0', complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:agg_min'], handler: wait,
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
