/**
 * Set commands through real clients (ioredis RESP2, node-redis RESP3, raw
 * RESP3 bytes). Expected replies, error texts, events and propagation were
 * checked against redis-server 7.0.15.
 */
import { describe, it, expect } from 'vitest';
import { RESP_TYPES, serverForFile } from '../helpers/server.js';
import { NOT_INT, SYNTAX, sorted, WRONGTYPE, keyMaker } from '../helpers/expect.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';

const { srv, c, eventsOf, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA', 'enable-debug-command': 'yes' }, { eventLog: true });
/** A fresh key name per use, so tests never see each other's data. */
const k = keyMaker('set');

const POSITIVE = 'ERR value is out of range, must be positive';

async function str(key: string): Promise<string> {
  await c.set(key, 'v');
  return key;
}

describe('SADD / SREM / SCARD / SISMEMBER / SMISMEMBER', () => {
  it('adds and removes members, counting only changes', async () => {
    const key = k('basic');
    expect(await c.sadd(key, 'a', 'b', 'a', 'c')).toBe(3);
    expect(await c.sadd(key, 'a', 'd')).toBe(1);
    expect(await c.scard(key)).toBe(4);
    expect(await c.sismember(key, 'a')).toBe(1);
    expect(await c.sismember(key, 'z')).toBe(0);
    expect(await c.call('SMISMEMBER', key, 'a', 'z', 'd')).toEqual([1, 0, 1]);
    expect(await c.srem(key, 'a', 'z', 'a')).toBe(1);
    expect(sorted(await c.smembers(key))).toEqual(['b', 'c', 'd']);
  });

  it('is binary safe', async () => {
    const key = k('bin');
    const m = Buffer.from([0, 255, 13, 10, 128]);
    expect(await c.sadd(key, m, Buffer.from(''))).toBe(2);
    expect(await c.sismember(key, m)).toBe(1);
    const got = (await c.smembersBuffer(key)).map((b) => b.toString('hex')).sort();
    expect(got).toEqual(['', m.toString('hex')]);
  });

  it('answers for missing keys', async () => {
    const key = k('missing');
    expect(await c.scard(key)).toBe(0);
    expect(await c.sismember(key, 'a')).toBe(0);
    expect(await c.call('SMISMEMBER', key, 'a', 'b')).toEqual([0, 0]);
    expect(await c.srem(key, 'a')).toBe(0);
    expect(await c.smembers(key)).toEqual([]);
    expect(await c.exists(key)).toBe(0);
  });

  it('deletes the key when the last member goes, firing srem then del', async () => {
    const key = k('empty');
    expect(await eventsOf(() => c.sadd(key, 'a', 'b'))).toEqual([`sadd ${key}`]);
    expect(await eventsOf(() => c.sadd(key, 'a'))).toEqual([]);
    expect(await eventsOf(() => c.srem(key, 'zz'))).toEqual([]);
    expect(await eventsOf(() => c.srem(key, 'a', 'b'))).toEqual([`srem ${key}`, `del ${key}`]);
    expect(await c.exists(key)).toBe(0);
    expect(await c.type(key)).toBe('none');
  });

  it('WRONGTYPE on a non-set key', async () => {
    const key = await str(k('str'));
    for (const argv of [['SADD', key, 'a'], ['SREM', key, 'a'], ['SCARD', key], ['SISMEMBER', key, 'a'], ['SMISMEMBER', key, 'a'],
      ['SMEMBERS', key], ['SRANDMEMBER', key], ['SRANDMEMBER', key, '0'], ['SPOP', key], ['SPOP', key, '0'], ['SSCAN', key, '0', 'BADOPT']]) {
      await expect(c.call(argv[0]!, ...argv.slice(1)), argv.join(' ')).rejects.toThrow(WRONGTYPE);
    }
    expect(await c.get(key)).toBe('v');
  });

  it('arity errors', async () => {
    await expect(c.call('SADD', 'x')).rejects.toThrow("ERR wrong number of arguments for 'sadd' command");
    await expect(c.call('SISMEMBER', 'x', 'a', 'b')).rejects.toThrow("ERR wrong number of arguments for 'sismember' command");
    await expect(c.call('SINTERCARD', '1')).rejects.toThrow("ERR wrong number of arguments for 'sintercard' command");
  });
});

describe('OBJECT ENCODING', () => {
  it('intset while all members are integers within set-max-intset-entries, then hashtable for good', async () => {
    const key = k('enc');
    await c.sadd(key, '1', '2', '-9223372036854775808', '9223372036854775807');
    expect(await c.object('ENCODING', key)).toBe('intset');
    await c.sadd(key, 'x');
    expect(await c.object('ENCODING', key)).toBe('hashtable');
    await c.srem(key, 'x');
    expect(await c.object('ENCODING', key)).toBe('hashtable');
    for (const m of ['01', '-0', '9223372036854775808', '1.5', ' 1']) {
      const kk = k('enc-str');
      await c.sadd(kk, m);
      expect(await c.object('ENCODING', kk), m).toBe('hashtable');
    }
  });

  it('follows set-max-intset-entries', async () => {
    try {
      await c.config('SET', 'set-max-intset-entries', '2');
      const a = k('lim');
      await c.sadd(a, '1', '2');
      expect(await c.object('ENCODING', a)).toBe('intset');
      await c.sadd(a, '3');
      expect(await c.object('ENCODING', a)).toBe('hashtable');
      await c.srem(a, '3');
      expect(await c.object('ENCODING', a)).toBe('hashtable');
      await c.config('SET', 'set-max-intset-entries', '0');
      const b = k('lim0');
      await c.sadd(b, '1');
      expect(await c.object('ENCODING', b)).toBe('hashtable');
    } finally {
      await c.config('SET', 'set-max-intset-entries', '512');
    }
  });

  it('a STORE result is encoded by its own members', async () => {
    const h = k('h');
    await c.sadd(h, '1', '2', '3', 'x');
    await c.srem(h, 'x');
    expect(await c.object('ENCODING', h)).toBe('hashtable');
    for (const cmd of ['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']) {
      const d = k('d');
      expect(await c.call(cmd, d, h)).toBe(3);
      expect(await c.object('ENCODING', d)).toBe('intset');
    }
    const d2 = k('d2');
    await c.smove(h, d2, '2');
    expect(await c.object('ENCODING', d2)).toBe('intset');
  });
});

describe('SMEMBERS and reply types', () => {
  it('an intset comes back in ascending numeric order', async () => {
    const key = k('order');
    await c.sadd(key, '5', '3', '10', '-1', '100');
    expect(await c.smembers(key)).toEqual(['-1', '3', '5', '10', '100']);
    expect(await c.sinter(key)).toEqual(['-1', '3', '5', '10', '100']);
    expect(await c.sunion(key)).toEqual(['-1', '3', '5', '10', '100']);
    expect(await c.srandmember(key, 10)).toEqual(['-1', '3', '5', '10', '100']);
  });

  it('RESP3 wire types: sets for SMEMBERS/SINTER/SUNION/SDIFF/SPOP count, arrays for SRANDMEMBER/SMISMEMBER/SSCAN, nulls', async () => {
    const key = k('resp3');
    const none = k('none');
    await c.sadd(key, '2', '1');
    const r = await RawClient.connect(srv.port);
    try {
      r.send('HELLO', '3');
      await waitUntil(() => r.buf.includes('modules'), 3000, 'HELLO');
      r.buf = r.buf.slice(r.buf.indexOf('modules') + 'modules\r\n*0\r\n'.length);
      const set2 = '~2\r\n$1\r\n1\r\n$1\r\n2\r\n';
      expect(await r.call(['SMEMBERS', key], set2)).toBe(set2);
      expect(await r.call(['SINTER', key], set2)).toBe(set2);
      expect(await r.call(['SUNION', key, none], set2)).toBe(set2);
      expect(await r.call(['SDIFF', key, none], set2)).toBe(set2);
      expect(await r.call(['SMEMBERS', none], '~0\r\n')).toBe('~0\r\n');
      expect(await r.call(['SRANDMEMBER', key, '5'], '*2\r\n$1\r\n1\r\n$1\r\n2\r\n')).toBe('*2\r\n$1\r\n1\r\n$1\r\n2\r\n');
      expect(await r.call(['SRANDMEMBER', key, '0'], '*0\r\n')).toBe('*0\r\n');
      expect(await r.call(['SRANDMEMBER', none, '2'], '*0\r\n')).toBe('*0\r\n');
      expect(await r.call(['SRANDMEMBER', none], '_\r\n')).toBe('_\r\n');
      expect(await r.call(['SPOP', none], '_\r\n')).toBe('_\r\n');
      expect(await r.call(['SPOP', none, '2'], '~0\r\n')).toBe('~0\r\n');
      expect(await r.call(['SPOP', key, '0'], '~0\r\n')).toBe('~0\r\n');
      expect(await r.call(['SMISMEMBER', key, '1', '3'], '*2\r\n:1\r\n:0\r\n')).toBe('*2\r\n:1\r\n:0\r\n');
      expect(await r.call(['SSCAN', key, '0'], '*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n')).toBe('*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n');
      expect(await r.call(['SPOP', key, '5'], set2)).toBe(set2);
    } finally {
      r.close();
    }
  });

  it('node-redis RESP3 decodes SMEMBERS as a set', async () => {
    const key = k('nr3');
    await c.sadd(key, 'a', 'b');
    const n = await srv.nodeRedis(3);
    const got = await n.sendCommand(['SMEMBERS', key], { typeMapping: { [RESP_TYPES.SET]: Set } });
    expect(got).toEqual(new Set(['a', 'b']));
    expect(await n.sendCommand(['SCARD', key])).toBe(2);
    expect(await n.sendCommand(['SRANDMEMBER', k('none')])).toBe(null);
  });
});

describe('SRANDMEMBER', () => {
  it('positive counts give distinct members, negative counts exactly -count with repetitions', async () => {
    const key = k('rand');
    await c.sadd(key, 'a', 'b', 'c', 'd', 'e');
    for (let i = 0; i < 20; i++) {
      const got = (await c.srandmember(key, 3)) as string[];
      expect(got.length).toBe(3);
      expect(new Set(got).size).toBe(3);
      for (const m of got) expect(['a', 'b', 'c', 'd', 'e']).toContain(m);
    }
    expect(sorted(await c.srandmember(key, 5))).toEqual(['a', 'b', 'c', 'd', 'e']);
    const one = k('one');
    await c.sadd(one, 'x');
    expect(await c.srandmember(one, -4)).toEqual(['x', 'x', 'x', 'x']);
    expect(['a', 'b', 'c', 'd', 'e']).toContain(await c.srandmember(key));
    expect(await c.scard(key)).toBe(5);
    expect(await c.srandmember(k('none'), -3)).toEqual([]);
  });

  it('argument errors', async () => {
    const key = k('rand-err');
    await c.sadd(key, 'a');
    await expect(c.call('SRANDMEMBER', key, 'x')).rejects.toThrow(NOT_INT);
    await expect(c.call('SRANDMEMBER', key, '-9223372036854775808')).rejects.toThrow(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
    await expect(c.call('SRANDMEMBER', key, '1', '2')).rejects.toThrow(SYNTAX);
    // Count errors come before the key lookup.
    await expect(c.call('SRANDMEMBER', await str(k('s')), 'x')).rejects.toThrow(NOT_INT);
  });
});

describe('SPOP', () => {
  it('pops one member, propagated as SREM; the last one deletes the key', async () => {
    const key = k('pop');
    await c.sadd(key, 'a', 'b');
    let m: string | null = null;
    const prop = await propagated(async () => (m = await c.spop(key)));
    expect(['a', 'b']).toContain(m);
    expect(prop).toEqual([['SREM', key, m]]);
    let m2: string | null = null;
    expect(await eventsOf(async () => (m2 = await c.spop(key)))).toEqual([`spop ${key}`, `del ${key}`]);
    expect(sorted([m, m2])).toEqual(['a', 'b']);
    expect(await c.exists(key)).toBe(0);
    expect(await c.spop(key)).toBe(null);
  });

  it('pops COUNT members, propagated as SREM of exactly those', async () => {
    const key = k('popn');
    const all = Array.from({ length: 10 }, (_, i) => 'm' + i);
    await c.sadd(key, ...all);
    let got: string[] = [];
    const prop = await propagated(async () => (got = (await c.spop(key, 3)) as string[]));
    expect(got.length).toBe(3);
    expect(new Set(got).size).toBe(3);
    // As redis-server 7.0.15 writes it: one SREM per member, in pop order, in a MULTI/EXEC.
    expect(prop).toEqual([['MULTI'], ...got.map((m) => ['SREM', key, m]), ['EXEC']]);
    expect(await c.scard(key)).toBe(7);
    for (const m of got) expect(await c.sismember(key, m)).toBe(0);
    expect(await eventsOf(() => c.spop(key, 2))).toEqual([`spop ${key}`]);
  });

  it('a big COUNT propagates one SREM per member (as Redis 7.0), wrapped in one MULTI/EXEC', async () => {
    const key = k('popbig');
    await c.sadd(key, ...Array.from({ length: 3000 }, (_, i) => 'm' + i));
    let got: string[] = [];
    const prop = await propagated(async () => (got = (await c.spop(key, 2500)) as string[]));
    expect(prop.length).toBe(2502);
    expect(prop[0]).toEqual(['MULTI']);
    expect(prop[2501]).toEqual(['EXEC']);
    expect(prop.slice(1, -1)).toEqual(got.map((m) => ['SREM', key, m]));
    expect(await c.scard(key)).toBe(500);
  });

  it('popping the whole set deletes it, propagated as DEL', async () => {
    const key = k('popall');
    await c.sadd(key, '3', '1', '2');
    let got: unknown;
    const prop = await propagated(async () => (got = await c.spop(key, 10)));
    expect(got).toEqual(['1', '2', '3']);
    expect(prop).toEqual([['DEL', key]]);
    expect(await c.exists(key)).toBe(0);
    await c.sadd(key, 'a', 'b');
    expect(await eventsOf(() => c.spop(key, 2))).toEqual([`spop ${key}`, `del ${key}`]);
  });

  it('re-decides the encoding when few members remain (at most a fifth of COUNT), as Redis rebuilds the set', async () => {
    try {
      for (const [n, count, expected] of [[10, 9, 'intset'], [12, 10, 'intset'], [30, 25, 'intset'], [12, 9, 'hashtable'], [6, 4, 'hashtable']] as const) {
        // A hashtable of integers: converted by size, then the limit raised again.
        await c.config('SET', 'set-max-intset-entries', '3');
        const key = k('rebuild');
        await c.sadd(key, ...Array.from({ length: n }, (_, i) => String(i)));
        await c.config('SET', 'set-max-intset-entries', '512');
        expect(await c.object('ENCODING', key)).toBe('hashtable');
        await c.spop(key, count);
        expect(await c.object('ENCODING', key), `${n} - ${count}`).toBe(expected);
      }
      // Single pops never rebuild.
      await c.config('SET', 'set-max-intset-entries', '3');
      const key = k('single');
      await c.sadd(key, '1', '2', '3', '4', '5', '6');
      await c.config('SET', 'set-max-intset-entries', '512');
      for (let i = 0; i < 5; i++) await c.spop(key);
      expect(await c.object('ENCODING', key)).toBe('hashtable');
    } finally {
      await c.config('SET', 'set-max-intset-entries', '512');
    }
  });

  it('COUNT 0 and missing keys change nothing', async () => {
    const key = k('pop0');
    await c.sadd(key, 'a');
    const prop = await propagated(async () => {
      expect(await c.spop(key, 0)).toEqual([]);
      expect(await c.spop(k('none'), 3)).toEqual([]);
      expect(await c.spop(k('none'))).toBe(null);
    });
    expect(prop).toEqual([]);
    expect(await c.scard(key)).toBe(1);
  });

  it('argument errors', async () => {
    const key = k('pop-err');
    await c.sadd(key, 'a');
    await expect(c.call('SPOP', key, '-1')).rejects.toThrow(POSITIVE);
    await expect(c.call('SPOP', key, 'x')).rejects.toThrow(POSITIVE);
    await expect(c.call('SPOP', k('none'), '-1')).rejects.toThrow(POSITIVE);
    await expect(c.call('SPOP', key, '1', '2')).rejects.toThrow(SYNTAX);
  });
});

describe('SMOVE', () => {
  it('moves a member, firing srem (and del) on the source, sadd on the destination', async () => {
    const src = k('src');
    const dst = k('dst');
    await c.sadd(src, 'a', 'b');
    expect(await eventsOf(async () => expect(await c.smove(src, dst, 'a')).toBe(1))).toEqual([`srem ${src}`, `sadd ${dst}`]);
    expect(await eventsOf(async () => expect(await c.smove(src, dst, 'b')).toBe(1))).toEqual([`srem ${src}`, `del ${src}`, `sadd ${dst}`]);
    expect(await c.exists(src)).toBe(0);
    expect(sorted(await c.smembers(dst))).toEqual(['a', 'b']);
    // Already in the destination: removed from the source, no sadd.
    await c.sadd(src, 'a', 'z');
    expect(await eventsOf(async () => expect(await c.smove(src, dst, 'a')).toBe(1))).toEqual([`srem ${src}`]);
    expect(await c.smembers(src)).toEqual(['z']);
  });

  it('not a member, same key, missing source', async () => {
    const src = k('src');
    await c.sadd(src, 'a');
    expect(await eventsOf(async () => expect(await c.smove(src, k('dst'), 'zz')).toBe(0))).toEqual([]);
    expect(await eventsOf(async () => expect(await c.smove(src, src, 'a')).toBe(1))).toEqual([]);
    expect(await c.smove(src, src, 'zz')).toBe(0);
    expect(await c.smove(k('none'), k('none'), 'a')).toBe(0);
    // A missing source answers 0 before the destination's type is checked.
    expect(await c.smove(k('none'), await str(k('s')), 'a')).toBe(0);
  });

  it('WRONGTYPE', async () => {
    const src = k('src');
    const s = await str(k('s'));
    await c.sadd(src, 'a');
    await expect(c.smove(src, s, 'a')).rejects.toThrow(WRONGTYPE);
    await expect(c.smove(src, s, 'zz')).rejects.toThrow(WRONGTYPE);
    await expect(c.smove(s, src, 'a')).rejects.toThrow(WRONGTYPE);
    await expect(c.smove(s, s, 'a')).rejects.toThrow(WRONGTYPE);
    expect(await c.smembers(src)).toEqual(['a']);
  });
});

describe('SINTER / SUNION / SDIFF and STORE forms', () => {
  it('computes intersections, unions and differences', async () => {
    const a = k('a');
    const b = k('b');
    const none = k('none');
    await c.sadd(a, 'x', 'y', 'z', '1');
    await c.sadd(b, 'y', 'z', 'w');
    expect(sorted(await c.sinter(a, b))).toEqual(['y', 'z']);
    expect(await c.sinter(a, none)).toEqual([]);
    expect(sorted(await c.sunion(a, b, none))).toEqual(['1', 'w', 'x', 'y', 'z']);
    expect(sorted(await c.sdiff(a, b))).toEqual(['1', 'x']);
    expect(sorted(await c.sdiff(a, none))).toEqual(['1', 'x', 'y', 'z']);
    expect(await c.sdiff(none, a)).toEqual([]);
    expect(await c.sdiff(a, a)).toEqual([]);
  });

  it('WRONGTYPE for any non-set source, even after a missing key', async () => {
    const a = k('a');
    const s = await str(k('s'));
    const none = k('none');
    await c.sadd(a, 'x');
    for (const argv of [['SINTER', none, s], ['SINTER', s, none], ['SUNION', none, s], ['SDIFF', none, s], ['SDIFF', a, s],
      ['SINTERSTORE', k('d'), none, s], ['SUNIONSTORE', k('d'), a, s], ['SDIFFSTORE', k('d'), none, s], ['SINTERCARD', '2', none, s]]) {
      await expect(c.call(argv[0]!, ...argv.slice(1)), argv.join(' ')).rejects.toThrow(WRONGTYPE);
    }
  });

  it('STORE overwrites any destination, clears its TTL and fires the command event', async () => {
    const a = k('a');
    const b = k('b');
    const d = k('d');
    await c.sadd(a, 'x', 'y');
    await c.sadd(b, 'y');
    await c.set(d, 'string', 'EX', 100);
    expect(await eventsOf(async () => expect(await c.sunionstore(d, a, b)).toBe(2))).toEqual([`sunionstore ${d}`]);
    expect(await c.ttl(d)).toBe(-1);
    expect(sorted(await c.smembers(d))).toEqual(['x', 'y']);
    expect(await eventsOf(async () => expect(await c.sinterstore(d, a, b)).toBe(1))).toEqual([`sinterstore ${d}`]);
    expect(await c.smembers(d)).toEqual(['y']);
    expect(await eventsOf(async () => expect(await c.sdiffstore(d, a, b)).toBe(1))).toEqual([`sdiffstore ${d}`]);
    expect(await c.smembers(d)).toEqual(['x']);
    // A destination that is also a source.
    expect(await c.sunionstore(a, a, b)).toBe(2);
    expect(await c.sdiffstore(a, a, d)).toBe(1);
    expect(await c.smembers(a)).toEqual(['y']);
  });

  it('an empty result deletes the destination (del event), or does nothing when it did not exist', async () => {
    const a = k('a');
    const d = k('d');
    const none = k('none');
    await c.sadd(a, 'x');
    await c.set(d, 'v');
    expect(await eventsOf(async () => expect(await c.sinterstore(d, a, none)).toBe(0))).toEqual([`del ${d}`]);
    expect(await c.exists(d)).toBe(0);
    const prop = await propagated(async () => {
      expect(await eventsOf(async () => expect(await c.sdiffstore(d, a, a)).toBe(0))).toEqual([]);
      expect(await c.sunionstore(d, none)).toBe(0);
    });
    expect(prop).toEqual([]);
  });
});

describe('SINTERCARD', () => {
  it('counts the intersection, up to LIMIT', async () => {
    const a = k('a');
    const b = k('b');
    await c.sadd(a, '1', '2', '3', '4', 'x');
    await c.sadd(b, '2', '3', '4', 'x', 'y');
    expect(await c.call('SINTERCARD', '2', a, b)).toBe(4);
    expect(await c.call('SINTERCARD', '2', a, b, 'LIMIT', '2')).toBe(2);
    expect(await c.call('SINTERCARD', '2', a, b, 'limit', '0')).toBe(4);
    expect(await c.call('SINTERCARD', '2', a, b, 'LIMIT', '1', 'LIMIT', '0')).toBe(4);
    expect(await c.call('SINTERCARD', '1', a, 'LIMIT', '100')).toBe(5);
    expect(await c.call('SINTERCARD', '2', a, k('none'))).toBe(0);
  });

  it('argument errors, with Redis texts', async () => {
    const a = k('a');
    await c.sadd(a, 'x');
    const cases: [string[], string][] = [
      [['0', a], 'ERR numkeys should be greater than 0'],
      [['-1', a], 'ERR numkeys should be greater than 0'],
      [['x', a], 'ERR numkeys should be greater than 0'],
      [['9223372036854775808', a], 'ERR numkeys should be greater than 0'],
      [['2', a], "ERR Number of keys can't be greater than number of args"],
      [['2147483648', a], "ERR Number of keys can't be greater than number of args"],
      [['1', a, 'LIMIT'], SYNTAX],
      [['1', a, 'LIMIT', '-1'], "ERR LIMIT can't be negative"],
      [['1', a, 'LIMIT', 'x'], "ERR LIMIT can't be negative"],
      [['1', a, 'foo'], SYNTAX],
      [['1', await str(k('s')), 'LIMIT', '-1'], "ERR LIMIT can't be negative"],
    ];
    for (const [args, err] of cases) await expect(c.call('SINTERCARD', ...args), args.join(' ')).rejects.toThrow(err);
  });

  it('COMMAND GETKEYS finds the numkeys keys', async () => {
    expect(await c.call('COMMAND', 'GETKEYS', 'SINTERCARD', '2', 'a', 'b', 'LIMIT', '1')).toEqual(['a', 'b']);
    await expect(c.call('COMMAND', 'GETKEYS', 'SINTERCARD', '5', 'a')).rejects.toThrow('ERR Invalid arguments specified for command');
    await expect(c.call('COMMAND', 'GETKEYS', 'SINTERCARD', '0', 'a')).rejects.toThrow('ERR Invalid arguments specified for command');
  });
});

describe('SSCAN', () => {
  it('a full iteration of a hashtable set returns every member', async () => {
    const key = k('scan');
    const all = Array.from({ length: 300 }, (_, i) => 'm' + i);
    await c.sadd(key, ...all);
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, items] = (await c.sscan(key, cursor, 'COUNT', 20)) as [string, string[]];
      for (const m of items) seen.add(m);
      cursor = next;
      calls++;
    } while (cursor !== '0');
    expect(calls).toBeGreaterThan(1);
    expect([...seen].sort()).toEqual([...all].sort());
  });

  it('MATCH filters; an intset comes back whole in one call', async () => {
    const h = k('scanm');
    await c.sadd(h, 'foo', 'bar', 'fob');
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, items] = (await c.sscan(h, cursor, 'MATCH', 'fo*')) as [string, string[]];
      seen.push(...items);
      cursor = next;
    } while (cursor !== '0');
    expect(seen.sort()).toEqual(['fob', 'foo']);
    const i = k('scani');
    await c.sadd(i, ...Array.from({ length: 100 }, (_, n) => String(n)));
    const [next, items] = (await c.call('SSCAN', i, '12345', 'COUNT', '1', 'MATCH', '1*')) as [string, string[]];
    expect(next).toBe('0');
    expect(items).toEqual(['1', ...Array.from({ length: 10 }, (_, n) => String(10 + n))]);
  });

  it('errors; a missing key ignores the options', async () => {
    const key = k('scan-err');
    await c.sadd(key, 'a');
    await expect(c.call('SSCAN', key, 'x')).rejects.toThrow('ERR invalid cursor');
    await expect(c.call('SSCAN', k('none'), 'x')).rejects.toThrow('ERR invalid cursor');
    await expect(c.call('SSCAN', key, '0', 'COUNT', '0')).rejects.toThrow(SYNTAX);
    await expect(c.call('SSCAN', key, '0', 'COUNT', 'x')).rejects.toThrow(NOT_INT);
    await expect(c.call('SSCAN', key, '0', 'MATCH')).rejects.toThrow(SYNTAX);
    await expect(c.call('SSCAN', key, '0', 'TYPE', 'string')).rejects.toThrow(SYNTAX);
    expect(await c.call('SSCAN', k('none'), '0', 'BADOPT')).toEqual(['0', []]);
  });
});

describe('generic commands on sets', () => {
  it('TYPE, COPY (deep), DEBUG DIGEST-VALUE', async () => {
    const a = k('a');
    const b = k('b');
    await c.sadd(a, '5', '3', '10', '-1', '100');
    expect(await c.type(a)).toBe('set');
    expect(await c.call('DEBUG', 'DIGEST-VALUE', a)).toEqual(['900997a44e88208a5f7aaed809138cff9248c70f']);
    expect(await c.copy(a, b)).toBe(1);
    await c.sadd(b, 'x');
    expect(await c.scard(a)).toBe(5);
    expect(await c.object('ENCODING', a)).toBe('intset');
    expect(await c.object('ENCODING', b)).toBe('hashtable');
    const s = k('s');
    await c.sadd(s, 'a', 'b', '', 'c');
    expect(await c.call('DEBUG', 'DIGEST-VALUE', s)).toEqual(['830587fa26063e495cc24b05c82b6b8f9ccbdd7b']);
  });

  it('COMMAND INFO matches redis 7.0', async () => {
    const info = (await c.call('COMMAND', 'INFO', 'smove', 'sintercard')) as unknown[][];
    expect(info[0]!.slice(0, 7)).toEqual(['smove', 4, ['write', 'fast'], 1, 2, 1, ['@write', '@set', '@fast']]);
    expect(info[1]!.slice(0, 7)).toEqual(['sintercard', -3, ['readonly', 'movablekeys'], 0, 0, 0, ['@read', '@set', '@slow']]);
  });

  it('MULTI/EXEC with set commands', async () => {
    const key = k('multi');
    const res = await c.multi().sadd(key, 'a', 'b').scard(key).srem(key, 'a').smembers(key).exec();
    expect(res).toEqual([[null, 2], [null, 2], [null, 1], [null, ['b']]]);
  });
});
