/**
 * The Lua VM for EVAL: fengari (Lua 5.3 in pure JS, synchronous) set up to
 * look like the Lua 5.1 sandbox Redis 7.0 gives scripts.
 *
 * Lua 5.1 compatibility provided here:
 * - `unpack`, `loadstring`, `table.getn`, `math.pow`, `math.mod`,
 *   `string.gfind` exist as in 5.1.
 * - Integral floats print without ".0" (fengari's LUA_COMPAT_FLOATSTRING), and
 *   `tostring(number)` and the other number → string coercions format like
 *   5.1's "%.14g" (1e+15, inf, -nan; exact ties to even).
 * - `tonumber` returns floats, and numbers coming from Redis replies are
 *   floats, so arithmetic on them is double arithmetic as in 5.1.
 * Visible differences that remain (Lua 5.3 under the hood):
 * - integer literals are fengari's 32-bit integers: arithmetic between two
 *   literals only (`2147483647 + 1`) wraps, and they convert to strings with
 *   all their digits.
 * - 5.3 syntax (`//`, bitwise operators, `goto`) is accepted; `setfenv`,
 *   `getfenv` and `module` do not exist (nor do they in Redis's sandbox).
 *
 * Global protection as in Redis 7.0: the script's environment is read-only
 * ("Attempt to modify a readonly table") and reading an undefined global
 * raises "Script attempted to access nonexistent global variable 'x'".
 *
 * Strings are binary safe: cacheside's latin1 JS strings (one char per byte)
 * are copied byte for byte into Lua strings and back, never through UTF-8.
 */
import { createRequire } from 'node:module';
import { openCjson } from './lua-cjson.js';
import { openBit } from './lua-bit.js';
import { openCmsgpack } from './lua-cmsgpack.js';
import { openStruct } from './lua-struct.js';
import { formatG } from './lua-numfmt.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fengari = { lua: any; lauxlib: any; lualib: any; to_luastring: (s: string) => Uint8Array };

function loadFengari(): Fengari {
  const require = createRequire(import.meta.url);
  // fengari reads its configuration from the environment when first loaded.
  const before = process.env.FENGARICONF;
  process.env.FENGARICONF = JSON.stringify({ LUA_COMPAT_FLOATSTRING: true });
  try {
    fixPcallHookFlag(require);
    const f = require('fengari') as Fengari;
    // Float → string coercions (`..`, string.format('%s'), lua_tolstring) as Lua 5.1's "%.14g":
    // the VM and the API call this through the module's exports.
    const lobject = require('fengari/src/lobject.js') as { luaO_tostring: (L: any, o: any) => void };
    const { luaS_bless } = require('fengari/src/lstring.js') as { luaS_bless: (L: any, b: Uint8Array) => unknown };
    const original = lobject.luaO_tostring;
    lobject.luaO_tostring = (L, o) => {
      if (o.ttisinteger()) original(L, o);
      else o.setsvalue(luaS_bless(L, toLuaBytes(formatLua51Number(o.value as number))));
    };
    return f;
  } finally {
    if (before === undefined) delete process.env.FENGARICONF;
    else process.env.FENGARICONF = before;
  }
}

/**
 * fengari 0.1.5's lua_pcallk, on its yieldable path (pcall/xpcall inside a
 * coroutine, where every script runs), never records 'allowhook' in the
 * call's CIST_OAH bit (`callstatus &= ~OAH | allowhook` leaves the bit as it
 * was, 0), so the first error a pcall catches turns hooks off for the rest
 * of the coroutine: a script that caught an error could then never be found
 * busy nor killed. Setting the bit beforehand makes that line the `setoah`
 * of the C code. Patched before fengari's modules copy the export.
 */
function fixPcallHookFlag(require: NodeJS.Require): void {
  const lapi = require('fengari/src/lapi.js') as { lua_pcallk: (L: any, n: number, r: number, ef: number, ctx: number, k: unknown) => number };
  const { CIST_OAH } = require('fengari/src/lstate.js') as { CIST_OAH: number };
  const original = lapi.lua_pcallk;
  if ((original as { fixed?: boolean }).fixed) return;
  const fixed = (L: any, nargs: number, nresults: number, errfunc: number, ctx: number, k: unknown): number => {
    if (k !== null && L.nny === 0) L.ci.callstatus |= CIST_OAH;
    return original(L, nargs, nresults, errfunc, ctx, k);
  };
  (fixed as { fixed?: boolean }).fixed = true;
  lapi.lua_pcallk = fixed;
}

export const fengari = loadFengari();
export const lua = fengari.lua;
export const lauxlib = fengari.lauxlib;
export const lualib = fengari.lualib;
/** A Lua state (opaque). */
export type LuaState = any;

/** A latin1 JS string → a Lua string (its bytes). */
export function toLuaBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A Lua string (bytes) → a latin1 JS string. */
export function fromLuaBytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

export function pushString(L: LuaState, s: string): void {
  lua.lua_pushstring(L, toLuaBytes(s));
}

/** The string at `idx` (Lua strings, and numbers as Lua converts them), or null. */
export function getString(L: LuaState, idx: number): string | null {
  const b = lua.lua_tolstring(L, idx) as Uint8Array | null;
  return b === null || b === undefined ? null : fromLuaBytes(b);
}

/** C's "%.14g" (Lua 5.1's LUAI_NUMFFORMAT), with glibc's inf/nan spellings (0/0 is -nan on x86). */
export function formatLua51Number(d: number): string {
  return Number.isNaN(d) ? '-nan' : formatG(d, 14);
}

/** Lua code run once per state, after the libraries are open and before `redis` is added. */
const SETUP = `
local rawtostring, rawtonumber, rawpcall, mtype, pack, unpack_ = tostring, tonumber, pcall, math.type, table.pack, table.unpack
unpack = table.unpack
loadstring = load
table.getn = function(t) return #t end
math.pow = function(x, y) return x ^ y end
math.mod = math.fmod
string.gfind = string.gmatch
local fmt = __fmt51
__fmt51 = nil
tostring = function(...)
  local v = ...
  if select('#', ...) > 0 and type(v) == 'number' then return fmt(v) end
  return rawtostring(...)
end
tonumber = function(...)
  local n = rawtonumber(...)
  if mtype(n) == 'integer' then return n + 0.0 end
  return n
end
pcall = function(f, ...)
  local r = pack(rawpcall(f, ...))
  if not r[1] and type(r[2]) == 'table' and type(rawget(r[2], 'err')) == 'string' then return false, r[2].err end
  return unpack_(r, 1, r.n)
end
local rawerror = error
error = function(m, l)
  -- 5.1 adds the position to numbers too.
  local lvl = l == nil and 1 or l
  if type(m) == 'number' then m = tostring(m) end
  if lvl > 0 then lvl = lvl + 1 end
  rawerror(m, lvl)
end
_VERSION = 'Lua 5.1'
math.type = nil
print, dofile, loadfile = nil, nil, nil
`;

/** Builds the read-only environment scripts run in (see the module comment). */
const PROTECT = `
local G, err, rawget, rawset_, setmetatable, pairs = ...
local readonly = setmetatable({}, { __mode = 'k' })
local function ro() err('Attempt to modify a readonly table', 2) end
for _, name in pairs({ 'string', 'table', 'math', 'coroutine', 'redis', 'cjson', 'bit', 'struct', 'cmsgpack' }) do
  local real = rawget(G, name)
  if real ~= nil then
    local p = setmetatable({}, { __index = real, __newindex = ro, __metatable = false })
    readonly[p] = true
    rawset_(G, name, p)
  end
end
rawset_(G, 'rawset', function(t, k, v)
  if readonly[t] then err('Attempt to modify a readonly table', 0) end
  return rawset_(t, k, v)
end)
local env
env = setmetatable({}, {
  __index = function(_, k)
    if k == '_G' then return env end
    local v = rawget(G, k)
    if v == nil then err("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
    return v
  end,
  __newindex = ro,
  __metatable = false,
})
readonly[env] = true
return env
`;

function runChunk(L: LuaState, code: string, nargs = 0, nresults = 0): void {
  if (lauxlib.luaL_loadbuffer(L, toLuaBytes(code), null, toLuaBytes('=setup')) !== 0) throw new Error(getString(L, -1) ?? 'setup');
  if (nargs > 0) lua.lua_insert(L, -(nargs + 1));
  if (lua.lua_pcall(L, nargs, nresults, 0) !== 0) throw new Error(getString(L, -1) ?? 'setup');
}

/**
 * A new Lua state with Redis's libraries and 5.1 compatibility. `addLibs`
 * adds `redis` (and any other library) to the globals before they are
 * protected. Returns the state; the protected environment is left in the
 * registry under "__env".
 */
export function newLuaState(addLibs: (L: LuaState) => void): LuaState {
  const L = lauxlib.luaL_newstate();
  const libs: [string, unknown][] = [
    ['_G', lualib.luaopen_base],
    ['table', lualib.luaopen_table],
    ['string', lualib.luaopen_string],
    ['math', lualib.luaopen_math],
    ['coroutine', lualib.luaopen_coroutine],
  ];
  for (const [name, open] of libs) {
    lauxlib.luaL_requiref(L, toLuaBytes(name), open, 1);
    lua.lua_pop(L, 1);
  }
  // JS exceptions escaping a library function become Lua errors (never a crash of the command).
  lua.lua_atnativeerror(L, (l: LuaState) => {
    const e = lua.lua_touserdata(l, -1) as unknown;
    pushString(l, e instanceof Error ? e.message : String(e));
    return 1;
  });
  lua.lua_pushjsfunction(L, (l: LuaState) => {
    pushString(l, formatLua51Number(lua.lua_tonumber(l, 1) as number));
    return 1;
  });
  lua.lua_setglobal(L, toLuaBytes('__fmt51'));
  runChunk(L, SETUP);
  // The libraries Redis preloads (functions only: safe despite the import cycle).
  for (const open of [openCjson, openBit, openCmsgpack, openStruct]) open(L);
  addLibs(L);
  // The protected environment: built by PROTECT from the real globals.
  lua.lua_pushglobaltable(L);
  lua.lua_getglobal(L, toLuaBytes('error'));
  lua.lua_getglobal(L, toLuaBytes('rawget'));
  lua.lua_getglobal(L, toLuaBytes('rawset'));
  lua.lua_getglobal(L, toLuaBytes('setmetatable'));
  lua.lua_getglobal(L, toLuaBytes('pairs'));
  runChunk(L, PROTECT, 6, 1);
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, toLuaBytes('__env'));
  return L;
}

/** Set a global in the real globals table (KEYS, ARGV) to an array of strings. */
export function setGlobalArray(L: LuaState, name: string, items: readonly string[], from: number, to: number): void {
  lua.lua_createtable(L, to - from, 0);
  for (let i = from; i < to; i++) {
    pushString(L, items[i]!);
    lua.lua_rawseti(L, -2, i - from + 1);
  }
  lua.lua_setglobal(L, toLuaBytes(name));
}

/**
 * Compile a script body as a function running in the protected environment.
 * Returns null and leaves nothing on the stack on success (the function is
 * stored in the registry under `key`), or the compiler's message.
 */
export function compileScript(L: LuaState, key: string, body: string): string | null {
  const st = lauxlib.luaL_loadbuffer(L, toLuaBytes(body), null, toLuaBytes('@user_script'));
  if (st !== 0) {
    const msg = getString(L, -1) ?? 'unknown error';
    lua.lua_pop(L, 1);
    // Lua 5.1 quotes the end-of-input token.
    return msg.replace(/ near <eof>$/, " near '<eof>'");
  }
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, toLuaBytes('__env'));
  lua.lua_setupvalue(L, -2, 1);
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, toLuaBytes(key));
  return null;
}
