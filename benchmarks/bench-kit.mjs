// The helpers every benchmark in this folder shares: command-line parsing,
// CPU pinning, starting servers (cacheside, redis-server) and never leaving
// them behind, a tiny pipelining RESP client, INFO and RSS probes,
// redis-benchmark runs, text and markdown tables, and RESULTS.md recording.
// Starting cacheside expects `npm run build` to have produced dist/.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CACHESIDE_CLI, REPO_ROOT, cachesideNodeArgs } from './cacheside-cli.mjs';

export { CACHESIDE_CLI, REPO_ROOT, cachesideNodeArgs };
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

/**
 * This script's options (parseArgs; `booleans` are the flags besides
 * --help), or null after printing `usage` when --help was given.
 */
export function benchOptions(usage, booleans) {
  const opts = parseArgs(process.argv.slice(2), [...booleans, 'help']);
  if (!opts.help) return opts;
  console.log(usage);
  return null;
}

/** Positive integer options: `defaults` maps an option's name (`value-size`) to its default; returns { valueSize: ... }. */
export function intOptions(opts, defaults) {
  const out = {};
  for (const [name, dflt] of Object.entries(defaults)) {
    out[name.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = positiveInt(opts[name] ?? dflt, `--${name}`);
  }
  return out;
}

/**
 * Runs a benchmark's `main()` and exits with the code it returns (0 when it
 * returns nothing). A UsageError prints its message (then `usage`, when
 * given) and exits 2; any other error prints its stack and exits 1.
 */
export function runMain(main, usage) {
  main().then(
    (code) => process.exit(code ?? 0),
    (err) => {
      if (err instanceof UsageError) {
        console.error(usage === undefined ? err.message : `${err.message}\n${usage}`);
        process.exit(2);
      }
      console.error(err?.stack ?? String(err));
      process.exit(1);
    },
  );
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1), so that every server gets the same workload. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

/**
 * Waits until the server on `port` answers PING with PONG (not -LOADING),
 * trying every `intervalMs`; throws after `timeoutMs`, or at once with the
 * reason `abort()` returns (e.g. the server exited).
 */
export async function waitForPing(port, timeoutMs, abort, intervalMs = 50) {
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
    await sleep(intervalMs);
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

/**
 * How a server of `kind` ('cacheside' or 'redis') is started, for
 * startServer: { name, command, args(port, dir) }. RDB saves are off; `aof`
 * (default: AOF off) stands before --dir, `extra` options after it;
 * `nodeArgs` are node flags for cacheside besides those of its shebang.
 */
export function serverSpec(kind, { name, aof = ['--appendonly', 'no'], extra = [], nodeArgs = [] } = {}) {
  if (kind === 'cacheside') {
    return {
      name: name ?? 'cacheside',
      command: process.execPath,
      args: (port, dir) => [...cachesideNodeArgs(), ...nodeArgs, CACHESIDE_CLI, 'server', '--port', String(port), '--save', '', ...aof, '--dir', dir, ...extra],
    };
  }
  return {
    name: name ?? 'redis-server',
    command: 'redis-server',
    args: (port, dir) => ['--port', String(port), '--save', '', ...aof, '--daemonize', 'no', '--dir', dir, ...extra],
  };
}

/** Starts a server of `kind` (see serverSpec for `opts`) with startServer, pinned with `pin`. */
export function startKind(kind, pin = [], opts = {}) {
  if (kind === 'cacheside' && !existsSync(CACHESIDE_CLI)) throw new Error(`${CACHESIDE_CLI} not found: run \`npm run build\` first`);
  return startServer({ ...serverSpec(kind, opts), pin });
}

export const startCacheside = (pin = [], opts = {}) => startKind('cacheside', pin, opts);
export const startRedis = (pin = [], opts = {}) => startKind('redis', pin, opts);

/** Whether redis-server (the reference) is installed; says so on stdout when it is not. */
export function haveReference() {
  const have = Boolean(which('redis-server'));
  if (!have) console.log('# redis-server not found: reference missing, reporting cacheside only');
  return have;
}

/**
 * Starts cacheside and, with `withRedis`, redis-server into `servers` (the
 * caller stops whichever started); false, after printing why, when one did
 * not start.
 */
export async function startPair(servers, pin, withRedis) {
  try {
    servers.push(await startCacheside(pin));
    if (withRedis) servers.push(await startRedis(pin));
    return true;
  } catch (e) {
    console.error(e.message);
    return false;
  }
}

/** The kinds of server a run compares: cacheside, and redis unless --no-redis was given or it is not installed. */
export function serverKinds(opts) {
  return !opts['no-redis'] && which('redis-server') ? ['cacheside', 'redis'] : ['cacheside'];
}

// ---------------------------------------------------------------------------
// probes
// ---------------------------------------------------------------------------

/** The fields of one INFO section, as { name: value } strings. */
export async function infoFields(conn, section) {
  const r = await withTimeout(conn.call('INFO', section), 30_000, 'INFO timed out');
  const out = {};
  for (const l of String(r).split('\r\n')) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

/** Polls INFO persistence every `intervalMs` until each of `fields` (e.g. rdb_bgsave_in_progress) is 0. */
export async function untilPersistenceIdle(conn, fields, intervalMs) {
  for (;;) {
    const info = await infoFields(conn, 'persistence');
    if (fields.every((f) => info[f] === '0')) return;
    await sleep(intervalMs);
  }
}

/** The server's CPU seconds so far (INFO cpu: used_cpu_user + used_cpu_sys). */
export async function serverCpu(conn) {
  const info = String(await conn.call('INFO', 'cpu'));
  let s = 0;
  for (const m of info.matchAll(/^used_cpu_(?:user|sys):([\d.]+)/gm)) s += Number(m[1]);
  return s;
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS, else ps; NaN when neither answers). */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* no /proc (or the process is gone): ask ps */
  }
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  const kb = Number((r.stdout ?? '').trim());
  return r.status === 0 && kb > 0 ? kb * 1024 : NaN;
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

/** `Servers: ` and each server's command line, with its temp dir and port left out. */
export function serversLine(servers) {
  return `Servers: ${servers.map((s) => `\`${s.cmd.replace(s.dir, '<tmpdir>').replace(`--port ${s.port}`, '--port <port>')}\``).join(', ')}`;
}

/**
 * Records a RESULTS.md section: the command line, the servers' command lines
 * (when `servers` is given), the environment followed by `environmentNote`,
 * then `paragraphs` (markdown).
 */
export function recordRun(title, { pin, servers, environmentNote = '' }, ...paragraphs) {
  const head = [`Command: \`${invocation()}\``, ...(servers === undefined ? [] : [serversLine(servers)]), `Environment: ${describeEnvironment(pin)}${environmentNote}`];
  recordResults(title, [...head, ...paragraphs].join('\n\n'));
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

/**
 * Runs `redis-benchmark -h 127.0.0.1 -p <port> <args>` (prefixed with the
 * `pin`) against `server`, a startServer handle: resolves { code, stdout,
 * stderr, cmd }; rejects if the server dies meanwhile, or after `timeoutMs`
 * when given.
 */
export function runRedisBenchmark(server, args, { pin = [], timeoutMs } = {}) {
  const argv = [...pin, 'redis-benchmark', '-h', '127.0.0.1', '-p', String(server.port), ...args];
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
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(`redis-benchmark timed out after ${timeoutMs / 1000} s`), timeoutMs);
    const watchdog = setInterval(() => {
      if (!server.alive()) fail(`${server.name} died during redis-benchmark\n--- server output ---\n${server.output().slice(-4000)}`);
    }, 200);
    child.once('error', (e) => fail(`cannot run redis-benchmark: ${e.message}`));
    child.once('close', (code) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      if (failure) return reject(new Error(`${failure}\ncommand: ${shellJoin(argv)}`));
      resolve({ code, stdout, stderr, cmd: shellJoin(argv) });
    });
  });
}

/** The requests per second `redis-benchmark -q <args>` reports for `test`; throws with its output when there is none. */
export async function benchmarkRps(server, test, args, opts) {
  const r = await runRedisBenchmark(server, ['-q', ...args], opts);
  const rps = parseBenchmarkOutput(r.stdout).get(test);
  if (rps === undefined) throw new Error(`redis-benchmark failed (${r.cmd}):\n${(r.stdout + r.stderr).slice(-2000)}`);
  return rps;
}
