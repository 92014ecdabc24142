/**
 * One huge value in a forkless snapshot: a 2,000,000-member set is written in
 * pieces across event-loop turns, so a client's PINGs keep being answered
 * during the BGSAVE (the gap between replies stays far below what encoding
 * the set in one go blocks the loop for, measured here too); and a write to
 * the set while it is half written still leaves the pre-BGSAVE set in the
 * file (DEBUG DIGEST-VALUE after a restart on it).
 *
 * The PING-gap check runs the server as a child process (the built CLI), so
 * the gap measures only the server's own loop: in-process, a full GC of the
 * test worker's heap (which then holds the 2M-member set) lands in the gap.
 * The mid-save write reads the snapshot's state, so that test stays in-process.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import type { Redis } from 'ioredis';
import { SetValue } from '../../src/set/set-value.js';
import { createDumpPayload, encodeValuePayload } from '../../src/persistence/rdb-encoder.js';
import { persistenceOf } from '../../src/persistence/persistence.js';
import type { TestServer } from '../helpers/server.js';
import { persistenceInfo as info, serversPerTest, tempDir, until } from '../helpers/persistence.js';
import { ensureBuilt, startServerProc, type Proc } from '../helpers/spawn-server.js';

const { start, restart } = serversPerTest({ 'enable-debug-command': 'yes' });
const MEMBERS = 2_000_000;

function newBigSet(): SetValue {
  const set = new SetValue();
  for (let i = 0; i < MEMBERS; i++) set.add(`member:${i}`, 512);
  return set;
}

/** The big set, built in the engine directly (2M SADD arguments through a client would take longer than the test). */
function bigSet(s: TestServer): SetValue {
  const set = newBigSet();
  s.engine.dbs[0]!.set('big', set);
  return set;
}

/**
 * The big set as a DUMP payload, and what a one-go serialization of it
 * blocks a loop for (timed after the payload's own encoding warmed the
 * encoder up). The set itself is garbage once this returns: nothing big
 * stays live in this worker's heap while the PINGs are timed.
 */
function bigSetPayload(): { payload: Buffer; oneGo: number; bytes: number } {
  const set = newBigSet();
  const payload = createDumpPayload(set, { compress: true });
  const t0 = performance.now();
  const bytes = encodeValuePayload(set, { compress: true }).length;
  const oneGo = performance.now() - t0;
  return { payload, oneGo, bytes };
}

/** PING after PING on its own connection; `max` is the largest gap between two replies. */
function pinger(c: Redis): { max: number; count: number; reset(): void; stop(): Promise<void> } {
  let running = true;
  let last = performance.now();
  const st = {
    max: 0,
    count: 0,
    reset() {
      st.max = 0;
      last = performance.now();
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
  const loop = (async () => {
    while (running) {
      await c.ping();
      const t = performance.now();
      st.max = Math.max(st.max, t - last);
      st.count++;
      last = t;
    }
  })();
  return st;
}

const bgsaveDone = (c: Redis) => until(async () => (await info(c)).rdb_bgsave_in_progress === '0', 60_000);

describe('BGSAVE of a 2M-member set', () => {
  const dirs: string[] = [];
  let proc: Proc | undefined;
  beforeAll(() => ensureBuilt(), 120_000);
  afterAll(async () => {
    await proc?.kill9();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('keeps answering PING while the set is written in pieces (server in its own process)', async () => {
    const dir = tempDir('bigkey');
    dirs.push(dir);
    proc = await startServerProc(dir, ['--enable-debug-command', 'yes']);
    const c = proc.client();
    const { payload, oneGo, bytes } = bigSetPayload();
    expect(bytes).toBeGreaterThan(MEMBERS * 10);
    expect(await c.call('RESTORE', 'big', '0', payload)).toBe('OK');
    expect(await c.scard('big')).toBe(MEMBERS);
    for (let i = 0; i < 50; i++) await c.set(`small:${i}`, String(i));

    const ping = pinger(proc.client());
    await until(async () => ping.count > 20);
    ping.reset();
    expect(await c.call('BGSAVE')).toBe('Background saving started');
    await bgsaveDone(c);
    await ping.stop();
    const gap = ping.max;
    console.log(`2M-member set: one-go encoding ${oneGo.toFixed(0)} ms; largest PING gap during BGSAVE ${gap.toFixed(1)} ms (${ping.count} PINGs)`);
    expect(gap).toBeLessThan(Math.max(100, oneGo / 3));
    expect((await info(c)).rdb_last_bgsave_status).toBe('ok');
    await proc.kill9();
    proc = undefined;
  }, 120_000);

  it('a write to the set while it is half written leaves the pre-save set in the file', async () => {
    const dir = tempDir('bigkey');
    dirs.push(dir);
    let s = await start({ dir });
    const c = s.client();
    bigSet(s);
    for (let i = 0; i < 50; i++) await c.set(`small:${i}`, String(i));
    const before = await c.call('DEBUG', 'DIGEST-VALUE', 'big');
    const all = await c.call('DEBUG', 'DIGEST');

    expect(await c.call('BGSAVE')).toBe('Background saving started');
    const snap = persistenceOf(s.engine).child!.file.snapshot;
    await until(async () => snap.keyInPieces === 'big', 30_000);
    expect(await c.srem('big', 'member:0', 'member:1')).toBe(2);
    expect(await c.sadd('big', 'added-mid-save')).toBe(1);
    await c.set('small:0', 'changed');
    await bgsaveDone(c);
    expect(await c.scard('big')).toBe(MEMBERS - 1);
    const i = await info(c);
    expect(i.rdb_last_bgsave_status).toBe('ok');

    s = await restart(s, { dir });
    const c2 = s.client();
    expect(await c2.call('DEBUG', 'DIGEST-VALUE', 'big')).toEqual(before);
    expect(await c2.call('DEBUG', 'DIGEST')).toBe(all);
    expect(await c2.scard('big')).toBe(MEMBERS);
    expect(await c2.sismember('big', 'added-mid-save')).toBe(0);
  }, 120_000);
});
