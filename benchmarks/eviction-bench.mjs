#!/usr/bin/env node
// Eviction benchmark (issue #6).
//  1. Hit ratio under a Zipfian workload (skew 0.99) over ten times more keys
//     than fit in maxmemory, cache-aside style (GET; on a miss, SET), for
//     allkeys-lru and allkeys-lfu, against cacheside and a real redis-server
//     with the same maxmemory in the same run, and against an exact LRU
//     (lru-cache) computed here on the same trace, holding as many keys as
//     each server held.
//  2. Throughput of SET under constant eviction vs SET with no maxmemory
//     (redis-benchmark, random keys), for cacheside and, as the reference,
//     for redis-server measured the same way in the same run; pipelined
//     (-P 16) and not (-P 1, a quarter of the requests).
// Expects `npm run build`. See benchmarks/README.md.
import os from 'node:os';
import { LRUCache } from 'lru-cache';
import { Conn, RespError, sleep, UsageError, benchmarkRps, describeEnvironment, encodeCommand, installCleanup, invocation, markdownTable, median, mulberry32, parseArgs, pinning, positiveInt, recordResults, runMain, serverCpu, startKind, textTable, which } from './bench-kit.mjs';

const USAGE = `usage: node benchmarks/eviction-bench.mjs [options]
  --maxmemory-mb 64     maxmemory of both servers
  --value-size 500      bytes per value
  --requests 1500000    measured requests per run (after as many warm-up requests)
  --batch 200           GETs per pipelined batch (misses then SET in one batch)
  --set-n 1000000       requests per redis-benchmark SET run
  --reps 3              redis-benchmark repetitions per configuration
  --pipeline 16,1       redis-benchmark -P values of the SET part (-P 1 runs set-n / 4 requests)
  --parts hit,set       which parts to run: hit (hit ratios), set (SET throughput)
  --policies allkeys-lru,allkeys-lfu   policies of the hit-ratio part
  --quick               requests and set-n divided by 5
  --record              append the results to benchmarks/RESULTS.md`;

const MB = 1024 * 1024;

/** `n` key indexes drawn from Zipf(skew) over `keys` ranks, ranks shuffled onto key ids. */
function zipfTrace(keys, skew, n, seed) {
  const rand = mulberry32(seed);
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let r = 0; r < keys; r++) cdf[r] = sum += 1 / Math.pow(r + 1, skew);
  const perm = new Uint32Array(keys);
  for (let i = 0; i < keys; i++) perm[i] = i;
  for (let i = keys - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const trace = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand() * sum;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    trace[i] = perm[lo];
  }
  return trace;
}

/** Cache-aside over the trace; returns the hit ratio of the part after `warmup` requests. */
async function runTrace(conn, trace, warmup, batch, value) {
  let hits = 0;
  let counted = 0;
  for (let start = 0; start < trace.length; start += batch) {
    const end = Math.min(trace.length, start + batch);
    const parts = [];
    for (let i = start; i < end; i++) parts.push(encodeCommand(['GET', `key:${trace[i]}`]));
    conn.write(Buffer.concat(parts));
    const misses = [];
    for (let i = start; i < end; i++) {
      const r = await conn.read();
      if (r instanceof RespError) throw new Error(`GET: -${r.message}`);
      const hit = r !== null;
      if (i >= warmup) {
        counted++;
        if (hit) hits++;
      }
      if (!hit) misses.push(trace[i]);
    }
    if (misses.length > 0) {
      conn.write(Buffer.concat(misses.map((k) => encodeCommand(['SET', `key:${k}`, value]))));
      for (let j = 0; j < misses.length; j++) {
        const r = await conn.read();
        if (r instanceof RespError) throw new Error(`SET: -${r.message}`);
      }
    }
  }
  return hits / counted;
}

function lruReference(trace, warmup, capacity) {
  const c = new LRUCache({ max: capacity });
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    const k = trace[i];
    if (c.get(k) !== undefined) {
      if (i >= warmup) hits++;
    } else c.set(k, 1);
  }
  return hits / (trace.length - warmup);
}

async function dbsize(conn) {
  return Number(await conn.call('DBSIZE'));
}

/** SET throughput of redis-benchmark (random keys of 100 bytes, 50 clients, `pipeline` commands in flight each). */
function benchSet(server, n, pin, pipeline = 16) {
  return benchmarkRps(server, 'SET', ['-t', 'set', '-r', '10000000', '-d', '100', '-n', String(n), '-P', String(pipeline), '-c', '50'], { pin });
}

/** The server's CPU seconds so far, over a connection of its own. */
async function serverCpuOf(server) {
  const conn = await Conn.connect(server.port);
  try {
    return await serverCpu(conn);
  } finally {
    conn.close();
  }
}

const loadAverage = () => os.loadavg()[0].toFixed(2);

async function main() {
  const args = parseArgs(process.argv.slice(2), ['record', 'quick']);
  const quick = args.quick === true;
  const parts = new Set(String(args.parts ?? 'hit,set').split(','));
  for (const p of parts) if (p !== 'hit' && p !== 'set') throw new UsageError(`--parts: unknown part ${p}`);
  const maxmemoryMb = positiveInt(args['maxmemory-mb'] ?? '64', 'maxmemory-mb');
  const valueSize = positiveInt(args['value-size'] ?? '500', 'value-size');
  const requests = Math.floor(positiveInt(args.requests ?? '1500000', 'requests') / (quick ? 5 : 1));
  const batch = positiveInt(args.batch ?? '200', 'batch');
  const setN = Math.floor(positiveInt(args['set-n'] ?? '1000000', 'set-n') / (quick ? 5 : 1));
  const reps = positiveInt(args.reps ?? '3', 'reps');
  const pipelines = String(args.pipeline ?? '16,1').split(',').map((x) => positiveInt(x, 'pipeline'));
  installCleanup();
  const pin = pinning();
  const haveRedis = Boolean(which('redis-server'));
  const value = 'v'.repeat(valueSize);
  const maxmemory = maxmemoryMb * MB;
  // "Fit": keys of this value size in maxmemory at ~100 bytes of overhead per key; ten times as many exist.
  const fit = Math.floor(maxmemory / (valueSize + 100));
  const keys = 10 * fit;
  const trace = zipfTrace(keys, 0.99, 2 * requests, 42);
  console.log(`maxmemory ${maxmemoryMb} MB, ${valueSize}-byte values, ${keys} keys (10 × ${fit}), Zipf 0.99, ${requests} warm-up + ${requests} measured requests`);

  const loadStart = loadAverage();
  const rows = [];
  const policies = String(args.policies ?? 'allkeys-lru,allkeys-lfu').split(',');
  for (const policy of parts.has('hit') ? policies : []) {
    const row = { policy };
    for (const kind of haveRedis ? ['cacheside', 'redis'] : ['cacheside']) {
      const extra = ['--maxmemory', `${maxmemoryMb}mb`, '--maxmemory-policy', policy];
      // LFU counters decay once per lfu-decay-time (1) minute, on the wall clock: a run that crosses
      // a minute boundary loses ~0.6 points of hit ratio (seen in both servers: 78.9% vs 79.6%), and
      // the slower server crosses one more often. Each LFU run starts just after a boundary, so that
      // no run (~25 s) crosses one and the policies are compared on the same trace alone.
      if (policy.endsWith('-lfu')) await sleep(60_500 - (Date.now() % 60_000));
      const srv = await startKind(kind, pin.server, { extra });
      try {
        const conn = await Conn.connect(srv.port);
        const t0 = Date.now();
        const ratio = await runTrace(conn, trace, requests, batch, value);
        const held = await dbsize(conn);
        conn.close();
        row[kind] = { ratio, held, seconds: (Date.now() - t0) / 1000 };
        console.log(`  ${policy} ${kind}: hit ratio ${(ratio * 100).toFixed(2)}%, ${held} keys held, ${row[kind].seconds.toFixed(1)} s`);
      } finally {
        await srv.stop();
      }
    }
    row.lruCacheside = lruReference(trace, requests, row.cacheside.held);
    if (row.redis) row.lruRedis = lruReference(trace, requests, row.redis.held);
    rows.push(row);
  }

  // Throughput: SET with constant eviction vs SET without maxmemory, alternating; per repetition the
  // ratio of req/s and the server CPU time per request (steadier on a shared machine). The same for
  // redis-server: the reference for what eviction costs a server.
  const setRuns = [];
  for (const kind of parts.has('set') ? (haveRedis ? ['cacheside', 'redis'] : ['cacheside']) : []) {
    for (const pipeline of pipelines) {
      const n = pipeline === 1 ? Math.ceil(setN / 4) : setN;
      const run = { kind, pipeline, n, rates: { evicting: [], unlimited: [] }, cpu: { evicting: [], unlimited: [] } };
      for (let rep = 0; rep < reps; rep++) {
        for (const mode of rep % 2 === 0 ? ['evicting', 'unlimited'] : ['unlimited', 'evicting']) {
          const extra = mode === 'evicting' ? ['--maxmemory', `${maxmemoryMb}mb`, '--maxmemory-policy', 'allkeys-lru'] : [];
          const srv = await startKind(kind, pin.server, { extra });
          try {
            if (mode === 'evicting') await benchSet(srv, Math.max(setN, Math.ceil((2 * maxmemory) / 250)), pin.client); // fill past the limit first
            const c0 = await serverCpuOf(srv);
            const rps = await benchSet(srv, n, pin.client, pipeline);
            const cpuUs = ((await serverCpuOf(srv)) - c0) * 1e6 / n;
            run.rates[mode].push(rps);
            run.cpu[mode].push(cpuUs);
            console.log(`  ${kind} SET -P ${pipeline} ${mode}: ${rps.toFixed(0)} req/s, ${cpuUs.toFixed(2)} µs CPU/request`);
          } finally {
            await srv.stop();
          }
        }
      }
      run.rateRatios = run.rates.evicting.map((x, i) => x / run.rates.unlimited[i]);
      run.cpuRatios = run.cpu.evicting.map((x, i) => run.cpu.unlimited[i] / x);
      setRuns.push(run);
    }
  }
  const loadEnd = loadAverage();

  const pct = (x) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`);
  const hitHeaders = ['policy', 'cacheside hit ratio', 'keys held', 'redis hit ratio', 'keys held', 'exact LRU (cacheside size)', 'exact LRU (redis size)'];
  const hitRows = rows.map((r) => [
    r.policy,
    pct(r.cacheside.ratio),
    r.cacheside.held,
    pct(r.redis?.ratio),
    r.redis?.held ?? 'n/a',
    pct(r.lruCacheside),
    pct(r.lruRedis),
  ]);
  const setHeaders = ['SET (redis-benchmark -c 50 -d 100, random keys)', 'req/s (median)', 'runs', 'server CPU/request (median)', 'runs'];
  const us = (xs) => xs.map((x) => x.toFixed(2)).join(', ');
  const setRows = setRuns.flatMap((r) => {
    const who = `${r.kind === 'redis' ? 'redis-server' : 'cacheside'} -P ${r.pipeline}`;
    return [
      [`${who}: no maxmemory`, median(r.rates.unlimited).toFixed(0), r.rates.unlimited.map((x) => x.toFixed(0)).join(', '), `${median(r.cpu.unlimited).toFixed(2)} µs`, us(r.cpu.unlimited)],
      [`${who}: maxmemory ${maxmemoryMb}mb allkeys-lru, evicting`, median(r.rates.evicting).toFixed(0), r.rates.evicting.map((x) => x.toFixed(0)).join(', '), `${median(r.cpu.evicting).toFixed(2)} µs`, us(r.cpu.evicting)],
      [`**${who}: evicting / unlimited** (median of the per-repetition ratios; CPU: unlimited ÷ evicting)`, median(r.rateRatios).toFixed(2), us(r.rateRatios), median(r.cpuRatios).toFixed(2), us(r.cpuRatios)],
    ];
  });
  if (rows.length > 0) console.log('\n' + textTable(hitHeaders, hitRows));
  if (setRows.length > 0) console.log('\n' + textTable(setHeaders, setRows));
  console.log(`\nload average (1 min) at start ${loadStart}, at end ${loadEnd}`);
  if (!haveRedis) console.log('\nredis-server not installed: no Redis comparison');

  if (args.record) {
    const body = [
      `\`${invocation()}\``,
      '',
      describeEnvironment(pin),
      `load average (1 min) at start ${loadStart}, at end ${loadEnd}`,
      ...(rows.length > 0
        ? [
            '',
            `Hit ratio: maxmemory ${maxmemoryMb} MB in both servers, ${valueSize}-byte values, ${keys} keys (ten times the ${fit} that fit at ~${valueSize + 100} bytes a key), ` +
              `Zipf skew 0.99 (seeded trace, the same for every run), cache-aside (GET, then SET on a miss, pipelined by ${batch}); ${requests} warm-up requests, then ${requests} measured. ` +
              'The exact LRU is lru-cache replaying the same trace with room for as many keys as the server held at the end. ' +
              'LFU runs start just after a minute boundary (LFU counters decay per minute of wall clock; a run crossing one loses ~0.6 points in either server).',
            '',
            markdownTable(hitHeaders, hitRows),
          ]
        : []),
      ...(setRows.length > 0
        ? [
            '',
            `SET throughput under constant eviction (the evicting server is filled past its limit first, a fresh server per run), ${reps} alternating repetitions of ${setN} requests (-P 1: ${Math.ceil(setN / 4)}), cacheside then redis-server:`,
            '',
            markdownTable(setHeaders, setRows),
          ]
        : []),
      haveRedis ? '' : '\nredis-server not installed: no Redis comparison.',
    ].join('\n');
    recordResults('eviction-bench', body);
  }
}

runMain(main, USAGE);
