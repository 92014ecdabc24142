/**
 * The libraries Redis 7.0 preloads for scripts (cjson, bit), through a real
 * client. Expected replies and error texts are those of redis-server 7.0.15.
 */
import { createHash } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let c: Redis;
beforeAll(async () => {
  srv = await startTestServer();
  c = srv.client();
});
afterAll(async () => {
  await srv.stop();
});

const ev = (body: string, ...args: string[]): Promise<unknown> => c.call('EVAL', body, '0', ...args);

/** The error reply of a script raising `msg` on line 1. */
const scriptErr = (body: string, msg: string): string =>
  `ERR user_script:1: ${msg} script: ${createHash('sha1').update(body).digest('hex')}, on @user_script:1.`;

const err = async (body: string): Promise<string> => {
  try {
    await ev(body);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error reply');
};

describe('cjson.encode', () => {
  it('arrays, objects, scalars', async () => {
    expect(await ev('return cjson.encode({1,2,3})')).toBe('[1,2,3]');
    expect(await ev('return cjson.encode({})')).toBe('{}');
    expect(await ev('return cjson.encode({a=1})')).toBe('{"a":1}');
    expect(await ev('return cjson.encode({[1]=1,[3]=3})')).toBe('[1,null,3]');
    expect(await ev('return cjson.encode({[1]=1,[10]=2})')).toBe('[1,null,null,null,null,null,null,null,null,2]');
    expect(await ev('return cjson.encode({1,2,x=3})')).toBe('{"1":1,"2":2,"x":3}');
    expect(await ev('return cjson.encode({[1.5]=1})')).toBe('{"1.5":1}');
    expect(await ev('return cjson.encode({a={b={c={}}}})')).toBe('{"a":{"b":{"c":{}}}}');
    expect(await ev('return cjson.encode({true, false, cjson.null})')).toBe('[true,false,null]');
    expect(await ev('return cjson.encode(nil)')).toBe('null');
  });

  it('numbers use %.14g (ties to even like printf)', async () => {
    expect(await ev('return cjson.encode({0.1, 1/3, 1e100, 2^53, -1.5e-7, 123456789012345})')).toBe(
      '[0.1,0.33333333333333,1e+100,9.007199254741e+15,-1.5e-07,1.2345678901234e+14]',
    );
  });

  it('strings are escaped like lua-cjson and stay binary', async () => {
    expect(await ev("return cjson.encode('a/b\"c\\\\d\\n\\r\\t\\b\\f\\1\\31\\127')")).toBe('"a\\/b\\"c\\\\d\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f"');
    const r = (await c.callBuffer('EVAL', 'return cjson.encode(ARGV[1])', '0', Buffer.from([0x80, 0xff, 0x00]))) as Buffer;
    expect([...r]).toEqual([0x22, 0x80, 0xff, ...Buffer.from('\\u0000'), 0x22]);
  });

  it('errors', async () => {
    const cases: [string, string][] = [
      ['return cjson.encode({[1]=1,[11]=2})', 'Cannot serialise table: excessively sparse array'],
      ['return cjson.encode(1/0)', 'Cannot serialise number: must not be NaN or Inf'],
      ['return cjson.encode(redis.call)', 'Cannot serialise function: type not supported'],
      ['return cjson.encode({[true]=1})', 'Cannot serialise boolean: table key must be a number or string'],
      ['return cjson.encode()', "bad argument #1 to 'encode' (expected 1 argument)"],
      ['local t = {} local c = t for i=1,1001 do c[1] = {} c = c[1] end return cjson.encode(t)', 'Cannot serialise, excessive nesting (1001)'],
    ];
    for (const [body, msg] of cases) expect(await err(body)).toBe(scriptErr(body, msg));
  });
});

describe('cjson.decode', () => {
  it('values', async () => {
    expect(
      await ev(
        'local t = cjson.decode(\'[1,"x",true,false,null,1.5,-2e3,{"k":[]}]\') ' +
          'return {t[1],t[2],tostring(t[3]),tostring(t[4]),type(t[5]),t[5] == cjson.null,t[6],t[7],type(t[8].k),#t}',
      ),
    ).toEqual([1, 'x', 'true', 'false', 'userdata', 1, 1, -2000, 'table', 8]);
    expect(await ev('return cjson.decode(\'{"a":1,"a":2}\').a')).toBe(2);
    expect(await ev("return cjson.decode('  [ ] ')")).toEqual([]);
    // lua-cjson reads numbers with strtod: hex, a plus sign and leading zeros pass.
    expect(await ev("return {cjson.decode('0x10'), cjson.decode('+1'), cjson.decode('01'), cjson.decode('1.')}")).toEqual([16, 1, 1, 1]);
    // null inside an array is a value (the array has no hole); cjson.null replies as nil.
    expect(await ev("return cjson.decode('[1,null,3]')")).toEqual([1, null, 3]);
    expect(await ev('return cjson.encode(cjson.decode(\'{"k":[1,{"x":null}]}\'))')).toBe('{"k":[1,{"x":null}]}');
  });

  it('\\u escapes become UTF-8 bytes', async () => {
    const r = (await c.callBuffer('EVAL', 'return cjson.decode(ARGV[1])', '0', '"\\u00e9\\ud83d\\ude00\\/\\u0000"')) as Buffer;
    expect(r).toEqual(Buffer.concat([Buffer.from('é😀/', 'utf8'), Buffer.from([0])]));
  });

  it('errors', async () => {
    const cases: [string, string][] = [
      ["return cjson.decode('')", 'Expected value but found T_END at character 1'],
      ["return cjson.decode('[1,]')", 'Expected value but found T_ARR_END at character 4'],
      ['return cjson.decode(\'{"a" 1}\')', 'Expected colon but found T_NUMBER at character 6'],
      ["return cjson.decode('[1 2]')", 'Expected comma or array end but found T_NUMBER at character 4'],
      ['return cjson.decode(\'{"a":1\')', 'Expected comma or object end but found T_END at character 7'],
      ["return cjson.decode('{1:2}')", 'Expected object key string but found T_NUMBER at character 2'],
      ["return cjson.decode('tru')", 'Expected value but found invalid token at character 1'],
      ["return cjson.decode('1 2')", 'Expected the end but found T_NUMBER at character 3'],
      ["return cjson.decode('-')", 'Expected value but found invalid number at character 1'],
      ['return cjson.decode(\'"abc\')', 'Expected value but found unexpected end of string at character 5'],
      ['return cjson.decode(\'"\\\\x"\')', 'Expected value but found invalid escape code at character 2'],
      ['return cjson.decode(\'"\\\\ud800"\')', 'Expected value but found invalid unicode escape code at character 2'],
      ["return cjson.decode(string.rep('[', 1001))", 'Found too many nested data structures (1001) at character 1001'],
      ["return cjson.decode('1\\0')", 'JSON parser does not support UTF-16 or UTF-32'],
      ['return cjson.decode({})', "bad argument #1 to 'decode' (string expected, got table)"],
    ];
    for (const [body, msg] of cases) expect(await err(body)).toBe(scriptErr(body, msg));
    // A pcall'd decode error is the message with its position.
    expect(await ev("local ok, e = pcall(cjson.decode, '[') return e")).toBe('Expected value but found T_END at character 2');
  });
});

describe('cjson configuration', () => {
  it('defaults, changes, and a fresh instance from cjson.new()', async () => {
    expect(await ev('return {cjson.encode_sparse_array()}')).toEqual([null, 2, 10]);
    expect(await ev('return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}')).toEqual([1000, 1000, 14]);
    expect(await ev('return {cjson.encode_keep_buffer(), cjson.decode_invalid_numbers()}')).toEqual([1, 1]);
    expect(await ev("cjson.encode_number_precision(3) local r = cjson.encode({1/3, 12345, 0.0001234}) cjson.encode_number_precision(14) return r")).toBe(
      '[0.333,1.23e+04,0.000123]',
    );
    expect(await ev("cjson.encode_invalid_numbers('null') local r = cjson.encode({1/0, 0/0}) cjson.encode_invalid_numbers(false) return r")).toBe('[null,null]');
    expect(await ev('cjson.encode_sparse_array(true) local r = cjson.encode({[1]=1,[20]=2}) cjson.encode_sparse_array(false) return r')).toBe('{"1":1,"20":2}');
    expect(await ev('local c = cjson.new() return {c.encode({1}), c._NAME, c.null == cjson.null, cjson._VERSION}')).toEqual(['[1]', 'cjson', 1, '2.1.0']);
    const bad = 'return cjson.encode_number_precision(20)';
    expect(await err(bad)).toBe(scriptErr(bad, "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"));
  });
});

describe('bit', () => {
  it('32-bit operations with signed results', async () => {
    expect(await ev("return {bit.tobit(2^32+5), bit.tobit(2^31), bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-2.5), bit.tobit('12')}")).toEqual([
      5, -2147483648, 2, 2, -2, 12,
    ]);
    expect(await ev('return {bit.bnot(0), bit.band(0xff, 0x0f, 0x3), bit.bor(1,2,4), bit.bxor(5,3), bit.band(7)}')).toEqual([-1, 3, 7, 6, 7]);
    expect(
      await ev('return {bit.lshift(1, 31), bit.lshift(1, 33), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x80000001, 1), bit.ror(1, 1), bit.bswap(0x12345678)}'),
    ).toEqual([-2147483648, 2, 15, -16, 3, -2147483648, 2018915346]);
    expect(await ev('return tostring(bit.tobit(0xffffffff) / 2)')).toBe('-0.5');
  });

  it('tohex', async () => {
    expect(await ev('return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.tohex(0x12345678, 20), bit.tohex(1, 0)}')).toEqual([
      '000000ff',
      'ffffffff',
      'ff',
      '00FF',
      '12345678',
      '',
    ]);
  });

  it('argument errors', async () => {
    const cases: [string, string][] = [
      ['return bit.band()', "bad argument #1 to 'band' (number expected, got no value)"],
      ["return bit.band(1, 'x')", "bad argument #2 to 'band' (number expected, got string)"],
      ['return bit.lshift(1)', "bad argument #2 to 'lshift' (number expected, got no value)"],
    ];
    for (const [body, msg] of cases) expect(await err(body)).toBe(scriptErr(body, msg));
  });
});

describe('the libraries are read-only globals', () => {
  it('cannot be modified or replaced', async () => {
    for (const body of ['cjson.x = 1', 'cjson = 1', 'bit.band = nil', 'bit = nil']) {
      expect(await err(body)).toBe(scriptErr(body, 'Attempt to modify a readonly table'));
    }
    const raw = "rawset(cjson, 'x', 1)";
    expect(await err(raw)).toBe(scriptErr(raw, 'Attempt to modify a readonly table').replace('user_script:1: ', ''));
    // Still intact afterwards.
    expect(await ev('return {cjson.encode({1}), bit.band(3, 1)}')).toEqual(['[1]', 1]);
  });
});
