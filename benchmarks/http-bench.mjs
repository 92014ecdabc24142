#!/usr/bin/env node
// HTTP sidecar benchmark (autocannon). Expects `npm run build` (dist/).
//
//   node benchmarks/http-bench.mjs [--duration 5] [--rounds 5] [--connections 50] [--quick] [--record]
//                                  [--install-refs] [--wrk-duration 10] [--wrk-reps 3]
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
// 3. wrk cross-check and nginx proxy_cache reference, when wrk (and nginx) are
//    installed (`--install-refs` installs the missing ones with apt-get): nginx
//    with proxy_cache in front of the same 1 KiB origin (generated nginx.conf in
//    a temp dir, daemon off, one worker, pinned like the other servers), then
//    `wrk -t1 -c50 -d10s` against bare hono, the sidecar (L1 on) and nginx,
//    interleaved over 3 reps: median req/s and ratios.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { CACHESIDE_CLI, describeEnvironment, getFreePort, invocation, markdownTable, median, parseArgs, pinning, positiveInt, recordResults, sleep, textTable, which } from './bench-kit.mjs';

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
  // nginx: SIGTERM, so that its master takes its worker down with it
  for (const c of children) if (c.exitCode === null) c.kill(c.graceful ? 'SIGTERM' : 'SIGKILL');
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

/** `wrk -t1 -c<connections> -d<duration>s url` (runs on the load generator's CPU): req/s and p99 (ms). */
function wrk(url, duration, connections) {
  return new Promise((resolve) => {
    const p = spawn('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', url], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const m = /99%\s+([\d.]+)(us|ms|s)\b/.exec(out);
      const p99 = m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN;
      const errs = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
      if (errs) console.warn(`  wrk ${url}: ${errs[0]}`);
      resolve({ rps, p99 });
    });
  });
}

const listening = (port) =>
  new Promise((r) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.end();
      r(true);
    });
    s.on('error', () => r(false));
  });

/**
 * --install-refs: apt-get install nginx and/or wrk when missing. Debian's nginx
 * package starts (and enables) a service on port 80: stop it again unless
 * something already listened on 80 before.
 */
async function installRefs() {
  const missing = ['nginx', 'wrk'].filter((c) => !which(c));
  if (missing.length === 0) return;
  if (!which('apt-get')) throw new Error(`--install-refs: ${missing.join(', ')} missing and apt-get unavailable`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const busy80 = await listening(80);
  console.log(`installing ${missing.join(' ')} with apt-get ...`);
  const run = (argv) => {
    const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return r.status === 0;
  };
  if (!run([...sudo, 'apt-get', 'update']) || !run([...sudo, 'apt-get', 'install', '-y', ...missing])) throw new Error(`--install-refs: apt-get install ${missing.join(' ')} failed`);
  if (missing.includes('nginx') && !busy80) {
    run([...sudo, 'service', 'nginx', 'stop']);
    if (existsSync('/run/systemd/system') && which('systemctl')) {
      run([...sudo, 'systemctl', 'stop', 'nginx']);
      run([...sudo, 'systemctl', 'disable', 'nginx']);
    }
    for (let i = 0; i < 50 && (await listening(80)); i++) await sleep(100);
    if (await listening(80)) console.warn('--install-refs: an nginx installed by the package still listens on :80; stop it by hand');
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['quick', 'record', 'no-stampede', 'install-refs']);
  if (args.serve) return serve(args.serve, Number(args.port), args);
  if (args['install-refs'] === true && process.env.HTTP_BENCH_PINNED !== '1') await installRefs();
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
  let wrkHeaders = [];
  let nginxNote = 'nginx not installed: no proxy_cache comparison (--install-refs installs it)';
  const wrkDuration = positiveInt(args['wrk-duration'] ?? (quick ? 3 : 10), '--wrk-duration');
  const wrkReps = positiveInt(args['wrk-reps'] ?? 3, '--wrk-reps');
  if (!which('wrk')) nginxNote = 'wrk not installed: no wrk cross-check or nginx comparison (--install-refs installs them)';
  else {
    const refs = [targets[0], targets[1]].map((t) => ({ name: t.name, url: t.url, rps: [], p99: [] }));
    if (which('nginx')) {
      const url = await startNginx(upstream, pin);
      refs.push({ name: 'nginx', url, rps: [], p99: [] });
      nginxNote = 'nginx: proxy_cache (proxy_cache_valid 200 60s), 1 worker, same origin, pinned like the others';
    }
    console.log(`\nwrk -t1 -c${connections} -d${wrkDuration}s: ${refs.map((r) => r.name).join(', ')}, interleaved × ${wrkReps}`);
    const per = Object.fromEntries(refs.map((r) => [r.name, []]));
    for (let rep = 0; rep < wrkReps; rep++) {
      const order = rep % 2 === 0 ? refs : [...refs].reverse();
      const got = {};
      for (const r of order) {
        const w = await wrk(r.url, wrkDuration, connections);
        r.rps.push(w.rps);
        r.p99.push(w.p99);
        got[r.name] = w.rps;
      }
      for (const r of refs) per[r.name].push(got[r.name]);
      console.log(`  rep ${rep + 1}: ` + refs.map((r) => `${r.name} ${Math.round(got[r.name])}`).join(', '));
    }
    const ratio = (a, b) => median(per[a].map((x, i) => x / per[b][i])).toFixed(2);
    const hasNginx = refs.length === 3;
    wrkHeaders = ['server', 'req/s (median)', 'runs', 'p99 (median)', 'x / bare (median)', ...(hasNginx ? ['x / nginx (median)'] : [])];
    wrkRows = refs.map((r) => [r.name, Math.round(median(r.rps)), r.rps.map(Math.round).join(', '), `${median(r.p99).toFixed(2)} ms`, ratio(r.name, 'bare'), ...(hasNginx ? [ratio(r.name, 'nginx')] : [])]);
  }

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
  if (wrkRows) console.log(`\nwrk cross-check (wrk -t1 -c${connections} -d${wrkDuration}s, ${wrkReps} interleaved reps)\n` + textTable(wrkHeaders, wrkRows));
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
      wrkRows ? `\nwrk cross-check (\`wrk -t1 -c${connections} -d${wrkDuration}s\`, ${wrkReps} interleaved reps; sidecar = L1 on):\n\n` + markdownTable(wrkHeaders, wrkRows) : '',
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

/**
 * nginx with proxy_cache in front of the same origin (generated nginx.conf in a
 * temp dir, daemon off, pinned like the other servers). Returns the /item URL,
 * warmed (the second request is a proxy_cache HIT).
 */
async function startNginx(upstream, pin) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nginx-bench-'));
  chmodSync(dir, 0o755); // workers run as an unprivileged user when we are root
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const port = await getFreePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=c:10m max_size=64m inactive=10m;
  upstream origin { server ${upstream.replace(/^http:\/\//, '')}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache c;
      proxy_cache_valid 200 60s;
      add_header X-Cache $upstream_cache_status;
    }
  }
}
`,
  );
  const c = start(['nginx', '-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], pin.server);
  c.graceful = true;
  const url = `http://127.0.0.1:${port}/item`;
  await waitHttp(url);
  const second = await waitHttp(url);
  if (second.headers.get('x-cache') !== 'HIT') throw new Error(`nginx: warm-up did not give a proxy_cache HIT (${second.headers.get('x-cache')})`);
  return url;
}

main()
  .then((code) => {
    if (!process.argv.includes('--serve')) process.exit(code ?? 0);
  })
  .catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });
