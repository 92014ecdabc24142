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
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Conn, benchOptions, infoFields, installCleanup, intOptions, markdownTable, median, pinning, recordRun, rssBytes, runMain, runRedisBenchmark, serverKinds, sleep, startKind, textTable, withTimeout } from './bench-kit.mjs';

const USAGE = `usage: node benchmarks/persistence-bgsave.mjs [options]
  --keys 1000000     keys in the data set (SET key:<12 digits>, the keys redis-benchmark -r uses)
  --value-size 100   bytes per value
  --chunk 50000      SET requests per redis-benchmark chunk
  --chunks 4         chunks of the baseline (and minimum during BGSAVE)
  --rounds 3         baseline + BGSAVE + no-save windows per server (medians reported)
  --clients 50       redis-benchmark -c (pipeline 1)
  --no-redis         cacheside only
  --record           append the results to benchmarks/RESULTS.md`;

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

/** One redis-benchmark chunk: rps and p99 (ms) from --csv. */
async function chunk(server, { chunk: n, clients, keys }, pin) {
  const r = await runRedisBenchmark(server, ['--csv', '-c', String(clients), '-n', String(n), '-r', String(keys), '-t', 'set'], { pin });
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const line = r.stdout.split('\n').find((l) => l.startsWith('"SET"'));
  if (!line) throw new Error(`redis-benchmark failed (${r.cmd}): ${(r.stdout + r.stderr).slice(-1000)}`);
  const f = line.split(',').map((x) => Number(x.replace(/"/g, '')));
  return { rps: f[1], p99: f[6], max: f[7] };
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

async function run(kind, o, pin) {
  const server = await startKind(kind, pin.server, { name: `${kind}-bgsave`, extra: ['--enable-debug-command', 'yes'] });
  const conn = await Conn.connect(server.port);
  try {
    await sleep(500);
    const empty = rssBytes(server.pid);
    const t0 = performance.now();
    await populate(conn, o);
    console.log(`${kind}: populated ${o.keys} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(2000);
    const loaded = rssBytes(server.pid);
    const dataset = loaded - empty;
    const sampleFrom = () => {
      const start = rssBytes(server.pid) + (kind === 'redis' ? childrenPrivate(server.pid) : 0);
      const w = { start, peak: start, timer: null };
      w.timer = setInterval(() => {
        const x = rssBytes(server.pid) + (kind === 'redis' ? childrenPrivate(server.pid) : 0);
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
        const i = await infoFields(conn, 'persistence');
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
      const i = await infoFields(conn, 'persistence');
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
  const opts = benchOptions(USAGE, ['record', 'no-redis']);
  if (opts === null) return 0;
  const o = intOptions(opts, { keys: 1_000_000, 'value-size': 100, chunk: 50_000, chunks: 4, rounds: 3, clients: 50 });
  installCleanup();
  const pin = pinning();
  const res = [];
  for (const k of serverKinds(opts)) res.push(await run(k, o, pin));
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
    recordRun(
      'persistence-bgsave',
      { pin },
      `${o.keys} keys × ${o.valueSize}-byte values (pipelined SETs of the keys redis-benchmark -r writes); load: redis-benchmark -t set -r ${o.keys} -c ${o.clients} -P 1 in chunks of ${o.chunk} requests (${o.chunks} chunks without a save; during BGSAVE, chunks until it ends, at least ${o.chunks}); ${o.rounds} rounds per server, medians over rounds (p99 ratio: median of the per-round ratios). RSS growth: peak RSS during a window minus RSS at its start (redis-server: parent RSS + the fork child's private pages); the BGSAVE window is followed by a window as long with the same load and no save, and the difference is what the save itself costs (cacheside's heap grows under write load alone, before V8 collects).`,
      markdownTable(headers, rows),
    );
  }
  return 0;
}

runMain(main);
