/**
 * RDB reading: whole files, incrementally (RdbDecoder), and DUMP payloads
 * (decodeValuePayload, verifyDumpPayload).
 *
 * The decoder is fed chunks as they are read (feed), told when the input
 * ends (finish), and asked for up to N keys at a time (step), so that a
 * loader can spread a big file over many event-loop turns. It keeps only
 * the bytes of the item being parsed: an item cut by a chunk boundary is
 * parsed again once enough input is there (the retry threshold doubles the
 * span each time, so a huge value costs O(size) overall).
 *
 * Versions 1..12 are read, with every opcode of Redis 7.4 (module data is
 * refused with a clear error, a module cannot be loaded here). Errors are
 * RdbErrors naming the file and the byte offset.
 */
import type { Value } from '../keyspace/values.js';
import { Crc64 } from './crc64.js';
import { NeedMore, RDB_MAX_READ_VERSION, RdbChecksumError, RdbError, RdbOpcode, RdbReader, RdbType } from './rdb-format.js';
import { DEFAULT_RDB_LIMITS, isKnownType, moduleTypeName, readValue, type RdbLimits } from './rdb-value-reader.js';

export { RdbError } from './rdb-format.js';
export { DEFAULT_RDB_LIMITS, rdbLimitsFromConfig, type RdbLimits } from './rdb-value-reader.js';

export type RdbEvent =
  | { t: 'aux'; key: string; value: string }
  | { t: 'db'; db: number }
  | { t: 'resize'; size: number; expires: number }
  | { t: 'entry'; db: number; key: string; value: Value; expireAtMs: number; lruIdleSec?: number; lfuFreq?: number }
  /** A function library (RDB_OPCODE_FUNCTION2, or the 7.0 RC form translated to it): its code, shebang first. */
  | { t: 'function'; code: string }
  /** End of the RDB data. `checksum`: the stored CRC-64 (null before version 5; 0n when saved without checksum). */
  | { t: 'eof'; checksum: bigint | null };

export interface RdbDecoderOptions {
  /** File name for error messages. */
  source: string;
  /** Encoding limits of loaded values (from the server configuration); Redis 7.0 defaults otherwise. */
  limits?: Partial<RdbLimits>;
  /** Do not verify the CRC-64 trailer. */
  skipChecksum?: boolean;
  /** Called with the key of each empty aggregate skipped. */
  onEmptyKey?: (key: string) => void;
}

export class RdbDecoder {
  readonly source: string;
  private readonly onEmptyKey: ((key: string) => void) | undefined;
  private readonly limits: RdbLimits;
  private readonly verify: boolean;
  /** Working buffer and position in it; `base` is the file offset of buf[0]. */
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private base = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private finished = false;
  /** Absolute offset the buffered input must reach before the next parse attempt. */
  private wantAbs = 0;
  private readonly crc = new Crc64();
  private state: 'header' | 'body' | 'trailer' | 'done' = 'header';
  /** RDB version of the file (after the header). */
  version = 0;
  private db = 0;
  private expireAt = 0;
  private idle = -1;
  private freq = -1;
  /** Keys read so far. */
  keys = 0;
  /** Empty aggregates skipped (Redis skips them too). */
  emptyKeysSkipped = 0;

  constructor(opts: RdbDecoderOptions) {
    this.source = opts.source;
    this.onEmptyKey = opts.onEmptyKey;
    this.limits = { ...DEFAULT_RDB_LIMITS, ...opts.limits };
    this.verify = opts.skipChecksum !== true;
  }

  /** Add input. */
  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /** No more input will come: an incomplete item is now a truncation error. */
  finish(): void {
    this.finished = true;
  }

  /** The whole RDB (through its checksum) has been read. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** step() cannot progress until more input is fed (or finish() is called). */
  get needsInput(): boolean {
    return !this.done && !this.finished && this.base + this.buf.length + this.pendingBytes < Math.max(this.wantAbs, this.base + this.pos + 1);
  }

  /** Bytes consumed (file offset of the next unread byte). */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Input fed beyond the end of the RDB (an AOF with an RDB preamble continues there). */
  rest(): Buffer {
    const parts = [this.buf.subarray(this.pos), ...this.pending];
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private err(message: string, at: number): RdbError {
    return new RdbError(`${this.source}: ${message} (at byte offset ${at})`, at, message);
  }

  /** The key whose value is being read when an error is thrown (null between keys). */
  currentKey: string | null = null;

  /** Bring pending chunks into the working buffer. */
  private gather(): void {
    if (this.pendingBytes === 0) return;
    const parts = this.pos < this.buf.length ? [this.buf.subarray(this.pos), ...this.pending] : this.pending;
    this.base += this.pos;
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /**
   * Parse up to `maxEntries` keys (and any opcodes around them), at most
   * `maxEvents` events. Returns the events in file order; an empty array
   * when more input is needed.
   */
  step(maxEntries: number, maxEvents = Infinity): RdbEvent[] {
    const events: RdbEvent[] = [];
    if (this.done) return events;
    const have = this.base + this.buf.length + this.pendingBytes;
    if (!this.finished && have < this.wantAbs) return events;
    this.gather();
    const r = new RdbReader(this.buf, this.base);
    r.pos = this.pos;
    let entries = 0;
    while (this.state !== 'done' && entries < maxEntries && events.length < maxEvents) {
      const start = r.pos;
      const inTrailer = this.state === 'trailer';
      try {
        const ev = this.item(r);
        if (this.verify && !inTrailer) this.crc.update(this.buf, start, r.pos);
        this.pos = r.pos;
        if (ev !== null) {
          events.push(ev);
          if (ev.t === 'entry') entries++;
        }
      } catch (e) {
        r.pos = start;
        this.pos = start;
        if (e instanceof NeedMore) {
          const itemStart = this.base + start;
          const haveNow = this.base + this.buf.length;
          if (this.finished) throw this.err('unexpected end of file (truncated RDB)', haveNow);
          this.wantAbs = Math.max(e.at, itemStart + 2 * (haveNow - itemStart));
          return events;
        }
        if (e instanceof RdbChecksumError) {
          throw new RdbChecksumError(`${this.source}: ${e.message} (at byte offset ${e.offset})`, e.offset, e.expected, e.got, e.reason);
        }
        if (e instanceof RdbError) throw this.err(e.message, e.offset >= 0 ? e.offset : this.base + start);
        throw e;
      }
    }
    this.wantAbs = 0;
    return events;
  }

  /** One item at the reader's position; null for an item that produces no event. */
  private item(r: RdbReader): RdbEvent | null {
    if (this.state === 'header') {
      const h = r.bytes(9).toString('latin1');
      if (!h.startsWith('REDIS')) throw new RdbError('wrong signature: not an RDB file (no REDIS magic)', this.base);
      const v = /^\d{4}$/.test(h.slice(5)) ? Number(h.slice(5)) : NaN;
      if (!(v >= 1 && v <= RDB_MAX_READ_VERSION)) throw new RdbError(`can't handle RDB format version '${h.slice(5)}'`, this.base + 5);
      this.version = v;
      this.state = 'body';
      return null;
    }
    if (this.state === 'trailer') {
      const at = r.offset;
      const stored = r.bytes(8);
      const value = stored.readBigUInt64LE(0);
      if (this.verify && value !== 0n && !this.crc.matchesLE(stored, 0)) {
        const expected = this.crc.value;
        throw new RdbChecksumError(
          `wrong RDB checksum: expected ${expected.toString(16).padStart(16, '0')}, file has ${value.toString(16).padStart(16, '0')}`,
          at,
          expected,
          value,
        );
      }
      this.state = 'done';
      return { t: 'eof', checksum: value };
    }
    const at = r.offset;
    const op = r.u8();
    switch (op) {
      case RdbOpcode.EXPIRETIME_MS:
        this.expireAt = r.millis();
        return null;
      case RdbOpcode.EXPIRETIME:
        this.expireAt = r.u32le() * 1000;
        return null;
      case RdbOpcode.IDLE:
        this.idle = r.len();
        return null;
      case RdbOpcode.FREQ:
        this.freq = r.u8();
        return null;
      case RdbOpcode.SELECTDB:
        this.db = r.len();
        return { t: 'db', db: this.db };
      case RdbOpcode.RESIZEDB: {
        const size = r.len();
        const expires = r.len();
        return { t: 'resize', size, expires };
      }
      case RdbOpcode.AUX: {
        const key = r.string();
        const value = r.string();
        return { t: 'aux', key, value };
      }
      case RdbOpcode.SLOT_INFO:
        r.len();
        r.len();
        r.len();
        return null;
      case RdbOpcode.FUNCTION2:
        return { t: 'function', code: r.string() };
      case RdbOpcode.FUNCTION_PRE_GA: {
        const name = r.string();
        const engine = r.string();
        if (r.len() !== 0) r.string(); // description
        const code = r.string();
        return { t: 'function', code: `#!${engine} name=${name}\n${code}` };
      }
      case RdbOpcode.MODULE_AUX: {
        const id = r.lenBig();
        throw new RdbError(`module auxiliary data of module '${moduleTypeName(id)}' is not supported (no modules in cacheside)`, at);
      }
      case RdbOpcode.EOF:
        if (this.version >= 5) {
          this.state = 'trailer';
          return null;
        }
        this.state = 'done';
        return { t: 'eof', checksum: null };
      default: {
        if (!isKnownType(op)) throw new RdbError(`unknown RDB value type or opcode ${op}`, at);
        const key = r.string();
        this.currentKey = key;
        if (op === RdbType.MODULE_2 || op === RdbType.MODULE_PRE_GA) {
          const id = r.lenBig();
          throw new RdbError(`key '${key}' holds a value of module type '${moduleTypeName(id)}': modules are not supported`, at);
        }
        const value = readValue(r, op, this.limits);
        this.currentKey = null;
        let ev: RdbEvent | null = null;
        if (value !== null) {
          if (this.idle < 0 && this.freq < 0) ev = { t: 'entry', db: this.db, key, value, expireAtMs: this.expireAt };
          else {
            const e: RdbEvent & { t: 'entry' } = { t: 'entry', db: this.db, key, value, expireAtMs: this.expireAt };
            if (this.idle >= 0) e.lruIdleSec = this.idle;
            if (this.freq >= 0) e.lfuFreq = this.freq;
            ev = e;
          }
        }
        this.expireAt = 0;
        this.idle = -1;
        this.freq = -1;
        if (ev === null) {
          this.emptyKeysSkipped++;
          this.onEmptyKey?.(key);
        }
        else this.keys++;
        return ev;
      }
    }
  }
}

/** Decode a whole RDB held in memory (tests, DEBUG RELOAD-like uses). */
export function decodeRdb(data: Buffer, opts: RdbDecoderOptions): RdbEvent[] {
  const d = new RdbDecoder(opts);
  d.feed(data);
  d.finish();
  const out: RdbEvent[] = [];
  while (!d.done) for (const e of d.step(1 << 30)) out.push(e);
  return out;
}

// ---- DUMP payloads -------------------------------------------------------------------

/**
 * Check a DUMP payload's footer: an RDB version this server reads (at most
 * `maxVersion`) and a matching CRC-64. Returns the version, or -1.
 */
export function verifyDumpPayload(p: Buffer, maxVersion = RDB_MAX_READ_VERSION, skipCrc = false): number {
  if (p.length < 10) return -1;
  const version = p.readUInt16LE(p.length - 10);
  if (version > maxVersion) return -1;
  if (skipCrc) return version;
  const crc = new Crc64().update(p, 0, p.length - 8);
  return crc.matchesLE(p, p.length - 8) ? version : -1;
}

/**
 * The value of a DUMP payload (its footer already verified): the type byte
 * and the value. Throws RdbError for bad data (RESTORE: "Bad data format");
 * an empty aggregate is bad data too.
 */
export function decodeValuePayload(p: Buffer, limits: Partial<RdbLimits> = {}): Value {
  const body = p.length >= 10 ? p.subarray(0, p.length - 10) : p;
  const r = new RdbReader(body, 0);
  try {
    const type = r.u8();
    if (!isKnownType(type)) throw new RdbError(`unknown RDB value type ${type}`, 0);
    const v = readValue(r, type, { ...DEFAULT_RDB_LIMITS, ...limits });
    if (v === null) throw new RdbError('empty aggregate', 1);
    return v;
  } catch (e) {
    if (e instanceof NeedMore) throw new RdbError('payload truncated', body.length);
    throw e;
  }
}
