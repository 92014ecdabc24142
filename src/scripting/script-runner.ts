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
import { aclScriptCheck } from '../server/acl-check.js';
import { createHash } from 'node:crypto';
import type { Engine } from '../server/engine.js';
import { Session } from '../server/session.js';
import { call, memoryGate, writeGate } from '../server/dispatch.js';
import { CommandError, Err } from '../errors.js';
import { formatDouble17g } from '../numbers/format.js';
import { lua, newLuaState, compileScript, setGlobalArray, pushString, getString, toLuaBytes, fromLuaBytes, type LuaState } from './lua-vm.js';
import { CollectReply, pushReply, writeLuaValue } from './lua-convert.js';
import { evalScriptsMemory, evalVmMemory } from './script-memory.js';

export function sha1hex(body: string): string {
  return createHash('sha1').update(Buffer.from(body, 'latin1')).digest('hex');
}

/** What one running script may do. */
interface Run {
  caller: Session;
  /** The script's sha (EVAL) or the function's name (FCALL). */
  sha: string;
  readOnly: boolean;
  /** Over maxmemory when the script started: denyoom commands are refused inside it. */
  oom: boolean;
}

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
  /** Line of the innermost Lua frame when the last error was raised. */
  errorLine = 0;

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
    const n = lua.lua_gettop(L);
    if (n === 0) return fail('ERR Please specify at least one argument for this redis lib call');
    const argv: string[] = new Array<string>(n);
    for (let i = 1; i <= n; i++) {
      const t = lua.lua_type(L, i);
      if (t === lua.LUA_TSTRING) argv[i - 1] = getString(L, i)!;
      else if (t === lua.LUA_TNUMBER) argv[i - 1] = formatDouble17g(lua.lua_tonumber(L, i) as number);
      else return fail('ERR Lua redis lib command arguments must be strings or integers');
    }
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
    if (cmd.flags.includes('noscript') || (cmd.parent !== null && cmd.parent.flags.includes('noscript'))) {
      return fail('ERR This Redis command is not allowed from script');
    }
    // ACL: the command runs under the caller's user (Redis checks it right after the noscript flag).
    const denied = aclScriptCheck(run.caller, this.client, cmd, argv);
    if (denied !== null) return fail(denied);
    if (cmd.isWrite) {
      if (run.readOnly) return fail('ERR Write commands are not allowed from read-only scripts.');
      if (writeGate.misconf !== null) return fail(writeGate.misconf);
      if (writeGate.readonlyReplica && e.role === 'slave' && !run.caller.obeyClient) return fail(Err.readonly);
    }
    if (run.oom && cmd.denyOom) return fail(Err.oom);
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

  /** The message handler of a script's pcall: notes the line of the innermost Lua frame. */
  readonly msgh = (L: LuaState): number => {
    const ar = new lua.lua_Debug();
    this.errorLine = 0;
    for (let level = 1; lua.lua_getstack(L, level, ar); level++) {
      lua.lua_getinfo(L, toLuaBytes('Sl'), ar);
      if (ar.currentline > 0 && ar.source !== null && fromLuaBytes(ar.source) === this.chunkName) {
        this.errorLine = ar.currentline;
        break;
      }
    }
    return 1;
  };
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

/**
 * Run `c` in `ctx` for `s`: keys = argv[3 .. 3+numkeys), args = the rest.
 * Writes the reply (or the error) to the caller.
 */
export function runLua(ctx: ScriptContext, s: Session, c: LuaCall, argv: string[], numkeys: number, readOnlyCommand: boolean): void {
  const { flags } = c;
  if (readOnlyCommand && flags.shebang && !flags.noWrites) {
    throw new CommandError('ERR Can not execute a script with write flag using *_ro command.');
  }
  const overLimit = memoryGate.enabled && !memoryGate.freeMemoryIfNeeded(s);
  if (flags.shebang && !flags.noWrites && !flags.allowOom && overLimit) throw new CommandError(Err.oom);
  const L = ctx.L;
  if (!c.keysAsArgs) {
    setGlobalArray(L, 'KEYS', argv, 3, 3 + numkeys);
    setGlobalArray(L, 'ARGV', argv, 3 + numkeys, argv.length);
  }
  ctx.client.select(s.dbIndex);
  ctx.resp = 2;
  ctx.run = { caller: s, sha: c.name, readOnly: readOnlyCommand || flags.noWrites, oom: overLimit && !flags.allowOom };
  lua.lua_settop(L, 0);
  lua.lua_pushjsfunction(L, ctx.msgh);
  c.push(L);
  if (c.keysAsArgs) {
    pushStringArray(L, argv, 3, 3 + numkeys);
    pushStringArray(L, argv, 3 + numkeys, argv.length);
  }
  let status: number;
  try {
    status = lua.lua_pcall(L, c.keysAsArgs ? 2 : 0, 1, 1);
  } finally {
    ctx.run = null;
  }
  try {
    if (status !== 0) s.reply.error(scriptError(L, ` script: ${c.name}, on ${ctx.chunkName}:${ctx.errorLine}.`));
    else writeLuaValue(L, s.reply, ctx.resp);
  } finally {
    lua.lua_settop(L, 0);
    ctx.resp = 2;
  }
  // The commands the script ran were propagated themselves (the EVAL is one execution unit).
  s.preventPropagation = true;
}

/** The error reply for a script that raised `value` (at the top of the stack). */
function scriptError(L: LuaState, where: string): string {
  const t = lua.lua_type(L, -1);
  if (t === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, toLuaBytes('err'));
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
