/**
 * RDB writing: whole files (RdbEncoder, used by SAVE/BGSAVE and the AOF
 * preamble, incrementally) and single values (DUMP payloads).
 *
 * Values are written the way Redis 7.0 writes RDB 10:
 *  - strings: int8/16/32 when they are the text of one, LZF when compression
 *    is on and it pays, else plain;
 *  - lists: RDB_TYPE_LIST_QUICKLIST_2, nodes of listpacks split as a 7.0
 *    quicklist fills them (list-max-listpack-size);
 *  - sets: SET_INTSET while the set is an intset, else SET;
 *  - sorted sets: ZSET_LISTPACK (member, score pairs in order; integral
 *    scores within ±2^62 as integers, others as %.17g text) or ZSET_2
 *    (binary double scores, from the highest to the lowest as Redis does);
 *  - hashes: HASH_LISTPACK or HASH; a hash with field TTLs has no RDB 10
 *    form, so it is written with Redis 7.4's HASH_LISTPACK_EX /
 *    HASH_METADATA (loadable by 7.4+; a DUMP payload of one says version 12);
 *  - streams: RDB_TYPE_STREAM_LISTPACKS_2 (rdb-stream.ts).
 * A file: "REDIS0010", AUX fields, per database SELECTDB + RESIZEDB and the
 * keys (EXPIRETIME_MS / IDLE / FREQ opcodes before a key as needed), EOF,
 * then the CRC-64 of everything before it (8 zero bytes when rdbchecksum is
 * off).
 */
import { MutableString, type Value } from '../keyspace/values.js';
import { ListValue } from '../list/list-value.js';
import { SetValue } from '../set/set-value.js';
import { ZsetValue, listpackScoreString } from '../zset/zset-value.js';
import { HashValue } from '../hash/hash-value.js';
import { Crc64 } from './crc64.js';
import { ListpackBuilder, buildIntset } from './rdb-listpack.js';
import { RDB_VERSION, RdbOpcode, RdbType, RdbWriter } from './rdb-format.js';
import { QuicklistNodes, writeQuicklistNode } from './rdb-quicklist.js';
import { slicedBody, valueWeight, type BodyPieces } from './rdb-slices.js';
import { DEFAULT_STREAM_NODE_LIMITS, streamRdbType, writeStream, type StreamNodeLimits } from './rdb-stream.js';

export interface ValueEncodeOptions {
  /** LZF-compress strings and blobs (rdbcompression). Default true. */
  compress?: boolean;
  /** list-max-listpack-size: how list elements are split into quicklist nodes. Default -2 (8 KiB). */
  listMaxListpackSize?: number;
  /** stream-node-max-bytes / stream-node-max-entries: how stream entries are split into nodes. Default 4096 / 100. */
  streamNodeMaxBytes?: number;
  streamNodeMaxEntries?: number;
}

/** The encoding options a server configuration gives (rdbcompression, list and stream node sizes). */
export function encodeOptionsFromConfig(config: { num(name: string): number; bool(name: string): boolean }): Required<ValueEncodeOptions> {
  return {
    compress: config.bool('rdbcompression'),
    listMaxListpackSize: config.num('list-max-listpack-size'),
    streamNodeMaxBytes: config.num('stream-node-max-bytes'),
    streamNodeMaxEntries: config.num('stream-node-max-entries'),
  };
}

/** The node-splitting settings writeValueBody needs. */
export interface BodyOptions {
  listFill: number;
  stream: StreamNodeLimits;
}

function bodyOptions(o: ValueEncodeOptions): BodyOptions {
  return {
    listFill: o.listMaxListpackSize ?? -2,
    stream: { maxBytes: o.streamNodeMaxBytes ?? DEFAULT_STREAM_NODE_LIMITS.maxBytes, maxEntries: o.streamNodeMaxEntries ?? DEFAULT_STREAM_NODE_LIMITS.maxEntries },
  };
}

/** The RDB type byte a value is written with. */
export function rdbTypeOf(v: Value): number {
  if (typeof v === 'string' || v instanceof MutableString) return RdbType.STRING;
  if (v instanceof ListValue) return RdbType.LIST_QUICKLIST_2;
  if (v instanceof SetValue) return v.isIntset ? RdbType.SET_INTSET : RdbType.SET;
  if (v instanceof ZsetValue) return v.listpack ? RdbType.ZSET_LISTPACK : RdbType.ZSET_2;
  if (v instanceof HashValue) {
    if (v.volatileCount > 0) return v.hashtable ? RdbType.HASH_METADATA : RdbType.HASH_LISTPACK_EX;
    return v.hashtable ? RdbType.HASH : RdbType.HASH_LISTPACK;
  }
  if (v.kind === 'stream') return streamRdbType(v);
  throw new Error(`cannot serialize a value of kind '${(v as { kind: string }).kind}'`);
}

/** Write the body of `v` (everything after the type byte and key) as `type`. */
export function writeValueBody(w: RdbWriter, v: Value, type: number, opts: BodyOptions = bodyOptions({})): void {
  if (typeof v === 'string') return w.string(v);
  if (v instanceof MutableString) return w.string(v.toString());
  switch (type) {
    case RdbType.LIST_QUICKLIST_2:
      return writeQuicklist(w, v as ListValue, opts.listFill);
    case RdbType.SET_INTSET:
      return w.blob(buildIntset((v as SetValue).members()));
    case RdbType.SET: {
      const s = v as SetValue;
      w.len(s.size);
      for (let i = 0; i < s.size; i++) w.string(s.at(i));
      return;
    }
    case RdbType.ZSET_LISTPACK: {
      const z = v as ZsetValue;
      const lb = new ListpackBuilder(64 + z.bytes + z.size * 12);
      z.forEach((member, score) => {
        lb.append(member);
        lb.append(listpackScoreString(score));
      });
      return w.blob(lb.finish());
    }
    case RdbType.ZSET_2: {
      const z = v as ZsetValue;
      w.len(z.size);
      // Highest to lowest: the loader then always inserts at the head.
      z.forEachReverse((member, score) => {
        w.string(member);
        w.double(score);
      });
      return;
    }
    case RdbType.HASH_LISTPACK: {
      const h = v as HashValue;
      const lb = new ListpackBuilder(64 + h.bytes + h.size * 4);
      for (let i = 0; i < h.size; i++) lb.append(h.fieldAt(i)).append(h.valueAt(i));
      return w.blob(lb.finish());
    }
    case RdbType.HASH: {
      const h = v as HashValue;
      w.len(h.size);
      for (let i = 0; i < h.size; i++) {
        w.string(h.fieldAt(i));
        w.string(h.valueAt(i));
      }
      return;
    }
    case RdbType.HASH_LISTPACK_EX: {
      // Redis 7.4: the earliest field expiry, then a listpack of (field, value, ttl ms or 0) triplets.
      const h = v as HashValue;
      w.millis(h.minExpire());
      const lb = new ListpackBuilder(64 + h.bytes + h.size * 14);
      for (let i = 0; i < h.size; i++) {
        const f = h.fieldAt(i);
        lb.append(f).append(h.valueAt(i)).appendInt(h.expireOf(f));
      }
      return w.blob(lb.finish());
    }
    case RdbType.HASH_METADATA: {
      // Redis 7.4: the earliest field expiry, the count, then per field: ttl (0 none,
      // else expiry - earliest + 1), field, value.
      const h = v as HashValue;
      const min = h.minExpire();
      w.millis(min);
      w.len(h.size);
      for (let i = 0; i < h.size; i++) {
        const f = h.fieldAt(i);
        const at = h.expireOf(f);
        w.len(at === 0 ? 0 : at - min + 1);
        w.string(f);
        w.string(h.valueAt(i));
      }
      return;
    }
    default:
      if (v.kind === 'stream') return writeStream(w, v, type, opts.stream);
      throw new Error(`cannot write RDB type ${type}`);
  }
}

function writeQuicklist(w: RdbWriter, l: ListValue, fill: number): void {
  const q = new QuicklistNodes(fill);
  for (let i = 0; i < l.size; i++) q.add(l.at(i));
  const nodes = q.finish();
  w.len(nodes.length);
  for (const n of nodes) writeQuicklistNode(w, n);
}

// ---- DUMP payloads -----------------------------------------------------------------

/** The RDB version a DUMP payload of `type` declares: 10, or 12 for Redis 7.4's hash-with-TTL types. */
function payloadVersion(type: number): number {
  return type >= RdbType.HASH_METADATA_PRE_GA && type <= RdbType.HASH_LISTPACK_EX ? 12 : RDB_VERSION;
}

/** Type byte + serialized value (what DUMP wraps, and what RESTORE reads). */
export function encodeValuePayload(value: Value, opts: ValueEncodeOptions = {}): Buffer {
  const w = new RdbWriter(opts.compress ?? true);
  const type = rdbTypeOf(value);
  w.byte(type);
  writeValueBody(w, value, type, bodyOptions(opts));
  const parts = w.take();
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * The DUMP footer: append the 2-byte little-endian RDB version and the
 * CRC-64 of everything before it (the payload, then the version).
 */
export function appendDumpFooter(body: Buffer, version = payloadVersion(body[0] ?? 0)): Buffer {
  const out = Buffer.allocUnsafe(body.length + 10);
  body.copy(out, 0);
  out.writeUInt16LE(version, body.length);
  const crc = new Crc64().update(out, 0, body.length + 2);
  crc.bytesLE().copy(out, body.length + 2);
  return out;
}

/** DUMP: the complete serialized value. */
export function createDumpPayload(value: Value, opts: ValueEncodeOptions = {}): Buffer {
  return appendDumpFooter(encodeValuePayload(value, opts));
}

// ---- whole files ---------------------------------------------------------------------

export interface RdbEncoderOptions extends Omit<ValueEncodeOptions, 'compress'> {
  /** rdbcompression */
  compress: boolean;
  /** rdbchecksum: when off, the trailer is 8 zero bytes (loaders then skip the check). */
  checksum: boolean;
}

/**
 * Encodes an RDB file incrementally: call header(), aux()..., then per
 * database selectDb(), resizeDb(), entry()..., and eof(); take() drains the
 * bytes produced so far (write them out as you go).
 */
export class RdbEncoder {
  private readonly w: RdbWriter;
  private readonly crc = new Crc64();
  private readonly checksum: boolean;
  private readonly body: BodyOptions;
  private ready: Buffer[] = [];
  private trailerBytes = 0;

  constructor(opts: RdbEncoderOptions) {
    this.w = new RdbWriter(opts.compress);
    this.checksum = opts.checksum;
    this.body = bodyOptions(opts);
  }

  /** Bytes produced so far (taken or not). */
  get bytes(): number {
    return this.w.written + this.trailerBytes;
  }

  header(version = RDB_VERSION): void {
    this.w.raw(Buffer.from('REDIS' + String(version).padStart(4, '0'), 'latin1'));
  }

  aux(key: string, value: string): void {
    this.w.byte(RdbOpcode.AUX);
    this.w.string(key);
    this.w.string(value);
  }

  selectDb(db: number): void {
    this.w.byte(RdbOpcode.SELECTDB);
    this.w.len(db);
  }

  resizeDb(size: number, expires: number): void {
    this.w.byte(RdbOpcode.RESIZEDB);
    this.w.len(size);
    this.w.len(expires);
  }

  /**
   * One key: EXPIRETIME_MS when `expireAtMs` is not 0, IDLE / FREQ when
   * given (as Redis writes them under an LRU / LFU maxmemory policy), then
   * the type, the key and the value.
   */
  entry(key: string, value: Value, expireAtMs: number, meta?: { lruIdleSec?: number; lfuFreq?: number }): void {
    const type = rdbTypeOf(value);
    this.keyHeader(key, type, expireAtMs, meta);
    writeValueBody(this.w, value, type, this.body);
  }

  /**
   * entry() for a value big enough to be encoded in pieces (rdb-slices.ts):
   * writes the key's opcodes, type and name now and returns the generator
   * that writes the value, a piece per next(); null (nothing written) when
   * the value is to be encoded at once with entry().
   */
  entryPieces(key: string, value: Value, expireAtMs: number, meta?: { lruIdleSec?: number; lfuFreq?: number }): BodyPieces | null {
    if (valueWeight(value) === 0) return null;
    const type = rdbTypeOf(value);
    const body = slicedBody(this.w, value, type, this.body.listFill);
    if (body === null) return null;
    this.keyHeader(key, type, expireAtMs, meta);
    return body;
  }

  private keyHeader(key: string, type: number, expireAtMs: number, meta?: { lruIdleSec?: number; lfuFreq?: number }): void {
    const w = this.w;
    if (expireAtMs !== 0) {
      w.byte(RdbOpcode.EXPIRETIME_MS);
      w.millis(expireAtMs);
    }
    if (meta !== undefined) {
      if (meta.lruIdleSec !== undefined) {
        w.byte(RdbOpcode.IDLE);
        w.len(Math.max(0, Math.floor(meta.lruIdleSec)));
      }
      if (meta.lfuFreq !== undefined) {
        w.byte(RdbOpcode.FREQ);
        w.byte(meta.lfuFreq & 0xff);
      }
    }
    w.byte(type);
    w.string(key);
  }

  /** A function library (RDB_OPCODE_FUNCTION2 + its code), passed through from a loaded file. */
  functionLibrary(code: string): void {
    this.w.byte(RdbOpcode.FUNCTION2);
    this.w.string(code);
  }

  /** The EOF opcode and the checksum trailer. Nothing may be written after it. */
  eof(): void {
    this.w.byte(RdbOpcode.EOF);
    this.drain();
    this.ready.push(this.checksum ? this.crc.bytesLE() : Buffer.alloc(8));
    this.trailerBytes = 8;
  }

  private drain(): void {
    const bufs = this.w.take();
    if (this.checksum) for (const b of bufs) this.crc.update(b);
    for (const b of bufs) this.ready.push(b);
  }

  /** The bytes encoded since the last take(), in order. */
  take(): Buffer[] {
    this.drain();
    const out = this.ready;
    this.ready = [];
    return out;
  }
}
