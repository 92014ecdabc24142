/**
 * Generic key commands: DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY RENAME
 * RENAMENX COPY MOVE TOUCH OBJECT, their keyspace notifications and
 * propagation. Expected replies and error texts were captured from
 * redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';

let srv: TestServer;
const raws: RawClient[] = [];
let nextDb = 1;

/** An ioredis client on a database of its own (tests that look at whole databases don't see each other). */
function client(db = 0): Redis {
  return srv.client({ enableReadyCheck: false, db });
}
function freshDb(): { c: Redis; db: number } {
  const db = nextDb++;
  return { c: client(db), db };
}
async function raw(): Promise<RawClient> {
  const r = await RawClient.connect(srv.port);
  raws.push(r);
  return r;
}

beforeAll(async () => {
  srv = await startTestServer({ databases: 64 });
});
afterAll(async () => {
  for (const r of raws) r.close();
  await srv.stop();
});

describe('DEL / UNLINK / EXISTS / TOUCH / TYPE', () => {
  it('DEL and UNLINK count the keys actually removed', async () => {
    const c = client();
    await c.set('del:a', '1');
    await c.set('del:b', '2');
    expect(await c.call('DEL', 'del:a', 'del:a', 'del:nokey', 'del:b')).toBe(2);
    expect(await c.exists('del:a', 'del:b')).toBe(0);
    await c.set('del:c', '3');
    expect(await c.call('UNLINK', 'del:c', 'del:c', 'del:nokey')).toBe(1);
    expect(await c.get('del:c')).toBe(null);
    expect(await c.call('DEL', 'del:nokey')).toBe(0);
    await expect(c.call('DEL')).rejects.toThrow("ERR wrong number of arguments for 'del' command");
    await expect(c.call('UNLINK')).rejects.toThrow("ERR wrong number of arguments for 'unlink' command");
  });

  it('EXISTS counts every occurrence, duplicates included', async () => {
    const c = client();
    await c.set('ex:a', '1');
    expect(await c.call('EXISTS', 'ex:a', 'ex:a', 'ex:nokey', 'ex:a')).toBe(3);
    expect(await c.call('EXISTS', 'ex:nokey')).toBe(0);
    await expect(c.call('EXISTS')).rejects.toThrow("ERR wrong number of arguments for 'exists' command");
  });

  it('TOUCH counts existing keys, duplicates included', async () => {
    const c = client();
    await c.set('touch:a', '1');
    expect(await c.call('TOUCH', 'touch:a', 'touch:a', 'touch:nokey')).toBe(2);
    await expect(c.call('TOUCH')).rejects.toThrow("ERR wrong number of arguments for 'touch' command");
  });

  it('TYPE is a status reply in both protocols', async () => {
    const c = client();
    await c.set('type:s', 'x');
    expect(await c.type('type:s')).toBe('string');
    expect(await c.type('type:nokey')).toBe('none');
    for (const proto of ['2', '3']) {
      const r = await raw();
      r.send('HELLO', proto);
      await new Promise((res) => setTimeout(res, 50));
      r.buf = '';
      expect(await r.call(['TYPE', 'type:s'], '+string\r\n')).toBe('+string\r\n');
      expect(await r.call(['TYPE', 'type:nokey'], '+none\r\n')).toBe('+none\r\n');
    }
    await expect(c.call('TYPE', 'a', 'b')).rejects.toThrow("ERR wrong number of arguments for 'type' command");
  });

  it('lookups count keyspace hits and misses as Redis does', async () => {
    const c = client();
    await c.set('hm:a', '1');
    const ks = srv.engine.stats.keyspace; // INFO keyspace_hits/misses
    const delta = async (f: () => Promise<unknown>): Promise<[number, number]> => {
      const h = ks.hits;
      const m = ks.misses;
      await f();
      return [ks.hits - h, ks.misses - m];
    };
    expect(await delta(() => c.call('EXISTS', 'hm:a', 'hm:nokey'))).toEqual([1, 1]);
    expect(await delta(() => c.call('TYPE', 'hm:a'))).toEqual([1, 0]);
    expect(await delta(() => c.call('TTL', 'hm:nokey'))).toEqual([0, 1]);
    expect(await delta(() => c.call('OBJECT', 'ENCODING', 'hm:a'))).toEqual([1, 0]);
    expect(await delta(() => c.call('TOUCH', 'hm:a', 'hm:nokey'))).toEqual([1, 1]);
    expect(await delta(() => c.call('KEYS', 'hm:*'))).toEqual([0, 0]);
    expect(await delta(() => c.call('COPY', 'hm:a', 'hm:b'))).toEqual([1, 0]);
    expect(await delta(() => c.call('RENAME', 'hm:b', 'hm:c'))).toEqual([0, 0]);
    expect(await delta(() => c.call('DEL', 'hm:c', 'hm:nokey'))).toEqual([0, 0]);
  });
});

describe('KEYS', () => {
  it('matches glob patterns; "*" includes the empty key; a literal pattern is a direct lookup', async () => {
    const { c } = freshDb();
    for (const k of ['a*b', 'a?b', 'a[b]', 'a\\b', 'axb', '', 'other']) await c.set(k, '1');
    const keys = async (p: string) => ((await c.call('KEYS', p)) as string[]).sort();
    expect(await keys('*')).toEqual(['', 'a*b', 'a?b', 'a[b]', 'a\\b', 'axb', 'other']);
    expect(await keys('a*b')).toEqual(['a*b', 'a?b', 'a\\b', 'axb']);
    expect(await keys('a?b')).toEqual(['a*b', 'a?b', 'a\\b', 'axb']);
    expect(await keys('a\\*b')).toEqual(['a*b']);
    expect(await keys('a\\?b')).toEqual(['a?b']);
    expect(await keys('a[[]b]')).toEqual(['a[b]']);
    expect(await keys('a\\[b\\]')).toEqual(['a[b]']);
    expect(await keys('a\\\\b')).toEqual(['a\\b']);
    expect(await keys('a[*?]b')).toEqual(['a*b', 'a?b']);
    expect(await keys('a[^*?]b')).toEqual(['a\\b', 'axb']);
    expect(await keys('[')).toEqual([]);
    expect(await keys('')).toEqual(['']);
    expect(await keys('other')).toEqual(['other']);
    expect(await keys('nokey')).toEqual([]);
    await expect(c.call('KEYS')).rejects.toThrow("ERR wrong number of arguments for 'keys' command");
  });

  it('is binary safe', async () => {
    const { c } = freshDb();
    const k1 = Buffer.from([0x00, 0xff, 0x41]);
    const k2 = Buffer.from([0x00, 0xfe, 0x42]);
    await c.set(k1, 'v');
    await c.set(k2, 'v');
    await c.set(Buffer.from('\r\n', 'latin1'), 'v');
    const all = ((await c.callBuffer('KEYS', '*')) as Buffer[]).map((b) => b.toString('hex')).sort();
    expect(all).toEqual(['00fe42', '00ff41', '0d0a']);
    const m = (await c.callBuffer('KEYS', Buffer.from([0x00, 0x3f, 0x41]))) as Buffer[]; // "\0?A"
    expect(m.map((b) => b.toString('hex'))).toEqual(['00ff41']);
    const lit = (await c.callBuffer('KEYS', k2)) as Buffer[];
    expect(lit.map((b) => b.toString('hex'))).toEqual(['00fe42']);
    const range = (await c.callBuffer('KEYS', Buffer.from([0x00, 0x5b, 0x80, 0x2d, 0xff, 0x5d, 0x2a]))) as Buffer[]; // "\0[\x80-\xff]*"
    expect(range.map((b) => b.toString('hex')).sort()).toEqual(['00fe42', '00ff41']);
  });

  it('skips expired keys, with a literal pattern too', async () => {
    const { c } = freshDb();
    await c.set('k1', 'v', 'PX', 30);
    await c.set('k2', 'v');
    await new Promise((r) => setTimeout(r, 60));
    expect(await c.call('KEYS', '*')).toEqual(['k2']);
    expect(await c.call('KEYS', 'k1')).toEqual([]);
  });
});

describe('SCAN', () => {
  async function fullScan(c: Redis, ...opts: string[]): Promise<{ keys: string[]; calls: number }> {
    let cursor = '0';
    const keys: string[] = [];
    let calls = 0;
    do {
      const [next, batch] = (await c.call('SCAN', cursor, ...opts)) as [string, string[]];
      keys.push(...batch);
      cursor = next;
      calls++;
    } while (cursor !== '0');
    return { keys, calls };
  }

  it('iterates every key exactly once, in several calls', async () => {
    const { c } = freshDb();
    const all: string[] = [];
    for (let i = 0; i < 500; i++) all.push('k' + i);
    await c.mset(...all.flatMap((k) => [k, 'v']));
    const { keys, calls } = await fullScan(c, 'COUNT', '7');
    expect(keys.sort()).toEqual([...all].sort());
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(500 / 7));
    const def = await fullScan(c);
    expect(def.keys.length).toBe(500);
    expect(def.calls).toBeGreaterThanOrEqual(50); // default COUNT is 10
    const big = await fullScan(c, 'COUNT', '100000');
    expect(big.calls).toBe(1);
    expect(big.keys.length).toBe(500);
  });

  it('MATCH, TYPE (case-insensitive) and repeated options', async () => {
    const { c } = freshDb();
    for (let i = 0; i < 50; i++) await c.set((i % 2 ? 'odd:' : 'even:') + i, 'v');
    await c.set('', 'empty');
    const odd = await fullScan(c, 'MATCH', 'odd:*', 'COUNT', '5');
    expect(odd.keys.length).toBe(25);
    expect(odd.keys.every((k) => k.startsWith('odd:'))).toBe(true);
    expect((await fullScan(c, 'MATCH', '*')).keys.length).toBe(51); // "*" also matches the empty key
    expect((await fullScan(c, 'TYPE', 'STRING')).keys.length).toBe(51);
    expect((await fullScan(c, 'TYPE', 'list')).keys).toEqual([]);
    expect((await fullScan(c, 'TYPE', 'nosuchtype')).keys).toEqual([]);
    expect((await fullScan(c, 'MATCH', 'even:1?', 'TYPE', 'string')).keys.sort()).toEqual(['even:10', 'even:12', 'even:14', 'even:16', 'even:18']);
    // the last COUNT / MATCH wins
    expect((await c.call('SCAN', '0', 'COUNT', '1', 'COUNT', '1000')) as [string, string[]]).toEqual(['0', expect.any(Array)]);
    expect((await fullScan(c, 'MATCH', 'nothing*', 'MATCH', 'odd:1')).keys).toEqual(['odd:1']);
  });

  it('MATCH with glob special characters and binary keys', async () => {
    const { c } = freshDb();
    for (const k of ['a*b', 'a?b', 'a[b]', 'axb']) await c.set(k, '1');
    await c.set(Buffer.from([0x00, 0xff]), '1');
    expect((await fullScan(c, 'MATCH', 'a\\*b')).keys).toEqual(['a*b']);
    expect((await fullScan(c, 'MATCH', 'a[[]b]')).keys).toEqual(['a[b]']);
    expect((await fullScan(c, 'MATCH', 'a?b')).keys.sort()).toEqual(['a*b', 'a?b', 'axb']);
    const [cur, bin] = (await c.callBuffer('SCAN', '0', 'MATCH', Buffer.from([0x00, 0x2a]), 'COUNT', '100')) as [Buffer, Buffer[]];
    expect(cur.toString()).toBe('0');
    expect(bin.map((b) => b.toString('hex'))).toEqual(['00ff']);
  });

  it('errors and cursor parsing', async () => {
    const { c } = freshDb();
    expect(await c.call('SCAN', '0')).toEqual(['0', []]);
    await expect(c.call('SCAN', 'abc')).rejects.toThrow('ERR invalid cursor');
    await expect(c.call('SCAN', '1.5')).rejects.toThrow('ERR invalid cursor');
    await expect(c.call('SCAN', ' 5')).rejects.toThrow('ERR invalid cursor');
    await expect(c.call('SCAN', '-')).rejects.toThrow('ERR invalid cursor');
    await expect(c.call('SCAN', '18446744073709551616')).rejects.toThrow('ERR invalid cursor');
    // strtoull: a sign is accepted (negative wraps), "" is 0
    expect(await c.call('SCAN', '18446744073709551615')).toEqual(['0', []]);
    expect(await c.call('SCAN', '-1')).toEqual(['0', []]);
    expect(await c.call('SCAN', '+0')).toEqual(['0', []]);
    expect(await c.call('SCAN', '')).toEqual(['0', []]);
    await expect(c.call('SCAN', 'abc', 'COUNT', '0')).rejects.toThrow('ERR invalid cursor');
    await expect(c.call('SCAN', '0', 'COUNT', '0')).rejects.toThrow('ERR syntax error');
    await expect(c.call('SCAN', '0', 'COUNT', '-1')).rejects.toThrow('ERR syntax error');
    await expect(c.call('SCAN', '0', 'COUNT', 'abc')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(c.call('SCAN', '0', 'MATCH')).rejects.toThrow('ERR syntax error');
    await expect(c.call('SCAN', '0', 'FOO', 'bar')).rejects.toThrow('ERR syntax error');
    await expect(c.call('SCAN')).rejects.toThrow("ERR wrong number of arguments for 'scan' command");
  });

  it('a key present for the whole scan is returned despite concurrent writes', async () => {
    const { c } = freshDb();
    const stable = Array.from({ length: 200 }, (_, i) => 'stable:' + i);
    await c.mset(...stable.flatMap((k) => [k, 'v']));
    const seen = new Set<string>();
    let cursor = '0';
    let n = 0;
    do {
      const [next, batch] = (await c.call('SCAN', cursor, 'COUNT', '5')) as [string, string[]];
      for (const k of batch) seen.add(k);
      cursor = next;
      // churn between steps: add and remove other keys
      await c.set('churn:' + n, 'v');
      if (n % 2 === 1) await c.del('churn:' + (n - 1));
      n++;
    } while (cursor !== '0');
    for (const k of stable) expect(seen.has(k)).toBe(true);
  });
});

describe('RANDOMKEY', () => {
  it('returns a key, or null (RESP2 $-1, RESP3 _) when empty', async () => {
    const { c, db } = freshDb();
    expect(await c.call('RANDOMKEY')).toBe(null);
    await c.set('only', 'v');
    expect(await c.call('RANDOMKEY')).toBe('only');
    await c.set('other', 'v');
    const got = new Set<string>();
    for (let i = 0; i < 50; i++) got.add((await c.call('RANDOMKEY')) as string);
    expect([...got].sort()).toEqual(['only', 'other']);
    await c.del('only', 'other');
    for (const [proto, nil] of [['2', '$-1\r\n'], ['3', '_\r\n']] as const) {
      const r = await raw();
      r.send('HELLO', proto);
      await new Promise((res) => setTimeout(res, 50));
      r.buf = '';
      expect(await r.call(['SELECT', String(db)], '+OK\r\n')).toBe('+OK\r\n');
      expect(await r.call(['RANDOMKEY'], nil)).toBe(nil);
    }
    await expect(c.call('RANDOMKEY', 'x')).rejects.toThrow("ERR wrong number of arguments for 'randomkey' command");
  });

  it('never returns an expired key', async () => {
    const { c } = freshDb();
    for (let i = 0; i < 20; i++) await c.set('e' + i, 'v', 'PX', 20);
    await c.set('live', 'v');
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 20; i++) expect(await c.call('RANDOMKEY')).toBe('live');
  });
});

describe('RENAME / RENAMENX', () => {
  it('renames, keeping the TTL, overwriting the destination', async () => {
    const c = client();
    await c.set('rn:a', 'va', 'EX', 100);
    await c.set('rn:b', 'vb');
    expect(await c.rename('rn:a', 'rn:b')).toBe('OK');
    expect(await c.get('rn:b')).toBe('va');
    expect(await c.exists('rn:a')).toBe(0);
    expect(await c.ttl('rn:b')).toBe(100);
    // a persistent source makes a persistent destination even over a volatile one
    await c.set('rn:c', 'vc');
    expect(await c.rename('rn:c', 'rn:b')).toBe('OK');
    expect(await c.ttl('rn:b')).toBe(-1);
    expect(await c.get('rn:b')).toBe('vc');
  });

  it('errors and same-key cases', async () => {
    const c = client();
    await expect(c.call('RENAME', 'rn:nokey', 'x')).rejects.toThrow('ERR no such key');
    await expect(c.call('RENAMENX', 'rn:nokey', 'x')).rejects.toThrow('ERR no such key');
    await expect(c.call('RENAME', 'rn:nokey', 'rn:nokey')).rejects.toThrow('ERR no such key');
    await c.set('rn:same', 'v', 'EX', 50);
    expect(await c.call('RENAME', 'rn:same', 'rn:same')).toBe('OK');
    expect(await c.call('RENAMENX', 'rn:same', 'rn:same')).toBe(0);
    expect(await c.get('rn:same')).toBe('v');
    expect(await c.ttl('rn:same')).toBe(50);
    await expect(c.call('RENAME', 'a')).rejects.toThrow("ERR wrong number of arguments for 'rename' command");
  });

  it('RENAMENX only renames to a missing key', async () => {
    const c = client();
    await c.set('rnx:a', '1');
    await c.set('rnx:b', '2');
    expect(await c.call('RENAMENX', 'rnx:a', 'rnx:b')).toBe(0);
    expect(await c.mget('rnx:a', 'rnx:b')).toEqual(['1', '2']);
    expect(await c.call('RENAMENX', 'rnx:a', 'rnx:c')).toBe(1);
    expect(await c.mget('rnx:a', 'rnx:c')).toEqual([null, '1']);
  });

  it('binary key names', async () => {
    const c = client();
    const from = Buffer.from([0x72, 0x00, 0xff]);
    const to = Buffer.from([0x72, 0x0d, 0x0a, 0x80]);
    await c.set(from, 'bin');
    expect(await c.rename(from, to)).toBe('OK');
    expect(await c.get(to)).toBe('bin');
    expect(await c.exists(from)).toBe(0);
  });
});

describe('COPY', () => {
  it('copies value and TTL; REPLACE; DB', async () => {
    const c = client();
    await c.set('cp:a', 'va', 'EX', 100);
    expect(await c.call('COPY', 'cp:a', 'cp:b')).toBe(1);
    expect(await c.get('cp:b')).toBe('va');
    expect(await c.ttl('cp:b')).toBe(100);
    await c.set('cp:a', 'v2');
    expect(await c.call('COPY', 'cp:a', 'cp:b')).toBe(0);
    expect(await c.get('cp:b')).toBe('va');
    expect(await c.call('COPY', 'cp:a', 'cp:b', 'REPLACE')).toBe(1);
    expect(await c.get('cp:b')).toBe('v2');
    expect(await c.ttl('cp:b')).toBe(-1);
    expect(await c.call('COPY', 'cp:a', 'cp:b', 'replace', 'REPLACE')).toBe(1);
    expect(await c.call('COPY', 'cp:nokey', 'cp:b')).toBe(0);
    const { c: other, db } = freshDb();
    expect(await c.call('COPY', 'cp:a', 'cp:a', 'DB', String(db))).toBe(1);
    expect(await other.get('cp:a')).toBe('v2');
    expect(await c.call('COPY', 'cp:a', 'cp:a', 'db', String(db))).toBe(0);
    expect(await c.call('COPY', 'cp:a', 'cp:a', 'DB', String(db), 'REPLACE')).toBe(1);
  });

  it('the copy shares nothing with the source', async () => {
    const c = client();
    await c.set('cp:m', 'x');
    await c.append('cp:m', 'y'); // now a mutable string
    expect(await c.call('COPY', 'cp:m', 'cp:m2')).toBe(1);
    await c.append('cp:m', 'z');
    await c.setrange('cp:m2', 0, 'Q');
    expect(await c.get('cp:m')).toBe('xyz');
    expect(await c.get('cp:m2')).toBe('Qy');
  });

  it('errors', async () => {
    const c = client();
    await c.set('cp:e', 'v');
    await expect(c.call('COPY', 'cp:e', 'cp:e')).rejects.toThrow('ERR source and destination objects are the same');
    await expect(c.call('COPY', 'cp:nokey', 'cp:nokey')).rejects.toThrow('ERR source and destination objects are the same');
    await expect(c.call('COPY', 'cp:e', 'cp:e', 'DB', '0')).rejects.toThrow('ERR source and destination objects are the same');
    await expect(c.call('COPY', 'cp:e', 'x', 'DB', '64')).rejects.toThrow('ERR DB index is out of range');
    await expect(c.call('COPY', 'cp:nokey', 'cp:nokey', 'DB', '64')).rejects.toThrow('ERR DB index is out of range');
    await expect(c.call('COPY', 'cp:e', 'x', 'DB', '-1')).rejects.toThrow('ERR DB index is out of range');
    await expect(c.call('COPY', 'cp:e', 'x', 'DB', 'abc')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(c.call('COPY', 'cp:e', 'x', 'DB', '2147483648')).rejects.toThrow(
      'ERR value is out of range, value must between -2147483648 and 2147483647',
    );
    await expect(c.call('COPY', 'cp:e', 'x', 'DB')).rejects.toThrow('ERR syntax error');
    await expect(c.call('COPY', 'cp:e', 'x', 'FOO')).rejects.toThrow('ERR syntax error');
    await expect(c.call('COPY', 'cp:e')).rejects.toThrow("ERR wrong number of arguments for 'copy' command");
  });
});

describe('MOVE', () => {
  it('moves a key with its TTL only when the target db lacks it', async () => {
    const c = client();
    const { c: other, db } = freshDb();
    await c.set('mv:a', 'va', 'EX', 100);
    expect(await c.call('MOVE', 'mv:a', String(db))).toBe(1);
    expect(await c.exists('mv:a')).toBe(0);
    expect(await other.get('mv:a')).toBe('va');
    expect(await other.ttl('mv:a')).toBe(100);
    await c.set('mv:b', 'mine');
    await other.set('mv:b', 'theirs');
    expect(await c.call('MOVE', 'mv:b', String(db))).toBe(0);
    expect(await c.get('mv:b')).toBe('mine');
    expect(await other.get('mv:b')).toBe('theirs');
    expect(await c.call('MOVE', 'mv:nokey', String(db))).toBe(0);
  });

  it('errors', async () => {
    const c = client();
    await c.set('mv:e', 'v');
    await expect(c.call('MOVE', 'mv:e', '0')).rejects.toThrow('ERR source and destination objects are the same');
    await expect(c.call('MOVE', 'mv:nokey', '0')).rejects.toThrow('ERR source and destination objects are the same');
    await expect(c.call('MOVE', 'mv:e', '64')).rejects.toThrow('ERR DB index is out of range');
    await expect(c.call('MOVE', 'mv:e', '-1')).rejects.toThrow('ERR DB index is out of range');
    await expect(c.call('MOVE', 'mv:e', 'abc')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(c.call('MOVE', 'mv:e', '99999999999')).rejects.toThrow(
      'ERR value is out of range, value must between -2147483648 and 2147483647',
    );
    await expect(c.call('MOVE', 'mv:e')).rejects.toThrow("ERR wrong number of arguments for 'move' command");
  });
});

describe('OBJECT', () => {
  it('ENCODING of strings: int, embstr (<= 44 bytes), raw', async () => {
    const c = client();
    const enc = (k: string) => c.call('OBJECT', 'ENCODING', k);
    const cases: [string, string][] = [
      ['1', 'int'],
      ['-1', 'int'],
      ['9223372036854775807', 'int'],
      ['-9223372036854775808', 'int'],
      ['9223372036854775808', 'embstr'],
      ['01', 'embstr'],
      ['-0', 'embstr'],
      ['+1', 'embstr'],
      ['hello', 'embstr'],
      ['x'.repeat(44), 'embstr'],
      ['x'.repeat(45), 'raw'],
      ['1'.repeat(45), 'raw'],
    ];
    for (const [v, e] of cases) {
      await c.set('enc', v);
      expect([v, await enc('enc')]).toEqual([v, e]);
    }
    await c.set('enc:m', 'abc');
    await c.append('enc:m', 'd');
    expect(await enc('enc:m')).toBe('raw');
    await c.set('enc:r', 'abc');
    await c.setrange('enc:r', 1, 'Z');
    expect(await enc('enc:r')).toBe('raw');
    await c.del('enc:i');
    await c.incr('enc:i');
    expect(await enc('enc:i')).toBe('int');
    expect(await enc('enc:nokey')).toBe(null);
  });

  it('REFCOUNT: shared integers 0..9999', async () => {
    const c = client();
    const rc = async (v: string) => {
      await c.set('rc', v);
      return c.call('OBJECT', 'REFCOUNT', 'rc');
    };
    expect(await rc('0')).toBe(2147483647);
    expect(await rc('9999')).toBe(2147483647);
    expect(await rc('10000')).toBe(1);
    expect(await rc('-1')).toBe(1);
    expect(await rc('01')).toBe(1);
    expect(await rc('hello')).toBe(1);
    expect(await c.call('OBJECT', 'REFCOUNT', 'rc:nokey')).toBe(null);
  });

  it('IDLETIME grows while untouched; OBJECT does not touch, GET does', async () => {
    const c = client();
    await c.set('idle', 'v');
    // the LRU clock has a 1 s resolution: a fresh key is 0 (or 1 right at a tick)
    expect(await c.call('OBJECT', 'IDLETIME', 'idle')).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 3200));
    const idle = (await c.call('OBJECT', 'IDLETIME', 'idle')) as number;
    expect(idle).toBeGreaterThanOrEqual(2);
    expect(idle).toBeLessThanOrEqual(4);
    await c.call('TYPE', 'idle');
    await c.call('TTL', 'idle');
    await c.call('EXISTS', 'idle');
    await c.call('OBJECT', 'ENCODING', 'idle');
    expect(await c.call('OBJECT', 'IDLETIME', 'idle')).toBeGreaterThanOrEqual(idle);
    await c.get('idle');
    expect(await c.call('OBJECT', 'IDLETIME', 'idle')).toBeLessThanOrEqual(1);
    expect(await c.call('OBJECT', 'IDLETIME', 'idle:nokey')).toBe(null);
  });

  it('FREQ needs an LFU policy', async () => {
    const c = client();
    await c.set('freq', 'v');
    await expect(c.call('OBJECT', 'FREQ', 'freq')).rejects.toThrow(
      'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
    );
    expect(await c.call('OBJECT', 'FREQ', 'freq:nokey')).toBe(null);
  });

  it('HELP, unknown subcommands and arity', async () => {
    const c = client();
    expect(await c.call('OBJECT', 'HELP')).toEqual([
      'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'ENCODING <key>',
      '    Return the kind of internal representation used in order to store the value',
      '    associated with a <key>.',
      'FREQ <key>',
      '    Return the access frequency index of the <key>. The returned integer is',
      '    proportional to the logarithm of the recent access frequency of the key.',
      'IDLETIME <key>',
      '    Return the idle time of the <key>, that is the approximated number of',
      '    seconds elapsed since the last access to the key.',
      'REFCOUNT <key>',
      '    Return the number of references of the value associated with the specified',
      '    <key>.',
      'HELP',
      '    Prints this help.',
    ]);
    await expect(c.call('OBJECT')).rejects.toThrow("ERR wrong number of arguments for 'object' command");
    await expect(c.call('OBJECT', 'foo')).rejects.toThrow("ERR unknown subcommand 'foo'. Try OBJECT HELP.");
    await expect(c.call('OBJECT', 'ENCODING')).rejects.toThrow("ERR wrong number of arguments for 'object|encoding' command");
    await expect(c.call('OBJECT', 'ENCODING', 'a', 'b')).rejects.toThrow("ERR wrong number of arguments for 'object|encoding' command");
    await expect(c.call('OBJECT', 'HELP', 'x')).rejects.toThrow("ERR wrong number of arguments for 'object|help' command");
  });

  it('HELP lines are status replies; a missing key is a null in both protocols', async () => {
    for (const [proto, nil] of [['2', '$-1\r\n'], ['3', '_\r\n']] as const) {
      const r = await raw();
      r.send('HELLO', proto);
      await new Promise((res) => setTimeout(res, 50));
      r.buf = '';
      expect(await r.call(['OBJECT', 'ENCODING', 'obj:nokey'], nil)).toBe(nil);
      expect(await r.call(['OBJECT', 'IDLETIME', 'obj:nokey'], nil)).toBe(nil);
      const head = '*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n';
      expect(await r.call(['OBJECT', 'HELP'], head)).toBe(head);
    }
  });
});

describe('OBJECT under an LFU policy', () => {
  let lfu: TestServer;
  beforeAll(async () => {
    lfu = await startTestServer({ 'maxmemory-policy': 'allkeys-lfu' });
  });
  afterAll(async () => {
    await lfu.stop();
  });

  it('FREQ answers, IDLETIME errors', async () => {
    const c = lfu.client({ enableReadyCheck: false });
    await c.set('k', 'v');
    const f = (await c.call('OBJECT', 'FREQ', 'k')) as number;
    expect(Number.isInteger(f) && f >= 0 && f <= 255).toBe(true);
    await expect(c.call('OBJECT', 'IDLETIME', 'k')).rejects.toThrow(
      'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
    );
    expect(await c.call('OBJECT', 'IDLETIME', 'nokey')).toBe(null);
    expect(await c.call('OBJECT', 'FREQ', 'nokey')).toBe(null);
  });
});

describe('node-redis RESP3', () => {
  it('replies decode alike', async () => {
    const c = await srv.nodeRedis(3);
    await c.sendCommand(['SELECT', '60']);
    await c.sendCommand(['SET', 'n3:a', '1']);
    expect(await c.sendCommand(['EXISTS', 'n3:a', 'n3:a'])).toBe(2);
    expect(await c.sendCommand(['TYPE', 'n3:a'])).toBe('string');
    expect(await c.sendCommand(['KEYS', 'n3:*'])).toEqual(['n3:a']);
    expect(await c.sendCommand(['SCAN', '0', 'MATCH', 'n3:*'])).toEqual(['0', ['n3:a']]);
    expect(await c.sendCommand(['RANDOMKEY'])).toBe('n3:a');
    expect(await c.sendCommand(['OBJECT', 'ENCODING', 'n3:a'])).toBe('int');
    expect(await c.sendCommand(['OBJECT', 'ENCODING', 'n3:nokey'])).toBe(null);
    expect(await c.sendCommand(['COPY', 'n3:a', 'n3:b'])).toBe(1);
    expect(await c.sendCommand(['RENAME', 'n3:b', 'n3:c'])).toBe('OK');
    expect(await c.sendCommand(['DEL', 'n3:a', 'n3:c'])).toBe(2);
    expect(await c.sendCommand(['RANDOMKEY'])).toBe(null);
    await expect(c.sendCommand(['RENAME', 'n3:a', 'x'])).rejects.toThrow('ERR no such key');
  });
});

describe('keyspace notifications and propagation', () => {
  let ev: TestServer;
  beforeAll(async () => {
    ev = await startTestServer({ 'notify-keyspace-events': 'KEA' });
  });
  afterAll(async () => {
    await ev.stop();
  });

  it('emit the events redis 7.0 emits, in order', async () => {
    const sub = ev.client({ enableReadyCheck: false });
    const got: string[] = [];
    sub.on('pmessage', (_p: string, channel: string, msg: string) => got.push(`${channel} ${msg}`));
    await sub.psubscribe('__keyevent@*');
    const c = ev.client({ enableReadyCheck: false });
    for (const cmd of [
      ['SET', 'a', '1'],
      ['SET', 'b', '2'],
      ['DEL', 'a', 'b', 'nokey'],
      ['SET', 'a', '1'],
      ['UNLINK', 'a'],
      ['SET', 'a', '1'],
      ['RENAME', 'a', 'b'],
      ['RENAMENX', 'b', 'c'],
      ['RENAME', 'c', 'c'],
      ['COPY', 'c', 'd'],
      ['COPY', 'c', 'd', 'REPLACE'],
      ['COPY', 'c', 'e', 'DB', '2'],
      ['MOVE', 'd', '1'],
      ['TOUCH', 'c'],
      ['EXPIRE', 'c', '100'],
      ['PEXPIRE', 'c', '1000000'],
      ['EXPIREAT', 'c', '99999999999'],
      ['EXPIRE', 'c', '100', 'NX'],
      ['PERSIST', 'c'],
      ['PERSIST', 'c'],
      ['EXPIRE', 'c', '-1'],
      ['SET', 'p', '1'],
      ['PEXPIRE', 'p', '20'],
    ]) {
      await c.call(cmd[0]!, ...cmd.slice(1));
    }
    await new Promise((r) => setTimeout(r, 60));
    await c.get('p'); // lazily expired
    await waitUntil(() => got.length >= 24, 2000, 'events');
    expect(got).toEqual([
      '__keyevent@0__:set a',
      '__keyevent@0__:set b',
      '__keyevent@0__:del a',
      '__keyevent@0__:del b',
      '__keyevent@0__:set a',
      '__keyevent@0__:del a',
      '__keyevent@0__:set a',
      '__keyevent@0__:rename_from a',
      '__keyevent@0__:rename_to b',
      '__keyevent@0__:rename_from b',
      '__keyevent@0__:rename_to c',
      '__keyevent@0__:copy_to d',
      '__keyevent@0__:copy_to d',
      '__keyevent@2__:copy_to e',
      '__keyevent@0__:move_from d',
      '__keyevent@1__:move_to d',
      '__keyevent@0__:expire c',
      '__keyevent@0__:expire c',
      '__keyevent@0__:expire c',
      '__keyevent@0__:persist c',
      '__keyevent@0__:del c',
      '__keyevent@0__:set p',
      '__keyevent@0__:expire p',
      '__keyevent@0__:expired p',
    ]);
  });

  it('writes propagate as-is; no-op commands do not propagate', async () => {
    const log: string[] = [];
    ev.engine.propagators.push((db, argv) => log.push(`${db} ${argv.join(' ')}`));
    const c = ev.client({ enableReadyCheck: false, db: 3 });
    for (const cmd of [
      ['SET', 'x', '1'],
      ['DEL', 'nokey'],
      ['RENAME', 'x', 'y'],
      ['RENAMENX', 'y', 'z'],
      ['COPY', 'z', 'w', 'DB', '4'],
      ['MOVE', 'z', '5'],
      ['MOVE', 'nokey', '5'],
      ['TOUCH', 'w'],
      ['EXISTS', 'w'],
      ['SET', 'u', '1'],
      ['UNLINK', 'u', 'nokey'],
    ]) {
      await c.call(cmd[0]!, ...cmd.slice(1));
    }
    ev.engine.propagators.pop();
    expect(log).toEqual(['3 SET x 1', '3 RENAME x y', '3 RENAMENX y z', '3 COPY z w DB 4', '3 MOVE z 5', '3 SET u 1', '3 UNLINK u nokey']);
  });
});
