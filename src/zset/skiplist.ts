/**
 * A skiplist ordered by (score, member): the index behind sorted sets.
 *
 * Every node is in the level-0 list, in order; a node of level k is also in
 * the lists 1..k-1, each skipping over more nodes. A node's level is drawn at
 * insertion: level k+1 with probability 1/4 of level k (at most MAX_LEVEL),
 * which gives O(log n) expected search, insertion and deletion.
 *
 * Each forward link carries a span: how many level-0 steps it jumps. Summing
 * the spans along a search path gives a node's rank, and walking down while
 * the spans fit finds the node at a given rank, both in O(log n).
 *
 * Order: scores compare numerically (-0 and +0 are equal), equal scores by
 * member, comparing the latin1 strings code unit by code unit (which is byte
 * order, memcmp). Scores are never NaN. Each (score, member) is unique: the
 * owner (zset-value.ts) keeps members unique.
 *
 * Lexicographic ranges (ZRANGEBYLEX) only make sense when all scores are
 * equal. As for any sorted set, the lex searches here walk the structure
 * comparing members only; with mixed scores their result depends on the
 * node levels.
 */

export const MAX_LEVEL = 32;
/** Probability of a node reaching the next level. */
const P = 0.25;

export class SkipNode {
  /** Forward link per level (length = the node's level). */
  readonly next: (SkipNode | null)[];
  /** span[i]: number of level-0 steps from this node to next[i] (to the end of the list when next[i] is null). */
  readonly span: number[];
  /** The previous node in the level-0 list, null for the first node. */
  prev: SkipNode | null = null;
  /** Free for the owner: ZsetValue keeps the node's position in its dense member array here. */
  slot = -1;

  constructor(
    public readonly member: string,
    public score: number,
    level: number,
  ) {
    this.next = new Array<SkipNode | null>(level).fill(null);
    this.span = new Array<number>(level).fill(0);
  }

  get level(): number {
    return this.next.length;
  }
}

/** An inclusive or exclusive score interval. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/**
 * One end of a lex interval: `inf` -1 is "-" (below every string), +1 is "+"
 * (above every string), 0 a string `value`, exclusive when `ex`.
 */
export interface LexBound {
  inf: -1 | 0 | 1;
  value: string;
  ex: boolean;
}

export interface LexRange {
  min: LexBound;
  max: LexBound;
}

export function scoreGteMin(score: number, r: ScoreRange): boolean {
  return r.minex ? score > r.min : score >= r.min;
}

export function scoreLteMax(score: number, r: ScoreRange): boolean {
  return r.maxex ? score < r.max : score <= r.max;
}

/** True when no score can be in the range (min above max, or equal with an exclusive end). */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

export function lexGteMin(member: string, r: LexRange): boolean {
  const b = r.min;
  if (b.inf !== 0) return b.inf < 0;
  return b.ex ? member > b.value : member >= b.value;
}

export function lexLteMax(member: string, r: LexRange): boolean {
  const b = r.max;
  if (b.inf !== 0) return b.inf > 0;
  return b.ex ? member < b.value : member <= b.value;
}

/** Compare two bounds as values ("-" < every string < "+"). */
function compareBounds(a: LexBound, b: LexBound): number {
  if (a.inf !== b.inf) return a.inf === -1 || b.inf === 1 ? -1 : 1;
  if (a.inf !== 0) return 0; // the same sentinel
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** True when no string can be in the range. */
export function lexRangeEmpty(r: LexRange): boolean {
  const c = compareBounds(r.min, r.max);
  return c > 0 || (c === 0 && (r.min.ex || r.max.ex));
}

/** (score, member) of `n` sorts strictly before (score, member)? */
function before(n: SkipNode, score: number, member: string): boolean {
  return n.score < score || (n.score === score && n.member < member);
}

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < P) level++;
  return level;
}

// Scratch arrays for the search paths (single-threaded: reused by every call).
const update: SkipNode[] = new Array<SkipNode>(MAX_LEVEL);
const rankAt: number[] = new Array<number>(MAX_LEVEL).fill(0);

export class Skiplist {
  /** Sentinel before the first node, with every level. */
  readonly head = new SkipNode('', 0, MAX_LEVEL);
  tail: SkipNode | null = null;
  length = 0;
  /** Highest level in use (at least 1). */
  level = 1;

  /** The first node (lowest score), or null. */
  first(): SkipNode | null {
    return this.head.next[0]!;
  }

  /** The last node (highest score), or null. */
  last(): SkipNode | null {
    return this.tail;
  }

  /**
   * Fill `update` with, per level, the last node sorting before
   * (score, member), and `rankAt` with those nodes' ranks.
   */
  private findPath(score: number, member: string): void {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      rankAt[i] = i === this.level - 1 ? 0 : rankAt[i + 1]!;
      let y = x.next[i]!;
      while (y !== null && before(y, score, member)) {
        rankAt[i]! += x.span[i]!;
        x = y;
        y = x.next[i]!;
      }
      update[i] = x;
    }
  }

  /** Link `node` (not in the list) at its place, using its own level. */
  private link(node: SkipNode): void {
    this.findPath(node.score, node.member);
    const lvl = node.level;
    if (lvl > this.level) {
      for (let i = this.level; i < lvl; i++) {
        rankAt[i] = 0;
        update[i] = this.head;
        this.head.span[i] = this.length;
      }
      this.level = lvl;
    }
    const r0 = rankAt[0]!;
    for (let i = 0; i < lvl; i++) {
      const u = update[i]!;
      node.next[i] = u.next[i]!;
      u.next[i] = node;
      // u jumped span[u] steps to its old successor; node sits (r0 - rank(u) + 1) steps after u.
      node.span[i] = u.span[i]! - (r0 - rankAt[i]!);
      u.span[i] = r0 - rankAt[i]! + 1;
    }
    // Higher levels now jump over one more node.
    for (let i = lvl; i < this.level; i++) update[i]!.span[i]!++;
    const p = update[0]!;
    node.prev = p === this.head ? null : p;
    const n0 = node.next[0]!;
    if (n0 !== null) n0.prev = node;
    else this.tail = node;
    this.length++;
  }

  /** Insert a new (score, member); the member must not be in the list. */
  insert(score: number, member: string): SkipNode {
    const node = new SkipNode(member, score, randomLevel());
    this.link(node);
    return node;
  }

  /** Unlink `x`, whose search path is in `update`. */
  private unlink(x: SkipNode): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i]!;
      if (u.next[i] === x) {
        u.span[i]! += x.span[i]! - 1;
        u.next[i] = x.next[i]!;
      } else {
        u.span[i]!--;
      }
    }
    const n0 = x.next[0]!;
    if (n0 !== null) n0.prev = x.prev;
    else this.tail = x.prev;
    while (this.level > 1 && this.head.next[this.level - 1] === null) this.level--;
    this.length--;
    x.prev = null;
    for (let i = 0; i < x.level; i++) {
      x.next[i] = null;
      x.span[i] = 0;
    }
  }

  /** Remove (score, member); the removed node, or null when absent. */
  delete(score: number, member: string): SkipNode | null {
    this.findPath(score, member);
    const x = update[0]!.next[0]!;
    if (x === null || x.score !== score || x.member !== member) return null;
    this.unlink(x);
    return x;
  }

  /**
   * Change the score of `node` (in the list) to `score`. The node keeps its
   * identity: it stays in place when the order allows, else it is unlinked
   * and linked again at its new position.
   */
  updateScore(node: SkipNode, score: number): void {
    const p = node.prev;
    const n = node.next[0]!;
    if ((p === null || before(p, score, node.member)) && (n === null || !before(n, score, node.member))) {
      node.score = score;
      return;
    }
    this.findPath(node.score, node.member);
    this.unlink(node);
    node.score = score;
    this.link(node);
  }

  /** 1-based rank of (score, member), 0 when absent. */
  rank(score: number, member: string): number {
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let y = x.next[i]!;
      while (y !== null && (y.score < score || (y.score === score && y.member <= member))) {
        rank += x.span[i]!;
        x = y;
        y = x.next[i]!;
      }
      if (x !== this.head && x.member === member && x.score === score) return rank;
    }
    return 0;
  }

  /** The node of 1-based `rank`, or null when out of range. */
  byRank(rank: number): SkipNode | null {
    if (rank < 1 || rank > this.length) return null;
    let x = this.head;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let y = x.next[i]!;
      while (y !== null && traversed + x.span[i]! <= rank) {
        traversed += x.span[i]!;
        x = y;
        y = x.next[i]!;
      }
      if (traversed === rank) return x;
    }
    return null;
  }

  // ---- ranges --------------------------------------------------------------------
  //
  // Score and lex ranges share one walk, parameterized by the range kind's
  // two end tests (module constants, so nothing is allocated per call).

  /**
   * Walk down from the head, advancing on each level while `advance(next, r)`;
   * the last node reached (the head when none). With `record`, `update` gets
   * the search path, ready for unlink.
   */
  private descend<R>(advance: (n: SkipNode, r: R) => boolean, r: R, record: boolean): SkipNode {
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let y = x.next[i]!;
      while (y !== null && advance(y, r)) {
        x = y;
        y = x.next[i]!;
      }
      if (record) update[i] = x;
    }
    return x;
  }

  /** Can some node be in the range? (cheap checks against the ends) */
  private inRange<R>(k: RangeKind<R>, r: R): boolean {
    if (k.empty(r)) return false;
    const t = this.tail;
    if (t === null || !k.gteMin(t, r)) return false;
    return k.lteMax(this.head.next[0]!, r);
  }

  private firstInRange<R>(k: RangeKind<R>, r: R): SkipNode | null {
    if (!this.inRange(k, r)) return null;
    const f = this.descend(k.belowMin, r, false).next[0]!;
    return f !== null && k.lteMax(f, r) ? f : null;
  }

  private lastInRange<R>(k: RangeKind<R>, r: R): SkipNode | null {
    if (!this.inRange(k, r)) return null;
    const x = this.descend(k.lteMax, r, false);
    return x !== this.head && k.gteMin(x, r) ? x : null;
  }

  /** Unlink the nodes from the first one not below the range while they stay at most its max. */
  private deleteRange<R>(k: RangeKind<R>, r: R, removed: (n: SkipNode) => void): number {
    const x = this.descend(k.belowMin, r, true);
    return this.unlinkRun(x.next[0]!, k.lteMax, r, removed);
  }

  /** Unlink `c` and its successors while `stay(node, r)`; `removed` sees each. `update` holds the path to `c`. */
  private unlinkRun<R>(c: SkipNode | null, stay: (n: SkipNode, r: R) => boolean, r: R, removed: (n: SkipNode) => void): number {
    let n = 0;
    while (c !== null && stay(c, r)) {
      const nx: SkipNode | null = c.next[0]!;
      this.unlink(c);
      removed(c);
      n++;
      c = nx;
    }
    return n;
  }

  /** Can some node have a score in the range? */
  inScoreRange(r: ScoreRange): boolean {
    return this.inRange(SCORE, r);
  }

  /** The first node with a score in the range, or null. */
  firstInScoreRange(r: ScoreRange): SkipNode | null {
    return this.firstInRange(SCORE, r);
  }

  /** The last node with a score in the range, or null. */
  lastInScoreRange(r: ScoreRange): SkipNode | null {
    return this.lastInRange(SCORE, r);
  }

  /** Can some node have a member in the range? */
  inLexRange(r: LexRange): boolean {
    return this.inRange(LEX, r);
  }

  /** The first node with a member in the range (by a skiplist search), or null. */
  firstInLexRange(r: LexRange): SkipNode | null {
    return this.firstInRange(LEX, r);
  }

  /** The last node with a member in the range (by a skiplist search), or null. */
  lastInLexRange(r: LexRange): SkipNode | null {
    return this.lastInRange(LEX, r);
  }

  // ---- range deletion ------------------------------------------------------------

  /** Delete every node with a score in the range; `removed` sees each. Returns the count. */
  deleteScoreRange(r: ScoreRange, removed: (n: SkipNode) => void): number {
    return this.deleteRange(SCORE, r, removed);
  }

  /** Delete the nodes from the first one in the lex range while members stay in it. Returns the count. */
  deleteLexRange(r: LexRange, removed: (n: SkipNode) => void): number {
    return this.deleteRange(LEX, r, removed);
  }

  /** Delete the nodes of 1-based ranks start..end (inclusive, in range). Returns the count. */
  deleteRankRange(start: number, end: number, removed: (n: SkipNode) => void): number {
    let x = this.head;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let y = x.next[i]!;
      while (y !== null && traversed + x.span[i]! < start) {
        traversed += x.span[i]!;
        x = y;
        y = x.next[i]!;
      }
      update[i] = x;
    }
    // The run starts at rank traversed + 1 (= start) and ends at `end`.
    return this.unlinkRun(x.next[0]!, (_n, left: { n: number }) => left.n-- > 0, { n: end - traversed }, removed);
  }
}

/** The end tests of one kind of range, on a node. */
interface RangeKind<R> {
  empty(r: R): boolean;
  gteMin(n: SkipNode, r: R): boolean;
  /** Sorts before the range's min (= !gteMin). */
  belowMin(n: SkipNode, r: R): boolean;
  lteMax(n: SkipNode, r: R): boolean;
}

const SCORE: RangeKind<ScoreRange> = {
  empty: scoreRangeEmpty,
  gteMin: (n, r) => scoreGteMin(n.score, r),
  belowMin: (n, r) => !scoreGteMin(n.score, r),
  lteMax: (n, r) => scoreLteMax(n.score, r),
};

const LEX: RangeKind<LexRange> = {
  empty: lexRangeEmpty,
  gteMin: (n, r) => lexGteMin(n.member, r),
  belowMin: (n, r) => !lexGteMin(n.member, r),
  lteMax: (n, r) => lexLteMax(n.member, r),
};
