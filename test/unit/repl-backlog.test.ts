import { describe, it, expect } from 'vitest';
import { ReplBacklog } from '../../src/server/repl-backlog.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('ReplBacklog', () => {
  it('holds the last `size` bytes of the stream, with their replication offsets', () => {
    const bl = new ReplBacklog(8, 100);
    expect([bl.firstByteOffset, bl.histlen]).toEqual([101, 0]);
    expect(bl.readFrom(101)!.toString()).toBe('');
    expect(bl.readFrom(100)).toBe(null);
    bl.append(b('abcde'));
    expect([bl.firstByteOffset, bl.endOffset, bl.histlen]).toEqual([101, 105, 5]);
    expect(bl.readFrom(101)!.toString()).toBe('abcde');
    expect(bl.readFrom(104)!.toString()).toBe('de');
    expect(bl.readFrom(107)).toBe(null);
    bl.append(b('fghij')); // wraps around
    expect([bl.firstByteOffset, bl.endOffset, bl.histlen]).toEqual([103, 110, 8]);
    expect(bl.readFrom(103)!.toString()).toBe('cdefghij');
    expect(bl.readFrom(102)).toBe(null);
    expect(bl.readFrom(109)!.toString()).toBe('ij');
    bl.append(b('0123456789ABC')); // more than the buffer at once
    expect([bl.firstByteOffset, bl.endOffset]).toEqual([116, 123]);
    expect(bl.readFrom(116)!.toString()).toBe('6789ABC'.padStart(8, '5'));
  });

  it('resize keeps the most recent history that fits', () => {
    const bl = new ReplBacklog(8, 0);
    bl.append(b('abcdefghijk'));
    bl.resize(4);
    expect([bl.firstByteOffset, bl.endOffset, bl.histlen, bl.size]).toEqual([8, 11, 4, 4]);
    expect(bl.readFrom(8)!.toString()).toBe('hijk');
    bl.resize(16);
    bl.append(b('lmn'));
    expect(bl.readFrom(8)!.toString()).toBe('hijklmn');
  });
});

describe('ReplBacklog: history a waiting replica needs', () => {
  it('is kept beyond the size while pinned, and trimmed back once released', () => {
    const bl = new ReplBacklog(4, 0);
    let pin = Infinity;
    bl.pinned = () => pin;
    bl.append(b('abcdef'));
    expect([bl.firstByteOffset, bl.histlen]).toEqual([3, 4]);
    pin = 5; // a replica's image is at offset 4: it needs the stream from 5 on
    bl.append(b('ghijklmnop'));
    expect([bl.firstByteOffset, bl.endOffset, bl.histlen]).toEqual([5, 16, 12]);
    expect(bl.readFrom(5)!.toString()).toBe('efghijklmnop');
    expect(bl.memory).toBeGreaterThanOrEqual(12);
    pin = Infinity;
    bl.trim();
    expect([bl.firstByteOffset, bl.histlen]).toEqual([13, 4]);
    expect(bl.readFrom(13)!.toString()).toBe('mnop');
  });

  it('reads across blocks: what was appended, byte for byte', () => {
    const bl = new ReplBacklog(100_000, 0);
    const parts: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const p = Buffer.alloc(i % 50 === 0 ? 40_000 : (i * 37) % 700, i % 251);
      parts.push(p);
      bl.append(p);
    }
    const all = Buffer.concat(parts);
    const from = bl.firstByteOffset;
    expect(bl.histlen).toBe(100_000);
    expect(bl.readFrom(from)!.equals(all.subarray(from - 1))).toBe(true);
    expect(bl.readFrom(bl.endOffset - 10)!.equals(all.subarray(all.length - 11))).toBe(true);
  });
});
