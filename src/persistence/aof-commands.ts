/**
 * AOF base files without an RDB preamble (`aof-use-rdb-preamble no`): each
 * key of the snapshot written as the commands that rebuild it, as Redis's
 * rewriteAppendOnlyFile does: SET for strings, RPUSH / SADD / ZADD / HMSET
 * in batches of 64 items, then PEXPIREAT when the key has a TTL (and
 * HPEXPIREAT for hash fields with one), and streams with XADD, XSETID,
 * XGROUP and XCLAIM. A big value is written a few commands (or a MB of a
 * string) per piece (`entryPieces`, see snapshot.ts), with the same bytes.
 */
import type { SnapshotFormat } from './snapshot.js';
import { encodeCommand } from './aof-reader.js';
import { latin1Slice } from '../protocol/bytes.js';
import { MutableString, type AggregateKind, type AggregateValue, type Value } from '../keyspace/values.js';
import { ListValue } from '../list/list-value.js';
import { SetValue } from '../set/set-value.js';
import { ZsetValue } from '../zset/zset-value.js';
import { HashValue } from '../hash/hash-value.js';
import { formatDouble17g } from '../numbers/format.js';
import { formatId } from '../stream/stream-id.js';
import { streamData, streamEntries } from './stream-rdb-adapter.js';
import { valueWeight } from './rdb-slices.js';

/** Redis's AOF_REWRITE_ITEMS_PER_CMD. */
export const ITEMS_PER_CMD = 64;
/** Commands of a big value written per piece, and bytes of a big string per piece. */
const PIECE_COMMANDS = 16;
const STRING_PIECE = 1 << 20;

export type AofRewriter = (key: string, value: AggregateValue, emit: (argv: string[]) => void) => void;

const rewriters = new Map<AggregateKind, AofRewriter>();

/** Register how a kind of value is written as commands (streams). */
export function registerAofRewriter(kind: AggregateKind, fn: AofRewriter): void {
  rewriters.set(kind, fn);
}

function batched(cmd: string, key: string, items: Iterable<string[]>, emit: (argv: string[]) => void): void {
  let argv: string[] = [cmd, key];
  let n = 0;
  for (const it of items) {
    for (const x of it) argv.push(x);
    if (++n === ITEMS_PER_CMD) {
      emit(argv);
      argv = [cmd, key];
      n = 0;
    }
  }
  if (n > 0) emit(argv);
}

/** The commands that rebuild `value` at `key` (without its key TTL). */
export function valueCommands(key: string, value: Value, emit: (argv: string[]) => void): void {
  if (typeof value === 'string') return emit(['SET', key, value]);
  if (value instanceof MutableString) return emit(['SET', key, value.toString()]);
  if (value instanceof ListValue) {
    return batched('RPUSH', key, (function* () {
      for (const v of value) yield [v];
    })(), emit);
  }
  if (value instanceof SetValue) {
    return batched('SADD', key, (function* () {
      for (const m of value.members()) yield [m];
    })(), emit);
  }
  if (value instanceof ZsetValue) {
    const items: string[][] = [];
    value.forEach((m, sc) => items.push([formatDouble17g(sc), m]));
    return batched('ZADD', key, items, emit);
  }
  if (value instanceof HashValue) {
    batched('HMSET', key, (function* () {
      for (let i = 0; i < value.size; i++) yield [value.fieldAt(i), value.valueAt(i)];
    })(), emit);
    if (value.volatileCount > 0) {
      for (let i = 0; i < value.size; i++) {
        const f = value.fieldAt(i);
        const at = value.expireOf(f);
        if (at !== 0) emit(['HPEXPIREAT', key, String(at), 'FIELDS', '1', f]);
      }
    }
    return;
  }
  if (value.kind === 'stream') return streamCommands(key, value, emit);
  const fn = rewriters.get(value.kind);
  if (fn === undefined) throw new Error(`no AOF rewriter registered for type '${value.kind}'`);
  fn(key, value, emit);
}

/**
 * A stream as Redis rewrites it: XADD per entry (an empty stream: XADD
 * MAXLEN 0 with a throw-away entry), XSETID with the last ID, entries added
 * and max deleted ID, then per group XGROUP CREATE ... ENTRIESREAD, XCLAIM
 * ... JUSTID FORCE per pending entry of each consumer, and XGROUP
 * CREATECONSUMER for consumers with nothing pending.
 */
function streamCommands(key: string, value: AggregateValue, emit: (argv: string[]) => void): void {
  const d = streamData(value);
  const entries = streamEntries(value);
  if (entries.length > 0) for (const e of entries) emit(['XADD', key, formatId(e.id), ...e.fv]);
  else emit(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
  emit(['XSETID', key, formatId(d.lastId), 'ENTRIESADDED', String(d.entriesAdded), 'MAXDELETEDID', formatId(d.maxDeletedId)]);
  for (const g of d.groups) {
    emit(['XGROUP', 'CREATE', key, g.name, formatId(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
    const nacks = new Map<string, (typeof g.pel)[number]>();
    for (const n of g.pel) nacks.set(formatId(n.id), n);
    for (const c of g.consumers) {
      if (c.pel.length === 0) {
        emit(['XGROUP', 'CREATECONSUMER', key, g.name, c.name]);
        continue;
      }
      for (const id of c.pel) {
        const n = nacks.get(formatId(id))!;
        emit(['XCLAIM', key, g.name, c.name, '0', formatId(id), 'TIME', String(n.deliveryTime), 'RETRYCOUNT', String(n.deliveryCount), 'JUSTID', 'FORCE']);
      }
    }
  }
}

/** Snapshot format writing commands: SELECT per database, then each key's commands. */
export class AofCommandFormat implements SnapshotFormat {
  private buf = '';
  bytes = 0;

  private append(s: string): void {
    this.buf += s;
    this.bytes += s.length;
  }

  dbHeader(db: number): void {
    this.append(encodeCommand(['SELECT', String(db)]));
  }

  private encode(key: string, value: Value, expireAt: number): string {
    let s = '';
    valueCommands(key, value, (argv) => (s += encodeCommand(argv)));
    if (expireAt !== 0) s += encodeCommand(['PEXPIREAT', key, String(expireAt)]);
    return s;
  }

  entry(_db: number, key: string, value: Value, expireAt: number): void {
    this.append(this.encode(key, value, expireAt));
  }

  entryBytes(_db: number, key: string, value: Value, expireAt: number): Buffer[] {
    return [Buffer.from(this.encode(key, value, expireAt), 'latin1')];
  }

  /** A big value (rdb-slices.ts thresholds) as commands written a batch at a time. */
  entryPieces(_db: number, key: string, value: Value, expireAt: number): Iterator<void, void, void> | null {
    if (valueWeight(value) === 0) return null;
    if (typeof value === 'string' || value instanceof MutableString) return this.bigSet(key, value, expireAt);
    if (value instanceof ListValue || value instanceof SetValue || value instanceof ZsetValue || (value instanceof HashValue && value.volatileCount === 0)) {
      return this.bigAggregate(key, value, expireAt);
    }
    return null;
  }

  /** SET key <value> with the value's bytes appended a MB at a time (the same bytes as encodeCommand). */
  private *bigSet(key: string, value: string | MutableString, expireAt: number): Generator<void, void, void> {
    const n = typeof value === 'string' ? value.length : value.len;
    this.append(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${n}\r\n`);
    for (let off = 0; off < n; off += STRING_PIECE) {
      const end = Math.min(n, off + STRING_PIECE);
      this.append(typeof value === 'string' ? value.slice(off, end) : latin1Slice(value.bytes(), off, end));
      yield;
    }
    this.append('\r\n');
    if (expireAt !== 0) this.append(encodeCommand(['PEXPIREAT', key, String(expireAt)]));
  }

  /** RPUSH / SADD / ZADD / HMSET batches as valueCommands writes them, PIECE_COMMANDS per piece. */
  private *bigAggregate(key: string, value: ListValue | SetValue | ZsetValue | HashValue, expireAt: number): Generator<void, void, void> {
    const n = value.size;
    const cmd = value instanceof ListValue ? 'RPUSH' : value instanceof SetValue ? 'SADD' : value instanceof ZsetValue ? 'ZADD' : 'HMSET';
    const members = value instanceof SetValue ? value.members() : null;
    const zitems: string[] = [];
    for (let start = 0, batches = 0; start < n; start += ITEMS_PER_CMD) {
      const end = Math.min(n, start + ITEMS_PER_CMD);
      const argv: string[] = [cmd, key];
      if (value instanceof ListValue) for (let i = start; i < end; i++) argv.push(value.at(i));
      else if (members !== null) for (let i = start; i < end; i++) argv.push(members[i]!);
      else if (value instanceof HashValue) for (let i = start; i < end; i++) argv.push(value.fieldAt(i), value.valueAt(i));
      else {
        zitems.length = 0;
        (value as ZsetValue).forEachFromRank(start, false, end - start, (m, sc) => zitems.push(formatDouble17g(sc), m));
        for (const x of zitems) argv.push(x);
      }
      this.append(encodeCommand(argv));
      if (++batches % PIECE_COMMANDS === 0) yield;
    }
    if (expireAt !== 0) this.append(encodeCommand(['PEXPIREAT', key, String(expireAt)]));
  }

  take(): Buffer[] {
    if (this.buf.length === 0) return [];
    const b = Buffer.from(this.buf, 'latin1');
    this.buf = '';
    return [b];
  }
}
