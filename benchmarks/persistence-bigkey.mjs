#!/usr/bin/env node
// BGSAVE of one huge value while a client measures PING latency: does the
// snapshot stall the event loop when a single key holds millions of
// elements (or hundreds of MB)? For each kind of value:
//   1. fill one key (pipelined SADD / ZADD / HSET / RPUSH batches, or
//      SETRANGE + APPEND for a string) next to a few small keys;
//   2. a client sends PING after PING (one in flight) and records the gap
//      between consecutive replies; BGSAVE starts after a short idle window
//      and the loop runs until INFO says it has finished;
//   3. reported: the largest PING gap during the BGSAVE, the BGSAVE wall time
//      (rdb_last_bgsave_time_sec is too coarse: measured by polling), and the
//      idle baseline gap.
// cacheside's snapshot is forkless (serialized on the event loop in slices);
// redis-server forks, so its gaps are the fork itself.
import { Conn, benchOptions, describeEnvironment, encodeCommand, installCleanup, intOptions, invocation, markdownTable, pinning, recordResults, runMain, serverKinds, sleep, startKind, textTable, untilPersistenceIdle } from './bench-kit.mjs';

const USAGE = `usage: node benchmarks/persistence-bigkey.mjs [options]
  --members 2000000  elements of the set / zset / hash / list
  --string-mb 200    size of the big string (MB)
  --types set,zset,hash,list,string
  --aof              also BGREWRITEAOF (RDB preamble) after the BGSAVE
  --no-redis         cacheside only
  --record           append the results to benchmarks/RESULTS.md`;

const BATCH = 1000;

async function fill(c, type, n, stringMb) {
  const key = `big:${type}`;
  if (type === 'string') {
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < stringMb; i++) {
      c.write(encodeCommand(['APPEND', key, chunk.slice(0, 1024 * 1024 - 7) + String(i).padStart(7, '0')]));
      await c.read();
    }
    return key;
  }
  let pending = 0;
  for (let i = 0; i < n; i += BATCH) {
    const argv = type === 'set' ? ['SADD', key] : type === 'zset' ? ['ZADD', key] : type === 'hash' ? ['HSET', key] : ['RPUSH', key];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      if (type === 'zset') argv.push(String(j * 1.5), `member:${j}`);
      else if (type === 'hash') argv.push(`field:${j}`, `value:${j}`);
      else argv.push(`member:${j}`);
    }
    c.write(encodeCommand(argv));
    if (++pending >= 32) {
      while (pending > 0) {
        await c.read();
        pending--;
      }
    }
  }
  while (pending-- > 0) await c.read();
  return key;
}

/** PING after PING until stop(): the gaps between replies. */
function pinger(c) {
  let running = true;
  let max = 0;
  let last = performance.now();
  const done = (async () => {
    while (running) {
      await c.call('PING');
      const t = performance.now();
      max = Math.max(max, t - last);
      last = t;
    }
  })();
  return {
    reset() {
      max = 0;
      last = performance.now();
    },
    get max() {
      return max;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

async function measure(server, type, opts) {
  const c = await Conn.connect(server.port);
  const p = await Conn.connect(server.port);
  try {
    await c.call('FLUSHALL');
    for (let i = 0; i < 100; i++) await c.call('SET', `small:${i}`, 'v');
    const key = await fill(c, type, opts.members, opts.stringMb);
    const ping = pinger(p);
    await sleep(300);
    const idle = ping.max;
    const rows = [];
    for (const [what, cmd, field] of [['BGSAVE', 'BGSAVE', 'rdb_bgsave_in_progress'], ...(opts.aof ? [['BGREWRITEAOF', 'BGREWRITEAOF', 'aof_rewrite_in_progress']] : [])]) {
      await sleep(200);
      ping.reset();
      const t0 = performance.now();
      await c.call(cmd);
      await untilPersistenceIdle(c, [field], 5);
      const ms = performance.now() - t0;
      rows.push({ server: server.name, type, what, idle, gap: ping.max, ms });
    }
    await ping.stop();
    void key;
    return rows;
  } finally {
    c.close();
    p.close();
  }
}

async function main() {
  const args = benchOptions(USAGE, ['aof', 'no-redis', 'record']);
  if (args === null) return;
  const opts = { ...intOptions(args, { members: 2_000_000, 'string-mb': 200 }), aof: !!args.aof };
  const types = String(args.types ?? 'set,zset,hash,list,string').split(',');
  installCleanup();
  const pin = pinning();
  const rows = [];
  for (const kind of serverKinds(args)) {
    const s = await startKind(kind, pin.server);
    try {
      for (const t of types) {
        for (const r of await measure(s, t, opts)) {
          rows.push(r);
          console.log(`${r.server} ${r.type} ${r.what}: max PING gap ${r.gap.toFixed(1)} ms (idle ${r.idle.toFixed(1)} ms), ${r.ms.toFixed(0)} ms`);
        }
      }
    } finally {
      await s.stop();
    }
  }
  const headers = ['server', 'value', 'job', 'max PING gap (ms)', 'idle gap (ms)', 'job time (ms)'];
  const table = rows.map((r) => [r.server, r.type === 'string' ? `${opts.stringMb} MB string` : `${opts.members} ${r.type}`, r.what, r.gap.toFixed(1), r.idle.toFixed(1), r.ms.toFixed(0)]);
  console.log(textTable(headers, table));
  if (args.record) {
    recordResults('Persistence: BGSAVE of one huge value (PING latency)', `${describeEnvironment(pin)}\n\n\`${invocation()}\`\n\n${markdownTable(headers, table)}\n`);
  }
}

runMain(main, USAGE);
