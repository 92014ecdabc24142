/**
 * Running EVAL scripts: one Lua state per engine (created on first use,
 * dropped by SCRIPT FLUSH), the script cache by SHA1 of the body, the
 * `redis` library (call, pcall, error_reply, status_reply, sha1hex, log,
 * setresp, ...), and the error texts Redis 7.0 gives.
 *
 * redis.call runs commands through `call()` (server/dispatch.ts) on the
 * engine's script client: an in-process session (transport null, so MONITOR
 * shows "lua") whose database is the caller's at the start of every script
 * (SELECT inside a script does not leak out). Commands that the script runs
 * propagate as themselves; the EVAL, one execution unit of the dispatch
 * gate, is not propagated, so the AOF and replicas get the script's effects
 * wrapped in MULTI/EXEC when there are several (Redis 7.0's effects
 * replication).
 */
import { ACL_OK, aclScriptCheck, checkCommand } from '../server/acl-check.js';
import { createHash } from 'node:crypto';
// The module binding, not the global (see server/dispatch.ts).
import { performance } from 'node:perf_hooks';
import type { Engine } from '../server/engine.js';
import { Session } from '../server/session.js';
import { call, memoryGate, writeGate } from '../server/dispatch.js';
import { CommandError, Err } from '../errors.js';
import { formatDouble17g } from '../numbers/format.js';
import { lua, newLuaState, compileScript, setGlobalArray, pushString, getString, toLuaBytes, fromLuaBytes, type LuaState } from './lua-vm.js';
import { CollectReply, pushReply, writeLuaValue } from './lua-convert.js';
import { evalScriptsMemory, evalVmMemory } from './script-memory.js';
import { startBusy } from './script-busy.js';
import { configCache } from '../commands/config-cache.js';
import type { Reply } from '../protocol/reply.js';

export function sha1hex(body: string): string {
  return createHash('sha1').update(Buffer.from(body, 'latin1')).digest('hex');
}

/** What one running script may do, and its clock for busy-reply-threshold. */
export interface Run {
  caller: Session;
  /** The script's sha (EVAL) or the function's name (FCALL). */
  sha: string;
  /** The caller's command (FUNCTION STATS shows it while the script is busy). */
  argv: string[];
  readOnly: boolean;
  /** Over maxmemory when the script started: denyoom commands are refused inside it. */
  oom: boolean;
  /** A write command ran: SCRIPT KILL / FUNCTION KILL answer UNKILLABLE. */
  wrote: boolean;
  /** performance.now() at the start (0 when busy-reply-threshold is 0: the script never gets busy). */
  start: number;
  threshold: number;
  /** May the script be suspended once busy (a top-level EVAL/FCALL of a network client)? */
  yieldable: boolean;
  /** Past the threshold and suspended at least once (script-busy.ts): runs in slices ending at `sliceEnd`. */
  busy: boolean;
  sliceEnd: number;
  /** SCRIPT KILL / FUNCTION KILL asked for its end; the kill error was raised. */
  killed: boolean;
  killRaised: boolean;
  /** "Slow script detected" was logged. */
  logged: boolean;
}

/** Instructions between two looks at the clock (Redis: 100000 of its much faster VM). */
const HOOK_COUNT = 1000;
const THREAD_KEY = toLuaBytes('__script_thread');

export interface ScriptFlags {
  noWrites: boolean;
  allowOom: boolean;
  /** The script had a shebang (#!lua): not in the EVAL compatibility mode. */
  shebang: boolean;
}

export class ScriptContext {
  readonly L: LuaState;
  /** sha → body, in load order. */
  readonly scripts = new Map<string, { body: string; flags: ScriptFlags }>();
  readonly collect = new CollectReply();
  readonly client: Session;
  /** Protocol of the replies redis.call gives the script (redis.setresp). */
  resp: 2 | 3 = 2;
  run: Run | null = null;
  /** The thread scripts run in (reused while they end normally), and whether it has the count hook. */
  private co: LuaState | null = null;
  private coHook = false;

  /** `chunkName`: the Lua chunk name of user code (error positions): '@user_script', or '@user_function' for FUNCTION libraries. */
  constructor(
    readonly engine: Engine,
    readonly chunkName = '@user_script',
  ) {
    this.client = new Session(engine, this.collect, null);
    this.client.authenticated = true;
    // The script client is no client of CLIENT LIST / INFO clients.
    engine.unregisterSession(this.client);
    this.L = newLuaState((L) => this.addRedisLib(L));
  }

  private addRedisLib(L: LuaState): void {
    lua.lua_createtable(L, 0, 24);
    const fn = (name: string, f: (L: LuaState) => number): void => {
      lua.lua_pushjsfunction(L, f);
      lua.lua_setfield(L, -2, toLuaBytes(name));
    };
    const num = (name: string, v: number): void => {
      lua.lua_pushinteger(L, v);
      lua.lua_setfield(L, -2, toLuaBytes(name));
    };
    fn('call', (l) => this.redisCall(l, true));
    fn('pcall', (l) => this.redisCall(l, false));
    fn('error_reply', (l) => replyTable(l, 'err'));
    fn('status_reply', (l) => replyTable(l, 'ok'));
    fn('sha1hex', (l) => {
      if (lua.lua_gettop(l) !== 1) return raise(l, 'ERR wrong number of arguments');
      const s = getString(l, 1) ?? '';
      pushString(l, sha1hex(s));
      return 1;
    });
    fn('log', (l) => this.redisLog(l));
    fn('acl_check_cmd', (l) => this.aclCheckCmd(l));
    fn('setresp', (l) => {
      if (lua.lua_gettop(l) !== 1) return raise(l, 'ERR redis.setresp() requires one argument.');
      const v = lua.lua_tonumber(l, 1);
      if (v !== 2 && v !== 3) return raise(l, 'ERR RESP version must be 2 or 3.');
      this.resp = v;
      return 0;
    });
    fn('replicate_commands', (l) => {
      lua.lua_pushboolean(l, true);
      return 1;
    });
    fn('set_repl', () => 0);
    fn('breakpoint', (l) => {
      lua.lua_pushboolean(l, false);
      return 1;
    });
    fn('debug', () => 0);
    num('LOG_DEBUG', 0);
    num('LOG_VERBOSE', 1);
    num('LOG_NOTICE', 2);
    num('LOG_WARNING', 3);
    num('REPL_NONE', 0);
    num('REPL_AOF', 1);
    num('REPL_SLAVE', 2);
    num('REPL_REPLICA', 2);
    num('REPL_ALL', 3);
    pushString(L, this.engine.redisVersion);
    lua.lua_setfield(L, -2, toLuaBytes('REDIS_VERSION'));
    const [major = 0, minor = 0, patch = 0] = this.engine.redisVersion.split('.').map(Number);
    num('REDIS_VERSION_NUM', (major << 16) | (minor << 8) | patch);
    lua.lua_setglobal(L, toLuaBytes('redis'));
  }

  private redisLog(L: LuaState): number {
    const n = lua.lua_gettop(L);
    if (n < 2) return raise(L, 'ERR redis.log() requires two arguments or more.');
    if (!lua.lua_isnumber(L, 1)) return raise(L, 'ERR First argument must be a number (log level).');
    const level = lua.lua_tonumber(L, 1) as number;
    if (level < 0 || level > 3) return raise(L, 'ERR Invalid debug level.');
    let msg = '';
    for (let i = 2; i <= n; i++) {
      const s = getString(L, i);
      if (s !== null) msg += (i > 2 ? ' ' : '') + s;
    }
    const log = this.engine.log;
    if (level === 3) log.warning(msg);
    else if (level === 2) log.notice(msg);
    else if (level === 1) log.verbose(msg);
    else log.debug(msg);
    return 0;
  }

  /** The arguments of a redis lib call as a command line, or the error to raise. */
  private argvOf(L: LuaState): string[] | string {
    const n = lua.lua_gettop(L);
    if (n === 0) return 'ERR Please specify at least one argument for this redis lib call';
    const argv: string[] = new Array<string>(n);
    for (let i = 1; i <= n; i++) {
      const t = lua.lua_type(L, i);
      if (t === lua.LUA_TSTRING) argv[i - 1] = getString(L, i)!;
      else if (t === lua.LUA_TNUMBER) argv[i - 1] = formatDouble17g(lua.lua_tonumber(L, i) as number);
      else return 'ERR Lua redis lib command arguments must be strings or integers';
    }
    return argv;
  }

  /** redis.acl_check_cmd(command, args...): may the script's user run this command line? */
  private aclCheckCmd(L: LuaState): number {
    const run = this.run;
    if (run === null) return raise(L, 'ERR redis.acl_check_cmd can only be called inside a script invocation');
    const argv = this.argvOf(L);
    if (typeof argv === 'string') return raise(L, argv);
    let cmd = this.engine.commands.get(argv[0]!);
    if (cmd !== undefined && cmd.sub !== null && argv.length > 1) cmd = cmd.sub.get(argv[1]!.toLowerCase());
    if (cmd === undefined) return raise(L, 'ERR Invalid command passed to redis.acl_check_cmd()');
    const u = run.caller.aclUser;
    lua.lua_pushboolean(L, u.unrestricted || checkCommand(u, cmd, argv).reason === ACL_OK);
    return 1;
  }

  /** redis.call (raise=true) and redis.pcall (raise=false). */
  private redisCall(L: LuaState, raise_: boolean): number {
    const fail = (msg: string): number => {
      lua.lua_createtable(L, 0, 1);
      pushString(L, msg);
      lua.lua_setfield(L, -2, toLuaBytes('err'));
      if (raise_) lua.lua_error(L);
      return 1;
    };
    const run = this.run;
    if (run === null) return fail('ERR redis.call() can only be called inside a script invocation');
    const argv = this.argvOf(L);
    if (typeof argv === 'string') return fail(argv);
    const e = this.engine;
    let cmd = e.commands.get(argv[0]!);
    if (cmd === undefined) return fail('ERR Unknown Redis command called from script');
    if (cmd.sub !== null && (argv.length > 1 || cmd.handler === undefined)) {
      if (argv.length === 1) return fail('ERR Wrong number of args calling Redis command from script');
      const sub = cmd.sub.get(argv[1]!.toLowerCase());
      if (sub === undefined) return fail('ERR Unknown Redis command called from script');
      cmd = sub;
    }
    if ((cmd.arity > 0 && argv.length !== cmd.arity) || argv.length < -cmd.arity) {
      return fail('ERR Wrong number of args calling Redis command from script');
    }
    if ((cmd.flags.includes('noscript') || (cmd.parent !== null && cmd.parent.flags.includes('noscript'))) && !noscriptAllowed.has(e)) {
      return fail('ERR This Redis command is not allowed from script');
    }
    // ACL: the command runs under the caller's user (Redis checks it right after the noscript flag).
    const denied = aclScriptCheck(run.caller, this.client, cmd, argv);
    if (denied !== null) return fail(denied);
    if (cmd.isWrite) {
      if (run.readOnly) return fail('ERR Write commands are not allowed from read-only scripts.');
      if (writeGate.misconf !== null) return fail(writeGate.misconf);
      if (writeGate.readonlyReplica && e.role === 'slave' && !run.caller.obeyClient) return fail(Err.readonly);
      // min-replicas-to-write not met: refused unless the script already wrote (it cannot stop halfway).
      if (!run.wrote && writeGate.notEnoughReplicas?.(run.caller) === true) return fail(Err.noReplicas);
    }
    if (run.oom && cmd.denyOom) return fail(Err.oom);
    if (cmd.isWrite) run.wrote = true;
    const c = this.collect;
    c.reset(this.resp);
    call(this.client, cmd, argv);
    const reply = c.result ?? { t: 'null' as const };
    c.reset(this.resp);
    if (reply.t === 'error' && raise_) return fail(reply.v);
    lua.lua_checkstack(L, 8);
    pushReply(L, reply, this.resp);
    return 1;
  }

  /** The line of the innermost frame of user code in a thread that died of an error (its stack is left as it was). */
  errorLine(co: LuaState): number {
    const ar = new lua.lua_Debug();
    for (let level = 0; lua.lua_getstack(co, level, ar); level++) {
      lua.lua_getinfo(co, toLuaBytes('Sl'), ar);
      if (ar.currentline > 0 && ar.source !== null && fromLuaBytes(ar.source) === this.chunkName) return ar.currentline;
    }
    return 0;
  }

  /**
   * The thread to run a script in: a coroutine, so that a busy script can be
   * suspended (script-busy.ts). One that ended normally is reused; one that
   * died of an error (or is suspended) is replaced. `hook`: with the count
   * hook that watches busy-reply-threshold.
   */
  thread(hook: boolean): LuaState {
    let co = this.co;
    if (co === null || lua.lua_status(co) !== lua.LUA_OK) {
      co = this.co = lua.lua_newthread(this.L);
      lua.lua_setfield(this.L, lua.LUA_REGISTRYINDEX, THREAD_KEY);
      this.coHook = false;
    }
    if (hook !== this.coHook) {
      if (hook) lua.lua_sethook(co, this.hook, lua.LUA_MASKCOUNT, HOOK_COUNT);
      else lua.lua_sethook(co, null, 0, 0);
      this.coHook = hook;
    }
    return co;
  }

  /**
   * The count hook (also inherited by coroutines the script creates): past
   * busy-reply-threshold the script is suspended (yields to runLua, which
   * makes it busy) if it may be, then yields again at the end of each slice;
   * once killed it raises the kill error on every line, so that a pcall in
   * the script cannot keep it alive.
   */
  private readonly hook = (L: LuaState): void => {
    const run = this.run;
    if (run === null || run.start === 0) return;
    if (run.killed) {
      lua.lua_sethook(L, this.hook, lua.LUA_MASKLINE, 0);
      if (this.co !== null && this.co !== L) lua.lua_sethook(this.co, this.hook, lua.LUA_MASKLINE, 0);
      // The thread is not reused (its hook is the line hook now).
      this.co = null;
      if (!run.killRaised) this.engine.log.warning('Lua script killed by user with SCRIPT KILL.');
      run.killRaised = true;
      raise(L, 'ERR Script killed by user with SCRIPT KILL...');
      return;
    }
    const t = performance.now();
    if (!run.busy) {
      if (t - run.start < run.threshold) return;
      if (!run.logged) {
        run.logged = true;
        this.engine.log.warning(
          `Slow script detected: still in execution after ${Math.floor(t - run.start)} milliseconds. You can try killing the script using the ${this.chunkName === '@user_script' ? 'SCRIPT KILL' : 'FUNCTION KILL'} command. Script name is: ${run.sha}.`,
        );
      }
      // Not from a nested coroutine (that would resume the script, not us), nor across a JS call (table.sort...).
      if (run.yieldable && L === this.co && lua.lua_isyieldable(L)) lua.lua_yield(L, 0);
    } else if (t >= run.sliceEnd && L === this.co && lua.lua_isyieldable(L)) lua.lua_yield(L, 0);
  };

  /**
   * A script's thread stopped (status of lua_resume, not a yield): write its
   * result (the first value it returned) or its error to `reply`.
   */
  finishRun(co: LuaState, status: number, name: string, reply: Reply): void {
    try {
      if (status !== lua.LUA_OK) {
        // A dead thread has no stack room left above its error value.
        lua.lua_checkstack(co, 8);
        reply.error(scriptError(co, ` script: ${name}, on ${this.chunkName}:${this.errorLine(co)}.`));
      } else {
        lua.lua_settop(co, 1);
        writeLuaValue(co, reply, this.resp);
      }
    } finally {
      if (status === lua.LUA_OK) lua.lua_settop(co, 0);
      this.resp = 2;
    }
  }
}

/** Raise {err=msg} from a library function. */
export function raise(L: LuaState, msg: string): number {
  lua.lua_createtable(L, 0, 1);
  pushString(L, msg);
  lua.lua_setfield(L, -2, toLuaBytes('err'));
  return lua.lua_error(L) as number;
}

/** redis.error_reply / redis.status_reply. */
function replyTable(L: LuaState, field: 'err' | 'ok'): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) {
    // Returned as an error reply table (not raised): the script goes on.
    lua.lua_createtable(L, 0, 1);
    pushString(L, 'ERR wrong number or type of arguments');
    lua.lua_setfield(L, -2, toLuaBytes('err'));
    return 1;
  }
  let s = getString(L, 1)!;
  if (field === 'err') {
    if (s.startsWith('-')) s = s.slice(1);
    if (!s.includes(' ')) s = 'ERR ' + s;
  }
  lua.lua_createtable(L, 0, 1);
  pushString(L, s);
  lua.lua_setfield(L, -2, toLuaBytes(field));
  return 1;
}

/** Engines where DEBUG SET-DISABLE-DENY-SCRIPTS 1 lets scripts run commands flagged noscript (for tests). */
const noscriptAllowed = new WeakSet<Engine>();

export function setDenyScriptsDisabled(e: Engine, disabled: boolean): void {
  if (disabled) noscriptAllowed.add(e);
  else noscriptAllowed.delete(e);
}

const contexts = new WeakMap<Engine, ScriptContext>();

function context(e: Engine): ScriptContext {
  let c = contexts.get(e);
  if (c === undefined) {
    c = new ScriptContext(e);
    contexts.set(e, c);
  }
  return c;
}

/** SCRIPT FLUSH: forget every script and start a new Lua state. */
export function flushScripts(e: Engine): void {
  contexts.delete(e);
}

export function scriptExists(e: Engine, sha: string): boolean {
  return contexts.get(e)?.scripts.has(sha.toLowerCase()) ?? false;
}

/** INFO memory's EVAL fields: the Lua VM (estimate), the script cache's bytes and its size. */
export function evalMemoryInfo(e: Engine): { vm: number; scripts: number; count: number } {
  const lengths = [...(contexts.get(e)?.scripts.values() ?? [])].map((x) => x.body.length);
  return { vm: evalVmMemory(lengths), scripts: evalScriptsMemory(lengths), count: lengths.length };
}

/** The shebang's flags (`#!lua flags=no-writes,allow-oom`), with Redis's errors. */
function parseShebang(body: string): ScriptFlags {
  const flags: ScriptFlags = { noWrites: false, allowOom: false, shebang: false };
  if (!body.startsWith('#!')) return flags;
  flags.shebang = true;
  const eol = body.indexOf('\n');
  if (eol < 0) throw new CommandError('ERR Invalid script shebang');
  const line = body.slice(0, eol);
  const parts = line.split(' ').filter((p) => p !== '');
  if (parts[0] !== '#!lua') throw new CommandError(`ERR Unexpected engine in script shebang: ${parts[0]}`);
  for (const p of parts.slice(1)) {
    if (!p.startsWith('flags=')) throw new CommandError(`ERR Unknown lua shebang option: ${p}`);
    for (const f of p.slice(6).split(',')) {
      if (f === 'no-writes') flags.noWrites = true;
      else if (f === 'allow-oom') flags.allowOom = true;
      else if (f === 'allow-stale' || f === 'no-cluster' || f === 'allow-cross-slot-keys' || f === '') continue;
      else throw new CommandError(`ERR Unexpected flag in script shebang: ${f}`);
    }
  }
  return flags;
}

/** Compile and cache a script body; returns its sha. Compile errors throw Redis's error. */
export function loadScript(e: Engine, body: string): string {
  const ctx = context(e);
  const sha = sha1hex(body);
  if (ctx.scripts.has(sha)) return sha;
  const flags = parseShebang(body);
  // The shebang line is blanked, not removed, so line numbers stay those of the body.
  const code = flags.shebang ? body.replace(/^[^\n]*/, '') : body;
  const err = compileScript(ctx.L, 'f_' + sha, code);
  if (err !== null) throw new CommandError(`ERR Error compiling script (new function): ${err}`);
  ctx.scripts.set(sha, { body, flags });
  return sha;
}

/**
 * Run a cached script for `s`: KEYS = argv[3 .. 3+numkeys), ARGV = the rest.
 * Writes the script's reply (or error) to the caller.
 */
export function runScript(s: Session, sha: string, argv: string[], numkeys: number, readOnlyCommand: boolean): void {
  const e = s.engine;
  const ctx = context(e);
  const script = ctx.scripts.get(sha);
  if (script === undefined) throw new CommandError('NOSCRIPT No matching script. Please use EVAL.');
  runLua(ctx, s, { push: (L) => lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, toLuaBytes('f_' + sha)), name: sha, flags: script.flags, keysAsArgs: false }, argv, numkeys, readOnlyCommand);
}

/** One Lua function to run for a client: an EVAL script, or a FUNCTION library's function. */
export interface LuaCall {
  /** Pushes the Lua function onto the stack. */
  push: (L: LuaState) => void;
  /** Its name in error replies: the script's sha, or the function's name. */
  name: string;
  flags: ScriptFlags;
  /** Functions get KEYS and ARGV as their two arguments; EVAL scripts as globals. */
  keysAsArgs: boolean;
}

function pushStringArray(L: LuaState, items: readonly string[], from: number, to: number): void {
  lua.lua_createtable(L, to - from, 0);
  for (let i = from; i < to; i++) {
    pushString(L, items[i]!);
    lua.lua_rawseti(L, -2, i - from + 1);
  }
}

/** busy-reply-threshold, read on every script run. */
const busyLimits = configCache({ threshold: 'busy-reply-threshold' });

/**
 * Run `c` in `ctx` for `s`: keys = argv[3 .. 3+numkeys), args = the rest.
 * Writes the reply (or the error) to the caller, or, when the script got
 * busy (ran past busy-reply-threshold), leaves it suspended with the caller
 * blocked: script-busy.ts runs it to its end and replies then.
 */
export function runLua(ctx: ScriptContext, s: Session, c: LuaCall, argv: string[], numkeys: number, readOnlyCommand: boolean): void {
  const { flags } = c;
  if (readOnlyCommand && flags.shebang && !flags.noWrites) {
    throw new CommandError('ERR Can not execute a script with write flag using *_ro command.');
  }
  // A script that may write (flags without no-writes) is refused up front when min-replicas-to-write is not met.
  if (flags.shebang && !flags.noWrites && writeGate.notEnoughReplicas?.(s) === true) throw new CommandError(Err.noReplicas);
  const overLimit = memoryGate.enabled && !memoryGate.freeMemoryIfNeeded(s);
  if (flags.shebang && !flags.noWrites && !flags.allowOom && overLimit) throw new CommandError(Err.oom);
  // A script calling EVAL/FCALL of its own engine (only with DEBUG SET-DISABLE-DENY-SCRIPTS; Redis asserts there).
  if (ctx.run !== null) throw new CommandError('ERR a script cannot run a script of the same engine');
  const L = ctx.L;
  const e = s.engine;
  if (!c.keysAsArgs) {
    setGlobalArray(L, 'KEYS', argv, 3, 3 + numkeys);
    setGlobalArray(L, 'ARGV', argv, 3 + numkeys, argv.length);
  }
  ctx.client.select(s.dbIndex);
  ctx.resp = 2;
  const threshold = busyLimits(e.config).threshold;
  const run: Run = {
    caller: s,
    sha: c.name,
    argv,
    readOnly: readOnlyCommand || flags.noWrites,
    oom: overLimit && !flags.allowOom,
    wrote: false,
    start: threshold > 0 ? performance.now() : 0,
    threshold,
    // Only a network client's own command can wait for its reply while others are served: not inside
    // EXEC, not the master's stream or an AOF being loaded, not an in-process (sidecar) session.
    yieldable: threshold > 0 && s.transport !== null && !s.inExec && !s.obeyClient && !e.loading,
    busy: false,
    sliceEnd: 0,
    killed: false,
    killRaised: false,
    logged: false,
  };
  const co = ctx.thread(threshold > 0);
  c.push(co);
  if (c.keysAsArgs) {
    pushStringArray(co, argv, 3, 3 + numkeys);
    pushStringArray(co, argv, 3 + numkeys, argv.length);
  }
  ctx.run = run;
  let status: number;
  try {
    status = lua.lua_resume(co, L, c.keysAsArgs ? 2 : 0);
  } finally {
    ctx.run = null;
  }
  if (status === lua.LUA_YIELD) return startBusy(ctx, co, run);
  ctx.finishRun(co, status, c.name, s.reply);
  // The commands the script ran were propagated themselves (the EVAL is one execution unit).
  s.preventPropagation = true;
}

/** The error reply for a script that raised `value` (at the top of the stack). */
function scriptError(L: LuaState, where: string): string {
  const t = lua.lua_type(L, -1);
  if (t === lua.LUA_TTABLE) {
    // A raw read: a table with an __index that raises must not raise again here.
    pushString(L, 'err');
    lua.lua_rawget(L, -2);
    const err = lua.lua_type(L, -1) === lua.LUA_TSTRING ? getString(L, -1) : null;
    lua.lua_pop(L, 1);
    if (err !== null) return oneLine(err) + where;
    return 'ERR unknown error' + where;
  }
  if (t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER) return 'ERR ' + oneLine(lua51Message(getString(L, -1)!)) + where;
  if (t === lua.LUA_TNIL) return 'ERR nil' + where;
  if (t === lua.LUA_TBOOLEAN) return `ERR ${lua.lua_toboolean(L, -1) ? 'true' : 'false'}` + where;
  const b = lua.luaL_tolstring?.(L, -1) as Uint8Array | undefined;
  return 'ERR ' + (b ? fromLuaBytes(b) : 'unknown error') + where;
}

/**
 * Lua 5.3's runtime error texts in Lua 5.1's words: "attempt to call a nil
 * value (field 'x')" → "attempt to call field 'x' (a nil value)"; 5.1 does
 * not name constants.
 */
export function lua51Message(msg: string): string {
  return msg
    .replace(/attempt to (.+?) an? (\w+) value \((field|local|global|upvalue|method) '([^']*)'\)/, "attempt to $1 $3 '$4' (a $2 value)")
    .replace(/ \(constant '[^']*'\)/, '');
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}
