/**
 * List commands through real clients (ioredis RESP2, node-redis RESP2/RESP3,
 * and a raw socket where the exact wire type matters). Expected replies,
 * error texts, keyspace events and propagated commands were checked against
 * redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { NOT_INT, SYNTAX, WRONGTYPE, err, eventsDuring, keyMaker, rawClient, propagated as propagatedBy } from '../helpers/expect.js';
import type { RawClient } from '../helpers/raw-client.js';

let srv: TestServer;
let c: Redis;

beforeAll(async () => {
  srv = await startTestServer({ 'notify-keyspace-events': 'KEA', 'enable-debug-command': 'yes' });
  c = srv.client({ enableReadyCheck: false });
});
afterAll(async () => {
  await srv.stop();
});

/** A fresh key name per use, so tests never see each other's data. */
const k = keyMaker('list');


const call = (...args: (string | number)[]) => c.call(...(args.map(String) as [string, ...string[]]));
const range = (key: string) => c.lrange(key, 0, -1);

/** Capture what the engine propagates (AOF / replicas) while `fn` runs. */
const propagated = (fn: () => Promise<unknown>): Promise<string[][]> => propagatedBy(srv, fn);

/** Keyspace events (keyevent channel only, as "event key") produced by fn. */
const events = (fn: () => Promise<unknown>): Promise<string[]> => eventsDuring(srv, c, fn);

/** A raw connection in the given protocol, for exact wire replies. */
const raw = (proto: 2 | 3): Promise<RawClient> => rawClient(srv, proto);

describe('LPUSH / RPUSH / LPUSHX / RPUSHX', () => {
  it('push at either end, variadic, returning the new length', async () => {
    const key = k('push');
    expect(await c.rpush(key, 'a', 'b')).toBe(2);
    expect(await c.lpush(key, 'x', 'y')).toBe(4);
    expect(await range(key)).toEqual(['y', 'x', 'a', 'b']);
    expect(await c.rpushx(key, 'z')).toBe(5);
    expect(await c.lpushx(key, 'w', 'v')).toBe(7);
    expect(await range(key)).toEqual(['v', 'w', 'y', 'x', 'a', 'b', 'z']);
  });

  it('the X forms do nothing on a missing key', async () => {
    const key = k('pushx');
    expect(await c.lpushx(key, 'a')).toBe(0);
    expect(await c.rpushx(key, 'a')).toBe(0);
    expect(await c.exists(key)).toBe(0);
  });

  it('is binary safe', async () => {
    const key = k('bin');
    const v = Buffer.from([0, 255, 13, 10, 128]);
    await c.rpush(key, v, '');
    expect(await c.lrangeBuffer(key, 0, -1)).toEqual([v, Buffer.alloc(0)]);
  });

  it('errors: arity and wrong type', async () => {
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(call('LPUSH', s))).toBe("ERR wrong number of arguments for 'lpush' command");
    expect(await err(c.lpush(s, 'a'))).toBe(WRONGTYPE);
    expect(await err(c.rpushx(s, 'a'))).toBe(WRONGTYPE);
  });

  it('keeps the TTL of an existing list', async () => {
    const key = k('ttl');
    await c.rpush(key, 'a');
    await c.expire(key, 100);
    await c.rpush(key, 'b');
    await c.lpop(key);
    expect(await c.ttl(key)).toBeGreaterThan(90);
  });
});

describe('LPOP / RPOP', () => {
  it('pop one or COUNT elements; an emptied list is deleted', async () => {
    const key = k('pop');
    await c.rpush(key, 'a', 'b', 'c', 'd', 'e');
    expect(await c.lpop(key)).toBe('a');
    expect(await c.rpop(key)).toBe('e');
    expect(await call('LPOP', key, 2)).toEqual(['b', 'c']);
    expect(await call('RPOP', key, 0)).toEqual([]);
    expect(await call('RPOP', key, 10)).toEqual(['d']);
    expect(await c.exists(key)).toBe(0);
  });

  it('null and empty replies on the wire, RESP2 and RESP3, as Redis 7.0', async () => {
    const key = k('wire');
    await c.rpush(key, 'a');
    const cases: [string[], string, string][] = [
      [['LPOP', 'list:nokey'], '$-1\r\n', '_\r\n'],
      [['RPOP', 'list:nokey', '2'], '*-1\r\n', '_\r\n'],
      [['LPOP', 'list:nokey', '0'], '*-1\r\n', '_\r\n'],
      [['LPOP', key, '0'], '*0\r\n', '*0\r\n'],
    ];
    for (const proto of [2, 3] as const) {
      const r = await raw(proto);
      for (const [argv, r2, r3] of cases) expect(await r.call(argv, proto === 2 ? r2 : r3)).toBe(proto === 2 ? r2 : r3);
      r.close();
    }
  });

  it('errors', async () => {
    const key = k('poperr');
    await c.rpush(key, 'a');
    expect(await err(call('LPOP', key, -1))).toBe('ERR value is out of range, must be positive');
    expect(await err(call('RPOP', key, 'x'))).toBe('ERR value is out of range, must be positive');
    expect(await err(call('LPOP', key, 1, 2))).toBe("ERR wrong number of arguments for 'lpop' command");
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.lpop(s))).toBe(WRONGTYPE);
    expect(await err(call('RPOP', s, 2))).toBe(WRONGTYPE);
  });
});

describe('LLEN / LRANGE / LINDEX', () => {
  it('length, ranges with negative and out-of-range indexes', async () => {
    const key = k('range');
    await c.rpush(key, 'a', 'b', 'c', 'd');
    expect(await c.llen(key)).toBe(4);
    expect(await c.llen(k('none'))).toBe(0);
    expect(await c.lrange(key, 1, 2)).toEqual(['b', 'c']);
    expect(await c.lrange(key, -2, -1)).toEqual(['c', 'd']);
    expect(await c.lrange(key, -100, 100)).toEqual(['a', 'b', 'c', 'd']);
    expect(await c.lrange(key, 3, 1)).toEqual([]);
    expect(await c.lrange(key, 4, 10)).toEqual([]);
    expect(await c.lrange(k('none'), 0, -1)).toEqual([]);
    expect(await err(c.lrange(key, 'x' as unknown as number, 1))).toBe(NOT_INT);
    expect(await c.lindex(key, 0)).toBe('a');
    expect(await c.lindex(key, -1)).toBe('d');
    expect(await c.lindex(key, 4)).toBeNull();
    expect(await c.lindex(key, -5)).toBeNull();
    expect(await err(call('LINDEX', key, 'x'))).toBe(NOT_INT);
    // The key is looked up before the index is parsed.
    expect(await call('LINDEX', k('none'), 'x')).toBeNull();
  });

  it('wrong type', async () => {
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.llen(s))).toBe(WRONGTYPE);
    expect(await err(c.lrange(s, 0, -1))).toBe(WRONGTYPE);
    expect(await err(c.lindex(s, 0))).toBe(WRONGTYPE);
  });

  it('reads count keyspace hits and misses', async () => {
    const key = k('stats');
    await c.rpush(key, 'a');
    const before = srv.engine.stats.keyspace.hits;
    const missesBefore = srv.engine.stats.keyspace.misses;
    await c.llen(key);
    await c.lrange(key, 0, -1);
    await c.lindex(k('none'), 0);
    expect(srv.engine.stats.keyspace.hits - before).toBe(2);
    expect(srv.engine.stats.keyspace.misses - missesBefore).toBe(1);
  });
});

describe('LSET / LINSERT / LREM / LTRIM', () => {
  it('LSET replaces by index, with Redis errors', async () => {
    const key = k('lset');
    await c.rpush(key, 'a', 'b', 'c');
    expect(await c.lset(key, 0, 'A')).toBe('OK');
    expect(await c.lset(key, -1, 'C')).toBe('OK');
    expect(await range(key)).toEqual(['A', 'b', 'C']);
    expect(await err(c.lset(key, 3, 'x'))).toBe('ERR index out of range');
    expect(await err(c.lset(key, -4, 'x'))).toBe('ERR index out of range');
    expect(await err(c.lset(k('none'), 0, 'x'))).toBe('ERR no such key');
    expect(await err(call('LSET', key, 'x', 'y'))).toBe(NOT_INT);
  });

  it('LINSERT before/after the first pivot; 0 on a missing key, -1 without pivot', async () => {
    const key = k('linsert');
    await c.rpush(key, 'a', 'b', 'a');
    expect(await c.linsert(key, 'BEFORE', 'a', 'x')).toBe(4);
    expect(await call('LINSERT', key, 'after', 'b', 'y')).toBe(5);
    expect(await range(key)).toEqual(['x', 'a', 'b', 'y', 'a']);
    expect(await c.linsert(key, 'AFTER', 'zz', 'q')).toBe(-1);
    expect(await c.linsert(k('none'), 'AFTER', 'a', 'q')).toBe(0);
    expect(await err(call('LINSERT', key, 'MIDDLE', 'a', 'q'))).toBe(SYNTAX);
  });

  it('LREM from the head, the tail, or all', async () => {
    const key = k('lrem');
    await c.rpush(key, 'a', 'b', 'a', 'c', 'a', 'b', 'a');
    expect(await c.lrem(key, 2, 'a')).toBe(2);
    expect(await range(key)).toEqual(['b', 'c', 'a', 'b', 'a']);
    expect(await c.lrem(key, -1, 'b')).toBe(1);
    expect(await range(key)).toEqual(['b', 'c', 'a', 'a']);
    expect(await c.lrem(key, 0, 'a')).toBe(2);
    expect(await c.lrem(key, 0, 'zz')).toBe(0);
    expect(await c.lrem(k('none'), 0, 'a')).toBe(0);
    expect(await err(call('LREM', key, 'x', 'a'))).toBe(NOT_INT);
    expect(await c.lrem(key, 0, 'b')).toBe(1);
    expect(await c.lrem(key, 0, 'c')).toBe(1);
    expect(await c.exists(key)).toBe(0);
  });

  it('LTRIM keeps a range; an empty range deletes the key', async () => {
    const key = k('ltrim');
    await c.rpush(key, 'a', 'b', 'c', 'd', 'e');
    expect(await c.ltrim(key, 1, -2)).toBe('OK');
    expect(await range(key)).toEqual(['b', 'c', 'd']);
    expect(await c.ltrim(key, -100, 100)).toBe('OK');
    expect(await range(key)).toEqual(['b', 'c', 'd']);
    expect(await c.ltrim(key, 5, 10)).toBe('OK');
    expect(await c.exists(key)).toBe(0);
    expect(await c.ltrim(k('none'), 0, 1)).toBe('OK');
    expect(await err(call('LTRIM', key, 0, 'x'))).toBe(NOT_INT);
  });

  it('wrong type', async () => {
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.lset(s, 0, 'a'))).toBe(WRONGTYPE);
    expect(await err(c.linsert(s, 'BEFORE', 'a', 'b'))).toBe(WRONGTYPE);
    expect(await err(c.lrem(s, 0, 'a'))).toBe(WRONGTYPE);
    expect(await err(c.ltrim(s, 0, 1))).toBe(WRONGTYPE);
  });
});

describe('LPOS', () => {
  it('RANK, COUNT and MAXLEN', async () => {
    const key = k('lpos');
    await c.rpush(key, 'a', 'b', 'c', 'a', 'b', 'c', 'a');
    expect(await call('LPOS', key, 'a')).toBe(0);
    expect(await call('LPOS', key, 'c')).toBe(2);
    expect(await call('LPOS', key, 'zz')).toBeNull();
    expect(await call('LPOS', key, 'a', 'RANK', 2)).toBe(3);
    expect(await call('LPOS', key, 'a', 'RANK', -1)).toBe(6);
    expect(await call('LPOS', key, 'a', 'RANK', -3)).toBe(0);
    expect(await call('LPOS', key, 'a', 'RANK', 4)).toBeNull();
    expect(await call('LPOS', key, 'a', 'COUNT', 0)).toEqual([0, 3, 6]);
    expect(await call('LPOS', key, 'a', 'COUNT', 2)).toEqual([0, 3]);
    expect(await call('LPOS', key, 'a', 'COUNT', 2, 'RANK', -1)).toEqual([6, 3]);
    expect(await call('LPOS', key, 'a', 'COUNT', 0, 'MAXLEN', 4)).toEqual([0, 3]);
    expect(await call('LPOS', key, 'c', 'RANK', -1, 'MAXLEN', 1)).toBeNull();
    expect(await call('LPOS', key, 'zz', 'COUNT', 1)).toEqual([]);
    expect(await call('LPOS', k('none'), 'a')).toBeNull();
    expect(await call('LPOS', k('none'), 'a', 'COUNT', 0)).toEqual([]);
    // The last RANK wins.
    expect(await call('LPOS', key, 'a', 'RANK', 2, 'RANK', 1)).toBe(0);
    // RANK -2^63: Redis's wrapped arithmetic makes it rank -1 with COUNT ignored.
    expect(await call('LPOS', key, 'a', 'RANK', '-9223372036854775808')).toBe(6);
    expect(await call('LPOS', key, 'a', 'RANK', '-9223372036854775808', 'COUNT', 1)).toEqual([6, 3, 0]);
  });

  it('exact error texts, option errors before the type check', async () => {
    const key = k('lposerr');
    await c.rpush(key, 'a');
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(call('LPOS', s, 'a', 'RANK', 0))).toBe(
      "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
    );
    expect(await err(call('LPOS', key, 'a', 'COUNT', -1))).toBe("ERR COUNT can't be negative");
    expect(await err(call('LPOS', key, 'a', 'COUNT', 'x'))).toBe("ERR COUNT can't be negative");
    expect(await err(call('LPOS', key, 'a', 'MAXLEN', -1))).toBe("ERR MAXLEN can't be negative");
    expect(await err(call('LPOS', key, 'a', 'MAXLEN', 'x'))).toBe("ERR MAXLEN can't be negative");
    expect(await err(call('LPOS', key, 'a', 'RANK', 'x'))).toBe(NOT_INT);
    expect(await err(call('LPOS', key, 'a', 'RANK'))).toBe(SYNTAX);
    expect(await err(call('LPOS', key, 'a', 'FOO', 1))).toBe(SYNTAX);
    expect(await err(call('LPOS', s, 'a'))).toBe(WRONGTYPE);
  });

  it('RESP3 through node-redis', async () => {
    const key = k('lpos3');
    await c.rpush(key, 'a', 'b', 'a');
    const r3 = await srv.nodeRedis(3);
    expect(await r3.sendCommand(['LPOS', key, 'a', 'COUNT', '0'])).toEqual([0, 2]);
    expect(await r3.sendCommand(['LPOS', key, 'zz'])).toBeNull();
  });
});

describe('LMOVE / RPOPLPUSH', () => {
  it('moves between every pair of ends', async () => {
    const cases: [string, string, string[], string[]][] = [
      ['LEFT', 'LEFT', ['b', 'c'], ['a', 'x']],
      ['LEFT', 'RIGHT', ['b', 'c'], ['x', 'a']],
      ['RIGHT', 'LEFT', ['a', 'b'], ['c', 'x']],
      ['RIGHT', 'RIGHT', ['a', 'b'], ['x', 'c']],
    ];
    for (const [from, to, src, dst] of cases) {
      const a = k('src');
      const b = k('dst');
      await c.rpush(a, 'a', 'b', 'c');
      await c.rpush(b, 'x');
      expect(await call('LMOVE', a, b, from, to.toLowerCase())).toBe(from === 'LEFT' ? 'a' : 'c');
      expect(await range(a)).toEqual(src);
      expect(await range(b)).toEqual(dst);
    }
  });

  it('creates the destination, deletes an emptied source, rotates a list onto itself', async () => {
    const a = k('src');
    const b = k('dst');
    await c.rpush(a, 'only');
    expect(await c.rpoplpush(a, b)).toBe('only');
    expect(await c.exists(a)).toBe(0);
    expect(await range(b)).toEqual(['only']);
    // A single-element list moved onto itself stays.
    expect(await c.lmove(b, b, 'LEFT', 'RIGHT')).toBe('only');
    expect(await range(b)).toEqual(['only']);
    await c.rpush(b, 'two', 'three');
    expect(await c.rpoplpush(b, b)).toBe('three');
    expect(await range(b)).toEqual(['three', 'only', 'two']);
  });

  it('missing source: null (the destination type is not checked); errors', async () => {
    const s = k('str');
    await c.set(s, 'x');
    expect(await c.lmove(k('none'), s, 'LEFT', 'LEFT')).toBeNull();
    expect(await c.rpoplpush(k('none'), s)).toBeNull();
    const a = k('src');
    await c.rpush(a, 'v');
    expect(await err(c.lmove(a, s, 'LEFT', 'LEFT'))).toBe(WRONGTYPE);
    expect(await range(a)).toEqual(['v']);
    expect(await err(c.rpoplpush(s, a))).toBe(WRONGTYPE);
    expect(await err(call('LMOVE', a, s, 'UP', 'LEFT'))).toBe(SYNTAX);
    expect(await err(call('LMOVE', a, a, 'LEFT', 'DOWN'))).toBe(SYNTAX);
    const r3 = await raw(3);
    expect(await r3.call(['LMOVE', 'list:nokey', 'x', 'LEFT', 'LEFT'], '_\r\n')).toBe('_\r\n');
    r3.close();
  });
});

describe('LMPOP', () => {
  it('pops from the first non-empty list, reply [key, elements]', async () => {
    const a = k('a');
    const b = k('b');
    await c.rpush(b, '1', '2', '3');
    expect(await call('LMPOP', 2, a, b, 'LEFT')).toEqual([b, ['1']]);
    expect(await call('LMPOP', 2, a, b, 'RIGHT', 'COUNT', 10)).toEqual([b, ['3', '2']]);
    expect(await c.exists(b)).toBe(0);
    expect(await call('LMPOP', 2, a, b, 'LEFT')).toBeNull();
  });

  it('a wrong-type key is an error only when reached', async () => {
    const a = k('a');
    const s = k('str');
    await c.set(s, 'x');
    await c.rpush(a, 'v');
    expect(await call('LMPOP', 2, a, s, 'LEFT')).toEqual([a, ['v']]);
    expect(await err(call('LMPOP', 2, a, s, 'LEFT'))).toBe(WRONGTYPE);
  });

  it('argument errors', async () => {
    const a = k('a');
    await c.rpush(a, 'v');
    const numkeys = 'ERR numkeys should be greater than 0';
    const count = 'ERR count should be greater than 0';
    expect(await err(call('LMPOP', 0, a, 'LEFT'))).toBe(numkeys);
    expect(await err(call('LMPOP', 'x', a, 'LEFT'))).toBe(numkeys);
    expect(await err(call('LMPOP', 3, a, 'LEFT'))).toBe(SYNTAX);
    expect(await err(call('LMPOP', 1, a, 'MIDDLE'))).toBe(SYNTAX);
    expect(await err(call('LMPOP', 1, a, 'LEFT', 'COUNT', 0))).toBe(count);
    expect(await err(call('LMPOP', 1, a, 'LEFT', 'COUNT', 'x'))).toBe(count);
    expect(await err(call('LMPOP', 1, a, 'LEFT', 'COUNT'))).toBe(SYNTAX);
    expect(await err(call('LMPOP', 1, a, 'LEFT', 'COUNT', 1, 'COUNT', 1))).toBe(SYNTAX);
    expect(await err(call('LMPOP', 1, a))).toBe("ERR wrong number of arguments for 'lmpop' command");
  });

  it('propagates as LPOP/RPOP key <popped count>', async () => {
    const a = k('a');
    await c.rpush(a, '1', '2', '3');
    const p = await propagated(async () => {
      await call('LMPOP', 1, a, 'RIGHT', 'COUNT', 10);
      await call('LMPOP', 1, a, 'RIGHT');
    });
    expect(p).toEqual([['RPOP', a, '3']]);
  });

  it('RESP3 null when nothing to pop', async () => {
    const r3 = await raw(3);
    expect(await r3.call(['LMPOP', '1', 'list:nokey', 'LEFT'], '_\r\n')).toBe('_\r\n');
    r3.close();
    const r2 = await raw(2);
    expect(await r2.call(['LMPOP', '1', 'list:nokey', 'LEFT'], '*-1\r\n')).toBe('*-1\r\n');
    r2.close();
  });
});

describe('keyspace events, propagation, WATCH', () => {
  it('fire the events redis-server fires, in its order', async () => {
    const a = k('ev');
    const b = k('ev');
    expect(
      await events(async () => {
        await c.rpush(a, '1', '2', '3');
        await c.lmove(a, b, 'LEFT', 'RIGHT');
        await c.lset(a, 0, 'x');
        await c.linsert(a, 'BEFORE', 'x', 'w');
        await c.linsert(a, 'BEFORE', 'zz', 'w');
        await c.lrem(a, 0, 'zz');
        await c.lrem(a, 0, 'w');
        await c.ltrim(a, 0, -1);
        await c.lpushx(k('none'), 'x');
        await call('LPOP', a, 0);
        await c.rpoplpush(a, b);
        await call('RPOP', b, 5);
      }),
    ).toEqual([
      `rpush ${a}`,
      `rpush ${b}`, // LMOVE: push on the destination first
      `lpop ${a}`,
      `lset ${a}`,
      `linsert ${a}`,
      `lrem ${a}`,
      `ltrim ${a}`, // even when nothing is trimmed
      `lpush ${b}`,
      `rpop ${a}`,
      `rpop ${b}`,
      `del ${b}`,
    ]);
  });

  it('propagates writes as sent, and nothing for no-ops', async () => {
    const a = k('prop');
    const p = await propagated(async () => {
      await c.rpush(a, '1', '2');
      await c.lrem(a, 0, 'zz');
      await c.linsert(a, 'BEFORE', 'zz', 'x');
      await call('LPOP', a, 0);
      await c.ltrim(a, 0, -1);
      await c.lmove(a, a, 'LEFT', 'RIGHT');
      await call('LPOP', a, 5);
    });
    expect(p).toEqual([
      ['rpush', a, '1', '2'],
      ['lmove', a, a, 'LEFT', 'RIGHT'],
      ['LPOP', a, '5'],
    ]);
  });

  it('WATCH is invalidated by writes, even a no-op LTRIM, but not by failed ones', async () => {
    const other = srv.client({ enableReadyCheck: false });
    const cases: [string[], boolean][] = [
      [['LTRIM', '$', '0', '-1'], true],
      [['LSET', '$', '0', 'a'], true],
      [['LPUSHX', '$', 'b'], true],
      [['LREM', '$', '0', 'zz'], false],
      [['LINSERT', '$', 'BEFORE', 'zz', 'q'], false],
      [['LPOP', '$', '0'], false],
    ];
    for (const [argv, aborts] of cases) {
      const key = k('watch');
      await c.rpush(key, 'a', 'b');
      const w = srv.client({ enableReadyCheck: false });
      await w.watch(key);
      await other.call(argv[0]!, ...argv.slice(1).map((x) => (x === '$' ? key : x)));
      const res = await w.multi().ping().exec();
      expect(res === null).toBe(aborts);
      w.disconnect();
    }
  });
});

describe('generic commands on lists', () => {
  it('TYPE, OBJECT ENCODING, SCAN TYPE, COPY, RENAME, DEBUG DIGEST-VALUE', async () => {
    const a = k('gen');
    await c.rpush(a, 'a', 'b', 'c');
    expect(await c.type(a)).toBe('list');
    expect(await c.object('ENCODING', a)).toBe('quicklist');
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = (await c.call('SCAN', cursor, 'MATCH', 'list:gen:*', 'TYPE', 'list', 'COUNT', '1000')) as [string, string[]];
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    expect(found).toContain(a);

    const b = k('copy');
    expect(await c.copy(a, b)).toBe(1);
    const digest = await call('DEBUG', 'DIGEST-VALUE', a);
    expect(await call('DEBUG', 'DIGEST-VALUE', b)).toEqual(digest);
    await c.rpush(b, 'd');
    expect(await range(a)).toEqual(['a', 'b', 'c']);
    expect(await range(b)).toEqual(['a', 'b', 'c', 'd']);
    expect(await call('DEBUG', 'DIGEST-VALUE', b)).not.toEqual(digest);

    const r = k('renamed');
    await c.rename(b, r);
    expect(await range(r)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('an expired list is gone for list commands', async () => {
    const a = k('exp');
    await c.rpush(a, 'a');
    await c.pexpire(a, 20);
    await new Promise((r) => setTimeout(r, 40));
    expect(await c.llen(a)).toBe(0);
    expect(await c.rpushx(a, 'b')).toBe(0);
    expect(await c.lpush(a, 'n')).toBe(1);
    expect(await c.ttl(a)).toBe(-1);
  });

  it('COMMAND INFO / GETKEYS for the movable-key LMPOP', async () => {
    const info = (await call('COMMAND', 'INFO', 'lmpop')) as unknown[][];
    expect(info[0]!.slice(0, 6)).toEqual(['lmpop', -4, ['write', 'movablekeys'], 0, 0, 0]);
    expect(await call('COMMAND', 'GETKEYS', 'LMPOP', 2, 'a', 'b', 'LEFT')).toEqual(['a', 'b']);
    expect(await call('COMMAND', 'GETKEYS', 'BLMPOP', 0, 2, 'a', 'b', 'LEFT')).toEqual(['a', 'b']);
    expect(await call('COMMAND', 'GETKEYS', 'BLPOP', 'a', 'b', 0)).toEqual(['a', 'b']);
    expect(await err(call('COMMAND', 'GETKEYS', 'LMPOP', 0, 'a', 'LEFT'))).toBe('ERR Invalid arguments specified for command');
    const lmove = (await call('COMMAND', 'INFO', 'lmove')) as unknown[][];
    expect(lmove[0]!.slice(0, 6)).toEqual(['lmove', 5, ['write', 'denyoom'], 1, 2, 1]);
  });
});

describe('node-redis, RESP2 and RESP3', () => {
  it('every list command gives the same parsed replies in both protocols', async () => {
    for (const proto of [2, 3] as const) {
      const r = await srv.nodeRedis(proto);
      const a = k(`nr${proto}`);
      const b = k(`nr${proto}`);
      const none = k('none');
      const table: [string[], unknown][] = [
        [['RPUSH', a, 'a', 'b', 'c'], 3],
        [['LPUSH', a, 'z'], 4],
        [['RPUSHX', none, 'x'], 0],
        [['LPUSHX', a, 'y'], 5],
        [['LLEN', a], 5],
        [['LRANGE', a, '0', '-1'], ['y', 'z', 'a', 'b', 'c']],
        [['LINDEX', a, '-1'], 'c'],
        [['LINDEX', a, '10'], null],
        [['LSET', a, '0', 'Y'], 'OK'],
        [['LINSERT', a, 'AFTER', 'Y', 'x'], 6],
        [['LREM', a, '1', 'x'], 1],
        [['LPOS', a, 'a'], 2],
        [['LPOS', a, 'q', 'COUNT', '0'], []],
        [['LPOS', none, 'a'], null],
        [['LTRIM', a, '0', '3'], 'OK'],
        [['LMOVE', a, b, 'LEFT', 'RIGHT'], 'Y'],
        [['RPOPLPUSH', a, b], 'b'],
        [['LMOVE', none, b, 'LEFT', 'RIGHT'], null],
        [['LPOP', a], 'z'],
        [['RPOP', b, '5'], ['Y', 'b']],
        [['LPOP', none], null],
        [['LPOP', none, '1'], null],
        [['LPOP', a, '0'], []],
        [['LMPOP', '2', none, a, 'LEFT', 'COUNT', '3'], [a, ['a']]],
        [['LMPOP', '1', a, 'LEFT'], null],
        [['RPUSH', a, '1', '2'], 2],
        [['BLPOP', none, a, '0'], [a, '1']],
        [['BRPOP', a, '0'], [a, '2']],
        [['BLPOP', a, '0.01'], null],
        [['RPUSH', a, '1', '2'], 2],
        [['BLMOVE', a, b, 'RIGHT', 'LEFT', '0'], '2'],
        [['BRPOPLPUSH', a, b, '0'], '1'],
        [['BRPOPLPUSH', a, b, '0.01'], null],
        [['BLMPOP', '0', '1', b, 'RIGHT', 'COUNT', '9'], [b, ['2', '1']]],
        [['BLMPOP', '0.01', '1', b, 'RIGHT'], null],
      ];
      for (const [argv, expected] of table) {
        expect({ proto, argv, reply: await r.sendCommand(argv) }).toEqual({ proto, argv, reply: expected });
      }
      await expect(r.sendCommand(['LSET', none, '0', 'x'])).rejects.toThrow('ERR no such key');
    }
  });
});
