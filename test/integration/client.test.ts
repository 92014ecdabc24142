import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, encodeCommand, type RespValue } from '../interop/harness.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client whose connection handshake does not run extra commands. */
function client(): Redis {
  return srv.client({ enableReadyCheck: false });
}

/** Redis 7.0's CLIENT LIST line, field by field, in order. */
const LINE =
  /^id=(\d+) addr=(\S+) laddr=(\S+) fd=(-?\d+) name=(\S*) age=(\d+) idle=(\d+) flags=([A-Za-z]+) db=(\d+) sub=(\d+) psub=(\d+) ssub=(\d+) multi=(-?\d+) qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=(r|rw) cmd=(\S+) user=(\S+) redir=(-?\d+) resp=([23])( lib-name=\S* lib-ver=\S*)?$/;

interface Entry {
  id: number;
  addr: string;
  name: string;
  flags: string;
  db: number;
  sub: number;
  psub: number;
  multi: number;
  cmd: string;
  resp: number;
  raw: string;
}

function parseList(text: string): Entry[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = LINE.exec(line);
      expect(m, line).not.toBeNull();
      return {
        id: Number(m![1]),
        addr: m![2]!,
        name: m![5]!,
        flags: m![8]!,
        db: Number(m![9]),
        sub: Number(m![10]),
        psub: Number(m![11]),
        multi: Number(m![13]),
        cmd: m![15]!,
        resp: Number(m![18]),
        raw: line,
      };
    });
}

async function entryOf(observer: Redis, id: number): Promise<Entry> {
  const list = parseList((await observer.call('CLIENT', 'LIST', 'ID', String(id))) as string);
  expect(list).toHaveLength(1);
  return list[0]!;
}

describe('CLIENT ID / SETNAME / GETNAME / SETINFO', () => {
  it('ID is the id HELLO reports and CLIENT INFO shows', async () => {
    const c = client();
    const id = (await c.call('CLIENT', 'ID')) as number;
    expect(Number.isInteger(id)).toBe(true);
    const hello = (await c.call('HELLO')) as unknown[];
    expect(hello[hello.indexOf('id') + 1]).toBe(id);
    const info = parseList((await c.call('CLIENT', 'INFO')) as string);
    expect(info).toHaveLength(1);
    expect(info[0]!.id).toBe(id);
    expect(info[0]!.cmd).toBe('client|info');
  });

  it('SETNAME validates, GETNAME returns nil until set, an empty name clears it', async () => {
    const c = client();
    expect(await c.call('CLIENT', 'GETNAME')).toBeNull();
    await expect(c.call('CLIENT', 'SETNAME', 'a b')).rejects.toThrow(
      'ERR Client names cannot contain spaces, newlines or special characters.',
    );
    await expect(c.call('CLIENT', 'SETNAME', 'x\ny')).rejects.toThrow('ERR Client names cannot contain spaces');
    expect(await c.call('CLIENT', 'SETNAME', 'worker-1')).toBe('OK');
    expect(await c.call('CLIENT', 'GETNAME')).toBe('worker-1');
    expect((await entryOf(c, (await c.call('CLIENT', 'ID')) as number)).name).toBe('worker-1');
    expect(await c.call('CLIENT', 'SETNAME', '')).toBe('OK');
    expect(await c.call('CLIENT', 'GETNAME')).toBeNull();
    await expect(c.call('CLIENT', 'SETNAME')).rejects.toThrow("ERR wrong number of arguments for 'client|setname' command");
  });

  it('SETINFO sets lib-name / lib-ver shown by CLIENT INFO', async () => {
    const c = client();
    expect(await c.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib')).toBe('OK');
    expect(await c.call('CLIENT', 'SETINFO', 'lib-ver', '1.2.3')).toBe('OK');
    const line = ((await c.call('CLIENT', 'INFO')) as string).trimEnd();
    expect(line).toMatch(/ resp=2 lib-name=mylib lib-ver=1\.2\.3$/);
    await expect(c.call('CLIENT', 'SETINFO', 'lib-foo', 'x')).rejects.toThrow("ERR Unrecognized option 'lib-foo'");
    await expect(c.call('CLIENT', 'SETINFO', 'lib-name', 'a b')).rejects.toThrow(
      'ERR lib-name cannot contain spaces, newlines or special characters.',
    );
  });

  it('unknown subcommands and HELP', async () => {
    const c = client();
    await expect(c.call('CLIENT', 'nosuch')).rejects.toThrow("ERR unknown subcommand 'nosuch'. Try CLIENT HELP.");
    await expect(c.call('CLIENT')).rejects.toThrow("ERR wrong number of arguments for 'client' command");
    const help = (await c.call('CLIENT', 'HELP')) as string[];
    expect(help[0]).toBe('CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('PAUSE <timeout> [WRITE|ALL]');
    expect(help).toHaveLength(48);
  });

  it('GETREDIR, TRACKINGINFO and CACHING without tracking', async () => {
    const c = client();
    expect(await c.call('CLIENT', 'GETREDIR')).toBe(-1);
    expect(await c.call('CLIENT', 'TRACKINGINFO')).toEqual(['flags', ['off'], 'redirect', -1, 'prefixes', []]);
    expect(await c.call('CLIENT', 'TRACKING', 'off')).toBe('OK');
    await expect(c.call('CLIENT', 'TRACKING', 'maybe')).rejects.toThrow('ERR syntax error');
    await expect(c.call('CLIENT', 'CACHING', 'yes')).rejects.toThrow(
      'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled',
    );
  });
});

describe('CLIENT LIST / INFO', () => {
  it('lists every connection with Redis 7.0 fields, one line each', async () => {
    const a = client();
    const b = client();
    await b.call('CLIENT', 'SETNAME', 'bee');
    await b.call('SELECT', '3');
    const idA = (await a.call('CLIENT', 'ID')) as number;
    const idB = (await b.call('CLIENT', 'ID')) as number;
    const list = parseList((await a.call('CLIENT', 'LIST')) as string);
    const ea = list.find((e) => e.id === idA)!;
    const eb = list.find((e) => e.id === idB)!;
    expect(ea.cmd).toBe('client|list');
    expect(ea.flags).toBe('N');
    expect(eb).toMatchObject({ name: 'bee', db: 3, cmd: 'client|id', multi: -1, resp: 2 });
    // connection order = id order
    const ids = list.map((e) => e.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    // addr= is the client's own socket address
    expect(ea.addr).toBe(`127.0.0.1:${(a as unknown as { stream: { localPort: number } }).stream.localPort}`);
  });

  it('TYPE and ID filters, with Redis errors', async () => {
    const a = client();
    const sub = client();
    await sub.subscribe('news');
    const idA = (await a.call('CLIENT', 'ID')) as number;
    const pub = parseList((await a.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string);
    expect(pub.some((e) => e.sub === 1 && e.flags === 'P')).toBe(true);
    expect(pub.some((e) => e.id === idA)).toBe(false);
    const normal = parseList((await a.call('CLIENT', 'LIST', 'TYPE', 'Normal')) as string);
    expect(normal.some((e) => e.id === idA)).toBe(true);
    expect(normal.every((e) => e.sub === 0 && e.psub === 0)).toBe(true);
    expect(await a.call('CLIENT', 'LIST', 'TYPE', 'replica')).toBe('');
    expect(await a.call('CLIENT', 'LIST', 'TYPE', 'master')).toBe('');
    expect(await a.call('CLIENT', 'LIST', 'ID', '999999', '0')).toBe('');
    const two = parseList((await a.call('CLIENT', 'LIST', 'ID', String(idA), '999999')) as string);
    expect(two.map((e) => e.id)).toEqual([idA]);
    await expect(a.call('CLIENT', 'LIST', 'TYPE', 'foo')).rejects.toThrow("ERR Unknown client type 'foo'");
    await expect(a.call('CLIENT', 'LIST', 'ID', 'abc')).rejects.toThrow('ERR Invalid client ID');
    await expect(a.call('CLIENT', 'LIST', 'foo')).rejects.toThrow('ERR syntax error');
    await expect(a.call('CLIENT', 'LIST', 'TYPE', 'normal', 'ID')).rejects.toThrow('ERR syntax error');
    await expect(a.call('CLIENT', 'INFO', 'x')).rejects.toThrow("ERR wrong number of arguments for 'client|info' command");
  });

  it('flags: x in MULTI, P subscribed, e no-evict, T no-touch', async () => {
    const obs = client();
    const m = client();
    const idM = (await m.call('CLIENT', 'ID')) as number;
    await m.call('MULTI');
    await m.call('PING');
    let e = await entryOf(obs, idM);
    expect(e.flags).toBe('x');
    expect(e.multi).toBe(1);
    await m.call('DISCARD');
    expect((await entryOf(obs, idM)).flags).toBe('N');

    await m.call('CLIENT', 'NO-EVICT', 'on');
    await m.call('CLIENT', 'NO-TOUCH', 'on');
    expect((await entryOf(obs, idM)).flags).toBe('eT');
    await m.call('CLIENT', 'NO-EVICT', 'off');
    await m.call('CLIENT', 'NO-TOUCH', 'off');
    await expect(m.call('CLIENT', 'NO-EVICT', 'maybe')).rejects.toThrow('ERR syntax error');
    await expect(m.call('CLIENT', 'NO-TOUCH', 'maybe')).rejects.toThrow('ERR syntax error');

    const p = client();
    const idP = (await p.call('CLIENT', 'ID')) as number;
    await p.psubscribe('a*', 'b*');
    e = await entryOf(obs, idP);
    expect(e).toMatchObject({ flags: 'P', sub: 0, psub: 2 });

  });

  it('RESP3: CLIENT INFO is a verbatim string and resp=3', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.send('HELLO', '3');
      const info = await raw.send('CLIENT', 'INFO');
      expect(info.type).toBe('verbatim');
      const v = info as Extract<RespValue, { type: 'verbatim' }>;
      expect(v.format).toBe('txt');
      expect(parseList(v.value)[0]!.resp).toBe(3);
    } finally {
      await raw.close();
    }
  });
});

describe('CLIENT KILL', () => {
  it('old form by address: OK, or No such client', async () => {
    const killer = client();
    const victim = await RawClient.connect(srv.port);
    const idV = (await victim.send('CLIENT', 'ID')) as { type: 'integer'; value: bigint };
    const addr = (await entryOf(killer, Number(idV.value))).addr;
    expect(await killer.call('CLIENT', 'KILL', addr)).toBe('OK');
    await victim.closed;
    expect(await killer.call('CLIENT', 'LIST', 'ID', String(idV.value))).toBe('');
    await expect(killer.call('CLIENT', 'KILL', addr)).rejects.toThrow('ERR No such client');
    await expect(killer.call('CLIENT', 'KILL', '1.2.3.4:5')).rejects.toThrow('ERR No such client');
  });

  it('new form with filters returns the number killed', async () => {
    const killer = client();
    const v1 = await RawClient.connect(srv.port);
    const v2 = await RawClient.connect(srv.port);
    const id1 = Number(((await v1.send('CLIENT', 'ID')) as { value: bigint }).value);
    const id2 = Number(((await v2.send('CLIENT', 'ID')) as { value: bigint }).value);
    expect(await killer.call('CLIENT', 'KILL', 'ID', String(id1))).toBe(1);
    await v1.closed;
    expect(v2.isClosed).toBe(false);
    expect(await killer.call('CLIENT', 'KILL', 'ID', String(id1))).toBe(0);
    const v2addr = (await entryOf(killer, id2)).addr;
    expect(await killer.call('CLIENT', 'KILL', 'ADDR', v2addr, 'SKIPME', 'yes')).toBe(1);
    await v2.closed;

    await expect(killer.call('CLIENT', 'KILL', 'ID', 'abc')).rejects.toThrow('ERR client-id should be greater than 0');
    await expect(killer.call('CLIENT', 'KILL', 'ID', '0')).rejects.toThrow('ERR client-id should be greater than 0');
    await expect(killer.call('CLIENT', 'KILL', 'TYPE', 'foo')).rejects.toThrow("ERR Unknown client type 'foo'");
    await expect(killer.call('CLIENT', 'KILL', 'USER', 'nobody')).rejects.toThrow("ERR No such user 'nobody'");
    await expect(killer.call('CLIENT', 'KILL', 'SKIPME', 'maybe')).rejects.toThrow('ERR syntax error');
    await expect(killer.call('CLIENT', 'KILL', 'foo', 'bar')).rejects.toThrow('ERR syntax error');
    await expect(killer.call('CLIENT', 'KILL', 'TYPE', 'normal', 'ID')).rejects.toThrow('ERR syntax error');
    expect(await killer.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(0);
    expect(await killer.call('CLIENT', 'KILL', 'LADDR', '1.1.1.1:1')).toBe(0);
  });

  it('TYPE pubsub kills subscribers only; SKIPME no kills the caller after its reply', async () => {
    const obs = client();
    const s1 = await RawClient.connect(srv.port);
    await s1.send('SUBSCRIBE', 'ch');
    const plain = await RawClient.connect(srv.port);
    await plain.send('PING');
    const subscribers = parseList((await obs.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string);
    expect(subscribers.length).toBeGreaterThanOrEqual(1);
    expect(await obs.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBe(subscribers.length);
    expect(await obs.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).toBe('');
    await s1.closed;
    expect(plain.isClosed).toBe(false);
    await plain.close();

    const self = await RawClient.connect(srv.port);
    const id = String(((await self.send('CLIENT', 'ID')) as { value: bigint }).value);
    expect(await self.send('CLIENT', 'KILL', 'ID', id)).toEqual({ type: 'integer', value: 0n });
    expect(await self.send('CLIENT', 'KILL', 'ID', id, 'SKIPME', 'no')).toEqual({ type: 'integer', value: 1n });
    await self.closed;
  });
});

describe('CLIENT PAUSE / UNPAUSE', () => {
  it('WRITE pauses writes only; UNPAUSE resumes them in order', async () => {
    const admin = client();
    const w = client();
    await w.set('pk', 'v0');
    expect(await admin.call('CLIENT', 'PAUSE', '10000', 'WRITE')).toBe('OK');
    let done = false;
    const pending = w.set('pk', 'v1').then((r) => {
      done = true;
      return r;
    });
    const after = w.get('pk');
    expect(await admin.get('pk')).toBe('v0');
    await sleep(100);
    expect(done).toBe(false);
    // the paused client's own read waits behind its write
    expect(await admin.call('CLIENT', 'UNPAUSE')).toBe('OK');
    expect(await pending).toBe('OK');
    expect(await after).toBe('v1');
  });

  it('ALL pauses every command until the timeout expires', async () => {
    const admin = client();
    const other = client();
    await other.ping();
    const t0 = Date.now();
    expect(await admin.call('CLIENT', 'PAUSE', '300')).toBe('OK');
    expect(await other.ping()).toBe('PONG');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('a later WRITE pause keeps a stricter ALL pause until its end', async () => {
    const admin = client();
    const other = client();
    await other.ping();
    await admin.call('CLIENT', 'PAUSE', '400', 'WRITE');
    await admin.call('CLIENT', 'PAUSE', '50', 'ALL');
    await sleep(150);
    const t0 = Date.now();
    expect(await other.get('nokey')).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('nothing expires during a pause: expired keys look absent but stay until it ends', async () => {
    const admin = client();
    await admin.select(9);
    await admin.set('pexp', 'v', 'PX', '50');
    expect(await admin.call('CLIENT', 'PAUSE', '600', 'WRITE')).toBe('OK');
    await sleep(250);
    expect(await admin.get('pexp')).toBeNull();
    expect(await admin.exists('pexp')).toBe(0);
    expect(await admin.dbsize()).toBe(1);
    expect(await admin.call('CLIENT', 'UNPAUSE')).toBe('OK');
    expect(await admin.get('pexp')).toBeNull();
    expect(await admin.dbsize()).toBe(0);
  });

  it('errors', async () => {
    const c = client();
    await expect(c.call('CLIENT', 'PAUSE', 'abc')).rejects.toThrow('ERR timeout is not an integer or out of range');
    await expect(c.call('CLIENT', 'PAUSE', '-1')).rejects.toThrow('ERR timeout is negative');
    await expect(c.call('CLIENT', 'PAUSE', '10', 'foo')).rejects.toThrow('ERR CLIENT PAUSE mode must be WRITE or ALL');
    await expect(c.call('CLIENT', 'PAUSE', '10', 'WRITE', 'x')).rejects.toThrow(
      "ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.",
    );
    await expect(c.call('CLIENT', 'UNPAUSE', 'x')).rejects.toThrow("ERR wrong number of arguments for 'client|unpause' command");
    expect(await c.call('CLIENT', 'UNPAUSE')).toBe('OK');
  });
});

describe('CLIENT REPLY', () => {
  it('OFF mutes until ON (which answers OK); SKIP mutes the next command only', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.sendRaw(
        '*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n' +
          '*2\r\n$4\r\nECHO\r\n$1\r\na\r\n' +
          '*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n' +
          '*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n' +
          '*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n' +
          '*2\r\n$4\r\nECHO\r\n$1\r\nc\r\n' +
          '*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n' +
          '*2\r\n$4\r\nECHO\r\n$1\r\nd\r\n' +
          '*2\r\n$4\r\nECHO\r\n$1\r\ne\r\n' +
          '*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n' +
          '*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n' +
          '*2\r\n$4\r\nECHO\r\n$1\r\nf\r\n',
      );
      expect(await raw.readReply()).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'c' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'e' });
      // SKIP then REPLY ON: the ON still answers
      expect(await raw.readReply()).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'f' });
      expect(await raw.send('CLIENT', 'REPLY', 'maybe')).toEqual({ type: 'error', value: 'ERR syntax error' });
    } finally {
      await raw.close();
    }
  });
});

describe('CLIENT UNBLOCK', () => {
  /** Block a connected client's session on a key, as a blocking list command does. */
  function blockSession(id: number): void {
    const sess = srv.engine.sessions.get(id)!;
    srv.engine.blocking.blockOnKeys(sess, ['ublk'], 0, () => false, (s) => s.reply.nullArray());
  }

  it('TIMEOUT answers the blocked client as a timeout; ERROR with -UNBLOCKED', async () => {
    const admin = client();
    const raw = await RawClient.connect(srv.port);
    try {
      const id = Number(((await raw.send('CLIENT', 'ID')) as { value: bigint }).value);
      expect(await admin.call('CLIENT', 'UNBLOCK', String(id))).toBe(0);
      blockSession(id);
      expect((await entryOf(admin, id)).flags).toBe('b');
      // a command sent while blocked waits for the unblock
      await raw.sendRaw('*1\r\n$4\r\nPING\r\n');
      expect(await admin.call('CLIENT', 'UNBLOCK', String(id), 'TIMEOUT')).toBe(1);
      expect(await raw.readReply()).toEqual({ type: 'null-array' });
      expect(await raw.readReply()).toEqual({ type: 'simple', value: 'PONG' });
      expect((await entryOf(admin, id)).flags).toBe('N');

      blockSession(id);
      expect(await admin.call('CLIENT', 'UNBLOCK', String(id), 'error')).toBe(1);
      expect(await raw.readReply()).toEqual({ type: 'error', value: 'UNBLOCKED client unblocked via CLIENT UNBLOCK' });
      expect(await admin.call('CLIENT', 'UNBLOCK', String(id))).toBe(0);
      expect(await raw.send('PING')).toEqual({ type: 'simple', value: 'PONG' });
    } finally {
      await raw.close();
    }
    await expect(admin.call('CLIENT', 'UNBLOCK', 'abc')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(admin.call('CLIENT', 'UNBLOCK', '1', 'foo')).rejects.toThrow(
      'ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR',
    );
    expect(await admin.call('CLIENT', 'UNBLOCK', '999999')).toBe(0);
  });
});

describe('CLIENT NO-TOUCH', () => {
  it("a no-touch client's reads keep the LRU; TOUCH and other clients update it", async () => {
    const normal = client();
    const nt = client();
    await normal.set('nt:a', '1');
    await normal.set('nt:b', '1');
    expect(await nt.call('CLIENT', 'NO-TOUCH', 'ON')).toBe('OK');
    await sleep(2100);
    expect(await nt.get('nt:a')).toBe('1');
    expect(await nt.call('TOUCH', 'nt:b')).toBe(1);
    expect(await normal.call('OBJECT', 'IDLETIME', 'nt:a')).toBeGreaterThanOrEqual(2);
    expect(await normal.call('OBJECT', 'IDLETIME', 'nt:b')).toBe(0);
    expect(await normal.get('nt:a')).toBe('1');
    expect(await normal.call('OBJECT', 'IDLETIME', 'nt:a')).toBe(0);
  });
});

describe('CLIENT TRACKING (client-side caching)', () => {
  const push = (...keys: (string | null)[]): RespValue => ({
    type: 'push',
    value: [
      { type: 'bulk', value: 'invalidate' },
      keys[0] === null ? { type: 'null' } : { type: 'array', value: keys.map((k) => ({ type: 'bulk', value: k! })) },
    ],
  });

  it('default mode: keys read are invalidated once when modified, expired or flushed', async () => {
    const writer = client();
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.send('HELLO', '3');
      expect(await raw.send('CLIENT', 'TRACKING', 'ON')).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.send('CLIENT', 'GETREDIR')).toEqual({ type: 'integer', value: 0n });
      await raw.send('GET', 'trk:a'); // missing keys are tracked too
      await raw.send('MGET', 'trk:b', 'trk:c');
      await writer.set('trk:a', '1');
      expect(await raw.nextPush()).toEqual(push('trk:a'));
      await writer.set('trk:a', '2'); // no longer tracked: nothing sent
      await writer.mset('trk:b', '1', 'trk:c', '1');
      expect(await raw.nextPush()).toEqual(push('trk:b'));
      expect(await raw.nextPush()).toEqual(push('trk:c'));
      expect(raw.pendingFrames).toBe(0);
      // its own write: the invalidation follows the reply
      await raw.send('GET', 'trk:a');
      await raw.sendRaw(encodeCommand(['SET', 'trk:a', 'x']));
      expect(await raw.readFrame()).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.readFrame()).toEqual(push('trk:a'));
      // expiry
      await raw.send('GET', 'trk:e');
      await writer.set('trk:e', '1', 'PX', '20');
      expect(await raw.nextPush()).toEqual(push('trk:e'));
      await raw.send('GET', 'trk:e');
      await sleep(50);
      expect(await writer.get('trk:e')).toBeNull();
      expect(await raw.nextPush()).toEqual(push('trk:e'));
      // a flush invalidates everything with a null
      await raw.send('GET', 'trk:a');
      await writer.flushdb();
      expect(await raw.nextPush()).toEqual(push(null));
      const info = parseList(((await raw.send('CLIENT', 'INFO')) as { value: string }).value)[0]!;
      expect(info.flags).toBe('t');
      expect(info.raw).toContain(' redir=0 ');
      expect(await raw.send('CLIENT', 'TRACKING', 'off')).toEqual({ type: 'simple', value: 'OK' });
      await raw.send('GET', 'trk:a');
      await writer.set('trk:a', '1');
      expect(await raw.send('CLIENT', 'GETREDIR')).toEqual({ type: 'integer', value: -1n });
      expect(raw.pendingFrames).toBe(0);
    } finally {
      await raw.close();
    }
  });

  it('REDIRECT to a RESP2 client subscribed to __redis__:invalidate', async () => {
    const writer = client();
    const sub = await RawClient.connect(srv.port);
    const tracked = client();
    try {
      const subId = Number(((await sub.send('CLIENT', 'ID')) as { value: bigint }).value);
      await sub.sendRaw(encodeCommand(['SUBSCRIBE', '__redis__:invalidate']));
      await sub.readFrame();
      expect(await tracked.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(subId))).toBe('OK');
      expect(await tracked.call('CLIENT', 'TRACKINGINFO')).toEqual(['flags', ['on'], 'redirect', subId, 'prefixes', []]);
      await tracked.get('trk:r');
      await writer.set('trk:r', '1');
      expect(await sub.readFrame()).toEqual({
        type: 'array',
        value: [
          { type: 'bulk', value: 'message' },
          { type: 'bulk', value: '__redis__:invalidate' },
          { type: 'array', value: [{ type: 'bulk', value: 'trk:r' }] },
        ],
      });
      await tracked.get('trk:r');
      await writer.flushall();
      expect(await sub.readFrame()).toEqual({
        type: 'array',
        value: [
          { type: 'bulk', value: 'message' },
          { type: 'bulk', value: '__redis__:invalidate' },
          { type: 'null-bulk' },
        ],
      });
      // the redirect target goes away: broken_redirect
      await sub.close();
      await tracked.get('trk:r');
      await writer.set('trk:r', '2');
      await sleep(20);
      const info = (await tracked.call('CLIENT', 'TRACKINGINFO')) as unknown[];
      expect(info[1]).toEqual(['on', 'broken_redirect']);
      expect((await entryOf(writer, (await tracked.call('CLIENT', 'ID')) as number)).flags).toBe('tR');
    } finally {
      await sub.close();
    }
  });

  it('BCAST with prefixes batches keys per prefix (one message each, as Redis 7.0.15); NOLOOP skips the client own writes', async () => {
    const writer = client();
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.send('HELLO', '3');
      expect(await raw.send('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'bc:', 'PREFIX', 'user:', 'NOLOOP')).toEqual({
        type: 'simple',
        value: 'OK',
      });
      await writer.mset('bc:1', '1', 'other', '1', 'user:7', '1');
      expect(await raw.nextPush()).toEqual(push('bc:1'));
      expect(await raw.nextPush()).toEqual(push('user:7'));
      await raw.send('SET', 'bc:2', 'mine');
      await writer.set('other', '2');
      expect(raw.pendingFrames).toBe(0);
      const info = (await raw.send('CLIENT', 'TRACKINGINFO')) as Extract<RespValue, { type: 'map' }>;
      expect(info.value[0]![1]).toEqual({
        type: 'set',
        value: [
          { type: 'bulk', value: 'on' },
          { type: 'bulk', value: 'bcast' },
          { type: 'bulk', value: 'noloop' },
        ],
      });
      expect(info.value[2]![1]).toEqual({ type: 'array', value: [{ type: 'bulk', value: 'bc:' }, { type: 'bulk', value: 'user:' }] });
    } finally {
      await raw.close();
    }
  });

  it('OPTIN tracks only after CLIENT CACHING yes', async () => {
    const writer = client();
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.send('HELLO', '3');
      await raw.send('CLIENT', 'TRACKING', 'ON', 'OPTIN');
      await raw.send('GET', 'opt:a');
      expect(await raw.send('CLIENT', 'CACHING', 'yes')).toEqual({ type: 'simple', value: 'OK' });
      await raw.send('GET', 'opt:b');
      await raw.send('GET', 'opt:c'); // CACHING applied to one command only
      await writer.mset('opt:a', '1', 'opt:b', '1', 'opt:c', '1');
      expect(await raw.nextPush()).toEqual(push('opt:b'));
      await sleep(20);
      expect(raw.pendingFrames).toBe(0);
      expect(await raw.send('CLIENT', 'CACHING', 'no')).toEqual({
        type: 'error',
        value: 'ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.',
      });
    } finally {
      await raw.close();
    }
  });

  it('tracking-table-max-keys: the oldest keys are invalidated past the limit', async () => {
    const admin = client();
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.send('HELLO', '3');
      await raw.send('CLIENT', 'TRACKING', 'ON');
      expect(await admin.config('SET', 'tracking-table-max-keys', '2')).toBe('OK');
      await raw.send('GET', 'lim:1');
      await raw.send('GET', 'lim:2');
      expect(raw.pendingFrames).toBe(0);
      await raw.sendRaw(encodeCommand(['GET', 'lim:3']));
      expect(await raw.readFrame()).toEqual({ type: 'null' });
      expect(await raw.readFrame()).toEqual(push('lim:1'));
      await admin.set('lim:1', 'x'); // forgotten: no second message
      await admin.set('lim:3', 'x');
      expect(await raw.readFrame()).toEqual(push('lim:3'));
    } finally {
      await admin.config('SET', 'tracking-table-max-keys', '1000000');
      await raw.close();
    }
  });

  it('errors as Redis 7.0', async () => {
    const c = client();
    const err = (args: string[]) => c.call('CLIENT', 'TRACKING', ...args);
    await expect(err(['on', 'prefix', 'a'])).rejects.toThrow('ERR PREFIX option requires BCAST mode to be enabled');
    await expect(err(['on', 'bcast', 'prefix', 'a', 'prefix', 'ab'])).rejects.toThrow(
      "ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap.",
    );
    await expect(err(['on', 'optin', 'optout'])).rejects.toThrow("ERR You can't specify both OPTIN mode and OPTOUT mode");
    await expect(err(['on', 'bcast', 'optin'])).rejects.toThrow('ERR OPTIN and OPTOUT are not compatible with BCAST');
    await expect(err(['on', 'redirect', '999999'])).rejects.toThrow('ERR The client ID you want redirect to does not exist');
    await expect(err(['on', 'redirect', 'abc'])).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(err(['on', 'foo'])).rejects.toThrow('ERR syntax error');
    await expect(c.call('CLIENT', 'CACHING', 'yes')).rejects.toThrow(
      'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled',
    );
    expect(await err(['on'])).toBe('OK');
    await expect(err(['on', 'bcast'])).rejects.toThrow(
      "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
    );
    await expect(c.call('CLIENT', 'CACHING', 'yes')).rejects.toThrow('ERR CLIENT CACHING can be called only when');
    expect(await err(['off'])).toBe('OK');
  });

  it("node-redis client-side caching works against it", async () => {
    const { createClient } = await import('redis');
    const cached = createClient({ socket: { port: srv.port, host: '127.0.0.1' }, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } });
    cached.on('error', () => {});
    await cached.connect();
    try {
      const writer = client();
      await writer.set('csc:k', '1');
      expect(await cached.get('csc:k')).toBe('1');
      expect(await cached.get('csc:k')).toBe('1');
      await writer.set('csc:k', '2');
      await sleep(30);
      expect(await cached.get('csc:k')).toBe('2');
      const stats = cached.clientSideCache!.stats();
      expect(stats.hitCount).toBe(1);
      expect(stats.missCount).toBe(2);
    } finally {
      cached.destroy();
    }
  });
});
