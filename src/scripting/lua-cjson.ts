/**
 * The `cjson` library Redis 7.0 preloads for scripts (lua-cjson 2.1.0's API
 * and behaviour, written from RFC 8259 and the replies of redis-server
 * 7.0.15):
 *
 * - `cjson.encode(v)`: a table whose keys are all positive integers is an
 *   array (holes become null; "excessively sparse" ones are an error unless
 *   configured), any other non-empty table an object, `{}` is `{}`; numbers
 *   use "%.14g" (encode_number_precision); strings are escaped like
 *   lua-cjson (`/` as `\/`, control bytes and DEL as \u00XX, bytes >= 0x80
 *   as they are); `cjson.null` is null.
 * - `cjson.decode(s)`: JSON null is `cjson.null` (a light userdata), numbers
 *   are read like C's strtod (hex, inf and nan are accepted, as lua-cjson
 *   does by default), \u escapes become UTF-8; errors read "Expected value
 *   but found T_END at character 1" and so on. A NUL byte ends the text.
 * - The configuration functions (encode_sparse_array, encode_max_depth,
 *   decode_max_depth, encode_number_precision, encode_keep_buffer,
 *   encode_invalid_numbers, decode_invalid_numbers) and `cjson.new()`.
 *
 * Object keys come out with positive integer keys first (ascending), then
 * the others in table order (Lua 5.1's order for its array part; the hash
 * order of real Redis cannot be reproduced).
 */
import { lua, lauxlib, toLuaBytes, fromLuaBytes, pushString, formatLua51Number, type LuaState } from './lua-vm.js';
import { formatG } from './lua-numfmt.js';

export { formatG };

/** Raise `msg` as a Lua error with the caller's position ("user_script:1: "), like luaL_error. */
export function luaRaise(L: LuaState, msg: string): never {
  lauxlib.luaL_where(L, 1);
  pushString(L, msg);
  lua.lua_concat(L, 2);
  lua.lua_error(L);
  throw new Error('unreachable');
}

/** luaL_argerror with a JS message. */
export function argError(L: LuaState, arg: number, msg: string): never {
  lauxlib.luaL_argerror(L, arg, toLuaBytes(msg));
  throw new Error('unreachable');
}

interface Config {
  sparseConvert: boolean;
  sparseRatio: number;
  sparseSafe: number;
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  precision: number;
  keepBuffer: boolean;
  /** 0 off (error), 1 on ("inf"/"nan"), 2 null. */
  encodeInvalid: number;
  decodeInvalid: boolean;
}

const defaults = (): Config => ({
  sparseConvert: false,
  sparseRatio: 2,
  sparseSafe: 10,
  encodeMaxDepth: 1000,
  decodeMaxDepth: 1000,
  precision: 14,
  keepBuffer: true,
  encodeInvalid: 0,
  decodeInvalid: true,
});

const INT_MAX = 2147483647;

/* ------------------------------------------------------------------ encode */

/** The escaped JSON form of each byte (null: the byte itself). */
const ESCAPES: (string | null)[] = Array.from({ length: 256 }, (_, c) => {
  if (c === 0x22) return '\\"';
  if (c === 0x5c) return '\\\\';
  if (c === 0x2f) return '\\/';
  if (c === 0x08) return '\\b';
  if (c === 0x0c) return '\\f';
  if (c === 0x0a) return '\\n';
  if (c === 0x0d) return '\\r';
  if (c === 0x09) return '\\t';
  if (c < 0x20 || c === 0x7f) return '\\u' + c.toString(16).padStart(4, '0');
  return null;
});

function escapeString(b: Uint8Array, out: string[]): void {
  let s = '"';
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    const e = ESCAPES[b[i]!];
    if (e !== null) {
      if (i > start) s += fromLuaBytes(b.subarray(start, i));
      s += e;
      start = i + 1;
    }
  }
  if (start < b.length) s += fromLuaBytes(b.subarray(start));
  out.push(s + '"');
}

function typeName(L: LuaState, idx: number): string {
  return fromLuaBytes(lua.lua_typename(L, lua.lua_type(L, idx)) as Uint8Array);
}

function isArrayKey(L: LuaState, idx: number): number {
  if (lua.lua_type(L, idx) !== lua.LUA_TNUMBER) return -1;
  const k = lua.lua_tonumber(L, idx) as number;
  return Number.isFinite(k) && Math.floor(k) === k && k >= 1 ? k : -1;
}

class Encoder {
  readonly out: string[] = [];
  constructor(
    readonly L: LuaState,
    readonly cfg: Config,
  ) {}

  fail(idx: number, reason: string): never {
    return luaRaise(this.L, `Cannot serialise ${typeName(this.L, idx)}: ${reason}`);
  }

  /** Encodes the value at the top of the stack (absolute index `idx`). */
  value(idx: number, depth: number): void {
    const L = this.L;
    switch (lua.lua_type(L, idx)) {
      case lua.LUA_TSTRING:
        escapeString(lua.lua_tolstring(L, idx) as Uint8Array, this.out);
        return;
      case lua.LUA_TNUMBER:
        this.number(idx);
        return;
      case lua.LUA_TBOOLEAN:
        this.out.push(lua.lua_toboolean(L, idx) ? 'true' : 'false');
        return;
      case lua.LUA_TNIL:
        this.out.push('null');
        return;
      case lua.LUA_TLIGHTUSERDATA:
        if (lua.lua_touserdata(L, idx) === null) {
          this.out.push('null');
          return;
        }
        break;
      case lua.LUA_TTABLE:
        this.table(idx, depth + 1);
        return;
    }
    this.fail(idx, 'type not supported');
  }

  number(idx: number): void {
    const d = lua.lua_tonumber(this.L, idx) as number;
    if (!Number.isFinite(d)) {
      if (this.cfg.encodeInvalid === 0) this.fail(idx, 'must not be NaN or Inf');
      if (this.cfg.encodeInvalid === 2) {
        this.out.push('null');
        return;
      }
    }
    this.out.push(formatG(d, this.cfg.precision));
  }

  table(idx: number, depth: number): void {
    const L = this.L;
    if (depth > this.cfg.encodeMaxDepth) luaRaise(L, `Cannot serialise, excessive nesting (${depth})`);
    if (!lua.lua_checkstack(L, 4)) luaRaise(L, `Cannot serialise, excessive nesting (${depth})`);
    // Array if every key is a positive integer (and it is not too sparse).
    let max = 0;
    let items = 0;
    let array = true;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx) !== 0) {
      lua.lua_pop(L, 1);
      const k = isArrayKey(L, -1);
      if (k < 0) {
        array = false;
        lua.lua_pop(L, 1);
        break;
      }
      if (k > max) max = k;
      items++;
    }
    const c = this.cfg;
    if (array && max > 0 && c.sparseRatio > 0 && max > items * c.sparseRatio && max > c.sparseSafe) {
      if (!c.sparseConvert) this.fail(idx, 'excessively sparse array');
      array = false;
    }
    if (array && max > 0) {
      this.out.push('[');
      for (let i = 1; i <= max; i++) {
        if (i > 1) this.out.push(',');
        lua.lua_pushnumber(L, i);
        lua.lua_rawget(L, idx);
        this.value(lua.lua_gettop(L), depth);
        lua.lua_pop(L, 1);
      }
      this.out.push(']');
      return;
    }
    this.object(idx, depth);
  }

  object(idx: number, depth: number): void {
    const L = this.L;
    // Positive integer keys first, in order, then the others as they come.
    const ints: number[] = [];
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx) !== 0) {
      lua.lua_pop(L, 1);
      const k = isArrayKey(L, -1);
      if (k > 0) ints.push(k);
    }
    ints.sort((a, b) => a - b);
    this.out.push('{');
    let first = true;
    const member = (): void => {
      // key at -2, value at -1
      if (!first) this.out.push(',');
      first = false;
      const kt = lua.lua_type(L, -2);
      if (kt === lua.LUA_TSTRING) escapeString(lua.lua_tolstring(L, -2) as Uint8Array, this.out);
      else if (kt === lua.LUA_TNUMBER) this.out.push(`"${formatLua51Number(lua.lua_tonumber(L, -2) as number)}"`);
      else this.fail(-2, 'table key must be a number or string');
      this.out.push(':');
      this.value(lua.lua_gettop(L), depth);
    };
    for (const k of ints) {
      lua.lua_pushnumber(L, k);
      lua.lua_pushvalue(L, -1);
      lua.lua_rawget(L, idx);
      member();
      lua.lua_pop(L, 2);
    }
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx) !== 0) {
      if (isArrayKey(L, -2) > 0) {
        lua.lua_pop(L, 1);
        continue;
      }
      member();
      lua.lua_pop(L, 1);
    }
    this.out.push('}');
  }
}

/* ------------------------------------------------------------------ decode */

const enum T {
  OBJ_BEGIN,
  OBJ_END,
  ARR_BEGIN,
  ARR_END,
  STRING,
  NUMBER,
  BOOLEAN,
  NULL,
  COLON,
  COMMA,
  END,
  ERROR,
}
const TOKEN_NAMES = ['T_OBJ_BEGIN', 'T_OBJ_END', 'T_ARR_BEGIN', 'T_ARR_END', 'T_STRING', 'T_NUMBER', 'T_BOOLEAN', 'T_NULL', 'T_COLON', 'T_COMMA', 'T_END', 'T_ERROR'];

interface Token {
  type: T;
  /** Byte offset of the token (of the fault for T_ERROR). */
  index: number;
  str?: Uint8Array;
  num?: number;
  bool?: boolean;
  err?: string;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined): boolean => c !== undefined && (isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
const hexVal = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10);

/**
 * C strtod over `b` from `pos` (no leading blanks): decimal, hex (0x...p..),
 * inf/infinity, nan/nan(...). Returns [value, end] or null if nothing parses.
 */
export function strtod(b: Uint8Array, pos: number): [number, number] | null {
  let p = pos;
  let neg = false;
  if (b[p] === 0x2b || b[p] === 0x2d) {
    neg = b[p] === 0x2d;
    p++;
  }
  const sign = neg ? -1 : 1;
  const word = (at: number, w: string): boolean => {
    for (let i = 0; i < w.length; i++) if (((b[at + i] ?? 0) | 0x20) !== w.charCodeAt(i)) return false;
    return true;
  };
  if (word(p, 'inf')) return [sign * Infinity, word(p + 3, 'inity') ? p + 8 : p + 3];
  if (word(p, 'nan')) {
    p += 3;
    if (b[p] === 0x28) {
      let q = p + 1;
      while (q < b.length && (isHex(b[q]) || isDigit(b[q]) || ((b[q]! | 0x20) >= 0x61 && (b[q]! | 0x20) <= 0x7a) || b[q] === 0x5f)) q++;
      if (b[q] === 0x29) p = q + 1;
    }
    return [NaN, p];
  }
  if (b[p] === 0x30 && ((b[p + 1] ?? 0) | 0x20) === 0x78) {
    let q = p + 2;
    let mant = 0;
    let digits = 0;
    let scale = 0;
    while (isHex(b[q])) {
      mant = mant * 16 + hexVal(b[q++]!);
      digits++;
    }
    if (b[q] === 0x2e) {
      q++;
      while (isHex(b[q])) {
        mant = mant * 16 + hexVal(b[q++]!);
        digits++;
        scale -= 4;
      }
    }
    if (digits === 0) return [sign * 0, p + 1];
    if (((b[q] ?? 0) | 0x20) === 0x70) {
      let r = q + 1;
      let eneg = false;
      if (b[r] === 0x2b || b[r] === 0x2d) eneg = b[r++] === 0x2d;
      if (isDigit(b[r])) {
        let e = 0;
        while (isDigit(b[r])) e = Math.min(e * 10 + (b[r++]! - 0x30), 100000);
        scale += eneg ? -e : e;
        q = r;
      }
    }
    return [sign * mant * Math.pow(2, scale), q];
  }
  let q = p;
  let digits = 0;
  while (isDigit(b[q])) {
    q++;
    digits++;
  }
  if (b[q] === 0x2e) {
    q++;
    while (isDigit(b[q])) {
      q++;
      digits++;
    }
  }
  if (digits === 0) return null;
  if (((b[q] ?? 0) | 0x20) === 0x65) {
    let r = q + 1;
    if (b[r] === 0x2b || b[r] === 0x2d) r++;
    if (isDigit(b[r])) {
      while (isDigit(b[r])) r++;
      q = r;
    }
  }
  const v = Number(fromLuaBytes(b.subarray(p, q)));
  return [sign * v, q];
}

class Decoder {
  pos = 0;
  depth = 0;
  constructor(
    readonly L: LuaState,
    readonly b: Uint8Array,
    readonly cfg: Config,
  ) {}

  fail(what: string, t: Token): never {
    const found = t.type === T.ERROR ? t.err! : TOKEN_NAMES[t.type]!;
    return luaRaise(this.L, `Expected ${what} but found ${found} at character ${t.index + 1}`);
  }

  /** Whether the text at `p` is a number JSON forbids (+1, 0x1, 01, inf, nan). */
  invalidNumber(p: number): boolean {
    const b = this.b;
    if (b[p] === 0x2b) return true;
    if (b[p] === 0x2d) p++;
    const c = b[p] ?? 0;
    if (c === 0x30) {
      const c2 = b[p + 1] ?? 0;
      return (c2 | 0x20) === 0x78 || isDigit(c2);
    }
    if (c <= 0x39) return false;
    const w = fromLuaBytes(b.subarray(p, p + 3)).toLowerCase();
    return w === 'inf' || w === 'nan';
  }

  next(): Token {
    const b = this.b;
    let p = this.pos;
    while (p < b.length && (b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0a || b[p] === 0x0d)) p++;
    this.pos = p;
    const c = p < b.length ? b[p]! : 0;
    const simple = (type: T): Token => {
      this.pos = p + 1;
      return { type, index: p };
    };
    switch (c) {
      case 0:
        return { type: T.END, index: p };
      case 0x7b:
        return simple(T.OBJ_BEGIN);
      case 0x7d:
        return simple(T.OBJ_END);
      case 0x5b:
        return simple(T.ARR_BEGIN);
      case 0x5d:
        return simple(T.ARR_END);
      case 0x3a:
        return simple(T.COLON);
      case 0x2c:
        return simple(T.COMMA);
      case 0x22:
        return this.string(p);
    }
    if (c === 0x2d || isDigit(c)) {
      if (!this.cfg.decodeInvalid && this.invalidNumber(p)) return { type: T.ERROR, index: p, err: 'invalid number' };
      return this.number(p);
    }
    const lit = fromLuaBytes(b.subarray(p, p + 5));
    if (lit.startsWith('true')) {
      this.pos = p + 4;
      return { type: T.BOOLEAN, index: p, bool: true };
    }
    if (lit === 'false') {
      this.pos = p + 5;
      return { type: T.BOOLEAN, index: p, bool: false };
    }
    if (lit.startsWith('null')) {
      this.pos = p + 4;
      return { type: T.NULL, index: p };
    }
    if (this.cfg.decodeInvalid && this.invalidNumber(p)) return this.number(p);
    return { type: T.ERROR, index: p, err: 'invalid token' };
  }

  number(p: number): Token {
    const r = strtod(this.b, p);
    if (r === null) return { type: T.ERROR, index: p, err: 'invalid number' };
    this.pos = r[1];
    return { type: T.NUMBER, index: p, num: r[0] };
  }

  string(start: number): Token {
    const b = this.b;
    let p = start + 1;
    const chunks: number[] = [];
    let from = p;
    const flush = (to: number): void => {
      for (let i = from; i < to; i++) chunks.push(b[i]!);
    };
    for (;;) {
      const c = p < b.length ? b[p]! : 0;
      if (c === 0) return { type: T.ERROR, index: p, err: 'unexpected end of string' };
      if (c === 0x22) break;
      if (c !== 0x5c) {
        p++;
        continue;
      }
      flush(p);
      const e = b[p + 1] ?? 0;
      const simple = ({ 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 } as Record<number, number>)[e];
      if (simple !== undefined) {
        chunks.push(simple);
        p += 2;
      } else if (e === 0x75) {
        const hex4 = (at: number): number => {
          for (let i = 0; i < 4; i++) if (!isHex(b[at + i])) return -1;
          return (hexVal(b[at]!) << 12) | (hexVal(b[at + 1]!) << 8) | (hexVal(b[at + 2]!) << 4) | hexVal(b[at + 3]!);
        };
        let cp = hex4(p + 2);
        let len = 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          const lo = b[p + 6] === 0x5c && b[p + 7] === 0x75 ? hex4(p + 8) : -1;
          cp = lo >= 0xdc00 && lo <= 0xdfff ? 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00) : -1;
          len = 12;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) cp = -1;
        if (cp < 0) return { type: T.ERROR, index: p, err: 'invalid unicode escape code' };
        for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) chunks.push(byte);
        p += len;
      } else {
        return { type: T.ERROR, index: p, err: 'invalid escape code' };
      }
      from = p;
    }
    this.pos = p + 1;
    if (chunks.length === 0) return { type: T.STRING, index: start, str: b.subarray(start + 1, p) };
    flush(p);
    return { type: T.STRING, index: start, str: Uint8Array.from(chunks) };
  }

  /** Pushes the value starting with token `t`. */
  value(t: Token): void {
    const L = this.L;
    switch (t.type) {
      case T.STRING:
        lua.lua_pushstring(L, t.str!.slice());
        return;
      case T.NUMBER:
        lua.lua_pushnumber(L, t.num!);
        return;
      case T.BOOLEAN:
        lua.lua_pushboolean(L, t.bool!);
        return;
      case T.NULL:
        lua.lua_pushlightuserdata(L, null);
        return;
      case T.OBJ_BEGIN:
        this.object(t);
        return;
      case T.ARR_BEGIN:
        this.array(t);
        return;
    }
    this.fail('value', t);
  }

  enter(t: Token): void {
    this.depth++;
    if (this.depth > this.cfg.decodeMaxDepth || !lua.lua_checkstack(this.L, 4)) {
      luaRaise(this.L, `Found too many nested data structures (${this.depth}) at character ${t.index + 1}`);
    }
  }

  object(open: Token): void {
    const L = this.L;
    this.enter(open);
    lua.lua_newtable(L);
    let t = this.next();
    if (t.type !== T.OBJ_END) {
      for (;;) {
        if (t.type !== T.STRING) this.fail('object key string', t);
        lua.lua_pushstring(L, t.str!.slice());
        t = this.next();
        if (t.type !== T.COLON) this.fail('colon', t);
        this.value(this.next());
        lua.lua_rawset(L, -3);
        t = this.next();
        if (t.type === T.OBJ_END) break;
        if (t.type !== T.COMMA) this.fail('comma or object end', t);
        t = this.next();
      }
    }
    this.depth--;
  }

  array(open: Token): void {
    const L = this.L;
    this.enter(open);
    lua.lua_newtable(L);
    let t = this.next();
    if (t.type !== T.ARR_END) {
      for (let i = 1; ; i++) {
        this.value(t);
        lua.lua_rawseti(L, -2, i);
        t = this.next();
        if (t.type === T.ARR_END) break;
        if (t.type !== T.COMMA) this.fail('comma or array end', t);
        t = this.next();
      }
    }
    this.depth--;
  }
}

/* ----------------------------------------------------------------- options */

function noMoreArgs(L: LuaState, n: number): void {
  if ((lua.lua_gettop(L) as number) > n) argError(L, n + 1, 'found too many arguments');
}

/** An integer option at argument `i`: sets it if given; returns the value. */
function intOption(L: LuaState, i: number, cur: number, min: number, max: number): number {
  if (lua.lua_isnoneornil(L, i)) return cur;
  const v = Math.trunc(lauxlib.luaL_checknumber(L, i) as number);
  if (v < min || v > max) argError(L, 1, `expected integer between ${min} and ${max}`);
  return v;
}

/** An enum option (`names`, booleans allowed: true is `onValue`); returns the new index. */
function enumOption(L: LuaState, i: number, cur: number, names: string[], onValue: number): number {
  if (lua.lua_isnoneornil(L, i)) return cur;
  if (lua.lua_type(L, i) === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, i) ? onValue : 0;
  const s = fromLuaBytes(lauxlib.luaL_checklstring(L, i) as Uint8Array);
  const k = names.indexOf(s);
  if (k < 0) argError(L, i, `invalid option '${s}'`);
  return k;
}

function pushEnum(L: LuaState, v: number, names: string[]): void {
  if (v <= 1) lua.lua_pushboolean(L, v === 1);
  else pushString(L, names[v]!);
}

const ON_OFF = ['off', 'on'];
const INVALID = ['off', 'on', 'null'];

/* ------------------------------------------------------------------ module */

/** Pushes a new cjson module table (its own configuration). */
function pushModule(L: LuaState): void {
  const cfg = defaults();
  const fns: [string, (l: LuaState) => number][] = [
    [
      'encode',
      (l) => {
        if (lua.lua_gettop(l) !== 1) argError(l, 1, 'expected 1 argument');
        const enc = new Encoder(l, cfg);
        enc.value(1, 0);
        pushString(l, enc.out.join(''));
        return 1;
      },
    ],
    [
      'decode',
      (l) => {
        if (lua.lua_gettop(l) !== 1) argError(l, 1, 'expected 1 argument');
        const b = lauxlib.luaL_checklstring(l, 1) as Uint8Array;
        if (b.length >= 2 && (b[0] === 0 || b[1] === 0)) luaRaise(l, 'JSON parser does not support UTF-16 or UTF-32');
        const d = new Decoder(l, b, cfg);
        d.value(d.next());
        const t = d.next();
        if (t.type !== T.END) d.fail('the end', t);
        return 1;
      },
    ],
    [
      'encode_sparse_array',
      (l) => {
        noMoreArgs(l, 3);
        cfg.sparseConvert = enumOption(l, 1, cfg.sparseConvert ? 1 : 0, ON_OFF, 1) === 1;
        cfg.sparseRatio = intOption(l, 2, cfg.sparseRatio, 0, INT_MAX);
        cfg.sparseSafe = intOption(l, 3, cfg.sparseSafe, 0, INT_MAX);
        lua.lua_pushboolean(l, cfg.sparseConvert);
        lua.lua_pushinteger(l, cfg.sparseRatio);
        lua.lua_pushinteger(l, cfg.sparseSafe);
        return 3;
      },
    ],
    ['encode_max_depth', (l) => intConfig(l, cfg, 'encodeMaxDepth', 1, INT_MAX)],
    ['decode_max_depth', (l) => intConfig(l, cfg, 'decodeMaxDepth', 1, INT_MAX)],
    ['encode_number_precision', (l) => intConfig(l, cfg, 'precision', 1, 14)],
    ['encode_keep_buffer', (l) => boolConfig(l, cfg, 'keepBuffer')],
    [
      'encode_invalid_numbers',
      (l) => {
        noMoreArgs(l, 1);
        cfg.encodeInvalid = enumOption(l, 1, cfg.encodeInvalid, INVALID, 1);
        pushEnum(l, cfg.encodeInvalid, INVALID);
        return 1;
      },
    ],
    ['decode_invalid_numbers', (l) => boolConfig(l, cfg, 'decodeInvalid')],
    [
      'new',
      (l) => {
        pushModule(l);
        return 1;
      },
    ],
  ];
  lua.lua_createtable(L, 0, fns.length + 3);
  for (const [name, f] of fns) {
    lua.lua_pushjsfunction(L, f);
    lua.lua_setfield(L, -2, toLuaBytes(name));
  }
  lua.lua_pushlightuserdata(L, null);
  lua.lua_setfield(L, -2, toLuaBytes('null'));
  pushString(L, 'cjson');
  lua.lua_setfield(L, -2, toLuaBytes('_NAME'));
  pushString(L, '2.1.0');
  lua.lua_setfield(L, -2, toLuaBytes('_VERSION'));
}

function intConfig(L: LuaState, cfg: Config, key: 'encodeMaxDepth' | 'decodeMaxDepth' | 'precision', min: number, max: number): number {
  noMoreArgs(L, 1);
  cfg[key] = intOption(L, 1, cfg[key], min, max);
  lua.lua_pushinteger(L, cfg[key]);
  return 1;
}

function boolConfig(L: LuaState, cfg: Config, key: 'keepBuffer' | 'decodeInvalid'): number {
  noMoreArgs(L, 1);
  cfg[key] = enumOption(L, 1, cfg[key] ? 1 : 0, ON_OFF, 1) === 1;
  lua.lua_pushboolean(L, cfg[key]);
  return 1;
}

/** Leaves the `cjson` table in the globals. */
export function openCjson(L: LuaState): void {
  pushModule(L);
  lua.lua_setglobal(L, toLuaBytes('cjson'));
}
