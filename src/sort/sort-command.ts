/**
 * SORT and SORT_RO: sort the elements of a list, set or sorted set, as Redis
 * 7.0 does (behaviour observed on redis-server 7.0.15):
 *
 *  SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
 *
 * - Numeric sort (default): every element (or its BY weight) is read with
 *   strtod (see sort-score.ts); one unreadable value fails the whole command
 *   with "ERR One or more scores can't be converted into double". Equal
 *   numbers are ordered by comparing the elements as bytes, so the order is
 *   total. A missing BY key (or one of another type) weighs 0.
 * - ALPHA: byte order ("C"-locale strcoll, which also stops at a NUL byte;
 *   with STORE the comparison is binary over the whole string). With BY,
 *   missing weights sort first and equal weights keep the elements' original
 *   order (the sort is stable, like glibc's qsort).
 * - BY pattern: the first `*` is replaced by the element; `key->field` reads
 *   a hash field. A pattern with no `*` means "do not sort": lists and
 *   sorted sets keep their order (DESC walks from the end, LIMIT picks the
 *   range directly), sets come in iteration order — except with STORE, where
 *   a set is sorted ALPHA so that the stored result is deterministic.
 * - GET pattern (repeatable): what to return for each element instead of the
 *   element; `#` is the element itself; a missing key/field is a null reply
 *   (an empty string in a STORE result).
 * - LIMIT offset count: a negative offset reads 0, a negative count means
 *   all the rest.
 * - STORE destination: the result replaces the destination as a list (TTL
 *   cleared, 'sortstore' event); an empty result deletes it ('del'). Reply:
 *   the number of stored elements. SORT_RO has no STORE (syntax error).
 * - Sorting a sorted set converts it to a skiplist for good (Redis converts
 *   it destructively before sorting): OBJECT ENCODING shows it.
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { isString, stringValue, type Value } from '../keyspace/values.js';
import { ListValue } from '../list/list-value.js';
import { SetValue } from '../set/set-value.js';
import { ZsetValue } from '../zset/zset-value.js';
import { HashValue } from '../hash/hash-value.js';
import { liveHash } from '../hash/hash-access.js';
import { sortScore } from './sort-score.js';
import { fullKeyReadAccess } from '../server/acl-check.js';

const ERR_NOT_DOUBLE = "ERR One or more scores can't be converted into double";

interface SortOptions {
  desc: boolean;
  alpha: boolean;
  /** The BY pattern (null: sort by the elements themselves). */
  by: string | null;
  /** BY with a pattern without `*`: keep the native order. */
  dontSort: boolean;
  limitStart: number;
  limitCount: number;
  gets: string[];
  store: string | null;
}

/** Index of `ch` in `s` read as a C string (the search stops at the first NUL byte), or -1. */
function cIndexOf(s: string, ch: string, from = 0): number {
  const nul = s.indexOf('\x00', from);
  const i = s.indexOf(ch, from);
  return i < 0 || (nul >= 0 && nul < i) ? -1 : i;
}

const BY_DENIED = 'ERR BY option of SORT denied due to insufficient ACL permissions.';
const GET_DENIED = 'ERR GET option of SORT denied due to insufficient ACL permissions.';

/**
 * `fullKeyAccess`: may the user read any key? BY (with a `*`) and GET read
 * keys no key spec names, so Redis refuses them to a user who cannot.
 */
function parseSortOptions(argv: string[], readonly: boolean, fullKeyAccess: () => boolean): SortOptions {
  const o: SortOptions = {
    desc: false, alpha: false, by: null, dontSort: false, limitStart: 0, limitCount: -1, gets: [], store: null,
  };
  for (let j = 2; j < argv.length; j++) {
    const a = argv[j]!;
    const left = argv.length - j - 1;
    if (is(a, 'ASC')) o.desc = false;
    else if (is(a, 'DESC')) o.desc = true;
    else if (is(a, 'ALPHA')) o.alpha = true;
    else if (is(a, 'LIMIT') && left >= 2) {
      o.limitStart = longArg(argv[j + 1]!);
      o.limitCount = longArg(argv[j + 2]!);
      j += 2;
    } else if (!readonly && is(a, 'STORE') && left >= 1) {
      o.store = argv[++j]!;
    } else if (is(a, 'BY') && left >= 1) {
      o.by = argv[++j]!;
      // Once a BY without '*' was seen, nothing is sorted (even if a later BY has one).
      if (cIndexOf(o.by, '*') < 0) o.dontSort = true;
      else if (!fullKeyAccess()) throw new CommandError(BY_DENIED);
    } else if (is(a, 'GET') && left >= 1) {
      if (!fullKeyAccess()) throw new CommandError(GET_DENIED);
      o.gets.push(argv[++j]!);
    } else throw new CommandError(Err.syntax);
  }
  return o;
}

/**
 * The string a BY/GET pattern designates for element `elem`, or null:
 * `#` is the element; otherwise the first `*` (if any) is replaced by the
 * element to make a key name, read as a string — or, with `->field` after
 * the `*`, as a hash field. Keys are looked up for reading (hits, misses).
 */
function lookupByPattern(s: Session, pattern: string, elem: string): string | null {
  if (pattern.charCodeAt(0) === 35 /* # */ && (pattern.length === 1 || pattern.charCodeAt(1) === 0)) return elem;
  const star = cIndexOf(pattern, '*');
  if (star < 0) return null;
  const arrow = cIndexOf(pattern, '->', star + 1);
  let field: string | null = null;
  let keyEnd = pattern.length;
  if (arrow >= 0 && arrow + 2 < pattern.length) {
    field = pattern.slice(arrow + 2);
    keyEnd = arrow;
  }
  const key = pattern.slice(0, star) + elem + pattern.slice(star + 1, keyEnd);
  const v = s.db.get(key);
  if (v === undefined) return null;
  if (field === null) return isString(v) ? stringValue(v) : null;
  if (!(v instanceof HashValue)) return null;
  return liveHash(s, key, v)?.get(field) ?? null;
}

/** The C-string view strcoll sees: up to the first NUL byte. */
function cString(s: string): string {
  const nul = s.indexOf('\x00');
  return nul < 0 ? s : s.slice(0, nul);
}

/** Byte order of two latin1 strings. */
function cmpBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpCollate(a: string, b: string): number {
  return cmpBytes(cString(a), cString(b));
}

interface SortItem {
  elem: string;
  score: number;
  /** ALPHA with BY: the weight string (null when missing). */
  weight: string | null;
}

/** Load the elements to sort; for the "don't sort" list/zset path only the LIMIT range, in order. */
function loadElements(v: Value | undefined, o: SortOptions, range: { start: number; end: number }): string[] {
  const { start, end } = range;
  if (v === undefined) return [];
  if (v instanceof ListValue) {
    const n = v.size;
    if (!o.dontSort) return v.toArray();
    if (end < start) return [];
    const out: string[] = [];
    for (let k = start; k <= end; k++) out.push(v.at(o.desc ? n - 1 - k : k));
    return out;
  }
  if (v instanceof SetValue) return [...v.members()];
  const z = v as ZsetValue;
  const out: string[] = [];
  if (!o.dontSort) {
    z.forEach((m) => void out.push(m));
    return out;
  }
  if (end < start) return out;
  const n = z.size;
  z.forEachFromRank(o.desc ? n - 1 - start : start, o.desc, end - start + 1, (member) => void out.push(member));
  return out;
}

function sortGeneric(s: Session, argv: string[], readonly: boolean): void {
  let full: boolean | null = null;
  const fullKeyAccess = (): boolean => {
    if (full === null) {
      const cmd = s.engine.commands.get(argv[0]!);
      full = cmd === undefined || fullKeyReadAccess(s, cmd, argv);
    }
    return full;
  };
  const o = parseSortOptions(argv, readonly, fullKeyAccess);
  const key = argv[1]!;
  const v = s.db.get(key);
  if (v !== undefined && !(v instanceof ListValue || v instanceof SetValue || v instanceof ZsetValue)) {
    throw new CommandError(Err.wrongType);
  }
  // A set has no order of its own: a stored result must not depend on it.
  if (o.dontSort && v instanceof SetValue && o.store !== null) {
    o.dontSort = false;
    o.alpha = true;
    o.by = null;
  }
  // Redis converts a sorted set to its skiplist encoding before sorting it.
  if (v instanceof ZsetValue) v.listpack = false;
  const n = v === undefined ? 0 : (v as ListValue | SetValue | ZsetValue).size;

  // LIMIT sanity: clamp into the element count.
  let start = o.limitStart < 0 ? 0 : Math.min(o.limitStart, n);
  const count = o.limitCount < 0 ? -1 : Math.min(o.limitCount, n);
  let end = count < 0 ? n - 1 : start + count - 1;
  if (start >= n) {
    start = n - 1;
    end = n - 2;
  }
  if (end >= n) end = n - 1;

  const elems = loadElements(v, o, { start, end });
  const direct = o.dontSort && (v instanceof ListValue || v instanceof ZsetValue);
  if (direct && end >= start) {
    // The range was applied while loading.
    end -= start;
    start = 0;
  }

  let order: string[] = elems;
  if (!o.dontSort) {
    const items: SortItem[] = new Array(elems.length);
    let badScore = false;
    for (let i = 0; i < elems.length; i++) {
      const elem = elems[i]!;
      const item: SortItem = { elem, score: 0, weight: null };
      items[i] = item;
      const w = o.by === null ? elem : lookupByPattern(s, o.by, elem);
      if (w === null) continue;
      if (o.alpha) {
        if (o.by !== null) item.weight = w;
      } else {
        const d = sortScore(w);
        if (d === null) badScore = true;
        else item.score = d;
      }
    }
    if (badScore) throw new CommandError(ERR_NOT_DOUBLE);
    const sign = o.desc ? -1 : 1;
    const binary = o.store !== null;
    let cmp: (a: SortItem, b: SortItem) => number;
    if (!o.alpha) {
      cmp = (a, b) => sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : cmpBytes(a.elem, b.elem));
    } else if (o.by !== null) {
      const strCmp = binary ? cmpBytes : cmpCollate;
      cmp = (a, b) => {
        if (a.weight === null || b.weight === null) {
          return a.weight === b.weight ? 0 : sign * (a.weight === null ? -1 : 1);
        }
        return sign * strCmp(a.weight, b.weight);
      };
    } else {
      const strCmp = binary ? cmpBytes : cmpCollate;
      cmp = (a, b) => sign * strCmp(a.elem, b.elem);
    }
    items.sort(cmp); // stable, as glibc's merge-sort qsort
    order = items.map((it) => it.elem);
  }

  const range = end - start + 1;
  const perElem = o.gets.length === 0 ? 1 : o.gets.length;
  const outputLen = range > 0 ? range * perElem : 0;

  if (o.store === null) {
    const r = s.reply;
    r.arrayLen(outputLen);
    for (let j = start; j <= end; j++) {
      const elem = order[j]!;
      if (o.gets.length === 0) r.bulk(elem);
      for (const g of o.gets) {
        const val = lookupByPattern(s, g, elem);
        if (val === null) r.nullBulk();
        else r.bulk(val);
      }
    }
    return;
  }

  const dst = o.store;
  const list = new ListValue();
  for (let j = start; j <= end; j++) {
    const elem = order[j]!;
    if (o.gets.length === 0) list.pushRight(elem);
    for (const g of o.gets) list.pushRight(lookupByPattern(s, g, elem) ?? '');
  }
  if (outputLen > 0) {
    s.db.set(dst, list);
    s.wrote('l', 'sortstore', dst, outputLen);
    s.engine.blocking.signalKeyReady(s.dbIndex, dst);
  } else if (s.db.delete(dst)) {
    s.wrote('g', 'del', dst);
  }
  s.reply.int(outputLen);
}

function sort(s: Session, argv: string[]): void {
  sortGeneric(s, argv, false);
}

function sortRo(s: Session, argv: string[]): void {
  sortGeneric(s, argv, true);
}

/**
 * COMMAND GETKEYS for SORT: the sorted key, and the destination of the last
 * STORE option. Skipping over the arguments of LIMIT (2), GET and BY (1),
 * so that "GET store" does not count as a STORE.
 */
export function sortStoreIndex(argv: readonly string[]): number {
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (is(a, 'LIMIT')) i += 2;
    else if (is(a, 'GET') || is(a, 'BY')) i += 1;
    else if (is(a, 'STORE') && i + 1 < argv.length) store = ++i;
  }
  return store;
}

function sortGetKeys(argv: string[]): number[] {
  const store = sortStoreIndex(argv);
  return store < 0 ? [1] : [1, store];
}

// ---- command table ----------------------------------------------------------------------------

const SORTED_KEY: KeySpec = { flags: ['RO', 'access'], begin: { index: 1 }, find: { range: [0, 1, 0] } };
const PATTERN_KEYS: KeySpec = {
  notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
  flags: ['RO', 'access'],
  begin: { unknown: true },
  find: { unknown: true },
};
const STORE_KEY: KeySpec = {
  notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
  flags: ['OW', 'update'],
  begin: { unknown: true },
  find: { unknown: true },
  resolve: (argv) => {
    const i = sortStoreIndex(argv);
    return i < 0 ? [] : [i];
  },
};
const SORT_COMPLEXITY =
  'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).';

export const sortCommands: CommandSpec[] = [
  {
    name: 'sort', arity: -2, flags: ['write', 'denyoom', 'movablekeys'], group: 'generic',
    acl: ['-keyspace', 'set', 'sortedset', 'list', 'dangerous'], keys: [1, 1, 1], keySpecs: [SORTED_KEY, PATTERN_KEYS, STORE_KEY],
    getKeys: sortGetKeys, summary: 'Sort the elements in a list, set or sorted set', since: '1.0.0', complexity: SORT_COMPLEXITY,
    handler: sort,
  },
  {
    name: 'sort_ro', arity: -2, flags: ['readonly', 'movablekeys'], group: 'generic',
    acl: ['-keyspace', 'set', 'sortedset', 'list', 'dangerous'], keys: [1, 1, 1], keySpecs: [SORTED_KEY, PATTERN_KEYS],
    getKeys: () => [1], summary: 'Sort the elements in a list, set or sorted set. Read-only variant of SORT.', since: '7.0.0',
    complexity: SORT_COMPLEXITY, handler: sortRo,
  },
];
