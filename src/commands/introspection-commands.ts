/**
 * COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS,
 * GETKEYSANDFLAGS, HELP), generated from the command table in Redis 7.0's
 * reply shapes: flags and ACL categories in Redis's canonical order, key
 * specs (given by a CommandSpec or derived from its legacy key positions),
 * subcommands nested as `container|sub` entries.
 */
import { aclCategories, type Command, type CommandSpec, type KeySpec } from './command-table.js';
import type { Session } from '../server/session.js';
import type { Reply } from '../protocol/reply.js';
import { CommandError, Err } from '../errors.js';
import { is } from './args.js';
import { globMatch } from '../keyspace/glob.js';
import { replyHelp } from '../server/client-commands.js';

/** The order in which Redis lists command flags. */
const FLAG_ORDER = [
  'write',
  'readonly',
  'denyoom',
  'admin',
  'pubsub',
  'noscript',
  'blocking',
  'loading',
  'stale',
  'skip_monitor',
  'skip_slowlog',
  'fast',
  'no_auth',
  // may_replicate is not shown (Redis 7.0 hides it on purpose)
  'no_mandatory_keys',
  'no_async_loading',
  'no_multi',
  'movablekeys',
  'allow_busy',
] as const;

/** The ACL categories in Redis's order (ACL CAT, COMMAND INFO). */
export const ACL_CATEGORIES = [
  'keyspace',
  'read',
  'write',
  'set',
  'sortedset',
  'list',
  'hash',
  'string',
  'bitmap',
  'hyperloglog',
  'geo',
  'stream',
  'pubsub',
  'admin',
  'fast',
  'slow',
  'blocking',
  'dangerous',
  'connection',
  'transaction',
  'scripting',
] as const;

/** The order in which Redis lists ACL categories. */
const CATEGORY_ORDER = ACL_CATEGORIES.map((c) => '@' + c);

function isMovable(c: Command): boolean {
  return c.getKeys !== undefined || c.flags.includes('movablekeys');
}

/** Command flags as COMMAND INFO lists them. */
export function commandFlags(c: Command): string[] {
  const out: string[] = [];
  for (const f of FLAG_ORDER) {
    if (f === 'movablekeys' ? isMovable(c) : c.flags.includes(f)) out.push(f);
  }
  return out;
}

function categoryRank(cat: string): number {
  const i = CATEGORY_ORDER.indexOf(cat);
  return i < 0 ? CATEGORY_ORDER.length : i;
}

/** ACL categories in Redis's order. A pure container (no handler of its own) is only @slow. */
export function commandCategories(c: Command): string[] {
  const cats =
    c.handler === undefined && c.sub !== null
      ? ['@slow', ...(c.acl ?? []).map((a) => '@' + a)]
      : aclCategories(c);
  return [...new Set(cats)].sort((a, b) => categoryRank(a) - categoryRank(b));
}

/** The key specs of a command: its own, or one derived from its legacy (first, last, step). */
export function keySpecsOf(c: CommandSpec): readonly KeySpec[] {
  if (c.keySpecs !== undefined) return c.keySpecs;
  if (c.keys === undefined || c.keys[0] <= 0) return [];
  const [first, last, step] = c.keys;
  const flags = c.flags.includes('write') ? ['RW', 'update'] : c.flags.includes('readonly') ? ['RO', 'access'] : ['RO'];
  return [{ flags, begin: { index: first }, find: { range: [last < 0 ? last : last - first, step, 0] } }];
}

function hasKeys(c: Command): boolean {
  return c.getKeys !== undefined || (c.keys !== undefined && c.keys[0] > 0) || keySpecsOf(c).length > 0;
}

/** The argv indexes a key spec selects in one invocation. */
export function keySpecIndexes(ks: KeySpec, argv: readonly string[]): number[] {
  const argc = argv.length;
  let start = -1;
  if ('unknown' in ks.begin || 'unknown' in ks.find) return ks.resolve?.(argv) ?? [];
  if ('index' in ks.begin) start = ks.begin.index;
  else {
    const { keyword, startfrom } = ks.begin;
    const kw = keyword.toUpperCase();
    if (startfrom >= 0) {
      for (let i = startfrom; i < argc; i++) if (is(argv[i], kw)) {
        start = i + 1;
        break;
      }
    } else {
      for (let i = argc + startfrom; i > 0; i--) if (is(argv[i], kw)) {
        start = i + 1;
        break;
      }
    }
  }
  if (start <= 0 || start >= argc) return [];
  const out: number[] = [];
  if ('range' in ks.find) {
    const [lastkey, step, limit] = ks.find.range;
    let last: number;
    if (lastkey >= 0) last = start + lastkey;
    else if (limit <= 1) last = argc + lastkey;
    else last = start + Math.floor((argc - start) / limit) - 1;
    for (let i = start; i <= last && i < argc; i += Math.max(1, step)) out.push(i);
  } else {
    const [numIdx, firstKey, step] = ks.find.keynum;
    const n = Number.parseInt(argv[start + numIdx] ?? '', 10);
    // Redis takes a count running past the arguments for a syntax error: no keys.
    if (!Number.isFinite(n) || n <= 0 || start + firstKey + n - 1 >= argc) return [];
    for (let k = 0, i = start + firstKey; k < n && i < argc; k++, i += Math.max(1, step)) out.push(i);
  }
  return out;
}

// ---- COMMAND INFO ------------------------------------------------------------------

function writeKeySpec(r: Reply, ks: KeySpec): void {
  r.mapLen(ks.notes !== undefined ? 4 : 3);
  if (ks.notes !== undefined) {
    r.bulk('notes');
    r.bulk(ks.notes);
  }
  r.bulk('flags');
  r.setLen(ks.flags.length);
  for (const f of ks.flags) r.simple(f);
  r.bulk('begin_search');
  r.mapLen(2);
  r.bulk('type');
  if ('unknown' in ks.begin) {
    r.bulk('unknown');
    r.bulk('spec');
    r.mapLen(0);
  } else if ('index' in ks.begin) {
    r.bulk('index');
    r.bulk('spec');
    r.mapLen(1);
    r.bulk('index');
    r.int(ks.begin.index);
  } else {
    r.bulk('keyword');
    r.bulk('spec');
    r.mapLen(2);
    r.bulk('keyword');
    r.bulk(ks.begin.keyword);
    r.bulk('startfrom');
    r.int(ks.begin.startfrom);
  }
  r.bulk('find_keys');
  r.mapLen(2);
  r.bulk('type');
  if ('unknown' in ks.find) {
    r.bulk('unknown');
    r.bulk('spec');
    r.mapLen(0);
  } else if ('range' in ks.find) {
    const [lastkey, keystep, limit] = ks.find.range;
    r.bulk('range');
    r.bulk('spec');
    r.mapLen(3);
    r.bulk('lastkey');
    r.int(lastkey);
    r.bulk('keystep');
    r.int(keystep);
    r.bulk('limit');
    r.int(limit);
  } else {
    const [keynumidx, firstkey, keystep] = ks.find.keynum;
    r.bulk('keynum');
    r.bulk('spec');
    r.mapLen(3);
    r.bulk('keynumidx');
    r.int(keynumidx);
    r.bulk('firstkey');
    r.int(firstkey);
    r.bulk('keystep');
    r.int(keystep);
  }
}

/** One COMMAND INFO entry: name, arity, flags, first/last/step, categories, tips, key specs, subcommands. */
function writeInfo(r: Reply, c: Command): void {
  r.arrayLen(10);
  r.bulk(c.fullName);
  r.int(c.arity);
  const flags = commandFlags(c);
  r.setLen(flags.length);
  for (const f of flags) r.simple(f);
  const [first, last, step] = c.keys ?? [0, 0, 0];
  r.int(first);
  r.int(last);
  r.int(step);
  const cats = commandCategories(c);
  r.setLen(cats.length);
  for (const cat of cats) r.simple(cat);
  const tips = c.tips ?? [];
  r.setLen(tips.length);
  for (const t of tips) r.bulk(t);
  const specs = keySpecsOf(c);
  r.setLen(specs.length);
  for (const ks of specs) writeKeySpec(r, ks);
  const subs = c.sub === null ? [] : [...c.sub.values()];
  r.setLen(subs.length);
  for (const sc of subs) writeInfo(r, sc);
}

/** "get", "config|get" (any case) → the command; null for anything else. */
function lookupByFullName(s: Session, name: string): Command | null {
  const parts = name.split('|');
  if (parts.length > 2) return null;
  const c = s.engine.commands.get(parts[0]!);
  if (c === undefined) return null;
  if (parts.length === 1) return c;
  return c.sub?.get(parts[1]!.toLowerCase()) ?? null;
}

function topLevel(s: Session): Command[] {
  return [...s.engine.commands.commands.values()];
}

/** COMMAND, and COMMAND INFO [name ...] */
function commandInfo(s: Session, argv: string[]): void {
  const r = s.reply;
  if (argv.length <= 2) {
    const all = topLevel(s);
    r.arrayLen(all.length);
    for (const c of all) writeInfo(r, c);
    return;
  }
  r.arrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const c = lookupByFullName(s, argv[i]!);
    if (c === null) r.nullBulk();
    else writeInfo(r, c);
  }
}

// ---- COMMAND DOCS ------------------------------------------------------------------

function writeDocs(r: Reply, c: Command): void {
  const subs = c.sub === null ? [] : [...c.sub.values()];
  r.mapLen(3 + (c.complexity !== undefined ? 1 : 0) + (subs.length > 0 ? 1 : 0));
  r.bulk('summary');
  r.bulk(c.summary);
  r.bulk('since');
  r.bulk(c.since);
  r.bulk('group');
  r.bulk(c.group);
  if (c.complexity !== undefined) {
    r.bulk('complexity');
    r.bulk(c.complexity);
  }
  if (subs.length > 0) {
    r.bulk('subcommands');
    r.mapLen(subs.length);
    for (const sc of subs) {
      r.bulk(sc.fullName);
      writeDocs(r, sc);
    }
  }
}

/** COMMAND DOCS [name ...]: name → docs (a flat array in RESP2); unknown names are left out. */
function commandDocs(s: Session, argv: string[]): void {
  let found: Command[];
  if (argv.length === 2) found = topLevel(s);
  else {
    found = [];
    for (let i = 2; i < argv.length; i++) {
      const c = lookupByFullName(s, argv[i]!);
      if (c !== null) found.push(c);
    }
  }
  const r = s.reply;
  r.mapLen(found.length);
  for (const c of found) {
    r.bulk(c.fullName);
    writeDocs(r, c);
  }
}

// ---- COMMAND LIST / COUNT ------------------------------------------------------------

/** COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern] */
function commandList(s: Session, argv: string[]): void {
  let filter: (c: Command) => boolean = () => true;
  if (argv.length === 5 && is(argv[2], 'FILTERBY')) {
    const v = argv[4]!;
    if (is(argv[3], 'MODULE')) filter = () => false; // no modules are loaded
    else if (is(argv[3], 'ACLCAT')) {
      const cat = '@' + v.toLowerCase();
      filter = (c) => commandCategories(c).includes(cat);
    } else if (is(argv[3], 'PATTERN')) filter = (c) => globMatch(v, c.fullName, true);
    else throw new CommandError(Err.syntax);
  } else if (argv.length !== 2) throw new CommandError(Err.syntax);
  const names: string[] = [];
  for (const [name, c] of s.engine.commands.commands) {
    if (filter(c)) names.push(name);
    if (c.sub !== null) for (const sc of c.sub.values()) if (filter(sc)) names.push(sc.fullName);
  }
  s.reply.bulkArray(names);
}

// ---- COMMAND GETKEYS / GETKEYSANDFLAGS ---------------------------------------------------

/** Resolve the command of a COMMAND GETKEYS invocation and its key indexes, with Redis's errors. */
function keysOf(s: Session, target: string[]): { cmd: Command; indexes: number[] } {
  let cmd = s.engine.commands.get(target[0]!);
  if (cmd !== undefined && cmd.sub !== null) cmd = cmd.sub.get(target[1]!.toLowerCase());
  if (cmd === undefined) throw new CommandError('ERR Invalid command specified');
  if (!hasKeys(cmd)) throw new CommandError('ERR The command has no key arguments');
  const a = cmd.arity;
  if ((a > 0 && target.length !== a) || target.length < -a) {
    throw new CommandError('ERR Invalid number of arguments specified for command');
  }
  let indexes: number[];
  try {
    indexes = s.engine.commands.keyIndexes(cmd, target);
    if (indexes.length === 0 && cmd.getKeys === undefined && cmd.keySpecs !== undefined) {
      indexes = [...new Set(cmd.keySpecs.flatMap((ks) => keySpecIndexes(ks, target)))].sort((x, y) => x - y);
    }
  } catch {
    indexes = [];
  }
  indexes = indexes.filter((i) => i > 0 && i < target.length);
  if (indexes.length === 0 && !cmd.flags.includes('no_mandatory_keys')) {
    throw new CommandError('ERR Invalid arguments specified for command');
  }
  return { cmd, indexes };
}

function commandGetKeys(s: Session, argv: string[]): void {
  const target = argv.slice(2);
  const { indexes } = keysOf(s, target);
  s.reply.arrayLen(indexes.length);
  for (const i of indexes) s.reply.bulk(target[i]!);
}

/**
 * The key flags of the commands whose key spec says variable_flags, as this
 * invocation uses the key: SET writes it blindly unless GET reads it first;
 * BITFIELD with only GET (and OVERFLOW) subcommands only reads it.
 */
export function variableKeyFlags(name: string, argv: string[]): readonly string[] | null {
  if (name === 'set') {
    for (let i = 3; i < argv.length; i++) if (is(argv[i], 'GET')) return ['RW', 'access', 'update'];
    return ['OW', 'update'];
  }
  if (name === 'bitfield') {
    for (let i = 2; i < argv.length; i++) {
      const more = argv.length - i - 1;
      if (is(argv[i], 'GET') && more >= 2) i += 2;
      else if (is(argv[i], 'OVERFLOW') && more >= 1) i += 1;
      else return ['RW', 'access', 'update'];
    }
    return ['RO', 'access'];
  }
  return null;
}

function commandGetKeysAndFlags(s: Session, argv: string[]): void {
  const target = argv.slice(2);
  const { cmd, indexes } = keysOf(s, target);
  const specs = keySpecsOf(cmd);
  const perSpec = specs.map((ks) => new Set(keySpecIndexes(ks, target)));
  const r = s.reply;
  r.arrayLen(indexes.length);
  for (const i of indexes) {
    const k = perSpec.findIndex((set) => set.has(i));
    const spec = specs[k < 0 ? 0 : k];
    const flags = (spec?.flags.includes('variable_flags') ? variableKeyFlags(cmd.name, target) : null) ?? spec?.flags ?? [];
    r.arrayLen(2);
    r.bulk(target[i]!);
    r.setLen(flags.length);
    for (const f of flags) r.simple(f);
  }
}

const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
  'HELP',
  '    Prints this help.',
];

const cmdGroup = { group: 'server', acl: ['connection'], flags: ['loading', 'stale'] } as const;
const orderTip = ['nondeterministic_output_order'] as const;

export const introspectionCommands: CommandSpec[] = [
  {
    name: 'command',
    arity: -1,
    ...cmdGroup,
    tips: orderTip,
    summary: 'Get array of Redis command details',
    since: '2.8.13',
    complexity: 'O(N) where N is the total number of Redis commands',
    handler: commandInfo,
    subcommands: [
      { name: 'count', arity: 2, ...cmdGroup, summary: 'Get total number of Redis commands', since: '2.8.13', complexity: 'O(1)', handler: (s) => s.reply.int(s.engine.commands.commands.size) },
      { name: 'info', arity: -2, ...cmdGroup, tips: orderTip, summary: 'Get array of specific Redis command details, or all when no argument is given.', since: '2.8.13', complexity: 'O(N) where N is the number of commands to look up', handler: commandInfo },
      { name: 'docs', arity: -2, ...cmdGroup, tips: orderTip, summary: 'Get array of specific Redis command documentation', since: '7.0.0', complexity: 'O(N) where N is the number of commands to look up', handler: commandDocs },
      { name: 'list', arity: -2, ...cmdGroup, tips: orderTip, summary: 'Get an array of Redis command names', since: '7.0.0', complexity: 'O(N) where N is the total number of Redis commands', handler: commandList },
      { name: 'getkeys', arity: -4, ...cmdGroup, summary: 'Extract keys given a full Redis command', since: '2.8.13', complexity: 'O(N) where N is the number of arguments to the command', handler: commandGetKeys },
      { name: 'getkeysandflags', arity: -4, ...cmdGroup, summary: 'Extract keys and access flags given a full Redis command', since: '7.0.0', complexity: 'O(N) where N is the number of arguments to the command', handler: commandGetKeysAndFlags },
      { name: 'help', arity: 2, ...cmdGroup, summary: 'Show helpful text about the different subcommands', since: '5.0.0', complexity: 'O(1)', handler: (s) => replyHelp(s, COMMAND_HELP) },
    ],
  },
];
