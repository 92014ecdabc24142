/**
 * The RDB building blocks: CRC-64 (Redis's check value, incremental and
 * slicing paths agree with a bitwise reference), LZF (round trips, bounds,
 * malformed input), listpacks (every integer and string encoding, backlens,
 * structure checks), and the read-only legacy blobs (ziplist, zipmap,
 * intset) built here byte by byte from their format descriptions.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { crc64, Crc64 } from '../../src/persistence/crc64.js';
import { lzfCompress, lzfDecompress } from '../../src/persistence/lzf.js';
import {
  BlobError,
  ListpackBuilder,
  buildIntset,
  buildListpack,
  listpackEntryBytes,
  listpackInt,
  parseIntset,
  parseListpack,
  parseZiplist,
  parseZipmap,
} from '../../src/persistence/rdb-listpack.js';
import { makeZiplist, makeZipmap } from '../helpers/rdb-blobs.js';

/** Bit-at-a-time reference CRC-64/Jones (reflected), with BigInt. */
function crcRef(buf: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const b of buf) {
    crc ^= BigInt(b);
    for (let i = 0; i < 8; i++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('crc64', () => {
  it("has Redis's check value", () => {
    expect(crc64(0, Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
    expect(crc64(0, Buffer.alloc(0))).toBe(0n);
  });

  it('matches a bitwise reference, in one go or in pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 5 }), (data, cuts) => {
        const ref = crcRef(data);
        expect(crc64(0, data)).toBe(ref);
        const c = new Crc64();
        let prev = 0;
        for (const cut of [...cuts.map((x) => Math.min(x, data.length))].sort((a, b) => a - b)) {
          c.update(data, prev, cut);
          prev = cut;
        }
        c.update(data, prev);
        expect(c.value).toBe(ref);
        expect(crc64(crc64(0, data.subarray(0, prev)), data.subarray(prev))).toBe(ref);
        const le = c.bytesLE();
        expect(le.readBigUInt64LE(0)).toBe(ref);
        expect(c.matchesLE(le, 0)).toBe(true);
      }),
    );
  });
});

describe('lzf', () => {
  it('round-trips random and repetitive data', () => {
    const data = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 2000 }),
      fc.array(fc.constantFrom(...'abcab  xyz'.split('')), { minLength: 1, maxLength: 3000 }).map((a) => Buffer.from(a.join(''))),
    );
    fc.assert(
      fc.property(data, (d) => {
        const c = lzfCompress(d, d.length + 64);
        expect(c).not.toBeNull();
        expect(lzfDecompress(c!, d.length).equals(Buffer.from(d))).toBe(true);
      }),
    );
  });

  it('compresses long runs (matches of up to 264 bytes, 8 KiB back) and respects the output bound', () => {
    const d = Buffer.alloc(100_000, 'a');
    const c = lzfCompress(d, d.length - 4)!;
    expect(c.length).toBeLessThan(1200); // ~3 bytes per 264-byte match
    expect(lzfDecompress(c, d.length).equals(d)).toBe(true);
    // Random bytes do not shrink: no output within len - 4.
    const rnd = Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 2654435761) >>> 24));
    expect(lzfCompress(rnd, rnd.length - 4)).toBeNull();
    const far = Buffer.concat([Buffer.from('0123456789abcdef'), Buffer.alloc(9000, 'z'), Buffer.from('0123456789abcdef')]);
    expect(lzfDecompress(lzfCompress(far, far.length)!, far.length).equals(far)).toBe(true);
  });

  it('decodes hand-made streams and rejects malformed ones', () => {
    // literal "ab", then a back reference of 4 bytes, 2 back: "abab" + "ab" repeated.
    const s = Buffer.from([0x01, 0x61, 0x62, (2 << 5) | 0, 0x01]);
    expect(lzfDecompress(s, 6).toString()).toBe('ababab');
    expect(() => lzfDecompress(s, 7)).toThrow(/expected 7/);
    expect(() => lzfDecompress(Buffer.from([0x20, 0x05]), 3)).toThrow(/before the start/);
    expect(() => lzfDecompress(Buffer.from([0x05, 0x61]), 6)).toThrow(/truncated/);
  });
});

describe('listpack', () => {
  it('stores canonical integers in the smallest encoding and everything else as strings', () => {
    const cases: [string, number][] = [
      ['0', 1], ['127', 1], ['128', 2], ['-1', 2], ['-4096', 2], ['4095', 2], ['4096', 3], ['-4097', 3],
      ['32767', 3], ['32768', 4], ['-8388608', 4], ['8388608', 5], ['2147483647', 5], ['2147483648', 9],
      ['-9223372036854775808', 9], ['9223372036854775807', 9],
      ['9223372036854775808', 20], ['-0', 3], ['01', 3], ['+1', 3], [' 1', 3], ['', 1], ['abc', 4],
    ];
    for (const [s, size] of cases) {
      const lp = buildListpack([s]);
      // header 6 + entry + backlen(1) + terminator
      expect(lp.length, s).toBe(6 + size + 1 + 1);
      expect(parseListpack(lp)).toEqual([s]);
      expect(listpackEntryBytes(s)).toBe(size + 1);
    }
    expect(listpackInt('123')).toBe(123);
    expect(listpackInt('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(listpackInt('1e3')).toBeNull();
  });

  it('encodes string lengths 63/64/4095/4096 and multi-byte backlens', () => {
    for (const n of [0, 63, 64, 126, 127, 128, 4095, 4096, 20000]) {
      const s = 'x'.repeat(n);
      const lp = buildListpack(['a', s, '7']);
      expect(parseListpack(lp)).toEqual(['a', s, '7']);
    }
    // 0xE0|len>>8: a 200-byte string, entry length 202 → backlen 0x01 0xCA
    const lp = buildListpack(['y'.repeat(200)]);
    expect([...lp.subarray(6, 8)]).toEqual([0xe0, 200]);
    expect([...lp.subarray(208, 210)]).toEqual([0x01, 0xca]);
  });

  it('round-trips arbitrary elements (binary strings and integers)', () => {
    const el = fc.oneof(
      fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x00-\xff]/g, 'z')),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
      fc.integer({ min: -70000, max: 70000 }).map(String),
    );
    fc.assert(
      fc.property(fc.array(el, { maxLength: 50 }), (items) => {
        expect(parseListpack(buildListpack(items))).toEqual(items);
      }),
    );
  });

  it('reports the element count, or 65535 when it does not fit', () => {
    const b = new ListpackBuilder();
    for (let i = 0; i < 70000; i++) b.append(i);
    const lp = b.finish();
    expect(lp.readUInt16LE(4)).toBe(65535);
    expect(parseListpack(lp).length).toBe(70000);
  });

  it('rejects malformed listpacks', () => {
    const lp = buildListpack(['hello', '5']);
    const wrongTotal = Buffer.from(lp);
    wrongTotal.writeUInt32LE(lp.length + 1, 0);
    expect(() => parseListpack(wrongTotal)).toThrow(BlobError);
    const wrongCount = Buffer.from(lp);
    wrongCount.writeUInt16LE(3, 4);
    expect(() => parseListpack(wrongCount)).toThrow(/3 elements/);
    const badBacklen = Buffer.from(lp);
    badBacklen[6 + 6] = 9;
    expect(() => parseListpack(badBacklen)).toThrow(/backlen/);
    const noEnd = Buffer.from(lp);
    noEnd[noEnd.length - 1] = 0;
    expect(() => parseListpack(noEnd)).toThrow(BlobError);
    expect(parseListpack(Buffer.from([7, 0, 0, 0, 0, 0, 0xff]))).toEqual([]);
    expect(() => parseListpack(Buffer.from([8, 0, 0, 0, 0, 0, 0xff]))).toThrow(/8 bytes/);
  });
});

describe('legacy blobs', () => {
  it('reads ziplists: strings of every length class and every integer encoding', () => {
    const long = 'L'.repeat(300);
    const zl = makeZiplist([
      'a', 'x'.repeat(100), long, 'y'.repeat(17000),
      { int: 0, enc: 0 }, { int: 12, enc: 0 }, { int: -5, enc: 0xfe }, { int: 30000, enc: 0xc0 },
      { int: -8000000, enc: 0xf0 }, { int: 2000000000, enc: 0xd0 }, { int: -(2n ** 62n), enc: 0xe0 },
    ]);
    expect(parseZiplist(zl)).toEqual(['a', 'x'.repeat(100), long, 'y'.repeat(17000), '0', '12', '-5', '30000', '-8000000', '2000000000', String(-(2n ** 62n))]);
    const bad = Buffer.from(zl);
    bad.writeUInt16LE(3, 8);
    expect(() => parseZiplist(bad)).toThrow(/3 elements/);
  });

  it('refuses a ziplist whose prevlen fields or tail offset do not match its entries (Redis deep validation)', () => {
    // "a" at offset 10 (3 bytes), "bc" at 13 (4 bytes), 0xFF at 17.
    const zl = Buffer.from([18, 0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 0x01, 0x61, 3, 0x02, 0x62, 0x63, 0xff]);
    expect(parseZiplist(zl)).toEqual(['a', 'bc']);
    const prev = Buffer.from(zl);
    prev[13] = 4;
    expect(() => parseZiplist(prev)).toThrow("ziplist entry prevlen 4 does not match the previous entry's size 3");
    const first = Buffer.from(zl);
    first[10] = 1;
    expect(() => parseZiplist(first)).toThrow("ziplist entry prevlen 1 does not match the previous entry's size 0");
    const tail = Buffer.from(zl);
    tail[4] = 10;
    expect(() => parseZiplist(tail)).toThrow("ziplist tail offset 10 is not the last entry's offset 13");
    // A 5-byte prevlen holding a small size is valid.
    const wide = Buffer.from([22, 0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 0x01, 0x61, 0xfe, 3, 0, 0, 0, 0x02, 0x62, 0x63, 0xff]);
    expect(parseZiplist(wide)).toEqual(['a', 'bc']);
  });

  it('reads zipmaps, skipping free bytes', () => {
    expect(parseZipmap(makeZipmap([['f', 'v'], ['k'.repeat(300), 'val']], 2))).toEqual(['f', 'v', 'k'.repeat(300), 'val']);
    expect(() => parseZipmap(Buffer.from([1, 1, 0x61]))).toThrow(BlobError);
  });

  it('writes and reads intsets of 16, 32 and 64-bit members, sorted', () => {
    for (const m of [['3', '1', '2'], ['70000', '-5'], ['9223372036854775807', '-9223372036854775808', '0']]) {
      const b = buildIntset(m);
      const sorted = [...m].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      expect(parseIntset(b)).toEqual(sorted);
    }
    expect(buildIntset(['1', '2']).readUInt32LE(0)).toBe(2);
    expect(buildIntset(['1', '40000']).readUInt32LE(0)).toBe(4);
    expect(buildIntset(['1', '4000000000']).readUInt32LE(0)).toBe(8);
    const unsorted = buildIntset(['1', '2']);
    unsorted.writeInt16LE(5, 8);
    expect(() => parseIntset(unsorted)).toThrow(/sorted/);
    expect(() => parseIntset(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/encoding/);
  });
});
