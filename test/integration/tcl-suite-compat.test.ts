/**
 * Replies that Redis 7.0's own TCL test suite (tests/unit, run in external
 * mode against cacheside) depends on. Expected values are redis-server
 * 7.0.15's replies.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { err } from '../helpers/expect.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ 'enable-debug-command': 'yes' });
});
afterAll(async () => {
  await srv.stop();
});

describe('FUNCTION with no libraries', () => {
  it('FLUSH, LIST, STATS, DUMP and RESTORE answer as Redis does with no libraries', async () => {
    const c = srv.client();
    // the test harness runs FUNCTION FLUSH before every test file
    expect(await c.call('FUNCTION', 'FLUSH')).toBe('OK');
    expect(await c.call('FUNCTION', 'FLUSH', 'async')).toBe('OK');
    expect(await c.call('FUNCTION', 'FLUSH', 'SYNC')).toBe('OK');
    expect(await err(c.call('FUNCTION', 'FLUSH', 'foo'))).toBe('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
    expect(await err(c.call('FUNCTION', 'flush', 'async', 'sync'))).toBe(
      "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
    );
    expect(await c.call('FUNCTION', 'LIST')).toEqual([]);
    expect(await c.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'x', 'WITHCODE')).toEqual([]);
    expect(await err(c.call('FUNCTION', 'LIST', 'foo'))).toBe('ERR Unknown argument foo');
    expect(await err(c.call('FUNCTION', 'LIST', 'libraryname'))).toBe('ERR library name argument was not given');
    expect(await err(c.call('FUNCTION', 'LIST', 'withcode', 'withcode'))).toBe('ERR Unknown argument withcode');
    expect(await c.call('FUNCTION', 'STATS')).toEqual(['running_script', null, 'engines', ['LUA', ['libraries_count', 0, 'functions_count', 0]]]);
    const payload = (await c.callBuffer('FUNCTION', 'DUMP')) as Buffer;
    expect(payload.toString('hex')).toBe('0a005d9b5c400f7fa2da');
    expect(await c.call('FUNCTION', 'RESTORE', payload)).toBe('OK');
    expect(await c.call('FUNCTION', 'RESTORE', payload, 'FLUSH')).toBe('OK');
    expect(await err(c.call('FUNCTION', 'RESTORE', payload, 'bar'))).toBe(
      'ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.',
    );
    expect(await err(c.call('FUNCTION', 'RESTORE', 'abcdefghijk'))).toBe('ERR DUMP payload version or checksum are wrong');
    await c.call('SET', 'fn:k', 'v');
    const keyPayload = (await c.callBuffer('DUMP', 'fn:k')) as Buffer;
    expect(await err(c.call('FUNCTION', 'RESTORE', keyPayload))).toBe('ERR given type is not a function');
  });

  it('LOAD checks the library metadata and the engine; FCALL finds no function', async () => {
    const c = srv.client();
    expect(await err(c.call('FUNCTION', 'LOAD', 'foo'))).toBe('ERR Missing library metadata');
    expect(await err(c.call('FUNCTION', 'LOAD', 'x', 'y'))).toBe('ERR Unknown option given: x');
    expect(await err(c.call('FUNCTION', 'LOAD', 'replace', 'replace', 'x'))).toBe('ERR Missing library metadata');
    expect(await err(c.call('FUNCTION', 'LOAD', '#!foo'))).toBe('ERR Invalid library metadata');
    expect(await err(c.call('FUNCTION', 'LOAD', '#!foo bar=y\nreturn 1'))).toBe('ERR Invalid metadata value given: bar=y');
    expect(await err(c.call('FUNCTION', 'LOAD', '#!lua\nreturn 1'))).toBe('ERR Library name was not given');
    expect(await err(c.call('FUNCTION', 'LOAD', '#!foo name=x\nreturn 1'))).toBe("ERR Engine 'foo' not found");
    expect(await err(c.call('FUNCTION', 'DELETE', 'x'))).toBe('ERR Library not found');
    expect(await err(c.call('FUNCTION', 'KILL'))).toBe('NOTBUSY No scripts in execution right now.');
    expect(await err(c.call('FUNCTION', 'foo'))).toBe("ERR unknown subcommand 'foo'. Try FUNCTION HELP.");
    expect(await err(c.call('FCALL', 'f', '0'))).toBe('ERR Function not found');
    expect(await err(c.call('FCALL_RO', 'f', 'x'))).toBe('ERR Function not found');
    expect(await err(c.call('FCALL', 'f'))).toBe("ERR wrong number of arguments for 'fcall' command");
    expect(await c.call('COMMAND', 'GETKEYS', 'FCALL', 'f', '2', 'a', 'b', 'c')).toEqual(['a', 'b']);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WATCH and keys that expire (Redis 7.0 semantics)', () => {
  it('EXEC fails when a watched key expired after WATCH; a key already stale when watched may vanish', async () => {
    const c = srv.client();
    await c.call('SELECT', '0');
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      await c.call('FLUSHALL');
      await c.call('SET', 'key', '1', 'PX', '30');
      await c.call('WATCH', 'key');
      await sleep(40);
      await c.call('MULTI');
      await c.call('INCR', 'key');
      expect(await c.call('EXEC')).toBeNull();

      // stale when watched, then lazily deleted (EXISTS): no change
      await c.call('SET', 'x', 'foo', 'PX', '1');
      await sleep(5);
      await c.call('WATCH', 'x');
      expect(await c.call('EXISTS', 'x')).toBe(0);
      await c.call('MULTI');
      await c.call('PING');
      expect(await c.call('EXEC')).toEqual(['PONG']);

      // stale when watched, then FLUSHDB: no change
      await c.call('SET', 'x', 'foo', 'PX', '1');
      await sleep(5);
      await c.call('WATCH', 'x');
      await c.call('FLUSHDB');
      await c.call('MULTI');
      await c.call('PING');
      expect(await c.call('EXEC')).toEqual(['PONG']);
    } finally {
      await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });

  it('SWAPDB touches watched keys that exist on either side, but not stale ones', async () => {
    const c = srv.client();
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      // stale key replaced with no key
      await c.call('FLUSHALL');
      await c.call('SELECT', '1');
      await c.call('SET', 'x', 'foo', 'PX', '1');
      await sleep(5);
      await c.call('WATCH', 'x');
      await c.call('SWAPDB', '0', '1');
      await c.call('MULTI');
      await c.call('PING');
      expect(await c.call('EXEC')).toEqual(['PONG']);
      // missing key replaced with a stale key
      await c.call('FLUSHALL');
      await c.call('SELECT', '0');
      await c.call('SET', 'x', 'foo', 'PX', '1');
      await sleep(5);
      await c.call('SELECT', '1');
      await c.call('WATCH', 'x');
      await c.call('SWAPDB', '0', '1');
      await c.call('MULTI');
      await c.call('PING');
      expect(await c.call('EXEC')).toEqual(['PONG']);
      // a live key swapped away
      await c.call('SELECT', '0');
      await c.call('FLUSHALL');
      await c.call('SET', 'x', '30');
      await c.call('WATCH', 'x');
      await c.call('SWAPDB', '0', '1');
      await c.call('MULTI');
      await c.call('PING');
      expect(await c.call('EXEC')).toBeNull();
    } finally {
      await c.call('SELECT', '0');
      await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });
});

describe('blocking, pause and pub/sub corner cases', () => {
  it('SWAPDB wakes a client blocked on a key the swapped-in database holds', async () => {
    const c = srv.client();
    await c.call('FLUSHALL');
    await c.call('SELECT', '1');
    await c.call('RPUSH', 'swapk', 'hello');
    const rd = srv.client();
    await rd.call('SELECT', '9');
    const popped = rd.call('BRPOP', 'swapk', '5');
    await sleep(50);
    await c.call('SWAPDB', '1', '9');
    expect(await popped).toEqual(['swapk', 'hello']);
    await c.call('SELECT', '0');
  });

  it('a client held by CLIENT PAUSE WRITE counts in blocked_clients; PFCOUNT is held too', async () => {
    const c = srv.client();
    await c.call('PFADD', 'pause-hll', 'a');
    await c.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    try {
      const rd = srv.client();
      const held = rd.call('PFCOUNT', 'pause-hll');
      const blocked = async () => Number(/blocked_clients:(\d+)/.exec((await c.call('INFO', 'clients')) as string)![1]);
      for (let i = 0; i < 50 && (await blocked()) !== 1; i++) await sleep(10);
      expect(await blocked()).toBe(1);
      await c.call('CLIENT', 'UNPAUSE');
      expect(await held).toBe(1);
      expect(await blocked()).toBe(0);
    } finally {
      await c.call('CLIENT', 'UNPAUSE');
    }
  });

  it('subscribe confirmations are pushed even under CLIENT REPLY OFF', async () => {
    const { RawClient } = await import('../helpers/raw-client.js');
    const rd = await RawClient.connect(srv.port);
    rd.send('CLIENT', 'REPLY', 'OFF');
    rd.send('SUBSCRIBE', 'ch');
    const confirmation = '*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n';
    expect(await rd.expectBytes(confirmation)).toBe(confirmation);
    rd.close();
  });

  it('a blocked XREADGROUP that ends with NOGROUP counts as a failed call', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'RESETSTAT');
    await c.call('DEL', 'cg-stream');
    await c.call('XGROUP', 'CREATE', 'cg-stream', 'g', '$', 'MKSTREAM');
    const rd = srv.client();
    const read = rd.call('XREADGROUP', 'GROUP', 'g', 'alice', 'BLOCK', '0', 'STREAMS', 'cg-stream', '>').catch((e: Error) => e.message);
    await sleep(50);
    await c.call('XGROUP', 'DESTROY', 'cg-stream', 'g');
    expect(await read).toBe('NOGROUP the consumer group this client was blocked on no longer exists');
    expect((await c.call('INFO', 'commandstats')) as string).toMatch(/cmdstat_xreadgroup:calls=1,.*,rejected_calls=0,failed_calls=1/);
  });
});

describe('protocol and introspection details', () => {
  it('DEBUG PROTOCOL replies with a test value of each type (RESP2 and RESP3)', async () => {
    const { RawClient } = await import('../helpers/raw-client.js');
    const rd = await RawClient.connect(srv.port);
    const expect2: [string, string][] = [
      ['attrib', '$39\r\nSome real reply following the attribute\r\n'],
      ['push', '-ERR RESP2 is not supported by this command\r\n'],
      ['double', '$5\r\n3.141\r\n'],
      ['map', '*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n'],
      ['bignum', '$37\r\n1234567999999999999999999999999999999\r\n'],
      ['true', ':1\r\n'],
    ];
    for (const [t, want] of expect2) expect(await rd.call(['DEBUG', 'PROTOCOL', t], want)).toBe(want);
    const hello = await rd.call(['HELLO', '3'], '%7\r\n');
    expect(hello).toBe('%7\r\n');
    await new Promise((r) => setTimeout(r, 50));
    rd.buf = '';
    const expect3: [string, string][] = [
      ['string', '$11\r\nHello World\r\n'],
      ['integer', ':12345\r\n'],
      ['double', ',3.141\r\n'],
      ['bignum', '(1234567999999999999999999999999999999\r\n'],
      ['null', '_\r\n'],
      ['array', '*3\r\n:0\r\n:1\r\n:2\r\n'],
      ['set', '~3\r\n:0\r\n:1\r\n:2\r\n'],
      ['map', '%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n'],
      ['attrib', '|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n'],
      ['push', '>2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n'],
      ['verbatim', '=29\r\ntxt:This is a verbatim\nstring\r\n'],
      ['false', '#f\r\n'],
      [
        'foo',
        '-ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n',
      ],
    ];
    for (const [t, want] of expect3) expect(await rd.call(['DEBUG', 'PROTOCOL', t], want)).toBe(want);
    rd.close();
  });

  it('a protocol desync gets an error and a closed connection (writes then fail)', async () => {
    const { RawClient } = await import('../helpers/raw-client.js');
    for (const seq of ['\x00', '*\x00']) {
      const rd = await RawClient.connect(srv.port);
      rd.sock.write(seq + 'payload'.repeat(20000), 'latin1');
      await rd.waitClosed();
      expect(rd.buf).toMatch(/^-ERR Protocol error: too big (inline request|mbulk count string)\r\n$/);
    }
  });

  it('COMMAND GETKEYSANDFLAGS resolves variable key flags (SET, BITFIELD)', async () => {
    const c = srv.client();
    expect(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k1', 'v1')).toEqual([['k1', ['OW', 'update']]]);
    expect(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k', 'v', 'get')).toEqual([['k', ['RW', 'access', 'update']]]);
    expect(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'bitfield', 'k', 'get', 'u8', '0')).toEqual([['k', ['RO', 'access']]]);
    expect(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'bitfield', 'k', 'overflow', 'sat')).toEqual([['k', ['RO', 'access']]]);
    expect(await c.call('COMMAND', 'GETKEYSANDFLAGS', 'bitfield', 'k', 'get', 'u8', '0', 'incrby', 'u8', '0', '1')).toEqual([
      ['k', ['RW', 'access', 'update']],
    ]);
  });

  it('COMMAND INFO hides may_replicate and shows no_async_loading', async () => {
    const c = srv.client();
    const [publish, sync, pfcount] = (await c.call('COMMAND', 'INFO', 'publish', 'sync', 'pfcount')) as unknown[][];
    expect(publish![2]).toEqual(['pubsub', 'loading', 'stale', 'fast']);
    expect(sync![2]).toEqual(['admin', 'noscript', 'no_async_loading', 'no_multi']);
    expect(pfcount![2]).toEqual(['readonly']);
  });

  it('CLIENT INFO counts the running command in qbuf', async () => {
    const c = srv.client();
    expect((await c.call('CLIENT', 'INFO')) as string).toMatch(/ qbuf=26 /);
  });

  it('SCAN deletes the expired keys it meets', async () => {
    const c = srv.client();
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      await c.call('FLUSHALL');
      await c.call('SET', 'foo1', 'bar', 'PX', '1');
      await c.call('SET', 'foo2', 'bar');
      await sleep(5);
      expect(await c.call('SCAN', '0')).toEqual(['0', ['foo2']]);
      expect((await c.call('INFO', 'keyspace')) as string).toMatch(/db0:keys=1,expires=0/);
    } finally {
      await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });
});

describe('streams: loading and replaying', () => {
  it('a stream DUMPed by Redis 5 (RDB < 10) gets entries-read estimated for its groups', async () => {
    const c = srv.client();
    await c.call('DEL', 'x');
    // XADD 1-0..6-0, XDEL 3-0, groups g1 and g2 at 0, g1 read 4 entries, XTRIM MAXLEN 2 (from Redis's test suite)
    const payload = Buffer.from("\x0F\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\xC3\x40\x4A\x40\x57\x16\x57\x00\x00\x00\x23\x00\x02\x01\x04\x01\x01\x01\x84\x64\x61\x74\x61\x05\x00\x01\x03\x01\x00\x20\x01\x03\x81\x61\x02\x04\x20\x0A\x00\x01\x40\x0A\x00\x62\x60\x0A\x00\x02\x40\x0A\x00\x63\x60\x0A\x40\x22\x01\x81\x64\x20\x0A\x40\x39\x20\x0A\x00\x65\x60\x0A\x00\x05\x40\x0A\x00\x66\x20\x0A\x00\xFF\x02\x06\x00\x02\x02\x67\x31\x05\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x3E\xF7\x83\x43\x7A\x01\x00\x00\x01\x01\x03\x63\x31\x31\x3E\xF7\x83\x43\x7A\x01\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x02\x67\x32\x00\x00\x00\x00\x09\x00\x3D\x52\xEF\x68\x67\x52\x1D\xFA", 'latin1');
    expect(await c.call('RESTORE', 'x', '0', payload)).toBe('OK');
    const groups = (await c.call('XINFO', 'GROUPS', 'x')) as unknown[][];
    expect(groups).toEqual([
      ['name', 'g1', 'consumers', 1, 'pending', 4, 'last-delivered-id', '5-0', 'entries-read', 1, 'lag', 1],
      ['name', 'g2', 'consumers', 0, 'pending', 0, 'last-delivered-id', '0-0', 'entries-read', 0, 'lag', 2],
    ]);
  });

  it('XADD with ~ MAXLEN and LIMIT replays from the AOF as written (= with LIMIT is obeyed)', async () => {
    const aof = await startTestServer({ 'enable-debug-command': 'yes', appendonly: 'yes', 'stream-node-max-entries': 10 });
    try {
      const c = aof.client();
      for (let i = 0; i < 100; i++) await c.call('XADD', 'mystream', '*', 'xitem', 'v');
      await c.call('XADD', 'mystream', 'MAXLEN', '~', '55', 'LIMIT', '30', '*', 'xitem', 'v');
      expect(await c.call('XLEN', 'mystream')).toBe(71);
      await c.call('CONFIG', 'SET', 'stream-node-max-entries', '1');
      expect(await c.call('DEBUG', 'LOADAOF')).toBe('OK');
      expect(await c.call('XLEN', 'mystream')).toBe(71);
      await c.call('XADD', 'mystream', '*', 'xitem', 'v');
      expect(await c.call('XLEN', 'mystream')).toBe(72);
    } finally {
      await aof.stop();
    }
  });
});

describe('DEBUG QUICKLIST-PACKED-THRESHOLD and CLIENT PAUSE details', () => {
  it('the threshold shapes the list nodes of DUMP payloads (bytes checked against Redis 7.0.15)', async () => {
    const c = srv.client();
    expect(await c.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '5b')).toBe('OK');
    try {
      await c.call('DEL', 'qlt');
      await c.call('RPUSH', 'qlt', 'a', 'xxxxxxxxxx', 'b', 'c');
      const dump = (await c.callBuffer('DUMP', 'qlt')) as Buffer;
      expect(dump.toString('latin1')).toBe(
        '\x12\x03\x02\n\n\x00\x00\x00\x01\x00\x81a\x02\xff\x01\nxxxxxxxxxx\x02\r\r\x00\x00\x00\x02\x00\x81b\x02\x81c\x02\xff\n\x00\xf1\x03K?\x039\xfc+',
      );
      for (const bad of ['-1', '5gb', 'abc', '4294967295', '3.5']) {
        expect(await err(c.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', bad))).toBe('ERR argument must be a memory value bigger than 1 and smaller than 4gb');
      }
    } finally {
      expect(await c.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '0')).toBe('OK');
    }
  });

  it('a command with the wrong arity gets its error at once during CLIENT PAUSE', async () => {
    const c = srv.client();
    await c.call('CLIENT', 'PAUSE', '100000', 'WRITE');
    try {
      expect(await err(c.call('SET', 'FOO'))).toBe("ERR wrong number of arguments for 'set' command");
    } finally {
      await c.call('CLIENT', 'UNPAUSE');
    }
  });
});

describe('client tracking details', () => {
  it('INFO reports the tracking table; BCAST without PREFIX lists the empty prefix', async () => {
    const c = srv.client();
    const b = srv.client();
    await c.call('FLUSHALL');
    await c.call('CLIENT', 'TRACKING', 'ON');
    await c.call('GET', 'tk1');
    await c.call('GET', 'tk2');
    await b.call('CLIENT', 'TRACKING', 'ON', 'BCAST');
    expect(await b.call('CLIENT', 'TRACKINGINFO')).toEqual(['flags', ['on', 'bcast'], 'redirect', 0, 'prefixes', ['']]);
    const info = (await c.call('INFO')) as string;
    expect(info).toMatch(/tracking_clients:2\r\n/);
    expect(info).toMatch(/tracking_total_keys:2\r\n/);
    expect(info).toMatch(/tracking_total_items:2\r\n/);
    expect(info).toMatch(/tracking_total_prefixes:1\r\n/);
    await c.call('CLIENT', 'TRACKING', 'OFF');
    await b.call('CLIENT', 'TRACKING', 'OFF');
  });

  it('lowering tracking-table-max-keys evicts remembered keys without waiting for a read', async () => {
    const c = srv.client();
    const sub = srv.client();
    const id = (await sub.call('CLIENT', 'ID')) as number;
    const messages: string[][] = [];
    sub.on('messageBuffer', (_ch: Buffer, msg: Buffer[] | Buffer) => messages.push((Array.isArray(msg) ? msg : [msg]).map((x) => x.toString())));
    await sub.subscribe('__redis__:invalidate');
    await c.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id));
    await c.call('MSET', 'ev1', '1', 'ev2', '2');
    await c.call('MGET', 'ev1', 'ev2');
    await c.call('CONFIG', 'SET', 'tracking-table-max-keys', '1');
    try {
      for (let i = 0; i < 100 && messages.length === 0; i++) await sleep(20);
      expect(messages.length).toBeGreaterThan(0);
      expect(['ev1', 'ev2']).toContain(messages[0]![0]);
    } finally {
      await c.call('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
      await c.call('CLIENT', 'TRACKING', 'OFF');
    }
  });
});
