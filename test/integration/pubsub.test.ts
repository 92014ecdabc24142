/**
 * Pub/sub across connections: ioredis and node-redis (RESP2 subscriber mode,
 * RESP3 pushes), patterns, shard channels, PUBSUB introspection, the RESP2
 * subscribed-context restriction, unsubscribe-all, and the pubsub output
 * buffer limit. Exact byte shapes were captured from redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, resp, waitUntil } from '../helpers/raw-client.js';

const CONTEXT_ERR = (cmd: string) =>
  `-ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n`;

let srv: TestServer;
const raws: RawClient[] = [];

async function raw(): Promise<RawClient> {
  const r = await RawClient.connect(srv.port);
  raws.push(r);
  return r;
}

function ioredis(): Redis {
  return srv.client({ enableReadyCheck: false });
}

async function numsub(c: Redis, ...channels: string[]): Promise<unknown> {
  return c.call('PUBSUB', 'NUMSUB', ...channels);
}

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  for (const r of raws) r.close();
  await srv.stop();
});

describe('SUBSCRIBE / PUBLISH with ioredis', () => {
  it('delivers messages across connections and PUBLISH counts receivers', async () => {
    const sub1 = ioredis();
    const sub2 = ioredis();
    const pub = ioredis();
    const got1: [string, string][] = [];
    const got2: [string, string][] = [];
    sub1.on('message', (ch: string, m: string) => got1.push([ch, m]));
    sub2.on('message', (ch: string, m: string) => got2.push([ch, m]));
    expect(await sub1.subscribe('io:a', 'io:b')).toBe(2);
    expect(await sub2.subscribe('io:a')).toBe(1);

    expect(await pub.publish('io:a', 'hello')).toBe(2);
    expect(await pub.publish('io:b', 'world')).toBe(1);
    expect(await pub.publish('io:none', 'x')).toBe(0);
    await waitUntil(() => got1.length === 2 && got2.length === 1, 3000, 'messages');
    expect(got1).toEqual([
      ['io:a', 'hello'],
      ['io:b', 'world'],
    ]);
    expect(got2).toEqual([['io:a', 'hello']]);

    // Unsubscribing one channel leaves the other.
    expect(await sub1.unsubscribe('io:a')).toBe(1);
    expect(await pub.publish('io:a', 'again')).toBe(1);
    expect(await numsub(pub, 'io:a', 'io:b')).toEqual(['io:a', 1, 'io:b', 1]);
    await sub1.unsubscribe();
    await sub2.unsubscribe();
    expect(await numsub(pub, 'io:a', 'io:b')).toEqual(['io:a', 0, 'io:b', 0]);
  });

  it('pattern subscriptions match glob patterns, one pmessage per matching pattern', async () => {
    const sub = ioredis();
    const pub = ioredis();
    const got: [string, string, string][] = [];
    sub.on('pmessage', (p: string, ch: string, m: string) => got.push([p, ch, m]));
    expect(await sub.psubscribe('news.*', 'h?llo', 'h[ae]llo', 'lit\\*', 'x[^a]y')).toBe(5);

    expect(await pub.publish('news.sport', 'goal')).toBe(1);
    expect(await pub.publish('hello', 'm1')).toBe(2); // h?llo and h[ae]llo
    expect(await pub.publish('hillo', 'm2')).toBe(1); // only h?llo
    expect(await pub.publish('lit*', 'm3')).toBe(1);
    expect(await pub.publish('litx', 'm4')).toBe(0);
    expect(await pub.publish('xby', 'm5')).toBe(1);
    expect(await pub.publish('xay', 'm6')).toBe(0);
    expect(await pub.publish('news', 'no')).toBe(0);
    await waitUntil(() => got.length === 6, 3000, 'pmessages');
    expect(got[0]).toEqual(['news.*', 'news.sport', 'goal']);
    expect(got.slice(1, 3).sort()).toEqual([
      ['h?llo', 'hello', 'm1'],
      ['h[ae]llo', 'hello', 'm1'],
    ]);
    expect(got.slice(3)).toEqual([
      ['h?llo', 'hillo', 'm2'],
      ['lit\\*', 'lit*', 'm3'],
      ['x[^a]y', 'xby', 'm5'],
    ]);
    expect(await sub.punsubscribe('news.*')).toBe(4);
    expect(await pub.publish('news.sport', 'gone')).toBe(0);
    await sub.punsubscribe();
    expect(await pub.publish('hello', 'gone')).toBe(0);
  });

  it('a client subscribed to a channel and a matching pattern receives both', async () => {
    const sub = ioredis();
    const pub = ioredis();
    const events: string[] = [];
    sub.on('message', (ch: string, m: string) => events.push(`message ${ch} ${m}`));
    sub.on('pmessage', (p: string, ch: string, m: string) => events.push(`pmessage ${p} ${ch} ${m}`));
    await sub.subscribe('both:1');
    await sub.psubscribe('both:*');
    expect(await pub.publish('both:1', 'v')).toBe(2);
    await waitUntil(() => events.length === 2);
    expect(events).toEqual(['message both:1 v', 'pmessage both:* both:1 v']);
  });

  it('messages are binary safe', async () => {
    const sub = ioredis();
    const pub = ioredis();
    const got: Buffer[] = [];
    sub.on('messageBuffer', (_ch: Buffer, m: Buffer) => got.push(m));
    await sub.subscribe('bin');
    const payload = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x80, 0x41]);
    expect(await pub.publish('bin', payload)).toBe(1);
    await waitUntil(() => got.length === 1);
    expect(got[0]!.equals(payload)).toBe(true);
  });

  it('PUBLISH inside MULTI/EXEC', async () => {
    const sub = ioredis();
    const pub = ioredis();
    const got: string[] = [];
    sub.on('message', (_c: string, m: string) => got.push(m));
    await sub.subscribe('tx');
    const r = await pub.multi().publish('tx', 'a').publish('tx', 'b').exec();
    expect(r).toEqual([
      [null, 1],
      [null, 1],
    ]);
    await waitUntil(() => got.length === 2);
    expect(got).toEqual(['a', 'b']);
  });

  it('PUBLISH and SPUBLISH wait under CLIENT PAUSE WRITE (they may replicate); PUBSUB does not', async () => {
    const admin = ioredis();
    const pub = ioredis();
    expect(await admin.call('CLIENT', 'PAUSE', '300', 'WRITE')).toBe('OK');
    let t0 = Date.now();
    expect(await pub.call('PUBSUB', 'NUMPAT')).toBeTypeOf('number');
    expect(Date.now() - t0).toBeLessThan(200);
    t0 = Date.now();
    expect(await pub.publish('paused', 'x')).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(await admin.call('CLIENT', 'PAUSE', '300', 'WRITE')).toBe('OK');
    t0 = Date.now();
    expect(await pub.call('SPUBLISH', 'paused', 'x')).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
  });

  it('a closed or RESET subscriber is removed', async () => {
    const pub = ioredis();
    const a = await raw();
    expect(await a.call(['SUBSCRIBE', 'gone:1'], resp.msg(2, 'subscribe', 'gone:1', 1))).toBe(resp.msg(2, 'subscribe', 'gone:1', 1));
    expect(await numsub(pub, 'gone:1')).toEqual(['gone:1', 1]);
    a.close();
    await waitUntil(async () => JSON.stringify(await numsub(pub, 'gone:1')) === '["gone:1",0]', 3000, 'NUMSUB 0');

    const b = await raw();
    const patsBefore = (await pub.call('PUBSUB', 'NUMPAT')) as number;
    await b.call(['SUBSCRIBE', 'gone:2'], resp.msg(2, 'subscribe', 'gone:2', 1));
    await b.call(['PSUBSCRIBE', 'gone:*'], resp.msg(2, 'psubscribe', 'gone:*', 2));
    expect(await pub.call('PUBSUB', 'NUMPAT')).toBe(patsBefore + 1);
    expect(await b.call(['RESET'], '+RESET\r\n')).toBe('+RESET\r\n');
    expect(await numsub(pub, 'gone:2')).toEqual(['gone:2', 0]);
    expect(await pub.call('PUBSUB', 'NUMPAT')).toBe(patsBefore);
    // Out of the subscribed context: ordinary commands work again.
    expect(await b.call(['ECHO', 'x'], '$1\r\nx\r\n')).toBe('$1\r\nx\r\n');
  });
});

describe('exact replies (RESP2, raw socket)', () => {
  it('subscribe confirmations carry running counts; shard channels count apart', async () => {
    const c = await raw();
    const m = (...x: (string | number | null)[]) => resp.msg(2, ...x);
    const expected =
      m('subscribe', 'r:a', 1) +
      m('subscribe', 'r:b', 2) +
      m('subscribe', 'r:a', 2) +
      m('psubscribe', 'r:*', 3) +
      m('ssubscribe', 'r:s', 1) +
      m('unsubscribe', 'r:a', 2) +
      m('unsubscribe', 'r:b', 1) +
      m('punsubscribe', 'r:*', 0);
    c.send('SUBSCRIBE', 'r:a', 'r:b', 'r:a');
    c.send('PSUBSCRIBE', 'r:*');
    c.send('SSUBSCRIBE', 'r:s');
    c.send('UNSUBSCRIBE');
    c.send('PUNSUBSCRIBE');
    expect(await c.read(expected.length)).toBe(expected);
    // Still subscribed to a shard channel: still in the pub/sub context.
    expect(await c.call(['PING'], '*2\r\n$4\r\npong\r\n$0\r\n\r\n')).toBe('*2\r\n$4\r\npong\r\n$0\r\n\r\n');
    expect(await c.call(['PING', 'x'], '*2\r\n$4\r\npong\r\n$1\r\nx\r\n')).toBe('*2\r\n$4\r\npong\r\n$1\r\nx\r\n');
    expect(await c.call(['ECHO', 'x'], CONTEXT_ERR('echo'))).toBe(CONTEXT_ERR('echo'));
    expect(await c.call(['SUNSUBSCRIBE'], m('sunsubscribe', 'r:s', 0))).toBe(m('sunsubscribe', 'r:s', 0));
    expect(await c.call(['ECHO', 'x'], '$1\r\nx\r\n')).toBe('$1\r\nx\r\n');
  });

  it('unsubscribe-all with nothing subscribed answers one message with a null name', async () => {
    const c = await raw();
    const m = (...x: (string | number | null)[]) => resp.msg(2, ...x);
    const expected = m('unsubscribe', null, 0) + m('punsubscribe', null, 0) + m('sunsubscribe', null, 0);
    c.send('UNSUBSCRIBE');
    c.send('PUNSUBSCRIBE');
    c.send('SUNSUBSCRIBE');
    expect(await c.read(expected.length)).toBe(expected);
    expect(expected.startsWith('*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n')).toBe(true);
    // With a pattern but no channel: null name, count still includes the pattern.
    c.send('PSUBSCRIBE', 'q*');
    c.send('UNSUBSCRIBE');
    c.send('UNSUBSCRIBE', 'never');
    c.send('PUNSUBSCRIBE', 'q*', 'q*', 'zz');
    const e2 =
      m('psubscribe', 'q*', 1) +
      m('unsubscribe', null, 1) +
      m('unsubscribe', 'never', 1) +
      m('punsubscribe', 'q*', 0) +
      m('punsubscribe', 'q*', 0) +
      m('punsubscribe', 'zz', 0);
    expect(await c.read(e2.length)).toBe(e2);
  });

  it('the RESP2 subscribed context rejects other commands with the exact error', async () => {
    const c = await raw();
    await c.call(['SUBSCRIBE', 'ctx'], resp.msg(2, 'subscribe', 'ctx', 1));
    for (const [argv, name] of [
      [['ECHO', 'a'], 'echo'],
      [['PUBLISH', 'ctx', 'x'], 'publish'],
      [['HELLO', '3'], 'hello'],
      [['PUBSUB', 'NUMPAT'], 'pubsub|numpat'],
      [['MULTI'], 'multi'],
    ] as [string[], string][]) {
      expect(await c.call(argv, CONTEXT_ERR(name))).toBe(CONTEXT_ERR(name));
    }
    // Arity and unknown-command errors come first, as in Redis.
    const arity = "-ERR wrong number of arguments for 'subscribe' command\r\n";
    expect(await c.call(['SUBSCRIBE'], arity)).toBe(arity);
    expect(await c.call(['QUIT'], '+OK\r\n')).toBe('+OK\r\n');
    await c.waitClosed();
  });

  it('SUBSCRIBE queued in MULTI is confirmed inside the EXEC array', async () => {
    const c = await raw();
    const expected = '+OK\r\n+QUEUED\r\n*1\r\n' + resp.msg(2, 'subscribe', 'mx', 1);
    c.send('MULTI');
    c.send('SUBSCRIBE', 'mx');
    c.send('EXEC');
    expect(await c.read(expected.length)).toBe(expected);
  });

  it('message shapes: message, pmessage, smessage', async () => {
    const sub = await raw();
    const pub = await raw();
    const m = (...x: (string | number | null)[]) => resp.msg(2, ...x);
    sub.send('SUBSCRIBE', 'shape');
    sub.send('PSUBSCRIBE', 'sha*');
    sub.send('SSUBSCRIBE', 'shard');
    const conf = m('subscribe', 'shape', 1) + m('psubscribe', 'sha*', 2) + m('ssubscribe', 'shard', 1);
    expect(await sub.read(conf.length)).toBe(conf);
    expect(await pub.call(['PUBLISH', 'shape', 'v1'], ':2\r\n')).toBe(':2\r\n');
    expect(await pub.call(['SPUBLISH', 'shard', 'v2'], ':1\r\n')).toBe(':1\r\n');
    expect(await pub.call(['SPUBLISH', 'shape', 'v3'], ':0\r\n')).toBe(':0\r\n');
    const msgs = m('message', 'shape', 'v1') + m('pmessage', 'sha*', 'shape', 'v1') + m('smessage', 'shard', 'v2');
    expect(await sub.read(msgs.length)).toBe(msgs);
  });
});

describe('RESP3', () => {
  it('confirmations and messages are pushes; other commands run while subscribed', async () => {
    const c = await raw();
    c.send('HELLO', '3');
    // Skip the HELLO map: read until its last field.
    await waitUntil(() => c.buf.includes('$7\r\nmodules\r\n*0\r\n'));
    c.buf = '';
    const p = (...x: (string | number | null)[]) => resp.msg(3, ...x);
    c.send('UNSUBSCRIBE');
    c.send('SUBSCRIBE', 'r3');
    c.send('PSUBSCRIBE', 'r3*');
    c.send('PING');
    c.send('ECHO', 'e');
    c.send('PUBLISH', 'r3', 'self');
    const expected =
      '>3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n' +
      p('subscribe', 'r3', 1) +
      p('psubscribe', 'r3*', 2) +
      '+PONG\r\n' +
      '$1\r\ne\r\n' +
      // The pushes to itself come before PUBLISH's own reply, as in Redis.
      p('message', 'r3', 'self') +
      p('pmessage', 'r3*', 'r3', 'self') +
      ':2\r\n';
    expect(await c.read(expected.length)).toBe(expected);
  });

  it('node-redis RESP3 subscriber receives pushes and keeps running commands', async () => {
    const sub = await srv.nodeRedis(3);
    const pub = await srv.nodeRedis(3);
    const got: string[] = [];
    await sub.subscribe('nr3', (message, channel) => got.push(`${channel}:${message}`));
    await sub.pSubscribe('nr3.*', (message, channel) => got.push(`p ${channel}:${message}`));
    await sub.sSubscribe('nr3s', (message, channel) => got.push(`s ${channel}:${message}`));
    expect(await sub.sendCommand(['ECHO', 'still works'])).toBe('still works');
    expect(await pub.publish('nr3', 'one')).toBe(1);
    expect(await pub.publish('nr3.x', 'two')).toBe(1);
    expect(await pub.sendCommand(['SPUBLISH', 'nr3s', 'three'])).toBe(1);
    await waitUntil(() => got.length === 3, 3000, 'pushes');
    expect(got).toEqual(['nr3:one', 'p nr3.x:two', 's nr3s:three']);
    expect(await pub.sendCommand(['PUBSUB', 'NUMSUB', 'nr3'])).toEqual(['nr3', 1]);
    expect(await pub.sendCommand(['PUBSUB', 'SHARDNUMSUB', 'nr3s'])).toEqual(['nr3s', 1]);
    await sub.unsubscribe('nr3');
    await sub.pUnsubscribe('nr3.*');
    await sub.sUnsubscribe('nr3s');
    expect(await pub.publish('nr3', 'none')).toBe(0);
  });

  it('node-redis RESP2 subscriber', async () => {
    const sub = await srv.nodeRedis(2);
    const pub = await srv.nodeRedis(2);
    const got: string[] = [];
    await sub.subscribe('nr2', (message, channel) => got.push(`${channel}:${message}`));
    expect(await pub.publish('nr2', 'hi')).toBe(1);
    await waitUntil(() => got.length === 1);
    expect(got).toEqual(['nr2:hi']);
    await sub.unsubscribe();
    expect(await pub.publish('nr2', 'none')).toBe(0);
  });
});

describe('PUBSUB introspection', () => {
  it('CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB', async () => {
    const admin = ioredis();
    const patsBefore = (await admin.call('PUBSUB', 'NUMPAT')) as number;
    const a = await raw();
    const b = await raw();
    const m = (...x: (string | number | null)[]) => resp.msg(2, ...x);
    a.send('SUBSCRIBE', 'in:foo', 'in:bar');
    a.send('PSUBSCRIBE', 'in:f*', 'in:b?r');
    a.send('SSUBSCRIBE', 'in:sh1', 'in:sh2');
    const ca =
      m('subscribe', 'in:foo', 1) +
      m('subscribe', 'in:bar', 2) +
      m('psubscribe', 'in:f*', 3) +
      m('psubscribe', 'in:b?r', 4) +
      m('ssubscribe', 'in:sh1', 1) +
      m('ssubscribe', 'in:sh2', 2);
    expect(await a.read(ca.length)).toBe(ca);
    b.send('SUBSCRIBE', 'in:foo');
    b.send('PSUBSCRIBE', 'in:f*');
    b.send('SSUBSCRIBE', 'in:sh1');
    const cb = m('subscribe', 'in:foo', 1) + m('psubscribe', 'in:f*', 2) + m('ssubscribe', 'in:sh1', 1);
    expect(await b.read(cb.length)).toBe(cb);

    const sorted = (x: unknown) => (x as string[]).filter((c) => c.startsWith('in:')).sort();
    expect(sorted(await admin.call('PUBSUB', 'CHANNELS'))).toEqual(['in:bar', 'in:foo']);
    expect(sorted(await admin.call('PUBSUB', 'CHANNELS', '*'))).toEqual(['in:bar', 'in:foo']);
    expect(await admin.call('PUBSUB', 'CHANNELS', 'in:f*')).toEqual(['in:foo']);
    expect(await admin.call('PUBSUB', 'CHANNELS', 'in:F*')).toEqual([]);
    expect(await admin.call('PUBSUB', 'NUMSUB', 'in:foo', 'in:bar', 'in:baz')).toEqual(['in:foo', 2, 'in:bar', 1, 'in:baz', 0]);
    expect(await admin.call('PUBSUB', 'NUMSUB')).toEqual([]);
    // Distinct patterns, not subscriptions.
    expect(await admin.call('PUBSUB', 'NUMPAT')).toBe(patsBefore + 2);
    expect(sorted(await admin.call('PUBSUB', 'SHARDCHANNELS'))).toEqual(['in:sh1', 'in:sh2']);
    expect(await admin.call('PUBSUB', 'SHARDCHANNELS', '*2')).toEqual(['in:sh2']);
    expect(await admin.call('PUBSUB', 'SHARDNUMSUB', 'in:sh1', 'in:x')).toEqual(['in:sh1', 2, 'in:x', 0]);
    // Shard channels are not classic channels and vice versa.
    expect(await admin.call('PUBSUB', 'NUMSUB', 'in:sh1')).toEqual(['in:sh1', 0]);
    expect(await admin.publish('in:sh1', 'x')).toBe(0);

    // NUMSUB is a flat array in RESP3 too (Redis 7.0).
    const r3 = await raw();
    r3.send('HELLO', '3');
    await waitUntil(() => r3.buf.includes('$7\r\nmodules\r\n*0\r\n'));
    r3.buf = '';
    const flat = '*4\r\n$6\r\nin:foo\r\n:2\r\n$6\r\nin:baz\r\n:0\r\n';
    expect(await r3.call(['PUBSUB', 'NUMSUB', 'in:foo', 'in:baz'], flat)).toBe(flat);

    a.close();
    b.close();
    await waitUntil(async () => (await admin.call('PUBSUB', 'NUMPAT')) === patsBefore);
    expect(sorted(await admin.call('PUBSUB', 'CHANNELS'))).toEqual([]);
    expect(sorted(await admin.call('PUBSUB', 'SHARDCHANNELS'))).toEqual([]);
  });

  it('HELP and errors', async () => {
    const c = ioredis();
    const help = (await c.call('PUBSUB', 'HELP')) as string[];
    expect(help).toHaveLength(14);
    expect(help[0]).toBe('PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help[13]).toBe('    Prints this help.');
    await expect(c.call('PUBSUB', 'channels', 'a', 'b')).rejects.toThrow(
      "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.",
    );
    await expect(c.call('PUBSUB', 'ShardChannels', 'a', 'b')).rejects.toThrow(
      "ERR unknown subcommand or wrong number of arguments for 'ShardChannels'. Try PUBSUB HELP.",
    );
    await expect(c.call('PUBSUB', 'NUMPAT', 'x')).rejects.toThrow("ERR wrong number of arguments for 'pubsub|numpat' command");
    await expect(c.call('PUBSUB', 'HELP', 'x')).rejects.toThrow("ERR wrong number of arguments for 'pubsub|help' command");
    await expect(c.call('PUBSUB', 'foo')).rejects.toThrow("ERR unknown subcommand 'foo'. Try PUBSUB HELP.");
    await expect(c.call('PUBSUB')).rejects.toThrow("ERR wrong number of arguments for 'pubsub' command");
    await expect(c.call('PUBLISH', 'a')).rejects.toThrow("ERR wrong number of arguments for 'publish' command");
    await expect(c.call('SPUBLISH', 'a', 'b', 'c')).rejects.toThrow("ERR wrong number of arguments for 'spublish' command");
    await expect(c.call('PSUBSCRIBE')).rejects.toThrow("ERR wrong number of arguments for 'psubscribe' command");
  });
});

describe('client-output-buffer-limit pubsub', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ 'client-output-buffer-limit': 'pubsub 256kb 0 0' });
  });
  afterAll(async () => {
    await small.stop();
  });

  it('disconnects a subscriber that stops reading', async () => {
    const sub = await RawClient.connect(small.port);
    raws.push(sub);
    await sub.call(['SUBSCRIBE', 'slow'], resp.msg(2, 'subscribe', 'slow', 1));
    sub.sock.pause(); // never read again: the server's output buffer grows

    const pub = small.client({ enableReadyCheck: false });
    const message = 'x'.repeat(100 * 1024);
    let receivers = 1;
    // Bounded: 100 rounds of 2 MB at most; it should take far fewer.
    for (let round = 0; round < 100 && receivers > 0; round++) {
      const p = pub.pipeline();
      for (let i = 0; i < 20; i++) p.publish('slow', message);
      const res = (await p.exec())!;
      receivers = res[res.length - 1]![1] as number;
    }
    expect(receivers).toBe(0);
    expect(await pub.call('PUBSUB', 'NUMSUB', 'slow')).toEqual(['slow', 0]);
    expect(small.logs.some((l) => l.includes('scheduled to be closed ASAP for overcoming of output buffer limits'))).toBe(true);
    sub.sock.resume();
    await sub.waitClosed();

    // A subscriber that keeps reading is not affected by the same traffic.
    const live = await RawClient.connect(small.port);
    raws.push(live);
    await live.call(['SUBSCRIBE', 'fast'], resp.msg(2, 'subscribe', 'fast', 1));
    live.sock.on('data', () => (live.buf = '')); // drain as it comes
    for (let round = 0; round < 10; round++) {
      const p = pub.pipeline();
      for (let i = 0; i < 2; i++) p.publish('fast', message);
      const res = (await p.exec())!;
      expect(res[1]![1]).toBe(1);
    }
    expect(await pub.call('PUBSUB', 'NUMSUB', 'fast')).toEqual(['fast', 1]);
    live.close();
  });
});
