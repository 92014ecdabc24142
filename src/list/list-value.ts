/**
 * The list value: a growable circular deque of latin1 strings.
 *
 * Elements live in a power-of-two ring buffer (`head` is the slot of element
 * 0), so push and pop at either end are amortized O(1) and index access is
 * O(1). Inserting or removing in the middle moves the shorter side. The
 * buffer doubles when full and halves when it becomes a quarter full.
 *
 * Pure data structure: no sessions, no replies. `size` is the element count
 * and `bytes` the sum of the element lengths, kept exact on every update
 * (the memory model builds on them).
 *
 * At module load it registers the COPY deep copier, the OBJECT ENCODING name
 * (Redis 7.0 always reports "quicklist" for a list) and the DEBUG DIGEST
 * content function (every element mixed in, head to tail).
 */
import type { AggregateValue } from '../keyspace/values.js';
import { registerValueCopier } from '../keyspace/value-copy.js';
import { registerEncodingName } from '../keyspace/object-encoding.js';
import { mixDigest, registerDigest } from '../keyspace/digest.js';

const MIN_CAPACITY = 8;

export type ListEnd = 'left' | 'right';

export class ListValue implements AggregateValue {
  readonly kind = 'list' as const;
  /** Ring buffer; its length is a power of two (or 0 before the first push). */
  private buf: (string | undefined)[];
  private mask: number;
  private head = 0;
  /** Number of elements. */
  size = 0;
  /** Sum of the element lengths in bytes. */
  bytes = 0;

  constructor(items?: Iterable<string>) {
    this.buf = new Array<string | undefined>(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
    if (items !== undefined) for (const v of items) this.pushRight(v);
  }

  /** The current ring capacity (for tests). */
  get capacity(): number {
    return this.buf.length;
  }

  // ---- access -------------------------------------------------------------

  /** Element at index i (0 <= i < size). */
  at(i: number): string {
    return this.buf[(this.head + i) & this.mask]!;
  }

  /** Replace the element at index i (0 <= i < size); returns the old element. */
  setAt(i: number, v: string): string {
    const slot = (this.head + i) & this.mask;
    const old = this.buf[slot]!;
    this.buf[slot] = v;
    this.bytes += v.length - old.length;
    return old;
  }

  /** Elements start..end (inclusive, already clamped to 0 <= start <= end < size). */
  slice(start: number, end: number): string[] {
    const out = new Array<string>(end - start + 1);
    const buf = this.buf;
    const mask = this.mask;
    let slot = (this.head + start) & mask;
    for (let i = 0; i < out.length; i++) {
      out[i] = buf[slot]!;
      slot = (slot + 1) & mask;
    }
    return out;
  }

  toArray(): string[] {
    return this.size === 0 ? [] : this.slice(0, this.size - 1);
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.at(i);
  }

  // ---- both ends ------------------------------------------------------------

  push(end: ListEnd, v: string): void {
    if (end === 'left') this.pushLeft(v);
    else this.pushRight(v);
  }

  pop(end: ListEnd): string | undefined {
    return end === 'left' ? this.popLeft() : this.popRight();
  }

  pushLeft(v: string): void {
    if (this.size === this.buf.length) this.resize(this.buf.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = v;
    this.size++;
    this.bytes += v.length;
  }

  pushRight(v: string): void {
    if (this.size === this.buf.length) this.resize(this.buf.length * 2);
    this.buf[(this.head + this.size) & this.mask] = v;
    this.size++;
    this.bytes += v.length;
  }

  popLeft(): string | undefined {
    if (this.size === 0) return undefined;
    const v = this.buf[this.head]!;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    this.bytes -= v.length;
    this.maybeShrink();
    return v;
  }

  popRight(): string | undefined {
    if (this.size === 0) return undefined;
    const slot = (this.head + this.size - 1) & this.mask;
    const v = this.buf[slot]!;
    this.buf[slot] = undefined;
    this.size--;
    this.bytes -= v.length;
    this.maybeShrink();
    return v;
  }

  // ---- middle ---------------------------------------------------------------

  /** Insert v so that it becomes element i (0 <= i <= size), moving the shorter side. */
  insertAt(i: number, v: string): void {
    if (i <= 0) return this.pushLeft(v);
    if (i >= this.size) return this.pushRight(v);
    if (this.size === this.buf.length) this.resize(this.buf.length * 2);
    const buf = this.buf;
    const mask = this.mask;
    if (i < this.size - i) {
      // Shift elements 0..i-1 one slot to the left.
      this.head = (this.head - 1) & mask;
      for (let j = 0; j < i; j++) buf[(this.head + j) & mask] = buf[(this.head + j + 1) & mask];
    } else {
      // Shift elements i..size-1 one slot to the right.
      for (let j = this.size; j > i; j--) buf[(this.head + j) & mask] = buf[(this.head + j - 1) & mask];
    }
    buf[(this.head + i) & mask] = v;
    this.size++;
    this.bytes += v.length;
  }

  /** Remove element i (0 <= i < size), moving the shorter side; returns it. */
  removeAt(i: number): string {
    const buf = this.buf;
    const mask = this.mask;
    const v = buf[(this.head + i) & mask]!;
    if (i < this.size - 1 - i) {
      for (let j = i; j > 0; j--) buf[(this.head + j) & mask] = buf[(this.head + j - 1) & mask];
      buf[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    } else {
      for (let j = i; j < this.size - 1; j++) buf[(this.head + j) & mask] = buf[(this.head + j + 1) & mask];
      buf[(this.head + this.size - 1) & mask] = undefined;
    }
    this.size--;
    this.bytes -= v.length;
    this.maybeShrink();
    return v;
  }

  /** Index of the first element equal to v scanning from the head, or -1. */
  indexOf(v: string): number {
    for (let i = 0; i < this.size; i++) if (this.buf[(this.head + i) & this.mask] === v) return i;
    return -1;
  }

  /**
   * LREM: remove up to |count| elements equal to v, from the head when
   * count > 0, from the tail when count < 0, all of them when count is 0.
   * One compaction pass: O(n). Returns the number removed.
   */
  removeValue(v: string, count: number): number {
    const n = this.size;
    const limit = count === 0 ? n : Math.abs(count);
    const buf = this.buf;
    const mask = this.mask;
    const h = this.head;
    let removed = 0;
    if (count >= 0) {
      let w = 0;
      for (let r = 0; r < n; r++) {
        const x = buf[(h + r) & mask]!;
        if (removed < limit && x === v) removed++;
        else {
          if (w !== r) buf[(h + w) & mask] = x;
          w++;
        }
      }
      for (let j = w; j < n; j++) buf[(h + j) & mask] = undefined;
    } else {
      // Compact towards the tail, scanning from it; the head moves right.
      let w = n - 1;
      for (let r = n - 1; r >= 0; r--) {
        const x = buf[(h + r) & mask]!;
        if (removed < limit && x === v) removed++;
        else {
          if (w !== r) buf[(h + w) & mask] = x;
          w--;
        }
      }
      for (let j = 0; j <= w; j++) buf[(h + j) & mask] = undefined;
      this.head = (h + removed) & mask;
    }
    this.size = n - removed;
    this.bytes -= removed * v.length;
    this.maybeShrink();
    return removed;
  }

  /** Drop `left` elements from the head and `right` from the tail (left + right <= size). */
  trim(left: number, right: number): void {
    const buf = this.buf;
    const mask = this.mask;
    let bytes = 0;
    for (let j = 0; j < left; j++) {
      const slot = (this.head + j) & mask;
      bytes += buf[slot]!.length;
      buf[slot] = undefined;
    }
    for (let j = this.size - right; j < this.size; j++) {
      const slot = (this.head + j) & mask;
      bytes += buf[slot]!.length;
      buf[slot] = undefined;
    }
    this.head = (this.head + left) & mask;
    this.size -= left + right;
    this.bytes -= bytes;
    this.maybeShrink();
  }

  /**
   * LPOS: indexes of matches of v. `rank` (non-zero) picks where to start: the
   * rank-th match from the head when positive, from the tail when negative;
   * `count` matches at most (0 = all); `maxlen` elements compared at most
   * (0 = all). Indexes are always counted from the head.
   */
  positions(v: string, rank: number, count: number, maxlen: number): number[] {
    const out: number[] = [];
    const n = this.size;
    const fromTail = rank < 0;
    let skip = Math.abs(rank) - 1;
    const limit = maxlen === 0 ? n : Math.min(maxlen, n);
    for (let k = 0; k < limit; k++) {
      const i = fromTail ? n - 1 - k : k;
      if (this.buf[(this.head + i) & this.mask] !== v) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(i);
      if (count !== 0 && out.length >= count) break;
    }
    return out;
  }

  copy(): ListValue {
    const c = new ListValue();
    c.buf = new Array<string | undefined>(this.buf.length);
    c.mask = this.mask;
    for (let i = 0; i < this.size; i++) c.buf[i] = this.at(i);
    c.size = this.size;
    c.bytes = this.bytes;
    return c;
  }

  // ---- capacity -------------------------------------------------------------

  private maybeShrink(): void {
    const cap = this.buf.length;
    if (cap > MIN_CAPACITY && this.size <= cap >>> 2) this.resize(cap >>> 1);
  }

  /** Move the elements into a new ring of `cap` slots, element 0 at slot 0. */
  private resize(cap: number): void {
    const nb = new Array<string | undefined>(cap);
    for (let i = 0; i < this.size; i++) nb[i] = this.buf[(this.head + i) & this.mask];
    this.buf = nb;
    this.mask = cap - 1;
    this.head = 0;
  }
}

registerValueCopier('list', (v) => (v as ListValue).copy());
registerEncodingName('list', () => 'quicklist');
registerDigest('list', (d, v) => {
  const l = v as ListValue;
  for (let i = 0; i < l.size; i++) mixDigest(d, l.at(i));
});
