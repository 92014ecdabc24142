#!/usr/bin/env node
// HTTP sidecar benchmark (autocannon). Expects `npm run build` (dist/).
//
//   node benchmarks/http-bench.mjs [--duration 5] [--rounds 5] [--connections 50] [--quick] [--record]
//
// 1. Hit path, interleaved rounds, each server in its own process (pinned to
//    CPU 0 when taskset exists; autocannon runs here):
//      bare       a bare hono app serving the same 1 KiB body (the reference)
//      sidecar    the sidecar, in-process engine, L1 on      (cacheside start)
//      no-l1      the sidecar, in-process engine, L1 off     (every hit reads the engine)
//      resp       the sidecar, L1 off, engine over RESP      (cacheside proxy + cacheside server)
//    Reported: median req/s and p99 per server, and the median over rounds of
//    the per-round ratio server/bare (the target: sidecar >= 0.7x bare);
//    also the server's own CPU time per request and bare/x of it, which stays
//    meaningful on a machine busy with other work (req/s does not).
// 2. Stampede: 100 connections on a cold key whose upstream answers after
//    200 ms, no cache headers, route TTL 60 s: upstream requests (target 1) and p99.
// 3. wrk cross-check and nginx proxy_cache comparison when those are installed.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { CACHESIDE_CLI, describeEnvironment, getFreePort, invocation, markdownTable, median, parseArgs, pinning, positiveInt, recordResults, sleep, textTable, which } from './resp-bench.mjs';

const SELF = fileURLToPath(import.meta.url);
const DIST = path.join(path.dirname(SELF), '..', 'dist', 'index.js');
const BODY = Buffer.alloc(1024, 'x');

// ---------------------------------------------------------------------------
// child mode: one server per process
// ---------------------------------------------------------------------------

async function serve(kind, port, opts) {
  // The parent asks for our CPU time around each run (robust to a noisy machine).
  process.on('message', (m) => {
    if (m === 'cpu') process.send(process.cpuUsage());
  });
  if (kind === 'upstream') {
    let count = 0;
    const counts = new Map();
    http
      .createServer((req, res) => {
        if (req.url.startsWith('/__count')) {
          const p = new URL(req.url, 'http://x').searchParams.get('path');
          res.end(String(p ? (counts.get(p) ?? 0) : count));
          return;
        }
        count++;
        counts.set(req.url, (counts.get(req.url) ?? 0) + 1);
        if (req.url.startsWith('/slow/')) {
          setTimeout(() => res.end(JSON.stringify({ url: req.url, at: Date.now() })), 200);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'max-age=3600', 'content-length': BODY.length });
        res.end(BODY);
      })
      .listen(port, '127.0.0.1');
    return;
  }
  const { Hono } = await import('hono');
  const { serve: honoServe } = await import('@hono/node-server');
  if (kind === 'bare') {
    const app = new Hono();
    app.get('/item', (c) => c.body(BODY, 200, { 'content-type': 'application/octet-stream', 'cache-control': 'max-age=3600' }));
    honoServe({ fetch: app.fetch, port, hostname: '127.0.0.1' });
    return;
  }
  const lib = await import(DIST);
  const { pino } = await import('pino');
  let engine;
  if (kind === 'resp') engine = new lib.RedisEngineClient(opts.engine);
  else {
    const e = lib.createEngine(lib.configFrom({ save: '', appendonly: 'no' }));
    e.log.sink = () => {};
    e.start();
    engine = new lib.LocalEngineClient(e);
  }
  while (!engine.up) await sleep(10);
  await lib.startSidecar({
    engine,
    port,
    hostname: '127.0.0.1',
    log: pino({ level: 'silent' }),
    l1MaxBytes: kind === 'sidecar' ? 64 * 1024 * 1024 : 0,
    routes: [lib.parseRoute({ prefix: '/', upstream: opts.upstream, ttl: 60 }, 'bench')],
  });
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

const children = [];
function start(argv, pin, ipc = false) {
  const full = [...pin, ...argv];
  const c = spawn(full[0], full.slice(1), { stdio: ['ignore', 'ignore', 'inherit', ...(ipc ? ['ipc'] : [])] });
  children.push(c);
  return c;
}

/** CPU time (µs, user + system) a server child has used so far. */
function cpuOf(child) {
  return new Promise((resolve) => {
    child.once('message', (u) => resolve(u.user + u.system));
    child.send('cpu');
  });
}
function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}
process.on('exit', stopAll);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

async function waitHttp(url, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return r;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

async function waitPort(port) {
  const net = await import('node:net');
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing on port ${port}`);
}

function cannon(opts) {
  return autocannon({ ...opts, workers: undefined });
}

function wrk(url, duration, connections) {
  return new Promise((resolve) => {
    const p = spawn('wrk', ['-t', '1', '-c', String(connections), '-d', `${duration}s`, url], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', () => resolve(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)));
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['quick', 'record', 'no-stampede']);
  if (args.serve) return serve(args.serve, Number(args.port), args);
  if (!existsSync(DIST) || !existsSync(CACHESIDE_CLI)) throw new Error('dist/ not found: run `npm run build` first');
  const pin = pinning();
  const load0 = os.loadavg()[0];
  if (pin.enabled && process.env.HTTP_BENCH_PINNED !== '1') {
    // Run the load generator (this process) on its own CPU: re-exec under taskset.
    const c = spawn(pin.client[0], [...pin.client.slice(1), process.execPath, SELF, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, HTTP_BENCH_PINNED: '1' } });
    return new Promise((resolve) => c.on('exit', (code) => resolve(code ?? 1)));
  }
  const quick = args.quick === true;
  const duration = positiveInt(args.duration ?? (quick ? 2 : 5), '--duration');
  const rounds = positiveInt(args.rounds ?? (quick ? 2 : 5), '--rounds');
  const connections = positiveInt(args.connections ?? 50, '--connections');
  // taskset execs node, so the IPC channel reaches the server itself
  const node = (kind, port, extra = []) => start([process.execPath, SELF, '--serve', kind, '--port', String(port), ...extra], pin.server, true);

  const upPort = await getFreePort();
  node('upstream', upPort);
  await waitPort(upPort);
  const upstream = `http://127.0.0.1:${upPort}`;
  const enginePort = await getFreePort();
  start([process.execPath, CACHESIDE_CLI, 'server', '--port', String(enginePort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], pin.server);
  await waitPort(enginePort);

  const targets = [
    { name: 'bare', kind: 'bare' },
    { name: 'sidecar', kind: 'sidecar' },
    { name: 'no-l1', kind: 'no-l1' },
    { name: 'resp', kind: 'resp' },
  ];
  for (const t of targets) {
    const port = await getFreePort();
    t.child = node(t.kind, port, ['--upstream', upstream, '--engine', `redis://127.0.0.1:${enginePort}`]);
    t.url = `http://127.0.0.1:${port}/item`;
    await waitHttp(t.url);
    const second = await waitHttp(t.url);
    if (t.kind !== 'bare' && second.headers.get('x-cache') !== 'HIT') throw new Error(`${t.name}: warm-up did not give a HIT (${second.headers.get('x-cache')})`);
    t.rps = [];
    t.p99 = [];
    t.cpu = [];
  }

  console.log(`hit path: ${rounds} rounds × ${duration} s, ${connections} connections, 1 KiB body; ${pin.note}`);
  const ratios = Object.fromEntries(targets.filter((t) => t.kind !== 'bare').map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    const got = {};
    for (const t of order) {
      const c0 = await cpuOf(t.child);
      const res = await cannon({ url: t.url, connections, duration });
      const c1 = await cpuOf(t.child);
      if (res.non2xx > 0 || res.errors > 0) console.warn(`  ${t.name}: ${res.non2xx} non-2xx, ${res.errors} errors`);
      t.cpu.push((c1 - c0) / res.requests.total);
      t.rps.push(res.requests.average);
      t.p99.push(res.latency.p99);
      got[t.name] = res.requests.average;
    }
    for (const name of Object.keys(ratios)) ratios[name].push(got[name] / got.bare);
    console.log(`  round ${r + 1}: ` + targets.map((t) => `${t.name} ${Math.round(got[t.name])}`).join(', '));
  }
  const bareCpu = median(targets[0].cpu);
  const hitRows = targets.map((t) => [
    t.name,
    Math.round(median(t.rps)),
    `${median(t.p99).toFixed(1)} ms`,
    t.kind === 'bare' ? '1.00' : median(ratios[t.name]).toFixed(2),
    t.kind === 'bare' ? '' : `${Math.min(...ratios[t.name]).toFixed(2)}–${Math.max(...ratios[t.name]).toFixed(2)}`,
    `${median(t.cpu).toFixed(1)} µs`,
    (bareCpu / median(t.cpu)).toFixed(2),
  ]);
  const hitHeaders = ['server', 'req/s (median)', 'p99', 'ratio vs bare (median)', 'ratio range', 'server CPU/req', 'CPU ratio (bare/x)'];

  let wrkRows = null;
  if (which('wrk')) {
    wrkRows = [];
    for (const t of targets) wrkRows.push([t.name, Math.round(await wrk(t.url, duration, connections))]);
  }
  let nginxNote = 'nginx not installed: no proxy_cache comparison';
  if (which('nginx')) nginxNote = await nginxRatio(targets, upstream, duration, connections);

  const stampRows = [];
  if (args['no-stampede'] !== true) {
    const sc = targets.find((t) => t.kind === 'sidecar');
    const base = sc.url.replace(/\/item$/, '');
    for (let i = 0; i < (quick ? 2 : 3); i++) {
      const key = `/slow/${Date.now()}-${i}`;
      const res = await cannon({ url: base + key, connections: 100, amount: 2000 });
      const n = Number(await (await fetch(`${upstream}/__count?path=${encodeURIComponent(key)}`)).text());
      stampRows.push([`run ${i + 1}`, n, `${res.latency.p99} ms`, `${res.latency.p50} ms`, res.requests.total, res.non2xx + res.errors]);
    }
  }
  const stampHeaders = ['stampede (100 conns, cold key, 200 ms upstream)', 'upstream requests', 'p99', 'p50', 'requests', 'errors'];

  console.log('\n' + textTable(hitHeaders, hitRows));
  if (wrkRows) console.log('\nwrk cross-check (req/s)\n' + textTable(['server', 'req/s'], wrkRows));
  console.log(`\n${nginxNote}`);
  if (stampRows.length) console.log('\n' + textTable(stampHeaders, stampRows));

  if (args.record) {
    const body = [
      `\`${invocation()}\``,
      '',
      describeEnvironment(pin),
      `load average (1 min) at start ${load0.toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)} (other work on the machine makes req/s noisy; CPU/req is steadier)`,
      '',
      `Hit path: ${rounds} interleaved rounds × ${duration} s, ${connections} connections, 1 KiB body (autocannon).`,
      '',
      markdownTable(hitHeaders, hitRows),
      wrkRows ? '\nwrk cross-check:\n\n' + markdownTable(['server', 'req/s'], wrkRows) : '',
      '',
      nginxNote,
      '',
      stampRows.length ? markdownTable(stampHeaders, stampRows) : '',
    ].join('\n');
    recordResults('http-bench', body);
  }
  const sidecarRatio = median(ratios.sidecar);
  const ok = sidecarRatio >= 0.7 && stampRows.every((r) => r[1] === 1);
  console.log(`\nsidecar/bare ${sidecarRatio.toFixed(2)} (target >= 0.70); stampede upstream requests ${stampRows.map((r) => r[1]).join(', ') || 'not run'} (target 1): ${ok ? 'OK' : 'BELOW TARGET'}`);
}

/** nginx proxy_cache in front of the same upstream, measured like the others. */
async function nginxRatio(targets, upstream, duration, connections) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nginx-bench-'));
  const port = await getFreePort();
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; proxy_cache_path ${dir}/cache keys_zone=c:10m;
  server { listen 127.0.0.1:${port}; location / { proxy_pass ${upstream}; proxy_cache c; proxy_cache_valid 200 60s; add_header X-Cache $upstream_cache_status; } } }`,
  );
  start(['nginx', '-p', dir, '-c', path.join(dir, 'nginx.conf')], []);
  const url = `http://127.0.0.1:${port}/item`;
  await waitHttp(url);
  const n = (await cannon({ url, connections, duration })).requests.average;
  const bare = (await cannon({ url: targets[0].url, connections, duration })).requests.average;
  const sc = (await cannon({ url: targets[1].url, connections, duration })).requests.average;
  return `nginx proxy_cache: ${Math.round(n)} req/s; sidecar/nginx ${(sc / n).toFixed(2)}, bare hono/nginx ${(bare / n).toFixed(2)}`;
}

main()
  .then((code) => {
    if (!process.argv.includes('--serve')) process.exit(code ?? 0);
  })
  .catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });
