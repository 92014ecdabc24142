/**
 * The libraries Redis 7.0 preloads for scripts (cjson, bit), through a real
 * client. Expected replies and error texts are those of redis-server 7.0.15.
 */
import { createHash } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { infoFields } from '../helpers/info.js';

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

/** A script's reply as bytes. */
const evBytes = async (body: string, ...args: (string | Buffer)[]): Promise<number[]> => [...((await c.callBuffer('EVAL', body, '0', ...args)) as Buffer)];

describe('cmsgpack.pack', () => {
  it('integers take the smallest type, other numbers float32 when exact else float64', async () => {
    expect(await evBytes('return cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 2^40, -2^40)')).toEqual([
      0x01, 0xff, 0xcc, 0xc8, 0xd1, 0xff, 0x38, 0xce, 0x00, 0x01, 0x11, 0x70, 0xd2, 0xff, 0xfe, 0xee, 0x90,
      0xcf, 0, 0, 1, 0, 0, 0, 0, 0, 0xd3, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0,
    ]);
    expect(await evBytes('return cmsgpack.pack(1.5, 0.1, 1/0, 0/0, -0.0, 2^63, -2^63)')).toEqual([
      0xca, 0x3f, 0xc0, 0, 0, 0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, 0xca, 0x7f, 0x80, 0, 0,
      0xcb, 0xff, 0xf8, 0, 0, 0, 0, 0, 0, 0x00, 0xca, 0x5f, 0, 0, 0, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(await evBytes('return cmsgpack.pack(nil, true, false)')).toEqual([0xc0, 0xc3, 0xc2]);
  });

  it('strings: fixstr, str8, str16 (binary safe)', async () => {
    expect(await evBytes('return cmsgpack.pack(ARGV[1])', Buffer.from([0, 0x80, 0xff]))).toEqual([0xa3, 0, 0x80, 0xff]);
    expect((await evBytes("return cmsgpack.pack(string.rep('a', 40))")).slice(0, 3)).toEqual([0xd9, 40, 0x61]);
    expect((await evBytes("return cmsgpack.pack(string.rep('a', 300))")).slice(0, 4)).toEqual([0xda, 0x01, 0x2c, 0x61]);
  });

  it('tables: sequences as arrays, others as maps, deep nesting as nil', async () => {
    expect(await evBytes("return cmsgpack.pack({}, {1, 2}, {[1]=1, [3]=3}, {a=1}, {[1.5]=2})")).toEqual([
      0x90, 0x92, 0x01, 0x02, 0x82, 0x01, 0x01, 0x03, 0x03, 0x81, 0xa1, 0x61, 0x01, 0x81, 0xca, 0x3f, 0xc0, 0, 0, 0x02,
    ]);
    expect(await evBytes('local t = {} for i = 1, 20 do t = {t} end return cmsgpack.pack(t)')).toEqual([...Array(16).fill(0x91), 0xc0]);
    expect((await evBytes('local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t)')).slice(0, 4)).toEqual([0xdc, 0, 16, 1]);
  });

  it('needs input', async () => {
    const body = 'return cmsgpack.pack()';
    expect(await err(body)).toBe(scriptErr(body, "bad argument #0 to 'pack' (MessagePack pack needs input.)"));
  });
});

describe('cmsgpack.unpack', () => {
  it('round trips every value', async () => {
    expect(await ev("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, true, false, 7))}")).toEqual([1, 'two', [3, 4], 1, null, 7]);
    expect(await ev("local t = cmsgpack.unpack(cmsgpack.pack({a = 1, b = {c = 'x'}})) return {t.a, t.b.c}")).toEqual([1, 'x']);
    expect(await ev('local r = {cmsgpack.unpack(cmsgpack.pack(1.5, -2^63, 1/0))} for i = 1, #r do r[i] = tostring(r[i]) end return r')).toEqual([
      '1.5',
      '-9.2233720368548e+18',
      'inf',
    ]);
  });

  it('reads str8/16/32; uint64 as int64 bits; bin and ext are bad data', async () => {
    expect(await ev("return {cmsgpack.unpack('\\217\\1e\\218\\0\\1f\\219\\0\\0\\0\\1g')}")).toEqual(['e', 'f', 'g']);
    expect(await ev("return tostring(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))")).toBe('-1');
    for (const body of ["return cmsgpack.unpack('\\196\\2ab')", "return cmsgpack.unpack('\\199\\1\\1\\1')", "return cmsgpack.unpack('\\193')"]) {
      expect(await err(body)).toBe(scriptErr(body, 'Bad data format in input.'));
    }
    const body = "return cmsgpack.unpack('\\146\\1')";
    expect(await err(body)).toBe(scriptErr(body, 'Missing bytes in input.'));
  });

  it('unpack_one and unpack_limit return the next offset (-1 at the end)', async () => {
    expect(await ev('return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}')).toEqual([1, 1]);
    expect(await ev('return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}')).toEqual([-1, 3]);
    expect(await ev("return {cmsgpack.unpack_one('')}")).toEqual([-1]);
    expect(await ev('return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}')).toEqual([-1, 2, 3]);
    expect(await ev('return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}')).toEqual([1]);
    // limit 0 from offset 0 decodes everything, like unpack.
    expect(await ev('return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}')).toEqual([1, 2, 3]);
    let body = 'return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)';
    expect(await err(body)).toBe(scriptErr(body, 'Invalid request to unpack with offset of 0 and limit of 3.'));
    body = 'return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)';
    expect(await err(body)).toBe(scriptErr(body, 'Start offset 4 greater than input length 3.'));
  });
});

describe('struct', () => {
  it('pack: endianness, sizes, alignment, strings', async () => {
    expect(await evBytes("return struct.pack('>i2<i2', 1, 2)")).toEqual([0, 1, 2, 0]);
    expect(await evBytes("return struct.pack('<i10', -1)")).toEqual([...Array(8).fill(0xff), 0, 0]);
    expect(await evBytes("return struct.pack('!bi', 1, 2)")).toEqual([1, 0, 0, 0, 2, 0, 0, 0]);
    expect(await evBytes("return struct.pack('!2bi', 1, 2)")).toEqual([1, 0, 2, 0, 0, 0]);
    expect(await evBytes("return struct.pack('c5s', 'abcdefg', 'a\\0b')")).toEqual([0x61, 0x62, 0x63, 0x64, 0x65, 0x61, 0, 0x62, 0]);
    expect(await evBytes("return struct.pack('>d', 1.5) .. struct.pack('f', 0/0)")).toEqual([0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff]);
  });

  it('unpack returns the values then the next position', async () => {
    expect(await ev("return {struct.unpack('>i2<i2', '\\0\\1\\2\\0')}")).toEqual([1, 2, 5]);
    expect(await ev("return {struct.unpack('bc0', '\\3abcdef')}")).toEqual(['abc', 5]);
    expect(await ev("return {struct.unpack('s s', 'ab\\0cd\\0e')}")).toEqual(['ab', 'cd', 7]);
    expect(await ev("return {struct.unpack('b', 'abc', 3)}")).toEqual([99, 4]);
    expect(await ev("return {struct.unpack('', 'abc', 9)}")).toEqual([9]);
  });

  it('size', async () => {
    expect(await ev("return {struct.size('bBhHlLTiIfdx'), struct.size('!bid'), struct.size('zq i'), struct.size('c')}")).toEqual([51, 16, 4, 1]);
  });

  it('errors are those of Redis', async () => {
    const cases: [string, string][] = [
      ["return struct.pack('c5', 'ab')", "bad argument #3 to 'pack' (string too short)"],
      ["return struct.pack('z', 1)", "bad argument #1 to 'pack' (invalid format option 'z')"],
      ["return struct.pack('i33', 1)", 'integral size 33 is larger than limit of 32'],
      ["return struct.pack('i99999999999', 1)", 'integral size overflow'],
      ["return struct.pack('!3i', 1)", 'alignment 3 is not a power of 2'],
      ["return struct.pack('ii', 1)", "bad argument #3 to 'pack' (number expected, got nil)"],
      ["return struct.unpack('b', 'abc', 0)", "bad argument #3 to 'unpack' (offset must be 1 or greater)"],
      ["return struct.unpack('i', 'abc')", "bad argument #2 to 'unpack' (data string too short)"],
      ["return struct.unpack('s', 'abc')", 'unfinished string in data'],
      ["return struct.unpack('c0', 'abc')", "format 'c0' needs a previous size"],
      ["return struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)"],
      ["return struct.size('c0')", "bad argument #1 to 'size' (option 'c0' has no fixed size)"],
    ];
    for (const [body, msg] of cases) expect(await err(body)).toBe(scriptErr(body, msg));
  });
});

describe('INFO memory scripting fields', () => {
  const info = (): Promise<Record<string, string>> => infoFields(c, 'memory');

  it('count the cached scripts and their memory like Redis 7.0', async () => {
    await c.call('SCRIPT', 'FLUSH');
    let m = await info();
    expect(m.number_of_cached_scripts).toBe('0');
    expect(m.used_memory_scripts_eval).toBe('0');
    expect(m.used_memory_lua).toBe('32768');
    expect(m.used_memory_vm_eval).toBe(m.used_memory_lua);
    expect(m.used_memory_lua_human).toBe('32.00K');
    await c.call('SCRIPT', 'LOAD', 'return 1');
    await c.call('SCRIPT', 'LOAD', 'return 1');
    await c.call('SCRIPT', 'LOAD', 'return 1 --' + 'x'.repeat(102));
    await c.call('EVAL', 'return 2', '0');
    m = await info();
    // The byte counts of redis-server 7.0.15 for the same scripts.
    expect(m.number_of_cached_scripts).toBe('3');
    expect(m.used_memory_scripts_eval).toBe('456');
    expect(Number(m.used_memory_scripts)).toBe(456 + Number(m.used_memory_functions));
    expect(Number(m.used_memory_vm_total)).toBe(Number(m.used_memory_vm_eval) + Number(m.used_memory_vm_functions));
    await c.call('SCRIPT', 'FLUSH');
    m = await info();
    expect(m.number_of_cached_scripts).toBe('0');
    expect(m.used_memory_scripts_eval).toBe('0');
  });
});

describe('tostring of numbers', () => {
  it('is "%.14g" with exact ties rounded to even, like Lua 5.1 in Redis', async () => {
    expect(
      await ev('return {tostring(123456789012345), tostring(100000000000005), tostring(100000000000015), tostring(2^-21), tostring(-2^-21), tostring(2^53), tostring(0.1), tostring(-1e-5)}'),
    ).toEqual(['1.2345678901234e+14', '1e+14', '1.0000000000002e+14', '4.7683715820312e-07', '-4.7683715820312e-07', '9.007199254741e+15', '0.1', '-1e-05']);
  });

  it('also when numbers are concatenated or passed as strings', async () => {
    expect(await ev("return {'' .. 2^-21, 1e15 .. '', (1/0) .. '', 0.1 .. '', 3 / 2 .. ''}")).toEqual(['4.7683715820312e-07', '1e+15', 'inf', '0.1', '1.5']);
    expect(await ev("return struct.pack('s', 1e15)")).toBe('1e+15\0');
  });
});
