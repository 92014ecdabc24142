/**
 * String commands through real clients (ioredis RESP2, node-redis RESP2/RESP3).
 * Expected replies and error texts were checked against redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { RESP_TYPES, serverForFile, startTestServer, type TestServer } from '../helpers/server.js';
import { NOT_INT, SYNTAX, WRONGTYPE, keyMaker, latin1 as B } from '../helpers/expect.js';

const { srv, c, makeList, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA' });
/** A fresh key name per use, so tests never see each other's data. */
const k = keyMaker('str');

describe('GET / SET', () => {
  it('round-trips binary values (every byte value, NUL and 0xff)', async () => {
    const key = k('bin');
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    expect(await c.set(key, all)).toBe('OK');
    expect(await c.getBuffer(key)).toEqual(all);
    expect(await c.strlen(key)).toBe(256);
    const bk = Buffer.from([0x00, 0xff, 0x0d, 0x0a]);
    await c.set(bk, B('\x00v\xff'));
    expect(await c.getBuffer(bk)).toEqual(B('\x00v\xff'));

    const n = await srv.nodeRedis(3);
    const typeMapping = { [RESP_TYPES.BLOB_STRING]: Buffer };
    expect(await n.sendCommand(['GET', key], { typeMapping })).toEqual(all);
    expect(await n.sendCommand(['GET', k('missing')], { typeMapping })).toBeNull();
    await n.sendCommand(['SET', bk, all.subarray(250)]);
    expect(await n.sendCommand(['GET', bk], { typeMapping })).toEqual(all.subarray(250));
  });

  it('GET of a missing key is nil; GET of a non-string is WRONGTYPE', async () => {
    const l = k('list');
    await makeList(l);
    expect(await c.get(k('missing'))).toBeNull();
    await expect(c.get(l)).rejects.toThrow(WRONGTYPE);
  });

  it('NX / XX / GET combinations', async () => {
    const key = k('nxxx');
    expect(await c.call('SET', key, 'a', 'XX')).toBeNull();
    expect(await c.call('SET', key, 'a', 'NX')).toBe('OK');
    expect(await c.call('SET', key, 'b', 'NX')).toBeNull();
    expect(await c.call('SET', key, 'b', 'XX')).toBe('OK');
    expect(await c.call('SET', key, 'c', 'GET')).toBe('b');
    // NX with GET: replies the old value and does not write.
    expect(await c.call('SET', key, 'd', 'NX', 'GET')).toBe('c');
    expect(await c.get(key)).toBe('c');
    const fresh = k('fresh');
    expect(await c.call('SET', fresh, 'v', 'nx', 'get')).toBeNull();
    expect(await c.get(fresh)).toBe('v');
    expect(await c.call('SET', k('none'), 'v', 'XX', 'GET')).toBeNull();
    // Repeated tokens are accepted.
    expect(await c.call('SET', key, 'e', 'NX', 'NX')).toBeNull();
    expect(await c.call('SET', key, 'e', 'GET', 'get')).toBe('c');
  });

  it('rejects conflicting or unknown options with a syntax error', async () => {
    const key = k('syntax');
    for (const args of [
      ['NX', 'XX'],
      ['XX', 'NX'],
      ['KEEPTTL', 'EX', '1'],
      ['EX', '1', 'KEEPTTL'],
      ['EX', '10', 'PX', '100'],
      ['EXAT', '10', 'PXAT', '100'],
      ['EX'],
      ['PERSIST'],
      ['foo'],
    ]) {
      await expect(c.call('SET', key, 'v', ...args)).rejects.toThrow(SYNTAX);
    }
    expect(await c.exists(key)).toBe(0);
  });

  it('expire validation: exact errors for non-positive and overflowing times', async () => {
    const key = k('badttl');
    const bad = "ERR invalid expire time in 'set' command";
    await expect(c.call('SET', key, 'v', 'EX', '0')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'EX', '-1')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'PX', '0')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'PXAT', '-5')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'PX', '9223372036854775807')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'EX', '9223372036854775')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'EX', '9223372036854774')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'EXAT', '9223372036854775807')).rejects.toThrow(bad);
    await expect(c.call('SET', key, 'v', 'EX', 'abc')).rejects.toThrow(NOT_INT);
    await expect(c.call('SET', key, 'v', 'EX', '1.5')).rejects.toThrow(NOT_INT);
    expect(await c.exists(key)).toBe(0);
  });

  it('EX / PX / EXAT / PXAT set the TTL; a plain SET clears it; KEEPTTL keeps it', async () => {
    const key = k('ttl');
    await c.call('SET', key, 'v', 'EX', '100');
    expect(await c.ttl(key)).toBe(100);
    await c.call('SET', key, 'v', 'PX', '50000');
    expect(await c.pttl(key)).toBeGreaterThan(49000);
    expect(await c.pttl(key)).toBeLessThanOrEqual(50000);
    const at = Math.floor(Date.now() / 1000) + 1000;
    await c.call('SET', key, 'v', 'EXAT', String(at));
    expect(await c.ttl(key)).toBeGreaterThan(990);
    await c.call('SET', key, 'v', 'PXAT', String(Date.now() + 200_000));
    expect(await c.ttl(key)).toBeGreaterThan(190);
    await c.call('SET', key, 'w', 'KEEPTTL');
    expect(await c.ttl(key)).toBeGreaterThan(190);
    expect(await c.get(key)).toBe('w');
    // SET ... GET without KEEPTTL clears the TTL too.
    expect(await c.call('SET', key, 'x', 'GET')).toBe('w');
    expect(await c.ttl(key)).toBe(-1);
    await c.call('SET', key, 'y', 'EX', '100');
    expect(await c.call('SET', key, 'z', 'KEEPTTL', 'GET')).toBe('y');
    expect(await c.ttl(key)).toBe(100);
    // A repeated expire option: the last one wins.
    await c.call('SET', key, 'v', 'EX', '10', 'EX', '20');
    expect(await c.ttl(key)).toBe(20);
  });

  it('an absolute time in the past stores a key that is already expired', async () => {
    const key = k('past');
    expect(await c.call('SET', key, 'v', 'PXAT', '1')).toBe('OK');
    expect(await c.get(key)).toBeNull();
    expect(await c.exists(key)).toBe(0);
  });

  it('SET ... GET on a non-string is WRONGTYPE and writes nothing; plain SET overwrites', async () => {
    const l = k('list');
    await makeList(l);
    await expect(c.call('SET', l, 'v', 'GET')).rejects.toThrow(WRONGTYPE);
    await expect(c.call('SET', l, 'v', 'NX', 'GET')).rejects.toThrow(WRONGTYPE);
    await expect(c.get(l)).rejects.toThrow(WRONGTYPE);
    expect(await c.set(l, 'v')).toBe('OK');
    expect(await c.get(l)).toBe('v');
  });

  it('node-redis RESP3: the NX abort reply is a null', async () => {
    const n = await srv.nodeRedis(3);
    const key = k('resp3');
    expect(await n.sendCommand(['SET', key, '1'])).toBe('OK');
    expect(await n.sendCommand(['SET', key, '2', 'NX'])).toBeNull();
    expect(await n.sendCommand(['SET', key, '3', 'GET'])).toBe('1');
  });
});

describe('SETNX / SETEX / PSETEX / GETSET / GETDEL', () => {
  it('SETNX replies 1 / 0', async () => {
    const key = k('setnx');
    expect(await c.setnx(key, 'a')).toBe(1);
    expect(await c.setnx(key, 'b')).toBe(0);
    expect(await c.get(key)).toBe('a');
  });

  it('SETEX / PSETEX set value and TTL; invalid times name the command', async () => {
    const key = k('setex');
    expect(await c.setex(key, 100, 'x')).toBe('OK');
    expect(await c.ttl(key)).toBe(100);
    expect(await c.psetex(key, 100_000, 'y')).toBe('OK');
    expect(await c.get(key)).toBe('y');
    expect(await c.pttl(key)).toBeGreaterThan(99_000);
    await expect(c.call('SETEX', key, '0', 'x')).rejects.toThrow("ERR invalid expire time in 'setex' command");
    await expect(c.call('SETEX', key, '-1', 'x')).rejects.toThrow("ERR invalid expire time in 'setex' command");
    await expect(c.call('SETEX', key, '9223372036854775807', 'x')).rejects.toThrow("ERR invalid expire time in 'setex' command");
    await expect(c.call('PSETEX', key, '0', 'x')).rejects.toThrow("ERR invalid expire time in 'psetex' command");
    await expect(c.call('SETEX', key, 'x', 'x')).rejects.toThrow(NOT_INT);
    await expect(c.call('SETEX', key, '10')).rejects.toThrow("ERR wrong number of arguments for 'setex' command");
  });

  it('GETSET returns the old value and clears the TTL', async () => {
    const key = k('getset');
    expect(await c.getset(key, '1')).toBeNull();
    await c.expire(key, 100);
    expect(await c.getset(key, '2')).toBe('1');
    expect(await c.ttl(key)).toBe(-1);
    const l = k('list');
    await makeList(l);
    await expect(c.getset(l, 'v')).rejects.toThrow(WRONGTYPE);
  });

  it('GETDEL returns and deletes', async () => {
    const key = k('getdel');
    await c.set(key, 'v');
    expect(await c.getdel(key)).toBe('v');
    expect(await c.exists(key)).toBe(0);
    expect(await c.getdel(key)).toBeNull();
    const l = k('list');
    await makeList(l);
    await expect(c.getdel(l)).rejects.toThrow(WRONGTYPE);
  });
});

describe('GETEX', () => {
  it('sets, changes and removes the TTL', async () => {
    const key = k('getex');
    await c.set(key, 'v');
    expect(await c.call('GETEX', key)).toBe('v');
    expect(await c.ttl(key)).toBe(-1);
    expect(await c.call('GETEX', key, 'EX', '100')).toBe('v');
    expect(await c.ttl(key)).toBe(100);
    expect(await c.call('GETEX', key, 'PX', '50000')).toBe('v');
    expect(await c.pttl(key)).toBeLessThanOrEqual(50000);
    expect(await c.call('GETEX', key, 'EXAT', String(Math.floor(Date.now() / 1000) + 300))).toBe('v');
    expect(await c.ttl(key)).toBeGreaterThan(290);
    expect(await c.call('GETEX', key, 'PERSIST')).toBe('v');
    expect(await c.ttl(key)).toBe(-1);
    expect(await c.call('GETEX', key, 'PERSIST', 'PERSIST')).toBe('v');
    // An absolute time already past deletes the key (after replying with it).
    expect(await c.call('GETEX', key, 'PXAT', '1')).toBe('v');
    expect(await c.exists(key)).toBe(0);
  });

  it('errors: syntax, expire validation, wrong type; a missing key is nil before validation', async () => {
    const key = k('getexerr');
    await c.set(key, 'v');
    for (const args of [['KEEPTTL'], ['NX'], ['GET'], ['EX', '10', 'PX', '10'], ['PERSIST', 'EX', '10'], ['EX'], ['foo']]) {
      await expect(c.call('GETEX', key, ...args)).rejects.toThrow(SYNTAX);
    }
    await expect(c.call('GETEX', key, 'EX', '-1')).rejects.toThrow("ERR invalid expire time in 'getex' command");
    await expect(c.call('GETEX', key, 'EXAT', '9223372036854776')).rejects.toThrow("ERR invalid expire time in 'getex' command");
    await expect(c.call('GETEX', key, 'EX', 'abc')).rejects.toThrow(NOT_INT);
    expect(await c.call('GETEX', k('missing'), 'EX', '-1')).toBeNull();
    await expect(c.call('GETEX', k('missing'), 'foo')).rejects.toThrow(SYNTAX);
    const l = k('list');
    await makeList(l);
    await expect(c.call('GETEX', l, 'EX', '-1')).rejects.toThrow(WRONGTYPE);
    expect(await c.ttl(key)).toBe(-1);
  });
});

describe('MGET / MSET / MSETNX', () => {
  it('MGET returns nil for missing keys and non-strings', async () => {
    const [a, b, l] = [k('a'), k('b'), k('l')];
    await makeList(l);
    expect(await c.mset(a, '1', b, B('\x00\xff'))).toBe('OK');
    expect(await c.mget(a, k('missing'), l, a)).toEqual(['1', null, null, '1']);
    expect(await c.mgetBuffer(b)).toEqual([B('\x00\xff')]);
  });

  it('MSET / MSETNX argument count and all-or-nothing semantics', async () => {
    const [a, b, cc] = [k('a'), k('b'), k('c')];
    await expect(c.call('MSET', a, '1', b)).rejects.toThrow("ERR wrong number of arguments for 'mset' command");
    await expect(c.call('MSETNX', a, '1', b)).rejects.toThrow("ERR wrong number of arguments for 'msetnx' command");
    await expect(c.call('MSETNX', a)).rejects.toThrow("ERR wrong number of arguments for 'msetnx' command");
    expect(await c.msetnx(a, '1', b, '2')).toBe(1);
    expect(await c.msetnx(b, 'x', cc, '3')).toBe(0);
    expect(await c.exists(cc)).toBe(0);
    expect(await c.get(b)).toBe('2');
    // The same key twice: the last value wins.
    expect(await c.msetnx(cc, '3', cc, '4')).toBe(1);
    expect(await c.get(cc)).toBe('4');
    // MSET clears TTLs.
    await c.expire(a, 100);
    await c.mset(a, '9');
    expect(await c.ttl(a)).toBe(-1);
  });
});

describe('APPEND / STRLEN / GETRANGE / SUBSTR / SETRANGE', () => {
  it('APPEND creates and grows; binary safe; keeps the TTL', async () => {
    const key = k('append');
    expect(await c.append(key, 'hello')).toBe(5);
    await c.expire(key, 100);
    expect(await c.append(key, B(' \x00\xff'))).toBe(8);
    expect(await c.append(key, '')).toBe(8);
    expect(await c.getBuffer(key)).toEqual(B('hello \x00\xff'));
    expect(await c.strlen(key)).toBe(8);
    expect(await c.ttl(key)).toBe(100);
    const l = k('list');
    await makeList(l);
    await expect(c.append(l, 'x')).rejects.toThrow(WRONGTYPE);
    await expect(c.strlen(l)).rejects.toThrow(WRONGTYPE);
    expect(await c.strlen(k('missing'))).toBe(0);
  });

  it('100k APPENDs of 10 bytes are amortized (linear, not quadratic)', async () => {
    const key = k('bigappend');
    const chunk = (i: number) => String(i).padStart(9, '0') + '|';
    const t0 = performance.now();
    for (let base = 0; base < 100_000; base += 10_000) {
      const p = c.pipeline();
      for (let i = base; i < base + 10_000; i++) p.append(key, chunk(i));
      const res = await p.exec();
      expect(res![res!.length - 1]).toEqual([null, (base + 10_000) * 10]);
    }
    const ms = performance.now() - t0;
    expect(await c.strlen(key)).toBe(1_000_000);
    expect(await c.getrange(key, 0, 19)).toBe('000000000|000000001|');
    expect(await c.getrange(key, -10, -1)).toBe('000099999|');
    expect((await c.get(key))!.length).toBe(1_000_000);
    // ~1 s here; copying the whole value on each APPEND moves ~50 GB (5+ s of memcpy alone).
    expect(ms).toBeLessThan(5_000);
  });

  it('GETRANGE / SUBSTR index rules', async () => {
    const key = k('range');
    await c.set(key, 'Hello World');
    expect(await c.getrange(key, 0, -1)).toBe('Hello World');
    expect(await c.getrange(key, -5, -1)).toBe('World');
    expect(await c.getrange(key, -1, -5)).toBe('');
    expect(await c.getrange(key, 5, 2)).toBe('');
    expect(await c.getrange(key, -100, 100)).toBe('Hello World');
    expect(await c.getrange(key, 10, 20)).toBe('d');
    expect(await c.getrange(key, 11, 20)).toBe('');
    expect(await c.call('GETRANGE', key, '0', '9223372036854775807')).toBe('Hello World');
    expect(await c.call('GETRANGE', key, '-9223372036854775807', '-9223372036854775808')).toBe('');
    expect(await c.call('SUBSTR', key, '0', '4')).toBe('Hello');
    expect(await c.getrange(k('missing'), 0, -1)).toBe('');
    await expect(c.call('GETRANGE', key, 'a', '1')).rejects.toThrow(NOT_INT);
    await expect(c.call('GETRANGE', k('missing'), 'a', 'b')).rejects.toThrow(NOT_INT);
    await expect(c.call('GETRANGE', key, '0', '9223372036854775808')).rejects.toThrow(NOT_INT);
    const l = k('list');
    await makeList(l);
    await expect(c.getrange(l, 0, 1)).rejects.toThrow(WRONGTYPE);
  });

  it('SETRANGE overwrites, zero-pads, and checks offset and type', async () => {
    const key = k('setrange');
    await c.set(key, 'Hello World');
    expect(await c.setrange(key, 6, 'Redis')).toBe(11);
    expect(await c.get(key)).toBe('Hello Redis');
    expect(await c.setrange(key, 13, B('\xff'))).toBe(14);
    expect(await c.getBuffer(key)).toEqual(B('Hello Redis\x00\x00\xff'));
    const fresh = k('fresh');
    expect(await c.setrange(fresh, 3, B('\x00\xff'))).toBe(5);
    expect(await c.getBuffer(fresh)).toEqual(B('\x00\x00\x00\x00\xff'));
    // An empty value changes nothing: 0 for a missing key, the length otherwise.
    const none = k('none');
    expect(await c.setrange(none, 100, '')).toBe(0);
    expect(await c.exists(none)).toBe(0);
    expect(await c.setrange(key, 1000, '')).toBe(14);
    await expect(c.setrange(key, -1, 'x')).rejects.toThrow('ERR offset is out of range');
    await expect(c.call('SETRANGE', key, 'abc', 'x')).rejects.toThrow(NOT_INT);
    const l = k('list');
    await makeList(l);
    await expect(c.setrange(l, 0, '')).rejects.toThrow(WRONGTYPE);
    await expect(c.setrange(l, -1, '')).rejects.toThrow('ERR offset is out of range');
  });

  it('mixing APPEND, SETRANGE and readers on the same value', async () => {
    const key = k('mix');
    await c.setrange(key, 0, 'abc');
    await c.append(key, 'def');
    await c.setrange(key, 1, 'ZZ');
    expect(await c.get(key)).toBe('aZZdef');
    expect(await c.setrange(key, 10, 'q')).toBe(11);
    expect(await c.getrange(key, -3, -1)).toBe('\x00\x00q');
    expect(await c.append(key, 'x')).toBe(12);
    expect(await c.lcs(key, key, 'LEN')).toBe(12);
    // A GET reply of a large mutable value is not affected by a later in-place write in the same pipeline.
    const big = k('bigmut');
    await c.setrange(big, 0, 'a'.repeat(10_000));
    const res = await c.pipeline().get(big).setrange(big, 0, 'b'.repeat(10_000)).get(big).exec();
    expect(res![0]![1]).toBe('a'.repeat(10_000));
    expect(res![2]![1]).toBe('b'.repeat(10_000));
  });
});

describe('string size limit (proto-max-bulk-len)', () => {
  let small: TestServer;
  let sc: Redis;
  beforeAll(async () => {
    small = await startTestServer({ 'proto-max-bulk-len': '1mb' });
    sc = small.client({ enableReadyCheck: false });
  });
  afterAll(async () => {
    await small.stop();
  });
  const TOO_BIG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';

  it('SETRANGE and APPEND refuse to build a string beyond the limit', async () => {
    expect(await sc.setrange('sr', 1024 * 1024 - 1, 'x')).toBe(1024 * 1024);
    await expect(sc.setrange('sr2', 1024 * 1024, 'x')).rejects.toThrow(TOO_BIG);
    await expect(sc.setrange('sr', 1024 * 1024 - 1, 'xy')).rejects.toThrow(TOO_BIG);
    await expect(sc.call('SETRANGE', 'sr', '9223372036854775807', 'x')).rejects.toThrow(TOO_BIG);
    await expect(sc.append('sr', 'x')).rejects.toThrow(TOO_BIG);
    expect(await sc.strlen('sr')).toBe(1024 * 1024);
    // Nothing to write: no check.
    expect(await sc.setrange('sr', 5 * 1024 * 1024, '')).toBe(1024 * 1024);
    expect(await sc.exists('sr2')).toBe(0);
  });

  it('LCS refuses when its table would exceed the limit', async () => {
    await sc.set('l1', 'a'.repeat(600));
    await sc.set('l2', 'a'.repeat(600));
    await expect(sc.call('LCS', 'l1', 'l2', 'LEN')).rejects.toThrow(
      'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len',
    );
    await sc.set('l2', 'a'.repeat(400));
    expect(await sc.call('LCS', 'l1', 'l2', 'LEN')).toBe(400);
  });
});

describe('INCR / DECR / INCRBY / DECRBY', () => {
  it('counts from a missing key and keeps the TTL', async () => {
    const key = k('incr');
    expect(await c.incr(key)).toBe(1);
    expect(await c.incrby(key, 10)).toBe(11);
    expect(await c.decr(key)).toBe(10);
    expect(await c.decrby(key, -5)).toBe(15);
    await c.expire(key, 100);
    expect(await c.incr(key)).toBe(16);
    expect(await c.ttl(key)).toBe(100);
    expect(await c.get(key)).toBe('16');
    expect(await c.decr(k('d'))).toBe(-1);
  });

  it('exact 64-bit arithmetic beyond 2^53 and overflow errors', async () => {
    const key = k('big');
    await c.set(key, '9007199254740991');
    expect(await c.call('INCR', key)).toBe(9007199254740992);
    expect(await c.get(key)).toBe('9007199254740992');
    await c.incr(key);
    expect(await c.get(key)).toBe('9007199254740993');
    await c.set(key, '9223372036854775806');
    await c.incr(key);
    expect(await c.get(key)).toBe('9223372036854775807');
    await expect(c.incr(key)).rejects.toThrow('ERR increment or decrement would overflow');
    await c.set(key, '-9223372036854775808');
    await expect(c.decr(key)).rejects.toThrow('ERR increment or decrement would overflow');
    await c.call('INCRBY', key, '9223372036854775807');
    expect(await c.get(key)).toBe('-1');
    const d = k('d');
    await c.call('DECRBY', d, '9223372036854775807');
    expect(await c.get(d)).toBe('-9223372036854775807');
    await expect(c.decrby(d, 2)).rejects.toThrow('ERR increment or decrement would overflow');
    await expect(c.call('DECRBY', d, '-9223372036854775808')).rejects.toThrow('ERR decrement would overflow');

    const n = await srv.nodeRedis(3);
    await n.sendCommand(['SET', key, '9223372036854775800']);
    expect(await n.sendCommand(['INCRBY', key, '7'])).toBe(9223372036854775807);
    expect(await n.sendCommand(['GET', key])).toBe('9223372036854775807');
  });

  it('rejects non-integer values and increments', async () => {
    const key = k('notint');
    for (const v of [' 1', '01', '1.0', '+1', '-0', '12345678901234567890', '']) {
      await c.set(key, v);
      await expect(c.incr(key)).rejects.toThrow(NOT_INT);
    }
    await expect(c.call('INCRBY', k('x'), 'abc')).rejects.toThrow(NOT_INT);
    await expect(c.call('INCRBY', k('x'), '9223372036854775808')).rejects.toThrow(NOT_INT);
    const l = k('list');
    await makeList(l);
    await expect(c.incr(l)).rejects.toThrow(WRONGTYPE);
    // The DECRBY overflow check comes before the type check.
    await expect(c.call('DECRBY', l, '-9223372036854775808')).rejects.toThrow('ERR decrement would overflow');
  });
});

describe('INCRBYFLOAT', () => {
  it('long double arithmetic and formatting', async () => {
    const key = k('float');
    await c.set(key, '10.50');
    expect(await c.incrbyfloat(key, '0.1')).toBe('10.6');
    expect(await c.incrbyfloat(key, '-5.0e3')).toBe('-4989.39999999999999991');
    await c.set(key, '5.0e3');
    expect(await c.incrbyfloat(key, '2.0e2')).toBe('5200');
    expect(await c.incrbyfloat(k('new'), '3.0')).toBe('3');
    expect(await c.incrbyfloat(k('hex'), '0x10')).toBe('16');
  });

  it('errors: not a float, NaN/Infinity, wrong type', async () => {
    const key = k('floaterr');
    await c.set(key, '1e308');
    await expect(c.incrbyfloat(key, 'inf')).rejects.toThrow('ERR increment would produce NaN or Infinity');
    await expect(c.incrbyfloat(key, 'abc')).rejects.toThrow('ERR value is not a valid float');
    await expect(c.incrbyfloat(key, 'nan')).rejects.toThrow('ERR value is not a valid float');
    await expect(c.incrbyfloat(key, ' 1')).rejects.toThrow('ERR value is not a valid float');
    await expect(c.incrbyfloat(key, '1e-5000')).rejects.toThrow('ERR value is not a valid float');
    await c.set(key, 'abc');
    await expect(c.incrbyfloat(key, '1')).rejects.toThrow('ERR value is not a valid float');
    const l = k('list');
    await makeList(l);
    await expect(c.incrbyfloat(l, '1')).rejects.toThrow(WRONGTYPE);
  });

  it('keeps the TTL and replies a bulk string in RESP3 too', async () => {
    const key = k('floatttl');
    await c.set(key, '3', 'EX', 100);
    expect(await c.incrbyfloat(key, '0.25')).toBe('3.25');
    expect(await c.ttl(key)).toBe(100);
    const n = await srv.nodeRedis(3);
    const r = await n.sendCommand(['INCRBYFLOAT', key, '1.5']);
    expect(r).toBe('4.75'); // a RESP3 double would come back as a number
    const n2 = await srv.nodeRedis(2);
    expect(await n2.sendCommand(['INCRBYFLOAT', key, '-0.75'])).toBe('4');
  });
});

describe('LCS', () => {
  it('string, LEN, IDX, MINMATCHLEN, WITHMATCHLEN (RESP2)', async () => {
    const [a, b] = [k('a'), k('b')];
    await c.mset(a, 'ohmytext', b, 'mynewtext');
    expect(await c.call('LCS', a, b)).toBe('mytext');
    expect(await c.call('LCS', a, b, 'LEN')).toBe(6);
    expect(await c.call('LCS', a, b, 'IDX')).toEqual([
      'matches',
      [
        [[4, 7], [5, 8]],
        [[2, 3], [0, 1]],
      ],
      'len',
      6,
    ]);
    expect(await c.call('LCS', a, b, 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN')).toEqual([
      'matches',
      [[[4, 7], [5, 8], 4]],
      'len',
      6,
    ]);
    expect(await c.call('LCS', a, b, 'MINMATCHLEN', '-5', 'IDX')).toEqual([
      'matches',
      [
        [[4, 7], [5, 8]],
        [[2, 3], [0, 1]],
      ],
      'len',
      6,
    ]);
    expect(await c.call('LCS', a, b, 'WITHMATCHLEN')).toBe('mytext');
    expect(await c.call('LCS', k('none'), a)).toBe('');
    expect(await c.call('LCS', k('none'), k('none'), 'IDX')).toEqual(['matches', [], 'len', 0]);
  });

  it('binary strings', async () => {
    const [a, b] = [k('a'), k('b')];
    await c.set(a, B('\x00\xffab\x00'));
    await c.set(b, B('\xff\x00ab'));
    expect(await c.callBuffer('LCS', a, b)).toEqual(B('\xffab'));
  });

  it('errors', async () => {
    const [a, b, l] = [k('a'), k('b'), k('l')];
    await c.mset(a, 'x', b, 'y');
    await makeList(l);
    await expect(c.call('LCS', a, b, 'LEN', 'IDX')).rejects.toThrow('ERR If you want both the length and indexes, please just use IDX.');
    await expect(c.call('LCS', a, b, 'foo')).rejects.toThrow(SYNTAX);
    await expect(c.call('LCS', a, b, 'LEN', 'IDX', 'foo')).rejects.toThrow(SYNTAX);
    await expect(c.call('LCS', a, b, 'MINMATCHLEN')).rejects.toThrow(SYNTAX);
    await expect(c.call('LCS', a, b, 'MINMATCHLEN', 'x')).rejects.toThrow(NOT_INT);
    await expect(c.call('LCS', a, l)).rejects.toThrow('ERR The specified keys must contain string values');
    await expect(c.call('LCS', l, a, 'foo')).rejects.toThrow('ERR The specified keys must contain string values');
  });

  it('IDX is a map in RESP3', async () => {
    const [a, b] = [k('a'), k('b')];
    await c.mset(a, 'ohmytext', b, 'mynewtext');
    const n = await srv.nodeRedis(3);
    const typeMapping = { [RESP_TYPES.MAP]: Map };
    const r = (await n.sendCommand(['LCS', a, b, 'IDX', 'WITHMATCHLEN'], { typeMapping })) as unknown as Map<string, unknown>;
    expect(r).toBeInstanceOf(Map);
    expect([...r.entries()]).toEqual([
      [
        'matches',
        [
          [[4, 7], [5, 8], 4],
          [[2, 3], [0, 1], 2],
        ],
      ],
      ['len', 6],
    ]);
  });
});

describe('propagation and keyspace events', () => {
  it('relative TTLs propagate as absolute times; GET and read-only outcomes are handled', async () => {
    const [a, b, d, f] = [k('a'), k('b'), k('d'), k('f')];
    const before = Date.now();
    const out = await propagated(async () => {
      await c.call('SET', a, '1', 'EX', '100');
      await c.call('SET', a, '2', 'GET', 'KEEPTTL', 'get');
      await c.setex(b, 100, 'x');
      await c.call('GETSET', a, '5');
      await c.call('GETEX', a, 'PX', '5000');
      await c.call('GETEX', a, 'PERSIST');
      await c.call('GETEX', a, 'PERSIST'); // no TTL to remove: nothing propagated
      await c.call('GETEX', a, 'PXAT', '1');
      await c.set(d, '1');
      await c.getdel(d);
      await c.getdel(d); // missing: nothing propagated
      await c.incrbyfloat(f, '1.5');
      await c.setnx(f, 'x'); // no write: nothing propagated
    });
    const ms = (s: string) => Number(s);
    expect(out[0]!.slice(0, 4)).toEqual(['SET', a, '1', 'PXAT']);
    expect(ms(out[0]![4]!)).toBeGreaterThanOrEqual(before + 100_000);
    expect(ms(out[0]![4]!)).toBeLessThan(Date.now() + 100_001);
    expect(out[1]).toEqual(['SET', a, '2', 'KEEPTTL']);
    expect(out[2]!.slice(0, 4)).toEqual(['SET', b, 'x', 'PXAT']);
    expect(out[3]).toEqual(['SET', a, '5']);
    expect(out[4]!.slice(0, 2)).toEqual(['PEXPIREAT', a]);
    expect(ms(out[4]![2]!)).toBeGreaterThanOrEqual(before + 5000);
    expect(out[5]).toEqual(['PERSIST', a]);
    expect(out[6]).toEqual(['DEL', a]);
    expect(out[7]).toEqual(['set', d, '1']);
    expect(out[8]).toEqual(['DEL', d]);
    expect(out[9]).toEqual(['SET', f, '1.5', 'KEEPTTL']);
    expect(out).toHaveLength(10);
  });

  it('fires Redis keyspace events', async () => {
    const sub = srv.client({ enableReadyCheck: false });
    const events: string[] = [];
    sub.on('pmessage', (_p: string, ch: string, key: string) => {
      if (key.startsWith('str:ev')) events.push(`${ch.slice('__keyevent@0__:'.length)} ${key.split(':')[1]}`);
    });
    await sub.psubscribe('__keyevent@0__:*');
    const key = 'str:ev:1';
    await c.call('SET', key, '1', 'EX', '100');
    await c.call('SET', key, '2', 'GET');
    await c.call('GETEX', key, 'EX', '10');
    await c.call('GETEX', key, 'PERSIST');
    await c.incr(key);
    await c.incrbyfloat(key, '1');
    await c.append(key, 'x');
    await c.setrange(key, 0, 'y');
    await c.setrange(key, 0, ''); // no change: no event
    await c.getdel(key);
    await c.mset(key, '1');
    await c.call('GETEX', key, 'PXAT', '1');
    await c.echo('sync');
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([
      'set ev',
      'expire ev',
      'set ev',
      'expire ev',
      'persist ev',
      'incrby ev',
      'incrbyfloat ev',
      'append ev',
      'setrange ev',
      'del ev',
      'set ev',
      'del ev',
    ]);
  });

  it('a write that changes nothing does not invalidate WATCH', async () => {
    const key = k('watch');
    await c.set(key, 'abc');
    const w = srv.client({ enableReadyCheck: false });
    await w.watch(key);
    await c.setrange(key, 1, '');
    await c.setnx(key, 'zzz');
    expect(await w.multi().get(key).exec()).toEqual([[null, 'abc']]);
    await w.watch(key);
    await c.append(key, '');
    expect(await w.multi().get(key).exec()).toBeNull();
  });
});
