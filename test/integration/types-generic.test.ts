/**
 * Every value type against the generic keyspace machinery: TYPE, DEL,
 * RENAME (TTL kept), COPY (a deep copy), MOVE, SCAN TYPE, OBJECT ENCODING
 * names and conversion thresholds (Redis 7.0.15 defaults), DEBUG
 * DIGEST-VALUE, expiry, WRONGTYPE across types, deletion of emptied
 * aggregates and the keyspace events of each type.
 *
 * Streams are included when the server knows XADD (COMMAND INFO XADD).
 *
 * Expected values (events, encodings, digests) were taken from redis-server
 * 7.0.15; the same assertions run against a real server when
 * CROSS_TYPES_REDIS_PORT names the port of one started for the purpose
 * (it is flushed: never point it at a server you care about).
 */
import { describe, it, expect, beforeAll, beforeEach, afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/raw-client.js';

const EXTERNAL_PORT = process.env.CROSS_TYPES_REDIS_PORT;
/** Whether the server knows XADD (COMMAND INFO), decided once it runs; stream cases are skipped otherwise. */
let hasStream = false;

let srv: TestServer | null = null;
const clients: Redis[] = [];
let c: Redis;
let sub: Redis;
const events: string[] = [];

function client(): Redis {
  if (srv !== null) return srv.client({ enableReadyCheck: false });
  const r = new Redis({ port: Number(EXTERNAL_PORT), host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 1 });
  clients.push(r);
  return r;
}

beforeAll(async () => {
  if (EXTERNAL_PORT === undefined) srv = await startTestServer({ 'enable-debug-command': 'yes' });
  c = client();
  if (EXTERNAL_PORT !== undefined) await c.flushall();
  await c.config('SET', 'notify-keyspace-events', 'KEA');
  const info = (await c.call('COMMAND', 'INFO', 'XADD')) as unknown[];
  hasStream = Array.isArray(info[0]);
  sub = client();
  sub.on('pmessage', (_p: string, ch: string, m: string) => {
    const at = ch.indexOf('__:');
    events.push(`${ch.slice('__keyevent@'.length, at)}:${ch.slice(at + 3)} ${m}`);
  });
  await sub.psubscribe('__keyevent@*__:*');
});
afterAll(async () => {
  for (const r of clients) r.disconnect();
  await srv?.stop();
});

let seq = 0;
const k = (name: string): string => `tg:${name}:${++seq}`;

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/** Wait until every event published so far has arrived; return them ("db:event key") and forget them. */
async function drain(): Promise<string[]> {
  const marker = `marker-${Math.random()}`;
  await c.publish('__keyevent@0__:~marker~', marker);
  await waitUntil(() => events.some((e) => e.endsWith(marker)), 3000, 'marker');
  return events.splice(0, events.length).filter((e) => !e.endsWith(marker));
}

async function eventsOf(fn: () => Promise<unknown>): Promise<string[]> {
  await drain();
  await fn();
  return drain();
}

const run = (argv: string[]): Promise<unknown> => c.call(argv[0]!, ...argv.slice(1));

/** One value type: how to build, read, change and empty a value of it. */
interface TypeCase {
  type: string;
  /** Commands that create the value, and the events they fire. */
  create: (key: string) => string[];
  createEvent: string;
  /** A deterministic rendering of the content. */
  dump: (key: string) => Promise<unknown>;
  /** The same content built another way (another insertion order). */
  createAlike: (key: string) => string[][];
  modify: (key: string) => string[];
  modifyEvent: string;
  /** Removes every element: the key must disappear, with these events. Absent for streams (they stay, empty). */
  removeAll?: (key: string) => string[];
  removeEvent?: string;
  /** A command of this type, run against keys of the other types for WRONGTYPE. */
  probe: (key: string) => string[];
  encoding: string;
  /** DEBUG DIGEST-VALUE of `create`'s value (redis-server 7.0.15). */
  digest: string;
}

const sortedPairs = (flat: string[]): string[] => {
  const pairs: string[] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
  return pairs.sort();
};

const TYPES: TypeCase[] = [
  {
    type: 'string', create: (key) => ['SET', key, 'v1'], createEvent: 'set',
    dump: (key) => c.get(key), createAlike: (key) => [['SET', key, 'v'], ['APPEND', key, '1']],
    modify: (key) => ['APPEND', key, 'x'], modifyEvent: 'append', probe: (key) => ['GET', key],
    encoding: 'embstr', digest: '1b39f6ecf00cfce8fa56c4c62c40126162d878fe',
  },
  {
    type: 'hash', create: (key) => ['HSET', key, 'f1', 'v1', 'f2', 'v2'], createEvent: 'hset',
    dump: async (key) => sortedPairs(await c.hgetall(key).then((o) => Object.entries(o).flat())),
    createAlike: (key) => [['HSET', key, 'f2', 'v2'], ['HSET', key, 'f1', 'v1']],
    modify: (key) => ['HSET', key, 'f3', 'v3'], modifyEvent: 'hset',
    removeAll: (key) => ['HDEL', key, 'f1', 'f2', 'f3'], removeEvent: 'hdel',
    probe: (key) => ['HGET', key, 'f1'], encoding: 'listpack', digest: '047cc60ea73a34cde6d08a2721a4a26d19ee6570',
  },
  {
    type: 'list', create: (key) => ['RPUSH', key, 'a', 'b'], createEvent: 'rpush',
    dump: (key) => c.lrange(key, 0, -1), createAlike: (key) => [['LPUSH', key, 'b'], ['LPUSH', key, 'a']],
    modify: (key) => ['LPUSH', key, 'c'], modifyEvent: 'lpush',
    removeAll: (key) => ['LPOP', key, '10'], removeEvent: 'lpop',
    probe: (key) => ['LLEN', key], encoding: 'quicklist', digest: '62f55a532623cf6c3d81081db480b6fd8461eb3f',
  },
  {
    type: 'set', create: (key) => ['SADD', key, 'a', 'b'], createEvent: 'sadd',
    dump: async (key) => (await c.smembers(key)).sort(), createAlike: (key) => [['SADD', key, 'b'], ['SADD', key, 'a']],
    modify: (key) => ['SADD', key, 'c'], modifyEvent: 'sadd',
    removeAll: (key) => ['SREM', key, 'a', 'b', 'c'], removeEvent: 'srem',
    probe: (key) => ['SCARD', key], encoding: 'hashtable', digest: 'dd99329063ca0f1f28df2ac68d94b82fd95501c6',
  },
  {
    type: 'zset', create: (key) => ['ZADD', key, '1', 'a', '2', 'b'], createEvent: 'zadd',
    dump: (key) => c.zrange(key, 0, -1, 'WITHSCORES'), createAlike: (key) => [['ZADD', key, '2', 'b'], ['ZADD', key, '0', 'a'], ['ZINCRBY', key, '1', 'a']],
    modify: (key) => ['ZINCRBY', key, '5', 'a'], modifyEvent: 'zincr',
    removeAll: (key) => ['ZREM', key, 'a', 'b'], removeEvent: 'zrem',
    probe: (key) => ['ZCARD', key], encoding: 'listpack', digest: '4de4c922f0624dd27cb8fc6bbf04d3d6df72c877',
  },
];
TYPES.push({
  type: 'stream', create: (key) => ['XADD', key, '1-1', 'f', 'v'], createEvent: 'xadd',
  dump: (key) => c.xrange(key, '-', '+'), createAlike: (key) => [['XADD', key, '1-1', 'f', 'v']],
  modify: (key) => ['XADD', key, '2-1', 'f', 'v2'], modifyEvent: 'xadd',
  probe: (key) => ['XLEN', key], encoding: 'stream', digest: '2ed9a7a81688084b1f7eae33456ef7727d357031',
});

/** The types the server has (streams only once XADD exists). */
const activeTypes = (): TypeCase[] => TYPES.filter((t) => t.type !== 'stream' || hasStream);

async function make(t: TypeCase, name: string): Promise<string> {
  const key = k(`${t.type}-${name}`);
  await run(t.create(key));
  return key;
}

describe.each(TYPES)('$type', (t) => {
  beforeEach((ctx) => {
    if (t.type === 'stream' && !hasStream) ctx.skip();
  });

  it('TYPE, OBJECT ENCODING and the creation event', async () => {
    const key = k(t.type);
    expect(await eventsOf(() => run(t.create(key)))).toEqual([`0:${t.createEvent} ${key}`]);
    expect(await c.type(key)).toBe(t.type);
    expect(await c.object('ENCODING', key)).toBe(t.encoding);
    expect(await eventsOf(() => run(t.modify(key)))).toEqual([`0:${t.modifyEvent} ${key}`]);
  });

  it('DEL removes it', async () => {
    const key = await make(t, 'del');
    expect(await eventsOf(async () => expect(await c.del(key)).toBe(1))).toEqual([`0:del ${key}`]);
    expect(await c.exists(key)).toBe(0);
    expect(await c.type(key)).toBe('none');
  });

  it('RENAME keeps the content and the TTL', async () => {
    const key = await make(t, 'ren');
    const dst = k(`${t.type}-ren-dst`);
    const before = await t.dump(key);
    await c.pexpire(key, 100_000);
    expect(await eventsOf(() => c.rename(key, dst))).toEqual([`0:rename_from ${key}`, `0:rename_to ${dst}`]);
    expect(await c.exists(key)).toBe(0);
    expect(await t.dump(dst)).toEqual(before);
    expect(await c.pttl(dst)).toBeGreaterThan(90_000);
    expect(await c.type(dst)).toBe(t.type);
  });

  it('COPY is deep: changing either side leaves the other alone; TTL and encoding are copied', async () => {
    const key = await make(t, 'copy');
    const dst = k(`${t.type}-copy-dst`);
    const before = await t.dump(key);
    await c.pexpire(key, 100_000);
    expect(await eventsOf(() => c.copy(key, dst))).toEqual([`0:copy_to ${dst}`]);
    expect(await t.dump(dst)).toEqual(before);
    expect(await c.pttl(dst)).toBeGreaterThan(90_000);
    expect(await c.object('ENCODING', dst)).toBe(await c.object('ENCODING', key));
    expect(await c.call('DEBUG', 'DIGEST-VALUE', dst)).toEqual(await c.call('DEBUG', 'DIGEST-VALUE', key));
    await run(t.modify(dst));
    expect(await t.dump(key)).toEqual(before);
    expect(await t.dump(dst)).not.toEqual(before);
    const changedCopy = await t.dump(dst);
    await run(t.modify(key));
    expect(await t.dump(dst)).toEqual(changedCopy);
    // COPY to another database, and onto an existing key only with REPLACE.
    expect(await c.copy(key, dst)).toBe(0);
    expect(await c.copy(key, dst, 'REPLACE')).toBe(1);
    expect(await t.dump(dst)).toEqual(await t.dump(key));
    expect(await c.call('COPY', key, dst, 'DB', '3')).toBe(1);
    const c3 = client();
    await c3.select(3);
    expect(await c3.type(dst)).toBe(t.type);
    await c3.del(dst);
  });

  it('MOVE takes content and TTL to another database', async () => {
    const key = await make(t, 'move');
    const before = await t.dump(key);
    await c.pexpire(key, 100_000);
    expect(await eventsOf(async () => expect(await c.move(key, 2)).toBe(1))).toEqual([`0:move_from ${key}`, `2:move_to ${key}`]);
    expect(await c.exists(key)).toBe(0);
    const c2 = client();
    await c2.select(2);
    expect(await c2.type(key)).toBe(t.type);
    expect(await c2.pttl(key)).toBeGreaterThan(90_000);
    expect(await c2.move(key, 0)).toBe(1);
    expect(await t.dump(key)).toEqual(before);
  });

  it('SCAN TYPE finds exactly the keys of the type (any case)', async () => {
    const prefix = k(`scan-${t.type}`);
    for (const other of activeTypes()) await run(other.create(`${prefix}:${other.type}`));
    for (const typeArg of [t.type, t.type.toUpperCase()]) {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 7, 'TYPE', typeArg);
        found.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect([...new Set(found)]).toEqual([`${prefix}:${t.type}`]);
    }
  });

  it('DEBUG DIGEST-VALUE: Redis\'s value, equal for equal content, different after a change', async () => {
    const key = await make(t, 'dig');
    const alike = k(`${t.type}-dig-alike`);
    for (const argv of t.createAlike(alike)) await run(argv);
    const d = await c.call('DEBUG', 'DIGEST-VALUE', key, alike);
    expect(d).toEqual([t.digest, t.digest]);
    await run(t.modify(alike));
    const [d1, d2] = (await c.call('DEBUG', 'DIGEST-VALUE', key, alike)) as string[];
    expect(d1).toBe(t.digest);
    expect(d2).not.toBe(t.digest);
    // A TTL is part of the digest.
    await c.pexpire(key, 100_000);
    expect(await c.call('DEBUG', 'DIGEST-VALUE', key)).not.toEqual([t.digest]);
  });

  it('expires', async () => {
    const key = await make(t, 'exp');
    await drain();
    await c.pexpire(key, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await c.exists(key)).toBe(0);
    const evs = await drain();
    expect(evs).toEqual([`0:expire ${key}`, `0:expired ${key}`]);
  });

  it('commands of the other types answer WRONGTYPE, and it refuses theirs', async () => {
    const key = await make(t, 'wrong');
    for (const other of activeTypes()) {
      if (other.type === t.type) continue;
      await expect(run(other.probe(key)), `${other.probe(key).join(' ')} on a ${t.type}`).rejects.toThrow(WRONGTYPE);
      const otherKey = await make(other, 'wrong-other');
      await expect(run(t.probe(otherKey)), `${t.probe(otherKey).join(' ')} on a ${other.type}`).rejects.toThrow(WRONGTYPE);
    }
    expect(await c.type(key)).toBe(t.type);
  });

  it.runIf(t.removeAll !== undefined)('is deleted when emptied, after its own event', async () => {
    const key = await make(t, 'empty');
    await run(t.modify(key));
    expect(await eventsOf(() => run(t.removeAll!(key)))).toEqual([`0:${t.removeEvent} ${key}`, `0:del ${key}`]);
    expect(await c.exists(key)).toBe(0);
  });
});

describe('stream', () => {
  it('an emptied stream stays', async (ctx) => {
    if (!hasStream) ctx.skip();
    const key = k('stream-empty');
    await c.xadd(key, '1-1', 'f', 'v');
    expect(await eventsOf(() => c.xdel(key, '1-1'))).toEqual([`0:xdel ${key}`]);
    expect(await c.exists(key)).toBe(1);
    expect(await c.type(key)).toBe('stream');
  });
});

describe('OBJECT ENCODING thresholds (Redis 7.0.15 defaults)', () => {
  const fill = (n: number, f: (i: number) => string[]): string[] => Array.from({ length: n }, (_, i) => f(i)).flat();

  it('default thresholds are the documented ones', async () => {
    const get = async (pattern: string) => sortedPairs((await c.config('GET', pattern)) as string[]);
    expect(await get('hash-max-listpack-*')).toEqual(['hash-max-listpack-entries=512', 'hash-max-listpack-value=64']);
    expect(await get('zset-max-listpack-*')).toEqual(['zset-max-listpack-entries=128', 'zset-max-listpack-value=64']);
    expect(await get('set-max-intset-entries')).toEqual(['set-max-intset-entries=512']);
    expect(await get('list-max-listpack-size')).toEqual(['list-max-listpack-size=-2']);
  });

  it('hash: listpack up to 512 fields and 64-byte strings, then hashtable for good', async () => {
    const a = k('h512');
    await c.hset(a, ...fill(512, (i) => [`f${i}`, 'v']));
    expect(await c.object('ENCODING', a)).toBe('listpack');
    await c.hset(a, 'one-more', 'v');
    expect(await c.object('ENCODING', a)).toBe('hashtable');
    await c.hdel(a, 'one-more', 'f0', 'f1');
    expect(await c.object('ENCODING', a)).toBe('hashtable');
    const b = k('hval');
    await c.hset(b, 'f', 'x'.repeat(64));
    expect(await c.object('ENCODING', b)).toBe('listpack');
    await c.hset(b, 'g', 'x'.repeat(65));
    expect(await c.object('ENCODING', b)).toBe('hashtable');
    const f = k('hfield');
    await c.hset(f, 'y'.repeat(65), '1');
    expect(await c.object('ENCODING', f)).toBe('hashtable');
  });

  it('zset: listpack up to 128 members and 64-byte members, then skiplist for good', async () => {
    const a = k('z128');
    await c.zadd(a, ...fill(128, (i) => [String(i), `m${i}`]));
    expect(await c.object('ENCODING', a)).toBe('listpack');
    await c.zadd(a, 1000, 'one-more');
    expect(await c.object('ENCODING', a)).toBe('skiplist');
    await c.zrem(a, 'one-more', 'm0');
    expect(await c.object('ENCODING', a)).toBe('skiplist');
    const b = k('zval');
    await c.zadd(b, 1, 'x'.repeat(64));
    expect(await c.object('ENCODING', b)).toBe('listpack');
    await c.zadd(b, 2, 'x'.repeat(65));
    expect(await c.object('ENCODING', b)).toBe('skiplist');
  });

  it('set: intset up to 512 integers, hashtable beyond or on a non-integer, for good', async () => {
    const a = k('s512');
    await c.sadd(a, ...fill(512, (i) => [String(i - 100)]));
    expect(await c.object('ENCODING', a)).toBe('intset');
    await c.sadd(a, '100000');
    expect(await c.object('ENCODING', a)).toBe('hashtable');
    await c.srem(a, '100000', '1', '2');
    expect(await c.object('ENCODING', a)).toBe('hashtable');
    for (const m of ['x', '1.5', '01', '9223372036854775808']) {
      const b = k('snonint');
      await c.sadd(b, '1', m);
      expect(await c.object('ENCODING', b), m).toBe('hashtable');
    }
    const i64 = k('si64');
    await c.sadd(i64, '-9223372036854775808', '9223372036854775807');
    expect(await c.object('ENCODING', i64)).toBe('intset');
  });

  it('list: always quicklist', async () => {
    const a = k('l1');
    await c.rpush(a, '1');
    expect(await c.object('ENCODING', a)).toBe('quicklist');
    await c.rpush(a, ...fill(1000, (i) => ['y'.repeat(i % 100)]));
    expect(await c.object('ENCODING', a)).toBe('quicklist');
  });

  it('thresholds follow CONFIG SET', async () => {
    try {
      await c.config('SET', 'hash-max-listpack-entries', '2');
      await c.config('SET', 'zset-max-listpack-value', '3');
      await c.config('SET', 'set-max-intset-entries', '2');
      const h = k('hcfg');
      await c.hset(h, 'a', '1', 'b', '2');
      expect(await c.object('ENCODING', h)).toBe('listpack');
      await c.hset(h, 'c', '3');
      expect(await c.object('ENCODING', h)).toBe('hashtable');
      const z = k('zcfg');
      await c.zadd(z, 1, 'abc');
      expect(await c.object('ENCODING', z)).toBe('listpack');
      await c.zadd(z, 1, 'abcd');
      expect(await c.object('ENCODING', z)).toBe('skiplist');
      const s = k('scfg');
      await c.sadd(s, '1', '2');
      expect(await c.object('ENCODING', s)).toBe('intset');
      await c.sadd(s, '3');
      expect(await c.object('ENCODING', s)).toBe('hashtable');
    } finally {
      await c.config('SET', 'hash-max-listpack-entries', '512');
      await c.config('SET', 'zset-max-listpack-value', '64');
      await c.config('SET', 'set-max-intset-entries', '512');
    }
  });

  it('COPY keeps the encoding even when the copy would now fit the small one', async () => {
    const h = k('hcopy');
    await c.hset(h, ...fill(513, (i) => [`f${i}`, 'v']));
    await c.hdel(h, ...fill(510, (i) => [`f${i}`]));
    const dst = k('hcopy-dst');
    await c.copy(h, dst);
    expect(await c.object('ENCODING', dst)).toBe('hashtable');
    const s = k('scopy');
    await c.sadd(s, '1', 'x');
    await c.srem(s, 'x');
    const sdst = k('scopy-dst');
    await c.copy(s, sdst);
    expect(await c.object('ENCODING', sdst)).toBe('hashtable');
  });
});
