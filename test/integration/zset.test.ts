/**
 * Sorted set commands through real clients: ioredis (RESP2), node-redis
 * (RESP3) and a wire-level client that sees the exact reply types (RESP2 bulk
 * scores vs RESP3 doubles, flat vs nested pairs, null bulk vs null array).
 * Every expected reply and error text below was checked against
 * redis-server 7.0.15 (ZRANK/ZREVRANK WITHSCORE against the 7.2 behaviour).
 */
import { describe, expect, it } from 'vitest';
import { serverForFile } from '../helpers/server.js';
import { WRONGTYPE, err, keyMaker, wireClients } from '../helpers/expect.js';
import { waitUntil } from '../helpers/raw-client.js';

const { srv, c, client, eventsOf: events, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA', 'enable-debug-command': 'yes' });
/** Runs a command on a RESP2 and a RESP3 wire client, returning both renderings. */
const { w3, wire } = await wireClients(srv);

const k = keyMaker('zset');

const blocked = (): number => srv.engine.blocking.blockedCount;
const untilBlocked = (n: number): Promise<void> => waitUntil(() => blocked() === n, 3000, `${n} blocked clients`);

// ---------------------------------------------------------------------------

describe('ZADD / ZINCRBY', () => {
  it('adds, updates and counts with NX XX GT LT CH', async () => {
    const z = k('add');
    expect(await c.zadd(z, 1, 'a', 2, 'b', 3, 'c')).toBe(3);
    expect(await c.zadd(z, 'NX', 5, 'a', 4, 'd')).toBe(1);
    expect(await c.zscore(z, 'a')).toBe('1');
    expect(await c.zadd(z, 'XX', 10, 'a', 1, 'new')).toBe(0);
    expect(await c.zscore(z, 'a')).toBe('10');
    expect(await c.zscore(z, 'new')).toBeNull();
    expect(await c.zadd(z, 'XX', 'CH', 11, 'a', 1, 'new')).toBe(1);
    expect(await c.zadd(z, 'GT', 'CH', 5, 'a', 20, 'b', 1, 'e')).toBe(2); // b updated, e added
    expect(await c.zscore(z, 'a')).toBe('11');
    expect(await c.zadd(z, 'LT', 'CH', 1, 'a', 30, 'b')).toBe(1);
    expect(await c.zscore(z, 'a')).toBe('1');
    expect(await c.zadd(z, 'ch', 'nx', 1, 'q')).toBe(1);
    // Option tokens in any case; a score spelled with letters (inF) ends the options.
    expect(await c.call('ZADD', z, 'Nx', 'cH', '1', 'r')).toBe(1);
    expect(await c.call('ZADD', z, 'inF', 'nx')).toBe(1);
    expect(await c.zscore(z, 'nx')).toBe('inf');
    // Same score again: nothing changes, nothing counted.
    expect(await c.zadd(z, 'CH', 1, 'a')).toBe(0);
    expect(await c.zadd(k('nokey'), 'XX', 1, 'a')).toBe(0);
  });

  it('INCR replies with the new score, or nil when refused', async () => {
    const z = k('incr');
    expect(await c.zadd(z, 'INCR', 2.5, 'a')).toBe('2.5');
    expect(await c.zadd(z, 'INCR', 1, 'a')).toBe('3.5');
    expect(await c.zadd(z, 'NX', 'INCR', 1, 'a')).toBeNull();
    expect(await c.zadd(z, 'XX', 'INCR', 1, 'nonex')).toBeNull();
    expect(await c.zadd(z, 'GT', 'INCR', -1, 'a')).toBeNull();
    expect(await c.zadd(z, 'LT', 'INCR', -1, 'a')).toBe('2.5');
    expect(await c.zadd(k('nokey'), 'XX', 'INCR', 1, 'a')).toBeNull();
    expect(await c.zincrby(z, 1, 'a')).toBe('3.5');
    expect(await c.zincrby(z, 1, 'fresh')).toBe('1');
    expect(await c.zadd(z, 'INCR', 'inf', 'i')).toBe('inf');
    expect(await err(c.zadd(z, 'INCR', '-inf', 'i'))).toBe('ERR resulting score is not a number (NaN)');
    expect(await err(c.zincrby(z, '-inf', 'i'))).toBe('ERR resulting score is not a number (NaN)');
    expect(await c.zscore(z, 'i')).toBe('inf');
    expect(await err(c.zincrby(z, 'x', 'a'))).toBe('ERR value is not a valid float');
  });

  it('argument errors in Redis order', async () => {
    const z = k('errs');
    expect(await err(c.call('ZADD', z, '1.5', 'a', '2'))).toBe('ERR syntax error');
    expect(await err(c.call('ZADD', z, 'xx', '1'))).toBe('ERR syntax error');
    expect(await err(c.call('ZADD', z, 'foo', '1', 'a'))).toBe('ERR syntax error');
    expect(await err(c.call('ZADD', z, 'nan', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, '1e400', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, ' 1', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, '1', 'a', 'nx', 'xx'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, 'nx', 'xx', '1', 'a'))).toBe('ERR XX and NX options at the same time are not compatible');
    expect(await err(c.call('ZADD', z, 'gt', 'lt', '1', 'a'))).toBe('ERR GT, LT, and/or NX options at the same time are not compatible');
    expect(await err(c.call('ZADD', z, 'gt', 'nx', '1', 'a'))).toBe('ERR GT, LT, and/or NX options at the same time are not compatible');
    expect(await err(c.call('ZADD', z, 'incr', '1', 'a', '2', 'b'))).toBe('ERR INCR option supports a single increment-element pair');
    expect(await err(c.call('ZADD', z))).toBe("ERR wrong number of arguments for 'zadd' command");
    // Integer-looking scores that are no number, and options only before the first score.
    expect(await err(c.call('ZADD', z, '-', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, '--', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, '1-2', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, '12a', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('ZADD', z, 'incr', '1', 'x', 'y'))).toBe('ERR syntax error');
    expect(await c.exists(z)).toBe(0);
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.zadd(s, 1, 'a'))).toBe(WRONGTYPE);
    expect(await err(c.zincrby(s, 1, 'a'))).toBe(WRONGTYPE);
  });

  it('scores print as Redis prints them (%.17g, inf, -0 by encoding)', async () => {
    const z = k('print');
    await c.zadd(z, '0.1', 'a', '1e17', 'b', '123456789012345678', 'c', '-inf', 'd', '1e-5', 'e', '3.0', 'f');
    expect(await c.zrange(z, 0, -1, 'WITHSCORES')).toEqual(
      ['d', '-inf', 'e', '1.0000000000000001e-05', 'a', '0.10000000000000001', 'f', '3', 'b', '1e+17', 'c', '1.2345678901234568e+17'],
    );
    // Plain integers up to 15 digits and longer ones read alike (leading zeros, signs).
    const ints = k('ints');
    await c.zadd(ints, '007', 'a', '999999999999999', 'b', '-999999999999999', 'c', '9999999999999999', 'd', '0000000000000000001', 'e', '-7', 'f');
    expect(await c.zrange(ints, 0, -1, 'WITHSCORES')).toEqual(
      ['c', '-999999999999999', 'f', '-7', 'e', '1', 'a', '7', 'b', '999999999999999', 'd', '10000000000000000'],
    );
    // A listpack reads -0 back as 0; a skiplist keeps it.
    const l = k('negzero-lp');
    await c.zadd(l, '-0', 'a');
    expect(await c.zscore(l, 'a')).toBe('0');
    // ZADD INCR / ZINCRBY reply with the computed score.
    expect(await c.zadd(k('nz'), 'INCR', '-0', 'm')).toBe('-0');
    await c.config('SET', 'zset-max-listpack-entries', '0');
    try {
      const sk = k('negzero-sk');
      await c.zadd(sk, '-0', 'a');
      expect(await c.zscore(sk, 'a')).toBe('-0');
      expect(await c.object('ENCODING', sk)).toBe('skiplist');
    } finally {
      await c.config('SET', 'zset-max-listpack-entries', '128');
    }
  });
});

describe('reading members', () => {
  it('ZREM ZCARD ZSCORE ZMSCORE, deleting an emptied key', async () => {
    const z = k('read');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c');
    expect(await c.zcard(z)).toBe(3);
    expect(await c.zcard(k('none'))).toBe(0);
    expect(await c.zmscore(z, 'a', 'nope', 'c')).toEqual(['1', null, '3']);
    expect(await c.zmscore(k('none'), 'a')).toEqual([null]);
    expect(await c.zrem(z, 'a', 'a', 'nope')).toBe(1);
    expect(await c.zrem(k('none'), 'a')).toBe(0);
    expect(await c.zrem(z, 'b', 'c')).toBe(2);
    expect(await c.exists(z)).toBe(0);
    const s = k('str');
    await c.set(s, 'x');
    for (const p of [c.zcard(s), c.zscore(s, 'a'), c.zmscore(s, 'a'), c.zrem(s, 'a'), c.zrank(s, 'a'), c.zcount(s, 0, 1)]) {
      expect(await err(p)).toBe(WRONGTYPE);
    }
  });

  it('ZRANK / ZREVRANK, with WITHSCORE (7.2)', async () => {
    const z = k('rank');
    await c.zadd(z, 1, 'a', 2.5, 'b', 3, 'c');
    expect(await c.zrank(z, 'a')).toBe(0);
    expect(await c.zrevrank(z, 'a')).toBe(2);
    expect(await c.zrank(z, 'nope')).toBeNull();
    expect(await c.zrank(k('none'), 'a')).toBeNull();
    expect(await wire('ZRANK', z, 'b', 'WITHSCORE')).toEqual({ r2: '[:1 $2.5]', r3: '[:1 ,2.5]' });
    expect(await wire('ZREVRANK', z, 'b', 'withscore')).toEqual({ r2: '[:1 $2.5]', r3: '[:1 ,2.5]' });
    expect(await wire('ZRANK', z, 'nope', 'WITHSCORE')).toEqual({ r2: '*nil', r3: '_' });
    expect(await wire('ZRANK', z, 'nope')).toEqual({ r2: '$nil', r3: '_' });
    expect(await err(c.call('ZRANK', z, 'a', 'WITHSCORES'))).toBe('ERR syntax error');
    expect(await err(c.call('ZRANK', z, 'a', 'WITHSCORE', 'x'))).toBe("ERR wrong number of arguments for 'zrank' command");
  });

  it('ZCOUNT and ZLEXCOUNT with inclusive/exclusive/infinite bounds', async () => {
    const z = k('count');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c', 4, 'd');
    expect(await c.zcount(z, '-inf', '+inf')).toBe(4);
    expect(await c.zcount(z, '(1', '3')).toBe(2);
    expect(await c.zcount(z, '(1', '(1')).toBe(0);
    expect(await c.zcount(z, '3', '1')).toBe(0);
    // strtod rules: leading spaces, "" (0), "(" (exclusive 0), hex and out-of-range values are accepted.
    expect(await c.zcount(z, ' 1', '5')).toBe(4);
    expect(await c.zcount(z, '', '5')).toBe(4);
    expect(await c.zcount(z, '0x2', '1e400')).toBe(3);
    expect(await err(c.zcount(z, '1 ', '5'))).toBe('ERR min or max is not a float');
    expect(await err(c.zcount(z, 'nan', '5'))).toBe('ERR min or max is not a float');
    expect(await err(c.zcount(z, '((1', '5'))).toBe('ERR min or max is not a float');
    expect(await err(c.zcount(k('none'), '1', 'a'))).toBe('ERR min or max is not a float');
    const l = k('lex');
    await c.zadd(l, 0, 'a', 0, 'b', 0, 'c', 0, 'd');
    expect(await c.zlexcount(l, '[a', '(c')).toBe(2);
    expect(await c.zlexcount(l, '-', '+')).toBe(4);
    expect(await c.zlexcount(l, '+', '-')).toBe(0);
    expect(await c.zlexcount(k('none'), '-', '+')).toBe(0);
    for (const [min, max] of [['a', 'c'], ['', '+'], ['-a', '+']]) {
      expect(await err(c.zlexcount(l, min!, max!))).toBe('ERR min or max not valid string range item');
    }
  });
});

describe('ranges', () => {
  it('ZRANGE by rank, score and lex, REV, LIMIT, WITHSCORES', async () => {
    const z = k('range');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c', 4, 'd');
    expect(await c.zrange(z, 0, -1)).toEqual(['a', 'b', 'c', 'd']);
    expect(await c.zrange(z, -2, -1, 'WITHSCORES')).toEqual(['c', '3', 'd', '4']);
    expect(await c.zrange(z, 1, 2, 'REV')).toEqual(['c', 'b']);
    expect(await c.zrange(z, -100, 100)).toEqual(['a', 'b', 'c', 'd']);
    expect(await c.zrange(z, 2, 1)).toEqual([]);
    expect(await c.call('ZRANGE', z, '(1', '3', 'BYSCORE')).toEqual(['b', 'c']);
    expect(await c.call('ZRANGE', z, '3', '1', 'BYSCORE', 'REV', 'LIMIT', '0', '2', 'WITHSCORES')).toEqual(['c', '3', 'b', '2']);
    expect(await c.call('ZRANGE', z, '-inf', '+inf', 'BYSCORE', 'LIMIT', '1', '-3')).toEqual(['b', 'c', 'd']);
    expect(await c.call('ZRANGE', z, '-inf', '+inf', 'BYSCORE', 'LIMIT', '-1', '2')).toEqual([]);
    expect(await c.call('ZRANGE', z, '-inf', '+inf', 'BYSCORE', 'LIMIT', '1', '0')).toEqual([]);
    expect(await c.call('ZRANGE', z, '[a', '[c', 'BYLEX')).toEqual(['a', 'b', 'c']);
    expect(await c.call('ZRANGE', z, '(c', '(a', 'BYLEX', 'REV')).toEqual(['b']);
    // LIMIT with a count of -1 is accepted (and ignored) with a rank range.
    expect(await c.call('ZRANGE', z, '0', '-1', 'LIMIT', '2', '-1')).toEqual(['a', 'b', 'c', 'd']);
    expect(await c.zrange(k('none'), 0, -1)).toEqual([]);
  });

  it('ZRANGE option errors in Redis order', async () => {
    const z = k('range-err');
    await c.zadd(z, 1, 'a');
    const s = k('str');
    await c.set(s, 'x');
    const cases: [string[], string][] = [
      [[z, '0', '-1', 'foo'], 'ERR syntax error'],
      [[z, '0', '-1', 'REV', 'REV'], 'ERR syntax error'],
      [[z, '0', '-1', 'BYSCORE', 'BYLEX'], 'ERR syntax error'],
      [[z, '1', '3', 'BYSCORE', 'LIMIT', '1'], 'ERR syntax error'],
      [[z, '1', '3', 'BYSCORE', 'LIMIT', 'x', '1'], 'ERR value is not an integer or out of range'],
      [[z, 'x', '1'], 'ERR value is not an integer or out of range'],
      [[z, '(1', '3'], 'ERR value is not an integer or out of range'],
      [[z, 'x', 'y', 'BYSCORE'], 'ERR min or max is not a float'],
      [[z, 'a', 'c', 'BYLEX'], 'ERR min or max not valid string range item'],
      [[z, '0', '1', 'LIMIT', '0', '1', 'WITHSCORES', 'BYLEX'], 'ERR syntax error, WITHSCORES not supported in combination with BYLEX'],
      [[z, 'x', 'y', 'WITHSCORES', 'LIMIT', '0', '1'], 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX'],
      [[s, '0', '-1'], WRONGTYPE],
      [[s, 'x', 'y'], 'ERR value is not an integer or out of range'],
    ];
    for (const [args, e] of cases) expect(await err(c.call('ZRANGE', ...args)), args.join(' ')).toBe(e);
  });

  it('legacy ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX', async () => {
    const z = k('legacy');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c', 4, 'd');
    expect(await c.zrevrange(z, 0, 1, 'WITHSCORES')).toEqual(['d', '4', 'c', '3']);
    expect(await c.zrangebyscore(z, 1, 3, 'WITHSCORES', 'LIMIT', 1, 1)).toEqual(['b', '2']);
    expect(await c.zrevrangebyscore(z, 3, 1, 'LIMIT', 1, 2)).toEqual(['b', 'a']);
    expect(await c.zrevrangebyscore(z, 1, 3)).toEqual([]);
    expect(await c.zrangebylex(z, '(a', '[c')).toEqual(['b', 'c']);
    expect(await c.zrevrangebylex(z, '+', '-', 'LIMIT', 0, 2)).toEqual(['d', 'c']);
    expect(await err(c.call('ZRANGEBYSCORE', z, '1', '3', 'REV'))).toBe('ERR syntax error');
    expect(await err(c.call('ZREVRANGE', z, '0', '1', 'BYSCORE'))).toBe('ERR syntax error');
    expect(await err(c.call('ZREVRANGE', z, '0', '1', 'LIMIT', '0', '1'))).toBe(
      'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    );
    expect(await err(c.call('ZRANGEBYLEX', z, '-', '+', 'WITHSCORES'))).toBe('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  });

  it('lex ranges of a small set with mixed scores walk it like a listpack (as Redis does)', async () => {
    const z = k('mix');
    await c.zadd(z, 1, 'b', 2, 'a', 3, 'd', 4, 'c'); // order: b a d c
    expect(await c.zrangebylex(z, '[a', '[c')).toEqual(['b', 'a']);
    expect(await c.zrevrangebylex(z, '[c', '[a')).toEqual(['c', 'd', 'a', 'b']);
    expect(await c.zlexcount(z, '[a', '[c')).toBe(2);
    expect(await c.zremrangebylex(z, '[a', '[c')).toBe(2);
    expect(await c.zrange(z, 0, -1)).toEqual(['d', 'c']);
  });

  it('RESP2 flat pairs, RESP3 nested [member, double] pairs', async () => {
    const z = k('resp');
    await c.zadd(z, 1, 'a', 2.5, 'b', 'inf', 'c');
    expect(await wire('ZRANGE', z, '0', '-1', 'WITHSCORES')).toEqual({ r2: '[$a $1 $b $2.5 $c $inf]', r3: '[[$a ,1] [$b ,2.5] [$c ,inf]]' });
    expect(await wire('ZRANGEBYSCORE', z, '2', '+inf', 'WITHSCORES')).toEqual({ r2: '[$b $2.5 $c $inf]', r3: '[[$b ,2.5] [$c ,inf]]' });
    expect(await wire('ZRANGE', z, '0', '0')).toEqual({ r2: '[$a]', r3: '[$a]' });
    expect(await wire('ZSCORE', z, 'b')).toEqual({ r2: '$2.5', r3: ',2.5' });
    expect(await wire('ZSCORE', z, 'nope')).toEqual({ r2: '$nil', r3: '_' });
    expect(await wire('ZMSCORE', z, 'a', 'nope')).toEqual({ r2: '[$1 $nil]', r3: '[,1 _]' });
    const nr = await srv.nodeRedis(3);
    expect(await nr.sendCommand(['ZRANGE', z, '0', '1', 'WITHSCORES'])).toEqual([
      ['a', 1],
      ['b', 2.5],
    ]);
    expect(await nr.sendCommand(['ZSCORE', z, 'c'])).toBe(Infinity);
  });

  it('ZRANGESTORE stores the range, deletes the destination on an empty one', async () => {
    const z = k('src');
    const d = k('dst');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c', 4, 'd');
    await c.set(d, 'old');
    await c.expire(d, 100);
    expect(await c.zrangestore(d, z, 1, 3, 'BYSCORE', 'LIMIT', 1, 1)).toBe(1);
    expect(await c.zrange(d, 0, -1, 'WITHSCORES')).toEqual(['b', '2']);
    expect(await c.ttl(d)).toBe(-1);
    expect(await c.zrangestore(d, z, 0, -1, 'REV')).toBe(4);
    expect(await c.zrange(d, 0, -1)).toEqual(['a', 'b', 'c', 'd']);
    expect(await events(async () => expect(await c.zrangestore(d, z, 9, 10)).toBe(0))).toEqual([`del ${d}`]);
    expect(await c.exists(d)).toBe(0);
    expect(await c.zrangestore(d, k('none'), 0, -1)).toBe(0);
    expect(await err(c.call('ZRANGESTORE', d, z, '0', '-1', 'WITHSCORES'))).toBe('ERR syntax error');
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.zrangestore(d, s, 0, -1))).toBe(WRONGTYPE);
  });

  it('ZREMRANGEBYRANK / BYSCORE / BYLEX', async () => {
    const z = k('rem');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
    expect(await c.zremrangebyrank(z, 5, 10)).toBe(0);
    expect(await c.zremrangebyrank(z, -100, 0)).toBe(1);
    expect(await c.zremrangebyscore(z, '(2', 3)).toBe(1);
    expect(await c.zrange(z, 0, -1)).toEqual(['b', 'd', 'e']);
    const l = k('remlex');
    await c.zadd(l, 0, 'a', 0, 'b', 0, 'c');
    expect(await c.zremrangebylex(l, '-', '(c')).toBe(2);
    expect(await events(async () => expect(await c.zremrangebylex(l, '-', '+')).toBe(1))).toEqual([`zremrangebylex ${l}`, `del ${l}`]);
    expect(await c.exists(l)).toBe(0);
    expect(await c.zremrangebyrank(k('none'), 0, 1)).toBe(0);
    expect(await err(c.zremrangebyrank(z, 'x', 1))).toBe('ERR value is not an integer or out of range');
    expect(await err(c.zremrangebyscore(z, 'x', 1))).toBe('ERR min or max is not a float');
    expect(await err(c.zremrangebylex(z, 'x', '+'))).toBe('ERR min or max not valid string range item');
  });
});

describe('pops', () => {
  it('ZPOPMIN / ZPOPMAX with and without count', async () => {
    const z = k('pop');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c', '-inf', 'd');
    expect(await wire('ZPOPMIN', z)).toEqual({ r2: '[$d $-inf]', r3: '[$a ,1]' });
    expect(await wire('ZPOPMAX', z, '1')).toEqual({ r2: '[$c $3]', r3: '[[$b ,2]]' });
    expect(await wire('ZPOPMAX', z, '0')).toEqual({ r2: '[]', r3: '[]' });
    expect(await wire('ZPOPMIN', k('none'))).toEqual({ r2: '[]', r3: '[]' });
    expect(await err(c.call('ZPOPMIN', z, '-1'))).toBe('ERR value is out of range, must be positive');
    expect(await err(c.call('ZPOPMIN', z, 'x'))).toBe('ERR value is out of range, must be positive');
    expect(await err(c.call('ZPOPMIN', z, '1', '2'))).toBe('ERR syntax error');
    expect(await c.exists(z)).toBe(0);
    const y = k('pop2');
    await c.zadd(y, 1, 'a', 2, 'b');
    expect(await events(async () => expect(await c.zpopmin(y, 5)).toEqual(['a', '1', 'b', '2']))).toEqual([`zpopmin ${y}`, `del ${y}`]);
  });

  it('ZMPOP: first non-empty key, nested pairs in both protocols, propagated as ZPOPMIN/ZPOPMAX key n', async () => {
    const z = k('mpop');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c');
    const p = await propagated(async () => {
      expect(await wire('ZMPOP', '2', k('none'), z, 'MAX', 'COUNT', '2')).toEqual({
        r2: `[$${z} [[$c $3] [$b $2]]]`,
        r3: `[$${z} [[$a ,1]]]`,
      });
    });
    expect(p).toEqual([
      ['ZPOPMAX', z, '2'],
      ['ZPOPMAX', z, '1'],
    ]);
    expect(await wire('ZMPOP', '1', z, 'MIN')).toEqual({ r2: '*nil', r3: '_' });
    const cases: [string[], string][] = [
      [['0', z, 'MIN'], 'ERR numkeys should be greater than 0'],
      [['x', z, 'MIN'], 'ERR numkeys should be greater than 0'],
      [['2', z, 'MIN'], 'ERR syntax error'],
      [['1', z, 'foo'], 'ERR syntax error'],
      [['1', z, 'MIN', 'COUNT', '0'], 'ERR count should be greater than 0'],
      [['1', z, 'MIN', 'COUNT', 'x'], 'ERR count should be greater than 0'],
      [['1', z, 'MIN', 'COUNT', '1', 'COUNT', '2'], 'ERR syntax error'],
    ];
    for (const [args, e] of cases) expect(await err(c.call('ZMPOP', ...args)), args.join(' ')).toBe(e);
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.call('ZMPOP', '1', s, 'MIN'))).toBe(WRONGTYPE);
    expect(await err(c.call('ZMPOP', '1', s, 'foo'))).toBe('ERR syntax error');
  });
});

describe('blocking pops', () => {
  it('serve at once from the first non-empty key and propagate the deterministic effect', async () => {
    const a = k('a');
    const b = k('b');
    await c.zadd(b, 1, 'x', 2, 'y', 3, 'z');
    const p = await propagated(async () => {
      expect(await wire('BZPOPMIN', a, b, '0')).toEqual({ r2: `[$${b} $x $1]`, r3: `[$${b} $y ,2]` });
      expect(await c.call('BZMPOP', '0', '2', a, b, 'MAX')).toEqual([b, [['z', '3']]]);
    });
    expect(p).toEqual([['ZPOPMIN', b], ['ZPOPMIN', b], ['ZPOPMAX', b, '1']]);
    expect(await c.exists(b)).toBe(0);
  });

  it('argument errors, WRONGTYPE, and the order of checks', async () => {
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.call('BZPOPMIN', k('x'), 'abc'))).toBe('ERR timeout is not a float or out of range');
    expect(await err(c.call('BZPOPMIN', k('x'), '-1'))).toBe('ERR timeout is negative');
    expect(await err(c.call('BZPOPMAX', s, '0'))).toBe(WRONGTYPE);
    // BZMPOP checks its keys and options before the timeout.
    expect(await err(c.call('BZMPOP', '-1', '1', 'a', 'MIN', 'COUNT', '0'))).toBe('ERR count should be greater than 0');
    expect(await err(c.call('BZMPOP', '-1', '0', 'a', 'MIN'))).toBe('ERR numkeys should be greater than 0');
    expect(await err(c.call('BZMPOP', '-1', '1', 'a', 'MIN'))).toBe('ERR timeout is negative');
    expect(await err(c.call('BZMPOP', 'x', '1', 'a', 'MIN'))).toBe('ERR timeout is not a float or out of range');
    expect(await err(c.call('BZMPOP', '0', '1', s, 'MIN'))).toBe(WRONGTYPE);
  });

  it('several blocked clients are served in the order they blocked (FIFO)', async () => {
    const q = k('fifo');
    const cl = [client(), client(), client()];
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < cl.length; i++) {
      replies.push(i === 1 ? cl[i]!.call('BZMPOP', '0', '1', q, 'MIN', 'COUNT', '2') : cl[i]!.bzpopmin(q, 0));
      await untilBlocked(i + 1);
    }
    const p = await propagated(async () => {
      expect(await c.zadd(q, 1, 'a', 2, 'b', 3, 'c', 4, 'd')).toBe(4);
      await Promise.all(replies);
    });
    expect(await Promise.all(replies)).toEqual([[q, 'a', '1'], [q, [['b', '2'], ['c', '3']]], [q, 'd', '4']]);
    expect(p).toEqual([['zadd', q, '1', 'a', '2', 'b', '3', 'c', '4', 'd'], ['ZPOPMIN', q], ['ZPOPMIN', q, '2'], ['ZPOPMIN', q]]);
    expect(await c.exists(q)).toBe(0);
    expect(blocked()).toBe(0);
  });

  it('a client blocked on several keys is woken by the key that gets data, also by a STORE command', async () => {
    const x = k('x');
    const y = k('y');
    const src = k('src');
    await c.zadd(src, 5, 'm');
    const b = client();
    const reply = b.bzpopmax(x, y, 0);
    await untilBlocked(1);
    expect(await c.zunionstore(y, 1, src)).toBe(1);
    expect(await reply).toEqual([y, 'm', '5']);
    expect(await c.exists(y)).toBe(0);
  });

  it('wakes after EXEC, ignores keys of another type, and times out with a null array', async () => {
    const q = k('multi');
    const b = client();
    const reply = b.bzpopmin(q, 0);
    await untilBlocked(1);
    // Another type on the key does not serve the waiter.
    await c.set(q, 'str');
    await c.del(q);
    const m = c.multi();
    m.zadd(q, 1, 'a');
    m.zadd(q, 0, 'z');
    await m.exec();
    expect(await reply).toEqual([q, 'z', '0']);
    expect(await c.zrange(q, 0, -1)).toEqual(['a']);
    // Fractional timeout.
    const t0 = Date.now();
    expect(await wire('BZPOPMIN', k('none'), '0.05')).toEqual({ r2: '*nil', r3: '_' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90); // two calls of 50 ms
    expect(await wire('BZMPOP', '0.02', '1', k('none'), 'MIN')).toEqual({ r2: '*nil', r3: '_' });
  });

  it('inside MULTI a blocking pop answers at once like a timeout', async () => {
    const m = c.multi();
    m.bzpopmin(k('none'), 0);
    m.call('BZMPOP', '0', '1', k('none'), 'MIN');
    expect(await m.exec()).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(blocked()).toBe(0);
  });
});

describe('ZRANDMEMBER', () => {
  it('counts, negative counts, WITHSCORES shapes and errors', async () => {
    const z = k('rand');
    await c.zadd(z, 1, 'a', 2, 'b', 3, 'c');
    expect(['a', 'b', 'c']).toContain(await c.zrandmember(z));
    expect(await c.zrandmember(k('none'))).toBeNull();
    const two = (await c.zrandmember(z, 2)) as string[];
    expect(two).toHaveLength(2);
    expect(new Set(two).size).toBe(2);
    expect(((await c.zrandmember(z, 10)) as string[]).sort()).toEqual(['a', 'b', 'c']);
    const many = (await c.zrandmember(z, -10)) as string[];
    expect(many).toHaveLength(10);
    for (const m of many) expect(['a', 'b', 'c']).toContain(m);
    const ws = (await c.zrandmember(z, -4, 'WITHSCORES')) as string[];
    expect(ws).toHaveLength(8);
    for (let i = 0; i < 8; i += 2) expect(ws[i + 1]).toBe(String(['a', 'b', 'c'].indexOf(ws[i]!) + 1));
    const r3 = await w3.send('ZRANDMEMBER', z, '2', 'WITHSCORES');
    expect(r3.type === 'array' && r3.value.every((p) => p.type === 'array' && p.value[1]!.type === 'double')).toBe(true);
    expect(await c.zrandmember(z, 0)).toEqual([]);
    expect(await c.zrandmember(k('none'), 5)).toEqual([]);
    expect(await err(c.call('ZRANDMEMBER', z, 'x'))).toBe('ERR value is not an integer or out of range');
    expect(await err(c.call('ZRANDMEMBER', z, '1', 'foo'))).toBe('ERR syntax error');
    expect(await err(c.call('ZRANDMEMBER', z, '-9223372036854775808'))).toBe(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
    expect(await err(c.call('ZRANDMEMBER', z, '4611686018427387904', 'WITHSCORES'))).toBe('ERR value is out of range');
    expect(await c.call('ZRANDMEMBER', z, '4611686018427387903', 'WITHSCORES')).toHaveLength(6);
  });
});

describe('set operations', () => {
  it('ZUNION / ZINTER / ZDIFF with WEIGHTS, AGGREGATE and plain sets (score 1)', async () => {
    const a = k('a');
    const b = k('b');
    const s = k('s');
    await c.zadd(a, 1, 'x', 2, 'y', 3, 'z');
    await c.zadd(b, 10, 'y', 20, 'z', 30, 'w');
    await c.sadd(s, 'x', 'w');
    expect(await c.call('ZUNION', '2', a, b, 'WITHSCORES')).toEqual(['x', '1', 'y', '12', 'z', '23', 'w', '30']);
    expect(await c.call('ZUNION', '2', a, b, 'WEIGHTS', '2', '0.5', 'AGGREGATE', 'MAX', 'WITHSCORES')).toEqual(['x', '2', 'y', '5', 'z', '10', 'w', '15']);
    expect(await c.call('ZINTER', '2', a, b, 'AGGREGATE', 'min', 'WITHSCORES')).toEqual(['y', '2', 'z', '3']);
    expect(await c.call('ZDIFF', '2', a, b, 'WITHSCORES')).toEqual(['x', '1']);
    expect(await c.call('ZUNION', '2', a, s, 'WITHSCORES')).toEqual(['w', '1', 'x', '2', 'y', '2', 'z', '3']);
    expect(await c.call('ZINTER', '2', s, b)).toEqual(['w']);
    expect(await c.call('ZUNION', '2', k('none'), a)).toEqual(['x', 'y', 'z']);
    // inf * 0 counts as 0, and so does inf + -inf.
    const inf = k('inf');
    const ninf = k('ninf');
    await c.zadd(inf, 'inf', 'm');
    await c.zadd(ninf, '-inf', 'm');
    expect(await c.call('ZUNION', '1', inf, 'WEIGHTS', '0', 'WITHSCORES')).toEqual(['m', '0']);
    expect(await c.call('ZUNION', '2', inf, ninf, 'WITHSCORES')).toEqual(['m', '0']);
    expect(await c.call('ZINTER', '2', inf, ninf, 'AGGREGATE', 'MAX', 'WITHSCORES')).toEqual(['m', 'inf']);
    expect(await wire('ZUNION', '1', a, 'WITHSCORES')).toEqual({ r2: '[$x $1 $y $2 $z $3]', r3: '[[$x ,1] [$y ,2] [$z ,3]]' });
  });

  it('sums in Redis order: inputs sorted by size, argument order among equals', async () => {
    const s1 = k('s1');
    const s2 = k('s2');
    const s3 = k('s3');
    const s4 = k('s4');
    await c.zadd(s1, 1, 'm');
    await c.zadd(s2, '1e16', 'm');
    await c.zadd(s3, 1, 'm');
    await c.zadd(s4, 1, 'm', 1, 'x');
    expect(await c.call('ZUNION', '3', s1, s2, s3, 'WITHSCORES')).toEqual(['m', '10000000000000000']);
    expect(await c.call('ZUNION', '3', s1, s3, s2, 'WITHSCORES')).toEqual(['m', '10000000000000002']);
    expect(await c.call('ZUNION', '3', s1, s4, s2, 'WITHSCORES')).toEqual(['x', '1', 'm', '10000000000000000']);
    expect(await c.call('ZINTER', '3', s1, s3, s2, 'WITHSCORES')).toEqual(['m', '10000000000000002']);
  });

  it('STORE forms replace the destination, delete it on an empty result; ZINTERCARD', async () => {
    const a = k('a');
    const b = k('b');
    const d = k('d');
    await c.zadd(a, 1, 'x', 2, 'y');
    await c.zadd(b, 5, 'y');
    await c.set(d, 'old');
    expect(await events(async () => expect(await c.zunionstore(d, 2, a, b)).toBe(2))).toEqual([`zunionstore ${d}`]);
    expect(await c.zrange(d, 0, -1, 'WITHSCORES')).toEqual(['x', '1', 'y', '7']);
    expect(await c.zinterstore(d, 2, a, b, 'WEIGHTS', 1, 2)).toBe(1);
    expect(await c.zrange(d, 0, -1, 'WITHSCORES')).toEqual(['y', '12']);
    expect(await c.zdiffstore(d, 2, a, b)).toBe(1);
    expect(await c.zrange(d, 0, -1, 'WITHSCORES')).toEqual(['x', '1']);
    expect(await events(async () => expect(await c.zinterstore(d, 2, a, k('none'))).toBe(0))).toEqual([`del ${d}`]);
    expect(await c.exists(d)).toBe(0);
    expect(await c.zintercard(2, a, b)).toBe(1);
    expect(await c.call('ZINTERCARD', '1', a, 'LIMIT', '1')).toBe(1);
    expect(await c.call('ZINTERCARD', '1', a, 'LIMIT', '0')).toBe(2);
  });

  it('errors in Redis order: numkeys, key types, then options', async () => {
    const z = k('z');
    await c.zadd(z, 1, 'a');
    const s = k('str');
    await c.set(s, 'x');
    const cases: [string[], string][] = [
      [['ZUNIONSTORE', 'd', '0', z], "ERR at least 1 input key is needed for 'zunionstore' command"],
      [['ZUNION', '-1', z], "ERR at least 1 input key is needed for 'zunion' command"],
      [['ZINTERCARD', '0', z], "ERR at least 1 input key is needed for 'zintercard' command"],
      [['ZUNIONSTORE', 'd', 'x', z], 'ERR value is not an integer or out of range'],
      [['ZUNIONSTORE', 'd', '2', z], 'ERR syntax error'],
      [['ZUNIONSTORE', 'd', '1', z, 'WEIGHTS'], 'ERR syntax error'],
      [['ZUNIONSTORE', 'd', '1', z, 'WEIGHTS', 'x'], 'ERR weight value is not a float'],
      [['ZUNION', '1', z, 'WEIGHTS', 'nan'], 'ERR weight value is not a float'],
      [['ZUNIONSTORE', 'd', '1', z, 'AGGREGATE', 'avg'], 'ERR syntax error'],
      [['ZUNIONSTORE', 'd', '1', z, 'WITHSCORES'], 'ERR syntax error'],
      [['ZDIFF', '1', z, 'WEIGHTS', '1'], 'ERR syntax error'],
      [['ZUNION', '1', s, 'WEIGHTS', 'x'], WRONGTYPE],
      [['ZINTERCARD', '1', z, 'LIMIT', '-1'], "ERR LIMIT can't be negative"],
      [['ZINTERCARD', '1', z, 'LIMIT', 'x'], "ERR LIMIT can't be negative"],
      [['ZINTERCARD', '1', s, 'LIMIT', 'x'], WRONGTYPE],
      [['ZINTERCARD', '2', z], 'ERR syntax error'],
    ];
    for (const [args, e] of cases) expect(await err(c.call(...(args as [string, ...string[]]))), args.join(' ')).toBe(e);
  });
});

describe('ZSCAN', () => {
  it('a listpack comes whole in one call, scores as stored; a skiplist iterates with a cursor', async () => {
    const z = k('scan');
    await c.zadd(z, '1e17', 'a', '-1e18', 'b', '0.5', 'c', '1e20', 'd');
    expect(await c.zscan(z, 0)).toEqual(['0', ['b', '-1000000000000000000', 'c', '0.5', 'a', '100000000000000000', 'd', '1e+20']]);
    expect(await c.zscan(z, 0, 'MATCH', '[ab]', 'COUNT', 1)).toEqual(['0', ['b', '-1000000000000000000', 'a', '100000000000000000']]);
    expect(await c.call('ZSCAN', k('none'), '0', 'foo')).toEqual(['0', []]);
    expect(await err(c.zscan(z, 'x'))).toBe('ERR invalid cursor');
    expect(await err(c.call('ZSCAN', z, '0', 'foo'))).toBe('ERR syntax error');
    expect(await err(c.call('ZSCAN', z, '0', 'COUNT', '0'))).toBe('ERR syntax error');
    expect(await err(c.call('ZSCAN', z, '0', 'COUNT', 'x'))).toBe('ERR value is not an integer or out of range');
    const big = k('bigscan');
    const args: (string | number)[] = [];
    for (let i = 0; i < 300; i++) args.push(i, `m${i}`);
    await c.zadd(big, ...args);
    expect(await c.object('ENCODING', big)).toBe('skiplist');
    const seen = new Map<string, string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, items] = await c.zscan(big, cursor, 'COUNT', 50);
      for (let i = 0; i < items.length; i += 2) seen.set(items[i]!, items[i + 1]!);
      cursor = next;
      calls++;
    } while (cursor !== '0');
    expect(calls).toBeGreaterThan(1);
    expect(seen.size).toBe(300);
    expect(seen.get('m7')).toBe('7');
  });
});

describe('encodings, generic commands, notifications', () => {
  it('OBJECT ENCODING follows zset-max-listpack-entries / -value, one way', async () => {
    await c.config('SET', 'zset-max-listpack-entries', '2');
    await c.config('SET', 'zset-max-listpack-value', '3');
    try {
      const z = k('enc');
      await c.zadd(z, 1, 'a', 2, 'b');
      expect(await c.object('ENCODING', z)).toBe('listpack');
      await c.zadd(z, 3, 'c');
      expect(await c.object('ENCODING', z)).toBe('skiplist');
      await c.zrem(z, 'c', 'b');
      expect(await c.object('ENCODING', z)).toBe('skiplist');
      // STORE results are turned into a listpack when they fit.
      const d = k('enc-d');
      await c.zunionstore(d, 1, z);
      expect(await c.object('ENCODING', d)).toBe('listpack');
      const long = k('enc-long');
      await c.zadd(long, 1, 'abcd');
      expect(await c.object('ENCODING', long)).toBe('skiplist');
      const cp = k('enc-copy');
      expect(await c.copy(z, cp)).toBe(1);
      expect(await c.object('ENCODING', cp)).toBe('skiplist');
    } finally {
      await c.config('SET', 'zset-max-listpack-entries', '128');
      await c.config('SET', 'zset-max-listpack-value', '64');
    }
  });

  it('TYPE, COPY (deep), DEBUG DIGEST-VALUE as redis-server computes it', async () => {
    const z = k('gen');
    await c.zadd(z, 1, 'a', 2.5, 'b', -3, 'c');
    expect(await c.type(z)).toBe('zset');
    const cp = k('gen-copy');
    await c.copy(z, cp);
    await c.zadd(cp, 9, 'a');
    expect(await c.zscore(z, 'a')).toBe('1');
    const d = k('dig');
    await c.zadd(d, 1, 'a', 2.5, 'b', -3, 'c');
    expect(await c.call('DEBUG', 'DIGEST-VALUE', d)).toEqual(['2dd2ef669bd842b340aed0cb20be587954151e2b']);
  });

  it('keyspace events as Redis fires them (none when nothing changes)', async () => {
    const z = k('ev');
    const seen = await events(async () => {
      await c.zadd(z, 1, 'a', 2, 'b');
      await c.zadd(z, 'NX', 5, 'a');
      await c.zadd(z, 1, 'a');
      await c.zadd(z, 'INCR', 0, 'a');
      await c.zincrby(z, 1, 'a');
      await c.zrem(z, 'nope');
      await c.zremrangebyscore(z, 10, 20);
      await c.zrem(z, 'a');
      await c.zpopmax(z);
    });
    expect(seen).toEqual([`zadd ${z}`, `zincr ${z}`, `zrem ${z}`, `zpopmax ${z}`, `del ${z}`]);
  });

  it('commands are propagated verbatim unless they are random or blocking', async () => {
    const z = k('prop');
    const p = await propagated(async () => {
      await c.zadd(z, 1, 'a', 2, 'b');
      await c.zadd(z, 1, 'a'); // no change: not propagated
      await c.zincrby(z, 2, 'a');
      await c.zpopmin(z, 1);
    });
    expect(p).toEqual([
      ['zadd', z, '1', 'a', '2', 'b'],
      ['zincrby', z, '2', 'a'],
      ['zpopmin', z, '1'],
    ]);
  });

  it('COMMAND INFO and GETKEYS for movable keys', async () => {
    expect(await c.call('COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2')).toEqual(['d', 'a', 'b']);
    expect(await c.call('COMMAND', 'GETKEYS', 'BZMPOP', '0', '2', 'a', 'b', 'MIN')).toEqual(['a', 'b']);
    expect(await c.call('COMMAND', 'GETKEYS', 'BZPOPMIN', 'a', 'b', '0')).toEqual(['a', 'b']);
    const info = (await c.call('COMMAND', 'INFO', 'zadd', 'zrange', 'bzpopmin')) as unknown[][];
    expect(info.map((e) => e.slice(0, 6))).toEqual([
      ['zadd', -4, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['zrange', -4, ['readonly'], 1, 1, 1],
      ['bzpopmin', -3, ['write', 'noscript', 'blocking', 'fast'], 1, -2, 1],
    ]);
  });
});

describe('node-redis clients, RESP2 and RESP3', () => {
  it('the same commands through node-redis in both protocols', async () => {
    for (const proto of [2, 3] as const) {
      const nr = await srv.nodeRedis(proto);
      const z = k(`nr${proto}`);
      const d = (x: number | string): number | string => (proto === 3 ? Number(x) : String(x));
      expect(await nr.sendCommand(['ZADD', z, '1', 'a', '2.5', 'b', 'inf', 'c'])).toBe(3);
      expect(await nr.sendCommand(['ZSCORE', z, 'b'])).toBe(d(2.5));
      expect(await nr.sendCommand(['ZINCRBY', z, '1', 'a'])).toBe(d(2));
      expect(await nr.sendCommand(['ZRANGE', z, '0', '-1', 'WITHSCORES'])).toEqual(
        proto === 3 ? [['a', 2], ['b', 2.5], ['c', Infinity]] : ['a', '2', 'b', '2.5', 'c', 'inf'],
      );
      expect(await nr.sendCommand(['ZRANK', z, 'b', 'WITHSCORE'])).toEqual([1, d(2.5)]);
      expect(await nr.sendCommand(['ZMSCORE', z, 'a', 'nope'])).toEqual([d(2), null]);
      expect(await nr.sendCommand(['ZPOPMAX', z])).toEqual(['c', proto === 3 ? Infinity : 'inf']);
      expect(await nr.sendCommand(['ZMPOP', '1', z, 'MIN', 'COUNT', '1'])).toEqual([z, [['a', d(2)]]]);
      expect(await nr.sendCommand(['BZPOPMIN', z, '0'])).toEqual([z, 'b', d(2.5)]);
      expect(await nr.sendCommand(['ZMPOP', '1', z, 'MIN'])).toBeNull();
      expect(await nr.sendCommand(['BZPOPMIN', z, '0.01'])).toBeNull();
      expect(await nr.sendCommand(['ZRANDMEMBER', z])).toBeNull();
      await expect(nr.sendCommand(['ZADD', z, 'NX', 'XX', '1', 'a'])).rejects.toThrow('ERR XX and NX options at the same time are not compatible');
      await expect(nr.sendCommand(['ZRANGE', z, '0', '1', 'BYLEX', 'WITHSCORES'])).rejects.toThrow(
        'ERR syntax error, WITHSCORES not supported in combination with BYLEX',
      );
    }
  });
});
