/**
 * The stream value against simple models, with fast-check: random appends,
 * deletions and trims must leave the stream with the same live entries (in
 * ID order), size and byte count as a sorted array, and give the same range
 * results; the node model must keep Redis's node limits. Also the ID
 * parser/formatter over the full uint64 range, the PEL map against a sorted
 * array, deep copies, OBJECT ENCODING and the digest.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { StreamValue, type TrimSpec } from '../../src/stream/stream-value.js';
import { IdMap } from '../../src/stream/id-map.js';
import {
  type StreamID,
  MAX_ID,
  MIN_ID,
  U64_MAX_BIG,
  cmpId,
  decrId,
  formatId,
  incrId,
  parseStreamId,
  parseU64,
  u64,
} from '../../src/stream/stream-id.js';
import { ConsumerGroup } from '../../src/stream/stream-group.js';
import { copyValue } from '../../src/keyspace/value-copy.js';
import { encodingOf } from '../../src/keyspace/object-encoding.js';
import { digestValue, newDigest } from '../../src/keyspace/digest.js';

const big = (id: StreamID): bigint => (BigInt(id.ms) << 64n) | BigInt(id.seq);
const fromBig = (b: bigint): StreamID => ({ ms: u64(b >> 64n), seq: u64(b & U64_MAX_BIG) });

describe('stream IDs', () => {
  it('parse as Redis reads them (strtoull after a strict int64 attempt)', () => {
    expect(parseU64('0')).toBe(0);
    expect(parseU64('18446744073709551615')).toBe(U64_MAX_BIG);
    expect(parseU64('18446744073709551616')).toBeNull();
    expect(parseU64('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseU64('9007199254740992')).toBe(9007199254740992n);
    expect(parseU64('-1')).toBeNull();
    expect(parseU64('-01')).toBe(U64_MAX_BIG); // strtoull wraps a negated value
    expect(parseU64(' 5')).toBe(5);
    expect(parseU64('+5')).toBe(5);
    expect(parseU64('05')).toBe(5);
    expect(parseU64('')).toBeNull();
    expect(parseU64('5 ')).toBeNull();
    expect(parseU64('0x10')).toBeNull();
    expect(parseStreamId('-', 0, false)?.id).toEqual(MIN_ID);
    expect(parseStreamId('+', 0, false)?.id).toEqual(MAX_ID);
    expect(parseStreamId('-', 0, true)).toBeNull();
    expect(parseStreamId('5', 7, true)?.id).toEqual({ ms: 5, seq: 7 });
    expect(parseStreamId('5-*', 0, true)).toBeNull();
    expect(parseStreamId('5-*', 0, true, true)).toEqual({ id: { ms: 5, seq: 0 }, seqGiven: false });
    expect(parseStreamId('1-2-3', 0, true)).toBeNull();
    expect(parseStreamId('1-2\x00junk', 0, true)?.id).toEqual({ ms: 1, seq: 2 });
    expect(parseStreamId('1'.repeat(128), 0, true)).toBeNull();
  });

  it('format, compare, increment and decrement over the whole uint64 range', () => {
    const u64arb = fc.oneof(fc.bigInt({ min: 0n, max: U64_MAX_BIG }), fc.constantFrom(0n, 1n, 2n ** 53n - 1n, 2n ** 53n, U64_MAX_BIG - 1n, U64_MAX_BIG));
    fc.assert(
      fc.property(u64arb, u64arb, u64arb, u64arb, (a, b, c, d) => {
        const x: StreamID = { ms: u64(a), seq: u64(b) };
        const y: StreamID = { ms: u64(c), seq: u64(d) };
        expect(formatId(x)).toBe(`${a}-${b}`);
        expect(parseStreamId(formatId(x), 0, true)?.id).toEqual(x);
        const bx = big(x);
        const by = big(y);
        expect(Math.sign(cmpId(x, y))).toBe(bx < by ? -1 : bx > by ? 1 : 0);
        const inc = incrId(x);
        if (bx === ((U64_MAX_BIG << 64n) | U64_MAX_BIG)) expect(inc).toBeNull();
        else expect(inc).toEqual(fromBig(bx + 1n));
        const dec = decrId(x);
        if (bx === 0n) expect(dec).toBeNull();
        else expect(dec).toEqual(fromBig(bx - 1n));
      }),
    );
  });
});

// ---------------------------------------------------------------------------

interface ModelEntry {
  id: bigint;
  fv: string[];
}

type Op =
  | { op: 'add'; gap: number; fv: string[] }
  | { op: 'del'; pick: number }
  | { op: 'trimMaxlen'; n: number; approx: boolean; limit: number }
  | { op: 'trimMinid'; pick: number; approx: boolean }
  | { op: 'range'; a: number; b: number; count: number; rev: boolean };

const fieldArb = fc.constantFrom('a', 'b', 'f', 'name', '', '12', 'x'.repeat(70));
const valueArb = fc.constantFrom('1', 'v', '', '-5', '123456789012', 'y'.repeat(200), '\x00\xff');
const fvArb = fc.array(fc.tuple(fieldArb, valueArb), { minLength: 1, maxLength: 3 }).map((ps) => ps.flat());
const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), gap: fc.constantFrom(1, 1, 2, 5, 2 ** 40, 2 ** 64), fv: fvArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), pick: frac }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('trimMaxlen' as const), n: fc.integer({ min: 0, max: 40 }), approx: fc.boolean(), limit: fc.constantFrom(0, 0, 3, 50) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('trimMinid' as const), pick: frac, approx: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('range' as const), a: frac, b: frac, count: fc.integer({ min: 0, max: 5 }), rev: fc.boolean() }) },
);

const bytesOf = (m: ModelEntry[]): number => m.reduce((s, e) => s + e.fv.reduce((t, x) => t + x.length, 0), 0);

function liveEntries(st: StreamValue, start = MIN_ID, end = MAX_ID, count = 0, rev = false): ModelEntry[] {
  const out: ModelEntry[] = [];
  st.forRange(start, end, rev, (ms, seq, fv) => {
    out.push({ id: big({ ms, seq }), fv: [...fv] });
    return count === 0 || out.length < count;
  });
  return out;
}

describe('StreamValue', () => {
  for (const limits of [{ maxEntries: 100, maxBytes: 4096 }, { maxEntries: 3, maxBytes: 0 }, { maxEntries: 0, maxBytes: 200 }]) {
    it(`matches a sorted-array model (node limits ${limits.maxEntries}/${limits.maxBytes})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
          const st = new StreamValue();
          let model: ModelEntry[] = [];
          let next = 1n;
          for (const o of ops) {
            switch (o.op) {
              case 'add': {
                next += BigInt(o.gap);
                const id = fromBig(next);
                expect(st.nextId(id, true, 0)).toEqual(id);
                st.append(id, o.fv, limits);
                model.push({ id: next, fv: o.fv });
                expect(st.lastId).toEqual(id);
                break;
              }
              case 'del': {
                const target = model.length === 0 ? next + 7n : model[Math.floor(o.pick * model.length)]!.id;
                const had = model.some((e) => e.id === target);
                expect(st.deleteEntry(fromBig(target))).toBe(had);
                model = model.filter((e) => e.id !== target);
                break;
              }
              case 'trimMaxlen': {
                const t: TrimSpec = { strategy: 'maxlen', maxlen: o.n, minid: MIN_ID, approx: o.approx, limit: o.approx ? o.limit : 0 };
                const before = model.length;
                const removed = st.trim(t);
                // Exact trimming reaches the target; approximate trimming only removes whole nodes, never too much.
                if (!o.approx) expect(st.size).toBe(Math.min(before, o.n));
                else expect(st.size).toBeGreaterThanOrEqual(Math.min(before, o.n));
                expect(removed).toBe(before - st.size);
                model = model.slice(removed);
                break;
              }
              case 'trimMinid': {
                const minid = model.length === 0 ? next : model[Math.floor(o.pick * model.length)]!.id;
                const before = model.length;
                const removed = st.trim({ strategy: 'minid', maxlen: 0, minid: fromBig(minid), approx: o.approx, limit: o.approx ? 10000 : 0 });
                const below = model.filter((e) => e.id < minid).length;
                if (!o.approx) expect(removed).toBe(below);
                else expect(removed).toBeLessThanOrEqual(below);
                expect(removed).toBe(before - st.size);
                model = model.slice(removed);
                break;
              }
              case 'range': {
                const lo = next === 1n ? 0n : BigInt(Math.floor(o.a * Number(next)));
                const hi = next === 1n ? 0n : BigInt(Math.floor(o.b * Number(next)));
                const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
                let want = model.filter((e) => e.id >= a && e.id <= b);
                if (o.rev) want = want.reverse();
                if (o.count > 0) want = want.slice(0, o.count);
                expect(liveEntries(st, fromBig(a), fromBig(b), o.count, o.rev)).toEqual(want);
                break;
              }
            }
            expect(st.size).toBe(model.length);
            expect(st.bytes).toBe(bytesOf(model));
            if (o.op === 'trimMaxlen' || o.op === 'trimMinid') expect(st.firstId).toEqual(model.length === 0 ? MIN_ID : fromBig(model[0]!.id));
          }
          expect(liveEntries(st)).toEqual(model);
          expect(st.edgeEntry(true)?.id ?? null).toEqual(model.length === 0 ? null : fromBig(model[0]!.id));
          expect(st.edgeEntry(false)?.id ?? null).toEqual(model.length === 0 ? null : fromBig(model[model.length - 1]!.id));
          if (st.nodeCount === 0) expect(st.radixTreeNodes()).toBe(1);
          else expect(st.radixTreeNodes()).toBeGreaterThan(st.nodeCount);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('starts a new node at stream-node-max-entries and trims ~ by whole nodes', () => {
    const st = new StreamValue();
    for (let i = 1; i <= 250; i++) st.append({ ms: i, seq: 0 }, ['f', 'v'], { maxEntries: 100, maxBytes: 4096 });
    expect(st.nodeCount).toBe(3);
    expect(st.trim({ strategy: 'maxlen', maxlen: 120, minid: MIN_ID, approx: true, limit: 10000 })).toBe(100);
    expect(st.size).toBe(150);
    expect(st.trim({ strategy: 'maxlen', maxlen: 120, minid: MIN_ID, approx: false, limit: 0 })).toBe(30);
    expect(st.size).toBe(120);
    // The marked entries still count towards the node, as in Redis.
    expect(st.nodeCount).toBe(2);
    expect(st.firstId).toEqual({ ms: 131, seq: 0 });
  });

  it('starts a new node when the listpack would reach stream-node-max-bytes', () => {
    const st = new StreamValue();
    for (let i = 1; i <= 20; i++) st.append({ ms: i, seq: 0 }, ['field', 'x'.repeat(1000)], { maxEntries: 100, maxBytes: 4096 });
    // About 1 KB per entry: four entries per 4 KB node at most.
    expect(st.nodeCount).toBeGreaterThanOrEqual(5);
    expect(st.listpackBytes()).toBeGreaterThan(20 * 1000);
  });

  it('XADD ID generation: explicit, <ms>-*, time based, never going back', () => {
    const st = new StreamValue();
    expect(st.nextId({ ms: 5, seq: 0 }, false, 0)).toEqual({ ms: 5, seq: 0 });
    st.append({ ms: 5, seq: 0 }, ['a', '1'], { maxEntries: 100, maxBytes: 4096 });
    expect(st.nextId({ ms: 5, seq: 0 }, false, 0)).toEqual({ ms: 5, seq: 1 });
    expect(st.nextId({ ms: 5, seq: 0 }, true, 0)).toBeNull();
    expect(st.nextId({ ms: 4, seq: 0 }, false, 0)).toBeNull();
    expect(st.nextId(null, true, 3)).toEqual({ ms: 5, seq: 1 });
    expect(st.nextId(null, true, 9)).toEqual({ ms: 9, seq: 0 });
    st.setMeta({ ms: 5, seq: U64_MAX_BIG }, null, null);
    expect(st.nextId(null, true, 3)).toEqual({ ms: 6, seq: 0 });
    expect(st.nextId({ ms: 5, seq: 0 }, false, 0)).toBeNull();
  });

  it('copies deeply (entries, metadata, groups with shared NACKs), names its encoding and digests entries', () => {
    const st = new StreamValue();
    st.append({ ms: 5, seq: 7 }, ['f', 'v'], { maxEntries: 100, maxBytes: 4096 });
    const g = new ConsumerGroup('g', MIN_ID, 0);
    st.groups.set('g', g);
    const c = g.createConsumer('c', 1)!;
    const nack = { consumer: c, deliveryTime: 1, deliveryCount: 1 };
    g.pel.set({ ms: 5, seq: 7 }, nack);
    c.pel.set({ ms: 5, seq: 7 }, nack);
    const cp = copyValue(st) as StreamValue;
    expect(liveEntries(cp)).toEqual(liveEntries(st));
    cp.append({ ms: 6, seq: 0 }, ['x', 'y'], { maxEntries: 100, maxBytes: 4096 });
    expect(st.size).toBe(1);
    const cg = cp.groups.get('g')!;
    expect(cg).not.toBe(g);
    expect(cg.pel.get({ ms: 5, seq: 7 })).toBe(cg.consumers.get('c')!.pel.get({ ms: 5, seq: 7 }));
    expect(cg.pel.get({ ms: 5, seq: 7 })!.consumer).toBe(cg.consumers.get('c'));
    expect(encodingOf(st)).toBe('stream');
    // redis-server 7.0.15: XADD d1 5-7 f v; DEBUG DIGEST-VALUE d1 (groups are not part of it).
    const d = newDigest();
    digestValue(d, st, false);
    expect(d.toString('hex')).toBe('8dfb400bc96006a67d0fad8921fc0cbeb7a17f6e');
  });
});

describe('IdMap (PEL)', () => {
  it('matches a sorted array model', () => {
    const idArb = fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 9 })).map(([ms, seq]) => ({ ms, seq }));
    const opArb2 = fc.oneof(
      fc.record({ op: fc.constant('set' as const), id: idArb, v: fc.integer() }),
      fc.record({ op: fc.constant('del' as const), id: idArb }),
      fc.record({ op: fc.constant('ceil' as const), id: idArb }),
      fc.record({ op: fc.constant('bulk' as const), from: fc.integer({ min: 0, max: 60 }), n: fc.integer({ min: 0, max: 700 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb2, { maxLength: 200 }), (ops) => {
        const m = new IdMap<number>();
        const model = new Map<string, { id: StreamID; v: number }>();
        const sorted = () => [...model.values()].sort((a, b) => cmpId(a.id, b.id));
        for (const o of ops) {
          if (o.op === 'set') {
            expect(m.set(o.id, o.v)).toBe(!model.has(formatId(o.id)));
            model.set(formatId(o.id), { id: o.id, v: o.v });
          } else if (o.op === 'del') {
            expect(m.delete(o.id)).toBe(model.get(formatId(o.id))?.v);
            model.delete(formatId(o.id));
          } else if (o.op === 'bulk') {
            for (let i = 0; i < o.n; i++) {
              const id = { ms: 1000 + o.from, seq: i };
              m.set(id, i);
              model.set(formatId(id), { id, v: i });
            }
          } else {
            const want = sorted().find((e) => cmpId(e.id, o.id) >= 0);
            const got = m.ceil(o.id);
            expect(got === null ? null : { id: got.id, v: got.value }).toEqual(want ?? null);
          }
          expect(m.size).toBe(model.size);
        }
        const all: { id: StreamID; v: number }[] = [];
        m.forEach((id, v) => all.push({ id, v }));
        expect(all).toEqual(sorted());
        expect(m.first()?.id ?? null).toEqual(all[0]?.id ?? null);
        expect(m.last()?.id ?? null).toEqual(all[all.length - 1]?.id ?? null);
      }),
      { numRuns: 150 },
    );
  });
});
