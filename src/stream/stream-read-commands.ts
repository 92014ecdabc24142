/**
 * XREAD and XREADGROUP, including BLOCK.
 *
 * Both answer with one [key, entries] pair per stream that had something to
 * serve (a RESP3 map key → entries), or a null array when none had.
 * XREADGROUP `>` delivers entries after the group's last delivered ID,
 * adding them to the group's and the consumer's pending lists (unless
 * NOACK); any other ID reads the consumer's own pending history (a deleted
 * entry shows as [id, nil]).
 *
 * BLOCK: when no stream can be served the client waits (server/blocking.ts,
 * kind 'stream') until an XADD makes a stream's last ID pass the one it
 * waits after (`$` is resolved when the command runs; `>` means the group's
 * last ID at serving time), then gets that one stream, at most COUNT (1000
 * by default) entries. A blocked XREADGROUP whose group was destroyed gets
 * a NOGROUP error, whose key went away an UNBLOCKED error. Inside
 * MULTI/EXEC, or for an in-process session, BLOCK answers as on a timeout.
 *
 * Propagation as Redis 7.0 does it: XREADGROUP itself never propagates; each
 * delivered entry propagates as `XCLAIM key group consumer 0 id TIME t
 * RETRYCOUNT n FORCE JUSTID LASTID last`, a NOACK read as `XGROUP SETID key
 * group last ENTRIESREAD n` (after `XGROUP CREATECONSUMER` for a new
 * consumer).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import type { Engine } from '../server/engine.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { now } from '../keyspace/clock.js';
import { StreamValue } from './stream-value.js';
import { type Consumer, type ConsumerGroup, type Nack, advanceGroup } from './stream-group.js';
import { type StreamID, MAX_ID, MIN_ID, cmpId, formatId, incrId, isMaxId } from './stream-id.js';
import { type Entry, asStream, collectRange, cstr, errorText, replyEntry, strictIdArg } from './stream-commands.js';

/** Entries served to a blocked client without COUNT. */
const BLOCKED_DEFAULT_COUNT = 1000;

interface ReadArgs {
  count: number;
  /** Block timeout in ms (0 = forever), -1 when not blocking. */
  timeout: number;
  keys: string[];
  ids: string[];
  group: string | null;
  consumer: string;
  noack: boolean;
}

function parseRead(argv: string[], xreadgroup: boolean): ReadArgs {
  const a: ReadArgs = { count: 0, timeout: -1, keys: [], ids: [], group: null, consumer: '', noack: false };
  let streamsAt = 0;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = argv[i]!;
    if (more > 0 && is(o, 'BLOCK')) {
      const t = longArg(argv[++i]!, 'ERR timeout is not an integer or out of range');
      if (t < 0) throw new CommandError('ERR timeout is negative');
      // A deadline beyond the 64-bit range waits forever.
      a.timeout = t > Number.MAX_SAFE_INTEGER - Date.now() ? 0 : t;
    } else if (more > 0 && is(o, 'COUNT')) {
      const c = longArg(argv[++i]!);
      a.count = c < 0 ? 0 : c;
    } else if (more > 0 && is(o, 'STREAMS')) {
      streamsAt = i + 1;
      const n = argv.length - streamsAt;
      if (n % 2 !== 0) throw new CommandError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      a.keys = argv.slice(streamsAt, streamsAt + n / 2);
      a.ids = argv.slice(streamsAt + n / 2);
      break;
    } else if (more >= 2 && is(o, 'GROUP')) {
      if (!xreadgroup) throw new CommandError('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
      a.group = argv[i + 1]!;
      a.consumer = argv[i + 2]!;
      i += 2;
    } else if (is(o, 'NOACK')) {
      if (!xreadgroup) throw new CommandError('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
      a.noack = true;
    } else throw new CommandError(Err.syntax);
  }
  if (streamsAt === 0) throw new CommandError(Err.syntax);
  if (xreadgroup && a.group === null) throw new CommandError('ERR Missing GROUP option for XREADGROUP');
  return a;
}

/** A blocked XREADGROUP that ends in an error counts as a failed call (INFO commandstats). */
function failedBlockedCall(s: Session): void {
  const c = s.engine.commands.get('xreadgroup');
  if (c !== undefined) c.failedCalls++;
}

/** The NOGROUP error of XREADGROUP. */
function noGroup(key: string, group: string): CommandError {
  return new CommandError(errorText(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(group)}' in XREADGROUP with GROUP option`));
}

// ---------------------------------------------------------------------------
// Serving one stream

/** The propagated form of a delivery or claim (Redis's XCLAIM ... FORCE JUSTID LASTID). */
export function xclaimPropagation(key: string, group: ConsumerGroup, groupArg: string, id: string, nack: Nack): string[] {
  return [
    'XCLAIM', key, groupArg, nack.consumer.name, '0', id, 'TIME', String(nack.deliveryTime),
    'RETRYCOUNT', String(nack.deliveryCount), 'FORCE', 'JUSTID', 'LASTID', formatId(group.lastId),
  ];
}

/** The consumer `name` of `g`, created (event, dirty) when missing; its seen time refreshed. */
export function lookupOrCreateConsumer(s: Session, key: string, g: ConsumerGroup, name: string, t: number): { consumer: Consumer; created: boolean } {
  let c = g.consumers.get(name);
  if (c !== undefined) {
    c.seenTime = t;
    return { consumer: c, created: false };
  }
  c = g.createConsumer(name, t)!;
  // Redis counts a change and notifies, without touching WATCHed keys.
  s.engine.dirty++;
  s.engine.notify('t', 'xgroup-createconsumer', key, s.dbIndex);
  return { consumer: c, created: true };
}

/** XREADGROUP `>`: deliver entries after `start - 1` to `consumer` (PELs, group position, propagation). */
function deliverNew(s: Session, key: string, st: StreamValue, g: ConsumerGroup, groupArg: string, consumer: Consumer, start: StreamID, count: number, noack: boolean): Entry[] {
  const entries = collectRange(st, start, MAX_ID, count, false);
  const t = now();
  let propagateLastId = false;
  for (const e of entries) {
    const id: StreamID = { ms: e.ms, seq: e.seq };
    advanceGroup(st, g, id);
    if (noack) {
      propagateLastId = true;
      continue;
    }
    let nack = g.pel.get(id);
    if (nack === undefined) {
      nack = { consumer, deliveryTime: t, deliveryCount: 1 };
      g.pel.set(id, nack);
    } else {
      nack.consumer.pel.delete(id);
      nack.consumer = consumer;
      nack.deliveryTime = t;
      nack.deliveryCount = 1;
    }
    consumer.pel.set(id, nack);
    s.propagateAlso(xclaimPropagation(key, g, groupArg, formatId(id), nack));
  }
  if (propagateLastId) s.propagateAlso(['XGROUP', 'SETID', key, groupArg, formatId(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
  return entries;
}

/** One history item: an entry, or [id, nil] for an entry deleted since. */
type HistoryItem = Entry | { ms: StreamID['ms']; seq: StreamID['seq']; fv: null };

/** XREADGROUP with an ID: the consumer's pending entries from `start`; existing ones count as delivered again. */
function readHistory(st: StreamValue, consumer: Consumer, start: StreamID, count: number): HistoryItem[] {
  const out: HistoryItem[] = [];
  const t = now();
  consumer.pel.forEachFrom(start, (id, nack) => {
    const fv = st.get(id);
    out.push({ ms: id.ms, seq: id.seq, fv });
    if (fv !== null) {
      nack.deliveryTime = t;
      nack.deliveryCount = typeof nack.deliveryCount === 'number' && nack.deliveryCount < Number.MAX_SAFE_INTEGER ? nack.deliveryCount + 1 : BigInt(nack.deliveryCount) + 1n;
    }
    return count === 0 || out.length < count;
  });
  return out;
}

function replyItems(s: Session, items: readonly HistoryItem[]): void {
  const r = s.reply;
  r.arrayLen(items.length);
  for (const e of items) {
    if (e.fv !== null) replyEntry(r, e.ms, e.seq, e.fv);
    else {
      r.arrayLen(2);
      r.bulk(`${e.ms}-${e.seq}`);
      r.nullArray();
    }
  }
}

// ---------------------------------------------------------------------------
// XREAD / XREADGROUP

function xreadGeneric(s: Session, argv: string[], xreadgroup: boolean): void {
  const a = parseRead(argv, xreadgroup);
  const n = a.keys.length;
  const ids: StreamID[] = new Array<StreamID>(n);
  const groups: (ConsumerGroup | null)[] = new Array<ConsumerGroup | null>(n).fill(null);
  for (let i = 0; i < n; i++) {
    const key = a.keys[i]!;
    const st = asStream(s.db.get(key));
    if (a.group !== null) {
      const g = st?.groups.get(a.group);
      if (g === undefined) throw noGroup(key, a.group);
      groups[i] = g;
    }
    const arg = a.ids[i]!;
    if (arg === '$') {
      if (xreadgroup) {
        throw new CommandError(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        );
      }
      ids[i] = st !== undefined ? st.lastId : MIN_ID;
    } else if (arg === '>') {
      if (!xreadgroup) throw new CommandError('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
      ids[i] = MAX_ID;
    } else ids[i] = strictIdArg(arg);
  }
  if (xreadgroup) s.preventPropagation = true;

  // Serve synchronously every stream that has something.
  const served: { key: string; items: HistoryItem[] }[] = [];
  for (let i = 0; i < n; i++) {
    const key = a.keys[i]!;
    const st = s.db.get(key) as StreamValue | undefined;
    if (st === undefined) continue;
    const g = groups[i]!;
    let gt = ids[i]!;
    let history = false;
    let serve = false;
    if (g !== null) {
      if (!isMaxId(gt)) serve = history = true;
      else if (st.size > 0 && cmpId(st.edgeId(false, true)!, g.lastId) > 0) {
        serve = true;
        gt = g.lastId;
      }
    } else if (st.size > 0 && cmpId(st.edgeId(false, true)!, gt) > 0) serve = true;
    if (!serve) continue;
    const start = incrId(gt) ?? MIN_ID;
    if (g === null) {
      served.push({ key, items: collectRange(st, start, MAX_ID, a.count, false) });
      continue;
    }
    s.db.getForWrite(key);
    const t = now();
    const { consumer, created } = lookupOrCreateConsumer(s, key, g, a.consumer, t);
    if (created && a.noack) s.propagateAlso(['XGROUP', 'CREATECONSUMER', key, a.group!, consumer.name]);
    const items = history ? readHistory(st, consumer, start, a.count) : deliverNew(s, key, st, g, a.group!, consumer, start, a.count, a.noack);
    served.push({ key, items });
    s.engine.dirty++;
  }
  if (served.length > 0) {
    const r = s.reply;
    if (r.resp === 2) r.arrayLen(served.length);
    else r.mapLen(served.length);
    for (const x of served) {
      if (r.resp === 2) r.arrayLen(2);
      r.bulk(x.key);
      replyItems(s, x.items);
    }
    return;
  }
  if (a.timeout === -1 || s.inExec || s.transport === null) {
    s.reply.nullArray();
    return;
  }
  blockRead(s, a, ids);
}

/**
 * Blocked XREADGROUP clients must learn when their key is deleted or
 * overwritten (UNBLOCKED error): while any is blocked, a keyspace hook
 * marks written keys that have waiters as ready, and an emptied database
 * makes all its keys ready; serving then finds the stream gone.
 */
const groupWaiters = new WeakMap<Engine, { count: number; remove: (() => void)[] }>();

function watchDeletions(e: Engine): () => void {
  let w = groupWaiters.get(e);
  if (w === undefined) groupWaiters.set(e, (w = { count: 0, remove: [] }));
  if (w.count++ === 0) {
    w.remove.push(
      e.addKeyspaceHook('beforeWrite', (db, key) => {
        if (e.blocking.hasWaiters(db.id, key)) e.blocking.signalKeyReady(db.id, key);
      }),
      e.addKeyspaceHook('beforeClear', (db) => e.blocking.signalDbReady(db.id)),
    );
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--w.count === 0) for (const r of w.remove.splice(0)) r();
  };
}

function blockRead(s: Session, a: ReadArgs, ids: StreamID[]): void {
  // The first occurrence of a repeated key decides the ID waited after.
  const after = new Map<string, StreamID>();
  for (let i = 0; i < a.keys.length; i++) if (!after.has(a.keys[i]!)) after.set(a.keys[i]!, ids[i]!);
  const count = a.count > 0 ? a.count : BLOCKED_DEFAULT_COUNT;
  const group = a.group;
  let release: (() => void) | undefined;
  s.engine.blocking.blockOnKeys(
    s,
    a.keys,
    a.timeout,
    (bs, key) => {
      const v = bs.db.peek(key);
      if (!(v instanceof StreamValue)) {
        if (group === null) return false;
        release?.();
        bs.engine.countError('UNBLOCKED');
        failedBlockedCall(bs);
        bs.reply.error('UNBLOCKED the stream key no longer exists');
        return true;
      }
      let gt = after.get(key)!;
      let g: ConsumerGroup | undefined;
      if (group !== null) {
        g = v.groups.get(group);
        if (g === undefined) {
          release?.();
          bs.engine.countError('NOGROUP');
          failedBlockedCall(bs);
          bs.reply.error('NOGROUP the consumer group this client was blocked on no longer exists');
          return true;
        }
        gt = g.lastId;
      }
      if (cmpId(v.lastId, gt) <= 0) return false;
      const start = incrId(gt) ?? MIN_ID;
      let items: HistoryItem[];
      if (g === undefined) items = collectRange(v, start, MAX_ID, count, false);
      else {
        bs.db.getForWrite(key);
        bs.preventPropagation = true;
        const { consumer, created } = lookupOrCreateConsumer(bs, key, g, a.consumer, now());
        if (created && a.noack) bs.propagateAlso(['XGROUP', 'CREATECONSUMER', key, group!, consumer.name]);
        items = deliverNew(bs, key, v, g, group!, consumer, start, count, a.noack);
      }
      release?.();
      const r = bs.reply;
      if (r.resp === 2) {
        r.arrayLen(1);
        r.arrayLen(2);
      } else r.mapLen(1);
      r.bulk(key);
      replyItems(bs, items);
      return true;
    },
    (bs) => {
      release?.();
      bs.reply.nullArray();
    },
    'stream',
  );
  if (group !== null && s.blocked !== null) {
    release = watchDeletions(s.engine);
    const b = s.blocked;
    const cancel = b.cancel;
    b.cancel = () => {
      release?.();
      cancel();
    };
  }
}

// ---------------------------------------------------------------------------
// Command table

/** Key positions of XREAD/XREADGROUP: the first half of the arguments after STREAMS. */
function readKeys(argv: string[], from: number): number[] {
  for (let i = from; i < argv.length; i++) {
    if (is(argv[i], 'STREAMS')) {
      const n = (argv.length - i - 1) >>> 1;
      return Array.from({ length: n }, (_, j) => i + 1 + j);
    }
  }
  return [];
}

export const streamReadCommands: CommandSpec[] = [
  {
    name: 'xread', arity: -4, flags: ['readonly', 'blocking', 'movablekeys'], group: 'stream',
    summary: 'Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.',
    since: '5.0.0',
    complexity: 'For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.',
    keys: [0, 0, 0],
    keySpecs: [{ flags: ['RO', 'access'], begin: { keyword: 'STREAMS', startfrom: 1 }, find: { range: [-1, 1, 2] } }],
    getKeys: (argv) => readKeys(argv, 1),
    handler: (s, argv) => xreadGeneric(s, argv, false),
  },
  {
    name: 'xreadgroup', arity: -7, flags: ['write', 'blocking', 'movablekeys'], group: 'stream',
    summary: 'Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.',
    since: '5.0.0',
    complexity: 'For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.',
    keys: [0, 0, 0],
    keySpecs: [{ flags: ['RO', 'access'], begin: { keyword: 'STREAMS', startfrom: 4 }, find: { range: [-1, 1, 2] } }],
    getKeys: (argv) => readKeys(argv, 4),
    handler: (s, argv) => xreadGeneric(s, argv, true),
  },
];
