/**
 * Redis 7.0 functions: FUNCTION LOAD / LIST / DELETE / FLUSH / STATS / DUMP /
 * RESTORE, FCALL / FCALL_RO, propagation and persistence. Expected replies
 * and error texts are redis-server 7.0.15's.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { err, propagated } from '../helpers/expect.js';

const lib = (name: string, body: string): string => `#!lua name=${name}\n${body}`;
const fn = (lname: string, fname: string, body: string): string => lib(lname, `redis.register_function('${fname}', function(KEYS, ARGV)\n ${body} \nend)`);
const LOADERR = 'ERR Error registering functions: ';

let srv: TestServer;
let c: Redis;
beforeAll(async () => {
  srv = await startTestServer({ 'enable-debug-command': 'yes' });
  c = srv.client();
});
afterAll(async () => {
  await srv.stop();
});
beforeEach(async () => {
  await c.call('FUNCTION', 'FLUSH');
});

describe('FUNCTION LOAD', () => {
  it('loads a library and replies with its name; FCALL gets KEYS and ARGV as arguments', async () => {
    expect(await c.call('FUNCTION', 'LOAD', fn('mylib', 'f1', 'return {KEYS[1], ARGV[1], #KEYS, #ARGV}'))).toBe('mylib');
    expect(await c.call('FCALL', 'f1', '2', 'ka', 'kb', 'aa')).toEqual(['ka', 'aa', 2, 1]);
    // function names are case-insensitive, library names are not
    expect(await c.call('FCALL', 'F1', '1', 'a', 'b')).toEqual(['a', 'b', 1, 1]);
    expect(await c.call('FUNCTION', 'LOAD', fn('MYLIB', 'f2', 'return 2'))).toBe('MYLIB');
    expect(await err(c.call('FUNCTION', 'LOAD', fn('other', 'F1', 'return 1')))).toBe('ERR Function F1 already exists');
    expect(await err(c.call('FUNCTION', 'LOAD', fn('mylib', 'f9', 'return 1')))).toBe("ERR Library 'mylib' already exists");
  });

  it('REPLACE swaps the library; a failing replace keeps the old one', async () => {
    await c.call('FUNCTION', 'LOAD', fn('test', 'test', "return 'hello'"));
    expect(await c.call('FUNCTION', 'LOAD', 'REPLACE', fn('test', 'test2', "return 'hello2'"))).toBe('test');
    expect(await err(c.call('FCALL', 'test', '0'))).toBe('ERR Function not found');
    expect(await c.call('FCALL', 'test2', '0')).toBe('hello2');
    expect((await err(c.call('FUNCTION', 'LOAD', 'REPLACE', fn('test', 'test', 'bad script')))).startsWith('ERR Error compiling function: user_function:')).toBe(true);
    expect(await c.call('FCALL', 'test2', '0')).toBe('hello2');
    expect(await err(c.call('FUNCTION', 'LOAD', 'foo', 'bar', fn('x', 'x', 'return 1')))).toBe('ERR Unknown option given: foo');
  });

  it('checks the metadata, the engine and the names', async () => {
    const body = "redis.register_function('foo', function() return 1 end)";
    expect(await err(c.call('FUNCTION', 'LOAD', `#! name=test\n${body}`))).toBe("ERR Engine '' not found");
    expect(await err(c.call('FUNCTION', 'LOAD', `#!lua name=test foo=bar\n${body}`))).toBe('ERR Invalid metadata value given: foo=bar');
    expect(await err(c.call('FUNCTION', 'LOAD', `#!lua\n${body}`))).toBe('ERR Library name was not given');
    expect(await err(c.call('FUNCTION', 'LOAD', `#!lua name=foo name=bar\n${body}`))).toBe('ERR Invalid metadata value, name argument was given multiple times');
    expect(await err(c.call('FUNCTION', 'LOAD', `#!lua "name=q\n${body}`))).toBe('ERR Invalid library metadata');
    expect(await c.call('FUNCTION', 'LOAD', `#!lua name="foo"\n${body}`)).toBe('foo');
    expect(await c.call('FUNCTION', 'LOAD', `#!LUA name=bar\nredis.register_function('bar', function() return 1 end)`)).toBe('bar');
    expect(await err(c.call('FUNCTION', 'LOAD', `#!lua name=a-b\n${body}`))).toBe(
      'ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long',
    );
    expect(await err(c.call('FUNCTION', 'LOAD', lib('x', "redis.register_function('a b', function() end)")))).toBe(
      `${LOADERR}ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long`,
    );
    expect(await err(c.call('FUNCTION', 'LOAD', lib('x', 'return 1')))).toBe('ERR No functions registered');
  });

  it('runs the code in the load environment: only redis.register_function, log and the versions', async () => {
    const load = (body: string) => err(c.call('FUNCTION', 'LOAD', lib('lib2', body)));
    expect(await load('return math.random()')).toBe(`${LOADERR}ERR user_function:2: Script attempted to access nonexistent global variable 'math'`);
    expect(await load("\nreturn redis.call('ping')")).toBe(`${LOADERR}ERR user_function:3: Script attempted to access nonexistent global variable 'call'`);
    expect(await load('return redis.setresp(3)')).toBe(`${LOADERR}ERR user_function:2: Script attempted to access nonexistent global variable 'setresp'`);
    expect(await load('a = 1')).toBe(`${LOADERR}ERR user_function:2: Attempt to modify a readonly table`);
    expect(await load('redis.x = 1')).toBe(`${LOADERR}ERR user_function:2: Attempt to modify a readonly table`);
    expect(await load('mt = getmetatable(_G)')).toBe(`${LOADERR}ERR user_function:2: Script attempted to access nonexistent global variable 'getmetatable'`);
    expect(await load('local x = nil + 1')).toBe(`${LOADERR}ERR user_function:2: attempt to perform arithmetic on a nil value`);
    expect(await load('local a = 1 while true do a = a + 1 end')).toBe(`${LOADERR}ERR FUNCTION LOAD timeout`);
    expect(await load("redis.log(redis.LOG_WARNING, 'hi') return 1")).toBe('ERR No functions registered');
    // a library's locals are shared by its functions, which see the full API at run time
    await c.call('FUNCTION', 'LOAD', lib('v', `local v = redis.REDIS_VERSION
local function ping() return redis.call('ping') end
redis.register_function('ver', function() return {v, redis.REDIS_VERSION_NUM, ping()} end)`));
    expect(await c.call('FCALL', 'ver', '0')).toEqual(['7.0.15', 458767, 'PONG']);
  });

  it('register_function: positional and named forms, with Redis errors', async () => {
    const load = (body: string) => err(c.call('FUNCTION', 'LOAD', 'REPLACE', lib('lib2', body)));
    expect(await load('redis.register_function()')).toBe(`${LOADERR}ERR wrong number of arguments to redis.register_function`);
    expect(await load("redis.register_function('f1', function() end, {}, 'd', 'x')")).toBe(`${LOADERR}ERR wrong number of arguments to redis.register_function`);
    expect(await load("redis.register_function('f1')")).toBe(
      `${LOADERR}ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).`,
    );
    expect(await load('redis.register_function(nil, function() end)')).toBe(`${LOADERR}ERR first argument to redis.register_function must be a string`);
    expect(await load("redis.register_function('f1', 'x')")).toBe(`${LOADERR}ERR second argument to redis.register_function must be a function`);
    // names differing in case only are two functions of the library (FCALL finds the first)
    expect(await c.call('FUNCTION', 'LOAD', lib('cases', "redis.register_function('f', function() return 'lower' end) redis.register_function('F', function() return 'upper' end)"))).toBe('cases');
    expect(await c.call('FCALL', 'F', '0')).toBe('lower');
    expect(await c.call('FUNCTION', 'STATS')).toEqual(['running_script', null, 'engines', ['LUA', ['libraries_count', 1, 'functions_count', 2]]]);
    expect(await load("redis.register_function('f1', function() end) redis.register_function('f1', function() end)")).toBe(
      `${LOADERR}ERR Function already exists in the library`,
    );
    expect(await load('redis.register_function{function_name=true, callback=function() end}')).toBe(
      `${LOADERR}ERR function_name argument given to redis.register_function must be a string`,
    );
    expect(await load("redis.register_function{function_name='f', callback='x'}")).toBe(`${LOADERR}ERR callback argument given to redis.register_function must be a function`);
    expect(await load("redis.register_function{function_name='f', callback=function() end, description=true}")).toBe(
      `${LOADERR}ERR description argument given to redis.register_function must be a string`,
    );
    expect(await load("redis.register_function{function_name='f', callback=function() end, x=1}")).toBe(`${LOADERR}ERR unknown argument given to redis.register_function`);
    expect(await load('redis.register_function{callback=function() end}')).toBe(`${LOADERR}ERR redis.register_function must get a function name argument`);
    expect(await load("redis.register_function{function_name='f'}")).toBe(`${LOADERR}ERR redis.register_function must get a callback argument`);
    expect(await load("redis.register_function{function_name='f', callback=function() end, flags='x'}")).toBe(
      `${LOADERR}ERR flags argument to redis.register_function must be a table representing function flags`,
    );
    expect(await load("redis.register_function{function_name='f', callback=function() end, flags={'bad'}}")).toBe(`${LOADERR}ERR unknown flag given`);
    expect(
      await c.call('FUNCTION', 'LOAD', lib('named', "redis.register_function{function_name='f1', callback=function() return 'hello' end, description='some desc', flags={'allow-cross-slot-keys', 'no-writes', 'allow-oom', 'allow-stale', 'no-cluster'}}")),
    ).toBe('named');
    expect(await c.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'NAMED')).toEqual([
      ['library_name', 'named', 'engine', 'LUA', 'functions', [['name', 'f1', 'description', 'some desc', 'flags', ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys']]]],
    ]);
  });
});

describe('FCALL and FCALL_RO', () => {
  it('argument errors, errors raised by functions, and the run-time environment', async () => {
    await c.call(
      'FUNCTION',
      'LOAD',
      lib(
        'rt',
        `redis.register_function('e1', function(k, a)
 error('boom') end)
redis.register_function('e2', function() return redis.call('nosuch') end)
redis.register_function('e3', function() return KEYS end)
redis.register_function('e5', function() redis.register_function('zz', function() end) end)
local l = redis
redis.register_function('m1', function() l.redis = redis end)
redis.register_function('m2', function() l.register_function('x', function() end) end)
redis.register_function('m3', function() mt = getmetatable(_G) end)`,
      ),
    );
    expect(await err(c.call('FCALL', 'nosuch', 'abc'))).toBe('ERR Function not found');
    expect(await err(c.call('FCALL', 'e1', 'abc'))).toBe('ERR Bad number of keys provided');
    expect(await err(c.call('FCALL', 'e1', '5'))).toBe("ERR Number of keys can't be greater than number of args");
    expect(await err(c.call('FCALL', 'e1', '-1'))).toBe("ERR Number of keys can't be negative");
    expect(await err(c.call('FCALL', 'e1', '0'))).toBe('ERR user_function:3: boom script: e1, on @user_function:3.');
    expect(await err(c.call('FCALL', 'e2', '0'))).toBe('ERR Unknown Redis command called from script script: e2, on @user_function:4.');
    expect(await err(c.call('FCALL', 'e3', '0'))).toBe("ERR user_function:5: Script attempted to access nonexistent global variable 'KEYS' script: e3, on @user_function:5.");
    expect(await err(c.call('FCALL', 'e5', '0'))).toBe("ERR user_function:6: attempt to call field 'register_function' (a nil value) script: e5, on @user_function:6.");
    expect(await err(c.call('FCALL', 'm1', '0'))).toBe('ERR user_function:8: Attempt to modify a readonly table script: m1, on @user_function:8.');
    expect(await err(c.call('FCALL', 'm2', '0'))).toBe('ERR redis.register_function can only be called on FUNCTION LOAD command script: m2, on @user_function:9.');
    expect(await err(c.call('FCALL', 'm3', '0'))).toBe('ERR user_function:10: Attempt to modify a readonly table script: m3, on @user_function:10.');
  });

  it('no-writes functions: FCALL_RO runs only them, and they cannot write', async () => {
    await c.call(
      'FUNCTION',
      'LOAD',
      lib(
        'ro',
        `redis.register_function('w', function(k, a) return redis.call('set', k[1], a[1]) end)
redis.register_function{function_name='r', callback=function(k) return redis.call('get', k[1]) end, flags={'no-writes'}}
redis.register_function{function_name='rw', callback=function(k) return redis.call('set', k[1], 'x') end, flags={'no-writes'}}`,
      ),
    );
    expect(await c.call('FCALL', 'w', '1', 'fk', 'v1')).toBe('OK');
    expect(await c.call('FCALL_RO', 'r', '1', 'fk')).toBe('v1');
    expect(await err(c.call('FCALL_RO', 'w', '1', 'fk', 'v'))).toBe('ERR Can not execute a script with write flag using *_ro command.');
    expect(await err(c.call('FCALL', 'rw', '1', 'fk'))).toBe('ERR Write commands are not allowed from read-only scripts. script: rw, on @user_function:4.');
    expect(await c.call('COMMAND', 'GETKEYS', 'FCALL_RO', 'r', '1', 'x', 'foo')).toEqual(['x']);
  });

  it('propagates the effects of FCALL, and LOAD / DELETE / FLUSH / RESTORE as themselves', async () => {
    const code = fn('p', 'pf', "redis.call('set', KEYS[1], '1') redis.call('incr', KEYS[1]) return 1");
    expect(await propagated(srv, () => c.call('FUNCTION', 'LOAD', code))).toEqual([['FUNCTION', 'LOAD', code]]);
    expect(await propagated(srv, () => c.call('FCALL', 'pf', '1', 'prop:f'))).toEqual([['MULTI'], ['set', 'prop:f', '1'], ['incr', 'prop:f'], ['EXEC']]);
    const payload = (await c.callBuffer('FUNCTION', 'DUMP')) as Buffer;
    expect(await propagated(srv, () => c.call('FUNCTION', 'DELETE', 'p'))).toEqual([['FUNCTION', 'DELETE', 'p']]);
    expect((await propagated(srv, () => c.call('FUNCTION', 'RESTORE', payload)))[0]!.slice(0, 2)).toEqual(['FUNCTION', 'RESTORE']);
    expect(await propagated(srv, () => c.call('FUNCTION', 'FLUSH', 'SYNC'))).toEqual([['FUNCTION', 'FLUSH', 'SYNC']]);
    expect(await propagated(srv, () => err(c.call('FUNCTION', 'DELETE', 'p')))).toEqual([]);
  });

  it('OOM: write functions are refused over maxmemory unless allow-oom; no-writes ones run', async () => {
    const o = await startTestServer({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
    try {
      const oc = o.client();
      await oc.call('CONFIG', 'SET', 'maxmemory', '0');
      await oc.call(
        'FUNCTION',
        'LOAD',
        lib(
          'oom',
          `redis.register_function('w', function() return redis.call('set', 'x', '1') end)
redis.register_function{function_name='a', callback=function() return redis.call('set', 'x', '2') end, flags={'allow-oom'}}
redis.register_function{function_name='r', callback=function() return 'hello' end, flags={'no-writes'}}`,
        ),
      );
      await oc.call('CONFIG', 'SET', 'maxmemory', '1');
      expect(await err(oc.call('FCALL', 'w', '1', 'k'))).toBe("OOM command not allowed when used memory > 'maxmemory'.");
      expect(await oc.call('FCALL', 'a', '1', 'x')).toBe('OK');
      expect(await oc.call('FCALL', 'r', '1', 'k')).toBe('hello');
      expect(await oc.call('FCALL_RO', 'r', '1', 'k')).toBe('hello');
      expect(await err(oc.call('FUNCTION', 'LOAD', fn('t', 'f1', 'return 1')))).toBe("OOM command not allowed when used memory > 'maxmemory'.");
    } finally {
      await o.stop();
    }
  });
});

describe('FUNCTION LIST, STATS, DELETE, DUMP, RESTORE', () => {
  it('LIST with LIBRARYNAME and WITHCODE; STATS counts; DELETE removes all of a library', async () => {
    const code1 = lib('library1', "redis.register_function('f6', function(keys, args) return 7 end)");
    await c.call('FUNCTION', 'LOAD', code1);
    await c.call('FUNCTION', 'LOAD', lib('lib1', "redis.register_function('f7', function() return 7 end) redis.register_function('f8', function() return 8 end)"));
    expect(await c.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'library*', 'WITHCODE')).toEqual([
      ['library_name', 'library1', 'engine', 'LUA', 'functions', [['name', 'f6', 'description', null, 'flags', []]], 'library_code', code1],
    ]);
    expect(await c.call('FUNCTION', 'STATS')).toEqual(['running_script', null, 'engines', ['LUA', ['libraries_count', 2, 'functions_count', 3]]]);
    const info = (await c.call('INFO', 'memory')) as string;
    expect(info).toContain('number_of_functions:3\r\n');
    expect(info).toContain('number_of_libraries:2\r\n');
    expect(await c.call('FUNCTION', 'DELETE', 'lib1')).toBe('OK');
    expect(await err(c.call('FCALL', 'f7', '0'))).toBe('ERR Function not found');
    expect(await err(c.call('FUNCTION', 'DELETE', 'lib1'))).toBe('ERR Library not found');
    expect(await c.call('FUNCTION', 'STATS')).toEqual(['running_script', null, 'engines', ['LUA', ['libraries_count', 1, 'functions_count', 1]]]);
    // FLUSHALL does not touch functions
    await c.call('FLUSHALL');
    expect(await c.call('FCALL', 'f6', '0')).toBe(7);
  });

  it('RESTORE policies: APPEND (default), REPLACE, FLUSH; nothing changes on error', async () => {
    await c.call('FUNCTION', 'LOAD', lib('lib1', "redis.register_function('f1', function() return 1 end) redis.register_function('f3', function() return 3 end)"));
    const payload = (await c.callBuffer('FUNCTION', 'DUMP')) as Buffer;
    await c.call('FUNCTION', 'FLUSH');
    await c.call('FUNCTION', 'LOAD', lib('lib1', "redis.register_function('f6', function() return 6 end)"));
    await c.call('FUNCTION', 'LOAD', lib('lib2', "redis.register_function('f3', function() return 33 end)"));
    expect(await err(c.call('FUNCTION', 'RESTORE', payload))).toBe('ERR Library lib1 already exists');
    expect(await err(c.call('FUNCTION', 'RESTORE', payload, 'replace'))).toBe('ERR Function f3 already exists');
    expect(await c.call('FCALL', 'f6', '0')).toBe(6);
    expect(await c.call('FCALL', 'f3', '0')).toBe(33);
    expect(await err(c.call('FUNCTION', 'RESTORE', 'bad_payload'))).toBe('ERR DUMP payload version or checksum are wrong');
    expect(await err(c.call('FUNCTION', 'restore', 'a', 'b', 'c'))).toBe("ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.");
    expect(await c.call('FUNCTION', 'DELETE', 'lib2')).toBe('OK');
    expect(await c.call('FUNCTION', 'RESTORE', payload, 'REPLACE')).toBe('OK');
    expect(await err(c.call('FCALL', 'f6', '0'))).toBe('ERR Function not found');
    expect(await c.call('FCALL', 'f3', '0')).toBe(3);
    await c.call('FUNCTION', 'LOAD', lib('other', "redis.register_function('o', function() return 0 end)"));
    expect(await c.call('FUNCTION', 'RESTORE', payload, 'FLUSH')).toBe('OK');
    expect(await c.call('FUNCTION', 'STATS')).toEqual(['running_script', null, 'engines', ['LUA', ['libraries_count', 1, 'functions_count', 2]]]);
  });
});

describe('persistence', () => {
  it('DEBUG RELOAD keeps the libraries (RDB opcode 245); NOFLUSH without MERGE fails on the existing library', async () => {
    await c.call('FUNCTION', 'LOAD', fn('test1', 'test1', "return 'hello'"));
    await c.call('SET', 'rdbkey', 'v');
    expect(await c.call('DEBUG', 'RELOAD')).toBe('OK');
    expect(await c.call('FCALL', 'test1', '0')).toBe('hello');
    expect(await err(c.call('DEBUG', 'RELOAD', 'NOFLUSH'))).toBe('ERR Error trying to load the RDB dump, check server logs.');
    expect(await c.call('DEBUG', 'RELOAD', 'NOFLUSH', 'MERGE')).toBe('OK');
    await c.call('FUNCTION', 'LOAD', fn('test2', 'test2', "return 'hello2'"));
    expect(await c.call('DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH', 'MERGE')).toBe('OK');
    expect(await c.call('FCALL', 'test2', '0')).toBe('hello2');
    const rdb = fs.readFileSync(path.join((await c.call('CONFIG', 'GET', 'dir') as string[])[1]!, 'dump.rdb'));
    // the libraries sit after the aux fields, before the databases
    const at = rdb.indexOf(Buffer.from('#!lua name=test1'));
    expect(at).toBeGreaterThan(rdb.indexOf(Buffer.from('aof-base')));
    // RDB_OPCODE_FUNCTION2, then the code's length
    expect([...rdb.subarray(at - 8, at)]).toContain(245);
    expect(rdb.indexOf(Buffer.from('rdbkey'))).toBeGreaterThan(at);
  });
});
