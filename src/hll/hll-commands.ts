/**
 * HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.
 *
 * An HLL is a plain string value holding Redis's byte layout (see hll.ts), so
 * GET, SET, APPEND, COPY, DEBUG DIGEST-VALUE and the rest treat it as any
 * string. A command that changes an HLL turns the stored value into a raw
 * MutableString (Redis unshares it into a raw SDS first) and edits its bytes.
 *
 * Behaviour checked against redis-server 7.0.15: replies and errors, the
 * bytes GET returns after the same commands (sparse and dense, cached
 * cardinality included), the estimates, the `pfadd` event (PFMERGE fires it
 * too), dirty counts. Single-key PFCOUNT stores the estimate in the header
 * and counts as a change (propagated, WATCH invalidated) though no event fires.
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { lookupNoTouch } from '../keyspace/lookup.js';
import { MutableString, isString, type Value } from '../keyspace/values.js';
import {
  CHANGED,
  CORRUPT,
  HLL_DENSE,
  HLL_REGISTERS,
  HLL_SPARSE,
  cacheValid,
  cachedCard,
  decodeSparse,
  denseGet,
  emptySparseBytes,
  encodingOfHll,
  hllAdd,
  hllCount,
  hllSet,
  invalidateCache,
  isHll,
  mergeInto,
  registersCount,
  sparseToDense,
  storeCard,
  type HllBytes,
} from './hll.js';
import { selfTest } from './hll-selftest.js';

export const ERR_NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
export const ERR_CORRUPT_HLL = 'INVALIDOBJ Corrupted HLL object detected';

/** The bytes of a stored value that must be an HLL: WRONGTYPE for other types and for strings that are not HLLs. */
function hllBytes(v: Value): HllBytes {
  if (!isString(v)) throw new CommandError(Err.wrongType);
  const h: HllBytes = typeof v === 'string' ? { buf: Buffer.from(v, 'latin1'), len: v.length } : v;
  if (!isHll(h)) throw new CommandError(ERR_NOT_HLL);
  return h;
}

/**
 * The HLL stored at `key` (already looked up for writing, `v`), validated and
 * turned into a raw MutableString that can be edited in place.
 */
function hllForWrite(s: Session, key: string, v: Value): MutableString {
  hllBytes(v);
  if (v instanceof MutableString) {
    v.storedAs = 'raw';
    return v;
  }
  const m = new MutableString(v as string);
  s.db.set(key, m, true);
  return m;
}

/** A new empty HLL stored at `key`. */
function createHll(s: Session, key: string): MutableString {
  const m = new MutableString(emptySparseBytes());
  s.db.set(key, m);
  return m;
}

function sparseMaxBytes(s: Session): number {
  return s.engine.config.num('hll-sparse-max-bytes');
}

/** PFADD key [element ...] */
function pfadd(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const v = s.db.getForWrite(key);
  let updated = 0;
  let m: MutableString;
  if (v === undefined) {
    m = createHll(s, key);
    updated++;
  } else m = hllForWrite(s, key, v);
  const maxBytes = sparseMaxBytes(s);
  for (let i = 2; i < argv.length; i++) {
    const r = hllAdd(m, argv[i]!, maxBytes);
    if (r === CHANGED) updated++;
    else if (r === CORRUPT) throw new CommandError(ERR_CORRUPT_HLL);
  }
  if (updated > 0) {
    invalidateCache(m);
    s.wrote('$', 'pfadd', key, updated);
  }
  s.reply.int(updated > 0 ? 1 : 0);
}

/** PFCOUNT key [key ...] */
function pfcount(s: Session, argv: string[]): void {
  if (argv.length > 2) {
    // Several keys: the union of their registers, counted without caching.
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < argv.length; j++) {
      const v = s.db.get(argv[j]!);
      if (v === undefined) continue;
      if (!mergeInto(max, hllBytes(v))) throw new CommandError(ERR_CORRUPT_HLL);
    }
    s.reply.int(registersCount(max));
    return;
  }
  const key = argv[1]!;
  // A read lookup (hit/miss counted); the value is then unshared for the cache update.
  const v = lookupNoTouch(s, key);
  if (v === undefined) {
    s.reply.int(0);
    return;
  }
  hllBytes(v);
  const m = hllForWrite(s, key, s.db.getForWrite(key)!);
  if (cacheValid(m)) {
    s.reply.int(cachedCard(m));
    return;
  }
  const card = hllCount(m);
  if (card === null) throw new CommandError(ERR_CORRUPT_HLL);
  storeCard(m, card);
  // A change of the stored bytes: dirty (so it propagates) and WATCH, but no event.
  s.engine.keyModified(s.dbIndex, key);
  s.reply.int(card);
}

/** PFMERGE destkey [sourcekey ...] */
function pfmerge(s: Session, argv: string[]): void {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  // The destination is one of the sources.
  for (let j = 1; j < argv.length; j++) {
    const v = s.db.get(argv[j]!);
    if (v === undefined) continue;
    const h = hllBytes(v);
    if (encodingOfHll(h) === HLL_DENSE) useDense = true;
    if (!mergeInto(max, h)) throw new CommandError(ERR_CORRUPT_HLL);
  }
  const key = argv[1]!;
  const v = s.db.getForWrite(key);
  const m = v === undefined ? createHll(s, key) : hllForWrite(s, key, v);
  // A dense input makes the destination dense.
  if (useDense && !sparseToDense(m)) throw new CommandError(ERR_CORRUPT_HLL);
  const maxBytes = sparseMaxBytes(s);
  for (let i = 0; i < HLL_REGISTERS; i++) if (max[i]! !== 0) hllSet(m, i, max[i]!, maxBytes);
  invalidateCache(m);
  s.wrote('$', 'pfadd', key);
  s.reply.ok();
}

/** PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
function pfdebug(s: Session, argv: string[]): void {
  const sub = argv[1]!;
  const key = argv[2]!;
  const v = s.db.getForWrite(key);
  if (v === undefined) throw new CommandError('ERR The specified key does not exist');
  const m = hllForWrite(s, key, v);
  switch (sub.toLowerCase()) {
    case 'getreg': {
      if (encodingOfHll(m) === HLL_SPARSE) {
        if (!sparseToDense(m)) throw new CommandError(ERR_CORRUPT_HLL);
        s.engine.dirty++; // the encoding changed: propagate
      }
      s.reply.arrayLen(HLL_REGISTERS);
      for (let i = 0; i < HLL_REGISTERS; i++) s.reply.int(denseGet(m.buf, i));
      return;
    }
    case 'decode':
      if (encodingOfHll(m) !== HLL_SPARSE) throw new CommandError('ERR HLL encoding is not sparse');
      s.reply.bulk(decodeSparse(m));
      return;
    case 'encoding':
      s.reply.simple(encodingOfHll(m) === HLL_DENSE ? 'dense' : 'sparse');
      return;
    case 'todense': {
      let converted = false;
      if (encodingOfHll(m) === HLL_SPARSE) {
        if (!sparseToDense(m)) throw new CommandError(ERR_CORRUPT_HLL);
        converted = true;
        s.engine.dirty++;
      }
      s.reply.int(converted ? 1 : 0);
      return;
    }
    default:
      throw new CommandError(`ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

/** PFSELFTEST: a quick check of the register code; OK or a TESTFAILED error. */
function pfselftest(s: Session): void {
  const failure = selfTest(sparseMaxBytes(s));
  if (failure !== null) throw new CommandError(`ERR TESTFAILED ${failure}`);
  s.reply.ok();
}

// ---------------------------------------------------------------------------
// Command table

function spec(flags: string[], index: number, lastkey: number, notes?: string): KeySpec {
  const k: KeySpec = { flags, begin: { index }, find: { range: [lastkey, 1, 0] } };
  return notes === undefined ? k : { notes, ...k };
}

function cmd(
  name: string,
  arity: number,
  flags: CommandSpec['flags'],
  summary: string,
  complexity: string,
  keys: readonly [number, number, number] | null,
  keySpecs: readonly KeySpec[],
  handler: CommandSpec['handler'],
): CommandSpec {
  const c: CommandSpec = { name, arity, flags, group: 'hyperloglog', summary, since: '2.8.9', complexity, keySpecs, handler };
  if (keys !== null) c.keys = keys;
  return c;
}

export const hllCommands: CommandSpec[] = [
  cmd('pfadd', -2, ['write', 'denyoom', 'fast'], 'Adds the specified elements to the specified HyperLogLog.',
    'O(1) to add every element.', [1, 1, 1], [spec(['RW', 'insert'], 1, 0)], pfadd),
  cmd('pfcount', -2, ['readonly', 'may_replicate'],
    'Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).',
    'O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.',
    [1, -1, 1],
    [spec(['RW', 'access'], 1, -1, 'RW because it may change the internal representation of the key, and propagate to replicas')],
    pfcount),
  cmd('pfmerge', -2, ['write', 'denyoom'], 'Merge N different HyperLogLogs into a single one.',
    'O(N) to merge N HyperLogLogs, but with high constant times.', [1, -1, 1],
    [spec(['RW', 'access', 'insert'], 1, 0), spec(['RO', 'access'], 2, -1)], pfmerge),
  cmd('pfdebug', 3, ['write', 'denyoom', 'admin'], 'Internal commands for debugging HyperLogLog values', 'N/A',
    [2, 2, 1], [spec(['RW', 'access'], 2, 0)], pfdebug),
  cmd('pfselftest', 1, ['admin'], 'An internal command for testing HyperLogLog values', 'N/A', null, [], pfselftest),
];
