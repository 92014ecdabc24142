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
import {
  Conn,
  UsageError,
  cachesideNodeArgs,
  CACHESIDE_CLI,
  describeEnvironment,
  getFreePort,
  installCleanup,
  invocation,
  markdownTable,
  parseArgs,
  pinning,
  positiveInt,
  recordResults,
  sleep,
  textTable,
  which,
  withTimeout,
} from './resp-bench.mjs';

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

function argv(kind, port, dir, extra) {
  const common = ['--port', String(port), '--dir', dir, '--save', '', '--enable-debug-command', 'yes', ...extra];
  return kind === 'cacheside' ? [process.execPath, ...cachesideNodeArgs(), CACHESIDE_CLI, 'server', ...common] : ['redis-server', ...common, '--daemonize', 'no'];
}

/** Spawn and wait for PONG; resolves with { child, port, ms }. */
async function spawnReady(kind, dir, extra, pin) {
  const port = await getFreePort();
  const a = [...pin, ...argv(kind, port, dir, extra)];
  const t0 = performance.now();
  const child = spawn(a[0], a.slice(1), { cwd: dir, stdio: 'ignore' });
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited during start-up`);
    try {
      const c = await Conn.connect(port, '127.0.0.1', 500);
      const r = await withTimeout(c.call('PING'), 2000, 'PING timed out');
      c.close();
      if (r === 'PONG') return { child, port, ms: performance.now() - t0 };
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${kind} did not start`);
    await sleep(5);
  }
}

async function stop(child, port, how = 'NOSAVE') {
  try {
    const c = await Conn.connect(port);
    c.write(`*2\r\n$8\r\nSHUTDOWN\r\n$${how.length}\r\n${how}\r\n`);
  } catch {
    child.kill('SIGTERM');
  }
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
}

async function waitIdle(c) {
  for (;;) {
    const i = String(await c.call('INFO', 'persistence'));
    if (i.includes('aof_rewrite_in_progress:0') && i.includes('rdb_bgsave_in_progress:0') && i.includes('aof_rewrite_scheduled:0')) return;
    await sleep(50);
  }
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
      await withTimeout(waitIdle(c), 600_000, 'rewrite timed out');
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
  const opts = parseArgs(process.argv.slice(2), ['record', 'help', 'no-redis']);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const o = {
    keys: positiveInt(opts.keys ?? 1_000_000, '--keys'),
    valueSize: positiveInt(opts['value-size'] ?? 100, '--value-size'),
    reps: positiveInt(opts.reps ?? 3, '--reps'),
  };
  installCleanup();
  const pin = pinning();
  const kinds = !opts['no-redis'] && which('redis-server') ? ['cacheside', 'redis'] : ['cacheside'];
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
    recordResults(
      'persistence-restart',
      [
        `Command: \`${invocation()}\``,
        '',
        `Environment: ${describeEnvironment(pin)}`,
        '',
        `${o.keys} keys × ${o.valueSize}-byte values (DEBUG POPULATE), written by each server itself (SAVE, or BGREWRITEAOF with the AOF on); time from spawn to the first PONG, best of ${o.reps} starts.`,
        '',
        markdownTable(headers, rows),
      ].join('\n'),
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e instanceof UsageError ? e.message : e.stack}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
