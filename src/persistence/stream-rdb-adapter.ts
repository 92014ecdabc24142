/**
 * Binds the stream RDB codec (rdb-stream.ts) to the stream value class,
 * through its public API only: the live entries (forRange), the metadata
 * fields and the consumer groups are read for saving; loading appends the
 * entries (so nodes are split by this server's stream-node-max-* limits,
 * and entries a file marks deleted are gone), then restores the metadata
 * and the groups, PELs and consumers.
 */
import type { AggregateValue, Value } from '../keyspace/values.js';
import { StreamValue } from '../stream/stream-value.js';
import { Consumer, ConsumerGroup, estimateEntriesRead, type Nack } from '../stream/stream-group.js';
import { MAX_ID, MIN_ID, cmpId, formatId, type StreamID } from '../stream/stream-id.js';
import { RdbError } from './rdb-format.js';
import type { StreamData, StreamEntryData, StreamGroupData, StreamNodeLimits } from './rdb-stream.js';

/** The live entries of a stream, in ID order. */
export function streamEntries(v: AggregateValue): StreamEntryData[] {
  const out: StreamEntryData[] = [];
  (v as StreamValue).forRange(MIN_ID, MAX_ID, false, (ms, seq, fv) => {
    out.push({ id: { ms, seq }, fv: fv as string[] });
    return true;
  });
  return out;
}

/** A stream's metadata and consumer groups (groups and consumers in name order, PELs in ID order). */
export function streamData(v: AggregateValue): StreamData {
  const s = v as StreamValue;
  const groups: StreamGroupData[] = [];
  for (const g of s.sortedGroups()) {
    const pel: StreamGroupData['pel'] = [];
    g.pel.forEach((id, n) => pel.push({ id, deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount }));
    const consumers: StreamGroupData['consumers'] = [];
    for (const c of g.sortedConsumers()) {
      const ids: StreamID[] = [];
      c.pel.forEach((id) => ids.push(id));
      consumers.push({ name: c.name, seenTime: c.seenTime, activeTime: c.seenTime, pel: ids });
    }
    groups.push({ name: g.name, lastId: g.lastId, entriesRead: g.entriesRead, pel, consumers });
  }
  return { length: s.size, lastId: s.lastId, firstId: s.firstId, maxDeletedId: s.maxDeletedId, entriesAdded: s.entriesAdded, groups };
}

/** A stream value from decoded entries and metadata. */
export function buildStream(entries: StreamEntryData[], d: StreamData, limits: StreamNodeLimits): Value {
  const s = new StreamValue();
  let prev: StreamID | null = null;
  for (const e of entries) {
    if (prev !== null && cmpId(e.id, prev) <= 0) throw new RdbError(`stream entry IDs out of order at ${formatId(e.id)}`);
    if (e.fv.length === 0 || e.fv.length % 2 !== 0) throw new RdbError(`stream entry ${formatId(e.id)} has no field/value pairs`);
    s.append(e.id, e.fv, limits);
    prev = e.id;
  }
  if (prev !== null && cmpId(d.lastId, prev) < 0) throw new RdbError('stream last ID is smaller than its last entry');
  s.setMeta(d.lastId, d.entriesAdded, d.maxDeletedId);
  s.firstId = entries.length === 0 ? MIN_ID : d.firstId;
  for (const gd of d.groups) {
    if (s.groups.has(gd.name)) throw new RdbError(`duplicated consumer group name '${gd.name}'`);
    const g = new ConsumerGroup(gd.name, gd.lastId, gd.estimateEntriesRead === true ? estimateEntriesRead(s, gd.lastId) : gd.entriesRead);
    const orphan = new Consumer('', 0);
    const nacks = new Map<string, { id: StreamID; nack: Nack }>();
    for (const n of gd.pel) {
      const nack: Nack = { consumer: orphan, deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount };
      const k = formatId(n.id);
      if (nacks.has(k)) throw new RdbError(`duplicated consumer group PEL entry ${k}`);
      nacks.set(k, { id: n.id, nack });
      g.pel.set(n.id, nack);
    }
    for (const cd of gd.consumers) {
      if (g.consumers.has(cd.name)) throw new RdbError(`duplicated consumer name '${cd.name}'`);
      const c = new Consumer(cd.name, cd.seenTime);
      g.consumers.set(cd.name, c);
      for (const id of cd.pel) {
        const x = nacks.get(formatId(id));
        if (x === undefined || x.nack.consumer !== orphan) throw new RdbError(`consumer PEL entry ${formatId(id)} is not pending in the group, or owned twice`);
        x.nack.consumer = c;
        c.pel.set(id, x.nack);
      }
    }
    for (const { id, nack } of nacks.values()) {
      if (nack.consumer === orphan) throw new RdbError(`group PEL entry ${formatId(id)} has no consumer`);
    }
    s.groups.set(gd.name, g);
  }
  return s;
}
