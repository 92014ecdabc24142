/**
 * Big values written in pieces (rdb-slices.ts): the pieces add up to the same
 * RDB body as a one-go encoding (byte for byte, except LZF strings, which
 * decode to the same bytes), and a snapshot that is in the middle of a big
 * key stays point-in-time: a write to that key finishes it first, pre-images
 * of other keys taken meanwhile follow it, and the file decodes to exactly
 * the data at the start.
 */
import { describe, it, expect } from 'vitest';
import '../../src/commands/registry.js';
import { createEngine, configFrom } from '../../src/server/bootstrap.js';
import { Snapshot } from '../../src/persistence/snapshot.js';
import { RdbFormat } from '../../src/persistence/rdb-save.js';
import { AofCommandFormat } from '../../src/persistence/aof-commands.js';
import { appendDumpFooter, encodeValuePayload, rdbTypeOf } from '../../src/persistence/rdb-encoder.js';
import { decodeRdb, decodeValuePayload } from '../../src/persistence/rdb-decoder.js';
import { RdbWriter } from '../../src/persistence/rdb-format.js';
import { slicedBody, SLICE_MIN_BYTES, SLICE_MIN_ELEMENTS } from '../../src/persistence/rdb-slices.js';
import { AofReader } from '../../src/persistence/aof-reader.js';
import { LocalClient } from '../../src/server/local-session.js';
import { newDigest, digestValue } from '../../src/keyspace/digest.js';
import { MutableString, type Value } from '../../src/keyspace/values.js';
import { SetValue } from '../../src/set/set-value.js';
import { HashValue } from '../../src/hash/hash-value.js';
import { ZsetValue } from '../../src/zset/zset-value.js';
import { ListValue } from '../../src/list/list-value.js';
import type { Engine } from '../../src/server/engine.js';

const N = SLICE_MIN_ELEMENTS * 3 + 17;
const LIMITS = { entries: 128, value: 64 };

function digest(v: Value, ttl = false): string {
  const d = newDigest();
  digestValue(d, v, ttl);
  return d.toString('hex');
}

function bigValues(): Record<string, Value> {
  const set = new SetValue();
  for (let i = 0; i < N; i++) set.add(`member:${i}`, 512);
  const hash = new HashValue();
  for (let i = 0; i < N; i++) hash.set(`field:${i}`, `value:${i}`);
  hash.checkEntries(128);
  const ttlHash = new HashValue();
  for (let i = 0; i < N; i++) ttlHash.set(`f${i}`, `v${i}`);
  for (let i = 0; i < N; i += 7) ttlHash.setExpire(`f${i}`, Date.now() + 3_600_000 + i);
  ttlHash.checkEntries(128);
  const zset = new ZsetValue(false);
  for (let i = 0; i < N; i++) zset.insert(`m${i}`, i % 3 === 0 ? i * 1.25 : -i, LIMITS);
  const list = new ListValue();
  for (let i = 0; i < N; i++) list.pushRight(i % 5 === 0 ? String(i) : `element-${i}-${'x'.repeat(i % 40)}`);
  let s = '';
  for (let i = 0; s.length < SLICE_MIN_BYTES * 2.5; i++) s += `line ${i} ${'abc'.repeat(i % 17)}\n`;
  const noisy = Buffer.alloc(SLICE_MIN_BYTES * 3 + 12345);
  let x = 12345;
  for (let i = 0; i < noisy.length; i++) noisy[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const mutable = new MutableString(s.slice(0, SLICE_MIN_BYTES * 2 + 99));
  return { set, hash, ttlHash, zset, list, string: s, noisy: noisy.toString('latin1'), mutable };
}

/** The DUMP-style payload of a value, its body written in pieces. */
function piecesPayload(v: Value, compress: boolean): { payload: Buffer; pieces: number } {
  const w = new RdbWriter(compress);
  const type = rdbTypeOf(v);
  w.byte(type);
  const it = slicedBody(w, v, type, -2);
  expect(it).not.toBeNull();
  let pieces = 0;
  while (!it!.next().done) pieces++;
  return { payload: Buffer.concat(w.take()), pieces };
}

describe('values written in pieces', () => {
  const values = bigValues();
  for (const compress of [false, true]) {
    for (const [name, v] of Object.entries(values)) {
      it(`${name} (rdbcompression ${compress ? 'yes' : 'no'}): same value back, in many pieces`, () => {
        const { payload, pieces } = piecesPayload(v, compress);
        expect(pieces).toBeGreaterThan(2);
        const whole = encodeValuePayload(v, { compress });
        // LZF strings are compressed a MB at a time: other bytes, same string. Everything else: the same bytes.
        const lzfString = compress && (typeof v === 'string' || v instanceof MutableString) && whole[1] === 0xc3;
        if (!lzfString) expect(payload.equals(whole)).toBe(true);
        const back = decodeValuePayload(appendDumpFooter(payload, 10));
        expect(digest(back)).toBe(digest(v));
      });
    }
  }

  it('the AOF command format writes the same commands in pieces', () => {
    for (const [name, v] of Object.entries(values)) {
      if (name === 'ttlHash') continue; // hashes with field TTLs are written at once
      const whole = new AofCommandFormat();
      whole.entry(0, 'k', v, 1_900_000_000_000);
      const sliced = new AofCommandFormat();
      const it = sliced.entryPieces(0, 'k', v, 1_900_000_000_000);
      expect(it, name).not.toBeNull();
      let pieces = 0;
      const out: Buffer[] = [];
      while (!it!.next().done) {
        pieces++;
        out.push(...sliced.take());
      }
      out.push(...sliced.take());
      expect(pieces, name).toBeGreaterThan(2);
      expect(Buffer.concat(out).equals(Buffer.concat(whole.take())), name).toBe(true);
    }
  });

  it('small values and bounded encodings are written at once', () => {
    const w = new RdbWriter(true);
    const small = new SetValue();
    for (let i = 0; i < 100; i++) small.add(`m${i}`, 512);
    expect(slicedBody(w, small, rdbTypeOf(small), -2)).toBeNull();
    expect(slicedBody(w, 'x'.repeat(1000), 0, -2)).toBeNull();
    const ints = new SetValue();
    for (let i = 0; i < N; i++) ints.add(String(i), N + 1);
    expect(ints.isIntset).toBe(true);
    expect(slicedBody(w, ints, rdbTypeOf(ints), -2)).toBeNull();
  });
});

// ---- snapshots in the middle of a big key ---------------------------------------------------

function newEngine(): Engine {
  return createEngine(configFrom({ port: 0, save: '', databases: 2, rdbcompression: 'no' }));
}

/** Run a snapshot a slice at a time (a few pieces each), calling `between(i)` after slice i. */
function runSlices(snap: Snapshot, take: () => void, between: (i: number) => void): number {
  let i = 0;
  while (!snap.step(Infinity, Infinity, 64 * 1024)) {
    take();
    between(i++);
  }
  take();
  return i;
}

/** Keys of an RDB section written by RdbFormat (header-less: decoded behind a synthetic file head). */
function decodeSection(e: Engine, body: Buffer): Map<string, string> {
  const f = new RdbFormat(e);
  const head = Buffer.concat(f.header(e, false));
  const file = Buffer.concat([head, body, Buffer.from([0xff]), Buffer.alloc(8)]);
  const out = new Map<string, string>();
  for (const ev of decodeRdb(file, { source: 'test' })) {
    if (ev.t === 'entry') out.set(`${ev.db}|${ev.key}`, digest(ev.value, ev.expireAtMs !== 0));
  }
  return out;
}

function imageOf(e: Engine): Map<string, string> {
  const out = new Map<string, string>();
  for (const db of e.dbs) for (let s = 0; s < db.size; s++) out.set(`${db.id}|${db.keyOf(s)}`, digest(db.valueOf(s), db.expireOf(s) !== 0));
  return out;
}

describe('a snapshot in the middle of a big key', () => {
  it('writes to other keys wait behind it, a write to it finishes it first: the file is the data at the start', () => {
    const e = newEngine();
    const db = e.dbs[0]!;
    for (let i = 0; i < 50; i++) db.set(`small${i}`, `v${i}`);
    const big = new SetValue();
    for (let i = 0; i < N * 4; i++) big.add(`member:${i}`, 512);
    db.set('big', big);
    for (let i = 50; i < 100; i++) db.set(`small${i}`, `v${i}`);
    e.dbs[1]!.set('other-db', 'x');
    const before = imageOf(e);
    const format = new RdbFormat(e);
    format.header(e, false);
    const snap = new Snapshot(e, format);
    const out: Buffer[] = [];
    let bigTouched = false;
    const slices = runSlices(
      snap,
      () => out.push(...snap.take()),
      (i) => {
        // While the big key is half written: overwrite small keys (already written or not), delete one, add new keys.
        db.set(`small${i % 100}`, `changed${i}`);
        if (i === 3) db.delete('small77');
        db.set(`new${i}`, 'n');
        e.dbs[1]!.set('other-db', `y${i}`);
        if (i === 6 && !bigTouched) {
          // The big key itself changes mid-way: its remaining pieces are written first.
          bigTouched = true;
          const b = db.getForWrite('big') as SetValue;
          for (let j = 0; j < 1000; j++) b.remove(`member:${j}`);
          b.add('added-after-start', 512);
        }
      },
    );
    expect(slices).toBeGreaterThan(6);
    expect(bigTouched).toBe(true);
    expect(decodeSection(e, Buffer.concat(out))).toEqual(before);
  });

  it('deleting the big key and FLUSHDB while it is written, AOF command format too', () => {
    for (const kind of ['rdb', 'aof'] as const) {
      const e = newEngine();
      const db = e.dbs[0]!;
      const list = new ListValue();
      for (let i = 0; i < N * 3; i++) list.pushRight(`item-${i}`);
      db.set('biglist', list);
      db.setExpire('biglist', Date.now() + 3_600_000);
      db.set('bigstr', 'z'.repeat(SLICE_MIN_BYTES * 3));
      for (let i = 0; i < 20; i++) db.set(`k${i}`, `v${i}`);
      const before = imageOf(e);
      const format = kind === 'rdb' ? new RdbFormat(e) : new AofCommandFormat();
      if (format instanceof RdbFormat) format.header(e, false);
      const snap = new Snapshot(e, format);
      const out: Buffer[] = [];
      runSlices(
        snap,
        () => out.push(...snap.take()),
        (i) => {
          if (i === 2) db.delete('biglist');
          if (i === 4) db.clear();
          db.set(`k${i}`, 'after');
        },
      );
      if (kind === 'rdb') expect(decodeSection(e, Buffer.concat(out))).toEqual(before);
      else {
        // Replay the commands into a fresh engine.
        const e2 = newEngine();
        const r = new AofReader();
        r.feed(Buffer.concat(out));
        const c = new LocalClient(e2);
        for (let argv = r.next(); argv !== null; argv = r.next()) c.call(...argv);
        expect(imageOf(e2)).toEqual(before);
      }
    }
  });
});
