/**
 * Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN,
 * RANDOMKEY, RENAME, RENAMENX, COPY, MOVE, TOUCH and OBJECT.
 * The expiry commands (EXPIRE family, TTL family, PERSIST) are in
 * expire-commands.ts.
 * Lookups follow Redis 7.0's lookup flags (see lookup.ts).
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import type { Keyspace } from './keyspace.js';
import { CommandError, Err } from '../errors.js';
import { cursorArg, is, longArg } from '../commands/args.js';
import { compileGlob, isLiteralPattern } from './glob.js';
import { idleMsFromLru, now } from './clock.js';
import { typeName, type Value } from './values.js';
import { copyValue } from './value-copy.js';
import { encodingOf, isLfuPolicy, lfuDecayedCounter, refcountOf } from './object-encoding.js';
import { lookupNoTouch, lookupRead } from './lookup.js';
import { expireCommands } from './expire-commands.js';
import { noteLazyFree } from './lazyfree.js';

const SAME_OBJECT = 'ERR source and destination objects are the same';

/** A database index argument parsed as a C int, as MOVE and COPY do. */
function dbIndexArg(s: Session, arg: string): Keyspace {
  const n = longArg(arg);
  if (n < -2147483648 || n > 2147483647) {
    throw new CommandError('ERR value is out of range, value must between -2147483648 and 2147483647');
  }
  const db = s.engine.dbs[n];
  if (n < 0 || db === undefined) throw new CommandError(Err.invalidDbIndex);
  return db;
}

/** Redis compares `*` before calling the matcher, so that `*` also matches the empty key. */
function keyMatcher(pattern: string): ((key: string) => boolean) | null {
  return pattern === '*' ? null : compileGlob(pattern);
}

// ---- DEL UNLINK EXISTS TYPE TOUCH --------------------------------------------

/** DEL / UNLINK (UNLINK, and DEL under lazyfree-lazy-user-del, count big values in lazyfreed_objects). */
function del(s: Session, argv: string[]): void {
  let n = 0;
  const lazy = argv[0]!.length === 6 || s.engine.config.bool('lazyfree-lazy-user-del');
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    const v = lazy ? s.db.peek(key) : undefined;
    if (s.db.delete(key)) {
      if (v !== undefined) noteLazyFree(s.engine, v);
      n++;
      s.wrote('g', 'del', key);
    }
  }
  s.reply.int(n);
}

function exists(s: Session, argv: string[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookupNoTouch(s, argv[i]!) !== undefined) n++;
  s.reply.int(n);
}

function type(s: Session, argv: string[]): void {
  const v = lookupNoTouch(s, argv[1]!);
  s.reply.simple(v === undefined ? 'none' : typeName(v));
}

function touch(s: Session, argv: string[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookupRead(s, argv[i]!) !== undefined) n++;
  s.reply.int(n);
}

// ---- KEYS SCAN RANDOMKEY ------------------------------------------------------

function keys(s: Session, argv: string[]): void {
  const pattern = argv[1]!;
  const db = s.db;
  const out: string[] = [];
  if (pattern !== '*' && isLiteralPattern(pattern)) {
    // Matches only itself: a direct lookup. Like KEYS, an expired key is
    // skipped without being deleted.
    const slot = db.slotOf(pattern);
    if (slot >= 0) {
      const exp = db.expireOf(slot);
      if (exp === 0 || exp > now()) out.push(pattern);
    }
  } else {
    const match = keyMatcher(pattern);
    db.forEachLive((key) => {
      if (match === null || match(key)) out.push(key);
    });
  }
  s.reply.bulkArray(out);
}

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
function scan(s: Session, argv: string[]): void {
  const cursor = cursorArg(argv[1]!);
  let count = 10;
  let pattern: string | null = null;
  let typeFilter: string | null = null;
  for (let i = 2; i < argv.length; i += 2) {
    const hasValue = i + 1 < argv.length;
    if (is(argv[i], 'COUNT') && hasValue) {
      count = longArg(argv[i + 1]!);
      if (count < 1) throw new CommandError(Err.syntax);
    } else if (is(argv[i], 'MATCH') && hasValue) {
      pattern = argv[i + 1]!;
    } else if (is(argv[i], 'TYPE') && hasValue) {
      typeFilter = argv[i + 1]!.toLowerCase();
    } else throw new CommandError(Err.syntax);
  }
  const match = pattern === null ? null : keyMatcher(pattern);
  const stats = s.engine.stats.keyspace;
  const out: string[] = [];
  const next = s.db.scan(cursor, count, (key, value) => {
    if (match !== null && !match(key)) return;
    if (typeFilter !== null) {
      // Redis looks the key up (counting a hit) to learn its type.
      stats.hits++;
      if (typeName(value) !== typeFilter) return;
    }
    out.push(key);
  });
  s.reply.arrayLen(2);
  s.reply.bulk(String(next));
  s.reply.bulkArray(out);
}

function randomkey(s: Session): void {
  s.reply.bulk(s.db.randomKey());
}

// ---- RENAME RENAMENX MOVE COPY ----------------------------------------------

/** Give the key at its new place the access metadata (LRU clock / LFU counter) it had. */
function carryMeta(db: Keyspace, key: string, meta: number): void {
  const slot = db.slotOf(key);
  if (slot >= 0) db.setMeta(slot, meta);
}

function renameGeneric(s: Session, argv: string[], nx: boolean): void {
  const from = argv[1]!;
  const to = argv[2]!;
  const db = s.db;
  const v = db.peek(from);
  if (v === undefined) throw new CommandError(Err.noSuchKey);
  if (from === to) {
    if (nx) s.reply.int(0);
    else s.reply.ok();
    return;
  }
  if (nx && db.has(to)) {
    s.reply.int(0);
    return;
  }
  const expire = db.getExpire(from);
  const meta = db.metaOf(db.slotOf(from));
  db.delete(to); // an overwritten destination is deleted, then added anew (a 'new' key event)
  db.set(to, v);
  if (expire > 0) db.setExpire(to, expire);
  db.delete(from);
  carryMeta(db, to, meta);
  s.engine.blocking.signalKeyReady(s.dbIndex, to);
  s.wrote('g', 'rename_from', from);
  s.wrote('g', 'rename_to', to, 0);
  if (nx) s.reply.int(1);
  else s.reply.ok();
}

function rename(s: Session, argv: string[]): void {
  renameGeneric(s, argv, false);
}

function renamenx(s: Session, argv: string[]): void {
  renameGeneric(s, argv, true);
}

/** MOVE key db */
function move(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const src = s.db;
  const dst = dbIndexArg(s, argv[2]!);
  if (dst === src) throw new CommandError(SAME_OBJECT);
  const v = src.peek(key);
  if (v === undefined || dst.has(key)) {
    s.reply.int(0);
    return;
  }
  const expire = src.getExpire(key);
  const meta = src.metaOf(src.slotOf(key));
  dst.set(key, v);
  if (expire > 0) dst.setExpire(key, expire);
  carryMeta(dst, key, meta);
  src.delete(key);
  s.engine.blocking.signalKeyReady(dst.id, key);
  s.wrote('g', 'move_from', key);
  s.engine.keyModified(dst.id, key, 0);
  s.engine.notify('g', 'move_to', key, dst.id);
  s.reply.int(1);
}

/** COPY source destination [DB destination-db] [REPLACE] */
function copy(s: Session, argv: string[]): void {
  const from = argv[1]!;
  const to = argv[2]!;
  let replace = false;
  const src = s.db;
  let dst = src;
  for (let i = 3; i < argv.length; i++) {
    if (is(argv[i], 'REPLACE')) replace = true;
    // The DB index is validated as soon as it is read, before any later option (as Redis does).
    else if (is(argv[i], 'DB') && i + 1 < argv.length) dst = dbIndexArg(s, argv[++i]!);
    else throw new CommandError(Err.syntax);
  }
  if (src === dst && from === to) throw new CommandError(SAME_OBJECT);
  const v = lookupRead(s, from);
  if (v === undefined) {
    s.reply.int(0);
    return;
  }
  if (!replace && dst.has(to)) {
    s.reply.int(0);
    return;
  }
  const expire = src.getExpire(from);
  if (replace) dst.delete(to);
  dst.set(to, copyValue(v));
  if (expire > 0) dst.setExpire(to, expire);
  s.engine.blocking.signalKeyReady(dst.id, to);
  s.engine.keyModified(dst.id, to);
  s.engine.notify('g', 'copy_to', to, dst.id);
  s.reply.int(1);
}

// ---- OBJECT -------------------------------------------------------------------

/** OBJECT's lookup: counts a hit/miss, no touch, no keymiss event; null reply when missing. */
function objectLookup(s: Session, key: string): Value | undefined {
  const v = lookupNoTouch(s, key, false);
  if (v === undefined) s.reply.nullBulk();
  return v;
}

function objectEncoding(s: Session, argv: string[]): void {
  const v = objectLookup(s, argv[2]!);
  if (v !== undefined) s.reply.bulk(encodingOf(v));
}

function objectRefcount(s: Session, argv: string[]): void {
  const v = objectLookup(s, argv[2]!);
  if (v === undefined) return;
  const c = s.engine.config;
  s.reply.int(refcountOf(v, c.num('maxmemory'), c.str('maxmemory-policy')));
}

function objectIdletime(s: Session, argv: string[]): void {
  const key = argv[2]!;
  if (objectLookup(s, key) === undefined) return;
  if (isLfuPolicy(s.engine.config.str('maxmemory-policy'))) {
    throw new CommandError(
      'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
    );
  }
  const meta = s.db.metaOf(s.db.slotOf(key));
  s.reply.int(Math.floor(idleMsFromLru(meta) / 1000));
}

function objectFreq(s: Session, argv: string[]): void {
  const key = argv[2]!;
  if (objectLookup(s, key) === undefined) return;
  const c = s.engine.config;
  if (!isLfuPolicy(c.str('maxmemory-policy'))) {
    throw new CommandError(
      'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
    );
  }
  const meta = s.db.metaOf(s.db.slotOf(key));
  s.reply.int(lfuDecayedCounter(meta, c.num('lfu-decay-time')));
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

function objectHelp(s: Session): void {
  s.reply.arrayLen(OBJECT_HELP.length);
  for (const line of OBJECT_HELP) s.reply.simple(line);
}

// ---- command table --------------------------------------------------------------

const generic = { group: 'generic' } as const;
/** Key spec helpers: a range of keys starting at argv[index] (lastkey relative to it, -1 = to the end). */
const spec = (flags: readonly string[], index: number, lastkey = 0): KeySpec => ({ flags, begin: { index }, find: { range: [lastkey, 1, 0] } });
const multiKey = ['request_policy:multi_shard', 'response_policy:agg_sum'] as const;
const objectSub = {
  arity: 3, flags: ['readonly'], ...generic, keys: [2, 2, 1], keySpecs: [spec(['RO'], 2)], tips: ['nondeterministic_output'],
  since: '2.2.3', complexity: 'O(1)',
} as const;

const genericKeyCommands: CommandSpec[] = [
  {
    name: 'del', arity: -2, flags: ['write'], ...generic, keys: [1, -1, 1], keySpecs: [spec(['RM', 'delete'], 1, -1)], tips: multiKey,
    summary: 'Delete a key', since: '1.0.0',
    complexity: 'O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).',
    handler: del,
  },
  {
    name: 'unlink', arity: -2, flags: ['write', 'fast'], ...generic, keys: [1, -1, 1], keySpecs: [spec(['RM', 'delete'], 1, -1)], tips: multiKey,
    summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.', since: '4.0.0',
    complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.',
    handler: del,
  },
  {
    name: 'exists', arity: -2, flags: ['readonly', 'fast'], ...generic, keys: [1, -1, 1], keySpecs: [spec(['RO'], 1, -1)], tips: multiKey,
    summary: 'Determine if a key exists', since: '1.0.0', complexity: 'O(N) where N is the number of keys to check.', handler: exists,
  },
  {
    name: 'type', arity: 2, flags: ['readonly', 'fast'], ...generic, keys: [1, 1, 1], keySpecs: [spec(['RO'], 1)],
    summary: 'Determine the type stored at key', since: '1.0.0', complexity: 'O(1)', handler: type,
  },
  {
    name: 'touch', arity: -2, flags: ['readonly', 'fast'], ...generic, keys: [1, -1, 1], keySpecs: [spec(['RO'], 1, -1)], tips: multiKey,
    summary: 'Alters the last access time of a key(s). Returns the number of existing keys specified.', since: '3.2.1',
    complexity: 'O(N) where N is the number of keys that will be touched.', handler: touch,
  },
  {
    name: 'keys', arity: 2, flags: ['readonly'], ...generic, acl: ['dangerous'], tips: ['request_policy:all_shards', 'nondeterministic_output_order'],
    summary: 'Find all keys matching the given pattern', since: '1.0.0',
    complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.',
    handler: keys,
  },
  {
    name: 'scan', arity: -2, flags: ['readonly'], ...generic, tips: ['nondeterministic_output', 'request_policy:special'],
    summary: 'Incrementally iterate the keys space', since: '2.8.0',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.',
    handler: scan,
  },
  {
    name: 'randomkey', arity: 1, flags: ['readonly'], ...generic, tips: ['request_policy:all_shards', 'nondeterministic_output'],
    summary: 'Return a random key from the keyspace', since: '1.0.0', complexity: 'O(1)', handler: randomkey,
  },
  {
    name: 'rename', arity: 3, flags: ['write'], ...generic, keys: [1, 2, 1], keySpecs: [spec(['RW', 'access', 'delete'], 1), spec(['OW', 'update'], 2)],
    summary: 'Rename a key', since: '1.0.0', complexity: 'O(1)', handler: rename,
  },
  {
    name: 'renamenx', arity: 3, flags: ['write', 'fast'], ...generic, keys: [1, 2, 1], keySpecs: [spec(['RW', 'access', 'delete'], 1), spec(['OW', 'insert'], 2)],
    summary: 'Rename a key, only if the new key does not exist', since: '1.0.0', complexity: 'O(1)', handler: renamenx,
  },
  {
    name: 'copy', arity: -3, flags: ['write', 'denyoom'], ...generic, keys: [1, 2, 1], keySpecs: [spec(['RO', 'access'], 1), spec(['OW', 'update'], 2)],
    summary: 'Copy a key', since: '6.2.0',
    complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.', handler: copy,
  },
  {
    name: 'move', arity: 3, flags: ['write', 'fast'], ...generic, keys: [1, 1, 1], keySpecs: [spec(['RW', 'access', 'update'], 1)],
    summary: 'Move a key to another database', since: '1.0.0', complexity: 'O(1)', handler: move,
  },
  {
    name: 'object', arity: -2, flags: [], ...generic, summary: 'A container for object introspection commands', since: '2.2.3', complexity: 'Depends on subcommand.',
    subcommands: [
      // in the order redis 7.0 lists them (COMMAND INFO / DOCS)
      { name: 'refcount', ...objectSub, summary: 'Get the number of references to the value of the key', handler: objectRefcount },
      { name: 'encoding', ...objectSub, summary: 'Inspect the internal encoding of a Redis object', handler: objectEncoding },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...generic, summary: 'Show helpful text about the different subcommands', since: '6.2.0', complexity: 'O(1)', handler: objectHelp },
      { name: 'freq', ...objectSub, summary: 'Get the logarithmic access frequency counter of a Redis object', since: '4.0.0', handler: objectFreq },
      { name: 'idletime', ...objectSub, summary: 'Get the time since a Redis object was last accessed', handler: objectIdletime },
    ],
  },
];

export const keyCommands: CommandSpec[] = [...genericKeyCommands, ...expireCommands];
