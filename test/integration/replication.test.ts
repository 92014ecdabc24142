/**
 * The master side of replication (SYNC / PSYNC / REPLCONF): an RDB payload,
 * then the propagated writes as RESP commands, as redis-server 7.0.15 sends
 * them (the bytes below were checked against it). Redis's TCL suite reads
 * this stream (attach_to_replication_stream) to check propagation.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, encode, waitUntil } from '../helpers/raw-client.js';
import { err } from '../helpers/expect.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ 'enable-debug-command': 'yes', 'repl-ping-replica-period': 3600, 'repl-diskless-sync': 'no' });
});
afterAll(async () => {
  await srv.stop();
});

/** Send SYNC (inline, as the TCL harness does) and consume the RDB payload; returns it. */
async function attach(prefix = ''): Promise<{ repl: RawClient; rdb: string }> {
  const repl = await RawClient.connect(srv.port);
  repl.sock.write('SYNC\r\n');
  if (prefix) expect(await repl.read(prefix.length)).toBe(prefix);
  let header = '';
  while (!header.endsWith('\r\n')) header += await repl.read(1);
  expect(header).toMatch(/^\$\d+\r\n$/);
  const rdb = await repl.read(Number(header.slice(1, -2)));
  return { repl, rdb };
}

const cmds = (...argvs: string[][]) => argvs.map(encode).join('');

describe('SYNC: the replication stream', () => {
  it('sends an RDB image, then writes with SELECT and deterministic rewrites', async () => {
    const c = srv.client();
    await c.call('SELECT', '9');
    await c.call('FLUSHALL');
    await c.call('SET', 'pre', 'x');
    const { repl, rdb } = await attach();
    expect(rdb.startsWith('REDIS0010')).toBe(true);
    expect(rdb).toContain('pre');
    await c.call('SET', 'foo', 'bar');
    await c.call('INCRBYFLOAT', 'f', '1.5');
    await c.call('SELECT', '3');
    await c.call('LPUSH', 'l', 'a');
    const expected = cmds(['SELECT', '9'], ['SET', 'foo', 'bar'], ['SET', 'f', '1.5', 'KEEPTTL'], ['SELECT', '3'], ['LPUSH', 'l', 'a']);
    expect(await repl.read(expected.length)).toBe(expected);
    expect(((await c.call('INFO', 'replication')) as string)).toMatch(/connected_slaves:1\r\nslave0:ip=127\.0\.0\.1,port=0,state=online,/);
    repl.close();
    await waitUntil(async () => /connected_slaves:0/.test((await c.call('INFO', 'replication')) as string));
  });

  it('SCAN and RANDOMKEY propagate their lazy-expiry DELs unwrapped (no MULTI/EXEC)', async () => {
    const c = srv.client();
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      for (const cmd of [['SCAN', '0'], ['RANDOMKEY']]) {
        await c.call('FLUSHALL');
        await c.call('SET', 'foo1', 'bar', 'PX', '1');
        await c.call('SET', 'foo2', 'bar', 'PX', '1');
        await new Promise((r) => setTimeout(r, 5));
        const { repl } = await attach();
        await c.call(cmd[0]!, ...cmd.slice(1));
        const got = await repl.read(cmds(['SELECT', '0'], ['DEL', 'foo1'], ['DEL', 'foo2']).length);
        expect(got.startsWith(encode(['SELECT', '0']) + encode(['DEL', 'foo']).slice(0, 14))).toBe(true);
        expect(got).not.toContain('MULTI');
        expect(got).toContain(encode(['DEL', 'foo1']));
        expect(got).toContain(encode(['DEL', 'foo2']));
        expect(await c.call('DBSIZE')).toBe(0);
        repl.close();
      }
    } finally {
      await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });

  it('PSYNC answers FULLRESYNC with the replication ID and offset before the payload', async () => {
    const c = srv.client();
    const info = (await c.call('INFO', 'replication')) as string;
    const replid = /master_replid:(\w+)/.exec(info)![1]!;
    const repl = await RawClient.connect(srv.port);
    repl.send('REPLCONF', 'listening-port', '6380');
    expect(await repl.read(5)).toBe('+OK\r\n');
    repl.send('REPLCONF', 'capa', 'eof', 'capa', 'psync2');
    expect(await repl.read(5)).toBe('+OK\r\n');
    repl.send('PSYNC', '?', '-1');
    let line = '';
    while (!line.endsWith('\r\n')) line += await repl.read(1);
    expect(line).toMatch(new RegExp(`^\\+FULLRESYNC ${replid} \\d+\\r\\n$`));
    let header = '';
    while (!header.endsWith('\r\n')) header += await repl.read(1);
    await repl.read(Number(header.slice(1, -2)));
    expect((await c.call('INFO', 'replication')) as string).toMatch(/slave0:ip=127\.0\.0\.1,port=6380,state=online,/);
    // REPLCONF ACK gets no reply; the next command's reply is the first thing read.
    repl.send('REPLCONF', 'ACK', '0');
    repl.close();
  });

  it('REPLCONF and PSYNC argument errors are Redis\'s', async () => {
    const c = srv.client();
    expect(await err(c.call('REPLCONF', 'foo', 'bar'))).toBe('ERR Unrecognized REPLCONF option: foo');
    expect(await err(c.call('REPLCONF', 'foo'))).toBe('ERR syntax error');
    expect(await c.call('REPLCONF')).toBe('OK');
    expect(await err(c.call('REPLCONF', 'listening-port', 'abc'))).toBe('ERR value is not an integer or out of range');
    expect(await err(c.call('PSYNC', 'a', 'b'))).toBe('ERR value is not an integer or out of range');
    await c.call('MULTI');
    expect(await err(c.call('SYNC'))).toBe('ERR Command not allowed inside a transaction');
    await c.call('DISCARD');
  });
});

describe('REPLICAOF: cacheside as a replica', () => {
  it('syncs the dataset, applies the stream, refuses client writes, and REPLICAOF NO ONE promotes it', async () => {
    const master = srv.client();
    await master.call('SELECT', '0');
    await master.call('FLUSHALL');
    await master.call('SET', 'a', '1');
    await master.call('RPUSH', 'l', 'x', 'y');
    const replica = await startTestServer({});
    try {
      const r = replica.client();
      await r.call('SET', 'local', '1');
      expect(await r.call('REPLICAOF', '127.0.0.1', String(srv.port))).toBe('OK');
      expect(await r.call('REPLICAOF', '127.0.0.1', String(srv.port))).toBe('OK Already connected to specified master');
      await waitUntil(async () => /master_link_status:up/.test((await r.call('INFO', 'replication')) as string), 5000, 'link up');
      expect((await r.call('KEYS', '*')) as string[]).toEqual(expect.arrayContaining(['a', 'l']));
      expect(await r.call('EXISTS', 'local')).toBe(0);
      await master.call('SET', 'b', '2', 'EX', '100');
      await master.call('LPUSH', 'l', 'w');
      await master.call('SELECT', '3');
      await master.call('SET', 'in3', 'v');
      await master.call('SELECT', '0');
      await waitUntil(async () => (await r.call('EXISTS', 'b')) === 1, 3000, 'b replicated');
      expect(await r.call('LRANGE', 'l', '0', '-1')).toEqual(['w', 'x', 'y']);
      expect(await r.call('TTL', 'b')).toBeGreaterThan(90);
      await r.call('SELECT', '3');
      await waitUntil(async () => (await r.call('GET', 'in3')) === 'v', 3000, 'db 3 replicated');
      expect(await err(r.call('SET', 'x', '1'))).toBe("READONLY You can't write against a read only replica.");
      const role = (await r.call('ROLE')) as unknown[];
      expect(role.slice(0, 4)).toEqual(['slave', '127.0.0.1', srv.port, 'connected']);
      expect((await master.call('ROLE')) as unknown[]).toEqual(['master', expect.any(Number), [['127.0.0.1', String(replica.port), expect.any(String)]]]);
      expect(await r.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
      expect(await r.call('SET', 'x', '1')).toBe('OK');
      expect((await r.call('ROLE')) as unknown[]).toEqual(['master', expect.any(Number), []]);
    } finally {
      await replica.stop();
    }
  });

  it('a replica whose link is down: READONLY, MASTERDOWN with replica-serve-stale-data no, EXECABORT for EXEC', async () => {
    const replica = await startTestServer({});
    try {
      const r = replica.client();
      const r1 = replica.client();
      await r.call('SET', 'xx', '1');
      await r.call('CONFIG', 'SET', 'replica-serve-stale-data', 'no');
      await r.call('MULTI');
      await r.call('GET', 'xx');
      // port 1 on localhost: nothing listens, the link stays down
      expect(await r1.call('REPLICAOF', '127.0.0.1', '1')).toBe('OK');
      expect(await err(r.call('EXEC'))).toBe("EXECABORT Transaction discarded because of: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
      expect(await err(r.call('PING'))).toBe("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
      expect((await r.call('ROLE')) as unknown[]).toEqual(['slave', '127.0.0.1', 1, expect.stringMatching(/^connect/), -1]);
      await r.call('CONFIG', 'SET', 'replica-serve-stale-data', 'yes');
      expect(await r.call('GET', 'xx')).toBe('1');
      expect(await err(r.call('SET', 'xx', '2'))).toBe("READONLY You can't write against a read only replica.");
      expect(await err(r1.call('REPLICAOF', '127.0.0.1', 'abc'))).toBe('ERR Invalid master port');
      expect(await r1.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
      expect(await r.call('SET', 'xx', '2')).toBe('OK');
    } finally {
      await replica.stop();
    }
  });

  it('min-replicas-to-write: NOREPLICAS for writes, EXECABORT when it changes under a transaction', async () => {
    const c = srv.client();
    const c1 = srv.client();
    await c.call('SET', 'xx', '1');
    await c.call('MULTI');
    await c.call('INCR', 'xx');
    await c1.call('CONFIG', 'SET', 'min-replicas-to-write', '2');
    try {
      expect(await err(c.call('EXEC'))).toBe('EXECABORT Transaction discarded because of: NOREPLICAS Not enough good replicas to write.');
      expect(await err(c.call('SET', 'xx', '5'))).toBe('NOREPLICAS Not enough good replicas to write.');
      expect(await c.call('GET', 'xx')).toBe('1');
    } finally {
      await c1.call('CONFIG', 'SET', 'min-replicas-to-write', '0');
    }
    // A refused EXEC (here: arity) discards the transaction.
    await c.call('MULTI');
    expect(await err(c.call('EXEC', 'foo'))).toBe("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command");
    expect(await err(c.call('EXEC'))).toBe('ERR EXEC without MULTI');
  });
});
