/**
 * Partial resynchronization (PSYNC with a replication backlog), Redis 7.0
 * semantics: a replica that lost its link continues from its offset
 * (+CONTINUE), an offset the backlog no longer holds gets a full resync, a
 * promoted replica keeps its old ID as replid2 so that its siblings continue
 * from it, and WAIT counts the replicas that acknowledged the stream.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';
import { err } from '../helpers/expect.js';
import { infoFields, replicaInSync } from '../helpers/info.js';
import type { Redis } from 'ioredis';

const started: TestServer[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

async function server(directives: Record<string, string | number> = {}): Promise<TestServer> {
  const s = await startTestServer({ 'repl-ping-replica-period': 3600, 'repl-diskless-sync-delay': 0, ...directives });
  started.push(s);
  return s;
}

/** `replica` follows `master` and has applied everything the master sent so far. */
const inSync = (master: Redis, replica: Redis): Promise<void> => replicaInSync(master, replica, 5000);

async function follow(replica: TestServer, master: TestServer): Promise<void> {
  expect(await replica.client().call('REPLICAOF', '127.0.0.1', String(master.port))).toBe('OK');
  await inSync(master.client(), replica.client());
}

describe('PSYNC: partial resynchronization', () => {
  it('a replica whose link is killed continues with +CONTINUE and gets the writes made meanwhile', async () => {
    const m = await server();
    const r = await server();
    const mc = m.client();
    const rc = r.client();
    await mc.call('SET', 'before', '1');
    const fresh = await infoFields(mc, 'replication');
    expect(fresh.repl_backlog_active).toBe('0');
    expect(fresh.master_repl_offset).toBe('0');
    await follow(r, m);
    let mi = await infoFields(mc, 'replication');
    expect(mi.repl_backlog_active).toBe('1');
    // The backlog is created with the first replica, and a new replication ID with it.
    expect(mi.master_replid).not.toBe(fresh.master_replid);
    expect(mi.connected_slaves).toBe('1');
    expect(mi.slave0).toMatch(new RegExp(`^ip=127\\.0\\.0\\.1,port=${r.port},state=online,offset=\\d+,lag=\\d+$`));
    await mc.call('SET', 'k1', 'v1');
    await mc.call('SELECT', '2');
    await mc.call('RPUSH', 'list', 'a', 'b');
    await inSync(mc, rc);
    mi = await infoFields(mc, 'replication');
    // SELECT 2 + RPUSH + SELECT 0 + SET: every byte is counted, and held by the backlog.
    expect(Number(mi.master_repl_offset)).toBeGreaterThan(0);
    expect(mi.repl_backlog_first_byte_offset).toBe('1');
    expect(mi.repl_backlog_histlen).toBe(mi.master_repl_offset);
    expect(await mc.call('CLIENT', 'LIST', 'TYPE', 'replica')).toMatch(/ flags=S /);

    expect(await mc.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    await mc.call('SET', 'during', 'x');
    await mc.call('SELECT', '0');
    await mc.call('INCR', 'counter');
    await inSync(mc, rc);
    expect(await rc.call('GET', 'during')).toBe(null); // written in db 2
    await rc.call('SELECT', '2');
    expect(await rc.call('GET', 'during')).toBe('x');
    expect(await rc.call('LRANGE', 'list', '0', '-1')).toEqual(['a', 'b']);
    await rc.call('SELECT', '0');
    expect(await rc.call('GET', 'counter')).toBe('1');
    expect(await rc.call('GET', 'before')).toBe('1');
    const stats = await infoFields(mc, 'stats');
    // The first sync: a fresh server offers its own (unknown) history first, a partial_err as with Redis.
    expect([stats.sync_full, stats.sync_partial_ok, stats.sync_partial_err]).toEqual(['1', '1', '1']);
    expect(r.logs.some((l) => l.includes('Successful partial resynchronization with master.'))).toBe(true);
    expect(m.logs.some((l) => /Partial resynchronization request from .* accepted\. Sending \d+ bytes of backlog starting from offset \d+\./.test(l))).toBe(true);
    const ri = await infoFields(rc, 'replication');
    expect(ri.role).toBe('slave');
    expect(ri.slave_repl_offset).toBe(ri.master_repl_offset);
    expect(ri.slave_read_repl_offset).toBe(ri.master_repl_offset);
    expect(ri.repl_backlog_active).toBe('1');
    expect(await mc.call('CONFIG', 'RESETSTAT')).toBe('OK');
    const reset = await infoFields(mc, 'stats');
    expect([reset.sync_full, reset.sync_partial_ok, reset.sync_partial_err]).toEqual(['0', '0', '0']);
  });

  it('REPLCONF GETACK is answered with the offset before it; WAIT counts acknowledged replicas', async () => {
    const m = await server();
    const r = await server();
    const mc = m.client();
    await follow(r, m);
    await mc.call('SET', 'a', '1');
    expect(await mc.call('WAIT', '1', '0')).toBe(1);
    const t = Date.now();
    expect(await mc.call('WAIT', '2', '150')).toBe(1);
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    // The GETACK itself is in the stream: the replica acknowledged the offset before it.
    const mi = await infoFields(mc, 'replication');
    const getack = '*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n'.length;
    const acked = Number(/offset=(\d+)/.exec(mi.slave0!)![1]);
    expect([Number(mi.master_repl_offset), Number(mi.master_repl_offset) - getack]).toContain(acked);
    expect(await err(mc.call('WAIT', '1', '-1'))).toBe('ERR timeout is negative');
    expect(await err(mc.call('WAIT', '1', 'x'))).toBe('ERR timeout is not an integer or out of range');
    expect(await err(mc.call('WAIT', 'x', '0'))).toBe('ERR value is not an integer or out of range');
    expect(await err(r.client().call('WAIT', '0', '0'))).toMatch(/^ERR WAIT cannot be used with replica instances\./);
  });

  it('an offset the backlog no longer holds, or an unknown ID, gets a full resync (sync_partial_err)', async () => {
    const m = await server({ 'repl-backlog-size': '16kb' });
    const r = await server();
    const mc = m.client();
    const rc = r.client();
    await follow(r, m);
    const big = 'x'.repeat(1000);
    await mc.call('SET', 'k0', big);
    await inSync(mc, rc);
    let mi = await infoFields(mc, 'replication');
    const replid = mi.master_replid!;
    const off = Number(mi.master_repl_offset);

    // Raw PSYNCs: at the end of the stream (nothing to send), inside, before the backlog, another ID.
    const psync = async (id: string, offset: number): Promise<string> => {
      const c = await RawClient.connect(m.port);
      c.send('REPLCONF', 'capa', 'eof', 'capa', 'psync2');
      expect(await c.read(5)).toBe('+OK\r\n');
      c.send('PSYNC', id, String(offset));
      let line = '';
      while (!line.endsWith('\r\n')) line += await c.read(1);
      if (line.startsWith('+CONTINUE')) line += await c.read(off + 1 - offset);
      c.close();
      return line;
    };
    expect(await psync(replid, off + 1)).toBe(`+CONTINUE ${replid}\r\n`);
    expect(await psync(replid, off - 2)).toBe(`+CONTINUE ${replid}\r\n` + big.slice(-1) + '\r\n');
    expect(await psync(replid, off + 2)).toMatch(new RegExp(`^\\+FULLRESYNC ${replid} \\d+\\r\\n$`));
    expect(await psync('0123456789012345678901234567890123456789', 1)).toMatch(/^\+FULLRESYNC /);
    expect(await psync('?', -1)).toMatch(/^\+FULLRESYNC /);
    let stats = await infoFields(mc, 'stats');
    expect([stats.sync_full, stats.sync_partial_ok, stats.sync_partial_err]).toEqual(['4', '2', '3']);

    // The link drops and more than the backlog is written meanwhile: a full resync.
    await inSync(mc, rc);
    await waitUntil(async () => (await infoFields(mc, 'replication')).connected_slaves === '1', 3000, 'raw replicas gone');
    expect(await mc.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    const p = mc.pipeline();
    for (let i = 1; i <= 40; i++) p.set(`k${i}`, big);
    await p.exec();
    mi = await infoFields(mc, 'replication');
    expect(mi.repl_backlog_histlen).toBe(String(16 * 1024));
    expect(Number(mi.repl_backlog_first_byte_offset)).toBeGreaterThan(off + 1);
    await inSync(mc, rc);
    expect(await rc.call('DBSIZE')).toBe(41);
    stats = await infoFields(mc, 'stats');
    expect([stats.sync_full, stats.sync_partial_ok, stats.sync_partial_err]).toEqual(['5', '2', '4']);
    expect(m.logs.some((l) => l.includes('for lack of backlog'))).toBe(true);
  });

  it('a promoted replica keeps the old ID as replid2: its sibling and the old master continue partially', async () => {
    const m = await server();
    const r1 = await server();
    const r2 = await server();
    const mc = m.client();
    const c1 = r1.client();
    const c2 = r2.client();
    await follow(r1, m);
    await follow(r2, m);
    await mc.call('SET', 'a', '1');
    await mc.call('SELECT', '5');
    await mc.call('SET', 'in5', 'v');
    await inSync(mc, c1);
    await inSync(mc, c2);
    const old = await infoFields(mc, 'replication');

    expect(await c1.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    const promoted = await infoFields(c1, 'replication');
    expect(promoted.role).toBe('master');
    expect(promoted.master_replid2).toBe(old.master_replid);
    expect(promoted.second_repl_offset).toBe(String(Number(old.master_repl_offset) + 1));
    expect(promoted.master_replid).not.toBe(old.master_replid);
    expect(promoted.master_repl_offset).toBe(old.master_repl_offset);
    expect(promoted.repl_backlog_active).toBe('1');

    // The sibling moves to the promoted replica and continues from its offset.
    expect(await c2.call('REPLICAOF', '127.0.0.1', String(r1.port))).toBe('OK');
    await inSync(c1, c2);
    let s1 = await infoFields(c1, 'stats');
    expect([s1.sync_full, s1.sync_partial_ok, s1.sync_partial_err]).toEqual(['0', '1', '0']);
    const sib = await infoFields(c2, 'replication');
    expect(sib.master_replid).toBe(promoted.master_replid);
    expect(sib.master_replid2).toBe(old.master_replid);
    expect(sib.second_repl_offset).toBe(promoted.second_repl_offset);
    await c1.call('SET', 'after', 'promotion');
    await waitUntil(async () => (await c2.call('GET', 'after')) === 'promotion', 3000, 'write on the new master');
    await c2.call('SELECT', '5');
    expect(await c2.call('GET', 'in5')).toBe('v');

    // The old master, with no writes since, turns replica of the promoted one: partial too.
    expect(await mc.call('REPLICAOF', '127.0.0.1', String(r1.port))).toBe('OK');
    await inSync(c1, mc);
    s1 = await infoFields(c1, 'stats');
    expect([s1.sync_full, s1.sync_partial_ok, s1.sync_partial_err]).toEqual(['0', '2', '0']);
    await mc.call('SELECT', '0');
    expect(await mc.call('GET', 'after')).toBe('promotion');
  });

  it('a replica of a replica gets the master\'s stream byte for byte (same offsets, same ID)', async () => {
    const m = await server();
    const r1 = await server();
    const r2 = await server();
    const mc = m.client();
    await follow(r1, m);
    await follow(r2, r1);
    await mc.call('SET', 'x', '1');
    await mc.call('HSET', 'h', 'f', 'v');
    await inSync(mc, r2.client());
    expect(await r2.client().call('HGET', 'h', 'f')).toBe('v');
    // The middle replica's link drops: both continue (the chain keeps the master's offsets).
    expect(await mc.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    await mc.call('SET', 'y', '2');
    await inSync(mc, r1.client());
    await inSync(mc, r2.client());
    expect(await r2.client().call('GET', 'y')).toBe('2');
    expect((await infoFields(mc, 'stats')).sync_partial_ok).toBe('1');
  });

  it('the backlog is freed repl-backlog-ttl seconds after the last replica left, with a new replication ID', async () => {
    const m = await server({ 'repl-backlog-ttl': 1 });
    const r = await server();
    const mc = m.client();
    await follow(r, m);
    const before = await infoFields(mc, 'replication');
    expect(await r.client().call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    await waitUntil(async () => (await infoFields(mc, 'replication')).repl_backlog_active === '0', 4000, 'backlog freed');
    const after = await infoFields(mc, 'replication');
    expect(after.master_replid).not.toBe(before.master_replid);
    expect(after.master_repl_offset).toBe(before.master_repl_offset);
  });
});
