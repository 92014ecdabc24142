/**
 * The background job's placeholder child process (child-proxy.ts) and the
 * AOF rewrite bookkeeping Redis's TCL suite checks: killing the "fork child"
 * with a signal fails the job as in Redis, INFO total_forks, the history
 * order with aof-disable-auto-gc, the rewrite limit after repeated failures,
 * the temp incr file of a failed first rewrite, DEBUG AOF-FLUSH-SLEEP.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { infoFields } from '../helpers/info.js';
import { persistenceInfo as info, serversPerTest, tempDir, until } from '../helpers/persistence.js';
import { persistenceOf } from '../../src/persistence/persistence.js';
import type { TestServer } from '../helpers/server.js';

const { start } = serversPerTest({ 'enable-debug-command': 'yes' });

const manifest = (dir: string) => fs.readFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
const rewriteDone = (c: Redis) => until(async () => (await info(c)).aof_rewrite_in_progress === '0');
const forks = async (c: Redis) => Number((await infoFields(c, 'stats')).total_forks);

/** The placeholder child's pid (what `pgrep -P <server pid>` finds for a redis-server). */
function childPid(s: TestServer): number {
  const pid = persistenceOf(s.engine).child?.proxy?.pid ?? 0;
  expect(pid).toBeGreaterThan(0);
  return pid;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the placeholder child process', () => {
  it('kill -9 of a BGREWRITEAOF child: the rewrite fails (signal 9), a later one succeeds', async () => {
    const dir = tempDir('aofchild');
    const s = await start({ dir, appendonly: 'yes', 'rdb-key-save-delay': 1_000_000 });
    const c = s.client();
    await c.call('SET', 'k', 'v');
    expect(await forks(c)).toBe(0);
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    expect(await forks(c)).toBe(1);
    const pid = childPid(s);
    expect(alive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await rewriteDone(c);
    const i = await info(c);
    expect(i.aof_last_bgrewrite_status).toBe('err');
    expect(i.aof_rewrites_consecutive_failures).toBe('1');
    expect(s.logs.some((l) => l.endsWith('# Background AOF rewrite terminated by signal 9'))).toBe(true);
    expect(manifest(dir)).toBe('file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n');
    // A rewrite that ends normally: its placeholder is gone too, and the status is ok again.
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', 0);
    await c.call('BGREWRITEAOF');
    const pid2 = childPid(s);
    await rewriteDone(c);
    expect((await info(c)).aof_last_bgrewrite_status).toBe('ok');
    expect(await forks(c)).toBe(2);
    await until(async () => !alive(pid2));
  });

  it('kill -9 of a BGSAVE child: "Background saving terminated by signal 9", rdb_last_bgsave_status err', async () => {
    const dir = tempDir('aofchild');
    const s = await start({ dir, 'rdb-key-save-delay': 1_000_000 });
    const c = s.client();
    await c.call('SET', 'k', 'v');
    expect(await c.call('BGSAVE')).toBe('Background saving started');
    process.kill(childPid(s), 'SIGKILL');
    await until(async () => (await info(c)).rdb_bgsave_in_progress === '0');
    expect((await info(c)).rdb_last_bgsave_status).toBe('err');
    expect(s.logs.some((l) => l.endsWith('# Background saving terminated by signal 9'))).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('temp-'))).toEqual([]);
  });
});

describe('AOF rewrite bookkeeping', () => {
  it('aof-disable-auto-gc keeps history files, newest first; turning it off deletes them', async () => {
    const dir = tempDir('aofgc');
    const s = await start({ dir, appendonly: 'yes', 'aof-disable-auto-gc': 'yes' });
    const c = s.client();
    await c.call('BGREWRITEAOF');
    await rewriteDone(c);
    await c.call('BGREWRITEAOF');
    await rewriteDone(c);
    expect(manifest(dir)).toBe(
      'file appendonly.aof.3.base.rdb seq 3 type b\n' +
        'file appendonly.aof.2.incr.aof seq 2 type h\n' +
        'file appendonly.aof.2.base.rdb seq 2 type h\n' +
        'file appendonly.aof.1.incr.aof seq 1 type h\n' +
        'file appendonly.aof.1.base.rdb seq 1 type h\n' +
        'file appendonly.aof.3.incr.aof seq 3 type i\n',
    );
    expect(fs.existsSync(path.join(dir, 'appendonlydir', 'appendonly.aof.1.base.rdb'))).toBe(true);
    await c.call('CONFIG', 'SET', 'aof-disable-auto-gc', 'no');
    expect(manifest(dir)).toBe('file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n');
    expect(fs.existsSync(path.join(dir, 'appendonlydir', 'appendonly.aof.1.base.rdb'))).toBe(false);
  });

  it('three failed rewrites: the automatic rewrite logs the limit and waits; BGREWRITEAOF still runs', async () => {
    const dir = tempDir('aoflimit');
    const s = await start({ dir, appendonly: 'yes', 'rdb-key-save-delay': 1_000_000 });
    const c = s.client();
    await c.call('SET', 'k', 'v');
    for (let i = 0; i < 3; i++) {
      await c.call('BGREWRITEAOF');
      process.kill(childPid(s), 'SIGKILL');
      await rewriteDone(c);
    }
    expect((await info(c)).aof_rewrites_consecutive_failures).toBe('3');
    await c.call('CONFIG', 'SET', 'auto-aof-rewrite-percentage', 1, 'auto-aof-rewrite-min-size', 1024);
    await c.call('SET', 'x', 'x'.repeat(1024));
    const limit = 'Background AOF rewrite has repeatedly failed and triggered the limit, will retry in 1 minutes';
    await until(async () => s.logs.some((l) => l.endsWith(`# ${limit}`)));
    expect((await info(c)).aof_rewrite_in_progress).toBe('0');
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', 0, 'auto-aof-rewrite-percentage', 0);
    expect(await c.call('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await rewriteDone(c);
    expect((await info(c)).aof_rewrites_consecutive_failures).toBe('0');
  });

  it('a failed first rewrite after CONFIG SET appendonly yes removes its temp incr file', async () => {
    const dir = tempDir('aoftemp');
    const s = await start({ dir, 'rdb-key-save-delay': 1_000_000 });
    const c = s.client();
    await c.call('SET', 'k', 'v');
    await c.call('CONFIG', 'SET', 'appendonly', 'yes');
    expect((await info(c)).aof_rewrite_in_progress).toBe('1');
    process.kill(childPid(s), 'SIGKILL');
    const line = '* Removing the temp incr aof file temp-appendonly.aof.incr in the background';
    await until(async () => s.logs.some((l) => l.endsWith(line)));
    // The first rewrite is retried (a new temp incr file), and no manifest nor base exists until one succeeds.
    await until(async () => (await forks(c)) === 2 && (await info(c)).aof_rewrite_in_progress === '1');
    expect(fs.existsSync(path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'appendonlydir', 'appendonly.aof.1.base.rdb'))).toBe(false);
  });
});

describe('DEBUG AOF-FLUSH-SLEEP', () => {
  it('sleeps before each AOF write; 0 turns it off', async () => {
    const dir = tempDir('aofsleep');
    const s = await start({ dir, appendonly: 'yes' });
    const c = s.client();
    expect(await c.call('DEBUG', 'AOF-FLUSH-SLEEP', 300_000)).toBe('OK');
    let t = performance.now();
    await c.call('SET', 'a', '1');
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    // Reads write nothing to the AOF: no sleep.
    t = performance.now();
    await c.call('GET', 'a');
    expect(performance.now() - t).toBeLessThan(250);
    expect(await c.call('DEBUG', 'AOF-FLUSH-SLEEP', 0)).toBe('OK');
    t = performance.now();
    await c.call('SET', 'a', '2');
    expect(performance.now() - t).toBeLessThan(250);
    await expect(c.call('DEBUG', 'aof-flush-sleep')).rejects.toThrow(
      "ERR unknown subcommand or wrong number of arguments for 'aof-flush-sleep'. Try DEBUG HELP.",
    );
  });
});
