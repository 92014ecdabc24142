/**
 * SORT and SORT_RO through real clients (ioredis RESP2, node-redis RESP3).
 * Expected replies, error texts, events and key specs were checked against
 * redis-server 7.0.15.
 */
import { describe, it, expect } from 'vitest';
import { serverForFile } from '../helpers/server.js';
import { NOT_INT, SYNTAX, WRONGTYPE } from '../helpers/expect.js';
import { waitUntil } from '../helpers/raw-client.js';

const { srv, c, eventsOf, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA' }, { eventLog: true });

let seq = 0;
/** A fresh key prefix per test, so that tests never see each other's data. */
const k = (name: string): string => `sort:${name}:${++seq}`;

const NOT_DOUBLE = "ERR One or more scores can't be converted into double";

const sort = (...args: (string | number)[]): Promise<unknown> => c.call('SORT', ...args.map(String));

describe('numeric sort', () => {
  it('sorts lists by the numeric value of the elements, ties by bytes', async () => {
    const l = k('l');
    await c.rpush(l, '3', '1', '2', '10', '1e1', ' 5', '0x10', '-inf', '+inf', '');
    expect(await sort(l)).toEqual(['-inf', '', '1', '2', '3', ' 5', '10', '1e1', '0x10', '+inf']);
    expect(await sort(l, 'DESC')).toEqual(['+inf', '0x10', '1e1', '10', ' 5', '3', '2', '1', '', '-inf']);
    expect(await sort(l, 'desc', 'asc')).toEqual(await sort(l));
  });

  it('accepts exactly what strtod reads completely without ERANGE or NaN', async () => {
    const ok = ['0x1p-1074', '2.2250738585072014e-308', '0e-500', '0x0p-5000', '1e308', '0x1.fffffffffffffp1023', ' 1', '\t7',
      '+5', '-0', '.5', '5.', 'infinity', '-INF', '', '3\x00garbage'];
    const bad = ['4.9406564584124654e-324', '2.2250738585072011e-308', '1e-400', '1.8e308', '0x1p1024', '1 ', '1e', '0x',
      'nan', 'nan(123)', '1_000', '7\n', ' ', 'abc'];
    for (const v of ok) {
      const l = k('ok');
      await c.rpush(l, v);
      expect(await sort(l), JSON.stringify(v)).toEqual([v]);
    }
    for (const v of bad) {
      const l = k('bad');
      await c.rpush(l, '1', v);
      await expect(sort(l), JSON.stringify(v)).rejects.toThrow(NOT_DOUBLE);
    }
  });

  it('an unreadable element fails even with LIMIT or STORE, and stores nothing', async () => {
    const l = k('l');
    const dst = k('dst');
    await c.rpush(l, '1', 'abc', '2');
    await c.set(dst, 'keep');
    await expect(sort(l, 'LIMIT', 0, 1)).rejects.toThrow(NOT_DOUBLE);
    await expect(sort(l, 'STORE', dst)).rejects.toThrow(NOT_DOUBLE);
    expect(await c.get(dst)).toBe('keep');
    // ALPHA and "don't sort" read no numbers.
    expect(await sort(l, 'ALPHA')).toEqual(['1', '2', 'abc']);
    expect(await sort(l, 'BY', 'nosort')).toEqual(['1', 'abc', '2']);
  });

  it('sorts sets (intset and hashtable) and sorted sets', async () => {
    const s = k('s');
    await c.sadd(s, '5', '3', '1', '10', '2');
    expect(await sort(s)).toEqual(['1', '2', '3', '5', '10']);
    await c.sadd(s, '1.5');
    expect(await sort(s, 'DESC')).toEqual(['10', '5', '3', '2', '1.5', '1']);
    const z = k('z');
    await c.zadd(z, 3, '30', 1, '-1', 2, '7');
    expect(await sort(z)).toEqual(['-1', '7', '30']);
  });
});

describe('ALPHA', () => {
  it('sorts by bytes', async () => {
    const l = k('l');
    await c.rpush(l, 'b', 'B', 'a', '10', '9', '\xff', '');
    expect(await sort(l, 'ALPHA')).toEqual(['', '10', '9', 'B', 'a', 'b', '\xff']);
    expect(await sort(l, 'ALPHA', 'DESC', 'LIMIT', 0, 3)).toEqual(['\xff', 'b', 'a']);
  });

  it('compares as C strings (up to a NUL) when replying, whole strings when storing', async () => {
    const l = k('nul');
    const dst = k('dst');
    await c.rpush(l, 'a\x00b', 'a\x00a', 'a');
    // Equal up to the NUL: the original order is kept (stable sort).
    expect(await sort(l, 'ALPHA')).toEqual(['a\x00b', 'a\x00a', 'a']);
    expect(await sort(l, 'ALPHA', 'STORE', dst)).toBe(3);
    expect(await c.lrange(dst, 0, -1)).toEqual(['a', 'a\x00a', 'a\x00b']);
  });
});

describe('LIMIT', () => {
  it('clamps offset and count like Redis', async () => {
    const l = k('l');
    await c.rpush(l, '6', '5', '4', '3', '2', '1');
    expect(await sort(l, 'LIMIT', 1, 3)).toEqual(['2', '3', '4']);
    expect(await sort(l, 'LIMIT', -5, 2)).toEqual(['1', '2']);
    expect(await sort(l, 'LIMIT', 2, -1)).toEqual(['3', '4', '5', '6']);
    expect(await sort(l, 'LIMIT', 0, 0)).toEqual([]);
    expect(await sort(l, 'LIMIT', 100, 2)).toEqual([]);
    expect(await sort(l, 'LIMIT', 5, '9223372036854775807')).toEqual(['6']);
    expect(await sort(l, 'LIMIT', 0, 1, 'LIMIT', 4, 10)).toEqual(['5', '6']);
    expect(await sort(k('none'), 'LIMIT', 0, 10)).toEqual([]);
  });

  it('rejects non-integers and a missing argument', async () => {
    const l = k('l');
    await c.rpush(l, '1');
    await expect(sort(l, 'LIMIT', 'a', 1)).rejects.toThrow(NOT_INT);
    await expect(sort(l, 'LIMIT', 1, '1.5')).rejects.toThrow(NOT_INT);
    await expect(sort(l, 'LIMIT', 1, '9223372036854775808')).rejects.toThrow(NOT_INT);
    await expect(sort(l, 'LIMIT', 1)).rejects.toThrow(SYNTAX);
  });
});

describe('BY', () => {
  it('weighs elements by string keys; missing (or non-string) keys weigh 0, ties broken by the element', async () => {
    const p = k('w');
    const l = k('l');
    await c.rpush(l, '3', '1', '2', '10', 'x');
    await c.mset(`${p}_3`, '30', `${p}_1`, '100', `${p}_2`, '-5', `${p}_10`, '7');
    await c.rpush(`${p}_x`, 'a list');
    expect(await sort(l, 'BY', `${p}_*`)).toEqual(['2', 'x', '10', '3', '1']);
    expect(await sort(l, 'BY', `${p}_*`, 'DESC')).toEqual(['1', '3', '10', 'x', '2']);
    await c.set(`${p}_10`, 'abc');
    await expect(sort(l, 'BY', `${p}_*`)).rejects.toThrow(NOT_DOUBLE);
  });

  it('reads hash fields with ->', async () => {
    const p = k('h');
    const l = k('l');
    await c.rpush(l, 'a', 'b', 'c');
    await c.hset(`${p}_a`, 'rank', '2', 'name', 'Ann');
    await c.hset(`${p}_b`, 'rank', '1');
    await c.set(`${p}_c`, '0');
    expect(await sort(l, 'BY', `${p}_*->rank`)).toEqual(['c', 'b', 'a']);
    expect(await sort(l, 'BY', `${p}_*->rank`, 'GET', `${p}_*->name`, 'GET', '#')).toEqual([null, 'c', null, 'b', 'Ann', 'a']);
    // "->" with nothing after it is part of the key name.
    await c.set(`${p}_a->`, '9');
    expect(await sort(l, 'BY', `${p}_*->`)).toEqual(['b', 'c', 'a']);
  });

  it('ALPHA with BY: missing weights first, equal weights keep the original order', async () => {
    const p = k('w');
    const l = k('l');
    await c.rpush(l, 'b', 'a', 'd', 'c');
    await c.mset(`${p}_a`, 'x', `${p}_b`, 'x', `${p}_c`, 'a');
    expect(await sort(l, 'BY', `${p}_*`, 'ALPHA')).toEqual(['d', 'c', 'b', 'a']);
    expect(await sort(l, 'BY', `${p}_*`, 'ALPHA', 'DESC')).toEqual(['b', 'a', 'c', 'd']);
  });

  it('a pattern without * does not sort: lists and sorted sets keep their order, LIMIT and DESC apply to it', async () => {
    const l = k('l');
    await c.rpush(l, '3', '1', '2', 'x', '5');
    expect(await sort(l, 'BY', 'nosort')).toEqual(['3', '1', '2', 'x', '5']);
    expect(await sort(l, 'BY', 'nosort', 'DESC')).toEqual(['5', 'x', '2', '1', '3']);
    expect(await sort(l, 'BY', 'nosort', 'LIMIT', 1, 2)).toEqual(['1', '2']);
    expect(await sort(l, 'BY', 'nosort', 'DESC', 'LIMIT', 1, 2)).toEqual(['x', '2']);
    expect(await sort(l, 'BY', 'nosort', 'DESC', 'LIMIT', 4, 10)).toEqual(['3']);
    expect(await sort(l, 'BY', '#')).toEqual(['3', '1', '2', 'x', '5']);
    // A BY without '*' anywhere disables sorting for good.
    expect(await sort(l, 'BY', 'nosort', 'BY', 'w_*')).toEqual(['3', '1', '2', 'x', '5']);

    const z = k('z');
    await c.zadd(z, 3, 'a', 1, 'b', 2, 'c', 5, 'd', 4, 'e');
    expect(await sort(z, 'BY', 'nosort')).toEqual(['b', 'c', 'a', 'e', 'd']);
    expect(await sort(z, 'BY', 'nosort', 'DESC')).toEqual(['d', 'e', 'a', 'c', 'b']);
    expect(await sort(z, 'BY', 'nosort', 'LIMIT', 1, 2)).toEqual(['c', 'a']);
    expect(await sort(z, 'BY', 'nosort', 'DESC', 'LIMIT', 1, 2)).toEqual(['e', 'a']);
    expect(await sort(z, 'BY', 'nosort', 'DESC', 'LIMIT', 4, 5)).toEqual(['b']);
    expect(await sort(z, 'BY', 'nosort', 'LIMIT', 5, 5)).toEqual([]);
  });

  it('a set with a constant BY comes in its own order, but is sorted ALPHA when stored', async () => {
    const s = k('s');
    const dst = k('dst');
    await c.sadd(s, '5', '3', '10');
    expect(await sort(s, 'BY', 'nosort')).toEqual(['3', '5', '10']); // an intset iterates in numeric order
    expect(await sort(s, 'BY', 'nosort', 'STORE', dst)).toBe(3);
    expect(await c.lrange(dst, 0, -1)).toEqual(['10', '3', '5']);
  });
});

describe('GET', () => {
  it('returns the designated values, # for the element, null for missing ones (RESP2 and RESP3)', async () => {
    const p = k('o');
    const l = k('l');
    await c.rpush(l, '2', '1', '3');
    await c.mset(`${p}_1`, 'one', `${p}_2`, 'two');
    await c.hset(`${p}h_3`, 'f', 'three');
    const argv = ['SORT', l, 'GET', '#', 'GET', `${p}_*`, 'GET', `${p}h_*->f`, 'GET', 'constant'];
    const want = ['1', 'one', null, null, '2', 'two', null, null, '3', null, 'three', null];
    expect(await c.call(argv[0]!, ...argv.slice(1))).toEqual(want);
    const n3 = await srv.nodeRedis(3);
    expect(await n3.sendCommand(argv)).toEqual(want);
    expect(await sort(l, 'GET', '#', 'LIMIT', 1, 1)).toEqual(['2']);
    expect(await sort(k('missing'), 'GET', '#')).toEqual([]);
  });
});

describe('STORE', () => {
  it('stores a list, replacing any value and its TTL, firing sortstore', async () => {
    const l = k('l');
    const dst = k('dst');
    await c.rpush(l, '2', '1');
    await c.set(dst, 'x', 'EX', 100);
    expect(await eventsOf(() => sort(l, 'STORE', dst))).toEqual([`sortstore ${dst}`]);
    expect(await c.type(dst)).toBe('list');
    expect(await c.ttl(dst)).toBe(-1);
    expect(await c.lrange(dst, 0, -1)).toEqual(['1', '2']);
    expect(await c.object('ENCODING', dst)).toBe('quicklist');
  });

  it('an empty result deletes the destination (del event only if it existed)', async () => {
    const l = k('l');
    const dst = k('dst');
    await c.rpush(l, '1');
    await c.set(dst, 'x');
    expect(await eventsOf(() => sort(l, 'LIMIT', 0, 0, 'STORE', dst))).toEqual([`del ${dst}`]);
    expect(await c.exists(dst)).toBe(0);
    expect(await eventsOf(() => sort(k('missing'), 'STORE', dst))).toEqual([]);
  });

  it('stores GET results, missing ones as empty strings, and counts them', async () => {
    const p = k('o');
    const l = k('l');
    const dst = k('dst');
    await c.rpush(l, '1', '2');
    await c.set(`${p}_1`, 'one');
    expect(await sort(l, 'GET', `${p}_*`, 'GET', '#', 'STORE', dst)).toBe(4);
    expect(await c.lrange(dst, 0, -1)).toEqual(['one', '1', '', '2']);
    // The last STORE wins.
    const d2 = k('d2');
    expect(await sort(l, 'STORE', dst, 'STORE', d2)).toBe(2);
    expect(await c.lrange(d2, 0, -1)).toEqual(['1', '2']);
  });

  it('can store into the sorted key itself', async () => {
    const l = k('l');
    await c.rpush(l, '3', '1', '2');
    expect(await sort(l, 'STORE', l)).toBe(3);
    expect(await c.lrange(l, 0, -1)).toEqual(['1', '2', '3']);
  });

  it('propagates only when it stores', async () => {
    const l = k('l');
    const dst = k('dst');
    await c.rpush(l, '1');
    expect(await propagated(() => sort(l))).toEqual([]);
    expect(await propagated(() => sort(l, 'STORE', dst))).toEqual([['SORT', l, 'STORE', dst]]);
  });

  it('wakes a client blocked on the destination', async () => {
    const l = k('l');
    const dst = k('dst');
    await c.rpush(l, 'b', 'a');
    const b = srv.client({ enableReadyCheck: false });
    const popped = b.blpop(dst, 5);
    await waitUntil(async () => String(await c.call('CLIENT', 'LIST')).includes('cmd=blpop'), 3000, 'blocked');
    expect(await sort(l, 'ALPHA', 'STORE', dst)).toBe(2);
    expect(await popped).toEqual([dst, 'a']);
    expect(await c.lrange(dst, 0, -1)).toEqual(['b']);
  });
});

describe('SORT_RO', () => {
  it('sorts like SORT but has no STORE', async () => {
    const l = k('l');
    await c.rpush(l, '2', '1');
    expect(await c.call('SORT_RO', l, 'DESC')).toEqual(['2', '1']);
    await expect(c.call('SORT_RO', l, 'STORE', k('dst'))).rejects.toThrow(SYNTAX);
  });

  it('is a read-only command with movable keys', async () => {
    const info = (await c.call('COMMAND', 'INFO', 'SORT_RO')) as unknown[][];
    expect(info[0]!.slice(0, 5)).toEqual(['sort_ro', -2, ['readonly', 'movablekeys'], 1, 1]);
    expect(info[0]![6]).toEqual(['@read', '@set', '@sortedset', '@list', '@slow', '@dangerous']);
  });
});

describe('sorted set encoding', () => {
  it('sorting a sorted set converts it to a skiplist for good', async () => {
    const z = k('z');
    await c.zadd(z, 1, 'a', 2, 'b');
    expect(await c.object('ENCODING', z)).toBe('listpack');
    expect(await c.call('SORT_RO', z, 'BY', 'nosort')).toEqual(['a', 'b']);
    expect(await c.object('ENCODING', z)).toBe('skiplist');
  });
});

describe('errors', () => {
  it('syntax errors come before WRONGTYPE, LIMIT integer errors before syntax errors', async () => {
    const str = k('str');
    await c.set(str, 'v');
    const l = k('l');
    await c.rpush(l, '1');
    await expect(sort(str)).rejects.toThrow(WRONGTYPE);
    await expect(sort(str, 'BY', 'nosort')).rejects.toThrow(WRONGTYPE);
    await expect(sort(str, 'foo')).rejects.toThrow(SYNTAX);
    await expect(sort(str, 'LIMIT', 'a', 'b')).rejects.toThrow(NOT_INT);
    await expect(sort(l, 'foo', 'LIMIT', 'a', 1)).rejects.toThrow(SYNTAX);
    await expect(sort(l, 'ALPHA', 'LIMIT', 'a', 1, 'foo')).rejects.toThrow(NOT_INT);
    for (const opt of ['BY', 'GET', 'STORE']) await expect(sort(l, opt)).rejects.toThrow(SYNTAX);
    const h = k('h');
    await c.hset(h, 'a', '1');
    await expect(sort(h)).rejects.toThrow(WRONGTYPE);
    await expect(c.call('SORT')).rejects.toThrow("ERR wrong number of arguments for 'sort' command");
  });
});

describe('COMMAND introspection', () => {
  it('GETKEYS finds the sorted key and the last STORE destination', async () => {
    const keys = (...argv: string[]) => c.call('COMMAND', 'GETKEYS', ...argv);
    expect(await keys('SORT', 'a', 'STORE', 'b', 'LIMIT', '0', '1', 'store', 'c', 'GET', 'x', 'BY', 'y')).toEqual(['a', 'c']);
    expect(await keys('SORT', 'a', 'LIMIT', 'store', '1', 'store', 'c')).toEqual(['a', 'c']);
    expect(await keys('SORT', 'a', 'GET', 'store', 'store', 'c')).toEqual(['a', 'c']);
    expect(await keys('SORT', 'a', 'STORE')).toEqual(['a']);
    expect(await keys('SORT_RO', 'a', 'BY', 'x')).toEqual(['a']);
    expect(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'SORT', 'a', 'STORE', 'b')).toEqual([['a', ['RO', 'access']], ['b', ['OW', 'update']]]);
  });

  it('COMMAND INFO shows Redis 7.0 flags, categories and key specs', async () => {
    const info = (await c.call('COMMAND', 'INFO', 'SORT')) as unknown[][];
    const e = info[0]!;
    expect(e.slice(0, 5)).toEqual(['sort', -2, ['write', 'denyoom', 'movablekeys'], 1, 1]);
    expect(e[6]).toEqual(['@write', '@set', '@sortedset', '@list', '@slow', '@dangerous']);
    const specs = e[8] as unknown[][];
    expect(specs).toHaveLength(3);
    expect(specs[2]).toEqual([
      'notes', "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
      'flags', ['OW', 'update'],
      'begin_search', ['type', 'unknown', 'spec', []],
      'find_keys', ['type', 'unknown', 'spec', []],
    ]);
  });
});
