/**
 * Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID, and the
 * helpers the other stream command files share (lookups, ID arguments,
 * entry replies). XREAD/XREADGROUP live in stream-read-commands.ts, the
 * consumer group commands in stream-group-commands.ts, XINFO in
 * stream-info-commands.ts.
 *
 * Argument order, replies and errors follow redis-server 7.0.15 as
 * observed. An emptied stream is NOT deleted (streams may be empty). XADD
 * propagates with the concrete ID in place of `*` / `<ms>-*`; a `~` trim
 * propagates as `=` with the resulting length (MAXLEN) or first ID (MINID),
 * so replicas trim exactly as much.
 */
import { type CommandSpec, type KeySpec, typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import type { Reply } from '../protocol/reply.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import type { Value } from '../keyspace/values.js';
import { now } from '../keyspace/clock.js';
import { type NodeLimits, type TrimSpec, StreamValue } from './stream-value.js';
import {
  type I64,
  type StreamID,
  type U64,
  MAX_ID,
  MIN_ID,
  U64_MAX,
  cmpId,
  decrId,
  formatId,
  i64,
  incrId,
  isMaxId,
  parseStreamId,
  formatIdParts,
} from './stream-id.js';
import { parseInt64 } from '../numbers/parse.js';
import { configCache } from '../commands/config-cache.js';

export const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

// ---------------------------------------------------------------------------
// Shared helpers

/** The value as a stream, undefined when missing; WRONGTYPE for another type. */
export function asStream(v: Value | undefined): StreamValue | undefined {
  if (v === undefined || v instanceof StreamValue) return v;
  throw new CommandError(Err.wrongType);
}

/** Read lookup (counts a hit or miss, touches the key). */
export function readStream(s: Session, key: string): StreamValue | undefined {
  return asStream(s.db.get(key));
}

/** Write lookup: the stream to modify in place, or undefined. */
export function writeStream(s: Session, key: string): StreamValue | undefined {
  return asStream(s.db.getForWrite(key));
}

/** A strict stream ID argument (no `-` / `+`). */
export function strictIdArg(arg: string, missingSeq: U64 = 0): StreamID {
  const p = parseStreamId(arg, missingSeq, true);
  if (p === null) throw new CommandError(INVALID_ID);
  return p.id;
}

/** A stream ID argument where `-` and `+` mean the smallest and largest IDs. */
export function idArg(arg: string, missingSeq: U64 = 0): StreamID {
  const p = parseStreamId(arg, missingSeq, false);
  if (p === null) throw new CommandError(INVALID_ID);
  return p.id;
}

/**
 * A range bound: an ID, `-`/`+`, or `(<id>` (exclusive: the next ID for a
 * start, the previous one for an end).
 */
export function intervalArg(arg: string, isStart: boolean): StreamID {
  if (arg.length > 1 && arg[0] === '(') {
    const id = strictIdArg(arg.slice(1), isStart ? 0 : U64_MAX);
    const moved = isStart ? incrId(id) : decrId(id);
    if (moved === null) throw new CommandError(isStart ? 'ERR invalid start ID for the interval' : 'ERR invalid end ID for the interval');
    return moved;
  }
  return idArg(arg, isStart ? 0 : U64_MAX);
}

/** A signed 64-bit integer argument, exact (bigint beyond 2^53). */
export function i64Arg(arg: string, error: string = Err.notInteger): I64 {
  const b = parseInt64(arg);
  if (b === null) throw new CommandError(error);
  return i64(b);
}

/** Redis's addReplyErrorFormat: CR and LF in the message become spaces. */
export function errorText(msg: string): string {
  return msg.replace(/[\r\n]/g, ' ');
}

/** User text as printed by a C `%s` (up to the first NUL byte). */
export function cstr(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

export function replyId(r: Reply, id: StreamID): void {
  r.bulk(formatId(id));
}

/** One entry: [id, [field, value, ...]]. */
export function replyEntry(r: Reply, ms: U64, seq: U64, fv: readonly string[]): void {
  r.arrayLen(2);
  r.bulk(formatIdParts(ms, seq));
  r.arrayLen(fv.length);
  for (let i = 0; i < fv.length; i++) r.bulk(fv[i]!);
}

export interface Entry {
  ms: U64;
  seq: U64;
  fv: readonly string[];
}

/** Collect up to `count` live entries of [start, end] (0 = no limit). */
export function collectRange(st: StreamValue, start: StreamID, end: StreamID, count: number, rev: boolean): Entry[] {
  const out: Entry[] = [];
  st.forRange(start, end, rev, (ms, seq, fv) => {
    out.push({ ms, seq, fv });
    return count === 0 || out.length < count;
  });
  return out;
}

export function replyEntries(r: Reply, entries: readonly Entry[]): void {
  r.arrayLen(entries.length);
  for (const e of entries) replyEntry(r, e.ms, e.seq, e.fv);
}

/** The node limits (read on every XADD), kept current by CONFIG SET. */
const nodeLimitsOf = configCache({ maxEntries: 'stream-node-max-entries', maxBytes: 'stream-node-max-bytes' });

export function nodeLimits(s: Session): NodeLimits {
  return nodeLimitsOf(s.engine.config);
}

// ---------------------------------------------------------------------------
// XADD / XTRIM argument parsing

interface AddTrimArgs {
  trim: TrimSpec | null;
  /** argv index of the MAXLEN/MINID value. */
  trimArgIdx: number;
  /** argv index of the ID (XADD), argv.length when none was found. */
  idIdx: number;
  id: StreamID;
  idGiven: boolean;
  seqGiven: boolean;
  noMkstream: boolean;
}

const INCOMPATIBLE = 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible';

/** `XADD key * field value ...`: no option, an auto ID (what parseAddTrim finds for it). */
const PLAIN_XADD: AddTrimArgs = Object.freeze({
  trim: null,
  trimArgIdx: 0,
  idIdx: 2,
  id: MIN_ID,
  idGiven: false,
  seqGiven: true,
  noMkstream: false,
});

function parseAddTrim(s: Session, argv: string[], xadd: boolean): AddTrimArgs {
  if (xadd && argv[2] === '*') return PLAIN_XADD;
  let strategy: 'maxlen' | 'minid' | null = null;
  let maxlen = 0;
  let minid = MIN_ID;
  let approx = false;
  let limit = 0;
  let limitGiven = false;
  let trimArgIdx = 0;
  let id: StreamID = MIN_ID;
  let idGiven = false;
  let seqGiven = true;
  let noMkstream = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i]!;
    if (xadd && opt === '*') break;
    if (more > 0 && (is(opt, 'MAXLEN') || is(opt, 'MINID'))) {
      if (strategy !== null) throw new CommandError(INCOMPATIBLE);
      approx = false;
      const next = argv[i + 1]!;
      if (more >= 2 && next === '~') {
        approx = true;
        i++;
      } else if (more >= 2 && next === '=') i++;
      if (is(opt, 'MAXLEN')) {
        maxlen = longArg(argv[i + 1]!);
        if (maxlen < 0) throw new CommandError('ERR The MAXLEN argument must be >= 0.');
        strategy = 'maxlen';
      } else {
        minid = strictIdArg(argv[i + 1]!);
        strategy = 'minid';
      }
      i++;
      trimArgIdx = i;
    } else if (more > 0 && is(opt, 'LIMIT')) {
      limit = longArg(argv[i + 1]!);
      if (limit < 0) throw new CommandError('ERR The LIMIT argument must be >= 0.');
      limitGiven = true;
      i++;
    } else if (xadd && is(opt, 'NOMKSTREAM')) {
      noMkstream = true;
    } else if (xadd) {
      const p = parseStreamId(opt, 0, true, true);
      if (p === null) throw new CommandError(INVALID_ID);
      id = p.id;
      seqGiven = p.seqGiven;
      idGiven = true;
      break;
    } else throw new CommandError(Err.syntax);
  }
  if (limit !== 0 && strategy === null) throw new CommandError('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
  if (!xadd && strategy === null) throw new CommandError('ERR syntax error, XTRIM must be called with a trimming strategy');
  if (s.obeyClient) {
    // A propagated trim was rewritten to its exact result: no work limit, LIMIT with '=' allowed.
    limit = 0;
  } else if (limitGiven) {
    if (!approx) throw new CommandError('ERR syntax error, LIMIT cannot be used without the special ~ option');
  } else if (approx) {
    limit = 100 * s.engine.config.num('stream-node-max-entries');
    if (limit <= 0 || limit > 10000) limit = 10000;
  } else limit = 0;
  const trim = strategy === null ? null : { strategy, maxlen, minid, approx, limit };
  return { trim, trimArgIdx, idIdx: i, id, idGiven, seqGiven, noMkstream };
}

/** The argv a `~` trim propagates as: `=` and the resulting length / first ID. */
function approxRewrite(argv: string[], st: StreamValue, t: TrimSpec, idx: number): void {
  argv[idx - 1] = '=';
  argv[idx] = t.strategy === 'maxlen' ? String(st.size) : formatId(st.edgeId(true, false) ?? MAX_ID);
}

// ---------------------------------------------------------------------------
// XADD

function xadd(s: Session, argv: string[]): void {
  const a = parseAddTrim(s, argv, true);
  const fieldPos = a.idIdx + 1;
  const nfv = argv.length - fieldPos;
  if (nfv < 2 || nfv % 2 === 1) throw new CommandError(Err.wrongArgs('xadd'));
  if (a.idGiven && a.seqGiven && a.id.ms === 0 && a.id.seq === 0) {
    throw new CommandError('ERR The ID specified in XADD must be greater than 0-0');
  }
  const key = argv[1]!;
  let st = writeStream(s, key);
  if (st === undefined) {
    if (a.noMkstream) {
      s.reply.nullBulk();
      return;
    }
    st = new StreamValue();
    s.db.set(key, st);
  }
  if (isMaxId(st.lastId)) throw new CommandError('ERR The stream has exhausted the last possible ID, unable to add more items');
  const id = st.nextId(a.idGiven ? a.id : null, a.seqGiven, now());
  if (id === null) throw new CommandError('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  st.append(id, argv.slice(fieldPos), nodeLimits(s));
  const idText = formatId(id);
  s.reply.bulk(idText);
  s.wrote('t', 'xadd', key);
  let rewritten: string[] | null = null;
  // The rewrites only matter to propagation: skipped when nothing is propagated (no AOF, no replicas).
  const propagating = s.engine.propagators.length > 0;
  if (a.trim !== null) {
    if (st.trim(a.trim) > 0) s.engine.notify('t', 'xtrim', key, s.dbIndex);
    if (a.trim.approx && propagating) approxRewrite((rewritten = argv.slice()), st, a.trim, a.trimArgIdx);
  }
  if (propagating && (!a.idGiven || !a.seqGiven)) (rewritten ??= argv.slice())[fieldPos - 1] = idText;
  if (rewritten !== null) s.rewriteAs(rewritten);
  s.engine.blocking.signalKeyReady(s.dbIndex, key);
}

// ---------------------------------------------------------------------------
// XTRIM / XDEL / XLEN

function xtrim(s: Session, argv: string[]): void {
  const a = parseAddTrim(s, argv, false);
  const key = argv[1]!;
  const st = writeStream(s, key);
  if (st === undefined) {
    s.reply.int(0);
    return;
  }
  const t = a.trim!;
  const removed = st.trim(t);
  if (removed > 0) {
    s.wrote('t', 'xtrim', key, removed);
    if (t.approx) {
      const rw = argv.slice();
      approxRewrite(rw, st, t, a.trimArgIdx);
      s.rewriteAs(rw);
    }
  }
  s.reply.int(removed);
}

function xdel(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const st = writeStream(s, key);
  if (st === undefined) {
    s.reply.int(0);
    return;
  }
  const ids = argv.slice(2).map((a) => strictIdArg(a));
  let deleted = 0;
  let firstGone = false;
  for (const id of ids) {
    if (!st.deleteEntry(id)) continue;
    if (cmpId(id, st.firstId) === 0) firstGone = true;
    if (cmpId(id, st.maxDeletedId) > 0) st.maxDeletedId = id;
    deleted++;
  }
  if (deleted > 0) {
    if (st.size === 0) st.firstId = MIN_ID;
    else if (firstGone) st.firstId = st.edgeId(true, true)!;
    s.wrote('t', 'xdel', key, deleted);
  }
  s.reply.int(deleted);
}

function xlen(s: Session, argv: string[]): void {
  s.reply.int(readStream(s, argv[1]!)?.size ?? 0);
}

// ---------------------------------------------------------------------------
// XRANGE / XREVRANGE

function xrangeGeneric(s: Session, argv: string[], rev: boolean): void {
  const start = intervalArg(rev ? argv[3]! : argv[2]!, true);
  const end = intervalArg(rev ? argv[2]! : argv[3]!, false);
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (is(argv[j], 'COUNT') && j + 1 < argv.length) {
      count = longArg(argv[++j]!);
      if (count < 0) count = 0;
    } else throw new CommandError(Err.syntax);
  }
  const st = readStream(s, argv[1]!);
  if (st === undefined) {
    s.reply.arrayLen(0);
    return;
  }
  if (count === 0) {
    s.reply.nullArray();
    return;
  }
  replyEntries(s.reply, collectRange(st, start, end, count === -1 ? 0 : count, rev));
}

// ---------------------------------------------------------------------------
// XSETID

function xsetid(s: Session, argv: string[]): void {
  const id = strictIdArg(argv[2]!);
  let entriesAdded: I64 | null = null;
  let maxDeleted: StreamID | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    const more = i + 1 < argv.length;
    if (more && is(argv[i], 'ENTRIESADDED')) {
      const n = i64Arg(argv[i + 1]!);
      if (n < 0) throw new CommandError('ERR entries_added must be positive');
      entriesAdded = n;
    } else if (more && is(argv[i], 'MAXDELETEDID')) {
      const m = strictIdArg(argv[i + 1]!);
      if (cmpId(id, m) < 0) throw new CommandError('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
      maxDeleted = m;
    } else throw new CommandError(Err.syntax);
  }
  const key = argv[1]!;
  const st = writeStream(s, key);
  if (st === undefined) throw new CommandError(Err.noSuchKey);
  if (st.size > 0) {
    if (cmpId(id, st.edgeId(false, true)!) < 0) throw new CommandError('ERR The ID specified in XSETID is smaller than the target stream top item');
    if (entriesAdded !== null && st.size > entriesAdded) {
      throw new CommandError('ERR The entries_added specified in XSETID is smaller than the target stream length');
    }
  }
  st.setMeta(id, entriesAdded, maxDeleted !== null && (maxDeleted.ms !== 0 || maxDeleted.seq !== 0) ? maxDeleted : null);
  s.reply.ok();
  s.wrote('t', 'xsetid', key);
}

// ---------------------------------------------------------------------------
// Command table

/** A one-key spec at argv[index]. */
export function streamKeySpec(flags: readonly string[], index = 1, notes?: string): KeySpec {
  const ks: KeySpec = { flags, begin: { index }, find: { range: [0, 1, 0] } };
  return notes === undefined ? ks : { notes, ...ks };
}

export const streamCmd = typeCommand('stream');

const ND = ['nondeterministic_output'];

export const streamCommands: CommandSpec[] = [
  streamCmd('xadd', -5, ['write', 'denyoom', 'fast'], 'Appends a new entry to a stream', '5.0.0',
    'O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.',
    [streamKeySpec(['RW', 'update'], 1, 'UPDATE instead of INSERT because of the optional trimming feature')], xadd, { tips: ND }),
  streamCmd('xlen', 2, ['readonly', 'fast'], 'Return the number of entries in a stream', '5.0.0', 'O(1)', [streamKeySpec(['RO'])], xlen),
  streamCmd('xrange', -4, ['readonly'], 'Return a range of elements in a stream, with IDs matching the specified IDs interval', '5.0.0',
    'O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).',
    [streamKeySpec(['RO', 'access'])], (s, argv) => xrangeGeneric(s, argv, false)),
  streamCmd('xrevrange', -4, ['readonly'],
    'Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE',
    '5.0.0',
    'O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).',
    [streamKeySpec(['RO', 'access'])], (s, argv) => xrangeGeneric(s, argv, true)),
  streamCmd('xdel', -3, ['write', 'fast'], 'Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.',
    '5.0.0', 'O(1) for each single item to delete in the stream, regardless of the stream size.', [streamKeySpec(['RW', 'delete'])], xdel),
  streamCmd('xtrim', -4, ['write'], "Trims the stream to (approximately if '~' is passed) a certain size", '5.0.0',
    'O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.',
    [streamKeySpec(['RW', 'delete'])], xtrim, { tips: ND }),
  streamCmd('xsetid', -3, ['write', 'denyoom', 'fast'], 'An internal command for replicating stream values', '5.0.0', 'O(1)',
    [streamKeySpec(['RW', 'update'])], xsetid),
];
