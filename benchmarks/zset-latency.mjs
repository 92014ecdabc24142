#!/usr/bin/env node
// Sorted-set latency on a big set: builds a 1,000,000-member sorted set in
// cacheside and in a real redis-server (for reference) with pipelined ZADDs,
// then measures single commands one at a time (each waits for its reply):
// ZADD of a new member, ZRANGE 0 10, ZRANGE at a random rank, and
// ZRANGEBYSCORE over a narrow random score window (~10 members). Reports the
// median and p99 latency per command; the goal (issue #3) is under 1 ms for
// cacheside. Expects `npm run build` to have produced dist/.
//
// To tell where a tail comes from, it also reports per command the calls
// slower than 1 ms, cacheside's GC pauses during the measured calls (it runs
// with --trace-gc, which prints one line per GC; --no-trace-gc turns that
// off) and this script's own GC pauses (perf_hooks). When the servers are
// pinned to CPU 0, this script pins itself (all its threads) to CPU 1.
//
// Two passes: "cold", the first calls right after the build (100 warm-up
// calls per command), and "warm", measured again after --warmup more calls
// of every command. A Node server spends its first ~1-2 thousand one-at-a-
// time calls after a pipelined build optimizing the single-call path (~80
// functions: socket read/write, dispatch, the commands), with TurboFan on a
// helper thread that shares the server's CPU: the cold pass shows that
// one-off cost, the warm pass the steady state.
//
//   node benchmarks/zset-latency.mjs [--members 1000000] [--calls 1000] [--record]
import { Conn, UsageError, benchOptions, haveReference, installCleanup, intOptions, markdownTable, mulberry32, pinning, recordRun, runMain, serverCpu, startCacheside, startRedis, textTable } from './bench-kit.mjs';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';

const USAGE = `usage: node benchmarks/zset-latency.mjs [options]
  --members 1000000   size of the sorted set
  --calls 1000        measured calls per command (one at a time), after 100 warm-up calls
  --batch 1000        members per ZADD while building
  --inflight 32       ZADDs in flight while building
  --warmup 3000       calls of each command between the cold and the warm pass
  --no-trace-gc       run cacheside without --trace-gc (no server GC pause counts)
  --record            append the results to benchmarks/RESULTS.md`;

/** Scores are integers in [0, SCORE_RANGE): a window of SCORE_RANGE / members * 10 holds ~10 members. */
const SCORE_RANGE = 1_000_000_000;
const KEY = 'zlat';

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

// ---------------------------------------------------------------------------
// GC pauses

/** A V8 --trace-gc line: `[pid:0x..]   1234 ms: Scavenge 78.1 (80.2) -> 77.3 (80.2) MB, 0.33 / 0.00 ms ...`. */
const GC_LINE = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: ([A-Za-z -]+?)(?: \(reduce\))? [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+) \/ [\d.]+ ms(.*)$/;

/**
 * The GC pauses a server printed with --trace-gc, read from its captured
 * output (which keeps only its last 64 KiB: poll often enough). Incremental
 * marking steps, reported on the Mark-Compact line, count as one more pause
 * of the size of the biggest step.
 */
class GcTracker {
  constructor(server) {
    this.server = server;
    this.lastLine = null;
    this.events = [];
  }

  /** Reads the GC lines printed since the last poll. */
  poll() {
    const lines = this.server.output().split('\n');
    lines.pop(); // maybe incomplete
    let start = 0;
    if (this.lastLine !== null) {
      const i = lines.lastIndexOf(this.lastLine);
      if (i >= 0) start = i + 1;
    }
    for (let i = start; i < lines.length; i++) {
      const m = GC_LINE.exec(lines[i]);
      if (m === null) continue;
      this.lastLine = lines[i];
      this.events.push({ kind: m[2], pause: Number(m[3]) });
      const step = /biggest step ([\d.]+) ms/.exec(m[4]);
      if (step !== null && Number(step[1]) > 0) this.events.push({ kind: 'incremental marking step', pause: Number(step[1]) });
    }
    return this.events.length;
  }

  /** The pauses recorded from event index `from` on. */
  since(from) {
    return this.events.slice(from).map((e) => e.pause);
  }
}

/** This process's own GC pauses (ms), with their start times (performance.now()). */
const clientGc = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) clientGc.push({ start: e.startTime, pause: e.duration });
}).observe({ entryTypes: ['gc'] });

/** "n pauses, max x ms, k ≥ 1 ms" for a list of pause lengths. */
function describePauses(pauses) {
  if (pauses === null) return 'n/a';
  if (pauses.length === 0) return '0';
  const max = Math.max(...pauses);
  const big = pauses.filter((p) => p >= 1).length;
  return `${pauses.length}, max ${max.toFixed(2)} ms, ${big} ≥ 1 ms`;
}

/**
 * CPU ms used so far by a process's main thread and by its other threads
 * (for a node server: V8's GC and compiler helpers, libuv's pool), from
 * /proc (10 ms resolution); null where /proc is missing.
 */
function threadCpu(pid) {
  try {
    const tick = 10; // USER_HZ = 100
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(f[11]) + Number(f[12])) * tick; // utime, stime (fields 14, 15)
      if (Number(tid) === pid) main += ms;
      else others += ms;
    }
    return { main, others };
  } catch {
    return null;
  }
}

/** Pins every thread of this process to `cpu`; true when it worked. */
function pinSelf(cpu) {
  return spawnSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** Builds the set with pipelined ZADDs; returns the build time in ms. `poll` runs after every round of batches. */
async function build(conn, members, batch, inflight, poll) {
  const rnd = mulberry32(12345);
  await conn.call('DEL', KEY);
  const t0 = performance.now();
  let pending = [];
  for (let start = 0; start < members; start += batch) {
    const argv = ['ZADD', KEY];
    for (let i = start; i < Math.min(members, start + batch); i++) argv.push(String(Math.floor(rnd() * SCORE_RANGE)), `member:${i}`);
    pending.push(conn.call(...argv));
    if (pending.length >= inflight) {
      const replies = await Promise.all(pending);
      for (const r of replies) if (r instanceof Error) throw new Error(`ZADD failed: ${r.message}`);
      pending = [];
      poll();
    }
  }
  for (const r of await Promise.all(pending)) if (r instanceof Error) throw new Error(`ZADD failed: ${r.message}`);
  const ms = performance.now() - t0;
  const card = await conn.call('ZCARD', KEY);
  if (card !== members) throw new Error(`ZCARD is ${card}, expected ${members}`);
  return ms;
}

/** The measured operations: name → argv for call number i (deterministic per server). */
function operations(members) {
  const window = Math.max(1, Math.round((SCORE_RANGE / members) * 10));
  return [
    { name: 'ZADD (new member)', argv: (i, rnd) => ['ZADD', KEY, String(Math.floor(rnd() * SCORE_RANGE)), `new:${i}`] },
    { name: 'ZRANGE 0 10', argv: () => ['ZRANGE', KEY, '0', '10'] },
    {
      name: 'ZRANGE r r+10 (random rank)',
      argv: (_i, rnd) => {
        const r = Math.floor(rnd() * (members - 11));
        return ['ZRANGE', KEY, String(r), String(r + 10)];
      },
    },
    {
      name: `ZRANGEBYSCORE min min+${window} (~10 members)`,
      argv: (_i, rnd) => {
        const min = Math.floor(rnd() * (SCORE_RANGE - window));
        return ['ZRANGEBYSCORE', KEY, String(min), String(min + window)];
      },
    },
  ];
}

/**
 * Latencies (ms, sorted) of `calls` commands sent one at a time, after
 * `warmup` unmeasured ones, with the GC pauses of the server (null when not
 * traced) and of this script during the measured calls.
 */
async function measure(conn, op, calls, warmup, seed, offset, gc, pid) {
  const rnd = mulberry32(seed);
  for (let i = 0; i < warmup; i++) {
    const r = await conn.call(...op.argv(offset + i, rnd));
    if (r instanceof Error) throw new Error(`${op.name}: ${r.message}`);
  }
  const gcFrom = gc === null ? 0 : gc.poll();
  const cpu0 = gc === null ? null : threadCpu(pid);
  const t0 = performance.now();
  const lat = new Array(calls);
  for (let i = 0; i < calls; i++) {
    const argv = op.argv(offset + warmup + i, rnd);
    const t0 = process.hrtime.bigint();
    const r = await conn.call(...argv);
    lat[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r instanceof Error) throw new Error(`${op.name}: ${r.message}`);
  }
  const t1 = performance.now();
  const cpu1 = cpu0 === null ? null : threadCpu(pid);
  await new Promise((resolve) => setImmediate(resolve)); // let the GC observer report
  if (gc !== null) gc.poll();
  return {
    lat: lat.sort((a, b) => a - b),
    serverGc: gc === null ? null : gc.since(gcFrom),
    wallMs: t1 - t0,
    serverCpu: cpu0 === null || cpu1 === null ? null : { main: cpu1.main - cpu0.main, others: cpu1.others - cpu0.others },
    clientGc: clientGc.filter((e) => e.start >= t0 && e.start < t1).map((e) => e.pause),
  };
}

async function main() {
  const opts = benchOptions(USAGE, ['record', 'no-trace-gc']);
  if (opts === null) return 0;
  for (const k of Object.keys(opts)) {
    if (!['members', 'calls', 'batch', 'inflight', 'warmup', 'no-trace-gc', 'record', 'help'].includes(k)) throw new UsageError(`unknown option --${k}\n${USAGE}`);
  }
  const { members, calls, batch, inflight, warmup: warmupMore } = intOptions(opts, { members: 1_000_000, calls: 1000, batch: 1000, inflight: 32, warmup: 3000 });
  const warmup = 100;
  if (members < 20) throw new UsageError('--members must be at least 20');

  const traceGc = !opts['no-trace-gc'];
  const pin = pinning();
  const clientPinned = pin.enabled && pinSelf(1);
  const clientNote = clientPinned ? 'this script (the client) pinned to CPU 1' : 'this script (the client) is not pinned';
  console.log(`# ${pin.note}; ${clientNote}`);
  const haveRedis = haveReference();
  installCleanup();
  const servers = [];
  const conns = [];
  try {
    servers.push(await startCacheside(pin.server, { nodeArgs: traceGc ? ['--trace-gc'] : [] }));
    if (haveRedis) servers.push(await startRedis(pin.server));
    for (const s of servers) console.log(`# ${s.name} on port ${s.port}: ${s.cmd}`);
    for (const s of servers) conns.push(await Conn.connect(s.port));

    const gcs = servers.map((s, i) => (i === 0 && traceGc ? new GcTracker(s) : null));
    const buildMs = [];
    const buildCpu = [];
    const buildGc = [];
    for (let i = 0; i < servers.length; i++) {
      const gc = gcs[i];
      const gcFrom = gc === null ? 0 : gc.poll();
      const cpu0 = await serverCpu(conns[i]);
      const ms = await build(conns[i], members, batch, inflight, () => gc?.poll());
      buildMs.push(ms);
      buildCpu.push((await serverCpu(conns[i])) - cpu0);
      if (gc !== null) gc.poll();
      buildGc.push(gc === null ? null : gc.since(gcFrom));
      console.error(
        `  built ${members} members in ${servers[i].name}: ${(ms / 1000).toFixed(1)} s (${Math.round(members / (ms / 1000))} members/s), server CPU ${buildCpu[i].toFixed(1)} s`,
      );
    }

    const ops = operations(members);
    // passes[p][server][op]: the cold pass right after the build, then the warm one.
    const passes = [];
    let offset = 0;
    for (const wu of [warmup, warmupMore]) {
      const results = servers.map(() => []);
      for (let o = 0; o < ops.length; o++) {
        // Alternate which server goes first from one command to the next.
        const order = o % 2 === 0 ? servers.map((_, i) => i) : servers.map((_, i) => i).reverse();
        for (const i of order) {
          // New ZADD members must not collide between calls; both servers get the same sequence.
          results[i][o] = await measure(conns[i], ops[o], calls, wu, 1000 + o + passes.length * 100, offset, gcs[i], servers[i].pid);
        }
        offset += calls + wu;
      }
      passes.push(results);
    }
    const [cold, results] = passes;
    const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');

    const fmt = (x) => x.toFixed(3);
    const headers = haveRedis
      ? ['command', 'cacheside median ms', 'cacheside p99 ms', 'redis median ms', 'redis p99 ms', 'cacheside < 1 ms (median / p99)', 'cold: cacheside p99 ms', 'cold: redis p99 ms']
      : ['command', 'cacheside median ms', 'cacheside p99 ms', 'cacheside < 1 ms (median / p99)', 'cold: cacheside p99 ms'];
    const rows = ops.map((op, o) => {
      const a = results[0][o].lat;
      const row = [op.name, fmt(percentile(a, 0.5)), fmt(percentile(a, 0.99))];
      if (haveRedis) row.push(fmt(percentile(results[1][o].lat, 0.5)), fmt(percentile(results[1][o].lat, 0.99)));
      const yes = (x) => (x < 1 ? 'yes' : 'NO');
      row.push(`${yes(percentile(a, 0.5))} / ${yes(percentile(a, 0.99))}`, fmt(percentile(cold[0][o].lat, 0.99)));
      if (haveRedis) row.push(fmt(percentile(cold[1][o].lat, 0.99)));
      return row;
    });
    // Where the tail comes from: slow calls next to the GC pauses in the same window.
    const slow = (r) => r.lat.filter((x) => x >= 1).length;
    const tailHeaders = haveRedis
      ? ['command', 'cacheside calls ≥ 1 ms', 'cacheside GC pauses', 'cacheside CPU ms: main / other threads / wall', 'client GC pauses (cacheside run)', 'redis calls ≥ 1 ms', 'client GC pauses (redis run)']
      : ['command', 'cacheside calls ≥ 1 ms', 'cacheside GC pauses', 'cacheside CPU ms: main / other threads / wall', 'client GC pauses'];
    const cpuOf = (r) => (r.serverCpu === null ? 'n/a' : `${r.serverCpu.main} / ${r.serverCpu.others} / ${Math.round(r.wallMs)}`);
    const tailRows = passes.flatMap((res, p) =>
      ops.map((op, o) => {
        const a = res[0][o];
        const row = [`${p === 0 ? 'cold' : 'warm'}: ${op.name}`, String(slow(a)), describePauses(a.serverGc), cpuOf(a), describePauses(a.clientGc)];
        if (haveRedis) row.push(String(slow(res[1][o])), describePauses(res[1][o].clientGc));
        return row;
      }),
    );
    const buildGcNote = traceGc
      ? `cacheside GC during the build: ${describePauses(buildGc[0])}, ${buildGc[0].reduce((x, y) => x + y, 0).toFixed(0)} ms in all`
      : 'cacheside GC not traced (--no-trace-gc)';
    const card = await conns[0].call('ZCARD', KEY);
    const where = `sorted set of ${members} members (${card} at the end), ${calls} calls per command one at a time, measured twice: cold (right after the build, after ${warmup} warm-up calls) and warm (after ${warmupMore} more calls of each command; median and p99 columns); load average at the end: ${load}`;
    const built = servers.map((s, i) => `${s.name} ${(buildMs[i] / 1000).toFixed(1)} s (server CPU ${buildCpu[i].toFixed(1)} s)`).join(', ');
    console.log(`\n${where}\nbuild (pipelined ZADD × ${batch} members, ${inflight} in flight): ${built}; ${buildGcNote}\n`);
    console.log(textTable(headers, rows));
    console.log(`\nduring the ${calls} measured calls of each command and pass:\n`);
    console.log(textTable(tailHeaders, tailRows));

    if (opts.record) {
      recordRun(
        'zset-latency',
        { pin, servers, environmentNote: `; ${clientNote}.` },
        `${where}. Latency is measured in the client (round trip over loopback, including the client's own RESP handling). Build (pipelined ZADD × ${batch} members, ${inflight} in flight): ${built}; ${buildGcNote}.`,
        markdownTable(headers, rows),
        `During the ${calls} measured calls of each command and pass (GC pauses: count, longest, how many ≥ 1 ms; cacheside's from --trace-gc, incremental marking steps included; the client's from perf_hooks. Cacheside CPU from /proc, 10 ms resolution: its main thread, its other threads — V8's concurrent GC and compiler helpers, which share CPU 0 with the main thread — and the wall time of the calls):`,
        markdownTable(tailHeaders, tailRows),
      );
    }
  } finally {
    for (const c of conns) c.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
  return 0;
}

runMain(main);
