/**
 * The off-heap store of short string values (src/keyspace/value-arena.ts),
 * alone and behind a Keyspace: bytes round-trip exactly, chunks are reused
 * after release, long values stay on the heap.
 */
import { describe, it, expect } from 'vitest';
import { ValueArena, ARENA_MAX_LENGTH } from '../../src/keyspace/value-arena.js';
import { newTestKeyspace } from '../helpers/keyspace.js';
import { entryBytes } from '../../src/memory/size-model.js';
import { MutableString } from '../../src/keyspace/values.js';

const all256 = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');

describe('ValueArena', () => {
  it('stores and reads back every byte value 0-255', () => {
    const a = new ValueArena();
    const h = a.store(all256);
    expect(h).toBeGreaterThanOrEqual(0);
    const back = a.read(h);
    expect(back).toBe(all256);
    expect(Buffer.from(back, 'latin1')).toEqual(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    expect(a.lengthOf(h)).toBe(256);
  });

  it('round-trips the empty string and lengths around every class boundary', () => {
    const a = new ValueArena();
    const stored: [number, string][] = [];
    for (let len = 0; len <= ARENA_MAX_LENGTH; len++) {
      const s = Array.from({ length: len }, (_, i) => String.fromCharCode((i * 7 + len) & 0xff)).join('');
      const h = a.store(s);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 30);
      stored.push([h, s]);
    }
    // Neighbouring chunks did not overwrite each other.
    for (const [h, s] of stored) expect(a.read(h)).toBe(s);
    expect(a.count).toBe(ARENA_MAX_LENGTH + 1);
  });

  it('refuses values longer than the largest class', () => {
    const a = new ValueArena();
    expect(a.store('x'.repeat(ARENA_MAX_LENGTH))).toBeGreaterThanOrEqual(0);
    expect(a.store('x'.repeat(ARENA_MAX_LENGTH + 1))).toBe(-1);
    expect(a.store('x'.repeat(100_000))).toBe(-1);
  });

  it('reuses a released chunk of the same class, not of another', () => {
    const a = new ValueArena();
    const h1 = a.store('a'.repeat(100));
    const h2 = a.store('b'.repeat(100));
    a.release(h1);
    expect(a.count).toBe(1);
    // 10 bytes: another class, new space.
    const h3 = a.store('c'.repeat(10));
    expect(h3).not.toBe(h1);
    // 98 bytes: the same 112-byte class as 100.
    const h4 = a.store('d'.repeat(98));
    expect(h4).toBe(h1);
    expect(a.read(h4)).toBe('d'.repeat(98));
    expect(a.read(h2)).toBe('b'.repeat(100));
    expect(a.read(h3)).toBe('c'.repeat(10));
  });

  it('fills many slabs and keeps every value intact through churn', () => {
    const a = new ValueArena();
    const live = new Map<number, string>();
    let n = 0;
    for (let round = 0; round < 40_000; round++) {
      const s = `v${n++}:` + 'x'.repeat(n % 300);
      const h = a.store(s);
      expect(live.has(h)).toBe(false);
      live.set(h, s);
      if (round % 3 === 2) {
        const victim = live.keys().next().value!;
        a.release(victim);
        live.delete(victim);
      }
    }
    expect(a.slabBytes).toBeGreaterThan(1 << 20);
    for (const [h, s] of live) expect(a.read(h)).toBe(s);
    expect(a.count).toBe(live.size);
  });
});

describe('Keyspace with arena values', () => {
  it('hands out equal strings and frees chunks on overwrite, delete and clear', () => {
    const db = newTestKeyspace();
    db.set('k', all256);
    expect(db.get('k')).toBe(all256);
    expect(db.peek('k')).toBe(all256);
    expect(db.memBytes).toBe(entryBytes('k', all256));
    db.set('k', 'short');
    expect(db.get('k')).toBe('short');
    expect(db.memBytes).toBe(entryBytes('k', 'short'));
    const big = 'z'.repeat(ARENA_MAX_LENGTH + 1);
    db.set('big', big);
    expect(db.get('big')).toBe(big);
    expect(db.delete('k')).toBe(true);
    expect(db.get('k')).toBeUndefined();
    expect(db.memBytes).toBe(entryBytes('big', big));
    const seen: string[] = [];
    db.forEachLive((key, v) => seen.push(key + '=' + (v as string).length));
    expect(seen).toEqual([`big=${ARENA_MAX_LENGTH + 1}`]);
  });

  it('getForWrite returns the value and keeps it on the heap after', () => {
    const db = newTestKeyspace();
    db.set('k', 'hello');
    const v = db.getForWrite('k');
    expect(v).toBe('hello');
    db.set('k', new MutableString(Buffer.from('hello world', 'latin1')));
    expect(String(db.get('k'))).toBe('hello world');
  });

  it('slot arrays frozen before clear() still read the old values', () => {
    const db = newTestKeyspace();
    for (let i = 0; i < 100; i++) db.set('k' + i, 'v' + i);
    const frozen = db.slotArrays();
    db.clear();
    for (let i = 0; i < 100; i++) db.set('k' + i, 'new' + i);
    for (let s = 0; s < frozen.keys.length; s++) {
      expect(frozen.valueAt(s)).toBe('v' + frozen.keys[s]!.slice(1));
    }
  });

  it('swapWith moves the values with their arena', () => {
    const a = newTestKeyspace({}, 0);
    const b = newTestKeyspace({}, 1);
    a.set('x', 'in-a');
    b.set('y', 'in-b');
    a.swapWith(b);
    expect(a.get('y')).toBe('in-b');
    expect(b.get('x')).toBe('in-a');
    expect(a.get('x')).toBeUndefined();
  });
});
