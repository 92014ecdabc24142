/**
 * The engine over RESP through ioredis (`cacheside proxy --engine URL`):
 * a cacheside engine, Redis or Valkey, a Redis Cluster or a Sentinel set.
 *
 *   redis://[user:pass@]host:port[/db]       one server (rediss:// for TLS)
 *   redis+cluster://host:port,host:port      Redis Cluster (seed nodes)
 *   redis+sentinel://[:pass@]host:port,host:port/mastername
 *
 * Commands fail fast while disconnected (no offline queue), so a dead engine
 * turns into pass-through requests, never into requests hanging on it.
 */
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { EngineClient } from './engine-client.js';

export interface RedisEngineOptions {
  /** Per-command timeout, ms (default 1000). */
  commandTimeout?: number;
  /** Connect timeout, ms (default 2000). */
  connectTimeout?: number;
}

type Client = Redis | Cluster;

const b = (s: string) => Buffer.from(s, 'latin1');

export class EngineUrlError extends Error {}

interface ParsedUrl {
  kind: 'redis' | 'cluster' | 'sentinel';
  nodes: { host: string; port: number }[];
  url: string;
  username?: string;
  password?: string;
  db?: number;
  name?: string;
  tls: boolean;
}

export function parseEngineUrl(url: string): ParsedUrl {
  const m = /^(redis|rediss|redis\+cluster|rediss\+cluster|redis\+sentinel|rediss\+sentinel):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^?#]*))?$/.exec(url);
  if (m === null) throw new EngineUrlError(`engine: '${url}' is not a redis://, redis+cluster:// or redis+sentinel:// URL`);
  const scheme = m[1]!;
  const nodes = m[4]!.split(',').map((hp) => {
    const mm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hp);
    if (mm === null) throw new EngineUrlError(`engine: bad host '${hp}' in '${url}'`);
    return { host: mm[1]!.replace(/^\[|\]$/g, ''), port: mm[2] === undefined ? (scheme.includes('sentinel') ? 26379 : 6379) : Number(mm[2]) };
  });
  const kind = scheme.includes('cluster') ? 'cluster' : scheme.includes('sentinel') ? 'sentinel' : 'redis';
  const out: ParsedUrl = { kind, nodes, url, tls: scheme.startsWith('rediss'), username: m[2] ? decodeURIComponent(m[2]) : undefined, password: m[3] !== undefined ? decodeURIComponent(m[3]) : undefined };
  const path = m[5] ?? '';
  if (kind === 'sentinel') {
    if (path === '') throw new EngineUrlError(`engine: a sentinel URL names the master: redis+sentinel://host:26379/mymaster`);
    out.name = decodeURIComponent(path);
  } else if (path !== '') {
    if (!/^\d+$/.test(path)) throw new EngineUrlError(`engine: bad database '${path}' in '${url}'`);
    out.db = Number(path);
  }
  return out;
}

export class RedisEngineClient implements EngineClient {
  readonly kind: string;
  private readonly r: Client;
  private sub: Client | null = null;
  private isUp = false;
  private readonly listeners: ((up: boolean) => void)[] = [];
  private closed = false;

  constructor(url: string, opts: RedisEngineOptions = {}) {
    const p = parseEngineUrl(url);
    this.kind = p.kind;
    const base: RedisOptions = {
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 1,
      commandTimeout: opts.commandTimeout ?? 1000,
      connectTimeout: opts.connectTimeout ?? 2000,
      enableAutoPipelining: true,
      retryStrategy: (times: number) => Math.min(100 * times, 2000),
      username: p.username,
      password: p.password,
      tls: p.tls ? {} : undefined,
      lazyConnect: false,
    };
    if (p.kind === 'cluster') {
      this.r = new Cluster(p.nodes, { enableOfflineQueue: false, enableReadyCheck: false, enableAutoPipelining: true, clusterRetryStrategy: (t: number) => Math.min(100 * t, 2000), redisOptions: base });
    } else if (p.kind === 'sentinel') {
      this.r = new Redis({ ...base, sentinels: p.nodes, name: p.name, sentinelPassword: p.password });
    } else {
      this.r = new Redis({ ...base, host: p.nodes[0]!.host, port: p.nodes[0]!.port, db: p.db ?? 0 });
    }
    this.watch(this.r, true);
  }

  private watch(c: Client, main: boolean): void {
    c.on('error', () => {
      /* reported through status changes and failed commands */
    });
    if (!main) return;
    c.on('ready', () => this.setUp(true));
    c.on('close', () => this.setUp(false));
    c.on('end', () => this.setUp(false));
  }

  private setUp(up: boolean): void {
    if (this.closed || up === this.isUp) return;
    this.isUp = up;
    for (const l of this.listeners) l(up);
  }

  get up(): boolean {
    return this.isUp;
  }

  onStatus(fn: (up: boolean) => void): void {
    this.listeners.push(fn);
  }

  async get(key: string): Promise<Buffer | null> {
    return this.r.getBuffer(b(key));
  }

  async set(key: string, value: Buffer, pxat: number): Promise<void> {
    await this.r.call('SET', b(key), value, 'PXAT', String(Math.ceil(pxat)));
  }

  async del(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (this.r instanceof Cluster) {
      const n = await Promise.all(keys.map((k) => this.r.del(b(k))));
      return n.reduce((a, x) => a + x, 0);
    }
    return this.r.del(...keys.map(b));
  }

  async lock(key: string, token: string, px: number): Promise<boolean> {
    const r = await this.r.call('SET', b(key), token, 'NX', 'PX', String(Math.max(1, Math.ceil(px))));
    return r === 'OK';
  }

  async unlock(key: string, token: string): Promise<void> {
    // GET then DEL: if the lock expired and was retaken in between, the worst
    // case is one extra upstream fetch by a waiter; nothing is served wrong.
    const cur = await this.r.getBuffer(b(key));
    if (cur !== null && cur.toString('latin1') === token) await this.r.del(b(key));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.r.publish(channel, message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    if (this.sub === null) {
      this.sub = this.r.duplicate() as Client;
      this.watch(this.sub, false);
    }
    this.sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => {
      if (ch.toString('latin1') === channel) onMessage(msg.toString('latin1'));
    });
    // With no offline queue a SUBSCRIBE sent while disconnected fails; ioredis
    // re-subscribes by itself after reconnecting once a subscription exists.
    const trySub = async (): Promise<void> => {
      try {
        await this.sub!.subscribe(channel);
      } catch {
        if (!this.closed) setTimeout(() => void trySub(), 500).unref();
      }
    };
    if ((this.sub as Redis).status === 'ready') await trySub();
    else {
      this.sub.once('ready', () => void trySub());
    }
  }

  async sadd(key: string, members: string[]): Promise<void> {
    if (members.length > 0) await this.r.sadd(b(key), ...members.map(b));
  }

  async smembers(key: string): Promise<string[]> {
    const v = await this.r.smembersBuffer(b(key));
    return v.map((x) => x.toString('latin1'));
  }

  async srem(key: string, members: string[]): Promise<void> {
    if (members.length > 0) await this.r.srem(b(key), ...members.map(b));
  }

  async expireAt(key: string, ms: number): Promise<void> {
    const at = String(Math.ceil(ms));
    try {
      await this.r.call('PEXPIREAT', b(key), at, 'NX');
      await this.r.call('PEXPIREAT', b(key), at, 'GT');
    } catch (e) {
      if (!/syntax|wrong number|unknown/i.test((e as Error).message)) throw e;
      await this.r.call('PEXPIREAT', b(key), at);
    }
  }

  async ready(): Promise<boolean> {
    if (!this.isUp) return false;
    try {
      return (await this.r.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async size(): Promise<number | null> {
    if (this.r instanceof Cluster || !this.isUp) return null;
    try {
      return await this.r.dbsize();
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sub?.disconnect();
    this.r.disconnect();
  }
}
