/**
 * Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT, SWAPDB,
 * and transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from './session.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { call } from './dispatch.js';
import { aclExecCheck } from './acl-check.js';
import { clientInfoLine } from './client-commands.js';

function ping(s: Session, argv: string[]): void {
  if (argv.length > 2) throw new CommandError(Err.wrongArgs('ping'));
  if (s.inPubSubContext) {
    // RESP2 subscribed clients get a pong as a two-element array.
    s.reply.arrayLen(2);
    s.reply.bulk('pong');
    s.reply.bulk(argv.length === 2 ? argv[1]! : '');
    return;
  }
  if (argv.length === 2) s.reply.bulk(argv[1]!);
  else s.reply.simple('PONG');
}

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

/** Authenticate as `user` (ACL registry); a failure is logged in ACL LOG. */
function authenticate(s: Session, user: string, pass: string, argv: string[]): boolean {
  return s.engine.acl.authenticate(s, user, pass, argv[0]!, () => clientInfoLine(s, { cmd: argv[0]!.toLowerCase(), argv }).trimEnd());
}

/** AUTH [username] password */
function auth(s: Session, argv: string[]): void {
  if (argv.length > 3) throw new CommandError(Err.syntax);
  const user = argv.length === 3 ? argv[1]! : 'default';
  const pass = argv[argv.length - 1]!;
  if (s.engine.acl.defaultUser.nopass && argv.length === 2) {
    throw new CommandError(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  }
  if (!authenticate(s, user, pass, argv)) throw new CommandError(WRONGPASS);
  s.reply.ok();
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]] */
function hello(s: Session, argv: string[]): void {
  let ver: number = s.resp;
  let i = 1;
  if (argv.length >= 2) {
    const v = Number.parseInt(argv[1]!, 10);
    if (!/^-?\d+$/.test(argv[1]!)) throw new CommandError('ERR Protocol version is not an integer or out of range');
    if (v < 2 || v > 3) throw new CommandError('NOPROTO unsupported protocol version');
    ver = v;
    i = 2;
  }
  let setname: string | null = null;
  for (; i < argv.length; i++) {
    const more = argv.length - i - 1;
    if (is(argv[i], 'AUTH') && more >= 2) {
      const user = argv[i + 1]!;
      const pass = argv[i + 2]!;
      if (!authenticate(s, user, pass, argv)) throw new CommandError(WRONGPASS);
      i += 2;
    } else if (is(argv[i], 'SETNAME') && more >= 1) {
      setname = argv[i + 1]!;
      i++;
    } else throw new CommandError(`ERR Syntax error in HELLO option '${argv[i]}'`);
  }
  if (!s.authenticated) throw new CommandError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  if (setname !== null) {
    validateClientName(setname);
    s.name = setname;
  }
  s.reply.resp = ver as 2 | 3;
  const r = s.reply;
  r.mapLen(7);
  r.bulk('server');
  r.bulk('redis');
  r.bulk('version');
  r.bulk(s.engine.redisVersion);
  r.bulk('proto');
  r.int(ver);
  r.bulk('id');
  r.int(s.id);
  r.bulk('mode');
  r.bulk('standalone');
  r.bulk('role');
  r.bulk(s.engine.role);
  r.bulk('modules');
  r.arrayLen(0);
}

export function validateClientName(name: string): void {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
  }
}

/** A C int argument (Redis getIntFromObjectOrReply): `notInt` for non-integers, `range` beyond 32 bits. */
function cIntArg(arg: string, notInt: string, range: string): number {
  const n = longArg(arg, notInt);
  if (n < -2147483648 || n > 2147483647) throw new CommandError(range);
  return n;
}

function select(s: Session, argv: string[]): void {
  const idx = cIntArg(argv[1]!, Err.notInteger, 'ERR value is out of range, value must between -2147483648 and 2147483647');
  if (idx < 0 || idx >= s.engine.dbs.length) throw new CommandError(Err.invalidDbIndex);
  s.select(idx);
  s.reply.ok();
}

function swapdb(s: Session, argv: string[]): void {
  const a = cIntArg(argv[1]!, 'ERR invalid first DB index', 'ERR invalid first DB index');
  const b = cIntArg(argv[2]!, 'ERR invalid second DB index', 'ERR invalid second DB index');
  const dbs = s.engine.dbs;
  if (a < 0 || a >= dbs.length || b < 0 || b >= dbs.length) throw new CommandError(Err.invalidDbIndex);
  if (a !== b) {
    s.engine.touchWatchedKeysInDb(a, dbs[b]!);
    s.engine.touchWatchedKeysInDb(b, dbs[a]!);
    dbs[a]!.swapWith(dbs[b]!);
    s.engine.dirty++;
    s.engine.onSwapDb(a, b);
    // Clients blocked on keys of either database may now find data.
    s.engine.blocking.signalDbReady(a);
    s.engine.blocking.signalDbReady(b);
  }
  s.reply.ok();
}

function quit(s: Session): void {
  s.reply.ok();
  s.transport?.close(true);
}

/** RESET: back to a fresh connection's state. */
function reset(s: Session): void {
  const e = s.engine;
  s.multi = null;
  e.unwatchAll(s);
  e.pubsub.removeAll(s);
  e.monitors.delete(s);
  s.monitor = false;
  e.tracking.disable(s);
  s.select(0);
  s.reply.resp = 2;
  s.name = '';
  s.replyMode = 'on';
  s.noEvict = false;
  s.noTouch = false;
  s.aclUser = e.acl.defaultUser;
  s.authenticated = e.acl.defaultAuthenticated();
  s.reply.simple('RESET');
}

function multi(s: Session): void {
  if (s.multi !== null) throw new CommandError('ERR MULTI calls can not be nested');
  s.multi = { queue: [], aborted: false };
  s.reply.ok();
}

function discard(s: Session): void {
  if (s.multi === null) throw new CommandError('ERR DISCARD without MULTI');
  s.multi = null;
  s.engine.unwatchAll(s);
  s.reply.ok();
}

function exec(s: Session): void {
  const m = s.multi;
  if (m === null) throw new CommandError('ERR EXEC without MULTI');
  s.multi = null;
  const e = s.engine;
  if (m.aborted) {
    e.unwatchAll(s);
    throw new CommandError('EXECABORT Transaction discarded because of previous errors.');
  }
  if (s.watchDirty || e.watchedKeyExpired(s)) {
    e.unwatchAll(s);
    s.reply.nullArray();
    return;
  }
  e.unwatchAll(s);
  s.reply.arrayLen(m.queue.length);
  s.inExec = true;
  try {
    for (const q of m.queue) {
      // ACL rules may have changed since the command was queued.
      const denied = s.aclUser.unrestricted ? null : aclExecCheck(s, q.cmd, q.argv);
      if (denied !== null) {
        e.countError('NOPERM');
        s.reply.error(denied);
      } else call(s, q.cmd, q.argv);
    }
  } finally {
    s.inExec = false;
  }
  // The queued commands were propagated individually, and EXEC is one execution unit (dispatch):
  // they go out wrapped in MULTI/EXEC when more than one. EXEC itself is not propagated.
  s.preventPropagation = true;
}

function watch(s: Session, argv: string[]): void {
  if (s.multi !== null) throw new CommandError('ERR WATCH inside MULTI is not allowed');
  for (let i = 1; i < argv.length; i++) s.engine.watch(s, s.dbIndex, argv[i]!);
  s.reply.ok();
}

function unwatch(s: Session): void {
  s.engine.unwatchAll(s);
  s.reply.ok();
}

function echo(s: Session, argv: string[]): void {
  s.reply.bulk(argv[1]!);
}

const conn = { group: 'connection' } as const;
/** ASKING, READONLY, READWRITE: cluster client modes, which a non-cluster server refuses. */
const clusterOnly = { group: 'cluster', acl: ['connection'], handler: clusterDisabled } as const;

function clusterDisabled(): void {
  throw new CommandError('ERR This instance has cluster support disabled');
}
const tx = { group: 'transactions' } as const;

export const connectionCommands: CommandSpec[] = [
  { name: 'ping', arity: -1, flags: ['fast'], ...conn, summary: 'Ping the server', since: '1.0.0', complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], handler: ping },
  { name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], ...conn, summary: 'Echo the given string', since: '1.0.0', complexity: 'O(1)', handler: echo },
  { name: 'quit', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ...conn, summary: 'Close the connection', since: '1.0.0', complexity: 'O(1)', handler: quit },
  { name: 'reset', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ...conn, summary: 'Reset the connection', since: '6.2.0', complexity: 'O(1)', handler: reset },
  { name: 'auth', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ...conn, summary: 'Authenticate to the server', since: '1.0.0', complexity: 'O(N) where N is the number of passwords defined for the user', handler: auth },
  { name: 'hello', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ...conn, summary: 'Handshake with Redis', since: '6.0.0', complexity: 'O(1)', handler: hello },
  { name: 'asking', arity: 1, flags: ['fast'], ...clusterOnly, summary: 'Sent by cluster clients after an -ASK redirect', since: '3.0.0', complexity: 'O(1)' },
  { name: 'readonly', arity: 1, flags: ['loading', 'stale', 'fast'], ...clusterOnly, summary: 'Enables read queries for a connection to a cluster replica node', since: '3.0.0', complexity: 'O(1)' },
  { name: 'readwrite', arity: 1, flags: ['loading', 'stale', 'fast'], ...clusterOnly, summary: 'Disables read queries for a connection to a cluster replica node', since: '3.0.0', complexity: 'O(1)' },
  { name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], ...conn, summary: 'Change the selected database for the current connection', since: '1.0.0', complexity: 'O(1)', handler: select },
  { name: 'swapdb', arity: 3, flags: ['write', 'fast'], group: 'server', acl: ['keyspace', 'dangerous'], summary: 'Swaps two Redis databases', since: '4.0.0', complexity: 'O(N) where N is the count of clients watching or blocking on keys from both databases.', handler: swapdb },
  { name: 'multi', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], ...tx, summary: 'Mark the start of a transaction block', since: '1.2.0', complexity: 'O(1)', handler: multi },
  { name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], ...tx, summary: 'Execute all commands issued after MULTI', since: '1.2.0', complexity: 'Depends on commands in the transaction', handler: exec },
  { name: 'discard', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], ...tx, summary: 'Discard all commands issued after MULTI', since: '2.0.0', complexity: 'O(N), when N is the number of queued commands', handler: discard },
  { name: 'watch', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], ...tx, keys: [1, -1, 1], summary: 'Watch the given keys to determine execution of the MULTI/EXEC block', since: '2.2.0', complexity: 'O(1) for every key.', handler: watch },
  { name: 'unwatch', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], ...tx, summary: 'Forget about all watched keys', since: '2.2.0', complexity: 'O(1)', handler: unwatch },
];
