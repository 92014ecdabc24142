/**
 * Helpers for interop tests (vitest): start a real redis-server and/or a built
 * cacheside on free ports, talk to them with a raw RESP2/RESP3 client, and
 * normalize replies for comparisons.
 *
 * Nothing here uses ioredis or node-redis on purpose: those clients hide the
 * wire-level differences (simple vs bulk strings, null bulk vs null array,
 * RESP3 types, ...) that interop tests need to see.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// The built CLI's path and node flags come from the module the benchmarks use
// to start cacheside too (one reading of dist/cli.js's shebang).
import { CACHESIDE_CLI, cachesideNodeArgs } from '../../benchmarks/cacheside-cli.mjs';
export { CACHESIDE_CLI, REPO_ROOT, cachesideNodeArgs } from '../../benchmarks/cacheside-cli.mjs';

const PING_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------
// RESP values
// ---------------------------------------------------------------------------

/**
 * One decoded RESP reply, tagged with its wire type so that replies which a
 * high-level client would conflate stay distinguishable (and `toEqual`-able).
 *
 * Text (simple strings, errors, bulk strings, verbatim strings) is decoded as
 * latin1, i.e. one char per byte, so binary data round-trips exactly.
 */
export type RespValue =
  | { type: 'simple'; value: string } // +OK
  | { type: 'error'; value: string } // -ERR ...
  | { type: 'integer'; value: bigint } // :1 (bigint: replies are signed 64-bit)
  | { type: 'bulk'; value: string } // $3 foo
  | { type: 'null-bulk' } // $-1 (RESP2)
  | { type: 'array'; value: RespValue[] } // *2 ...
  | { type: 'null-array' } // *-1 (RESP2)
  | { type: 'null' } // _ (RESP3)
  | { type: 'boolean'; value: boolean } // #t / #f
  | { type: 'double'; value: string } // ,3.14 — kept as the exact wire text ("inf", "-inf", "nan" too)
  | { type: 'bignum'; value: string } // (3492890328409238509324850943850943825024385
  | { type: 'blob-error'; value: string } // !21 SYNTAX invalid syntax
  | { type: 'verbatim'; format: string; value: string } // =15 txt:Some string
  | { type: 'map'; value: Array<[RespValue, RespValue]> } // %2 ...
  | { type: 'set'; value: RespValue[] } // ~2 ...
  | { type: 'push'; value: RespValue[] } // >3 ...
  | { type: 'attribute'; attributes: Array<[RespValue, RespValue]>; value: RespValue }; // |1 k v <reply>

export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

const CRLF = Buffer.from('\r\n');

function encodeArg(arg: string | Buffer | Uint8Array): Buffer {
  if (typeof arg !== 'string') return Buffer.isBuffer(arg) ? arg : Buffer.from(arg);
  // One byte per char when possible, so strings round-trip with the latin1
  // decoding of replies; anything beyond latin1 is sent as UTF-8.
  // eslint-disable-next-line no-control-regex
  return /^[\u0000-\u00ff]*$/.test(arg) ? Buffer.from(arg, 'latin1') : Buffer.from(arg, 'utf8');
}

/** Encodes one command as a RESP multibulk (array of bulk strings). */
export function encodeCommand(args: ReadonlyArray<string | Buffer | Uint8Array>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = encodeArg(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

interface Parsed {
  value: RespValue;
  end: number;
}

function readLine(buf: Buffer, pos: number): { line: string; next: number } | undefined {
  const idx = buf.indexOf(CRLF, pos);
  if (idx === -1) return undefined;
  return { line: buf.toString('latin1', pos, idx), next: idx + 2 };
}

function parseLength(line: string, type: string): number {
  if (!/^-?\d+$/.test(line)) throw new RespProtocolError(`invalid length for '${type}': ${JSON.stringify(line)}`);
  const n = Number(line);
  if (n < -1) throw new RespProtocolError(`invalid length for '${type}': ${line}`);
  return n;
}

/**
 * Parses one RESP2/RESP3 frame starting at `start`. Returns undefined when the
 * buffer does not hold a complete frame yet; throws RespProtocolError on
 * malformed input. Streamed RESP3 types ($?, *?) are not supported.
 */
export function parseResp(buf: Buffer, start = 0): Parsed | undefined {
  if (start >= buf.length) return undefined;
  const prefix = String.fromCharCode(buf[start]!);
  const l = readLine(buf, start + 1);
  if (!l) return undefined;
  const { line, next } = l;

  const blob = (): { text: string; end: number } | null | undefined => {
    const len = parseLength(line, prefix);
    if (len === -1) return null;
    if (next + len + 2 > buf.length) return undefined;
    if (buf[next + len] !== 0x0d || buf[next + len + 1] !== 0x0a) {
      throw new RespProtocolError(`'${prefix}' payload of length ${len} is not followed by CRLF`);
    }
    return { text: buf.toString('latin1', next, next + len), end: next + len + 2 };
  };
  const elements = (count: number, pos: number): { items: RespValue[]; end: number } | undefined => {
    const items: RespValue[] = [];
    for (let i = 0; i < count; i++) {
      const p = parseResp(buf, pos);
      if (!p) return undefined;
      items.push(p.value);
      pos = p.end;
    }
    return { items, end: pos };
  };
  const pairs = (count: number, pos: number): { pairs: Array<[RespValue, RespValue]>; end: number } | undefined => {
    const e = elements(count * 2, pos);
    if (!e) return undefined;
    const out: Array<[RespValue, RespValue]> = [];
    for (let i = 0; i < e.items.length; i += 2) out.push([e.items[i]!, e.items[i + 1]!]);
    return { pairs: out, end: e.end };
  };

  switch (prefix) {
    case '+':
      return { value: { type: 'simple', value: line }, end: next };
    case '-':
      return { value: { type: 'error', value: line }, end: next };
    case ':':
      if (!/^[-+]?\d+$/.test(line)) throw new RespProtocolError(`invalid integer: ${JSON.stringify(line)}`);
      return { value: { type: 'integer', value: BigInt(line) }, end: next };
    case '$': {
      const b = blob();
      if (b === undefined) return undefined;
      if (b === null) return { value: { type: 'null-bulk' }, end: next };
      return { value: { type: 'bulk', value: b.text }, end: b.end };
    }
    case '!': {
      const b = blob();
      if (b === undefined) return undefined;
      if (b === null) throw new RespProtocolError('null blob error');
      return { value: { type: 'blob-error', value: b.text }, end: b.end };
    }
    case '=': {
      const b = blob();
      if (b === undefined) return undefined;
      if (b === null) throw new RespProtocolError('null verbatim string');
      if (b.text.length < 4 || b.text[3] !== ':') throw new RespProtocolError(`invalid verbatim string: ${JSON.stringify(b.text)}`);
      return { value: { type: 'verbatim', format: b.text.slice(0, 3), value: b.text.slice(4) }, end: b.end };
    }
    case '*':
    case '~':
    case '>': {
      const n = parseLength(line, prefix);
      if (n === -1) {
        if (prefix === '*') return { value: { type: 'null-array' }, end: next };
        throw new RespProtocolError(`negative length for '${prefix}'`);
      }
      const e = elements(n, next);
      if (!e) return undefined;
      const type = prefix === '*' ? 'array' : prefix === '~' ? 'set' : 'push';
      return { value: { type, value: e.items }, end: e.end };
    }
    case '%': {
      const n = parseLength(line, prefix);
      if (n === -1) throw new RespProtocolError("negative length for '%'");
      const p = pairs(n, next);
      if (!p) return undefined;
      return { value: { type: 'map', value: p.pairs }, end: p.end };
    }
    case '|': {
      const n = parseLength(line, prefix);
      if (n === -1) throw new RespProtocolError("negative length for '|'");
      const p = pairs(n, next);
      if (!p) return undefined;
      const inner = parseResp(buf, p.end);
      if (!inner) return undefined;
      return { value: { type: 'attribute', attributes: p.pairs, value: inner.value }, end: inner.end };
    }
    case '_':
      if (line !== '') throw new RespProtocolError(`invalid null: ${JSON.stringify(line)}`);
      return { value: { type: 'null' }, end: next };
    case '#':
      if (line !== 't' && line !== 'f') throw new RespProtocolError(`invalid boolean: ${JSON.stringify(line)}`);
      return { value: { type: 'boolean', value: line === 't' }, end: next };
    case ',':
      return { value: { type: 'double', value: line }, end: next };
    case '(':
      if (!/^[-+]?\d+$/.test(line)) throw new RespProtocolError(`invalid big number: ${JSON.stringify(line)}`);
      return { value: { type: 'bignum', value: line }, end: next };
    default:
      throw new RespProtocolError(
        `unknown RESP type byte 0x${buf[start]!.toString(16).padStart(2, '0')} (${JSON.stringify(prefix)}) in: ` +
          JSON.stringify(buf.toString('latin1', start, Math.min(buf.length, start + 64))),
      );
  }
}

// ---------------------------------------------------------------------------
// RawClient
// ---------------------------------------------------------------------------

type FrameKind = 'reply' | 'push' | 'any';

interface Waiter {
  kind: FrameKind;
  resolve: (v: RespValue) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface RawClientOptions {
  host?: string;
  /** Default timeout for readReply()/nextPush()/send(), in ms (0 = none). Default 5000. */
  timeoutMs?: number;
  /** Connect timeout in ms. Default 5000. */
  connectTimeoutMs?: number;
}

function matches(kind: FrameKind, v: RespValue): boolean {
  return kind === 'any' || (kind === 'push') === (v.type === 'push');
}

/**
 * Minimal raw RESP client over a TCP socket.
 *
 * Every incoming frame is parsed and queued in arrival order. Frames of type
 * push (`>`) are delivered only to nextPush(); everything else to
 * readReply()/send(). readFrame() takes the next frame of either kind.
 *
 * Note: in RESP3, SUBSCRIBE & co. answer with push frames, so use
 * `sendRaw(encodeCommand([...]))` + `nextPush()` for them, not send().
 * If a readReply() times out, the reply stream may be out of step with the
 * commands sent; discard the client.
 */
export class RawClient {
  readonly socket: net.Socket;
  timeoutMs: number;
  private buf: Buffer = Buffer.alloc(0);
  private readonly frames: RespValue[] = [];
  private waiters: Waiter[] = [];
  private failure: Error | undefined;
  private ended = false;
  private readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.failure ??= err;
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        const err = this.failure ?? new Error('connection closed');
        for (const w of this.waiters.splice(0)) {
          if (w.timer) clearTimeout(w.timer);
          w.reject(err);
        }
        resolve();
      });
    });
  }

  static connect(port: number, opts: RawClientOptions = {}): Promise<RawClient> {
    const host = opts.host ?? '127.0.0.1';
    const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RawClient(socket, opts.timeoutMs ?? 5000));
      });
    });
  }

  /** True once the connection is closed (by either side). */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Resolves when the socket has closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Number of parsed frames not yet consumed (replies and pushes). */
  get pendingFrames(): number {
    return this.frames.length;
  }

  /** Sends one command as a multibulk and resolves with the next non-push reply. */
  send(...args: Array<string | Buffer>): Promise<RespValue> {
    if (args.length === 0) return Promise.reject(new Error('send() needs at least one argument'));
    try {
      this.write(encodeCommand(args));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.readReply();
  }

  /** Writes all commands in one go (pipelined) and resolves with their replies, in order. */
  pipeline(commands: ReadonlyArray<ReadonlyArray<string | Buffer>>): Promise<RespValue[]> {
    try {
      this.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return Promise.all(commands.map(() => this.readReply()));
  }

  /** Writes raw bytes (strings are written as latin1). Resolves once flushed to the kernel. */
  sendRaw(bytes: string | Buffer | Uint8Array): Promise<void> {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    return new Promise((resolve, reject) => {
      if (this.ended) return reject(this.failure ?? new Error('connection closed'));
      this.socket.write(b, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Next reply that is not a push. */
  readReply(timeoutMs: number = this.timeoutMs): Promise<RespValue> {
    return this.take('reply', timeoutMs);
  }

  /** Next push frame (`>`), e.g. pub/sub messages or tracking invalidations in RESP3. */
  nextPush(timeoutMs: number = this.timeoutMs): Promise<RespValue> {
    return this.take('push', timeoutMs);
  }

  /** Next frame of any kind, in arrival order. */
  readFrame(timeoutMs: number = this.timeoutMs): Promise<RespValue> {
    return this.take('any', timeoutMs);
  }

  /** Closes the connection gracefully (falls back to destroy after 1 s). */
  async close(): Promise<void> {
    if (!this.ended) {
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      await this.closedPromise;
      clearTimeout(t);
    }
  }

  /** Closes the connection immediately. */
  destroy(): void {
    this.socket.destroy();
  }

  private write(b: Buffer): void {
    if (this.ended) throw this.failure ?? new Error('connection closed');
    this.socket.write(b);
  }

  private take(kind: FrameKind, timeoutMs: number): Promise<RespValue> {
    const idx = this.frames.findIndex((f) => matches(kind, f));
    if (idx !== -1) return Promise.resolve(this.frames.splice(idx, 1)[0]!);
    if (this.ended) return Promise.reject(this.failure ?? new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const w: Waiter = { kind, resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        w.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${kind === 'any' ? 'a frame' : `a ${kind}`}`));
        }, timeoutMs);
      }
      this.waiters.push(w);
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    try {
      for (;;) {
        const p = parseResp(this.buf, pos);
        if (!p) break;
        pos = p.end;
        this.dispatch(p.value);
      }
    } catch (err) {
      this.failure = err as Error;
      this.socket.destroy();
      return;
    }
    this.buf = pos === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }

  private dispatch(frame: RespValue): void {
    const i = this.waiters.findIndex((w) => matches(w.kind, frame));
    if (i === -1) {
      this.frames.push(frame);
      return;
    }
    const [w] = this.waiters.splice(i, 1);
    if (w!.timer) clearTimeout(w!.timer);
    w!.resolve(frame);
  }
}

// ---------------------------------------------------------------------------
// normalize
// ---------------------------------------------------------------------------

export interface NormalizeOptions {
  /**
   * Sort arrays/sets (by their JSON form) for replies whose order is
   * unspecified (KEYS, SMEMBERS, ...). `true` sorts only the top level,
   * `'deep'` sorts every nested array too. Maps with non-string keys become
   * arrays of [key, value] pairs and are sorted the same way.
   */
  sort?: boolean | 'deep';
  /** `'message'` (default): errors become `{ error: 'ERR full text' }`; `'code'`: `{ error: 'ERR' }` (first word only). */
  errors?: 'message' | 'code';
}

/**
 * Turns a reply into plain JSON-compatible data for `expect(...).toEqual`:
 * simple/bulk/verbatim strings → string, integers → number (string if beyond
 * 2^53), doubles → number ('inf'/'-inf'/'nan' stay strings), big numbers →
 * string, all nulls → null, arrays/sets → array, maps → object (or pairs if a
 * key is not a string/number), errors → `{ error }`, pushes → `{ push: [...] }`,
 * attributes are dropped (the attributed reply is returned).
 *
 * This intentionally conflates e.g. simple vs bulk strings; compare the raw
 * RespValue when the wire type matters.
 */
export function normalize(v: RespValue, opts: NormalizeOptions = {}): unknown {
  return norm(v, opts, true);
}

function sortJson(items: unknown[]): unknown[] {
  return items
    .map((item) => ({ item, key: JSON.stringify(item) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.item);
}

function norm(v: RespValue, opts: NormalizeOptions, top: boolean): unknown {
  const sortHere = opts.sort === 'deep' || (opts.sort === true && top);
  const list = (items: RespValue[]): unknown[] => {
    const out = items.map((x) => norm(x, opts, false));
    return sortHere ? sortJson(out) : out;
  };
  switch (v.type) {
    case 'simple':
    case 'bulk':
    case 'verbatim':
      return v.value;
    case 'error':
    case 'blob-error':
      return { error: opts.errors === 'code' ? v.value.split(' ')[0] : v.value };
    case 'integer':
      return v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v.value)
        : v.value.toString();
    case 'double': {
      const n = Number(v.value);
      return Number.isFinite(n) ? n : v.value.toLowerCase();
    }
    case 'bignum':
      return v.value;
    case 'boolean':
      return v.value;
    case 'null':
    case 'null-bulk':
    case 'null-array':
      return null;
    case 'array':
    case 'set':
      return list(v.value);
    case 'push':
      return { push: list(v.value) };
    case 'map': {
      const entries = v.value.map(([k, val]) => [norm(k, opts, false), norm(val, opts, false)] as const);
      if (entries.every(([k]) => typeof k === 'string' || typeof k === 'number')) {
        const obj: Record<string, unknown> = {};
        for (const [k, val] of entries) {
          Object.defineProperty(obj, String(k), { value: val, enumerable: true, writable: true, configurable: true });
        }
        return obj;
      }
      const pairs = entries.map(([k, val]) => [k, val]);
      return sortHere ? sortJson(pairs) : pairs;
    }
    case 'attribute':
      return norm(v.value, opts, top);
  }
}

// ---------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------

export interface ServerHandle {
  port: number;
  pid: number;
  /** Working directory (--dir) of the server, removed on stop(). */
  dir: string;
  /** Last ~64 KiB of the server's stdout+stderr, for diagnostics. */
  output(): string;
  /** Kills the server (SIGTERM, then SIGKILL after 5 s), awaits its exit and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort: never leave servers behind when the test process exits.
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once PING on `port` answers +PONG; rejects after `timeoutMs` or when `abort()` returns a reason. */
async function waitForPing(port: number, timeoutMs: number, abort: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    const reason = abort();
    if (reason) throw new Error(reason);
    let client: RawClient | undefined;
    try {
      client = await RawClient.connect(port, { connectTimeoutMs: 1000, timeoutMs: 1000 });
      const reply = await client.send('PING');
      if (reply.type === 'simple' && reply.value === 'PONG') return;
      last = `PING replied ${JSON.stringify(normalize(reply))}`;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      client?.destroy();
    }
    await sleep(50);
  }
  throw new Error(`no PONG on port ${port} within ${timeoutMs} ms (last: ${last})`);
}

interface SpawnSpec {
  name: string;
  command: string;
  /** Builds the argument list for a given port and working dir. */
  args: (port: number, dir: string) => string[];
}

class EarlyExitError extends Error {}

async function startOnce(spec: SpawnSpec): Promise<ServerHandle> {
  const port = await getFreePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), `${spec.name}-`));
  let out = '';
  const child = spawn(spec.command, spec.args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const append = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_TAIL_BYTES * 2) out = out.slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('close', () => resolve());
  });
  const output = () => out.slice(-OUTPUT_TAIL_BYTES);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && !spawnError) {
        child.kill('SIGTERM');
        const killed = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
        if (!killed) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    })());

  try {
    await waitForPing(port, PING_TIMEOUT_MS, () => {
      if (spawnError) return `${spec.name}: failed to spawn ${spec.command}: ${spawnError.message}`;
      if (child.exitCode !== null || child.signalCode !== null) {
        return `${spec.name} exited (code ${child.exitCode}, signal ${child.signalCode}) before answering PING`;
      }
      return undefined;
    });
  } catch (err) {
    const early = child.exitCode !== null || child.signalCode !== null;
    await stop();
    const msg = `${spec.name} (${spec.command} ${spec.args(port, dir).join(' ')}) did not start: ${(err as Error).message}` +
      (output() ? `\n--- output ---\n${output()}` : '');
    throw early ? new EarlyExitError(msg) : new Error(msg);
  }
  return { port, pid: child.pid!, dir, output, stop };
}

async function startServer(spec: SpawnSpec): Promise<ServerHandle> {
  // getFreePort() is racy; retry if the server died because the port got taken.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(spec);
    } catch (err) {
      const retry = err instanceof EarlyExitError && /address already in use|EADDRINUSE/i.test(err.message);
      if (!retry || attempt >= 3) throw err;
    }
  }
}

/** Splits extraArgs into a leading config file path (if the first arg is not an option) and options. */
function splitConfig(extraArgs: string[]): { config: string[]; rest: string[] } {
  if (extraArgs.length > 0 && !extraArgs[0]!.startsWith('-')) return { config: [extraArgs[0]!], rest: extraArgs.slice(1) };
  return { config: [], rest: extraArgs };
}

/**
 * Starts a real `redis-server` on a free port with persistence disabled, in a
 * fresh temp dir, and waits until it answers PING. `extraArgs` are appended
 * (a leading non-option argument is treated as a config file and goes first).
 */
export function startRedis(extraArgs: string[] = []): Promise<ServerHandle> {
  const { config, rest } = splitConfig(extraArgs);
  return startServer({
    name: 'redis-server',
    command: 'redis-server',
    args: (port, dir) => [
      ...config,
      '--port', String(port),
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--dir', dir,
      ...rest,
    ],
  });
}

/**
 * Starts the built cacheside (`node dist/cli.js server ...`) on a free port
 * with persistence disabled, in a fresh temp dir, and waits until it answers
 * PING. Throws if dist/cli.js has not been built.
 */
export function startCacheside(extraArgs: string[] = []): Promise<ServerHandle> {
  if (!existsSync(CACHESIDE_CLI)) {
    return Promise.reject(new Error(`${CACHESIDE_CLI} not found: run \`npm run build\` first`));
  }
  const { config, rest } = splitConfig(extraArgs);
  return startServer({
    name: 'cacheside',
    command: process.execPath,
    args: (port, dir) => [
      ...cachesideNodeArgs(),
      CACHESIDE_CLI,
      'server',
      ...config,
      '--port', String(port),
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      ...rest,
    ],
  });
}
