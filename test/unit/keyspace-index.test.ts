/**
 * The keyspace's own hash table (open addressing, backward-shift deletes,
 * swap-with-last slots, a dense volatile index): under random inserts,
 * overwrites, deletes, expiries and persists it must agree with a plain Map
 * model — every key found with its value and expiry, no stale key found,
 * sizes summed exactly — through growth and shrinking of the table.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Keyspace, hashKey, type KeyspaceEvents } from '../../src/keyspace/keyspace.js';
import { newTestKeyspace } from '../helpers/keyspace.js';
import { clock } from '../../src/keyspace/clock.js';
import { entryBytes } from '../../src/memory/size-model.js';
import { markMutated, settleMutations } from '../../src/memory/memory-state.js';
import { ListValue } from '../../src/list/list-value.js';

function newKeyspace(moves?: [string, number, number][], noExpiry = false): Keyspace {
  return newTestKeyspace({ moved: moves ? (_db, key, from, to) => moves.push([key, from, to]) : null, noExpiry });
}

type Op =
  | { op: 'set'; key: string; value: string; keepTtl: boolean }
  | { op: 'del'; key: string }
  | { op: 'expire'; key: string; at: number }
  | { op: 'persist'; key: string };

const keyArb = fc.integer({ min: 0, max: 300 }).map((n) => 'k' + n);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, value: fc.string({ maxLength: 12 }), keepTtl: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('del' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('expire' as const), key: keyArb, at: fc.integer({ min: 1, max: 2000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('persist' as const), key: keyArb }) },
);

/** Check the database against the model: lookups, iteration, volatile index and memory sum. */
function check(db: Keyspace, model: Map<string, { value: string; at: number }>, t: number): void {
  let mem = 0;
  let volatile = 0;
  for (const [k, e] of model) {
    const live = e.at === 0 || e.at > t;
    expect(db.peek(k)).toBe(live ? e.value : undefined);
    if (live) expect(db.getExpire(k)).toBe(e.at);
    mem += entryBytes(k, e.value);
    if (e.at !== 0) volatile++;
  }
  expect(db.size).toBe(model.size);
  expect(db.volatileCount).toBe(volatile);
  expect(db.memBytes).toBe(mem);
  // Every slot's key maps back to that slot.
  const seen = new Set<string>();
  for (let s = 0; s < db.size; s++) {
    const k = db.keyOf(s);
    expect(db.slotOf(k)).toBe(s);
    expect(model.has(k)).toBe(true);
    seen.add(k);
  }
  expect(seen.size).toBe(model.size);
  for (let i = 0; i <= 300; i++) if (!model.has('k' + i)) expect(db.slotOf('k' + i)).toBe(-1);
}

describe('Keyspace hash index', () => {
  it('agrees with a Map under random inserts, deletes, expiries and persists', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 600, size: 'large' }), (ops) => {
        const t = 1000;
        clock.frozen = t;
        try {
          // noExpiry: expired keys stay until deleted, so the model needs no expiry logic of its own.
          const db = newKeyspace(undefined, true);
          const model = new Map<string, { value: string; at: number }>();
          for (const o of ops) {
            const e = model.get(o.key);
            if (o.op === 'set') {
              db.set(o.key, o.value, o.keepTtl);
              model.set(o.key, { value: o.value, at: o.keepTtl && e ? e.at : 0 });
            } else if (o.op === 'del') {
              expect(db.delete(o.key)).toBe(e !== undefined);
              model.delete(o.key);
            } else if (o.op === 'expire') {
              expect(db.setExpire(o.key, o.at)).toBe(e !== undefined);
              if (e) e.at = o.at;
            } else {
              expect(db.persist(o.key)).toBe(e !== undefined && e.at !== 0);
              if (e) e.at = 0;
            }
          }
          check(db, model, 0);
        } finally {
          clock.frozen = 0;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('grows and shrinks through many keys, with lazy expiry removing keys found expired', () => {
    const db = newKeyspace();
    const model = new Map<string, { value: string; at: number }>();
    const t = Date.now();
    for (let i = 0; i < 50_000; i++) {
      db.set('key:' + i, 'v' + i);
      model.set('key:' + i, { value: 'v' + i, at: 0 });
    }
    for (let i = 0; i < 50_000; i += 3) {
      db.setExpire('key:' + i, t - 1000); // already expired: found and removed on access
      model.delete('key:' + i);
    }
    for (let i = 1; i < 50_000; i += 3) {
      db.setExpire('key:' + i, t + 1e9);
      model.get('key:' + i)!.at = t + 1e9;
    }
    for (let i = 0; i < 50_000; i += 3) expect(db.get('key:' + i)).toBeUndefined();
    check(db, model, t);
    const grownTable = db.tableCapacity;
    expect(grownTable).toBeGreaterThanOrEqual(db.size / 0.6);
    for (let i = 0; i < 50_000; i++) {
      if (i % 100 === 0) continue;
      db.delete('key:' + i);
      model.delete('key:' + i);
    }
    check(db, model, t);
    expect(db.tableCapacity).toBeLessThan(grownTable / 8);
    expect(db.slotCapacity).toBeLessThan(4 * db.size + 64);
  });

  it('reports the key moved into a deleted slot', () => {
    const moves: [string, number, number][] = [];
    const db = newKeyspace(moves);
    for (const k of ['a', 'b', 'c', 'd']) db.set(k, k);
    db.delete('b');
    expect(moves).toEqual([['d', 3, 1]]);
    expect(db.keyOf(1)).toBe('d');
    expect(db.slotOf('d')).toBe(1);
    db.delete('d');
    expect(moves).toEqual([['d', 3, 1], ['c', 2, 1]]);
    db.delete('c');
    expect(moves.length).toBe(2);
    expect(db.size).toBe(1);
  });

  it('finds keys whose hashes share the table position (long probe runs)', () => {
    // Keys of the same low hash bits collide in a small table: deleting from the middle of a run
    // must keep the later ones reachable (backward shift).
    const db = newKeyspace();
    const bucket = new Map<number, string[]>();
    for (let i = 0; bucket.size < 64 || ![...bucket.values()].some((b) => b.length >= 6); i++) {
      const k = 'c' + i;
      const b = hashKey(k) & 7;
      if (!bucket.has(b)) bucket.set(b, []);
      bucket.get(b)!.push(k);
      if (i > 10_000) break;
    }
    const same = [...bucket.values()].find((b) => b.length >= 6)!.slice(0, 6);
    for (const k of same) db.set(k, k.toUpperCase());
    db.delete(same[1]!);
    db.delete(same[3]!);
    for (const k of same) expect(db.peek(k)).toBe(k === same[1] || k === same[3] ? undefined : k.toUpperCase());
  });

  it('the hash is an int32 that depends on every char', () => {
    const a = hashKey('x'.repeat(100) + 'a' + 'x'.repeat(100));
    const b = hashKey('x'.repeat(100) + 'b' + 'x'.repeat(100));
    expect(a).not.toBe(b);
    expect(a | 0).toBe(a);
    expect(hashKey('')).toBe(hashKey(''));
  });

  it('clear and swap carry the index with the data', () => {
    const a = newKeyspace();
    const b = newKeyspace();
    for (let i = 0; i < 100; i++) a.set('a' + i, 'x');
    a.setExpire('a5', Date.now() + 100_000);
    b.set('b', 'y');
    a.swapWith(b);
    expect(a.peek('b')).toBe('y');
    expect(a.peek('a1')).toBeUndefined();
    expect(b.peek('a99')).toBe('x');
    expect(b.getExpire('a5')).toBeGreaterThan(0);
    b.clear();
    expect(b.peek('a99')).toBeUndefined();
    expect(b.size).toBe(0);
    b.set('a99', 'z');
    expect(b.get('a99')).toBe('z');
    expect(b.volatileCount).toBe(0);
  });

  it('a value changed in place is measured out, then back in; overwrites and deletes in between are exact', () => {
    const db = newKeyspace();
    (db as unknown as { ev: KeyspaceEvents }).ev.mutated = markMutated;
    const a = new ListValue(['x']);
    db.set('a', a);
    db.set('s', 'str');
    const sum = () => entryBytes('a', a) + entryBytes('s', 'str');
    (db.getForWrite('a') as ListValue).pushRight('y'.repeat(100));
    (db.getForWrite('a') as ListValue).pushRight('z');
    settleMutations();
    expect(db.memBytes).toBe(sum());
    // Overwritten while measured out: counted once, at its new value.
    (db.getForWrite('a') as ListValue).pushRight('w');
    db.set('a', 'plain');
    settleMutations();
    expect(db.memBytes).toBe(entryBytes('a', 'plain') + entryBytes('s', 'str'));
    // Deleted, then added again, before the settle.
    const b = new ListValue(['1', '2']);
    db.set('b', b);
    (db.getForWrite('b') as ListValue).popLeft();
    db.delete('b');
    const b2 = new ListValue(['3']);
    db.set('b', b2);
    settleMutations();
    expect(db.memBytes).toBe(entryBytes('a', 'plain') + entryBytes('s', 'str') + entryBytes('b', b2));
    // Moved by a delete (swap with the last slot) while measured out.
    (db.getForWrite('b') as ListValue).pushRight('4'.repeat(50));
    db.delete('a');
    settleMutations();
    expect(db.memBytes).toBe(entryBytes('s', 'str') + entryBytes('b', b2));
    // Deleting reads the size counted for a slot from its record: after the in-place growth, exactly that.
    db.delete('b');
    db.delete('s');
    expect(db.memBytes).toBe(0);
  });

  it('a slot counting 2^31 bytes or more is measured again when deleted (its record saturates)', () => {
    const measure = Keyspace.measure;
    Keyspace.measure = (key, value) => (key === 'huge' ? 3 * 2 ** 30 : measure(key, value));
    try {
      const db = newKeyspace();
      db.set('small', 'v');
      db.set('huge', 'x');
      expect(db.memBytes).toBe(3 * 2 ** 30 + entryBytes('small', 'v'));
      db.delete('huge');
      expect(db.memBytes).toBe(entryBytes('small', 'v'));
      db.set('huge', 'y');
      db.set('huge', 'z'); // overwrite: the old size out, the new one in
      db.delete('small');
      expect(db.memBytes).toBe(3 * 2 ** 30);
      db.delete('huge');
      expect(db.memBytes).toBe(0);
    } finally {
      Keyspace.measure = measure;
    }
  });
});
