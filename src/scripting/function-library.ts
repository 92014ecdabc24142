/**
 * Redis 7.0 functions: the library registry of an engine and its Lua engine.
 *
 * A library is Lua code with a `#!lua name=<lib>` first line. FUNCTION LOAD
 * runs it once in the load environment, where the only global is `redis`
 * holding register_function, log, the LOG_* levels and REDIS_VERSION(_NUM)
 * (everything else, `redis.call` included, raises "Script attempted to access
 * nonexistent global variable"; both tables are read-only); the run stops
 * after 500 ms with "FUNCTION LOAD timeout". The callbacks it registers are
 * closures of the library chunk: once the load is over, the chunk's _ENV
 * upvalue (shared by every closure made in it) is switched to the protected
 * globals EVAL scripts get, so at run time the functions see the full `redis`
 * API (and no register_function) and whatever the library keeps in locals.
 *
 * Functions run like EVAL scripts with a shebang (script-runner.ts runLua),
 * with KEYS and ARGV as their two arguments, in a Lua state of their own
 * (chunk name "@user_function"). Function and library names are looked up
 * as Redis does: library names case-sensitively, function names not.
 */
import type { Engine } from '../server/engine.js';
import { CommandError } from '../errors.js';
import { splitArgs } from '../protocol/resp-parser.js';
import { lua, lauxlib, pushString, getString, toLuaBytes, type LuaState } from './lua-vm.js';
import { ScriptContext, lua51Message, raise, type ScriptFlags } from './script-runner.js';

/** The flags register_function accepts, in the order Redis lists them. */
export const FUNCTION_FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'] as const;

export interface FunctionInfo {
  name: string;
  description: string | null;
  /** Flag names, in FUNCTION_FLAGS order. */
  flags: string[];
  scriptFlags: ScriptFlags;
  allowStale: boolean;
  /** The callback: a reference in the Lua registry. */
  ref: number;
  library: Library;
}

export interface Library {
  name: string;
  /** The code as loaded, shebang line included (FUNCTION LIST WITHCODE, DUMP, RDB). */
  code: string;
  /** By name (case-sensitive within a library). */
  functions: Map<string, FunctionInfo>;
}

const NAME_RE = /^[A-Za-z0-9_]+$/;
const BAD_NAME = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';
/** A library's load may run this long (ms). */
const LOAD_TIMEOUT_MS = 500;

/** The function index's keys: function names compare case-insensitively (FCALL TEST finds test). */
function key(name: string): string {
  return name.toLowerCase();
}

/** `#!<engine> name=<library>` (split as Redis splits arguments: quotes allowed). */
export function parseLibraryMetadata(code: string): { engine: string; name: string } {
  if (!code.startsWith('#!')) throw new CommandError('ERR Missing library metadata');
  const eol = code.indexOf('\n');
  if (eol < 0) throw new CommandError('ERR Invalid library metadata');
  const parts = splitArgs(code.slice(0, eol));
  if (parts === null || parts.length === 0) throw new CommandError('ERR Invalid library metadata');
  const engine = parts[0]!.slice(2);
  let name: string | null = null;
  for (const p of parts.slice(1)) {
    if (p.slice(0, 5).toLowerCase() === 'name=') {
      if (name !== null) throw new CommandError('ERR Invalid metadata value, name argument was given multiple times');
      name = p.slice(5);
    } else throw new CommandError(`ERR Invalid metadata value given: ${p}`);
  }
  if (name === null) throw new CommandError('ERR Library name was not given');
  return { engine, name };
}

/** Builds the load environment: `...` = register_function, log, version, version number, error, setmetatable, tostring. */
const LOAD_ENV = `
local register, log, version, versionNum, err, setmetatable, tostring = ...
local function ro() err('Attempt to modify a readonly table', 2) end
local function missing(k) err("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 3) end
local api = {
  register_function = register, log = log, REDIS_VERSION = version, REDIS_VERSION_NUM = versionNum,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
}
local redis = setmetatable({}, {
  __index = function(_, k) local v = api[k]; if v == nil then missing(k) end; return v end,
  __newindex = ro, __metatable = false,
})
return setmetatable({}, {
  __index = function(_, k) if k == 'redis' then return redis end; missing(k) end,
  __newindex = ro, __metatable = false,
})
`;

function versionNumber(v: string): number {
  const [a = 0, b = 0, c = 0] = v.split('.').map((x) => Number(x) || 0);
  return (a << 16) | (b << 8) | c;
}

/** The functions of one engine: libraries, the function index and the Lua state they live in. */
export class FunctionStore {
  readonly ctx: ScriptContext;
  readonly libraries = new Map<string, Library>();
  readonly functions = new Map<string, FunctionInfo>();
  /** The library whose code is running (FUNCTION LOAD), or null. */
  private loading: Library | null = null;

  constructor(readonly engine: Engine) {
    this.ctx = new ScriptContext(engine, '@user_function');
    const L = this.ctx.L;
    if (lauxlib.luaL_loadbuffer(L, toLuaBytes(LOAD_ENV), null, toLuaBytes('=load_env')) !== 0) throw new Error(getString(L, -1) ?? 'load env');
    lua.lua_pushjsfunction(L, (l: LuaState) => this.registerFunction(l));
    lua.lua_getglobal(L, toLuaBytes('redis'));
    lua.lua_getfield(L, -1, toLuaBytes('log'));
    lua.lua_remove(L, -2);
    pushString(L, engine.redisVersion);
    lua.lua_pushinteger(L, versionNumber(engine.redisVersion));
    for (const g of ['error', 'setmetatable', 'tostring']) lua.lua_getglobal(L, toLuaBytes(g));
    if (lua.lua_pcall(L, 7, 1, 0) !== 0) throw new Error(getString(L, -1) ?? 'load env');
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, toLuaBytes('__load_env'));
  }

  /** Functions of all the libraries (FUNCTION STATS; names differing only in case count twice, as in Redis). */
  get functionCount(): number {
    let n = 0;
    for (const lib of this.libraries.values()) n += lib.functions.size;
    return n;
  }

  /**
   * Compile and run a library's code: returns the library with its
   * functions registered (not yet visible). Errors are Redis's replies.
   */
  compile(code: string, name: string): Library {
    const L = this.ctx.L;
    const lib: Library = { name, code, functions: new Map() };
    // The shebang line is left out, its newline kept: line numbers stay those of the code.
    const body = code.slice(code.indexOf('\n'));
    lua.lua_settop(L, 0);
    if (lauxlib.luaL_loadbuffer(L, toLuaBytes(body), null, toLuaBytes('@user_function')) !== 0) {
      const msg = (getString(L, -1) ?? 'unknown error').replace(/ near <eof>$/, " near '<eof>'");
      lua.lua_settop(L, 0);
      throw new CommandError(`ERR Error compiling function: ${msg}`);
    }
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, toLuaBytes('__load_env'));
    lua.lua_setupvalue(L, -2, 1);
    lua.lua_pushvalue(L, -1);
    const deadline = performance.now() + LOAD_TIMEOUT_MS;
    lua.lua_sethook(
      L,
      (l: LuaState) => {
        if (performance.now() > deadline) {
          lua.lua_sethook(l, null, 0, 0);
          raise(l, 'ERR FUNCTION LOAD timeout');
        }
      },
      lua.LUA_MASKCOUNT,
      10000,
    );
    this.loading = lib;
    let status: number;
    try {
      status = lua.lua_pcall(L, 0, 0, 0);
    } finally {
      this.loading = null;
      lua.lua_sethook(L, null, 0, 0);
    }
    try {
      if (status !== 0) {
        this.release(lib);
        throw new CommandError(`ERR Error registering functions: ${loadErrorText(L)}`);
      }
      // From now on the library's closures see the run-time globals.
      lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, toLuaBytes('__env'));
      lua.lua_setupvalue(L, -2, 1);
    } finally {
      lua.lua_settop(L, 0);
    }
    if (lib.functions.size === 0) throw new CommandError('ERR No functions registered');
    return lib;
  }

  /** Free the Lua references of a library that is not (or no longer) registered. */
  release(lib: Library): void {
    for (const f of lib.functions.values()) lauxlib.luaL_unref(this.ctx.L, lua.LUA_REGISTRYINDEX, f.ref);
    lib.functions.clear();
  }

  /** Make a library visible (its name and functions must be free). */
  link(lib: Library): void {
    this.libraries.set(lib.name, lib);
    // Within a library names are case-sensitive: of `f` and `F`, FCALL finds the first registered.
    for (const f of lib.functions.values()) if (!this.functions.has(key(f.name))) this.functions.set(key(f.name), f);
  }

  /** Remove a library from the registry (its references stay: see release). */
  unlink(lib: Library): void {
    this.libraries.delete(lib.name);
    for (const f of lib.functions.values()) if (this.functions.get(key(f.name))?.library === lib) this.functions.delete(key(f.name));
  }

  library(name: string): Library | undefined {
    return this.libraries.get(name);
  }

  function(name: string): FunctionInfo | undefined {
    return this.functions.get(key(name));
  }

  /**
   * FUNCTION LOAD [REPLACE]: validate, compile, check collisions and register
   * the library; returns its name. Nothing changes on error.
   */
  load(code: string, replace: boolean): string {
    const { engine, name } = parseLibraryMetadata(code);
    if (engine.toLowerCase() !== 'lua') throw new CommandError(`ERR Engine '${engine}' not found`);
    if (!NAME_RE.test(name)) throw new CommandError(`ERR ${BAD_NAME}`);
    const old = this.library(name);
    if (old !== undefined && !replace) throw new CommandError(`ERR Library '${name}' already exists`);
    const lib = this.compile(code, name);
    for (const f of lib.functions.values()) {
      const other = this.functions.get(key(f.name));
      if (other !== undefined && other.library !== old) {
        const msg = `ERR Function ${f.name} already exists`;
        this.release(lib);
        throw new CommandError(msg);
      }
    }
    if (old !== undefined) {
      this.unlink(old);
      this.release(old);
    }
    this.link(lib);
    return name;
  }

  delete(name: string): void {
    const lib = this.library(name);
    if (lib === undefined) throw new CommandError('ERR Library not found');
    this.unlink(lib);
    this.release(lib);
  }

  /** redis.register_function (load time only). */
  private registerFunction(L: LuaState): number {
    const lib = this.loading;
    if (lib === null) return raise(L, 'ERR redis.register_function can only be called on FUNCTION LOAD command');
    const argc = lua.lua_gettop(L);
    if (argc < 1 || argc > 2) return raise(L, 'ERR wrong number of arguments to redis.register_function');
    let name: string | null = null;
    let description: string | null = null;
    const flags = new Set<string>();
    if (argc === 1) {
      if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) {
        return raise(L, 'ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).');
      }
      let callback = false;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, 1) !== 0) {
        const k = lua.lua_type(L, -2) === lua.LUA_TSTRING ? getString(L, -2) : null;
        const t = lua.lua_type(L, -1);
        if (k === 'function_name') {
          if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) return raise(L, 'ERR function_name argument given to redis.register_function must be a string');
          name = getString(L, -1);
        } else if (k === 'description') {
          if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) return raise(L, 'ERR description argument given to redis.register_function must be a string');
          description = getString(L, -1);
        } else if (k === 'callback') {
          if (t !== lua.LUA_TFUNCTION) return raise(L, 'ERR callback argument given to redis.register_function must be a function');
          callback = true;
        } else if (k === 'flags') {
          if (t !== lua.LUA_TTABLE) return raise(L, 'ERR flags argument to redis.register_function must be a table representing function flags');
          const err = readFlags(L, flags);
          if (err !== null) return raise(L, err);
        } else return raise(L, 'ERR unknown argument given to redis.register_function');
        lua.lua_pop(L, 1);
      }
      if (name === null) return raise(L, 'ERR redis.register_function must get a function name argument');
      if (!callback) return raise(L, 'ERR redis.register_function must get a callback argument');
      lua.lua_settop(L, 1);
      lua.lua_getfield(L, 1, toLuaBytes('callback'));
    } else {
      if (!lua.lua_isstring(L, 1)) return raise(L, 'ERR first argument to redis.register_function must be a string');
      if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) return raise(L, 'ERR second argument to redis.register_function must be a function');
      name = getString(L, 1);
    }
    if (name === null || !NAME_RE.test(name)) return raise(L, `ERR ${BAD_NAME}`);
    if (lib.functions.has(name)) return raise(L, 'ERR Function already exists in the library');
    lua.lua_settop(L, 2);
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX) as number;
    const names = FUNCTION_FLAGS.filter((f) => flags.has(f));
    lib.functions.set(name, {
      name,
      description,
      flags: names,
      scriptFlags: { noWrites: flags.has('no-writes'), allowOom: flags.has('allow-oom'), shebang: true },
      allowStale: flags.has('allow-stale'),
      ref,
      library: lib,
    });
    return 0;
  }
}

/** The flags table at the top of the stack into `out`; an error text for a bad one. */
function readFlags(L: LuaState, out: Set<string>): string | null {
  const n = lua.lua_rawlen(L, -1) as number;
  for (let i = 1; i <= n; i++) {
    lua.lua_rawgeti(L, -1, i);
    const f = lua.lua_type(L, -1) === lua.LUA_TSTRING ? getString(L, -1) : null;
    lua.lua_pop(L, 1);
    if (f === null || !(FUNCTION_FLAGS as readonly string[]).includes(f)) return 'ERR unknown flag given';
    out.add(f);
  }
  return null;
}

/** The message of the error value at the top of the stack (the `err` of an error table). */
function loadErrorText(L: LuaState): string {
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, toLuaBytes('err'));
    const s = lua.lua_type(L, -1) === lua.LUA_TSTRING ? getString(L, -1) : null;
    lua.lua_pop(L, 1);
    return (s ?? 'unknown error').replace(/[\r\n]/g, ' ');
  }
  return 'ERR ' + lua51Message(getString(L, -1) ?? 'unknown error').replace(/[\r\n]/g, ' ');
}

const stores = new WeakMap<Engine, FunctionStore>();

/** The engine's function store (created on first use). */
export function functionStore(e: Engine): FunctionStore {
  let f = stores.get(e);
  if (f === undefined) {
    f = new FunctionStore(e);
    stores.set(e, f);
  }
  return f;
}

/** The store if one exists (no Lua state is created just to look). */
export function existingFunctionStore(e: Engine): FunctionStore | undefined {
  return stores.get(e);
}

/** FUNCTION FLUSH (and emptying the data set for a reload or a full sync): no libraries, a new Lua state. */
export function flushFunctions(e: Engine): void {
  stores.delete(e);
}

/** The libraries' codes, in registration order (RDB, AOF rewrite, FUNCTION DUMP). */
export function libraryCodes(e: Engine): string[] {
  const f = stores.get(e);
  return f === undefined ? [] : [...f.libraries.values()].map((l) => l.code);
}

/** A library read from an RDB file (`replace`: DEBUG RELOAD MERGE). Throws CommandError with Redis's text. */
export function loadLibrary(e: Engine, code: string, replace: boolean): void {
  functionStore(e).load(code, replace);
}

/** INFO memory's number_of_functions and number_of_libraries. */
export function functionCounts(e: Engine): { functions: number; libraries: number } {
  const f = stores.get(e);
  return { functions: f?.functionCount ?? 0, libraries: f?.libraries.size ?? 0 };
}
