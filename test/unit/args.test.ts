import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { intArg, longArg, int64Arg, floatArg, parseOptions, cursorArg, timeoutArg, is } from '../../src/commands/args.js';

const NOT_INT = 'ERR value is not an integer or out of range';

describe('integer arguments (string2ll rules)', () => {
  it('accepts canonical integers only', () => {
    expect(intArg('12')).toBe(12);
    expect(intArg('-7')).toBe(-7);
    expect(intArg('0')).toBe(0);
    for (const bad of ['012', '+1', ' 1', '1 ', '1.0', '', '-', '0x10', '1e3', '--1']) {
      expect(() => intArg(bad), bad).toThrow(NOT_INT);
    }
  });

  it('uses the caller-supplied error text', () => {
    expect(() => intArg('x', 'ERR invalid DB index')).toThrow('ERR invalid DB index');
  });

  it('int64Arg is exact over the whole signed 64-bit range and rejects overflow', () => {
    expect(int64Arg('9223372036854775807')).toBe(9223372036854775807n);
    expect(int64Arg('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(() => int64Arg('9223372036854775808')).toThrow(NOT_INT);
    expect(() => int64Arg('-9223372036854775809')).toThrow(NOT_INT);
    expect(longArg('9223372036854775807')).toBe(Number(9223372036854775807n));
    expect(() => intArg('9223372036854775807')).toThrow(NOT_INT); // beyond a safe JS integer
  });

  it('round-trips every safe integer', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => intArg(String(n)) === n));
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => int64Arg(n.toString()) === n));
  });
});

describe('float arguments (strtod rules)', () => {
  it('parses decimals, exponents and infinities', () => {
    expect(floatArg('1.5')).toBe(1.5);
    expect(floatArg('-2e3')).toBe(-2000);
    expect(floatArg('inf')).toBe(Infinity);
    expect(floatArg('-inf')).toBe(-Infinity);
    expect(floatArg('+inf')).toBe(Infinity);
  });
  it('rejects NaN, blanks and trailing garbage', () => {
    for (const bad of ['nan', '', ' 1', '1 ', '1.5x', 'abc']) {
      expect(() => floatArg(bad), bad).toThrow('ERR value is not a valid float');
    }
  });
});

describe('parseOptions', () => {
  const spec = { NX: { conflicts: ['XX'] }, XX: { conflicts: ['NX'] }, EX: { values: 1 }, GET: {} } as const;

  it('collects tokens case-insensitively with their values', () => {
    const m = parseOptions(['SET', 'k', 'v', 'nx', 'Ex', '10', 'get'], 3, spec);
    expect([...m.entries()]).toEqual([
      ['NX', []],
      ['EX', ['10']],
      ['GET', []],
    ]);
  });

  it('unknown, conflicting, repeated tokens and missing values are syntax errors', () => {
    const bad = [['FOO'], ['NX', 'XX'], ['XX', 'NX'], ['GET', 'GET'], ['EX']];
    for (const tail of bad) {
      expect(() => parseOptions(['SET', 'k', 'v', ...tail], 3, spec), tail.join(' ')).toThrow('ERR syntax error');
    }
  });
});

describe('cursorArg (strtoull rules, like Redis SCAN)', () => {
  it('accepts unsigned 64-bit cursors', () => {
    expect(cursorArg('0')).toBe(0);
    expect(cursorArg('42')).toBe(42);
    expect(cursorArg('')).toBe(0);
  });
  it('wraps negatives modulo 2^64 and rejects garbage and overflow', () => {
    expect(cursorArg('-1')).toBe(Number.MAX_SAFE_INTEGER); // 2^64-1, clamped: past every slot
    for (const bad of ['abc', '1x', '18446744073709551616', '-']) expect(() => cursorArg(bad), bad).toThrow('ERR invalid cursor');
  });
});

describe('timeoutArg (seconds, fractional, to ms rounded up)', () => {
  it('converts to milliseconds', () => {
    expect(timeoutArg('0')).toBe(0);
    expect(timeoutArg('0.1')).toBe(100);
    expect(timeoutArg('1.0001')).toBe(1001);
    expect(timeoutArg('2')).toBe(2000);
  });
  it('rejects negative and non-float timeouts with Redis texts', () => {
    expect(() => timeoutArg('-1')).toThrow('ERR timeout is negative');
    expect(() => timeoutArg('abc')).toThrow('ERR timeout is not a float or out of range');
  });
});

describe('is', () => {
  it('compares tokens case-insensitively and exactly', () => {
    expect(is('nx', 'NX')).toBe(true);
    expect(is('Nx', 'NX')).toBe(true);
    expect(is('nxx', 'NX')).toBe(false);
    expect(is(undefined, 'NX')).toBe(false);
  });
});
