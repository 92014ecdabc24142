/**
 * The capacity of a database's key index, followed as V8 manages it, for the
 * memory model (size-model.ts). A Keyspace holds a `Map` (key → slot) and two
 * dense JS arrays (keys, values); their backing stores are most of the
 * per-key overhead, and their size depends on history, not only on the
 * number of keys:
 *
 *  - V8's ordered hash table (behind `Map`) keeps deleted entries as holes
 *    until it is full; then it rehashes into the same capacity when at least
 *    half of it is holes, or into twice the capacity otherwise. It halves when
 *    fewer than a quarter of its entries are live. So a cache under constant
 *    churn (insert one, evict one) settles at 2-4 entries of capacity per key,
 *    while a table only ever filled sits at 1-2.
 *  - A JS array grows, when a push does not fit, to 1.5 × the needed length +
 *    16; a pop that leaves it less than half full gives back half the slack.
 *
 * A few integer operations per insert and delete keep `mapCap` and `arrCap`
 * in step, so the model reads them in O(1). This leaf module has no imports:
 * the keyspace uses it without depending on the rest of src/memory.
 */

/** V8's initial ordered-hash-table capacity (a `new Map()`). */
const MAP_INITIAL_CAPACITY = 4;

export interface TableShape {
  /** Entries of capacity of the index Map's hash table (each costs a fixed number of bytes). */
  mapCap: number;
  /** Deleted entries still occupying that table. */
  mapDeleted: number;
  /** Capacity of the key and value arrays' backing stores, in elements. */
  arrCap: number;
}

export function newTableShape(): TableShape {
  return { mapCap: MAP_INITIAL_CAPACITY, mapDeleted: 0, arrCap: 0 };
}

/** A key is about to be added; `live` keys are in the table before it. */
export function shapeAdded(t: TableShape, live: number): void {
  if (live + t.mapDeleted >= t.mapCap) {
    if (t.mapDeleted < t.mapCap >>> 1) t.mapCap *= 2;
    t.mapDeleted = 0;
  }
  if (live >= t.arrCap) {
    const need = live + 1;
    t.arrCap = need + (need >>> 1) + 16;
  }
}

/** A key was removed; `live` keys remain. */
export function shapeRemoved(t: TableShape, live: number): void {
  t.mapDeleted++;
  if (live < t.mapCap >>> 2 && t.mapCap > MAP_INITIAL_CAPACITY) {
    t.mapCap = Math.max(MAP_INITIAL_CAPACITY, t.mapCap >>> 1);
    t.mapDeleted = 0;
  }
  if (2 * live + 16 <= t.arrCap) t.arrCap -= (t.arrCap - live) >>> 1;
}
