/**
 * Differential test for Redis 7.0 functions: the same FUNCTION / FCALL
 * commands go to a real redis-server 7.0 and to the built cacheside (RESP2
 * and RESP3) and every reply is compared exactly; then FUNCTION DUMP payloads
 * and dump.rdb files with libraries go from each server to the other.
 *
 * Libraries in LIST cases hold one function each (Redis lists a library's
 * functions in hash-table order).
 *
 * Needs `npm run build` and redis-server on PATH.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawClient, type RespValue } from './harness.js';
import { expectSameReplies, serverPair } from './differential.js';

const lib = (name: string, body: string): string => `#!lua name=${name}\n${body}`;
const one = (lname: string, fname: string, body: string): string => lib(lname, `redis.register_function('${fname}', function(keys, args)\n ${body} \nend)`);

const CASES: string[][] = [
  ['FUNCTION', 'LOAD', one('mylib', 'f1', 'return {keys[1], args[1], #keys, #args}')],
  ['FCALL', 'f1', '2', 'ka', 'kb', 'aa'],
  ['FCALL', 'F1', '1', 'ka', 'aa'],
  ['FUNCTION', 'LOAD', one('MYLIB', 'f2', 'return 2')],
  ['FUNCTION', 'LOAD', one('lib3', 'F1', 'return 3')],
  ['FUNCTION', 'LOAD', one('mylib', 'f9', 'return 3')],
  ['FUNCTION', 'LOAD', 'REPLACE', one('mylib', 'f1', "return 'replaced'")],
  ['FCALL', 'f1', '0'],
  ['FUNCTION', 'LOAD', 'foo', one('x', 'x', 'return 1')],
  ['FUNCTION', 'LOAD', 'REPLACE', one('mylib', 'f1', 'return (')],
  ['FUNCTION', 'LOAD', "#! name=q\nredis.register_function('q', function() return 1 end)"],
  ['FUNCTION', 'LOAD', "#!lua name=q foo=bar\nredis.register_function('q', function() return 1 end)"],
  ['FUNCTION', 'LOAD', "#!lua name=q name=r\nredis.register_function('q', function() return 1 end)"],
  ['FUNCTION', 'LOAD', '#!lua "name=q\nreturn 1'],
  ['FUNCTION', 'LOAD', "#!lua name=\"quoted\"\nredis.register_function('q', function() return 1 end)"],
  ['FUNCTION', 'LOAD', "#!lua name=a-b\nredis.register_function('q', function() return 1 end)"],
  ['FUNCTION', 'LOAD', '#!lua'],
  ['FUNCTION', 'LOAD', 'return 1'],
  ['FUNCTION', 'LOAD', lib('l', 'return 1')],
  ['FUNCTION', 'LOAD', lib('l', 'return math.random()')],
  ['FUNCTION', 'LOAD', lib('l', "\n\nreturn redis.call('ping')")],
  ['FUNCTION', 'LOAD', lib('l', 'redis.setresp(3)')],
  ['FUNCTION', 'LOAD', lib('l', 'a = 1')],
  ['FUNCTION', 'LOAD', lib('l', 'redis.foo = 1')],
  ['FUNCTION', 'LOAD', lib('l', "error('x')")],
  ['FUNCTION', 'LOAD', lib('l', 'local x = nil + 1')],
  ['FUNCTION', 'LOAD', lib('l', 'local t = nil; return t.x')],
  ['FUNCTION', 'LOAD', lib('l', 'local a = 1 while true do a = a + 1 end')],
  ['FUNCTION', 'LOAD', lib('l', 'redis.register_function()')],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function('f')")],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function('f', 1)")],
  ['FUNCTION', 'LOAD', lib('l', 'redis.register_function(nil, function() end)')],
  ['FUNCTION', 'LOAD', lib('num', "redis.register_function(12, function() return 'twelve' end)")],
  ['FUNCTION', 'LOAD', lib('num2', "redis.register_function{function_name=13, callback=function() return 13 end, description=5}")],
  ['FCALL', '12', '0'],
  ['FCALL', '13', '0'],
  ['FUNCTION', 'LIST', 'LIBRARYNAME', 'num*'],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function('a b', function() end)")],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function('', function() end)")],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function{function_name='f', callback=function() end, flags={'nope'}}")],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function{function_name='f', callback=function() end, flags='no-writes'}")],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function{function_name='f', callback=function() end, other=1}")],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function{function_name='f'}")],
  ['FUNCTION', 'LOAD', lib('l', 'redis.register_function{callback=function() end}')],
  ['FUNCTION', 'LOAD', lib('l', "redis.register_function{function_name='f', callback=function() end, description=1}")],
  [
    'FUNCTION',
    'LOAD',
    lib('named', "redis.register_function{function_name='nf', callback=function() return redis.call('get', 'x') end, description='d', flags={'allow-cross-slot-keys', 'no-cluster', 'allow-stale', 'allow-oom', 'no-writes'}}"),
  ],
  ['FUNCTION', 'LIST', 'LIBRARYNAME', 'named'],
  ['FUNCTION', 'LIST', 'LIBRARYNAME', 'NAM*', 'WITHCODE'],
  ['FUNCTION', 'LIST', 'LIBRARYNAME', 'nomatch'],
  ['FUNCTION', 'LIST', 'bad'],
  ['FUNCTION', 'LIST', 'LIBRARYNAME'],
  ['FUNCTION', 'LIST', 'WITHCODE', 'WITHCODE'],
  ['FUNCTION', 'STATS'],
  ['FCALL_RO', 'nf', '0'],
  ['FCALL_RO', 'f1', '0'],
  ['FCALL', 'nosuch', '0'],
  ['FCALL', 'f1', 'x'],
  ['FCALL', 'f1', '3', 'a'],
  ['FCALL', 'f1', '-1'],
  ['FCALL', 'f1'],
  [
    'FUNCTION',
    'LOAD',
    lib(
      'rt',
      `redis.register_function('e1', function() error('boom') end)
redis.register_function('e2', function() return redis.call('nosuch') end)
redis.register_function('e3', function() return KEYS end)
redis.register_function('e4', function() redis.register_function('z', function() end) end)
local l = redis
redis.register_function('e5', function() l.redis = redis end)
redis.register_function('e6', function() l.register_function('z', function() end) end)
redis.register_function('e7', function() mt = getmetatable(_G) end)
redis.register_function('w1', function(k, a) return redis.call('set', k[1], a[1]) end)
redis.register_function{function_name='r1', callback=function(k) return redis.call('set', k[1], 'x') end, flags={'no-writes'}}
redis.register_function('h1', function() return redis.call('hgetall', 'h') end)
redis.register_function('h3', function() redis.setresp(3) return redis.call('hgetall', 'h') end)
redis.register_function('v1', function() return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, _VERSION} end)
redis.register_function('t1', function() return {1, 'a', true, false, {ok='fine'}, 3.7} end)
redis.register_function('g1', function() return _G.redis ~= nil end)`,
    ),
  ],
  ['HSET', 'h', 'a', '1'],
  ...['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'h1', 'h3', 'v1', 't1', 'g1'].map((f) => ['FCALL', f, '0']),
  ['FCALL', 'w1', '1', 'fk', 'v'],
  ['FCALL_RO', 'w1', '1', 'fk', 'v'],
  ['FCALL', 'r1', '1', 'fk'],
  ['GET', 'fk'],
  ['FUNCTION', 'DELETE', 'rt'],
  ['FUNCTION', 'DELETE', 'rt'],
  ['FCALL', 'e1', '0'],
  ['FUNCTION', 'KILL'],
  ['FUNCTION', 'FLUSH', 'bad'],
  ['FUNCTION', 'FLUSH', 'SYNC', 'x'],
  ['FUNCTION', 'RESTORE', 'bad_payload'],
  ['FUNCTION', 'RESTORE', 'a', 'b', 'c'],
  ['FUNCTION', 'RESTORE', 'a', 'b'],
  ['FUNCTION', 'FLUSH', 'ASYNC'],
  ['FUNCTION', 'STATS'],
  ['FUNCTION', 'LIST'],
];

const servers = serverPair(['--enable-debug-command', 'yes']);

function bulk(v: RespValue): Buffer {
  if (v.type !== 'bulk') throw new Error(`expected a bulk reply, got ${JSON.stringify(v)}`);
  return Buffer.from(v.value, 'latin1');
}

describe('FUNCTION differential (redis-server 7.0 vs cacheside)', () => {
  for (const resp of [2, 3]) {
    it(`same replies, RESP${resp}`, async () => {
      await expectSameReplies(servers, resp, [['FLUSHALL'], ['FUNCTION', 'FLUSH']], CASES);
    }, 30_000);
  }

  it('FUNCTION DUMP payloads restore across servers, both ways', async () => {
    const a = await RawClient.connect(servers.redis.port);
    const b = await RawClient.connect(servers.cs.port);
    try {
      const libs = [
        one('lib1', 'fa', "return 'this is a longer string so that the payload has LZF-compressed code in it, in it, in it'"),
        lib('lib2', "redis.register_function{function_name='fb', callback=function(k, a) return #k + #a end, flags={'no-writes'}, description='two'}"),
      ];
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        for (const cl of [a, b]) await cl.send('FUNCTION', 'FLUSH');
        for (const code of libs) expect(await from.send('FUNCTION', 'LOAD', code)).toMatchObject({ type: 'bulk' });
        const payload = bulk(await from.send('FUNCTION', 'DUMP'));
        expect(await to.send('FUNCTION', 'RESTORE', payload)).toEqual({ type: 'simple', value: 'OK' });
        for (const cl of [from, to]) {
          expect(await cl.send('FCALL', 'fa', '0')).toEqual({ type: 'bulk', value: 'this is a longer string so that the payload has LZF-compressed code in it, in it, in it' });
          expect(await cl.send('FCALL_RO', 'fb', '1', 'k', 'a')).toEqual({ type: 'integer', value: 2n });
        }
        const [la, lb] = [await a.send('FUNCTION', 'LIST', 'LIBRARYNAME', 'lib2', 'WITHCODE'), await b.send('FUNCTION', 'LIST', 'LIBRARYNAME', 'lib2', 'WITHCODE')];
        expect(lb).toEqual(la);
        // APPEND (the default) refuses an existing library on both (which one is named depends on hash order)
        for (const cl of [a, b]) expect(await cl.send('FUNCTION', 'RESTORE', payload)).toMatchObject({ type: 'error', value: expect.stringMatching(/^ERR Library lib[12] already exists$/) });
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('dump.rdb files with libraries load across servers, both ways', async () => {
    const a = await RawClient.connect(servers.redis.port);
    const b = await RawClient.connect(servers.cs.port);
    try {
      for (const [from, to, fromDir, toDir] of [
        [a, b, servers.redis.dir, servers.cs.dir],
        [b, a, servers.cs.dir, servers.redis.dir],
      ] as const) {
        for (const cl of [a, b]) {
          await cl.send('FUNCTION', 'FLUSH');
          await cl.send('FLUSHALL');
        }
        await from.send('FUNCTION', 'LOAD', one('rdblib', 'rf', "return redis.call('get', keys[1])"));
        await from.send('SET', 'rk', 'rv');
        expect(await from.send('SAVE')).toEqual({ type: 'simple', value: 'OK' });
        fs.copyFileSync(path.join(fromDir, 'dump.rdb'), path.join(toDir, 'dump.rdb'));
        expect(await to.send('DEBUG', 'RELOAD', 'NOSAVE')).toEqual({ type: 'simple', value: 'OK' });
        expect(await to.send('FCALL', 'rf', '1', 'rk')).toEqual({ type: 'bulk', value: 'rv' });
        expect(await to.send('FUNCTION', 'STATS')).toEqual(await from.send('FUNCTION', 'STATS'));
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
