/**
 * DEBUG: the subset of Redis's DEBUG subcommands that make sense here
 * (SLEEP, SET-ACTIVE-EXPIRE, DIGEST, DIGEST-VALUE, OBJECT, LOG, ERROR,
 * POPULATE, CHANGE-REPL-ID, HTSTATS, HTSTATS-KEY, HELP). Other modules add theirs with
 * `registerDebugSubcommand` (e.g. persistence's RELOAD).
 *
 * Like Redis 7.0, DEBUG is refused unless `enable-debug-command` is "yes",
 * or "local" and the client is local; the dispatch gate does that check
 * (CommandSpec.protectedBy), so tests start the server with
 * `enable-debug-command: 'yes'` (or 'local').
 */
import { randomBytes } from 'node:crypto';
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from './session.js';
import { CommandError } from '../errors.js';
import { parseInt64, isIntegerEncodable } from '../numbers/parse.js';
import { datasetDigest, keyDigest } from '../keyspace/digest.js';
import { encodingOf, refcountOf } from '../keyspace/object-encoding.js';
import { idleMsFromLru } from '../keyspace/clock.js';
import type { AggregateKind, AggregateValue, Value } from '../keyspace/values.js';
import { MutableString } from '../keyspace/values.js';
import { parseMemory } from '../config/config-store.js';
import { setQuicklistPackedThreshold } from '../persistence/rdb-quicklist.js';
import { longArg } from '../commands/args.js';
import { databaseStatsText, valueStatsText } from './dict-stats.js';

export interface DebugSubcommand {
  /** Uppercase name as HELP shows it. */
  name: string;
  /** Allowed total argument counts (argv.length, "DEBUG" and the subcommand included). */
  minArgs: number;
  maxArgs: number;
  /** HELP lines: the usage line, then indented description lines. */
  help: readonly string[];
  handler: (s: Session, argv: string[]) => void;
}

const extra = new Map<string, DebugSubcommand>();

/** Add a DEBUG subcommand (listed in DEBUG HELP before HELP). */
export function registerDebugSubcommand(sub: DebugSubcommand): void {
  extra.set(sub.name.toLowerCase(), sub);
}

export interface DebugObjectInfo {
  /** Bytes the value takes in an RDB file. */
  serializedLength: number;
  /** Extra " name:value" fields appended to the DEBUG OBJECT line (lists: ql_nodes ...). */
  extra?: string;
}

const objectInfo = new Map<AggregateKind, (v: AggregateValue) => DebugObjectInfo>();

/** How DEBUG OBJECT describes an aggregate kind (its module registers this). */
export function registerDebugObjectInfo(kind: AggregateKind, fn: (v: AggregateValue) => DebugObjectInfo): void {
  objectInfo.set(kind, fn);
}

/** Size of an RDB length prefix. */
function rdbLenSize(n: number): number {
  return n < 64 ? 1 : n < 16384 ? 2 : n <= 0xffffffff ? 5 : 9;
}

/**
 * The RDB size of a string: integers that fit 8/16/32 bits are stored as
 * such (2, 3 or 5 bytes); anything else as length + bytes (uncompressed:
 * Redis may LZF-compress strings over 20 bytes, which we do not model).
 */
export function stringSerializedLength(v: string | MutableString): number {
  const len = typeof v === 'string' ? v.length : v.len;
  if (typeof v === 'string' && len <= 11 && isIntegerEncodable(v)) {
    const n = Number(v);
    if (n >= -128 && n <= 127) return 2;
    if (n >= -32768 && n <= 32767) return 3;
    if (n >= -2147483648 && n <= 2147483647) return 5;
  }
  return rdbLenSize(len) + len;
}

function describe(v: Value): DebugObjectInfo {
  if (typeof v === 'string' || v instanceof MutableString) return { serializedLength: stringSerializedLength(v) };
  const fn = objectInfo.get(v.kind);
  return fn ? fn(v) : { serializedLength: 0 };
}

/** A stable fake address for "Value at:". */
function fakeAddress(db: number, slot: number): string {
  return '0x7f' + (0x10000000 + db * 0x1000000 + slot * 0x40).toString(16).padStart(10, '0');
}

function debugObject(s: Session, argv: string[]): void {
  const db = s.db;
  // A debug command sees keys that are logically expired but not yet deleted.
  const slot = db.slotOf(argv[2]!);
  if (slot < 0) throw new CommandError('ERR no such key');
  const v = db.valueOf(slot);
  const cfg = s.engine.config;
  let enc: string;
  try {
    enc = encodingOf(v);
  } catch {
    enc = typeof v === 'string' ? 'raw' : (v as AggregateValue).kind;
  }
  const info = describe(v);
  const lru = db.metaOf(slot) & 0xffffff;
  const idle = Math.floor(idleMsFromLru(lru) / 1000);
  s.reply.simple(
    `Value at:${fakeAddress(db.id, slot)} refcount:${refcountOf(v, cfg.num('maxmemory'), cfg.str('maxmemory-policy'))} ` +
      `encoding:${enc} serializedlength:${info.serializedLength} lru:${lru} lru_seconds_idle:${idle}${info.extra ?? ''}`,
  );
}

function sleepSync(ms: number): void {
  if (!(ms > 0)) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** C's strtod/atoi leniency: the longest numeric prefix, 0 when there is none. */
function leadingNumber(s: string): number {
  const n = Number.parseFloat(s.trim());
  return Number.isFinite(n) ? n : 0;
}

function positiveArg(s: string): number {
  const n = parseInt64(s);
  if (n === null || n < 0n) throw new CommandError('ERR value is out of range, must be positive');
  return Number(n);
}

/** DEBUG POPULATE count [prefix] [size]: string keys prefix:N = "value:N" (padded/cut to size), existing keys kept. */
function populate(s: Session, argv: string[]): void {
  const count = positiveArg(argv[2]!);
  const prefix = argv[3] ?? 'key';
  const size = argv.length === 5 ? positiveArg(argv[4]!) : 0;
  const db = s.db;
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (db.has(key)) continue;
    let val = `value:${j}`;
    if (size > 0) val = val.length < size ? val + '\0'.repeat(size - val.length) : val.slice(0, size);
    db.set(key, val);
    // Not a replicated write (no dirty), but WATCH sees it.
    s.engine.keyModified(s.dbIndex, key, 0);
  }
  s.reply.ok();
}

/** DEBUG PROTOCOL <type>: a test value of each RESP3 type (RESP2 gets the downgraded forms). */
function protocol(s: Session, argv: string[]): void {
  const r = s.reply;
  const t = argv[2]!.toLowerCase();
  switch (t) {
    case 'string': return r.bulk('Hello World');
    case 'integer': return r.int(12345);
    case 'double': return r.double(3.141);
    case 'bignum': return r.bigNumber('1234567999999999999999999999999999999');
    case 'null': return r.nullBulk();
    case 'array':
    case 'set':
      if (t === 'array') r.arrayLen(3);
      else r.setLen(3);
      for (let i = 0; i < 3; i++) r.int(i);
      return;
    case 'map':
      r.mapLen(3);
      for (let i = 0; i < 3; i++) {
        r.int(i);
        r.bool(i === 1);
      }
      return;
    case 'attrib':
      if (r.resp === 3 && r.attributeLen !== undefined) {
        r.attributeLen(1);
        r.bulk('key-popularity');
        r.arrayLen(2);
        r.bulk('key:123');
        r.int(90);
      }
      return r.bulk('Some real reply following the attribute');
    case 'push':
      if (r.resp !== 3) throw new CommandError('ERR RESP2 is not supported by this command');
      r.pushLen(2);
      r.bulk('server-cpu-usage');
      r.int(42);
      return r.bulk('Some real reply following the push reply');
    case 'verbatim': return r.verbatim('This is a verbatim\nstring');
    case 'true': return r.bool(true);
    case 'false': return r.bool(false);
    default:
      throw new CommandError('ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false');
  }
}

const BUILTIN: DebugSubcommand[] = [
  {
    name: 'CHANGE-REPL-ID',
    minArgs: 2,
    maxArgs: 2,
    help: ['CHANGE-REPL-ID', '    Change the replication IDs of the instance.', '    Dangerous: should be used only for testing the replication subsystem.'],
    handler: (s) => {
      const e = s.engine;
      e.replId = randomBytes(20).toString('hex');
      e.replId2 = '0'.repeat(40);
      e.secondReplOffset = -1;
      e.log.warning('Changing replication IDs after receiving DEBUG change-repl-id');
      s.reply.ok();
    },
  },
  {
    name: 'DIGEST',
    minArgs: 2,
    maxArgs: 2,
    help: ['DIGEST', '    Output a hex signature representing the current DB content.'],
    handler: (s) => s.reply.simple(datasetDigest(s.engine.dbs)),
  },
  {
    name: 'DIGEST-VALUE',
    minArgs: 2,
    maxArgs: Infinity,
    help: ['DIGEST-VALUE <key> [<key> ...]', '    Output a hex signature of the values of all the specified keys.'],
    handler: (s, argv) => {
      s.reply.arrayLen(argv.length - 2);
      for (let i = 2; i < argv.length; i++) s.reply.simple(keyDigest(s.db, argv[i]!));
    },
  },
  {
    name: 'ERROR',
    minArgs: 3,
    maxArgs: 3,
    help: ['ERROR <string>', '    Return a Redis protocol error with <string> as message. Useful for clients', '    unit tests to simulate Redis errors.'],
    handler: (_s, argv) => {
      throw new CommandError(argv[2]!);
    },
  },
  {
    name: 'HTSTATS',
    minArgs: 3,
    maxArgs: 3,
    help: ['HTSTATS <dbid>', '    Return hash table statistics of the specified Redis database.'],
    handler: (s, argv) => {
      const id = longArg(argv[2]!);
      const db = s.engine.dbs[id];
      if (id < 0 || db === undefined) throw new CommandError('ERR Out of range database');
      s.reply.verbatim(databaseStatsText(db));
    },
  },
  {
    name: 'HTSTATS-KEY',
    minArgs: 3,
    maxArgs: 3,
    help: ['HTSTATS-KEY <key>', "    Like HTSTATS but for the hash table stored at <key>'s value."],
    handler: (s, argv) => {
      const v = s.db.peek(argv[2]!);
      if (v === undefined) throw new CommandError('ERR no such key');
      const text = valueStatsText(v);
      if (text === null) throw new CommandError('ERR The value stored at the specified key is not represented using an hash table');
      s.reply.verbatim(text);
    },
  },
  {
    name: 'LOG',
    minArgs: 3,
    maxArgs: 3,
    help: ['LOG <message>', '    Write <message> to the server log.'],
    handler: (s, argv) => {
      s.engine.log.warning(`DEBUG LOG: ${argv[2]}`);
      s.reply.ok();
    },
  },
  {
    name: 'OBJECT',
    minArgs: 3,
    maxArgs: 3,
    help: ['OBJECT <key>', '    Show low level info about `key` and associated value.'],
    handler: debugObject,
  },
  {
    name: 'PAUSE-CRON',
    minArgs: 3,
    maxArgs: 3,
    help: ['PAUSE-CRON <0|1>', '    Stop periodic cron job processing.'],
    handler: (s, argv) => {
      s.engine.cronPaused = Math.trunc(leadingNumber(argv[2]!)) !== 0;
      s.reply.ok();
    },
  },
  {
    name: 'POPULATE',
    minArgs: 3,
    maxArgs: 5,
    help: [
      'POPULATE <count> [<prefix>] [<size>]',
      '    Create <count> string keys named key:<num>. If <prefix> is specified then',
      "    it is used instead of the 'key' prefix. These are not propagated to",
      '    replicas. Cluster slots are not respected so keys not belonging to the',
      '    current node can be created in cluster mode.',
    ],
    handler: populate,
  },
  {
    name: 'PROTOCOL',
    minArgs: 3,
    maxArgs: 3,
    help: [
      'PROTOCOL <type>',
      '    Reply with a test value of the specified type. <type> can be: string,',
      '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
      '    true, false.',
    ],
    handler: protocol,
  },
  {
    name: 'QUICKLIST-PACKED-THRESHOLD',
    minArgs: 3,
    maxArgs: 3,
    help: ['QUICKLIST-PACKED-THRESHOLD <size>', '    Sets the threshold for elements to be inserted as plain vs packed nodes', "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default."],
    handler: (s, argv) => {
      // cacheside's lists have no nodes in memory: the threshold shapes the quicklist nodes of RDB / DUMP payloads.
      const n = parseMemory(argv[2]!);
      if (n === null || !setQuicklistPackedThreshold(n)) throw new CommandError('ERR argument must be a memory value bigger than 1 and smaller than 4gb');
      s.reply.ok();
    },
  },
  {
    name: 'SET-ACTIVE-EXPIRE',
    minArgs: 3,
    maxArgs: 3,
    help: [
      'SET-ACTIVE-EXPIRE <0|1>',
      '    Setting it to 0 disables expiring keys in background when they are not',
      '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
      '    default.',
    ],
    handler: (s, argv) => {
      s.engine.activeExpireEnabled = Math.trunc(leadingNumber(argv[2]!)) !== 0;
      s.reply.ok();
    },
  },
  {
    name: 'SLEEP',
    minArgs: 3,
    maxArgs: 3,
    help: ['SLEEP <seconds>', '    Stop the server for <seconds>. Decimals allowed.'],
    handler: (s, argv) => {
      sleepSync(leadingNumber(argv[2]!) * 1000);
      s.reply.ok();
    },
  },
];

const builtins = new Map(BUILTIN.map((d) => [d.name.toLowerCase(), d]));

function helpLines(): string[] {
  const lines = ['DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:'];
  const all = [...BUILTIN, ...extra.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of all) lines.push(...d.help);
  lines.push('HELP', '    Prints this help.');
  return lines;
}

function debug(s: Session, argv: string[]): void {
  const name = argv[1]!.toLowerCase();
  if (name === 'help' && argv.length === 2) {
    const lines = helpLines();
    s.reply.arrayLen(lines.length);
    for (const l of lines) s.reply.simple(l);
    return;
  }
  const sub = builtins.get(name) ?? extra.get(name);
  if (sub === undefined || argv.length < sub.minArgs || argv.length > sub.maxArgs) {
    throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try DEBUG HELP.`);
  }
  sub.handler(s, argv);
}

export const debugCommands: CommandSpec[] = [
  {
    name: 'debug',
    arity: -2,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    group: 'server',
    protectedBy: 'enable-debug-command',
    summary: 'A container for debugging commands',
    since: '1.0.0',
    complexity: 'Depends on subcommand.',
    handler: debug,
  },
];
