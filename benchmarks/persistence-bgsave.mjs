#!/usr/bin/env node
// BGSAVE of a large data set under write load: cacheside's forkless,
// copy-on-write-per-key snapshot against redis-server's fork.
//
// For each server: <keys> SETs of key:<12 digits> (value size --value-size), then
// redis-benchmark (SET on random existing keys: every write hits a key of the
// image, the worst case for copy-on-write) in chunks of --chunk requests:
//   1. warm-up, then baseline: --chunks chunks each, no save running;
//   2. BGSAVE, then chunks until it has finished (at least --chunks);
//   3. as many chunks again with no save (RSS growth of the load alone).
// Reported: p99 of the chunks (median and worst chunk), throughput, BGSAVE
// duration, and peak RSS growth during the BGSAVE relative to the data set
// (RSS after populating minus RSS of the empty server). For redis-server the
// fork child's private memory (smaps_rollup) is added to the parent's RSS.
// Goals (issue #5): p99 within 2x of no-save; RSS growth < 20% of the data set.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import {
  Conn,
  UsageError,
  cachesideNodeArgs,
  CACHESIDE_CLI,
  describeEnvironment,
  installCleanup,
  invocation,
  markdownTable,
  median,
  parseArgs,
  pinning,
  positiveInt,
  recordResults,
  shellJoin,
  sleep,
  startServer,
  textTable,
  which,
  withTimeout,
} from './resp-bench.mjs';

const USAGE = `usage: node benchmarks/persistence-bgsave.mjs [options]
  --keys 1000000     keys in the data set (SET key:<12 digits>, the keys redis-benchmark -r uses)
  --value-size 100   bytes per value
  --chunk 50000      SET requests per redis-benchmark chunk
  --chunks 4         chunks of the baseline (and minimum during BGSAVE)
  --rounds 3         baseline + BGSAVE + no-save windows per server (medians reported)
  --clients 50       redis-benchmark -c (pipeline 1)
  --no-redis         cacheside only
  --record           append the results to benchmarks/RESULTS.md`;

function rss(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Private memory of the children of `pid` (a fork child's copied pages). */
function childrenPrivate(pid) {
  let total = 0;
  let kids = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const f = `/proc/${pid}/task/${t}/children`;
      if (existsSync(f)) kids.push(...readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean));
    }
  } catch {
    kids = [];
  }
  for (const k of kids) {
    try {
      const s = readFileSync(`/proc/${k}/smaps_rollup`, 'utf8');
      for (const key of ['Private_Clean', 'Private_Dirty']) {
        const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s);
        if (m) total += Number(m[1]) * 1024;
      }
    } catch {
      /* gone */
    }
  }
  return total;
}

function start(kind, pin) {
  if (kind === 'cacheside') {
    return startServer({
      name: 'cacheside-bgsave',
      command: process.execPath,
      args: (port, dir) => [...cachesideNodeArgs(), CACHESIDE_CLI, 'server', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'yes'],
      pin,
    });
  }
  return startServer({
    name: 'redis-bgsave',
    command: 'redis-server',
    args: (port, dir) => ['--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, '--enable-debug-command', 'yes'],
    pin,
  });
}

/** One redis-benchmark chunk: rps and p99 (ms) from --csv. */
function chunk(server, { n, clients, keys }, pin) {
  const argv = [...pin, 'redis-benchmark', '-h', '127.0.0.1', '-p', String(server.port), '--csv', '-c', String(clients), '-n', String(n), '-r', String(keys), '-t', 'set'];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('error', reject);
    child.once('close', () => {
      // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
      const line = out.split('\n').find((l) => l.startsWith('"SET"'));
      if (!line) return reject(new Error(`redis-benchmark failed (${shellJoin(argv)}): ${out.slice(-1000)}`));
      const f = line.split(',').map((x) => Number(x.replace(/"/g, '')));
      resolve({ rps: f[1], p99: f[6], max: f[7] });
    });
  });
}

/**
 * SET key:<12 digits> for every key redis-benchmark -r <keys> will write
 * (so every benchmark write modifies a key of the snapshot), pipelined.
 * Through the protocol, as clients write data (DEBUG POPULATE builds its
 * strings differently from parsed commands).
 */
async function populate(conn, { keys, valueSize }) {
  const batch = 2000;
  for (let start = 0; start < keys; start += batch) {
    const end = Math.min(keys, start + batch);
    let s = '';
    for (let i = start; i < end; i++) {
      const k = `key:${String(i).padStart(12, '0')}`;
      const v = `value:${i}:`.padEnd(valueSize, 'x');
      s += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    }
    conn.write(Buffer.from(s, 'latin1'));
    const replies = [];
    for (let i = start; i < end; i++) replies.push(conn.read());
    await withTimeout(Promise.all(replies), 120_000, 'SET batch timed out');
  }
}

async function info(conn, section) {
  const r = await withTimeout(conn.call('INFO', section), 30_000, 'INFO timed out');
  const out = {};
  for (const l of String(r).split('\r\n')) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

async function run(kind, o, pin) {
  const server = await start(kind, pin.server);
  const conn = await Conn.connect(server.port);
  try {
    await sleep(500);
    const empty = rss(server.pid);
    const t0 = performance.now();
    await populate(conn, o);
    console.log(`${kind}: populated ${o.keys} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(2000);
    const loaded = rss(server.pid);
    const dataset = loaded - empty;
    const sampleFrom = () => {
      const start = rss(server.pid) + (kind === 'redis' ? childrenPrivate(server.pid) : 0);
      const w = { start, peak: start, timer: null };
      w.timer = setInterval(() => {
        const x = rss(server.pid) + (kind === 'redis' ? childrenPrivate(server.pid) : 0);
        if (x > w.peak) w.peak = x;
      }, 10);
      return () => {
        clearInterval(w.timer);
        return w.peak - w.start;
      };
    };
    for (let i = 0; i < o.chunks; i++) await chunk(server, o, pin.client); // warm-up
    const rounds = [];
    for (let r = 0; r < o.rounds; r++) {
      const base = [];
      for (let i = 0; i < o.chunks; i++) base.push(await chunk(server, o, pin.client));
      let stopSampling = sampleFrom();
      const reply = await conn.call('BGSAVE');
      if (String(reply) !== 'Background saving started') throw new Error(`BGSAVE: ${reply}`);
      const saveStart = performance.now();
      let saveEnd = 0;
      const during = [];
      for (;;) {
        during.push(await chunk(server, o, pin.client));
        const i = await info(conn, 'persistence');
        if (i.rdb_bgsave_in_progress === '0') {
          saveEnd ||= performance.now();
          if (during.length >= o.chunks) break;
        }
      }
      const growth = stopSampling();
      // The same load for as long without a save: how much RSS the writes alone add meanwhile (V8 grows its heap before collecting).
      stopSampling = sampleFrom();
      for (let k = 0; k < during.length; k++) await chunk(server, o, pin.client);
      const growthNoSave = stopSampling();
      const i = await info(conn, 'persistence');
      if (i.rdb_last_bgsave_status !== 'ok') throw new Error(`${kind}: BGSAVE failed`);
      const round = {
        p99Base: median(base.map((c) => c.p99)),
        p99During: median(during.map((c) => c.p99)),
        p99Worst: Math.max(...during.map((c) => c.p99)),
        rpsBase: median(base.map((c) => c.rps)),
        rpsDuring: median(during.map((c) => c.rps)),
        growth,
        growthNoSave,
        saveSec: (saveEnd - saveStart) / 1000,
      };
      console.log(`${kind} round ${r + 1}: p99 ${round.p99Base.toFixed(3)} -> ${round.p99During.toFixed(3)} ms, BGSAVE ${round.saveSec.toFixed(1)} s, RSS +${mb(growth)} MB (no save: +${mb(growthNoSave)} MB)`);
      rounds.push(round);
    }
    return { kind, dataset, rounds };
  } finally {
    conn.close();
    await server.stop();
  }
}

const mb = (b) => (b / 1024 / 1024).toFixed(0);

async function main() {
  const opts = parseArgs(process.argv.slice(2), ['record', 'help', 'no-redis']);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const o = {
    keys: positiveInt(opts.keys ?? 1_000_000, '--keys'),
    valueSize: positiveInt(opts['value-size'] ?? 100, '--value-size'),
    n: positiveInt(opts.chunk ?? 50_000, '--chunk'),
    chunks: positiveInt(opts.chunks ?? 4, '--chunks'),
    rounds: positiveInt(opts.rounds ?? 3, '--rounds'),
    clients: positiveInt(opts.clients ?? 50, '--clients'),
  };
  installCleanup();
  const pin = pinning();
  const kinds = !opts['no-redis'] && which('redis-server') ? ['cacheside', 'redis'] : ['cacheside'];
  const res = [];
  for (const k of kinds) res.push(await run(k, o, pin));
  const headers = [
    'server',
    'p99 no save (ms)',
    'p99 during BGSAVE (ms)',
    'p99 ratio',
    'worst chunk p99 (ms)',
    'SET req/s no save / during',
    'BGSAVE s',
    'data set MB',
    'RSS growth MB: BGSAVE window / same load, no save',
    'growth due to BGSAVE / data set',
  ];
  const rows = res.map((r) => {
    const m = (f) => median(r.rounds.map(f));
    const growth = m((x) => x.growth);
    const growthNoSave = m((x) => x.growthNoSave);
    const due = m((x) => Math.max(0, x.growth - x.growthNoSave));
    return [
      r.kind,
      m((x) => x.p99Base).toFixed(3),
      m((x) => x.p99During).toFixed(3),
      m((x) => x.p99During / x.p99Base).toFixed(2),
      Math.max(...r.rounds.map((x) => x.p99Worst)).toFixed(3),
      `${Math.round(m((x) => x.rpsBase))} / ${Math.round(m((x) => x.rpsDuring))}`,
      m((x) => x.saveSec).toFixed(1),
      mb(r.dataset),
      `${mb(growth)} / ${mb(growthNoSave)}`,
      `${((due / r.dataset) * 100).toFixed(1)}%`,
    ];
  });
  console.log('\n' + textTable(headers, rows));
  if (opts.record) {
    recordResults(
      'persistence-bgsave',
      [
        `Command: \`${invocation()}\``,
        '',
        `Environment: ${describeEnvironment(pin)}`,
        '',
        `${o.keys} keys × ${o.valueSize}-byte values (pipelined SETs of the keys redis-benchmark -r writes); load: redis-benchmark -t set -r ${o.keys} -c ${o.clients} -P 1 in chunks of ${o.n} requests (${o.chunks} chunks without a save; during BGSAVE, chunks until it ends, at least ${o.chunks}); ${o.rounds} rounds per server, medians over rounds (p99 ratio: median of the per-round ratios). RSS growth: peak RSS during a window minus RSS at its start (redis-server: parent RSS + the fork child's private pages); the BGSAVE window is followed by a window as long with the same load and no save, and the difference is what the save itself costs (cacheside's heap grows under write load alone, before V8 collects).`,
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
