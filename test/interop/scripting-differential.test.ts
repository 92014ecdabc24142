/**
 * Differential test for EVAL: the same scripts go to a real redis-server 7.0
 * and to the built cacheside (RESP2 and RESP3), and every reply is compared
 * exactly (wire types and error texts, SHA1s included).
 *
 * Needs `npm run build` and redis-server on PATH.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startCacheside, startRedis, type ServerHandle } from './harness.js';
import { expectSameReplies } from './differential.js';

const CASES: string[][] = [
  ['SET', 'str', 'x'],
  ['HSET', 'h', 'a', '1'],
  ['EVAL', "return redis.call('nosuchcmd')", '0'],
  ['EVAL', "return redis.call('lpush','str','a')", '0'],
  ['EVAL', "return redis.call('get')", '0'],
  ['EVAL', 'return redis.call()', '0'],
  ['EVAL', "return redis.call('eval','return 1','0')", '0'],
  ['EVAL', "return redis.call('config')", '0'],
  ['EVAL', "return redis.call('config', 'nosub')", '0'],
  ['EVAL', "return redis.pcall('nosuchcmd')", '0'],
  ['EVAL', "return redis.pcall('lpush','str','a')", '0'],
  ['EVAL', 'return redis.pcall()', '0'],
  ['EVAL', "return redis.call('set','k',true)", '0'],
  ['EVAL', 'return foo(', '0'],
  ['EVAL', 'return nil + 1', '0'],
  ['EVAL', "error('boom')", '0'],
  ['EVAL', "error({err='MY custom'})", '0'],
  ['EVAL', 'error(nil)', '0'],
  ['EVAL', 'error(12)', '0'],
  ['EVAL', "local function f() error('deep') end\nlocal x = 1\nf()", '0'],
  ['EVAL', "local x = 1\nredis.call('nosuch')", '0'],
  ['EVAL', "return redis.error_reply('FOO bar')", '0'],
  ['EVAL', "return redis.error_reply('bar')", '0'],
  ['EVAL', "return redis.error_reply('-foo')", '0'],
  ['EVAL', 'return redis.error_reply()', '0'],
  ['EVAL', "return {err='a\\r\\nb'}", '0'],
  ['EVAL', "return redis.status_reply('FINE')", '0'],
  ['EVAL', 'return x', '0'],
  ['EVAL', 'x = 1', '0'],
  ['EVAL', 'string.foo = 1', '0'],
  ['EVAL', "rawset(_G, 'x', 1)", '0'],
  ['EVAL', 'return type(os)', '0'],
  ['EVAL_RO', "return redis.call('set','a','b')", '0'],
  ['EVAL', 'return 1', '1'],
  ['EVAL', 'return 1', '-1'],
  ['EVAL', 'return 1', 'abc'],
  ['EVALSHA', '0000000000000000000000000000000000000000', '0'],
  ['SCRIPT', 'KILL'],
  ['SCRIPT', 'HELP'],
  ['SCRIPT', 'FLUSH', 'foo'],
  ['SCRIPT', 'LOAD', 'return 1'],
  ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'foo'],
  ['EVALSHA', 'E0E1F9FABFC9D4800C877A703B823AC0578FF8DB', '0'],
  ['EVAL', 'return 3.99', '0'],
  ['EVAL', 'return -3.99', '0'],
  ['EVAL', 'return 1e20', '0'],
  ['EVAL', "return {1,{2,{3}},true,false,'a',nil,5}", '0'],
  ['EVAL', 'return true', '0'],
  ['EVAL', 'return false', '0'],
  ['EVAL', 'return {double=3.5}', '0'],
  ['EVAL', "return {ok='x'}", '0'],
  ['EVAL', 'return {tostring(3), tostring(10/2), tostring(1e15), tostring(2^53), tostring(0.1), tostring(1/0)}', '0'],
  ['EVAL', "redis.call('set','k',0.1); return redis.call('get','k')", '0'],
  ['EVAL', "local t = redis.call('set','k','1'); return type(t) .. t.ok", '0'],
  ['EVAL', "return type(redis.call('get','nokey'))", '0'],
  ['EVAL', "return redis.call('hgetall','h')", '0'],
  ['EVAL', "redis.setresp(3); return redis.call('hgetall','h')", '0'],
  ['EVAL', "redis.setresp(3); return {redis.call('get','nokey') == nil}", '0'],
  ['EVAL', "local ok, e = pcall(redis.call, 'nosuch'); return e", '0'],
  ['EVAL', 'return KEYS[1]..ARGV[1]..#KEYS..#ARGV', '1', 'a', 'b', 'c'],
  ['EVAL', "redis.call('select', 5); return redis.call('set','indb5','1')", '0'],
  ['GET', 'indb5'],
  ['EVAL', 'return {_VERSION, unpack({1,2})}', '0'],
  ['EVAL', "#!lua\nerror('x')", '0'],
  ['EVAL', "#!lua flags=no-writes\nreturn redis.call('set','a','b')", '0'],
  ['EVAL_RO', "#!lua\nreturn redis.call('set','a','b')", '0'],
  ['EVAL', '#!python\nreturn 1', '0'],
  ['EVAL', '#!lua', '0'],
  ['EVAL', "redis.log(5, 'hello')", '0'],
  ['EVAL', 'redis.setresp(4)', '0'],
  ['EVAL', "return redis.sha1hex('abc')", '0'],
  ['EVAL', 'return ARGV[1]', '0', '\x00\x01\xfe\xff'],
  // The preloaded libraries: cjson.
  ['EVAL', "return cjson.encode({1,2,{a={b={}}},'x',true,cjson.null})", '0'],
  ['EVAL', 'return {cjson.encode({}), cjson.encode({[1]=1,[3]=3}), cjson.encode({1,2,x=3}), cjson.encode({[1.5]=1})}', '0'],
  ['EVAL', 'return cjson.encode({0.1, 1/3, 1e100, 2^53, -1.5e-7, 123456789012345})', '0'],
  ['EVAL', 'return cjson.encode(ARGV[1])', '0', 'a/b"c\\d\n\r\t\b\f\x01\x1f\x7f\x80\xff\x00'],
  ['EVAL', 'return cjson.encode({[1]=1,[11]=2})', '0'],
  ['EVAL', 'return cjson.encode(1/0)', '0'],
  ['EVAL', 'return cjson.encode(redis.call)', '0'],
  ['EVAL', 'return cjson.encode({[true]=1})', '0'],
  ['EVAL', 'return cjson.encode()', '0'],
  ['EVAL', 'local t = {} local c = t for i=1,1001 do c[1] = {} c = c[1] end return cjson.encode(t)', '0'],
  ['EVAL', 'local t = cjson.decode(ARGV[1]) return {t[1], t[2], t[3], t[4], t[5] == cjson.null, t[6], t[7], type(t[8].k), #t}', '0', '[1,"x",true,false,null,1.5,-2e3,{"k":[]}]'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '[1,null,"\\u00e9\\ud83d\\ude00\\/\\u0000"]'],
  ['EVAL', 'return cjson.encode(cjson.decode(ARGV[1]))', '0', '{"k":[1,{"x":null}]}'],
  ['EVAL', "return {cjson.decode('0x10'), cjson.decode('+1'), cjson.decode('01'), cjson.decode('1.'), cjson.decode('[1] \\0')}", '0'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', ''],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '[1,]'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '{"a" 1}'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '[1 2]'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '{"a":1,}'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '{1:2}'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', 'truex'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '- 1'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '.5'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '"abc'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '"a\x00b"'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '"\\x"'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '"\\ud800\\u0041"'],
  ['EVAL', 'return cjson.decode(ARGV[1])', '0', '1\x00'],
  ['EVAL', "return cjson.decode(string.rep('[', 1001))", '0'],
  ['EVAL', "return cjson.decode(string.rep('{\"a\":', 1001))", '0'],
  ['EVAL', 'return cjson.decode({})', '0'],
  ['EVAL', "local ok, e = pcall(cjson.decode, '[') return e", '0'],
  ['EVAL', 'return {cjson.encode_sparse_array()}', '0'],
  ['EVAL', 'return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}', '0'],
  ['EVAL', 'cjson.encode_number_precision(3) local r = cjson.encode({1/3, 12345, 0.0001234}) cjson.encode_number_precision(14) return r', '0'],
  ['EVAL', "cjson.encode_invalid_numbers(true) local a = cjson.encode({1/0, -1/0}) cjson.encode_invalid_numbers('null') local b = cjson.encode({0/0}) cjson.encode_invalid_numbers(false) return {a, b}", '0'],
  ['EVAL', 'cjson.encode_sparse_array(true) local r = cjson.encode({[1]=1,[20]=2}) cjson.encode_sparse_array(false) return r', '0'],
  ['EVAL', 'return cjson.encode_number_precision(20)', '0'],
  ['EVAL', "return cjson.encode_invalid_numbers('x')", '0'],
  ['EVAL', 'return cjson.encode_max_depth(5, 6)', '0'],
  ['EVAL', 'local c = cjson.new() return {c.encode({1}), c._NAME, type(c.null), c.null == cjson.null, cjson._VERSION}', '0'],
  ['EVAL', 'cjson.x = 1', '0'],
  ['EVAL', 'cjson = 1', '0'],
  ["EVAL", "rawset(cjson, 'x', 1)", '0'],
  // bit.
  ['EVAL', "return {bit.tobit(2^32+5), bit.tobit(2^31), bit.tobit(-1), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-2.5), bit.tobit(2^53+3), bit.tobit('12'), bit.tobit(0/0)}", '0'],
  ['EVAL', 'return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255,-4), bit.tohex(0x12345678, 20), bit.tohex(1, 0), bit.tohex(1, 2.7)}', '0'],
  ['EVAL', 'return {bit.bnot(0), bit.band(0xff, 0x0f, 0x3), bit.bor(1,2,4), bit.bxor(5,3), bit.band(7)}', '0'],
  ['EVAL', 'return {bit.lshift(1, 31), bit.lshift(1, 32), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x80000001, 1), bit.ror(1, 1), bit.rol(0x12345678, 12), bit.ror(0x12345678, 12), bit.bswap(0x12345678), bit.rshift(1, -1)}', '0'],
  ['EVAL', 'return tostring(bit.tobit(0xffffffff) / 2)', '0'],
  ['EVAL', 'return bit.band()', '0'],
  ['EVAL', "return bit.band(1, 'x')", '0'],
  ['EVAL', 'return bit.lshift(1)', '0'],
  ['EVAL', 'bit.band = nil', '0'],
];

let redis: ServerHandle;
let cs: ServerHandle;
beforeAll(async () => {
  [redis, cs] = await Promise.all([startRedis(), startCacheside()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([redis?.stop(), cs?.stop()]);
});

describe('EVAL differential (redis-server 7.0 vs cacheside)', () => {
  for (const resp of [2, 3]) {
    it(`same replies, RESP${resp}`, async () => {
      await expectSameReplies(redis, cs, resp, [['FLUSHALL'], ['SCRIPT', 'FLUSH']], CASES);
    });
  }
});
