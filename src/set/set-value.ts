/**
 * The set value type.
 *
 * Layout: members in a dense array plus a Map member → slot, like the
 * keyspace itself (keyspace/keyspace.ts). Removal moves the last member into
 * the hole, so that:
 *  - add, remove and membership are O(1);
 *  - a random member is O(1) (SRANDMEMBER, SPOP);
 *  - SSCAN walks slots from the highest to the lowest: a removal only ever
 *    moves the member of the highest slot to a lower one, so a member present
 *    for the whole scan is returned at least once.
 *
 * Encoding (OBJECT ENCODING, Redis 7.0): a set is "intset" while every member
 * is a canonical 64-bit integer and it holds at most set-max-intset-entries
 * members; the first member that breaks either rule makes it "hashtable" for
 * good (removing members never converts back, except through `reencode`,
 * see SPOP). Like Redis, an intset set is
 * iterated (SMEMBERS, SSCAN, ...) in ascending numeric order; a hashtable set
 * in slot order.
 *
 * Pure data structure: no sessions, no replies.
 */
import { CommandError, Err } from '../errors.js';
import { isIntegerEncodable } from '../numbers/parse.js';
import { registerValueCopier } from '../keyspace/value-copy.js';
import { registerEncodingName } from '../keyspace/object-encoding.js';
import { registerDigest, xorDigest } from '../keyspace/digest.js';
import type { AggregateValue, Value } from '../keyspace/values.js';

/**
 * Numeric order of two canonical 64-bit integer strings (no leading zeros, no
 * "+", no "-0"), without converting them: by sign, then length, then digits.
 */
export function compareIntStrings(a: string, b: string): number {
  if (a === b) return 0;
  const negA = a.charCodeAt(0) === 45;
  const negB = b.charCodeAt(0) === 45;
  if (negA !== negB) return negA ? -1 : 1;
  // Among non-negatives the shorter (or lexicographically smaller) is smaller; among negatives the opposite.
  if (a.length !== b.length) return a.length < b.length !== negA ? -1 : 1;
  return a < b !== negA ? -1 : 1;
}

export class SetValue implements AggregateValue {
  readonly kind = 'set' as const;
  /** Members by slot. */
  private items: string[] = [];
  /** Member → slot. */
  private index = new Map<string, number>();
  /** OBJECT ENCODING is "intset" (sticky: once false, never true again). */
  private intset = true;
  /** Ascending order of the members while intset; rebuilt lazily after a change. */
  private sorted: string[] | null = null;
  /** Sum of the member lengths (memory accounting). */
  bytes = 0;

  /** A set holding `members` (duplicates ignored), encoded as if they had been added one by one. */
  static from(members: Iterable<string>, maxIntsetEntries: number): SetValue {
    const s = new SetValue();
    for (const m of members) s.add(m, maxIntsetEntries);
    return s;
  }

  get size(): number {
    return this.items.length;
  }

  /** True while OBJECT ENCODING reports "intset". */
  get isIntset(): boolean {
    return this.intset;
  }

  has(member: string): boolean {
    return this.index.has(member);
  }

  /**
   * Add a member; false if it was already there. `maxIntsetEntries` is
   * set-max-intset-entries: the set stops being an intset when it grows
   * beyond it or gets a non-integer member.
   */
  add(member: string, maxIntsetEntries: number): boolean {
    if (this.index.has(member)) return false;
    this.index.set(member, this.items.length);
    this.items.push(member);
    this.bytes += member.length;
    if (this.intset) {
      if (this.items.length > maxIntsetEntries || !isIntegerEncodable(member)) {
        this.intset = false;
        this.sorted = null;
      } else if (this.sorted !== null) {
        this.sorted = null;
      }
    }
    return true;
  }

  /** Remove a member; false if it was not there. */
  remove(member: string): boolean {
    const slot = this.index.get(member);
    if (slot === undefined) return false;
    const last = this.items.pop()!;
    if (last !== member) {
      this.items[slot] = last;
      this.index.set(last, slot);
    }
    this.index.delete(member);
    this.bytes -= member.length;
    this.sorted = null;
    return true;
  }

  /**
   * Decide the encoding afresh, as for a set built from scratch with the
   * current members (intset when they are all integers and at most
   * `maxIntsetEntries`): Redis's SPOP with a count rebuilds the set this way
   * when few members remain.
   */
  reencode(maxIntsetEntries: number): void {
    const wasIntset = this.intset;
    this.intset = this.items.length <= maxIntsetEntries && this.items.every(isIntegerEncodable);
    if (this.intset !== wasIntset) this.sorted = null;
  }

  /** The member at a slot (0 <= slot < size). */
  at(slot: number): string {
    return this.items[slot]!;
  }

  /** A uniformly random member (undefined when empty). */
  random(): string | undefined {
    const n = this.items.length;
    return n === 0 ? undefined : this.items[Math.floor(Math.random() * n)];
  }

  /** Remove and return a uniformly random member (undefined when empty). */
  pop(): string | undefined {
    const m = this.random();
    if (m !== undefined) this.remove(m);
    return m;
  }

  /**
   * Every member in iteration order: ascending numeric order for an intset,
   * slot order otherwise. The array belongs to the set: do not modify it or
   * keep it across a write.
   */
  members(): readonly string[] {
    if (!this.intset) return this.items;
    if (this.sorted === null) this.sorted = [...this.items].sort(compareIntStrings);
    return this.sorted;
  }

  /**
   * `count` distinct random members (count < size: a partial shuffle of a
   * copy when the sample is a large part of the set, rejection sampling
   * otherwise), in random order. count >= size gives every member in
   * iteration order.
   */
  sampleDistinct(count: number): string[] {
    const n = this.items.length;
    if (count >= n) return [...this.members()];
    if (count * 3 > n) {
      const a = [...this.items];
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(Math.random() * (n - i));
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
      }
      a.length = count;
      return a;
    }
    const picked = new Set<number>();
    while (picked.size < count) picked.add(Math.floor(Math.random() * n));
    const out: string[] = [];
    for (const i of picked) out.push(this.items[i]!);
    return out;
  }

  /**
   * One SSCAN step. An intset is returned whole with cursor 0 (as Redis does
   * for its compact encodings, whatever the cursor and COUNT). Otherwise
   * `count` slots are visited downward from the cursor (0 starts a scan);
   * the returned cursor is 0 when the scan is complete.
   */
  scan(cursor: number, count: number, visit: (member: string) => void): number {
    if (this.intset) {
      for (const m of this.members()) visit(m);
      return 0;
    }
    const items = this.items;
    let i = cursor === 0 ? items.length - 1 : Math.min(cursor - 1, items.length - 1);
    for (let n = 0; i >= 0 && n < count; i--, n++) visit(items[i]!);
    return i < 0 ? 0 : i + 1;
  }

  /** A deep copy (same members, same encoding). */
  clone(): SetValue {
    const c = new SetValue();
    c.items = [...this.items];
    c.index = new Map(this.index);
    c.intset = this.intset;
    c.bytes = this.bytes;
    return c;
  }
}

/** The value as a set, undefined when missing; WRONGTYPE for any other type. */
export function asSet(v: Value | undefined): SetValue | undefined {
  if (v === undefined || v instanceof SetValue) return v;
  throw new CommandError(Err.wrongType);
}

/** Members of a stored set in iteration order (SORT, the sidecar's tag index). */
export function setMembers(v: SetValue): readonly string[] {
  return v.members();
}

registerValueCopier('set', (v) => (v as SetValue).clone());
registerEncodingName('set', (v) => ((v as SetValue).isIntset ? 'intset' : 'hashtable'));
registerDigest('set', (d, v) => {
  const s = v as SetValue;
  for (let i = 0; i < s.size; i++) xorDigest(d, s.at(i));
});
