/**
 * RDB and DUMP interop with a real redis-server 7.0 (and redis-check-rdb):
 *  - the same data set (every type, small and big encodings, binary data,
 *    TTLs, several databases) is built on a real redis-server and on
 *    cacheside with the same commands;
 *  - cacheside's RDB (RdbEncoder over its keyspaces) is accepted by
 *    redis-check-rdb and loaded by a fresh redis-server: DEBUG DIGEST, and
 *    per key DIGEST-VALUE, OBJECT ENCODING and TTL, equal cacheside's;
 *  - the real server's dump.rdb (SAVE) decodes into values equal to its own
 *    (DEBUG DIGEST and encodings), with and without rdbcompression, under
 *    an LRU and an LFU policy (IDLE/FREQ opcodes);
 *  - DUMP payloads cross both ways (RESTORE each side's payload on the
 *    other), and are byte-identical where the encoding is deterministic;
 *  - MIGRATE works from cacheside to redis (also inside MULTI/EXEC) and
 *    from redis to cacheside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type ServerHandle } from './harness.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RdbEncoder } from '../../src/persistence/rdb-encoder.js';
import { decodeRdb, rdbLimitsFromConfig } from '../../src/persistence/rdb-decoder.js';
import { datasetDigest, keyDigest } from '../../src/keyspace/digest.js';
import { encodingOf } from '../../src/keyspace/object-encoding.js';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import type { Engine } from '../../src/server/engine.js';

type Cmd = (string | number | Buffer)[];

/** Commands building the data set: every type, in small and big encodings. */
function dataset(): { db: number; cmds: Cmd[] }[] {
  const db0: Cmd[] = [];
  db0.push(['SET', 'int', '12345'], ['SET', 'bigint', '-9223372036854775808'], ['SET', 'i11', '12345678901'], ['SET', 'small', 'hello']);
  db0.push(['SET', 'empty', ''], ['SET', 'raw', 'abc'.repeat(300)], ['SET', 'bin', Buffer.from([0, 1, 2, 255, 13, 10, 0xe9])]);
  db0.push(['SET', 'rand', Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 2654435761) >>> 24))]);
  db0.push(['APPEND', 'appended', 'part1'], ['APPEND', 'appended', 'part2'], ['SETRANGE', 'ranged', '100', 'x']);
  db0.push(['RPUSH', 'list', 'a', 'b', '1', '-300', '70000', '2147483648', 'x'.repeat(100)]);
  const big: Cmd = ['RPUSH', 'biglist'];
  for (let i = 0; i < 3000; i++) big.push(i % 3 === 0 ? String(i * 7919 - 1000000) : 'e'.repeat(i % 250));
  db0.push(big, ['RPUSH', 'hugeelem', 'z'.repeat(20000), 'small']);
  db0.push(['SADD', 'iset16', '1', '2', '-3'], ['SADD', 'iset32', '1', '70000'], ['SADD', 'iset64', '9223372036854775807', '-1']);
  db0.push(['SADD', 'set', 'a', 'b', 'c', '1']);
  const bigset: Cmd = ['SADD', 'bigintset'];
  for (let i = 0; i < 600; i++) bigset.push(String(i));
  db0.push(bigset);
  db0.push(['ZADD', 'zset', '1', 'a', '2.5', 'b', '-0', 'c', 'inf', 'd', '-inf', 'e', '4611686018427387904', 'f', '1e300', 'g', '0.1', 'h', '123456789012', 'i']);
  const bigz: Cmd = ['ZADD', 'bigzset'];
  for (let i = 0; i < 300; i++) bigz.push(String(i / 7), 'm' + i);
  db0.push(bigz, ['ZADD', 'longmember', '1', 'L'.repeat(100), '2', 'short']);
  db0.push(['HSET', 'hash', 'f', 'v', 'n', '7', 'neg', '-5', 'big', '99999999999']);
  const bigh: Cmd = ['HSET', 'bighash'];
  for (let i = 0; i < 700; i++) bigh.push('f' + i, 'v'.repeat(i % 50));
  db0.push(bigh, ['HSET', 'longval', 'f', 'V'.repeat(100)]);
  db0.push(['PFADD', 'hll', 'a', 'b', 'c']);
  // Streams: several nodes, groups with PELs and consumers, deleted entries, an empty stream with a group.
  for (let i = 0; i < 250; i++) db0.push(['XADD', 'stream', `${1000 + (i >> 1)}-${i}`, ...(i % 3 === 0 ? ['a', String(i), 'b', 'x'.repeat(i % 40)] : ['c', 'v' + i])]);
  db0.push(['XGROUP', 'CREATE', 'stream', 'g1', '0'], ['XGROUP', 'CREATE', 'stream', 'g2', '$'], ['XGROUP', 'CREATECONSUMER', 'stream', 'g2', 'idle']);
  db0.push(['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '3', 'STREAMS', 'stream', '>'], ['XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '2', 'STREAMS', 'stream', '>']);
  db0.push(['XACK', 'stream', 'g1', '1000-0']);
  db0.push(['XADD', 'smallstream', '5-1', 'f', 'v'], ['XADD', 'smallstream', '5-2', 'f', 'w'], ['XADD', 'smallstream', '6-0', 'other', '1']);
  db0.push(['XADD', 'deleted', '1-1', 'f', 'v'], ['XADD', 'deleted', '1-2', 'f', 'w'], ['XADD', 'deleted', '1-3', 'f', 'x'], ['XDEL', 'deleted', '1-2']);
  db0.push(['XGROUP', 'CREATE', 'emptystream', 'g', '$', 'MKSTREAM']);
  db0.push(['SET', 'ttl', 'v', 'PX', '1000000'], ['RPUSH', 'ttllist', 'a'], ['PEXPIREAT', 'ttllist', String(Date.now() + 5_000_000)]);
  const db1: Cmd[] = [['SET', 'k', 'db1'], ['HSET', 'h', 'a', '1']];
  const db5: Cmd[] = [['ZADD', 'z', '1', 'x'], ['SADD', 's', 'only']];
  return [
    { db: 0, cmds: db0 },
    { db: 1, cmds: db1 },
    { db: 5, cmds: db5 },
  ];
}

async function populate(c: Redis): Promise<void> {
  for (const { db, cmds } of dataset()) {
    await c.select(db);
    for (const cmd of cmds) await c.call(String(cmd[0]), ...cmd.slice(1).map((x) => (typeof x === 'number' ? String(x) : x)));
  }
  await c.select(0);
}

/** Per key: DIGEST-VALUE, OBJECT ENCODING and whether it has a TTL, for every populated db. */
async function describeKeys(c: Redis): Promise<Record<string, [string, string, boolean]>> {
  const out: Record<string, [string, string, boolean]> = {};
  for (const db of [0, 1, 5]) {
    await c.select(db);
    const keys = await c.keys('*');
    for (const k of keys.sort()) {
      const [dig] = (await c.call('DEBUG', 'DIGEST-VALUE', k)) as string[];
      out[`${db}:${k}`] = [dig!, (await c.object('ENCODING', k)) as string, (await c.pttl(k)) > 0];
    }
  }
  await c.select(0);
  return out;
}

/** Serialize an engine's keyspaces the way a SAVE does (header, aux, dbs, EOF). */
function encodeEngine(engine: Engine, compress: boolean): Buffer {
  const e = new RdbEncoder({ compress, checksum: true, listMaxListpackSize: engine.config.num('list-max-listpack-size') });
  e.header();
  e.aux('redis-ver', '7.0.15');
  e.aux('redis-bits', '64');
  e.aux('ctime', String(Math.floor(Date.now() / 1000)));
  e.aux('used-mem', '1000000');
  e.aux('aof-base', '0');
  for (const db of engine.dbs) {
    if (db.size === 0) continue;
    e.selectDb(db.id);
    let expires = 0;
    for (let s = 0; s < db.size; s++) if (db.expireOf(s) !== 0) expires++;
    e.resizeDb(db.size, expires);
    for (let s = db.size - 1; s >= 0; s--) e.entry(db.keyOf(s), db.valueOf(s), db.expireOf(s));
  }
  e.eof();
  return Buffer.concat(e.take());
}

/** Load decoded events into fresh keyspaces (not an engine), to compare digests. */
function loadEvents(file: Buffer, limits: ReturnType<typeof rdbLimitsFromConfig>): { dbs: Keyspace[]; meta: Map<string, { lruIdleSec?: number; lfuFreq?: number }> } {
  const ev = { expired() {}, beforeWrite: null, touch() {}, miss: null, created: null, lazyDeleteDisabled: true, stats: { hits: 0, misses: 0 } };
  const dbs = Array.from({ length: 16 }, (_, i) => new Keyspace(i, ev));
  const meta = new Map<string, { lruIdleSec?: number; lfuFreq?: number }>();
  for (const e of decodeRdb(file, { source: 'dump.rdb', limits })) {
    if (e.t !== 'entry') continue;
    dbs[e.db]!.set(e.key, e.value);
    if (e.expireAtMs !== 0) dbs[e.db]!.setExpire(e.key, e.expireAtMs);
    if (e.lruIdleSec !== undefined || e.lfuFreq !== undefined) meta.set(e.key, { lruIdleSec: e.lruIdleSec, lfuFreq: e.lfuFreq });
  }
  return { dbs, meta };
}

/**
 * Loading changes some encodings (a string grown by APPEND is "raw" until
 * reloaded, then "embstr"), so loaded data is compared with the real server
 * after it reloaded its own data set (DEBUG RELOAD, done once).
 */
let reloaded = false;
async function redisReloaded(): Promise<Redis> {
  if (!reloaded) {
    await rc.call('DEBUG', 'RELOAD');
    reloaded = true;
  }
  return rc;
}

let redis: ServerHandle;
let rc: Redis;
let cs: TestServer;
let cc: Redis;

beforeAll(async () => {
  redis = await startRedis(['--enable-debug-command', 'yes']);
  rc = new Redis({ port: redis.port, enableReadyCheck: false });
  cs = await startTestServer({ 'enable-debug-command': 'yes' });
  cc = cs.client({ enableReadyCheck: false });
  await populate(rc);
  await populate(cc);
});

afterAll(async () => {
  rc?.disconnect();
  await cs?.stop();
  await redis?.stop();
});

describe('the same data set on both servers', () => {
  it('has the same digest, key by key and as a whole', async () => {
    expect(await describeKeys(cc)).toEqual(await describeKeys(rc));
    expect(await cc.call('DEBUG', 'DIGEST')).toBe(await rc.call('DEBUG', 'DIGEST'));
  });
});

describe("cacheside's RDB in redis-server", () => {
  for (const compress of [true, false]) {
    it(`is accepted by redis-check-rdb and loaded with identical contents (rdbcompression ${compress ? 'yes' : 'no'})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cacheside-rdb-'));
      writeFileSync(join(dir, 'dump.rdb'), encodeEngine(cs.engine, compress));
      const check = execFileSync('redis-check-rdb', [join(dir, 'dump.rdb')]).toString();
      expect(check).toContain('Checksum OK');
      expect(check).toContain('\\o/ RDB looks OK! \\o/');
      const loaded = await startRedis(['--enable-debug-command', 'yes', '--dir', dir, '--dbfilename', 'dump.rdb']);
      const lc = new Redis({ port: loaded.port, enableReadyCheck: false });
      try {
        expect(await lc.call('DEBUG', 'DIGEST')).toBe(await cc.call('DEBUG', 'DIGEST'));
        expect(await describeKeys(lc)).toEqual(await describeKeys(await redisReloaded()));
        expect(await lc.pttl('ttl')).toBeGreaterThan(900_000);
      } finally {
        lc.disconnect();
        await loaded.stop();
      }
    });
  }
});

describe("redis-server's RDB in cacheside", () => {
  for (const [compress, policy] of [['yes', 'noeviction'], ['no', 'allkeys-lru'], ['yes', 'allkeys-lfu']] as const) {
    it(`decodes to identical values (rdbcompression ${compress}, ${policy})`, async () => {
      await rc.config('SET', 'rdbcompression', compress);
      await rc.config('SET', 'maxmemory-policy', policy);
      try {
        await rc.save();
        const file = readFileSync(join(redis.dir, 'dump.rdb'));
        const { dbs, meta } = loadEvents(file, rdbLimitsFromConfig(cs.engine.config));
        expect(datasetDigest(dbs)).toBe(await rc.call('DEBUG', 'DIGEST'));
        const want = await describeKeys(await redisReloaded());
        for (const [name, [dig, enc, ttl]] of Object.entries(want)) {
          const [db, key] = [Number(name.slice(0, name.indexOf(':'))), name.slice(name.indexOf(':') + 1)];
          const ks = dbs[db]!;
          expect([keyDigest(ks, key), encodingOf(ks.peek(key)!), ks.getExpire(key) > 0], name).toEqual([dig, enc, ttl]);
        }
        if (policy === 'allkeys-lru') expect(meta.get('int')?.lruIdleSec).toBeGreaterThanOrEqual(0);
        if (policy === 'allkeys-lfu') expect(meta.get('int')?.lfuFreq).toBeGreaterThanOrEqual(0);
        if (policy === 'noeviction') expect(meta.size).toBe(0);
      } finally {
        await rc.config('SET', 'maxmemory-policy', 'noeviction');
        await rc.config('SET', 'rdbcompression', 'yes');
      }
    });
  }
});

describe('DUMP payloads', () => {
  it('cross both ways with the same digest and encoding', async () => {
    const keys = (await rc.keys('*')).sort();
    for (const k of keys) {
      const fromRedis = (await rc.dumpBuffer(k))!;
      const fromUs = (await cc.dumpBuffer(k))!;
      const ttl = String(Math.max(0, await rc.pttl(k))); // DIGEST-VALUE tells whether a key has a TTL
      await cc.call('RESTORE', `x:${k}`, ttl, fromRedis, 'REPLACE');
      await rc.call('RESTORE', `x:${k}`, ttl, fromUs, 'REPLACE');
      const want = await rc.call('DEBUG', 'DIGEST-VALUE', k);
      expect(await cc.call('DEBUG', 'DIGEST-VALUE', `x:${k}`), k).toEqual(want);
      expect(await rc.call('DEBUG', 'DIGEST-VALUE', `x:${k}`), k).toEqual(want);
      // Both servers give a restored value the same encoding (whichever side it came from).
      expect(await cc.object('ENCODING', `x:${k}`), k).toBe(await rc.object('ENCODING', `x:${k}`));
      await rc.del(`x:${k}`);
      await rc.call('RESTORE', `x:${k}`, ttl, fromRedis);
      expect(await cc.object('ENCODING', `x:${k}`), k).toBe(await rc.object('ENCODING', `x:${k}`));
      await cc.del(`x:${k}`);
      await rc.del(`x:${k}`);
    }
  });

  it('are byte-identical for strings, lists, intsets and listpacks (rdbcompression no)', async () => {
    await rc.config('SET', 'rdbcompression', 'no');
    await cc.config('SET', 'rdbcompression', 'no');
    try {
      for (const k of ['int', 'bigint', 'i11', 'small', 'empty', 'raw', 'bin', 'rand', 'list', 'biglist', 'hugeelem', 'iset16', 'iset32', 'iset64', 'zset', 'hash', 'longval', 'longmember', 'smallstream', 'emptystream']) {
        expect((await cc.dumpBuffer(k))!.toString('hex'), k).toBe((await rc.dumpBuffer(k))!.toString('hex'));
      }
      // A list's quicklist nodes are split as it was filled (RPUSH here) under list-max-listpack-size.
      const items = (await rc.lrangeBuffer('biglist', 0, -1)).slice(0, 1200);
      for (const fill of ['5', '-1', '-3', '1', '0', '-5', '-7']) {
        for (const c of [rc, cc]) {
          await c.config('SET', 'list-max-listpack-size', fill);
          await c.del('filled');
          await c.rpush('filled', ...items);
        }
        expect((await cc.dumpBuffer('filled'))!.equals((await rc.dumpBuffer('filled'))!), `fill ${fill}`).toBe(true);
      }
    } finally {
      await rc.config('SET', 'list-max-listpack-size', '-2');
      await cc.config('SET', 'list-max-listpack-size', '-2');
      await rc.config('SET', 'rdbcompression', 'yes');
      await cc.config('SET', 'rdbcompression', 'yes');
    }
  });
});

describe('MIGRATE', () => {
  it('moves keys from cacheside to redis-server, and back', async () => {
    await cc.rpush('mig:list', 'a', 'b');
    await cc.zadd('mig:z', '1', 'x');
    await cc.set('mig:s', 'v', 'PX', '600000');
    expect(await cc.call('MIGRATE', '127.0.0.1', String(redis.port), '', '2', '5000', 'KEYS', 'mig:list', 'mig:z', 'mig:s')).toBe('OK');
    expect(await cc.exists('mig:list', 'mig:z', 'mig:s')).toBe(0);
    await rc.select(2);
    expect(await rc.lrange('mig:list', 0, -1)).toEqual(['a', 'b']);
    expect(await rc.pttl('mig:s')).toBeGreaterThan(590_000);
    expect(await rc.call('MIGRATE', '127.0.0.1', String(cs.port), '', '0', '5000', 'REPLACE', 'KEYS', 'mig:list', 'mig:z', 'mig:s')).toBe('OK');
    await rc.select(0);
    expect(await cc.lrange('mig:list', 0, -1)).toEqual(['a', 'b']);
    expect(await cc.zscore('mig:z', 'x')).toBe('1');
    expect(await cc.pttl('mig:s')).toBeGreaterThan(580_000);
  });

  it('reports target errors with the same text as redis-server', async () => {
    await cc.set('mig:busy', '1');
    await rc.set('mig:busy', '2');
    const ours = await cc.call('MIGRATE', '127.0.0.1', String(redis.port), 'mig:busy', '0', '5000', 'COPY').catch((e: Error) => e.message);
    const other = await startRedis(['--enable-debug-command', 'yes']);
    const oc = new Redis({ port: other.port, enableReadyCheck: false });
    try {
      await oc.set('mig:busy', '3');
      const theirs = await oc.call('MIGRATE', '127.0.0.1', String(redis.port), 'mig:busy', '0', '5000', 'COPY').catch((e: Error) => e.message);
      expect(ours).toBe(theirs);
      expect(ours).toBe('ERR Target instance replied with error: BUSYKEY Target key name already exists.');
    } finally {
      oc.disconnect();
      await other.stop();
    }
  });

  it('runs synchronously inside MULTI/EXEC and is acknowledged', async () => {
    await cc.set('mig:tx', 'v');
    const r = await cc.multi().call('MIGRATE', '127.0.0.1', String(redis.port), 'mig:tx', '0', '5000').get('mig:tx').exec();
    expect(r).toEqual([[null, 'OK'], [null, null]]);
    expect(await rc.get('mig:tx')).toBe('v');
  });
});
