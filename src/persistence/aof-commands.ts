/**
 * AOF base files without an RDB preamble (`aof-use-rdb-preamble no`): each
 * key of the snapshot written as the commands that rebuild it, as Redis's
 * rewriteAppendOnlyFile does: SET for strings, RPUSH / SADD / ZADD / HMSET
 * in batches of 64 items, then PEXPIREAT when the key has a TTL (and
 * HPEXPIREAT for hash fields with one), and streams with XADD, XSETID,
 * XGROUP and XCLAIM.
 */
import type { SnapshotFormat } from './snapshot.js';
import { encodeCommand } from './aof-reader.js';
import { MutableString, type AggregateKind, type AggregateValue, type Value } from '../keyspace/values.js';
import { ListValue } from '../list/list-value.js';
import { SetValue } from '../set/set-value.js';
import { ZsetValue } from '../zset/zset-value.js';
import { HashValue } from '../hash/hash-value.js';
import { formatDouble17g } from '../numbers/format.js';
import { formatId } from '../stream/stream-id.js';
import { streamData, streamEntries } from './stream-rdb-adapter.js';

/** Redis's AOF_REWRITE_ITEMS_PER_CMD. */
export const ITEMS_PER_CMD = 64;

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

  take(): Buffer[] {
    if (this.buf.length === 0) return [];
    const b = Buffer.from(this.buf, 'latin1');
    this.buf = '';
    return [b];
  }
}
