/**
 * Lists in RDB 10 (RDB_TYPE_LIST_QUICKLIST_2): the elements split into nodes
 * as a Redis 7.0 quicklist fills them (list-max-listpack-size), each node a
 * listpack (PACKED) or, for an element of 1 GiB or more, the element alone
 * (PLAIN). The node count comes before the nodes, so a list is split first
 * and written after: QuicklistNodes keeps the nodes it builds (one go);
 * QuicklistSplit only notes where nodes start, so that a big list written in
 * pieces builds each node when it writes it and keeps none.
 */
import { ListpackBuilder } from './rdb-listpack.js';
import { QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN, type RdbWriter } from './rdb-format.js';

/** Quicklist node size limits for negative list-max-listpack-size values -1..-5. */
const QL_SIZE_LIMITS = [4096, 8192, 16384, 32768, 65536];
/** A node never grows past this for a positive (count) fill. */
const QL_SAFETY_LIMIT = 8192;
/** Elements at least this big get a node of their own (PLAIN); DEBUG QUICKLIST-PACKED-THRESHOLD sets it. */
let QL_PACKED_THRESHOLD = 1 << 30;

/** DEBUG QUICKLIST-PACKED-THRESHOLD: 0 restores the default (1 GiB); false when out of range (up to 4 GiB - 1 MiB). */
export function setQuicklistPackedThreshold(bytes: number): boolean {
  if (bytes > 2 ** 32 - 2 ** 20) return false;
  QL_PACKED_THRESHOLD = bytes === 0 ? 1 << 30 : bytes;
  return true;
}

/** What a quicklist assumes one more element adds to a node beyond its own bytes. */
const QL_ESTIMATE_OVERHEAD = 8;

/**
 * Would a quicklist node of `nodeBytes` bytes holding `count` elements take
 * one more element of `sz` bytes? A negative fill limits the node's bytes
 * (-1..-5: 4..64 KiB), a positive one its element count (within 8 KiB).
 */
function nodeAllows(nodeBytes: number, count: number, sz: number, fill: number): boolean {
  const newSz = nodeBytes + sz + QL_ESTIMATE_OVERHEAD;
  if (fill < 0) return newSz <= QL_SIZE_LIMITS[Math.min(-fill, QL_SIZE_LIMITS.length) - 1]!;
  if (newSz > QL_SAFETY_LIMIT) return false;
  return count + 1 <= (fill === 0 ? 1 : fill);
}

/** One node: a finished listpack, or a PLAIN element. */
export type QuicklistNode = { plain: string; lp: null } | { plain: null; lp: Buffer };

/** Splits elements, in order, into quicklist nodes. */
export class QuicklistNodes {
  readonly nodes: QuicklistNode[] = [];
  private lb: ListpackBuilder | null = null;

  constructor(private readonly fill: number) {}

  add(e: string): void {
    if (e.length >= QL_PACKED_THRESHOLD) {
      this.seal();
      this.nodes.push({ plain: e, lp: null });
      return;
    }
    if (this.lb !== null && !nodeAllows(this.lb.bytes, this.lb.count, e.length, this.fill)) this.seal();
    (this.lb ??= new ListpackBuilder(256)).append(e);
  }

  /** Close the node being filled; returns every node. */
  finish(): QuicklistNode[] {
    this.seal();
    return this.nodes;
  }

  private seal(): void {
    if (this.lb === null) return;
    this.nodes.push({ plain: null, lp: this.lb.finish() });
    this.lb = null;
  }
}

/** Where each quicklist node of a list starts, found an element at a time. */
export class QuicklistSplit {
  /** Index of the first element of each node. */
  readonly starts: number[] = [];
  /** The node being filled, measured with a listpack emptied for each node. */
  private readonly scratch = new ListpackBuilder(QL_SAFETY_LIMIT);
  private open = false;

  constructor(private readonly fill: number) {}

  /** Element `i` (the next one) is `e`. */
  add(i: number, e: string): void {
    if (e.length >= QL_PACKED_THRESHOLD) {
      this.starts.push(i);
      this.open = false;
      return;
    }
    if (this.open && !nodeAllows(this.scratch.bytes, this.scratch.count, e.length, this.fill)) this.open = false;
    if (!this.open) {
      this.starts.push(i);
      this.scratch.reset();
      this.open = true;
    }
    this.scratch.append(e);
  }
}

/** Node `[from, to)` of a split list: a PLAIN node for a lone giant element, else a listpack. */
export function buildQuicklistNode(at: (i: number) => string, from: number, to: number): QuicklistNode {
  const first = at(from);
  if (to - from === 1 && first.length >= QL_PACKED_THRESHOLD) return { plain: first, lp: null };
  const lb = new ListpackBuilder(256);
  for (let i = from; i < to; i++) lb.append(at(i));
  return { plain: null, lp: lb.finish() };
}

/** One node as the RDB writes it: its container type, then the listpack (or the element). */
export function writeQuicklistNode(w: RdbWriter, n: QuicklistNode): void {
  if (n.plain !== null) {
    w.len(QUICKLIST_NODE_PLAIN);
    w.string(n.plain);
  } else {
    w.len(QUICKLIST_NODE_PACKED);
    w.blob(n.lp);
  }
}
