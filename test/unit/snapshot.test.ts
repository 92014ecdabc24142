/**
 * Forkless snapshots: whatever clients do while a snapshot is being
 * serialized (overwrites, in-place mutations, deletions that move keys
 * around, expiries, new keys, FLUSHDB, SWAPDB), the snapshot holds exactly
 * the keys, values and TTLs there were when it started, each once.
 */
import { describe, it, expect } from 'vitest';
import { createEngine, configFrom } from '../../src/server/bootstrap.js';
import { Snapshot, type SnapshotFormat } from '../../src/persistence/snapshot.js';
import { ListValue } from '../../src/list/list-value.js';
import { MutableString, type Value } from '../../src/keyspace/values.js';
import type { Engine } from '../../src/server/engine.js';
import { prng } from '../helpers/dataset.js';

/** Records entries as "db|key|value|ttl" strings; values rendered at the moment they are written. */
class RecordingFormat implements SnapshotFormat {
  entries: string[] = [];
  headers: string[] = [];
  bytes = 0;
  dbHeader(db: number, size: number, expires: number): void {
    this.headers.push(`${db}:${size}:${expires}`);
    this.bytes++;
  }
  entry(db: number, key: string, value: Value, expireAt: number): void {
    this.entries.push(`${db}|${key}|${render(value)}|${expireAt}`);
    this.bytes++;
  }
  entryBytes(db: number, key: string, value: Value, expireAt: number): Buffer[] {
    this.entries.push(`${db}|${key}|${render(value)}|${expireAt}`);
    return [Buffer.from('E')];
  }
  take(): Buffer[] {
    return [];
  }
}

function render(v: Value): string {
  if (typeof v === 'string') return v;
  if (v instanceof MutableString) return v.toString();
  if (v instanceof ListValue) return 'L[' + v.toArray().join(',') + ']';
  return '?';
}

/** The expected image: every key of every database, rendered the same way. */
function image(e: Engine): string[] {
  const out: string[] = [];
  for (const db of e.dbs) {
    for (let slot = 0; slot < db.size; slot++) {
      out.push(`${db.id}|${db.keyOf(slot)}|${render(db.valueOf(slot))}|${db.expireOf(slot)}`);
    }
  }
  return out.sort();
}

function newEngine(): Engine {
  return createEngine(configFrom({ port: 0, save: '', databases: 4 }));
}

function populate(e: Engine, rnd: () => number, n: number): void {
  for (let i = 0; i < n; i++) {
    const db = e.dbs[Math.floor(rnd() * 3)]!;
    const key = `k${i}`;
    if (rnd() < 0.2) db.set(key, new ListValue([`a${i}`, `b${i}`]));
    else db.set(key, `v${i}`);
    if (rnd() < 0.3) db.setExpire(key, Date.now() + 1_000_000 + i);
  }
}

/** One random client write, through the Keyspace API the commands use. */
function mutate(e: Engine, rnd: () => number, step: number): void {
  const db = e.dbs[Math.floor(rnd() * 3)]!;
  const r = rnd();
  const existing = db.size > 0 ? db.keyOf(Math.floor(rnd() * db.size)) : null;
  if (r < 0.25 && existing) db.delete(existing);
  else if (r < 0.45 && existing) db.set(existing, `over${step}`);
  else if (r < 0.6 && existing) {
    const v = db.getForWrite(existing)!;
    if (v instanceof ListValue) v.pushRight(`pushed${step}`);
    else db.set(existing, new MutableString(render(v) + '+'), true);
  } else if (r < 0.7 && existing) db.setExpire(existing, Date.now() + 5_000_000 + step);
  else if (r < 0.75 && existing) db.persist(existing);
  else if (r < 0.95) db.set(`new${step}`, `n${step}`);
  else if (r < 0.97) {
    const a = Math.floor(rnd() * 3);
    const b = Math.floor(rnd() * 3);
    e.dbs[a]!.swapWith(e.dbs[b]!);
    e.onSwapDb(a, b);
  } else db.clear();
}

describe('forkless snapshot', () => {
  it('an untouched data set is written whole, database by database, with RESIZEDB counts', () => {
    const e = newEngine();
    populate(e, prng(1), 500);
    const expected = image(e);
    const f = new RecordingFormat();
    const snap = new Snapshot(e, f);
    expect(snap.keysTotal).toBe(500);
    while (!snap.step(Infinity, 37));
    expect(f.entries.slice().sort()).toEqual(expected);
    expect(f.headers.map((h) => Number(h.split(':')[0]))).toEqual([0, 1, 2]);
    const sizes = f.headers.reduce((n, h) => n + Number(h.split(':')[1]), 0);
    expect(sizes).toBe(500);
    expect(snap.keysDone).toBe(500);
  });

  for (const seed of [11, 12, 13, 14, 15, 16, 17, 18]) {
    it(`is an exact point-in-time image under concurrent writes (seed ${seed})`, () => {
      const e = newEngine();
      const rnd = prng(seed);
      populate(e, rnd, 400);
      const expected = image(e);
      const f = new RecordingFormat();
      const snap = new Snapshot(e, f);
      let step = 0;
      // A few keys per slice, many writes between slices.
      while (!snap.step(Infinity, 1 + Math.floor(rnd() * 8))) {
        const writes = Math.floor(rnd() * 12);
        for (let i = 0; i < writes; i++) mutate(e, rnd, step++);
      }
      expect(f.entries.length).toBe(new Set(f.entries.map((x) => x.split('|').slice(0, 2).join('|'))).size);
      expect(f.entries.slice().sort()).toEqual(expected);
    });
  }

  it('keys written early by copy-on-write are counted and not repeated', () => {
    const e = newEngine();
    const db = e.dbs[0]!;
    for (let i = 0; i < 100; i++) db.set(`k${i}`, `v${i}`);
    const f = new RecordingFormat();
    const snap = new Snapshot(e, f);
    snap.step(Infinity, 10); // visits slots 99..90
    db.set('k5', 'changed'); // not visited yet: pre-image now
    db.set('k95', 'changed'); // already visited: nothing
    db.delete('k0'); // slot 0: pre-image, and k99 (visited) ... no: last slot moves into the hole
    while (!snap.step(Infinity));
    expect(snap.cowKeys).toBe(2);
    const keys = f.entries.map((x) => x.split('|')[1]);
    expect(new Set(keys).size).toBe(100);
    expect(f.entries).toContain('0|k5|v5|0');
    expect(f.entries).toContain('0|k95|v95|0');
    expect(f.entries).toContain('0|k0|v0|0');
  });

  it('removes its hooks when done, leaving the hot path hook-free', () => {
    const e = newEngine();
    e.dbs[0]!.set('a', '1');
    const snap = new Snapshot(e, new RecordingFormat());
    expect(e.keyspaceEvents.beforeWrite).not.toBeNull();
    while (!snap.step(Infinity));
    expect(e.keyspaceEvents.beforeWrite).toBeNull();
    expect(e.keyspaceEvents.moved).toBeNull();
    expect(e.keyspaceEvents.beforeClear).toBeNull();
  });

  it('two snapshots at once each get their own image (hooks compose)', () => {
    const e = newEngine();
    const db = e.dbs[0]!;
    for (let i = 0; i < 50; i++) db.set(`k${i}`, `v${i}`);
    const f1 = new RecordingFormat();
    const s1 = new Snapshot(e, f1);
    const img1 = image(e);
    s1.step(Infinity, 10);
    for (let i = 0; i < 20; i++) db.set(`k${i}`, `w${i}`);
    const f2 = new RecordingFormat();
    const s2 = new Snapshot(e, f2);
    const img2 = image(e);
    for (let i = 20; i < 40; i++) db.delete(`k${i}`);
    while (!s1.step(Infinity, 3) || !s2.step(Infinity, 5)) db.set(`x${Math.random()}`, 'y');
    expect(f1.entries.slice().sort()).toEqual(img1);
    expect(f2.entries.slice().sort()).toEqual(img2);
  });
});
