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

// ---- SHA-1 (FIPS 180-4) --------------------------------------------------------------
// Hand-rolled on preallocated state: a digest hashes millions of short inputs, and
// node:crypto's createHash per input costs an object and two native calls each time.

/** The message schedule and the hash state (the result of the last sha1*). */
const W = new Int32Array(80);
const H = new Int32Array(5);
/** The last one or two blocks, padded. */
const TAIL = new Uint8Array(128);

function sha1Init(): void {
  H[0] = 0x67452301;
  H[1] = 0xefcdab89 | 0;
  H[2] = 0x98badcfe | 0;
  H[3] = 0x10325476;
  H[4] = 0xc3d2e1f0 | 0;
}

/** Compress the block in W[0..15] into H. */
function sha1Block(): void {
  const w = W;
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!;
  let i = 0;
  for (; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + w[i]! + 0x5a827999) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! + 0x6ed9eba1) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + w[i]! - 0x70e44324) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  for (; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! - 0x359d3e2a) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
}

/** Pad the `rem` bytes already in TAIL for a message of `len` bytes and compress them. */
function sha1Finish(rem: number, len: number): void {
  const t = TAIL;
  t[rem] = 0x80;
  const end = rem < 56 ? 64 : 128;
  for (let i = rem + 1; i < end - 8; i++) t[i] = 0;
  // Bit length, big-endian 64-bit (inputs stay far below 2^53 bits).
  const hi = Math.floor(len / 0x20000000);
  const lo = (len * 8) >>> 0;
  t[end - 8] = hi >>> 24;
  t[end - 7] = hi >>> 16;
  t[end - 6] = hi >>> 8;
  t[end - 5] = hi;
  t[end - 4] = lo >>> 24;
  t[end - 3] = lo >>> 16;
  t[end - 2] = lo >>> 8;
  t[end - 1] = lo;
  for (let off = 0; off < end; off += 64) {
    for (let j = 0; j < 16; j++) {
      const p = off + j * 4;
      W[j] = (t[p]! << 24) | (t[p + 1]! << 16) | (t[p + 2]! << 8) | t[p + 3]!;
    }
    sha1Block();
  }
}

/** H = SHA1(latin1 bytes of s). */
function sha1String(s: string): void {
  sha1Init();
  const len = s.length;
  let p = 0;
  for (; p + 64 <= len; p += 64) {
    for (let j = 0; j < 16; j++) {
      const q = p + j * 4;
      W[j] = ((s.charCodeAt(q) & 0xff) << 24) | ((s.charCodeAt(q + 1) & 0xff) << 16) | ((s.charCodeAt(q + 2) & 0xff) << 8) | (s.charCodeAt(q + 3) & 0xff);
    }
    sha1Block();
  }
  const rem = len - p;
  for (let i = 0; i < rem; i++) TAIL[i] = s.charCodeAt(p + i);
  sha1Finish(rem, len);
}

/** H = SHA1(b). */
function sha1Bytes(b: Uint8Array): void {
  sha1Init();
  const len = b.length;
  let p = 0;
  for (; p + 64 <= len; p += 64) {
    for (let j = 0; j < 16; j++) {
      const q = p + j * 4;
      W[j] = (b[q]! << 24) | (b[q + 1]! << 16) | (b[q + 2]! << 8) | b[q + 3]!;
    }
    sha1Block();
  }
  const rem = len - p;
  for (let i = 0; i < rem; i++) TAIL[i] = b[p + i]!;
  sha1Finish(rem, len);
}

/** d ^= H */
function xorH(d: Uint8Array): void {
  for (let i = 0; i < 5; i++) {
    const h = H[i]!;
    const o = i * 4;
    d[o] = d[o]! ^ (h >>> 24);
    d[o + 1] = d[o + 1]! ^ ((h >>> 16) & 0xff);
    d[o + 2] = d[o + 2]! ^ ((h >>> 8) & 0xff);
    d[o + 3] = d[o + 3]! ^ (h & 0xff);
  }
}

/** d = SHA1(d), for a 20-byte d: one block. */
function rehash(d: Uint8Array): void {
  sha1Init();
  for (let j = 0; j < 5; j++) {
    const q = j * 4;
    W[j] = (d[q]! << 24) | (d[q + 1]! << 16) | (d[q + 2]! << 8) | d[q + 3]!;
  }
  W[5] = 0x80000000 | 0;
  for (let j = 6; j < 15; j++) W[j] = 0;
  W[15] = 160;
  sha1Block();
  for (let i = 0; i < 5; i++) {
    const h = H[i]!;
    const o = i * 4;
    d[o] = h >>> 24;
    d[o + 1] = (h >>> 16) & 0xff;
    d[o + 2] = (h >>> 8) & 0xff;
    d[o + 3] = h & 0xff;
  }
}

/** d ^= SHA1(data). Strings are latin1 (one char per byte). */
export function xorDigest(d: Digest, data: string | Uint8Array): void {
  if (typeof data === 'string') sha1String(data);
  else sha1Bytes(data);
  xorH(d);
}

/** d = SHA1(d ^ SHA1(data)). */
export function mixDigest(d: Digest, data: string | Uint8Array): void {
  xorDigest(d, data);
  rehash(d);
}

/** SHA1 of a constant input, kept to be xored in (type codes, the TTL marker). */
function constantHash(data: string | Uint8Array): Uint8Array {
  const out = new Uint8Array(20);
  xorDigest(out as Digest, data);
  return out;
}

function xorConst(d: Uint8Array, c: Uint8Array): void {
  for (let i = 0; i < 20; i++) d[i] = d[i]! ^ c[i]!;
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

const TYPE_HASH = new Map<string, Uint8Array>(Object.entries(TYPE_CODE).map(([k, v]) => [k, constantHash(u32be(v))]));
const EXPIRE_HASH = constantHash('!!expire!!');

/** Digest a value (and its TTL, if any) into `d`: DEBUG DIGEST-VALUE's per-key signature. */
export function digestValue(d: Digest, value: Value, hasExpire: boolean): void {
  if (typeof value === 'string' || value instanceof MutableString) {
    xorConst(d, TYPE_HASH.get('string')!);
    rehash(d);
    mixDigest(d, typeof value === 'string' ? value : value.bytes());
  } else {
    const fn = digesters.get(value.kind);
    if (fn === undefined) throw new Error(`no digest function registered for type '${value.kind}'`);
    xorConst(d, TYPE_HASH.get(value.kind)!);
    rehash(d);
    fn(d, value);
  }
  if (hasExpire) xorConst(d, EXPIRE_HASH);
}

/** DEBUG DIGEST: the whole data set (every key of every database), as 40 hex chars. */
export function datasetDigest(dbs: readonly Keyspace[]): string {
  const final = newDigest();
  const k = newDigest();
  for (const db of dbs) {
    if (db.size === 0) continue;
    mixDigest(final, u32be(db.id));
    // Every stored key, logically expired or not: a debug command sees the raw data set.
    for (let slot = db.size - 1; slot >= 0; slot--) {
      k.fill(0);
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
