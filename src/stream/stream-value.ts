/**
 * The stream value: entries ordered by ID, plus consumer groups.
 *
 * Entries live in nodes that mirror Redis's listpack nodes, because several
 * observable results depend on where Redis's node boundaries fall: XADD /
 * XTRIM with `~` only drop whole nodes, XINFO STREAM reports the node count
 * (radix-tree-keys) and the radix tree's node count (radix-tree-nodes). A new
 * node starts when the last node holds stream-node-max-entries entries
 * (deleted ones included) or when its listpack size plus the new entry's
 * field and value lengths reaches stream-node-max-bytes; the listpack size
 * is modelled exactly (element encodings of the master entry, each entry's
 * flags, ID deltas, fields or values and back-count). Deleting an entry only
 * marks it (as Redis does); a node goes away when its last live entry is
 * deleted or when trimming drops it whole.
 *
 * Within a node the entry IDs sit in parallel arrays, so appending is O(1),
 * finding an ID is a binary search over the nodes then inside one node, and
 * trimming from the front is O(entries trimmed). Nodes removed from the
 * front advance a head index (compacted now and then).
 *
 * The value also keeps what Redis 7.0 keeps: last ID, recorded first ID,
 * maximal deleted ID, entries-added counter; `size` (XLEN) and `bytes` (sum
 * of the live entries' field and value lengths) are exact at all times.
 *
 * At module load it registers the COPY deep copier, the OBJECT ENCODING name
 * ("stream") and the DEBUG DIGEST content function.
 */
import type { AggregateValue } from '../keyspace/values.js';
import { registerValueCopier } from '../keyspace/value-copy.js';
import { registerEncodingName } from '../keyspace/object-encoding.js';
import { mixDigest, registerDigest } from '../keyspace/digest.js';
import { ConsumerGroup } from './stream-group.js';
import {
  type I64,
  type StreamID,
  type U64,
  MIN_ID,
  U64_MAX_BIG,
  cmpId,
  diffI64,
  idLess,
  incI64,
  incrId,
} from './stream-id.js';

/** Node limits from CONFIG (stream-node-max-entries / stream-node-max-bytes). */
export interface NodeLimits {
  maxEntries: number;
  maxBytes: number;
}

/** Redis's STREAM_LISTPACK_MAX_SIZE. */
const LISTPACK_MAX_SIZE = 1 << 30;

export interface TrimSpec {
  strategy: 'maxlen' | 'minid';
  maxlen: number;
  minid: StreamID;
  /** `~`: only whole nodes go. */
  approx: boolean;
  /** Most entries removed (0 = no limit); only with approx. */
  limit: number;
}

/** Visit one entry: return false to stop. */
export type EntryVisitor = (ms: U64, seq: U64, fv: readonly string[]) => boolean;

// ---------------------------------------------------------------------------
// Listpack element sizes (encoding + back-length)

function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

function intEncLen(v: number | bigint): number {
  if (typeof v === 'bigint') {
    if (v >= -(1n << 31n) && v < 1n << 31n) v = Number(v);
    else return 9;
  }
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

/** Size of an integer element. */
function intElem(v: number | bigint): number {
  return intEncLen(v) + 1;
}

const INT_STRING = /^(0|-?[1-9][0-9]{0,19})$/;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Size of a string element (stored as an integer when it is the canonical text of an int64). */
function strElem(s: string): number {
  const c = s.length > 0 ? s.charCodeAt(0) : 0;
  if (s.length <= 20 && ((c >= 48 && c <= 57) || c === 45) && INT_STRING.test(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n)) return intElem(n);
    const b = BigInt(s);
    if (b >= I64_MIN && b <= I64_MAX) return intElem(b);
  }
  const len = s.length;
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return enc + backlenSize(enc);
}

/** Listpack header (total bytes + element count) and end byte. */
const LP_OVERHEAD = 7;

// ---------------------------------------------------------------------------

class StreamNode {
  readonly ms: U64[] = [];
  readonly seq: U64[] = [];
  /**
   * Field/value pairs per entry; null once deleted. An entry of one field,
   * the master entry's only field, is stored as its value string alone
   * (Redis too stores such entries without their fields): one object per
   * entry instead of three. `entry(i)` gives the pairs either way.
   */
  readonly fv: (string[] | string | null)[] = [];
  /** Live entries stored as a value string alone (memory model). */
  compact = 0;
  live = 0;
  dead = 0;
  /** Entries before this index are all deleted. */
  first = 0;
  /** Listpack bytes except the live/deleted counters of the master entry. */
  fixed: number;

  constructor(
    readonly masterMs: U64,
    readonly masterSeq: U64,
    readonly masterFields: string[],
  ) {
    let b = LP_OVERHEAD + intElem(masterFields.length) + intElem(0); // num-fields ... master terminator
    for (const f of masterFields) b += strElem(f);
    this.fixed = b;
  }

  lpBytes(): number {
    return this.fixed + intElem(this.live) + intElem(this.dead);
  }

  /** Index of the first entry with ID >= (ms, seq). */
  lower(ms: U64, seq: U64): number {
    let lo = 0;
    let hi = this.ms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (idLess(this.ms[mid]!, this.seq[mid]!, ms, seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first entry with ID > (ms, seq). */
  upper(ms: U64, seq: U64): number {
    let lo = 0;
    let hi = this.ms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (idLess(ms, seq, this.ms[mid]!, this.seq[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  push(ms: U64, seq: U64, fv: string[]): void {
    const n = fv.length / 2;
    const mf = this.masterFields;
    let same = mf.length === n;
    for (let i = 0; same && i < n; i++) if (fv[2 * i] !== mf[i]) same = false;
    let b = 2 + intElem(diffI64(ms, this.masterMs)) + intElem(diffI64(seq, this.masterSeq)); // flags + deltas
    if (same) {
      // Share the master entry's field strings (as Redis stores such an entry without its fields):
      // the argument strings die young instead of being retained per entry.
      for (let i = 0; i < n; i++) fv[2 * i] = mf[i]!;
      for (let i = 1; i < fv.length; i += 2) b += strElem(fv[i]!);
      b += intElem(n + 3);
    } else {
      b += intElem(n);
      for (let i = 0; i < fv.length; i++) b += strElem(fv[i]!);
      b += intElem(2 * n + 4);
    }
    this.fixed += b;
    this.ms.push(ms);
    this.seq.push(seq);
    if (same && n === 1) {
      this.fv.push(fv[1]!);
      this.compact++;
    } else this.fv.push(fv);
    this.live++;
  }

  /** The field/value pairs of entry i, or null when deleted. */
  entry(i: number): string[] | null {
    const e = this.fv[i];
    if (e === null || e === undefined) return null;
    return typeof e === 'string' ? [this.masterFields[0]!, e] : e;
  }

  /** Field and value bytes of live entry i. */
  entryBytes(i: number): number {
    const e = this.fv[i]!;
    return typeof e === 'string' ? this.masterFields[0]!.length + e.length : fvBytes(e);
  }

  /** Mark entry i deleted (it is live); returns its field/value bytes. */
  kill(i: number): number {
    const bytes = this.entryBytes(i);
    if (typeof this.fv[i] === 'string') this.compact--;
    this.fv[i] = null;
    this.live--;
    this.dead++;
    if (i === this.first) while (this.first < this.fv.length && this.fv[this.first] === null) this.first++;
    return bytes;
  }

  id(i: number): StreamID {
    return { ms: this.ms[i]!, seq: this.seq[i]! };
  }

  copy(): StreamNode {
    const n = new StreamNode(this.masterMs, this.masterSeq, this.masterFields);
    n.ms.push(...this.ms);
    n.seq.push(...this.seq);
    n.fv.push(...this.fv);
    n.compact = this.compact;
    n.live = this.live;
    n.dead = this.dead;
    n.first = this.first;
    n.fixed = this.fixed;
    return n;
  }
}

function fvBytes(fv: readonly string[]): number {
  let b = 0;
  for (let i = 0; i < fv.length; i++) b += fv[i]!.length;
  return b;
}

// ---------------------------------------------------------------------------

export class StreamValue implements AggregateValue {
  readonly kind = 'stream' as const;
  private nodes: StreamNode[] = [];
  /** Index of the first node in `nodes` (nodes before it were trimmed away). */
  private head = 0;
  /** Number of live entries (XLEN). */
  size = 0;
  /** Sum of the live entries' field and value lengths. */
  bytes = 0;
  /** Live entries stored compactly (a lone master field: StreamNode.fv), for the memory model. */
  compactEntries = 0;
  lastId: StreamID = MIN_ID;
  /** Recorded first entry ID (0-0 when empty). */
  firstId: StreamID = MIN_ID;
  maxDeletedId: StreamID = MIN_ID;
  entriesAdded: I64 = 0;
  /** Consumer groups by name. */
  readonly groups = new Map<string, ConsumerGroup>();

  /** Number of listpack nodes (XINFO radix-tree-keys). */
  get nodeCount(): number {
    return this.nodes.length - this.head;
  }

  // ---- IDs ------------------------------------------------------------------

  /**
   * The ID XADD would use: `given` as is (seqGiven), `given.ms` with the next
   * sequence (the `<ms>-*` form), or for `*` the current time, never going
   * back. Null when the ID is not greater than the last one (or the
   * sequence would overflow).
   */
  nextId(given: StreamID | null, seqGiven: boolean, nowMs: number): StreamID | null {
    const last = this.lastId;
    let id: StreamID;
    if (given !== null) {
      if (seqGiven || given.ms !== last.ms) id = given;
      else {
        if (last.seq === U64_MAX_BIG) return null;
        id = incrId(last)!;
      }
    } else if (nowMs > last.ms) id = { ms: nowMs, seq: 0 };
    else {
      const n = incrId(last);
      if (n === null) return null;
      id = n;
    }
    return cmpId(id, last) > 0 ? id : null;
  }

  // ---- writes ---------------------------------------------------------------

  /** Append an entry whose ID is greater than lastId. `fv`: field, value, ... (kept by reference). */
  append(id: StreamID, fv: string[], limits: NodeLimits): void {
    let node = this.nodes.length > this.head ? this.nodes[this.nodes.length - 1]! : null;
    if (node !== null) {
      const maxBytes = limits.maxBytes <= 0 || limits.maxBytes > LISTPACK_MAX_SIZE ? LISTPACK_MAX_SIZE : limits.maxBytes;
      if (node.lpBytes() + fvBytes(fv) >= maxBytes) node = null;
      else if (limits.maxEntries > 0 && node.live + node.dead >= limits.maxEntries) node = null;
    }
    if (node === null) {
      const fields: string[] = [];
      for (let i = 0; i < fv.length; i += 2) fields.push(fv[i]!);
      node = new StreamNode(id.ms, id.seq, fields);
      this.nodes.push(node);
    }
    const compactBefore = node.compact;
    node.push(id.ms, id.seq, fv);
    this.compactEntries += node.compact - compactBefore;
    this.size++;
    this.bytes += fvBytes(fv);
    this.entriesAdded = incI64(this.entriesAdded);
    this.lastId = id;
    if (this.size === 1) this.firstId = id;
  }

  /** Mark one entry deleted (XDEL); false when there is no such live entry. Does not touch the metadata. */
  deleteEntry(id: StreamID): boolean {
    const k = this.nodeIndexFor(id.ms, id.seq);
    if (k < 0) return false;
    const node = this.nodes[k]!;
    const i = node.lower(id.ms, id.seq);
    if (i >= node.ms.length || node.ms[i] !== id.ms || node.seq[i] !== id.seq || node.fv[i] === null) return false;
    if (node.live === 1) {
      this.bytes -= node.entryBytes(i);
      this.removeNode(k);
    } else {
      const compactBefore = node.compact;
      this.bytes -= node.kill(i);
      this.compactEntries += node.compact - compactBefore;
    }
    this.size--;
    return true;
  }

  /** Is there a live entry with this ID? */
  has(id: StreamID): boolean {
    return this.get(id) !== null;
  }

  /** The field/value pairs of a live entry, or null. */
  get(id: StreamID): readonly string[] | null {
    const k = this.nodeIndexFor(id.ms, id.seq);
    if (k < 0) return null;
    const node = this.nodes[k]!;
    const i = node.lower(id.ms, id.seq);
    if (i >= node.ms.length || node.ms[i] !== id.ms || node.seq[i] !== id.seq) return null;
    return node.entry(i);
  }

  /**
   * XTRIM / XADD trimming, node by node from the front: a node goes whole
   * when everything in it must go; with `~` trimming stops at the first node
   * that cannot go whole, otherwise entries of that node are marked deleted
   * until the condition holds. Returns the number of entries removed.
   */
  trim(t: TrimSpec): number {
    const maxlen = t.strategy === 'maxlen';
    let removed = 0;
    while (this.head < this.nodes.length) {
      if (maxlen && this.size <= t.maxlen) break;
      const node = this.nodes[this.head]!;
      const entries = node.live;
      if (t.limit > 0 && removed + entries > t.limit) break;
      const whole = maxlen
        ? this.size - entries >= t.maxlen
        : idLess(node.ms[node.ms.length - 1]!, node.seq[node.seq.length - 1]!, t.minid.ms, t.minid.seq);
      if (whole) {
        for (let i = node.first; i < node.fv.length; i++) {
          const fv = node.fv[i];
          if (fv !== null && fv !== undefined) this.bytes -= node.entryBytes(i);
        }
        this.removeNode(this.head);
        this.size -= entries;
        removed += entries;
        continue;
      }
      if (t.approx) break;
      for (let i = node.first; i < node.fv.length; i++) {
        if (maxlen ? this.size <= t.maxlen : !idLess(node.ms[i]!, node.seq[i]!, t.minid.ms, t.minid.seq)) break;
        if (node.fv[i] === null) continue;
        const compactBefore = node.compact;
        this.bytes -= node.kill(i);
        this.compactEntries += node.compact - compactBefore;
        this.size--;
        removed++;
      }
      break;
    }
    this.firstId = this.size === 0 ? MIN_ID : this.edgeId(true, true)!;
    return removed;
  }

  /** XSETID's metadata updates. */
  setMeta(lastId: StreamID, entriesAdded: I64 | null, maxDeletedId: StreamID | null): void {
    this.lastId = lastId;
    if (entriesAdded !== null) this.entriesAdded = entriesAdded;
    if (maxDeletedId !== null) this.maxDeletedId = maxDeletedId;
  }

  private removeNode(k: number): void {
    this.compactEntries -= this.nodes[k]!.compact;
    if (k === this.head) {
      this.nodes[k] = undefined as unknown as StreamNode;
      this.head++;
      if (this.head === this.nodes.length) {
        this.nodes = [];
        this.head = 0;
      } else if (this.head >= 64 && this.head * 2 >= this.nodes.length) {
        this.nodes = this.nodes.slice(this.head);
        this.head = 0;
      }
    } else this.nodes.splice(k, 1);
  }

  // ---- reads ----------------------------------------------------------------

  /** Index in `nodes` of the last node whose master ID is <= (ms, seq), or -1. */
  private nodeIndexFor(ms: U64, seq: U64): number {
    let lo = this.head;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const n = this.nodes[mid]!;
      if (idLess(ms, seq, n.masterMs, n.masterSeq)) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1 >= this.head ? lo - 1 : -1;
  }

  /**
   * Visit the live entries with start <= ID <= end, ascending (or
   * descending when `rev`), until `visit` returns false.
   */
  forRange(start: StreamID, end: StreamID, rev: boolean, visit: EntryVisitor): void {
    if (cmpId(start, end) > 0 || this.size === 0) return;
    const nodes = this.nodes;
    if (!rev) {
      let k = this.nodeIndexFor(start.ms, start.seq);
      if (k < 0) k = this.head;
      let i = nodes[k]!.lower(start.ms, start.seq);
      for (; k < nodes.length; k++, i = 0) {
        const node = nodes[k]!;
        if (i < node.first) i = node.first;
        for (; i < node.ms.length; i++) {
          const ms = node.ms[i]!;
          const seq = node.seq[i]!;
          if (idLess(end.ms, end.seq, ms, seq)) return;
          const fv = node.entry(i);
          if (fv !== null && !visit(ms, seq, fv)) return;
        }
      }
    } else {
      let k = this.nodeIndexFor(end.ms, end.seq);
      if (k < 0) return;
      let i = nodes[k]!.upper(end.ms, end.seq) - 1;
      while (k >= this.head) {
        const node = nodes[k]!;
        for (; i >= node.first; i--) {
          const ms = node.ms[i]!;
          const seq = node.seq[i]!;
          if (idLess(ms, seq, start.ms, start.seq)) return;
          const fv = node.entry(i);
          if (fv !== null && !visit(ms, seq, fv)) return;
        }
        k--;
        if (k >= this.head) i = nodes[k]!.ms.length - 1;
      }
    }
  }

  /**
   * The first (or last) entry's ID; with `skipDeleted` false the first
   * node's first entry counts even if deleted. Null when there is none.
   */
  edgeId(first: boolean, skipDeleted: boolean): StreamID | null {
    if (this.head >= this.nodes.length) return null;
    if (first) {
      if (!skipDeleted) return this.nodes[this.head]!.id(0);
      for (let k = this.head; k < this.nodes.length; k++) {
        const n = this.nodes[k]!;
        if (n.live > 0) return n.id(n.first);
      }
      return null;
    }
    for (let k = this.nodes.length - 1; k >= this.head; k--) {
      const n = this.nodes[k]!;
      if (!skipDeleted) return n.id(n.ms.length - 1);
      for (let i = n.ms.length - 1; i >= n.first; i--) if (n.fv[i] !== null) return n.id(i);
    }
    return null;
  }

  /** First / last live entry, or null. */
  edgeEntry(first: boolean): { id: StreamID; fv: readonly string[] } | null {
    const id = this.edgeId(first, true);
    return id === null ? null : { id, fv: this.get(id)! };
  }

  /** Total modelled listpack bytes (memory accounting). */
  listpackBytes(): number {
    let b = 0;
    for (let k = this.head; k < this.nodes.length; k++) b += this.nodes[k]!.lpBytes();
    return b;
  }

  /**
   * Number of nodes of Redis's radix tree holding the listpack nodes, keyed
   * by 16-byte big-endian master IDs (XINFO radix-tree-nodes): the root, one
   * node per branching point and leaf, plus one compressed node for every
   * edge longer than one byte below a branching point.
   */
  radixTreeNodes(): number {
    const n = this.nodes.length - this.head;
    if (n === 0) return 1;
    const keys: Uint8Array[] = [];
    for (let k = this.head; k < this.nodes.length; k++) keys.push(encodeKey(this.nodes[k]!.masterMs, this.nodes[k]!.masterSeq));
    let branching = 0;
    let longEdges = 0;
    const edge = (parent: number, child: number): void => {
      if (child - parent > 1) longEdges++;
    };
    const stack: number[] = [16];
    for (let j = 1; j < n; j++) {
      const l = lcp(keys[j - 1]!, keys[j]!);
      let popped = -1;
      while (stack.length > 0 && stack[stack.length - 1]! > l) {
        popped = stack.pop()!;
        if (stack.length > 0 && stack[stack.length - 1]! >= l) edge(stack[stack.length - 1]!, popped);
        else edge(l, popped);
      }
      if (stack.length === 0 || stack[stack.length - 1]! < l) {
        stack.push(l);
        branching++;
      }
      stack.push(16);
    }
    while (stack.length > 1) {
      const child = stack.pop()!;
      edge(stack[stack.length - 1]!, child);
    }
    return branching + n + longEdges + (stack[0]! > 0 ? 1 : 0);
  }

  copy(): StreamValue {
    const c = new StreamValue();
    for (let k = this.head; k < this.nodes.length; k++) c.nodes.push(this.nodes[k]!.copy());
    c.size = this.size;
    c.bytes = this.bytes;
    c.compactEntries = this.compactEntries;
    c.lastId = this.lastId;
    c.firstId = this.firstId;
    c.maxDeletedId = this.maxDeletedId;
    c.entriesAdded = this.entriesAdded;
    for (const [name, g] of this.groups) c.groups.set(name, g.copy());
    return c;
  }

  /** Groups in name order (byte order, as Redis lists them). */
  sortedGroups(): ConsumerGroup[] {
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function encodeKey(ms: U64, seq: U64): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(ms));
  dv.setBigUint64(8, BigInt(seq));
  return b;
}

function lcp(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  while (i < 16 && a[i] === b[i]) i++;
  return i;
}

registerValueCopier('stream', (v) => (v as StreamValue).copy());
registerEncodingName('stream', () => 'stream');
registerDigest('stream', (d, v) => {
  const s = v as StreamValue;
  s.forRange(MIN_ID, { ms: U64_MAX_BIG, seq: U64_MAX_BIG }, false, (ms, seq, fv) => {
    mixDigest(d, `${ms}.${seq}`);
    for (const x of fv) mixDigest(d, x);
    return true;
  });
});
