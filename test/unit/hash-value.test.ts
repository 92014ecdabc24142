/**
 * HashValue against a simple model (a Map, whose iteration order is the
 * insertion order a listpack keeps): contents, size, exact byte accounting,
 * order while a listpack, encoding conversions, the field-TTL heap (earliest
 * expiry and its field), HSCAN's guarantee under concurrent modification,
 * deep copies and the order-independent digest.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HashValue } from '../../src/hash/hash-value.js';
import { copyValue } from '../../src/keyspace/value-copy.js';
import { encodingOf } from '../../src/keyspace/object-encoding.js';
import { digestValue, newDigest } from '../../src/keyspace/digest.js';

type Op =
  | { op: 'set'; f: string; v: string; keepTtl: boolean }
  | { op: 'del'; f: string }
  | { op: 'expire'; f: string; at: number }
  | { op: 'persist'; f: string }
  | { op: 'convert' };

const fieldArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '', 'long-field-name', '\x00', '\xff\xfe');
const valueArb = fc.string({ maxLength: 6 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), f: fieldArb, v: valueArb, keepTtl: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('del' as const), f: fieldArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('expire' as const), f: fieldArb, at: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('persist' as const), f: fieldArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'convert' as const }) },
);

interface Model {
  data: Map<string, string>;
  ttl: Map<string, number>;
  hashtable: boolean;
  ex: boolean;
}

function apply(h: HashValue, m: Model, o: Op): void {
  switch (o.op) {
    case 'set': {
      const isNew = !m.data.has(o.f);
      expect(h.set(o.f, o.v, o.keepTtl)).toBe(isNew);
      m.data.set(o.f, o.v);
      if (!o.keepTtl) m.ttl.delete(o.f);
      break;
    }
    case 'del':
      expect(h.delete(o.f)).toBe(m.data.delete(o.f));
      m.ttl.delete(o.f);
      break;
    case 'expire':
      h.setExpire(o.f, o.at);
      if (m.data.has(o.f)) {
        m.ttl.set(o.f, o.at);
        if (!m.hashtable) m.ex = true;
      }
      break;
    case 'persist':
      expect(h.clearExpire(o.f)).toBe(m.ttl.delete(o.f));
      break;
    case 'convert':
      h.checkEntries(0);
      if (m.data.size > 0) m.hashtable = true;
      break;
  }
}

function check(h: HashValue, m: Model): void {
  expect(h.size).toBe(m.data.size);
  let bytes = 0;
  for (const [f, v] of m.data) {
    bytes += f.length + v.length;
    expect(h.get(f)).toBe(v);
    expect(h.has(f)).toBe(true);
    expect(h.expireOf(f)).toBe(m.ttl.get(f) ?? 0);
  }
  expect(h.bytes).toBe(bytes);
  const fields = Array.from({ length: h.size }, (_, i) => h.fieldAt(i));
  const values = Array.from({ length: h.size }, (_, i) => h.valueAt(i));
  if (m.hashtable) expect([...fields].sort()).toEqual([...m.data.keys()].sort());
  else expect(fields).toEqual([...m.data.keys()]); // a listpack keeps insertion order
  for (let i = 0; i < fields.length; i++) expect(values[i]).toBe(m.data.get(fields[i]!));
  expect(h.volatileCount).toBe(m.ttl.size);
  const min = Math.min(...m.ttl.values());
  expect(h.minExpire()).toBe(m.ttl.size === 0 ? 0 : min);
  if (m.ttl.size > 0) expect(m.ttl.get(h.minExpireField())).toBe(min);
  expect(h.encoding).toBe(m.hashtable ? 'hashtable' : m.ex ? 'listpackex' : 'listpack');
}

describe('HashValue', () => {
  it('matches a Map model under random operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const h = new HashValue();
        const m: Model = { data: new Map(), ttl: new Map(), hashtable: false, ex: false };
        for (const o of ops) {
          apply(h, m, o);
          check(h, m);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('pops due fields in expiry order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 80 }), (ttls) => {
        const h = new HashValue();
        const model = new Map<string, number>();
        for (const [i, at] of ttls) {
          h.set('f' + i, 'v');
          h.setExpire('f' + i, at);
          model.set('f' + i, at);
        }
        const popped: number[] = [];
        while (h.volatileCount > 0) {
          const f = h.minExpireField();
          popped.push(h.minExpire());
          expect(h.expireOf(f)).toBe(h.minExpire());
          h.delete(f);
        }
        expect(popped).toEqual([...model.values()].sort((a, b) => a - b));
        expect(h.size).toBe(0);
      }),
    );
  });

  it('converts to a hashtable by field count or length, and never back', () => {
    const h = new HashValue();
    h.set('a', '1');
    h.checkEntries(1);
    h.checkLength(3, 3);
    expect(h.encoding).toBe('listpack');
    h.set('b', '2');
    h.checkEntries(1);
    expect(h.encoding).toBe('hashtable');
    h.delete('b');
    h.checkEntries(512);
    expect(h.encoding).toBe('hashtable');
    const g = new HashValue();
    g.checkLength(4, 3);
    expect(g.encoding).toBe('hashtable');
    expect(encodingOf(g)).toBe('hashtable');
  });

  it('reports listpackex once a listpack had a field TTL, even after it is persisted', () => {
    const h = new HashValue();
    h.set('a', '1');
    h.setExpire('zz', 100); // no such field: nothing changes
    expect(encodingOf(h)).toBe('listpack');
    h.setExpire('a', 100);
    expect(encodingOf(h)).toBe('listpackex');
    h.clearExpire('a');
    expect(encodingOf(h)).toBe('listpackex');
    h.checkEntries(0);
    expect(encodingOf(h)).toBe('hashtable');
  });

  it('a listpack scan returns everything at once, in order, with cursor 0', () => {
    const h = new HashValue();
    for (const f of ['x', 'a', 'm']) h.set(f, f + '!');
    const seen: string[] = [];
    expect(h.scan(12345, 1, (f, v) => seen.push(f, v))).toBe(0);
    expect(seen).toEqual(['x', 'x!', 'a', 'a!', 'm', 'm!']);
  });

  it('a hashtable scan reports every field present for the whole scan, whatever happens in between', () => {
    type S = { op: 'scan'; count: number } | { op: 'add'; f: string } | { op: 'del'; f: string };
    const f = fc.integer({ min: 0, max: 60 }).map((n) => 'f' + n);
    const sArb: fc.Arbitrary<S> = fc.oneof(
      fc.integer({ min: 1, max: 6 }).map((count) => ({ op: 'scan' as const, count })),
      f.map((x) => ({ op: 'add' as const, f: x })),
      f.map((x) => ({ op: 'del' as const, f: x })),
    );
    fc.assert(
      fc.property(fc.array(f, { maxLength: 60 }), fc.array(sArb, { maxLength: 200 }), (initial, steps) => {
        const h = new HashValue();
        h.checkEntries(-1);
        for (const x of initial) h.set(x, 'v');
        const present = new Set(initial);
        const touched = new Set<string>();
        const seen = new Set<string>();
        let cursor = 0;
        let started = false;
        let done = false;
        for (const st of [...steps, ...Array.from({ length: 200 }, () => ({ op: 'scan' as const, count: 5 }))]) {
          if (done) break;
          if (st.op === 'scan') {
            started = true;
            cursor = h.scan(cursor, st.count, (x) => {
              expect(h.has(x)).toBe(true);
              seen.add(x);
            });
            if (cursor === 0) done = true;
          } else if (st.op === 'add') {
            if (!h.has(st.f)) touched.add(st.f);
            h.set(st.f, 'v');
          } else {
            if (h.delete(st.f)) touched.add(st.f);
          }
        }
        expect(started && done).toBe(true);
        for (const x of present) if (!touched.has(x)) expect(seen.has(x)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('copies deeply (fields, values, TTLs, encoding)', () => {
    const h = new HashValue();
    h.set('a', '1');
    h.set('b', '2');
    h.setExpire('a', 500);
    const c = copyValue(h) as HashValue;
    expect(c).not.toBe(h);
    expect(c.get('a')).toBe('1');
    expect(c.expireOf('a')).toBe(500);
    expect(c.encoding).toBe('listpackex');
    c.set('a', 'changed');
    c.delete('b');
    expect(h.get('a')).toBe('1');
    expect(h.get('b')).toBe('2');
    expect(h.expireOf('a')).toBe(500);
    expect(c.expireOf('a')).toBe(0);
    expect(c.bytes).toBe(8);
    expect(h.bytes).toBe(4);
    expect(c.sched).toBeNull();
  });

  it('digests independently of field order', () => {
    const a = new HashValue();
    const b = new HashValue();
    a.set('x', '1');
    a.set('y', '2');
    b.set('y', '2');
    b.set('x', '1');
    const da = newDigest();
    const db = newDigest();
    digestValue(da, a, false);
    digestValue(db, b, false);
    expect(da.equals(db)).toBe(true);
    b.set('x', '3');
    const dc = newDigest();
    digestValue(dc, b, false);
    expect(dc.equals(da)).toBe(false);
  });
});
