/**
 * What the sidecar needs from the engine, as one small async interface, and
 * its in-process implementation (`cacheside start`: engine and sidecar share
 * a process). The RESP implementation (ioredis: a cacheside engine, Redis,
 * Valkey, a Cluster or Sentinel set) is in redis-engine-client.ts.
 *
 * Keys and set members are latin1 strings (one char per byte); values are
 * Buffers. Pub/sub messages are ASCII strings.
 */
import { LocalClient, ReplyError } from '../server/local-session.js';
import type { Engine } from '../server/engine.js';

export interface EngineClient {
  /** 'local', 'redis', 'cluster' or 'sentinel'. */
  readonly kind: string;
  /** Connected and usable right now (always true in-process). */
  readonly up: boolean;
  /** Called on every change of `up`. */
  onStatus(fn: (up: boolean) => void): void;
  get(key: string): Promise<Buffer | null>;
  /** SET key value PXAT ms */
  set(key: string, value: Buffer, pxat: number): Promise<void>;
  del(keys: string[]): Promise<number>;
  /** SET key token NX PX ms: true when taken. */
  lock(key: string, token: string, px: number): Promise<boolean>;
  /** Delete the lock only while it still holds our token. */
  unlock(key: string, token: string): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  sadd(key: string, members: string[]): Promise<void>;
  smembers(key: string): Promise<string[]>;
  srem(key: string, members: string[]): Promise<void>;
  /** Set an absolute expiry that only ever extends the current one. */
  expireAt(key: string, ms: number): Promise<void>;
  /** Reachable and not loading a dataset. */
  ready(): Promise<boolean>;
  /** Number of keys (DBSIZE), null when unknown. */
  size(): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * The engine in this process, through LocalClient (the same gate as a TCP
 * client). Writes resolve once acknowledged (`send`: after the fsync under
 * appendfsync always).
 */
export class LocalEngineClient implements EngineClient {
  readonly kind = 'local';
  readonly up = true;
  private readonly c: LocalClient;
  private readonly subs: LocalClient[] = [];

  constructor(private readonly engine: Engine) {
    this.c = new LocalClient(engine);
  }

  onStatus(): void {
    /* always up */
  }

  async get(key: string): Promise<Buffer | null> {
    const v = this.c.call('GET', key);
    return typeof v === 'string' ? Buffer.from(v, 'latin1') : null;
  }

  async set(key: string, value: Buffer, pxat: number): Promise<void> {
    await this.c.send('SET', key, value.toString('latin1'), 'PXAT', String(Math.ceil(pxat)));
  }

  async del(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return Number(await this.c.send('DEL', ...keys));
  }

  async lock(key: string, token: string, px: number): Promise<boolean> {
    return (await this.c.send('SET', key, token, 'NX', 'PX', String(Math.max(1, Math.ceil(px))))) === 'OK';
  }

  async unlock(key: string, token: string): Promise<void> {
    // Synchronous in-process calls: nothing runs between GET and DEL.
    if (this.c.call('GET', key) === token) await this.c.send('DEL', key);
  }

  async publish(channel: string, message: string): Promise<void> {
    this.c.call('PUBLISH', channel, message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    const sub = new LocalClient(this.engine);
    sub.onPush = (msg) => {
      if (msg[0] === 'message' && msg[1] === channel && typeof msg[2] === 'string') onMessage(msg[2]);
    };
    sub.call('SUBSCRIBE', channel);
    this.subs.push(sub);
  }

  async sadd(key: string, members: string[]): Promise<void> {
    if (members.length > 0) await this.c.send('SADD', key, ...members);
  }

  async smembers(key: string): Promise<string[]> {
    const v = this.c.call('SMEMBERS', key);
    return Array.isArray(v) ? (v as string[]) : [];
  }

  async srem(key: string, members: string[]): Promise<void> {
    if (members.length > 0) await this.c.send('SREM', key, ...members);
  }

  async expireAt(key: string, ms: number): Promise<void> {
    extendExpiry((...a) => this.c.call(...a), key, ms);
    await this.c.durable();
  }

  async ready(): Promise<boolean> {
    return !this.engine.loading;
  }

  async size(): Promise<number | null> {
    return Number(this.c.call('DBSIZE'));
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.close();
    this.c.close();
  }
}

/** PEXPIREAT NX then GT (Redis 7); plain PEXPIREAT where those flags are refused. */
function extendExpiry(call: (...argv: string[]) => unknown, key: string, ms: number): void {
  const at = String(Math.ceil(ms));
  try {
    call('PEXPIREAT', key, at, 'NX');
    call('PEXPIREAT', key, at, 'GT');
  } catch (e) {
    if (!(e instanceof ReplyError)) throw e;
    call('PEXPIREAT', key, at);
  }
}
