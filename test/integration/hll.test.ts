/**
 * HyperLogLog commands through real clients (ioredis RESP2, node-redis RESP3,
 * raw RESP bytes). Expected replies, bytes, error texts, events and
 * propagation were taken from redis-server 7.0.15.
 */
import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { serverForFile } from '../helpers/server.js';
import { err, WRONGTYPE, keyMaker } from '../helpers/expect.js';
import { RawClient } from '../helpers/raw-client.js';

const { srv, c, eventsOf, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA', 'enable-debug-command': 'yes' }, { eventLog: true });
const k = keyMaker('hll');

const NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const CORRUPT = 'INVALIDOBJ Corrupted HLL object detected';

const els = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => prefix + i);
const hex = async (key: string): Promise<string> => (await c.getBuffer(key))!.toString('hex');
const sha1 = async (key: string): Promise<string> => createHash('sha1').update((await c.getBuffer(key))!).digest('hex');

/** An HLL written by redis-server 7.0.15: PFADD of "r0" ... "r199" (sparse, 502 bytes, cache invalid). */
const REDIS_SPARSE_200 =
  'SFlMTAEAAAAAAAAAAAAAgEDlgEDMgEBjgDyAQHCEQQ2AJYBATIADhCWAQHSAAZhAaIgggBKAQMiMQTuEEIgChAuEQMGIQG2AQEWAFYBBFYxASoBAZ5A4gCCAHIAchByIQGaME6A1jEBLgEEMiBSAQFWEF4BAf4BAX4AYgEG2hBSAQFKMOYANjDaEQP2AIJALgEBDhEBKhEBKgCeAB4AQgAaAHIRAeICIBIAcgB+AJoBAVZBARYRArIBAlYQLjEBihEBWkEBIgB2AHYAajECsgBWAQHqcJoA4jDCEQHaAMoQ+jECUiDWABoRAapBAYoAFgECEgEBdgECchCuEIYBAYIBAbohAQIAAgDiEIIRAhYAohAOII4AMgEBqhED5gEBagDuEKogJgBSAHZwSiEGDkEBugEGbgBaAJ4QchEBPhB+AQPGEC4QUgAmIQICEOoBAaYAsjDSMQH+EAoQHgEB9kDOIM4BASJRAS4hAgYACgECSiCOAQGSAQLCIQSiIA4AbhEDcgBuAMoBB65QRhA+INYRAoI1ASIQCgASAQEyMAIQfgAuEQHOIQTCAEYBARohAn4AVhEC3nBqEAYRAd4AxhB+EF4hAf4ARgA+QQIiAQEGABow/jCqIIYBAbYBAhJAQgDCIQH2EGYRAoIBAQ4RAZ4RAjIhAUQ==';

describe('PFADD', () => {
  it('creates an empty sparse HLL, replying 1 even without elements', async () => {
    const key = k('empty');
    expect(await c.call('PFADD', key)).toBe(1);
    expect(await hex(key)).toBe('48594c4c010000000000000000000080' + '7fff'); // one XZERO of 16384, cache flagged invalid
    expect(await c.call('PFADD', key)).toBe(0);
    expect(await c.type(key)).toBe('string');
    expect(await c.object('ENCODING', key)).toBe('raw');
    expect(await c.call('PFCOUNT', key)).toBe(0);
  });

  it('writes the same bytes as redis-server and replies 1 only when a register changed', async () => {
    const key = k('abc');
    expect(await c.call('PFADD', key, 'a', 'b', 'c')).toBe(1);
    expect(await hex(key)).toBe('48594c4c01000000000000000000008060f38050b1844bfb80425a');
    expect(await c.call('PFADD', key, 'a', 'b')).toBe(0);
    expect(await c.call('PFDEBUG', 'DECODE', key)).toBe('Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603');
    expect(await c.call('PFADD', key, 'c', 'd')).toBe(1);
  });

  it('turns dense past hll-sparse-max-bytes, with the bytes redis-server has', async () => {
    const key = k('dense');
    await c.call('PFADD', key, ...els('el', 3000));
    expect(await c.call('PFDEBUG', 'ENCODING', key)).toBe('dense');
    expect(await c.strlen(key)).toBe(12304);
    expect(await sha1(key)).toBe('850859c236364c3a5c8b56cdc5e11bd4a6042206');
    await c.config('SET', 'hll-sparse-max-bytes', '100');
    try {
      const small = k('small');
      await c.call('PFADD', small, ...els('z', 28));
      expect(await c.call('PFDEBUG', 'ENCODING', small)).toBe('sparse');
      await c.call('PFADD', small, 'z28');
      expect(await c.call('PFDEBUG', 'ENCODING', small)).toBe('sparse');
      await c.call('PFADD', small, 'z29');
      expect(await c.call('PFDEBUG', 'ENCODING', small)).toBe('dense');
    } finally {
      await c.config('SET', 'hll-sparse-max-bytes', '3000');
    }
  });

  it('fires pfadd and counts a change per updated register', async () => {
    const key = k('ev');
    expect(await eventsOf(() => c.call('PFADD', key, 'x'))).toEqual([`pfadd ${key}`]);
    expect(await eventsOf(() => c.call('PFADD', key, 'x'))).toEqual([]);
    const dirty = srv.engine.dirty;
    await c.call('PFADD', key, 'a', 'b', 'c');
    expect(srv.engine.dirty - dirty).toBe(3);
    expect(await propagated(() => c.call('PFADD', key, 'q'))).toEqual([['PFADD', key, 'q']]);
    expect(await propagated(() => c.call('PFADD', key, 'q'))).toEqual([]);
  });

  it('refuses other types and strings that are not HLLs', async () => {
    const l = k('list');
    await c.rpush(l, 'x');
    expect(await err(c.call('PFADD', l, 'a'))).toBe(WRONGTYPE);
    const s = k('str');
    await c.set(s, 'hello');
    expect(await err(c.call('PFADD', s, 'a'))).toBe(NOT_HLL);
    await c.set(s, 'HYLL\x02' + '\0'.repeat(11));
    expect(await err(c.call('PFADD', s, 'a'))).toBe(NOT_HLL);
    await c.set(s, Buffer.concat([Buffer.from('HYLL\0'), Buffer.alloc(12298)])); // dense, one byte short
    expect(await err(c.call('PFADD', s, 'a'))).toBe(NOT_HLL);
    expect(await err(c.call('PFADD'))).toBe("ERR wrong number of arguments for 'pfadd' command");
  });

  it('detects a corrupt sparse code, keeping the changes made before it', async () => {
    const key = k('corrupt');
    // One XZERO run of 1000 registers: "ab" (register 719) fits, "a" (register 12711) does not.
    await c.set(key, Buffer.from('HYLL\x01' + '\0'.repeat(10) + '\x80' + '\x43\xe7', 'latin1'));
    expect(await err(c.call('PFADD', key, 'ab', 'a'))).toBe(CORRUPT);
    expect(await hex(key)).toBe('48594c4c01000000000000000000008042ce804117');
    expect(await c.call('PFDEBUG', 'DECODE', key)).toBe('Z:719 v:1,1 Z:280');
    expect(await err(c.call('PFCOUNT', key))).toBe(CORRUPT);
    expect(await err(c.call('PFCOUNT', key, key))).toBe(CORRUPT);
    const d = k('dest');
    expect(await err(c.call('PFMERGE', d, key))).toBe(CORRUPT);
    expect(await c.exists(d)).toBe(0);
    expect(await err(c.call('PFDEBUG', 'TODENSE', key))).toBe(CORRUPT);
    expect(await err(c.call('PFDEBUG', 'GETREG', key))).toBe(CORRUPT);
  });
});

describe('PFCOUNT', () => {
  it('caches the estimate in the header and invalidates it on change', async () => {
    const key = k('cache');
    await c.call('PFADD', key, 'a', 'b', 'c');
    expect((await hex(key)).slice(16, 32)).toBe('0000000000000080');
    expect(await c.call('PFCOUNT', key)).toBe(3);
    expect((await hex(key)).slice(16, 32)).toBe('0300000000000000');
    await c.call('PFADD', key, 'd');
    // Only the flag bit is set: the stale value stays.
    expect((await hex(key)).slice(16, 32)).toBe('0300000000000080');
    expect(await c.call('PFCOUNT', key)).toBe(4);
  });

  it('answers a valid cached value without counting', async () => {
    const key = k('bogus');
    await c.set(key, Buffer.from('HYLL\x01\0\0\0\x39\x30\0\0\0\0\0\0\x7f\xff', 'latin1'));
    expect(await c.call('PFCOUNT', key)).toBe(12345);
    expect(await c.object('ENCODING', key)).toBe('raw'); // PFCOUNT unshares the value, as Redis does
  });

  it('counts a value written by redis-server', async () => {
    const key = k('redis');
    await c.set(key, Buffer.from(REDIS_SPARSE_200, 'base64'));
    expect(await c.call('PFCOUNT', key)).toBe(200);
    expect((await hex(key)).slice(0, 32)).toBe('48594c4c01000000c800000000000000');
  });

  it('is a write for the cache update: dirty, propagated, WATCH broken, no event', async () => {
    const key = k('w');
    await c.call('PFADD', key, 'x');
    expect(await propagated(() => c.call('PFCOUNT', key))).toEqual([['PFCOUNT', key]]);
    expect(await propagated(() => c.call('PFCOUNT', key))).toEqual([]);
    await c.call('PFADD', key, 'y');
    expect(await eventsOf(() => c.call('PFCOUNT', key))).toEqual([]);
    await c.call('PFADD', key, 'z');
    const w = srv.client({ enableReadyCheck: false });
    await w.watch(key);
    await c.call('PFCOUNT', key);
    expect(await w.multi().get(key).exec()).toBeNull();
    await w.watch(key);
    await c.call('PFCOUNT', key); // cache valid: not a change
    expect(await w.multi().call('PFCOUNT', key).exec()).toEqual([[null, 3]]);
  });

  it('counts the union of several keys without caching, missing keys ignored', async () => {
    const a = k('ua');
    const b = k('ub');
    await c.set(a, Buffer.from(REDIS_SPARSE_200, 'base64'));
    await c.call('PFADD', b, ...els('el', 3000));
    expect(await c.call('PFCOUNT', a, b, k('none'))).toBe(3188);
    expect((await hex(a)).slice(16, 32)).toBe('0000000000000080');
    expect(await c.call('PFCOUNT', k('none'), k('none'))).toBe(0);
    const s = k('s');
    await c.set(s, 'nope');
    expect(await err(c.call('PFCOUNT', a, s))).toBe(NOT_HLL);
    await c.rpush(s + 'l', 'x');
    expect(await err(c.call('PFCOUNT', s + 'l'))).toBe(WRONGTYPE);
    expect(await c.call('PFCOUNT', k('missing'))).toBe(0);
  });

  it('stays within Redis\'s standard error on 200,000 elements', async () => {
    const key = k('big');
    for (let i = 0; i < 200_000; i += 5000) await c.call('PFADD', key, ...els(`big:${i}:`, 5000));
    const n = Number(await c.call('PFCOUNT', key));
    expect(Math.abs(n - 200_000) / 200_000).toBeLessThan(3 * 0.0081);
  });
});

describe('PFMERGE', () => {
  it('merges into a new sparse destination when every source is sparse (bytes as redis-server)', async () => {
    const a = k('ma');
    const b = k('mb');
    const d = k('md');
    await c.set(a, Buffer.from(REDIS_SPARSE_200, 'base64'));
    await c.call('PFADD', b, ...els('q', 20));
    expect(await c.call('PFMERGE', d, a, b)).toBe('OK');
    expect(await c.call('PFDEBUG', 'ENCODING', d)).toBe('sparse');
    expect(await c.strlen(d)).toBe(544);
    expect(await sha1(d)).toBe('2a945bb3deac8688787b7ede6980a7b927754882');
    expect(await c.call('PFCOUNT', d)).toBe(220);
  });

  it('makes the destination dense when a source is dense', async () => {
    const a = k('da');
    const b = k('db');
    const d = k('dd');
    await c.set(a, Buffer.from(REDIS_SPARSE_200, 'base64'));
    await c.call('PFADD', b, ...els('el', 3000));
    expect(await c.call('PFMERGE', d, a, b)).toBe('OK');
    expect(await c.call('PFCOUNT', d)).toBe(3188);
    expect(await sha1(d)).toBe('0fe102fa1a75e7730f3e6d20e22c7202d64a99d4');
  });

  it('includes the destination, creates it when nothing exists, and fires pfadd', async () => {
    const d = k('self');
    expect(await eventsOf(() => c.call('PFMERGE', d))).toEqual([`pfadd ${d}`]);
    expect(await c.call('PFCOUNT', d)).toBe(0);
    await c.call('PFADD', d, 'a');
    const s = k('src');
    await c.call('PFADD', s, 'b');
    await c.call('PFMERGE', d, s);
    expect(await c.call('PFCOUNT', d)).toBe(2);
    const str = k('str');
    await c.set(str, 'x');
    expect(await err(c.call('PFMERGE', str, s))).toBe(NOT_HLL);
    expect(await err(c.call('PFMERGE', d, str))).toBe(NOT_HLL);
    expect(await err(c.call('PFMERGE'))).toBe("ERR wrong number of arguments for 'pfmerge' command");
  });
});

describe('PFDEBUG and PFSELFTEST', () => {
  it('GETREG, DECODE, ENCODING, TODENSE', async () => {
    const key = k('dbg');
    await c.call('PFADD', key, 'a');
    expect(await c.call('PFDEBUG', 'decode', key)).toBe('Z:12711 v:2,1 Z:3672');
    expect(await c.call('PFDEBUG', 'ENCODING', key)).toBe('sparse');
    expect(await c.call('PFDEBUG', 'TODENSE', key)).toBe(1);
    expect(await c.call('PFDEBUG', 'TODENSE', key)).toBe(0);
    expect(await c.call('PFDEBUG', 'ENCODING', key)).toBe('dense');
    expect(await err(c.call('PFDEBUG', 'DECODE', key))).toBe('ERR HLL encoding is not sparse');
    const regs = (await c.call('PFDEBUG', 'GETREG', key)) as number[];
    expect(regs).toHaveLength(16384);
    expect(regs[12711]).toBe(2);
    expect(regs.reduce((s, x) => s + x, 0)).toBe(2);
    expect(await err(c.call('PFDEBUG', 'GETREG', k('none')))).toBe('ERR The specified key does not exist');
    expect(await err(c.call('PFDEBUG', 'foo', key))).toBe("ERR Unknown PFDEBUG subcommand 'foo'");
    expect(await err(c.call('PFDEBUG', 'DECODE', key, 'x'))).toBe("ERR wrong number of arguments for 'pfdebug' command");
  });

  it('GETREG turns a sparse value dense (a propagated change)', async () => {
    const key = k('getreg');
    await c.call('PFADD', key, 'a');
    expect(await propagated(() => c.call('PFDEBUG', 'GETREG', key))).toEqual([['PFDEBUG', 'GETREG', key]]);
    expect(await c.call('PFDEBUG', 'ENCODING', key)).toBe('dense');
    expect(await propagated(() => c.call('PFDEBUG', 'GETREG', key))).toEqual([]);
  });

  it('PFSELFTEST', async () => {
    expect(await c.call('PFSELFTEST')).toBe('OK');
    await c.config('SET', 'hll-sparse-max-bytes', '20');
    try {
      expect(await err(c.call('PFSELFTEST'))).toBe('ERR TESTFAILED sparse encoding not used');
    } finally {
      await c.config('SET', 'hll-sparse-max-bytes', '3000');
    }
    expect(await err(c.call('PFSELFTEST', 'x'))).toBe("ERR wrong number of arguments for 'pfselftest' command");
  });
});

describe('RESP3 and raw replies', () => {
  it('node-redis RESP3', async () => {
    const n = await srv.nodeRedis(3);
    const key = k('r3');
    expect(await n.sendCommand(['PFADD', key, 'a', 'b'])).toBe(1);
    expect(await n.sendCommand(['PFCOUNT', key])).toBe(2);
    expect(await n.sendCommand(['PFMERGE', key])).toBe('OK');
    expect(await n.sendCommand(['PFDEBUG', 'ENCODING', key])).toBe('sparse');
  });

  it('DECODE is a bulk string, ENCODING a status, GETREG an array of integers', async () => {
    const key = k('raw');
    await c.call('PFADD', key, 'a');
    const r = await RawClient.connect(srv.port);
    try {
      expect(await r.call(['PFDEBUG', 'DECODE', key], '$20\r\nZ:12711 v:2,1 Z:3672\r\n')).toBe('$20\r\nZ:12711 v:2,1 Z:3672\r\n');
      expect(await r.call(['PFDEBUG', 'ENCODING', key], '+sparse\r\n')).toBe('+sparse\r\n');
      expect(await r.call(['PFDEBUG', 'GETREG', key], '*16384\r\n:0\r\n')).toBe('*16384\r\n:0\r\n');
    } finally {
      r.close();
    }
  });
});

describe('COMMAND INFO', () => {
  it('has Redis 7.0 arity, flags and key positions', async () => {
    const info = (await c.call('COMMAND', 'INFO', 'pfadd', 'pfcount', 'pfmerge', 'pfdebug', 'pfselftest')) as unknown[][];
    expect(info.map((x) => x.slice(0, 6))).toEqual([
      ['pfadd', -2, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['pfcount', -2, ['readonly'], 1, -1, 1],
      ['pfmerge', -2, ['write', 'denyoom'], 1, -1, 1],
      ['pfdebug', 3, ['write', 'denyoom', 'admin'], 2, 2, 1],
      ['pfselftest', 1, ['admin'], 0, 0, 0],
    ]);
    expect(info.map((x) => x[6])).toEqual([
      ['@write', '@hyperloglog', '@fast'],
      ['@read', '@hyperloglog', '@slow'],
      ['@write', '@hyperloglog', '@slow'],
      ['@write', '@hyperloglog', '@admin', '@slow', '@dangerous'],
      ['@hyperloglog', '@admin', '@slow', '@dangerous'],
    ]);
  });
});
