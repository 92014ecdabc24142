/**
 * Integration-test helper: start the real engine on a free port (in-process,
 * real TCP listener) and connect real clients to it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { afterAll } from 'vitest';
import { configFrom, startEngine, type RunningEngine } from '../../src/server/bootstrap.js';
import { Logger } from '../../src/server/logger.js';
import { eventsDuring, keyEventLog, makeList, propagated } from './expect.js';
import { freePort } from './raw-client.js';

export { freePort };

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

/** A test file's server, its main client and the usual helpers bound to them. */
export interface FileServer {
  srv: TestServer;
  /** The file's main client: ioredis (RESP2), ready check off. */
  c: Redis;
  /** Another client like `c`. */
  client(): Redis;
  /** `c.call` of a command line, numbers sent as their decimal text. */
  call(...argv: (string | number)[]): Promise<unknown>;
  /** The commands propagated (AOF / replicas) while `fn` runs. */
  propagated(fn: () => Promise<unknown>): Promise<string[][]>;
  /** The keyevent notifications of db 0 ("event key") fired while `fn` runs, nothing else. */
  eventsOf(fn: () => Promise<unknown>): Promise<string[]>;
  /** A list at `key` (planted directly when this build has no list commands). */
  makeList(key: string): Promise<void>;
}

/**
 * Starts a test server for the calling test file (`await` it at the top
 * level) and stops it after the file's tests. With `eventLog`, keyevent
 * notifications are recorded by one subscriber kept for the whole file;
 * without, each `eventsOf` subscribes for its own duration.
 */
export async function serverForFile(
  directives: Record<string, string | number | boolean> = {},
  { eventLog = false }: { eventLog?: boolean } = {},
): Promise<FileServer> {
  const srv = await startTestServer(directives);
  afterAll(async () => {
    await srv.stop();
  });
  const c = srv.client({ enableReadyCheck: false });
  const log = eventLog ? await keyEventLog(srv, c) : null;
  return {
    srv,
    c,
    client: () => srv.client({ enableReadyCheck: false }),
    call: (...argv) => c.call(String(argv[0]), ...argv.slice(1).map(String)),
    propagated: (fn) => propagated(srv, fn),
    eventsOf: (fn) => (log ? log.during(fn) : eventsDuring(srv, c, fn)),
    makeList: (key) => makeList(srv, c, key),
  };
}

export { RESP_TYPES };
