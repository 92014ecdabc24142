/**
 * Client memory in the memory figures and in eviction (Redis 7.0): a
 * replica's pending output is mem_clients_slaves and not counted for key
 * eviction (mem_not_counted_for_evict); a command still arriving counts its
 * parsed arguments; maxmemory-clients evicts a client before its command runs,
 * with or without a maxmemory, counting its WATCH list and subscriptions;
 * DEBUG PAUSE-CRON.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { infoFields } from '../helpers/info.js';

const servers: TestServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.stop();
});

async function server(directives: Record<string, string | number> = {}): Promise<{ srv: TestServer; c: Redis }> {
  const srv = await startTestServer({ 'enable-debug-command': 'yes', ...directives });
  servers.push(srv);
  return { srv, c: srv.client() };
}

function rawClient(port: number): Socket {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  sockets.push(s);
  return s;
}

const num = async (c: Redis, section: string, field: string): Promise<number> => Number((await infoFields(c, section))[field]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clientNames = async (c: Redis): Promise<string[]> =>
  ((await c.call('CLIENT', 'LIST')) as string).trim().split('\n').map((l) => /name=(\S*)/.exec(l)![1]!);

describe('replica output buffers', () => {
  it('count in used_memory as mem_clients_slaves, and not for eviction', async () => {
    const { srv, c } = await server();
    for (let i = 0; i < 20; i++) await c.set(`key:${i}`, 'v'.repeat(10_000));
    // A replica that never reads: PSYNC, then the stream piles up in the master.
    const r = rawClient(srv.port);
    r.pause();
    r.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
    await sleep(300);
    const base = await num(c, 'memory', 'used_memory');
    await c.config('SET', 'maxmemory-policy', 'allkeys-random');
    await c.config('SET', 'maxmemory', String(base + 200_000));
    const big = 'A'.repeat(100_000);
    for (let i = 0; i < 100; i++) await c.setrange('key:0', 0, big);
    const m = await infoFields(c, 'memory');
    const slaves = Number(m['mem_clients_slaves']);
    expect(slaves).toBeGreaterThan(2_000_000);
    expect(Number(m['mem_not_counted_for_evict'])).toBeGreaterThan(2_000_000);
    expect(Number(m['mem_total_replication_buffers'])).toBeGreaterThan(2_000_000);
    expect(Number(m['used_memory'])).toBeGreaterThan(base + slaves - 200_000);
    expect(await c.dbsize()).toBe(20);
    expect(await num(c, 'stats', 'evicted_keys')).toBe(0);
    const stats = (await c.call('MEMORY', 'STATS')) as unknown[];
    // MEMORY STATS measures again (a replica PING may have been queued since): the same order of size.
    expect(Math.abs(Number(stats[stats.indexOf('clients.slaves') + 1]) - slaves)).toBeLessThan(slaves / 10);
  });
});

describe('maxmemory-clients', () => {
  it('evicts a client whose command is too big before the command runs, without a maxmemory', async () => {
    const { c, srv } = await server({ 'maxmemory-clients': 1_000_000 });
    await c.set('k', 'v');
    const r = rawClient(srv.port);
    const closed = new Promise<void>((res) => r.once('close', () => res()));
    const arg = 'x'.repeat(2_000_000);
    r.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${arg.length}\r\n${arg}\r\n`);
    await closed;
    expect(await c.get('k')).toBe('v');
    expect(await num(c, 'stats', 'evicted_clients')).toBe(1);
  });

  it('counts the arguments already received of a command still arriving', async () => {
    const { c, srv } = await server({ 'maxmemory-clients': 1_000_000 });
    const r = rawClient(srv.port);
    // Many 10 kB arguments of a command that never ends.
    r.write('*300\r\n$3\r\nSET\r\n' + '$10000\r\n' + 'x'.repeat(10_000) + '\r\n');
    for (let i = 0; i < 150; i++) r.write('$10000\r\n' + 'x'.repeat(10_000) + '\r\n');
    const closed = new Promise<void>((res) => r.once('close', () => res()));
    // The cron (or the next command) finds 1.5 MB of arguments of an incomplete command.
    await Promise.race([closed, sleep(5000)]);
    expect(r.destroyed).toBe(true);
    expect(await num(c, 'stats', 'evicted_clients')).toBe(1);
  });

  it('counts watched keys and subscriptions as client memory', async () => {
    const { c, srv } = await server({ 'maxmemory-clients': 200_000 });
    const once = { retryStrategy: () => null, maxRetriesPerRequest: 0 };
    const w = srv.client(once);
    let err = '';
    for (let j = 0; j < 20_000 && err === ''; j++) await w.watch(`key-with-a-long-name-${j}`).catch((e: Error) => (err = e.message));
    expect(err).not.toBe('');
    const p = srv.client(once);
    err = '';
    for (let j = 0; j < 20_000 && err === ''; j++) await p.psubscribe(`pattern-with-a-long-name-${j}`).catch((e: Error) => (err = e.message));
    expect(err).not.toBe('');
    expect(await num(c, 'stats', 'evicted_clients')).toBe(2);
  });
});

describe('DEBUG PAUSE-CRON', () => {
  it('stops the cron: keys with a TTL stay until it resumes', async () => {
    const { c } = await server({ hz: 100 });
    for (let i = 0; i < 50; i++) await c.set(`t${i}`, 'v', 'PX', 50);
    expect(await c.call('DEBUG', 'PAUSE-CRON', '1')).toBe('OK');
    await sleep(400);
    expect(await num(c, 'stats', 'expired_keys')).toBe(0);
    expect(await c.call('DEBUG', 'PAUSE-CRON', '0')).toBe('OK');
    await sleep(400);
    expect(await num(c, 'stats', 'expired_keys')).toBe(50);
  });
});
