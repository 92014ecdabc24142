/**
 * Consumer group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER,
 * DELCONSUMER, HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM. XREADGROUP is in
 * stream-read-commands.ts, XINFO in stream-info-commands.ts.
 *
 * Replies, errors and argument order follow redis-server 7.0.15. Group
 * changes count as writes and fire `xgroup-*` events but, as in Redis, do
 * not invalidate WATCH (only MKSTREAM's key creation does). XCLAIM and
 * XAUTOCLAIM propagate one `XCLAIM ... FORCE JUSTID LASTID` per claimed (or
 * dropped, deleted) entry instead of themselves; XCLAIM's LASTID alone
 * propagates as XGROUP SETID.
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err, truncateForError } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { now } from '../keyspace/clock.js';
import { StreamValue } from './stream-value.js';
import { type Consumer, type Nack, ConsumerGroup, INVALID_ENTRIES_READ } from './stream-group.js';
import { type I64, type StreamID, type U64, MIN_ID, cmpId, formatId, incrId } from './stream-id.js';
import {
  asStream,
  cstr,
  errorText,
  i64Arg,
  idArg,
  intervalArg,
  readStream,
  replyEntry,
  replyId,
  streamCmd,
  streamKeySpec,
  strictIdArg,
} from './stream-commands.js';
import { lookupOrCreateConsumer, xclaimPropagation } from './stream-read-commands.js';

/** A group change: counts as a write and fires the event, without touching WATCHed keys. */
function groupEvent(s: Session, event: string, key: string): void {
  s.engine.dirty++;
  s.engine.notify('t', event, key, s.dbIndex);
}

function noGroup(key: string, group: string): CommandError {
  return new CommandError(errorText(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(group)}'`));
}

function incCount(c: U64): U64 {
  return typeof c === 'number' && c < Number.MAX_SAFE_INTEGER ? c + 1 : BigInt(c) + 1n;
}

// ---------------------------------------------------------------------------
// XGROUP

function subcommandSyntax(argv: string[]): CommandError {
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${truncateForError(argv[1]!)}'. Try ${argv[0]!.toUpperCase()} HELP.`,
  );
}

interface XgroupCtx {
  key: string;
  st: StreamValue | undefined;
  g: ConsumerGroup | undefined;
  name: string;
  entriesRead: I64;
  mkstream: boolean;
}

/** What every XGROUP subcommand but HELP checks first: options, key, group. */
function xgroupPrelude(s: Session, argv: string[], needGroup: boolean): XgroupCtx {
  const sub = argv[1]!.toLowerCase();
  let mkstream = false;
  let entriesRead: I64 = INVALID_ENTRIES_READ;
  if (sub === 'create' || sub === 'setid') {
    for (let i = 5; i < argv.length; ) {
      if (sub === 'create' && is(argv[i], 'MKSTREAM')) {
        mkstream = true;
        i++;
      } else if (argv.length - i >= 2 && is(argv[i], 'ENTRIESREAD')) {
        entriesRead = i64Arg(argv[i + 1]!);
        if (entriesRead < 0 && entriesRead !== INVALID_ENTRIES_READ) throw new CommandError('ERR value for ENTRIESREAD must be positive or -1');
        i += 2;
      } else throw subcommandSyntax(argv);
    }
  }
  const key = argv[2]!;
  const st = asStream(s.db.peek(key));
  const name = argv[3]!;
  if (!mkstream && st === undefined) {
    throw new CommandError(
      'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.',
    );
  }
  const g = st?.groups.get(name);
  if (needGroup && g === undefined) throw new CommandError(errorText(`NOGROUP No such consumer group '${cstr(name)}' for key name '${cstr(key)}'`));
  return { key, st, g, name, entriesRead, mkstream };
}

function xgroupCreate(s: Session, argv: string[]): void {
  const c = xgroupPrelude(s, argv, false);
  if (argv.length > 8) throw subcommandSyntax(argv);
  const id = argv[4] === '$' ? (c.st?.lastId ?? MIN_ID) : strictIdArg(argv[4]!);
  let st = c.st;
  if (st === undefined) {
    st = new StreamValue();
    s.db.set(c.key, st);
    s.engine.keyModified(s.dbIndex, c.key, 0);
  } else s.db.getForWrite(c.key);
  if (st.groups.has(c.name)) throw new CommandError('BUSYGROUP Consumer Group name already exists');
  st.groups.set(c.name, new ConsumerGroup(c.name, id, c.entriesRead));
  s.reply.ok();
  groupEvent(s, 'xgroup-create', c.key);
}

function xgroupSetid(s: Session, argv: string[]): void {
  const c = xgroupPrelude(s, argv, true);
  if (argv.length !== 5 && argv.length !== 7) throw subcommandSyntax(argv);
  const id = argv[4] === '$' ? c.st!.lastId : idArg(argv[4]!);
  s.db.getForWrite(c.key);
  c.g!.lastId = id;
  c.g!.entriesRead = c.entriesRead;
  s.reply.ok();
  groupEvent(s, 'xgroup-setid', c.key);
}

function xgroupDestroy(s: Session, argv: string[]): void {
  const c = xgroupPrelude(s, argv, false);
  if (c.g === undefined) {
    s.reply.int(0);
    return;
  }
  s.db.getForWrite(c.key);
  c.st!.groups.delete(c.name);
  s.reply.int(1);
  groupEvent(s, 'xgroup-destroy', c.key);
  // Clients blocked in XREADGROUP on this group get their NOGROUP error.
  s.engine.blocking.signalKeyReady(s.dbIndex, c.key);
}

function xgroupCreateConsumer(s: Session, argv: string[]): void {
  const c = xgroupPrelude(s, argv, true);
  if (c.g!.consumers.has(argv[4]!)) {
    s.reply.int(0);
    return;
  }
  s.db.getForWrite(c.key);
  c.g!.createConsumer(argv[4]!, now());
  s.reply.int(1);
  groupEvent(s, 'xgroup-createconsumer', c.key);
}

function xgroupDelConsumer(s: Session, argv: string[]): void {
  const c = xgroupPrelude(s, argv, true);
  const consumer = c.g!.consumers.get(argv[4]!);
  if (consumer === undefined) {
    s.reply.int(0);
    return;
  }
  s.db.getForWrite(c.key);
  const pending = c.g!.deleteConsumer(consumer);
  s.reply.int(pending);
  groupEvent(s, 'xgroup-delconsumer', c.key);
}

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

// ---------------------------------------------------------------------------
// XACK

function xack(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const st = readStream(s, key);
  const g = st?.groups.get(argv[2]!);
  if (g === undefined) {
    s.reply.int(0);
    return;
  }
  const ids = argv.slice(3).map((a) => strictIdArg(a));
  let acked = 0;
  for (const id of ids) {
    if (!g.pel.has(id)) continue;
    if (acked === 0) s.db.getForWrite(key);
    g.ack(id);
    acked++;
  }
  if (acked > 0) s.engine.dirty += acked;
  s.reply.int(acked);
}

// ---------------------------------------------------------------------------
// XPENDING

function xpending(s: Session, argv: string[]): void {
  const summary = argv.length === 3;
  if (!summary && (argv.length < 6 || argv.length > 9)) throw new CommandError(Err.syntax);
  let minIdle = 0;
  let at = 3;
  let start = MIN_ID;
  let end = MIN_ID;
  let count = 0;
  let consumerName: string | null = null;
  if (!summary) {
    if (is(argv[3], 'IDLE')) {
      minIdle = longArg(argv[4]!);
      if (argv.length < 8) throw new CommandError(Err.syntax);
      at += 2;
    }
    count = longArg(argv[at + 2]!);
    if (count < 0) count = 0;
    start = intervalArg(argv[at]!, true);
    end = intervalArg(argv[at + 1]!, false);
    if (at + 3 < argv.length) consumerName = argv[at + 3]!;
  }
  const key = argv[1]!;
  const st = readStream(s, key);
  const g = st?.groups.get(argv[2]!);
  if (g === undefined) throw noGroup(key, argv[2]!);
  const r = s.reply;
  if (summary) {
    r.arrayLen(4);
    r.int(g.pel.size);
    if (g.pel.size === 0) {
      r.nullBulk();
      r.nullBulk();
      r.nullArray();
      return;
    }
    replyId(r, g.pel.first()!.id);
    replyId(r, g.pel.last()!.id);
    const withPending = g.sortedConsumers().filter((c) => c.pel.size > 0);
    r.arrayLen(withPending.length);
    for (const c of withPending) {
      r.arrayLen(2);
      r.bulk(c.name);
      r.bulk(String(c.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const c = g.consumers.get(consumerName);
    if (c === undefined) {
      r.arrayLen(0);
      return;
    }
    pel = c.pel;
  }
  const t = now();
  const out: { id: StreamID; nack: Nack }[] = [];
  if (count > 0) {
    pel.forEachFrom(start, (id, nack) => {
      if (cmpId(id, end) > 0) return false;
      if (minIdle !== 0 && t - nack.deliveryTime < minIdle) return true;
      out.push({ id, nack });
      return out.length < count;
    });
  }
  r.arrayLen(out.length);
  for (const { id, nack } of out) {
    r.arrayLen(4);
    replyId(r, id);
    r.bulk(nack.consumer.name);
    r.int(Math.max(0, t - nack.deliveryTime));
    r.int(nack.deliveryCount);
  }
}

// ---------------------------------------------------------------------------
// XCLAIM / XAUTOCLAIM

/** Drop a PEL entry whose stream entry was deleted, propagating the change. */
function dropDeleted(s: Session, key: string, g: ConsumerGroup, groupArg: string, id: StreamID, idText: string, nack: Nack): void {
  s.propagateAlso(xclaimPropagation(key, g, groupArg, idText, nack));
  s.engine.dirty++;
  g.ack(id);
}

/** Move `nack` (entry `id`) to `consumer`. */
function transfer(id: StreamID, nack: Nack, consumer: Consumer): void {
  if (nack.consumer === consumer) return;
  nack.consumer.pel.delete(id);
  nack.consumer = consumer;
  consumer.pel.set(id, nack);
}

function xclaim(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const groupArg = argv[2]!;
  const st = readStream(s, key);
  const g = st?.groups.get(groupArg);
  if (st === undefined || g === undefined) throw noGroup(key, groupArg);
  let minIdle = longArg(argv[4]!, 'ERR Invalid min-idle-time argument for XCLAIM');
  if (minIdle < 0) minIdle = 0;
  let j = 5;
  const ids: { id: StreamID; text: string }[] = [];
  for (; j < argv.length; j++) {
    try {
      ids.push({ id: strictIdArg(argv[j]!), text: argv[j]! });
    } catch {
      break;
    }
  }
  const t = now();
  let retry: U64 | -1 = -1;
  let deliveryTime = -1;
  let force = false;
  let justid = false;
  let propagateLastId = false;
  for (; j < argv.length; j++) {
    const more = j + 1 < argv.length;
    const opt = argv[j]!;
    if (is(opt, 'FORCE')) force = true;
    else if (is(opt, 'JUSTID')) justid = true;
    else if (more && is(opt, 'IDLE')) deliveryTime = t - longArg(argv[++j]!, 'ERR Invalid IDLE option argument for XCLAIM');
    else if (more && is(opt, 'TIME')) deliveryTime = longArg(argv[++j]!, 'ERR Invalid TIME option argument for XCLAIM');
    else if (more && is(opt, 'RETRYCOUNT')) {
      const n = i64Arg(argv[++j]!, 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
      retry = n < 0 ? -1 : (n as U64);
    } else if (more && is(opt, 'LASTID')) {
      const id = strictIdArg(argv[++j]!);
      if (cmpId(id, g.lastId) > 0) {
        s.db.getForWrite(key);
        g.lastId = id;
        propagateLastId = true;
      }
    } else throw new CommandError(errorText(`ERR Unrecognized XCLAIM option '${cstr(opt)}'`));
  }
  if (deliveryTime !== -1) {
    if (deliveryTime < 0 || deliveryTime > t) deliveryTime = t;
  } else deliveryTime = t;

  s.preventPropagation = true;
  let consumer: Consumer | null = null;
  const claimed: { id: StreamID; fv: readonly string[] }[] = [];
  for (const { id, text } of ids) {
    let nack = g.pel.get(id);
    const fv = st.get(id);
    if (fv === null) {
      if (nack !== undefined) {
        s.db.getForWrite(key);
        dropDeleted(s, key, g, groupArg, id, text, nack);
        propagateLastId = false;
      }
      continue;
    }
    let fresh = false;
    if (force && nack === undefined) fresh = true;
    if (nack === undefined && !fresh) continue;
    if (!fresh && minIdle !== 0 && t - nack!.deliveryTime < minIdle) continue;
    s.db.getForWrite(key);
    if (consumer === null) consumer = lookupOrCreateConsumer(s, key, g, argv[3]!, t).consumer;
    if (fresh) {
      nack = { consumer, deliveryTime, deliveryCount: 1 };
      g.pel.set(id, nack);
      consumer.pel.set(id, nack);
    } else transfer(id, nack!, consumer);
    nack!.deliveryTime = deliveryTime;
    if (retry !== -1) nack!.deliveryCount = retry;
    else if (!justid) nack!.deliveryCount = incCount(nack!.deliveryCount);
    claimed.push({ id, fv });
    s.propagateAlso(xclaimPropagation(key, g, groupArg, text, nack!));
    propagateLastId = false;
    s.engine.dirty++;
  }
  if (propagateLastId) {
    s.propagateAlso(['XGROUP', 'SETID', key, groupArg, formatId(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
    s.engine.dirty++;
  }
  const r = s.reply;
  r.arrayLen(claimed.length);
  for (const c of claimed) {
    if (justid) replyId(r, c.id);
    else replyEntry(r, c.id.ms, c.id.seq, c.fv);
  }
}

/** Redis's XAUTOCLAIM COUNT limit: LONG_MAX / max(sizeof(streamID), attempts factor). */
const AUTOCLAIM_MAX_COUNT = 576460752303423487n;
/**
 * Redis allocates COUNT deleted-ID slots up front and fails when it cannot:
 * emulated as a request beyond a 47-bit address space.
 */
const AUTOCLAIM_ALLOC_LIMIT = 2n ** 47n / 16n;
const ATTEMPTS_FACTOR = 10;

function xautoclaim(s: Session, argv: string[]): void {
  let minIdle = longArg(argv[4]!, 'ERR Invalid min-idle-time argument for XAUTOCLAIM');
  if (minIdle < 0) minIdle = 0;
  const start = intervalArg(argv[5]!, true);
  let count = 100;
  let justid = false;
  for (let j = 6; j < argv.length; j++) {
    if (is(argv[j], 'COUNT') && j + 1 < argv.length) {
      const n = BigInt(i64Arg(argv[++j]!, 'ERR COUNT must be > 0'));
      if (n < 1n || n > AUTOCLAIM_MAX_COUNT) throw new CommandError('ERR COUNT must be > 0');
      count = Number(n);
    } else if (is(argv[j], 'JUSTID')) justid = true;
    else throw new CommandError(Err.syntax);
  }
  const key = argv[1]!;
  const groupArg = argv[2]!;
  const st = readStream(s, key);
  const g = st?.groups.get(groupArg);
  if (st === undefined || g === undefined) throw noGroup(key, groupArg);
  if (BigInt(count) > AUTOCLAIM_ALLOC_LIMIT) throw new CommandError('ERR Insufficient memory, failed allocating transient memory, COUNT too high.');
  s.preventPropagation = true;
  const t = now();
  let attempts = count * ATTEMPTS_FACTOR;
  let consumer: Consumer | null = null;
  const claimed: { id: StreamID; fv: readonly string[] }[] = [];
  const deleted: StreamID[] = [];
  let pos: StreamID | null = start;
  const next = (): { id: StreamID; value: Nack } | null => {
    if (pos === null) return null;
    const e = g.pel.ceil(pos);
    pos = e === null ? null : incrId(e.id);
    return e;
  };
  let e: { id: StreamID; value: Nack } | null;
  while (attempts-- > 0 && count > 0 && (e = next()) !== null) {
    const { id, value: nack } = e;
    const fv = st.get(id);
    if (fv === null) {
      s.db.getForWrite(key);
      dropDeleted(s, key, g, groupArg, id, formatId(id), nack);
      deleted.push(id);
      count--;
      continue;
    }
    if (minIdle !== 0 && t - nack.deliveryTime < minIdle) continue;
    s.db.getForWrite(key);
    if (consumer === null) consumer = lookupOrCreateConsumer(s, key, g, argv[3]!, t).consumer;
    transfer(id, nack, consumer);
    nack.deliveryTime = t;
    if (!justid) nack.deliveryCount = incCount(nack.deliveryCount);
    claimed.push({ id, fv });
    count--;
    s.propagateAlso(xclaimPropagation(key, g, groupArg, formatId(id), nack));
    s.engine.dirty++;
  }
  const cursor = next();
  const r = s.reply;
  r.arrayLen(3);
  replyId(r, cursor === null ? MIN_ID : cursor.id);
  r.arrayLen(claimed.length);
  for (const c of claimed) {
    if (justid) replyId(r, c.id);
    else replyEntry(r, c.id.ms, c.id.seq, c.fv);
  }
  r.arrayLen(deleted.length);
  for (const id of deleted) replyId(r, id);
}

// ---------------------------------------------------------------------------
// Command table

const ND = ['nondeterministic_output'];
const xgroupSub = (
  name: string,
  arity: number,
  flags: CommandSpec['flags'],
  keyFlags: readonly string[],
  summary: string,
  since: string,
  complexity: string,
  handler: CommandSpec['handler'],
): CommandSpec => ({
  name, arity, flags, group: 'stream', summary, since, complexity, keys: [2, 2, 1], keySpecs: [streamKeySpec(keyFlags, 2)], handler,
});

export const streamGroupCommands: CommandSpec[] = [
  {
    name: 'xgroup', arity: -2, flags: [], group: 'stream', summary: 'A container for consumer groups commands', since: '5.0.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      xgroupSub('createconsumer', 5, ['write', 'denyoom'], ['RW', 'insert'], 'Create a consumer in a consumer group.', '6.2.0', 'O(1)', xgroupCreateConsumer),
      xgroupSub('delconsumer', 5, ['write'], ['RW', 'delete'], 'Delete a consumer from a consumer group.', '5.0.0', 'O(1)', xgroupDelConsumer),
      xgroupSub('create', -5, ['write', 'denyoom'], ['RW', 'insert'], 'Create a consumer group.', '5.0.0', 'O(1)', xgroupCreate),
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'stream', summary: 'Show helpful text about the different subcommands', since: '5.0.0',
        complexity: 'O(1)', handler: (s) => {
          s.reply.arrayLen(XGROUP_HELP.length);
          for (const l of XGROUP_HELP) s.reply.simple(l);
        },
      },
      xgroupSub('destroy', 4, ['write'], ['RW', 'delete'], 'Destroy a consumer group.', '5.0.0',
        "O(N) where N is the number of entries in the group's pending entries list (PEL).", xgroupDestroy),
      xgroupSub('setid', -5, ['write'], ['RW', 'update'], 'Set a consumer group to an arbitrary last delivered ID value.', '5.0.0', 'O(1)', xgroupSetid),
    ],
  },
  streamCmd('xack', -4, ['write', 'fast'],
    'Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.',
    '5.0.0', 'O(1) for each message ID processed.', [streamKeySpec(['RW', 'update'])], xack),
  streamCmd('xpending', -3, ['readonly'],
    'Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.',
    '5.0.0',
    'O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.',
    [streamKeySpec(['RO', 'access'])], xpending, { tips: ND }),
  streamCmd('xclaim', -6, ['write', 'fast'],
    'Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.',
    '5.0.0', 'O(log N) with N being the number of messages in the PEL of the consumer group.', [streamKeySpec(['RW', 'update'])], xclaim, { tips: ND }),
  streamCmd('xautoclaim', -6, ['write', 'fast'],
    'Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.',
    '6.2.0', 'O(1) if COUNT is small.', [streamKeySpec(['RW', 'delete'])], xautoclaim, { tips: ND }),
];

