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
 *
 * Memory layout (struct of arrays, for big sets): a node is not a JS object
 * but a record in one Int32Array, named by its index there (its handle; NIL
 * is no node). A search step then touches one record (the score and the
 * links sit side by side, as in a C skiplist) instead of a node object, its
 * link arrays and a boxed score, and the garbage collector sees a few large
 * arrays instead of four objects per member. Record layout, in 32-bit words
 * from the handle h (always even):
 *   h, h+1   the score, a double: f[h >> 1] over the same memory
 *   h+2      PREV: the previous node at level 0 (NIL for the first node);
 *            in a freed record, the next free record of its level
 *   h+3      META: slot * 32 + (level - 1)
 *   h+4+2i   next node at level i;  h+5+2i  span at level i
 * The head (a sentinel before the first node) is a record too, with 4 levels
 * at first, moved to a record with every level when a node needs more.
 * Freed records are reused by the next node of the same level. Members live
 * in a JS array by slot: the slots are dense (0..length-1; removing a node
 * moves the node of the last slot into its hole), which also gives O(1)
 * random members and a SCAN-safe cursor to the owner.
 */

export const MAX_LEVEL = 32;
/** Probability of a node reaching the next level. */
const P = 0.25;

/** The handle of no node. */
export const NIL = 0;
const PREV = 2;
const META = 3;
const LINKS = 4;
/** Where the head record starts (words 0..3 stay unused so that NIL is never a node), and its first number of levels. */
const HEAD = 4;
const HEAD_LEVELS = 4;
const HEAD_END = HEAD + LINKS + 2 * HEAD_LEVELS;

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

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < P) level++;
  return level;
}

// Scratch arrays for the search paths (single-threaded: reused by every call).
const update = new Int32Array(MAX_LEVEL);
const rankAt = new Int32Array(MAX_LEVEL);

/** Words for the head and `nodes` average nodes (about 4 + 2 * 4/3 words each). */
function wordsFor(nodes: number): number {
  return (HEAD_END + 7 * nodes + 1) & ~1;
}

export class Skiplist {
  /** The records. */
  private w: Int32Array;
  /** The same memory as doubles: the score of node h is f[h >> 1]. */
  private f: Float64Array;
  /** First word never allocated. */
  private top = HEAD_END;
  /** The head record and its number of levels. */
  private head = HEAD;
  private headLevels = HEAD_LEVELS;
  /** Per level, the first free record of that level (chained through PREV); made by the first removal. */
  private free: Int32Array | null = null;
  /** Members by slot. */
  private members: string[] = [];
  /** Node handles by slot. */
  private handles: Int32Array;
  tail = NIL;
  length = 0;
  /** Highest level in use (at least 1). */
  level = 1;

  /** `capacity`: nodes to make room for up front. */
  constructor(capacity = 4) {
    this.w = new Int32Array(wordsFor(capacity));
    this.f = new Float64Array(this.w.buffer);
    this.handles = new Int32Array(Math.max(4, capacity));
  }

  // ---- node access ---------------------------------------------------------------

  score(h: number): number {
    return this.f[h >> 1]!;
  }

  member(h: number): string {
    return this.members[this.w[h + META]! >>> 5]!;
  }

  /** The next node in order (NIL after the last). */
  next(h: number): number {
    return this.w[h + LINKS]!;
  }

  /** The previous node in order (NIL before the first). */
  prev(h: number): number {
    return this.w[h + PREV]!;
  }

  /** The first node (lowest score), or NIL. */
  first(): number {
    return this.w[this.head + LINKS]!;
  }

  /** The last node (highest score), or NIL. */
  last(): number {
    return this.tail;
  }

  /** The node in dense slot `i` (0 <= i < length). */
  atSlot(i: number): number {
    return this.handles[i]!;
  }

  /** The member in dense slot `i` (0 <= i < length). */
  memberAtSlot(i: number): string {
    return this.members[i]!;
  }

  /** Bytes of the typed arrays (memory accounting). */
  get arrayBytes(): number {
    return this.w.byteLength + this.handles.byteLength;
  }

  // ---- records -------------------------------------------------------------------

  private alloc(level: number): number {
    const free = this.free;
    let h = free === null ? NIL : free[level]!;
    if (h !== NIL) {
      free![level] = this.w[h + PREV]!;
      return h;
    }
    h = this.top;
    const end = h + LINKS + 2 * level;
    if (end > this.w.length) {
      // Grow by half (less slack than doubling at a copy or two more); the length stays even.
      const cap = (Math.max(end, this.w.length + (this.w.length >> 1)) + 1) & ~1;
      const w = new Int32Array(cap);
      w.set(this.w);
      this.w = w;
      this.f = new Float64Array(w.buffer);
    }
    this.top = end;
    return h;
  }

  private release(h: number): void {
    const free = (this.free ??= new Int32Array(MAX_LEVEL + 1));
    const lvl = (this.w[h + META]! & 31) + 1;
    this.w[h + PREV] = free[lvl]!;
    free[lvl] = h;
  }

  /** Move the head to a record with every level (its links and spans carried over). */
  private growHead(): void {
    const old = this.head;
    const h = this.alloc(MAX_LEVEL);
    const w = this.w;
    const used = LINKS + 2 * this.headLevels;
    w.copyWithin(h + LINKS, old + LINKS, old + used);
    w.fill(0, h + used, h + LINKS + 2 * MAX_LEVEL);
    w[h + META] = MAX_LEVEL - 1;
    w[old + META] = this.headLevels - 1;
    this.release(old);
    this.head = h;
    this.headLevels = MAX_LEVEL;
  }

  /** Give `h` the next slot, holding `member`. */
  private takeSlot(h: number, member: string, level: number): void {
    const slot = this.members.length;
    if (slot === this.handles.length) {
      const a = new Int32Array(slot * 2);
      a.set(this.handles);
      this.handles = a;
    }
    this.handles[slot] = h;
    this.members.push(member);
    this.w[h + META] = slot * 32 + (level - 1);
  }

  /** Free the slot of `h`: the node of the last slot moves into the hole. */
  private dropSlot(h: number): void {
    const w = this.w;
    const slot = w[h + META]! >>> 5;
    const lastSlot = this.members.length - 1;
    const lastMember = this.members.pop()!;
    if (slot !== lastSlot) {
      const lh = this.handles[lastSlot]!;
      this.members[slot] = lastMember;
      this.handles[slot] = lh;
      w[lh + META] = slot * 32 + (w[lh + META]! & 31);
    }
  }

  // ---- search, link, unlink ------------------------------------------------------

  /** (score, member) of node `h` sorts strictly before (score, member)? */
  private before(h: number, score: number, member: string): boolean {
    const s = this.f[h >> 1]!;
    return s < score || (s === score && this.member(h) < member);
  }

  /**
   * Fill `update` with, per level, the last node sorting before
   * (score, member), and `rankAt` with those nodes' ranks.
   */
  private findPath(score: number, member: string): void {
    const w = this.w;
    const f = this.f;
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      const o = LINKS + 2 * i;
      let y = w[x + o]!;
      while (y !== NIL) {
        const s = f[y >> 1]!;
        if (s > score || (s === score && this.member(y) >= member)) break;
        rank += w[x + o + 1]!;
        x = y;
        y = w[x + o]!;
      }
      update[i] = x;
      rankAt[i] = rank;
    }
  }

  /** Link node `h` (of `lvl` levels, not in the list) at its place. */
  private link(h: number, lvl: number): void {
    if (lvl > this.headLevels) this.growHead();
    this.findPath(this.f[h >> 1]!, this.member(h));
    const w = this.w;
    const head = this.head;
    if (lvl > this.level) {
      for (let i = this.level; i < lvl; i++) {
        rankAt[i] = 0;
        update[i] = head;
        w[head + LINKS + 2 * i + 1] = this.length;
      }
      this.level = lvl;
    }
    const r0 = rankAt[0]!;
    for (let i = 0; i < lvl; i++) {
      const o = LINKS + 2 * i;
      const u = update[i]!;
      w[h + o] = w[u + o]!;
      w[u + o] = h;
      // u jumped span(u) steps to its old successor; h sits (r0 - rank(u) + 1) steps after u.
      const d = r0 - rankAt[i]!;
      w[h + o + 1] = w[u + o + 1]! - d;
      w[u + o + 1] = d + 1;
    }
    // Higher levels now jump over one more node.
    for (let i = lvl; i < this.level; i++) w[update[i]! + LINKS + 2 * i + 1]!++;
    const p = update[0]!;
    w[h + PREV] = p === head ? NIL : p;
    const n0 = w[h + LINKS]!;
    if (n0 !== NIL) w[n0 + PREV] = h;
    else this.tail = h;
    this.length++;
  }

  /** Insert a new (score, member); the member must not be in the list. Returns its node. */
  insert(score: number, member: string): number {
    const lvl = randomLevel();
    const h = this.alloc(lvl);
    this.f[h >> 1] = score;
    this.takeSlot(h, member, lvl);
    this.link(h, lvl);
    return h;
  }

  /** Unlink `h`, whose search path is in `update`. */
  private unlink(h: number): void {
    const w = this.w;
    for (let i = 0; i < this.level; i++) {
      const o = LINKS + 2 * i;
      const u = update[i]!;
      if (w[u + o] === h) {
        w[u + o + 1]! += w[h + o + 1]! - 1;
        w[u + o] = w[h + o]!;
      } else {
        w[u + o + 1]!--;
      }
    }
    const n0 = w[h + LINKS]!;
    if (n0 !== NIL) w[n0 + PREV] = w[h + PREV]!;
    else this.tail = w[h + PREV]!;
    while (this.level > 1 && w[this.head + LINKS + 2 * (this.level - 1)] === NIL) this.level--;
    this.length--;
  }

  /** Unlink, unslot and free `h` (its path in `update`); returns its member. */
  private drop(h: number): string {
    const m = this.member(h);
    this.unlink(h);
    this.dropSlot(h);
    this.release(h);
    return m;
  }

  /** Remove node `h` (in the list). Its handle is invalid afterwards. */
  delete(h: number): void {
    this.findPath(this.f[h >> 1]!, this.member(h));
    this.drop(h);
  }

  /**
   * Change the score of node `h` to `score`. The node keeps its handle and
   * slot: it stays in place when the order allows, else it is unlinked and
   * linked again at its new position.
   */
  updateScore(h: number, score: number): void {
    const w = this.w;
    const m = this.member(h);
    const p = w[h + PREV]!;
    const n = w[h + LINKS]!;
    if ((p === NIL || this.before(p, score, m)) && (n === NIL || !this.before(n, score, m))) {
      this.f[h >> 1] = score;
      return;
    }
    this.findPath(this.f[h >> 1]!, m);
    this.unlink(h);
    this.f[h >> 1] = score;
    this.link(h, (w[h + META]! & 31) + 1);
  }

  /** Replace every score of 0 (either sign) by +0 (an order-preserving change). */
  normalizeZeros(): void {
    for (let x = this.first(); x !== NIL; x = this.next(x)) if (this.f[x >> 1] === 0) this.f[x >> 1] = 0;
  }

  /** 1-based rank of node `h` (in the list). */
  rankOf(h: number): number {
    const w = this.w;
    const f = this.f;
    const score = f[h >> 1]!;
    const member = this.member(h);
    let x = this.head;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      const o = LINKS + 2 * i;
      let y = w[x + o]!;
      while (y !== NIL) {
        const s = f[y >> 1]!;
        if (s > score || (s === score && y !== h && this.member(y) > member)) break;
        rank += w[x + o + 1]!;
        x = y;
        if (x === h) return rank;
        y = w[x + o]!;
      }
    }
    return 0;
  }

  /** The node of 1-based `rank`, or NIL when out of range. */
  byRank(rank: number): number {
    if (rank < 1 || rank > this.length) return NIL;
    const w = this.w;
    let x = this.head;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      const o = LINKS + 2 * i;
      let y = w[x + o]!;
      while (y !== NIL && traversed + w[x + o + 1]! <= rank) {
        traversed += w[x + o + 1]!;
        x = y;
        y = w[x + o]!;
      }
      if (traversed === rank) return x;
    }
    return NIL;
  }

  // ---- ranges --------------------------------------------------------------------
  //
  // Score and lex ranges share one walk, parameterized by the range kind's
  // two end tests (module constants, so nothing is allocated per call).

  /**
   * Walk down from the head, advancing on each level while `advance(next)`;
   * the last node reached (the head when none). With `record`, `update` gets
   * the search path, ready for unlink.
   */
  private descend<R>(advance: (sl: Skiplist, h: number, r: R) => boolean, r: R, record: boolean): number {
    const w = this.w;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      const o = LINKS + 2 * i;
      let y = w[x + o]!;
      while (y !== NIL && advance(this, y, r)) {
        x = y;
        y = w[x + o]!;
      }
      if (record) update[i] = x;
    }
    return x;
  }

  /** Can some node be in the range? (cheap checks against the ends) */
  private inRange<R>(k: RangeKind<R>, r: R): boolean {
    if (k.empty(r)) return false;
    const t = this.tail;
    if (t === NIL || !k.gteMin(this, t, r)) return false;
    return k.lteMax(this, this.first(), r);
  }

  private firstInRange<R>(k: RangeKind<R>, r: R): number {
    if (!this.inRange(k, r)) return NIL;
    const f = this.next(this.descend(k.belowMin, r, false));
    return f !== NIL && k.lteMax(this, f, r) ? f : NIL;
  }

  private lastInRange<R>(k: RangeKind<R>, r: R): number {
    if (!this.inRange(k, r)) return NIL;
    const x = this.descend(k.lteMax, r, false);
    return x !== this.head && k.gteMin(this, x, r) ? x : NIL;
  }

  /** Delete the nodes from the first one not below the range while they stay at most its max. */
  private deleteRange<R>(k: RangeKind<R>, r: R, removed: (member: string) => void): number {
    const x = this.descend(k.belowMin, r, true);
    return this.unlinkRun(this.next(x), k.lteMax, r, removed);
  }

  /** Delete `c` and its successors while `stay(node)`; `removed` sees each member. `update` holds the path to `c`. */
  private unlinkRun<R>(c: number, stay: (sl: Skiplist, h: number, r: R) => boolean, r: R, removed: (member: string) => void): number {
    let n = 0;
    while (c !== NIL && stay(this, c, r)) {
      const nx = this.next(c);
      removed(this.drop(c));
      n++;
      c = nx;
    }
    return n;
  }

  /** Can some node have a score in the range? */
  inScoreRange(r: ScoreRange): boolean {
    return this.inRange(SCORE, r);
  }

  /** The first node with a score in the range, or NIL. */
  firstInScoreRange(r: ScoreRange): number {
    return this.firstInRange(SCORE, r);
  }

  /** The last node with a score in the range, or NIL. */
  lastInScoreRange(r: ScoreRange): number {
    return this.lastInRange(SCORE, r);
  }

  /** Can some node have a member in the range? */
  inLexRange(r: LexRange): boolean {
    return this.inRange(LEX, r);
  }

  /** The first node with a member in the range (by a skiplist search), or NIL. */
  firstInLexRange(r: LexRange): number {
    return this.firstInRange(LEX, r);
  }

  /** The last node with a member in the range (by a skiplist search), or NIL. */
  lastInLexRange(r: LexRange): number {
    return this.lastInRange(LEX, r);
  }

  // ---- range deletion ------------------------------------------------------------

  /** Delete every node with a score in the range; `removed` sees each member. Returns the count. */
  deleteScoreRange(r: ScoreRange, removed: (member: string) => void): number {
    return this.deleteRange(SCORE, r, removed);
  }

  /** Delete the nodes from the first one in the lex range while members stay in it. Returns the count. */
  deleteLexRange(r: LexRange, removed: (member: string) => void): number {
    return this.deleteRange(LEX, r, removed);
  }

  /** Delete the nodes of 1-based ranks start..end (inclusive, in range). Returns the count. */
  deleteRankRange(start: number, end: number, removed: (member: string) => void): number {
    const w = this.w;
    let x = this.head;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      const o = LINKS + 2 * i;
      let y = w[x + o]!;
      while (y !== NIL && traversed + w[x + o + 1]! < start) {
        traversed += w[x + o + 1]!;
        x = y;
        y = w[x + o]!;
      }
      update[i] = x;
    }
    // The run starts at rank traversed + 1 (= start) and ends at `end`.
    return this.unlinkRun(this.next(x), (_sl, _h, left: { n: number }) => left.n-- > 0, { n: end - traversed }, removed);
  }

  // ---- copy ----------------------------------------------------------------------

  /** A deep copy: the same nodes under the same handles and slots. */
  clone(): Skiplist {
    const c = new Skiplist(0);
    c.w = this.w.slice(0, Math.max(this.top, c.w.length));
    c.f = new Float64Array(c.w.buffer);
    c.top = this.top;
    c.head = this.head;
    c.headLevels = this.headLevels;
    c.free = this.free === null ? null : this.free.slice();
    c.members = this.members.slice();
    c.handles = this.handles.slice(0, Math.max(4, this.members.length));
    c.tail = this.tail;
    c.length = this.length;
    c.level = this.level;
    return c;
  }
}

/** The end tests of one kind of range, on a node. */
interface RangeKind<R> {
  empty(r: R): boolean;
  gteMin(sl: Skiplist, h: number, r: R): boolean;
  /** Sorts before the range's min (= !gteMin). */
  belowMin(sl: Skiplist, h: number, r: R): boolean;
  lteMax(sl: Skiplist, h: number, r: R): boolean;
}

const SCORE: RangeKind<ScoreRange> = {
  empty: scoreRangeEmpty,
  gteMin: (sl, h, r) => scoreGteMin(sl.score(h), r),
  belowMin: (sl, h, r) => !scoreGteMin(sl.score(h), r),
  lteMax: (sl, h, r) => scoreLteMax(sl.score(h), r),
};

const LEX: RangeKind<LexRange> = {
  empty: lexRangeEmpty,
  gteMin: (sl, h, r) => lexGteMin(sl.member(h), r),
  belowMin: (sl, h, r) => !lexGteMin(sl.member(h), r),
  lteMax: (sl, h, r) => lexLteMax(sl.member(h), r),
};
