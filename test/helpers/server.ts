/**
 * Integration-test helper: start the real engine on a free port (in-process,
 * real TCP listener) and connect real clients to it.
 */
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { configFrom, startEngine, type RunningEngine } from '../../src/server/bootstrap.js';
import { Logger } from '../../src/server/logger.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestServer extends RunningEngine {
  /** A new ioredis client (RESP2), closed by stop(). */
  client(opts?: Record<string, unknown>): Redis;
  /** A new node-redis client, RESP2 or RESP3, connected, closed by stop(). */
  nodeRedis(resp?: 2 | 3): Promise<ReturnType<typeof createClient>>;
  /** Engine log lines (the logger writes here instead of stdout). */
  logs: string[];
  stop(): Promise<void>;
}

export async function startTestServer(directives: Record<string, string | number | boolean> = {}): Promise<TestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cacheside-test-'));
  const config = configFrom({ port, save: '', appendonly: 'no', dir, ...directives });
  const logs: string[] = [];
  const log = new Logger(config);
  log.sink = (l) => logs.push(l);
  const running = await startEngine(config, log);
  const clients: { quit(): Promise<unknown> | unknown; disconnect?: () => void }[] = [];
  return {
    ...running,
    logs,
    client(opts = {}) {
      const c = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1, ...opts });
      clients.push(c);
      return c;
    },
    async nodeRedis(resp: 2 | 3 = 2) {
      const c = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false }, RESP: resp });
      c.on('error', () => {});
      await c.connect();
      clients.push({ quit: () => c.destroy() });
      return c;
    },
    async stop() {
      for (const c of clients) {
        try {
          if (c.disconnect) c.disconnect();
          else await c.quit();
        } catch {
          /* already closed */
        }
      }
      await running.close();
    },
  };
}

export { RESP_TYPES };
