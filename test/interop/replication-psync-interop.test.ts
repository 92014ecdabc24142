/**
 * Partial resynchronization against real redis-server 7.0: a real replica of
 * cacheside does a full sync, then after its link is killed continues with
 * +CONTINUE (counted in our sync_partial_ok); cacheside as a replica of a
 * real master continues the same way (counted in Redis's sync_partial_ok).
 * In both directions the offsets and replication IDs agree byte for byte.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startRedis, stopAllRedis, type RedisProc } from '../helpers/redis-proc.js';
import { waitUntil } from '../helpers/raw-client.js';
import { infoFields, replicaInSync } from '../helpers/info.js';
import { rawCommand } from '../helpers/spawn-server.js';
import { spawn, type ChildProcess } from 'node:child_process';

let ours: TestServer | null = null;
let real: RedisProc | null = null;
let restarted: ChildProcess | null = null;
afterEach(async () => {
  if (restarted !== null && restarted.exitCode === null) {
    restarted.kill('SIGKILL');
    await new Promise((r) => restarted!.once('exit', r));
  }
  restarted = null;
  await ours?.stop();
  ours = null;
  await real?.stop();
  real = null;
  await stopAllRedis();
});

const inSync = (master: Redis, replica: Redis): Promise<void> => replicaInSync(master, replica, 15_000);

const syncStats = async (c: Redis): Promise<string[]> => {
  const s = await infoFields(c, 'stats');
  return [s.sync_full!, s.sync_partial_ok!, s.sync_partial_err!];
};

describe('PSYNC interop with redis-server 7.0', () => {
  it('a real replica of cacheside: full sync, then +CONTINUE after CLIENT KILL TYPE replica', async () => {
    ours = await startTestServer({ 'repl-ping-replica-period': 1, 'repl-diskless-sync-delay': 0 });
    const mc = ours.client();
    await mc.call('SET', 'a', '1');
    await mc.call('RPUSH', 'l', 'x', 'y');
    real = await startRedis(mkdtempSync(join(tmpdir(), 'psync-')), ['--replicaof', '127.0.0.1', String(ours.port)]);
    const rc = real.client;
    await inSync(mc, rc);
    expect(await rc.call('LRANGE', 'l', '0', '-1')).toEqual(['x', 'y']);
    expect((await syncStats(mc))[0]).toBe('1');
    await mc.call('SELECT', '3');
    await mc.call('SET', 'b', '2', 'EX', '1000');
    await inSync(mc, rc);

    expect(await mc.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    await mc.call('INCRBYFLOAT', 'f', '1.5');
    await mc.call('HSET', 'h', 'k', 'v');
    await inSync(mc, rc);
    const [full, ok] = await syncStats(mc);
    expect([full, ok]).toEqual(['1', '1']);
    await rc.call('SELECT', '3');
    expect(await rc.call('GET', 'f')).toBe('1.5');
    expect(await rc.call('HGET', 'h', 'k')).toBe('v');
    expect(await rc.call('TTL', 'b')).toBeGreaterThan(900);
    // The real replica's acknowledgements reach our offset; WAIT counts it.
    await mc.call('SET', 'w', '1');
    expect(await mc.call('WAIT', '1', '5000')).toBe(1);
    const mi = await infoFields(mc, 'replication');
    expect(mi.slave0).toMatch(new RegExp(`^ip=127\\.0\\.0\\.1,port=${real.port},state=online,offset=\\d+,lag=\\d+$`));
  });

  it('cacheside as a replica of a real master: +CONTINUE after the master kills the link', async () => {
    real = await startRedis(mkdtempSync(join(tmpdir(), 'psync-')), ['--repl-diskless-sync-delay', '0']);
    const mc = real.client;
    await mc.call('SET', 'a', '1');
    ours = await startTestServer({});
    const rc = ours.client();
    expect(await rc.call('REPLICAOF', '127.0.0.1', String(real.port))).toBe('OK');
    await inSync(mc, rc);
    expect(await rc.call('GET', 'a')).toBe('1');
    await mc.call('SELECT', '2');
    await mc.call('ZADD', 'z', '1', 'm');
    await inSync(mc, rc);
    const before = await syncStats(mc);

    expect(await mc.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    await mc.call('SET', 'during', 'x');
    await inSync(mc, rc);
    const after = await syncStats(mc);
    expect(Number(after[0])).toBe(Number(before[0]));
    expect(Number(after[1])).toBe(Number(before[1]) + 1);
    await rc.call('SELECT', '2');
    expect(await rc.call('GET', 'during')).toBe('x');
    expect(await rc.call('ZSCORE', 'z', 'm')).toBe('1');
    // WAIT on the real master counts our acknowledgement (REPLCONF GETACK → ACK).
    await mc.call('SET', 'w', '1');
    expect(await mc.call('WAIT', '1', '5000')).toBe(1);
    const mi = await infoFields(mc, 'replication');
    await waitUntil(async () => {
      const m = await infoFields(mc, 'replication');
      return new RegExp(`offset=${m.master_repl_offset},`).test(m.slave0 ?? '');
    }, 3000, 'our ACK reaches the master offset');
    expect(mi.connected_slaves).toBe('1');
  });

  it('cacheside as a replica of a real master restarted with its RDB: +CONTINUE on the new process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psync-'));
    real = await startRedis(dir, ['--repl-diskless-sync-delay', '0']);
    const port = real.port;
    await real.client.call('SET', 'a', '1');
    ours = await startTestServer({});
    const rc = ours.client();
    await rc.call('REPLICAOF', '127.0.0.1', String(port));
    await inSync(real.client, rc);
    const before = await infoFields(rc, 'replication');
    // SHUTDOWN saves the replication ID and offset in the RDB; the new process continues from them.
    await real.client.call('SHUTDOWN', 'SAVE').catch(() => {});
    real.client.disconnect();
    real = null;
    await waitUntil(async () => (await infoFields(rc, 'replication')).master_link_status === 'down', 5000, 'link down');
    restarted = spawn('redis-server', ['--port', String(port), '--dir', dir, '--save', '', '--repl-diskless-sync-delay', '0'], { stdio: 'ignore' });
    await waitUntil(async () => (await rawCommand(port, ['PING']).catch(() => '')) === '+PONG', 10_000, 'redis restarted');
    const { Redis: IORedis } = await import('ioredis');
    const mc = new IORedis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await mc.call('SET', 'b', '2');
      await inSync(mc, rc);
      expect(await syncStats(mc)).toEqual(['0', '1', '0']);
      expect(await rc.call('GET', 'b')).toBe('2');
      const ri = await infoFields(rc, 'replication');
      expect(ri.master_replid).not.toBe(before.master_replid);
      expect(ri.master_replid2).toBe(before.master_replid);
      await mc.call('SHUTDOWN', 'NOSAVE').catch(() => {});
    } finally {
      mc.disconnect();
    }
  });
});
