/**
 * Shared helpers of the data type integration tests: Redis error texts, an
 * error-reply catcher, unique key names, and recorders for what a command
 * propagates and which keyspace events it fires.
 */
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import type { TestServer } from './server.js';
import { RawClient, waitUntil } from './raw-client.js';
import { RawClient as WireClient, type RespValue } from '../interop/harness.js';

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const NOT_INT = 'ERR value is not an integer or out of range';
export const SYNTAX = 'ERR syntax error';

/** The error message `p` rejects with; throws when it resolves. */
export async function err(p: Promise<unknown>): Promise<string> {
  let v: unknown;
  try {
    v = await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected an error reply, got ${inspect(v)}`);
}

/** Unique key names `prefix:name:N`, so that tests sharing a server never collide. */
export function keyMaker(prefix: string): (name: string) => string {
  let seq = 0;
  return (name) => `${prefix}:${name}:${++seq}`;
}

export const sorted = (a: unknown): string[] => [...(a as string[])].sort();
/** A latin1 string (one char per byte) as the bytes it stands for. */
export const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The commands propagated (AOF / replicas) while `fn` runs. */
export async function propagated(srv: TestServer, fn: () => Promise<unknown>): Promise<string[][]> {
  const out: string[][] = [];
  const p = (_db: number, argv: string[]) => void out.push([...argv]);
  srv.engine.propagators.push(p);
  try {
    await fn();
  } finally {
    srv.engine.propagators.splice(srv.engine.propagators.indexOf(p), 1);
  }
  return out;
}

/** A list at `key` (planted directly when this build has no list commands). */
export async function makeList(srv: TestServer, c: Redis, key: string): Promise<void> {
  try {
    await c.call('LPUSH', key, 'x');
  } catch (e) {
    if (!/unknown command/.test((e as Error).message)) throw e;
    srv.engine.dbs[0]!.set(key, { kind: 'list' });
  }
}

const KEYEVENT_DB0 = '__keyevent@0__:';

/** Publishes a marker on `c` and waits until `seen` has it; returns the events before it, removing them from `seen`. */
async function takeUntilMarker(c: Redis, seen: string[]): Promise<string[]> {
  const marker = `marker-${Math.random()}`;
  await c.publish(`${KEYEVENT_DB0}~marker~`, marker);
  await waitUntil(() => seen.some((e) => e.endsWith(marker)), 3000, 'marker');
  return seen.splice(0, seen.length).filter((e) => !e.endsWith(marker));
}

/** Subscribes `sub` to keyevent notifications (db 0, or every db) collected as "event key" into `seen`. */
async function subscribeKeyEvents(sub: Redis, seen: string[], allDbs: boolean): Promise<void> {
  sub.on('pmessage', (_p: string, ch: string, m: string) => seen.push(`${ch.replace(/^__keyevent@\d+__:/, '')} ${m}`));
  await sub.psubscribe(allDbs ? '__keyevent@*__:*' : `${KEYEVENT_DB0}*`);
}

export interface KeyEventLog {
  /** The events received so far ("event key"), emptying the log. */
  drain(): Promise<string[]>;
  /** The events fired while `fn` runs. */
  during(fn: () => Promise<unknown>): Promise<string[]>;
}

/**
 * A subscriber kept for the whole file, recording keyevent notifications
 * ("notify-keyspace-events" must enable them); `c` publishes the markers.
 */
export async function keyEventLog(srv: TestServer, c: Redis, { allDbs = false } = {}): Promise<KeyEventLog> {
  const seen: string[] = [];
  await subscribeKeyEvents(srv.client({ enableReadyCheck: false }), seen, allDbs);
  const drain = (): Promise<string[]> => takeUntilMarker(c, seen);
  return {
    drain,
    async during(fn) {
      await drain();
      await fn();
      return drain();
    },
  };
}

/** The keyevent notifications of db 0 fired while `fn` runs, through a subscriber of its own. */
export async function eventsDuring(srv: TestServer, c: Redis, fn: () => Promise<unknown>): Promise<string[]> {
  const sub = srv.client({ enableReadyCheck: false });
  const seen: string[] = [];
  await subscribeKeyEvents(sub, seen, false);
  await fn();
  const out = await takeUntilMarker(c, seen);
  sub.disconnect();
  return out;
}

/** A raw connection in RESP `proto` (HELLO 3 answered and cleared from the buffer), for exact wire replies. */
export async function rawClient(srv: TestServer, proto: 2 | 3): Promise<RawClient> {
  const r = await RawClient.connect(srv.port);
  if (proto === 3) {
    r.send('HELLO', '3');
    await waitUntil(() => r.buf.includes('modules'), 3000, 'HELLO');
    r.buf = '';
  }
  return r;
}

/** Compact wire rendering: $bulk $nil :int ,double _ *nil [a b] -ERR... +OK */
export function wireText(v: RespValue): string {
  switch (v.type) {
    case 'simple':
      return '+' + v.value;
    case 'error':
      return '-' + v.value;
    case 'integer':
      return ':' + v.value;
    case 'bulk':
      return '$' + v.value;
    case 'null-bulk':
      return '$nil';
    case 'null-array':
      return '*nil';
    case 'null':
      return '_';
    case 'double':
      return ',' + v.value;
    case 'array':
      return '[' + v.value.map(wireText).join(' ') + ']';
    default:
      return JSON.stringify(v);
  }
}

/**
 * Two wire-level clients for the calling test file, a RESP2 and a RESP3 one
 * (closed after its tests): `wire` sends a command on each, in that order,
 * and renders both replies with wireText.
 */
export async function wireClients(srv: TestServer): Promise<{ w2: WireClient; w3: WireClient; wire(...argv: string[]): Promise<{ r2: string; r3: string }> }> {
  const w2 = await WireClient.connect(srv.port);
  const w3 = await WireClient.connect(srv.port);
  await w3.send('HELLO', '3');
  afterAll(async () => {
    await w2.close();
    await w3.close();
  });
  return {
    w2,
    w3,
    async wire(...argv) {
      const r2 = wireText(await w2.send(...argv));
      const r3 = wireText(await w3.send(...argv));
      return { r2, r3 };
    },
  };
}
