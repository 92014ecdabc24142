/**
 * Redis's CRC-64: the "Jones" polynomial (0xad93d23594c935a9), reflected
 * input and output, initial value 0, no final xor. The RDB file trailer and
 * the DUMP payload footer carry it, little-endian.
 * Check value: crc64(0, "123456789") = 0xe9c6d914c4b8d9ca.
 *
 * JS has no fast 64-bit integers, so the register is kept as two 32-bit
 * halves and the table-driven update reads eight bytes per step
 * ("slicing-by-8": eight 256-entry tables, each entry split in hi/lo).
 */

/** The reflected polynomial, as hi/lo 32-bit halves (0x95ac9329ac4bc9b5). */
const POLY_HI = 0x95ac9329;
const POLY_LO = 0xac4bc9b5;

/** Tables k = 0..7: TLO[k * 256 + i], THI[k * 256 + i]. */
const TLO = new Uint32Array(8 * 256);
const THI = new Uint32Array(8 * 256);

(function buildTables(): void {
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let b = 0; b < 8; b++) {
      const odd = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (odd) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    TLO[i] = lo;
    THI[i] = hi;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const plo = TLO[(k - 1) * 256 + i]!;
      const phi = THI[(k - 1) * 256 + i]!;
      const idx = plo & 0xff;
      TLO[k * 256 + i] = (((plo >>> 8) | (phi << 24)) ^ TLO[idx]!) >>> 0;
      THI[k * 256 + i] = ((phi >>> 8) ^ THI[idx]!) >>> 0;
    }
  }
})();

/** A running CRC-64 register (two 32-bit halves), for incremental use without BigInt. */
export class Crc64 {
  lo = 0;
  hi = 0;

  constructor(initial: bigint | number = 0) {
    const v = BigInt(initial) & 0xffffffffffffffffn;
    this.lo = Number(v & 0xffffffffn);
    this.hi = Number(v >> 32n);
  }

  /** Feed `buf[start..end)`. */
  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    // Eight bytes per step, then the remaining 0..7 one at a time.
    const body = end - ((end - i) & 7);
    for (; i < body; i += 8) {
      const l = (lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
      const h = (hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24))) >>> 0;
      const a = 7 * 256 + (l & 0xff);
      const b = 6 * 256 + ((l >>> 8) & 0xff);
      const c = 5 * 256 + ((l >>> 16) & 0xff);
      const d = 4 * 256 + (l >>> 24);
      const e = 3 * 256 + (h & 0xff);
      const f = 2 * 256 + ((h >>> 8) & 0xff);
      const g = 256 + ((h >>> 16) & 0xff);
      const k = h >>> 24;
      lo = TLO[a]! ^ TLO[b]! ^ TLO[c]! ^ TLO[d]! ^ TLO[e]! ^ TLO[f]! ^ TLO[g]! ^ TLO[k]!;
      hi = THI[a]! ^ THI[b]! ^ THI[c]! ^ THI[d]! ^ THI[e]! ^ THI[f]! ^ THI[g]! ^ THI[k]!;
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TLO[idx]!;
      hi = (hi >>> 8) ^ THI[idx]!;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The register as 8 little-endian bytes (how RDB and DUMP store it). */
  bytesLE(): Buffer {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32LE(this.lo, 0);
    b.writeUInt32LE(this.hi, 4);
    return b;
  }

  /** Does `buf[at..at+8)` hold this register, little-endian? */
  matchesLE(buf: Uint8Array, at: number): boolean {
    const lo = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
    const hi = (buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24)) >>> 0;
    return lo === this.lo && hi === this.hi;
  }
}

/** CRC-64 of `buf`, continuing from `crc` (0 to start). */
export function crc64(crc: bigint | number, buf: Uint8Array): bigint {
  return new Crc64(crc).update(buf).value;
}
