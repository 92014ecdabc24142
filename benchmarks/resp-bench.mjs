#!/usr/bin/env node
// RESP throughput benchmark: redis-benchmark against cacheside (A) and a real
// redis-server (B), interleaved, pinned to CPUs when taskset is available.
// Expects `npm run build` to have produced dist/. See benchmarks/README.md.
//
// The helpers exported here (server start/stop, pinning, a tiny RESP client,
// RESULTS.md recording) are shared with memory-bench.mjs; main() only runs
// when this file is executed directly.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CACHESIDE_CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** The node flags cacheside runs with: those on its shebang line (`#!/usr/bin/env -S node <flags>`). */
export function cachesideNodeArgs() {
  const first = readFileSync(CACHESIDE_CLI, 'utf8').split('\n', 1)[0];
  const m = /^#!\S*env -S node(.*)$/.exec(first);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}
export const RESULTS_MD = path.join(REPO_ROOT, 'benchmarks', 'RESULTS.md');
export const PING_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------
// small utilities
// ---------------------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Absolute path of an executable on PATH, or undefined. */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Quotes one argument for display as a POSIX shell word. */
export function shellQuote(s) {
  if (s === '') return '""';
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
export const shellJoin = (argv) => argv.map(shellQuote).join(' ');

/** The command line this script was started with, relative to the repo root. */
export function invocation() {
  const script = path.relative(REPO_ROOT, process.argv[1] ?? '') || process.argv[1];
  return shellJoin(['node', script, ...process.argv.slice(2)]);
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Minimal argv parser: `--key value`, `--key=value`, bare `--flag` (→ true).
 * `booleans` lists flags that never take a value.
 */
export class UsageError extends Error {}

export function parseArgs(argv, booleans) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    const key = a.slice(2, eq === -1 ? undefined : eq);
    if (eq !== -1) out[key] = a.slice(eq + 1);
    else if (booleans.includes(key)) out[key] = true;
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[key] = argv[++i];
    else throw new UsageError(`--${key} needs a value`);
  }
  return out;
}

export function positiveInt(v, name) {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

// ---------------------------------------------------------------------------
// CPU pinning
// ---------------------------------------------------------------------------

/**
 * Servers go to CPU 0, load generators to CPU 1, when `taskset` exists and
 * both CPUs are usable by this process.
 */
export function pinning() {
  const none = { enabled: false, server: [], client: [], note: 'no CPU pinning (taskset missing or fewer than 2 usable CPUs)' };
  if (!which('taskset')) return none;
  const ok = spawnSync('taskset', ['-c', '0,1', process.execPath, '-e', ''], { stdio: 'ignore' }).status === 0;
  if (!ok) return none;
  return {
    enabled: true,
    server: ['taskset', '-c', '0'],
    client: ['taskset', '-c', '1'],
    note: 'servers pinned to CPU 0, load generator to CPU 1 (taskset)',
  };
}

// ---------------------------------------------------------------------------
// process bookkeeping: never leave servers behind
// ---------------------------------------------------------------------------

const liveChildren = new Set();
const liveDirs = new Set();
let cleanupInstalled = false;

function trackChild(child) {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

function killEverythingSync() {
  for (const c of liveChildren) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  liveDirs.clear();
}

/** Sends SIGTERM to every child started here, SIGKILLs stragglers after `graceMs`, and waits for them. */
async function stopEverything(graceMs) {
  const children = [...liveChildren].filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  killEverythingSync();
}

/**
 * Installs handlers so that every child started here dies with us: on
 * SIGINT/SIGTERM/SIGHUP children get SIGTERM (SIGKILL after 2 s, or at once
 * on a second signal); on any exit, survivors get SIGKILL.
 */
export function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killEverythingSync);
  let signalled = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      const code = 128 + (os.constants.signals[sig] ?? 1);
      if (signalled) {
        killEverythingSync();
        process.exit(code);
      }
      signalled = true;
      process.stderr.write(`\n${sig}: stopping servers\n`);
      stopEverything(2000).finally(() => process.exit(code));
    });
  }
}

// ---------------------------------------------------------------------------
// minimal RESP client
// ---------------------------------------------------------------------------

const CRLF = Buffer.from('\r\n');

/** RESP multibulk encoding of one command; strings as UTF-8. */
export function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * Parses one RESP2/RESP3 reply at `pos` into plain JS (strings, numbers,
 * arrays, null; errors become RespError instances). Returns undefined when
 * the buffer does not hold a full reply yet.
 */
export class RespError extends Error {}
export function parseReply(buf, pos) {
  if (pos >= buf.length) return undefined;
  const t = buf[pos];
  const eol = buf.indexOf(CRLF, pos + 1);
  if (eol === -1) return undefined;
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (t) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new RespError(line), end: next };
    case 0x21: // ! (blob error)
    case 0x24: // $
    case 0x3d: {
      // = (verbatim: drop the "txt:" prefix)
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (next + len + 2 > buf.length) return undefined;
      let s = buf.toString('utf8', next, next + len);
      if (t === 0x3d) s = s.slice(4);
      return { value: t === 0x21 ? new RespError(s) : s, end: next + len + 2 };
    }
    case 0x3a: // :
    case 0x2c: // ,
    case 0x28: // (
      return { value: Number(line), end: next };
    case 0x23: // #
      return { value: line === 't', end: next };
    case 0x5f: // _
      return { value: null, end: next };
    case 0x2a: // *
    case 0x7e: // ~
    case 0x3e: // >
    case 0x25: // %
    case 0x7c: {
      // |
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const count = t === 0x25 || t === 0x7c ? n * 2 : n;
      const items = [];
      let p = next;
      for (let i = 0; i < count; i++) {
        const r = parseReply(buf, p);
        if (!r) return undefined;
        items.push(r.value);
        p = r.end;
      }
      if (t === 0x7c) return parseReply(buf, p); // drop attributes
      return { value: items, end: p };
    }
    default:
      throw new Error(`RESP protocol error: unexpected byte 0x${t.toString(16)} in ${JSON.stringify(buf.toString('latin1', pos, pos + 40))}`);
  }
}

/** A tiny pipelining RESP connection. */
export class Conn {
  static connect(port, host = '127.0.0.1', timeoutMs = 2000) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Conn(socket));
      });
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.replies = [];
    this.error = undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      let pos = 0;
      try {
        for (let r; (r = parseReply(this.buf, pos)); pos = r.end) {
          const w = this.waiters.shift();
          if (w) w.resolve(r.value);
          else this.replies.push(r.value);
        }
      } catch (e) {
        this.error = e;
        socket.destroy();
        return;
      }
      this.buf = pos === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
    });
    socket.on('error', (e) => (this.error ??= e));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(this.error ?? new Error('connection closed'));
    });
  }

  /** Next reply (in order). */
  read() {
    if (this.replies.length) return Promise.resolve(this.replies.shift());
    if (this.closed) return Promise.reject(this.error ?? new Error('connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Writes raw bytes without waiting for replies. */
  write(bytes) {
    if (this.closed) throw this.error ?? new Error('connection closed');
    return this.socket.write(bytes);
  }

  /** Sends one command and returns its reply (errors are returned as RespError values, not thrown). */
  call(...args) {
    this.write(encodeCommand(args));
    return this.read();
  }

  close() {
    this.socket.destroy();
  }
}

/** Rejects after `ms` with `message` unless `promise` settles first. */
export function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// servers
// ---------------------------------------------------------------------------

export function getFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(port, timeoutMs, abort) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    const reason = abort();
    if (reason) throw new Error(reason);
    let c;
    try {
      c = await Conn.connect(port, '127.0.0.1', 1000);
      const r = await withTimeout(c.call('PING'), 1000, 'PING timed out');
      if (r === 'PONG') return;
      last = `PING replied ${r instanceof Error ? `-${r.message}` : JSON.stringify(r)}`;
    } catch (e) {
      last = e.message;
    } finally {
      c?.close();
    }
    await sleep(50);
  }
  throw new Error(`no PONG on port ${port} within ${timeoutMs} ms (last: ${last})`);
}

/**
 * Starts a server process (optionally prefixed with a taskset pin) on a free
 * port in a fresh temp dir and waits for PING. `args(port, dir)` builds the
 * server's argv. Returns { name, port, pid, dir, cmd, output(), alive(), stop() }.
 * With `taskset` the pid is the server's own (taskset execs it).
 */
export async function startServer({ name, command, args, pin = [] }) {
  installCleanup();
  let lastErr;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await getFreePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-bench-`));
    liveDirs.add(dir);
    const argv = [...pin, command, ...args(port, dir)];
    const child = spawn(argv[0], argv.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    const append = (c) => {
      out += c.toString('utf8');
      if (out.length > 128 * 1024) out = out.slice(-64 * 1024);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let spawnError;
    child.once('error', (e) => (spawnError = e));
    const exited = new Promise((resolve) => child.once('close', resolve));
    const alive = () => child.exitCode === null && child.signalCode === null && !spawnError;
    let stopping;
    const stop = () =>
      (stopping ??= (async () => {
        if (alive()) {
          child.kill('SIGTERM');
          const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
          if (!done) {
            child.kill('SIGKILL');
            await exited;
          }
        }
        rmSync(dir, { recursive: true, force: true });
        liveDirs.delete(dir);
      })());
    const handle = { name, port, pid: child.pid, dir, cmd: shellJoin(argv), output: () => out.slice(-64 * 1024), alive, stop };
    try {
      await waitForPing(port, PING_TIMEOUT_MS, () => {
        if (spawnError) return `cannot spawn ${argv[0]}: ${spawnError.message}`;
        if (!alive()) return `exited (code ${child.exitCode}, signal ${child.signalCode}) before answering PING`;
        return undefined;
      });
      return handle;
    } catch (e) {
      const died = !alive();
      await stop();
      lastErr = new Error(`${name} did not start (${handle.cmd}): ${e.message}${out ? `\n--- output ---\n${out.slice(-4000)}` : ''}`);
      if (!(died && /address already in use|EADDRINUSE/i.test(out))) break; // only retry port races
    }
  }
  throw lastErr;
}

export function startCacheside(pin = []) {
  if (!existsSync(CACHESIDE_CLI)) throw new Error(`${CACHESIDE_CLI} not found: run \`npm run build\` first`);
  return startServer({
    name: 'cacheside',
    command: process.execPath,
    args: (port, dir) => [...cachesideNodeArgs(), CACHESIDE_CLI, 'server', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
    pin,
  });
}

export function startRedis(pin = []) {
  return startServer({
    name: 'redis-server',
    command: 'redis-server',
    args: (port, dir) => ['--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir],
    pin,
  });
}

// ---------------------------------------------------------------------------
// environment + RESULTS.md
// ---------------------------------------------------------------------------

export function redisVersion() {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(r.stdout ?? '')?.[1];
}

export function describeEnvironment(pin) {
  const cpus = os.cpus();
  const git = (args) => {
    const r = spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const rev = git(['rev-parse', '--short', 'HEAD']) ?? 'no commit';
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (dirty)' : '';
  let version = '?';
  try {
    version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;
  } catch {
    /* ignore */
  }
  return [
    `cacheside ${version} @ ${rev}${dirty}`,
    `node ${process.version}`,
    `redis-server ${redisVersion() ?? 'not installed'}`,
    `${cpus[0]?.model?.trim() ?? 'unknown CPU'} × ${cpus.length}`,
    `${os.type()} ${os.release()}`,
    pin.note,
  ].join('; ');
}

/** Appends a dated section to benchmarks/RESULTS.md. `body` is markdown. */
export function recordResults(title, body) {
  const header = existsSync(RESULTS_MD)
    ? ''
    : '# Benchmark results\n\nSections are appended by `node benchmarks/<bench>.mjs --record`. See benchmarks/README.md.\n';
  const stamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  appendFileSync(RESULTS_MD, `${header}\n## ${title} — ${stamp}\n\n${body.trimEnd()}\n`);
  console.log(`\nappended to ${path.relative(process.cwd(), RESULTS_MD) || RESULTS_MD}`);
}

/** Renders rows as an aligned text table (first column left-aligned, others right). */
export function textTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export function markdownTable(headers, rows) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `|${headers.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

// ---------------------------------------------------------------------------
// redis-benchmark
// ---------------------------------------------------------------------------

/**
 * Parses `redis-benchmark -q` output. Final lines look like
 * `SET: 123456.79 requests per second, p50=0.191 msec`; progress lines
 * (`SET: rps=... (overall: ...)`) are separated by carriage returns and ignored.
 * Returns Map(test name → rps) in output order.
 */
export function parseBenchmarkOutput(text) {
  const rates = new Map();
  for (const line of text.split(/[\r\n]+/)) {
    const m = /^\s*(.+?):\s+([\d.]+)\s+requests per second/.exec(line);
    if (m) rates.set(m[1], Number(m[2]));
  }
  return rates;
}

/**
 * Tests that redis-benchmark 7.0 does not have (its -t silently ignores
 * them), run as custom commands instead; the result row gets `label`.
 */
const CUSTOM_TESTS = {
  xadd: { label: 'XADD', command: ['XADD', 'benchstream', '*', 'field', 'value'] },
};

/** The redis-benchmark runs a -t list needs: one for the built-in tests, one per custom test. */
function benchmarkPlan(tests) {
  const names = tests.split(',').filter(Boolean);
  const custom = (t) => (Object.hasOwn(CUSTOM_TESTS, t.toLowerCase()) ? CUSTOM_TESTS[t.toLowerCase()] : undefined);
  const builtin = names.filter((t) => custom(t) === undefined);
  const plan = builtin.length > 0 ? [{ tests: builtin.join(',') }] : [];
  for (const t of names) if (custom(t) !== undefined) plan.push(custom(t));
  return plan;
}

/** Runs every redis-benchmark run of `tests` once and merges the results. */
async function runTests(opts) {
  const merged = { code: 0, rates: new Map(), stdout: '', stderr: '', cmds: [] };
  for (const run of benchmarkPlan(opts.tests)) {
    const r = await runRedisBenchmark({ ...opts, tests: run.tests, command: run.command });
    if (r.code !== 0) merged.code = r.code;
    if (run.label !== undefined) {
      // A custom command's output line is named after the command line.
      const rps = [...r.rates.values()][0];
      if (rps !== undefined) merged.rates.set(run.label, rps);
    } else for (const [k, v] of r.rates) merged.rates.set(k, v);
    merged.stdout += r.stdout;
    merged.stderr += r.stderr;
    merged.cmds.push(r.cmd);
  }
  return merged;
}

/** Runs redis-benchmark once (-t `tests`, or the custom `command`); aborts if the server dies or `timeoutMs` passes. */
function runRedisBenchmark({ server, pipeline, n, clients, tests, command, pin, timeoutMs }) {
  const what = command !== undefined ? command : ['-t', tests];
  const argv = [...pin, 'redis-benchmark', '-h', '127.0.0.1', '-p', String(server.port), '-q', '-c', String(clients), '-P', String(pipeline), '-n', String(n), ...what];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c) => (stderr += c.toString('utf8')));
    let failure;
    const fail = (msg) => {
      failure ??= msg;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => fail(`redis-benchmark timed out after ${timeoutMs / 1000} s`), timeoutMs);
    const watchdog = setInterval(() => {
      if (!server.alive()) fail(`${server.name} died during redis-benchmark\n--- server output ---\n${server.output().slice(-4000)}`);
    }, 200);
    child.once('error', (e) => fail(`cannot run redis-benchmark: ${e.message}`));
    child.once('close', (code) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      if (failure) return reject(new Error(`${failure}\ncommand: ${shellJoin(argv)}`));
      resolve({ code, rates: parseBenchmarkOutput(stdout), stdout, stderr, cmd: shellJoin(argv) });
    });
  });
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

/**
 * Named sets of defaults (--suite). `types`: the data-type commands of
 * issue #3 at -P 16; xadd is dropped when a server does not know XADD.
 */
const SUITES = {
  default: { tests: 'ping,set,get,incr,mset', pipelines: '1,16', reps: 5, n16: 2_000_000 },
  types: {
    tests: 'lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600,xadd',
    pipelines: '16',
    reps: 3,
    n16: 200_000,
    /** Goal of issue #3: every test at least this fraction of redis-server's rps. */
    target: 0.5,
    /** One unmeasured run per server first (n / 10), so that cacheside's JIT is warm. */
    warmup: true,
  },
};

/** True when the server's COMMAND INFO knows `name`. */
async function knowsCommand(server, name) {
  const c = await Conn.connect(server.port);
  try {
    const r = await withTimeout(c.call('COMMAND', 'INFO', name), 5000, 'COMMAND INFO timed out');
    return Array.isArray(r) && Array.isArray(r[0]);
  } finally {
    c.close();
  }
}

const USAGE = `usage: node benchmarks/resp-bench.mjs [options]
  --suite default|types            default: ping,set,get,incr,mset at P=1,16 (5 reps);
                                   types: lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,
                                   lrange_100,lrange_600,xadd at P=16 (3 reps, n=200000);
                                   xadd only if both servers know XADD (run as the custom
                                   command XADD benchstream * field value: redis-benchmark 7.0
                                   has no xadd test)
  --tests ping,set,get,incr,mset   redis-benchmark -t list (overrides the suite's)
  --reps 5                         repetitions per pipeline depth (A/B order alternates)
  --pipelines 1,16                 pipeline depths (-P)
  --n1 200000 --n16 2000000        requests per run for a depth (--n<P>; other depths use --n16's value;
                                   the types suite defaults to --n16 200000)
  --clients 50                     parallel connections (-c)
  --quick                          smoke run: default n divided by 10
  --timeout 600                    seconds before a single redis-benchmark run is aborted
  --record                         append the results to benchmarks/RESULTS.md`;

async function main() {
  const opts = parseArgs(process.argv.slice(2), ['quick', 'record', 'help']);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const known = new Set(['suite', 'tests', 'reps', 'pipelines', 'clients', 'quick', 'record', 'timeout', 'help']);
  for (const k of Object.keys(opts)) {
    if (!known.has(k) && !/^n\d+$/.test(k)) throw new UsageError(`unknown option --${k}\n${USAGE}`);
  }
  const suiteName = String(opts.suite ?? 'default');
  const suite = SUITES[suiteName];
  if (suite === undefined || !Object.hasOwn(SUITES, suiteName)) throw new UsageError(`unknown suite ${JSON.stringify(suiteName)}\n${USAGE}`);
  let tests = String(opts.tests ?? suite.tests);
  const reps = positiveInt(opts.reps ?? suite.reps, '--reps');
  const pipelines = String(opts.pipelines ?? suite.pipelines).split(',').map((p) => positiveInt(p, '--pipelines'));
  const clients = positiveInt(opts.clients ?? 50, '--clients');
  const timeoutMs = positiveInt(opts.timeout ?? 600, '--timeout') * 1000;
  const scale = opts.quick ? 10 : 1;
  const n1 = opts.n1 !== undefined ? positiveInt(opts.n1, '--n1') : 200_000 / scale;
  const n16 = opts.n16 !== undefined ? positiveInt(opts.n16, '--n16') : suite.n16 / scale;
  const nFor = (p) => (opts[`n${p}`] !== undefined ? positiveInt(opts[`n${p}`], `--n${p}`) : p === 1 ? n1 : n16);

  if (!which('redis-benchmark')) throw new Error('redis-benchmark not found on PATH (bash test/interop/ensure-redis.sh installs it)');
  const haveRedis = Boolean(which('redis-server'));
  const pin = pinning();
  console.log(`# ${pin.note}`);
  if (!haveRedis) console.log('# redis-server not found: reference missing, reporting cacheside only');

  installCleanup();
  const servers = [];
  let exitCode = 0;
  try {
    try {
      servers.push(await startCacheside(pin.server));
      if (haveRedis) servers.push(await startRedis(pin.server));
    } catch (e) {
      console.error(e.message);
      return 2;
    }
    for (const s of servers) console.log(`# ${s.name} on port ${s.port}: ${s.cmd}`);
    const notes = [];
    if (tests.split(',').includes('xadd')) {
      const lacking = [];
      for (const s of servers) if (!(await knowsCommand(s, 'xadd'))) lacking.push(s.name);
      if (lacking.length > 0) {
        tests = tests.split(',').filter((t) => t !== 'xadd').join(',');
        notes.push(`xadd left out: ${lacking.join(' and ')} does not know XADD (COMMAND INFO xadd)`);
        console.log(`# ${notes.at(-1)}`);
      }
    }

    // results[serverName][`${test}|${P}`] = rps per repetition (index = rep)
    const results = Object.fromEntries(servers.map((s) => [s.name, new Map()]));
    const testOrder = [];
    const commands = new Set(); // redis-benchmark command lines (port as <port>)
    if (suite.warmup) {
      for (const server of servers) {
        const n = Math.max(1000, Math.floor(nFor(pipelines[0]) / 10));
        await runTests({ server, pipeline: pipelines[0], n, clients, tests, pin: pin.client, timeoutMs });
        console.error(`  warm-up run against ${server.name} (n=${n}, not counted)`);
      }
      notes.push('Each server got one unmeasured warm-up run (n/10) first.');
    }
    for (const p of pipelines) {
      const n = nFor(p);
      for (let rep = 0; rep < reps; rep++) {
        const order = rep % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          const r = await runTests({ server, pipeline: p, n, clients, tests, pin: pin.client, timeoutMs });
          for (const cmd of r.cmds) commands.add(cmd.replace(/ -p \d+ /, ' -p <port> '));
          if (r.code !== 0) {
            exitCode = 1;
            console.error(`! redis-benchmark exited with code ${r.code} against ${server.name} (P=${p}, rep ${rep + 1})\n${(r.stderr || r.stdout).trim().slice(-2000)}`);
          }
          if (r.rates.size === 0) console.error(`! no results parsed from redis-benchmark output against ${server.name}`);
          for (const [test, rps] of r.rates) {
            if (!testOrder.includes(test)) testOrder.push(test);
            const key = `${test}|${p}`;
            const m = results[server.name];
            if (!m.has(key)) m.set(key, Array(reps).fill(NaN));
            m.get(key)[rep] = rps;
          }
          const summary = [...r.rates].map(([t, v]) => `${t}=${Math.round(v)}`).join(' ');
          console.error(`  P=${p} rep ${rep + 1}/${reps} ${server.name.padEnd(12)} ${summary}`);
        }
      }
    }

    const fmtRps = (x) => (Number.isFinite(x) ? String(Math.round(x)) : 'n/a');
    const fmtRatio = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
    let headers;
    const rows = [];
    for (const p of pipelines) {
      for (const test of testOrder) {
        const key = `${test}|${p}`;
        const a = results.cacheside.get(key) ?? [];
        if (haveRedis) {
          const b = results['redis-server'].get(key) ?? [];
          const ratios = a.map((x, i) => x / b[i]).filter((x) => Number.isFinite(x));
          rows.push([test, p, fmtRps(median(a)), fmtRps(median(b)), fmtRatio(median(ratios)), fmtRatio(Math.min(...ratios)), fmtRatio(Math.max(...ratios))]);
        } else {
          const ok = a.filter((x) => Number.isFinite(x));
          rows.push([test, p, fmtRps(median(a)), fmtRps(Math.min(...ok)), fmtRps(Math.max(...ok))]);
        }
      }
    }
    if (haveRedis) headers = ['test', 'P', 'cacheside rps (median)', 'redis rps (median)', 'ratio (median)', 'ratio min', 'ratio max'];
    else headers = ['test', 'P', 'cacheside rps (median)', 'min', 'max'];

    const where = `${reps} repetition(s), ${clients} clients, n = ${pipelines.map((p) => `${nFor(p)} at P=${p}`).join(', ')}`;
    console.log(`\n${where}${haveRedis ? '; ratio = cacheside/redis per repetition' : '; reference missing: redis-server not installed'}\n`);
    console.log(textTable(headers, rows));
    if (haveRedis && suite.target !== undefined) {
      const below = rows.filter((r) => !(Number(r[4]) >= suite.target)).map((r) => `${r[0]} (P=${r[1]}): ${r[4]}`);
      notes.push(
        below.length === 0
          ? `Every test reaches ${suite.target}× redis-server (median ratio).`
          : `Below ${suite.target}× redis-server (median ratio): ${below.join('; ')}.`,
      );
      console.log(`\n${notes.at(-1)}`);
    }

    if (opts.record) {
      const body = [
        `Command: \`${invocation()}\``,
        '',
        'redis-benchmark runs:',
        '',
        ...[...commands.values()].map((c) => `- \`${c}\``),
        '',
        `Servers: ${servers.map((s) => `\`${s.cmd.replace(s.dir, '<tmpdir>').replace(`--port ${s.port}`, '--port <port>')}\``).join(', ')}`,
        '',
        `Environment: ${describeEnvironment(pin)}`,
        '',
        `${where}.${haveRedis ? ' Ratio = cacheside rps / redis rps per repetition; A/B order alternates between repetitions.' : ' **Reference missing: redis-server not installed.**'}`,
        '',
        markdownTable(headers, rows),
        ...notes.flatMap((n) => ['', n]),
      ].join('\n');
      recordResults(suiteName === 'default' ? 'resp-bench' : `resp-bench --suite ${suiteName}`, body);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return exitCode;
}

const isMain = (() => {
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1] ?? '')).href;
  } catch {
    return false;
  }
})();

if (isMain) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof UsageError ? err.message : (err?.stack ?? String(err)));
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
