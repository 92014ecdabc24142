/**
 * Conversions between Redis replies and Lua values, as Redis 7.0 documents
 * them for EVAL:
 *
 * Redis → Lua (redis.call / redis.pcall), RESP2 (the default):
 *   integer → number, bulk → string, null bulk / null array → false,
 *   array → table, status → {ok=...}, error → {err=...}.
 * With redis.setresp(3) also: map → {map={...}}, set → {set={m=true}},
 *   null → nil, double → {double=n}, boolean → boolean,
 *   big number → {big_number=s}, verbatim → {verbatim_string={format=, string=}}.
 * Lua → Redis (the script's return value):
 *   number → integer (truncated), string → bulk, table with `err` → error,
 *   with `ok` → status, other table → array (up to the first nil),
 *   false → null, true → integer 1, anything else → null; under setresp(3)
 *   also {map=}, {set=}, {double=}, {big_number=} and booleans as RESP3.
 */
import type { Reply } from '../protocol/reply.js';
import { formatDouble17g } from '../numbers/format.js';
import { lua, pushString, getString, toLuaBytes, type LuaState } from './lua-vm.js';

/** One reply, as a command wrote it. */
export type Node =
  | { t: 'int'; v: number | bigint }
  | { t: 'bulk'; v: string }
  | { t: 'null' }
  | { t: 'nullArray' }
  | { t: 'simple'; v: string }
  | { t: 'error'; v: string }
  | { t: 'array' | 'set' | 'map' | 'push'; items: Node[] }
  | { t: 'double'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'verbatim'; v: string; format: string }
  | { t: 'big'; v: string };

type Open = { node: { items: Node[] }; remaining: number };

/** A Reply sink that collects a command's reply as a tree (the script client's reply). */
export class CollectReply implements Reply {
  resp: 2 | 3 = 2;
  private stack: Open[] = [];
  result: Node | null = null;

  reset(resp: 2 | 3): void {
    this.resp = resp;
    this.stack = [];
    this.result = null;
  }

  private add(n: Node): void {
    let top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      // Only the first reply counts (a command writes exactly one).
      this.result ??= n;
      return;
    }
    top.node.items.push(n);
    while (top !== undefined && --top.remaining === 0) {
      this.stack.pop();
      const done = top.node as Node;
      top = this.stack[this.stack.length - 1];
      if (top === undefined) this.result ??= done;
      else top.node.items.push(done);
    }
  }

  private open(t: 'array' | 'set' | 'map' | 'push', n: number): void {
    const node = { t, items: [] as Node[] };
    if (n === 0) this.add(node);
    else this.stack.push({ node, remaining: t === 'map' ? 2 * n : n });
  }

  ok(): void {
    this.add({ t: 'simple', v: 'OK' });
  }
  simple(s: string): void {
    this.add({ t: 'simple', v: s });
  }
  error(line: string): void {
    this.add({ t: 'error', v: line });
  }
  int(n: number | bigint): void {
    this.add({ t: 'int', v: n });
  }
  bulk(s: string | null): void {
    this.add(s === null ? { t: 'null' } : { t: 'bulk', v: s });
  }
  bulkBytes(b: Uint8Array): void {
    this.add({ t: 'bulk', v: Buffer.from(b).toString('latin1') });
  }
  nullBulk(): void {
    this.add({ t: 'null' });
  }
  nullArray(): void {
    this.add({ t: 'nullArray' });
  }
  arrayLen(n: number): void {
    this.open('array', n);
  }
  mapLen(n: number): void {
    this.open('map', n);
  }
  setLen(n: number): void {
    this.open('set', n);
  }
  pushLen(n: number): void {
    this.open('push', n);
  }
  double(d: number, text?: string): void {
    if (this.resp === 2) this.add({ t: 'bulk', v: text ?? formatRespDouble(d) });
    else this.add({ t: 'double', v: d });
  }
  bool(b: boolean): void {
    this.add({ t: 'bool', v: b });
  }
  verbatim(s: string, format = 'txt'): void {
    this.add({ t: 'verbatim', v: s, format });
  }
  bigNumber(s: string): void {
    this.add({ t: 'big', v: s });
  }
  bulkArray(items: readonly (string | null)[]): void {
    this.add({ t: 'array', items: items.map((s): Node => (s === null ? { t: 'null' } : { t: 'bulk', v: s })) });
  }
}

function formatRespDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  return formatDouble17g(d);
}

function setField(L: LuaState, name: string): void {
  lua.lua_setfield(L, -2, toLuaBytes(name));
}

/** Push a reply onto the Lua stack as Redis converts it for redis.call. */
export function pushReply(L: LuaState, n: Node, resp: 2 | 3): void {
  lua.lua_checkstack(L, 4);
  switch (n.t) {
    case 'int':
      lua.lua_pushnumber(L, Number(n.v));
      return;
    case 'bulk':
      pushString(L, n.v);
      return;
    case 'null':
    case 'nullArray':
      if (resp === 3) lua.lua_pushnil(L);
      else lua.lua_pushboolean(L, false);
      return;
    case 'simple':
      lua.lua_createtable(L, 0, 1);
      pushString(L, n.v);
      setField(L, 'ok');
      return;
    case 'error':
      lua.lua_createtable(L, 0, 1);
      pushString(L, n.v);
      setField(L, 'err');
      return;
    case 'array':
    case 'push':
      lua.lua_createtable(L, n.items.length, 0);
      for (let i = 0; i < n.items.length; i++) {
        pushReply(L, n.items[i]!, resp);
        lua.lua_rawseti(L, -2, i + 1);
      }
      return;
    case 'map':
      if (resp === 2) return pushReply(L, { t: 'array', items: n.items }, resp);
      lua.lua_createtable(L, 0, 1);
      lua.lua_createtable(L, 0, n.items.length / 2);
      for (let i = 0; i + 1 < n.items.length; i += 2) {
        pushReply(L, n.items[i]!, resp);
        pushReply(L, n.items[i + 1]!, resp);
        lua.lua_settable(L, -3);
      }
      setField(L, 'map');
      return;
    case 'set':
      if (resp === 2) return pushReply(L, { t: 'array', items: n.items }, resp);
      lua.lua_createtable(L, 0, 1);
      lua.lua_createtable(L, 0, n.items.length);
      for (const item of n.items) {
        pushReply(L, item, resp);
        lua.lua_pushboolean(L, true);
        lua.lua_settable(L, -3);
      }
      setField(L, 'set');
      return;
    case 'double':
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushnumber(L, n.v);
      setField(L, 'double');
      return;
    case 'bool':
      if (resp === 2) lua.lua_pushnumber(L, n.v ? 1 : 0);
      else lua.lua_pushboolean(L, n.v);
      return;
    case 'verbatim':
      if (resp === 2) return pushString(L, n.v);
      lua.lua_createtable(L, 0, 1);
      lua.lua_createtable(L, 0, 2);
      pushString(L, n.v);
      setField(L, 'string');
      pushString(L, n.format);
      setField(L, 'format');
      setField(L, 'verbatim_string');
      return;
    case 'big':
      if (resp === 2) return pushString(L, n.v);
      lua.lua_createtable(L, 0, 1);
      pushString(L, n.v);
      setField(L, 'big_number');
      return;
  }
}

const INT64_MIN = -(2n ** 63n);

/** Lua number → integer reply: truncated toward zero; out of the int64 range (or NaN) → INT64_MIN, as C's cast gives on x86-64. */
export function luaNumberToInteger(d: number): number | bigint {
  if (Number.isNaN(d) || d >= 2 ** 63 || d < -(2 ** 63)) return INT64_MIN;
  const t = Math.trunc(d);
  return Number.isSafeInteger(t) ? (Object.is(t, -0) ? 0 : t) : BigInt(t);
}

/** "\r" and "\n" in status and error replies become spaces (RESP lines cannot hold them). */
function oneLine(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

/**
 * The string field `name` of the table at the top of the stack, or null.
 * Raw reads, as Redis 7.0's: a table whose __index raises (the globals
 * `return _G` gives) is converted without running it.
 */
function stringField(L: LuaState, name: string): string | null {
  rawField(L, name);
  const v = lua.lua_type(L, -1) === lua.LUA_TSTRING ? getString(L, -1) : null;
  lua.lua_pop(L, 1);
  return v;
}

/** Write the Lua value at the top of the stack as the reply (and leave the stack as it was). */
export function writeLuaValue(L: LuaState, r: Reply, resp: 2 | 3, depth = 0): void {
  const type = lua.lua_type(L, -1);
  switch (type) {
    case lua.LUA_TSTRING:
      r.bulk(getString(L, -1)!);
      return;
    case lua.LUA_TBOOLEAN:
      if (resp === 3) r.bool(lua.lua_toboolean(L, -1));
      else if (lua.lua_toboolean(L, -1)) r.int(1);
      else r.nullBulk();
      return;
    case lua.LUA_TNUMBER:
      r.int(luaNumberToInteger(lua.lua_tonumber(L, -1) as number));
      return;
    case lua.LUA_TTABLE:
      break;
    default:
      r.nullBulk();
      return;
  }
  if (depth > 1000) {
    r.error('ERR reached lua stack limit');
    return;
  }
  lua.lua_checkstack(L, 4);
  const err = stringField(L, 'err');
  if (err !== null) {
    r.error(oneLine(err));
    return;
  }
  const ok = stringField(L, 'ok');
  if (ok !== null) {
    r.simple(oneLine(ok));
    return;
  }
  if (writeResp3Table(L, r, depth)) return;
  // An array: elements 1.. up to the first nil.
  let n = 0;
  for (;;) {
    lua.lua_rawgeti(L, -1, n + 1);
    const nil = lua.lua_type(L, -1) === lua.LUA_TNIL;
    lua.lua_pop(L, 1);
    if (nil) break;
    n++;
  }
  r.arrayLen(n);
  for (let i = 1; i <= n; i++) {
    lua.lua_rawgeti(L, -1, i);
    writeLuaValue(L, r, resp, depth + 1);
    lua.lua_pop(L, 1);
  }
}

/** {double=}, {big_number=}, {map=}, {set=} under setresp(3). */
function rawField(L: LuaState, name: string): void {
  lua.lua_pushstring(L, toLuaBytes(name));
  lua.lua_rawget(L, -2);
}

function writeResp3Table(L: LuaState, r: Reply, depth: number): boolean {
  rawField(L, 'double');
  if (lua.lua_type(L, -1) === lua.LUA_TNUMBER) {
    r.double(lua.lua_tonumber(L, -1) as number);
    lua.lua_pop(L, 1);
    return true;
  }
  lua.lua_pop(L, 1);
  const big = stringField(L, 'big_number');
  if (big !== null) {
    // Redis turns the newlines of a big number into spaces (RESP lines cannot hold them).
    r.bigNumber(oneLine(big));
    return true;
  }
  rawField(L, 'verbatim_string');
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    const format = stringField(L, 'format');
    const text = format !== null ? stringField(L, 'string') : null;
    lua.lua_pop(L, 1);
    if (text !== null) {
      r.verbatim(text, format!);
      return true;
    }
  } else lua.lua_pop(L, 1);
  for (const kind of ['map', 'set'] as const) {
    rawField(L, kind);
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
      lua.lua_pop(L, 1);
      continue;
    }
    let count = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      count++;
      lua.lua_pop(L, 1);
    }
    if (kind === 'map') r.mapLen(count);
    else r.setLen(count);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      lua.lua_pushvalue(L, -2);
      writeLuaValue(L, r, 3, depth + 1);
      lua.lua_pop(L, 1);
      if (kind === 'map') writeLuaValue(L, r, 3, depth + 1);
      lua.lua_pop(L, 1);
    }
    lua.lua_pop(L, 1);
    return true;
  }
  return false;
}
