/**
 * Differential test for the cmsgpack and struct libraries of EVAL (and Lua
 * 5.1's number formatting): the same scripts go to a real redis-server 7.0
 * and to the built cacheside (RESP2 and RESP3), and every reply is compared
 * exactly (packed bytes, unpacked values, error texts).
 *
 * Needs `npm run build` and redis-server on PATH.
 */
import { describe, expect, it } from 'vitest';
import { RawClient } from './harness.js';
import { expectSameReplies, serverPair } from './differential.js';
import { CMSGPACK_CASES, NUMFMT_CASES, STRUCT_CASES } from './scripting-libs-cases.js';

const servers = serverPair();

describe('cmsgpack, struct and tostring differential (redis-server 7.0 vs cacheside)', () => {
  for (const resp of [2, 3]) {
    it(`same replies, RESP${resp}`, async () => {
      const cases = [...CMSGPACK_CASES, ...STRUCT_CASES, ...NUMFMT_CASES].map((body) => ['EVAL', body, '0']);
      await expectSameReplies(servers, resp, [], cases);
    });
  }
});

describe('INFO memory script cache fields (redis-server 7.0 vs cacheside)', () => {
  it('number_of_cached_scripts and used_memory_scripts_eval agree', async () => {
    const a = await RawClient.connect(servers.redis.port);
    const b = await RawClient.connect(servers.cs.port);
    const fields = async (cl: RawClient): Promise<string[]> => {
      const r = (await cl.send('INFO', 'memory')) as { value: Buffer | string };
      const text = String(r.value);
      return ['number_of_cached_scripts', 'used_memory_scripts_eval'].map((k) => text.match(new RegExp(`${k}:(\\d+)`))?.[1] ?? 'missing');
    };
    try {
      const steps: string[][] = [
        ['SCRIPT', 'FLUSH'],
        ['SCRIPT', 'LOAD', 'return 1'],
        ['SCRIPT', 'LOAD', 'return 1'],
        ['SCRIPT', 'LOAD', 'return 2 --' + 'x'.repeat(300)],
        ['EVAL', "return 'three'", '0'],
        ['SCRIPT', 'LOAD', 'return 4 --' + 'y'.repeat(70000)],
        ['SCRIPT', 'FLUSH'],
      ];
      expect(await fields(a)).not.toContain('missing');
      for (const argv of steps) {
        await a.send(...argv);
        await b.send(...argv);
        expect({ argv: argv.map((x) => x.slice(0, 20)), info: await fields(b) }).toEqual({ argv: argv.map((x) => x.slice(0, 20)), info: await fields(a) });
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
