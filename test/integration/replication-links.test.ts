/**
 * The replication links as Redis 7.0.15 runs them (texts checked against
 * redis-server 7.0.15): the master link is a client of the replica (CLIENT
 * LIST flags=M, CLIENT KILL then PSYNC +CONTINUE), clients blocked when a
 * master turns replica get -UNBLOCKED, repl-timeout on both sides, a
 * diskless full sync that waits for more replicas, offsets of a stream cut
 * anywhere, min-replicas-to-write in scripts, and DEBUG REPLICATE.
 */
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, afterEach } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, encode, waitUntil } from '../helpers/raw-client.js';
import { err } from '../helpers/expect.js';
import { infoFields, replicaInSync } from '../helpers/info.js';
import { RdbEncoder } from '../../src/persistence/rdb-encoder.js';

const started: TestServer[] = [];
const fakes: net.Server[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
  for (const f of fakes.splice(0)) await new Promise<void>((r) => f.close(() => r()));
});

async function server(directives: Record<string, string | number> = {}): Promise<TestServer> {
  const s = await startTestServer({ 'repl-ping-replica-period': 3600, 'repl-diskless-sync-delay': 0, 'enable-debug-command': 'yes', ...directives });
  started.push(s);
  return s;
}

async function follow(replica: TestServer, master: TestServer): Promise<void> {
  expect(await replica.client().call('REPLICAOF', '127.0.0.1', String(master.port))).toBe('OK');
  await replicaInSync(master.client(), replica.client(), 5000);
}

/**
 * A scripted master on a free port: `onCommand(argv, sock)` sees each command
 * the replica sends (RESP commands, as their arguments).
 */
async function fakeMaster(onCommand: (argv: string[], sock: net.Socket) => void): Promise<number> {
  const srv = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (m === null) return;
        let at = m[0].length;
        const argv: string[] = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const h = /^\$(\d+)\r\n/.exec(buf.slice(at));
          if (h === null) return;
          const len = Number(h[1]);
          if (buf.length < at + h[0].length + len + 2) return;
          argv.push(buf.slice(at + h[0].length, at + h[0].length + len));
          at += h[0].length + len + 2;
        }
        buf = buf.slice(at);
        onCommand(argv, sock);
      }
    });
  });
  fakes.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return (srv.address() as net.AddressInfo).port;
}

function emptyRdb(): Buffer {
  const enc = new RdbEncoder({ compress: false, checksum: true, listMaxListpackSize: -2 });
  enc.header(10);
  enc.eof();
  return Buffer.concat(enc.take());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the master link is a client of the replica', () => {
  it('CLIENT LIST shows it (flags=M), CLIENT KILL closes it, and the replica continues with PSYNC', async () => {
    const m = await server();
    const r = await server();
    const mc = m.client();
    const rc = r.client();
    await follow(r, m);
    await mc.call('SET', 'k', 'v1');
    await replicaInSync(mc, rc, 5000);
    const line = (await rc.call('CLIENT', 'LIST', 'TYPE', 'master')) as string;
    expect(line).toMatch(new RegExp(`^id=\\d+ addr=127\\.0\\.0\\.1:${m.port} laddr=127\\.0\\.0\\.1:\\d+ fd=\\d+ name= age=\\d+ idle=\\d+ flags=M db=0 `));
    expect(line).toMatch(/ cmd=set user=\(superuser\) redir=-1 resp=2\n$/);
    expect(line.split('\n').length).toBe(2);
    // The replica counts its master link as a client; the master does not count its replica.
    const lines = async (c: typeof rc) => ((await c.call('CLIENT', 'LIST')) as string).trim().split('\n');
    const rLines = await lines(rc);
    expect(rLines.filter((l) => / flags=M /.test(l))).toHaveLength(1);
    expect((await infoFields(rc, 'clients')).connected_clients).toBe(String(rLines.length));
    const mLines = await lines(mc);
    expect(mLines.filter((l) => / flags=S /.test(l))).toHaveLength(1);
    expect((await infoFields(mc, 'clients')).connected_clients).toBe(String(mLines.length - 1));

    const okBefore = Number((await infoFields(mc, 'stats')).sync_partial_ok);
    expect(await rc.call('CLIENT', 'KILL', `127.0.0.1:${m.port}`)).toBe('OK');
    expect((await infoFields(rc, 'replication')).master_link_status).toBe('down');
    await mc.call('SET', 'k', 'v2');
    await replicaInSync(mc, rc, 5000);
    expect(await rc.call('GET', 'k')).toBe('v2');
    expect(Number((await infoFields(mc, 'stats')).sync_partial_ok)).toBe(okBefore + 1);

    // CLIENT KILL TYPE master, inside MULTI with a DEBUG SLEEP as the TCL suite does.
    await rc.call('MULTI');
    await rc.call('CLIENT', 'KILL', 'TYPE', 'master');
    await rc.call('DEBUG', 'SLEEP', '0.2');
    expect(await rc.call('EXEC')).toEqual([1, 'OK']);
    await mc.call('SET', 'k', 'v3');
    await replicaInSync(mc, rc, 5000);
    expect(await rc.call('GET', 'k')).toBe('v3');
    expect(Number((await infoFields(mc, 'stats')).sync_partial_ok)).toBe(okBefore + 2);
    expect(Number((await infoFields(mc, 'stats')).sync_full)).toBe(1);
  });

  it('counts the stream offset right when commands arrive cut in pieces', async () => {
    const rdb = emptyRdb();
    let sock: net.Socket | null = null;
    const port = await fakeMaster((argv, s) => {
      const cmd = argv[0]!.toUpperCase();
      if (cmd === 'PING') s.write('+PONG\r\n');
      else if (cmd === 'REPLCONF' && argv[1]!.toUpperCase() !== 'ACK') s.write('+OK\r\n');
      else if (cmd === 'PSYNC') {
        s.write(`+FULLRESYNC ${'a'.repeat(40)} 100\r\n$${rdb.length}\r\n`);
        s.write(rdb);
        sock = s;
      }
    });
    const r = await server();
    const rc = r.client();
    await rc.call('REPLICAOF', '127.0.0.1', String(port));
    await waitUntil(async () => (await infoFields(rc, 'replication')).master_link_status === 'up', 5000, 'link up');
    const stream = encode(['SELECT', '3']) + encode(['SET', 'key', 'x'.repeat(100)]) + encode(['RPUSH', 'list', 'a', 'b', 'c']);
    // Pieces that end inside the header, inside an argument, and right after a complete argument.
    for (const cut of [2, 9, 30, 55, 80, stream.length - 3, stream.length]) {
      const prev = [2, 9, 30, 55, 80, stream.length - 3, stream.length].filter((c) => c < cut).pop() ?? 0;
      sock!.write(Buffer.from(stream.slice(prev, cut), 'latin1'));
      await sleep(20);
    }
    await waitUntil(async () => (await infoFields(rc, 'replication')).master_repl_offset === String(100 + stream.length), 3000, 'offset');
    const info = await infoFields(rc, 'replication');
    expect(info.slave_repl_offset).toBe(String(100 + stream.length));
    expect(info.slave_read_repl_offset).toBe(String(100 + stream.length));
    await rc.call('SELECT', '3');
    expect(await rc.call('LRANGE', 'list', '0', '-1')).toEqual(['a', 'b', 'c']);
    expect(await rc.call('STRLEN', 'key')).toBe(100);
    await rc.call('REPLICAOF', 'NO', 'ONE');
  });
});

describe('role change and timeouts', () => {
  it('clients blocked when a master turns replica get -UNBLOCKED and are disconnected', async () => {
    const m = await server();
    const r = await server();
    const rc = r.client();
    const blocked = await RawClient.connect(r.port);
    blocked.send('BLPOP', 'foo', '0');
    await waitUntil(async () => (await infoFields(rc, 'clients')).blocked_clients === '1', 3000, 'blocked');
    expect(await rc.call('REPLICAOF', '127.0.0.1', String(m.port))).toBe('OK');
    const e = '-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n';
    expect(await blocked.read(e.length)).toBe(e);
    await blocked.waitClosed();
    expect((await infoFields(rc, 'clients')).blocked_clients).toBe('0');
    expect((await infoFields(rc, 'errorstats')).errorstat_UNBLOCKED).toBe('count=1');
    // The replica's data is the master's: an RPUSH there is not served to anyone here.
    await replicaInSync(m.client(), rc, 5000);
    await m.client().call('RPUSH', 'foo', 'a');
    await replicaInSync(m.client(), rc, 5000);
    expect(await rc.call('LRANGE', 'foo', '0', '-1')).toEqual(['a']);
  });

  it('repl-timeout: a master silent during the handshake is given up and retried', async () => {
    let pings = 0;
    const port = await fakeMaster((argv) => {
      if (argv[0] === 'PING') pings++; // and never answered
    });
    const r = await server({ 'repl-timeout': 1 });
    const rc = r.client();
    await rc.call('REPLICAOF', '127.0.0.1', String(port));
    await waitUntil(() => r.logs.some((l) => l.includes('# Timeout connecting to the MASTER...')), 5000, 'timeout log');
    expect(((await rc.call('ROLE')) as unknown[])[3]).not.toBe('connected');
    // Retried: a new connection, a new PING.
    await waitUntil(() => pings >= 2, 5000, 'second attempt');
    expect(((await rc.call('ROLE')) as unknown[]).slice(0, 3)).toEqual(['slave', '127.0.0.1', port]);
    await rc.call('REPLICAOF', 'NO', 'ONE');
  });

  it('repl-timeout: a master drops a replica that stopped acknowledging', async () => {
    const m = await server({ 'repl-timeout': 1 });
    const repl = await RawClient.connect(m.port);
    repl.send('PSYNC', '?', '-1');
    await waitUntil(() => repl.buf.includes('+FULLRESYNC'), 3000, 'fullresync');
    await waitUntil(() => m.logs.some((l) => l.includes('# Disconnecting timedout replica (streaming sync): 127.0.0.1:<unknown-replica-port>')), 5000, 'drop log');
    await repl.waitClosed();
  });

  it('min-replicas-max-lag: a replica whose last ACK is too old does not count', async () => {
    const m = await server();
    const mc = m.client();
    const repl = await RawClient.connect(m.port);
    repl.send('REPLCONF', 'listening-port', '1234');
    repl.send('PSYNC', '?', '-1');
    await waitUntil(() => repl.buf.includes('+FULLRESYNC'), 3000, 'fullresync');
    repl.send('REPLCONF', 'ACK', '0');
    await mc.call('CONFIG', 'SET', 'min-replicas-max-lag', '1');
    await mc.call('CONFIG', 'SET', 'min-replicas-to-write', '1');
    expect(await mc.call('SET', 'foo', '1')).toBe('OK');
    expect((await infoFields(mc, 'replication')).min_slaves_good_slaves).toBe('1');
    await waitUntil(async () => (await infoFields(mc, 'replication')).min_slaves_good_slaves === '0', 4000, 'lagged');
    expect(await err(mc.call('SET', 'foo', '2'))).toBe('NOREPLICAS Not enough good replicas to write.');
    expect(await err(mc.call('EVAL', "return redis.call('set','foo',12345)", '0'))).toMatch(
      /^NOREPLICAS Not enough good replicas to write\. script: [0-9a-f]{40}, on @user_script:1\.$/,
    );
    repl.send('REPLCONF', 'ACK', '0');
    await waitUntil(async () => (await infoFields(mc, 'replication')).min_slaves_good_slaves === '1', 3000, 'acked');
    expect(await mc.call('SET', 'foo', '3')).toBe('OK');
    repl.close();
  });
});

describe('full resync', () => {
  it('a diskless sync waits repl-diskless-sync-delay (newlines meanwhile), then streams $EOF:<mark>', async () => {
    const m = await server({ 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': 2 });
    const mc = m.client();
    await mc.call('SET', 'k', 'v');
    const repl = await RawClient.connect(m.port);
    repl.send('REPLCONF', 'capa', 'eof', 'capa', 'psync2');
    expect(await repl.read(5)).toBe('+OK\r\n');
    repl.send('PSYNC', '?', '-1');
    await sleep(1200);
    const info = await infoFields(mc, 'replication');
    expect(info.slave0).toMatch(/^ip=127\.0\.0\.1,port=0,state=wait_bgsave,offset=0,lag=0$/);
    expect(info.connected_slaves).toBe('1');
    expect((await mc.call('ROLE')) as unknown[]).toEqual(['master', 0, []]);
    expect(m.logs.some((l) => l.includes('Delay next BGSAVE for diskless SYNC'))).toBe(true);
    // Only keep-alive newlines so far.
    expect(repl.buf).toMatch(/^\n+$/);
    await waitUntil(() => repl.buf.includes('+FULLRESYNC'), 4000, 'fullresync');
    await waitUntil(() => /\$EOF:[0-9a-f]{40}\r\n/.test(repl.buf), 2000, 'payload');
    const m2 = /^\n*\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n\$EOF:([0-9a-f]{40})\r\n/.exec(repl.buf)!;
    expect(m2).not.toBeNull();
    const mark = m2[3]!;
    await waitUntil(() => repl.buf.lastIndexOf(mark) > m2[0].length, 2000, 'mark');
    const rdb = repl.buf.slice(m2[0].length, repl.buf.lastIndexOf(mark));
    expect(rdb.startsWith('REDIS0010')).toBe(true);
    expect(m.logs.some((l) => l.includes('Starting BGSAVE for SYNC with target: replicas sockets'))).toBe(true);
    expect((await infoFields(mc, 'replication')).slave0).toMatch(/state=online/);
    repl.close();
  });

  it('repl-diskless-sync-max-replicas: the sync starts as soon as that many replicas wait', async () => {
    const m = await server({ 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': 100, 'repl-diskless-sync-max-replicas': 2 });
    const a = await RawClient.connect(m.port);
    const b = await RawClient.connect(m.port);
    for (const c of [a, b]) {
      c.send('REPLCONF', 'capa', 'eof');
      c.send('PSYNC', '?', '-1');
    }
    await waitUntil(() => a.buf.includes('$EOF:') && b.buf.includes('$EOF:'), 4000, 'both synced');
    // One image for both: the same offset.
    const off = (s: string) => /\+FULLRESYNC [0-9a-f]{40} (\d+)/.exec(s)![1];
    expect(off(a.buf)).toBe(off(b.buf));
    a.close();
    b.close();
  });

  it('a replica of a replica full-synced mid-stream goes on in the database its master selected', async () => {
    const m = await server();
    const r1 = await server();
    const r2 = await server();
    const mc = m.client();
    await follow(r1, m);
    await mc.call('SELECT', '4');
    await mc.call('SET', 'a', '1');
    await replicaInSync(mc, r1.client(), 5000);
    await follow(r2, r1);
    await mc.call('SET', 'b', '2'); // no SELECT in the stream: db 4 still
    await replicaInSync(mc, r2.client(), 5000);
    const c2 = r2.client();
    await c2.call('SELECT', '4');
    expect(await c2.call('MGET', 'a', 'b')).toEqual(['1', '2']);
    expect(await c2.call('DBSIZE')).toBe(2);
  });
});

describe('min-replicas-to-write in scripts, DEBUG REPLICATE', () => {
  it('NOREPLICAS from redis.call, and up front for scripts and functions that may write', async () => {
    const m = await server();
    const c = m.client();
    await c.call('FUNCTION', 'LOAD', [
      '#!lua name=test',
      "redis.register_function{function_name='f_default_flags', callback=function(keys, args) return redis.call('get',keys[1]) end, flags={}}",
      "redis.register_function{function_name='f_no_writes', callback=function(keys, args) return redis.call('get',keys[1]) end, flags={'no-writes'}}",
    ].join('\n'));
    await c.call('SET', 'foo', 'bar');
    await c.call('CONFIG', 'SET', 'min-replicas-to-write', '1');
    const noreplicas = 'NOREPLICAS Not enough good replicas to write.';
    const body = "redis.call('set','foo','x')";
    const sha = (await c.call('SCRIPT', 'LOAD', body)) as string;
    expect(await err(c.call('EVAL', body, '0'))).toBe(`${noreplicas} script: ${sha}, on @user_script:1.`);
    expect(await err(c.call('EVAL', "return redis.pcall('set','foo','x')", '0'))).toBe(noreplicas);
    expect(await err(c.call('EVAL', "#!lua\nreturn redis.call('get','foo')", '0'))).toBe(noreplicas);
    expect(await err(c.call('FCALL', 'f_default_flags', '1', 'foo'))).toBe(noreplicas);
    expect(await c.call('FCALL', 'f_no_writes', '1', 'foo')).toBe('bar');
    expect(await c.call('EVAL', "return redis.call('get','foo')", '0')).toBe('bar');
    expect(await c.call('EVAL', "#!lua flags=no-writes\nreturn redis.call('get','foo')", '0')).toBe('bar');
    // min-replicas-max-lag 0 turns the check off, as in Redis.
    await c.call('CONFIG', 'SET', 'min-replicas-max-lag', '0');
    expect(await c.call('SET', 'foo', 'y')).toBe('OK');
    expect(await c.call('FCALL', 'f_default_flags', '1', 'foo')).toBe('y');
  });

  it('DEBUG REPLICATE puts a command in the stream only; the replica logs the error it gets', async () => {
    const m = await server();
    const r = await server();
    const mc = m.client();
    const rc = r.client();
    await follow(r, m);
    expect(await mc.call('DEBUG', 'REPLICATE', 'fake-command-1')).toBe('OK');
    await mc.call('SET', 'foo', 'bar2');
    await replicaInSync(mc, rc, 5000);
    expect(r.logs.filter((l) => l.includes('fake-command-1'))).toHaveLength(1);
    expect(r.logs.some((l) => l.endsWith(
      "# == CRITICAL == This replica is sending an error to its master: 'unknown command 'fake-command-1', with args beginning with: ' after processing the command '<unknown>'",
    ))).toBe(true);
    expect((await infoFields(rc, 'stats')).unexpected_error_replies).toBe('1');
    expect(await rc.call('GET', 'foo')).toBe('bar2');
    // A writable replica diverges: the master's INCRBY fails here and is logged with its command.
    await rc.call('CONFIG', 'SET', 'replica-read-only', 'no');
    await rc.call('SET', 'number2', 'foo');
    await mc.call('INCRBY', 'number2', '1');
    await replicaInSync(mc, rc, 5000);
    expect(await rc.call('GET', 'number2')).toBe('foo');
    expect(r.logs.some((l) => l.endsWith(
      "# == CRITICAL == This replica is sending an error to its master: 'value is not an integer or out of range' after processing the command 'incrby'",
    ))).toBe(true);
    expect(r.logs.some((l) => /# Latest backlog is: '".*fake-command-1.*"'$/.test(l))).toBe(true);
    expect((await infoFields(rc, 'stats')).unexpected_error_replies).toBe('2');
    expect(await err(mc.call('DEBUG', 'REPLICATE'))).toMatch(/^ERR /);
  });
});

describe('replicas may only take the stream', () => {
  it('a replica touching the keyspace is refused, logged and disconnected; its reply never reaches the link', async () => {
    const m = await server();
    const repl = await RawClient.connect(m.port);
    repl.send('PSYNC', 'replicationid', '-1');
    await waitUntil(() => repl.buf.includes('+FULLRESYNC'), 3000, 'fullresync');
    expect(repl.buf).toMatch(/^\+FULLRESYNC [0-9a-f]{40} 0\r\n/);
    await waitUntil(() => /\+FULLRESYNC [^\r]*\r\n\$\d+\r\n/.test(repl.buf), 3000, 'payload');
    const header = /\+FULLRESYNC [^\r]*\r\n\$(\d+)\r\n/.exec(repl.buf)!;
    await waitUntil(() => repl.buf.length >= header.index + header[0].length + Number(header[1]), 3000, 'rdb');
    repl.buf = '';
    repl.send('GET', 'foo');
    await repl.waitClosed();
    expect(repl.buf).toBe('');
    expect(m.logs.some((l) => /# Replica generated a reply to command 'get', disconnecting it: id=\d+ addr=127\.0\.0\.1:\d+ .* flags=S .* cmd=get /.test(l))).toBe(true);
    expect(m.logs.some((l) => l.endsWith("# == CRITICAL == This master is sending an error to its replica: 'Replica can't interact with the keyspace' after processing the command 'get'"))).toBe(true);
    expect(await m.client().call('PING')).toBe('PONG');
  });

  it('PSYNC with an offset that is not a number: the error, and a log line', async () => {
    const m = await server();
    const c = m.client();
    expect(await err(c.call('PSYNC', 'replicationid', 'offset_str'))).toBe('ERR value is not an integer or out of range');
    expect(m.logs.some((l) => /\* Replica 127\.0\.0\.1:<unknown-replica-port> asks for synchronization$/.test(l))).toBe(true);
    expect(m.logs.some((l) => /# Replica 127\.0\.0\.1:<unknown-replica-port> asks for synchronization but with a wrong offset$/.test(l))).toBe(true);
    expect(await c.call('PING')).toBe('PONG');
  });

  it('a writable replica deletes an expired key it writes to: the new value has no TTL', async () => {
    const m = await server();
    const r = await server();
    const mc = m.client();
    const rc = r.client();
    await follow(r, m);
    await mc.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await mc.call('SET', 'key1', '5', 'PX', '10');
    await mc.call('SET', 'key2', '5', 'PX', '10');
    await replicaInSync(mc, rc, 5000);
    await sleep(20);
    await rc.call('CONFIG', 'SET', 'replica-read-only', 'no');
    expect(await rc.call('DBSIZE')).toBe(2);
    expect(await rc.call('EXISTS', 'key1', 'key2')).toBe(0);
    expect(await rc.call('INCR', 'key1')).toBe(1);
    expect(await rc.call('TTL', 'key1')).toBe(-1);
    expect(await rc.call('GET', 'key2')).toBe(null);
    expect(await rc.call('DBSIZE')).toBe(2);
    expect(await rc.call('GET', 'key1')).toBe('1');
  });
});

describe('replication info in dump.rdb', () => {
  it('a restarted master continues its history: replid2 and offset from the file, replicas PSYNC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-repl-'));
    const m = await server({ dir });
    const r = await server();
    const mc = m.client();
    await follow(r, m);
    await mc.call('SELECT', '3');
    await mc.call('SET', 'a', '1');
    await mc.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await mc.call('SET', 'gone', 'x', 'PX', '10');
    await replicaInSync(mc, r.client(), 5000);
    const before = await infoFields(mc, 'replication');
    expect(await mc.call('SAVE')).toBe('OK');
    await m.stop();
    started.splice(started.indexOf(m), 1);
    await sleep(20);

    const m2 = await server({ dir });
    const c2 = m2.client();
    const after = await infoFields(c2, 'replication');
    expect(after.master_replid).not.toBe(before.master_replid);
    expect(after.master_replid2).toBe(before.master_replid);
    expect(after.second_repl_offset).toBe(String(Number(before.master_repl_offset) + 1));
    expect(after.repl_backlog_active).toBe('1');
    expect(after.repl_backlog_first_byte_offset).toBe(String(Number(before.master_repl_offset) + 1));
    // The key found expired when loading is deleted in the stream: SELECT 3 and DEL gone.
    const del = encode(['SELECT', '3']) + encode(['DEL', 'gone']);
    expect(after.repl_backlog_histlen).toBe(String(del.length));
    expect(after.master_repl_offset).toBe(String(Number(before.master_repl_offset) + del.length));
    expect((await infoFields(c2, 'persistence')).rdb_last_load_keys_expired).toBe('1');

    const rc = r.client();
    await rc.call('REPLICAOF', '127.0.0.1', String(m2.port));
    await replicaInSync(c2, rc, 5000);
    const stats = await infoFields(c2, 'stats');
    expect([stats.sync_full, stats.sync_partial_ok]).toEqual(['0', '1']);
    await rc.call('SELECT', '3');
    expect(await rc.call('GET', 'a')).toBe('1');
    expect(await rc.call('DBSIZE')).toBe(1);
  });

  it('a restarted replica continues from its dump.rdb (replicaof in the config): PSYNC, no full resync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-repl-'));
    const m = await server();
    const r = await server({ dir });
    const mc = m.client();
    await follow(r, m);
    expect(await r.client().call('CONFIG', 'GET', 'replicaof')).toEqual(['replicaof', `127.0.0.1 ${m.port}`]);
    await mc.call('SELECT', '5');
    await mc.call('SET', 'a', '1');
    await replicaInSync(mc, r.client(), 5000);
    expect(await r.client().call('SAVE')).toBe('OK');
    await r.stop();
    started.splice(started.indexOf(r), 1);
    // Written while the replica is down: in the master's backlog; no SELECT follows (still db 5).
    await mc.call('SET', 'b', '2');
    const r2 = await server({ dir, replicaof: `127.0.0.1 ${m.port}` });
    const rc = r2.client();
    await replicaInSync(mc, rc, 5000);
    const stats = await infoFields(mc, 'stats');
    expect([stats.sync_full, stats.sync_partial_ok]).toEqual(['1', '1']);
    await rc.call('SELECT', '5');
    expect(await rc.call('MGET', 'a', 'b')).toEqual(['1', '2']);
  });

  it('a replica switching masters goes on in the database the stream had selected', async () => {
    const m = await server();
    const r = await server();
    const other = await server();
    const mc = m.client();
    await follow(r, m);
    await mc.call('SELECT', '9');
    await mc.call('SET', 'a', '1');
    await replicaInSync(mc, r.client(), 5000);
    const rc = r.client();
    // A master with no link to its own master: the PSYNC is refused (NOMASTERLINK), history kept.
    await other.client().call('REPLICAOF', '127.0.0.1', '1');
    await rc.call('REPLICAOF', '127.0.0.1', String(other.port));
    await mc.call('SET', 'b', '2'); // no SELECT in the stream: still database 9
    await rc.call('REPLICAOF', '127.0.0.1', String(m.port));
    await replicaInSync(mc, rc, 5000);
    expect((await infoFields(mc, 'stats')).sync_partial_ok).toBe('1');
    await rc.call('SELECT', '9');
    expect(await rc.call('MGET', 'a', 'b')).toEqual(['1', '2']);
    await rc.call('SELECT', '0');
    expect(await rc.call('DBSIZE')).toBe(0);
    await other.client().call('REPLICAOF', 'NO', 'ONE');
  });
});

describe('the RDB image is made in the background', () => {
  it('rdb-key-save-delay: the replica waits in sync state while the stream is kept for it, beyond repl-backlog-size', async () => {
    const m = await server({ 'repl-diskless-sync': 'yes', 'repl-backlog-size': 16384 });
    const r = await server();
    const mc = m.client();
    for (let i = 0; i < 20; i++) await mc.call('SET', `k${i}`, 'x'.repeat(100));
    await mc.call('CONFIG', 'SET', 'rdb-key-save-delay', '50000'); // 50 ms a key: about a second
    const rc = r.client();
    await rc.call('REPLICAOF', '127.0.0.1', String(m.port));
    await waitUntil(async () => ((await rc.call('ROLE')) as unknown[])[3] === 'sync', 3000, 'replica in sync state');
    expect((await infoFields(mc, 'persistence')).rdb_bgsave_in_progress).toBe('1');
    expect((await infoFields(mc, 'replication')).slave0).toMatch(/state=wait_bgsave/);
    // Writes during the transfer: 64 KB, four times the backlog size, all kept for the replica.
    for (let i = 0; i < 8; i++) await mc.call('SET', `big${i}`, 'y'.repeat(8192));
    const during = await infoFields(mc, 'replication');
    expect(Number(during.repl_backlog_histlen)).toBeGreaterThan(65536);
    expect(Number((await infoFields(mc, 'memory')).mem_total_replication_buffers)).toBeGreaterThan(65536);
    // The image (with the first 20 keys only) and then the stream.
    await replicaInSync(mc, rc, 10000);
    expect(await rc.call('DBSIZE')).toBe(28);
    expect(await rc.call('STRLEN', 'big7')).toBe(8192);
    expect((await infoFields(mc, 'persistence')).rdb_bgsave_in_progress).toBe('0');
    // Online now: the backlog is back to its size.
    await mc.call('SET', 'after', '1');
    expect((await infoFields(mc, 'replication')).repl_backlog_histlen).toBe('16384');
    expect(m.logs.some((l) => l.includes('Background RDB transfer terminated with success'))).toBe(true);
  });

  it('a disk-target image is shared by a replica asking while it is made; writes to keys not yet saved keep the image point-in-time', async () => {
    const m = await server({ 'repl-diskless-sync': 'no' });
    const a = await server();
    const b = await server();
    const mc = m.client();
    for (let i = 0; i < 10; i++) await mc.call('SET', `k${i}`, String(i));
    await mc.call('CONFIG', 'SET', 'rdb-key-save-delay', '100000');
    await a.client().call('REPLICAOF', '127.0.0.1', String(m.port));
    await waitUntil(async () => ((await a.client().call('ROLE')) as unknown[])[3] === 'sync', 3000, 'a syncing');
    await b.client().call('REPLICAOF', '127.0.0.1', String(m.port));
    await mc.call('SET', 'k9', 'changed');
    await mc.call('DEL', 'k8');
    await replicaInSync(mc, a.client(), 10000);
    await replicaInSync(mc, b.client(), 10000);
    expect(m.logs.filter((l) => l.includes('Starting BGSAVE for SYNC with target: disk'))).toHaveLength(1);
    expect(m.logs.some((l) => l.includes('Waiting for end of BGSAVE for SYNC'))).toBe(true);
    for (const r of [a, b]) {
      expect(await r.client().call('GET', 'k9')).toBe('changed');
      expect(await r.client().call('EXISTS', 'k8')).toBe(0);
      expect(await r.client().call('DBSIZE')).toBe(9);
    }
  });
});
