import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { latin1Decode } from '../../src/protocol/bytes.js';
import { RespParser } from '../../src/protocol/resp-parser.js';
import { RespWriter } from '../../src/protocol/resp-writer.js';
import { formatIdParts } from '../../src/stream/stream-id.js';

describe('latin1Decode', () => {
  it('equals latin1Slice for every length and byte value, at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(8), (bytes, off) => {
        const buf = Buffer.alloc(off + bytes.length + 3, 0x7a);
        buf.set(bytes, off);
        const s = latin1Decode(buf, off, off + bytes.length);
        expect(s).toBe(buf.toString('latin1', off, off + bytes.length));
        expect(s.length).toBe(bytes.length);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parser command-name table', () => {
  it('returns the exact first argument whatever names collide in the table', () => {
    const names = ['GET', 'get', 'GeT', 'SET', 'LPUSH', 'lpush', 'XADD', 'a', 'b', 'ab', 'ba', '\xff\x00', 'x'.repeat(16), 'x'.repeat(17)];
    const p = new RespParser();
    const wire: string[] = [];
    const order: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const n of names) {
        wire.push(`*2\r\n$${n.length}\r\n${n}\r\n$1\r\nk\r\n`);
        order.push(n);
      }
    }
    p.feed(Buffer.from(wire.join(''), 'latin1'));
    for (const n of order) expect(p.next()).toEqual([n, 'k']);
    expect(p.next()).toBeNull();
  });
});

describe('RespWriter integers', () => {
  it('writes :<n> exactly for integers of every size', () => {
    const values = [0, 1, 1023, 1024, 9999, 10000, 123456789, 4294967295, 4294967296, -1, -1024, 2 ** 53 - 1, -(2 ** 53), 12n, -5n];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(), fc.integer(), fc.constantFrom(...values)), { maxLength: 50 }), (xs) => {
        const w = new RespWriter();
        for (const x of xs) w.int(x);
        w.arrayLen(xs.length + 5000);
        const out = Buffer.concat(w.take()).toString('latin1');
        expect(out).toBe(xs.map((x) => `:${x}\r\n`).join('') + `*${xs.length + 5000}\r\n`);
      }),
    );
  });
});

describe('stream ID formatting', () => {
  it('formats <ms>-<seq> like a template literal, also for bigint parts', () => {
    const part = fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 99999999, 100000000));
    fc.assert(
      fc.property(part, part, (ms, seq) => {
        expect(formatIdParts(ms, seq)).toBe(`${ms}-${seq}`);
        expect(formatIdParts(ms, seq + 1)).toBe(`${ms}-${seq + 1}`);
      }),
      { numRuns: 2000 },
    );
    expect(formatIdParts(2n ** 64n - 1n, 3)).toBe('18446744073709551615-3');
  });
});
