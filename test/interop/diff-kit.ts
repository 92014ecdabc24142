/**
 * Shared pieces of the differential tests (cacheside vs a real redis-server):
 * environment knobs, an exact reply formatter, argv formatting, the failure
 * report, a server pair started for a test file, and a small round runner.
 *
 * PRNGs: `Prng` (sfc32 seeded through splitmix32, in command-gen.ts) drives
 * most generators; the list and stream tests use `mulberry32` (below). They give
 * different sequences for the same seed, so each file keeps the one it had:
 * a DIFF_SEED replays the same commands as before.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { RawClient, startCacheside, startRedis, type RespValue, type ServerHandle } from './harness.js';

export { Prng } from './command-gen.js';

// ---------------------------------------------------------------------------
// Environment knobs

/**
 * An integer from the environment, `dflt` when unset or empty. With `strict`
 * anything but a non-negative safe integer throws; without it the value is
 * taken as `Number(v)`.
 */
export function envInt(name: string, dflt: number, strict = false): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (strict && (!Number.isSafeInteger(n) || n < 0)) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** DIFF_SEED, or a fresh random 32-bit seed. */
export function diffSeed(strict = false): number {
  return envInt('DIFF_SEED', Math.floor(Math.random() * 2 ** 32), strict);
}

/** DIFF_TAIL: how many commands of history a failure report shows. */
export function historyTail(dflt: number, strict = false): number {
  return envInt('DIFF_TAIL', dflt, strict);
}

/** DIFF_SKIP=a,b: lowercase command names not to generate. */
export function skipSet(): Set<string> {
  return new Set(
    (process.env.DIFF_SKIP ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ''),
  );
}

/** DIFF_CONTINUE=1: collect every mismatch instead of stopping at the first. */
export const continueOnMismatch = (): boolean => process.env.DIFF_CONTINUE === '1';

// ---------------------------------------------------------------------------
// PRNG (the list and stream tests')

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export { prng as mulberry32 } from '../helpers/dataset.js';

/** Draws over a PRNG returning floats in [0, 1) (the list and stream generators extend it). */
export class FloatDraws {
  constructor(readonly r: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
}

// ---------------------------------------------------------------------------
// Formatting

/** redis-cli style quoting: bare when safe (unless `always`), else "..." with \xNN escapes. */
export function quoteArg(a: string, always = false): string {
  if (!always && /^[\x21-\x7e]+$/.test(a) && !/["'\\]/.test(a)) return a;
  let out = '"';
  for (const ch of a) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\r') out += '\\r';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c > 0x7e) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** A command as redis-cli would take it. */
export const cliArgv = (argv: readonly string[]): string => argv.map((a) => quoteArg(a)).join(' ');

/** A command as JSON strings; with `clipLong`, long commands and long arguments are shortened. */
export function jsonArgv(argv: readonly string[], clipLong = false): string {
  if (!clipLong) return argv.map((a) => JSON.stringify(a)).join(' ');
  return argv.length > 12
    ? `${argv.slice(0, 4).map((a) => JSON.stringify(a)).join(' ')} ... (${argv.length - 2} elements)`
    : argv.map((a) => JSON.stringify(a.length > 60 ? a.slice(0, 60) + `...(${a.length} bytes)` : a)).join(' ');
}

/** Control and non-ASCII bytes of a status/error line as \xNN (the line itself is never quoted). */
export function escapeLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\xff\\]/g, (c) => (c === '\\' ? '\\\\' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
}

/**
 * How text is rendered by formatReply:
 * - json: status/error lines as they are, bulk strings as JSON strings;
 * - cli: status/error lines escaped, bulk strings redis-cli quoted;
 * - hex: status/error lines as they are, bulk strings as hex bytes.
 */
export type ReplyStyle = 'json' | 'cli' | 'hex';

const LINE: Record<ReplyStyle, (s: string) => string> = { json: (s) => s, cli: escapeLine, hex: (s) => s };
const BLOB: Record<ReplyStyle, (s: string) => string> = {
  json: (s) => JSON.stringify(s),
  cli: (s) => quoteArg(s, true),
  hex: (s) => Buffer.from(s, 'latin1').toString('hex'),
};

/** An exact, compact rendering of a reply that keeps every wire type apart. */
export function formatReply(v: RespValue, style: ReplyStyle): string {
  const f = (x: RespValue): string => formatReply(x, style);
  switch (v.type) {
    case 'simple':
      return '+' + LINE[style](v.value);
    case 'error':
      return '-' + LINE[style](v.value);
    case 'blob-error':
      return '!' + BLOB[style](v.value);
    case 'integer':
      return ':' + v.value.toString();
    case 'bulk':
      return '$' + BLOB[style](v.value);
    case 'null-bulk':
      return '$nil';
    case 'null-array':
      return '*nil';
    case 'null':
      return '_';
    case 'boolean':
      return v.value ? '#t' : '#f';
    case 'double':
      return ',' + v.value;
    case 'bignum':
      return '(' + v.value;
    case 'verbatim':
      return `=${v.format}:${BLOB[style](v.value)}`;
    case 'array':
      return '*[' + v.value.map(f).join(', ') + ']';
    case 'set':
      return '~[' + v.value.map(f).join(', ') + ']';
    case 'push':
      return '>[' + v.value.map(f).join(', ') + ']';
    case 'map':
      return '%{' + v.value.map(([k, x]) => `${f(k)}: ${f(x)}`).join(', ') + '}';
    case 'attribute':
      return '|{' + v.attributes.map(([k, x]) => `${f(k)}: ${f(x)}`).join(', ') + '} ' + f(v.value);
  }
}

/** formatReply in the 'json' style (one argument: safe to pass to `map`). */
export const fmtReply = (v: RespValue): string => formatReply(v, 'json');

export const clip = (s: string, max = 600): string => (s.length > max ? s.slice(0, max) + `... (${s.length} chars)` : s);

/** The elements of an array or set reply made only of bulk strings; null for anything else. */
export const bulkItems = (v: RespValue): string[] | null =>
  (v.type === 'array' || v.type === 'set') && v.value.every((x) => x.type === 'bulk')
    ? v.value.map((x) => (x as { value: string }).value)
    : null;

/**
 * A full iteration of a SCAN-family command (argv: command, key, cursor,
 * options): the first reply that is not a [cursor, items] page (an error,
 * say) or whose items `itemsOf` rejects (null), else the sorted union of
 * what `itemsOf` read from every page, as an array of bulk strings.
 */
export async function scanUnion(
  c: RawClient,
  argv: readonly string[],
  itemsOf: (items: Extract<RespValue, { type: 'array' }>) => string[] | null,
): Promise<RespValue> {
  const seen = new Set<string>();
  let cursor = argv[2]!;
  let calls = 0;
  do {
    const r = await c.send(argv[0]!, argv[1]!, cursor, ...argv.slice(3));
    if (r.type !== 'array') return r;
    const [cur, items] = r.value;
    if (cur?.type !== 'bulk' || items?.type !== 'array') return r;
    const got = itemsOf(items);
    if (got === null) return r;
    for (const x of got) seen.add(x);
    cursor = cur.value;
    if (++calls > 10_000) return { type: 'error', value: `${argv[0]} did not terminate` };
  } while (cursor !== '0');
  return { type: 'array', value: [...seen].sort().map((value) => ({ type: 'bulk', value })) };
}

// ---------------------------------------------------------------------------
// Failure report

export interface Mismatch {
  seed: number;
  /** The first line, before ": why" (default "seed N"). */
  header?: string;
  why: string;
  /** The command, already formatted. */
  command: string;
  /** Both replies, already formatted. */
  redis: string;
  cacheside: string;
  /** What came before (oldest first); the last `tail` are shown. */
  history: readonly string[];
  tail: number;
  /** Said after "last commands", e.g. " (after FLUSHALL, ...)". */
  historyNote?: string;
  /** The test file, for the replay hint (e.g. "differential-hash.test.ts"). */
  file: string;
}

/** The failure message: seed, command, both replies, the last commands and how to replay. */
export function mismatchMessage(m: Mismatch): string {
  return (
    `${m.header ?? `seed ${m.seed}`}: ${m.why}\n` +
    `  command:      ${m.command}\n  redis-server: ${m.redis}\n  cacheside:    ${m.cacheside}\n` +
    `last commands${m.historyNote ?? ''}:\n${m.history.slice(-m.tail).map((h) => '  ' + h).join('\n')}\n` +
    `replay: DIFF_SEED=${m.seed} npx vitest run --project interop test/interop/${m.file}`
  );
}

// ---------------------------------------------------------------------------
// Servers and connections

export interface ServerPair {
  readonly redis: ServerHandle;
  readonly cs: ServerHandle;
}

/**
 * Starts a redis-server and a built cacheside (DEBUG enabled unless `debug`
 * is false) before the tests of the enclosing suite and stops both after.
 */
export function useServerPair({ debug = true }: { debug?: boolean } = {}): ServerPair {
  let redis: ServerHandle | undefined;
  let cs: ServerHandle | undefined;
  const args = debug ? ['--enable-debug-command', 'yes'] : [];
  beforeAll(async () => {
    [redis, cs] = await Promise.all([startRedis(args), startCacheside(args)]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), cs?.stop()]);
  });
  return {
    get redis(): ServerHandle {
      if (!redis) throw new Error('redis-server not started');
      return redis;
    },
    get cs(): ServerHandle {
      if (!cs) throw new Error('cacheside not started');
      return cs;
    },
  };
}

/** One connection to each server: [redis-server, cacheside]. */
export function connectBoth(servers: ServerPair, timeoutMs = 10_000): Promise<[RawClient, RawClient]> {
  return Promise.all([RawClient.connect(servers.redis.port, { timeoutMs }), RawClient.connect(servers.cs.port, { timeoutMs })]);
}

/**
 * Compares replies already formatted: `check` throws the failure report
 * (header "mismatch (DIFF_SEED=N)") when they differ, and otherwise appends
 * "<argv as JSON> -> <reply>" to `history`.
 */
export function replyChecker(o: { seed: number; file: string; tail: number }): {
  history: string[];
  check(argv: string[], ra: string, rb: string): void;
} {
  const history: string[] = [];
  return {
    history,
    check(argv, ra, rb) {
      if (ra !== rb) {
        throw new Error(
          mismatchMessage({
            seed: o.seed,
            header: `mismatch (DIFF_SEED=${o.seed})`,
            why: 'replies differ',
            command: jsonArgv(argv),
            redis: ra,
            cacheside: rb,
            history,
            tail: o.tail,
            file: o.file,
          }),
        );
      }
      history.push(`${jsonArgv(argv)} -> ${ra}`);
    },
  };
}

/** Sends a command to both servers: [redis-server's reply, cacheside's]. */
export function sendBoth(a: RawClient, b: RawClient, argv: readonly string[]): Promise<[RespValue, RespValue]> {
  return Promise.all([a.send(...argv), b.send(...argv)]);
}

/** Sends set-up commands to both servers; each must get a reply of the same type from both. */
export async function setUpBoth(a: RawClient, b: RawClient, commands: readonly (readonly string[])[]): Promise<void> {
  for (const argv of commands) {
    const [x, y] = await sendBoth(a, b, argv);
    expect(y.type, `${cliArgv(argv)} on cacheside: ${fmtReply(y)}`).toBe(x.type);
  }
}

// ---------------------------------------------------------------------------
// Keyspace events

/**
 * Turns on every keyspace notification (CONFIG SET notify-keyspace-events KEA)
 * on both servers and subscribes one more connection to each to all of them
 * (PSUBSCRIBE __key*): [redis-server's, cacheside's].
 */
export async function subscribeKeyspaceEvents(servers: ServerPair): Promise<[RawClient, RawClient]> {
  const subs = await Promise.all([RawClient.connect(servers.redis.port), RawClient.connect(servers.cs.port)]);
  for (const sub of subs) {
    await sub.send('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    await sub.send('PSUBSCRIBE', '__key*');
  }
  return subs;
}

/** Every frame a connection received until it stayed quiet for `quietMs`, formatted. */
export async function drainFrames(c: RawClient, quietMs = 150): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    let f: RespValue;
    try {
      f = await c.readFrame(quietMs);
    } catch {
      return out;
    }
    out.push(fmtReply(f));
  }
}

/** A connection to each server, their keyspace event subscribers and a reply checker. */
export interface EventedPair {
  a: RawClient;
  b: RawClient;
  subs: [RawClient, RawClient];
  check(argv: string[], ra: string, rb: string): void;
  /** Destroys every connection. */
  close(): void;
}

/** Connects to both servers with keyspace events on and subscribed (subscribeKeyspaceEvents); `o` configures the replyChecker. */
export async function openEventedPair(servers: ServerPair, o: { seed: number; file: string; tail: number }): Promise<EventedPair> {
  const a = await RawClient.connect(servers.redis.port);
  const b = await RawClient.connect(servers.cs.port);
  const subs = await subscribeKeyspaceEvents(servers);
  return {
    a,
    b,
    subs,
    check: replyChecker(o).check,
    close() {
      for (const c of [a, b, ...subs]) c.destroy();
    },
  };
}

/**
 * Drains both subscribers (subscribeKeyspaceEvents) and fails unless they
 * received the same events in the same order, more than `min` of them.
 */
export async function expectSameEvents(subs: readonly [RawClient, RawClient], seed: number, min = 100): Promise<void> {
  const [ea, eb] = await Promise.all(subs.map((sub) => drainFrames(sub)));
  expect(ea!.length).toBeGreaterThan(min);
  for (let i = 0; i < Math.max(ea!.length, eb!.length); i++) {
    if (ea![i] !== eb![i]) throw new Error(`event #${i} differs (DIFF_SEED=${seed}): redis ${ea![i]} cacheside ${eb![i]}`);
  }
}

// ---------------------------------------------------------------------------
// Blocked clients

export interface BlockedService {
  /** Sent on a control connection after FLUSHALL. */
  setup: string[][];
  /** One command per client, blocked in this order (30 ms apart), each client in the round's protocol. */
  blocked: string[][];
  /** Serves the blocked clients from the control connection; returns what to compare (formatted). */
  serve(ctl: RawClient): Promise<string[]>;
  /** After the blocked clients got their replies: what else to compare (formatted). */
  inspect(ctl: RawClient): Promise<string[]>;
}

/**
 * Runs the same blocking scenario on each server, in RESP2 then RESP3: the
 * replies of `serve`, of every blocked client and of `inspect` must be the
 * same on both.
 */
export async function expectSameBlockedService(servers: ServerPair, o: BlockedService): Promise<void> {
  for (const resp of ['2', '3']) {
    const results: string[][] = [];
    for (const srv of [servers.redis, servers.cs]) {
      const ctl = await RawClient.connect(srv.port);
      await ctl.send('FLUSHALL');
      for (const argv of o.setup) await ctl.send(...argv);
      const waiters = await Promise.all(o.blocked.map(() => RawClient.connect(srv.port)));
      for (const w of waiters) await w.send('HELLO', resp);
      const pending: Promise<RespValue>[] = [];
      for (let i = 0; i < waiters.length; i++) {
        pending.push(waiters[i]!.send(...o.blocked[i]!));
        await new Promise((r) => setTimeout(r, 30)); // block in a known order
      }
      const out = await o.serve(ctl);
      out.push(...(await Promise.all(pending)).map(fmtReply));
      out.push(...(await o.inspect(ctl)));
      results.push(out);
      for (const w of waiters) w.destroy();
      ctl.destroy();
    }
    expect(results[1]).toEqual(results[0]);
  }
}

// ---------------------------------------------------------------------------
// Round runner

export interface RoundContext {
  a: RawClient;
  b: RawClient;
  resp: '2' | '3';
  round: number;
  /** Formats a reply the way this run compares them. */
  fmt(v: RespValue): string;
  /** Appends "<argv> -> <reply>" (reply cut to `historyClip`) to the history; `suffix` goes after the argv. */
  record(argv: string[], x: RespValue, suffix?: string): void;
  /** Throws the failure report. */
  fail(why: string, argv: string[], x: RespValue, y: RespValue): never;
  /** Sends to both, records, fails with `why` unless the replies are identical; returns redis-server's reply. */
  same(argv: string[], why?: string): Promise<RespValue>;
}

export interface RoundRunOptions<T extends { argv: string[] }> {
  /** Log prefix, e.g. "differential-hash". */
  name: string;
  /** The test file, for the replay hint. */
  file: string;
  seed: number;
  rounds: number;
  steps: number;
  servers: ServerPair;
  /** Per-command timeout of the connections (default 10 s). */
  timeoutMs?: number;
  /** Sent to each server at the start of every round, after HELLO <resp> and FLUSHALL. */
  setup?: string[][];
  /** Called at the start of every round, after the set-up commands, before its first step is generated. */
  startRound?(round: number): void;
  style?: ReplyStyle;
  fmtArgv?: (argv: string[]) => string;
  /** Replies are cut to this length in the history (default 300) and in the report (default: not cut). */
  historyClip?: number;
  reportClip?: number;
  /** DIFF_TAIL default. */
  tail?: number;
  /** The next generated step. */
  next(): T;
  /** Runs and checks one step (counted by its command name). */
  check(step: T, ctx: RoundContext): Promise<void>;
  /** Appended to the summary line. */
  summary?(): string;
}

/**
 * Alternates RESP2 / RESP3 rounds of `steps` generated commands on a fresh
 * data set, then compares DEBUG DIGEST at the end of every round. Returns the
 * number of commands run, by lowercase command name.
 */
export async function runRounds<T extends { argv: string[] }>(o: RoundRunOptions<T>): Promise<Map<string, number>> {
  const style = o.style ?? 'json';
  const fmt = (v: RespValue): string => formatReply(v, style);
  const fmtArgv = o.fmtArgv ?? ((argv: string[]) => jsonArgv(argv));
  const historyClip = o.historyClip ?? 300;
  const cut = (s: string): string => (o.reportClip === undefined ? s : s.slice(0, o.reportClip));
  const tail = historyTail(o.tail ?? 25);
  console.log(`${o.name}: seed ${o.seed} (replay with DIFF_SEED=${o.seed}), ${o.rounds} rounds x ${o.steps} commands`);
  const [a, b] = await connectBoth(o.servers, o.timeoutMs);
  const history: string[] = [];
  const counts = new Map<string, number>();
  const fail = (why: string, argv: string[], x: RespValue, y: RespValue): never => {
    throw new Error(
      mismatchMessage({ seed: o.seed, why, command: fmtArgv(argv), redis: cut(fmt(x)), cacheside: cut(fmt(y)), history, tail, file: o.file }),
    );
  };
  const record = (argv: string[], x: RespValue, suffix = ''): void => {
    history.push(`${fmtArgv(argv)}${suffix} -> ${fmt(x).slice(0, historyClip)}`);
  };
  try {
    for (let round = 0; round < o.rounds; round++) {
      const resp = round % 2 === 0 ? '2' : '3';
      for (const c of [a, b]) {
        await c.send('HELLO', resp);
        await c.send('FLUSHALL');
        for (const argv of o.setup ?? []) await c.send(...argv);
      }
      history.length = 0;
      history.push(`HELLO ${resp}`);
      o.startRound?.(round);
      const ctx: RoundContext = {
        a,
        b,
        resp,
        round,
        fmt,
        record,
        fail,
        async same(argv, why = 'replies differ') {
          const [x, y] = await Promise.all([a.send(...argv), b.send(...argv)]);
          record(argv, x);
          if (fmt(x) !== fmt(y)) fail(why, argv, x, y);
          return x;
        },
      };
      for (let i = 0; i < o.steps; i++) {
        const step = o.next();
        const name = step.argv[0]!.toLowerCase();
        counts.set(name, (counts.get(name) ?? 0) + 1);
        await o.check(step, ctx);
      }
      // The data sets must be identical at the end of every round.
      const dx = await a.send('DEBUG', 'DIGEST');
      const dy = await b.send('DEBUG', 'DIGEST');
      if (fmt(dx) !== fmt(dy)) fail('data sets differ at the end of the round', ['DEBUG', 'DIGEST'], dx, dy);
    }
  } finally {
    await a.close();
    await b.close();
  }
  const total = [...counts.values()].reduce((s, n) => s + n, 0);
  console.log(`${o.name}: ${total} commands compared: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}${o.summary?.() ?? ''}`);
  return counts;
}
