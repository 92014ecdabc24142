/**
 * SetValue against a model (a JS Set plus the encoding rule of Redis 7.0:
 * intset while every member is a canonical int64 and the size never went past
 * set-max-intset-entries; hashtable for good afterwards).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SetValue, asSet, compareIntStrings } from '../../src/set/set-value.js';
import { encodingOf } from '../../src/keyspace/object-encoding.js';
import { copyValue } from '../../src/keyspace/value-copy.js';
import { digestValue, newDigest } from '../../src/keyspace/digest.js';
import { isIntegerEncodable } from '../../src/numbers/parse.js';

const memberArb = fc.oneof(
  fc.integer({ min: -50, max: 50 }).map(String),
  fc.constantFrom('9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0', '+1', ' 1'),
  fc.string({ maxLength: 4 }),
);

type Op = { op: 'add'; m: string } | { op: 'remove'; m: string } | { op: 'pop' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: memberArb.map((m) => ({ op: 'add' as const, m })) },
  { weight: 3, arbitrary: memberArb.map((m) => ({ op: 'remove' as const, m })) },
  { weight: 1, arbitrary: fc.constant({ op: 'pop' as const }) },
);

const byBigInt = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
const sorted = (a: Iterable<string>): string[] => [...a].sort();

describe('SetValue', () => {
  it('behaves like a JS Set, with exact size, bytes and encoding', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), fc.integer({ min: 0, max: 20 }), (ops, max) => {
        const v = new SetValue();
        const model = new Set<string>();
        let intset = true;
        for (const o of ops) {
          if (o.op === 'add') {
            const added = v.add(o.m, max);
            expect(added).toBe(!model.has(o.m));
            model.add(o.m);
            if (added && (model.size > max || !isIntegerEncodable(o.m))) intset = false;
          } else if (o.op === 'remove') {
            expect(v.remove(o.m)).toBe(model.delete(o.m));
          } else {
            const m = v.pop();
            if (model.size === 0) expect(m).toBeUndefined();
            else {
              expect(model.has(m!)).toBe(true);
              model.delete(m!);
            }
          }
          expect(v.size).toBe(model.size);
        }
        expect(sorted(v.members())).toEqual(sorted(model));
        for (const m of model) expect(v.has(m)).toBe(true);
        expect(v.bytes).toBe([...model].reduce((n, m) => n + m.length, 0));
        expect(v.isIntset).toBe(intset);
        if (v.size > 0) expect(encodingOf(v)).toBe(intset ? 'intset' : 'hashtable');
        if (intset) expect(v.members()).toEqual([...model].sort(byBigInt));
      }),
    );
  });

  it('compareIntStrings orders canonical int64 strings numerically', () => {
    const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
    fc.assert(
      fc.property(i64, i64, (a, b) => {
        expect(Math.sign(compareIntStrings(a, b))).toBe(byBigInt(a, b));
      }),
    );
  });

  it('an intset iterates in ascending numeric order, a hashtable never converts back', () => {
    const v = SetValue.from(['10', '-1', '3', '-20', '9223372036854775807', '-9223372036854775808', '0'], 512);
    expect(v.isIntset).toBe(true);
    expect(v.members()).toEqual(['-9223372036854775808', '-20', '-1', '0', '3', '10', '9223372036854775807']);
    v.add('x', 512);
    expect(v.isIntset).toBe(false);
    v.remove('x');
    expect(v.isIntset).toBe(false);
    // Size limit: more than max entries converts; max 0 converts on the first member.
    expect(SetValue.from(['1', '2'], 2).isIntset).toBe(true);
    expect(SetValue.from(['1', '2', '3'], 2).isIntset).toBe(false);
    expect(SetValue.from(['1'], 0).isIntset).toBe(false);
    // Non-canonical integers are strings to Redis.
    for (const m of ['01', '-0', '+1', '1 ', '9223372036854775808', '1.0']) expect(SetValue.from([m], 512).isIntset).toBe(false);
  });

  it('reencode decides the encoding afresh', () => {
    const v = SetValue.from(['1', '2', '3', 'x'], 512);
    v.remove('x');
    expect(v.isIntset).toBe(false);
    v.reencode(2);
    expect(v.isIntset).toBe(false);
    v.reencode(3);
    expect(v.isIntset).toBe(true);
    expect(v.members()).toEqual(['1', '2', '3']);
    v.add('y', 512);
    v.reencode(512);
    expect(v.isIntset).toBe(false);
  });

  it('sampleDistinct returns distinct members of the set', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 60 }), fc.integer({ min: 1, max: 80 }), (members, count) => {
        const v = SetValue.from(members, 512);
        const got = v.sampleDistinct(count);
        expect(got.length).toBe(Math.min(count, members.length));
        expect(new Set(got).size).toBe(got.length);
        for (const m of got) expect(v.has(m)).toBe(true);
      }),
    );
  });

  it('random() and pop() reach every member', () => {
    const v = SetValue.from(['a', 'b', 'c', 'd'], 512);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) seen.add(v.random()!);
    expect(sorted(seen)).toEqual(['a', 'b', 'c', 'd']);
    const popped: string[] = [];
    while (v.size > 0) popped.push(v.pop()!);
    expect(sorted(popped)).toEqual(['a', 'b', 'c', 'd']);
    expect(v.bytes).toBe(0);
  });

  it('a full scan of a static set returns every member exactly once', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 200 }), fc.integer({ min: 1, max: 30 }), (members, count) => {
        const v = SetValue.from(['x-not-int', ...members], 512);
        const seen: string[] = [];
        let cursor = 0;
        do cursor = v.scan(cursor, count, (m) => seen.push(m));
        while (cursor !== 0);
        expect(sorted(seen)).toEqual(sorted(new Set(['x-not-int', ...members])));
      }),
    );
  });

  it('a scan returns every member present for the whole scan, whatever happens between steps', () => {
    type Step = { op: 'scan'; count: number } | { op: 'add'; m: string } | { op: 'remove'; m: string };
    const m = fc.integer({ min: 0, max: 150 }).map((n) => 'm' + n);
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      fc.integer({ min: 1, max: 8 }).map((count) => ({ op: 'scan' as const, count })),
      m.map((x) => ({ op: 'add' as const, m: x })),
      m.map((x) => ({ op: 'remove' as const, m: x })),
    );
    fc.assert(
      fc.property(fc.uniqueArray(m, { maxLength: 120 }), fc.array(stepArb, { maxLength: 300 }), (initial, steps) => {
        const v = SetValue.from(initial, 512);
        const always = new Set(initial);
        const seen = new Set<string>();
        let cursor = 0;
        let started = false;
        for (const st of steps) {
          if (st.op === 'add') v.add(st.m, 512);
          else if (st.op === 'remove') {
            v.remove(st.m);
            always.delete(st.m);
          } else {
            cursor = v.scan(cursor, st.count, (x) => {
              expect(v.has(x)).toBe(true);
              seen.add(x);
            });
            started = true;
            if (cursor === 0) break;
          }
        }
        // Finish the scan without further changes.
        if (!started || cursor !== 0) {
          do cursor = v.scan(cursor, 5, (x) => seen.add(x));
          while (cursor !== 0);
        }
        for (const x of always) expect(seen.has(x)).toBe(true);
      }),
    );
  });

  it('an intset scan returns everything at once, whatever the cursor', () => {
    const v = SetValue.from(['3', '1', '2'], 512);
    const out: string[] = [];
    expect(v.scan(17, 1, (m) => out.push(m))).toBe(0);
    expect(out).toEqual(['1', '2', '3']);
  });

  it('COPY gets an independent deep copy with the same encoding', () => {
    const v = SetValue.from(['1', '2'], 512);
    const c = copyValue(v) as SetValue;
    c.add('x', 512);
    v.remove('1');
    expect(sorted(v.members())).toEqual(['2']);
    expect(sorted(c.members())).toEqual(['1', '2', 'x']);
    expect(v.isIntset).toBe(true);
    expect(c.isIntset).toBe(false);
    expect(c.bytes).toBe(3);
  });

  it('DEBUG DIGEST-VALUE matches redis-server 7.0.15 (order independent)', () => {
    const digest = (v: SetValue): string => {
      const d = newDigest();
      digestValue(d, v, false);
      return d.toString('hex');
    };
    // Values read from redis-server 7.0.15 for SADD h 5 3 10 -1 100 and SADD s a b "" c.
    expect(digest(SetValue.from(['5', '3', '10', '-1', '100'], 512))).toBe('900997a44e88208a5f7aaed809138cff9248c70f');
    expect(digest(SetValue.from(['c', '', 'b', 'a'], 512))).toBe('830587fa26063e495cc24b05c82b6b8f9ccbdd7b');
  });

  it('asSet throws WRONGTYPE for other types', () => {
    expect(asSet(undefined)).toBeUndefined();
    const v = new SetValue();
    expect(asSet(v)).toBe(v);
    expect(() => asSet('str')).toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
  });
});
