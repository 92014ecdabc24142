/**
 * The `cmsgpack` library Redis 7.0 preloads for scripts (lua-cmsgpack
 * 0.4.0's API), written from the MessagePack specification and the replies
 * of redis-server 7.0.15:
 *
 * - `cmsgpack.pack(v1, v2, ...)`: the encodings of the arguments, concatenated.
 *   nil → nil; booleans; a number equal to an int64 → the smallest integer
 *   type (positive/negative fixint, uint8..uint64, int8..int64), any other
 *   number → float32 when it converts exactly, else float64; strings → fixstr,
 *   str8, str16, str32 (bytes as they are); a table whose keys are exactly
 *   1..n → array (`{}` is an empty array), any other table → map (in table
 *   order); tables nested deeper than 16 levels, functions and userdata → nil.
 * - `cmsgpack.unpack(s)`: every value of `s` (str types → strings, arrays
 *   and maps → tables, integers and floats → Lua numbers; a uint64 reads as
 *   the int64 of its bits). bin and ext types are "Bad data format".
 * - `cmsgpack.unpack_one(s, [offset])` and `cmsgpack.unpack_limit(s, limit,
 *   [offset])`: the next offset (0-based; -1 once `s` is consumed) followed by
 *   at most one / `limit` values.
 * Truncated input raises "Missing bytes in input.", an unknown type byte
 * "Bad data format in input.".
 */
import { lua, lauxlib, toLuaBytes, pushString, type LuaState } from './lua-vm.js';
import { argError, luaRaise } from './lua-cjson.js';

/** Tables nested deeper than this are packed as nil. */
const MAX_NESTING = 16;

const view = new DataView(new ArrayBuffer(8));

/* ------------------------------------------------------------------ pack */

class Packer {
  readonly out: number[] = [];

  byte(b: number): void {
    this.out.push(b & 0xff);
  }

  /** `b` followed by the `n`-byte big-endian `v` (a bigint or a safe integer). */
  sized(b: number, v: bigint | number, n: number): void {
    this.out.push(b);
    let x = BigInt.asUintN(n * 8, BigInt(v));
    const bytes: number[] = [];
    for (let i = 0; i < n; i++) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
    for (let i = n - 1; i >= 0; i--) this.out.push(bytes[i]!);
  }

  integer(n: number): void {
    if (n >= 0) {
      if (n <= 127) this.byte(n);
      else if (n <= 0xff) this.sized(0xcc, n, 1);
      else if (n <= 0xffff) this.sized(0xcd, n, 2);
      else if (n <= 0xffffffff) this.sized(0xce, n, 4);
      else this.sized(0xcf, BigInt(n), 8);
    } else if (n >= -32) this.byte(n);
    else if (n >= -128) this.sized(0xd0, n, 1);
    else if (n >= -32768) this.sized(0xd1, n, 2);
    else if (n >= -2147483648) this.sized(0xd2, n, 4);
    else this.sized(0xd3, BigInt(n), 8);
  }

  number(d: number): void {
    // Equal to its int64 conversion (never for inf and nan): an integer type.
    if (Number.isFinite(d) && Number.isInteger(d) && d >= -9223372036854775808 && d < 9223372036854775808) {
      this.integer(d === 0 ? 0 : d);
      return;
    }
    if (Number.isNaN(d)) {
      // x86's default NaN (what 0/0 gives in Redis's Lua): sign bit set.
      for (const b of [0xcb, 0xff, 0xf8, 0, 0, 0, 0, 0, 0]) this.byte(b);
    } else if (Math.fround(d) === d) {
      view.setFloat32(0, d);
      this.byte(0xca);
      for (let i = 0; i < 4; i++) this.byte(view.getUint8(i));
    } else {
      view.setFloat64(0, d);
      this.byte(0xcb);
      for (let i = 0; i < 8; i++) this.byte(view.getUint8(i));
    }
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    if (n < 32) this.byte(0xa0 | n);
    else if (n <= 0xff) this.sized(0xd9, n, 1);
    else if (n <= 0xffff) this.sized(0xda, n, 2);
    else this.sized(0xdb, n, 4);
    for (let i = 0; i < n; i++) this.out.push(b[i]!);
  }

  /** The value at the top of the stack (left there). */
  value(L: LuaState, level: number): void {
    let t = lua.lua_type(L, -1) as number;
    if (t === lua.LUA_TTABLE && level === MAX_NESTING) t = lua.LUA_TNIL;
    switch (t) {
      case lua.LUA_TBOOLEAN:
        this.byte(lua.lua_toboolean(L, -1) ? 0xc3 : 0xc2);
        break;
      case lua.LUA_TNUMBER:
        this.number(lua.lua_tonumber(L, -1) as number);
        break;
      case lua.LUA_TSTRING:
        this.bytes(lua.lua_tolstring(L, -1) as Uint8Array);
        break;
      case lua.LUA_TTABLE:
        this.table(L, level);
        break;
      default:
        this.byte(0xc0);
    }
  }

  /** The length n when the table's keys are exactly 1..n, else -1. */
  private arrayLength(L: LuaState): number {
    let count = 0;
    let max = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      lua.lua_pop(L, 1);
      const k = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? (lua.lua_tonumber(L, -1) as number) : NaN;
      if (!(k >= 1 && Number.isInteger(k))) {
        lua.lua_pop(L, 1);
        return -1;
      }
      if (k > max) max = k;
      count++;
    }
    return count === max ? count : -1;
  }

  private table(L: LuaState, level: number): void {
    lauxlib.luaL_checkstack(L, 3, toLuaBytes('too many nested tables'));
    const n = this.arrayLength(L);
    if (n >= 0) {
      if (n < 16) this.byte(0x90 | n);
      else if (n <= 0xffff) this.sized(0xdc, n, 2);
      else this.sized(0xdd, n, 4);
      for (let i = 1; i <= n; i++) {
        lua.lua_rawgeti(L, -1, i);
        this.value(L, level + 1);
        lua.lua_pop(L, 1);
      }
      return;
    }
    let pairs = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      lua.lua_pop(L, 1);
      pairs++;
    }
    if (pairs < 16) this.byte(0x80 | pairs);
    else if (pairs <= 0xffff) this.sized(0xde, pairs, 2);
    else this.sized(0xdf, pairs, 4);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      lua.lua_pushvalue(L, -2);
      this.value(L, level + 1);
      lua.lua_pop(L, 1);
      this.value(L, level + 1);
      lua.lua_pop(L, 1);
    }
  }
}

function pack(L: LuaState): number {
  const n = lua.lua_gettop(L) as number;
  if (n === 0) argError(L, 0, 'MessagePack pack needs input.');
  const p = new Packer();
  for (let i = 1; i <= n; i++) {
    lua.lua_pushvalue(L, i);
    p.value(L, 0);
    lua.lua_pop(L, 1);
  }
  lua.lua_pushstring(L, Uint8Array.from(p.out));
  return 1;
}

/* ---------------------------------------------------------------- unpack */

const EOF = 1;
const BADFMT = 2;

class Unpacker {
  pos: number;
  constructor(
    readonly L: LuaState,
    readonly b: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  private need(n: number): void {
    if (this.b.length - this.pos < n) throw EOF;
  }

  private uint(n: number): number {
    this.need(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.b[this.pos + i]!;
    this.pos += n;
    return v;
  }

  private big(n: number, signed: boolean): number {
    this.need(n);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.b[this.pos + i]!);
    this.pos += n;
    return Number(signed ? BigInt.asIntN(n * 8, v) : v);
  }

  private float(n: 4 | 8): number {
    this.need(n);
    for (let i = 0; i < n; i++) view.setUint8(i, this.b[this.pos + i]!);
    this.pos += n;
    return n === 4 ? view.getFloat32(0) : view.getFloat64(0);
  }

  private str(n: number): void {
    this.need(n);
    lua.lua_pushstring(this.L, this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
  }

  private array(n: number): void {
    const L = this.L;
    lauxlib.luaL_checkstack(L, 2, toLuaBytes('too many nested tables'));
    lua.lua_createtable(L, 0, 0);
    for (let i = 1; i <= n; i++) {
      this.value();
      lua.lua_rawseti(L, -2, i);
    }
  }

  private map(n: number): void {
    const L = this.L;
    lauxlib.luaL_checkstack(L, 3, toLuaBytes('too many nested tables'));
    lua.lua_createtable(L, 0, 0);
    for (let i = 0; i < n; i++) {
      this.value();
      this.value();
      lua.lua_settable(L, -3);
    }
  }

  /** Decode one value and push it. */
  value(): void {
    const L = this.L;
    this.need(1);
    const t = this.b[this.pos++]!;
    if (t <= 0x7f) return lua.lua_pushnumber(L, t);
    if (t >= 0xe0) return lua.lua_pushnumber(L, t - 256);
    if (t >= 0xa0 && t <= 0xbf) return this.str(t & 0x1f);
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f);
    if (t >= 0x80 && t <= 0x8f) return this.map(t & 0x0f);
    switch (t) {
      case 0xc0: return lua.lua_pushnil(L);
      case 0xc2: return lua.lua_pushboolean(L, false);
      case 0xc3: return lua.lua_pushboolean(L, true);
      case 0xd9: return this.str(this.uint(1));
      case 0xda: return this.str(this.uint(2));
      case 0xdb: return this.str(this.uint(4));
      case 0xca: return lua.lua_pushnumber(L, this.float(4));
      case 0xcb: return lua.lua_pushnumber(L, this.float(8));
      case 0xcc: return lua.lua_pushnumber(L, this.uint(1));
      case 0xcd: return lua.lua_pushnumber(L, this.uint(2));
      case 0xce: return lua.lua_pushnumber(L, this.uint(4));
      // uint64 comes back as the int64 of the same bits, as in Redis.
      case 0xcf: return lua.lua_pushnumber(L, this.big(8, true));
      case 0xd0: return lua.lua_pushnumber(L, this.big(1, true));
      case 0xd1: return lua.lua_pushnumber(L, this.big(2, true));
      case 0xd2: return lua.lua_pushnumber(L, this.big(4, true));
      case 0xd3: return lua.lua_pushnumber(L, this.big(8, true));
      case 0xdc: return this.array(this.uint(2));
      case 0xdd: return this.array(this.uint(4));
      case 0xde: return this.map(this.uint(2));
      case 0xdf: return this.map(this.uint(4));
      default:
        throw BADFMT;
    }
  }
}

/** A 5.1 integer argument (truncated number) or `def` when absent. */
function optInt(L: LuaState, i: number, def: number): number {
  if (lua.lua_isnoneornil(L, i)) return def;
  return checkInt(L, i);
}

function checkInt(L: LuaState, i: number): number {
  const n = lauxlib.luaL_checknumber(L, i) as number;
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/**
 * Decode up to `limit` values of argument 1 from `offset`; every value
 * when both are 0 (as lua-cmsgpack does), else the next offset first.
 */
function unpackFull(L: LuaState, limit: number, offset: number): number {
  const s = lauxlib.luaL_checklstring(L, 1) as Uint8Array;
  const len = s.length;
  lua.lua_settop(L, 1);
  if (offset < 0 || limit < 0) luaRaise(L, `Invalid request to unpack with offset of ${offset} and limit of ${len}.`);
  if (offset > len) luaRaise(L, `Start offset ${offset} greater than input length ${len}.`);
  const all = limit === 0 && offset === 0;
  const u = new Unpacker(L, s, offset);
  let count = 0;
  for (; u.pos < len && (all || count < limit); count++) {
    lauxlib.luaL_checkstack(L, 2, toLuaBytes('too many results to unpack'));
    try {
      u.value();
    } catch (e) {
      if (e === EOF) luaRaise(L, 'Missing bytes in input.');
      if (e === BADFMT) luaRaise(L, 'Bad data format in input.');
      throw e;
    }
  }
  if (all) return count;
  lua.lua_pushnumber(L, u.pos >= len ? -1 : u.pos);
  lua.lua_insert(L, 2);
  return count + 1;
}

const FUNCTIONS: [string, (L: LuaState) => number][] = [
  ['pack', pack],
  ['unpack', (L) => unpackFull(L, 0, 0)],
  ['unpack_one', (L) => unpackFull(L, 1, optInt(L, 2, 0))],
  ['unpack_limit', (L) => unpackFull(L, checkInt(L, 2), optInt(L, 3, 0))],
];

/** Leaves the `cmsgpack` table in the globals. */
export function openCmsgpack(L: LuaState): void {
  lua.lua_createtable(L, 0, FUNCTIONS.length + 4);
  for (const [name, f] of FUNCTIONS) {
    lua.lua_pushjsfunction(L, f);
    lua.lua_setfield(L, -2, toLuaBytes(name));
  }
  for (const [k, v] of [
    ['_NAME', 'cmsgpack'],
    ['_VERSION', 'lua-cmsgpack 0.4.0'],
    ['_COPYRIGHT', 'Copyright (C) 2012, Salvatore Sanfilippo'],
    ['_DESCRIPTION', 'MessagePack C implementation for Lua'],
  ] as const) {
    pushString(L, v);
    lua.lua_setfield(L, -2, toLuaBytes(k));
  }
  lua.lua_setglobal(L, toLuaBytes('cmsgpack'));
}
