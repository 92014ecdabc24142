/**
 * OBJECT ENCODING / REFCOUNT / FREQ helpers and COPY's deep copy, with the
 * per-kind registries that the aggregate data types fill in.
 */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { encodingOf, lfuDecayedCounter, refcountOf, registerEncodingName, isLfuPolicy } from '../../src/keyspace/object-encoding.js';
import { copyValue, registerValueCopier } from '../../src/keyspace/value-copy.js';
import { MutableString, type AggregateValue } from '../../src/keyspace/values.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('encodingOf', () => {
  it('strings: int / embstr / raw as redis 7.0 encodes a stored argument', () => {
    expect(encodingOf('0')).toBe('int');
    expect(encodingOf('-9223372036854775808')).toBe('int');
    expect(encodingOf('9223372036854775807')).toBe('int');
    expect(encodingOf('9223372036854775808')).toBe('embstr');
    expect(encodingOf('007')).toBe('embstr');
    expect(encodingOf('')).toBe('embstr');
    expect(encodingOf('a'.repeat(44))).toBe('embstr');
    expect(encodingOf('a'.repeat(45))).toBe('raw');
    expect(encodingOf(new MutableString('12'))).toBe('raw');
    expect(encodingOf(new MutableString(''))).toBe('raw');
  });

  it('aggregates ask their registered namer', () => {
    const v = { kind: 'set', n: 3 } as AggregateValue & { n: number };
    expect(() => encodingOf(v)).toThrow(/set/);
    registerEncodingName('set', (x) => ((x as typeof v).n < 5 ? 'intset' : 'hashtable'));
    expect(encodingOf(v)).toBe('intset');
    v.n = 10;
    expect(encodingOf(v)).toBe('hashtable');
  });
});

describe('refcountOf', () => {
  it('shared integers 0..9999 unless maxmemory uses an LRU/LFU policy', () => {
    expect(refcountOf('0', 0, 'noeviction')).toBe(2147483647);
    expect(refcountOf('9999', 0, 'noeviction')).toBe(2147483647);
    expect(refcountOf('10000', 0, 'noeviction')).toBe(1);
    expect(refcountOf('-1', 0, 'noeviction')).toBe(1);
    expect(refcountOf('01', 0, 'noeviction')).toBe(1);
    expect(refcountOf('5', 0, 'allkeys-lru')).toBe(2147483647); // maxmemory 0: sharing stays on
    expect(refcountOf('5', 1000, 'allkeys-lru')).toBe(1);
    expect(refcountOf('5', 1000, 'volatile-lfu')).toBe(1);
    expect(refcountOf('5', 1000, 'allkeys-random')).toBe(2147483647);
    expect(refcountOf(new MutableString('5'), 0, 'noeviction')).toBe(1);
  });
});

describe('LFU counter decay', () => {
  it('decrements by one per lfu-decay-time minutes since the last decrement', () => {
    vi.useFakeTimers();
    const t0 = Date.UTC(2030, 0, 1, 12, 0, 30);
    vi.setSystemTime(t0);
    const minute = Math.floor(t0 / 60000) & 65535;
    const meta = (minute << 8) | 20;
    expect(lfuDecayedCounter(meta, 1)).toBe(20);
    vi.setSystemTime(t0 + 5 * 60000);
    expect(lfuDecayedCounter(meta, 1)).toBe(15);
    expect(lfuDecayedCounter(meta, 2)).toBe(18);
    expect(lfuDecayedCounter(meta, 0)).toBe(20); // decay disabled
    vi.setSystemTime(t0 + 500 * 60000);
    expect(lfuDecayedCounter(meta, 1)).toBe(0);
    expect(isLfuPolicy('allkeys-lfu') && isLfuPolicy('volatile-lfu') && !isLfuPolicy('allkeys-lru')).toBe(true);
  });

  it('handles the 16-bit minute clock wrapping', () => {
    vi.useFakeTimers();
    vi.setSystemTime((500 * 65536 + 1) * 60000 + 10); // minute clock = 1
    // last decrement at minute 65534: Redis counts 65535 - ldt + now = 2 minutes
    expect(lfuDecayedCounter((65534 << 8) | 50, 1)).toBe(48);
    expect(lfuDecayedCounter((1 << 8) | 50, 1)).toBe(50);
  });
});

describe('copyValue', () => {
  it('strings: immutable ones are shared, mutable ones are copied', () => {
    expect(copyValue('abc')).toBe('abc');
    const m = new MutableString('abc');
    const c = copyValue(m) as MutableString;
    expect(c).toBeInstanceOf(MutableString);
    expect(c).not.toBe(m);
    expect(c.toString()).toBe('abc');
    m.append('d');
    c.buf[0] = 0x58;
    expect(m.toString()).toBe('abcd');
    expect(c.toString()).toBe('Xbc');
  });

  it('aggregates use their registered copier', () => {
    type L = AggregateValue & { items: string[] };
    const v: L = { kind: 'list', items: ['a', 'b'] };
    expect(() => copyValue(v)).toThrow(/list/);
    registerValueCopier('list', (x) => ({ kind: 'list', items: [...(x as L).items] }) as L);
    const c = copyValue(v) as L;
    expect(c).not.toBe(v);
    expect(c.items).toEqual(['a', 'b']);
    v.items.push('c');
    expect(c.items).toEqual(['a', 'b']);
  });
});
