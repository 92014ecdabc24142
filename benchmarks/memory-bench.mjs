#!/usr/bin/env node
// Memory benchmark: load N keys (default 1,000,000 × 100-byte values) into
// cacheside and into a real redis-server, then compare memory per key.
// Expects `npm run build` to have produced dist/. See benchmarks/README.md.
import { Conn, RespError, UsageError, benchOptions, haveReference, installCleanup, intOptions, markdownTable, pinning, recordRun, redisVersion, rssBytes, runMain, sleep, startPair, textTable, withTimeout } from './bench-kit.mjs';

const USAGE = `usage: node benchmarks/memory-bench.mjs [options]
  --keys 1000000      number of distinct keys (key:0 .. key:N-1)
  --value-size 100    bytes per value
  --batch 10000       SET commands per pipelined batch
  --settle 2000       ms to wait after loading before measuring
  --record            append the results to benchmarks/RESULTS.md`;

/** `used_memory` from an INFO memory reply, or NaN if the server does not report it. */
async function usedMemory(conn) {
  const reply = await withTimeout(conn.call('INFO', 'memory'), 10_000, 'INFO memory timed out');
  if (typeof reply !== 'string') return NaN;
  const m = /^used_memory:(\d+)\r?$/m.exec(reply);
  return m ? Number(m[1]) : NaN;
}

function value(i, size) {
  return `${i}:`.padEnd(size, 'x').slice(0, size);
}

/** SET key:<i> <value> for i in [0, keys), pipelined in batches, waiting for every batch's replies. */
async function load(server, conn, { keys, valueSize, batch }) {
  const started = Date.now();
  let nextReport = 100_000;
  for (let start = 0; start < keys; start += batch) {
    const end = Math.min(keys, start + batch);
    const parts = [];
    for (let i = start; i < end; i++) {
      const k = `key:${i}`;
      const v = value(i, valueSize);
      parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
    }
    conn.write(Buffer.from(parts.join(''), 'latin1'));
    const replies = [];
    for (let i = start; i < end; i++) replies.push(conn.read());
    const results = await withTimeout(Promise.all(replies), 120_000, `${server.name}: no replies to a batch of SETs within 120 s`);
    const err = results.find((r) => r instanceof RespError);
    if (err) throw new Error(`${server.name}: SET failed: -${err.message}`);
    if (!server.alive()) throw new Error(`${server.name} died while loading`);
    if (end >= nextReport || end === keys) {
      process.stderr.write(`\r  ${server.name}: ${end}/${keys} keys (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      nextReport += 100_000;
    }
  }
  process.stderr.write('\n');
}

async function measure(server, opts) {
  const conn = await Conn.connect(server.port);
  try {
    const before = { rss: rssBytes(server.pid), used: await usedMemory(conn) };
    await load(server, conn, opts);
    await sleep(opts.settle);
    const after = { rss: rssBytes(server.pid), used: await usedMemory(conn) };
    const dbsize = await withTimeout(conn.call('DBSIZE'), 10_000, 'DBSIZE timed out');
    return {
      name: server.name,
      dbsize: typeof dbsize === 'number' ? dbsize : NaN,
      rssBefore: before.rss,
      rssAfter: after.rss,
      rssDelta: after.rss - before.rss,
      usedBefore: before.used,
      usedAfter: after.used,
      usedDelta: after.used - before.used,
    };
  } finally {
    conn.close();
  }
}

const mib = (b) => (Number.isFinite(b) ? (b / 1024 / 1024).toFixed(1) : 'n/a');
const perKey = (b, n) => (Number.isFinite(b) && n > 0 ? (b / n).toFixed(1) : 'n/a');
const ratio = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

async function main() {
  const opts = benchOptions(USAGE, ['record']);
  if (opts === null) return 0;
  for (const k of Object.keys(opts)) {
    if (!['keys', 'value-size', 'batch', 'settle', 'record', 'help'].includes(k)) throw new UsageError(`unknown option --${k}\n${USAGE}`);
  }
  const { keys, valueSize, batch } = intOptions(opts, { keys: 1_000_000, 'value-size': 100, batch: 10_000 });
  const settle = opts.settle === undefined ? 2000 : Number(opts.settle);
  if (!(settle >= 0)) throw new UsageError('--settle must be >= 0');

  const pin = pinning();
  console.log(`# ${pin.note}`);
  const haveRedis = haveReference();

  installCleanup();
  const servers = [];
  const results = [];
  let exitCode = 0;
  try {
    if (!(await startPair(servers, pin.server, haveRedis))) return 2;
    for (const s of servers) console.log(`# ${s.name} on port ${s.port} (pid ${s.pid}): ${s.cmd}`);
    console.log(`# loading ${keys} keys (key:<i>) with ${valueSize}-byte values, batches of ${batch}`);
    for (const s of servers) results.push(await measure(s, { keys, valueSize, batch, settle }));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }

  for (const r of results) {
    if (r.dbsize !== keys) {
      exitCode = 1;
      console.error(`! ${r.name}: DBSIZE is ${r.dbsize}, expected ${keys}`);
    }
  }
  const headers = ['server', 'DBSIZE', 'used_memory Δ (MiB)', 'used_memory B/key', 'RSS Δ (MiB)', 'RSS B/key'];
  const rows = results.map((r) => [
    r.name === 'redis-server' ? `redis-server ${redisVersion() ?? ''}`.trim() : r.name,
    r.dbsize,
    mib(r.usedDelta),
    perKey(r.usedDelta, r.dbsize),
    mib(r.rssDelta),
    perKey(r.rssDelta, r.dbsize),
  ]);
  const cs = results.find((r) => r.name === 'cacheside');
  const rd = results.find((r) => r.name === 'redis-server');
  const lines = [];
  if (rd) {
    const csRss = cs.rssDelta / cs.dbsize;
    lines.push(`cacheside RSS/key ÷ redis used_memory/key = ${ratio(csRss / (rd.usedDelta / rd.dbsize))}`);
    lines.push(`cacheside RSS/key ÷ redis RSS/key = ${ratio(csRss / (rd.rssDelta / rd.dbsize))}`);
    if (Number.isFinite(cs.usedDelta)) {
      lines.push(`cacheside used_memory/key ÷ redis used_memory/key = ${ratio(cs.usedDelta / cs.dbsize / (rd.usedDelta / rd.dbsize))}`);
    }
  } else {
    lines.push('reference missing: redis-server not installed');
  }
  const where = `${keys} keys × ${valueSize}-byte values; Δ = after loading (+${settle} ms settle) minus before; RSS from /proc/<pid>/status VmRSS`;
  console.log(`\n${where}\n`);
  console.log(textTable(headers, rows));
  console.log(`\n${lines.join('\n')}`);

  if (opts.record) {
    recordRun('memory-bench', { pin, servers }, `${where}.`, markdownTable(headers, rows), lines.map((l) => `- ${l}`).join('\n'));
  }
  return exitCode;
}

runMain(main);
