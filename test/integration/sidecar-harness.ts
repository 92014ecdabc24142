/**
 * Helpers for the sidecar tests: counting upstreams on loopback, engines
 * (the in-process cacheside engine, or a real redis-server through ioredis),
 * and sidecars wired to them.
 */
import http from 'node:http';
import { afterAll } from 'vitest';
import { execSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import net, { type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { request } from 'undici';
import type { EngineClient } from '../../src/sidecar/engine-client.js';
import { RedisEngineClient } from '../../src/sidecar/redis-engine-client.js';
import { parseRoute, type Route } from '../../src/sidecar/routes.js';
import { startSidecar, type RunningSidecar, type SidecarOptions } from '../../src/sidecar/server.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Upstream {
  url: string;
  port: number;
  /** requests seen, in order */
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  count(path?: string): number;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: string, n: number) => void | Promise<void>;

/** A node:http upstream on 127.0.0.1 that records every request. */
export async function startUpstream(handler: UpstreamHandler): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      void Promise.resolve(handler(req, res, body, requests.length)).catch((e) => {
        res.statusCode = 500;
        res.end(String(e));
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    count: (path) => (path === undefined ? requests.length : requests.filter((r) => r.url === path).length),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Which engine the tests run against: the in-process cacheside engine unless SIDECAR_TEST_ENGINE=redis. */
export const TEST_ENGINE = process.env.SIDECAR_TEST_ENGINE === 'redis' ? 'redis' : 'local';

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export interface TestEngine {
  client(): EngineClient;
  stop(): Promise<void>;
  port?: number;
}

/** An engine for a test: the in-process cacheside engine, or a real redis-server. */
export async function startTestEngine(kind: 'local' | 'redis' = TEST_ENGINE): Promise<TestEngine> {
  if (kind === 'local') {
    // Imported lazily: the redis-server path needs none of the engine.
    const { configFrom, createEngine } = await import('../../src/server/bootstrap.js');
    const { Logger } = await import('../../src/server/logger.js');
    const { LocalEngineClient } = await import('../../src/sidecar/engine-client.js');
    const config = configFrom({ save: '', appendonly: 'no' });
    const log = new Logger(config);
    log.sink = () => {};
    const engine = createEngine(config, log);
    engine.start();
    const clients: EngineClient[] = [];
    return {
      client() {
        const c = new LocalEngineClient(engine);
        clients.push(c);
        return c;
      },
      async stop() {
        for (const c of clients) await c.close();
        engine.stop();
      },
    };
  }
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  const clients: RedisEngineClient[] = [];
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(50);
  }
  return {
    port,
    client() {
      const c = new RedisEngineClient(`redis://127.0.0.1:${port}`);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) await c.close();
      proc.kill('SIGKILL');
    },
  };
}

/** Wait until an engine client reports up (ioredis connects asynchronously). */
export async function engineUp(c: EngineClient, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!c.up && Date.now() < end) await sleep(10);
  if (!c.up) throw new Error('engine client did not connect');
}

export function route(o: Record<string, unknown>): Route {
  return parseRoute(o, 'route');
}

export const quietLog = pino({ level: process.env.SIDECAR_TEST_LOG ?? 'silent' });

export async function sidecarOn(engine: EngineClient, opts: Partial<SidecarOptions> & { routes: Route[] }): Promise<RunningSidecar> {
  await engineUp(engine);
  return startSidecar({ engine, log: quietLog, port: 0, hostname: '127.0.0.1', purgeToken: 'sekret', keyPrefix: `t${Math.random().toString(36).slice(2, 8)}:`, ...opts });
}

/**
 * One HTTP request through undici's plain request() (fetch() would add
 * Cache-Control: no-cache to conditional requests), returning status,
 * headers and text.
 */
export interface GetInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export async function get(url: string, init: GetInit = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const r = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  const text = await r.body.text();
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  return { status: r.statusCode, headers, text };
}

/** An engine reachable over TCP (for proxy-mode tests) that can be stopped and started again on its port. */
export interface TcpEngine {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function waitPort(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listening on port ${port}`);
}

export async function startTcpEngine(kind: 'local' | 'redis' = TEST_ENGINE): Promise<TcpEngine> {
  const port = await freePort();
  let stopFn: () => Promise<void> = async () => {};
  const start = async () => {
    if (kind === 'redis') {
      const proc = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--enable-debug-command', 'yes', '--dir', mkdtempSync(join(tmpdir(), 'cs-redis-'))], { stdio: 'ignore' });
      await waitPort(port);
      stopFn = async () => {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      };
    } else {
      const { configFrom, startEngine } = await import('../../src/server/bootstrap.js');
      const { Logger } = await import('../../src/server/logger.js');
      const config = configFrom({ port, bind: '127.0.0.1', save: '', appendonly: 'no' });
      const log = new Logger(config);
      log.sink = () => {};
      const running = await startEngine(config, log);
      stopFn = () => running.close();
    }
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop: () => stopFn(), start };
}

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}

/** Build dist/ when it is older than src/ (the process tests run `node dist/cli.js`). */
export async function ensureBuilt(): Promise<void> {
  const fresh = () => existsSync(CLI) && statSync(CLI).mtimeMs >= newestSource(join(ROOT, 'src'));
  if (fresh()) return;
  // One build at a time across the test files running in parallel.
  const lock = join(ROOT, '.sidecar-build.lock');
  const end = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > end) break;
      await sleep(200);
    }
  }
  try {
    if (fresh()) return;
    execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
  } catch (e) {
    // tsc still emits on type errors elsewhere in the tree; only a missing CLI is fatal
    if (!existsSync(CLI)) throw e;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** One scripted upstream response; header values may be functions, evaluated when the response is sent. */
export interface Scripted {
  status?: number;
  /** [name, value] pairs; a repeated name is sent as separate header lines */
  headers?: [string, string | (() => string)][];
  /** default: "<path> #<n>" (n counts the requests to that path, from 1) */
  body?: string;
  /** ms before answering */
  delay?: number;
  /** close the connection instead of answering */
  destroy?: boolean;
  /** send no Date header */
  noDate?: boolean;
}

export interface ScriptedUpstream extends Upstream {
  /** Script the responses of a path (request n gets responses[n-1], the last one repeats); returns the path. */
  script(path: string, ...responses: Scripted[]): string;
  /** Requests seen for a path (query ignored). */
  seen(path: string): Upstream['requests'];
}

/** An HTTP-date `sec` seconds from now. */
export const at = (sec: number) => new Date(Date.now() + sec * 1000).toUTCString();

/** An upstream whose responses are scripted per path, in the style of the cache-tests suite. */
export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const scripts = new Map<string, Scripted[]>();
  const counts = new Map<string, number>();
  const up = await startUpstream(async (req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const list = scripts.get(path) ?? [{ status: 404, body: 'unscripted' }];
    const s = list[Math.min(n, list.length) - 1]!;
    if (s.delay !== undefined) await sleep(s.delay);
    if (s.destroy) {
      res.socket?.destroy();
      return;
    }
    res.statusCode = s.status ?? 200;
    if (s.noDate) res.sendDate = false;
    const grouped = new Map<string, string[]>();
    for (const [name, v] of s.headers ?? []) {
      const list2 = grouped.get(name) ?? [];
      list2.push(typeof v === 'function' ? v() : v);
      grouped.set(name, list2);
    }
    for (const [name, vs] of grouped) res.setHeader(name, vs.length === 1 ? vs[0]! : vs);
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain');
    res.end(s.body ?? `${path} #${n}`);
  });
  return {
    ...up,
    script(path, ...responses) {
      scripts.set(path, responses);
      return path;
    },
    seen: (path) => up.requests.filter((r) => new URL(r.url, 'http://x').pathname === path),
  };
}

/**
 * For one test file: an engine, a scripted upstream and a sidecar configured
 * by `options(upstreamUrl)`, started now (top-level await) and stopped after
 * the file's tests.
 */
export async function scriptedSidecarForFile(
  options: (upstream: string) => Partial<SidecarOptions> & { routes: Route[] },
): Promise<{ engine: TestEngine; client: EngineClient; up: ScriptedUpstream; sc: RunningSidecar }> {
  const engine = await startTestEngine();
  const client = engine.client();
  const up = await startScriptedUpstream();
  const sc = await sidecarOn(client, options(up.url));
  afterAll(async () => {
    await sc.close();
    await up.close();
    await engine.stop();
  });
  return { engine, client, up, sc };
}
