/**
 * The command table: one declarative entry per command. The dispatch gate
 * (server/dispatch.ts) checks arity, auth, OOM, MULTI queueing and READONLY
 * from these entries; COMMAND / COMMAND INFO / DOCS / COUNT / GETKEYS are
 * generated from them. Each data-type module keeps its entries at the bottom
 * of its commands file and exports them; commands/registry.ts collects them.
 */
import type { Session } from '../server/session.js';

export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'skip_monitor'
  | 'skip_slowlog'
  | 'fast'
  | 'no_auth'
  | 'may_replicate'
  | 'no_mandatory_keys'
  | 'allow_busy'
  | 'no_multi'
  | 'no_async_loading'
  | 'movablekeys'
  | 'sentinel'
  | 'only_sentinel';

export type CommandGroup =
  | 'generic'
  | 'string'
  | 'list'
  | 'set'
  | 'sorted-set'
  | 'hash'
  | 'pubsub'
  | 'transactions'
  | 'connection'
  | 'server'
  | 'scripting'
  | 'hyperloglog'
  | 'cluster'
  | 'geo'
  | 'stream'
  | 'bitmap';

export type Handler = (s: Session, argv: string[]) => void;

/**
 * A Redis 7 key specification (COMMAND INFO / GETKEYSANDFLAGS). Optional on a
 * CommandSpec: when absent, one is derived from `keys` (see
 * commands/introspection-commands.ts).
 */
export interface KeySpec {
  notes?: string;
  /** Key flags as Redis reports them: RO RW OW RM, access update insert delete, ... */
  flags: readonly string[];
  /** Where the search starts: an argv index, or after a keyword searched from `startfrom` (negative: from the end, backwards). */
  begin: { index: number } | { keyword: string; startfrom: number } | { unknown: true };
  /** Which keys follow: a range (lastkey relative to the start, negative from the end) or a key count argument. */
  find:
    | { range: readonly [lastkey: number, keystep: number, limit: number] }
    | { keynum: readonly [keynumidx: number, firstkey: number, keystep: number] }
    | { unknown: true };
  /** For an 'unknown' spec: the argv indexes it covers in one invocation, if they can be found (SORT's STORE). */
  resolve?: (argv: readonly string[]) => number[];
}

export interface CommandSpec {
  /** Lowercase name; for a subcommand, the subcommand alone ("get" under "config"). */
  name: string;
  /** Redis arity: positive = exact argument count (name included), negative = at least -arity. */
  arity: number;
  flags: readonly CommandFlag[];
  group: CommandGroup;
  summary: string;
  since: string;
  complexity?: string;
  /** Legacy key positions: first key, last key (negative counts from the end), step. */
  keys?: readonly [first: number, last: number, step: number];
  /** For commands whose keys move (movablekeys): the argv indexes of the keys. */
  getKeys?: (argv: string[]) => number[];
  /** Extra ACL categories beyond those derived from flags and group (e.g. 'dangerous'). */
  acl?: readonly string[];
  /** COMMAND INFO tips, e.g. 'nondeterministic_output', 'request_policy:all_shards'. */
  tips?: readonly string[];
  /** Exact key specs for COMMAND INFO; derived from `keys` when absent. */
  keySpecs?: readonly KeySpec[];
  /**
   * A protected command (DEBUG, MODULE): the gate refuses it unless this
   * config option is "yes", or "local" and the client is local.
   */
  protectedBy?: 'enable-debug-command' | 'enable-module-command';
  /** Handler; absent on a container command that only has subcommands. */
  handler?: Handler;
  subcommands?: readonly CommandSpec[];
}

/** A data type's command-table entry: one key at argv[1] unless `extra` says otherwise. */
export type TypeCommand = (
  name: string,
  arity: number,
  flags: CommandSpec['flags'],
  summary: string,
  since: string,
  complexity: string,
  keySpecs: readonly KeySpec[],
  handler: CommandSpec['handler'],
  extra?: Partial<CommandSpec>,
) => CommandSpec;

/** The entry factory of one command group (each type's table at the bottom of its commands file uses one). */
export function typeCommand(group: CommandGroup): TypeCommand {
  return (name, arity, flags, summary, since, complexity, keySpecs, handler, extra = {}) => ({
    name,
    arity,
    flags,
    group,
    summary,
    since,
    complexity,
    keys: [1, 1, 1],
    keySpecs,
    handler,
    ...extra,
  });
}

/** A resolved command (with its container for subcommands) as the dispatcher sees it. */
export interface Command extends CommandSpec {
  /** "get" or "config|get". */
  fullName: string;
  parent: Command | null;
  sub: Map<string, Command> | null;
  isWrite: boolean;
  isReadonly: boolean;
  denyOom: boolean;
  noAuth: boolean;
  /** Stats for INFO commandstats. */
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

const GROUP_CATEGORY: Record<CommandGroup, string> = {
  generic: 'keyspace',
  string: 'string',
  list: 'list',
  set: 'set',
  'sorted-set': 'sortedset',
  hash: 'hash',
  // @pubsub comes from the 'pubsub' flag (PUBSUB and PUBSUB HELP have neither).
  pubsub: '',
  transactions: 'transaction',
  connection: 'connection',
  server: '',
  scripting: 'scripting',
  hyperloglog: 'hyperloglog',
  cluster: '',
  geo: 'geo',
  stream: 'stream',
  bitmap: 'bitmap',
};

/** ACL categories as Redis derives them from flags and group. */
export function aclCategories(c: CommandSpec): string[] {
  const out: string[] = [];
  const f = new Set(c.flags);
  const g = GROUP_CATEGORY[c.group];
  if (g) out.push(g);
  if (f.has('write')) out.push('write');
  if (f.has('readonly') && c.group !== 'scripting') out.push('read');
  if (f.has('admin')) out.push('admin', 'dangerous');
  if (f.has('pubsub')) out.push('pubsub');
  if (f.has('fast')) out.push('fast');
  if (f.has('blocking')) out.push('blocking');
  if (!f.has('fast')) out.push('slow');
  for (const a of c.acl ?? []) {
    // '-x' drops a category the group would give (SORT is 'generic' but not @keyspace).
    if (a.startsWith('-')) {
      const i = out.indexOf(a.slice(1));
      if (i >= 0) out.splice(i, 1);
    } else if (!out.includes(a)) out.push(a);
  }
  return out.map((x) => '@' + x);
}

export class CommandTable {
  readonly commands = new Map<string, Command>();
  /** Exact-case lookup cache (clients send "GET" or "get"): avoids lowercasing per command. */
  private readonly byCase = new Map<string, Command>();

  constructor(specs: Iterable<CommandSpec>) {
    for (const spec of specs) this.add(spec);
  }

  add(spec: CommandSpec): void {
    if (this.commands.has(spec.name)) throw new Error(`duplicate command ${spec.name}`);
    this.commands.set(spec.name, build(spec, null));
  }

  /** rename-command: an empty new name disables the command. */
  rename(from: string, to: string): void {
    const c = this.commands.get(from.toLowerCase());
    if (!c) throw new Error(`No such command in rename-command: ${from}`);
    this.commands.delete(from.toLowerCase());
    this.byCase.clear();
    if (to !== '') this.commands.set(to.toLowerCase(), c);
  }

  /** Look up by name, any case. */
  get(name: string): Command | undefined {
    const hit = this.byCase.get(name);
    if (hit !== undefined) return hit;
    const c = this.commands.get(name.toLowerCase());
    if (c !== undefined && this.byCase.size < 4096) this.byCase.set(name, c);
    return c;
  }

  /** The key argument indexes of a command invocation (COMMAND GETKEYS, ACL, cluster). */
  keyIndexes(cmd: Command, argv: string[]): number[] {
    if (cmd.getKeys) return cmd.getKeys(argv);
    if (!cmd.keys || cmd.keys[0] === 0) return [];
    const [first, lastSpec, step] = cmd.keys;
    const last = lastSpec < 0 ? argv.length + lastSpec : lastSpec;
    const out: number[] = [];
    for (let i = first; i <= last && i < argv.length; i += step) out.push(i);
    return out;
  }
}

function build(spec: CommandSpec, parent: Command | null): Command {
  const f = new Set(spec.flags);
  const cmd: Command = {
    ...spec,
    fullName: parent ? `${parent.name}|${spec.name}` : spec.name,
    parent,
    sub: null,
    isWrite: f.has('write'),
    isReadonly: f.has('readonly'),
    denyOom: f.has('denyoom'),
    noAuth: f.has('no_auth'),
    calls: 0,
    usec: 0,
    rejectedCalls: 0,
    failedCalls: 0,
  };
  if (spec.subcommands) {
    cmd.sub = new Map();
    for (const s of spec.subcommands) cmd.sub.set(s.name, build(s, cmd));
  }
  return cmd;
}
