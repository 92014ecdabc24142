/**
 * More replies and side effects that Redis 7.0's own TCL test suite (run in
 * external mode against cacheside) depends on: PUBLISH propagation (to
 * replicas only, never to the AOF) and the SLOWLOG entry of a blocked command
 * once it is served. Expected values are redis-server 7.0.15's (replication
 * stream, AOF file and SLOWLOG checked against it).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, encode, waitUntil } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/spawn-server.js';
import type { Redis } from 'ioredis';

const cmds = (...argvs: string[][]) => argvs.map(encode).join('');

/** Send SYNC (inline, as the TCL harness does) and consume the RDB payload. */
async function attach(port: number): Promise<RawClient> {
  const repl = await RawClient.connect(port);
  repl.sock.write('SYNC\r\n');
  let header = '';
  while (!header.endsWith('\r\n')) header += await repl.read(1);
  await repl.read(Number(header.slice(1, -2)));
  return repl;
}

async function detach(srv: TestServer, repl: RawClient): Promise<void> {
  repl.close();
  const c = srv.client();
  await waitUntil(async () => /connected_slaves:0/.test((await c.call('INFO', 'replication')) as string));
}

describe('PUBLISH propagation: replicas get it, the AOF does not', () => {
  let srv: TestServer;
  let dir: string;
  const incr = () => fs.readFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'latin1');
  beforeAll(async () => {
    dir = tempDir('publish-aof');
    srv = await startTestServer({ appendonly: 'yes', dir, 'repl-ping-replica-period': 3600 });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('the AOF never gets PUBLISH; with a replica attached, the MULTI/EXEC around it stays (as in Redis 7.0)', async () => {
    const c = srv.client();
    await c.call('SELECT', '0');
    await c.call('SET', 'mark', '0');
    await waitUntil(() => incr().includes('mark'));
    const before = incr().length;
    // No replica (and no backlog yet: this runs first, as a backlog outlives its replicas for
    // repl-backlog-ttl): PUBLISH is not propagated at all, so the transaction is a lone SET.
    await c.call('PUBLISH', 'a', 'b');
    await c.multi().call('SET', 'x', '1').call('PUBLISH', 'c', 'd').exec();
    await c.multi().call('PUBLISH', 'e', 'f').call('PUBLISH', 'g', 'h').exec();
    const repl = await attach(srv.port);
    // A replica attached: the transactions are wrapped for every target, PUBLISH goes to the replica only.
    await c.multi().call('SET', 'y', '1').call('PUBLISH', 'c', 'd').exec();
    await c.multi().call('PUBLISH', 'e', 'f').call('PUBLISH', 'g', 'h').exec();
    await c.call('SET', 'mark', '1');
    await waitUntil(() => incr().endsWith(encode(['SET', 'mark', '1'])));
    expect(incr().slice(before)).toBe(cmds(['SET', 'x', '1'], ['MULTI'], ['SET', 'y', '1'], ['EXEC'], ['MULTI'], ['EXEC'], ['SET', 'mark', '1']));
    await detach(srv, repl);
  });

  it('the replication stream carries PUBLISH and SPUBLISH, unwrapped when alone in a MULTI', async () => {
    const c = srv.client();
    const repl = await attach(srv.port);
    await c.multi().call('PUBLISH', 'bla', 'bla').exec();
    await c.multi().call('SET', 'y', '1').call('PUBLISH', 'c', 'd').exec();
    await c.call('SPUBLISH', 's', 'm');
    await c.call('SELECT', '5');
    await c.call('PUBLISH', 'q', 'r');
    const expected = cmds(
      ['SELECT', '0'],
      ['PUBLISH', 'bla', 'bla'],
      ['MULTI'],
      ['SET', 'y', '1'],
      ['PUBLISH', 'c', 'd'],
      ['EXEC'],
      ['SPUBLISH', 's', 'm'],
      ['SELECT', '5'],
      ['PUBLISH', 'q', 'r'],
    );
    expect(await repl.read(expected.length)).toBe(expected);
    await detach(srv, repl);
  });
});

describe('SLOWLOG and blocked commands', () => {
  let srv: TestServer;
  // Clients made up front: a new ioredis connection sends commands of its own (INFO, CLIENT SETINFO) that get logged.
  let c: Redis;
  let waiter: Redis;
  beforeAll(async () => {
    srv = await startTestServer({});
    c = srv.client();
    waiter = srv.client();
    await Promise.all([c.ping(), waiter.ping()]);
  });
  afterAll(async () => {
    await srv.stop();
  });

  // Polled through the waiter's own connection would block behind its BLPOP: use a connection of its own.
  const blockedClients = async (n: number) => {
    const probe = srv.client();
    await waitUntil(async () => ((await probe.call('INFO', 'clients')) as string).includes(`blocked_clients:${n}\r\n`));
    probe.disconnect();
  };
  const loggedArgv = async (): Promise<string[][]> => ((await c.call('SLOWLOG', 'GET', '-1')) as unknown[][]).map((e) => e[3] as string[]);

  it('a served BLPOP is logged as written, after the command that served it, not when it blocked', async () => {
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('DEL', 'l');
    await c.call('SLOWLOG', 'RESET');
    const popped = waiter.call('BLPOP', 'l', '0');
    await blockedClients(1);
    expect((await loggedArgv()).some((a) => a[0] === 'BLPOP')).toBe(false);
    await c.multi().call('LPUSH', 'l', 'foo').call('SLOWLOG', 'RESET').exec();
    expect(await popped).toEqual(['l', 'foo']);
    // LPOP is what replicas get; the slowlog shows the original command.
    expect((await loggedArgv())[0]).toEqual(['BLPOP', 'l', '0']);
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  });

  it('the time spent blocked is not counted; a timed-out BLPOP is not logged', async () => {
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '100000');
    await c.call('SLOWLOG', 'RESET');
    const popped = waiter.call('BLPOP', 'l', '0');
    await blockedClients(1);
    await new Promise((r) => setTimeout(r, 250));
    await c.call('RPUSH', 'l', 'x');
    expect(await popped).toEqual(['l', 'x']);
    expect(await c.call('SLOWLOG', 'LEN')).toBe(0);
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('SLOWLOG', 'RESET');
    expect(await waiter.call('BLPOP', 'nolist', '0.05')).toBe(null);
    expect((await loggedArgv()).map((a) => a[0])).toEqual(['SLOWLOG']);
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  });
});

describe('client tracking: keys remembered for a client that stopped tracking', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({});
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('stay until FLUSHALL forgets them (a client tracking again is not sent stale invalidations)', async () => {
    const c = srv.client();
    const writer = srv.client();
    const sub = await RawClient.connect(srv.port);
    sub.send('CLIENT', 'ID');
    let idReply = '';
    while (!idReply.endsWith('\r\n')) idReply += await sub.read(1);
    const id = idReply.slice(1, -2);
    sub.send('SUBSCRIBE', '__redis__:invalidate');
    const subscribed = '*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n';
    expect(await sub.read(subscribed.length)).toBe(subscribed);
    const trackedKeys = async () => /tracking_total_keys:(\d+)/.exec((await c.call('INFO', 'stats')) as string)![1];

    await c.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id);
    await c.call('GET', 'key1');
    await c.call('CLIENT', 'TRACKING', 'off');
    // Redis keeps the key in its table after TRACKING off...
    expect(await trackedKeys()).toBe('1');
    // ...and FLUSHALL empties the table even when no client is tracking any more.
    await c.call('FLUSHALL');
    expect(await trackedKeys()).toBe('0');
    await c.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id);
    await c.call('GET', 'key2');
    await writer.call('SET', 'key1', 'x');
    await writer.call('SET', 'key2', 'x');
    // The first (and only) invalidation is for key2: key1 was forgotten by FLUSHALL.
    const msg = '*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$4\r\nkey2\r\n';
    expect(await sub.read(msg.length)).toBe(msg);
    await new Promise((r) => setTimeout(r, 50));
    expect(sub.buf).toBe('');
    sub.close();
  });
});
