/**
 * DEBUG HTSTATS / HTSTATS-KEY: the statistics text Redis 7.0 prints for one
 * of its hash tables (a database's key and expires tables, or the table of a
 * hashtable-encoded set or hash / skiplist-encoded sorted set).
 *
 * cacheside's structures are not Redis dicts, so the numbers describe the
 * dict Redis would have for the same elements: a table of the size Redis
 * reaches by inserting that many elements (it doubles to the next power of
 * two above the element count when a table is full; 4 at least), with the
 * elements spread over its buckets by their hash. Redis's incremental
 * rehashing ("Hash table 1 stats (rehashing target)") never shows: the
 * tables here are always reported as settled.
 */
import { hashKey, type Keyspace } from '../keyspace/keyspace.js';
import type { Value } from '../keyspace/values.js';
import { SetValue } from '../set/set-value.js';
import { HashValue } from '../hash/hash-value.js';
import { ZsetValue } from '../zset/zset-value.js';

/** Redis's DICT_HT_INITIAL_SIZE. */
const INITIAL_SIZE = 4;
/** Chain lengths counted separately (longer ones are counted as this minus one), as DICT_STATS_VECTLEN. */
const VECT_LEN = 50;
/** Redis writes each table's text into a 4 KiB buffer. */
const BUF_SIZE = 4096;

/** The table size of a Redis dict holding `count` elements added one by one. */
export function dictTableSize(count: number): number {
  let size = INITIAL_SIZE;
  while (size < count) size *= 2;
  return size;
}

/** C's `%.02f` of a float value. */
function f2(x: number): string {
  return Math.fround(x).toFixed(2);
}

/**
 * The text of one table: `count` elements, each passed to `each` as its
 * hash (an int32) by `forEachHash`.
 */
export function dictStatsText(count: number, forEachHash: (each: (h: number) => void) => void): string {
  const head = 'Hash table 0 stats (main hash table):\n';
  if (count === 0) return head + 'No stats available for empty dictionaries\n';
  const size = dictTableSize(count);
  const mask = size - 1;
  // Chain length per bucket (saturating: no chain of a sane hash gets near 65535).
  const chains = new Uint16Array(size);
  forEachHash((h) => {
    const b = h & mask;
    if (chains[b]! < 0xffff) chains[b]!++;
  });
  const vector = new Array<number>(VECT_LEN).fill(0);
  let slots = 0;
  let maxChain = 0;
  let total = 0;
  for (let i = 0; i < size; i++) {
    const len = chains[i]!;
    vector[len < VECT_LEN ? len : VECT_LEN - 1]!++;
    if (len === 0) continue;
    slots++;
    if (len > maxChain) maxChain = len;
    total += len;
  }
  let out =
    head +
    ` table size: ${size}\n` +
    ` number of elements: ${count}\n` +
    ` different slots: ${slots}\n` +
    ` max chain length: ${maxChain}\n` +
    ` avg chain length (counted): ${f2(Math.fround(total) / Math.fround(slots))}\n` +
    ` avg chain length (computed): ${f2(Math.fround(count) / Math.fround(slots))}\n` +
    ' Chain length distribution:\n';
  for (let i = 0; i < VECT_LEN - 1; i++) {
    if (vector[i] === 0) continue;
    if (out.length >= BUF_SIZE - 1) break;
    out += `   ${i}: ${vector[i]} (${f2(Math.fround(Math.fround(vector[i]!) / Math.fround(size)) * 100)}%)\n`;
  }
  return out.length > BUF_SIZE - 1 ? out.slice(0, BUF_SIZE - 1) : out;
}

/** DEBUG HTSTATS <dbid>: the database's key table, then its expires table. */
export function databaseStatsText(db: Keyspace): string {
  const n = db.size;
  const keys = dictStatsText(n, (each) => {
    for (let slot = 0; slot < n; slot++) each(hashKey(db.keyOf(slot)));
  });
  const expires = dictStatsText(db.volatileCount, (each) => {
    for (let slot = 0; slot < n; slot++) if (db.expireOf(slot) !== 0) each(hashKey(db.keyOf(slot)));
  });
  return `[Dictionary HT]\n${keys}[Expires HT]\n${expires}`;
}

/**
 * DEBUG HTSTATS-KEY: the text for a value Redis keeps in a hash table
 * (hashtable-encoded set or hash, skiplist-encoded sorted set), or null for
 * any other value.
 */
export function valueStatsText(v: Value): string | null {
  if (v instanceof SetValue) {
    if (v.isIntset) return null;
    return dictStatsText(v.size, (each) => {
      for (let i = 0; i < v.size; i++) each(hashKey(v.at(i)));
    });
  }
  if (v instanceof HashValue) {
    if (v.encoding !== 'hashtable') return null;
    return dictStatsText(v.size, (each) => {
      for (let i = 0; i < v.size; i++) each(hashKey(v.fieldAt(i)));
    });
  }
  if (v instanceof ZsetValue) {
    if (v.encoding !== 'skiplist') return null;
    return dictStatsText(v.size, (each) => v.forEach((m) => each(hashKey(m))));
  }
  return null;
}
