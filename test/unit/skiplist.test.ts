/**
 * The sorted set structure (src/zset/skiplist.ts behind src/zset/zset-value.ts)
 * against a model: a plain array kept sorted by (score, member).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NIL, Skiplist, type LexBound, type LexRange, type ScoreRange } from '../../src/zset/skiplist.js';
import { ZsetValue, listpackScoreString, type ListpackLimits } from '../../src/zset/zset-value.js';
import { keyDigest } from '../../src/keyspace/digest.js';

interface Entry {
  member: string;
  score: number;
}

const cmp = (a: Entry, b: Entry): number =>
  a.score < b.score ? -1 : a.score > b.score ? 1 : a.member < b.member ? -1 : a.member > b.member ? 1 : 0;

const BIG: ListpackLimits = { entries: 0, value: 0 }; // always skiplist encoded

/** The model: a sorted array. */
class Model {
  items: Entry[] = [];
  find(member: string): number {
    return this.items.findIndex((e) => e.member === member);
  }
  set(member: string, score: number): boolean {
    const i = this.find(member);
    // An equal score is no change (so -0 stays -0 after setting 0, as in Redis).
    if (i >= 0 && this.items[i]!.score === score) return false;
    if (i >= 0) this.items.splice(i, 1);
    this.items.push({ member, score });
    this.items.sort(cmp);
    return i < 0;
  }
  remove(member: string): boolean {
    const i = this.find(member);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}

function contents(z: ZsetValue): Entry[] {
  const out: Entry[] = [];
  z.forEach((member, score) => out.push({ member, score }));
  return out;
}

const inScore = (s: number, r: ScoreRange): boolean => (r.minex ? s > r.min : s >= r.min) && (r.maxex ? s < r.max : s <= r.max);
const gteMin = (m: string, b: LexBound): boolean => (b.inf !== 0 ? b.inf < 0 : b.ex ? m > b.value : m >= b.value);
const lteMax = (m: string, b: LexBound): boolean => (b.inf !== 0 ? b.inf > 0 : b.ex ? m < b.value : m <= b.value);
const inLex = (m: string, r: LexRange): boolean => gteMin(m, r.min) && lteMax(m, r.max);

/** Every structural invariant: order, ranks both ways, prev links, slots/size/bytes. */
function checkInvariants(z: ZsetValue, m: Model): void {
  expect(contents(z)).toEqual(m.items);
  expect(z.size).toBe(m.items.length);
  expect(z.bytes).toBe(m.items.reduce((n, e) => n + e.member.length, 0));
  m.items.forEach((e, i) => {
    expect(z.rankOf(e.member)).toBe(i);
    expect(z.rankOf(e.member, true)).toBe(m.items.length - 1 - i);
    expect(z.memberOf(z.atRank(i))).toBe(e.member);
    expect(z.nodeOf(e.member)).toBe(z.atRank(i));
    expect(z.score(e.member)).toBe(e.score);
  });
  expect(z.atRank(m.items.length)).toBe(NIL);
  expect(z.atRank(-1)).toBe(NIL);
  expect(z.first()).toBe(m.items.length === 0 ? NIL : z.atRank(0));
  expect(z.last()).toBe(m.items.length === 0 ? NIL : z.atRank(m.items.length - 1));
  // Backward links mirror the forward order.
  const back: string[] = [];
  for (let x = z.last(); x !== NIL; x = z.prev(x)) back.push(z.memberOf(x));
  expect(back).toEqual(m.items.map((e) => e.member).reverse());
  // The dense slots hold every member once.
  const slots = new Set<string>();
  for (let i = 0; i < z.size; i++) slots.add(z.memberOf(z.atSlot(i)));
  expect(slots.size).toBe(z.size);
}

const member = fc.constantFrom('', 'a', 'b', 'c', 'd', 'e', 'aa', 'ab', 'b\x00', 'z', '\xff', 'm1', 'm2', 'm10');
const score = fc.constantFrom(-Infinity, -2.5, -1, -0, 0, 1, 1.5, 2, 3, 1e17, Infinity);
const scoreRange: fc.Arbitrary<ScoreRange> = fc.record({ min: score, max: score, minex: fc.boolean(), maxex: fc.boolean() });
const lexBound: fc.Arbitrary<LexBound> = fc.oneof(
  fc.record({ inf: fc.constant(0 as const), value: member, ex: fc.boolean() }),
  fc.constant<LexBound>({ inf: -1, value: '', ex: false }),
  fc.constant<LexBound>({ inf: 1, value: '', ex: false }),
);
const lexRange: fc.Arbitrary<LexRange> = fc.record({ min: lexBound, max: lexBound });

type Op =
  | { t: 'set'; member: string; score: number }
  | { t: 'remove'; member: string }
  | { t: 'removeScore'; r: ScoreRange }
  | { t: 'removeRank'; start: number; end: number }
  | { t: 'pop'; max: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('set' as const), member, score }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove' as const), member }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('removeScore' as const), r: scoreRange }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('removeRank' as const), start: fc.nat(14), end: fc.nat(14) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pop' as const), max: fc.boolean() }) },
);

function apply(z: ZsetValue, m: Model, o: Op): void {
  switch (o.t) {
    case 'set':
      expect(z.set(o.member, o.score, BIG)).toBe(m.set(o.member, o.score));
      break;
    case 'remove':
      expect(z.remove(o.member)).toBe(m.remove(o.member));
      break;
    case 'removeScore': {
      const keep = m.items.filter((e) => !inScore(e.score, o.r));
      expect(z.removeScoreRange(o.r)).toBe(m.items.length - keep.length);
      m.items = keep;
      break;
    }
    case 'removeRank': {
      if (o.start > o.end || o.start >= m.items.length) break;
      const end = Math.min(o.end, m.items.length - 1);
      expect(z.removeRankRange(o.start, end)).toBe(end - o.start + 1);
      m.items.splice(o.start, end - o.start + 1);
      break;
    }
    case 'pop': {
      const want = o.max ? m.items.pop() : m.items.shift();
      expect(z.pop(o.max)).toEqual(want ?? null);
      break;
    }
  }
}

describe('skiplist / ZsetValue against a sorted array', () => {
  it('insert, update, delete, range deletion and pops keep order, ranks and links', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const z = new ZsetValue(false);
        const m = new Model();
        for (const o of ops) {
          apply(z, m, o);
          checkInvariants(z, m);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a clone has the same members in the same slots and lives on independently (records reused after removals)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(op, { maxLength: 30 }), (ops, more) => {
        const z = new ZsetValue(false);
        const m = new Model();
        for (const o of ops) apply(z, m, o);
        const c = z.clone();
        const mc = new Model();
        mc.items = [...m.items];
        checkInvariants(c, mc);
        for (let i = 0; i < z.size; i++) expect(c.memberOf(c.atSlot(i))).toBe(z.memberOf(z.atSlot(i)));
        const before = contents(z);
        for (const o of more) {
          apply(c, mc, o);
          checkInvariants(c, mc);
        }
        expect(contents(z)).toEqual(before);
        checkInvariants(z, m);
      }),
      { numRuns: 200 },
    );
  });

  it('score ranges: first/last/count/visit match a filter of the model', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(member, score), { maxLength: 25 }), scoreRange, fc.boolean(), (adds, r, reverse) => {
        const z = new ZsetValue(false);
        const m = new Model();
        for (const [mem, sc] of adds) {
          z.set(mem, sc, BIG);
          m.set(mem, sc);
        }
        const want = m.items.filter((e) => inScore(e.score, r));
        const name = (h: number) => (h === NIL ? null : z.memberOf(h));
        expect(name(z.firstInScoreRange(r))).toBe(want[0]?.member ?? null);
        expect(name(z.lastInScoreRange(r))).toBe(want[want.length - 1]?.member ?? null);
        expect(z.countInScoreRange(r)).toBe(want.length);
        const seen: string[] = [];
        z.forEachInScoreRange(r, reverse, (mem) => {
          seen.push(mem);
        });
        const names = want.map((e) => e.member);
        expect(seen).toEqual(reverse ? names.reverse() : names);
        // A visitor returning false stops the walk.
        let calls = 0;
        z.forEachInScoreRange(r, reverse, () => {
          calls++;
          return false;
        });
        expect(calls).toBe(Math.min(1, want.length));
      }),
      { numRuns: 500 },
    );
  });

  it('lex ranges (all scores equal) in both encodings: first/last/count/removal', () => {
    fc.assert(
      fc.property(fc.uniqueArray(member, { maxLength: 14 }), lexRange, fc.boolean(), (members, r, listpack) => {
        const z = new ZsetValue(listpack);
        const limits = listpack ? { entries: 1000, value: 1000 } : BIG;
        for (const mem of members) z.set(mem, 0, limits);
        const sorted = [...members].sort();
        const want = sorted.filter((mem) => inLex(mem, r));
        const name = (h: number) => (h === NIL ? null : z.memberOf(h));
        expect(name(z.firstInLexRange(r))).toBe(want[0] ?? null);
        expect(name(z.lastInLexRange(r))).toBe(want[want.length - 1] ?? null);
        expect(z.countInLexRange(r)).toBe(want.length);
        expect(z.removeLexRange(r)).toBe(want.length);
        expect(contents(z).map((e) => e.member)).toEqual(sorted.filter((mem) => !inLex(mem, r)));
      }),
      { numRuns: 500 },
    );
  });

  it('rank lookups on a bigger random set', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.integer({ min: -50, max: 50 })), { maxLength: 400 }), (adds) => {
        const z = new ZsetValue(false);
        const m = new Model();
        for (const [mem, sc] of adds) {
          z.set(mem, sc, BIG);
          m.set(mem, sc);
        }
        checkInvariants(z, m);
      }),
      { numRuns: 30 },
    );
  });

  it('ZSCAN over slots sees every member present for the whole scan, despite removals', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 40 }), fc.integer({ min: 1, max: 7 }), fc.array(fc.nat(), { maxLength: 20 }), (members, count, removals) => {
        const z = new ZsetValue(false);
        members.forEach((mem, i) => z.set(mem, i, BIG));
        const removed = new Set<string>();
        const seen = new Set<string>();
        let cursor = 0;
        let step = 0;
        do {
          cursor = z.scan(cursor, count, (mem) => seen.add(mem));
          const victim = removals[step++];
          if (victim !== undefined && z.size > 0) {
            const name = z.memberOf(z.atSlot(victim % z.size));
            z.remove(name);
            removed.add(name);
          }
        } while (cursor !== 0);
        for (const mem of members) if (!removed.has(mem)) expect(seen.has(mem)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ZsetValue encoding details', () => {
  const small: ListpackLimits = { entries: 3, value: 4 };

  it('converts to skiplist for good past the entry or value limit', () => {
    const z = ZsetValue.forFirstMember('a', small);
    expect(z.encoding).toBe('listpack');
    z.set('a', 1, small);
    z.set('b', 2, small);
    z.set('c', 3, small);
    expect(z.encoding).toBe('listpack');
    z.set('d', 4, small);
    expect(z.encoding).toBe('skiplist');
    z.remove('d');
    z.remove('c');
    expect(z.encoding).toBe('skiplist');
    const long = ZsetValue.forFirstMember('abcde', small);
    expect(long.encoding).toBe('skiplist');
    expect(ZsetValue.forFirstMember('a', { entries: 0, value: 64 }).encoding).toBe('skiplist');
    const z2 = ZsetValue.forFirstMember('a', small);
    z2.set('abcde', 1, small);
    expect(z2.encoding).toBe('skiplist');
  });

  it('a listpack reads -0 back as 0, a skiplist keeps it', () => {
    const lp = new ZsetValue(true);
    lp.set('a', -0, small);
    expect(Object.is(lp.score('a'), 0)).toBe(true);
    const sk = new ZsetValue(false);
    sk.set('a', -0, BIG);
    expect(Object.is(sk.score('a'), -0)).toBe(true);
    sk.shrinkEncodingIfFits(small);
    expect(sk.encoding).toBe('listpack');
    expect(Object.is(sk.score('a'), 0)).toBe(true);
  });

  it('listpack score strings (ZSCAN of a listpack)', () => {
    expect(listpackScoreString(1e17)).toBe('100000000000000000');
    expect(listpackScoreString(-1e18)).toBe('-1000000000000000000');
    expect(listpackScoreString(2 ** 62)).toBe('4611686018427387904');
    expect(listpackScoreString(2 ** 62 + 1024)).toBe('4.6116860184273889e+18');
    expect(listpackScoreString(-(2 ** 62) - 1024)).toBe('-4.6116860184273889e+18');
    expect(listpackScoreString(1e20)).toBe('1e+20');
    expect(listpackScoreString(0.1)).toBe('0.10000000000000001');
    expect(listpackScoreString(-0)).toBe('0');
    expect(listpackScoreString(Infinity)).toBe('inf');
  });

  it('clone is deep and keeps the encoding', () => {
    const z = new ZsetValue(true);
    z.set('a', 1, small);
    z.set('b', 2, small);
    const c = z.clone();
    c.set('c', 0, small);
    c.remove('a');
    expect(contents(z)).toEqual([{ member: 'a', score: 1 }, { member: 'b', score: 2 }]);
    expect(contents(c)).toEqual([{ member: 'c', score: 0 }, { member: 'b', score: 2 }]);
    expect(c.encoding).toBe('listpack');
  });

  it('DEBUG DIGEST-VALUE equals redis-server 7.0.15 (either encoding)', () => {
    const digestOf = (entries: [string, number][], listpack: boolean): string => {
      const z = new ZsetValue(listpack);
      for (const [m, s] of entries) z.set(m, s, listpack ? { entries: 128, value: 64 } : BIG);
      const fakeDb = { slotOf: () => 0, valueOf: () => z, expireOf: () => 0 };
      return keyDigest(fakeDb as unknown as Parameters<typeof keyDigest>[0], 'k');
    };
    // Values read from redis-server 7.0.15 with DEBUG DIGEST-VALUE.
    const three: [string, number][] = [['a', 1], ['b', 2.5], ['c', -3]];
    expect(digestOf(three, true)).toBe('2dd2ef669bd842b340aed0cb20be587954151e2b');
    expect(digestOf(three, false)).toBe('2dd2ef669bd842b340aed0cb20be587954151e2b');
    expect(digestOf([['a', 1]], true)).toBe('430190c6ed5abafff87d97b4f51a92796ed05895');
    expect(digestOf([['a', 1.5]], true)).toBe('4abede9eeefb1bae2bf5394291a39b9e34b5b2b6');
  });
});

describe('a plain Skiplist', () => {
  it('rank/byRank/delete on distinct members', () => {
    const sl = new Skiplist();
    for (let i = 0; i < 5000; i++) sl.insert(i % 7, `m${i}`);
    expect(sl.length).toBe(5000);
    // Some node got more levels than the head starts with (4): the head moved.
    expect(sl.level).toBeGreaterThan(4);
    let prev: { score: number; member: string } | null = null;
    let rank = 0;
    const m3 = new Set<number>();
    for (let x = sl.first(); x !== NIL; x = sl.next(x)) {
      rank++;
      const e = { score: sl.score(x), member: sl.member(x) };
      if (prev !== null) expect(cmp(prev, e)).toBeLessThan(0);
      expect(sl.rankOf(x)).toBe(rank);
      expect(sl.byRank(rank)).toBe(x);
      if (e.member === 'm3') m3.add(x);
      prev = e;
    }
    expect(sl.byRank(0)).toBe(NIL);
    expect(sl.byRank(5001)).toBe(NIL);
    sl.delete([...m3][0]!);
    expect(sl.length).toBe(4999);
    let found = false;
    for (let x = sl.first(); x !== NIL; x = sl.next(x)) if (sl.member(x) === 'm3') found = true;
    expect(found).toBe(false);
    // The freed record is reused by the next node of the same level; everything stays consistent.
    for (let i = 0; i < 200; i++) sl.delete(sl.byRank(1 + ((i * 37) % sl.length)));
    for (let i = 0; i < 200; i++) sl.insert(i % 5, `n${i}`);
    expect(sl.length).toBe(4999);
    let r = 0;
    for (let x = sl.first(); x !== NIL; x = sl.next(x)) {
      expect(sl.rankOf(x)).toBe(++r);
      if (sl.next(x) !== NIL) expect(sl.prev(sl.next(x))).toBe(x);
    }
    expect(r).toBe(4999);
  });
});

describe('performance on 1,000,000 members (O(log n), not O(n))', () => {
  it('single ZADD-like inserts and ZRANGE 0 10-like reads stay far below a millisecond', () => {
    const z = new ZsetValue(false);
    const n = 1_000_000;
    // Ascending scores keep the build quick; the timed operations below land at random places.
    for (let i = 0; i < n; i++) z.insert(`member:${i}`, i, BIG);
    expect(z.size).toBe(n);
    const insertTimes: number[] = [];
    const rangeTimes: number[] = [];
    const rankTimes: number[] = [];
    for (let k = 0; k < 200; k++) {
      let t = performance.now();
      z.set(`new:${k}`, Math.random() * 1e6, BIG);
      insertTimes.push(performance.now() - t);
      t = performance.now();
      const out: string[] = [];
      for (let x = z.atRank(0); x !== NIL && out.length < 11; x = z.next(x)) out.push(z.memberOf(x));
      rangeTimes.push(performance.now() - t);
      expect(out.length).toBe(11);
      t = performance.now();
      const mid = z.atRank(500_000 + k);
      expect(z.rankOf(z.memberOf(mid))).toBe(500_000 + k);
      rankTimes.push(performance.now() - t);
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
    const total = (a: number[]) => a.reduce((x, y) => x + y, 0);
    // Generous bounds (a scan of 1M nodes takes several ms): catches O(n) regressions without flakiness.
    expect(median(insertTimes)).toBeLessThan(5);
    expect(median(rangeTimes)).toBeLessThan(5);
    expect(median(rankTimes)).toBeLessThan(5);
    expect(total(insertTimes) + total(rangeTimes) + total(rankTimes)).toBeLessThan(600);
  }, 60_000);
});
