/**
 * Differential test for busy scripts: on a real redis-server 7.0 and on the
 * built cacheside (both with busy-reply-threshold 100), a client runs a
 * script past the threshold while a second client sends commands; the
 * second client's replies (BUSY, SCRIPT KILL / FUNCTION KILL, UNKILLABLE,
 * SHUTDOWN refused...) and the script caller's reply must be the same.
 *
 * Needs `npm run build` and redis-server on PATH.
 */
import { describe, it, expect } from 'vitest';
import { RawClient, type RespValue } from './harness.js';
import { serverPair, type ServerPair } from './differential.js';

const pair: ServerPair = serverPair(['--busy-reply-threshold', '100']);

const SPIN =
  "local function now() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 end\n" +
  'local stop = now() + tonumber(ARGV[1])\nwhile now() < stop do end\n';

interface Outcome {
  during: { argv: string[]; reply: RespValue }[];
  caller: RespValue;
  after: RespValue;
}

/** `setup` on a fresh connection, then `script` on one client and, once it is busy, `during` on another. */
async function busyRun(port: number, setup: string[][], script: string[], during: string[][]): Promise<Outcome> {
  const a = await RawClient.connect(port, { timeoutMs: 20_000 });
  const b = await RawClient.connect(port);
  try {
    for (const argv of setup) await b.send(...argv);
    const pending = a.send(...script);
    for (let i = 0; ; i++) {
      const r = await b.send('PING');
      if (r.type === 'error' && r.value.startsWith('BUSY')) break;
      if (i > 500) throw new Error('the script never got busy');
      await new Promise((res) => setTimeout(res, 10));
    }
    const out: Outcome['during'] = [];
    for (const argv of during) out.push({ argv, reply: await b.send(...argv) });
    const caller = await pending;
    return { during: out, caller, after: await b.send('PING') };
  } finally {
    await a.close();
    await b.close();
  }
}

async function expectSame(setup: string[][], script: string[], during: string[][]): Promise<void> {
  const redis = await busyRun(pair.redis.port, setup, script, during);
  const cs = await busyRun(pair.cs.port, setup, script, during);
  expect(cs).toEqual(redis);
}

describe('busy scripts against redis-server', () => {
  it('an EVAL script: BUSY, the allow_busy commands, FUNCTION STATS / KILL refused, SCRIPT KILL', async () => {
    await expectSame([], ['EVAL', 'local i = 0\nwhile true do i = i + 1 end', '0'], [
      ['GET', 'x'],
      ['SET', 'x', '1'],
      ['MULTI'],
      ['DISCARD'],
      ['FUNCTION', 'STATS'],
      ['FUNCTION', 'KILL'],
      ['SHUTDOWN'],
      ['SHUTDOWN', 'SAVE'],
      ['SCRIPT', 'KILL'],
    ]);
  });

  it('a function: BUSY with FUNCTION KILL, SCRIPT KILL refused, FUNCTION KILL', async () => {
    const lib = "#!lua name=busydiff\nredis.register_function('spin', function(keys, args)\n  local n = 0\n  while true do n = n + 1 end\nend)";
    await expectSame([['FUNCTION', 'LOAD', 'REPLACE', lib]], ['FCALL', 'spin', '0'], [
      ['GET', 'x'],
      ['SCRIPT', 'KILL'],
      ['SHUTDOWN'],
      ['FUNCTION', 'KILL'],
    ]);
  });

  it('a script that wrote: UNKILLABLE for both KILLs, then its reply at its end', async () => {
    await expectSame([['DEL', 'bk']], ['EVAL', `redis.call('set', KEYS[1], 'y')\n${SPIN}return redis.call('get', KEYS[1])`, '1', 'bk', '1500'], [
      ['SCRIPT', 'KILL'],
      ['FUNCTION', 'KILL'],
      ['GET', 'bk'],
    ]);
  });
});
