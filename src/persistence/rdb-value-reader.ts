/**
 * Reading one RDB value (after its type byte) into cacheside's value
 * classes, for every encoding Redis 2.x–7.4 writes. The encoding a loaded
 * value gets follows Redis 7.0's loader and the *-max-* limits given:
 *  - plain hashes/sets/zsets (HASH, SET, ZSET, ZSET_2) are made compact
 *    when they fit the limits;
 *  - compact blobs (listpack, ziplist, zipmap, intset) stay compact unless
 *    they hold more entries than the limit (zipmaps and hash ziplists also
 *    convert for a too-long field or value).
 * An empty aggregate is reported as null (Redis skips such keys).
 */
import type { Value } from '../keyspace/values.js';
import { ListValue } from '../list/list-value.js';
import { SetValue } from '../set/set-value.js';
import { ZsetValue, type ListpackLimits } from '../zset/zset-value.js';
import { HashValue } from '../hash/hash-value.js';
import { parseRedisDouble } from '../numbers/parse.js';
import { BlobError, parseIntset, parseListpack, parseZiplist, parseZipmap } from './rdb-listpack.js';
import { QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN, RdbError, RdbReader, RdbType } from './rdb-format.js';
import { readStream } from './rdb-stream.js';

/** The configuration that decides the encoding of loaded values. */
export interface RdbLimits {
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  setMaxIntsetEntries: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  /** How loaded streams are split into nodes (stream-node-max-bytes / -entries). */
  streamNodeMaxBytes: number;
  streamNodeMaxEntries: number;
}

/** Redis 7.0.15's defaults. */
export const DEFAULT_RDB_LIMITS: RdbLimits = {
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  streamNodeMaxBytes: 4096,
  streamNodeMaxEntries: 100,
};

/** The limits from a server configuration. */
export function rdbLimitsFromConfig(config: { num(name: string): number }): RdbLimits {
  return {
    hashMaxListpackEntries: config.num('hash-max-listpack-entries'),
    hashMaxListpackValue: config.num('hash-max-listpack-value'),
    setMaxIntsetEntries: config.num('set-max-intset-entries'),
    zsetMaxListpackEntries: config.num('zset-max-listpack-entries'),
    zsetMaxListpackValue: config.num('zset-max-listpack-value'),
    streamNodeMaxBytes: config.num('stream-node-max-bytes'),
    streamNodeMaxEntries: config.num('stream-node-max-entries'),
  };
}

/** Is `t` a value type byte of some Redis version (0..7, 9..25)? */
export function isKnownType(t: number): boolean {
  return t >= 0 && t <= RdbType.HASH_LISTPACK_EX && t !== 8;
}

const NO_LIMITS: ListpackLimits = { entries: Infinity, value: Infinity };

/** Parse a blob with one of the rdb-listpack parsers, turning its errors into RdbErrors at `at`. */
function blob<T>(r: RdbReader, parse: (b: Buffer) => T, what: string): T {
  const at = r.offset;
  const b = r.stringBuf();
  try {
    return parse(b);
  } catch (e) {
    // A read past the blob's end (Buffer RangeError) is malformed data too.
    if (e instanceof BlobError || e instanceof RangeError) throw new RdbError(`invalid ${what}: ${e.message}`, at);
    throw e;
  }
}

function score(r: RdbReader, text: string, at: number): number {
  const d = parseRedisDouble(text);
  if (d === null) throw new RdbError(`invalid sorted set score '${text}'`, at);
  return d;
}

/** A sorted set from members and scores, in the encoding Redis 7.0 would give it. */
function buildZset(members: string[], scores: number[], listpack: boolean, at: number): ZsetValue {
  const z = new ZsetValue(listpack);
  for (let i = 0; i < members.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new RdbError('sorted set with a NaN score', at);
    if (z.has(members[i]!)) throw new RdbError('duplicate sorted set members', at);
    z.insert(members[i]!, s, NO_LIMITS);
  }
  return z;
}

function buildHash(fields: string[], values: string[], ttls: number[] | null, hashtable: boolean, at: number): HashValue {
  const h = new HashValue();
  h.hashtable = hashtable;
  for (let i = 0; i < fields.length; i++) {
    if (!h.set(fields[i]!, values[i]!)) throw new RdbError('duplicate hash fields', at);
  }
  if (ttls !== null) for (let i = 0; i < fields.length; i++) if (ttls[i]! > 0) h.setExpire(fields[i]!, ttls[i]!);
  return h;
}

function maxLen(items: readonly string[]): number {
  let m = 0;
  for (const s of items) if (s.length > m) m = s.length;
  return m;
}

/**
 * Read a value of RDB type `type` at the reader's position. Returns null for
 * an empty aggregate. Throws RdbError for malformed data and unsupported
 * types (modules), NeedMore when the buffer ends first.
 */
export function readValue(r: RdbReader, type: number, limits: RdbLimits): Value | null {
  const at = r.offset;
  switch (type) {
    case RdbType.STRING:
      return r.string();

    case RdbType.LIST: {
      const n = r.len();
      const l = new ListValue();
      for (let i = 0; i < n; i++) l.pushRight(r.string());
      return l.size === 0 ? null : l;
    }
    case RdbType.LIST_ZIPLIST: {
      const l = new ListValue(blob(r, parseZiplist, 'ziplist'));
      return l.size === 0 ? null : l;
    }
    case RdbType.LIST_QUICKLIST:
    case RdbType.LIST_QUICKLIST_2: {
      const nodes = r.len();
      const l = new ListValue();
      for (let i = 0; i < nodes; i++) {
        let container = QUICKLIST_NODE_PACKED;
        if (type === RdbType.LIST_QUICKLIST_2) {
          container = r.len();
          if (container !== QUICKLIST_NODE_PACKED && container !== QUICKLIST_NODE_PLAIN) {
            throw new RdbError(`invalid quicklist node container ${container}`, r.offset);
          }
        }
        if (container === QUICKLIST_NODE_PLAIN) {
          l.pushRight(r.string());
          continue;
        }
        const items = type === RdbType.LIST_QUICKLIST ? blob(r, parseZiplist, 'ziplist') : blob(r, parseListpack, 'listpack');
        for (const e of items) l.pushRight(e); // an empty node is skipped, as Redis does
      }
      return l.size === 0 ? null : l;
    }

    case RdbType.SET: {
      const n = r.len();
      const s = new SetValue();
      const max = n > limits.setMaxIntsetEntries ? -1 : limits.setMaxIntsetEntries;
      for (let i = 0; i < n; i++) {
        if (!s.add(r.string(), max)) throw new RdbError('duplicate set members', at);
      }
      return s.size === 0 ? null : s;
    }
    case RdbType.SET_INTSET:
    case RdbType.SET_LISTPACK: {
      const members = type === RdbType.SET_INTSET ? blob(r, parseIntset, 'intset') : blob(r, parseListpack, 'listpack');
      if (members.length === 0) return null;
      const s = SetValue.from(members, limits.setMaxIntsetEntries);
      if (s.size !== members.length) throw new RdbError('duplicate set members', at);
      return s;
    }

    case RdbType.ZSET:
    case RdbType.ZSET_2: {
      const n = r.len();
      const members: string[] = [];
      const scores: number[] = [];
      for (let i = 0; i < n; i++) {
        members.push(r.string());
        scores.push(type === RdbType.ZSET_2 ? r.binaryDouble() : r.asciiDouble());
      }
      if (n === 0) return null;
      const listpack = n <= limits.zsetMaxListpackEntries && maxLen(members) <= limits.zsetMaxListpackValue;
      return buildZset(members, scores, listpack, at);
    }
    case RdbType.ZSET_ZIPLIST:
    case RdbType.ZSET_LISTPACK: {
      const items = type === RdbType.ZSET_ZIPLIST ? blob(r, parseZiplist, 'zset ziplist') : blob(r, parseListpack, 'zset listpack');
      if (items.length % 2 !== 0) throw new RdbError('sorted set listpack with an odd number of elements', at);
      if (items.length === 0) return null;
      const members: string[] = [];
      const scores: number[] = [];
      for (let i = 0; i < items.length; i += 2) {
        members.push(items[i]!);
        scores.push(score(r, items[i + 1]!, at));
      }
      return buildZset(members, scores, members.length <= limits.zsetMaxListpackEntries, at);
    }

    case RdbType.HASH: {
      const n = r.len();
      const fields: string[] = [];
      const values: string[] = [];
      for (let i = 0; i < n; i++) {
        fields.push(r.string());
        values.push(r.string());
      }
      if (n === 0) return null;
      const ht = n > limits.hashMaxListpackEntries || maxLen(fields) > limits.hashMaxListpackValue || maxLen(values) > limits.hashMaxListpackValue;
      return buildHash(fields, values, null, ht, at);
    }
    case RdbType.HASH_ZIPMAP:
    case RdbType.HASH_ZIPLIST:
    case RdbType.HASH_LISTPACK: {
      const items =
        type === RdbType.HASH_ZIPMAP ? blob(r, parseZipmap, 'zipmap')
        : type === RdbType.HASH_ZIPLIST ? blob(r, parseZiplist, 'hash ziplist')
        : blob(r, parseListpack, 'hash listpack');
      if (items.length % 2 !== 0) throw new RdbError('hash listpack with an odd number of elements', at);
      // Redis's zipmap validation refuses an empty one (an empty ziplist/listpack is an empty key).
      if (items.length === 0 && type === RdbType.HASH_ZIPMAP) throw new RdbError('invalid zipmap: empty zipmap', at);
      if (items.length === 0) return null;
      const fields: string[] = [];
      const values: string[] = [];
      for (let i = 0; i < items.length; i += 2) {
        fields.push(items[i]!);
        values.push(items[i + 1]!);
      }
      let ht = fields.length > limits.hashMaxListpackEntries;
      if (type !== RdbType.HASH_LISTPACK) ht ||= maxLen(items) > limits.hashMaxListpackValue;
      return buildHash(fields, values, null, ht, at);
    }
    case RdbType.HASH_METADATA_PRE_GA:
    case RdbType.HASH_METADATA: {
      const min = type === RdbType.HASH_METADATA ? r.millis() : 0;
      const n = r.len();
      const fields: string[] = [];
      const values: string[] = [];
      const ttls: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = r.len();
        ttls.push(t === 0 ? 0 : type === RdbType.HASH_METADATA ? t + min - 1 : t);
        fields.push(r.string());
        values.push(r.string());
      }
      if (n === 0) return null;
      const ht = n > limits.hashMaxListpackEntries || maxLen(fields) > limits.hashMaxListpackValue || maxLen(values) > limits.hashMaxListpackValue;
      return buildHash(fields, values, ttls, ht, at);
    }
    case RdbType.HASH_LISTPACK_EX_PRE_GA:
    case RdbType.HASH_LISTPACK_EX: {
      if (type === RdbType.HASH_LISTPACK_EX) r.millis(); // the earliest expiry: recomputed from the fields
      const items = blob(r, parseListpack, 'listpack');
      if (items.length % 3 !== 0) throw new RdbError('hash listpack with field TTLs must hold triplets', at);
      if (items.length === 0) return null;
      const fields: string[] = [];
      const values: string[] = [];
      const ttls: number[] = [];
      for (let i = 0; i < items.length; i += 3) {
        fields.push(items[i]!);
        values.push(items[i + 1]!);
        const t = Number(items[i + 2]);
        if (!Number.isSafeInteger(t) || t < 0) throw new RdbError(`invalid hash field TTL '${items[i + 2]}'`, at);
        ttls.push(t);
      }
      return buildHash(fields, values, ttls, fields.length > limits.hashMaxListpackEntries, at);
    }

    case RdbType.STREAM_LISTPACKS:
    case RdbType.STREAM_LISTPACKS_2:
    case RdbType.STREAM_LISTPACKS_3:
      return readStream(r, type, { maxBytes: limits.streamNodeMaxBytes, maxEntries: limits.streamNodeMaxEntries });

    case RdbType.MODULE_PRE_GA:
    case RdbType.MODULE_2: {
      const id = r.lenBig();
      throw new RdbError(`value of module type '${moduleTypeName(id)}': modules are not supported`, at);
    }
    default:
      throw new RdbError(`unknown RDB value type ${type}`, at);
  }
}

const MODULE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 9-character name of a module type from its 64-bit id (name in the top 54 bits, version in the low 10). */
export function moduleTypeName(id: bigint): string {
  let name = '';
  for (let i = 0; i < 9; i++) name += MODULE_CHARSET[Number((id >> BigInt(64 - 6 * (i + 1))) & 63n)];
  return name;
}
