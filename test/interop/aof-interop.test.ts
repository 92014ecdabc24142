/**
 * Persistence files crossing between cacheside and a real redis-server 7.0:
 *  - redis-check-aof accepts cacheside's multi-part AOF (RDB preamble or not);
 *  - redis-server loads cacheside's AOF directory and its BGSAVE dump
 *    (redis-check-rdb accepts the dump), DEBUG DIGEST equal;
 *  - cacheside loads an AOF directory written and rewritten by redis-server;
 *  - cacheside check-aof --fix repairs what redis-check-aof rejects.
 * Needs `npm run build` and redis-server / redis-check-aof / redis-check-rdb.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { fillEveryType, prng, randomWrite } from '../helpers/dataset.js';
import { ensureBuilt, freePort, startServerProc, tempDir, type Proc } from '../helpers/spawn-server.js';
import { startRedis, stopAllRedis } from '../helpers/redis-proc.js';

const procs: Proc[] = [];

beforeAll(() => ensureBuilt(), 120_000);
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
  await stopAllRedis();
});

async function startCacheside(dir: string, args: string[]): Promise<Proc> {
  const p = await startServerProc(dir, ['--enable-debug-command', 'yes', ...args]);
  procs.push(p);
  return p;
}

async function untilIdle(c: Redis): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const i = String(await c.call('INFO', 'persistence'));
    if (i.includes('aof_rewrite_in_progress:0') && i.includes('rdb_bgsave_in_progress:0')) return;
    if (Date.now() > end) throw new Error('background job did not finish');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Data of every type, a rewrite, then more writes (so base and incr both matter). */
async function populate(c: Redis): Promise<void> {
  await fillEveryType(c);
  await c.call('BGREWRITEAOF');
  await untilIdle(c);
  const rnd = prng(3);
  for (let i = 0; i < 300; i++) await randomWrite(c, rnd, i);
  await c.call('SELECT', 5);
  await c.call('SET', 'in-db-5', 'x');
  await c.call('SELECT', 0);
}

function run(cmd: string, args: string[], input = ''): { code: number; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'latin1' });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

const manifestOf = (dir: string) => path.join(dir, 'appendonlydir', 'appendonly.aof.manifest');

describe('AOF interop with redis-server 7.0', () => {
  for (const preamble of ['yes', 'no']) {
    it(`redis-check-aof accepts cacheside's AOF and redis-server loads it (aof-use-rdb-preamble ${preamble})`, async () => {
      const dir = tempDir('aof-interop');
      const p = await startCacheside(dir, ['--appendonly', 'yes', '--aof-use-rdb-preamble', preamble]);
      const c = p.client();
      await populate(c);
      const digest = await c.call('DEBUG', 'DIGEST');
      expect(await p.term()).toBe(0);
      const check = run('redis-check-aof', [manifestOf(dir)]);
      expect(check.out).toContain('All AOF files and manifest are valid');
      expect(check.code).toBe(0);
      const r = await startRedis(dir, ['--appendonly', 'yes']);
      expect(await r.client.call('DEBUG', 'DIGEST')).toBe(digest);
      await r.stop();
    }, 60_000);
  }

  it('cacheside loads an AOF directory written and rewritten by redis-server', async () => {
    const dir = tempDir('aof-from-redis');
    const r = await startRedis(dir, ['--appendonly', 'yes']);
    await populate(r.client);
    const digest = await r.client.call('DEBUG', 'DIGEST');
    await r.stop();
    const p = await startCacheside(dir, ['--appendonly', 'yes']);
    expect(await p.client().call('DEBUG', 'DIGEST')).toBe(digest);
    // And our check agrees with theirs.
    const ours = run(process.execPath, [path.join(process.cwd(), 'dist', 'cli.js'), 'check-aof', manifestOf(dir)]);
    expect(ours.code).toBe(0);
  }, 60_000);

  it("redis-server loads cacheside's BGSAVE dump; redis-check-rdb accepts it", async () => {
    const dir = tempDir('rdb-interop');
    const p = await startCacheside(dir, []);
    const c = p.client();
    await fillEveryType(c);
    const digest = await c.call('DEBUG', 'DIGEST');
    expect(await c.call('BGSAVE')).toBe('Background saving started');
    await untilIdle(c);
    const check = run('redis-check-rdb', [path.join(dir, 'dump.rdb')]);
    expect(check.out).toContain('\\o/ RDB looks OK! \\o/');
    expect(check.code).toBe(0);
    await p.term();
    const r = await startRedis(dir, []);
    expect(await r.client.call('DEBUG', 'DIGEST')).toBe(digest);
    await r.stop();
  }, 60_000);

  it('big values written in pieces (LZF strings a piece at a time): redis-server loads the dump and the AOF base', async () => {
    const dir = tempDir('rdb-big');
    const p = await startCacheside(dir, ['--appendonly', 'yes']);
    const c = p.client();
    const n = 20_000;
    for (let i = 0; i < n; i += 1000) {
      const ids = Array.from({ length: 1000 }, (_, j) => i + j);
      await c.sadd('set', ...ids.map((x) => `m${x}`));
      await c.hset('hash', ...ids.flatMap((x) => [`f${x}`, `v${x}`]));
      await c.zadd('zset', ...ids.flatMap((x) => [String(x % 7 === 0 ? x / 3 : -x), `z${x}`]));
      await c.rpush('list', ...ids.map((x) => (x % 3 === 0 ? String(x) : `e${x}`)));
    }
    await c.set('text', Array.from({ length: 60_000 }, (_, i) => `line ${i} ${'ab'.repeat(i % 13)}`).join('\n'));
    const rnd = prng(11);
    await c.set('noise', Buffer.from(Array.from({ length: 2_500_000 }, () => Math.floor(rnd() * 256))));
    await c.pexpire('list', 3_600_000);
    const digest = await c.call('DEBUG', 'DIGEST');
    expect(await c.call('BGSAVE')).toBe('Background saving started');
    await untilIdle(c);
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await untilIdle(c);
    const check = run('redis-check-rdb', [path.join(dir, 'dump.rdb')]);
    expect(check.out).toContain('\\o/ RDB looks OK! \\o/');
    expect(run('redis-check-aof', [manifestOf(dir)]).code).toBe(0);
    await p.term();
    let r = await startRedis(dir, []);
    expect(await r.client.call('DEBUG', 'DIGEST')).toBe(digest);
    await r.stop();
    r = await startRedis(dir, ['--appendonly', 'yes']);
    expect(await r.client.call('DEBUG', 'DIGEST')).toBe(digest);
    await r.stop();
  }, 120_000);

  it('a torn AOF tail: both checkers reject it; cacheside check-aof --fix repairs it for redis-check-aof', async () => {
    const dir = tempDir('aof-fix');
    const p = await startCacheside(dir, ['--appendonly', 'yes']);
    const c = p.client();
    for (let i = 0; i < 20; i++) await c.call('SET', `k${i}`, `v${i}`);
    await p.term();
    const incr = path.join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    fs.appendFileSync(incr, '*3\r\n$3\r\nSET\r\n$1\r\nx');
    expect(run('redis-check-aof', [manifestOf(dir)]).code).toBe(1);
    const cli = path.join(process.cwd(), 'dist', 'cli.js');
    expect(run(process.execPath, [cli, 'check-aof', manifestOf(dir)]).code).toBe(1);
    expect(run(process.execPath, [cli, 'check-aof', '--fix', manifestOf(dir)], 'y\n').code).toBe(0);
    expect(run('redis-check-aof', [manifestOf(dir)]).code).toBe(0);
    const r = await startRedis(dir, ['--appendonly', 'yes']);
    expect(await r.client.call('DBSIZE')).toBe(20);
    await r.stop();
  }, 60_000);
});

void freePort;
