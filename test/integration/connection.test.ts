import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.stop();
});

describe('connection commands', () => {
  it('PING and ECHO', async () => {
    const c = srv.client();
    expect(await c.ping()).toBe('PONG');
    expect(await c.ping('hi')).toBe('hi');
    expect(await c.echo('x\x00y')).toBe('x\x00y');
  });

  it('unknown command and arity errors use Redis texts', async () => {
    const c = srv.client();
    await expect(c.call('nosuch', 'a', 'b')).rejects.toThrow("ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ");
    await expect(c.call('echo')).rejects.toThrow("ERR wrong number of arguments for 'echo' command");
  });

  it('SELECT bounds', async () => {
    const c = srv.client();
    expect(await c.select(15)).toBe('OK');
    await expect(c.select(16)).rejects.toThrow('ERR DB index is out of range');
  });

  it('HELLO 3 switches node-redis to RESP3', async () => {
    const c = await srv.nodeRedis(3);
    const r = (await c.sendCommand(['HELLO', '3'])) as unknown as Record<string, unknown>;
    expect(r).toMatchObject({ server: 'redis', proto: 3, mode: 'standalone' });
    await expect(c.sendCommand(['HELLO', '4'])).rejects.toThrow('NOPROTO unsupported protocol version');
  });

  it('MULTI/EXEC/DISCARD/WATCH', async () => {
    const c = srv.client();
    const r = await c.multi().echo('a').echo('b').exec();
    expect(r).toEqual([
      [null, 'a'],
      [null, 'b'],
    ]);
    await expect(c.call('exec')).rejects.toThrow('ERR EXEC without MULTI');
    await expect(c.call('discard')).rejects.toThrow('ERR DISCARD without MULTI');
  });
});
