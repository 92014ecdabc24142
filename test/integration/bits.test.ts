/**
 * Bitmap commands through real clients (ioredis RESP2, node-redis RESP2/RESP3).
 * Expected replies and error texts were checked against redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { RESP_TYPES, serverForFile, startTestServer, type TestServer } from '../helpers/server.js';
import { NOT_INT, SYNTAX, WRONGTYPE, keyMaker, latin1 as B } from '../helpers/expect.js';

const { srv, c, makeList, propagated } = await serverForFile();
const k = keyMaker('bits');

const BAD_OFFSET = 'ERR bit offset is not an integer or out of range';

describe('SETBIT / GETBIT', () => {
  it('sets and reads bits MSB first, growing the string with zeros', async () => {
    const key = k('sb');
    expect(await c.setbit(key, 7, 1)).toBe(0);
    expect(await c.getBuffer(key)).toEqual(B('\x01'));
    expect(await c.setbit(key, 7, 1)).toBe(1);
    expect(await c.setbit(key, 0, 1)).toBe(0);
    expect(await c.getBuffer(key)).toEqual(B('\x81'));
    expect(await c.setbit(key, 23, 1)).toBe(0);
    expect(await c.getBuffer(key)).toEqual(B('\x81\x00\x01'));
    expect(await c.getbit(key, 0)).toBe(1);
    expect(await c.getbit(key, 1)).toBe(0);
    expect(await c.getbit(key, 23)).toBe(1);
    expect(await c.getbit(key, 1000)).toBe(0);
    expect(await c.getbit(k('missing'), 100)).toBe(0);
    expect(await c.setbit(key, 7, 0)).toBe(1);
    expect(await c.getBuffer(key)).toEqual(B('\x80\x00\x01'));
    // On a value set by SET (and then mutated in place).
    const s = k('s');
    await c.set(s, 'abc');
    expect(await c.getbit(s, 1)).toBe(1);
    expect(await c.setbit(s, 1, 0)).toBe(1);
    expect(await c.get(s)).toBe('!bc');
    expect(await c.setbit(s, 30, 1)).toBe(0);
    expect(await c.get(s)).toBe('!bc\x02');
  });

  it('errors: bit value, offset, wrong type (offset checked first)', async () => {
    const key = k('err');
    const l = k('list');
    await makeList(l);
    await expect(c.call('SETBIT', key, '7', '2')).rejects.toThrow('ERR bit is not an integer or out of range');
    await expect(c.call('SETBIT', key, '7', '-1')).rejects.toThrow('ERR bit is not an integer or out of range');
    await expect(c.call('SETBIT', key, '7', 'x')).rejects.toThrow('ERR bit is not an integer or out of range');
    await expect(c.call('SETBIT', key, 'x', '1')).rejects.toThrow(BAD_OFFSET);
    await expect(c.call('SETBIT', key, '-1', '1')).rejects.toThrow(BAD_OFFSET);
    await expect(c.call('SETBIT', key, '01', '1')).rejects.toThrow(BAD_OFFSET);
    await expect(c.call('SETBIT', key, '4294967296', '1')).rejects.toThrow(BAD_OFFSET);
    await expect(c.call('GETBIT', key, '4294967296')).rejects.toThrow(BAD_OFFSET);
    expect(await c.call('GETBIT', key, '4294967295')).toBe(0);
    await expect(c.setbit(l, 0, 1)).rejects.toThrow(WRONGTYPE);
    await expect(c.call('SETBIT', l, '-1', '1')).rejects.toThrow(BAD_OFFSET);
    await expect(c.call('SETBIT', l, '0', '5')).rejects.toThrow('ERR bit is not an integer or out of range');
    await expect(c.getbit(l, 0)).rejects.toThrow(WRONGTYPE);
    await expect(c.call('GETBIT', l, '-1')).rejects.toThrow(BAD_OFFSET);
    expect(await c.exists(key)).toBe(0);
  });

  it('propagates only writes that change something', async () => {
    const key = k('prop');
    const out = await propagated(async () => {
      await c.setbit(key, 1, 0); // creates the key
      await c.setbit(key, 1, 0); // no change
      await c.setbit(key, 1, 1);
      await c.setbit(key, 100, 0); // grows the string
    });
    expect(out).toEqual([
      ['setbit', key, '1', '0'],
      ['setbit', key, '1', '1'],
      ['setbit', key, '100', '0'],
    ]);
  });
});

describe('BITCOUNT', () => {
  it('whole string, BYTE and BIT ranges, negative indexes', async () => {
    const key = k('bc');
    await c.set(key, 'foobar');
    expect(await c.bitcount(key)).toBe(26);
    expect(await c.bitcount(key, 0, 0)).toBe(4);
    expect(await c.bitcount(key, 1, 1)).toBe(6);
    expect(await c.call('BITCOUNT', key, '1', '1', 'BIT')).toBe(1);
    expect(await c.call('BITCOUNT', key, '5', '30', 'bit')).toBe(17);
    expect(await c.call('BITCOUNT', key, '0', '-1', 'bYte')).toBe(26);
    expect(await c.call('BITCOUNT', key, '-3', '-1', 'BIT')).toBe(1);
    expect(await c.bitcount(key, -100, -50)).toBe(4);
    expect(await c.call('BITCOUNT', key, '-9223372036854775807', '-9223372036854775808')).toBe(0);
    expect(await c.bitcount(k('missing'))).toBe(0);
    await c.set(key, '');
    expect(await c.bitcount(key)).toBe(0);
    const m = k('m');
    await c.setrange(m, 0, 'foobar');
    expect(await c.bitcount(m, 1, -2)).toBe(18);
  });

  it('argument errors, in Redis order', async () => {
    const key = k('bcerr');
    await c.set(key, 'foobar');
    await expect(c.call('BITCOUNT', key, '1')).rejects.toThrow(SYNTAX);
    await expect(c.call('BITCOUNT', key, '1', '2', '3', '4')).rejects.toThrow(SYNTAX);
    await expect(c.call('BITCOUNT', key, 'a', '1')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITCOUNT', key, '0', 'a')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITCOUNT', key, '0', '1', 'FOO')).rejects.toThrow(SYNTAX);
    // Both negative with start > end answers 0 before the unit is looked at.
    expect(await c.call('BITCOUNT', key, '-1', '-5', 'FOO')).toBe(0);
    // A missing key answers 0 before any argument is parsed.
    expect(await c.call('BITCOUNT', k('missing'), '1')).toBe(0);
    const l = k('list');
    await makeList(l);
    await expect(c.bitcount(l)).rejects.toThrow(WRONGTYPE);
  });
});

describe('BITPOS', () => {
  it('finds set and clear bits with BYTE and BIT ranges', async () => {
    const key = k('bp');
    await c.set(key, B('\xff\xf0\x00'));
    expect(await c.bitpos(key, 0)).toBe(12);
    expect(await c.bitpos(key, 1, 2)).toBe(-1);
    expect(await c.call('BITPOS', key, '1', '0')).toBe(0);
    expect(await c.call('BITPOS', key, '0', '0', '-1', 'bit')).toBe(12);
    expect(await c.call('BITPOS', key, '1', '7', '15', 'bit')).toBe(7);
    expect(await c.call('BITPOS', key, '0', '12', '23', 'BIT')).toBe(12);
    expect(await c.call('BITPOS', key, '0', '-1', '-1')).toBe(16);
    const ff = k('ff');
    await c.set(ff, B('\xff\xff'));
    // No clear bit: past the end unless an end was given.
    expect(await c.bitpos(ff, 0)).toBe(16);
    expect(await c.bitpos(ff, 0, 0)).toBe(16);
    expect(await c.bitpos(ff, 0, 0, -1)).toBe(-1);
    expect(await c.call('BITPOS', ff, '1', '-3', '-1', 'bit')).toBe(13);
    const e = k('e');
    await c.set(e, '');
    expect(await c.bitpos(e, 0)).toBe(-1);
    expect(await c.bitpos(e, 1)).toBe(-1);
    expect(await c.bitpos(k('missing'), 0)).toBe(0);
    expect(await c.bitpos(k('missing'), 1)).toBe(-1);
  });

  it('argument errors', async () => {
    const key = k('bperr');
    await c.set(key, 'x');
    await expect(c.call('BITPOS', key, '2')).rejects.toThrow('ERR The bit argument must be 1 or 0.');
    await expect(c.call('BITPOS', k('missing'), '2')).rejects.toThrow('ERR The bit argument must be 1 or 0.');
    await expect(c.call('BITPOS', key, 'a')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITPOS', key, '1', 'a')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITPOS', key, '1', '0', 'a')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITPOS', key, '1', '0', 'bit')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITPOS', key, '1', '0', '1', 'FOO')).rejects.toThrow(SYNTAX);
    await expect(c.call('BITPOS', key, '1', '0', 'a', 'FOO')).rejects.toThrow(SYNTAX);
    await expect(c.call('BITPOS', key, '1', '0', '1', 'bit', 'x')).rejects.toThrow(SYNTAX);
    expect(await c.call('BITPOS', k('missing'), '0', 'a', 'b', 'c', 'd', 'e')).toBe(0);
    const l = k('list');
    await makeList(l);
    await expect(c.bitpos(l, 1)).rejects.toThrow(WRONGTYPE);
  });
});

describe('BITOP', () => {
  it('AND / OR / XOR / NOT with zero padding and missing keys', async () => {
    const [a, b, d] = [k('a'), k('b'), k('d')];
    await c.set(a, B('\xff\xf0\x00'));
    await c.set(b, B('\x0f\xff'));
    expect(await c.bitop('AND', d, a, b)).toBe(3);
    expect(await c.getBuffer(d)).toEqual(B('\x0f\xf0\x00'));
    expect(await c.bitop('OR', d, a, b)).toBe(3);
    expect(await c.getBuffer(d)).toEqual(B('\xff\xff\x00'));
    expect(await c.bitop('XOR', d, a, b, a)).toBe(3);
    expect(await c.getBuffer(d)).toEqual(B('\x0f\xff\x00'));
    expect(await c.bitop('NOT', d, b)).toBe(2);
    expect(await c.getBuffer(d)).toEqual(B('\xf0\x00'));
    expect(await c.call('BITOP', 'and', d, a, k('missing'))).toBe(3);
    expect(await c.getBuffer(d)).toEqual(B('\x00\x00\x00'));
    // The destination may be a source.
    expect(await c.call('BITOP', 'not', a, a)).toBe(3);
    expect(await c.getBuffer(a)).toEqual(B('\x00\x0f\xff'));
  });

  it('an empty result deletes the destination, whatever its type', async () => {
    const d = k('d');
    await c.set(d, 'x');
    expect(await c.call('BITOP', 'xor', d, k('n1'), k('n2'))).toBe(0);
    expect(await c.exists(d)).toBe(0);
    const l = k('l');
    await makeList(l);
    expect(await c.call('BITOP', 'Or', l, k('n1'))).toBe(0);
    expect(await c.exists(l)).toBe(0);
  });

  it('errors', async () => {
    const [a, l, d] = [k('a'), k('l'), k('d')];
    await c.set(a, 'x');
    await makeList(l);
    await expect(c.call('BITOP', 'foo', d, a)).rejects.toThrow(SYNTAX);
    await expect(c.call('BITOP', 'NOT', d, a, a)).rejects.toThrow('ERR BITOP NOT must be called with a single source key.');
    await expect(c.call('BITOP', 'NOT', d, l)).rejects.toThrow(WRONGTYPE);
    await expect(c.call('BITOP', 'OR', d, a, l)).rejects.toThrow(WRONGTYPE);
    await expect(c.call('BITOP', 'OR', d)).rejects.toThrow("ERR wrong number of arguments for 'bitop' command");
    expect(await c.exists(d)).toBe(0);
  });
});

describe('BITFIELD / BITFIELD_RO', () => {
  it('GET / SET / INCRBY with WRAP, SAT and FAIL', async () => {
    const key = k('bf');
    expect(
      await c.call(
        'BITFIELD', key,
        'INCRBY', 'i8', '0', '200',
        'OVERFLOW', 'SAT', 'INCRBY', 'i8', '0', '200',
        'OVERFLOW', 'FAIL', 'INCRBY', 'i8', '0', '-300',
        'GET', 'i8', '0',
        'OVERFLOW', 'WRAP', 'SET', 'u8', '#1', '-1',
        'GET', 'u8', '8',
      ),
    ).toEqual([-56, 127, null, 127, 0, 255]);
    expect(await c.getBuffer(key)).toEqual(B('\x7f\xff'));
    expect(await c.call('BITFIELD', key, 'OVERFLOW', 'SAT', 'SET', 'u8', '0', '-1', 'SET', 'i8', '8', '-1000', 'INCRBY', 'u4', '0', '-100')).toEqual([
      127, -1, 0,
    ]);
    expect(await c.call('BITFIELD', key, 'SET', 'i5', '3', '100', 'GET', 'u2', '0', 'INCRBY', 'u1', '4', '1', 'INCRBY', 'u1', '4', '1')).toEqual([15, 0, 1, 0]);
  });

  it('64-bit fields are exact', async () => {
    const key = k('bf64');
    const n = await srv.nodeRedis(3);
    const typeMapping = { [RESP_TYPES.NUMBER]: String };
    expect(await n.sendCommand(['BITFIELD', key, 'SET', 'i64', '0', '-9223372036854775808', 'GET', 'i64', '0', 'GET', 'u63', '0'], { typeMapping })).toEqual([
      '0', '-9223372036854775808', '4611686018427387904',
    ]);
    expect(await n.sendCommand(['BITFIELD', key, 'OVERFLOW', 'SAT', 'INCRBY', 'i64', '0', '-1', 'SET', 'i64', '0', '9223372036854775807'], { typeMapping })).toEqual([
      '-9223372036854775808', '-9223372036854775808',
    ]);
    expect(await c.getBuffer(key)).toEqual(B('\x7f\xff\xff\xff\xff\xff\xff\xff'));
    expect(await n.sendCommand(['BITFIELD', key, 'INCRBY', 'i64', '0', '1'], { typeMapping })).toEqual(['-9223372036854775808']);
    await c.set(key, B('\x00\x00\x00\x00\x00\x00\x00\x00\x01'));
    expect(await c.call('BITFIELD', key, 'SET', 'u63', '9', '18014398509481985')).toEqual([1]);
    // 2^54 + 1 is not a safe integer.
    expect(await n.sendCommand(['BITFIELD', key, 'GET', 'u63', '9'], { typeMapping })).toEqual(['18014398509481985']);
  });

  it('reads past the end as zeros; plain SET values are read in place', async () => {
    const key = k('read');
    await c.set(key, 'hello');
    expect(await c.call('BITFIELD_RO', key, 'GET', 'u8', '0', 'GET', 'i16', '4', 'GET', 'u32', '#1', 'GET', 'i64', '3', 'GET', 'u8', '40')).toEqual([
      104, -31146, 1862270976, 4840071503405907968, 0,
    ]);
    expect(await c.call('BITFIELD_RO', k('missing'), 'GET', 'u8', '0')).toEqual([0]);
    expect(await c.call('BITFIELD', k('missing'))).toEqual([]);
    const none = k('none');
    expect(await c.call('BITFIELD', none, 'OVERFLOW', 'SAT')).toEqual([]);
    expect(await c.exists(none)).toBe(0);
  });

  it('FAIL still creates the key but propagates nothing; unchanged SETs do not propagate', async () => {
    const key = k('fail');
    const out = await propagated(async () => {
      expect(await c.call('BITFIELD', key, 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '100', '8')).toEqual([null]);
      expect(await c.call('BITFIELD', key, 'SET', 'u8', '0', '0')).toEqual([0]);
      expect(await c.call('BITFIELD', key, 'SET', 'u8', '0', '65')).toEqual([0]);
    });
    expect(await c.strlen(key)).toBe(13);
    expect(out).toEqual([['BITFIELD', key, 'SET', 'u8', '0', '65']]);
    const n = await srv.nodeRedis(3);
    expect(await n.sendCommand(['BITFIELD', key, 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '1000'])).toEqual([null]);
  });

  it('errors', async () => {
    const [key, l] = [k('err'), k('l')];
    await makeList(l);
    const TYPE = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
    await expect(c.call('BITFIELD', l)).rejects.toThrow(WRONGTYPE);
    await expect(c.call('BITFIELD_RO', l)).rejects.toThrow(WRONGTYPE);
    await expect(c.call('BITFIELD', l, 'GET', 'u8', '0', 'SET', 'u8', '0', '1')).rejects.toThrow(WRONGTYPE);
    await expect(c.call('BITFIELD', key, 'GET', 'u8')).rejects.toThrow(SYNTAX);
    await expect(c.call('BITFIELD', key, 'foo')).rejects.toThrow(SYNTAX);
    await expect(c.call('BITFIELD', key, 'OVERFLOW')).rejects.toThrow(SYNTAX);
    await expect(c.call('BITFIELD', key, 'OVERFLOW', 'foo')).rejects.toThrow('ERR Invalid OVERFLOW type specified');
    for (const t of ['u64', 'I8', 'u0', 'i65', 'i08']) {
      await expect(c.call('BITFIELD', key, 'GET', t, '0')).rejects.toThrow(TYPE);
    }
    for (const off of ['-1', '#-1', 'a', '4294967296', '#536870912']) {
      await expect(c.call('BITFIELD', key, 'GET', 'u8', off)).rejects.toThrow(BAD_OFFSET);
    }
    await expect(c.call('BITFIELD', key, 'SET', 'i8', '0', 'a')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITFIELD', key, 'INCRBY', 'u8', '0', '9223372036854775808')).rejects.toThrow(NOT_INT);
    await expect(c.call('BITFIELD_RO', key, 'SET', 'u8', '0', '1')).rejects.toThrow('ERR BITFIELD_RO only supports the GET subcommand');
    await expect(c.call('BITFIELD_RO', key, 'INCRBY', 'u8', '0', '1')).rejects.toThrow('ERR BITFIELD_RO only supports the GET subcommand');
    // Parse errors win over the BITFIELD_RO restriction.
    await expect(c.call('BITFIELD_RO', key, 'GET', 'u8', '0', 'SET', 'u8', '0', '1', 'GET', 'i8', 'x')).rejects.toThrow(BAD_OFFSET);
    expect(await c.exists(key)).toBe(0);
  });
});

describe('bit offsets follow proto-max-bulk-len', () => {
  let small: TestServer;
  let sc: Redis;
  beforeAll(async () => {
    small = await startTestServer({ 'proto-max-bulk-len': '1mb' });
    sc = small.client({ enableReadyCheck: false });
  });
  afterAll(async () => {
    await small.stop();
  });

  it('SETBIT / GETBIT / BITFIELD', async () => {
    const last = 1024 * 1024 * 8 - 1;
    expect(await sc.setbit('b', last, 1)).toBe(0);
    expect(await sc.strlen('b')).toBe(1024 * 1024);
    expect(await sc.getbit('b', last)).toBe(1);
    expect(await sc.bitcount('b')).toBe(1);
    expect(await sc.bitpos('b', 1)).toBe(last);
    await expect(sc.setbit('b', last + 1, 1)).rejects.toThrow(BAD_OFFSET);
    await expect(sc.getbit('b', last + 1)).rejects.toThrow(BAD_OFFSET);
    expect(await sc.call('BITFIELD', 'b', 'GET', 'u8', '#1048575')).toEqual([1]);
    await expect(sc.call('BITFIELD', 'b', 'GET', 'u8', '#1048576')).rejects.toThrow(BAD_OFFSET);
    // A field starting at the last allowed bit may extend a few bytes past the limit.
    expect(await sc.call('BITFIELD', 'b', 'SET', 'u16', String(last), '65535')).toEqual([32768]);
    expect(await sc.strlen('b')).toBe(1024 * 1024 + 2);
  });
});
