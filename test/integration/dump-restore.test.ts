/**
 * DUMP, RESTORE and MIGRATE through real clients: payload format, every
 * RESTORE option and error (texts as Redis 7.0.15 gives them), TTLs,
 * access metadata, notifications, propagation, and MIGRATE between two
 * cacheside servers (COPY, REPLACE, KEYS, AUTH, AUTH2, db selection,
 * NOKEY, IOERR and target errors).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { appendDumpFooter, encodeValuePayload } from '../../src/persistence/rdb-encoder.js';
import { crc64 } from '../../src/persistence/crc64.js';
import { closeMigrateConnections } from '../../src/persistence/migrate-client.js';

let srv: TestServer;
let dst: TestServer;
let c: Redis;
let d: Redis;

beforeAll(async () => {
  srv = await startTestServer({ 'enable-debug-command': 'yes' });
  dst = await startTestServer({ requirepass: 'secret', 'enable-debug-command': 'yes' });
  c = srv.client({ enableReadyCheck: false });
  d = dst.client({ enableReadyCheck: false, password: 'secret' });
});

afterAll(async () => {
  await srv.stop();
  await dst.stop();
});

async function fill(r: Redis): Promise<void> {
  await r.del('str', 'int', 'list', 'iset', 'set', 'zset', 'hash');
  await r.set('str', 'hello');
  await r.set('int', '12345');
  await r.rpush('list', 'a', 'b', '3');
  await r.sadd('iset', '1', '2', '3');
  await r.sadd('set', 'x', 'y');
  await r.zadd('zset', '1', 'a', '2.5', 'b');
  await r.hset('hash', 'f', 'v', 'n', '7');
}

describe('DUMP / RESTORE', () => {
  it('DUMP gives the Redis payload: type, value, version 10, CRC-64', async () => {
    await c.set('k', 'hello');
    const p = (await c.dumpBuffer('k'))!;
    expect(p.subarray(0, 9).toString('latin1')).toBe('\x00\x05hello\n\x00');
    expect(p.readBigUInt64LE(p.length - 8)).toBe(crc64(0, p.subarray(0, p.length - 8)));
    expect(await c.dumpBuffer('nosuchkey')).toBeNull();
    const intPayload = (await c.dumpBuffer('k'))!;
    expect(intPayload.equals(p)).toBe(true);
  });

  it('round-trips every type through DUMP + RESTORE with the same digest and encoding', async () => {
    await fill(c);
    for (const k of ['str', 'int', 'list', 'iset', 'set', 'zset', 'hash']) {
      const p = (await c.dumpBuffer(k))!;
      const before = await c.call('DEBUG', 'DIGEST-VALUE', k);
      const enc = await c.object('ENCODING', k);
      expect(await c.call('RESTORE', k + ':copy', '0', p)).toBe('OK');
      expect(await c.call('DEBUG', 'DIGEST-VALUE', k + ':copy')).toEqual(before);
      expect(await c.object('ENCODING', k + ':copy')).toBe(enc);
    }
  });

  it('RESTORE errors, in the order Redis checks them', async () => {
    await c.set('ex', '1');
    const p = (await c.dumpBuffer('ex'))!;
    const err = (...args: (string | Buffer)[]) => c.call('RESTORE', ...args).then(() => 'no error', (e: Error) => e.message);
    expect(await err('ex', '0', p)).toBe('BUSYKEY Target key name already exists.');
    expect(await err('ex', 'abc', p)).toBe('BUSYKEY Target key name already exists.');
    expect(await err('nx1', 'abc', p)).toBe('ERR value is not an integer or out of range');
    expect(await err('nx1', '-1', p)).toBe('ERR Invalid TTL value, must be >= 0');
    expect(await err('nx1', '0', 'garbage')).toBe('ERR DUMP payload version or checksum are wrong');
    expect(await err('nx1', '0', p, 'IDLETIME', '-1')).toBe('ERR Invalid IDLETIME value, must be >= 0');
    expect(await err('nx1', '0', p, 'FREQ', '300')).toBe('ERR Invalid FREQ value, must be >= 0 and <= 255');
    expect(await err('nx1', '0', p, 'FREQ', '3', 'IDLETIME', '4')).toBe('ERR syntax error');
    expect(await err('nx1', '0', p, 'IDLETIME')).toBe('ERR syntax error');
    expect(await err('nx1', '0', p, 'foo')).toBe('ERR syntax error');
    expect(await err('ex', 'abc', p, 'REPLACE')).toBe('ERR value is not an integer or out of range');
    expect(await err('nx1', '0', p, 'FREQ', 'abc')).toBe('ERR value is not an integer or out of range');
    expect(await err('ex', '0', 'garbage', 'foo')).toBe('ERR syntax error');
    expect(await err('nx1')).toBe("ERR wrong number of arguments for 'restore' command");
    // A well-formed footer around bad data.
    expect(await err('nx1', '0', appendDumpFooter(Buffer.from([0x00, 0x05, 0x61]), 10))).toBe('ERR Bad data format');
    expect(await err('nx1', '0', appendDumpFooter(Buffer.from([0x01, 0x00]), 10))).toBe('ERR Bad data format');
    // A version newer than this server reads.
    expect(await err('nx1', '0', appendDumpFooter(encodeValuePayload('x'), 13))).toBe('ERR DUMP payload version or checksum are wrong');
    expect(await c.exists('nx1')).toBe(0);
  });

  it('REPLACE, relative and ABSTTL TTLs, an already expired TTL', async () => {
    await c.set('src', 'v1');
    const p = (await c.dumpBuffer('src'))!;
    await c.set('t', 'old');
    expect(await c.call('RESTORE', 't', '0', p, 'REPLACE')).toBe('OK');
    expect(await c.get('t')).toBe('v1');
    expect(await c.ttl('t')).toBe(-1);
    await c.del('t');
    expect(await c.call('RESTORE', 't', '100000', p)).toBe('OK');
    const pttl = await c.pttl('t');
    expect(pttl).toBeGreaterThan(99000);
    expect(pttl).toBeLessThanOrEqual(100000);
    const at = Date.now() + 500000;
    expect(await c.call('RESTORE', 't2', String(at), p, 'ABSTTL')).toBe('OK');
    expect(Number(await c.call('PEXPIRETIME', 't2'))).toBe(at);
    // Already expired: OK, nothing created; with REPLACE the old key is deleted.
    expect(await c.call('RESTORE', 't3', '1', p, 'ABSTTL')).toBe('OK');
    expect(await c.exists('t3')).toBe(0);
    await c.set('t4', 'old');
    expect(await c.call('RESTORE', 't4', '1', p, 'ABSTTL', 'REPLACE')).toBe('OK');
    expect(await c.exists('t4')).toBe(0);
  });

  it('IDLETIME sets the idle time; FREQ the LFU counter under an LFU policy', async () => {
    await c.set('src', 'v');
    const p = (await c.dumpBuffer('src'))!;
    await c.del('idle');
    await c.call('RESTORE', 'idle', '0', p, 'IDLETIME', '1000');
    const idle = Number(await c.object('IDLETIME', 'idle'));
    expect(idle).toBeGreaterThanOrEqual(1000);
    expect(idle).toBeLessThan(1010);
    await c.config('SET', 'maxmemory-policy', 'allkeys-lfu');
    try {
      await c.call('RESTORE', 'freq', '0', p, 'FREQ', '100');
      expect(Number(await c.object('FREQ', 'freq'))).toBe(100);
    } finally {
      await c.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('fires the "restore" keyspace event and propagates a relative TTL as ABSTTL', async () => {
    await c.config('SET', 'notify-keyspace-events', 'KEA');
    const sub = srv.client({ enableReadyCheck: false });
    const seen: string[] = [];
    await sub.psubscribe('__keyevent@0__:*');
    sub.on('pmessage', (_p, ch, msg) => seen.push(`${ch.split(':')[1]}:${msg}`));
    const mon = srv.client({ enableReadyCheck: false });
    const lines: string[] = [];
    srv.engine.propagators.push((_db, argv) => lines.push(argv.map((a, i) => (argv[0] === 'RESTORE' && i === 3 ? '<payload>' : a)).join(' ')));
    await c.set('src', 'v');
    const p = (await c.dumpBuffer('src'))!;
    await c.call('RESTORE', 'ev', '5000', p);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toContain('restore:ev');
    const restoreLine = lines.find((l) => l.startsWith('RESTORE ev'))!;
    expect(restoreLine).toMatch(/^RESTORE ev \d{13} <payload> ABSTTL$/);
    srv.engine.propagators.pop();
    await c.config('SET', 'notify-keyspace-events', '');
    mon.disconnect();
    sub.disconnect();
  });

  it('round-trips a stream with consumer groups (XINFO STREAM FULL identical)', async () => {
    for (let i = 0; i < 150; i++) await c.xadd('st', `${100 + i}-${i}`, ...(i % 2 ? ['a', String(i)] : ['b', 'x'.repeat(i)]));
    await c.xgroup('CREATE', 'st', 'g1', '0');
    await c.xgroup('CREATE', 'st', 'g2', '120-20', 'ENTRIESREAD', '20');
    await c.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', '5', 'STREAMS', 'st', '>');
    await c.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', '3', 'STREAMS', 'st', '>');
    await c.xack('st', 'g1', '101-1');
    const p = (await c.dumpBuffer('st'))!;
    expect(p[0]).toBe(19); // RDB_TYPE_STREAM_LISTPACKS_2
    await c.call('RESTORE', 'st2', '0', p);
    expect(await c.call('XINFO', 'STREAM', 'st2', 'FULL')).toEqual(await c.call('XINFO', 'STREAM', 'st', 'FULL'));
    expect(await c.xrange('st2', '-', '+')).toEqual(await c.xrange('st', '-', '+'));
    await c.xgroup('CREATE', 'empty', 'g', '$', 'MKSTREAM');
    await c.call('RESTORE', 'empty2', '0', (await c.dumpBuffer('empty'))!);
    expect(await c.call('XINFO', 'STREAM', 'empty2', 'FULL')).toEqual(await c.call('XINFO', 'STREAM', 'empty', 'FULL'));
  });

  it('moves a payload between databases and survives binary keys and values', async () => {
    const bin = Buffer.from([0, 1, 2, 255, 254, 13, 10]);
    await c.set(bin, bin);
    const p = (await c.dumpBuffer(bin))!;
    await c.select(2);
    await c.call('RESTORE', bin, '0', p);
    expect((await c.getBuffer(bin))!.equals(bin)).toBe(true);
    await c.select(0);
  });
});

describe('MIGRATE', () => {
  const port = () => String(dst.port);

  it('moves keys (deleting them here), copies them with COPY, replaces with REPLACE', async () => {
    await fill(c);
    const digest = await c.call('DEBUG', 'DIGEST-VALUE', 'zset');
    expect(await c.call('MIGRATE', '127.0.0.1', port(), 'zset', '0', '5000', 'AUTH', 'secret')).toBe('OK');
    expect(await c.exists('zset')).toBe(0);
    expect(await d.call('DEBUG', 'DIGEST-VALUE', 'zset')).toEqual(digest);
    expect(await c.call('MIGRATE', '127.0.0.1', port(), 'hash', '0', '5000', 'COPY', 'AUTH', 'secret')).toBe('OK');
    expect(await c.exists('hash')).toBe(1);
    expect(await d.hgetall('hash')).toEqual({ f: 'v', n: '7' });
    // Already there: the target answers BUSYKEY unless REPLACE.
    await expect(c.call('MIGRATE', '127.0.0.1', port(), 'hash', '0', '5000', 'COPY', 'AUTH', 'secret')).rejects.toThrow(
      'ERR Target instance replied with error: BUSYKEY Target key name already exists.',
    );
    await c.hset('hash', 'new', '1');
    expect(await c.call('MIGRATE', '127.0.0.1', port(), 'hash', '0', '5000', 'REPLACE', 'AUTH', 'secret')).toBe('OK');
    expect(await d.hget('hash', 'new')).toBe('1');
    expect(await c.exists('hash')).toBe(0);
  });

  it('KEYS moves several keys to another database, keeping TTLs; missing keys are skipped; NOKEY when none', async () => {
    await fill(c);
    await c.pexpire('str', 100000);
    expect(await c.call('MIGRATE', '127.0.0.1', port(), '', '3', '5000', 'AUTH2', 'default', 'secret', 'KEYS', 'str', 'missing', 'list', 'set')).toBe('OK');
    expect(await c.exists('str', 'list', 'set')).toBe(0);
    await d.select(3);
    expect(await d.get('str')).toBe('hello');
    expect(await d.pttl('str')).toBeGreaterThan(90000);
    expect(await d.lrange('list', 0, -1)).toEqual(['a', 'b', '3']);
    await d.select(0);
    expect(await c.call('MIGRATE', '127.0.0.1', port(), '', '3', '5000', 'KEYS', 'missing1', 'missing2')).toBe('NOKEY');
    expect(await c.call('MIGRATE', '127.0.0.1', port(), 'missing', '0', '5000')).toBe('NOKEY');
  });

  it('argument errors and connection failures as Redis reports them', async () => {
    closeMigrateConnections(srv.engine); // a cached connection would still be authenticated
    await c.set('m', '1');
    const err = (...args: string[]) => c.call('MIGRATE', ...args).then(() => 'no error', (e: Error) => e.message);
    expect(await err('127.0.0.1', port(), 'x', '0', '1000', 'KEYS', 'a')).toBe('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
    expect(await err('127.0.0.1', port(), '', '0', 'abc', 'KEYS', 'm')).toBe('ERR value is not an integer or out of range');
    expect(await err('127.0.0.1', port(), '', 'abc', '100', 'KEYS', 'm')).toBe('ERR value is not an integer or out of range');
    expect(await err('127.0.0.1', port(), '', '0', '100', 'AUTH')).toBe('ERR syntax error');
    expect(await err('127.0.0.1', port(), '', '0', '100', 'foo', 'KEYS', 'm')).toBe('ERR syntax error');
    expect(await err('127.0.0.1', '1', 'm', '0', '1000')).toBe('IOERR error or timeout writing to target instance');
    expect(await err('127.0.0.1', port(), 'm', '0', '1000')).toBe('ERR Target instance replied with error: NOAUTH Authentication required.');
    expect(await err('127.0.0.1', port(), 'm', '0', '1000', 'AUTH', 'wrong')).toMatch(/^ERR Target instance replied with error: WRONGPASS/);
    expect(await c.exists('m')).toBe(1);
  });

  it('is propagated as DEL of the keys the target acknowledged; MULTI runs it synchronously', async () => {
    await c.set('tx2', 'v');
    const lines: string[] = [];
    srv.engine.propagators.push((_db, argv) => lines.push(argv.join(' ')));
    expect(await c.call('MIGRATE', '127.0.0.1', port(), 'tx2', '0', '5000', 'AUTH', 'secret')).toBe('OK');
    srv.engine.propagators.pop();
    expect(lines).toEqual(['DEL tx2']);
    // (A target in this very process cannot answer a synchronous exchange: the
    // success case inside EXEC is in test/interop/rdb-interop.test.ts.)
    await c.set('tx', 'v');
    const r = await c.multi().call('MIGRATE', '127.0.0.1', '1', 'tx', '0', '5000').call('MIGRATE', '127.0.0.1', '1', 'nokey', '0', '5000').exec();
    expect(r!.map(([e, v]) => (e ? e.message : v))).toEqual(['IOERR error or timeout writing to target instance', 'NOKEY']);
  });

  it('does not block other clients while waiting for the target', async () => {
    // A "target" that accepts the connection and never answers: MIGRATE times out, others go on.
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const p = (silent.address() as { port: number }).port;
    await c.set('slow', 'v');
    const other = srv.client({ enableReadyCheck: false });
    const t0 = Date.now();
    const pending = c.call('MIGRATE', '127.0.0.1', String(p), 'slow', '0', '300').then(() => 'ok', (e: Error) => e.message);
    expect(await other.ping()).toBe('PONG');
    expect(Date.now() - t0).toBeLessThan(250);
    expect(await pending).toBe('IOERR error or timeout reading to target instance');
    expect(await c.get('slow')).toBe('v');
    other.disconnect();
    silent.close();
  });
});
