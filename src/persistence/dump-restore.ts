/**
 * DUMP, RESTORE and MIGRATE: moving single values in Redis's DUMP payload
 * format (type byte, RDB-encoded value, 2-byte RDB version, CRC-64), so
 * that payloads cross between cacheside and Redis in both directions.
 *
 * MIGRATE sends RESTORE commands to the target over a cached connection
 * (migrate-client.ts). Redis blocks while it does; here the client waits
 * for its reply while the server goes on serving others, so the source keys
 * are deleted after the target acknowledged them only if they still hold
 * the value that was sent. Inside EXEC (and for in-process clients) the
 * exchange runs synchronously, as in Redis.
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import type { Value } from '../keyspace/values.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { now } from '../keyspace/clock.js';
import { lookupRead } from '../keyspace/lookup.js';
import { HashValue } from '../hash/hash-value.js';
import { expireFieldsOnAccess } from '../hash/field-expiry.js';
import { suspend } from '../server/server-commands.js';
import { createDumpPayload, encodeOptionsFromConfig } from './rdb-encoder.js';
import { decodeValuePayload, rdbLimitsFromConfig, verifyDumpPayload } from './rdb-decoder.js';
import { RdbError, redisErrorReason } from './rdb-format.js';
import { applyAccessMeta } from './rdb-access-meta.js';
import { closeMigrateConnections, exchange, exchangeSync, migrateCachedSockets, type ExchangeResult } from './migrate-client.js';
import { extendInfoSection } from '../server/info.js';
import type { Engine } from '../server/engine.js';

/** Engines where DEBUG SET-SKIP-CHECKSUM-VALIDATION 1 is in effect (RESTORE accepts any CRC). */
const skipChecksum = new WeakSet<Engine>();

export function setSkipChecksumValidation(e: Engine, on: boolean): void {
  if (on) skipChecksum.add(e);
  else skipChecksum.delete(e);
}

/** Read lookup for DUMP/MIGRATE; a hash first loses its expired fields (and may vanish). */
function readForDump(s: Session, key: string): Value | undefined {
  const v = lookupRead(s, key);
  if (v instanceof HashValue && !expireFieldsOnAccess(s, key, v)) return undefined;
  return v;
}

function dumpOf(s: Session, v: Value): Buffer {
  return createDumpPayload(v, encodeOptionsFromConfig(s.engine.config));
}

// ---- DUMP ------------------------------------------------------------------------

function dump(s: Session, argv: string[]): void {
  const v = readForDump(s, argv[1]!);
  if (v === undefined) s.reply.nullBulk();
  else s.reply.bulkBytes(dumpOf(s, v));
}

// ---- RESTORE -----------------------------------------------------------------------

/** RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
function restore(s: Session, argv: string[]): void {
  const key = argv[1]!;
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let i = 4; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const a = argv[i]!;
    if (is(a, 'REPLACE')) replace = true;
    else if (is(a, 'ABSTTL')) absttl = true;
    else if (is(a, 'IDLETIME') && more >= 1 && freq === -1) {
      idle = longArg(argv[++i]!);
      if (idle < 0) throw new CommandError('ERR Invalid IDLETIME value, must be >= 0');
    } else if (is(a, 'FREQ') && more >= 1 && idle === -1) {
      freq = longArg(argv[++i]!);
      if (freq < 0 || freq > 255) throw new CommandError('ERR Invalid FREQ value, must be >= 0 and <= 255');
    } else throw new CommandError(Err.syntax);
  }
  const db = s.db;
  if (!replace && db.has(key)) throw new CommandError('BUSYKEY Target key name already exists.');
  let ttl = longArg(argv[2]!);
  if (ttl < 0) throw new CommandError('ERR Invalid TTL value, must be >= 0');
  const payload = Buffer.from(argv[3]!, 'latin1');
  if (verifyDumpPayload(payload, undefined, skipChecksum.has(s.engine)) < 0) throw new CommandError('ERR DUMP payload version or checksum are wrong');
  let value: Value;
  try {
    value = decodeValuePayload(payload, rdbLimitsFromConfig(s.engine.config));
  } catch (e) {
    if (e instanceof RdbError) {
      // Redis logs what its loader found (verbose level in a RESTORE).
      s.engine.log.verbose(`Internal error in RDB reading offset 0, function at rdb.c:0 -> ${redisErrorReason(e)}`);
      throw new CommandError('ERR Bad data format');
    }
    throw e;
  }
  const e = s.engine;
  const deleted = replace && db.delete(key);
  if (ttl !== 0 && !absttl) ttl += now();
  if (ttl !== 0 && ttl <= now() && e.role === 'master' && !e.loading) {
    // Already expired: nothing is created; an overwritten key is just deleted.
    if (deleted) {
      s.rewriteAs([e.config.bool('lazyfree-lazy-server-del') ? 'UNLINK' : 'DEL', key]);
      s.wrote('g', 'del', key);
    }
    s.reply.ok();
    return;
  }
  db.set(key, value);
  if (ttl !== 0) {
    db.setExpire(key, ttl);
    if (!absttl) s.rewriteAs([...argv.slice(0, 2), String(ttl), ...argv.slice(3), 'ABSTTL']);
  }
  applyAccessMeta(db, key, e.config.str('maxmemory-policy'), { lruIdleSec: idle, lfuFreq: freq });
  e.blocking.signalKeyReady(s.dbIndex, key);
  s.wrote('g', 'restore', key);
  s.reply.ok();
}

// ---- MIGRATE -----------------------------------------------------------------------

function bulk(parts: Buffer[], arg: string | Buffer): void {
  const b = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
  parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
}

function command(parts: Buffer[], args: (string | Buffer)[]): void {
  parts.push(Buffer.from(`*${args.length}\r\n`, 'latin1'));
  for (const a of args) bulk(parts, a);
}

/** A late error reply (after asynchronous work), counted in errorstats like the gate's. */
function replyError(s: Session, message: string): void {
  const sp = message.indexOf(' ');
  s.engine.countError(sp < 0 ? message : message.slice(0, sp));
  s.reply.error(message);
}

const MIGRATE_IO = (stage: 'connect' | 'write' | 'read'): string =>
  stage === 'connect' ? 'IOERR error or timeout connecting to the client' : `IOERR error or timeout ${stage === 'write' ? 'writing' : 'reading'} to target instance`;

/**
 * MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 *         [AUTH password] [AUTH2 username password] [KEYS key [key ...]]
 */
function migrate(s: Session, argv: string[]): void {
  let copy = false;
  let replace = false;
  let password: string | null = null;
  let username: string | null = null;
  let first = 3;
  let count = 1;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const a = argv[j]!;
    if (is(a, 'COPY')) copy = true;
    else if (is(a, 'REPLACE')) replace = true;
    else if (is(a, 'AUTH')) {
      if (more < 1) throw new CommandError(Err.syntax);
      password = argv[++j]!;
    } else if (is(a, 'AUTH2')) {
      if (more < 2) throw new CommandError(Err.syntax);
      username = argv[++j]!;
      password = argv[++j]!;
    } else if (is(a, 'KEYS')) {
      if (argv[3] !== '') throw new CommandError('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      first = j + 1;
      count = argv.length - j - 1;
      break;
    } else throw new CommandError(Err.syntax);
  }
  let timeout = longArg(argv[5]!);
  const dbid = longArg(argv[4]!);
  if (timeout <= 0) timeout = 1000;
  const host = argv[1]!;
  const port = Number.parseInt(argv[2]!, 10) || 0; // atoi(), as Redis reads it

  const keys: string[] = [];
  const values: Value[] = [];
  for (let j = 0; j < count; j++) {
    const v = readForDump(s, argv[first + j]!);
    if (v === undefined) continue;
    keys.push(argv[first + j]!);
    values.push(v);
  }
  if (keys.length === 0) {
    s.reply.simple('NOKEY');
    return;
  }

  // Serialize now: the payloads are the values at the time of the command.
  const db = s.db;
  const dbIndex = s.dbIndex;
  const sent: { key: string; value: Value; ttl: number; payload: Buffer }[] = [];
  for (let j = 0; j < keys.length; j++) {
    const at = db.getExpire(keys[j]!);
    let ttl = 0;
    if (at > 0) {
      ttl = at - Date.now();
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    sent.push({ key: keys[j]!, value: values[j]!, ttl, payload: dumpOf(s, values[j]!) });
  }
  let lastSelect = true;
  const build = (needSelect: boolean) => {
    const parts: Buffer[] = [];
    if (password !== null) command(parts, username !== null ? ['AUTH', username, password] : ['AUTH', password]);
    if (needSelect) command(parts, ['SELECT', String(dbid)]);
    for (const k of sent) {
      const args: (string | Buffer)[] = ['RESTORE', k.key, String(k.ttl), k.payload];
      if (replace) args.push('REPLACE');
      command(parts, args);
    }
    const expected = (password !== null ? 1 : 0) + (needSelect ? 1 : 0) + sent.length;
    lastSelect = needSelect;
    return { data: Buffer.concat(parts), expected };
  };

  /** Apply the target's replies: delete acknowledged keys (no COPY), then reply. */
  const complete = (r: ExchangeResult, write: (fn: () => void) => void): void => {
    const pre = (password !== null ? 1 : 0) + (lastSelect ? 1 : 0);
    const preError = r.lines.slice(0, pre).find((l) => l.startsWith('-'));
    let targetError: string | null = null;
    const acked: string[] = [];
    for (let j = 0; j < sent.length && pre + j < r.lines.length; j++) {
      const line = r.lines[pre + j]!;
      if (preError !== undefined || line.startsWith('-')) {
        targetError ??= (preError ?? line).slice(1);
        continue;
      }
      if (copy) continue;
      const k = sent[j]!;
      // Only if the key still holds what was sent (other clients ran meanwhile).
      const slot = db.slotOf(k.key);
      if (slot >= 0 && db.valueOf(slot) === k.value && db.delete(k.key)) {
        acked.push(k.key);
        s.engine.keyModified(dbIndex, k.key);
        s.engine.notify('g', 'del', k.key, dbIndex);
      }
    }
    if (targetError === null && preError !== undefined) targetError = preError.slice(1);
    if (acked.length > 0) s.engine.propagate(dbIndex, ['DEL', ...acked]);
    write(() => {
      if (targetError !== null) replyError(s, `ERR Target instance replied with error: ${targetError}`);
      else if (r.error !== null) replyError(s, MIGRATE_IO(r.error));
      else s.reply.ok();
    });
  };

  const finish = suspend(s);
  if (finish === null) {
    complete(exchangeSync(host, port, timeout, build), (fn) => fn());
    return;
  }
  exchange(migrateOwner(s), host, port, dbid, timeout, build).then(
    (r) => complete(r, finish),
    (err: Error) => finish(() => replyError(s, `ERR MIGRATE failed: ${err.message}`)),
  );
}

/** Engines whose cached MIGRATE connections close on SHUTDOWN. */
const hooked = new WeakSet<Engine>();

/** The owner of the MIGRATE connection cache a session uses: its engine. */
function migrateOwner(s: Session): Engine {
  const e = s.engine;
  if (!hooked.has(e)) {
    hooked.add(e);
    e.shutdownHooks.push(() => closeMigrateConnections(e));
  }
  return e;
}

extendInfoSection('stats', (e, f) => {
  f.set('migrate_cached_sockets', migrateCachedSockets(e));
});

// ---- command table ------------------------------------------------------------------

const spec = (flags: readonly string[], index: number): KeySpec => ({ flags, begin: { index }, find: { range: [0, 1, 0] } });

export const dumpRestoreCommands: CommandSpec[] = [
  {
    name: 'dump', arity: 2, flags: ['readonly'], group: 'generic', keys: [1, 1, 1], keySpecs: [spec(['RO', 'access'], 1)],
    tips: ['nondeterministic_output'],
    summary: 'Return a serialized version of the value stored at the specified key.', since: '2.6.0',
    complexity: 'O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).',
    handler: dump,
  },
  {
    name: 'restore', arity: -4, flags: ['write', 'denyoom'], group: 'generic', keys: [1, 1, 1], keySpecs: [spec(['OW', 'update'], 1)],
    acl: ['dangerous'],
    summary: 'Create a key using the provided serialized value, previously obtained using DUMP.', since: '2.6.0',
    complexity: 'O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).',
    handler: restore,
  },
  {
    name: 'migrate', arity: -6, flags: ['write', 'movablekeys'], group: 'generic', keys: [3, 3, 1],
    keySpecs: [
      spec(['RW', 'access', 'delete'], 3),
      { flags: ['RW', 'access', 'delete', 'incomplete'], begin: { keyword: 'KEYS', startfrom: -2 }, find: { range: [-1, 1, 0] } },
    ],
    getKeys: migrateKeys,
    acl: ['dangerous'], tips: ['nondeterministic_output'],
    summary: 'Atomically transfer a key from a Redis instance to another one.', since: '2.6.0',
    complexity: 'This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.',
    handler: migrate,
  },
];

/** Options before KEYS and how many arguments each takes (a password can read "KEYS"). */
const MIGRATE_OPTION_ARGS: ReadonlyMap<string, number> = new Map([['copy', 0], ['replace', 0], ['auth', 1], ['auth2', 2]]);

/**
 * MIGRATE's keys, as Redis's migrateGetKeys finds them: argv[3], or
 * everything after the KEYS option, none when both are given (a syntax
 * error MIGRATE reports). The arguments of AUTH / AUTH2 are skipped, so a
 * password or username "KEYS" is not the option.
 */
function migrateKeys(argv: string[]): number[] {
  for (let i = 6; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === 'keys') {
      if (argv[3] !== '') return [];
      const out: number[] = [];
      for (let j = i + 1; j < argv.length; j++) out.push(j);
      return out;
    }
    i += MIGRATE_OPTION_ARGS.get(opt) ?? 0;
  }
  return [3];
}
