/**
 * What OBJECT ENCODING / REFCOUNT / FREQ report for a stored value.
 *
 * Strings are decided here, the way Redis 7.0 encodes a string argument when
 * it stores it: "int" when it is the canonical text of a 64-bit integer,
 * "embstr" up to 44 bytes, "raw" beyond. A MutableString (a value grown in
 * place by APPEND, SETRANGE, SETBIT, ...) is always "raw", as Redis turns a
 * string into a raw SDS before modifying it.
 * Aggregate kinds register their own naming function when their module loads
 * (listpack / quicklist / intset / hashtable / skiplist / stream ...).
 */
import { isIntegerEncodable } from '../numbers/parse.js';
import type { AggregateKind, AggregateValue, Value } from './values.js';
import { MutableString } from './values.js';

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
export const EMBSTR_SIZE_LIMIT = 44;
/** Redis's OBJ_SHARED_INTEGERS: integers 0..9999 share one object. */
const SHARED_INTEGERS = 10000;
/** Redis's OBJ_SHARED_REFCOUNT (INT_MAX), what OBJECT REFCOUNT shows for a shared object. */
const SHARED_REFCOUNT = 2147483647;

export type EncodingNamer = (v: AggregateValue) => string;

const namers = new Map<AggregateKind, EncodingNamer>();

/** Register the OBJECT ENCODING name function of an aggregate kind. */
export function registerEncodingName(kind: AggregateKind, fn: EncodingNamer): void {
  namers.set(kind, fn);
}

/** The encoding name OBJECT ENCODING reports. */
export function encodingOf(v: Value): string {
  if (typeof v === 'string') {
    if (v.length <= 20 && isIntegerEncodable(v)) return 'int';
    return v.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
  }
  if (v instanceof MutableString) return v.storedAs;
  const fn = namers.get(v.kind);
  if (fn === undefined) throw new Error(`no encoding name registered for type '${v.kind}'`);
  return fn(v);
}

/**
 * OBJECT REFCOUNT. Redis stores the integers 0..9999 as shared objects
 * (reported with refcount INT_MAX) unless maxmemory is set with an LRU/LFU
 * policy, which needs per-key access data; every other value has refcount 1.
 */
export function refcountOf(v: Value, maxmemory: number, policy: string): number {
  if (typeof v !== 'string' || v.length > 4) return 1;
  return isSharedInteger(v, maxmemory, policy) ? SHARED_REFCOUNT : 1;
}

/** Would Redis store this string as one of its shared integer objects? */
export function isSharedInteger(v: string, maxmemory: number, policy: string): boolean {
  if (v.length > 4) return false;
  if (maxmemory > 0 && (policy.includes('lru') || policy.includes('lfu'))) return false;
  if (!isIntegerEncodable(v)) return false;
  const n = Number(v);
  return n >= 0 && n < SHARED_INTEGERS;
}

/** True for the maxmemory policies that keep an LFU counter instead of an LRU clock. */
export function isLfuPolicy(policy: string): boolean {
  return policy.endsWith('-lfu');
}

/** Minutes clock used by LFU decay: 16 bits of unix minutes. */
function lfuMinutes(): number {
  return Math.floor(Date.now() / 60000) & 65535;
}

/**
 * The LFU counter of a key's access metadata (ldt << 8 | counter, ldt being
 * the 16-bit minute of the last decrement), decayed by one for every
 * `decayMinutes` elapsed since then — what OBJECT FREQ reports. The stored
 * metadata is not modified.
 */
export function lfuDecayedCounter(meta: number, decayMinutes: number): number {
  const ldt = meta >>> 8;
  const counter = meta & 255;
  const t = lfuMinutes();
  const elapsed = t >= ldt ? t - ldt : 65535 - ldt + t;
  const periods = decayMinutes > 0 ? Math.floor(elapsed / decayMinutes) : 0;
  return periods > counter ? 0 : counter - periods;
}
