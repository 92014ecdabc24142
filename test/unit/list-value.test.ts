/**
 * The list value (a circular deque) against a plain array model, with
 * fast-check: random operation sequences must leave both with the same
 * elements, size and byte count, and give the same results.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ListValue } from '../../src/list/list-value.js';
import { copyValue } from '../../src/keyspace/value-copy.js';
import { encodingOf } from '../../src/keyspace/object-encoding.js';
import { digestValue, newDigest, mixDigest } from '../../src/keyspace/digest.js';

type Op =
  | { op: 'pushLeft' | 'pushRight'; v: string }
  | { op: 'popLeft' | 'popRight' }
  | { op: 'insertAt'; i: number; v: string }
  | { op: 'removeAt'; i: number }
  | { op: 'setAt'; i: number; v: string }
  | { op: 'removeValue'; v: string; count: number }
  | { op: 'trim'; left: number; right: number }
  | { op: 'positions'; v: string; rank: number; count: number; maxlen: number }
  | { op: 'pushMany'; n: number; v: string }
  | { op: 'popMany'; n: number; left: boolean };

const elem = fc.constantFrom('', 'a', 'b', 'c', 'xyz', '\x00\xff');
const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('pushLeft' as const, 'pushRight' as const), v: elem }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('popLeft' as const, 'popRight' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insertAt' as const), i: frac, v: elem }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('removeAt' as const), i: frac }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('setAt' as const), i: frac, v: elem }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeValue' as const), v: elem, count: fc.integer({ min: -4, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('trim' as const), left: frac, right: frac }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('positions' as const),
      v: elem,
      rank: fc.integer({ min: -4, max: 4 }).filter((r) => r !== 0),
      count: fc.integer({ min: 0, max: 3 }),
      maxlen: fc.integer({ min: 0, max: 20 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pushMany' as const), n: fc.integer({ min: 1, max: 40 }), v: elem }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('popMany' as const), n: fc.integer({ min: 1, max: 40 }), left: fc.boolean() }) },
);

/** Reference LPOS on an array. */
function modelPositions(a: string[], v: string, rank: number, count: number, maxlen: number): number[] {
  const out: number[] = [];
  const n = a.length;
  const limit = maxlen === 0 ? n : Math.min(n, maxlen);
  let skip = Math.abs(rank) - 1;
  for (let k = 0; k < limit; k++) {
    const i = rank < 0 ? n - 1 - k : k;
    if (a[i] !== v) continue;
    if (skip-- > 0) continue;
    out.push(i);
    if (count !== 0 && out.length === count) break;
  }
  return out;
}

const bytesOf = (a: string[]): number => a.reduce((s, x) => s + x.length, 0);

/** Apply one op to both; returns [list result, model result]. */
function apply(l: ListValue, m: string[], o: Op): [unknown, unknown] {
  const idx = (f: number, n: number) => Math.min(n - 1, Math.floor(f * n));
  switch (o.op) {
    case 'pushLeft':
      l.pushLeft(o.v);
      m.unshift(o.v);
      return [l.size, m.length];
    case 'pushRight':
      l.pushRight(o.v);
      m.push(o.v);
      return [l.size, m.length];
    case 'popLeft':
      return [l.popLeft(), m.shift()];
    case 'popRight':
      return [l.popRight(), m.pop()];
    case 'insertAt': {
      const i = Math.floor(o.i * (m.length + 1));
      l.insertAt(i, o.v);
      m.splice(i, 0, o.v);
      return [0, 0];
    }
    case 'removeAt':
      if (m.length === 0) return [0, 0];
      {
        const i = idx(o.i, m.length);
        return [l.removeAt(i), m.splice(i, 1)[0]];
      }
    case 'setAt':
      if (m.length === 0) return [0, 0];
      {
        const i = idx(o.i, m.length);
        const old = m[i];
        m[i] = o.v;
        return [l.setAt(i, o.v), old];
      }
    case 'removeValue': {
      const limit = o.count === 0 ? Infinity : Math.abs(o.count);
      let removed = 0;
      if (o.count >= 0) {
        for (let i = 0; i < m.length && removed < limit; ) {
          if (m[i] === o.v) {
            m.splice(i, 1);
            removed++;
          } else i++;
        }
      } else {
        for (let i = m.length - 1; i >= 0 && removed < limit; i--) {
          if (m[i] === o.v) {
            m.splice(i, 1);
            removed++;
          }
        }
      }
      return [l.removeValue(o.v, o.count), removed];
    }
    case 'trim': {
      const left = Math.floor(o.left * (m.length + 1));
      const right = Math.floor(o.right * (m.length - left + 1));
      l.trim(left, right);
      m.splice(0, left);
      m.splice(m.length - right, right);
      return [0, 0];
    }
    case 'positions':
      return [l.positions(o.v, o.rank, o.count, o.maxlen), modelPositions(m, o.v, o.rank, o.count, o.maxlen)];
    case 'pushMany':
      for (let i = 0; i < o.n; i++) {
        l.pushRight(o.v + i);
        m.push(o.v + i);
      }
      return [0, 0];
    case 'popMany': {
      const a: unknown[] = [];
      const b: unknown[] = [];
      for (let i = 0; i < o.n; i++) {
        a.push(o.left ? l.popLeft() : l.popRight());
        b.push(o.left ? m.shift() : m.pop());
      }
      return [a, b];
    }
  }
}

describe('ListValue against an array model', () => {
  it('random operation sequences agree with the model', () => {
    fc.assert(
      fc.property(fc.array(elem, { maxLength: 30 }), fc.array(opArb, { maxLength: 120 }), (init, ops) => {
        const l = new ListValue(init);
        const m = [...init];
        for (const o of ops) {
          const [got, want] = apply(l, m, o);
          expect(got).toEqual(want);
          expect(l.size).toBe(m.length);
          expect(l.bytes).toBe(bytesOf(m));
        }
        expect(l.toArray()).toEqual(m);
        expect([...l]).toEqual(m);
        for (let i = 0; i < m.length; i++) expect(l.at(i)).toBe(m[i]);
        if (m.length > 0) {
          const a = Math.floor(m.length / 3);
          const b = m.length - 1 - a;
          if (a <= b) expect(l.slice(a, b)).toEqual(m.slice(a, b + 1));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a copy is independent of the original', () => {
    fc.assert(
      fc.property(fc.array(elem, { maxLength: 40 }), fc.array(opArb, { maxLength: 40 }), (init, ops) => {
        const l = new ListValue(init);
        const c = copyValue(l) as ListValue;
        expect(c).toBeInstanceOf(ListValue);
        expect(c.toArray()).toEqual(init);
        const m: string[] = [...init];
        for (const o of ops) apply(c, m, o);
        expect(l.toArray()).toEqual(init);
        expect(l.bytes).toBe(bytesOf(init));
        expect(c.toArray()).toEqual(m);
      }),
    );
  });

  it('grows and shrinks its ring while wrapping around', () => {
    const l = new ListValue();
    const m: string[] = [];
    // Rotate many times so that head wraps around every capacity.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) {
        l.pushLeft(`${round}:${i}`);
        m.unshift(`${round}:${i}`);
        if (i % 3 === 0) expect(l.popRight()).toBe(m.pop());
      }
      expect(l.capacity).toBeGreaterThanOrEqual(l.size);
      while (l.size > 3) {
        expect(l.popLeft()).toBe(m.shift());
      }
      expect(l.capacity).toBeLessThanOrEqual(16);
      expect(l.toArray()).toEqual(m);
    }
  });

  it('push and pop at both ends are O(1): a million of each stays fast', () => {
    const l = new ListValue();
    const t0 = performance.now();
    for (let i = 0; i < 500_000; i++) {
      l.pushLeft('x');
      l.pushRight('y');
    }
    for (let i = 0; i < 500_000; i++) {
      l.popLeft();
      l.popRight();
    }
    expect(l.size).toBe(0);
    expect(l.bytes).toBe(0);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('reports the quicklist encoding and digests elements in order', () => {
    const l = new ListValue(['a', 'b']);
    expect(encodingOf(l)).toBe('quicklist');
    const d = newDigest();
    digestValue(d, l, false);
    // Type code 1 (list) then each element, as Redis does.
    const e = newDigest();
    mixDigest(e, Buffer.from([0, 0, 0, 1]));
    mixDigest(e, 'a');
    mixDigest(e, 'b');
    expect(d.toString('hex')).toBe(e.toString('hex'));
    const r = newDigest();
    digestValue(r, new ListValue(['b', 'a']), false);
    expect(r.toString('hex')).not.toBe(d.toString('hex'));
  });
});
