/**
 * The dispatch gate. Every command from every session passes through
 * `dispatch`: lookup, arity, auth, pub/sub context, loading, OOM, READONLY,
 * MULTI queueing. Handlers never repeat these checks. `call` runs a handler
 * and does the bookkeeping: stats, errors, slowlog, latency, MONITOR,
 * propagation of writes.
 */
import { CommandError, Err, truncateForError } from '../errors.js';
import type { Command } from '../commands/command-table.js';
import type { Session } from './session.js';
// The module binding, not the global: Node's global `performance` is a lazy getter, a call on every access.
import { performance } from 'node:perf_hooks';
import { clock } from '../keyspace/clock.js';
import { recordCommandLatency } from './latency-histogram.js';
import { aclGate } from './acl-check.js';

const MULTI_PASSTHROUGH = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
const PUBSUB_ALLOWED = new Set(['subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

/**
 * Hooks of the memory module (src/memory): `enabled` while some engine has a
 * maxmemory, then `freeMemoryIfNeeded` runs before every command (evicting
 * as configured) and returns false when memory is still over the limit;
 * `dirty` when values changed in place wait to be re-measured (`settle`,
 * after the command).
 */
export const memoryGate = {
  freeMemoryIfNeeded: (_s: Session): boolean => true,
  enabled: false,
  dirty: false,
  settle: (): void => {},
};
/** Hook for replicas (READONLY) and persistence errors (MISCONF). */
export const writeGate = {
  readonlyReplica: false,
  misconf: null as string | null,
  /** Set while some engine is a replica: true when its link is down with replica-serve-stale-data no (MASTERDOWN). */
  masterDown: null as ((s: Session) => boolean) | null,
  /** min-replicas-to-write: true when too few good replicas are connected (NOREPLICAS). */
  notEnoughReplicas: null as ((s: Session) => boolean) | null,
  /** Set once some engine has replicas: is the session a replica (which may not touch the keyspace)? */
  isReplica: null as ((s: Session) => boolean) | null,
};

function unknownCommand(argv: string[]): string {
  let args = '';
  for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${truncateForError(argv[i]!, 128 - args.length)}' `;
  return `ERR unknown command '${truncateForError(argv[0]!)}', with args beginning with: ${args}`;
}

/** Resolve argv to a command, or write the rejection and return null. */
export function resolve(s: Session, argv: string[]): Command | null {
  const e = s.engine;
  let cmd = e.commands.get(argv[0]!);
  if (cmd === undefined) {
    reject(s, unknownCommand(argv));
    return null;
  }
  if (cmd.sub !== null && (argv.length > 1 || cmd.handler === undefined)) {
    // A container that has a handler of its own (COMMAND) runs it when called alone.
    if (argv.length === 1) {
      reject(s, Err.wrongArgs(cmd.name), cmd);
      return null;
    }
    const sub = cmd.sub.get(argv[1]!.toLowerCase());
    if (sub === undefined) {
      reject(s, Err.unknownSubcommand(argv[1]!, cmd.name));
      return null;
    }
    cmd = sub;
  }
  const a = cmd.arity;
  if ((a > 0 && argv.length !== a) || argv.length < -a) {
    reject(s, Err.wrongArgs(cmd.fullName), cmd);
    return null;
  }
  return cmd;
}

function reject(s: Session, message: string, cmd?: Command): void {
  if (cmd) cmd.rejectedCalls++;
  if (cmd !== undefined && cmd.parent === null && cmd.name === 'exec') {
    // A refused EXEC discards the transaction (Redis's execCommandAbort), also outside MULTI.
    s.multi = null;
    s.engine.unwatchAll(s);
    message = `EXECABORT Transaction discarded because of: ${message.startsWith('ERR ') ? message.slice(4) : message}`;
  } else if (s.multi !== null) s.multi.aborted = true;
  replyError(s, message);
}

function replyError(s: Session, message: string): void {
  const sp = message.indexOf(' ');
  s.engine.countError(sp < 0 ? message : message.slice(0, sp));
  s.reply.error(message);
}

/** The memory gate; invalidations of the keys it evicted reach tracking clients before the command's reply (Redis 7.0). */
function evictBeforeCommand(s: Session): boolean {
  const ok = memoryGate.freeMemoryIfNeeded(s);
  if (s.engine.tracking.enabled) s.engine.tracking.deliver();
  return ok;
}

/** Process one command from a session. */
export function dispatch(s: Session, argv: string[]): void {
  const e = s.engine;
  const cmd = resolve(s, argv);
  if (cmd === null) return;
  // As Redis's c->lastcmd: set before the checks (CLIENT LIST shows a refused or queued command too).
  s.lastCommand = cmd.fullName;

  if (cmd.protectedBy !== undefined && !protectedCommandAllowed(s, cmd.protectedBy)) {
    return reject(
      s,
      `ERR ${cmd.name.toUpperCase()} command not allowed. If the ${cmd.protectedBy} option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
      cmd,
    );
  }
  if (!s.authenticated && !cmd.noAuth && e.acl.authRequired()) return reject(s, Err.noAuth, cmd);
  // ACL: the default user (+@all ~* &*) is unrestricted, one boolean; replicated and AOF streams are obeyed.
  if (!s.aclUser.unrestricted && !s.obeyClient) {
    const denied = aclGate(s, cmd, argv);
    if (denied !== null) return reject(s, denied, cmd);
  }

  const name = cmd.parent ? cmd.parent.name : cmd.name;
  if (s.inPubSubContext && !PUBSUB_ALLOWED.has(name)) {
    return reject(
      s,
      `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      cmd,
    );
  }
  if (e.loading && !cmd.flags.includes('loading')) return reject(s, Err.loading, cmd);

  const queueing = s.multi !== null && !MULTI_PASSTHROUGH.has(name);
  // EXEC of a transaction holding writes is a write for the replication gates.
  const execWrites = name === 'exec' && s.multi !== null && s.multi.queue.some((q) => q.cmd.isWrite);
  if (!s.obeyClient && (cmd.isWrite || execWrites)) {
    if (writeGate.notEnoughReplicas !== null && writeGate.notEnoughReplicas(s)) return reject(s, 'NOREPLICAS Not enough good replicas to write.', cmd);
    if (writeGate.readonlyReplica && s.engine.role === 'slave' && !s.inExec) return reject(s, Err.readonly, cmd);
  }
  if (cmd.isWrite || (queueing && cmd.denyOom)) {
    if (writeGate.misconf !== null && cmd.isWrite) return reject(s, writeGate.misconf, cmd);
  }
  if (writeGate.masterDown !== null && !s.obeyClient && writeGate.masterDown(s)) {
    const stale = (c: Command): boolean => c.flags.includes('stale');
    if (!stale(cmd) || (name === 'exec' && s.multi !== null && s.multi.queue.some((q) => !stale(q.cmd)))) {
      return reject(s, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", cmd);
    }
  }
  if (writeGate.isReplica !== null && writeGate.isReplica(s) && (cmd.isWrite || cmd.flags.includes('readonly') || cmd.flags.includes('may_replicate'))) {
    return reject(s, "ERR Replica can't interact with the keyspace", cmd);
  }
  // Redis refuses PING too while it cannot persist (so that monitoring notices).
  if (writeGate.misconf !== null && name === 'ping' && !writeGate.readonlyReplica) return reject(s, writeGate.misconf, cmd);
  // A script runs past busy-reply-threshold: only allow_busy commands (SCRIPT KILL, SHUTDOWN, AUTH...) are
  // served meanwhile, and nothing is evicted (the script's writes are not over).
  const busy = e.busyScript;
  if (busy !== null && !cmd.flags.includes('allow_busy')) return reject(s, busy.error, cmd);
  if (memoryGate.enabled && busy === null && !evictBeforeCommand(s)) {
    // Over maxmemory with nothing left to evict: denyoom commands are refused, and inside MULTI every
    // command but EXEC/DISCARD/QUIT/RESET (queueing takes memory); an EXEC holding a denyoom command aborts.
    if (cmd.denyOom || queueing) return reject(s, Err.oom, cmd);
    if (name === 'exec' && s.multi !== null && s.multi.queue.some((q) => q.cmd.denyOom)) {
      s.multi = null;
      e.unwatchAll(s);
      return reject(s, `EXECABORT Transaction discarded because of: ${Err.oom}`, cmd);
    }
  }
  // tracking-table-max-keys, checked before every command (queued ones too): invalidations come before the reply.
  if (e.tracking.clients.size > 0) e.tracking.limitBeforeCommand();

  // Evicted by maxmemory-clients just now (the gate above): its command does not run.
  if (s.closing) return;
  if (queueing) {
    if (cmd.flags.includes('no_multi')) return reject(s, `ERR Command not allowed inside a transaction`, cmd);
    s.multi!.queue.push({ cmd, argv });
    s.reply.simple('QUEUED');
    return;
  }
  // SCAN and RANDOMKEY touch arbitrary keys: their lazy-expiry DELs go out one by one (Redis 7.0).
  if (e.propagators.length === 0 || cmd.name === 'scan' || cmd.name === 'randomkey') call(s, cmd, argv);
  else {
    // One execution unit: its propagated commands go out together (MULTI/EXEC when several).
    e.beginPropagationUnit();
    try {
      call(s, cmd, argv);
    } finally {
      e.endPropagationUnit();
    }
  }
  // Keys that received data during this command (or this whole EXEC) wake their blocked clients.
  e.blocking.serveReadyKeys();
}

/**
 * Run a resolved command: the handler, then stats, slowlog, MONITOR and
 * propagation. Used by dispatch, by EXEC for each queued command, and by
 * blocking commands when they are served.
 */
export function call(s: Session, cmd: Command, argv: string[]): void {
  const e = s.engine;
  const dirtyBefore = e.dirty;
  s.propagateAs = null;
  s.alsoPropagate = null;
  s.preventPropagation = false;
  // The command's time is frozen by its first now() (keyspace/clock.ts); nested calls (EXEC, scripts) share it.
  const outer = clock.frozen === 0 && !clock.inCommand;
  if (outer) clock.inCommand = true;
  const t0 = performance.now();
  // CLIENT NO-TOUCH: the client's reads leave the keys' LRU/LFU alone (TOUCH still touches).
  const ev = s.noTouch && cmd.name !== 'touch' ? e.keyspaceEvents : null;
  const noTouchBefore = ev !== null && ev.noTouch === true;
  if (ev !== null) ev.noTouch = true;
  e.tracking.begin(s);
  try {
    cmd.handler!(s, argv);
  } catch (err) {
    cmd.failedCalls++;
    if (err instanceof CommandError) replyError(s, err.message);
    else {
      e.log.warning(`Internal error in '${cmd.fullName}': ${(err as Error).stack ?? err}`);
      replyError(s, `ERR internal error in '${cmd.fullName}': ${(err as Error).message}`);
    }
  }
  if (ev !== null) ev.noTouch = noTouchBefore;
  const suspended = s.blocked;
  if (suspended !== null && suspended.kind === 'script') {
    // The script went busy (scripting/script-busy.ts): the call ends when the script does.
    if (outer) {
      clock.inCommand = false;
      clock.frozen = 0;
    }
    suspended.endCall = () => endCall(s, cmd, argv, t0, dirtyBefore, outer);
    return;
  }
  endCall(s, cmd, argv, t0, dirtyBefore, outer);
}

/** The bookkeeping after a command's handler: stats, slowlog, latency, MONITOR, propagation. */
function endCall(s: Session, cmd: Command, argv: string[], t0: number, dirtyBefore: number, outer: boolean): void {
  const e = s.engine;
  if (memoryGate.dirty) memoryGate.settle();
  e.tracking.end(s, cmd, argv);
  const usec = (performance.now() - t0) * 1000;
  if (outer) {
    clock.inCommand = false;
    clock.frozen = 0;
  }
  cmd.calls++;
  cmd.usec += usec;
  e.stats.commandsProcessed++;
  s.lastCommand = cmd.fullName;
  // A command that blocked on keys goes to the slowlog and the latency histogram when it is served.
  const blocked = s.blocked;
  if (blocked !== null && blocked.call === null) blocked.call = { cmd, argv, usec };
  else {
    if (e.latencyTracking) recordCommandLatency(cmd, usec);
    slowlogPush(s, cmd, argv, usec);
  }
  if (e.latencyThresholdMs > 0 && usec / 1000 >= e.latencyThresholdMs) {
    e.latency.add(cmd.flags.includes('fast') ? 'fast-command' : 'command', Math.round(usec / 1000));
  }

  if (e.monitors.size > 0 && !cmd.flags.includes('skip_monitor') && !cmd.flags.includes('admin')) feedMonitors(s, redacted(s, cmd, argv));

  if (e.dirty > dirtyBefore && !s.preventPropagation && e.propagators.length > 0) {
    e.propagate(s.dbIndex, s.propagateAs ?? argv);
  }
  const extra = s.alsoPropagate as Session['alsoPropagate'];
  if (extra !== null) {
    for (const p of extra) e.propagate(p.db, p.argv, p.replicasOnly);
    s.alsoPropagate = null;
  }
}

function slowlogPush(s: Session, cmd: Command, argv: string[], usec: number): void {
  const e = s.engine;
  if (usec >= e.slowlogThreshold && e.slowlogThreshold >= 0 && !cmd.flags.includes('skip_slowlog')) {
    e.slowlog.push(
      { time: Math.floor(Date.now() / 1000), usec: Math.round(usec), argv: redacted(s, cmd, argv), addr: s.transport?.addr ?? '', name: s.name },
      e.config.num('slowlog-max-len'),
    );
  }
}

/**
 * A client blocked on keys was served: its command (the original argv, as
 * written) goes to the slowlog and the latency histogram with the time of the
 * call that blocked plus the time it took to serve it, not the time spent
 * waiting (Redis 7.0's updateStatsOnUnblock).
 */
export function servedBlockedCall(s: Session, blocked: { cmd: Command; argv: string[]; usec: number }, serveUsec: number): void {
  const { cmd, argv } = blocked;
  const usec = blocked.usec + serveUsec;
  cmd.usec += serveUsec;
  if (s.engine.latencyTracking) recordCommandLatency(cmd, usec);
  slowlogPush(s, cmd, argv, usec);
}

function quoteArg(a: string): string {
  let out = '"';
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    const ch = a[i]!;
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * MONITOR line, as redis-server writes it after the command ran (so the
 * monitoring client sees its own commands too):
 * +<unix seconds>.<microseconds> [<db> <addr>] "arg" ...
 */
function feedMonitors(s: Session, argv: string[]): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const who = s.transport === null ? 'lua' : s.transport.addr;
  let line = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')} [${s.dbIndex} ${who}]`;
  for (const a of argv) line += ' ' + quoteArg(a);
  for (const m of s.engine.monitors) m.reply.simple(line);
}

const REDACTED = '(redacted)';

/**
 * The argv SLOWLOG and MONITOR show: secrets replaced by "(redacted)" as in
 * Redis 7.0 (AUTH's arguments, HELLO's AUTH pair, MIGRATE's AUTH/AUTH2
 * credentials, values of sensitive configs in CONFIG SET, all of ACL SETUSER's).
 */
function redacted(s: Session, cmd: Command, argv: string[]): string[] {
  const name = cmd.parent ? cmd.parent.name : cmd.name;
  let out: string[] | null = null;
  const hide = (i: number) => {
    if (i >= argv.length) return;
    out ??= argv.slice();
    out[i] = REDACTED;
  };
  switch (name) {
    case 'auth':
      for (let i = 1; i < argv.length; i++) hide(i);
      break;
    case 'hello':
      for (let i = 2; i < argv.length; i++) {
        if (argv[i]!.toUpperCase() === 'AUTH') {
          hide(i + 1);
          hide(i + 2);
          i += 2;
        }
      }
      break;
    case 'migrate':
      for (let i = 6; i < argv.length; i++) {
        const t = argv[i]!.toUpperCase();
        if (t === 'KEYS') break;
        if (t === 'AUTH') hide(++i);
        else if (t === 'AUTH2') {
          hide(i + 1);
          hide(i + 2);
          i += 2;
        }
      }
      break;
    case 'acl':
      // ACL SETUSER: every argument, the user name included.
      if (cmd.name === 'setuser') for (let i = 2; i < argv.length; i++) hide(i);
      break;
    case 'config':
      if (cmd.name === 'set') for (let i = 2; i + 1 < argv.length; i += 2) if (s.engine.config.def(argv[i]!)?.sensitive) hide(i + 1);
      break;
  }
  return out ?? argv;
}

/** Is the client one that "local" accepts: loopback TCP, a unix socket, or in-process? */
export function isLocalClient(s: Session): boolean {
  const t = s.transport;
  if (t === null) return true;
  const a = t.addr;
  return a.startsWith('127.0.0.1:') || a.startsWith('::1:') || a.startsWith('/') || a.startsWith('unix:');
}

/** enable-debug-command and friends: "yes", or "local" for a local client. */
function protectedCommandAllowed(s: Session, option: string): boolean {
  const mode = s.engine.config.str(option);
  return mode === 'yes' || (mode === 'local' && isLocalClient(s));
}

/**
 * CLIENT PAUSE: must this command wait? In WRITE mode only commands that may
 * write or replicate wait (reads go on); in ALL mode every command waits.
 */
export function mustWait(s: Session, argv: string[]): boolean {
  const p = s.engine.pause;
  if (p.mode === null) return false;
  let cmd = s.engine.commands.get(argv[0]!);
  if (cmd === undefined) return false;
  if (cmd.sub !== null && argv.length > 1) cmd = cmd.sub.get(argv[1]!.toLowerCase()) ?? cmd;
  // A command the gate refuses anyway (wrong arity) gets its error at once, as in Redis.
  if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) return false;
  if (p.mode === 'all') return true;
  // Inside MULTI, writes are only queued; EXEC itself waits if the queue writes.
  if (s.multi !== null) {
    if (cmd.name !== 'exec') return false;
    return s.multi.queue.some((q) => q.cmd.isWrite || q.cmd.flags.includes('may_replicate'));
  }
  return cmd.isWrite || cmd.flags.includes('may_replicate');
}
