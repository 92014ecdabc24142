/**
 * Expiry: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL
 * EXPIRETIME PEXPIRETIME PERSIST, lazy and active expiry, propagation.
 * Expected replies and error texts were captured from redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';

let srv: TestServer;

function client(db = 0): Redis {
  return srv.client({ enableReadyCheck: false, db });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.stop();
});

describe('setting and reading a TTL', () => {
  it('EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT and TTL / PTTL / EXPIRETIME / PEXPIRETIME', async () => {
    const c = client();
    await c.set('t', 'v');
    expect(await c.ttl('t')).toBe(-1);
    expect(await c.pttl('t')).toBe(-1);
    expect(await c.call('EXPIRETIME', 't')).toBe(-1);
    expect(await c.call('PEXPIRETIME', 't')).toBe(-1);

    expect(await c.expire('t', 100)).toBe(1);
    expect(await c.ttl('t')).toBe(100);
    const pttl = await c.pttl('t');
    expect(pttl).toBeGreaterThan(99_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    const pat = (await c.call('PEXPIRETIME', 't')) as number;
    expect(Math.abs(pat - (Date.now() + 100_000))).toBeLessThan(1000);
    expect(await c.call('EXPIRETIME', 't')).toBe(Math.floor((pat + 500) / 1000));

    expect(await c.pexpire('t', 1700)).toBe(1);
    expect(await c.ttl('t')).toBe(2); // rounded: (ms + 500) / 1000
    expect(await c.pexpire('t', 1200)).toBe(1);
    expect(await c.ttl('t')).toBe(1);

    const at = Math.floor(Date.now() / 1000) + 1000;
    expect(await c.expireat('t', at)).toBe(1);
    expect(await c.call('EXPIRETIME', 't')).toBe(at);
    expect(await c.call('PEXPIRETIME', 't')).toBe(at * 1000);
    expect(await c.pexpireat('t', at * 1000 + 123)).toBe(1);
    expect(await c.call('PEXPIRETIME', 't')).toBe(at * 1000 + 123);
    expect(await c.call('EXPIRETIME', 't')).toBe(at);
  });

  it('missing keys', async () => {
    const c = client();
    for (const cmd of ['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']) expect(await c.call(cmd, 'nokey')).toBe(-2);
    for (const cmd of ['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT']) expect(await c.call(cmd, 'nokey', '100')).toBe(0);
    expect(await c.call('PEXPIRE', 'nokey', '-5')).toBe(0);
    expect(await c.persist('nokey')).toBe(0);
  });

  it('PERSIST', async () => {
    const c = client();
    await c.set('p', 'v', 'EX', 100);
    expect(await c.persist('p')).toBe(1);
    expect(await c.ttl('p')).toBe(-1);
    expect(await c.persist('p')).toBe(0);
    expect(await c.get('p')).toBe('v');
  });

  it('a far-future PEXPIREAT is kept up to INT64_MAX', async () => {
    const c = client();
    await c.set('far', 'v');
    expect(await c.call('PEXPIREAT', 'far', '9223372036854775807')).toBe(1);
    const r = await RawClient.connect(srv.port);
    try {
      expect(await r.call(['PEXPIRETIME', 'far'], ':9223372036854775807\r\n')).toBe(':9223372036854775807\r\n');
      expect(await r.call(['EXPIRETIME', 'far'], ':9223372036854776\r\n')).toBe(':9223372036854776\r\n');
    } finally {
      r.close();
    }
    expect(await c.get('far')).toBe('v');
  });
});

describe('a time in the past deletes the key', () => {
  it('for every command form', async () => {
    const c = client();
    const cases: string[][] = [
      ['EXPIRE', '-1'],
      ['EXPIRE', '0'],
      ['PEXPIRE', '-1000'],
      ['PEXPIRE', '-9223372036854775808'],
      ['EXPIREAT', '0'],
      ['EXPIREAT', '1'],
      ['PEXPIREAT', '1'],
      ['PEXPIREAT', String(Date.now() - 1)],
    ];
    for (const [cmd, t] of cases) {
      await c.set('past', 'v');
      expect([cmd, t, await c.call(cmd!, 'past', t!)]).toEqual([cmd, t, 1]);
      expect(await c.exists('past')).toBe(0);
    }
  });
});

describe('NX / XX / GT / LT', () => {
  it('follow redis 7.0 (no TTL counts as an infinite TTL)', async () => {
    const c = client();
    await c.set('o', 'v');
    const steps: [string[], number][] = [
      [['EXPIRE', 'o', '100', 'XX'], 0],
      [['EXPIRE', 'o', '100', 'GT'], 0],
      [['EXPIRE', 'o', '100', 'NX'], 1],
      [['EXPIRE', 'o', '200', 'NX'], 0],
      [['EXPIRE', 'o', '50', 'GT'], 0],
      [['EXPIRE', 'o', '500', 'GT'], 1],
      [['EXPIRE', 'o', '600', 'LT'], 0],
      [['EXPIRE', 'o', '50', 'LT'], 1],
      [['EXPIRE', 'o', '60', 'xx', 'gt'], 1],
      [['EXPIRE', 'o', '70', 'XX', 'LT'], 0],
      [['EXPIRE', 'o', '-1', 'GT'], 0],
      [['PERSIST', 'o'], 1],
      [['EXPIRE', 'o', '50', 'GT'], 0],
      [['EXPIRE', 'o', '50', 'LT'], 1],
      [['PERSIST', 'o'], 1],
      [['EXPIRE', 'o', '50', 'xx'], 0],
      [['EXPIRE', 'o', '10', 'NX', 'nx'], 1], // a repeated option is fine
      [['EXPIRE', 'o', '10', 'XX', 'xx'], 1],
    ];
    for (const [cmd, want] of steps) expect([cmd.join(' '), await c.call(cmd[0]!, ...cmd.slice(1))]).toEqual([cmd.join(' '), want]);
    expect(await c.ttl('o')).toBe(10);
    // a rejected past time leaves the key alone; an accepted one deletes it
    expect(await c.call('EXPIRE', 'o', '0', 'XX', 'GT')).toBe(0);
    expect(await c.exists('o')).toBe(1);
    expect(await c.call('EXPIRE', 'o', '-1', 'LT')).toBe(1);
    expect(await c.exists('o')).toBe(0);
    await c.set('o', 'v');
    expect(await c.call('EXPIRE', 'o', '0', 'XX')).toBe(0);
    expect(await c.call('EXPIRE', 'o', '0', 'NX')).toBe(1);
    expect(await c.exists('o')).toBe(0);
    for (const [cmd, big, less] of [
      ['PEXPIRE', '99999999999', '99999000000'],
      ['EXPIREAT', '99999999999', '99999000000'],
      ['PEXPIREAT', '99999999999000', '99999000000000'],
    ]) {
      await c.set('o', 'v');
      expect(await c.call(cmd!, 'o', big!, 'NX')).toBe(1);
      expect(await c.call(cmd!, 'o', big!, 'NX')).toBe(0);
      expect(await c.call(cmd!, 'o', less!, 'GT')).toBe(0);
      expect(await c.call(cmd!, 'o', less!, 'LT')).toBe(1);
    }
    // equal is neither greater nor less
    expect(await c.call('PEXPIREAT', 'o', '99999999999000', 'GT')).toBe(1);
    expect(await c.call('PEXPIREAT', 'o', '99999999999000', 'GT')).toBe(0);
    expect(await c.call('PEXPIREAT', 'o', '99999999999000', 'LT')).toBe(0);
    expect(await c.call('EXPIREAT', 'o', '99999999999', 'LT')).toBe(0);
  });
});

describe('errors', () => {
  it('option errors come first, then the time, then the range', async () => {
    const c = client();
    await c.set('e', 'v');
    const NXERR = 'ERR NX and XX, GT or LT options at the same time are not compatible';
    const GTLT = 'ERR GT and LT options at the same time are not compatible';
    await expect(c.call('EXPIRE', 'e', '100', 'NX', 'XX')).rejects.toThrow(NXERR);
    await expect(c.call('EXPIRE', 'e', '100', 'xx', 'nx')).rejects.toThrow(NXERR);
    await expect(c.call('EXPIRE', 'e', '100', 'NX', 'GT')).rejects.toThrow(NXERR);
    await expect(c.call('EXPIRE', 'e', '100', 'LT', 'NX')).rejects.toThrow(NXERR);
    await expect(c.call('EXPIRE', 'e', '10', 'NX', 'nx', 'gT')).rejects.toThrow(NXERR);
    await expect(c.call('EXPIRE', 'e', '100', 'GT', 'LT')).rejects.toThrow(GTLT);
    await expect(c.call('PEXPIREAT', 'e', '100', 'lt', 'XX', 'gt')).rejects.toThrow(GTLT);
    await expect(c.call('EXPIRE', 'e', '100', 'FoO')).rejects.toThrow('ERR Unsupported option FoO');
    await expect(c.call('EXPIRE', 'e', 'abc', 'foo')).rejects.toThrow('ERR Unsupported option foo');
    await expect(c.call('EXPIRE', 'e', '1', 'NX', 'XX', 'bar')).rejects.toThrow('ERR Unsupported option bar');
    await expect(c.call('PEXPIRE', 'e', '9223372036854775807', 'NX', 'XX')).rejects.toThrow(NXERR);
    await expect(c.call('EXPIRE', 'e', 'abc')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(c.call('EXPIRE', 'nokey', 'abc')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(c.call('EXPIRE', 'e', '1.5')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(c.call('EXPIRE', 'e', '9223372036854775808')).rejects.toThrow('ERR value is not an integer or out of range');
    expect(await c.exists('e')).toBe(1);
  });

  it('overflow is an invalid expire time naming the command', async () => {
    const c = client();
    await c.set('e', 'v');
    const cases: [string, string][] = [
      ['EXPIRE', '9223372036854775807'],
      ['EXPIRE', '9223372036854775'],
      ['EXPIRE', '-9223372036854775808'],
      ['EXPIRE', '-9223372036854776'],
      ['PEXPIRE', '9223372036854775807'],
      ['PEXPIRE', '9223372036854775000'],
      ['EXPIREAT', '9223372036854775807'],
      ['EXPIREAT', '9223372036854776'],
      ['EXPIREAT', '-9223372036854776'],
    ];
    for (const [cmd, t] of cases) {
      await expect(c.call(cmd, 'e', t)).rejects.toThrow(`ERR invalid expire time in '${cmd.toLowerCase()}' command`);
      await expect(c.call(cmd, 'nokey', t)).rejects.toThrow(`ERR invalid expire time in '${cmd.toLowerCase()}' command`);
    }
    expect(await c.ttl('e')).toBe(-1);
    // the largest values that fit are accepted
    expect(await c.call('EXPIREAT', 'e', '9223372036854775')).toBe(1);
    expect(await c.call('EXPIREAT', 'e', '-9223372036854775')).toBe(1); // in the past: deleted
    expect(await c.exists('e')).toBe(0);
  });

  it('arity', async () => {
    const c = client();
    for (const cmd of ['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT']) {
      await expect(c.call(cmd, 'k')).rejects.toThrow(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
    }
    for (const cmd of ['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'PERSIST']) {
      await expect(c.call(cmd)).rejects.toThrow(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
      await expect(c.call(cmd, 'a', 'b')).rejects.toThrow(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
    }
  });
});

describe('expired keys', () => {
  it('a key with a 1 s TTL is invisible to every read command after expiry', async () => {
    const db = 9;
    const c = client(db);
    const other = client(db + 1);
    const reads: [string, (k: string) => Promise<unknown>, unknown][] = [
      ['GET', (k) => c.get(k), null],
      ['EXISTS', (k) => c.exists(k), 0],
      ['TYPE', (k) => c.type(k), 'none'],
      ['TTL', (k) => c.ttl(k), -2],
      ['PTTL', (k) => c.pttl(k), -2],
      ['EXPIRETIME', (k) => c.call('EXPIRETIME', k), -2],
      ['PEXPIRETIME', (k) => c.call('PEXPIRETIME', k), -2],
      ['STRLEN', (k) => c.strlen(k), 0],
      ['GETRANGE', (k) => c.getrange(k, 0, -1), ''],
      ['MGET', (k) => c.mget(k), [null]],
      ['TOUCH', (k) => c.call('TOUCH', k), 0],
      ['OBJECT ENCODING', (k) => c.call('OBJECT', 'ENCODING', k), null],
      ['OBJECT IDLETIME', (k) => c.call('OBJECT', 'IDLETIME', k), null],
      ['OBJECT REFCOUNT', (k) => c.call('OBJECT', 'REFCOUNT', k), null],
      ['COPY', (k) => c.call('COPY', k, k + ':copy'), 0],
      ['MOVE', (k) => c.call('MOVE', k, String(db + 1)), 0],
      ['RENAME', (k) => c.rename(k, k + ':renamed').catch((e: Error) => e.message), 'ERR no such key'],
      ['EXPIRE', (k) => c.expire(k, 100), 0],
      ['PERSIST', (k) => c.persist(k), 0],
      ['DEL', (k) => c.del(k), 0],
    ];
    for (const [name] of reads) await c.set('ttl1:' + name, 'v', 'EX', 1);
    await c.set('ttl1:scan', 'v', 'EX', 1);
    expect(((await c.call('KEYS', '*')) as string[]).length).toBe(reads.length + 1);
    await sleep(1100);
    // whole-keyspace reads first: they skip expired keys without deleting them
    expect(await c.call('KEYS', '*')).toEqual([]);
    expect(await c.call('KEYS', 'ttl1:scan')).toEqual([]);
    expect(await c.call('SCAN', '0', 'COUNT', '1000')).toEqual(['0', []]);
    // each per-key command meets its own expired key first
    for (const [name, f, want] of reads) expect([name, await f('ttl1:' + name)]).toEqual([name, want]);
    expect(await other.exists('ttl1:MOVE')).toBe(0);
    expect(await c.call('RANDOMKEY')).toBe(null);
  });

  it('100,000 untouched keys with a 1 s TTL are removed by active expiry within a few seconds', async () => {
    const db = 12;
    const c = client(db);
    const N = 100_000;
    const ks = srv.engine.dbs[db]!; // DBSIZE
    const expiredBefore = srv.engine.stats.expiredKeys; // INFO expired_keys
    for (let start = 0; start < N; start += 10_000) {
      const p = c.pipeline();
      for (let i = start; i < start + 10_000; i++) p.set('ax:' + i, 'v', 'PX', 1000);
      await p.exec();
    }
    expect(ks.size).toBeGreaterThan(0);
    await waitUntil(() => ks.size === 0, 8000, 'active expiry of 100k keys');
    // every key was created, and every one went away by expiring
    expect(srv.engine.stats.expiredKeys - expiredBefore).toBe(N);
    expect(await c.call('SCAN', '0')).toEqual(['0', []]);
  }, 30_000);

  it('lazy expiry on access', async () => {
    const c = client();
    await c.set('lazy', 'v');
    expect(await c.pexpire('lazy', 30)).toBe(1);
    expect(await c.get('lazy')).toBe('v');
    await sleep(60);
    expect(await c.get('lazy')).toBe(null);
    expect(await c.ttl('lazy')).toBe(-2);
  });
});

describe('RESP3 (node-redis)', () => {
  it('the same integer replies', async () => {
    const c = await srv.nodeRedis(3);
    await c.sendCommand(['SET', 'r3', 'v']);
    expect(await c.sendCommand(['TTL', 'r3'])).toBe(-1);
    expect(await c.sendCommand(['EXPIRE', 'r3', '100', 'NX'])).toBe(1);
    expect(await c.sendCommand(['TTL', 'r3'])).toBe(100);
    expect(await c.sendCommand(['PERSIST', 'r3'])).toBe(1);
    expect(await c.sendCommand(['PTTL', 'r3:nokey'])).toBe(-2);
    await expect(c.sendCommand(['EXPIRE', 'r3', '1', 'GT', 'LT'])).rejects.toThrow('ERR GT and LT options at the same time are not compatible');
  });
});

describe('propagation', () => {
  it('relative and second forms become PEXPIREAT <abs ms>; past times become DEL', async () => {
    const log: string[][] = [];
    const prop = (_db: number, argv: string[]) => log.push(argv);
    srv.engine.propagators.push(prop);
    try {
      const c = client(7);
      await c.set('pr', 'v');
      const before = Date.now();
      await c.expire('pr', 100);
      await c.call('PEXPIRE', 'pr', '200000', 'xx');
      await c.call('EXPIREAT', 'pr', '99999999999', 'gt');
      await c.call('pexpireat', 'pr', '99999999999001');
      await c.call('EXPIRE', 'pr', '100', 'NX'); // not applied: not propagated
      await c.persist('pr');
      await c.persist('pr'); // no-op
      await c.expire('pr', -1);
      await c.expire('pr', 100); // missing key
      const after = Date.now();
      expect(log.map((a) => a[0]!.toUpperCase())).toEqual(['SET', 'PEXPIREAT', 'PEXPIREAT', 'PEXPIREAT', 'PEXPIREAT', 'PERSIST', 'DEL']);
      expect(log.map((a) => a[0])).toEqual([log[0]![0], 'PEXPIREAT', 'PEXPIREAT', 'PEXPIREAT', 'pexpireat', log[5]![0], 'DEL']); // rewritten vs as sent
      const [, e1, e2, e3, e4, e5, e6] = log;
      expect(e1![1]).toBe('pr');
      expect(Number(e1![2])).toBeGreaterThanOrEqual(before + 100_000);
      expect(Number(e1![2])).toBeLessThanOrEqual(after + 100_000);
      expect(e1!.length).toBe(3);
      expect(Number(e2![2])).toBeGreaterThanOrEqual(before + 200_000);
      expect(e2![3]).toBe('xx');
      expect(e3).toEqual(['PEXPIREAT', 'pr', '99999999999000', 'gt']);
      expect(e4).toEqual(['pexpireat', 'pr', '99999999999001']);
      expect(e5!.slice(1)).toEqual(['pr']);
      expect(e6).toEqual(['DEL', 'pr']);

      // with lazyfree-lazy-expire an expire in the past propagates UNLINK
      srv.engine.config.set('lazyfree-lazy-expire', 'yes', false);
      log.length = 0;
      await c.set('pr', 'v');
      await c.call('PEXPIREAT', 'pr', '1');
      expect(log.map((a) => a.join(' ').toUpperCase())).toEqual(['SET PR V', 'UNLINK PR']);
    } finally {
      srv.engine.config.set('lazyfree-lazy-expire', 'no', false);
      srv.engine.propagators.splice(srv.engine.propagators.indexOf(prop), 1);
    }
  });
});
