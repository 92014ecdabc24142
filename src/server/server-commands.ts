/**
 * Server commands: INFO, CONFIG (GET SET RESETSTAT REWRITE HELP), DBSIZE,
 * FLUSHDB, FLUSHALL, TIME, LASTSAVE, SHUTDOWN, MONITOR, and the SLOWLOG and
 * LATENCY diagnostics (server/diagnostic-commands.ts).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session, BlockState } from './session.js';
import { CommandError, Err } from '../errors.js';
import { is } from '../commands/args.js';
import { ConfigError, ConfigSetError, type ConfigValue } from '../config/config-store.js';
import { globMatch } from '../keyspace/glob.js';
import { genInfo, allCommandObjects } from './info.js';
import { resetCommandHistogram } from './latency-histogram.js';
import { diagnosticCommands } from './diagnostic-commands.js';
import { isLocalClient } from './dispatch.js';
import { registerDebugSubcommand } from './debug-commands.js';
import { lazyfreeStats } from '../keyspace/lazyfree.js';

/** A HELP reply: one status line per element, as Redis's addReplyHelp. */
export function replyHelpLines(s: Session, lines: readonly string[]): void {
  s.reply.arrayLen(lines.length);
  for (const l of lines) s.reply.simple(l);
}

/** Current time in microseconds since the epoch. */
export function nowUsec(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Hold a client's next commands until the returned `finish` runs: for a reply
 * that needs asynchronous work (binding a port, shutdown hooks). Sessions
 * that cannot wait (inside EXEC, in-process) get `null` and must reply now.
 */
export function suspend(s: Session): ((write: () => void) => void) | null {
  if (s.transport === null || s.inExec) return null;
  // 'pause' keeps CLIENT UNBLOCK away, as for a client held by CLIENT PAUSE.
  const b: BlockState = { deadline: 0, kind: 'pause', onTimeout() {}, cancel() {} };
  s.blocked = b;
  return (write) => {
    if (s.blocked !== b) return; // the client went away
    s.blocked = null;
    write();
    s.transport?.resume();
  };
}

/** Write an error reply outside the dispatch gate (after asynchronous work), counted in errorstats. */
function lateError(s: Session, message: string): void {
  const sp = message.indexOf(' ');
  s.engine.countError(sp < 0 ? message : message.slice(0, sp));
  s.reply.error(message);
}

// ---- INFO ------------------------------------------------------------------------

function info(s: Session, argv: string[]): void {
  s.reply.verbatim(genInfo(s.engine, argv.slice(1)), 'txt');
}

// ---- CONFIG ----------------------------------------------------------------------

const GLOB_CHARS = /[*?[]/;

/** CONFIG GET pattern [pattern ...]: names as given for exact names, once each (any case). */
function configGet(s: Session, argv: string[]): void {
  const cfg = s.engine.config;
  const found = new Map<string, string>();
  for (let i = 2; i < argv.length; i++) {
    const p = argv[i]!;
    if (!GLOB_CHARS.test(p)) {
      const l = p.toLowerCase();
      if (cfg.def(l) !== undefined && !found.has(l)) found.set(l, p);
      continue;
    }
    for (const name of cfg.allNames()) if (!found.has(name) && globMatch(p, name, true)) found.set(name, name);
  }
  const r = s.reply;
  r.mapLen(found.size);
  for (const [name, shown] of found) {
    r.bulk(shown);
    r.bulk(cfg.format(name));
  }
}

function setFailed(param: string, reason: string): CommandError {
  return new CommandError(`ERR CONFIG SET failed (possibly related to argument '${param}') - ${reason}`);
}

function protectedConfigAllowed(s: Session): boolean {
  const mode = s.engine.config.str('enable-protected-configs');
  return mode === 'yes' || (mode === 'local' && isLocalClient(s));
}

/**
 * CONFIG SET name value [name value ...]: all or nothing. Names are checked
 * first (unknown, immutable, protected, repeated), then every value, then
 * all are applied. Changing port or bind re-opens the listeners; if that
 * fails every value is put back and the client gets Redis's error.
 */
const DENY_WHILE_LOADING = new Set(['appendonly', 'repl-diskless-load', 'dir']);

function configSet(s: Session, argv: string[]): void {
  if ((argv.length - 2) % 2 !== 0) throw new CommandError(Err.syntax);
  const e = s.engine;
  const cfg = e.config;
  const pairs: { name: string; raw: string }[] = [];
  const seen = new Set<string>();
  let listenChange: string | null = null;
  let denyLoading = false;
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i]!;
    const d = cfg.def(name);
    if (d === undefined) throw new CommandError(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
    if (d.immutable) throw setFailed(name, "can't set immutable config");
    if (d.protected && !protectedConfigAllowed(s)) throw setFailed(name, "can't set protected config");
    const l = name.toLowerCase();
    if (seen.has(l)) throw setFailed(name, 'duplicate parameter');
    seen.add(l);
    pairs.push({ name, raw: argv[i + 1]! });
    if (d.name === 'port' || d.name === 'bind') listenChange ??= name;
    // Redis's DENY_LOADING_CONFIG directives cannot change while a dataset loads.
    if (e.loading && DENY_WHILE_LOADING.has(d.name)) denyLoading = true;
  }
  if (denyLoading) throw new CommandError(Err.loading);
  let previous: Map<string, ConfigValue>;
  try {
    previous = cfg.setMany(pairs);
  } catch (err) {
    if (err instanceof ConfigSetError) throw setFailed(err.param, err.reason);
    throw err;
  }
  const relisten = e.relisten;
  const moved = (n: string) => previous.has(n) && previous.get(n) !== cfg.get(n);
  if (listenChange === null || relisten === null || !(moved('port') || moved('bind'))) {
    s.reply.ok();
    return;
  }
  const failure = setFailed(
    listenChange,
    cfg.def(listenChange)!.name === 'port' ? 'Unable to listen on this port. Check server logs.' : 'Failed to bind to specified addresses.',
  ).message;
  const finish = suspend(s);
  if (finish === null) s.reply.ok(); // inside EXEC: reply now, undo if binding fails
  relisten().then(
    () => finish?.(() => s.reply.ok()),
    (err: Error) => {
      e.log.warning(`CONFIG SET could not re-open the listening sockets: ${err.message}`);
      cfg.restore(previous);
      finish?.(() => lateError(s, failure));
    },
  );
}

/** CONFIG RESETSTAT: INFO stats, commandstats, errorstats and latency histograms start over (not the slowlog). */
function configResetstat(s: Session): void {
  const e = s.engine;
  const st = e.stats;
  st.connectionsReceived = 0;
  st.commandsProcessed = 0;
  st.rejectedConnections = 0;
  st.expiredKeys = 0;
  st.expiredStalePerc = 0;
  st.expiredTimeCapReachedCount = 0;
  st.expireCycleCpuMs = 0;
  st.evictedKeys = 0;
  st.evictedClients = 0;
  st.totalErrorReplies = 0;
  st.syncFull = 0;
  st.syncPartialOk = 0;
  st.syncPartialErr = 0;
  st.netInputBytes = 0;
  st.netOutputBytes = 0;
  st.readsProcessed = 0;
  st.writesProcessed = 0;
  lazyfreeStats(e).freed = 0;
  st.errors.clear();
  st.keyspace.hits = 0;
  st.keyspace.misses = 0;
  st.opsSamples.length = 0;
  st.netInputSamples.length = 0;
  st.netOutputSamples.length = 0;
  st.lastOpsSampleCount = 0;
  st.lastNetInputSample = 0;
  st.lastNetOutputSample = 0;
  for (const c of allCommandObjects(e)) {
    c.calls = 0;
    c.usec = 0;
    c.rejectedCalls = 0;
    c.failedCalls = 0;
    resetCommandHistogram(c);
  }
  s.reply.ok();
}

function configRewrite(s: Session): void {
  const cfg = s.engine.config;
  if (!cfg.configFile) throw new CommandError('ERR The server is running without a config file');
  try {
    cfg.rewrite();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    s.engine.log.warning(`CONFIG REWRITE failed: ${err.message}`);
    throw new CommandError(`ERR Rewriting config file: ${err.message}`);
  }
  s.engine.log.notice('CONFIG REWRITE executed with success.');
  s.reply.ok();
}

registerDebugSubcommand({
  name: 'CONFIG-REWRITE-FORCE-ALL',
  minArgs: 2,
  maxArgs: 2,
  help: [
    'CONFIG-REWRITE-FORCE-ALL',
    '    Like CONFIG REWRITE but writes all configuration options, including',
    '    keywords not listed in original configuration file or default values.',
  ],
  handler: (s) => {
    const cfg = s.engine.config;
    if (!cfg.configFile) throw new CommandError('ERR CONFIG-REWRITE-FORCE-ALL failed: No such file or directory');
    try {
      cfg.rewrite(true);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new CommandError(`ERR CONFIG-REWRITE-FORCE-ALL failed: ${err.message}`);
    }
    s.reply.ok();
  },
});

const CONFIG_HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
  'HELP',
  '    Prints this help.',
];

// ---- keyspace-wide commands ------------------------------------------------------------

function dbsize(s: Session): void {
  s.reply.int(s.db.size);
}

/** FLUSHDB / FLUSHALL [ASYNC|SYNC]: both modes free synchronously here. */
function checkFlushMode(argv: string[]): void {
  if (argv.length > 2 || (argv.length === 2 && !is(argv[1], 'SYNC') && !is(argv[1], 'ASYNC'))) {
    throw new CommandError(Err.syntax);
  }
}

/** Empty one database: WATCHed keys that existed are invalidated; returns the number of keys removed. */
function emptyDb(s: Session, index: number): number {
  const e = s.engine;
  const db = e.dbs[index]!;
  if (db.size === 0) return 0;
  e.touchWatchedKeysInDb(index, null);
  return db.clear();
}

function flushdb(s: Session, argv: string[]): void {
  checkFlushMode(argv);
  // Tracking clients drop their whole cache even when nothing was stored (Redis 7.0).
  if (s.engine.tracking.enabled) s.engine.tracking.flushed();
  s.engine.dirty += emptyDb(s, s.dbIndex);
  // Propagated even when the database was already empty.
  s.preventPropagation = true;
  s.propagateAlso(argv);
  s.reply.ok();
}

function flushall(s: Session, argv: string[]): void {
  checkFlushMode(argv);
  const e = s.engine;
  if (e.tracking.enabled) e.tracking.flushed();
  let removed = 0;
  for (let i = 0; i < e.dbs.length; i++) removed += emptyDb(s, i);
  e.dirty += removed;
  e.replicaKeysWithExpire.clear();
  // FLUSHALL is a change for save points even on an empty data set (counted before the hooks'
  // save: with save points Redis 7.0 reports 0 changes since the save afterwards).
  e.dirty++;
  for (const h of e.flushAllHooks) h();
  s.preventPropagation = true;
  s.propagateAlso(argv);
  s.reply.ok();
}

function time(s: Session): void {
  const us = nowUsec();
  s.reply.arrayLen(2);
  s.reply.bulk(String(Math.floor(us / 1e6)));
  s.reply.bulk(String(us % 1e6));
}

function lastsave(s: Session): void {
  s.reply.int(s.engine.lastSave);
}

// ---- SHUTDOWN ----------------------------------------------------------------------------

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. The listeners close, the
 * shutdown hooks run (persistence: save unless NOSAVE, or SAVE even without
 * save points), then `engine.onShutdown` (the CLI exits the process). The
 * client gets no reply when the shutdown succeeds; if a hook fails (and not
 * FORCE) the server keeps running and the client gets Redis's error.
 * There are no replicas to wait for, so NOW changes nothing and ABORT always
 * finds no shutdown in progress.
 */
function shutdown(s: Session, argv: string[]): void {
  let nosave = false;
  let save = false;
  let force = false;
  let abort = false;
  let now = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (is(a, 'NOSAVE')) nosave = true;
    else if (is(a, 'SAVE')) save = true;
    else if (is(a, 'NOW')) now = true;
    else if (is(a, 'FORCE')) force = true;
    else if (is(a, 'ABORT')) abort = true;
    else throw new CommandError(Err.syntax);
  }
  if ((abort && (nosave || save || now || force)) || (nosave && save)) throw new CommandError(Err.syntax);
  if (abort) throw new CommandError('ERR No shutdown in progress.');
  const e = s.engine;
  // A busy script (its writes not over) lets only SHUTDOWN NOSAVE stop the server.
  if (!nosave && e.busyScript !== null) throw new CommandError(e.busyScript.error);
  e.log.warning('User requested shutdown...');
  const opts = { save: nosave ? false : save ? true : undefined, force };
  const close =
    e.closeServer ??
    (async (o: { save?: boolean; force?: boolean }) => {
      for (const h of e.shutdownHooks) await h({ save: o.save ?? null });
      e.stop();
    });
  const finish = suspend(s);
  close(opts).then(
    () => {
      e.log.warning('cacheside is now ready to exit, bye bye...');
      e.onShutdown?.();
    },
    (err: Error) => {
      e.log.warning(`Errors trying to shut down the server: ${err.message}`);
      const write = () => lateError(s, 'ERR Errors trying to SHUTDOWN. Check logs.');
      if (finish !== null) finish(write);
      else write();
    },
  );
}

// ---- MONITOR -----------------------------------------------------------------------------

function monitor(s: Session): void {
  if (s.inExec) throw new CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client");
  // Already monitoring: Redis ignores the command without a reply.
  if (s.monitor) return;
  s.monitor = true;
  s.engine.monitors.add(s);
  s.reply.ok();
}

// ---- table -------------------------------------------------------------------------------

const srv = { group: 'server' } as const;
const adm = ['admin', 'noscript', 'loading', 'stale'] as const;

export const serverCommands: CommandSpec[] = [
  {
    name: 'info',
    arity: -1,
    flags: ['loading', 'stale'],
    ...srv,
    acl: ['dangerous'],
    tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
    summary: 'Get information and statistics about the server',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: info,
  },
  {
    name: 'config',
    arity: -2,
    flags: [],
    ...srv,
    summary: 'A container for server configuration commands',
    since: '2.0.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'get', arity: -3, flags: adm, ...srv, summary: 'Get the values of configuration parameters', since: '2.0.0', complexity: 'O(N) when N is the number of configuration parameters provided', handler: configGet },
      { name: 'resetstat', arity: 2, flags: adm, ...srv, summary: 'Reset the stats returned by INFO', since: '2.0.0', complexity: 'O(1)', handler: configResetstat },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...srv, summary: 'Show helpful text about the different subcommands', since: '5.0.0', complexity: 'O(1)', handler: (s) => replyHelpLines(s, CONFIG_HELP) },
      { name: 'rewrite', arity: 2, flags: adm, ...srv, summary: 'Rewrite the configuration file with the in memory configuration', since: '2.8.0', complexity: 'O(1)', handler: configRewrite },
      { name: 'set', arity: -4, flags: adm, ...srv, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], summary: 'Set configuration parameters to the given values', since: '2.0.0', complexity: 'O(N) when N is the number of configuration parameters provided', handler: configSet },
    ],
  },
  {
    name: 'dbsize',
    arity: 1,
    flags: ['readonly', 'fast'],
    ...srv,
    acl: ['keyspace'],
    tips: ['request_policy:all_shards', 'response_policy:agg_sum'],
    summary: 'Return the number of keys in the selected database',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: dbsize,
  },
  {
    name: 'flushdb',
    arity: -1,
    flags: ['write'],
    ...srv,
    acl: ['keyspace', 'dangerous'],
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
    summary: 'Remove all keys from the current database',
    since: '1.0.0',
    complexity: 'O(N) where N is the number of keys in the selected database',
    handler: flushdb,
  },
  {
    name: 'flushall',
    arity: -1,
    flags: ['write'],
    ...srv,
    acl: ['keyspace', 'dangerous'],
    tips: ['request_policy:all_shards', 'response_policy:all_succeeded'],
    summary: 'Remove all keys from all databases',
    since: '1.0.0',
    complexity: 'O(N) where N is the total number of keys in all databases',
    handler: flushall,
  },
  {
    name: 'time',
    arity: 1,
    flags: ['loading', 'stale', 'fast'],
    ...srv,
    tips: ['nondeterministic_output'],
    summary: 'Return the current server time',
    since: '2.6.0',
    complexity: 'O(1)',
    handler: time,
  },
  {
    name: 'lastsave',
    arity: 1,
    flags: ['loading', 'stale', 'fast'],
    ...srv,
    acl: ['admin', 'dangerous'],
    tips: ['nondeterministic_output'],
    summary: 'Get the UNIX time stamp of the last successful save to disk',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: lastsave,
  },
  {
    name: 'shutdown',
    arity: -1,
    flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
    ...srv,
    summary: 'Synchronously save the dataset to disk and then shut down the server',
    since: '1.0.0',
    complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)',
    handler: shutdown,
  },
  {
    name: 'monitor',
    arity: 1,
    flags: adm,
    ...srv,
    summary: 'Listen for all requests received by the server in real time',
    since: '1.0.0',
    handler: monitor,
  },
  ...diagnosticCommands,
];

