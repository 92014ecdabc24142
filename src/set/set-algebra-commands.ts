/**
 * Set algebra: SINTER SINTERCARD SUNION SDIFF and SINTERSTORE SUNIONSTORE
 * SDIFFSTORE, plus the reply helpers the other set commands share.
 *
 * Every source key is looked up for reading (a keyspace hit or miss each), in
 * argument order; the first one holding another type answers WRONGTYPE, even
 * after a missing key (which counts as an empty set). Results are built as a
 * new set, so that their encoding (intset / hashtable) and iteration order are
 * those of a set receiving the members one by one, as in Redis. A STORE whose
 * result is empty deletes the destination (event `del`), otherwise the
 * destination is overwritten whatever it held (its TTL cleared) and gets the
 * command's event (`sinterstore`, `sunionstore`, `sdiffstore`).
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { is } from '../commands/args.js';
import { parseInt64 } from '../numbers/parse.js';
import { SetValue, asSet } from './set-value.js';
import { configCache } from '../commands/config-cache.js';

/** set-max-intset-entries. */
const intsetLimit = configCache({ entries: 'set-max-intset-entries' });

export function maxIntsetEntries(s: Session): number {
  return intsetLimit(s.engine.config).entries;
}

/** Reply with members as a set (RESP3 `~`, RESP2 array). */
export function replySet(s: Session, members: readonly string[]): void {
  s.reply.setLen(members.length);
  for (let i = 0; i < members.length; i++) s.reply.bulk(members[i]!);
}

/** Read lookups of argv[from .. to-1] as sets (undefined for a missing key); WRONGTYPE at the first other type. */
function lookupSets(s: Session, argv: readonly string[], from: number, to: number): (SetValue | undefined)[] {
  const out: (SetValue | undefined)[] = [];
  for (let i = from; i < to; i++) out.push(asSet(s.db.get(argv[i]!)));
  return out;
}

/**
 * Members common to every set, in the iteration order of the smallest one;
 * at most `limit` of them when limit > 0.
 */
function intersect(sets: readonly (SetValue | undefined)[], limit = 0): string[] {
  if (sets.some((x) => x === undefined || x.size === 0)) return [];
  const bySize = [...(sets as SetValue[])].sort((a, b) => a.size - b.size);
  const first = bySize[0]!;
  const out: string[] = [];
  for (const m of first.members()) {
    let inAll = true;
    for (let j = 1; j < bySize.length; j++) {
      if (!bySize[j]!.has(m)) {
        inAll = false;
        break;
      }
    }
    if (!inAll) continue;
    out.push(m);
    if (out.length === limit) break;
  }
  return out;
}

function union(sets: readonly (SetValue | undefined)[], max: number): SetValue {
  const out = new SetValue();
  for (const set of sets) {
    if (set === undefined) continue;
    for (const m of set.members()) out.add(m, max);
  }
  return out;
}

function difference(sets: readonly (SetValue | undefined)[], max: number): SetValue {
  const out = new SetValue();
  const first = sets[0];
  if (first === undefined) return out;
  const others = sets.slice(1).filter((x): x is SetValue => x !== undefined && x.size > 0);
  for (const m of first.members()) {
    let found = false;
    for (const o of others) {
      if (o.has(m)) {
        found = true;
        break;
      }
    }
    if (!found) out.add(m, max);
  }
  return out;
}

/** Store a result set (or delete the destination when it is empty) and reply with its size. */
function store(s: Session, dst: string, result: SetValue, event: string): void {
  if (result.size === 0) {
    if (s.db.delete(dst)) s.wrote('g', 'del', dst);
    s.reply.int(0);
    return;
  }
  s.db.set(dst, result);
  s.wrote('s', event, dst);
  s.reply.int(result.size);
}

// ---- handlers ------------------------------------------------------------------------

function sinter(s: Session, argv: string[]): void {
  replySet(s, intersect(lookupSets(s, argv, 1, argv.length)));
}

function sinterstore(s: Session, argv: string[]): void {
  const members = intersect(lookupSets(s, argv, 2, argv.length));
  store(s, argv[1]!, SetValue.from(members, maxIntsetEntries(s)), 'sinterstore');
}

function sunion(s: Session, argv: string[]): void {
  replySet(s, union(lookupSets(s, argv, 1, argv.length), maxIntsetEntries(s)).members());
}

function sunionstore(s: Session, argv: string[]): void {
  store(s, argv[1]!, union(lookupSets(s, argv, 2, argv.length), maxIntsetEntries(s)), 'sunionstore');
}

function sdiff(s: Session, argv: string[]): void {
  replySet(s, difference(lookupSets(s, argv, 1, argv.length), maxIntsetEntries(s)).members());
}

function sdiffstore(s: Session, argv: string[]): void {
  store(s, argv[1]!, difference(lookupSets(s, argv, 2, argv.length), maxIntsetEntries(s)), 'sdiffstore');
}

/** The numkeys argument of SINTERCARD: a positive 64-bit integer, else Redis's message. */
function numkeysOf(arg: string): number | null {
  const n = parseInt64(arg);
  return n === null || n < 1n ? null : Number(n);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit] */
function sintercard(s: Session, argv: string[]): void {
  const numkeys = numkeysOf(argv[1]!);
  if (numkeys === null) throw new CommandError('ERR numkeys should be greater than 0');
  if (numkeys > argv.length - 2) throw new CommandError("ERR Number of keys can't be greater than number of args");
  const end = 2 + numkeys;
  let limit = 0;
  for (let i = end; i < argv.length; i++) {
    if (is(argv[i], 'LIMIT') && i + 1 < argv.length) {
      const n = parseInt64(argv[++i]!);
      if (n === null || n < 0n) throw new CommandError("ERR LIMIT can't be negative");
      limit = Number(n);
    } else throw new CommandError(Err.syntax);
  }
  s.reply.int(intersect(lookupSets(s, argv, 2, end), limit).length);
}

/** SINTERCARD's key positions: numkeys keys from argv[2]. */
function sintercardKeys(argv: string[]): number[] {
  const n = numkeysOf(argv[1] ?? '');
  // More keys announced than there are arguments: no keys (COMMAND GETKEYS says the arguments are invalid).
  if (n === null || 2 + n > argv.length) return [];
  const out: number[] = [];
  for (let i = 2; i < 2 + n; i++) out.push(i);
  return out;
}

// ---- command table ---------------------------------------------------------------------

const range = (flags: readonly string[], index: number, lastkey: number): KeySpec => ({
  flags,
  begin: { index },
  find: { range: [lastkey, 1, 0] },
});

const SOURCES = [range(['RO', 'access'], 1, -1)];
const INTER_COMPLEXITY = 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.';
const UNION_COMPLEXITY = 'O(N) where N is the total number of elements in all given sets.';

function readCmd(name: string, summary: string, complexity: string, handler: CommandSpec['handler']): CommandSpec {
  return {
    name, arity: -2, flags: ['readonly'], group: 'set', summary, since: '1.0.0', complexity,
    keys: [1, -1, 1], keySpecs: SOURCES, tips: ['nondeterministic_output_order'], handler,
  };
}

function storeCmd(name: string, dstFlags: readonly string[], summary: string, complexity: string, handler: CommandSpec['handler']): CommandSpec {
  return {
    name, arity: -3, flags: ['write', 'denyoom'], group: 'set', summary, since: '1.0.0', complexity,
    keys: [1, -1, 1], keySpecs: [range(dstFlags, 1, 0), range(['RO', 'access'], 2, -1)], handler,
  };
}

export const setAlgebraCommands: CommandSpec[] = [
  readCmd('sinter', 'Intersect multiple sets', INTER_COMPLEXITY, sinter),
  {
    name: 'sintercard', arity: -3, flags: ['readonly', 'movablekeys'], group: 'set',
    summary: 'Intersect multiple sets and return the cardinality of the result', since: '7.0.0', complexity: INTER_COMPLEXITY,
    keys: [0, 0, 0], keySpecs: [{ flags: ['RO', 'access'], begin: { index: 1 }, find: { keynum: [0, 1, 1] } }],
    getKeys: sintercardKeys, handler: sintercard,
  },
  storeCmd('sinterstore', ['RW', 'update'], 'Intersect multiple sets and store the resulting set in a key', INTER_COMPLEXITY, sinterstore),
  readCmd('sunion', 'Add multiple sets', UNION_COMPLEXITY, sunion),
  storeCmd('sunionstore', ['OW', 'update'], 'Add multiple sets and store the resulting set in a key', UNION_COMPLEXITY, sunionstore),
  readCmd('sdiff', 'Subtract multiple sets', UNION_COMPLEXITY, sdiff),
  storeCmd('sdiffstore', ['OW', 'update'], 'Subtract multiple sets and store the resulting set in a key', UNION_COMPLEXITY, sdiffstore),
];
