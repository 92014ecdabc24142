import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';

let srv: TestServer;
beforeAll(async () => {
  // DEBUG is refused unless enable-debug-command is yes (or local for local clients).
  srv = await startTestServer({ 'enable-debug-command': 'yes' });
});
afterAll(async () => {
  await srv.stop();
});

/** Everything the engine propagates (AOF / replicas) while `fn` runs. */
async function propagated(fn: () => Promise<unknown>): Promise<[number, string[]][]> {
  const out: [number, string[]][] = [];
  const p = (db: number, argv: string[]) => void out.push([db, [...argv]]);
  srv.engine.propagators.push(p);
  try {
    await fn();
  } finally {
    srv.engine.propagators.splice(srv.engine.propagators.indexOf(p), 1);
  }
  return out;
}

const dirty = async (c: ReturnType<TestServer['client']>) =>
  Number(/rdb_changes_since_last_save:(\d+)/.exec((await c.call('INFO', 'persistence')) as string)![1]);

describe('DBSIZE, FLUSHDB, FLUSHALL', () => {
  it('DBSIZE counts the selected database', async () => {
    const c = srv.client();
    await c.call('SELECT', '9');
    expect(await c.call('DBSIZE')).toBe(0);
    await c.call('SET', 'a', '1');
    await c.call('SET', 'b', '2');
    expect(await c.call('DBSIZE')).toBe(2);
    await c.call('SELECT', '8');
    expect(await c.call('DBSIZE')).toBe(0);
    await expect(c.call('DBSIZE', 'x')).rejects.toThrow("ERR wrong number of arguments for 'dbsize' command");
    await c.call('SELECT', '9');
    await c.call('FLUSHDB');
  });

  it('FLUSHDB empties the current database only; SYNC and ASYNC; syntax', async () => {
    const c = srv.client();
    await c.call('SELECT', '1');
    await c.call('SET', 'k', 'v');
    await c.call('SELECT', '2');
    await c.call('SET', 'k1', 'v');
    await c.call('SET', 'k2', 'v');
    const d0 = await dirty(c);
    expect(await c.call('FLUSHDB', 'ASYNC')).toBe('OK');
    expect(await dirty(c)).toBe(d0 + 2);
    expect(await c.call('DBSIZE')).toBe(0);
    await c.call('SELECT', '1');
    expect(await c.call('DBSIZE')).toBe(1);
    expect(await c.call('FLUSHDB', 'sync')).toBe('OK');
    await expect(c.call('FLUSHDB', 'bad')).rejects.toThrow('ERR syntax error');
    await expect(c.call('FLUSHDB', 'SYNC', 'ASYNC')).rejects.toThrow('ERR syntax error');
  });

  it('FLUSHALL empties every database; dirty += keys removed + 1', async () => {
    const c = srv.client();
    await c.call('SELECT', '3');
    await c.call('SET', 'x', '1');
    await c.call('SELECT', '4');
    await c.call('SET', 'y', '1');
    const d0 = await dirty(c);
    expect(await c.call('FLUSHALL')).toBe('OK');
    expect(await dirty(c)).toBe(d0 + 3);
    expect(await c.call('DBSIZE')).toBe(0);
    await c.call('SELECT', '3');
    expect(await c.call('DBSIZE')).toBe(0);
    // An empty data set still counts as a change.
    expect(await c.call('FLUSHALL', 'ASYNC')).toBe('OK');
    expect(await dirty(c)).toBe(d0 + 4);
    await expect(c.call('FLUSHALL', 'now')).rejects.toThrow('ERR syntax error');
  });

  it('is propagated even when there was nothing to remove', async () => {
    const c = srv.client();
    await c.call('SELECT', '6');
    const out = await propagated(async () => {
      await c.call('FLUSHDB');
      await c.call('FLUSHALL', 'ASYNC');
    });
    expect(out).toEqual([
      [6, ['FLUSHDB']],
      [6, ['FLUSHALL', 'ASYNC']],
    ]);
  });

  it('invalidates WATCH on keys that existed, not on missing ones (Redis 7.0)', async () => {
    const c = srv.client();
    const other = srv.client();
    await c.call('SET', 'watched', '1');
    await c.call('WATCH', 'watched');
    await other.call('FLUSHALL');
    expect(await c.multi().ping().exec()).toBeNull();

    await c.call('WATCH', 'missing');
    await other.call('FLUSHALL');
    expect(await c.multi().ping().exec()).toEqual([[null, 'PONG']]);

    await c.call('SET', 'w2', '1');
    await c.call('WATCH', 'w2');
    await other.call('FLUSHDB');
    expect(await c.multi().ping().exec()).toBeNull();
  });
});

describe('TIME and LASTSAVE', () => {
  it('TIME: [seconds, microseconds] as bulk strings', async () => {
    const c = srv.client();
    const [sec, usec] = (await c.call('TIME')) as [string, string];
    expect(sec).toMatch(/^\d+$/);
    expect(usec).toMatch(/^\d{1,6}$/);
    expect(Math.abs(Number(sec) * 1000 + Number(usec) / 1000 - Date.now())).toBeLessThan(2000);
    const raw = await RawClient.connect(srv.port);
    raw.send('HELLO', '3');
    await waitUntil(() => raw.buf.endsWith('*0\r\n'));
    raw.buf = '';
    raw.send('TIME');
    await waitUntil(() => /^\*2\r\n\$10\r\n\d{10}\r\n\$\d\r\n\d+\r\n$/.test(raw.buf));
    raw.close();
  });

  it('LASTSAVE: the engine\'s last save time', async () => {
    expect(await srv.client().call('LASTSAVE')).toBe(srv.engine.lastSave);
  });
});

describe('SLOWLOG', () => {
  it('logs commands slower than slowlog-log-slower-than: id, time, usec, args, addr, name', async () => {
    const c = srv.client();
    await c.call('CLIENT', 'SETNAME', 'slowpoke');
    await c.call('SLOWLOG', 'RESET');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('SET', 'sk', 'v');
    await c.call('GET', 'sk');
    // Checked against the new threshold: the CONFIG SET that raises it is not logged (the one that lowered it was).
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    const log = (await c.call('SLOWLOG', 'GET')) as [number, number, number, string[], string, string][];
    expect(log.map((e) => e[3])).toEqual([['GET', 'sk'], ['SET', 'sk', 'v'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '0']]);
    const [id, time, usec, , addr, name] = log[0]!;
    expect(id).toBe(log[1]![0] + 1);
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(5);
    expect(usec).toBeGreaterThanOrEqual(0);
    expect(addr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(name).toBe('slowpoke');
    expect(await c.call('SLOWLOG', 'LEN')).toBe(3);
    expect(((await c.call('SLOWLOG', 'GET', '1')) as unknown[]).length).toBe(1);
    expect(((await c.call('SLOWLOG', 'GET', '-1')) as unknown[]).length).toBe(3);
    expect(await c.call('SLOWLOG', 'GET', '0')).toEqual([]);
    await c.call('DEL', 'sk');
  });

  it('RESET empties it (ids keep growing), and slowlog-max-len caps it', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('PING');
    const lastId = ((await c.call('SLOWLOG', 'GET', '1')) as [number][])[0]![0];
    expect(await c.call('SLOWLOG', 'RESET')).toBe('OK');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
    const first = ((await c.call('SLOWLOG', 'GET')) as [number, number, number, string[]][]).map((e) => [e[0], e[3][0]]);
    // Only SLOWLOG RESET itself (run with the threshold at 0); ids go on from before.
    expect(first).toEqual([[lastId + 2, 'SLOWLOG']]);
    await c.call('CONFIG', 'SET', 'slowlog-max-len', '2', 'slowlog-log-slower-than', '0');
    for (let i = 0; i < 5; i++) await c.call('PING');
    expect(await c.call('SLOWLOG', 'LEN')).toBe(2);
    await c.call('CONFIG', 'SET', 'slowlog-max-len', '128', 'slowlog-log-slower-than', '10000');
  });

  it('long argument lists and values are clipped; secrets are redacted', async () => {
    const c = srv.client();
    await c.call('SLOWLOG', 'RESET');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('ECHO', 'x'.repeat(200));
    await c.call('DEL', ...Array.from({ length: 40 }, (_, i) => `k${i}`));
    await c.call('CONFIG', 'SET', 'masterauth', 'secret', 'maxmemory', '0');
    await expect(c.call('AUTH', 'nopass')).rejects.toThrow();
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    const args = ((await c.call('SLOWLOG', 'GET', '-1')) as [number, number, number, string[]][]).map((e) => e[3]).reverse();
    expect(args[1]).toEqual(['ECHO', 'x'.repeat(128) + '... (72 more bytes)']);
    expect(args[2]).toHaveLength(32);
    expect(args[2]![31]).toBe('... (10 more arguments)');
    expect(args[3]).toEqual(['CONFIG', 'SET', 'masterauth', '(redacted)', 'maxmemory', '0']);
    expect(args[4]).toEqual(['AUTH', '(redacted)']);
    await c.call('CONFIG', 'SET', 'masterauth', '');
  });

  it('errors and HELP', async () => {
    const c = srv.client();
    await expect(c.call('SLOWLOG', 'GET', '-2')).rejects.toThrow('ERR count should be greater than or equal to -1');
    await expect(c.call('SLOWLOG', 'GET', 'abc')).rejects.toThrow('ERR count should be greater than or equal to -1');
    await expect(c.call('SLOWLOG', 'Get', '1', '2')).rejects.toThrow("ERR unknown subcommand or wrong number of arguments for 'Get'. Try SLOWLOG HELP.");
    await expect(c.call('SLOWLOG', 'LEN', 'x')).rejects.toThrow("ERR wrong number of arguments for 'slowlog|len' command");
    await expect(c.call('SLOWLOG', 'nosuch')).rejects.toThrow("ERR unknown subcommand 'nosuch'. Try SLOWLOG HELP.");
    const help = (await c.call('SLOWLOG', 'HELP')) as string[];
    expect(help[0]).toBe('SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('    Return top <count> entries from the slowlog (default: 10, -1 mean all).');
    expect(help).toHaveLength(12);
  });
});

describe('LATENCY', () => {
  it('DOCTOR when disabled, LATEST/HISTORY empty, GRAPH without samples', async () => {
    const c = srv.client();
    await c.call('LATENCY', 'RESET');
    expect(await c.call('LATENCY', 'DOCTOR')).toBe(
      "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n",
    );
    expect(await c.call('LATENCY', 'LATEST')).toEqual([]);
    expect(await c.call('LATENCY', 'HISTORY', 'command')).toEqual([]);
    await expect(c.call('LATENCY', 'GRAPH', 'command')).rejects.toThrow("ERR No samples available for event 'command'");
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '100');
    expect(await c.call('LATENCY', 'DOCTOR')).toBe(
      'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n',
    );
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  });

  it('records slow commands as events: LATEST, HISTORY, GRAPH, DOCTOR, RESET', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
    await c.call('DEBUG', 'SLEEP', '0.03');
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    const latest = (await c.call('LATENCY', 'LATEST')) as [string, number, number, number][];
    expect(latest).toHaveLength(1);
    const [event, time, last, max] = latest[0]!;
    expect(event).toBe('command');
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(5);
    expect(last).toBeGreaterThanOrEqual(30);
    expect(max).toBe(last);
    expect(await c.call('LATENCY', 'HISTORY', 'command')).toEqual([[time, last]]);
    const graph = (await c.call('LATENCY', 'GRAPH', 'command')) as string;
    expect(graph).toBe(`command - high ${last} ms, low ${last} ms (all time high ${last} ms)\n${'-'.repeat(80)}\n \n \n \n_\n \n${graph.split('\n')[7]}\ns\n`);
    expect(await c.call('LATENCY', 'DOCTOR')).toContain(`1. command: 1 latency spikes (average ${last}ms, mean deviation 0ms, period 1.00 sec). Worst all time event ${last}ms.`);
    expect(await c.call('LATENCY', 'RESET', 'command', 'nosuch')).toBe(1);
    expect(await c.call('LATENCY', 'LATEST')).toEqual([]);
  });

  it('HISTOGRAM: per command calls and cumulative power-of-two buckets (usec)', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 3; i++) await c.call('PING');
    await c.call('CONFIG', 'GET', 'hz');
    const h = (await c.call('LATENCY', 'HISTOGRAM', 'ping', 'config', 'nosuch')) as unknown[];
    expect(h[0]).toBe('ping');
    const body = h[1] as [string, number, string, number[]];
    expect(body.slice(0, 3)).toEqual(['calls', 3, 'histogram_usec']);
    const buckets = body[3];
    expect(buckets.length % 2).toBe(0);
    for (let i = 0; i < buckets.length; i += 2) expect(Math.log2(Math.round(buckets[i]! * 1000 / 1024)) % 1).toBeCloseTo(0, 0);
    expect(buckets[buckets.length - 1]).toBe(3);
    // A container stands for its subcommands that have samples (CONFIG RESETSTAT counts after its own reset).
    expect(h.filter((_, i) => i % 2 === 0)).toEqual(['ping', 'config|get', 'config|resetstat']);
    expect(((await c.call('LATENCY', 'HISTOGRAM')) as string[]).filter((_, i) => i % 2 === 0)).toEqual(
      expect.arrayContaining(['ping', 'config|get', 'config|resetstat']),
    );
  });

  it('HELP and arity', async () => {
    const c = srv.client();
    const help = (await c.call('LATENCY', 'HELP')) as string[];
    expect(help[0]).toBe('LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('HISTOGRAM [COMMAND ...]');
    await expect(c.call('LATENCY', 'HISTORY')).rejects.toThrow("ERR wrong number of arguments for 'latency|history' command");
  });
});

describe('MONITOR', () => {
  it('a second client sees every command in redis-server\'s format, its own included', async () => {
    const mon = await RawClient.connect(srv.port);
    try {
      mon.send('MONITOR');
      expect(await mon.expectBytes('+OK\r\n')).toBe('+OK\r\n');
      const c = await RawClient.connect(srv.port);
      for (const cmd of [
        ['SELECT', '2'],
        ['SET', 'mk', 'a b"\\\n\x01\xe9'],
        ['GET', 'mk'],
        ['CONFIG', 'GET', 'hz'], // admin commands are not shown
        ['AUTH', 'x'],
        ['MULTI'],
        ['SET', 'mx', '1'],
        ['EXEC'],
        ['DEL', 'mk', 'mx'],
      ]) {
        c.send(...cmd);
      }
      await waitUntil(() => c.buf.endsWith(':2\r\n'));
      c.close();
      mon.send('PING');
      await waitUntil(() => mon.buf.includes('"PING"'));
      const lines = mon.buf.split('\r\n').filter((l) => l !== '');
      const re = /^\+(\d{10}\.\d{6}) \[(\d+) (127\.0\.0\.1:\d+)\] (.*)$/;
      const parsed = lines.filter((l) => l.startsWith('+') && l !== '+PONG').map((l) => re.exec(l)!);
      expect(parsed.every((m) => m !== null)).toBe(true);
      expect(parsed.map((m) => `${m[2]} ${m[4]}`)).toEqual([
        '2 "SELECT" "2"', // shown after it ran, as redis-server does
        '2 "SET" "mk" "a b\\"\\\\\\n\\x01\\xe9"',
        '2 "GET" "mk"',
        '2 "AUTH" "(redacted)"',
        '2 "MULTI"',
        '2 "SET" "mx" "1"',
        '2 "EXEC"',
        '2 "DEL" "mk" "mx"',
        '0 "PING"',
      ]);
      expect(Math.abs(Number(parsed[0]![1]) - Date.now() / 1000)).toBeLessThan(5);
    } finally {
      mon.close();
    }
  });

  it('a second MONITOR is ignored (no reply); MONITOR inside MULTI is refused', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      raw.send('MONITOR');
      raw.send('MONITOR');
      raw.send('ECHO', 'after');
      await waitUntil(() => raw.buf.includes('$5\r\nafter\r\n'));
      expect(raw.buf.startsWith('+OK\r\n$5\r\nafter\r\n')).toBe(true);
    } finally {
      raw.close();
    }
    const c = srv.client();
    const r = await c.multi().call('MONITOR').exec();
    expect((r![0]![0] as Error).message).toBe("ERR MONITOR isn't allowed for DENY BLOCKING client");
  });

  it('node-redis MONITOR works', async () => {
    const c = await srv.nodeRedis(2);
    const lines: string[] = [];
    const m = c.duplicate();
    await m.connect();
    await m.monitor((line: string) => lines.push(line));
    await c.sendCommand(['ECHO', 'seen by node-redis']);
    await waitUntil(() => lines.some((l) => l.includes('"ECHO" "seen by node-redis"')));
    await m.destroy();
  });
});

describe('DEBUG', () => {
  it('is refused unless enable-debug-command allows it', async () => {
    const s = await startTestServer();
    try {
      const c = s.client();
      await expect(c.call('DEBUG', 'SLEEP', '0')).rejects.toThrow(
        'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
      );
      // A rejection: counted as rejected, not as a call.
      expect((await c.call('INFO', 'commandstats')) as string).toContain('cmdstat_debug:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0');
      await expect(c.call('CONFIG', 'SET', 'enable-debug-command', 'yes')).rejects.toThrow("can't set immutable config");
    } finally {
      await s.stop();
    }
    const local = await startTestServer({ 'enable-debug-command': 'local' });
    try {
      expect(await local.client().call('DEBUG', 'SLEEP', '0')).toBe('OK');
    } finally {
      await local.stop();
    }
  });

  it('SLEEP blocks the server; SET-ACTIVE-EXPIRE', async () => {
    const c = srv.client();
    expect(await c.call('DEBUG', 'SLEEP', '0')).toBe('OK');
    const t = Date.now();
    expect(await c.call('DEBUG', 'sleep', '0.05')).toBe('OK');
    expect(Date.now() - t).toBeGreaterThanOrEqual(45);
    expect(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0')).toBe('OK');
    expect(srv.engine.activeExpireEnabled).toBe(false);
    expect(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1')).toBe('OK');
    expect(srv.engine.activeExpireEnabled).toBe(true);
  });

  it('DIGEST and DIGEST-VALUE match redis-server for the same data', async () => {
    const c = srv.client();
    await c.call('FLUSHALL');
    expect(await c.call('DEBUG', 'DIGEST')).toBe('0'.repeat(40));
    await c.call('SET', 'foo', 'bar');
    expect(await c.call('DEBUG', 'DIGEST')).toBe('d2ab4820c1be0580ea28efbfe8bfa1dc05bb802a');
    expect(await c.call('DEBUG', 'DIGEST-VALUE', 'foo', 'nokey')).toEqual(['68467c70ae30376e7ce005bcc8827f5ba7fd67dc', '0'.repeat(40)]);
    expect(await c.call('DEBUG', 'DIGEST-VALUE')).toEqual([]);
    await c.call('EXPIRE', 'foo', '100');
    await c.call('SELECT', '3');
    await c.call('SET', 'k', 'v');
    expect(await c.call('DEBUG', 'DIGEST')).toBe('3294a7b8841d62bbec963c6c3383cd4d36ce21db');
    await c.call('FLUSHALL');
    const raw = await RawClient.connect(srv.port);
    raw.send('DEBUG', 'DIGEST');
    expect(await raw.expectBytes(`+${'0'.repeat(40)}\r\n`)).toBe(`+${'0'.repeat(40)}\r\n`);
    raw.close();
  });

  it('OBJECT describes a key', async () => {
    const c = srv.client();
    await c.call('SET', 'o1', 'v');
    await c.call('SET', 'o2', '12345');
    await c.call('SET', 'o3', '5');
    await c.call('SET', 'o4', 'x'.repeat(50));
    const obj = (k: string) => c.call('DEBUG', 'OBJECT', k) as Promise<string>;
    const re = (enc: string, refcount: number, len: number) =>
      new RegExp(`^Value at:0x[0-9a-f]+ refcount:${refcount} encoding:${enc} serializedlength:${len} lru:\\d+ lru_seconds_idle:\\d+$`);
    expect(await obj('o1')).toMatch(re('embstr', 1, 2));
    expect(await obj('o2')).toMatch(re('int', 1, 3));
    expect(await obj('o3')).toMatch(re('int', 2147483647, 2));
    expect(await obj('o4')).toMatch(re('raw', 1, 51));
    await expect(obj('nokey')).rejects.toThrow('ERR no such key');
    await c.call('DEL', 'o1', 'o2', 'o3', 'o4');
  });

  it('LOG, ERROR, POPULATE, CHANGE-REPL-ID', async () => {
    const c = srv.client();
    expect(await c.call('DEBUG', 'LOG', 'hello from the test')).toBe('OK');
    expect(srv.logs.some((l) => l.endsWith('# DEBUG LOG: hello from the test'))).toBe(true);
    await expect(c.call('DEBUG', 'ERROR', 'ERR custom failure')).rejects.toThrow('ERR custom failure');

    await c.call('SELECT', '7');
    await c.call('SET', 'key:1', 'mine');
    expect(await c.call('DEBUG', 'POPULATE', '3')).toBe('OK');
    expect(await c.call('DBSIZE')).toBe(3);
    expect(await c.call('MGET', 'key:0', 'key:1', 'key:2')).toEqual(['value:0', 'mine', 'value:2']);
    await c.call('DEBUG', 'POPULATE', '2', 'p', '10');
    expect(await c.call('GET', 'p:1')).toBe('value:1\0\0\0');
    await c.call('DEBUG', 'POPULATE', '12', 'q', '3');
    expect(await c.call('GET', 'q:11')).toBe('val');
    await expect(c.call('DEBUG', 'POPULATE', '-1')).rejects.toThrow('ERR value is out of range, must be positive');
    await c.call('FLUSHDB');

    const replid = () => c.call('INFO', 'replication').then((t) => /master_replid:([0-9a-f]+)/.exec(t as string)![1]);
    const before = await replid();
    expect(await c.call('DEBUG', 'CHANGE-REPL-ID')).toBe('OK');
    const after = await replid();
    expect(after).toMatch(/^[0-9a-f]{40}$/);
    expect(after).not.toBe(before);
  });

  it('unknown subcommands and wrong argument counts; HELP', async () => {
    const c = srv.client();
    await expect(c.call('DEBUG', 'nosuch')).rejects.toThrow("ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP.");
    await expect(c.call('DEBUG', 'Sleep')).rejects.toThrow("ERR unknown subcommand or wrong number of arguments for 'Sleep'. Try DEBUG HELP.");
    await expect(c.call('DEBUG', 'OBJECT', 'a', 'b')).rejects.toThrow("ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP.");
    await expect(c.call('DEBUG')).rejects.toThrow("ERR wrong number of arguments for 'debug' command");
    const help = (await c.call('DEBUG', 'HELP')) as string[];
    expect(help[0]).toBe('DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('SLEEP <seconds>');
    expect(help).toContain('    Output a hex signature representing the current DB content.');
    expect(help.slice(-2)).toEqual(['HELP', '    Prints this help.']);
  });
});

describe('SHUTDOWN', () => {
  it('option errors; ABORT with nothing in progress; not inside MULTI', async () => {
    const c = srv.client();
    await expect(c.call('SHUTDOWN', 'bad')).rejects.toThrow('ERR syntax error');
    await expect(c.call('SHUTDOWN', 'NOSAVE', 'SAVE')).rejects.toThrow('ERR syntax error');
    await expect(c.call('SHUTDOWN', 'NOW', 'ABORT')).rejects.toThrow('ERR syntax error');
    await expect(c.call('SHUTDOWN', 'ABORT')).rejects.toThrow('ERR No shutdown in progress.');
    const r = await c.multi().call('SHUTDOWN').exec().catch((e: Error) => e);
    expect((r as Error).message).toContain('EXECABORT');
  });

  it('closes the server: no reply, connections dropped, hooks run, onShutdown called', async () => {
    const s = await startTestServer();
    const hooks: unknown[] = [];
    s.engine.shutdownHooks.push((o) => void hooks.push(o));
    let exited = false;
    s.engine.onShutdown = () => {
      exited = true;
    };
    const raw = await RawClient.connect(s.port);
    raw.send('SHUTDOWN', 'NOSAVE', 'NOW', 'FORCE');
    await raw.waitClosed();
    expect(raw.buf).toBe('');
    await waitUntil(() => exited);
    expect(hooks).toEqual([{ save: false }]);
    expect(s.logs.some((l) => l.includes('User requested shutdown...'))).toBe(true);
    await expect(
      new Promise((resolve, reject) => {
        const sock = net.connect(s.port, '127.0.0.1', () => resolve(sock.destroy()));
        sock.once('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
    await s.stop();
  });

  it('a failing shutdown hook keeps the server running unless FORCE', async () => {
    const s = await startTestServer();
    try {
      let fail = true;
      s.engine.shutdownHooks.push(async (o) => {
        if (fail) throw new Error(`cannot save (save=${o.save})`);
      });
      const c = s.client();
      const r = await c.pipeline().call('SHUTDOWN', 'SAVE').ping().exec();
      expect((r![0]![0] as Error).message).toBe('ERR Errors trying to SHUTDOWN. Check logs.');
      expect(r![1]).toEqual([null, 'PONG']);
      expect(s.logs.some((l) => l.includes('cannot save (save=true)'))).toBe(true);
      const raw = await RawClient.connect(s.port);
      raw.send('SHUTDOWN', 'FORCE');
      await raw.waitClosed();
      fail = false;
    } finally {
      await s.stop();
    }
  });
});
