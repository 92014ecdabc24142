/**
 * Encoding one big value in pieces, for forkless snapshots: a 5M-member set
 * or a 500 MB string would otherwise be serialized in one go, stalling the
 * event loop for seconds. `slicedBody` returns a generator that writes the
 * value's RDB body a piece at a time (each `next()` adds about `EVERY`
 * elements, or 256 KB of a string); the snapshot runs it across event-loop
 * turns (see snapshot.ts for how the key stays point-in-time meanwhile).
 *
 * The bytes are those writeValueBody writes in one go, except for strings
 * compressed with LZF: the string is compressed 256 KB at a time and the pieces
 * concatenated. That is a valid LZF stream of the whole string (a back
 * reference never reaches before the start of its own piece, and decoding
 * only ever looks back into the output), so any RDB reader decodes it to the
 * same bytes. As Redis does, the compressed form is used only when it saves
 * at least 4 bytes.
 *
 * Values below the thresholds, and encodings bounded by configuration
 * (intsets, listpacks) or not handled here (streams), return null: they are
 * encoded at once.
 */
import { MutableString, type Value } from '../keyspace/values.js';
import { ListValue } from '../list/list-value.js';
import { SetValue } from '../set/set-value.js';
import { ZsetValue } from '../zset/zset-value.js';
import { HashValue } from '../hash/hash-value.js';
import { RdbType, type RdbWriter } from './rdb-format.js';
import { lzfCompress } from './lzf.js';
import { QuicklistSplit, buildQuicklistNode, writeQuicklistNode } from './rdb-quicklist.js';

/** Aggregates with at least this many elements are encoded in pieces. */
export const SLICE_MIN_ELEMENTS = 4096;
/** Strings of at least this many bytes are encoded in pieces. */
export const SLICE_MIN_BYTES = 1 << 20;
/** Elements encoded per piece. */
const EVERY = 256;
/** Bytes of a string per piece. */
const STRING_PIECE = 256 * 1024;
/** Quicklist nodes written per piece (each up to 8 KiB by default, compressed on the way). */
const NODES_PER_PIECE = 8;

export type BodyPieces = Generator<void, void, void>;

/** Elements (or bytes, for a string) of a value: what decides whether it is big. */
export function valueWeight(v: Value): number {
  if (typeof v === 'string') return v.length >= SLICE_MIN_BYTES ? v.length : 0;
  if (v instanceof MutableString) return v.len >= SLICE_MIN_BYTES ? v.len : 0;
  const n = (v as { size?: unknown }).size;
  return typeof n === 'number' && n >= SLICE_MIN_ELEMENTS ? n : 0;
}

/**
 * The body of `v`, written as RDB `type`, in pieces; null when the value is
 * small or its encoding is written at once.
 */
export function slicedBody(w: RdbWriter, v: Value, type: number, listFill: number): BodyPieces | null {
  if (valueWeight(v) === 0) return null;
  if (typeof v === 'string' || v instanceof MutableString) return stringPieces(w, v);
  switch (type) {
    case RdbType.SET:
      return setPieces(w, v as SetValue);
    case RdbType.HASH:
      return hashPieces(w, v as HashValue);
    case RdbType.HASH_METADATA:
      return hashTtlPieces(w, v as HashValue);
    case RdbType.ZSET_2:
      return zsetPieces(w, v as ZsetValue);
    case RdbType.LIST_QUICKLIST_2:
      return listPieces(w, v as ListValue, listFill);
    default:
      return null;
  }
}

function* setPieces(w: RdbWriter, s: SetValue): BodyPieces {
  const n = s.size;
  w.len(n);
  for (let i = 0; i < n; i++) {
    w.string(s.at(i));
    if (i % EVERY === EVERY - 1) yield;
  }
}

function* hashPieces(w: RdbWriter, h: HashValue): BodyPieces {
  const n = h.size;
  w.len(n);
  for (let i = 0; i < n; i++) {
    w.string(h.fieldAt(i));
    w.string(h.valueAt(i));
    if (i % EVERY === EVERY - 1) yield;
  }
}

/** Redis 7.4's HASH_METADATA (see writeValueBody). */
function* hashTtlPieces(w: RdbWriter, h: HashValue): BodyPieces {
  const n = h.size;
  const min = h.minExpire();
  w.millis(min);
  w.len(n);
  for (let i = 0; i < n; i++) {
    const f = h.fieldAt(i);
    const at = h.expireOf(f);
    w.len(at === 0 ? 0 : at - min + 1);
    w.string(f);
    w.string(h.valueAt(i));
    if (i % EVERY === EVERY - 1) yield;
  }
}

/** ZSET_2: highest to lowest score, binary doubles. */
function* zsetPieces(w: RdbWriter, z: ZsetValue): BodyPieces {
  const n = z.size;
  w.len(n);
  const visit = (member: string, score: number): void => {
    w.string(member);
    w.double(score);
  };
  for (let done = 0; done < n; done += EVERY) {
    z.forEachFromRank(n - 1 - done, true, Math.min(EVERY, n - done), visit);
    yield;
  }
}

function* listPieces(w: RdbWriter, l: ListValue, fill: number): BodyPieces {
  // Where the nodes start first (their count comes before them), then each node built and written.
  const split = new QuicklistSplit(fill);
  const n = l.size;
  for (let i = 0; i < n; i++) {
    split.add(i, l.at(i));
    if (i % EVERY === EVERY - 1) yield;
  }
  const starts = split.starts;
  w.len(starts.length);
  const at = (i: number): string => l.at(i);
  for (let k = 0; k < starts.length; k++) {
    writeQuicklistNode(w, buildQuicklistNode(at, starts[k]!, k + 1 < starts.length ? starts[k + 1]! : n));
    if (k % NODES_PER_PIECE === NODES_PER_PIECE - 1) yield;
  }
}

/** Bytes [from, to) of a string value, as a Buffer of its own. */
function bytesOf(v: string | MutableString, from: number, to: number): Buffer {
  // A MutableString changes in place: copy (the piece may be written after the key changed).
  if (typeof v !== 'string') return Buffer.from(v.bytes().subarray(from, to));
  return Buffer.from(v.slice(from, to), 'latin1');
}

function* stringPieces(w: RdbWriter, v: string | MutableString): BodyPieces {
  const n = typeof v === 'string' ? v.length : v.len;
  if (w.compress) {
    // LZF a piece at a time; keep the result only if the whole saves 4 bytes or more.
    const parts: Buffer[] = [];
    let total = 0;
    for (let off = 0; off < n && total <= n - 4; off += STRING_PIECE) {
      const piece = bytesOf(v, off, Math.min(n, off + STRING_PIECE));
      // Room for an incompressible piece (a control byte per 32 literals): never null.
      const c = lzfCompress(piece, piece.length + (piece.length >> 5) + 64)!;
      parts.push(c);
      total += c.length;
      yield;
    }
    if (total <= n - 4) {
      w.byte(0xc3);
      w.len(total);
      w.len(n);
      for (let i = 0; i < parts.length; i++) {
        w.raw(parts[i]!);
        parts[i] = null!;
        yield;
      }
      return;
    }
  }
  w.len(n);
  for (let off = 0; off < n; off += STRING_PIECE) {
    w.raw(bytesOf(v, off, Math.min(n, off + STRING_PIECE)));
    yield;
  }
}
