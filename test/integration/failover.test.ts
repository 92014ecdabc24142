/**
 * FAILOVER (Redis 6.2+ coordinated failover) as redis-server 7.0.15 runs it:
 * argument errors, the wait for a replica in sync with writes paused, the
 * hand-over through PSYNC ... FAILOVER, TIMEOUT with and without FORCE,
 * ABORT, and a target refusing the PSYNC. Texts checked against 7.0.15.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';
import { err } from '../helpers/expect.js';
import { infoFields, replicaInSync } from '../helpers/info.js';

const started: TestServer[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

async function server(): Promise<TestServer> {
  const s = await startTestServer({ 'repl-ping-replica-period': 3600, 'repl-diskless-sync-delay': 0 });
  started.push(s);
  return s;
}

async function follow(replica: TestServer, master: TestServer): Promise<void> {
  await replica.client().call('REPLICAOF', '127.0.0.1', String(master.port));
  await replicaInSync(master.client(), replica.client(), 5000);
}

/** A replica that acknowledges offset 0 once and then nothing: it never catches up. */
async function fakeReplica(m: TestServer, port: number): Promise<RawClient> {
  const c = await RawClient.connect(m.port);
  c.send('REPLCONF', 'listening-port', String(port));
  c.send('PSYNC', '?', '-1');
  await waitUntil(() => c.buf.includes('+FULLRESYNC'), 3000, 'fullresync');
  c.send('REPLCONF', 'ACK', '0');
  return c;
}

const state = async (s: TestServer) => (await infoFields(s.client(), 'replication')).master_failover_state;
const role = async (s: TestServer) => ((await s.client().call('ROLE')) as unknown[])[0];

describe('FAILOVER', () => {
  it('argument and state errors', async () => {
    const m = await server();
    const r = await server();
    const c = m.client();
    expect(await err(c.call('FAILOVER'))).toBe('ERR FAILOVER requires connected replicas.');
    expect(await err(c.call('FAILOVER', 'ABORT'))).toBe('ERR No failover in progress.');
    expect(await err(c.call('FAILOVER', 'TO', 'a'))).toBe('ERR syntax error');
    expect(await err(c.call('FAILOVER', 'TIMEOUT', '0'))).toBe('ERR FAILOVER timeout must be greater than 0');
    expect(await err(c.call('FAILOVER', 'TIMEOUT', 'x'))).toBe('ERR value is not an integer or out of range');
    expect(await err(c.call('FAILOVER', 'TO', 'h', 'x'))).toBe('ERR value is not an integer or out of range');
    expect(await err(c.call('FAILOVER', 'FORCE', 'FORCE'))).toBe('ERR syntax error');
    await follow(r, m);
    expect(await err(c.call('FAILOVER', 'FORCE', 'TIMEOUT', '100'))).toBe('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    expect(await err(c.call('FAILOVER', 'TO', '127.0.0.1', '1'))).toBe('ERR FAILOVER target HOST and PORT is not a replica.');
    expect(await err(r.client().call('FAILOVER'))).toBe('ERR FAILOVER is not valid when server is a replica.');
    expect(await err(r.client().call('PSYNC', 'abc', '1', 'FAILOVER'))).toBe('ERR PSYNC FAILOVER replid must match my replid.');
    expect(await err(c.call('PSYNC', 'abc', '1', 'FAILOVER'))).toBe("ERR PSYNC FAILOVER can't be sent to a master.");
  });

  it('hands over to the replica in sync: roles swap, the old master continues with PSYNC', async () => {
    const m = await server();
    const r = await server();
    const mc = m.client();
    const rc = r.client();
    await follow(r, m);
    await mc.call('SET', 'k', 'v');
    await replicaInSync(mc, rc, 5000);
    expect(await mc.call('FAILOVER', 'TO', '127.0.0.1', String(r.port))).toBe('OK');
    await waitUntil(async () => (await state(m)) === 'no-failover', 5000, 'failover done');
    expect(await role(m)).toBe('slave');
    expect(await role(r)).toBe('master');
    await replicaInSync(rc, mc, 5000);
    expect((await infoFields(rc, 'stats')).sync_partial_ok).toBe('1');
    expect((await infoFields(rc, 'stats')).sync_full).toBe('0');
    expect(await mc.call('GET', 'k')).toBe('v');
    expect(await err(mc.call('SET', 'k', 'x'))).toBe("READONLY You can't write against a read only replica.");
    expect(await rc.call('SET', 'k', 'w')).toBe('OK');
    expect(m.logs.some((l) => l.includes(`* FAILOVER requested to 127.0.0.1:${r.port}.`))).toBe(true);
    expect(m.logs.some((l) => l.includes(`* Failover target 127.0.0.1:${r.port} is synced, failing over.`))).toBe(true);
    expect(r.logs.some((l) => /# Failover request received for replid [0-9a-f]{40}\.$/.test(l))).toBe(true);
    expect(r.logs.some((l) => /\* MASTER MODE enabled \(failover request from 'id=\d+ addr=127\.0\.0\.1:\d+ .* cmd=psync /.test(l))).toBe(true);
    expect(await mc.call('CONFIG', 'GET', 'replicaof')).toEqual(['replicaof', `127.0.0.1 ${r.port}`]);
    expect(await rc.call('CONFIG', 'GET', 'replicaof')).toEqual(['replicaof', '']);
  });

  it('writes wait while waiting for sync; ABORT ends the failover and releases them', async () => {
    const m = await server();
    const mc = m.client();
    const lagging = await fakeReplica(m, 1234);
    await mc.call('SET', 'x', '1');
    expect(await mc.call('FAILOVER', 'TIMEOUT', '60000')).toBe('OK');
    expect(await state(m)).toBe('waiting-for-sync');
    expect(await err(mc.call('FAILOVER'))).toBe('ERR FAILOVER already in progress.');
    expect(await err(mc.call('REPLICAOF', '127.0.0.1', '1234'))).toBe('ERR REPLICAOF not allowed while failing over.');
    expect(await mc.call('GET', 'x')).toBe('1');
    const writer = m.client();
    let wrote = false;
    const pending = writer.call('SET', 'y', '2').then(() => (wrote = true));
    await new Promise((res) => setTimeout(res, 150));
    expect(wrote).toBe(false);
    expect(await mc.call('FAILOVER', 'ABORT')).toBe('OK');
    expect(await state(m)).toBe('no-failover');
    await pending;
    expect(await mc.call('GET', 'y')).toBe('2');
    expect(await role(m)).toBe('master');
    expect(m.logs.some((l) => l.includes('* FAILOVER to any replica aborted: Failover manually aborted'))).toBe(true);
    lagging.close();
  });

  it('TIMEOUT without FORCE aborts when the replica never catches up; with FORCE it fails over anyway', async () => {
    const m = await server();
    const mc = m.client();
    const lagging = await fakeReplica(m, 1234);
    await mc.call('SET', 'x', '1');
    expect(await mc.call('FAILOVER', 'TO', '127.0.0.1', '1234', 'TIMEOUT', '200')).toBe('OK');
    await waitUntil(async () => (await state(m)) === 'no-failover', 3000, 'aborted');
    expect(await role(m)).toBe('master');
    expect(m.logs.some((l) => l.includes('* FAILOVER to 127.0.0.1:1234 aborted: Replica never caught up before timeout'))).toBe(true);
    expect(await mc.call('SET', 'y', '1')).toBe('OK');

    expect(await mc.call('FAILOVER', 'TO', '127.0.0.1', '1234', 'TIMEOUT', '200', 'FORCE')).toBe('OK');
    await waitUntil(async () => (await state(m)) === 'failover-in-progress', 3000, 'forced');
    expect(m.logs.some((l) => l.includes('* FAILOVER to 127.0.0.1:1234 time out exceeded, failing over.'))).toBe(true);
    // Nothing listens on port 1234: the hand-over cannot complete; ABORT makes it a master again.
    expect(await role(m)).toBe('slave');
    expect(await mc.call('FAILOVER', 'ABORT')).toBe('OK');
    expect(await role(m)).toBe('master');
    expect(await mc.call('SET', 'z', '1')).toBe('OK');
    lagging.close();
  });

  it('a target refusing PSYNC aborts the failover: a master again, the replicas continue', async () => {
    const m = await server();
    const r = await server();
    const mc = m.client();
    await follow(r, m);
    await r.client().call('ACL', 'SETUSER', 'default', '-psync');
    expect(await mc.call('FAILOVER', 'TO', '127.0.0.1', String(r.port))).toBe('OK');
    await waitUntil(async () => (await state(m)) === 'no-failover', 5000, 'aborted');
    expect(m.logs.some((l) => l.includes(`* FAILOVER to 127.0.0.1:${r.port} aborted: Failover target rejected psync request`))).toBe(true);
    expect(await role(m)).toBe('master');
    await r.client().call('ACL', 'SETUSER', 'default', '+psync');
    await replicaInSync(mc, r.client(), 5000);
    expect(await mc.call('SET', 'z', '1')).toBe('OK');
    expect((await infoFields(mc, 'stats')).sync_full).toBe('1');
  });
});
