/**
 * Hash commands through real clients (ioredis RESP2, node-redis RESP3, a raw
 * RESP client for wire types). Replies, error texts, events, encodings and
 * propagation of the Redis 7.0 commands were checked against redis-server
 * 7.0.15; the field TTL commands (HEXPIRE ... HPERSIST) follow Redis 7.4's
 * documented behaviour (7.0 does not have them).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, RESP_TYPES, type TestServer } from '../helpers/server.js';
import { NOT_INT, SYNTAX, WRONGTYPE, err, keyEventLog, keyMaker, propagated as propagatedBy, sleep, sorted, type KeyEventLog } from '../helpers/expect.js';
import { waitUntil } from '../helpers/raw-client.js';
import { RawClient, type RespValue } from '../interop/harness.js';

let srv: TestServer;
let c: Redis;
let log: KeyEventLog;

beforeAll(async () => {
  srv = await startTestServer({ 'notify-keyspace-events': 'KEA', 'enable-debug-command': 'yes' });
  c = srv.client({ enableReadyCheck: false });
  log = await keyEventLog(srv, c, { allDbs: true });
});
afterAll(async () => {
  await srv.stop();
});

/** A fresh key name per use, so tests never see each other's data. */
const k = keyMaker('hash');


/** Keyevent notifications (`event key`) fired while fn runs, nothing else. */
const eventsOf = (fn: () => Promise<unknown>): Promise<string[]> => log.during(fn);

/** What the engine propagates (AOF / replicas) while fn runs. */
const propagated = (fn: () => Promise<unknown>): Promise<string[][]> => propagatedBy(srv, fn);

async function strKey(): Promise<string> {
  const key = k('str');
  await c.set(key, 'v');
  return key;
}


describe('HSET / HGET / HMGET / HMSET / HSETNX / HDEL / HEXISTS / HLEN / HSTRLEN', () => {
  it('sets and reads fields, counting only new ones', async () => {
    const key = k('basic');
    expect(await c.call('HSET', key, 'a', '1', 'b', '2', 'a', '3')).toBe(2);
    expect(await c.call('HSET', key, 'a', '4', 'c', '5')).toBe(1);
    expect(await c.hget(key, 'a')).toBe('4');
    expect(await c.hget(key, 'zz')).toBe(null);
    expect(await c.hget(k('none'), 'a')).toBe(null);
    expect(await c.hmget(key, 'a', 'zz', 'c')).toEqual(['4', null, '5']);
    expect(await c.hmget(k('none'), 'a', 'b')).toEqual([null, null]);
    expect(await c.call('HMSET', key, 'd', '6')).toBe('OK');
    expect(await c.hsetnx(key, 'd', 'x')).toBe(0);
    expect(await c.hsetnx(key, 'e', 'x')).toBe(1);
    expect(await c.hexists(key, 'e')).toBe(1);
    expect(await c.hexists(key, 'zz')).toBe(0);
    expect(await c.hlen(key)).toBe(5);
    expect(await c.hlen(k('none'))).toBe(0);
    expect(await c.hstrlen(key, 'e')).toBe(1);
    expect(await c.hstrlen(key, 'zz')).toBe(0);
    expect(await c.hdel(key, 'a', 'a', 'zz', 'b')).toBe(2);
    expect(await c.hdel(k('none'), 'a')).toBe(0);
    expect(await c.hgetall(key)).toEqual({ c: '5', d: '6', e: 'x' });
    expect(await c.type(key)).toBe('hash');
  });

  it('keeps insertion order while a listpack (also after deletions)', async () => {
    const key = k('order');
    await c.call('HSET', key, 'z', '1', 'a', '2', 'm', '3', 'b', '4');
    await c.hdel(key, 'a');
    await c.call('HSET', key, 'z', '9', 'c', '5');
    expect(await c.hkeys(key)).toEqual(['z', 'm', 'b', 'c']);
    expect(await c.hvals(key)).toEqual(['9', '3', '4', '5']);
    expect(await c.call('HGETALL', key)).toEqual(['z', '9', 'm', '3', 'b', '4', 'c', '5']);
  });

  it('is binary safe', async () => {
    const key = k('bin');
    const f = Buffer.from([0, 255, 13, 10]);
    const v = Buffer.from([1, 2, 0, 200]);
    await c.hset(key, f, v);
    expect(await c.hgetBuffer(key, f)).toEqual(v);
    expect(await c.hstrlen(key, f as unknown as string)).toBe(4);
  });

  it('deletes the key with its last field (hdel then del events)', async () => {
    const key = k('empty');
    await c.call('HSET', key, 'a', '1', 'b', '2');
    expect(await eventsOf(() => c.hdel(key, 'a', 'b', 'c'))).toEqual([`hdel ${key}`, `del ${key}`]);
    expect(await c.exists(key)).toBe(0);
  });

  it('fires hset for HSET/HMSET/HSETNX (not for a failed HSETNX)', async () => {
    const key = k('ev');
    expect(
      await eventsOf(async () => {
        await c.call('HSET', key, 'a', '1');
        await c.hsetnx(key, 'a', '2');
        await c.hsetnx(key, 'b', '2');
        await c.call('HMSET', key, 'c', '3');
        await c.hdel(key, 'zz');
      }),
    ).toEqual([`hset ${key}`, `hset ${key}`, `hset ${key}`]);
  });

  it('argument errors and WRONGTYPE', async () => {
    const s = await strKey();
    expect(await err(c.call('HSET', k('x'), 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'hset' command");
    expect(await err(c.call('HMSET', k('x'), 'a'))).toBe("ERR wrong number of arguments for 'hmset' command");
    expect(await err(c.call('HSET', s, 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'hset' command");
    expect(await err(c.call('HDEL', k('x')))).toBe("ERR wrong number of arguments for 'hdel' command");
    for (const argv of [
      ['HSET', s, 'a', '1'], ['HMSET', s, 'a', '1'], ['HSETNX', s, 'a', '1'], ['HGET', s, 'a'], ['HMGET', s, 'a'],
      ['HDEL', s, 'a'], ['HEXISTS', s, 'a'], ['HLEN', s], ['HSTRLEN', s, 'a'], ['HKEYS', s], ['HVALS', s],
      ['HGETALL', s], ['HINCRBY', s, 'a', '1'], ['HINCRBYFLOAT', s, 'a', '1'], ['HRANDFIELD', s], ['HRANDFIELD', s, '1'],
      ['HSCAN', s, '0'],
    ]) {
      expect(await err(c.call(argv[0]!, ...argv.slice(1))), argv.join(' ')).toBe(WRONGTYPE);
    }
  });
});

describe('HINCRBY / HINCRBYFLOAT', () => {
  it('HINCRBY adds 64-bit integers, with Redis checks', async () => {
    const key = k('incr');
    expect(await c.hincrby(key, 'n', 5)).toBe(5);
    expect(await c.hincrby(key, 'n', -7)).toBe(-2);
    await c.call('HINCRBY', key, 'big', '9223372036854775806');
    expect(await c.hget(key, 'big')).toBe('9223372036854775806');
    await c.call('HINCRBY', key, 'big', '1');
    expect(await c.hget(key, 'big')).toBe('9223372036854775807');
    expect(await err(c.call('HINCRBY', key, 'big', '1'))).toBe('ERR increment or decrement would overflow');
    expect(await err(c.call('HINCRBY', key, 'n', 'x'))).toBe(NOT_INT);
    expect(await err(c.call('HINCRBY', await strKey(), 'n', 'x'))).toBe(NOT_INT); // argument checked first
    await c.call('HSET', key, 's', ' 1', 'f', '1e5', 'z', '007');
    for (const f of ['s', 'f', 'z']) expect(await err(c.call('HINCRBY', key, f, '1'))).toBe('ERR hash value is not an integer');
    expect(await eventsOf(() => c.hincrby(key, 'n', 1))).toEqual([`hincrby ${key}`]);
  });

  it('HINCRBYFLOAT uses long double arithmetic and prints like Redis', async () => {
    const key = k('float');
    await c.call('HSET', key, 'f', '10.50');
    expect(await c.hincrbyfloat(key, 'f', '0.1')).toBe('10.6');
    expect(await c.hincrbyfloat(key, 'f', '-5')).toBe('5.6');
    await c.call('HSET', key, 'g', '5.0e3');
    expect(await c.hincrbyfloat(key, 'g', '2.0e2')).toBe('5200');
    expect(await c.hincrbyfloat(key, 'new', '1.5e70')).toBe('14999999999999999999959574815222511241478849798726367915953482578788352');
    expect(await c.hincrbyfloat(key, 'hex', '0x10')).toBe('16');
    await c.call('HSET', key, 'sp', ' 1');
    expect(await err(c.call('HINCRBYFLOAT', key, 'sp', '1'))).toBe('ERR hash value is not a float');
    expect(await err(c.call('HINCRBYFLOAT', key, 'f', 'x'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('HINCRBYFLOAT', key, 'f', 'nan'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('HINCRBYFLOAT', key, 'f', 'inf'))).toBe('ERR value is NaN or Infinity');
    expect(await err(c.call('HINCRBYFLOAT', await strKey(), 'f', 'inf'))).toBe('ERR value is NaN or Infinity');
    await c.call('HSET', key, 'huge', '1e4932');
    expect(await err(c.call('HINCRBYFLOAT', key, 'huge', '1e4932'))).toBe('ERR increment would produce NaN or Infinity');
  });

  it('HINCRBYFLOAT propagates as HSET of the result', async () => {
    const key = k('fprop');
    const out = await propagated(() => c.hincrbyfloat(key, 'f', '1.25'));
    expect(out).toEqual([['HSET', key, 'f', '1.25']]);
    expect(await eventsOf(() => c.hincrbyfloat(key, 'f', '1'))).toEqual([`hincrbyfloat ${key}`]);
  });
});

describe('HKEYS / HVALS / HGETALL in RESP3', () => {
  it('HGETALL is a map, HRANDFIELD WITHVALUES nested pairs, missing keys empty / null', async () => {
    const key = k('resp3');
    await c.call('HSET', key, 'a', '1', 'b', '2');
    const r = await RawClient.connect(srv.port);
    try {
      await r.send('HELLO', '3');
      const bulk = (value: string): RespValue => ({ type: 'bulk', value });
      expect(await r.send('HGETALL', key)).toEqual({ type: 'map', value: [[bulk('a'), bulk('1')], [bulk('b'), bulk('2')]] });
      expect(await r.send('HGETALL', k('none'))).toEqual({ type: 'map', value: [] });
      expect(await r.send('HKEYS', key)).toEqual({ type: 'array', value: [bulk('a'), bulk('b')] });
      expect(await r.send('HRANDFIELD', key, '5', 'WITHVALUES')).toEqual({
        type: 'array',
        value: [{ type: 'array', value: [bulk('a'), bulk('1')] }, { type: 'array', value: [bulk('b'), bulk('2')] }],
      });
      expect(await r.send('HRANDFIELD', k('none'))).toEqual({ type: 'null' });
      expect(await r.send('HGET', key, 'zz')).toEqual({ type: 'null' });
      expect(await r.send('HMGET', key, 'zz', 'a')).toEqual({ type: 'array', value: [{ type: 'null' }, bulk('1')] });
      expect(await r.send('HSCAN', key, '0')).toEqual({ type: 'array', value: [bulk('0'), { type: 'array', value: ['a', '1', 'b', '2'].map(bulk) }] });
      expect(await r.send('HINCRBYFLOAT', key, 'a', '0.5')).toEqual(bulk('1.5'));
    } finally {
      await r.close();
    }
  });

  it('node-redis RESP3 decodes HGETALL as a map', async () => {
    const key = k('nr3');
    await c.call('HSET', key, 'x', '1', 'y', '2');
    const n = await srv.nodeRedis(3);
    const got = await n.sendCommand(['HGETALL', key], { typeMapping: { [RESP_TYPES.MAP]: Map } });
    expect(got).toEqual(new Map([['x', '1'], ['y', '2']]));
    expect(await n.sendCommand(['HLEN', key])).toBe(2);
  });
});

describe('HRANDFIELD', () => {
  it('no count: one field or nil; count 0: empty', async () => {
    const key = k('r0');
    await c.call('HSET', key, 'a', '1', 'b', '2', 'c', '3');
    expect(['a', 'b', 'c']).toContain(await c.call('HRANDFIELD', key));
    expect(await c.call('HRANDFIELD', k('none'))).toBe(null);
    expect(await c.call('HRANDFIELD', key, '0')).toEqual([]);
    expect(await c.call('HRANDFIELD', key, '0', 'WITHVALUES')).toEqual([]);
    expect(await c.call('HRANDFIELD', k('none'), '3')).toEqual([]);
  });

  it('positive counts give distinct fields (the whole hash when count >= size), negative counts repeat', async () => {
    const key = k('r1');
    const fields = Array.from({ length: 20 }, (_, i) => 'f' + i);
    await c.call('HSET', key, ...fields.flatMap((f) => [f, 'v' + f]));
    for (const n of [1, 5, 7, 19]) {
      const got = (await c.call('HRANDFIELD', key, String(n))) as string[];
      expect(got.length).toBe(n);
      expect(new Set(got).size).toBe(n);
      for (const f of got) expect(fields).toContain(f);
    }
    expect(sorted(await c.call('HRANDFIELD', key, '20'))).toEqual(sorted(fields));
    expect(sorted(await c.call('HRANDFIELD', key, '9223372036854775807'))).toEqual(sorted(fields));
    const neg = (await c.call('HRANDFIELD', key, '-200')) as string[];
    expect(neg.length).toBe(200);
    expect(new Set(neg).size).toBeLessThan(21);
    const wv = (await c.call('HRANDFIELD', key, '-30', 'WITHVALUES')) as string[];
    expect(wv.length).toBe(60);
    for (let i = 0; i < wv.length; i += 2) expect(wv[i + 1]).toBe('v' + wv[i]);
  });

  it('argument errors, checked before the key', async () => {
    const s = await strKey();
    expect(await err(c.call('HRANDFIELD', s, 'x'))).toBe(NOT_INT);
    expect(await err(c.call('HRANDFIELD', k('h'), '1', 'withvalue'))).toBe(SYNTAX);
    expect(await err(c.call('HRANDFIELD', k('h'), '1', 'withvalues', 'x'))).toBe(SYNTAX);
    expect(await err(c.call('HRANDFIELD', k('h'), '-9223372036854775808'))).toBe(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
    expect(await err(c.call('HRANDFIELD', k('h'), '4611686018427387904', 'WITHVALUES'))).toBe('ERR value is out of range');
    expect(await err(c.call('HRANDFIELD', k('h'), '-4611686018427387904', 'WITHVALUES'))).toBe('ERR value is out of range');
    expect(await c.call('HRANDFIELD', k('h'), '-4611686018427387903', 'WITHVALUES')).toEqual([]);
  });
});

describe('HSCAN', () => {
  it('a listpack comes back whole with cursor 0; MATCH filters; NOVALUES (7.4) drops values', async () => {
    const key = k('scan');
    await c.call('HSET', key, 'a1', '1', 'b1', '2', 'a2', '3');
    expect(await c.call('HSCAN', key, '0')).toEqual(['0', ['a1', '1', 'b1', '2', 'a2', '3']]);
    expect(await c.call('HSCAN', key, '0', 'MATCH', 'a*', 'COUNT', '1')).toEqual(['0', ['a1', '1', 'a2', '3']]);
    expect(await c.call('HSCAN', key, '0', 'NOVALUES')).toEqual(['0', ['a1', 'b1', 'a2']]);
    expect(await c.call('HSCAN', k('none'), '0', 'COUNT', '0')).toEqual(['0', []]); // options unchecked on a missing key
  });

  it('a hashtable is iterated with a cursor, every field exactly once', async () => {
    const key = k('scanbig');
    const n = 1000;
    await c.call('HSET', key, ...Array.from({ length: n }, (_, i) => [`f${i}`, `v${i}`]).flat());
    expect(await c.call('OBJECT', 'ENCODING', key)).toBe('hashtable');
    const seen = new Map<string, string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, items] = (await c.call('HSCAN', key, cursor, 'COUNT', '50')) as [string, string[]];
      for (let i = 0; i < items.length; i += 2) {
        expect(seen.has(items[i]!)).toBe(false);
        seen.set(items[i]!, items[i + 1]!);
      }
      cursor = next;
      calls++;
    } while (cursor !== '0');
    expect(seen.size).toBe(n);
    expect(seen.get('f7')).toBe('v7');
    expect(calls).toBeGreaterThan(10);
  });

  it('errors', async () => {
    const key = k('scanerr');
    await c.call('HSET', key, 'a', '1');
    expect(await err(c.call('HSCAN', key, 'x'))).toBe('ERR invalid cursor');
    expect(await err(c.call('HSCAN', await strKey(), 'x'))).toBe('ERR invalid cursor');
    for (const opts of [['COUNT', '0'], ['COUNT', '-1'], ['TYPE', 'string'], ['MATCH'], ['foo']]) {
      expect(await err(c.call('HSCAN', key, '0', ...opts))).toBe(SYNTAX);
    }
    expect(await err(c.call('HSCAN', key, '0', 'COUNT', 'x'))).toBe(NOT_INT);
  });
});

describe('OBJECT ENCODING and COPY', () => {
  it('listpack until hash-max-listpack-entries / -value, then hashtable for good', async () => {
    const a = k('enc');
    await c.call('HSET', a, 'f', 'v');
    expect(await c.call('OBJECT', 'ENCODING', a)).toBe('listpack');
    await c.call('HSET', a, 'long', 'x'.repeat(65));
    expect(await c.call('OBJECT', 'ENCODING', a)).toBe('hashtable');
    await c.hdel(a, 'long');
    expect(await c.call('OBJECT', 'ENCODING', a)).toBe('hashtable');

    await c.call('CONFIG', 'SET', 'hash-max-listpack-entries', '2');
    try {
      const b = k('enc2');
      await c.call('HSET', b, 'a', '1', 'b', '2');
      expect(await c.call('OBJECT', 'ENCODING', b)).toBe('listpack');
      await c.hsetnx(b, 'a', '1');
      expect(await c.call('OBJECT', 'ENCODING', b)).toBe('listpack');
      await c.hincrby(b, 'c', 1);
      expect(await c.call('OBJECT', 'ENCODING', b)).toBe('hashtable');
    } finally {
      await c.call('CONFIG', 'SET', 'hash-max-listpack-entries', '512');
    }
    const d = k('enc3');
    await c.call('HSET', d, 'n', '1');
    await c.hincrbyfloat(d, 'n', '1.5e70'); // a result longer than 64 bytes converts
    expect(await c.call('OBJECT', 'ENCODING', d)).toBe('hashtable');
  });

  it('COPY is deep; DEBUG DIGEST-VALUE ignores field order', async () => {
    const a = k('copy');
    const b = k('copy2');
    await c.call('HSET', a, 'x', '1', 'y', '2');
    expect(await c.copy(a, b)).toBe(1);
    await c.call('HSET', b, 'x', 'changed');
    expect(await c.hget(a, 'x')).toBe('1');
    const d1 = k('dg');
    const d2 = k('dg');
    await c.call('HSET', d1, 'p', '1', 'q', '2');
    await c.call('HSET', d2, 'q', '2', 'p', '1');
    const [g1, g2] = (await c.call('DEBUG', 'DIGEST-VALUE', d1, d2)) as string[];
    expect(g1).toBe(g2);
  });
});

// ---------------------------------------------------------------------------
// Field TTLs (Redis 7.4)

describe('HEXPIRE family: arguments and replies', () => {
  it('argument errors with Redis 7.4 texts; WRONGTYPE first', async () => {
    const s = await strKey();
    const h = k('ttlerr');
    await c.call('HSET', h, 'a', '1');
    for (const cmd of ['HEXPIRE', 'HPEXPIRE', 'HEXPIREAT', 'HPEXPIREAT']) {
      expect(await err(c.call(cmd, s, 'abc', 'FIELDS', '1', 'a'))).toBe(WRONGTYPE);
      expect(await err(c.call(cmd, h, 'abc', 'FIELDS', '1', 'a'))).toBe(NOT_INT);
      expect(await err(c.call(cmd, h, '-1', 'FIELDS', '1', 'a'))).toBe('ERR invalid expire time, must be >= 0');
      expect(await err(c.call(cmd, h, '100', 'FIELDS', '2', 'a'))).toBe('ERR The `numfields` parameter must match the number of arguments');
      expect(await err(c.call(cmd, h, '100', 'FIELDS', '1', 'a', 'b'))).toBe('ERR The `numfields` parameter must match the number of arguments');
      for (const n of ['0', '-1', 'x']) {
        expect(await err(c.call(cmd, h, '100', 'FIELDS', n, 'a'))).toBe('ERR Parameter `numFields` should be greater than 0');
      }
      expect(await err(c.call(cmd, h, '100', 'NOPE', '1', 'a'))).toBe('ERR Mandatory argument FIELDS is missing or not at the right position');
      expect(await err(c.call(cmd, h, '100', 'NX', 'XX', 'FIELDS', '1', 'a'))).toBe('ERR Mandatory argument FIELDS is missing or not at the right position');
      expect(await err(c.call(cmd, h, '100', 'FIELDS', '1'))).toBe(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
    }
    for (const cmd of ['HTTL', 'HPTTL', 'HEXPIRETIME', 'HPEXPIRETIME', 'HPERSIST']) {
      expect(await err(c.call(cmd, s, 'FIELDS', '1', 'a'))).toBe(WRONGTYPE);
      expect(await err(c.call(cmd, h, 'FIELDS', '2', 'a'))).toBe('ERR The `numfields` parameter must match the number of arguments');
      expect(await err(c.call(cmd, h, 'FIELDS', 'x', 'a'))).toBe('ERR Number of fields must be a positive integer');
      expect(await err(c.call(cmd, h, 'FIELDS', '0', 'a'))).toBe('ERR Number of fields must be a positive integer');
      expect(await err(c.call(cmd, h, 'NOPE', '1', 'a'))).toBe('ERR Mandatory argument FIELDS is missing or not at the right position');
      expect(await err(c.call(cmd, h, 'FIELDS', '1'))).toBe(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
    }
  });

  it('caps absolute expiries at 2^46 - 1 ms', async () => {
    const h = k('cap');
    await c.call('HSET', h, 'a', '1');
    expect(await c.call('HPEXPIREAT', h, '70368744177663', 'FIELDS', '1', 'a')).toEqual([1]);
    expect(await err(c.call('HPEXPIREAT', h, '70368744177664', 'FIELDS', '1', 'a'))).toBe("ERR invalid expire time in 'hpexpireat' command");
    expect(await c.call('HEXPIREAT', h, '70368744177', 'FIELDS', '1', 'a')).toEqual([1]);
    expect(await err(c.call('HEXPIREAT', h, '70368744178', 'FIELDS', '1', 'a'))).toBe("ERR invalid expire time in 'hexpireat' command");
    expect(await err(c.call('HEXPIRE', h, '1000000000000', 'FIELDS', '1', 'a'))).toBe("ERR invalid expire time in 'hexpire' command");
    expect(await err(c.call('HPEXPIRE', h, '70368744177664', 'FIELDS', '1', 'a'))).toBe("ERR invalid expire time in 'hpexpire' command");
  });

  it('a missing key answers -2 per field', async () => {
    const none = k('none');
    expect(await c.call('HEXPIRE', none, '100', 'FIELDS', '2', 'a', 'b')).toEqual([-2, -2]);
    expect(await c.call('HTTL', none, 'FIELDS', '3', 'a', 'b', 'c')).toEqual([-2, -2, -2]);
    expect(await c.call('HPERSIST', none, 'FIELDS', '1', 'a')).toEqual([-2]);
    expect(await c.exists(none)).toBe(0);
  });

  it('NX / XX / GT / LT per field (no TTL counts as infinite)', async () => {
    const far = Date.now() + 3_600_000;
    const cases: [string, number | null, number, number][] = [
      // condition, existing TTL (abs ms) or null, new TTL, expected code
      ['NX', null, far, 1], ['XX', null, far, 0], ['GT', null, far, 0], ['LT', null, far, 1],
      ['NX', far, far + 1000, 0], ['XX', far, far + 1000, 1], ['GT', far, far + 1000, 1], ['GT', far, far - 1000, 0],
      ['GT', far, far, 0], ['LT', far, far - 1000, 1], ['LT', far, far + 1000, 0], ['LT', far, far, 0],
    ];
    for (const [cond, cur, at, code] of cases) {
      const h = k('cond');
      await c.call('HSET', h, 'f', 'v');
      if (cur !== null) await c.call('HPEXPIREAT', h, String(cur), 'FIELDS', '1', 'f');
      expect(await c.call('HPEXPIREAT', h, String(at), cond, 'FIELDS', '1', 'f'), `${cond} ${cur} ${at}`).toEqual([code]);
      expect(await c.call('HPEXPIRETIME', h, 'FIELDS', '1', 'f')).toEqual([code === 1 ? at : (cur ?? -1)]);
    }
    const m = k('mixed');
    await c.call('HSET', m, 'a', '1', 'b', '2', 'c', '3');
    await c.call('HPEXPIREAT', m, String(far), 'FIELDS', '1', 'a');
    expect(await c.call('HEXPIRE', m, '100', 'nx', 'fields', '4', 'a', 'b', 'nosuch', 'c')).toEqual([0, 1, -2, 1]);
    expect(await c.call('HTTL', m, 'FIELDS', '2', 'b', 'b')).toEqual([100, 100]);
  });

  it('HTTL / HPTTL / HEXPIRETIME / HPEXPIRETIME / HPERSIST', async () => {
    const h = k('read');
    await c.call('HSET', h, 'a', '1', 'b', '2');
    const deadline = Date.now() + 100_400;
    expect(await c.call('HPEXPIREAT', h, String(deadline), 'FIELDS', '1', 'a')).toEqual([1]);
    expect(await c.call('HPEXPIRETIME', h, 'FIELDS', '3', 'a', 'b', 'zz')).toEqual([deadline, -1, -2]);
    expect(await c.call('HEXPIRETIME', h, 'FIELDS', '1', 'a')).toEqual([Math.ceil(deadline / 1000)]);
    const [pttl] = (await c.call('HPTTL', h, 'FIELDS', '1', 'a')) as number[];
    expect(pttl).toBeGreaterThan(99_000);
    expect(pttl).toBeLessThanOrEqual(100_400);
    const [ttl] = (await c.call('HTTL', h, 'FIELDS', '1', 'a')) as number[];
    expect([100, 101]).toContain(ttl);
    expect(await c.call('OBJECT', 'ENCODING', h)).toBe('listpackex');
    expect(await eventsOf(() => c.call('HPERSIST', h, 'FIELDS', '3', 'a', 'b', 'zz'))).toEqual([`hpersist ${h}`]);
    expect(await c.call('HPERSIST', h, 'FIELDS', '1', 'a')).toEqual([-1]);
    expect(await c.call('HTTL', h, 'FIELDS', '1', 'a')).toEqual([-1]);
    expect(await c.call('OBJECT', 'ENCODING', h)).toBe('listpackex');
  });

  it('HSET clears a field TTL, HINCRBY / HINCRBYFLOAT / HSETNX keep it, HDEL drops it', async () => {
    const h = k('writes');
    await c.call('HSET', h, 'a', '1', 'n', '5');
    await c.call('HEXPIRE', h, '100', 'FIELDS', '2', 'a', 'n');
    expect(await c.call('HSET', h, 'a', '2')).toBe(0);
    expect(await c.call('HTTL', h, 'FIELDS', '2', 'a', 'n')).toEqual([-1, 100]);
    expect(await c.hincrby(h, 'n', 1)).toBe(6);
    expect(await c.hincrbyfloat(h, 'n', '0.5')).toBe('6.5');
    expect(await c.hsetnx(h, 'n', '0')).toBe(0);
    expect(await c.call('HTTL', h, 'FIELDS', '1', 'n')).toEqual([100]);
    await c.hdel(h, 'n');
    await c.call('HSET', h, 'n', '5');
    expect(await c.call('HTTL', h, 'FIELDS', '1', 'n')).toEqual([-1]);
  });

  it('a past time deletes the fields (code 2), and the key with the last one', async () => {
    const h = k('past');
    await c.call('HSET', h, 'a', '1', 'b', '2', 'c', '3');
    const ev = await eventsOf(async () => {
      expect(await c.call('HEXPIREAT', h, '1', 'FIELDS', '3', 'a', 'b', 'zz')).toEqual([2, 2, -2]);
    });
    expect(ev).toEqual([`hdel ${h}`]);
    expect(await c.hlen(h)).toBe(1);
    expect(await c.call('HPEXPIREAT', h, String(Date.now() + 100_000), 'FIELDS', '1', 'c')).toEqual([1]);
    expect(await c.call('HEXPIREAT', h, '1', 'NX', 'FIELDS', '1', 'c')).toEqual([0]);
    expect(await eventsOf(() => c.call('HEXPIRE', h, '0', 'FIELDS', '1', 'c'))).toEqual([`hdel ${h}`, `del ${h}`]);
    expect(await c.exists(h)).toBe(0);
  });

  it('propagates absolute HPEXPIREAT (only the changed fields when some did not change) and HDEL', async () => {
    const h = k('prop');
    await c.call('HSET', h, 'a', '1', 'b', '2', 'c', '3');
    const before = Date.now();
    const out1 = await propagated(() => c.call('HEXPIRE', h, '100', 'NX', 'FIELDS', '2', 'a', 'b'));
    expect(out1.length).toBe(1);
    const [cmd, key, at, ...rest] = out1[0]!;
    expect([cmd, key, ...rest]).toEqual(['HPEXPIREAT', h, 'NX', 'FIELDS', '2', 'a', 'b']);
    expect(Number(at)).toBeGreaterThanOrEqual(before + 100_000);
    expect(Number(at)).toBeLessThanOrEqual(Date.now() + 100_000);
    const out2 = await propagated(() => c.call('HPEXPIRE', h, '5000', 'NX', 'FIELDS', '3', 'a', 'c', 'zz'));
    expect(out2.map((a) => [a[0], a[1], ...a.slice(3)])).toEqual([['HPEXPIREAT', h, 'FIELDS', '1', 'c']]);
    expect(await propagated(() => c.call('HPEXPIRE', h, '5000', 'XX', 'FIELDS', '1', 'zz'))).toEqual([]);
    expect(await propagated(() => c.call('HEXPIREAT', h, '1', 'FIELDS', '2', 'a', 'b'))).toEqual([['HDEL', h, 'a', 'b']]);
  });
});

describe('field expiry: lazy and active', () => {
  it('expired fields are never visible, and are reclaimed on access (HDEL propagated, hexpired fired)', async () => {
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      const h = k('lazy');
      await c.call('HSET', h, 'a', '1', 'b', '2', 'c', '3');
      expect(await c.call('HPEXPIRE', h, '30', 'FIELDS', '2', 'a', 'b')).toEqual([1, 1]);
      await sleep(60);
      expect(await c.exists(h)).toBe(1);
      let ev: string[] = [];
      const out = await propagated(async () => {
        ev = await eventsOf(async () => {
          expect(await c.hget(h, 'a')).toBe(null);
        });
      });
      expect(ev).toEqual([`hexpired ${h}`]);
      // Two commands from one call: in MULTI/EXEC.
      expect(out[0]).toEqual(['MULTI']);
      expect(out[3]).toEqual(['EXEC']);
      expect(out.slice(1, 3).map((a) => a.join(' ')).sort()).toEqual([`HDEL ${h} a`, `HDEL ${h} b`]);
      expect(await c.hlen(h)).toBe(1);
      expect(await c.hmget(h, 'a', 'b', 'c')).toEqual([null, null, '3']);
      expect(await c.hgetall(h)).toEqual({ c: '3' });
      expect(await c.call('HRANDFIELD', h, '-5')).toEqual(['c', 'c', 'c', 'c', 'c']);
      expect(await c.call('HTTL', h, 'FIELDS', '2', 'a', 'c')).toEqual([-2, -1]);

      // Every read command hides expired fields.
      const g = k('lazy2');
      await c.call('HSET', g, 'x', '10', 'y', '20');
      await c.call('HPEXPIRE', g, '20', 'FIELDS', '1', 'x');
      await sleep(40);
      expect(await c.hexists(g, 'x')).toBe(0);
      await c.call('HPEXPIRE', g, '20', 'FIELDS', '1', 'y');
      await c.call('HSET', g, 'z', '1');
      await sleep(40);
      expect(await c.hkeys(g)).toEqual(['z']);
      expect(await c.call('HSCAN', g, '0')).toEqual(['0', ['z', '1']]);
      expect(await c.hincrby(g, 'y', 1)).toBe(1); // a fresh field

      // The last field's expiry deletes the hash.
      const solo = k('solo');
      await c.call('HSET', solo, 'f', 'v');
      await c.call('HPEXPIRE', solo, '20', 'FIELDS', '1', 'f');
      await sleep(40);
      expect(await eventsOf(async () => expect(await c.hlen(solo)).toBe(0))).toEqual([`hexpired ${solo}`, `del ${solo}`]);
      expect(await c.exists(solo)).toBe(0);
    } finally {
      await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });

  it('the active cycle deletes due fields and emptied hashes without any access', async () => {
    const h = k('active');
    const keep = k('keep');
    const mixed = k('mixed');
    await c.call('HSET', h, 'a', '1');
    await c.call('HSET', keep, 'a', '1');
    await c.call('HSET', mixed, ...Array.from({ length: 40 }, (_, i) => [`f${i}`, 'v', `g${i}`, 'w']).flat());
    await c.call('HPEXPIRE', h, '50', 'FIELDS', '1', 'a');
    await c.call('HPEXPIRE', mixed, '50', 'FIELDS', '40', ...Array.from({ length: 40 }, (_, i) => `f${i}`));
    const out = await propagated(async () => {
      const ev = await eventsOf(async () => {
        await waitUntil(async () => srv.engine.dbs[0]!.peek(h) === undefined, 3000, 'active field expiry');
        await waitUntil(async () => (srv.engine.dbs[0]!.peek(mixed) as unknown as { size: number }).size === 40, 3000, 'mixed');
      });
      expect(ev).toContain(`hexpired ${h}`);
      expect(ev).toContain(`del ${h}`);
      expect(ev).toContain(`hexpired ${mixed}`);
    });
    expect(out).toContainEqual(['HDEL', h, 'a']);
    expect(out.filter((a) => a[1] === mixed).length).toBe(40);
    expect(await c.hlen(mixed)).toBe(40);
    expect(await c.hget(keep, 'a')).toBe('1');
  });

  it('field TTLs travel with RENAME, MOVE, COPY and SWAPDB, and still expire actively', async () => {
    const far = Date.now() + 3_600_000;
    const src = k('src');
    await c.call('HSET', src, 'a', '1', 'b', '2');
    await c.call('HPEXPIREAT', src, String(far), 'FIELDS', '1', 'a');
    const cp = k('cp');
    expect(await c.copy(src, cp)).toBe(1);
    expect(await c.call('HPEXPIRETIME', cp, 'FIELDS', '2', 'a', 'b')).toEqual([far, -1]);
    expect(await c.call('HPERSIST', cp, 'FIELDS', '1', 'a')).toEqual([1]);
    expect(await c.call('HPEXPIRETIME', src, 'FIELDS', '1', 'a')).toEqual([far]);
    const ren = k('ren');
    await c.rename(src, ren);
    expect(await c.call('HPEXPIRETIME', ren, 'FIELDS', '2', 'a', 'b')).toEqual([far, -1]);

    // Short TTLs, then moved around before they are due: the active cycle follows.
    const r1 = k('r1');
    const r2 = k('r2');
    await c.call('HSET', r1, 'f', 'v');
    await c.call('HPEXPIRE', r1, '150', 'FIELDS', '1', 'f');
    await c.rename(r1, r2);
    const m = k('mv');
    await c.call('HSET', m, 'f', 'v');
    await c.call('HPEXPIRE', m, '150', 'FIELDS', '1', 'f');
    expect(await c.move(m, 5)).toBe(1);
    const cpy = k('cpy');
    const cpy2 = k('cpy2');
    await c.call('HSET', cpy, 'f', 'v');
    await c.call('HPEXPIRE', cpy, '150', 'FIELDS', '1', 'f');
    await c.copy(cpy, cpy2, 'DB', '6');
    const sw = k('sw');
    const c7 = srv.client({ enableReadyCheck: false, db: 7 });
    await c7.call('HSET', sw, 'f', 'v');
    await c7.call('HPEXPIRE', sw, '150', 'FIELDS', '1', 'f');
    await c.call('SWAPDB', '7', '8');
    const dbs = srv.engine.dbs;
    expect(dbs[8]!.peek(sw)).toBeDefined();
    await waitUntil(
      () => [dbs[0]!.peek(r2), dbs[5]!.peek(m), dbs[0]!.peek(cpy), dbs[6]!.peek(cpy2), dbs[8]!.peek(sw)].every((v) => v === undefined),
      3000,
      'active expiry of moved hashes',
    );
  });

  it('FLUSHALL drops pending field expiries', async () => {
    const h = k('flush');
    await c.call('HSET', h, 'a', '1');
    await c.call('HPEXPIRE', h, '100000', 'FIELDS', '1', 'a');
    expect(srv.engine.dbs[0]!.fieldExpiry).not.toBeNull();
    await c.flushall();
    expect(srv.engine.dbs[0]!.fieldExpiry).toBeNull();
    await c.call('HSET', h, 'a', '1');
    expect(await c.call('HTTL', h, 'FIELDS', '1', 'a')).toEqual([-1]);
  });

  it('OBJECT ENCODING: listpackex while small, hashtable when big', async () => {
    const h = k('encex');
    await c.call('HSET', h, 'a', '1');
    expect(await c.call('HEXPIRE', h, '100', 'FIELDS', '1', 'zz')).toEqual([-2]);
    expect(await c.call('HEXPIRE', h, '100', 'XX', 'FIELDS', '1', 'a')).toEqual([0]);
    expect(await c.call('OBJECT', 'ENCODING', h)).toBe('listpack');
    await c.call('HEXPIRE', h, '100', 'FIELDS', '1', 'a');
    expect(await c.call('OBJECT', 'ENCODING', h)).toBe('listpackex');
    await c.call('HSET', h, ...Array.from({ length: 600 }, (_, i) => [`f${i}`, 'v']).flat());
    expect(await c.call('OBJECT', 'ENCODING', h)).toBe('hashtable');
    expect(await c.call('HTTL', h, 'FIELDS', '2', 'a', 'f1')).toEqual([100, -1]);
  });
});
