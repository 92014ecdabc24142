/**
 * DEBUG DIGEST / DEBUG DIGEST-VALUE: a 20-byte SHA1-based signature of the
 * data set, equal to what Redis 7.0 computes for the same data (checked
 * against redis-server 7.0.15; see test/unit/digest.test.ts).
 *
 * Two primitives, both on a 20-byte accumulator:
 *  - xor(d, bytes): d ^= SHA1(bytes)            order-independent
 *  - mix(d, bytes): xor(d, bytes); d = SHA1(d)   order-dependent
 *
 * A value's digest starts from 20 zero bytes, mixes the type code as a 4-byte
 * big-endian integer (string 0, list 1, set 2, zset 3, hash 4, stream 6),
 * then the type's content:
 *  - string: mix(bytes)
 *  - list:   mix(element) for each element, head to tail
 *  - set:    xor(member) for each member
 *  - zset:   for each member e = zero; mix(e, member); mix(e, score as %.17g); xor(d, e)
 *  - hash:   for each field e = zero; mix(e, field); mix(e, value); xor(d, e)
 * and, for a key with a TTL, xor(d, "!!expire!!").
 * The data set digest: per non-empty database, mix(final, db index as 4-byte
 * big-endian), then for every key k = zero; mix(k, key); <value digest into k>;
 * xor(final, k). An empty data set digests to 40 zeros.
 *
 * Aggregate kinds register their content function with `registerDigest`
 * when their module loads; the function receives the accumulator that
 * already holds the type code and mixes the content in.
 */
import { createHash } from 'node:crypto';
import type { Keyspace } from './keyspace.js';
import type { AggregateKind, AggregateValue, Value } from './values.js';
import { MutableString } from './values.js';

/** A 20-byte digest accumulator. */
export type Digest = Buffer;

export type DigestFn = (d: Digest, value: AggregateValue) => void;

/** Redis's object type codes, mixed into every value digest. */
const TYPE_CODE: Record<'string' | AggregateKind, number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 };

const digesters = new Map<AggregateKind, DigestFn>();

/** Register how values of an aggregate kind are digested (see the module comment for Redis's scheme). */
export function registerDigest(kind: AggregateKind, fn: DigestFn): void {
  digesters.set(kind, fn);
}

export function newDigest(): Digest {
  return Buffer.alloc(20);
}

function sha1(data: string | Uint8Array): Buffer {
  const h = createHash('sha1');
  if (typeof data === 'string') h.update(data, 'latin1');
  else h.update(data);
  return h.digest();
}

/** d ^= SHA1(data). Strings are latin1 (one char per byte). */
export function xorDigest(d: Digest, data: string | Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < 20; i++) d[i]! ^= h[i]!;
}

/** d = SHA1(d ^ SHA1(data)). */
export function mixDigest(d: Digest, data: string | Uint8Array): void {
  xorDigest(d, data);
  sha1(d).copy(d);
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Digest a value (and its TTL, if any) into `d`: DEBUG DIGEST-VALUE's per-key signature. */
export function digestValue(d: Digest, value: Value, hasExpire: boolean): void {
  if (typeof value === 'string' || value instanceof MutableString) {
    mixDigest(d, u32be(TYPE_CODE.string));
    mixDigest(d, typeof value === 'string' ? value : value.bytes());
  } else {
    const fn = digesters.get(value.kind);
    if (fn === undefined) throw new Error(`no digest function registered for type '${value.kind}'`);
    mixDigest(d, u32be(TYPE_CODE[value.kind]));
    fn(d, value);
  }
  if (hasExpire) xorDigest(d, '!!expire!!');
}

/** DEBUG DIGEST: the whole data set (every key of every database), as 40 hex chars. */
export function datasetDigest(dbs: readonly Keyspace[]): string {
  const final = newDigest();
  for (const db of dbs) {
    if (db.size === 0) continue;
    mixDigest(final, u32be(db.id));
    // Every stored key, logically expired or not: a debug command sees the raw data set.
    for (let slot = db.size - 1; slot >= 0; slot--) {
      const k = newDigest();
      mixDigest(k, db.keyOf(slot));
      digestValue(k, db.valueOf(slot), db.expireOf(slot) !== 0);
      xorDigest(final, k);
    }
  }
  return final.toString('hex');
}

/** DEBUG DIGEST-VALUE for one key of `db`: 40 zeros when the key does not exist. */
export function keyDigest(db: Keyspace, key: string): string {
  const slot = db.slotOf(key);
  if (slot < 0) return '0'.repeat(40);
  const d = newDigest();
  digestValue(d, db.valueOf(slot), db.expireOf(slot) !== 0);
  return d.toString('hex');
}
