#!/usr/bin/env node
// Sorted-set latency on a big set: builds a 1,000,000-member sorted set in
// cacheside and in a real redis-server (for reference) with pipelined ZADDs,
// then measures single commands one at a time (each waits for its reply):
// ZADD of a new member, ZRANGE 0 10, ZRANGE at a random rank, and
// ZRANGEBYSCORE over a narrow random score window (~10 members). Reports the
// median and p99 latency per command; the goal (issue #3) is under 1 ms for
// cacheside. Expects `npm run build` to have produced dist/.
//
//   node benchmarks/zset-latency.mjs [--members 1000000] [--calls 1000] [--record]
import {
  Conn,
  UsageError,
  describeEnvironment,
  installCleanup,
  invocation,
  markdownTable,
  parseArgs,
  pinning,
  positiveInt,
  recordResults,
  startCacheside,
  startRedis,
  textTable,
  which,
} from './resp-bench.mjs';
import os from 'node:os';

const USAGE = `usage: node benchmarks/zset-latency.mjs [options]
  --members 1000000   size of the sorted set
  --calls 1000        measured calls per command (one at a time), after 100 warm-up calls
  --batch 1000        members per ZADD while building
  --inflight 32       ZADDs in flight while building
  --record            append the results to benchmarks/RESULTS.md`;

/** Scores are integers in [0, SCORE_RANGE): a window of SCORE_RANGE / members * 10 holds ~10 members. */
const SCORE_RANGE = 1_000_000_000;
const KEY = 'zlat';

/** mulberry32: a small seeded PRNG, so both servers get the same set. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

/** Builds the set with pipelined ZADDs; returns the build time in ms. */
async function build(conn, members, batch, inflight) {
  const rnd = prng(12345);
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

/** Latencies (ms, sorted) of `calls` commands sent one at a time, after `warmup` unmeasured ones. */
async function measure(conn, op, calls, warmup, seed, offset) {
  const rnd = prng(seed);
  for (let i = 0; i < warmup; i++) {
    const r = await conn.call(...op.argv(offset + i, rnd));
    if (r instanceof Error) throw new Error(`${op.name}: ${r.message}`);
  }
  const lat = new Array(calls);
  for (let i = 0; i < calls; i++) {
    const argv = op.argv(offset + warmup + i, rnd);
    const t0 = process.hrtime.bigint();
    const r = await conn.call(...argv);
    lat[i] = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r instanceof Error) throw new Error(`${op.name}: ${r.message}`);
  }
  return lat.sort((a, b) => a - b);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2), ['record', 'help']);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  for (const k of Object.keys(opts)) {
    if (!['members', 'calls', 'batch', 'inflight', 'record', 'help'].includes(k)) throw new UsageError(`unknown option --${k}\n${USAGE}`);
  }
  const members = positiveInt(opts.members ?? 1_000_000, '--members');
  const calls = positiveInt(opts.calls ?? 1000, '--calls');
  const batch = positiveInt(opts.batch ?? 1000, '--batch');
  const inflight = positiveInt(opts.inflight ?? 32, '--inflight');
  const warmup = 100;
  if (members < 20) throw new UsageError('--members must be at least 20');

  const haveRedis = Boolean(which('redis-server'));
  const pin = pinning();
  console.log(`# ${pin.note}; this script (the client) is not pinned`);
  if (!haveRedis) console.log('# redis-server not found: reference missing, reporting cacheside only');
  installCleanup();
  const servers = [];
  const conns = [];
  try {
    servers.push(await startCacheside(pin.server));
    if (haveRedis) servers.push(await startRedis(pin.server));
    for (const s of servers) console.log(`# ${s.name} on port ${s.port}: ${s.cmd}`);
    for (const s of servers) conns.push(await Conn.connect(s.port));

    const buildMs = [];
    for (let i = 0; i < servers.length; i++) {
      const ms = await build(conns[i], members, batch, inflight);
      buildMs.push(ms);
      console.error(`  built ${members} members in ${servers[i].name}: ${(ms / 1000).toFixed(1)} s (${Math.round(members / (ms / 1000))} members/s)`);
    }

    const ops = operations(members);
    const results = servers.map(() => []);
    for (let o = 0; o < ops.length; o++) {
      // Alternate which server goes first from one command to the next.
      const order = o % 2 === 0 ? servers.map((_, i) => i) : servers.map((_, i) => i).reverse();
      for (const i of order) {
        // New ZADD members must not collide between calls; both servers get the same sequence.
        results[i][o] = await measure(conns[i], ops[o], calls, warmup, 1000 + o, o * (calls + warmup));
      }
    }
    const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');

    const fmt = (x) => x.toFixed(3);
    const headers = haveRedis
      ? ['command', 'cacheside median ms', 'cacheside p99 ms', 'redis median ms', 'redis p99 ms', 'cacheside < 1 ms (median / p99)']
      : ['command', 'cacheside median ms', 'cacheside p99 ms', 'cacheside < 1 ms (median / p99)'];
    const rows = ops.map((op, o) => {
      const a = results[0][o];
      const row = [op.name, fmt(percentile(a, 0.5)), fmt(percentile(a, 0.99))];
      if (haveRedis) row.push(fmt(percentile(results[1][o], 0.5)), fmt(percentile(results[1][o], 0.99)));
      const yes = (x) => (x < 1 ? 'yes' : 'NO');
      row.push(`${yes(percentile(a, 0.5))} / ${yes(percentile(a, 0.99))}`);
      return row;
    });
    const card = await conns[0].call('ZCARD', KEY);
    const where = `sorted set of ${members} members (${card} at the end), ${calls} calls per command one at a time after ${warmup} warm-up calls; load average at the end: ${load}`;
    const built = servers.map((s, i) => `${s.name} ${(buildMs[i] / 1000).toFixed(1)} s`).join(', ');
    console.log(`\n${where}\nbuild (pipelined ZADD × ${batch} members, ${inflight} in flight): ${built}\n`);
    console.log(textTable(headers, rows));

    if (opts.record) {
      const body = [
        `Command: \`${invocation()}\``,
        '',
        `Servers: ${servers.map((s) => `\`${s.cmd.replace(s.dir, '<tmpdir>').replace(`--port ${s.port}`, '--port <port>')}\``).join(', ')}`,
        '',
        `Environment: ${describeEnvironment(pin)}; the client (this script) is not pinned.`,
        '',
        `${where}. Latency is measured in the client (round trip over loopback, including the client's own RESP handling). Build (pipelined ZADD × ${batch} members, ${inflight} in flight): ${built}.`,
        '',
        markdownTable(headers, rows),
      ].join('\n');
      recordResults('zset-latency', body);
    }
  } finally {
    for (const c of conns) c.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof UsageError ? err.message : (err?.stack ?? String(err)));
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
