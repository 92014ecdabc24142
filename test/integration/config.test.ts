import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startTestServer, freePort, type TestServer } from '../helpers/server.js';
import { RawClient } from '../helpers/raw-client.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { startEngine } from '../../src/server/bootstrap.js';
import { Logger } from '../../src/server/logger.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.stop();
});

/** CONFIG GET's flat RESP2 reply → object. */
function pairs(r: unknown): Record<string, string> {
  const a = r as string[];
  const o: Record<string, string> = {};
  for (let i = 0; i < a.length; i += 2) o[a[i]!] = a[i + 1]!;
  return o;
}

describe('CONFIG GET', () => {
  it('one name, a glob, several patterns, each parameter once', async () => {
    const c = srv.client();
    expect(await c.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', '0']);
    expect(pairs(await c.call('CONFIG', 'GET', 'maxmemory*'))).toEqual({
      maxmemory: '0',
      'maxmemory-clients': '0',
      'maxmemory-eviction-tenacity': '10',
      'maxmemory-policy': 'noeviction',
      'maxmemory-samples': '5',
    });
    const r = pairs(await c.call('CONFIG', 'GET', 'maxmemory-policy', 'maxmemory*', 'port', 'MAXMEMORY'));
    expect(Object.keys(r).sort()).toEqual(['maxmemory', 'maxmemory-clients', 'maxmemory-eviction-tenacity', 'maxmemory-policy', 'maxmemory-samples', 'port']);
    expect(r.port).toBe(String(srv.port));
    expect(await c.call('CONFIG', 'GET', 'nosuch')).toEqual([]);
    expect(await c.call('CONFIG', 'GET', 'nosuch*')).toEqual([]);
  });

  it('an exact name comes back as written, globs ignore case', async () => {
    const c = srv.client();
    expect(await c.call('CONFIG', 'GET', 'MaxMemory')).toEqual(['MaxMemory', '0']);
    expect(pairs(await c.call('CONFIG', 'GET', 'MAXMEMORY-P*'))).toEqual({ 'maxmemory-policy': 'noeviction' });
  });

  it('aliases are parameters of their own', async () => {
    const c = srv.client();
    expect(await c.call('CONFIG', 'GET', 'slave-read-only')).toEqual(['slave-read-only', 'yes']);
    const r = pairs(await c.call('CONFIG', 'GET', '*read-only'));
    expect(r).toEqual({ 'replica-read-only': 'yes', 'slave-read-only': 'yes' });
    expect(pairs(await c.call('CONFIG', 'GET', 'hash-max-ziplist-*'))).toEqual({ 'hash-max-ziplist-entries': '512', 'hash-max-ziplist-value': '64' });
  });

  it('values are shown as Redis shows them', async () => {
    const c = srv.client();
    expect(pairs(await c.call('CONFIG', 'GET', 'save', 'appendonly', 'client-output-buffer-limit', 'notify-keyspace-events', 'latency-tracking-info-percentiles'))).toEqual({
      save: '',
      appendonly: 'no',
      'client-output-buffer-limit': 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
      'notify-keyspace-events': '',
      'latency-tracking-info-percentiles': '50 99 99.9',
    });
  });

  it('RESP3: a map', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      raw.send('HELLO', '3');
      await new Promise((r) => setTimeout(r, 50));
      raw.buf = '';
      raw.send('CONFIG', 'GET', 'maxmemory', 'hz');
      const want = '%2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$2\r\nhz\r\n$2\r\n10\r\n';
      expect(await raw.expectBytes(want)).toBe(want);
    } finally {
      raw.close();
    }
    const nr = await srv.nodeRedis(3);
    const m = (await nr.sendCommand(['CONFIG', 'GET', 'maxmemory'])) as unknown;
    expect(m instanceof Map ? Object.fromEntries(m) : m).toEqual({ maxmemory: '0' });
  });

  it('arity and unknown subcommands', async () => {
    const c = srv.client();
    await expect(c.call('CONFIG', 'GET')).rejects.toThrow("ERR wrong number of arguments for 'config|get' command");
    await expect(c.call('CONFIG')).rejects.toThrow("ERR wrong number of arguments for 'config' command");
    await expect(c.call('CONFIG', 'nosuch')).rejects.toThrow("ERR unknown subcommand 'nosuch'. Try CONFIG HELP.");
    await expect(c.call('CONFIG', 'HELP', 'x')).rejects.toThrow("ERR wrong number of arguments for 'config|help' command");
  });

  it('CONFIG HELP', async () => {
    const help = (await srv.client().call('CONFIG', 'HELP')) as string[];
    expect(help[0]).toBe('CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('GET <pattern>');
    expect(help).toContain('    Reset statistics reported by the INFO command.');
    expect(help.slice(-2)).toEqual(['HELP', '    Prints this help.']);
    expect(help).toHaveLength(11);
  });
});

describe('CONFIG SET', () => {
  it('round trips several pairs at once', async () => {
    const c = srv.client();
    expect(await c.call('CONFIG', 'SET', 'maxmemory', '10mb', 'maxmemory-policy', 'allkeys-lru', 'hz', '15')).toBe('OK');
    expect(pairs(await c.call('CONFIG', 'GET', 'maxmemory', 'maxmemory-policy', 'hz'))).toEqual({ maxmemory: '10485760', 'maxmemory-policy': 'allkeys-lru', hz: '15' });
    expect(await c.call('CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction', 'hz', '10')).toBe('OK');
  });

  it('memory units, enum case, hz clamped, save points, partial output buffer limits', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'SET', 'maxmemory', '1k');
    expect(await c.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', '1000']);
    await c.call('CONFIG', 'SET', 'maxmemory', '1GB');
    expect(await c.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', '1073741824']);
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await c.call('CONFIG', 'SET', 'appendfsync', 'ALWAYS');
    expect(await c.call('CONFIG', 'GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    await c.call('CONFIG', 'SET', 'appendfsync', 'everysec');
    await c.call('CONFIG', 'SET', 'hz', '1000');
    expect(await c.call('CONFIG', 'GET', 'hz')).toEqual(['hz', '500']);
    await c.call('CONFIG', 'SET', 'hz', '0');
    expect(await c.call('CONFIG', 'GET', 'hz')).toEqual(['hz', '1']);
    await c.call('CONFIG', 'SET', 'hz', '10');
    await c.call('CONFIG', 'SET', 'save', '100 10 200 20');
    expect(await c.call('CONFIG', 'GET', 'save')).toEqual(['save', '100 10 200 20']);
    await c.call('CONFIG', 'SET', 'save', '');
    expect(await c.call('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 2mb 3');
    expect(await c.call('CONFIG', 'GET', 'client-output-buffer-limit')).toEqual([
      'client-output-buffer-limit',
      'normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3',
    ]);
    await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    expect(await c.call('CONFIG', 'GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', 'AKE']);
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
  });

  it('an alias sets its directive', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'SET', 'slave-read-only', 'no');
    expect(await c.call('CONFIG', 'GET', 'replica-read-only')).toEqual(['replica-read-only', 'no']);
    await c.call('CONFIG', 'SET', 'replica-read-only', 'yes');
  });

  it('errors, with Redis 7.0 texts', async () => {
    const c = srv.client();
    const fails = (...args: string[]) => c.call('CONFIG', 'SET', ...args);
    await expect(fails('x', '1')).rejects.toThrow("ERR Unknown option or number of arguments for CONFIG SET - 'x'");
    await expect(fails('maxmemory', 'abc')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
    await expect(fails('databases', '4')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config");
    await expect(fails('dir', '/tmp')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
    await expect(fails('maxmemory', '10mb', 'MAXMEMORY', '20mb')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter");
    await expect(fails('timeout', 'abc')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer");
    await expect(fails('timeout', '-1')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive");
    await expect(fails('appendonly', 'maybe')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'");
    await expect(fails('maxmemory-policy', 'bad')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
    );
    await expect(fails('save', '10')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters");
    await expect(fails('maxmemory', '1', 'maxmemory-policy')).rejects.toThrow('ERR syntax error');
    await expect(fails('maxmemory')).rejects.toThrow("ERR wrong number of arguments for 'config|set' command");
  });

  it('protected configs can be set when enable-protected-configs allows the client', async () => {
    const s = await startTestServer({ 'enable-protected-configs': 'local' });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'cacheside-dir-'));
      expect(await s.client().call('CONFIG', 'SET', 'dir', dir, 'dbfilename', 'x.rdb')).toBe('OK');
      expect(pairs(await s.client().call('CONFIG', 'GET', 'dir', 'dbfilename'))).toEqual({ dir, dbfilename: 'x.rdb' });
    } finally {
      await s.stop();
    }
  });

  it('names are checked before values, in order', async () => {
    const c = srv.client();
    await expect(c.call('CONFIG', 'SET', 'maxmemory', 'abc', 'daemonize', 'yes')).rejects.toThrow("(possibly related to argument 'daemonize') - can't set immutable config");
    await expect(c.call('CONFIG', 'SET', 'maxmemory', 'abc', 'x', '1')).rejects.toThrow("ERR Unknown option or number of arguments for CONFIG SET - 'x'");
  });

  it('is atomic: one bad value and nothing changes', async () => {
    const c = srv.client();
    await expect(c.call('CONFIG', 'SET', 'maxmemory', '10mb', 'hz', '20', 'maxmemory-policy', 'bad')).rejects.toThrow(
      "possibly related to argument 'maxmemory-policy'",
    );
    expect(pairs(await c.call('CONFIG', 'GET', 'maxmemory', 'hz', 'maxmemory-policy'))).toEqual({ maxmemory: '0', hz: '10', 'maxmemory-policy': 'noeviction' });
  });

  it('takes effect: slowlog-log-slower-than, notify-keyspace-events', async () => {
    const c = srv.client();
    await c.call('SLOWLOG', 'RESET');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('ECHO', 'logged');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
    await c.call('ECHO', 'not logged');
    const log = (await c.call('SLOWLOG', 'GET', '-1')) as unknown[][];
    const cmds = log.map((e) => (e[3] as string[]).join(' '));
    expect(cmds).toContain('ECHO logged');
    expect(cmds).not.toContain('ECHO not logged');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  });

  it('works inside MULTI/EXEC', async () => {
    const c = srv.client();
    const r = await c.multi().call('CONFIG', 'SET', 'hz', '12').call('CONFIG', 'GET', 'hz').exec();
    expect(r).toEqual([
      [null, 'OK'],
      [null, ['hz', '12']],
    ]);
    await c.call('CONFIG', 'SET', 'hz', '10');
  });
});

describe('CONFIG SET port / bind', () => {
  it('re-binds to a new port, keeping connected clients', async () => {
    const s = await startTestServer();
    try {
      const c = s.client();
      await c.ping();
      const newPort = await freePort();
      expect(await c.call('CONFIG', 'SET', 'port', String(newPort))).toBe('OK');
      // The connection that asked still works; new clients connect to the new port.
      expect(await c.call('CONFIG', 'GET', 'port')).toEqual(['port', String(newPort)]);
      const n = new Redis({ port: newPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      await n.connect();
      expect(await n.ping()).toBe('PONG');
      const info = (await n.call('INFO', 'server')) as string;
      expect(info).toContain(`tcp_port:${newPort}\r\n`);
      n.disconnect();
      await expect(
        new Promise((resolve, reject) => {
          const sock = net.connect(s.port, '127.0.0.1', () => resolve(sock.destroy()));
          sock.once('error', reject);
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await s.stop();
    }
  });

  it('a port that cannot be bound: error, nothing changed, still listening', async () => {
    const s = await startTestServer();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const c = s.client();
      await expect(c.call('CONFIG', 'SET', 'maxmemory', '5mb', 'port', String(taken))).rejects.toThrow(
        "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.",
      );
      expect(pairs(await c.call('CONFIG', 'GET', 'port', 'maxmemory'))).toEqual({ port: String(s.port), maxmemory: '0' });
      const again = s.client();
      expect(await again.ping()).toBe('PONG');
      // Commands pipelined behind the failing CONFIG SET are answered after it, in order.
      const r = await c.pipeline().call('CONFIG', 'SET', 'port', String(taken)).ping().exec();
      expect(r![0]![0]).toBeInstanceOf(Error);
      expect(r![1]).toEqual([null, 'PONG']);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
      await s.stop();
    }
  });
});

describe('CONFIG RESETSTAT', () => {
  it('resets INFO stats, commandstats and errorstats, not the slowlog', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('PING');
    await expect(c.call('NOSUCH')).rejects.toThrow();
    await c.call('GET', 'nokey');
    const slowBefore = (await c.call('SLOWLOG', 'LEN')) as number;
    expect(await c.call('CONFIG', 'RESETSTAT')).toBe('OK');
    const info = (await c.call('INFO', 'all')) as string;
    expect(info).toContain('\r\ntotal_commands_processed:1\r\n'); // CONFIG RESETSTAT itself
    expect(info).toContain('\r\ntotal_connections_received:0\r\n');
    expect(info).toContain('\r\nkeyspace_misses:0\r\n');
    expect(info).toContain('\r\ntotal_error_replies:0\r\n');
    expect(info).toContain('# Errorstats\r\n\r\n');
    expect(info).not.toContain('cmdstat_ping');
    expect(info).toMatch(/\r\ncmdstat_config\|resetstat:calls=1,/);
    expect(info).not.toContain('latency_percentiles_usec_ping');
    expect((await c.call('SLOWLOG', 'LEN')) as number).toBeGreaterThanOrEqual(slowBefore);
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  });
});

describe('CONFIG REWRITE', () => {
  it('without a config file: error', async () => {
    await expect(srv.client().call('CONFIG', 'REWRITE')).rejects.toThrow('ERR The server is running without a config file');
  });

  it('rewrites the config file the server was started with', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-rewrite-'));
    const file = join(dir, 'redis.conf');
    const port = await freePort();
    writeFileSync(file, `# test config\nport ${port}\nsave ""\nappendonly no\ndir ${dir}\nmaxmemory 100mb\nhz 10\n`);
    const config = new ConfigStore();
    config.configFile = file;
    config.loadFile(file);
    const log = new Logger(config);
    log.sink = () => {};
    const running = await startEngine(config, log);
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    try {
      expect(await c.call('CONFIG', 'SET', 'maxmemory', '200mb', 'maxmemory-policy', 'allkeys-lru', 'hz', '10')).toBe('OK');
      const info = (await c.call('INFO', 'server')) as string;
      expect(info).toContain(`\r\nconfig_file:${file}\r\n`);
      expect(await c.call('CONFIG', 'REWRITE')).toBe('OK');
      expect(readFileSync(file, 'latin1')).toBe(
        `# test config\nport ${port}\nsave ""\nappendonly no\ndir "${dir}"\nmaxmemory 200mb\nhz 10\n\n# Generated by CONFIG REWRITE\nmaxmemory-policy allkeys-lru\n`,
      );
      // The file loads back to the running values.
      const again = new ConfigStore();
      again.loadFile(file);
      expect(again.format('maxmemory')).toBe(String(200 * 1024 * 1024));
      expect(again.format('maxmemory-policy')).toBe('allkeys-lru');
    } finally {
      c.disconnect();
      await running.close();
    }
  });
});
