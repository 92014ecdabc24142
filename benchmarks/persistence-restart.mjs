#!/usr/bin/env node
// Restart time with a large data set, cacheside against redis-server:
//   rdb       dump.rdb written by SAVE;
//   aof-rdb   an AOF whose base has an RDB preamble (the 7.0 default);
//   aof-cmds  an AOF whose base is commands (aof-use-rdb-preamble no).
// Each server writes its own files (DEBUG POPULATE, then SAVE or
// BGREWRITEAOF), is stopped, and started again on them: the time from spawn
// until PING answers PONG (not -LOADING), best of --reps starts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Conn, benchOptions, encodeCommand, getFreePort, installCleanup, intOptions, markdownTable, pinning, recordRun, runMain, serverKinds, serverSpec, sleep, textTable, untilPersistenceIdle, waitForPing, withTimeout } from './bench-kit.mjs';

const USAGE = `usage: node benchmarks/persistence-restart.mjs [options]
  --keys 1000000     keys (DEBUG POPULATE key <n> <value-size>)
  --value-size 100   bytes per value
  --reps 3           starts per case (best is reported)
  --no-redis         cacheside only
  --record           append the results to benchmarks/RESULTS.md`;

const CASES = {
  rdb: { args: ['--appendonly', 'no'] },
  'aof-rdb': { args: ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'yes'] },
  'aof-cmds': { args: ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'no'] },
};

/** Spawn and wait for PONG; resolves with { child, port, ms }. */
async function spawnReady(kind, dir, extra, pin) {
  const port = await getFreePort();
  const spec = serverSpec(kind, { aof: [], extra: ['--enable-debug-command', 'yes', ...extra] });
  const a = [...pin, spec.command, ...spec.args(port, dir)];
  const t0 = performance.now();
  const child = spawn(a[0], a.slice(1), { cwd: dir, stdio: 'ignore' });
  await waitForPing(port, 600_000, () => (child.exitCode !== null ? `${kind} exited during start-up` : undefined), 5);
  return { child, port, ms: performance.now() - t0 };
}

async function stop(child, port, how = 'NOSAVE') {
  try {
    const c = await Conn.connect(port);
    c.write(encodeCommand(['SHUTDOWN', how]));
  } catch {
    child.kill('SIGTERM');
  }
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
}

function dirSize(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return n;
}

async function runCase(kind, name, o, pin) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `restart-${kind}-`));
  try {
    const { child, port } = await spawnReady(kind, dir, CASES[name].args, pin.server);
    const c = await Conn.connect(port);
    await withTimeout(c.call('DEBUG', 'POPULATE', o.keys, 'key', o.valueSize), 600_000, 'POPULATE timed out');
    if (name === 'rdb') await withTimeout(c.call('SAVE'), 600_000, 'SAVE timed out');
    else {
      await c.call('BGREWRITEAOF');
      await sleep(100);
      await withTimeout(untilPersistenceIdle(c, ['aof_rewrite_in_progress', 'rdb_bgsave_in_progress', 'aof_rewrite_scheduled'], 50), 600_000, 'rewrite timed out');
    }
    c.close();
    await stop(child, port);
    const bytes = dirSize(dir);
    let best = Infinity;
    let keys = 0;
    for (let r = 0; r < o.reps; r++) {
      const s = await spawnReady(kind, dir, CASES[name].args, pin.server);
      best = Math.min(best, s.ms);
      const c2 = await Conn.connect(s.port);
      keys = await c2.call('DBSIZE');
      c2.close();
      await stop(s.child, s.port);
    }
    if (keys !== o.keys) throw new Error(`${kind} ${name}: ${keys} keys after restart, expected ${o.keys}`);
    console.log(`${kind.padEnd(9)} ${name.padEnd(8)} ${(best / 1000).toFixed(2)} s (${(bytes / 1e6).toFixed(0)} MB on disk)`);
    return { ms: best, bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const opts = benchOptions(USAGE, ['record', 'no-redis']);
  if (opts === null) return 0;
  const o = intOptions(opts, { keys: 1_000_000, 'value-size': 100, reps: 3 });
  installCleanup();
  const pin = pinning();
  const kinds = serverKinds(opts);
  const rows = [];
  for (const name of Object.keys(CASES)) {
    const r = {};
    for (const k of kinds) r[k] = await runCase(k, name, o, pin);
    rows.push([
      name,
      `${(r.cacheside.ms / 1000).toFixed(2)} s`,
      `${(r.cacheside.bytes / 1e6).toFixed(0)} MB`,
      r.redis ? `${(r.redis.ms / 1000).toFixed(2)} s` : 'n/a',
      r.redis ? `${(r.redis.bytes / 1e6).toFixed(0)} MB` : 'n/a',
      r.redis ? (r.cacheside.ms / r.redis.ms).toFixed(2) : 'n/a',
    ]);
  }
  const headers = ['files', 'cacheside start', 'cacheside files', 'redis start', 'redis files', 'cacheside / redis'];
  console.log('\n' + textTable(headers, rows));
  if (opts.record) {
    recordRun(
      'persistence-restart',
      { pin },
      `${o.keys} keys × ${o.valueSize}-byte values (DEBUG POPULATE), written by each server itself (SAVE, or BGREWRITEAOF with the AOF on); time from spawn to the first PONG, best of ${o.reps} starts.`,
      markdownTable(headers, rows),
    );
  }
  return 0;
}

runMain(main);
