/**
 * The RSS bound: a `node dist/cli.js server` process with maxmemory 256mb
 * and allkeys-lru, fed a write-heavy random-key workload well past its limit
 * (redis-benchmark when installed, else a pipelined load generator here),
 * keeps its RSS (/proc/<pid>/status VmRSS, sampled every 250 ms) below
 * 1.5 × maxmemory + its start-up footprint, and stays alive. When the CLI
 * re-executed itself with heap settings (src/memory/heap-limit.ts), both
 * processes are counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { Redis } from 'ioredis';
import { freePort } from '../helpers/server.js';
import { CLI, ensureBuilt } from './sidecar-harness.js';

const MAXMEMORY = 256 * 1024 * 1024;
const LOAD_SECONDS = 30;
const hasProc = existsSync('/proc/self/status');
const hasBenchmark = spawnSync('redis-benchmark', ['--version']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Pipelined SETs of random keys with 200-byte values, for `seconds`, over `conns` connections. */
async function nodeLoad(port: number, seconds: number, conns = 8): Promise<void> {
  const end = Date.now() + seconds * 1000;
  const value = 'x'.repeat(200);
  const one = async () => {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let pending = 0;
    let wake: (() => void) | null = null;
    sock.on('data', (d) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) pending--;
      if (pending < 500 && wake) {
        wake();
        wake = null;
      }
    });
    while (Date.now() < end && !sock.destroyed) {
      let batch = '';
      for (let i = 0; i < 500; i++) {
        const k = `key:${Math.floor(Math.random() * 1e8)}`;
        batch += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$200\r\n${value}\r\n`;
      }
      pending += 500;
      sock.write(batch);
      if (pending >= 1000) await new Promise<void>((r) => (wake = r));
    }
    sock.destroy();
  };
  await Promise.all(Array.from({ length: conns }, one));
}

describe.skipIf(!hasProc)('RSS bound under a write-heavy random-key workload', () => {
  let server: ChildProcess;
  let port: number;
  let pid: number;
  let client: Redis;

  beforeAll(async () => {
    await ensureBuilt();
    port = await freePort();
    // As users run it: with the node flags of the CLI's shebang line.
    const shebang = /^#!\S*env -S node(.*)$/.exec(readFileSync(CLI, 'utf8').split('\n', 1)[0]!);
    const nodeFlags = shebang ? shebang[1]!.trim().split(/\s+/).filter(Boolean) : [];
    server = spawn(process.execPath, [...nodeFlags, CLI, 'server', '--port', String(port), '--save', '', '--appendonly', 'no', '--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru'], {
      stdio: 'ignore',
    });
    client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (n) => (n > 50 ? null : 100) });
    client.on('error', () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await client.connect();
        break;
      } catch {
        await sleep(100);
      }
    }
    // The server may run in a child it started with heap flags: INFO names the process.
    pid = Number(/process_id:(\d+)/.exec((await client.call('INFO', 'server')) as string)![1]);
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    server?.kill('SIGTERM');
  });

  it(
    'stays below 1.5 × maxmemory + the start-up footprint, evicting all along',
    async () => {
      await sleep(500);
      const pids = pid === server.pid ? [pid] : [pid, server.pid!];
      const rss = () => pids.reduce((sum, p) => sum + rssOf(p), 0);
      const startup = rss();
      let peak = startup;
      const sampler = setInterval(() => {
        const r = rss();
        if (r > peak) peak = r;
      }, 250);
      if (hasBenchmark) {
        const bench = spawn('redis-benchmark', ['-p', String(port), '-t', 'set', '-r', '100000000', '-d', '200', '-n', '100000000', '-P', '16', '-c', '50', '-q'], { stdio: 'ignore' });
        await sleep(LOAD_SECONDS * 1000);
        bench.kill('SIGKILL');
      } else {
        await nodeLoad(port, LOAD_SECONDS);
      }
      await sleep(500);
      clearInterval(sampler);
      const info = (await client.call('INFO', 'all')) as string;
      const num = (f: string) => Number(new RegExp(`^${f}:(\\d+)`, 'm').exec(info)![1]);
      const bound = 1.5 * MAXMEMORY + startup;
      // eslint-disable-next-line no-console
      console.log(
        `RSS: start ${(startup / 2 ** 20).toFixed(0)} MB, peak ${(peak / 2 ** 20).toFixed(0)} MB, bound ${(bound / 2 ** 20).toFixed(0)} MB ` +
          `(peak − start = ${((peak - startup) / MAXMEMORY).toFixed(2)} × maxmemory); evicted ${num('evicted_keys')}`,
      );
      expect(server.exitCode).toBeNull();
      // eslint-disable-next-line no-console
      console.log(`processes measured: ${pids.length}`);
      expect(num('evicted_keys')).toBeGreaterThan(100_000);
      expect(num('used_memory')).toBeLessThanOrEqual(MAXMEMORY + 1024 * 1024);
      expect(peak).toBeLessThan(bound);
    },
    (LOAD_SECONDS + 30) * 1000,
  );
});
