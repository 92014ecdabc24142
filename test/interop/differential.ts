/**
 * What the *-differential tests share: a redis-server and a cacheside started
 * for the file (`serverPair`), and the loop that sends the same commands to
 * both over raw connections and expects the same reply to each (RESP2, or
 * RESP3 after HELLO 3), the command shown with any difference.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { RawClient, startCacheside, startRedis, type ServerHandle } from './harness.js';

export interface ServerPair {
  redis: ServerHandle;
  cs: ServerHandle;
}

/** Starts both servers before the file's tests (with the same extra arguments) and stops them after. */
export function serverPair(extraArgs: string[] = []): ServerPair {
  const pair = {} as ServerPair;
  beforeAll(async () => {
    [pair.redis, pair.cs] = await Promise.all([startRedis(extraArgs), startCacheside(extraArgs)]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([pair.redis?.stop(), pair.cs?.stop()]);
  });
  return pair;
}

export async function expectSameReplies(
  { redis, cs }: ServerPair,
  resp: number,
  setup: readonly (readonly string[])[],
  cases: readonly (readonly string[])[],
): Promise<void> {
  const a = await RawClient.connect(redis.port);
  const b = await RawClient.connect(cs.port);
  try {
    for (const cl of [a, b]) {
      for (const argv of setup) await cl.send(...argv);
      if (resp === 3) await cl.send('HELLO', '3');
    }
    for (const argv of cases) {
      const args = argv.map((s) => Buffer.from(s, 'latin1'));
      const [ra, rb] = [await a.send(...args), await b.send(...args)];
      expect({ argv, reply: rb }).toEqual({ argv, reply: ra });
    }
  } finally {
    await a.close();
    await b.close();
  }
}
