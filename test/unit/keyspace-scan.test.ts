/**
 * Keyspace.scan guarantees under concurrent modification: a key present for
 * the whole scan is returned at least once, whatever inserts, deletes and
 * expiries happen between the steps; a returned key was present when it was
 * returned; the scan always terminates.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { newTestKeyspace } from '../helpers/keyspace.js';
import { clock } from '../../src/keyspace/clock.js';

function newKeyspace(): Keyspace {
  return newTestKeyspace();
}

type Op =
  | { op: 'scan'; count: number }
  | { op: 'insert'; key: string }
  | { op: 'delete'; key: string }
  | { op: 'expire'; key: string };

const keyArb = fc.integer({ min: 0, max: 400 }).map((n) => 'k' + n);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 8 }).map((count) => ({ op: 'scan' as const, count })) },
  { weight: 3, arbitrary: keyArb.map((key) => ({ op: 'insert' as const, key })) },
  { weight: 3, arbitrary: keyArb.map((key) => ({ op: 'delete' as const, key })) },
  { weight: 1, arbitrary: keyArb.map((key) => ({ op: 'expire' as const, key })) },
);

describe('Keyspace.scan', () => {
  it('a full scan of a static keyspace returns every key exactly once', () => {
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { maxLength: 300, size: 'large' }), fc.integer({ min: 1, max: 50 }), (keys, count) => {
        const db = newKeyspace();
        for (const k of keys) db.set(k, 'v');
        const seen: string[] = [];
        let cursor = 0;
        do cursor = db.scan(cursor, count, (k) => seen.push(k));
        while (cursor !== 0);
        expect(seen.sort()).toEqual([...keys].sort());
      }),
    );
  });

  it('never loses a key present for the whole scan, under random interleavings', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(keyArb, { maxLength: 300, size: 'large' }),
        fc.array(opArb, { maxLength: 400, size: 'large' }),
        fc.integer({ min: 1, max: 30 }),
        (initial, ops, finalCount) => {
          const t = Date.now();
          clock.frozen = t;
          try {
            const db = newKeyspace();
            for (const k of initial) db.set(k, 'v:' + k);
            // Keys present from the first step until now; a key leaves for good once deleted or expired.
            const stable = new Set(initial);
            const live = new Set(initial);
            const returned = new Set<string>();
            let cursor = 0;
            let started = false;
            let steps = 0;
            const step = (count: number): void => {
              cursor = db.scan(cursor, count, (k, v) => {
                // Whatever is returned is present right now, with its own value.
                expect(live.has(k)).toBe(true);
                expect(v).toBe('v:' + k);
                returned.add(k);
              });
              started = true;
              steps++;
            };
            for (const o of ops) {
              if (started && cursor === 0) break; // scan finished
              if (o.op === 'scan') step(o.count);
              else if (o.op === 'insert') {
                if (!live.has(o.key)) {
                  db.set(o.key, 'v:' + o.key);
                  live.add(o.key);
                }
              } else if (o.op === 'delete') {
                expect(db.delete(o.key)).toBe(live.has(o.key));
                live.delete(o.key);
                stable.delete(o.key);
              } else if (live.has(o.key)) {
                db.setExpire(o.key, t - 1); // logically gone, still occupying its slot
                live.delete(o.key);
                stable.delete(o.key);
              }
            }
            // Finish the scan; it must terminate in a bounded number of steps.
            const bound = steps + initial.length + ops.length + 2;
            while (!started || cursor !== 0) {
              step(finalCount);
              expect(steps).toBeLessThanOrEqual(bound);
            }
            for (const k of stable) expect(returned.has(k)).toBe(true);
          } finally {
            clock.frozen = 0;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skips expired keys and deletes them, as Redis\'s SCAN does', () => {
    const t = Date.now();
    clock.frozen = t;
    try {
      const db = newKeyspace();
      for (let i = 0; i < 50; i++) db.set('k' + i, 'v');
      for (let i = 0; i < 50; i += 2) db.setExpire('k' + i, t - 1);
      const seen: string[] = [];
      let cursor = 0;
      do cursor = db.scan(cursor, 7, (k) => seen.push(k));
      while (cursor !== 0);
      expect(seen.length).toBe(25);
      expect(seen.every((k) => Number(k.slice(1)) % 2 === 1)).toBe(true);
      expect(db.size).toBe(25);
    } finally {
      clock.frozen = 0;
    }
  });
});
