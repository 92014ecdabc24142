/**
 * The sorted set value type.
 *
 * Layout: a skiplist ordered by (score, member) (skiplist.ts) for ranks and
 * ranges in O(log n), and a Map member → skiplist node handle for O(1) score
 * lookups. The skiplist also keeps its nodes in dense slots, for O(1)
 * random members (ZRANDMEMBER) and a SCAN-safe cursor (ZSCAN walks slots
 * from the highest to the lowest; a removal only moves the node of the
 * highest slot into the hole, so a member present for the whole scan is seen
 * at least once — the scheme of keyspace/keyspace.ts).
 *
 * Nodes are named by handles (numbers; NIL = none), valid until the set is
 * next modified: read them with memberOf / scoreOf / next / prev.
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
  NIL,
  Skiplist,
  lexGteMin,
  lexLteMax,
  scoreGteMin,
  scoreLteMax,
  type LexRange,
  type ScoreRange,
} from './skiplist.js';

export { NIL, type LexRange, type ScoreRange, type LexBound } from './skiplist.js';

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
  private sl: Skiplist;
  /** member → node handle. */
  private dict: Map<string, number>;
  /** Sum of the member lengths (memory accounting). */
  bytes = 0;
  /** OBJECT ENCODING is "listpack" (else "skiplist"; never back). */
  listpack: boolean;

  constructor(listpack = true) {
    this.listpack = listpack;
    this.sl = new Skiplist();
    this.dict = new Map();
  }

  /** A new set about to receive `firstMember` first, encoded as ZADD creates it. */
  static forFirstMember(firstMember: string, limits: ListpackLimits): ZsetValue {
    return new ZsetValue(limits.entries > 0 && firstMember.length <= limits.value);
  }

  get size(): number {
    return this.sl.length;
  }

  get encoding(): 'listpack' | 'skiplist' {
    return this.listpack ? 'listpack' : 'skiplist';
  }

  /** Bytes of the skiplist's typed arrays (not counting the member strings and the Map). */
  get arrayBytes(): number {
    return this.sl.arrayBytes;
  }

  has(member: string): boolean {
    return this.dict.has(member);
  }

  /** The score of `member`, undefined when absent. */
  score(member: string): number | undefined {
    const h = this.dict.get(member);
    return h === undefined ? undefined : this.sl.score(h);
  }

  // ---- nodes ---------------------------------------------------------------------

  /** The node of `member`, NIL when absent. */
  nodeOf(member: string): number {
    return this.dict.get(member) ?? NIL;
  }

  memberOf(h: number): string {
    return this.sl.member(h);
  }

  scoreOf(h: number): number {
    return this.sl.score(h);
  }

  /** The next node in ascending order, NIL after the last. */
  next(h: number): number {
    return this.sl.next(h);
  }

  /** The previous node in ascending order, NIL before the first. */
  prev(h: number): number {
    return this.sl.prev(h);
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
    if (this.listpack && (this.sl.length + 1 > limits.entries || member.length > limits.value)) this.listpack = false;
    this.dict.set(member, this.sl.insert(this.stored(score), member));
    this.bytes += member.length;
  }

  /** Change the score of a present member (no-op when equal). */
  update(member: string, score: number): void {
    const h = this.dict.get(member)!;
    if (this.sl.score(h) === score) return;
    this.sl.updateScore(h, this.stored(score));
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
    const h = this.dict.get(member);
    if (h === undefined) return false;
    this.sl.delete(h);
    this.forget(member);
    return true;
  }

  /** Drop a member already removed from the skiplist. */
  private forget(member: string): void {
    this.dict.delete(member);
    this.bytes -= member.length;
  }

  // ---- order and ranks -----------------------------------------------------------

  /** The node with the lowest score, NIL when empty. */
  first(): number {
    return this.sl.first();
  }

  /** The node with the highest score, NIL when empty. */
  last(): number {
    return this.sl.last();
  }

  /** 0-based rank of `member` (from the highest score when `reverse`), -1 when absent. */
  rankOf(member: string, reverse = false): number {
    const h = this.dict.get(member);
    if (h === undefined) return -1;
    const r = this.sl.rankOf(h) - 1;
    return reverse ? this.sl.length - 1 - r : r;
  }

  /** 0-based rank of a node of this set. */
  rankOfNode(h: number): number {
    return this.sl.rankOf(h) - 1;
  }

  /** The node at 0-based `rank` (in ascending order), or NIL. */
  atRank(rank: number): number {
    return this.sl.byRank(rank + 1);
  }

  /** Every member in ascending order. */
  forEach(visit: (member: string, score: number) => void): void {
    const sl = this.sl;
    for (let x = sl.first(); x !== NIL; x = sl.next(x)) visit(sl.member(x), sl.score(x));
  }

  /** Every member in descending order. */
  forEachReverse(visit: (member: string, score: number) => void): void {
    const sl = this.sl;
    for (let x = sl.last(); x !== NIL; x = sl.prev(x)) visit(sl.member(x), sl.score(x));
  }

  /**
   * Up to `count` members from 0-based `rank` on, ascending (descending
   * from the rank when `reverse`).
   */
  forEachFromRank(rank: number, reverse: boolean, count: number, visit: (member: string, score: number) => void): void {
    const sl = this.sl;
    for (let x = sl.byRank(rank + 1), i = 0; x !== NIL && i < count; x = reverse ? sl.prev(x) : sl.next(x), i++) {
      visit(sl.member(x), sl.score(x));
    }
  }

  // ---- score ranges --------------------------------------------------------------

  /** The first node with a score in the range, or NIL. */
  firstInScoreRange(r: ScoreRange): number {
    return this.sl.firstInScoreRange(r);
  }

  /** The last node with a score in the range, or NIL. */
  lastInScoreRange(r: ScoreRange): number {
    return this.sl.lastInScoreRange(r);
  }

  /** Number of members with a score in the range, in O(log n). */
  countInScoreRange(r: ScoreRange): number {
    const f = this.sl.firstInScoreRange(r);
    if (f === NIL) return 0;
    const l = this.sl.lastInScoreRange(r);
    return this.sl.rankOf(l) - this.sl.rankOf(f) + 1;
  }

  /**
   * Visit the members with a score in the range, ascending (descending when
   * `reverse`), until `visit` returns false. For GEO searches.
   */
  forEachInScoreRange(r: ScoreRange, reverse: boolean, visit: (member: string, score: number) => boolean | void): void {
    const sl = this.sl;
    if (!reverse) {
      for (let x = sl.firstInScoreRange(r); x !== NIL && scoreLteMax(sl.score(x), r); x = sl.next(x)) {
        if (visit(sl.member(x), sl.score(x)) === false) return;
      }
    } else {
      for (let x = sl.lastInScoreRange(r); x !== NIL && scoreGteMin(sl.score(x), r); x = sl.prev(x)) {
        if (visit(sl.member(x), sl.score(x)) === false) return;
      }
    }
  }

  // ---- lex ranges ----------------------------------------------------------------

  /** The first node in the lex range (see the module comment), or NIL. */
  firstInLexRange(r: LexRange): number {
    const sl = this.sl;
    if (!this.listpack) return sl.firstInLexRange(r);
    if (!sl.inLexRange(r)) return NIL;
    for (let x = sl.first(); x !== NIL; x = sl.next(x)) {
      if (lexGteMin(sl.member(x), r)) return lexLteMax(sl.member(x), r) ? x : NIL;
    }
    return NIL;
  }

  /** The last node in the lex range (see the module comment), or NIL. */
  lastInLexRange(r: LexRange): number {
    const sl = this.sl;
    if (!this.listpack) return sl.lastInLexRange(r);
    if (!sl.inLexRange(r)) return NIL;
    for (let x = sl.last(); x !== NIL; x = sl.prev(x)) {
      if (lexLteMax(sl.member(x), r)) return lexGteMin(sl.member(x), r) ? x : NIL;
    }
    return NIL;
  }

  /** ZLEXCOUNT: O(log n) from the ranks of the first and last members in range. */
  countInLexRange(r: LexRange): number {
    const sl = this.sl;
    const f = this.firstInLexRange(r);
    if (f === NIL) return 0;
    if (this.listpack) {
      let n = 0;
      for (let x = f; x !== NIL && lexLteMax(sl.member(x), r); x = sl.next(x)) n++;
      return n;
    }
    let count = sl.length - this.rankOfNode(f);
    const l = this.lastInLexRange(r);
    if (l !== NIL) count -= sl.length - 1 - this.rankOfNode(l);
    return count;
  }

  // ---- removal of ranges ---------------------------------------------------------

  /** Remove the members with a score in the range; returns how many. */
  removeScoreRange(r: ScoreRange): number {
    return this.sl.deleteScoreRange(r, (m) => this.forget(m));
  }

  /** Remove the members of a lex range; returns how many. */
  removeLexRange(r: LexRange): number {
    const sl = this.sl;
    if (!this.listpack) return sl.deleteLexRange(r, (m) => this.forget(m));
    let n = 0;
    for (let x = this.firstInLexRange(r); x !== NIL && lexLteMax(sl.member(x), r); ) {
      const next = sl.next(x);
      this.remove(sl.member(x));
      n++;
      x = next;
    }
    return n;
  }

  /** Remove the members of 0-based ranks start..end (inclusive, within the set); returns how many. */
  removeRankRange(start: number, end: number): number {
    return this.sl.deleteRankRange(start + 1, end + 1, (m) => this.forget(m));
  }

  /** Remove and return the member with the lowest (or, `max`, highest) score; null when empty. */
  pop(max: boolean): { member: string; score: number } | null {
    const h = max ? this.sl.last() : this.sl.first();
    if (h === NIL) return null;
    const out = { member: this.sl.member(h), score: this.sl.score(h) };
    this.sl.delete(h);
    this.forget(out.member);
    return out;
  }

  // ---- random access and SCAN ----------------------------------------------------

  /** A uniformly random member's node; NIL when empty. */
  random(): number {
    const n = this.sl.length;
    return n === 0 ? NIL : this.sl.atSlot(Math.floor(Math.random() * n));
  }

  /** The node at dense slot `i` (0 <= i < size): for sampling. */
  atSlot(i: number): number {
    return this.sl.atSlot(i);
  }

  /**
   * One ZSCAN step over the slots, downward from the cursor (0 starts); the
   * next cursor, 0 when done.
   */
  scan(cursor: number, count: number, visit: (member: string, score: number) => void): number {
    const sl = this.sl;
    let i = cursor === 0 ? sl.length - 1 : Math.min(cursor - 1, sl.length - 1);
    for (let n = 0; i >= 0 && n < count; i--, n++) {
      const h = sl.atSlot(i);
      visit(sl.member(h), sl.score(h));
    }
    return i < 0 ? 0 : i + 1;
  }

  // ---- encoding ------------------------------------------------------------------

  /**
   * A result built as a skiplist (ZUNIONSTORE, ZRANGESTORE, ...) becomes a
   * listpack when it fits the limits, as Redis converts it before storing.
   */
  shrinkEncodingIfFits(limits: ListpackLimits): void {
    const n = this.sl.length;
    if (this.listpack || n > limits.entries) return;
    for (let i = 0; i < n; i++) if (this.sl.memberAtSlot(i).length > limits.value) return;
    this.listpack = true;
    this.sl.normalizeZeros();
  }

  /** A deep copy with the same encoding. */
  clone(): ZsetValue {
    const c = new ZsetValue(this.listpack);
    const sl = this.sl.clone();
    c.sl = sl;
    // Filling a Map is about twice as fast as new Map(otherMap).
    for (let i = 0; i < sl.length; i++) c.dict.set(sl.memberAtSlot(i), sl.atSlot(i));
    c.bytes = this.bytes;
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
