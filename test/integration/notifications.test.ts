/**
 * Keyspace notifications (notify-keyspace-events): __keyspace@<db>__:<key>
 * carries the event name, __keyevent@<db>__:<event> the key name, keyspace
 * first. Event sequences were checked against redis-server 7.0.15 with the
 * same flags and commands.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/raw-client.js';
import { ConfigStore, formatKeyspaceEvents, normalizeKeyspaceEvents } from '../../src/config/config-store.js';

const SENTINEL_CHANNEL = '__keyspace@0__:~sentinel~';

/**
 * A pattern subscriber on every keyspace/keyevent channel. `during(fn)` runs
 * fn, then publishes a sentinel through the same server and returns exactly
 * the events that arrived before it (so "no other event" is checked too).
 */
class Events {
  readonly seen: string[] = [];
  private constructor(
    readonly sub: Redis,
    readonly pub: Redis,
  ) {
    sub.on('pmessage', (_p: string, ch: string, m: string) => this.seen.push(`${ch} ${m}`));
  }

  static async on(srv: TestServer): Promise<Events> {
    const e = new Events(srv.client({ enableReadyCheck: false }), srv.client({ enableReadyCheck: false }));
    await e.sub.psubscribe('__key*__:*');
    return e;
  }

  async during(fn: () => Promise<unknown>): Promise<string[]> {
    await fn();
    const marker = `${SENTINEL_CHANNEL} ${Math.random()}`;
    await this.pub.publish(SENTINEL_CHANNEL, marker.slice(SENTINEL_CHANNEL.length + 1));
    await waitUntil(() => this.seen.includes(marker), 3000, 'sentinel');
    const i = this.seen.indexOf(marker);
    const out = this.seen.splice(0, i + 1);
    out.pop();
    return out;
  }

  /** Wait for events that come on their own (active expiry). */
  async next(n: number, timeoutMs = 3000): Promise<string[]> {
    await waitUntil(() => this.seen.length >= n, timeoutMs, `${n} events`);
    return this.seen.splice(0, n);
  }
}

const both = (db: number, key: string, event: string) => [`__keyspace@${db}__:${key} ${event}`, `__keyevent@${db}__:${event} ${key}`];

describe('notify-keyspace-events KEA', () => {
  let srv: TestServer;
  let ev: Events;
  let c: Redis;
  beforeAll(async () => {
    srv = await startTestServer({ 'notify-keyspace-events': 'KEA' });
    ev = await Events.on(srv);
    c = srv.client({ enableReadyCheck: false });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('SET, EXPIRE, DEL', async () => {
    expect(await ev.during(() => c.set('k', 'v'))).toEqual(both(0, 'k', 'set'));
    expect(await ev.during(() => c.expire('k', 100))).toEqual(both(0, 'k', 'expire'));
    expect(await ev.during(() => c.del('k'))).toEqual(both(0, 'k', 'del'));
    // Nothing happens, nothing is published.
    expect(await ev.during(() => c.del('k'))).toEqual([]);
    expect(await ev.during(() => c.expire('k', 100))).toEqual([]);
  });

  it('SET with a TTL reports set then expire; reads and misses are silent without m', async () => {
    expect(await ev.during(() => c.set('t', 'v', 'EX', 100))).toEqual([...both(0, 't', 'set'), ...both(0, 't', 'expire')]);
    expect(await ev.during(() => c.get('t'))).toEqual([]);
    expect(await ev.during(() => c.get('missing'))).toEqual([]);
    expect(await ev.during(() => c.del('t'))).toEqual(both(0, 't', 'del'));
  });

  it('a key with a short TTL produces an expired event without being read (active expiry)', async () => {
    expect(await ev.during(() => c.set('short', 'v', 'PX', 50))).toEqual([...both(0, 'short', 'set'), ...both(0, 'short', 'expire')]);
    // Nobody touches the key: the expiry cycle finds it and notifies.
    expect(await ev.next(2, 5000)).toEqual(both(0, 'short', 'expired'));
    expect(await c.exists('short')).toBe(0);
  });

  it('channels name the database of the key', async () => {
    const c3 = srv.client({ enableReadyCheck: false, db: 3 });
    expect(await ev.during(() => c3.set('z', '1'))).toEqual(both(3, 'z', 'set'));
    expect(await ev.during(() => c3.append('z', 'x'))).toEqual(both(3, 'z', 'append'));
    expect(await ev.during(() => c3.del('z'))).toEqual(both(3, 'z', 'del'));
  });

  it('string and generic events', async () => {
    expect(await ev.during(() => c.incr('n'))).toEqual(both(0, 'n', 'incrby'));
    expect(await ev.during(() => c.incrbyfloat('n', 1.5))).toEqual(both(0, 'n', 'incrbyfloat'));
    expect(await ev.during(() => c.setrange('n', 0, 'x'))).toEqual(both(0, 'n', 'setrange'));
    expect(await ev.during(() => c.rename('n', 'n2'))).toEqual([...both(0, 'n', 'rename_from'), ...both(0, 'n2', 'rename_to')]);
    expect(await ev.during(() => c.mset('m1', '1', 'm2', '2'))).toEqual([...both(0, 'm1', 'set'), ...both(0, 'm2', 'set')]);
    expect(await ev.during(() => c.pexpire('m1', 0))).toEqual(both(0, 'm1', 'del'));
    expect(await ev.during(() => c.unlink('m2', 'n2'))).toEqual([...both(0, 'm2', 'del'), ...both(0, 'n2', 'del')]);
  });

  it('node-redis RESP3 receives notifications as pushes', async () => {
    const sub = await srv.nodeRedis(3);
    const got: string[] = [];
    await sub.pSubscribe('__keyevent@0__:*', (message, channel) => got.push(`${channel} ${message}`));
    await c.set('r3', 'v');
    await c.del('r3');
    await waitUntil(() => got.length === 2);
    expect(got).toEqual(['__keyevent@0__:set r3', '__keyevent@0__:del r3']);
    // The RESP3 subscriber still runs ordinary commands.
    expect(await sub.sendCommand(['ECHO', 'ok'])).toBe('ok');
  });
});

describe('key-miss (m) and new-key (n) classes', () => {
  let srv: TestServer;
  let ev: Events;
  let c: Redis;
  beforeAll(async () => {
    srv = await startTestServer({ 'notify-keyspace-events': 'KEAmn' });
    ev = await Events.on(srv);
    c = srv.client({ enableReadyCheck: false });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('a new key fires new before the command event; an overwrite does not', async () => {
    expect(await ev.during(() => c.set('k', 'v'))).toEqual([...both(0, 'k', 'new'), ...both(0, 'k', 'set')]);
    expect(await ev.during(() => c.set('k', 'w'))).toEqual(both(0, 'k', 'set'));
    expect(await ev.during(() => c.rename('k', 'k2'))).toEqual([
      ...both(0, 'k2', 'new'),
      ...both(0, 'k', 'rename_from'),
      ...both(0, 'k2', 'rename_to'),
    ]);
  });

  it('read lookups that miss fire keymiss', async () => {
    expect(await ev.during(() => c.get('nokey'))).toEqual(both(0, 'nokey', 'keymiss'));
    expect(await ev.during(() => c.mget('a1', 'a2'))).toEqual([...both(0, 'a1', 'keymiss'), ...both(0, 'a2', 'keymiss')]);
    expect(await ev.during(() => c.exists('nokey2'))).toEqual(both(0, 'nokey2', 'keymiss'));
    expect(await ev.during(() => c.type('nokey3'))).toEqual(both(0, 'nokey3', 'keymiss'));
    // A write to a missing key is not a miss.
    expect(await ev.during(() => c.del('nokey'))).toEqual([]);
    // A hit is silent.
    expect(await ev.during(() => c.get('k2'))).toEqual([]);
  });

  it('a read of an expired key fires expired then keymiss (lazy expiry)', async () => {
    srv.engine.activeExpireEnabled = false; // no DEBUG SET-ACTIVE-EXPIRE needed: keep the cycle away
    try {
      expect(await ev.during(() => c.set('lz', 'v', 'PX', 20))).toEqual([
        ...both(0, 'lz', 'new'),
        ...both(0, 'lz', 'set'),
        ...both(0, 'lz', 'expire'),
      ]);
      await new Promise((r) => setTimeout(r, 60));
      expect(await ev.during(() => c.get('lz'))).toEqual([...both(0, 'lz', 'expired'), ...both(0, 'lz', 'keymiss')]);
    } finally {
      srv.engine.activeExpireEnabled = true;
    }
  });
});

describe('class filtering', () => {
  let srv: TestServer;
  afterAll(async () => {
    await srv?.stop();
  });

  it('Eg: keyevent channel only, generic class only', async () => {
    srv = await startTestServer({ 'notify-keyspace-events': 'Eg' });
    const ev = await Events.on(srv);
    const c = srv.client({ enableReadyCheck: false });
    expect(await ev.during(() => c.set('k', 'v'))).toEqual([]); // '$' not enabled
    expect(await ev.during(() => c.expire('k', 10))).toEqual(['__keyevent@0__:expire k']);
    expect(await ev.during(() => c.del('k'))).toEqual(['__keyevent@0__:del k']);
  });
});

describe('disabled by default', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('publishes nothing, until CONFIG SET enables it', async () => {
    const ev = await Events.on(srv);
    const c = srv.client({ enableReadyCheck: false });
    expect(await ev.during(() => c.set('k', 'v'))).toEqual([]);
    expect(await ev.during(() => c.get('nokey'))).toEqual([]);
    // Classes without K or E publish nothing.
    expect(await c.config('SET', 'notify-keyspace-events', 'A')).toBe('OK');
    expect(await ev.during(() => c.set('k', 'v'))).toEqual([]);
    expect(await c.config('SET', 'notify-keyspace-events', 'K$')).toBe('OK');
    expect(await ev.during(() => c.set('k', 'v'))).toEqual(['__keyspace@0__:k set']);
    expect(await c.config('SET', 'notify-keyspace-events', '')).toBe('OK');
    expect(await ev.during(() => c.set('k', 'v'))).toEqual([]);
  });

  it('CONFIG GET shows the flags as Redis prints them; bad characters are rejected', async () => {
    const c = srv.client({ enableReadyCheck: false });
    const cases: [string, string][] = [
      ['KEA', 'AKE'],
      ['Eg', 'gE'],
      ['Kx$', '$xK'],
      ['KEAmn', 'AKEm'],
      ['Kmn', 'nKm'],
      ['EKndmtexzhsl$', '$lshzxetdnKEm'],
      ['g$lshzxetdn', 'A'],
      ['', ''],
    ];
    for (const [set, shown] of cases) {
      expect(await c.config('SET', 'notify-keyspace-events', set)).toBe('OK');
      expect(await c.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', shown]);
    }
    await expect(c.config('SET', 'notify-keyspace-events', 'KEQ')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
    );
  });

  it('flag parsing: A expands to g$lshzxetd; m and n stay apart', () => {
    expect(normalizeKeyspaceEvents('KEA')).toBe('g$lshzxetdKE');
    expect(normalizeKeyspaceEvents('A')).not.toContain('m');
    expect(normalizeKeyspaceEvents('A')).not.toContain('n');
    expect(normalizeKeyspaceEvents('KEAmn')).toBe('g$lshzxetdnmKE');
    expect(normalizeKeyspaceEvents('mn')).toBe('nm');
    expect(normalizeKeyspaceEvents('k')).toBeNull();
    expect(normalizeKeyspaceEvents('K E')).toBeNull();
    // 'n' is lost next to 'A' in the display, as in Redis 7.0, but stays active.
    expect(formatKeyspaceEvents(normalizeKeyspaceEvents('KEAn')!)).toBe('AKE');
    // The config store keeps the normalized set and shows Redis's text.
    const cfg = new ConfigStore();
    cfg.set('notify-keyspace-events', 'KEAmn', false);
    expect(cfg.str('notify-keyspace-events')).toBe('g$lshzxetdnmKE');
    expect(cfg.format('notify-keyspace-events')).toBe('AKEm');
    expect(() => cfg.set('notify-keyspace-events', 'x!', false)).toThrow("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    expect(cfg.format('notify-keyspace-events')).toBe('AKEm');
  });
});
