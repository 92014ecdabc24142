/**
 * FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT: a master
 * and one of its replicas swap roles without losing writes, as Redis 7.0
 * does it. The master pauses writes (waiting-for-sync) until the target
 * replica (or, without TO, any replica) acknowledged the whole stream, then
 * (failover-in-progress) becomes a replica of it and sends
 * `PSYNC <replid> <offset> FAILOVER`: the target, whose ID it is, turns
 * master and continues the stream for it. Writes resume once the target
 * accepted the PSYNC. TIMEOUT ends the wait: the failover is aborted, or
 * with FORCE goes on anyway. A target refusing the PSYNC aborts it (the
 * server is a master again). INFO master_failover_state shows the state.
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Engine } from './engine.js';
import type { Session } from './session.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { extendInfoSection } from './info.js';
import { feedOf, type Replica } from './repl-feed.js';
import { becomeMaster, becomeReplica, replicaLinkOf, updateGates } from './replica-link.js';

type FailoverState = 'no-failover' | 'waiting-for-sync' | 'failover-in-progress';

interface Failover {
  state: FailoverState;
  /** The target, once known (TO, or the first replica found in sync). */
  host: string | null;
  port: number;
  /** Absolute end of the wait (TIMEOUT), 0 for none. */
  endTime: number;
  force: boolean;
  /** Checks the replicas' acknowledgements every 100 ms while waiting. */
  timer: NodeJS.Timeout | null;
}

const failovers = new WeakMap<Engine, Failover>();

export function failoverState(e: Engine): FailoverState {
  return failovers.get(e)?.state ?? 'no-failover';
}

extendInfoSection('replication', (e, fields) => fields.set('master_failover_state', failoverState(e)));

function replicaIp(r: Replica): string {
  return (r.session.transport?.addr ?? '').replace(/:\d+$/, '');
}

/** The replica listening at host:port (Redis's findReplica: its address and REPLCONF listening-port). */
function findReplica(e: Engine, host: string, port: number): Replica | undefined {
  return feedOf(e).live().find((r) => replicaIp(r).toLowerCase() === host.toLowerCase() && r.port === port);
}

function clear(e: Engine): void {
  const f = failovers.get(e);
  if (f === undefined) return;
  if (f.timer !== null) clearInterval(f.timer);
  failovers.delete(e);
  e.unpause();
  // The pause kept expired keys; the role may have changed meanwhile.
  updateGates(e);
}

function abort(e: Engine, why: string): void {
  const f = failovers.get(e);
  if (f === undefined) return;
  e.log.notice(f.host !== null ? `FAILOVER to ${f.host}:${f.port} aborted: ${why}` : `FAILOVER to any replica aborted: ${why}`);
  if (f.state === 'failover-in-progress') becomeMaster(e);
  clear(e);
}

/** Become a replica of the target, telling it to take over (its link sends PSYNC ... FAILOVER). */
function failOver(e: Engine, f: Failover): void {
  f.state = 'failover-in-progress';
  if (f.timer !== null) clearInterval(f.timer);
  f.timer = null;
  becomeReplica(e, f.host!, f.port, false, (accepted) => {
    // A full resync is accepted too (nothing wrong with it, only costlier).
    if (accepted) clear(e);
    else abort(e, 'Failover target rejected psync request');
  });
}

/** While waiting: the timeout, or a replica that acknowledged everything. */
function check(e: Engine): void {
  const f = failovers.get(e);
  if (f === undefined || f.state !== 'waiting-for-sync') return;
  if (f.endTime !== 0 && f.endTime <= Date.now()) {
    if (f.force) {
      e.log.notice(`FAILOVER to ${f.host}:${f.port} time out exceeded, failing over.`);
      failOver(e, f);
    } else abort(e, 'Replica never caught up before timeout');
    return;
  }
  let target: Replica | undefined;
  if (f.host !== null) target = findReplica(e, f.host, f.port);
  else {
    target = feedOf(e).live().find((r) => r.state === 'online' && r.ackOffset === e.masterReplOffset);
    if (target !== undefined) {
      f.host = replicaIp(target);
      f.port = target.port;
    }
  }
  if (target === undefined || target.ackOffset !== e.masterReplOffset) return;
  e.log.notice(`Failover target ${f.host}:${f.port} is synced, failing over.`);
  failOver(e, f);
}

/** FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | FAILOVER ABORT */
function failover(s: Session, argv: string[]): void {
  const e = s.engine;
  if (argv.length === 2 && is(argv[1]!, 'ABORT')) {
    if (failoverState(e) === 'no-failover') throw new CommandError('ERR No failover in progress.');
    abort(e, 'Failover manually aborted');
    s.reply.ok();
    return;
  }
  let timeout = 0;
  let force = false;
  let host: string | null = null;
  let port = 0;
  for (let j = 1; j < argv.length; j++) {
    if (is(argv[j]!, 'TIMEOUT') && j + 1 < argv.length && timeout === 0) {
      timeout = longArg(argv[j + 1]!);
      if (timeout <= 0) throw new CommandError('ERR FAILOVER timeout must be greater than 0');
      j++;
    } else if (is(argv[j]!, 'TO') && j + 2 < argv.length && host === null) {
      port = longArg(argv[j + 2]!);
      host = argv[j + 1]!;
      j += 2;
    } else if (is(argv[j]!, 'FORCE') && !force) force = true;
    else throw new CommandError(Err.syntax);
  }
  if (failoverState(e) !== 'no-failover') throw new CommandError('ERR FAILOVER already in progress.');
  if (e.role === 'slave') throw new CommandError('ERR FAILOVER is not valid when server is a replica.');
  if (feedOf(e).live().length === 0) throw new CommandError('ERR FAILOVER requires connected replicas.');
  if (force && (timeout === 0 || host === null)) throw new CommandError('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
  if (host !== null) {
    const r = findReplica(e, host, port);
    if (r === undefined) throw new CommandError('ERR FAILOVER target HOST and PORT is not a replica.');
    if (r.state !== 'online') throw new CommandError('ERR FAILOVER target replica is not online.');
    e.log.notice(`FAILOVER requested to ${host}:${port}.`);
  } else e.log.notice('FAILOVER requested to any replica.');
  const f: Failover = { state: 'waiting-for-sync', host, port, endTime: timeout > 0 ? Date.now() + timeout : 0, force, timer: null };
  failovers.set(e, f);
  // Writes wait (the stream stops growing) until the failover ends.
  e.pauseClients('write', Infinity);
  f.timer = setInterval(() => check(e), 100);
  f.timer.unref();
  s.reply.ok();
}

/**
 * PSYNC <replid> <offset> FAILOVER sent to a replica: if the ID is ours (its
 * master's), become a master before answering the PSYNC.
 */
export function psyncFailover(s: Session, replid: string): void {
  const e = s.engine;
  e.log.warning(`Failover request received for replid ${replid}.`);
  if (e.role === 'master' || replicaLinkOf(e) === undefined) throw new CommandError("ERR PSYNC FAILOVER can't be sent to a master.");
  if (replid.toLowerCase() !== e.replId) throw new CommandError('ERR PSYNC FAILOVER replid must match my replid.');
  becomeMaster(e, 'failover request', s);
}

export const failoverCommands: CommandSpec[] = [
  {
    name: 'failover', arity: -1, flags: ['admin', 'noscript', 'stale'], group: 'server',
    summary: 'Start a coordinated failover between this server and one of its replicas.', since: '6.2.0', complexity: 'O(1)',
    handler: failover,
  },
];
