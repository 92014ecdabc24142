/**
 * Streams in RDB: RDB_TYPE_STREAM_LISTPACKS (v1, Redis 5/6),
 * _LISTPACKS_2 (Redis 7.0, what cacheside writes) and _LISTPACKS_3 (7.2,
 * consumers with an active time).
 *
 * Entries are stored in listpack nodes keyed by a "master ID" (16 bytes,
 * ms and seq big-endian). A node starts with a master entry: live count,
 * deleted count, the number of master fields, those fields, and 0. Each
 * entry then is: flags (1 deleted, 2 same fields as the master), ms and
 * seq differences from the master ID, [field count,] fields and values (or
 * the values only with the same-fields flag), and the number of listpack
 * elements the entry took (to walk backwards). Nodes are split as Redis
 * does when appending: a new node when the current one reaches
 * stream-node-max-bytes (counting the new entry's strings) or
 * stream-node-max-entries.
 *
 * After the nodes: length, last ID, [v2+: first ID, max deleted ID,
 * entries added,] the consumer groups (name, last delivered ID, [v2+:
 * entries read,] the PEL with delivery times and counts, the consumers
 * with their seen time [v3: and active time] and their PEL as bare IDs).
 *
 * This module converts between those bytes and a neutral StreamData; the
 * stream value class is read and built in stream-rdb-adapter.ts.
 */
import type { AggregateValue, Value } from '../keyspace/values.js';
import type { I64, StreamID, U64 } from '../stream/stream-id.js';
import { diffI64, u64 } from '../stream/stream-id.js';
import { ListpackBuilder, BlobError, parseListpack } from './rdb-listpack.js';
import { RdbError, RdbType, type RdbReader, type RdbWriter } from './rdb-format.js';
import { buildStream, streamData, streamEntries } from './stream-rdb-adapter.js';

export interface StreamEntryData {
  id: StreamID;
  /** Field, value, field, value ... */
  fv: string[];
}

export interface StreamNackData {
  id: StreamID;
  deliveryTime: number;
  deliveryCount: U64;
}

export interface StreamConsumerData {
  name: string;
  seenTime: number;
  /** Redis 7.2's active time (RDB v3 streams); -1 when unknown. */
  activeTime: number;
  /** IDs of the consumer's pending entries (each in the group PEL). */
  pel: StreamID[];
}

export interface StreamGroupData {
  name: string;
  lastId: StreamID;
  /** -1 when unknown (Redis's SCG_INVALID_ENTRIES_READ). */
  entriesRead: I64;
  /** Not stored (a v1 stream, before RDB 10): estimated from the stream when it is built. */
  estimateEntriesRead?: boolean;
  pel: StreamNackData[];
  consumers: StreamConsumerData[];
}

export interface StreamData {
  length: number;
  lastId: StreamID;
  firstId: StreamID;
  maxDeletedId: StreamID;
  entriesAdded: I64;
  groups: StreamGroupData[];
}

/** Node split limits (stream-node-max-bytes / stream-node-max-entries). */
export interface StreamNodeLimits {
  maxBytes: number;
  maxEntries: number;
}

const STREAM_LISTPACK_MAX_SIZE = 1 << 30;
const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;

function idKey(id: StreamID): string {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(BigInt(id.ms), 0);
  b.writeBigUInt64BE(BigInt(id.seq), 8);
  return b.toString('latin1');
}

function rawId(id: StreamID): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(BigInt(id.ms), 0);
  b.writeBigUInt64BE(BigInt(id.seq), 8);
  return b;
}

function idFromRaw(b: Buffer, at = 0): StreamID {
  return { ms: u64(b.readBigUInt64BE(at)), seq: u64(b.readBigUInt64BE(at + 8)) };
}

/** Split entries into listpack nodes as Redis's XADD fills them. Returns [master ID, listpack] pairs. */
export function buildStreamNodes(entries: Iterable<StreamEntryData>, limits: StreamNodeLimits): [StreamID, Buffer][] {
  const maxBytes = limits.maxBytes === 0 || limits.maxBytes > STREAM_LISTPACK_MAX_SIZE ? STREAM_LISTPACK_MAX_SIZE : limits.maxBytes;
  const nodes: [StreamID, Buffer][] = [];
  let lb: ListpackBuilder | null = null;
  let master: StreamID = { ms: 0, seq: 0 };
  let masterFields: string[] = [];
  let count = 0;
  const close = () => {
    if (lb === null) return;
    const lp = lb.finish();
    // The live count is the first element: patch it (written as 1 when the node was opened).
    nodes.push([master, patchCount(lp, count)]);
    lb = null;
  };
  for (const e of entries) {
    const n = e.fv.length >> 1;
    let totelelen = 0;
    for (const s of e.fv) totelelen += s.length;
    if (lb !== null) {
      // The live count grows past its 1-byte encoding once over 127.
      const countGrowth = count <= 127 ? 0 : count <= 4095 ? 1 : count <= 32767 ? 2 : 3;
      if (lb.bytes + countGrowth + totelelen >= maxBytes) close();
      else if (limits.maxEntries > 0 && count >= limits.maxEntries) close();
    }
    if (lb === null) {
      lb = new ListpackBuilder(256);
      master = e.id;
      masterFields = [];
      for (let i = 0; i < n; i++) masterFields.push(e.fv[2 * i]!);
      // count (patched later), deleted, master field count, fields, terminator
      lb.appendInt(0).appendInt(0).appendInt(n);
      for (const f of masterFields) lb.append(f);
      lb.appendInt(0);
      count = 0;
    }
    let same = n === masterFields.length;
    for (let i = 0; same && i < n; i++) if (e.fv[2 * i] !== masterFields[i]) same = false;
    lb.appendInt(same ? FLAG_SAMEFIELDS : 0);
    lb.appendInt(diffI64(e.id.ms, master.ms));
    lb.appendInt(diffI64(e.id.seq, master.seq));
    if (same) {
      for (let i = 0; i < n; i++) lb.append(e.fv[2 * i + 1]!);
      lb.appendInt(n + 3);
    } else {
      lb.appendInt(n);
      for (const s of e.fv) lb.append(s);
      lb.appendInt(2 * n + 4);
    }
    count++;
  }
  close();
  return nodes;
}

/** Rewrite the first element (the live count, encoded as the 1-byte integer 0) with `count`. */
function patchCount(lp: Buffer, count: number): Buffer {
  if (count <= 127) {
    lp[6] = count;
    return lp;
  }
  const items = new ListpackBuilder(lp.length + 8);
  items.appendInt(count);
  // Copy the rest of the elements verbatim: everything after the first element (2 bytes: 0x00 + backlen 1).
  const rest = lp.subarray(8, lp.length - 1);
  const head = items.finish();
  const out = Buffer.allocUnsafe(head.length - 1 + rest.length + 1);
  head.copy(out, 0, 0, head.length - 1);
  rest.copy(out, head.length - 1);
  out[out.length - 1] = 0xff;
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(lp.readUInt16LE(4), 4);
  return out;
}

/** Write a stream body (after type byte and key) as `type` (STREAM_LISTPACKS_2 or _3). */
export function writeStreamData(w: RdbWriter, entries: Iterable<StreamEntryData>, d: StreamData, type: number, limits: StreamNodeLimits): void {
  const nodes = buildStreamNodes(entries, limits);
  w.len(nodes.length);
  for (const [id, lp] of nodes) {
    w.string(idKey(id));
    w.blob(lp);
  }
  w.len(d.length);
  w.lenU64(d.lastId.ms);
  w.lenU64(d.lastId.seq);
  if (type !== RdbType.STREAM_LISTPACKS) {
    w.lenU64(d.firstId.ms);
    w.lenU64(d.firstId.seq);
    w.lenU64(d.maxDeletedId.ms);
    w.lenU64(d.maxDeletedId.seq);
    w.lenU64(d.entriesAdded);
  }
  w.len(d.groups.length);
  for (const g of d.groups) {
    w.string(g.name);
    w.lenU64(g.lastId.ms);
    w.lenU64(g.lastId.seq);
    if (type !== RdbType.STREAM_LISTPACKS) w.lenU64(g.entriesRead);
    w.len(g.pel.length);
    for (const n of g.pel) {
      w.raw(rawId(n.id));
      w.millis(n.deliveryTime);
      w.lenU64(n.deliveryCount);
    }
    w.len(g.consumers.length);
    for (const c of g.consumers) {
      w.string(c.name);
      w.millis(c.seenTime);
      if (type === RdbType.STREAM_LISTPACKS_3) w.millis(c.activeTime);
      w.len(c.pel.length);
      for (const id of c.pel) w.raw(rawId(id));
    }
  }
}

function int(s: string, at: number): number | bigint {
  const n = Number(s);
  if (Number.isSafeInteger(n)) return n;
  if (!/^-?\d+$/.test(s)) throw new RdbError(`stream listpack holds '${s}' where an integer is expected`, at);
  return BigInt(s);
}

function addU64(base: U64, diff: number | bigint): U64 {
  if (typeof base === 'number' && typeof diff === 'number') {
    const r = base + diff;
    if (Number.isSafeInteger(r) && r >= 0) return r;
  }
  return u64(BigInt.asUintN(64, BigInt(base) + BigInt(diff)));
}

/** The live entries of one node's listpack, in order. */
export function parseStreamNode(master: StreamID, lp: Buffer, at: number, out: StreamEntryData[]): void {
  let items: string[];
  try {
    items = parseListpack(lp);
  } catch (e) {
    if (e instanceof BlobError || e instanceof RangeError) throw new RdbError(`invalid stream listpack: ${e.message}`, at);
    throw e;
  }
  if (items.length === 0) throw new RdbError('empty listpack inside stream', at);
  let p = 0;
  const next = (): string => {
    if (p >= items.length) throw new RdbError('stream listpack ends inside an entry', at);
    return items[p++]!;
  };
  const live = Number(int(next(), at));
  const deleted = Number(int(next(), at));
  const nMaster = Number(int(next(), at));
  const masterFields: string[] = [];
  for (let i = 0; i < nMaster; i++) masterFields.push(next());
  if (next() !== '0') throw new RdbError('stream listpack master entry not terminated by 0', at);
  let seenLive = 0;
  let seenDeleted = 0;
  while (p < items.length) {
    const flags = Number(int(next(), at));
    const id = { ms: addU64(master.ms, int(next(), at)), seq: addU64(master.seq, int(next(), at)) };
    const fv: string[] = [];
    if (flags & FLAG_SAMEFIELDS) {
      for (const f of masterFields) fv.push(f, next());
    } else {
      const n = Number(int(next(), at));
      for (let i = 0; i < 2 * n; i++) fv.push(next());
    }
    next(); // lp-count
    if (flags & FLAG_DELETED) seenDeleted++;
    else {
      seenLive++;
      out.push({ id, fv });
    }
  }
  if (seenLive !== live || seenDeleted !== deleted) throw new RdbError('stream listpack counts do not match its entries', at);
}

function readId(r: RdbReader): StreamID {
  return { ms: u64(r.lenBig()), seq: u64(r.lenBig()) };
}

/** A signed 64-bit value stored as an unsigned length (entries read -1). */
function readI64(r: RdbReader): I64 {
  const v = BigInt.asIntN(64, r.lenBig());
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Read a stream body of `type` into entries and metadata. */
export function readStreamData(r: RdbReader, type: number): { entries: StreamEntryData[]; data: StreamData } {
  const entries: StreamEntryData[] = [];
  const nodes = r.len();
  for (let i = 0; i < nodes; i++) {
    const at = r.offset;
    const key = r.stringBuf();
    if (key.length !== 16) throw new RdbError('stream node key is not a 128-bit ID', at);
    const lpAt = r.offset;
    parseStreamNode(idFromRaw(key), r.stringBuf(), lpAt, entries);
  }
  const length = r.len();
  const lastId = readId(r);
  let firstId: StreamID = entries.length > 0 ? entries[0]!.id : { ms: 0, seq: 0 };
  let maxDeletedId: StreamID = { ms: 0, seq: 0 };
  let entriesAdded: I64 = length;
  if (type !== RdbType.STREAM_LISTPACKS) {
    firstId = readId(r);
    maxDeletedId = readId(r);
    entriesAdded = readI64(r);
  }
  if (length !== entries.length) throw new RdbError(`stream length ${length} does not match its ${entries.length} entries`, r.offset);
  const groups: StreamGroupData[] = [];
  const ngroups = r.len();
  for (let i = 0; i < ngroups; i++) {
    const name = r.string();
    const gLast = readId(r);
    const entriesRead: I64 = type !== RdbType.STREAM_LISTPACKS ? readI64(r) : -1;
    const pel: StreamNackData[] = [];
    const npel = r.len();
    const inPel = new Set<string>();
    for (let j = 0; j < npel; j++) {
      const id = idFromRaw(r.bytes(16));
      pel.push({ id, deliveryTime: r.millis(), deliveryCount: u64(r.lenBig()) });
      inPel.add(`${id.ms}-${id.seq}`);
    }
    const consumers: StreamConsumerData[] = [];
    const names = new Set<string>();
    const nc = r.len();
    for (let j = 0; j < nc; j++) {
      const nameAt = r.offset;
      const cname = r.string();
      if (names.has(cname)) throw new RdbError('Duplicate stream consumer detected.', nameAt);
      names.add(cname);
      const seenTime = r.millis();
      const activeTime = type === RdbType.STREAM_LISTPACKS_3 ? r.millis() : -1;
      const ids: StreamID[] = [];
      const n = r.len();
      for (let k = 0; k < n; k++) {
        const at = r.offset;
        const id = idFromRaw(r.bytes(16));
        if (!inPel.has(`${id.ms}-${id.seq}`)) throw new RdbError('consumer pending entry not found in the group PEL', at);
        ids.push(id);
      }
      consumers.push({ name: cname, seenTime, activeTime, pel: ids });
    }
    groups.push({ name, lastId: gLast, entriesRead, pel, consumers, ...(type === RdbType.STREAM_LISTPACKS ? { estimateEntriesRead: true } : {}) });
  }
  return { entries, data: { length, lastId, firstId, maxDeletedId, entriesAdded, groups } };
}

// ---- value binding -----------------------------------------------------------------

/** The type a stream is written as: Redis 7.0's RDB_TYPE_STREAM_LISTPACKS_2. */
export function streamRdbType(_v: AggregateValue): number {
  return RdbType.STREAM_LISTPACKS_2;
}

export const DEFAULT_STREAM_NODE_LIMITS: StreamNodeLimits = { maxBytes: 4096, maxEntries: 100 };

export function writeStream(w: RdbWriter, v: AggregateValue, type: number, limits: StreamNodeLimits = DEFAULT_STREAM_NODE_LIMITS): void {
  writeStreamData(w, streamEntries(v), streamData(v), type, limits);
}

/** Read a stream value; an empty stream is a valid value (it keeps its groups and IDs). */
export function readStream(r: RdbReader, type: number, limits: StreamNodeLimits = DEFAULT_STREAM_NODE_LIMITS): Value {
  const at = r.offset;
  const { entries, data } = readStreamData(r, type);
  try {
    return buildStream(entries, data, limits);
  } catch (e) {
    if (e instanceof RdbError && e.offset < 0) throw new RdbError(e.message, at);
    throw e;
  }
}
