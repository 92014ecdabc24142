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
