/**
 * The `bit` library Redis 7.0 preloads for scripts (LuaBitOp's API):
 * tobit, tohex, bnot, band, bor, bxor, lshift, rshift, arshift, rol, ror,
 * bswap. Operands are Lua numbers normalised to 32 bits the way LuaBitOp
 * does it (add 2^52+2^51 to the double and keep the low 32 bits of the
 * result: round half to even, then modulo 2^32; NaN and inf give 0); results
 * are signed 32-bit values pushed as Lua (float) numbers, as in Lua 5.1.
 */
import { lua, lauxlib, toLuaBytes, pushString, type LuaState } from './lua-vm.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** Index of the low 32-bit word of a double in `u32` on this machine. */
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/** A double → its 32-bit pattern (unsigned), as LuaBitOp computes it. */
export function toBits(n: number): number {
  f64[0] = n + 6755399441055744.0;
  return u32[LOW]!;
}

/** Argument `i` as 32 bits (luaL_checknumber's errors for non-numbers). */
function arg(L: LuaState, i: number): number {
  return toBits(lauxlib.luaL_checknumber(L, i) as number);
}

function push(L: LuaState, bits: number): number {
  lua.lua_pushnumber(L, bits | 0);
  return 1;
}

/** band/bor/bxor: fold over all arguments (at least one). */
function fold(op: (a: number, b: number) => number) {
  return (L: LuaState): number => {
    let acc = arg(L, 1);
    const n = lua.lua_gettop(L) as number;
    for (let i = 2; i <= n; i++) acc = op(acc, arg(L, i));
    return push(L, acc);
  };
}

function shift(op: (x: number, n: number) => number) {
  return (L: LuaState): number => {
    const x = arg(L, 1);
    const n = arg(L, 2) & 31;
    return push(L, op(x, n));
  };
}

const FUNCTIONS: [string, (L: LuaState) => number][] = [
  ['tobit', (L) => push(L, arg(L, 1))],
  ['bnot', (L) => push(L, ~arg(L, 1))],
  ['band', fold((a, b) => a & b)],
  ['bor', fold((a, b) => a | b)],
  ['bxor', fold((a, b) => a ^ b)],
  ['lshift', shift((x, n) => x << n)],
  ['rshift', shift((x, n) => x >>> n)],
  ['arshift', shift((x, n) => (x | 0) >> n)],
  ['rol', shift((x, n) => (x << n) | (x >>> ((32 - n) & 31)))],
  ['ror', shift((x, n) => (x >>> n) | (x << ((32 - n) & 31)))],
  [
    'bswap',
    (L) => {
      const x = arg(L, 1);
      return push(L, ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24));
    },
  ],
  [
    'tohex',
    (L) => {
      const x = arg(L, 1);
      let n = lua.lua_isnone(L, 2) ? 8 : arg(L, 2) | 0;
      let upper = false;
      if (n < 0) {
        n = -n;
        upper = true;
      }
      if (n > 8) n = 8;
      let hex = (x >>> 0).toString(16).padStart(8, '0').slice(8 - n);
      if (upper) hex = hex.toUpperCase();
      pushString(L, hex);
      return 1;
    },
  ],
];

/** Leaves the `bit` table in the globals. */
export function openBit(L: LuaState): void {
  lua.lua_createtable(L, 0, FUNCTIONS.length);
  for (const [name, f] of FUNCTIONS) {
    lua.lua_pushjsfunction(L, f);
    lua.lua_setfield(L, -2, toLuaBytes(name));
  }
  lua.lua_setglobal(L, toLuaBytes('bit'));
}
