/**
 * Deep copies of stored values (COPY). Strings are copied here; every
 * aggregate data type registers its own copier when its module loads, so
 * that this file does not depend on the data-type modules.
 */
import { isSharedInteger } from './object-encoding.js';
import { MutableString, type AggregateKind, type AggregateValue, type Value } from './values.js';

export type ValueCopier = (v: AggregateValue) => AggregateValue;

const copiers = new Map<AggregateKind, ValueCopier>();

/** Register the deep-copy function of an aggregate kind (called once by its module). */
export function registerValueCopier(kind: AggregateKind, fn: ValueCopier): void {
  copiers.set(kind, fn);
}

/**
 * A copy of `v` that shares no mutable state with it: writes to either one
 * never show through the other.
 */
export function copyValue(v: Value): Value {
  // Strings are immutable; but a copy of a shared small integer is, in Redis,
  // an unshared int object (OBJECT REFCOUNT 1), so mark it as such.
  if (typeof v === 'string') return isSharedInteger(v, 0, '') ? MutableString.withEncoding(v, 'int') : v;
  if (v instanceof MutableString) {
    const m = new MutableString(v.bytes());
    m.storedAs = v.storedAs;
    return m;
  }
  const fn = copiers.get(v.kind);
  if (fn === undefined) throw new Error(`no value copier registered for type '${v.kind}'`);
  return fn(v);
}
