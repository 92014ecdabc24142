/**
 * Behaviour Redis 7.0's own TCL suite depends on (third batch): DEBUG
 * HTSTATS / HTSTATS-KEY, the MIGRATE connection cache in INFO, the replica's
 * "Unable to AUTH to MASTER" log line, CLIENT UNBLOCK in the command and
 * error stats, active expiry of keys written on a writable replica,
 * READONLY / READWRITE / ASKING on a non-cluster server, MIGRATE's and the
 * numkeys commands' key extraction, SORT BY / GET under ACL key patterns,
 * relative paths resolved against `dir`, and the "expire-cycle" latency
 * event. Expected texts and values are redis-server 7.0.15's.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/spawn-server.js';

const err = (p: Promise<unknown>): Promise<string> => p.then((v) => `no error: ${JSON.stringify(v)}`, (e: Error) => e.message);
const infoField = (info: string, name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();

const EMPTY_TABLE = 'Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n';
const ONE_ELEMENT_TABLE =
  'Hash table 0 stats (main hash table):\n' +
  ' table size: 4\n' +
  ' number of elements: 1\n' +
  ' different slots: 1\n' +
  ' max chain length: 1\n' +
  ' avg chain length (counted): 1.00\n' +
  ' avg chain length (computed): 1.00\n' +
  ' Chain length distribution:\n' +
  '   0: 3 (75.00%)\n' +
  '   1: 1 (25.00%)\n';

describe('DEBUG HTSTATS / HTSTATS-KEY', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ 'enable-debug-command': 'yes' });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('describes the key and expires tables of a database in 7.0 layout', async () => {
    const c = srv.client();
    expect(await c.call('DEBUG', 'HTSTATS', '0')).toBe(`[Dictionary HT]\n${EMPTY_TABLE}[Expires HT]\n${EMPTY_TABLE}`);
    await c.set('a', 'b');
    expect(await c.call('DEBUG', 'HTSTATS', '0')).toBe(`[Dictionary HT]\n${ONE_ELEMENT_TABLE}[Expires HT]\n${EMPTY_TABLE}`);
    await c.expire('a', 100);
    expect(await c.call('DEBUG', 'HTSTATS', '0')).toBe(`[Dictionary HT]\n${ONE_ELEMENT_TABLE}[Expires HT]\n${ONE_ELEMENT_TABLE}`);
    expect(await err(c.call('DEBUG', 'HTSTATS', '16'))).toBe('ERR Out of range database');
    expect(await err(c.call('DEBUG', 'HTSTATS', '-1'))).toBe('ERR Out of range database');
    expect(await err(c.call('DEBUG', 'HTSTATS', 'x'))).toBe('ERR value is not an integer or out of range');
    // 7.0 has no FULL argument.
    expect(await err(c.call('DEBUG', 'HTSTATS', '0', 'full'))).toBe("ERR unknown subcommand or wrong number of arguments for 'HTSTATS'. Try DEBUG HELP.");
  });

  it('reports the table size a Redis dict reaches for the element count', async () => {
    const c = srv.client();
    await c.call('SELECT', '9');
    await c.call('DEBUG', 'POPULATE', '4096');
    let text = (await c.call('DEBUG', 'HTSTATS', '9')) as string;
    expect(text).toContain(' table size: 4096\n number of elements: 4096\n');
    await c.set('one-more', '1');
    text = (await c.call('DEBUG', 'HTSTATS', '9')) as string;
    expect(text).toContain(' table size: 8192\n number of elements: 4097\n');
    // The chain length distribution covers every bucket.
    const dict = text.slice(0, text.indexOf('[Expires HT]'));
    const buckets = [...dict.matchAll(/^ {3}\d+: (\d+) \(/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(buckets).toBe(8192);
    await c.call('FLUSHDB');
    await c.call('SELECT', '0');
  });

  it('HTSTATS-KEY: hashtable sets and hashes, skiplist sorted sets; errors as Redis', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'SET', 'zset-max-listpack-entries', '0');
    await c.call('CONFIG', 'SET', 'hash-max-listpack-entries', '0');
    await c.sadd('s', 'a');
    await c.zadd('z', 1, 'a');
    await c.hset('h', 'f', 'v');
    await c.call('CONFIG', 'SET', 'zset-max-listpack-entries', '128');
    await c.call('CONFIG', 'SET', 'hash-max-listpack-entries', '128');
    for (const k of ['s', 'z', 'h']) expect(await c.call('DEBUG', 'HTSTATS-KEY', k)).toBe(ONE_ELEMENT_TABLE);
    await c.sadd('big', ...Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(await c.call('DEBUG', 'HTSTATS-KEY', 'big')).toContain(' table size: 128\n number of elements: 100\n');
    await c.sadd('is', '1');
    await c.rpush('l', 'a');
    await c.zadd('zl', 1, 'a');
    await c.hset('hl', 'f', 'v');
    const notHt = 'ERR The value stored at the specified key is not represented using an hash table';
    for (const k of ['a', 'is', 'l', 'zl', 'hl']) expect(await err(c.call('DEBUG', 'HTSTATS-KEY', k))).toBe(notHt);
    expect(await err(c.call('DEBUG', 'HTSTATS-KEY', 'nokey'))).toBe('ERR no such key');
  });

  it('is listed in DEBUG HELP', async () => {
    const help = (await srv.client().call('DEBUG', 'HELP')) as string[];
    const i = help.indexOf('HTSTATS <dbid>');
    expect(help.slice(i, i + 4)).toEqual([
      'HTSTATS <dbid>',
      '    Return hash table statistics of the specified Redis database.',
      'HTSTATS-KEY <key>',
      "    Like HTSTATS but for the hash table stored at <key>'s value.",
    ]);
  });
});

describe('MIGRATE connection cache', () => {
  it('INFO migrate_cached_sockets counts the cached connections of this server only', async () => {
    const src = await startTestServer({});
    const dst = await startTestServer({});
    const other = await startTestServer({});
    try {
      const c = src.client();
      const cached = async (s: TestServer) => infoField((await s.client().call('INFO', 'stats')) as string, 'migrate_cached_sockets');
      expect(await cached(src)).toBe('0');
      await c.set('key', 'Some Value');
      expect(await c.call('MIGRATE', '127.0.0.1', String(dst.port), 'key', '9', '1000')).toBe('OK');
      expect(await cached(src)).toBe('1');
      await c.set('key2', 'v');
      expect(await c.call('MIGRATE', '127.0.0.1', String(dst.port), 'key2', '0', '1000')).toBe('OK');
      expect(await cached(src)).toBe('1');
      expect(await cached(other)).toBe('0');
      const d = dst.client();
      await d.call('SELECT', '9');
      expect(await d.get('key')).toBe('Some Value');
    } finally {
      await src.stop();
      await dst.stop();
      await other.stop();
    }
  });
});

describe('replication handshake with a binary masterauth', () => {
  it('logs "Unable to AUTH to MASTER: <error>", keeps retrying, and syncs once the password is right', async () => {
    const master = await startTestServer({ 'repl-diskless-sync-delay': 0 });
    const replica = await startTestServer({});
    try {
      const m = master.client();
      const r = replica.client();
      await m.call('CONFIG', 'SET', 'requirepass', 'abc\x00def');
      await m.call('AUTH', 'abc\x00def');
      await r.call('REPLICAOF', '127.0.0.1', String(master.port));
      await r.call('CONFIG', 'SET', 'masterauth', 'abc');
      const line = 'Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is disabled.';
      await waitUntil(() => replica.logs.some((l) => l.endsWith(`# ${line}`)), 5000, 'AUTH failure logged');
      expect(infoField((await r.call('INFO', 'replication')) as string, 'master_link_status')).toBe('down');
      await r.call('CONFIG', 'SET', 'masterauth', 'abc\x00def');
      await waitUntil(async () => infoField((await r.call('INFO', 'replication')) as string, 'master_link_status') === 'up', 5000, 'link up');
    } finally {
      await replica.stop();
      await master.stop();
    }
  });
});

describe('CLIENT UNBLOCK in the stats', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({});
  });
  afterAll(async () => {
    await srv.stop();
  });

  async function blockedClient(): Promise<{ id: number; reply: Promise<string> }> {
    const b = srv.client();
    const id = (await b.call('CLIENT', 'ID')) as number;
    const reply = err(b.call('BLPOP', 'list1', '0'));
    const c = srv.client();
    await waitUntil(async () => infoField((await c.call('INFO', 'clients')) as string, 'blocked_clients') === '1');
    return { id, reply };
  }

  it('ERROR: the UNBLOCKED error is counted, and the blocked command as failed', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'RESETSTAT');
    const { id, reply } = await blockedClient();
    expect(await c.call('CLIENT', 'UNBLOCK', String(id), 'ERROR')).toBe(1);
    expect(await reply).toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    const info = (await c.call('INFO', 'all')) as string;
    expect(infoField(info, 'errorstat_UNBLOCKED')).toBe('count=1');
    expect(infoField(info, 'cmdstat_blpop')).toMatch(/^calls=1,.*,rejected_calls=0,failed_calls=1$/);
    expect(infoField(info, 'total_error_replies')).toBe('1');
  });

  it('TIMEOUT: no error reply, yet 7.0 counts the command as failed too', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'RESETSTAT');
    const { id, reply } = await blockedClient();
    expect(await c.call('CLIENT', 'UNBLOCK', String(id), 'TIMEOUT')).toBe(1);
    expect(await reply).toBe('no error: null');
    const info = (await c.call('INFO', 'all')) as string;
    expect(infoField(info, 'cmdstat_blpop')).toMatch(/^calls=1,.*,rejected_calls=0,failed_calls=1$/);
    expect(infoField(info, 'total_error_replies')).toBe('0');
  });
});

describe('a writable replica expires the keys its own clients gave a TTL', () => {
  it('tracks them (slave_expires_tracked_keys) and expires them actively; the master\'s keys are not tracked', async () => {
    const master = await startTestServer({ 'repl-diskless-sync-delay': 0 });
    const replica = await startTestServer({});
    try {
      const m = master.client();
      const r = replica.client();
      await r.call('REPLICAOF', '127.0.0.1', String(master.port));
      await waitUntil(async () => infoField((await r.call('INFO', 'replication')) as string, 'master_link_status') === 'up', 5000, 'link up');
      await r.call('CONFIG', 'SET', 'replica-read-only', 'no');
      const stat = async (name: string) => infoField((await r.call('INFO', 'stats')) as string, name);
      expect(await stat('slave_expires_tracked_keys')).toBe('0');
      await r.set('keep', 'v', 'EX', 100);
      await r.set('plain', 'v');
      expect(await stat('slave_expires_tracked_keys')).toBe('1');
      await m.set('from-master', 'v', 'EX', 100);
      await waitUntil(async () => (await r.exists('from-master')) === 1, 3000, 'replicated');
      expect(await stat('slave_expires_tracked_keys')).toBe('1');
      const before = Number(await stat('expired_keys'));
      await r.set('foo', 'bar', 'PX', 1);
      await waitUntil(async () => Number(await stat('expired_keys')) === before + 1, 3000, 'foo expired');
      expect(await r.get('foo')).toBe(null);
      expect(await stat('slave_expires_tracked_keys')).toBe('1');
      await r.call('FLUSHALL');
      expect(await stat('slave_expires_tracked_keys')).toBe('0');
    } finally {
      await replica.stop();
      await master.stop();
    }
  });
});

describe('READONLY, READWRITE, ASKING without cluster support', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({});
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('exist with 7.0\'s flags and ACL categories and refuse to run', async () => {
    const c = srv.client();
    for (const name of ['readonly', 'readwrite', 'asking']) {
      expect(await err(c.call(name.toUpperCase()))).toBe('ERR This instance has cluster support disabled');
    }
    expect(await err(c.call('READONLY', 'x'))).toBe("ERR wrong number of arguments for 'readonly' command");
    const info = (await c.call('COMMAND', 'INFO', 'readonly', 'readwrite', 'asking')) as unknown[][];
    expect(info.map((e) => e.slice(0, 7))).toEqual([
      ['readonly', 1, ['loading', 'stale', 'fast'], 0, 0, 0, ['@fast', '@connection']],
      ['readwrite', 1, ['loading', 'stale', 'fast'], 0, 0, 0, ['@fast', '@connection']],
      ['asking', 1, ['fast'], 0, 0, 0, ['@fast', '@connection']],
    ]);
    const docs = (await c.call('COMMAND', 'DOCS', 'readonly')) as unknown[];
    expect(docs).toEqual(['readonly', ['summary', 'Enables read queries for a connection to a cluster replica node', 'since', '3.0.0', 'group', 'cluster', 'complexity', 'O(1)']]);
    expect(await c.call('ACL', 'SETUSER', 'scripter', 'on', 'nopass', '+readonly')).toBe('OK');
    expect(await c.call('ACL', 'DRYRUN', 'scripter', 'READONLY')).toBe('OK');
    expect(await c.call('ACL', 'DELUSER', 'scripter')).toBe(1);
  });
});

describe('key extraction of MIGRATE and numkeys commands; SORT patterns under ACL', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({});
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('COMMAND GETKEYS as Redis 7.0: AUTH / AUTH2 arguments skipped, over-long numkeys means no keys', async () => {
    const c = srv.client();
    const keys = (...argv: string[]) => err(c.call('COMMAND', 'GETKEYS', ...argv)).then((r) => (r.startsWith('no error: ') ? JSON.parse(r.slice(10)) : r));
    expect(await keys('MIGRATE', 'h', 'p', '', '0', '5000', 'AUTH', 'KEYS', 'KEYS', 'rw')).toEqual(['rw']);
    expect(await keys('MIGRATE', 'h', 'p', '', '0', '5000', 'AUTH2', 'KEYS', '123', 'KEYS', 'rw')).toEqual(['rw']);
    expect(await keys('MIGRATE', 'h', 'p', '', '0', '5000', 'AUTH2', 'USER', 'KEYS', 'KEYS', 'rw')).toEqual(['rw']);
    expect(await keys('MIGRATE', 'h', 'p', '', '0', '5000', 'COPY', 'REPLACE', 'KEYS', 'a', 'b')).toEqual(['a', 'b']);
    expect(await keys('MIGRATE', 'h', 'p', 'k', '0', '5000')).toEqual(['k']);
    expect(await keys('MIGRATE', 'h', 'p', 'k', '0', '5000', 'KEYS', 'a')).toBe('ERR Invalid arguments specified for command');
    expect(await keys('EVAL', '', '3', 'rw', 'read')).toEqual([]);
    expect(await keys('EVAL', '', '2', 'a', 'b')).toEqual(['a', 'b']);
    expect(await keys('ZUNIONSTORE', 'd', '3', 'a', 'b')).toBe('ERR Invalid arguments specified for command');
    expect(await keys('ZUNIONSTORE', 'd', '2', 'a', 'b')).toEqual(['d', 'a', 'b']);
    expect(await keys('ZMPOP', '3', 'a', 'MIN')).toBe('ERR Invalid arguments specified for command');
    expect(await keys('LMPOP', '3', 'a', 'b', 'left')).toEqual(['a', 'b', 'left']);
  });

  it('ACL DRYRUN checks the keys MIGRATE and EVAL really name', async () => {
    const c = srv.client();
    await c.call('ACL', 'SETUSER', 'command-test', '+@all', '%R~read*', '%W~write*', '%RW~rw*');
    const dry = (...argv: string[]) => c.call('ACL', 'DRYRUN', 'command-test', ...argv);
    expect(await dry('MIGRATE', 'whatever', 'whatever', '', '0', '5000', 'AUTH', 'KEYS', 'KEYS', 'rw')).toBe('OK');
    expect(await dry('MIGRATE', 'whatever', 'whatever', '', '0', '5000', 'AUTH', 'KEYS', 'KEYS', 'read')).toBe("This user has no permissions to access the 'read' key");
    expect(await dry('MIGRATE', 'whatever', 'whatever', '', '0', '5000', 'AUTH2', 'USER', 'KEYS', 'KEYS', 'write')).toBe("This user has no permissions to access the 'write' key");
    expect(await dry('EVAL', '', '3', 'rw', 'read')).toBe('OK');
    expect(await dry('EVAL', '', '0', 'read')).toBe('OK');
    expect(await dry('EVAL', '', '1', 'read')).toBe("This user has no permissions to access the 'read' key");
    await c.call('ACL', 'DELUSER', 'command-test');
  });

  it('SORT BY and GET patterns need a selector that reads every key', async () => {
    const c = srv.client();
    await c.set('v1', '1');
    await c.lpush('mylist', '1');
    await c.call('ACL', 'SETUSER', 'test-sort-acl', 'on', 'nopass', '(+sort ~mylist)');
    const u = srv.client();
    await u.call('AUTH', 'test-sort-acl', 'nopass');
    const BY = 'ERR BY option of SORT denied due to insufficient ACL permissions.';
    const GET = 'ERR GET option of SORT denied due to insufficient ACL permissions.';
    expect(await err(u.call('SORT', 'mylist', 'BY', 'v*'))).toBe(BY);
    expect(await err(u.call('SORT', 'mylist', 'GET', 'v*'))).toBe(GET);
    // A BY pattern without '*' reads no key.
    expect(await u.call('SORT', 'mylist', 'BY', 'nosort')).toEqual(['1']);
    await c.call('ACL', 'SETUSER', 'test-sort-acl', '(+sort ~mylist ~v*)');
    expect(await err(u.call('SORT', 'mylist', 'BY', 'v*'))).toBe(BY);
    await c.call('ACL', 'SETUSER', 'test-sort-acl', '(+sort ~mylist %W~*)');
    expect(await err(u.call('SORT', 'mylist', 'GET', 'v*'))).toBe(GET);
    await c.call('ACL', 'SETUSER', 'test-sort-acl', '(+sort ~mylist %R~*)');
    expect(await u.call('SORT', 'mylist', 'BY', 'v*')).toEqual(['1']);
    expect(await u.call('SORT', 'mylist', 'GET', 'v*')).toEqual(['1']);
    await c.call('ACL', 'DELUSER', 'test-sort-acl');
  });
});

describe('relative paths are relative to dir', () => {
  it('aclfile is read from and saved to dir; CONFIG GET dir shows the absolute directory', async () => {
    const dir = tempDir('acl-dir');
    fs.writeFileSync(path.join(dir, 'users.acl'), 'user alice on >alice ~* &* +@all\nuser default on nopass ~* &* +@all\n');
    fs.mkdirSync(path.join(dir, 'sub'));
    const srv = await startTestServer({ dir, aclfile: 'users.acl', 'enable-protected-configs': 'yes' });
    try {
      const c = srv.client();
      expect(await c.call('ACL', 'USERS')).toEqual(['alice', 'default']);
      await c.call('ACL', 'SETUSER', 'bob', 'on', '>bob');
      expect(await c.call('ACL', 'SAVE')).toBe('OK');
      expect(fs.readFileSync(path.join(dir, 'users.acl'), 'latin1')).toContain('user bob on');
      expect(await c.call('CONFIG', 'GET', 'dir')).toEqual(['dir', fs.realpathSync(dir)]);
      await c.call('CONFIG', 'SET', 'dir', 'sub');
      expect(await c.call('CONFIG', 'GET', 'dir')).toEqual(['dir', fs.realpathSync(path.join(dir, 'sub'))]);
      expect(await err(c.call('CONFIG', 'SET', 'dir', 'missing'))).toBe("ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory");
      await c.call('CONFIG', 'SET', 'dir', '..');
      expect(await c.call('ACL', 'LOAD')).toBe('OK');
    } finally {
      await srv.stop();
    }
  });
});

describe('LATENCY: the active expiry cycle', () => {
  it('records an expire-cycle event when a cycle takes latency-monitor-threshold or more', async () => {
    const srv = await startTestServer({ 'latency-monitor-threshold': 1 });
    try {
      const c = srv.client();
      // Many keys due at once: a cycle expires until its time budget (several ms) is spent.
      await c.eval("for i = 1, 50000 do redis.call('set', 'k' .. i, i, 'px', 1) end", 0);
      await waitUntil(async () => (await c.dbsize()) === 0, 10000, 'keys expired');
      const latest = (await c.call('LATENCY', 'LATEST')) as unknown[][];
      expect(latest.map((e) => e[0])).toContain('expire-cycle');
    } finally {
      await srv.stop();
    }
  });
});
