/**
 * The loop the *-differential tests share: the same commands to redis-server
 * and to cacheside over raw connections, and the same reply expected to each
 * (RESP2, or RESP3 after HELLO 3), the command shown with any difference.
 */
import { expect } from 'vitest';
import { RawClient, type ServerHandle } from './harness.js';

export async function expectSameReplies(
  redis: ServerHandle,
  cs: ServerHandle,
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
