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
import { extendInfoSection } from './info.js';
import { writeGate } from './dispatch.js';
import { becomeMaster, becomeReplica, replicaLinkOf, unexpectedErrorReplies, updateGates } from './replica-link.js';
import { feedOf, isReplica, rdbReplication, type Replica } from './repl-feed.js';
import { registerDebugSubcommand } from './debug-commands.js';
import { clientInfoLine } from './client-commands.js';
import { failoverState, psyncFailover } from './failover.js';
import { replicaReplies, startPendingSyncs, syncInProgress } from './repl-sync.js';

export { isReplica };

/** Reply methods a replica's commands could write through (none may reach the replication link). */
const REPLY_METHODS = [
  'ok', 'simple', 'error', 'int', 'bulk', 'bulkBytes', 'nullBulk', 'nullArray', 'arrayLen', 'mapLen', 'setLen', 'pushLen',
  'double', 'bool', 'verbatim', 'bigNumber', 'bulkArray', 'attributeLen',
] as const;

replicaReplies.write = (r, line) => replyToReplica(() => r.session.reply.simple(line));

/** Set while this module writes to a replica itself (+FULLRESYNC...). */
let ownReply = false;

function replyToReplica(fn: () => void): void {
  ownReply = true;
  try {
    fn();
  } finally {
    ownReply = false;
  }
}

/**
 * Once a client is a replica, the link carries the stream only: a command of
 * its that would get a reply (a rogue replica) is logged and the replica
 * disconnected, its reply dropped, as Redis does; an error is logged as one
 * the master sends to its replica.
 */
function guardReplicaReplies(s: Session): void {
  const reply = s.reply as unknown as Record<string, (...args: unknown[]) => void>;
  let dropped = false;
  for (const m of REPLY_METHODS) {
    const orig = reply[m];
    if (typeof orig !== 'function') continue;
    reply[m] = function (this: unknown, ...args: unknown[]): void {
      if (ownReply) return orig.apply(this, args);
      const e = s.engine;
      if (!dropped) {
        dropped = true;
        e.log.warning(`Replica generated a reply to command '${s.lastCommand}', disconnecting it: ${clientInfoLine(s).trimEnd()}`);
        s.transport?.close(false);
      }
      if (m === 'error') {
        const line = String(args[0]);
        const text = line.startsWith('ERR ') ? line.slice(4) : '-' + line;
        e.log.warning(`== CRITICAL == This master is sending an error to its replica: '${text.slice(0, 4096)}' after processing the command '${s.lastCommand}'`);
      }
    };
  }
}

/** Register the client as a replica: waiting for its RDB image, or fed from now on (after its backlog). */
function attachReplica(s: Session, state: Replica['state'], psync: boolean): Replica {
  const e = s.engine;
  writeGate.isReplica ??= isReplica;
  guardReplicaReplies(s);
  const r: Replica = {
    session: s, port: pendingPorts.get(s) ?? 0, ackOffset: 0, ackTime: Date.now(), state, psync,
    eof: pendingCapa.get(s)?.has('eof') ?? false, startOffset: -1,
  };
  feedOf(e).attach(r);
  pendingPorts.delete(s);
  pendingCapa.delete(s);
  return r;
}

/** How the log names a client asking for a sync (as replicaName does once it is a replica). */
function candidateName(s: Session): string {
  const port = pendingPorts.get(s) ?? 0;
  return `${(s.transport?.addr ?? '?').replace(/:\d+$/, '')}:${port === 0 ? '<unknown-replica-port>' : port}`;
}

/** Checks common to SYNC and PSYNC; false when the request is ignored. */
function syncAllowed(s: Session): boolean {
  const e = s.engine;
  if (isReplica(s)) return false; // a second SYNC from a replica is ignored
  if (s.transport?.sendRaw === undefined) throw new CommandError('ERR Replica can\'t be attached to a client without a connection');
  const link = replicaLinkOf(e);
  if (failoverState(e) !== 'no-failover') throw new CommandError("NOMASTERLINK Can't SYNC while failing over");
  if (e.role === 'slave' && (link === undefined || link.state !== 'connected')) throw new CommandError("NOMASTERLINK Can't SYNC while not connected with my master");
  e.log.notice(`Replica ${candidateName(s)} asks for synchronization`);
  return true;
}

/**
 * A full resync: the replica waits for the next RDB image (its +FULLRESYNC
 * comes with it). A diskless sync waits repl-diskless-sync-delay seconds
 * (or for repl-diskless-sync-max-replicas replicas) so that replicas
 * arriving together share one image; otherwise it starts at once.
 */
function fullResync(s: Session, psync: boolean): void {
  const e = s.engine;
  const f = feedOf(e);
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
  f.startPendingSyncs ??= () => startPendingSyncs(e, false);
  const r = attachReplica(s, 'wait_bgsave', psync);
  const running = syncInProgress(e);
  if (running === 'socket') {
    e.log.notice('Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC');
    return;
  }
  if (running === null && e.config.bool('repl-diskless-sync') && r.eof && e.config.num('repl-diskless-sync-delay') > 0) {
    e.log.notice('Delay next BGSAVE for diskless SYNC');
    return;
  }
  startPendingSyncs(e, true);
}

function randomReplId(): string {
  return randomBytes(20).toString('hex');
}

/** PSYNC replid offset: +CONTINUE from the backlog when possible, else a full resync. */
function psync(s: Session, argv: string[]): void {
  if (isReplica(s)) return;
  // PSYNC ... FAILOVER: our master hands over to us (FAILOVER on its side).
  if (argv.length > 3 && is(argv[3]!, 'FAILOVER')) psyncFailover(s, argv[1]!);
  if (!syncAllowed(s)) return;
  const e = s.engine;
  const f = feedOf(e);
  const replid = argv[1]!;
  let offset: number;
  try {
    offset = longArg(argv[2]!);
  } catch (err) {
    e.log.warning(`Replica ${candidateName(s)} asks for synchronization but with a wrong offset`);
    throw err;
  }
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
  attachReplica(s, 'online', true);
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
  return min > 0 && e.config.num('min-replicas-max-lag') > 0 && e.role === 'master' && min > feedOf(e).goodReplicas();
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

extendInfoSection('stats', (e, fields) => fields.set('unexpected_error_replies', unexpectedErrorReplies(e)));

// The backlog is the replicas' shared buffer (Redis 7.0): beyond repl-backlog-size it is theirs.
extendInfoSection('memory', (e, fields) => {
  const f = feedOf(e);
  const held = f.backlog?.memory ?? 0;
  const sockets = Number(fields.get('mem_total_replication_buffers') ?? 0);
  const size = e.config.num('repl-backlog-size');
  const replicas = f.live().length > 0;
  fields.set('mem_replication_backlog', replicas && held > size ? size : held);
  fields.set('mem_total_replication_buffers', held + sockets);
  if (replicas && held > size) fields.set('mem_clients_slaves', Number(fields.get('mem_clients_slaves') ?? 0) + held - size);
});

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
      if (e.config.num('min-replicas-to-write') > 0 && e.config.num('min-replicas-max-lag') > 0) fields.set('min_slaves_good_slaves', f.goodReplicas());
      live.forEach((r, i) => {
        const ip = r.session.transport?.addr.replace(/:\d+$/, '') ?? '?';
        const lag = r.state === 'online' ? Math.floor((Date.now() - r.ackTime) / 1000) : 0;
        fields.set(`slave${i}`, `ip=${ip},port=${r.port},state=${r.state},offset=${r.ackOffset},lag=${lag}`);
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

// ---- replication info in dump.rdb (PSYNC after a restart) ---------------------------------

rdbReplication.saveInfo = (e) => {
  // A master with a backlog is in a replication chain; a replica has (or had) a master's stream.
  if (e.role === 'master') {
    const f = feedOf(e);
    return f.backlog === null ? null : { id: e.replId, offset: e.masterReplOffset, db: Math.max(0, f.selectedDb) };
  }
  const link = replicaLinkOf(e);
  return link !== undefined && link.hasHistory ? { id: e.replId, offset: e.masterReplOffset, db: link.currentDb } : null;
};

rdbReplication.beforeLoad = (e) => {
  const f = feedOf(e);
  if (f.backlog === null) f.createBacklog();
};

rdbReplication.restore = (e, info) => {
  const f = feedOf(e);
  if (e.role === 'master') {
    if (info === null) {
      // No history to continue: no backlog either (the DELs of expired keys fed it for nothing).
      if (f.replicas.length === 0) f.freeBacklog();
      return;
    }
    // Our (new) ID is a new history; the file's goes on as replid2, so that replicas continue with PSYNC.
    e.replId2 = info.id;
    e.secondReplOffset = info.offset + 1;
    e.masterReplOffset += info.offset;
    f.backlog?.rebase(info.offset);
    f.noReplicasSince = Date.now();
    return;
  }
  if (info === null) return;
  e.replId = info.id;
  e.masterReplOffset = info.offset;
  replicaLinkOf(e)?.restoreHistory(info.db);
};

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

registerDebugSubcommand({
  name: 'REPLICATE',
  minArgs: 3,
  maxArgs: Infinity,
  help: ['REPLICATE <string>', '    Replicates the provided string to replicas, allowing data divergence.'],
  handler: (s, argv) => {
    feedOf(s.engine).feedRaw(argv.slice(2));
    s.reply.ok();
  },
});

/** REPLICAOF host port | NO ONE */
function replicaof(s: Session, argv: string[]): void {
  const e = s.engine;
  if (failoverState(e) !== 'no-failover') throw new CommandError('ERR REPLICAOF not allowed while failing over.');
  if (is(argv[1]!, 'NO') && is(argv[2]!, 'ONE')) {
    becomeMaster(e, 'user request', s);
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
  e.log.notice(`REPLICAOF ${argv[1]}:${port} enabled (user request from '${clientInfoLine(s, { cmd: 'replicaof', argv }).trimEnd()}')`);
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
  const live = feedOf(e).live().filter((x) => x.state === 'online');
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
