/**
 * The stream RDB codec (entries and metadata, independent of the stream
 * value class): a DUMP payload captured from redis-server 7.0.15 (a
 * deleted entry inside a node, a group with an unknown entries-read, a
 * PEL and a consumer) decodes as Redis reports it; node splitting follows
 * stream-node-max-entries/bytes; v1/v2/v3 layouts round-trip; corrupt
 * nodes are refused.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { RdbReader, RdbWriter, RdbType, RdbError } from '../../src/persistence/rdb-format.js';
import {
  buildStreamNodes,
  parseStreamNode,
  readStreamData,
  writeStreamData,
  type StreamData,
  type StreamEntryData,
} from '../../src/persistence/rdb-stream.js';
import { parseListpack } from '../../src/persistence/rdb-listpack.js';
import { decodeValuePayload } from '../../src/persistence/rdb-decoder.js';
import { createDumpPayload } from '../../src/persistence/rdb-encoder.js';
import { StreamValue } from '../../src/stream/stream-value.js';

/**
 * redis-server 7.0.15, rdbcompression no:
 *   XADD st 1-1 a 1 b 2; XADD st 1-2 a 3 b 4; XADD st 2-0 c 5; XDEL st 1-2;
 *   XGROUP CREATE st g1 0; XREADGROUP GROUP g1 alice COUNT 1 STREAMS st >
 *   DUMP st
 */
const REDIS_PAYLOAD = Buffer.from(
  '130110000000000000000100000000000000013d3d0000001900020101010201816102816202000102010001000101010201050103010001010103010401050100010101dfff02010181630205010601ff020200010101020301026731010181ffffffffffffffff01000000000000000100000000000000010d6ed4fca1010000010105616c6963650d6ed4fca101000001000000000000000100000000000000010a002902c8f209906ff1',
  'hex',
);

function body(p: Buffer): RdbReader {
  const r = new RdbReader(p.subarray(0, p.length - 10));
  expect(r.u8()).toBe(RdbType.STREAM_LISTPACKS_2);
  return r;
}

function encode(entries: StreamEntryData[], d: StreamData, type: number, limits = { maxBytes: 4096, maxEntries: 100 }): Buffer {
  const w = new RdbWriter(false);
  writeStreamData(w, entries, d, type, limits);
  return Buffer.concat(w.take());
}

describe('stream RDB codec', () => {
  it("decodes redis-server's payload: live entries only, metadata, groups, PEL, consumers", () => {
    const r = body(REDIS_PAYLOAD);
    const { entries, data } = readStreamData(r, RdbType.STREAM_LISTPACKS_2);
    expect(r.remaining).toBe(0);
    expect(entries).toEqual([
      { id: { ms: 1, seq: 1 }, fv: ['a', '1', 'b', '2'] },
      { id: { ms: 2, seq: 0 }, fv: ['c', '5'] },
    ]);
    expect(data).toMatchObject({
      length: 2,
      lastId: { ms: 2, seq: 0 },
      firstId: { ms: 1, seq: 1 },
      maxDeletedId: { ms: 1, seq: 2 },
      entriesAdded: 3,
    });
    const g = data.groups[0]!;
    expect([g.name, g.lastId, g.entriesRead]).toEqual(['g1', { ms: 1, seq: 1 }, -1]);
    expect(g.pel).toEqual([{ id: { ms: 1, seq: 1 }, deliveryTime: g.pel[0]!.deliveryTime, deliveryCount: 1 }]);
    expect(g.pel[0]!.deliveryTime).toBeGreaterThan(1.7e12);
    expect(g.consumers).toEqual([{ name: 'alice', seenTime: g.consumers[0]!.seenTime, activeTime: -1, pel: [{ ms: 1, seq: 1 }] }]);
  });

  it('writes the same node layout as Redis for the live entries (one node, same fields flag, negative seq diff)', () => {
    const { entries, data } = readStreamData(body(REDIS_PAYLOAD), RdbType.STREAM_LISTPACKS_2);
    const nodes = buildStreamNodes(entries, { maxBytes: 4096, maxEntries: 100 });
    expect(nodes.length).toBe(1);
    expect(nodes[0]![0]).toEqual({ ms: 1, seq: 1 });
    // count, deleted, 2 master fields a b, 0 | same-fields entry | full entry with seq diff -1
    expect(parseListpack(nodes[0]![1])).toEqual(['2', '0', '2', 'a', 'b', '0', '2', '0', '0', '1', '2', '5', '0', '1', '-1', '1', 'c', '5', '6']);
    const again = readStreamData(new RdbReader(encode(entries, data, RdbType.STREAM_LISTPACKS_2)), RdbType.STREAM_LISTPACKS_2);
    expect(again.entries).toEqual(entries);
    expect(again.data).toEqual(data);
  });

  it('splits nodes at stream-node-max-entries and stream-node-max-bytes', () => {
    const entries: StreamEntryData[] = Array.from({ length: 250 }, (_, i) => ({ id: { ms: 1000 + i, seq: 0 }, fv: ['f', 'v'.repeat(i % 7)] }));
    expect(buildStreamNodes(entries, { maxBytes: 4096, maxEntries: 100 }).map(([id]) => id.ms)).toEqual([1000, 1100, 1200]);
    const counts = (limits: { maxBytes: number; maxEntries: number }) =>
      buildStreamNodes(entries, limits).map(([, lp]) => Number(parseListpack(lp)[0]));
    expect(counts({ maxBytes: 0, maxEntries: 0 })).toEqual([250]);
    expect(counts({ maxBytes: 0, maxEntries: 200 })).toEqual([200, 50]);
    const byBytes = counts({ maxBytes: 200, maxEntries: 0 });
    expect(byBytes.reduce((a, b) => a + b)).toBe(250);
    for (const [, lp] of buildStreamNodes(entries, { maxBytes: 200, maxEntries: 0 })) expect(lp.length).toBeLessThan(200 + 20);
  });

  it('round-trips random streams in the v1, v2 and v3 layouts', () => {
    const entryArb = fc.array(fc.constantFrom('a', 'b', 'c', '', '7', 'long'.repeat(20)), { minLength: 1, maxLength: 4 }).chain((fields) =>
      fc.tuple(fc.constant(fields), fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.integer().map(String)), { minLength: fields.length, maxLength: fields.length })),
    );
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 300 }), fc.integer({ min: 0, max: 150 }), fc.constantFrom(RdbType.STREAM_LISTPACKS, RdbType.STREAM_LISTPACKS_2, RdbType.STREAM_LISTPACKS_3), (raw, maxEntries, type) => {
        let ms = 5;
        const entries: StreamEntryData[] = raw.map(([f, v], i) => {
          ms += i % 3;
          return { id: { ms, seq: i % 5 === 0 ? 2n ** 63n + BigInt(i) : i }, fv: f.flatMap((x, j) => [x, v[j]!]) };
        });
        // IDs must increase: make seq increase with i inside equal ms.
        entries.forEach((e, i) => (e.id = { ms: 5 + i, seq: e.id.seq }));
        const last = entries.at(-1)?.id ?? { ms: 0, seq: 0 };
        const data: StreamData = {
          length: entries.length,
          lastId: last,
          firstId: type === RdbType.STREAM_LISTPACKS ? (entries[0]?.id ?? { ms: 0, seq: 0 }) : { ms: 3, seq: 0 },
          maxDeletedId: type === RdbType.STREAM_LISTPACKS ? { ms: 0, seq: 0 } : { ms: 2, seq: 1 },
          entriesAdded: type === RdbType.STREAM_LISTPACKS ? entries.length : entries.length + 3,
          groups: entries.length === 0 ? [] : [
            {
              name: 'g',
              lastId: entries[0]!.id,
              entriesRead: type === RdbType.STREAM_LISTPACKS ? -1 : 1,
              // v1 does not store it: the loader estimates it from the stream
              ...(type === RdbType.STREAM_LISTPACKS ? { estimateEntriesRead: true } : {}),
              pel: [{ id: entries[0]!.id, deliveryTime: 1700000000000, deliveryCount: 3 }],
              consumers: [
                { name: 'c1', seenTime: 1700000000001, activeTime: type === RdbType.STREAM_LISTPACKS_3 ? 1700000000002 : -1, pel: [entries[0]!.id] },
                { name: 'c2', seenTime: 1, activeTime: type === RdbType.STREAM_LISTPACKS_3 ? 5 : -1, pel: [] },
              ],
            },
          ],
        };
        const bytes = encode(entries, data, type, { maxBytes: 4096, maxEntries });
        const r = new RdbReader(bytes);
        const back = readStreamData(r, type);
        expect(r.remaining).toBe(0);
        expect(back.entries).toEqual(entries);
        expect(back.data).toEqual(data);
      }),
      { numRuns: 80 },
    );
  });

  it('builds a StreamValue from the payload (groups, PEL owners) and writes it back the same, minus the deleted entry', () => {
    const v = decodeValuePayload(REDIS_PAYLOAD) as StreamValue;
    expect(v).toBeInstanceOf(StreamValue);
    expect([v.size, v.lastId, v.firstId, v.maxDeletedId, v.entriesAdded]).toEqual([2, { ms: 2, seq: 0 }, { ms: 1, seq: 1 }, { ms: 1, seq: 2 }, 3]);
    expect(v.get({ ms: 1, seq: 2 })).toBeNull();
    expect(v.get({ ms: 2, seq: 0 })).toEqual(['c', '5']);
    const g = v.groups.get('g1')!;
    expect([g.lastId, g.entriesRead, g.pel.size]).toEqual([{ ms: 1, seq: 1 }, -1, 1]);
    const alice = g.consumers.get('alice')!;
    expect(g.pel.get({ ms: 1, seq: 1 })!.consumer).toBe(alice);
    expect(alice.pel.get({ ms: 1, seq: 1 })).toBe(g.pel.get({ ms: 1, seq: 1 }));
    const again = createDumpPayload(v, { compress: false });
    const back = decodeValuePayload(again) as StreamValue;
    expect(back.groups.get('g1')!.consumers.get('alice')!.seenTime).toBe(alice.seenTime);
    expect(createDumpPayload(back, { compress: false }).equals(again)).toBe(true);
    // An empty stream is a value (it keeps its IDs and groups), not an empty key.
    const empty = new StreamValue();
    empty.setMeta({ ms: 9, seq: 9 }, 4, { ms: 9, seq: 9 });
    const e = decodeValuePayload(createDumpPayload(empty)) as StreamValue;
    expect([e.size, e.lastId, e.entriesAdded]).toEqual([0, { ms: 9, seq: 9 }, 4]);
  });

  it('refuses corrupt nodes and dangling consumer PEL entries', () => {
    const id = { ms: 1, seq: 0 };
    expect(() => parseStreamNode(id, Buffer.from([7, 0, 0, 0, 0, 0, 0xff]), 5, [])).toThrow(/empty listpack inside stream/);
    const [, lp] = buildStreamNodes([{ id, fv: ['a', 'b'] }], { maxBytes: 4096, maxEntries: 100 })[0]!;
    const wrongCount = Buffer.from(lp);
    wrongCount[6] = 2;
    expect(() => parseStreamNode(id, wrongCount, 5, [])).toThrow(RdbError);
    const data: StreamData = {
      length: 1, lastId: id, firstId: id, maxDeletedId: { ms: 0, seq: 0 }, entriesAdded: 1,
      groups: [{ name: 'g', lastId: id, entriesRead: 1, pel: [], consumers: [{ name: 'c', seenTime: 0, activeTime: -1, pel: [id] }] }],
    };
    const bytes = encode([{ id, fv: ['a', 'b'] }], data, RdbType.STREAM_LISTPACKS_2);
    expect(() => readStreamData(new RdbReader(bytes), RdbType.STREAM_LISTPACKS_2)).toThrow(/not found in the group PEL/);
    const badLen = encode([{ id, fv: ['a', 'b'] }], { ...data, length: 2, groups: [] }, RdbType.STREAM_LISTPACKS_2);
    expect(() => readStreamData(new RdbReader(badLen), RdbType.STREAM_LISTPACKS_2)).toThrow(/length 2/);
  });
});
