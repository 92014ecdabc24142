/**
 * GEO commands through real clients: ioredis (RESP2), node-redis (RESP3) and
 * wire-level clients that see the exact reply types (coordinates as RESP3
 * doubles, distances as bulk strings in both protocols, null bulk vs null
 * array). Every expected reply and error text below was checked against
 * redis-server 7.0.15.
 */
import { describe, expect, it } from 'vitest';
import { serverForFile } from '../helpers/server.js';
import { err, WRONGTYPE, wireClients } from '../helpers/expect.js';
import { waitUntil } from '../helpers/raw-client.js';

const { srv, c, eventsOf: events, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA' });
const { wire } = await wireClients(srv);

let seq = 0;
const k = (name: string): string => `geo:${name}:${++seq}`;

/** The Redis documentation's Sicily, plus two points 200+ km out. */
async function sicily(): Promise<string> {
  const key = k('sicily');
  expect(await c.geoadd(key, 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania')).toBe(2);
  return key;
}

const PALERMO = ['13.36138933897018433', '38.11555639549629859'];
const CATANIA = ['15.08726745843887329', '37.50266842333162032'];
const EDGE2 = ['17.24151045083999634', '38.78813451624225195'];

// ---------------------------------------------------------------------------

describe('GEOADD', () => {
  it('stores 52-bit geohashes as sorted set scores', async () => {
    const key = await sicily();
    expect(await c.zrange(key, 0, -1, 'WITHSCORES')).toEqual(['Palermo', '3479099956230698', 'Catania', '3479447370796909']);
    expect(await c.type(key)).toBe('zset');
    expect(await c.object('ENCODING', key)).toBe('listpack');
    // The limits are inclusive; the upper ones land above 2^52.
    const lim = k('limits');
    expect(await c.geoadd(lim, 180, 85.05112878, 'np', -180, -85.05112878, 'sp')).toBe(2);
    expect(await c.zscore(lim, 'np')).toBe('13510798882111488');
    expect(await c.zscore(lim, 'sp')).toBe('0');
  });

  it('NX, XX and CH', async () => {
    const key = await sicily();
    expect(await c.call('GEOADD', key, 'NX', '1', '2', 'Palermo', '3', '4', 'new')).toBe(1);
    expect(await c.geopos(key, 'Palermo')).toEqual([PALERMO]);
    expect(await c.call('GEOADD', key, 'XX', '1', '2', 'Palermo', '3', '4', 'other')).toBe(0);
    expect(await c.zscore(key, 'other')).toBeNull();
    expect(await c.call('GEOADD', key, 'XX', 'CH', '1', '3', 'Palermo', '15.087269', '37.502669', 'Catania')).toBe(1);
    expect(await c.call('GEOADD', key, 'ch', '5', '5', 'x', '1', '3', 'Palermo')).toBe(1);
    const none = k('none');
    expect(await c.call('GEOADD', none, 'XX', '1', '2', 'a')).toBe(0);
    expect(await c.exists(none)).toBe(0);
  });

  it('rejects bad positions and arguments before writing anything', async () => {
    const key = k('bad');
    expect(await err(c.call('GEOADD', key, '1', '2', 'a', '200', '10', 'b'))).toBe('ERR invalid longitude,latitude pair 200.000000,10.000000');
    expect(await err(c.call('GEOADD', key, '0', '85.05112879', 'a'))).toBe('ERR invalid longitude,latitude pair 0.000000,85.051129');
    expect(await err(c.call('GEOADD', key, 'inf', '-inf', 'a'))).toBe('ERR invalid longitude,latitude pair inf,-inf');
    expect(await err(c.call('GEOADD', key, '-180.0000001', '-0', 'a'))).toBe('ERR invalid longitude,latitude pair -180.000000,-0.000000');
    expect(await err(c.call('GEOADD', key, 'nan', '1', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('GEOADD', key, '1', 'x', 'a'))).toBe('ERR value is not a valid float');
    expect(await err(c.call('GEOADD', key, 'NX', 'XX', '1', '2', 'a'))).toBe('ERR syntax error');
    expect(await err(c.call('GEOADD', key, '1', '2', 'a', '3'))).toBe('ERR syntax error');
    expect(await err(c.call('GEOADD', key, 'CH', 'CH', 'CH'))).toBe('ERR syntax error');
    expect(await err(c.call('GEOADD', key, '1', '2'))).toBe("ERR wrong number of arguments for 'geoadd' command");
    expect(await c.exists(key)).toBe(0);
    await c.set(key, 'x');
    expect(await err(c.call('GEOADD', key, '1', '2', 'a'))).toBe(WRONGTYPE);
    // Argument errors come before the type check.
    expect(await err(c.call('GEOADD', key, '1', '200', 'a'))).toBe('ERR invalid longitude,latitude pair 1.000000,200.000000');
  });

  it('fires zadd, propagates as ZADD of the geohashes, wakes BZPOPMIN', async () => {
    const key = k('prop');
    expect(await events(() => c.call('GEOADD', key, '1', '2', 'a'))).toEqual([`zadd ${key}`]);
    expect(await events(() => c.call('GEOADD', key, '1', '2', 'a'))).toEqual([]);
    expect(await propagated(() => c.call('GEOADD', key, 'CH', '13.361389', '38.115556', 'Palermo', '180', '85.05112878', 'np'))).toEqual([
      ['zadd', key, 'CH', '3479099956230698', 'Palermo', '13510798882111488', 'np'],
    ]);
    expect(await propagated(() => c.call('GEOADD', key, '13.361389', '38.115556', 'Palermo'))).toEqual([]);

    const wait = k('wait');
    const blocker = srv.client({ enableReadyCheck: false });
    const popped = blocker.bzpopmin(wait, 5);
    await waitUntil(() => srv.engine.blocking.blockedCount === 1, 3000, 'blocked');
    await c.geoadd(wait, 0, 0, 'origin');
    expect(await popped).toEqual([wait, 'origin', '3377699720527872']);
  });
});

describe('GEOPOS / GEOHASH / GEODIST', () => {
  it('GEOPOS decodes the stored cell centre, %.17Lf-style, RESP3 doubles', async () => {
    const key = await sicily();
    expect(await c.geopos(key, 'Palermo', 'nope', 'Catania')).toEqual([PALERMO, null, CATANIA]);
    const w = await wire('GEOPOS', key, 'Palermo', 'nope');
    expect(w.r2).toBe(`[[$${PALERMO[0]} $${PALERMO[1]}] *nil]`);
    expect(w.r3).toBe(`[[,${PALERMO[0]} ,${PALERMO[1]}] _]`);
    expect((await wire('GEOPOS', k('missing'), 'a')).r2).toBe('[*nil]');
    expect((await wire('GEOPOS', key)).r2).toBe('[]');
    const nr = await srv.nodeRedis(3);
    // node-redis turns RESP3 doubles into numbers (its own parsing can be an ulp off).
    const [[lon, lat]] = (await nr.sendCommand(['GEOPOS', key, 'Catania'])) as [[number, number]];
    expect(lon).toBeCloseTo(15.087267458438873, 12);
    expect(lat).toBeCloseTo(37.50266842333162, 12);
    // Clamped at the limits; any score decodes.
    const lim = k('lim');
    await c.geoadd(lim, 180, 85.05112878, 'np', 0, 0, 'o');
    await c.zadd(lim, -1, 'neg', 0, 'zero');
    expect(await c.geopos(lim, 'np', 'o', 'neg', 'zero')).toEqual([
      ['180', '85.0511287799999991'],
      ['0.00000268220901489', '0.00000126736058093'],
      ['180', '85.0511287799999991'],
      ['-179.99999731779098511', '-85.05112751263942528'],
    ]);
  });

  it('GEOHASH gives 11-character standard geohashes', async () => {
    const key = await sicily();
    expect(await c.geohash(key, 'Palermo', 'Catania', 'nope')).toEqual(['sqc8b49rny0', 'sqdtr74hyu0', null]);
    expect((await wire('GEOHASH', key, 'nope')).r3).toBe('[_]');
    expect((await wire('GEOHASH', key, 'nope')).r2).toBe('[$nil]');
    expect(await c.geohash(k('missing'), 'a')).toEqual([null]);
    const lim = k('lim');
    await c.geoadd(lim, 180, 85.05112878, 'np', -180, -85.05112878, 'sp', 0, 0, 'o');
    expect(await c.geohash(lim, 'np', 'sp', 'o')).toEqual(['bp05b5048p0', '00bh0hbj200', 's0000000000']);
  });

  it('GEODIST in m, km, mi, ft with 4 decimals, a bulk string in RESP3 too', async () => {
    const key = await sicily();
    expect(await c.geodist(key, 'Palermo', 'Catania')).toBe('166274.1516');
    expect(await c.geodist(key, 'Palermo', 'Catania', 'KM')).toBe('166.2742');
    expect(await c.call('GEODIST', key, 'Palermo', 'Catania', 'mi')).toBe('103.3182');
    expect(await c.call('GEODIST', key, 'Palermo', 'Catania', 'Ft')).toBe('545518.8700');
    expect(await c.geodist(key, 'Palermo', 'Palermo')).toBe('0.0000');
    expect(await c.geodist(key, 'Palermo', 'nope')).toBeNull();
    expect(await c.geodist(k('missing'), 'a', 'b')).toBeNull();
    expect((await wire('GEODIST', key, 'Palermo', 'Catania')).r3).toBe('$166274.1516');
    expect((await wire('GEODIST', key, 'Palermo', 'nope')).r3).toBe('_');
    expect(await err(c.call('GEODIST', key, 'Palermo', 'Catania', 'yd'))).toBe('ERR unsupported unit provided. please use M, KM, FT, MI');
    expect(await err(c.call('GEODIST', key, 'Palermo', 'Catania', 'km', 'x'))).toBe('ERR syntax error');
    // The unit is checked before the key.
    const str = k('str');
    await c.set(str, 'x');
    expect(await err(c.call('GEODIST', str, 'a', 'b', 'yd'))).toBe('ERR unsupported unit provided. please use M, KM, FT, MI');
    expect(await err(c.call('GEODIST', str, 'a', 'b'))).toBe(WRONGTYPE);
    expect(await err(c.call('GEOPOS', str, 'a'))).toBe(WRONGTYPE);
    expect(await err(c.call('GEOHASH', str, 'a'))).toBe(WRONGTYPE);
  });
});

describe('GEORADIUS / GEORADIUSBYMEMBER', () => {
  it('finds members within the radius, unsorted unless asked, with WITHDIST WITHHASH WITHCOORD', async () => {
    const key = await sicily();
    expect(await c.georadius(key, 15, 37, 100, 'km')).toEqual(['Catania']);
    expect(await c.georadius(key, 15, 37, 200, 'km')).toEqual(['Palermo', 'Catania']);
    expect(await c.georadius(key, 15, 37, 200, 'km', 'WITHDIST', 'WITHCOORD')).toEqual([
      ['Palermo', '190.4424', PALERMO],
      ['Catania', '56.4413', CATANIA],
    ]);
    expect(await c.georadius(key, 15, 37, 200, 'km', 'WITHHASH', 'COUNT', 1)).toEqual([['Catania', 3479447370796909]]);
    expect(await c.call('GEORADIUS', key, '15', '37', '200', 'km', 'COUNT', '1', 'ANY')).toEqual(['Palermo']);
    expect(await c.call('GEORADIUS_RO', key, '15', '37', '200', 'km', 'DESC')).toEqual(['Palermo', 'Catania']);
    // Option order in the reply is fixed: member, distance, hash, coordinates.
    const w = await wire('GEORADIUS', key, '15', '37', '100', 'km', 'WITHCOORD', 'WITHHASH', 'WITHDIST');
    expect(w.r2).toBe(`[[$Catania $56.4413 :3479447370796909 [$${CATANIA[0]} $${CATANIA[1]}]]]`);
    expect(w.r3).toBe(`[[$Catania $56.4413 :3479447370796909 [,${CATANIA[0]} ,${CATANIA[1]}]]]`);
    expect(await c.georadius(key, 15, 37, 1, 'm')).toEqual([]);
    expect(await c.georadius(k('missing'), 15, 37, 1, 'm')).toEqual([]);
  });

  it('BYMEMBER searches around a member', async () => {
    const key = await sicily();
    await c.geoadd(key, 12.758489, 38.788135, 'edge1', 17.24151, 38.788135, 'edge2');
    expect(await c.georadiusbymember(key, 'Palermo', 200, 'km')).toEqual(['Palermo', 'edge1', 'Catania']);
    expect(await c.call('GEORADIUSBYMEMBER_RO', key, 'Palermo', '200', 'km', 'WITHDIST', 'ASC')).toEqual([
      ['Palermo', '0.0000'],
      ['edge1', '91.4007'],
      ['Catania', '166.2742'],
    ]);
    expect(await err(c.call('GEORADIUSBYMEMBER', key, 'nope', '200', 'km'))).toBe('ERR could not decode requested zset member');
    // Without the key nothing is checked but the options.
    expect(await c.call('GEORADIUSBYMEMBER', k('missing'), 'nope', '-1', 'yd')).toEqual([]);
    expect(await err(c.call('GEORADIUSBYMEMBER', k('missing'), 'nope', '1', 'm', 'COUNT', '0'))).toBe('ERR COUNT must be > 0');
  });

  it('STORE and STOREDIST write a sorted set (not with the WITH options, not in the _RO forms)', async () => {
    const key = await sicily();
    const dst = k('dst');
    expect(await events(() => c.call('GEORADIUS', key, '15', '37', '200', 'km', 'STORE', dst))).toEqual([`georadiusstore ${dst}`]);
    expect(await c.zrange(dst, 0, -1, 'WITHSCORES')).toEqual(['Palermo', '3479099956230698', 'Catania', '3479447370796909']);
    expect(await c.call('GEORADIUSBYMEMBER', key, 'Palermo', '200', 'km', 'STOREDIST', dst, 'DESC')).toBe(2);
    expect(await c.zrange(dst, 0, -1, 'WITHSCORES')).toEqual(['Palermo', '0', 'Catania', '166.27415156960032']);
    // Nothing found, or no source: the destination is deleted.
    expect(await events(() => c.call('GEORADIUS', key, '50', '50', '1', 'km', 'STORE', dst))).toEqual([`del ${dst}`]);
    expect(await c.exists(dst)).toBe(0);
    await c.set(dst, 'x');
    expect(await c.call('GEORADIUS', k('missing'), '50', '50', '1', 'km', 'STORE', dst)).toBe(0);
    expect(await c.exists(dst)).toBe(0);
    expect(await err(c.call('GEORADIUS', key, '15', '37', '200', 'km', 'WITHDIST', 'STORE', dst))).toBe(
      'ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options',
    );
    expect(await err(c.call('GEORADIUS_RO', key, '15', '37', '200', 'km', 'STORE', dst))).toBe('ERR syntax error');
    expect(await err(c.call('GEORADIUSBYMEMBER_RO', key, 'Palermo', '200', 'km', 'STOREDIST', dst))).toBe('ERR syntax error');
    expect(await c.call('COMMAND', 'GETKEYS', 'GEORADIUS', key, '1', '2', '3', 'm', 'STORE', 'a', 'STOREDIST', 'b')).toEqual([key, 'a', 'b']);
  });

  it('argument errors, in argument order', async () => {
    const key = await sicily();
    expect(await err(c.call('GEORADIUS', key, '200', '37', '1', 'km'))).toBe('ERR invalid longitude,latitude pair 200.000000,37.000000');
    expect(await err(c.call('GEORADIUS', key, '15', '37', 'x', 'km'))).toBe('ERR need numeric radius');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '-1', 'km'))).toBe('ERR radius cannot be negative');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '1', 'yd'))).toBe('ERR unsupported unit provided. please use M, KM, FT, MI');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '1', 'km', 'COUNT', '0'))).toBe('ERR COUNT must be > 0');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '1', 'km', 'COUNT', 'x'))).toBe('ERR value is not an integer or out of range');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '1', 'km', 'COUNT'))).toBe('ERR syntax error');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '1', 'km', 'ANY'))).toBe('ERR the ANY argument requires COUNT argument');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '1', 'km', 'FROMMEMBER', 'a'))).toBe('ERR syntax error');
    expect(await err(c.call('GEORADIUS', key, '15', '37', '1'))).toBe("ERR wrong number of arguments for 'georadius' command");
    expect(await err(c.call('GEORADIUS', k('missing'), '15', '37', '-1', 'km'))).toBe('ERR radius cannot be negative');
    const str = k('str');
    await c.set(str, 'x');
    expect(await err(c.call('GEORADIUS', str, '200', '37', '1', 'km'))).toBe(WRONGTYPE);
  });
});

describe('GEOSEARCH / GEOSEARCHSTORE', () => {
  it('BYRADIUS and BYBOX from a member or a position', async () => {
    const key = await sicily();
    await c.geoadd(key, 12.758489, 38.788135, 'edge1', 17.24151, 38.788135, 'edge2');
    expect(await c.call('GEOSEARCH', key, 'FROMLONLAT', '15', '37', 'BYBOX', '400', '400', 'km', 'ASC', 'WITHCOORD', 'WITHDIST')).toEqual([
      ['Catania', '56.4413', CATANIA],
      ['Palermo', '190.4424', PALERMO],
      ['edge2', '279.7403', EDGE2],
      ['edge1', '279.7405', ['12.7584877610206604', '38.78813451624225195']],
    ]);
    expect(await c.call('GEOSEARCH', key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '200', 'km', 'DESC')).toEqual(['Catania', 'edge1', 'Palermo']);
    expect(await c.call('GEOSEARCH', key, 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'ASC', 'WITHDIST', 'COUNT', '1')).toEqual([['Catania', '56.4413']]);
    expect(await c.call('GEOSEARCH', key, 'FROMLONLAT', '15', '37', 'BYRADIUS', '1', 'm')).toEqual([]);
    expect(await c.call('GEOSEARCH', k('missing'), 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'm')).toEqual([]);
    const nr = await srv.nodeRedis(3);
    const [[member, hash, [lon, lat]]] = (await nr.sendCommand(['GEOSEARCH', key, 'FROMMEMBER', 'Catania', 'BYRADIUS', '1', 'km', 'WITHCOORD', 'WITHHASH'])) as [
      [string, number, [number, number]],
    ];
    expect([member, hash]).toEqual(['Catania', 3479447370796909]);
    expect(lon).toBeCloseTo(15.087267458438873, 12);
    expect(lat).toBeCloseTo(37.50266842333162, 12);
  });

  it('GEOSEARCHSTORE stores geohashes or (STOREDIST) distances', async () => {
    const key = await sicily();
    await c.geoadd(key, 12.758489, 38.788135, 'edge1', 17.24151, 38.788135, 'edge2');
    const dst = k('dst');
    expect(
      await events(() => c.call('GEOSEARCHSTORE', dst, key, 'FROMLONLAT', '15', '37', 'BYBOX', '400', '400', 'km', 'ASC', 'COUNT', '3', 'STOREDIST')),
    ).toEqual([`geosearchstore ${dst}`]);
    expect(await c.zrange(dst, 0, -1, 'WITHSCORES')).toEqual(['Catania', '56.441257870158204', 'Palermo', '190.44242984775784', 'edge2', '279.7403417843143']);
    expect(await c.call('GEOSEARCHSTORE', dst, key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '10', 'km')).toBe(1);
    expect(await c.zrange(dst, 0, -1, 'WITHSCORES')).toEqual(['Palermo', '3479099956230698']);
    expect(await c.object('ENCODING', dst)).toBe('listpack');
    expect(await c.ttl(dst)).toBe(-1);
    expect(await c.call('GEOSEARCHSTORE', dst, key, 'FROMLONLAT', '15', '37', 'BYRADIUS', '1', 'm')).toBe(0);
    expect(await c.exists(dst)).toBe(0);
    // Overwrites any type.
    await c.set(dst, 'x');
    expect(await c.call('GEOSEARCHSTORE', dst, key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '10', 'km')).toBe(1);
    expect(await c.type(dst)).toBe('zset');
    // With more members than zset-max-listpack-entries: a skiplist.
    await c.config('SET', 'zset-max-listpack-entries', '2');
    try {
      expect(await c.call('GEOSEARCHSTORE', dst, key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '500', 'km')).toBe(4);
      expect(await c.object('ENCODING', dst)).toBe('skiplist');
    } finally {
      await c.config('SET', 'zset-max-listpack-entries', '128');
    }
    expect(await propagated(() => c.call('GEOSEARCHSTORE', dst, key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '10', 'km'))).toEqual([
      ['GEOSEARCHSTORE', dst, key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '10', 'km'],
    ]);
  });

  it('argument errors', async () => {
    const key = await sicily();
    const s = (...a: string[]): Promise<string> => err(c.call('GEOSEARCH', key, ...a));
    expect(await s('FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km', 'STORE', 'x')).toBe('ERR syntax error');
    expect(await s('FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km', 'STOREDIST')).toBe('ERR syntax error');
    expect(await s('FROMMEMBER', 'Palermo', 'FROMLONLAT', '1', '2', 'BYRADIUS', '1', 'km')).toBe('ERR syntax error');
    expect(await s('FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km', 'BYBOX', '1', '1', 'km')).toBe('ERR syntax error');
    expect(await s('BYRADIUS', '1', 'km', 'ASC', 'WITHDIST')).toBe('ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH');
    expect(await err(c.call('geosearch', key, 'FROMMEMBER', 'Palermo', 'ASC', 'WITHDIST', 'COUNT', '1'))).toBe(
      'ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch',
    );
    expect(await s('FROMMEMBER', 'nope', 'BYRADIUS', '-1', 'km')).toBe('ERR could not decode requested zset member');
    expect(await s('FROMMEMBER', 'Palermo', 'BYRADIUS', '-1', 'km')).toBe('ERR radius cannot be negative');
    expect(await s('FROMMEMBER', 'Palermo', 'BYBOX', 'x', '1', 'km')).toBe('ERR need numeric width');
    expect(await s('FROMMEMBER', 'Palermo', 'BYBOX', '1', 'x', 'km')).toBe('ERR need numeric height');
    expect(await s('FROMMEMBER', 'Palermo', 'BYBOX', '1', '-1', 'km')).toBe('ERR height or width cannot be negative');
    expect(await s('FROMMEMBER', 'Palermo', 'BYBOX', '1', '1', 'yd')).toBe('ERR unsupported unit provided. please use M, KM, FT, MI');
    expect(await s('FROMLONLAT', '1', '90', 'BYRADIUS', '1', 'km')).toBe('ERR invalid longitude,latitude pair 1.000000,90.000000');
    expect(await s('FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km', 'ANY')).toBe('ERR the ANY argument requires COUNT argument');
    expect(await err(c.call('GEOSEARCHSTORE', k('d'), key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '1', 'km', 'WITHDIST'))).toBe(
      'ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options',
    );
    expect(await err(c.call('GEOSEARCH', key, 'FROMMEMBER', 'Palermo', 'BYRADIUS', '1'))).toBe("ERR wrong number of arguments for 'geosearch' command");
    const str = k('str');
    await c.set(str, 'x');
    expect(await err(c.call('GEOSEARCH', str, 'FROMMEMBER', 'nope', 'BYRADIUS', '-1', 'km'))).toBe(WRONGTYPE);
    expect(await err(c.call('GEOSEARCHSTORE', k('d'), str, 'FROMMEMBER', 'nope', 'BYRADIUS', '-1', 'km'))).toBe(WRONGTYPE);
  });

  it('misses what Redis misses across the antimeridian and at the poles', async () => {
    // The 9 cells do not wrap around longitude 180, nor reach over the pole:
    // Redis finds neither "west" (1.1 km away) nor "pole180", and neither do we.
    const key = k('edges');
    await c.geoadd(key, 179.99, 10, 'east', -179.99, 10, 'west', 0, 85.05112878, 'pole', 180, 85.05112878, 'pole180');
    expect(await c.call('GEOSEARCH', key, 'FROMLONLAT', '180', '10', 'BYRADIUS', '10', 'km', 'ASC', 'WITHDIST')).toEqual([['east', '1.0956']]);
    expect(await c.call('GEOSEARCH', key, 'FROMMEMBER', 'pole', 'BYRADIUS', '2000', 'km', 'ASC', 'WITHDIST')).toEqual([['pole', '0.0000']]);
  });
});
