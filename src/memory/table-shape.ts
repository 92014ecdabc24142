/**
 * The capacity of a database's key and value arrays, followed as V8 manages
 * it, for the memory model (size-model.ts). A Keyspace holds two dense JS
 * arrays (keys, values) whose backing stores' size depends on history, not
 * only on the number of keys: a JS array grows, when a push does not fit, to
 * 1.5 × the needed length + 16; a pop that leaves it less than half full
 * gives back half the slack.
 *
 * A few integer operations per insert and delete keep `arrCap` in step, so
 * the model reads it in O(1). (The keyspace's hash table and typed arrays
 * report their own lengths.) This leaf module has no imports: the keyspace
 * uses it without depending on the rest of src/memory.
 */

export interface TableShape {
  /** Capacity of the key and value arrays' backing stores, in elements. */
  arrCap: number;
}

export function newTableShape(): TableShape {
  return { arrCap: 0 };
}

/** A key is about to be added; `live` keys are in the arrays before it. */
export function shapeAdded(t: TableShape, live: number): void {
  if (live >= t.arrCap) {
    const need = live + 1;
    t.arrCap = need + (need >>> 1) + 16;
  }
}

/** A key was removed; `live` keys remain. */
export function shapeRemoved(t: TableShape, live: number): void {
  if (2 * live + 16 <= t.arrCap) t.arrCap -= (t.arrCap - live) >>> 1;
}
