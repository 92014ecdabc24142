/**
 * Behaviour Redis 7.0's own TCL suite depends on (fourth batch): redis-server
 * command-line grouping and its errors, multi-flag shutdown-on-sig*, DEBUG
 * CONFIG-REWRITE-FORCE-ALL, bind "" and the default bind, the unixsocket
 * listener, CONFIG SET during loading, the CLUSTER container of a
 * non-cluster server, ACL SETUSER redaction in SLOWLOG, DEBUG REPLYBUFFER
 * and the modelled rbs=/qbuf-free= fields, output limits counted before the
 * reply is written (and huge HRANDFIELD / SRANDMEMBER replies stopped),
 * tracking of scripts (NOLOOP, read-only calls) and tracking-table-max-keys
 * before queued commands, lazyfreed_objects, and the crash report of
 * SIGABRT / DEBUG SEGFAULT. Expected texts and values are redis-server
 * 7.0.15's.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { applyCommandLine, splitCommandLine } from '../../src/cli-args.js';
import { ensureBuilt, freePort, spawnServer, tempDir } from '../helpers/spawn-server.js';

const err = (p: Promise<unknown>): Promise<string> => p.then((v) => `no error: ${JSON.stringify(v)}`, (e: Error) => e.message);
const infoField = (info: string, name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
const lineOf = (list: string, name: string): string => list.split('\n').find((l) => l.includes(`name=${name} `)) ?? '';
const field = (line: string, name: string): number => Number(new RegExp(`(?:^| )${name}=(\\d+)`).exec(line)?.[1] ?? NaN);

function cmdline(...args: string[]): string {
  try {
    applyCommandLine(new ConfigStore(), splitCommandLine(args));
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('redis-server command line', () => {
  it('groups values as redis-server does and reports the directive as Redis quotes it', () => {
    expect(cmdline('--port')).toContain(">>> 'port'\nwrong number of arguments");
    expect(cmdline('--port', '6380', '--loglevel')).toContain(">>> 'loglevel'\nwrong number of arguments");
    expect(cmdline('--port', '6379', '6380')).toContain(`>>> 'port "6379" "6380"'\nwrong number of arguments`);
    expect(cmdline('--port', '--loglevel', 'verbose')).toContain(`>>> 'port "--loglevel" "verbose"'\nwrong number of arguments`);
    expect(cmdline('--port', '--bla', '--loglevel', 'verbose')).toContain(`>>> 'port "--bla"'\nargument couldn't be parsed into an integer`);
    expect(cmdline('--logfile', '--my--log--file', '--loglevel', '--bla')).toContain(
      `>>> 'loglevel "--bla"'\nargument(s) must be one of the following: debug, verbose, notice, warning`,
    );
    expect(cmdline('--shutdown-on-sigint')).toContain('argument(s) must be one of the following: default, save, nosave, now, force');
    expect(cmdline('--replicaof', '127.0.0.1', 'abc')).toContain(`>>> 'replicaof "127.0.0.1" "abc"'\nInvalid master port`);
    expect(cmdline('--replicaof', '--127.0.0.1', '--abc')).toContain(`>>> 'replicaof "--127.0.0.1"'\nwrong number of arguments`);
  });

  it('accepts a name and its value in one argument, `--`-prefixed values and a bare --save', () => {
    const c = new ConfigStore();
    applyCommandLine(c, splitCommandLine(['--maxmemory 700mb', "--maxmemory-policy 'volatile-lru'", '--proc-title-template', '--my--title', '--save']));
    expect(c.num('maxmemory')).toBe(734003200);
    expect(c.str('maxmemory-policy')).toBe('volatile-lru');
    expect(c.str('proc-title-template')).toBe('--my--title');
    expect(c.format('save')).toBe('');
    const d = new ConfigStore();
    applyCommandLine(d, splitCommandLine(['--save', '--loglevel', 'verbose', '--shutdown-on-sigint', 'nosave', 'force', 'now', '--shutdown-on-sigterm', 'nosave force']));
    expect(d.format('save')).toBe('');
    expect(d.str('loglevel')).toBe('verbose');
    expect(d.format('shutdown-on-sigint')).toBe('nosave now force');
    expect(d.format('shutdown-on-sigterm')).toBe('nosave force');
  });
});

describe('configuration', () => {
  let srv: TestServer;
  let r: Redis;
  beforeAll(async () => {
    srv = await startTestServer({ 'enable-debug-command': 'yes' });
    r = srv.client();
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('shutdown-on-sigint / sigterm take a set of flags', async () => {
    expect(await r.call('CONFIG', 'SET', 'shutdown-on-sigint', 'now nosave')).toBe('OK');
    expect(await r.call('CONFIG', 'GET', 'shutdown-on-sigint')).toEqual(['shutdown-on-sigint', 'nosave now']);
    expect(await r.call('CONFIG', 'SET', 'shutdown-on-sigint', 'default now')).toBe('OK');
    expect(await r.call('CONFIG', 'GET', 'shutdown-on-sigint')).toEqual(['shutdown-on-sigint', 'now']);
    expect(await err(r.call('CONFIG', 'SET', 'shutdown-on-sigint', 'save nosave'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously",
    );
    expect(await err(r.call('CONFIG', 'SET', 'shutdown-on-sigint', ''))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - argument(s) must be one of the following: default, save, nosave, now, force",
    );
    await r.call('CONFIG', 'SET', 'shutdown-on-sigint', 'default');
  });

  it('has the hidden loading-process-events-interval-bytes and the default bind "* -::*"', async () => {
    expect(await r.call('CONFIG', 'GET', 'loading-process-events-interval-bytes')).toEqual(['loading-process-events-interval-bytes', '2097152']);
    expect(await err(r.call('CONFIG', 'SET', 'loading-process-events-interval-bytes', '100'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'loading-process-events-interval-bytes') - argument must be between 1024 and 2147483647 inclusive",
    );
    const fresh = new ConfigStore();
    expect(fresh.str('bind')).toBe('* -::*');
  });

  it('DEBUG CONFIG-REWRITE-FORCE-ALL writes every directive, and save lines are always written', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cacheside-rw-')), 'redis.conf');
    fs.writeFileSync(file, 'port 6379\n');
    srv.engine.config.configFile = file;
    expect(await r.call('DEBUG', 'CONFIG-REWRITE-FORCE-ALL')).toBe('OK');
    const text = fs.readFileSync(file, 'latin1');
    expect(text).toMatch(/^hz 10$/m);
    expect(text).toMatch(/^appendonly no$/m);
    await r.call('CONFIG', 'SET', 'save', '3600 1 300 100 60 10000');
    expect(await r.call('CONFIG', 'REWRITE')).toBe('OK');
    const again = fs.readFileSync(file, 'latin1');
    expect(again.split('\n').filter((l) => l.startsWith('save '))).toEqual(['save 3600 1', 'save 300 100', 'save 60 10000']);
    const reloaded = new ConfigStore();
    reloaded.loadFile(file);
    expect(reloaded.format('save')).toBe('3600 1 300 100 60 10000');
  });

  it('CONFIG SET appendonly (a DENY_LOADING directive) is refused while loading', async () => {
    srv.engine.loading = true;
    try {
      expect(await err(r.call('CONFIG', 'SET', 'appendonly', 'no'))).toBe('LOADING Redis is loading the dataset in memory');
      expect(await r.call('CONFIG', 'SET', 'loglevel', 'notice')).toBe('OK');
    } finally {
      srv.engine.loading = false;
    }
  });
});

describe('listeners', () => {
  it('bind "" closes the TCP listeners and unixsocket serves clients', async () => {
    const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cacheside-us-')), 'redis.sock');
    const srv = await startTestServer({ unixsocket: sock });
    try {
      const u = new Redis({ path: sock, maxRetriesPerRequest: 0 });
      u.on('error', () => {});
      expect(await u.call('PING')).toBe('PONG');
      expect(await u.call('CONFIG', 'SET', 'bind', '')).toBe('OK');
      expect(await u.call('CONFIG', 'GET', 'bind')).toEqual(['bind', '']);
      await expect(RawClient.connect(srv.port)).rejects.toThrow(/ECONNREFUSED/);
      expect(await u.call('CONFIG', 'SET', 'bind', '127.0.0.1')).toBe('OK');
      const c = await RawClient.connect(srv.port);
      c.sock.destroy();
      u.disconnect();
    } finally {
      await srv.stop();
    }
  });
});

describe('CLUSTER on a non-cluster server', () => {
  let srv: TestServer;
  let r: Redis;
  beforeAll(async () => {
    srv = await startTestServer();
    r = srv.client();
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('lists the container and its subcommands and refuses them all', async () => {
    const info = (await r.call('COMMAND', 'INFO', 'cluster')) as unknown[][];
    expect(info[0]!.slice(0, 7)).toEqual(['cluster', -2, [], 0, 0, 0, ['@slow']]);
    const subs = (info[0]![9] as unknown[][]).map((x) => [x[0], x[1], x[2]]);
    expect(subs).toContainEqual(['cluster|help', 2, ['loading', 'stale']]);
    expect(subs).toContainEqual(['cluster|setslot', -4, ['admin', 'stale', 'no_async_loading']]);
    expect(subs).toHaveLength(27);
    const list = (await r.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'cluster*')) as string[];
    expect(list).toContain('cluster|help');
    expect(await err(r.call('CLUSTER', 'INFO'))).toBe('ERR This instance has cluster support disabled');
    expect(await err(r.call('CLUSTER', 'HELP'))).toBe('ERR This instance has cluster support disabled');
    expect(await err(r.call('CLUSTER', 'foo'))).toBe("ERR unknown subcommand 'foo'. Try CLUSTER HELP.");
    expect(await err(r.call('CLUSTER', 'KEYSLOT'))).toBe("ERR wrong number of arguments for 'cluster|keyslot' command");
  });
});

describe('SLOWLOG and ACL SETUSER', () => {
  it('redacts every argument of ACL SETUSER', async () => {
    const srv = await startTestServer();
    try {
      const r = srv.client();
      await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
      await r.call('SLOWLOG', 'RESET');
      await r.call('ACL', 'SETUSER', 'slowlog test user', '+get', '+set').catch(() => null);
      await r.call('ACL', 'SETUSER', 'slowlog-test-user', '+get', '+set');
      const log = (await r.call('SLOWLOG', 'GET', '3')) as unknown[][];
      expect(log.map((e) => e[3])).toContainEqual(['ACL', 'SETUSER', '(redacted)', '(redacted)', '(redacted)']);
    } finally {
      await srv.stop();
    }
  });
});

describe('client buffers and output limits', () => {
  let srv: TestServer;
  let r: Redis;
  beforeAll(async () => {
    srv = await startTestServer({ 'enable-debug-command': 'yes' });
    r = srv.client();
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('DEBUG REPLYBUFFER: an idle client reply buffer shrinks, a busy one grows back to 16k', async () => {
    expect(await err(r.call('DEBUG', 'REPLYBUFFER', 'foo', '1'))).toBe("ERR unknown subcommand or wrong number of arguments for 'REPLYBUFFER'. Try DEBUG HELP.");
    expect(await err(r.call('DEBUG', 'REPLYBUFFER', 'peak-reset-time', 'abc'))).toBe('ERR value is not an integer or out of range');
    expect(await r.call('DEBUG', 'REPLYBUFFER', 'peak-reset-time', '100')).toBe('OK');
    const tc = srv.client();
    await tc.call('CLIENT', 'SETNAME', 'rbtest');
    expect(field(lineOf((await r.call('CLIENT', 'LIST')) as string, 'rbtest'), 'rbs')).toBe(16384);
    await waitUntil(async () => field(lineOf((await r.call('CLIENT', 'LIST')) as string, 'rbtest'), 'rbs') === 1024, 3000, 'shrink');
    await r.set('bigval', 'x'.repeat(32768));
    expect(await r.call('DEBUG', 'REPLYBUFFER', 'peak-reset-time', 'never')).toBe('OK');
    await waitUntil(async () => {
      await tc.get('bigval');
      return field(lineOf((await r.call('CLIENT', 'LIST')) as string, 'rbtest'), 'rbs') === 16384;
    }, 3000, 'expand');
    expect(Number(infoField((await r.call('INFO', 'stats')) as string, 'reply_buffer_expands'))).toBeGreaterThanOrEqual(4);
    expect(await r.call('DEBUG', 'REPLYBUFFER', 'peak-reset-time', 'reset')).toBe('OK');
  });

  it('qbuf-free: the 16k read buffer, released after 2 idle seconds', async () => {
    const tc = srv.client();
    await tc.call('CLIENT', 'SETNAME', 'qbtest');
    const line = lineOf((await r.call('CLIENT', 'LIST')) as string, 'qbtest');
    expect(field(line, 'qbuf')).toBe(0);
    expect(field(line, 'qbuf-free')).toBe(20474);
    const self = (await r.call('CLIENT', 'INFO')) as string;
    expect(field(self, 'qbuf')).toBe(26);
    expect(field(self, 'qbuf-free')).toBe(20448);
    await waitUntil(async () => field(lineOf((await r.call('CLIENT', 'LIST')) as string, 'qbtest'), 'qbuf-free') === 0, 5000, 'release');
  }, 10000);

  it('a reply past the hard limit closes the client before anything is sent', async () => {
    await r.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 100000 0 0');
    try {
      for (let i = 0; i < 150; i++) await r.lpush('biglist', 'x'.repeat(1000));
      await r.hset('myhash', 'a', 'b');
      const c = await RawClient.connect(srv.port);
      c.send('LRANGE', 'biglist', '0', '-1');
      await waitUntil(() => c.closed, 3000, 'close');
      expect(c.buf).toBe('');
      const h = await RawClient.connect(srv.port);
      h.send('HRANDFIELD', 'myhash', '-999999999');
      await waitUntil(() => h.closed, 5000, 'close');
      expect(h.buf).toBe('');
      // Transactions run to the end first.
      const m = await RawClient.connect(srv.port);
      m.sock.write('*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$2\r\nv2\r\n*4\r\n$6\r\nLRANGE\r\n$7\r\nbiglist\r\n$1\r\n0\r\n$2\r\n-1\r\n*3\r\n$3\r\nSET\r\n$2\r\nk3\r\n$2\r\nv3\r\n*1\r\n$4\r\nEXEC\r\n');
      await waitUntil(() => m.closed, 3000, 'close');
      expect(await r.get('k3')).toBe('v3');
      expect(srv.logs.some((l) => l.includes('scheduled to be closed ASAP for overcoming of output buffer limits.'))).toBe(true);
    } finally {
      await r.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0');
    }
  });
});

describe('client tracking and scripts', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ 'enable-debug-command': 'yes' });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it("NOLOOP: a script's writes count as its caller's", async () => {
    const t = await RawClient.connect(srv.port);
    t.send('HELLO', '3');
    await waitUntil(() => t.buf.includes('proto'), 2000, 'hello');
    t.buf = '';
    t.send('CLIENT', 'TRACKING', 'on', 'NOLOOP');
    t.send('SET', 'key1', '1');
    t.send('GET', 'key1');
    t.send('EVAL', "return redis.call('set', 'key1', '2')", '1', 'key1');
    t.send('GET', 'key1');
    await waitUntil(() => t.buf.endsWith('$1\r\n2\r\n'), 2000, 'replies');
    expect(t.buf).toBe('+OK\r\n+OK\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n');
    t.sock.destroy();
  });

  it('a script tracks its declared keys once it calls a read-only command; EVAL_RO itself does not', async () => {
    const t = await RawClient.connect(srv.port);
    t.send('HELLO', '3');
    await waitUntil(() => t.buf.includes('proto'), 2000, 'hello');
    t.buf = '';
    t.send('CLIENT', 'TRACKING', 'on');
    await waitUntil(() => t.buf === '+OK\r\n', 2000, 'tracking');
    t.buf = '';
    const w = srv.client();
    t.send('EVAL', "redis.call('set', 'k3{t}', 'bar')", '2', 'k1{t}', 'k2{t}');
    await waitUntil(() => t.buf.length > 0, 2000, 'eval');
    t.buf = '';
    await w.mset('k2{t}', '1', 'k1{t}', '1');
    t.send('EVAL_RO', "redis.call('ping')", '2', 'k1{t}', 'k2{t}');
    await waitUntil(() => t.buf.length > 0, 2000, 'eval_ro');
    t.buf = '';
    await w.mset('k2{t}', '2', 'k1{t}', '2');
    t.send('PING');
    await waitUntil(() => t.buf.length > 0, 2000, 'ping');
    expect(t.buf).toBe('+PONG\r\n');
    t.buf = '';
    t.send('EVAL', "redis.call('get', 'k3{t}')", '2', 'k1{t}', 'k2{t}');
    await waitUntil(() => t.buf.length > 0, 2000, 'eval');
    t.buf = '';
    await w.mset('k2{t}', '3', 'k1{t}', '3');
    await waitUntil(() => t.buf.includes('k1{t}'), 2000, 'invalidate');
    expect(t.buf).toBe('>2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nk2{t}\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nk1{t}\r\n');
    t.sock.destroy();
  });

  it('tracking-table-max-keys applies before a queued command, its invalidation before QUEUED', async () => {
    const r = srv.client();
    await r.call('FLUSHALL');
    await r.call('CONFIG', 'SET', 'tracking-table-max-keys', '2');
    await r.call('DEBUG', 'PAUSE-CRON', '1');
    try {
      const t = await RawClient.connect(srv.port);
      t.send('HELLO', '3');
      await waitUntil(() => t.buf.includes('proto'), 2000, 'hello');
      t.buf = '';
      t.send('CLIENT', 'TRACKING', 'on');
      t.send('MGET', '1{tag}', '2{tag}');
      t.send('MULTI');
      await waitUntil(() => t.buf.endsWith('+OK\r\n*2\r\n_\r\n_\r\n+OK\r\n'), 2000, 'multi');
      t.buf = '';
      await r.call('CONFIG', 'SET', 'tracking-table-max-keys', '1');
      t.send('PING');
      t.send('EXEC');
      await waitUntil(() => t.buf.includes('PONG'), 2000, 'exec');
      expect(t.buf).toBe('>2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\n1{tag}\r\n+QUEUED\r\n*1\r\n+PONG\r\n');
      t.sock.destroy();
    } finally {
      await r.call('DEBUG', 'PAUSE-CRON', '0');
      await r.call('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
    }
  });
});

describe('lazyfreed_objects', () => {
  it('counts values UNLINK frees in the background (more than 64 allocations)', async () => {
    const srv = await startTestServer();
    try {
      const r = srv.client();
      await r.call('CONFIG', 'SET', 'stream-node-max-entries', '5');
      for (let j = 0; j < 1000; j++) await r.xadd('stream', '*', 'foo', String(j));
      await r.xadd('small', '*', 'a', 'b');
      await r.sadd('tiny', 'a', 'b');
      expect(await r.unlink('small', 'tiny')).toBe(2);
      expect(infoField((await r.call('INFO', 'memory')) as string, 'lazyfreed_objects')).toBe('0');
      expect(await r.unlink('stream')).toBe(1);
      expect(infoField((await r.call('INFO', 'memory')) as string, 'lazyfreed_objects')).toBe('1');
      expect(infoField((await r.call('INFO', 'memory')) as string, 'lazyfree_pending_objects')).toBe('0');
      await r.call('CONFIG', 'RESETSTAT');
      expect(infoField((await r.call('INFO', 'memory')) as string, 'lazyfreed_objects')).toBe('0');
    } finally {
      await srv.stop();
    }
  });
});

describe('crash report (built CLI)', () => {
  beforeAll(() => ensureBuilt());

  it('SIGABRT and DEBUG SEGFAULT log "crashed by signal" and end the process by that signal', async () => {
    const a = spawnServer(tempDir('abrt'), await freePort());
    await waitUntil(() => a.output().includes('Ready to accept connections'), 10000, 'start');
    a.child.kill('SIGABRT');
    await a.exited;
    expect(a.output()).toContain('=== REDIS BUG REPORT START: Cut & paste starting from here ===');
    expect(a.output()).toMatch(/# Redis 7\.0\.15 crashed by signal: 6, si_code: 0/);
    expect(a.child.signalCode).toBe('SIGABRT');

    const s = spawnServer(tempDir('segv'), await freePort(), ['--enable-debug-command', 'yes']);
    await waitUntil(() => s.output().includes('Ready to accept connections'), 10000, 'start');
    const c = await RawClient.connect(s.port);
    c.send('DEBUG', 'SEGFAULT');
    await s.exited;
    expect(s.output()).toMatch(/# Redis 7\.0\.15 crashed by signal: 11, si_code: 2/);
    expect(s.output()).toContain('=== REDIS BUG REPORT END. Make sure to include from START to END. ===');
    expect(s.child.signalCode).toBe('SIGSEGV');
  }, 30000);
});
