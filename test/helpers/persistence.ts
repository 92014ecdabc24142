/**
 * Helpers of the persistence integration tests: test servers started by a
 * test and stopped after it, INFO persistence as a record, and polling.
 */
import { infoFields } from './info.js';
import { afterEach } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from './server.js';
import { waitUntil } from './raw-client.js';

export { tempDir } from './spawn-server.js';

type Directives = Record<string, string | number | boolean>;

/**
 * Servers a test starts (`defaults` under each call's directives), all
 * stopped after each test (afterEach); `restart` stops one and starts
 * another with new directives; `forget` drops the ones started so far (a
 * test that stopped or shut them down itself).
 */
export function serversPerTest(defaults: Directives = {}): {
  start(directives?: Directives): Promise<TestServer>;
  restart(s: TestServer, directives: Directives): Promise<TestServer>;
  forget(): void;
} {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop().catch(() => {});
  });
  const start = async (directives: Directives = {}): Promise<TestServer> => {
    const s = await startTestServer({ ...defaults, ...directives });
    servers.push(s);
    return s;
  };
  return {
    start,
    async restart(s, directives) {
      await s.stop();
      servers.splice(servers.indexOf(s), 1);
      return start(directives);
    },
    forget() {
      servers.length = 0;
    },
  };
}

/** INFO persistence as field → value. */
export const persistenceInfo = (c: Redis): Promise<Record<string, string>> => infoFields(c, 'persistence');

/** Waits until `fn` holds, for at most `ms`. */
export const until = (fn: () => Promise<boolean>, ms = 10_000): Promise<void> => waitUntil(fn, ms, 'condition');
