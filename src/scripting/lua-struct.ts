/**
 * The `struct` library Redis 7.0 preloads for scripts (Roberto
 * Ierusalimschy's struct 0.2 API), written from its manual and the replies
 * of redis-server 7.0.15 on x86-64 (the machine it describes: little endian,
 * short 2, int 4, long and size_t 8 bytes, maximum alignment 8):
 *
 * - `struct.pack(fmt, ...)` → a string; `struct.unpack(fmt, s, [pos])` → the
 *   values then the next position (1-based); `struct.size(fmt)` → bytes.
 * - Format: `>` big endian, `<` little endian, `![n]` alignment n (default 8;
 *   starts at 1), `x` a zero byte, `b B` char, `h H` short, `l L` long,
 *   `T` size_t, `i[n] I[n]` n-byte integers (default 4, at most 32), `c[n]`
 *   n chars (`c0`/`c`: the whole string when packing, the preceding number as
 *   length when unpacking), `s` zero-terminated string, `f` float, `d` double,
 *   ` ` ignored. Lower case integers are signed.
 * - Integers go through a 64-bit value (bytes beyond 8 are zero when packing
 *   and shifted out when unpacking) and come back as Lua numbers.
 */
import { lua, lauxlib, toLuaBytes, type LuaState } from './lua-vm.js';
import { argError, luaRaise } from './lua-cjson.js';

const MAXINTSIZE = 32;
const MAXALIGN = 8;
const INT_MAX = 2147483647;
const TWO63 = 9223372036854775808;
const TWO64 = 18446744073709551616;

interface Header {
  little: boolean;
  align: number;
}

/** A format string being read (bytes). */
class Fmt {
  i = 0;
  constructor(readonly b: Uint8Array) {}
  get done(): boolean {
    // A NUL byte ends the format, as for a C string.
    return this.i >= this.b.length || this.b[this.i] === 0;
  }
  next(): number {
    return this.b[this.i++]!;
  }
  private digit(): boolean {
    const c = this.b[this.i];
    return c !== undefined && c >= 0x30 && c <= 0x39;
  }
  /** The decimal number at the cursor, or `df` when there is none. */
  num(L: LuaState, df: number): number {
    if (!this.digit()) return df;
    let a = 0;
    do {
      const d = this.b[this.i]! - 0x30;
      if (a > INT_MAX / 10 || a * 10 > INT_MAX - d) luaRaise(L, 'integral size overflow');
      a = a * 10 + d;
      this.i++;
    } while (this.digit());
    return a;
  }
}

const ch = (c: number): string => String.fromCharCode(c);

/** The size of option `opt` (reading its number), 0 for options without one. */
function optSize(L: LuaState, opt: number, f: Fmt): number {
  switch (ch(opt)) {
    case 'b': case 'B': case 'x': return 1;
    case 'h': case 'H': return 2;
    case 'f': return 4;
    case 'l': case 'L': case 'T': case 'd': return 8;
    case 'c': return f.num(L, 1);
    case 'i': case 'I': {
      const sz = f.num(L, 4);
      if (sz > MAXINTSIZE) luaRaise(L, `integral size ${sz} is larger than limit of ${MAXINTSIZE}`);
      return sz;
    }
    default: return 0;
  }
}

/** Padding before an item of `size` at offset `len`. */
function toAlign(len: number, h: Header, opt: number, size: number): number {
  if (size === 0 || opt === 0x63 /* c */) return 0;
  if (size > h.align) size = h.align;
  return (size - (len & (size - 1))) & (size - 1);
}

/** Options that are not items: endianness, alignment, space. */
function control(L: LuaState, opt: number, f: Fmt, h: Header): void {
  switch (ch(opt)) {
    case ' ': return;
    case '>': h.little = false; return;
    case '<': h.little = true; return;
    case '!': {
      const a = f.num(L, MAXALIGN);
      if (a === 0 || (a & (a - 1)) !== 0) luaRaise(L, `alignment ${a} is not a power of 2`);
      h.align = a;
      return;
    }
    default:
      argError(L, 1, `invalid format option '${ch(opt)}'`);
  }
}

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** A double → the 64-bit value C's conversions give on x86-64. */
function toUint64(n: number): bigint {
  if (Number.isNaN(n)) return 1n << 63n;
  if (n < 0) return n < -TWO63 ? 1n << 63n : BigInt.asUintN(64, BigInt(Math.trunc(n)));
  if (n >= TWO64) return 0n;
  return BigInt(Math.trunc(n));
}

function putInteger(out: number[], n: number, little: boolean, size: number): void {
  let v = toUint64(n);
  const bytes: number[] = [];
  for (let i = 0; i < size; i++) {
    bytes.push(Number(v & 0xffn));
    v >>= 8n;
  }
  if (!little) bytes.reverse();
  out.push(...bytes);
}

function getInteger(b: Uint8Array, pos: number, little: boolean, signed: boolean, size: number): number {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    const byte = b[little ? pos + size - 1 - i : pos + i]!;
    v = BigInt.asUintN(64, (v << 8n) | BigInt(byte));
  }
  if (!signed) return Number(v);
  // The sign bit's mask; the shift count is taken modulo 64, as x86 does.
  const mask = BigInt.asUintN(64, ~0n << BigInt((size * 8 - 1) & 63));
  if (v & mask) v |= mask;
  return Number(BigInt.asIntN(64, v));
}

const f32 = new DataView(new ArrayBuffer(8));

function putFloat(out: number[], n: number, little: boolean, size: 4 | 8): void {
  if (Number.isNaN(n)) {
    // x86's default NaN (what 0/0 gives in Redis's Lua): sign bit set.
    const b = size === 4 ? [0xff, 0xc0, 0, 0] : [0xff, 0xf8, 0, 0, 0, 0, 0, 0];
    out.push(...(little ? b.reverse() : b));
    return;
  }
  if (size === 4) f32.setFloat32(0, n, little);
  else f32.setFloat64(0, n, little);
  for (let i = 0; i < size; i++) out.push(f32.getUint8(i));
}

function getFloat(b: Uint8Array, pos: number, little: boolean, size: 4 | 8): number {
  for (let i = 0; i < size; i++) f32.setUint8(i, b[pos + i]!);
  return size === 4 ? f32.getFloat32(0, little) : f32.getFloat64(0, little);
}

function checkFmt(L: LuaState): Fmt {
  return new Fmt(lauxlib.luaL_checklstring(L, 1) as Uint8Array);
}

function pack(L: LuaState): number {
  const f = checkFmt(L);
  const h: Header = { little: true, align: 1 };
  const out: number[] = [];
  const top = lua.lua_gettop(L) as number;
  let arg = 2;
  let total = 0;
  // A missing argument reads as nil in Redis's struct.pack.
  const number = (i: number): number => (i > top ? argError(L, i, 'number expected, got nil') : (lauxlib.luaL_checknumber(L, i) as number));
  while (!f.done) {
    const opt = f.next();
    let size = optSize(L, opt, f);
    let pad = toAlign(total, h, opt, size);
    total += pad;
    while (pad-- > 0) out.push(0);
    switch (ch(opt)) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
        putInteger(out, number(arg++), h.little, size);
        break;
      case 'x':
        out.push(0);
        break;
      case 'f':
        putFloat(out, number(arg++), h.little, 4);
        break;
      case 'd':
        putFloat(out, number(arg++), h.little, 8);
        break;
      case 'c': case 's': {
        if (arg > top) argError(L, arg, 'string expected, got nil');
        const s = lauxlib.luaL_checklstring(L, arg++) as Uint8Array;
        if (size === 0) size = s.length;
        // The argument named is the next one, as in the original.
        if (s.length < size) argError(L, arg, 'string too short');
        for (let i = 0; i < size; i++) out.push(s[i]!);
        if (opt === 0x73 /* s */) {
          out.push(0);
          size++;
        }
        break;
      }
      default:
        control(L, opt, f, h);
    }
    total += size;
  }
  lua.lua_pushstring(L, Uint8Array.from(out));
  return 1;
}

function unpack(L: LuaState): number {
  const f = checkFmt(L);
  const data = lauxlib.luaL_checklstring(L, 2) as Uint8Array;
  const ld = data.length;
  const start = lua.lua_isnoneornil(L, 3) ? 1 : (lauxlib.luaL_checknumber(L, 3) as number);
  // Checked as an unsigned size: 0 is refused, negative positions are far out of range.
  let pos = Number.isFinite(start) ? Math.trunc(start) : 0;
  if (pos === 0) argError(L, 3, 'offset must be 1 or greater');
  pos--;
  const h: Header = { little: true, align: 1 };
  let n = 0;
  lua.lua_settop(L, 3);
  const fits = (size: number): boolean => pos >= 0 && size <= ld && pos <= ld - size;
  while (!f.done) {
    const opt = f.next();
    let size = optSize(L, opt, f);
    pos += toAlign(pos, h, opt, size);
    if (!fits(size)) argError(L, 2, 'data string too short');
    lauxlib.luaL_checkstack(L, 2, toLuaBytes('too many results'));
    switch (ch(opt)) {
      case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I': {
        const signed = opt >= 0x61;
        lua.lua_pushnumber(L, getInteger(data, pos, h.little, signed, size));
        n++;
        break;
      }
      case 'x':
        break;
      case 'f':
        lua.lua_pushnumber(L, getFloat(data, pos, h.little, 4));
        n++;
        break;
      case 'd':
        lua.lua_pushnumber(L, getFloat(data, pos, h.little, 8));
        n++;
        break;
      case 'c': {
        if (size === 0) {
          if (n === 0 || !lua.lua_isnumber(L, -1)) luaRaise(L, "format 'c0' needs a previous size");
          const prev = lua.lua_tonumber(L, -1) as number;
          size = prev >= 0 ? Math.trunc(prev) : TWO64;
          lua.lua_pop(L, 1);
          n--;
          if (!fits(size)) argError(L, 2, 'data string too short');
        }
        lua.lua_pushstring(L, data.subarray(pos, pos + size));
        n++;
        break;
      }
      case 's': {
        const e = data.indexOf(0, pos);
        if (e < 0) luaRaise(L, 'unfinished string in data');
        size = e - pos + 1;
        lua.lua_pushstring(L, data.subarray(pos, e));
        n++;
        break;
      }
      default:
        control(L, opt, f, h);
    }
    pos += size;
  }
  lua.lua_pushnumber(L, pos + 1);
  return n + 1;
}

function size(L: LuaState): number {
  const f = checkFmt(L);
  const h: Header = { little: true, align: 1 };
  let pos = 0;
  while (!f.done) {
    const opt = f.next();
    const sz = optSize(L, opt, f);
    pos += toAlign(pos, h, opt, sz);
    if (opt === 0x73 /* s */) argError(L, 1, "option 's' has no fixed size");
    else if (opt === 0x63 /* c */ && sz === 0) argError(L, 1, "option 'c0' has no fixed size");
    if (!isAlnum(opt)) control(L, opt, f, h);
    pos += sz;
  }
  lua.lua_pushnumber(L, pos);
  return 1;
}

const FUNCTIONS: [string, (L: LuaState) => number][] = [
  ['pack', pack],
  ['unpack', unpack],
  ['size', size],
];

/** Leaves the `struct` table in the globals. */
export function openStruct(L: LuaState): void {
  lua.lua_createtable(L, 0, FUNCTIONS.length);
  for (const [name, fn] of FUNCTIONS) {
    lua.lua_pushjsfunction(L, fn);
    lua.lua_setfield(L, -2, toLuaBytes(name));
  }
  lua.lua_setglobal(L, toLuaBytes('struct'));
}
