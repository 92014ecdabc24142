/**
 * The wire side of MIGRATE: send a batch of commands (AUTH, SELECT,
 * RESTORE ...) to another server and read one reply line per command.
 *
 * Like Redis, each server (`owner`: the engine) caches its connections per
 * host:port for 10 seconds of idleness (at most 64; INFO
 * migrate_cached_sockets counts them), remembering the database last selected so that
 * SELECT is only sent when it changes; a failure on a cached connection
 * before any reply was read is retried once on a fresh one. `timeoutMs`
 * bounds each step (connecting, then any stretch without progress).
 *
 * Normal clients get the answer asynchronously (the event loop never
 * waits). Where a reply must be produced synchronously (inside EXEC, an
 * in-process session) `exchangeSync` runs the same exchange in a child
 * process and waits for it, as Redis's own blocking MIGRATE does.
 */
import net from 'node:net';
import { spawnSync } from 'node:child_process';

/** Where an exchange failed: Redis reports "connecting to the client", or "writing"/"reading ... target instance". */
export type MigrateStage = 'connect' | 'write' | 'read';

export interface ExchangeResult {
  /** Reply lines read (without CRLF), in order. */
  lines: string[];
  /** Set when the exchange stopped on a socket error or timeout. */
  error: MigrateStage | null;
}

/** The commands to send, built once the connection is known (SELECT only when the cached db differs). */
export type BuildBatch = (needSelect: boolean) => { data: Buffer; expected: number };

/** Redis's MIGRATE_SOCKET_CACHE_TTL (seconds of idleness before a cached connection is closed) and _ITEMS. */
const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 64;

interface CachedConn {
  socket: net.Socket;
  lastDb: number;
  timer: NodeJS.Timeout | null;
}

/** The connections cached by one server (an engine), by "host:port". */
type ConnCache = Map<string, CachedConn>;

/** One cache per owner (the engine): several servers may run in one process. */
const caches = new WeakMap<object, ConnCache>();

function cacheOf(owner: object): ConnCache {
  let c = caches.get(owner);
  if (c === undefined) {
    c = new Map();
    caches.set(owner, c);
  }
  return c;
}

function dropCached(cache: ConnCache, name: string): void {
  const c = cache.get(name);
  if (c === undefined) return;
  cache.delete(name);
  if (c.timer !== null) clearTimeout(c.timer);
  c.socket.destroy();
}

function putCached(cache: ConnCache, name: string, socket: net.Socket, lastDb: number): void {
  dropCached(cache, name);
  // Full: Redis closes a random cached connection to make room.
  if (cache.size >= CACHE_MAX) {
    const names = [...cache.keys()];
    dropCached(cache, names[Math.floor(Math.random() * names.length)]!);
  }
  const c: CachedConn = { socket, lastDb, timer: null };
  c.timer = setTimeout(() => {
    if (cache.get(name) === c) dropCached(cache, name);
  }, CACHE_TTL_MS);
  c.timer.unref();
  socket.removeAllListeners('data');
  socket.removeAllListeners('error');
  socket.removeAllListeners('close');
  // A cached socket closed by the peer is forgotten.
  socket.on('error', () => {});
  socket.on('close', () => {
    if (cache.get(name) === c) {
      cache.delete(name);
      if (c.timer !== null) clearTimeout(c.timer);
    }
  });
  socket.unref();
  cache.set(name, c);
}

/** INFO migrate_cached_sockets: the connections `owner` keeps cached. */
export function migrateCachedSockets(owner: object): number {
  return caches.get(owner)?.size ?? 0;
}

/** Close the cached MIGRATE connections of `owner` (shutdown, tests). */
export function closeMigrateConnections(owner: object): void {
  const cache = caches.get(owner);
  if (cache === undefined) return;
  for (const name of [...cache.keys()]) dropCached(cache, name);
}

/** DNS failures are connect errors; anything else before the connection is up surfaces, as in Redis, when writing. */
function connectErrorStage(err: NodeJS.ErrnoException): MigrateStage {
  const code = err.code ?? '';
  return code === 'ENOTFOUND' || code.startsWith('EAI_') ? 'connect' : 'write';
}

function connect(host: string, port: number, timeoutMs: number): Promise<net.Socket | MigrateStage> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('connect');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(connectErrorStage(err));
    });
  });
}

/** Send `data` and read `expected` reply lines on a connected socket. */
function talk(socket: net.Socket, data: Buffer, expected: number, timeoutMs: number): Promise<ExchangeResult & { timedOut: boolean }> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    let buf = '';
    let written = false;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (error: MigrateStage | null, timedOut = false) => {
      if (done) return;
      done = true;
      if (timer !== null) clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      resolve({ lines, error, timedOut });
    };
    const arm = () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => finish(written ? 'read' : 'write', true), timeoutMs);
    };
    socket.ref();
    socket.on('data', (chunk: Buffer) => {
      arm();
      buf += chunk.toString('latin1');
      for (;;) {
        const i = buf.indexOf('\r\n');
        if (i < 0) break;
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
        if (lines.length === expected) return finish(null);
      }
    });
    socket.on('error', () => finish(written ? 'read' : 'write'));
    socket.on('close', () => finish(written ? 'read' : 'write'));
    arm();
    if (expected === 0) {
      socket.write(data);
      return finish(null);
    }
    socket.write(data, (err) => {
      if (err) return finish('write');
      written = true;
      arm();
    });
  });
}

/**
 * Run one MIGRATE exchange with host:port, database `db`. The connection
 * is cached afterwards unless a socket error occurred; `targetError` tells
 * whether the target answered an error (its db is then unknown).
 */
export async function exchange(owner: object, host: string, port: number, db: number, timeoutMs: number, build: BuildBatch): Promise<ExchangeResult> {
  const cache = cacheOf(owner);
  const name = `${host}:${port}`;
  for (let attempt = 0; ; attempt++) {
    const cached = cache.get(name);
    let socket: net.Socket;
    let lastDb = -1;
    if (cached !== undefined) {
      cache.delete(name);
      if (cached.timer !== null) clearTimeout(cached.timer);
      socket = cached.socket;
      lastDb = cached.lastDb;
    } else {
      const s = await connect(host, port, timeoutMs);
      if (typeof s === 'string') {
        // Redis retries once after a socket error (not after a timeout).
        if (attempt === 0 && s === 'write') continue;
        return { lines: [], error: s };
      }
      socket = s;
    }
    const needSelect = lastDb !== db;
    const { data, expected } = build(needSelect);
    const r = await talk(socket, data, expected, timeoutMs);
    if (r.error !== null) {
      socket.destroy();
      if (attempt === 0 && r.lines.length === 0 && !r.timedOut) continue;
      return { lines: r.lines, error: r.error };
    }
    const failed = r.lines.some((l) => l.startsWith('-'));
    putCached(cache, name, socket, failed ? -1 : db);
    return { lines: r.lines, error: null };
  }
}

/** The child process of exchangeSync: argv host port timeout expected; stdin the data; stdout JSON. */
const SYNC_SCRIPT = `
const net = require('node:net');
const [host, port, timeout, expected] = process.argv.slice(1);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const data = Buffer.concat(chunks);
  const lines = [];
  let buf = '', stage = 'connect', done = false, timer = null;
  const out = (error) => { if (done) return; done = true; process.stdout.write(JSON.stringify({ lines, error })); process.exit(0); };
  const arm = () => { clearTimeout(timer); timer = setTimeout(() => out(stage), Number(timeout)); };
  const s = net.connect({ host, port: Number(port) });
  arm();
  s.on('error', (e) => out(stage === 'connect' && !(e.code === 'ENOTFOUND' || String(e.code).startsWith('EAI_')) ? 'write' : stage));
  s.on('close', () => out(stage === 'connect' ? 'write' : stage));
  s.on('connect', () => { stage = 'write'; arm(); s.write(data, () => { stage = 'read'; arm(); }); });
  s.on('data', (c) => { arm(); buf += c.toString('latin1'); let i;
    while ((i = buf.indexOf('\\r\\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 2); if (lines.length === Number(expected)) out(null); } });
});
`;

/** exchange() for callers that must answer synchronously: blocks until done, like Redis's MIGRATE. No connection caching. */
export function exchangeSync(host: string, port: number, timeoutMs: number, build: BuildBatch): ExchangeResult {
  const { data, expected } = build(true);
  const r = spawnSync(process.execPath, ['-e', SYNC_SCRIPT, host, String(port), String(timeoutMs), String(expected)], {
    input: data,
    maxBuffer: 64 * 1024 * 1024,
    timeout: timeoutMs * (expected + 3) + 5000,
  });
  try {
    const parsed = JSON.parse(r.stdout.toString('utf8')) as ExchangeResult;
    return { lines: parsed.lines, error: parsed.error };
  } catch {
    return { lines: [], error: 'read' };
  }
}
