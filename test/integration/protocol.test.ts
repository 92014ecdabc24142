import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, encodeCommand, type RespValue } from '../interop/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw socket that records everything it receives and when it closes. */
async function rawSocket(port: number): Promise<{ sock: net.Socket; data: () => Buffer; closed: Promise<void> }> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  sock.on('error', () => {});
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  return { sock, data: () => Buffer.concat(chunks), closed };
}

/** Write `bytes`, then wait until the server closes the connection; returns all it sent. */
async function sendUntilClosed(port: number, bytes: string | Buffer): Promise<string> {
  const r = await rawSocket(port);
  r.sock.write(bytes);
  await r.closed;
  return r.data().toString('latin1');
}

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.stop();
});

describe('pipelining', () => {
  it('10,000 commands in one write get 10,000 replies, in order', async () => {
    const raw = await RawClient.connect(srv.port, { timeoutMs: 20_000 });
    try {
      const cmds = Array.from({ length: 10_000 }, (_, i) => ['ECHO', `v${i}`]);
      const replies = await raw.pipeline(cmds);
      expect(replies).toHaveLength(10_000);
      replies.forEach((r, i) => expect(r).toEqual({ type: 'bulk', value: `v${i}` }));
      expect(await raw.send('PING')).toEqual({ type: 'simple', value: 'PONG' });
    } finally {
      await raw.close();
    }
  });

  it('a pipeline of writes and reads keeps its order', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      const cmds: string[][] = [];
      for (let i = 0; i < 500; i++) cmds.push(['SET', 'pipe', String(i)], ['GET', 'pipe']);
      const replies = await raw.pipeline(cmds);
      for (let i = 0; i < 500; i++) {
        expect(replies[2 * i]).toEqual({ type: 'simple', value: 'OK' });
        expect(replies[2 * i + 1]).toEqual({ type: 'bulk', value: String(i) });
      }
    } finally {
      await raw.close();
    }
  });

  it('binary arguments with CR/LF and large values, trickled across writes', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      const wire = Buffer.concat([encodeCommand(['SET', 'bin\r\nkey', big]), encodeCommand(['GET', 'bin\r\nkey'])]);
      for (let i = 0; i < wire.length; i += 100_000) {
        await raw.sendRaw(wire.subarray(i, i + 100_000));
        await sleep(1);
      }
      expect(await raw.readReply()).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: big.toString('latin1') });
    } finally {
      await raw.close();
    }
  });
});

describe('inline commands', () => {
  it('PING, quoted arguments, LF-only lines, empty lines', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.sendRaw('PING\r\n');
      expect(await raw.readReply()).toEqual({ type: 'simple', value: 'PONG' });
      await raw.sendRaw('SET a "b c"\r\n\r\nGET a\nECHO \'x y\' \r\nECHO "\\x41\\r\\n"\r\n');
      expect(await raw.readReply()).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'b c' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'x y' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'A\r\n' });
      // inline and multibulk mixed in one write
      await raw.sendRaw('ECHO one\r\n*2\r\n$4\r\nECHO\r\n$3\r\ntwo\r\nECHO three\r\n');
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'one' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'two' });
      expect(await raw.readReply()).toEqual({ type: 'bulk', value: 'three' });
    } finally {
      await raw.close();
    }
  });
});

describe('protocol errors reply -ERR Protocol error and close the connection', () => {
  const cases: [string, string][] = [
    ['*abc\r\n', 'invalid multibulk length'],
    ['*1\r\n$abc\r\n', 'invalid bulk length'],
    ['*1\r\n$-1\r\n', 'invalid bulk length'],
    ['*2\r\n$1\r\na\r\n:1\r\n', "expected '$', got ':'"],
    ['SET a "b c\r\n', 'unbalanced quotes in request'],
    ["SET a 'b\r\n", 'unbalanced quotes in request'],
  ];
  for (const [input, error] of cases) {
    it(JSON.stringify(input), async () => {
      expect(await sendUntilClosed(srv.port, input)).toBe(`-ERR Protocol error: ${error}\r\n`);
    });
  }

  it('replies to the commands before the error first', async () => {
    expect(await sendUntilClosed(srv.port, 'PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n')).toBe(
      '+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n',
    );
  });

  it('too big inline request', async () => {
    expect(await sendUntilClosed(srv.port, Buffer.alloc(70 * 1024, 'a'))).toBe('-ERR Protocol error: too big inline request\r\n');
  });

  it('other clients are unaffected', async () => {
    const c = srv.client({ enableReadyCheck: false });
    await sendUntilClosed(srv.port, '*abc\r\n');
    expect(await c.ping()).toBe('PONG');
  });
});

describe('proto-max-bulk-len', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ 'proto-max-bulk-len': '1mb' });
  });
  afterAll(async () => {
    await small.stop();
  });

  it('a bulk argument longer than the limit is a protocol error', async () => {
    const limit = 1024 * 1024;
    const raw = await RawClient.connect(small.port);
    try {
      const ok = await raw.send('SET', 'k', Buffer.alloc(limit, 'x'));
      expect(ok).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.send('STRLEN', 'k')).toEqual({ type: 'integer', value: BigInt(limit) });
    } finally {
      await raw.close();
    }
    expect(await sendUntilClosed(small.port, `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${limit + 1}\r\n`)).toBe(
      '-ERR Protocol error: invalid bulk length\r\n',
    );
  });

  it('a new limit applies to connected clients at once', async () => {
    const raw = await RawClient.connect(small.port);
    try {
      expect(await raw.send('PING')).toEqual({ type: 'simple', value: 'PONG' });
      const admin = small.client({ enableReadyCheck: false });
      expect(await admin.config('SET', 'proto-max-bulk-len', '2mb')).toBe('OK');
      expect(await raw.send('SET', 'k2', Buffer.alloc(1024 * 1024 + 10, 'y'))).toEqual({ type: 'simple', value: 'OK' });
      expect(await admin.config('SET', 'proto-max-bulk-len', '1mb')).toBe('OK');
      await raw.sendRaw(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${1024 * 1024 + 1}\r\n`);
      expect(await raw.readReply()).toEqual({ type: 'error', value: 'ERR Protocol error: invalid bulk length' });
      await raw.closed;
    } finally {
      raw.destroy();
    }
  });
});

describe('unauthenticated clients (requirepass)', () => {
  let locked: TestServer;
  beforeAll(async () => {
    locked = await startTestServer({ requirepass: 'secret' });
  });
  afterAll(async () => {
    await locked.stop();
  });

  it('more than 10 arguments or a bulk over 16 KiB before AUTH is a protocol error', async () => {
    expect(await sendUntilClosed(locked.port, '*11\r\n')).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
    expect(await sendUntilClosed(locked.port, '*2\r\n$4\r\nAUTH\r\n$16385\r\n')).toBe(
      '-ERR Protocol error: unauthenticated bulk length\r\n',
    );
  });

  it('the limits are lifted by AUTH, within the same pipeline', async () => {
    const raw = await RawClient.connect(locked.port);
    try {
      const args = Array.from({ length: 20 }, (_, i) => `k${i}`);
      const replies = await raw.pipeline([['PING'], ['AUTH', 'secret'], ['EXISTS', ...args], ['ECHO', 'x'.repeat(20_000)]]);
      expect(replies[0]).toEqual({ type: 'error', value: 'NOAUTH Authentication required.' });
      expect(replies[1]).toEqual({ type: 'simple', value: 'OK' });
      expect(replies[2]).toEqual({ type: 'integer', value: 0n });
      expect(replies[3]).toEqual({ type: 'bulk', value: 'x'.repeat(20_000) });
    } finally {
      await raw.close();
    }
  });
});

describe('client-output-buffer-limit', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ 'client-output-buffer-limit': 'normal 1mb 0 0' });
  });
  afterAll(async () => {
    await limited.stop();
  });

  it('a client that stops reading large replies is disconnected', async () => {
    const admin = limited.client({ enableReadyCheck: false });
    await admin.set('big', Buffer.alloc(100 * 1024, 'v'));
    const r = await rawSocket(limited.port);
    r.sock.write(encodeCommand(['CLIENT', 'SETNAME', 'slowreader']));
    await sleep(50);
    r.sock.pause(); // stop reading: replies pile up in the server
    const gets = 400; // 40 MB of replies
    r.sock.write(Buffer.concat(Array.from({ length: gets }, () => encodeCommand(['GET', 'big']))));
    let listed = true;
    for (let i = 0; i < 100 && listed; i++) {
      await sleep(50);
      listed = ((await admin.call('CLIENT', 'LIST')) as string).includes('name=slowreader');
    }
    expect(listed).toBe(false);
    expect(limited.logs.some((l) => l.includes('scheduled to be closed ASAP for overcoming of output buffer limits'))).toBe(true);
    r.sock.resume();
    await r.closed;
    expect(r.data().length).toBeLessThan(gets * 100 * 1024);
    // the server goes on serving others
    expect(await admin.strlen('big')).toBe(100 * 1024);
  });

  it('a client that reads its replies is not disconnected', async () => {
    const raw = await RawClient.connect(limited.port, { timeoutMs: 20_000 });
    try {
      // 20 batches of 5 × 100 KB: each batch stays under the 1 MB hard limit
      for (let i = 0; i < 20; i++) {
        const replies = await raw.pipeline(Array.from({ length: 5 }, () => ['GET', 'big']));
        expect(replies.every((x: RespValue) => x.type === 'bulk' && x.value.length === 100 * 1024)).toBe(true);
      }
      expect(raw.isClosed).toBe(false);
    } finally {
      await raw.close();
    }
  });
});

describe('RESP3 over the wire', () => {
  it('HELLO 3 answers a map; nulls are _; pub/sub messages are pushes', async () => {
    const raw = await RawClient.connect(srv.port);
    const pub = await RawClient.connect(srv.port);
    try {
      const hello = await raw.send('HELLO', '3');
      expect(hello.type).toBe('map');
      const m = new Map(
        (hello as Extract<RespValue, { type: 'map' }>).value.map(([k, v]) => [(k as { value: string }).value, v]),
      );
      expect(m.get('server')).toEqual({ type: 'bulk', value: 'redis' });
      expect(m.get('proto')).toEqual({ type: 'integer', value: 3n });
      expect(m.get('modules')).toEqual({ type: 'array', value: [] });
      expect(await raw.send('GET', 'resp3:missing')).toEqual({ type: 'null' });
      expect(await raw.send('SET', 'resp3:k', 'v')).toEqual({ type: 'simple', value: 'OK' });
      expect(await raw.send('GET', 'resp3:k')).toEqual({ type: 'bulk', value: 'v' });
      expect(await raw.send('DBSIZE')).toMatchObject({ type: 'integer' });
      await raw.sendRaw(encodeCommand(['SUBSCRIBE', 'r3']));
      expect(await raw.nextPush()).toEqual({
        type: 'push',
        value: [
          { type: 'bulk', value: 'subscribe' },
          { type: 'bulk', value: 'r3' },
          { type: 'integer', value: 1n },
        ],
      });
      expect(await pub.send('PUBLISH', 'r3', 'hi')).toEqual({ type: 'integer', value: 1n });
      expect(await raw.nextPush()).toEqual({
        type: 'push',
        value: [
          { type: 'bulk', value: 'message' },
          { type: 'bulk', value: 'r3' },
          { type: 'bulk', value: 'hi' },
        ],
      });
      // RESP3 subscribers may still run any command
      expect(await raw.send('PING')).toEqual({ type: 'simple', value: 'PONG' });
      // back to RESP2: nulls are $-1 again
      await raw.sendRaw(encodeCommand(['UNSUBSCRIBE']));
      expect(await raw.nextPush()).toEqual({
        type: 'push',
        value: [
          { type: 'bulk', value: 'unsubscribe' },
          { type: 'bulk', value: 'r3' },
          { type: 'integer', value: 0n },
        ],
      });
      expect((await raw.send('HELLO', '2')).type).toBe('array');
      expect(await raw.send('GET', 'resp3:missing')).toEqual({ type: 'null-bulk' });
    } finally {
      await raw.close();
      await pub.close();
    }
  });
});
