/**
 * kill -9 under write load, then restart on the same files:
 *  - appendfsync always: every acknowledged write is there;
 *  - appendfsync everysec: at most the last ~2 seconds of writes may be missing
 *    (none in fact: a write reaches the kernel before its reply is sent);
 *  - killed in the middle of BGREWRITEAOF: nothing acknowledged is lost;
 *  - a torn last write (truncated tail) still loads.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { ensureBuilt, startServerProc, tempDir, type Proc } from '../helpers/spawn-server.js';

beforeAll(() => ensureBuilt(), 120_000);

const procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
});

async function start(dir: string, args: string[]): Promise<Proc> {
  const p = await startServerProc(dir, ['--appendonly', 'yes', ...args]);
  procs.push(p);
  return p;
}

interface Ack {
  key: string;
  at: number;
}

/**
 * `clients` writers each SET unique keys (w<i>:<n>) and INCR their own
 * counter until `stop()`; returns the acknowledged writes.
 */
function load(p: Proc, clients: number): { stop: () => void; acks: Ack[][]; counters: number[]; done: Promise<void> } {
  const acks: Ack[][] = [];
  const counters: number[] = [];
  let stopped = false;
  const workers: Promise<void>[] = [];
  for (let i = 0; i < clients; i++) {
    const c: Redis = p.client();
    acks.push([]);
    counters.push(0);
    workers.push(
      (async () => {
        for (let n = 0; !stopped; n++) {
          try {
            await c.call('SET', `w${i}:${n}`, `value-${n}`);
            acks[i]!.push({ key: `w${i}:${n}`, at: Date.now() });
            const v = Number(await c.call('INCR', `counter:${i}`));
            counters[i] = v;
          } catch {
            return; // the server went away
          }
        }
      })(),
    );
  }
  return { stop: () => (stopped = true), acks, counters, done: Promise.all(workers).then(() => {}) };
}

async function checkAll(p: Proc, acks: Ack[][], counters: number[], allowLossAfter = Infinity): Promise<{ missing: number; total: number }> {
  const c = p.client();
  let missing = 0;
  let total = 0;
  for (let i = 0; i < acks.length; i++) {
    const list = acks[i]!;
    total += list.length;
    for (let j = 0; j < list.length; j += 500) {
      const batch = list.slice(j, j + 500);
      const vals = (await c.call('MGET', ...batch.map((a) => a.key))) as (string | null)[];
      vals.forEach((v, k) => {
        if (v === null) {
          missing++;
          expect(batch[k]!.at).toBeGreaterThanOrEqual(allowLossAfter);
        }
      });
    }
    const counter = Number(await c.call('GET', `counter:${i}`));
    if (allowLossAfter === Infinity) expect(counter).toBeGreaterThanOrEqual(counters[i]!);
  }
  return { missing, total };
}

describe('crash safety of the AOF', () => {
  it('appendfsync always: every acknowledged write survives kill -9', async () => {
    const dir = tempDir('crash-always');
    let p = await start(dir, ['--appendfsync', 'always']);
    const l = load(p, 8);
    await new Promise((r) => setTimeout(r, 1500));
    await p.kill9();
    l.stop();
    await l.done;
    p = await start(dir, ['--appendfsync', 'always']);
    const r = await checkAll(p, l.acks, l.counters);
    expect(r.total).toBeGreaterThan(200);
    expect(r.missing).toBe(0);
  }, 30_000);

  it('appendfsync everysec: at most the last two seconds are lost', async () => {
    const dir = tempDir('crash-everysec');
    let p = await start(dir, ['--appendfsync', 'everysec']);
    const l = load(p, 8);
    await new Promise((r) => setTimeout(r, 2500));
    const killedAt = Date.now();
    await p.kill9();
    l.stop();
    await l.done;
    p = await start(dir, ['--appendfsync', 'everysec']);
    const r = await checkAll(p, l.acks, l.counters, killedAt - 2000);
    expect(r.total).toBeGreaterThan(1000);
    // Every write reaches the kernel before its reply leaves, and the kernel keeps it when the
    // process dies: nothing acknowledged is lost (fsync matters for a crash of the machine).
    expect(r.missing).toBe(0);
  }, 30_000);

  it('killed during BGREWRITEAOF: the AOF still has every acknowledged write', async () => {
    const dir = tempDir('crash-rewrite');
    let p = await start(dir, ['--appendfsync', 'always', '--rdb-key-save-delay', '500']);
    const c = p.client();
    const batch: string[] = [];
    for (let i = 0; i < 3000; i++) batch.push(`pre:${i}`, String(i));
    await c.call('MSET', ...batch);
    const l = load(p, 4);
    await new Promise((r) => setTimeout(r, 200));
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await new Promise((r) => setTimeout(r, 600));
    expect(String(await c.call('INFO', 'persistence'))).toContain('aof_rewrite_in_progress:1');
    await p.kill9();
    l.stop();
    await l.done;
    // The manifest lists the old base, the old incr and the incr opened by the rewrite.
    const manifest = fs.readFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
    expect(manifest).toBe(
      'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
    );
    p = await start(dir, ['--appendfsync', 'always']);
    const r = await checkAll(p, l.acks, l.counters);
    expect(r.missing).toBe(0);
    expect(await p.client().call('DBSIZE')).toBeGreaterThanOrEqual(3000);
    // And a rewrite completes on the recovered files.
    const c2 = p.client();
    await c2.call('BGREWRITEAOF');
    const end = Date.now() + 10_000;
    while (!String(await c2.call('INFO', 'persistence')).includes('aof_rewrite_in_progress:0') && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
    expect(fs.readFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1')).toBe(
      'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n',
    );
  }, 30_000);

  it('a torn last write (truncated tail) loads, dropping only the torn command', async () => {
    const dir = tempDir('crash-torn');
    let p = await start(dir, []);
    const c = p.client();
    for (let i = 0; i < 100; i++) await c.call('SET', `k${i}`, `v${i}`);
    await p.kill9();
    const incr = path.join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    fs.appendFileSync(incr, '*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$10\r\nonly-half');
    p = await start(dir, []);
    const c2 = p.client();
    expect(await c2.call('DBSIZE')).toBe(100);
    expect(await c2.call('GET', 'k99')).toBe('v99');
    // The log line may reach us through the pipe after the PONG.
    const end = Date.now() + 3000;
    while (!p.output().includes('!!! Truncating the AOF') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(p.output()).toContain('!!! Truncating the AOF appendonly.aof.1.incr.aof at offset');
  }, 30_000);
});
