/**
 * The sorted set value type.
 *
 * Layout: a skiplist ordered by (score, member) (skiplist.ts) for ranks and
 * ranges in O(log n), a Map member → skiplist node for O(1) score lookups,
 * and a dense array of the nodes (each node knows its slot) for O(1) random
 * members (ZRANDMEMBER) and a SCAN-safe cursor (ZSCAN walks slots from the
 * highest to the lowest; a removal only moves the node of the highest slot
 * into the hole, so a member present for the whole scan is seen at least
 * once — the scheme of keyspace/keyspace.ts).
 *
 * Encoding (OBJECT ENCODING, Redis 7.0): "listpack" while the set has at most
 * zset-max-listpack-entries members of at most zset-max-listpack-value bytes,
 * then "skiplist" for good; ZADD starts a new set as a listpack unless the
 * entries limit is 0 or its first member is too long. Results of the STORE
 * commands are built big and turned into a listpack when small enough.
 * The encoding shows through in a few observable places, reproduced here:
 *  - a listpack stores an integral score within ±2^62 as an integer, so a
 *    score of -0 reads back as 0 (a skiplist keeps -0);
 *  - ZSCAN of a listpack returns everything at once, with scores as the
 *    listpack holds them (integers in full: "100000000000000000", not
 *    "1e+17");
 *  - lex range searches of a listpack scan linearly from the head (from the
 *    tail for the last element), a skiplist searches its levels — the same
 *    answers when all scores are equal, which is what lex ranges are for.
 *
 * Pure data structure: no sessions, no replies.
 */
import { CommandError, Err } from '../errors.js';
import { formatDouble17g } from '../numbers/format.js';
import { registerValueCopier } from '../keyspace/value-copy.js';
import { registerEncodingName } from '../keyspace/object-encoding.js';
import { mixDigest, newDigest, registerDigest, xorDigest } from '../keyspace/digest.js';
import type { AggregateValue, Value } from '../keyspace/values.js';
import {
  Skiplist,
  SkipNode,
  lexGteMin,
  lexLteMax,
  scoreGteMin,
  scoreLteMax,
  type LexRange,
  type ScoreRange,
} from './skiplist.js';

export { SkipNode, type LexRange, type ScoreRange, type LexBound } from './skiplist.js';

/** zset-max-listpack-entries / zset-max-listpack-value. */
export interface ListpackLimits {
  entries: number;
  value: number;
}

/** The listpack limits from the configuration. */
export function listpackLimits(config: { num(name: string): number }): ListpackLimits {
  return { entries: config.num('zset-max-listpack-entries'), value: config.num('zset-max-listpack-value') };
}

/** 2^62: Redis's double2ll() bound for storing a score as an integer in a listpack. */
const LISTPACK_INT_BOUND = 4611686018427387904;

/**
 * A score as a listpack holds it (what ZSCAN of a listpack returns): an
 * integral score within ±2^62 as an integer, anything else like %.17g.
 */
export function listpackScoreString(score: number): string {
  if (Number.isInteger(score) && score >= -LISTPACK_INT_BOUND && score <= LISTPACK_INT_BOUND) {
    return Number.isSafeInteger(score) ? String(score === 0 ? 0 : score) : BigInt(score).toString();
  }
  return formatDouble17g(score);
}

export class ZsetValue implements AggregateValue {
  readonly kind = 'zset' as const;
  private readonly sl = new Skiplist();
  private readonly dict = new Map<string, SkipNode>();
  /** Nodes by slot (node.slot). */
  private nodes: SkipNode[] = [];
  /** Sum of the member lengths (memory accounting). */
  bytes = 0;
  /** OBJECT ENCODING is "listpack" (else "skiplist"; never back). */
  listpack: boolean;

  constructor(listpack = true) {
    this.listpack = listpack;
  }

  /** A new set about to receive `firstMember` first, encoded as ZADD creates it. */
  static forFirstMember(firstMember: string, limits: ListpackLimits): ZsetValue {
    return new ZsetValue(limits.entries > 0 && firstMember.length <= limits.value);
  }

  get size(): number {
    return this.nodes.length;
  }

  get encoding(): 'listpack' | 'skiplist' {
    return this.listpack ? 'listpack' : 'skiplist';
  }

  has(member: string): boolean {
    return this.dict.has(member);
  }

  /** The score of `member`, undefined when absent. */
  score(member: string): number | undefined {
    return this.dict.get(member)?.score;
  }

  /** The node of `member` (read only: never change its score directly). */
  node(member: string): SkipNode | undefined {
    return this.dict.get(member);
  }

  /** A listpack reads -0 back as 0. */
  private stored(score: number): number {
    return this.listpack && score === 0 ? 0 : score;
  }

  /**
   * Add a member known to be absent. Converts a listpack to a skiplist first
   * when the new member would break `limits`.
   */
  insert(member: string, score: number, limits: ListpackLimits): void {
    if (this.listpack && (this.nodes.length + 1 > limits.entries || member.length > limits.value)) this.listpack = false;
    const node = this.sl.insert(this.stored(score), member);
    node.slot = this.nodes.length;
    this.nodes.push(node);
    this.dict.set(member, node);
    this.bytes += member.length;
  }

  /** Change the score of a present member (no-op when equal). */
  update(member: string, score: number): void {
    const node = this.dict.get(member)!;
    if (node.score === score) return;
    this.sl.updateScore(node, this.stored(score));
  }

  /** Add or update; true when the member was added. */
  set(member: string, score: number, limits: ListpackLimits): boolean {
    if (this.dict.has(member)) {
      this.update(member, score);
      return false;
    }
    this.insert(member, score, limits);
    return true;
  }

  /** Remove a member; false when absent. */
  remove(member: string): boolean {
    const node = this.dict.get(member);
    if (node === undefined) return false;
    this.sl.delete(node.score, member);
    this.forget(node);
    return true;
  }

  /** Drop a node already unlinked from the skiplist from the map and the slot array. */
  private forget(node: SkipNode): void {
    this.dict.delete(node.member);
    this.bytes -= node.member.length;
    const last = this.nodes.pop()!;
    if (last !== node) {
      last.slot = node.slot;
      this.nodes[node.slot] = last;
    }
    node.slot = -1;
  }

  // ---- order and ranks -----------------------------------------------------------

  first(): SkipNode | null {
    return this.sl.first();
  }

  last(): SkipNode | null {
    return this.sl.last();
  }

  /** 0-based rank of `member` (from the highest score when `reverse`), -1 when absent. */
  rankOf(member: string, reverse = false): number {
    const node = this.dict.get(member);
    if (node === undefined) return -1;
    const r = this.sl.rank(node.score, member) - 1;
    return reverse ? this.nodes.length - 1 - r : r;
  }

  /** 0-based rank of a node of this set. */
  rankOfNode(node: SkipNode): number {
    return this.sl.rank(node.score, node.member) - 1;
  }

  /** The node at 0-based `rank` (in ascending order), or null. */
  atRank(rank: number): SkipNode | null {
    return this.sl.byRank(rank + 1);
  }

  /** Every member in ascending order. */
  forEach(visit: (member: string, score: number) => void): void {
    for (let x = this.sl.first(); x !== null; x = x.next[0]!) visit(x.member, x.score);
  }

  // ---- score ranges --------------------------------------------------------------

  firstInScoreRange(r: ScoreRange): SkipNode | null {
    return this.sl.firstInScoreRange(r);
  }

  lastInScoreRange(r: ScoreRange): SkipNode | null {
    return this.sl.lastInScoreRange(r);
  }

  /** Number of members with a score in the range, in O(log n). */
  countInScoreRange(r: ScoreRange): number {
    const f = this.sl.firstInScoreRange(r);
    if (f === null) return 0;
    const l = this.sl.lastInScoreRange(r)!;
    return this.rankOfNode(l) - this.rankOfNode(f) + 1;
  }

  /**
   * Visit the members with a score in the range, ascending (descending when
   * `reverse`), until `visit` returns false. For GEO searches.
   */
  forEachInScoreRange(r: ScoreRange, reverse: boolean, visit: (member: string, score: number) => boolean | void): void {
    if (!reverse) {
      for (let x = this.sl.firstInScoreRange(r); x !== null && scoreLteMax(x.score, r); x = x.next[0]!) {
        if (visit(x.member, x.score) === false) return;
      }
    } else {
      for (let x = this.sl.lastInScoreRange(r); x !== null && scoreGteMin(x.score, r); x = x.prev) {
        if (visit(x.member, x.score) === false) return;
      }
    }
  }

  // ---- lex ranges ----------------------------------------------------------------

  /** The first member in the lex range (see the module comment), or null. */
  firstInLexRange(r: LexRange): SkipNode | null {
    if (!this.listpack) return this.sl.firstInLexRange(r);
    if (!this.sl.inLexRange(r)) return null;
    for (let x = this.sl.first(); x !== null; x = x.next[0]!) {
      if (lexGteMin(x.member, r)) return lexLteMax(x.member, r) ? x : null;
    }
    return null;
  }

  /** The last member in the lex range (see the module comment), or null. */
  lastInLexRange(r: LexRange): SkipNode | null {
    if (!this.listpack) return this.sl.lastInLexRange(r);
    if (!this.sl.inLexRange(r)) return null;
    for (let x = this.sl.last(); x !== null; x = x.prev) {
      if (lexLteMax(x.member, r)) return lexGteMin(x.member, r) ? x : null;
    }
    return null;
  }

  /** ZLEXCOUNT: O(log n) from the ranks of the first and last members in range. */
  countInLexRange(r: LexRange): number {
    const f = this.firstInLexRange(r);
    if (f === null) return 0;
    if (this.listpack) {
      let n = 0;
      for (let x: SkipNode | null = f; x !== null && lexLteMax(x.member, r); x = x.next[0]!) n++;
      return n;
    }
    let count = this.nodes.length - this.rankOfNode(f);
    const l = this.lastInLexRange(r);
    if (l !== null) count -= this.nodes.length - 1 - this.rankOfNode(l);
    return count;
  }

  // ---- removal of ranges ---------------------------------------------------------

  /** Remove the members with a score in the range; returns how many. */
  removeScoreRange(r: ScoreRange): number {
    return this.sl.deleteScoreRange(r, (n) => this.forget(n));
  }

  /** Remove the members of a lex range; returns how many. */
  removeLexRange(r: LexRange): number {
    if (!this.listpack) return this.sl.deleteLexRange(r, (n) => this.forget(n));
    let n = 0;
    for (let x = this.firstInLexRange(r); x !== null && lexLteMax(x.member, r); ) {
      const next: SkipNode | null = x.next[0]!;
      this.remove(x.member);
      n++;
      x = next;
    }
    return n;
  }

  /** Remove the members of 0-based ranks start..end (inclusive, within the set); returns how many. */
  removeRankRange(start: number, end: number): number {
    return this.sl.deleteRankRange(start + 1, end + 1, (n) => this.forget(n));
  }

  /** Remove and return the member with the lowest (or, `max`, highest) score; null when empty. */
  pop(max: boolean): { member: string; score: number } | null {
    const node = max ? this.sl.last() : this.sl.first();
    if (node === null) return null;
    const out = { member: node.member, score: node.score };
    this.remove(node.member);
    return out;
  }

  // ---- random access and SCAN ----------------------------------------------------

  /** A uniformly random member's node; undefined when empty. */
  random(): SkipNode | undefined {
    const n = this.nodes.length;
    return n === 0 ? undefined : this.nodes[Math.floor(Math.random() * n)];
  }

  /** The node at dense slot `i` (0 <= i < size): for sampling. */
  atSlot(i: number): SkipNode {
    return this.nodes[i]!;
  }

  /**
   * One ZSCAN step over the slots, downward from the cursor (0 starts); the
   * next cursor, 0 when done.
   */
  scan(cursor: number, count: number, visit: (member: string, score: number) => void): number {
    const nodes = this.nodes;
    let i = cursor === 0 ? nodes.length - 1 : Math.min(cursor - 1, nodes.length - 1);
    for (let n = 0; i >= 0 && n < count; i--, n++) visit(nodes[i]!.member, nodes[i]!.score);
    return i < 0 ? 0 : i + 1;
  }

  // ---- encoding ------------------------------------------------------------------

  /**
   * A result built as a skiplist (ZUNIONSTORE, ZRANGESTORE, ...) becomes a
   * listpack when it fits the limits, as Redis converts it before storing.
   */
  shrinkEncodingIfFits(limits: ListpackLimits): void {
    if (this.listpack || this.nodes.length > limits.entries) return;
    for (const n of this.nodes) if (n.member.length > limits.value) return;
    this.listpack = true;
    for (let x = this.sl.first(); x !== null; x = x.next[0]!) if (x.score === 0) x.score = 0;
  }

  /** A deep copy with the same encoding. */
  clone(): ZsetValue {
    const c = new ZsetValue(false);
    const all: ListpackLimits = { entries: Infinity, value: Infinity };
    for (let x = this.sl.first(); x !== null; x = x.next[0]!) c.insert(x.member, x.score, all);
    c.listpack = this.listpack;
    return c;
  }
}

/** The value as a sorted set, undefined when missing; WRONGTYPE for any other type. */
export function asZset(v: Value | undefined): ZsetValue | undefined {
  if (v === undefined || v instanceof ZsetValue) return v;
  throw new CommandError(Err.wrongType);
}

registerValueCopier('zset', (v) => (v as ZsetValue).clone());
registerEncodingName('zset', (v) => (v as ZsetValue).encoding);
// Per member: e = mix(mix(zero, member), score as %.17g); the set digest xors SHA1(e) of every member.
registerDigest('zset', (d, v) => {
  (v as ZsetValue).forEach((member, score) => {
    const e = newDigest();
    mixDigest(e, member);
    mixDigest(e, formatDouble17g(score));
    xorDigest(d, e);
  });
});
