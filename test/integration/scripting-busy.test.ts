/**
 * Busy scripts (Redis 7.0's timed-out scripts): a script running longer than
 * busy-reply-threshold lets the server answer other clients (-BUSY, except
 * commands flagged allow_busy), SCRIPT KILL / FUNCTION KILL end it unless it
 * wrote, SHUTDOWN NOSAVE stops the server, and the script stays atomic: no
 * active expiry, no blocked client served, no master stream applied while it
 * runs, its effects propagated as one MULTI/EXEC. Replies and error texts are
 * redis-server 7.0.15's (checked with a script looping forever and a second
 * redis-cli).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, encode, waitUntil } from '../helpers/raw-client.js';
import { err, keyMaker, propagated } from '../helpers/expect.js';
import { infoFields, replicaInSync } from '../helpers/info.js';

const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';
const UNKILLABLE =
  'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.';
const KILLED = 'ERR Script killed by user with SCRIPT KILL...';

const LOOP = 'while true do end';
/** Lua that runs for ARGV[1] milliseconds (by the TIME command). */
const SPIN =
  "local function now() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 end\n" +
  'local stop = now() + tonumber(ARGV[1])\nwhile now() < stop do end\n';

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const k = keyMaker('busy');

let srv: TestServer;
/** A client without ioredis's ready check (its INFO would get BUSY). */
const client = (): Redis => srv.client({ enableReadyCheck: false });

/** Waits until `c` gets -BUSY (the script went busy); returns the error text. */
async function untilBusy(c: Redis): Promise<string> {
  let text = '';
  await waitUntil(async () => {
    try {
      await c.call('PING');
      return false;
    } catch (e) {
      text = (e as Error).message;
      return text.startsWith('BUSY');
    }
  }, 5000, 'the script to be busy');
  return text;
}

/** The reply (or error text) a pending command ends with. */
const settled = (p: Promise<unknown>): Promise<unknown> => p.then((v) => v, (e: Error) => `error: ${e.message}`);

beforeAll(async () => {
  srv = await startTestServer({ 'busy-reply-threshold': 100 });
});
afterAll(async () => {
  await srv.stop();
});

describe('an EVAL script past busy-reply-threshold', () => {
  it('makes other clients get BUSY except for allow_busy commands; SCRIPT KILL ends it', async () => {
    const a = client();
    const b = client();
    const pending = settled(a.call('EVAL', LOOP, '0'));
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    expect(await err(b.call('GET', 'x'))).toBe(BUSY_EVAL);
    expect(await err(b.call('SCRIPT', 'LOAD', 'return 1'))).toBe(BUSY_EVAL);
    // allow_busy: HELLO, MULTI/DISCARD; FUNCTION STATS / FUNCTION KILL refuse while an EVAL runs.
    expect(((await b.call('HELLO', '2')) as unknown[]).slice(0, 2)).toEqual(['server', 'redis']);
    expect(await b.call('MULTI')).toBe('OK');
    expect(await b.call('DISCARD')).toBe('OK');
    expect(await err(b.call('FUNCTION', 'STATS'))).toBe(BUSY_EVAL);
    expect(await err(b.call('FUNCTION', 'KILL'))).toBe(BUSY_EVAL);
    expect(await b.call('SCRIPT', 'KILL')).toBe('OK');
    expect(await pending).toBe(`error: ${KILLED} script: ${sha1(LOOP)}, on @user_script:1.`);
    expect(await b.call('PING')).toBe('PONG');
    expect(await a.call('PING')).toBe('PONG');
    expect(await err(b.call('SCRIPT', 'KILL'))).toBe('NOTBUSY No scripts in execution right now.');
    expect(srv.logs.some((l) => l.includes(`# Slow script detected: still in execution after `) && l.endsWith(
      `milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: ${sha1(LOOP)}.`,
    ))).toBe(true);
    expect(srv.logs.some((l) => l.endsWith('# Lua script killed by user with SCRIPT KILL.'))).toBe(true);
  });

  it('a pcall in the script cannot catch the kill, nor keep it from getting busy after an error it caught', async () => {
    const a = client();
    const b = client();
    const body = "pcall(error, 'x')\nlocal f = function() while 1 do redis.call('ping') end end\nwhile 1 do pcall(f) end";
    const pending = settled(a.call('EVAL', body, '0'));
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    expect(await b.call('SCRIPT', 'KILL')).toBe('OK');
    expect(String(await pending)).toMatch(/^error: ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:[23]\.$/);
    expect(await b.call('PING')).toBe('PONG');
  });

  it('after a write it is UNKILLABLE and runs to its end; the caller gets the reply, then its pipelined commands', async () => {
    const key = k('w');
    const a = await RawClient.connect(srv.port);
    const b = client();
    const body = `redis.call('set', KEYS[1], 'y')\n${SPIN}return redis.call('get', KEYS[1])`;
    // EVAL and PING in one write: the PING waits behind the busy script.
    a.sock.write(encode(['EVAL', body, '1', key, '1500']) + encode(['PING']), 'latin1');
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    expect(await err(b.call('SCRIPT', 'KILL'))).toBe(UNKILLABLE);
    expect(await err(b.call('FUNCTION', 'KILL'))).toBe(UNKILLABLE);
    expect(await err(b.call('GET', key))).toBe(BUSY_EVAL);
    expect(await a.read('$1\r\ny\r\n+PONG\r\n'.length, 5000)).toBe('$1\r\ny\r\n+PONG\r\n');
    expect(await b.call('GET', key)).toBe('y');
    a.close();
  });

  it('counts once in commandstats and the slowlog, with its whole run time', async () => {
    const a = client();
    const b = client();
    await b.call('CONFIG', 'RESETSTAT');
    await b.call('SLOWLOG', 'RESET');
    const pending = settled(a.call('EVAL', `${SPIN}return 'done'`, '0', '250'));
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    expect(await pending).toBe('done');
    const stats = await infoFields(b, 'commandstats');
    const m = /^calls=1,usec=(\d+),/.exec(stats.cmdstat_eval!);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(250_000);
    expect(stats.cmdstat_ping).toMatch(/^calls=\d+,.*,rejected_calls=[1-9]\d*,failed_calls=0$/);
    expect((await infoFields(b, 'errorstats')).errorstat_BUSY).toMatch(/^count=[1-9]\d*$/);
    const [entry] = (await b.call('SLOWLOG', 'GET', '1')) as [number, number, number, string[]][];
    expect(entry![3]![0]).toBe('EVAL');
    expect(entry![2]).toBeGreaterThanOrEqual(250_000);
  });

  it('a MULTI during the busy script is aborted by the BUSY reply; an EXEC during it is refused', async () => {
    const a = client();
    const b = client();
    const c = client();
    const key = k('m');
    await b.call('SET', key, '1');
    // c queued a command before the script got busy: its EXEC during the busy script is refused.
    expect(await c.call('MULTI')).toBe('OK');
    expect(await c.call('INCR', key)).toBe('QUEUED');
    const pending = settled(a.call('EVAL', LOOP, '0'));
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    expect(await b.call('MULTI')).toBe('OK');
    expect(await err(b.call('INCR', key))).toBe(BUSY_EVAL);
    expect(await err(c.call('EXEC'))).toBe(`EXECABORT Transaction discarded because of: ${BUSY_EVAL}`);
    // (inside MULTI, SCRIPT KILL would be queued)
    expect(await c.call('SCRIPT', 'KILL')).toBe('OK');
    expect(String(await pending)).toMatch(/^error: ERR Script killed by user/);
    expect(await b.call('INCR', key)).toBe('QUEUED');
    expect(await err(b.call('EXEC'))).toBe('EXECABORT Transaction discarded because of previous errors.');
    expect(await b.call('GET', key)).toBe('1');
    // Neither client is in a transaction any more.
    expect(await c.call('INCR', key)).toBe(2);
    expect(await b.call('INCR', key)).toBe(3);
  });

  it('nothing expires actively while it runs: the script sees its start time', async () => {
    const a = client();
    const b = client();
    const key = k('ttl');
    await b.call('SET', key, 'v', 'PX', '150');
    const before = Number((await infoFields(b, 'stats')).expired_keys);
    const pending = settled(a.call('EVAL', `${SPIN}return redis.call('exists', KEYS[1])`, '1', key, '500'));
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    expect(await pending).toBe(1);
    expect(Number((await infoFields(b, 'stats')).expired_keys)).toBe(before);
    await waitUntil(async () => Number((await infoFields(b, 'stats')).expired_keys) > before, 3000, 'the key to expire');
  });

  it('clients blocked on keys the script made ready are served after it, with its final data', async () => {
    const a = client();
    const b = client();
    const waiter = client();
    const key = k('list');
    const popped = settled(waiter.call('BLPOP', key, '0'));
    await waitUntil(async () => (await infoFields(b, 'clients')).blocked_clients === '1');
    const body = `redis.call('lpush', KEYS[1], 'y')\n${SPIN}redis.call('lpush', KEYS[1], 'z')\nreturn 1`;
    const pending = settled(a.call('EVAL', body, '1', key, '300'));
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    expect(await pending).toBe(1);
    expect(await popped).toEqual([key, 'z']);
  });

  it('its writes propagate as one MULTI/EXEC unit when it ends', async () => {
    const a = client();
    const b = client();
    const [k1, k2] = [k('p'), k('p')];
    const body = `redis.call('set', KEYS[1], '1')\n${SPIN}redis.call('set', KEYS[2], '2')\nreturn 1`;
    const ops = await propagated(srv, async () => {
      const pending = settled(a.call('EVAL', body, '2', k1, k2, '1000'));
      expect(await untilBusy(b)).toBe(BUSY_EVAL);
      expect(await err(b.call('SET', k1, 'other'))).toBe(BUSY_EVAL);
      expect(await pending).toBe(1);
    });
    // The commands as the script wrote them.
    expect(ops).toEqual([['MULTI'], ['set', k1, '1'], ['set', k2, '2'], ['EXEC']]);
  });

  it('goes on when its caller disconnects; the reply is dropped', async () => {
    const a = client();
    const b = client();
    const key = k('gone');
    void a.call('EVAL', `${SPIN}redis.call('set', KEYS[1], 'done')\nreturn 1`, '1', key, '300').catch(() => {});
    expect(await untilBusy(b)).toBe(BUSY_EVAL);
    a.disconnect();
    await waitUntil(async () => {
      try {
        return (await b.call('GET', key)) === 'done';
      } catch {
        return false;
      }
    }, 5000, 'the script to end');
    expect(await b.call('PING')).toBe('PONG');
  });

  it('is not suspended inside MULTI/EXEC: it runs to its end there', async () => {
    const a = client();
    expect(await a.call('MULTI')).toBe('OK');
    expect(await a.call('EVAL', `${SPIN}return 'x'`, '0', '200')).toBe('QUEUED');
    expect(await a.call('EXEC')).toEqual(['x']);
  });

  it('busy-reply-threshold 0 (lua-time-limit 0): a script is never busy, others wait for its end', async () => {
    const a = client();
    const b = client();
    await b.call('CONFIG', 'SET', 'lua-time-limit', '0');
    try {
      const pending = settled(a.call('EVAL', `${SPIN}return 'slow'`, '0', '300'));
      await new Promise((r) => setTimeout(r, 50));
      expect(await b.call('PING')).toBe('PONG');
      expect(await pending).toBe('slow');
    } finally {
      await b.call('CONFIG', 'SET', 'busy-reply-threshold', '100');
    }
  });

  it('scripts shorter than the threshold are not affected; error lines stay right', async () => {
    const a = client();
    expect(await a.call('EVAL', 'return {1, 2, ARGV[1]}', '0', 'z')).toEqual([1, 2, 'z']);
    const body = "local x = 1\n\nerror('boom')";
    expect(await err(a.call('EVAL', body, '0'))).toBe(`ERR user_script:3: boom script: ${sha1(body)}, on @user_script:3.`);
    const body2 = "local t = {}\nreturn redis.call('nosuch')";
    expect(await err(a.call('EVAL', body2, '0'))).toBe(`ERR Unknown Redis command called from script script: ${sha1(body2)}, on @user_script:2.`);
  });
});

describe('a function past busy-reply-threshold', () => {
  it('gets BUSY with FUNCTION KILL; FUNCTION STATS shows it; SCRIPT KILL is refused, FUNCTION KILL ends it', async () => {
    const a = client();
    const b = client();
    await b.call('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=busylib\nredis.register_function('inf', function(keys, args)\n  local a = 1\n  while true do a = a + 1 end\nend)");
    const pending = settled(a.call('FCALL', 'inf', '0', 'arg'));
    expect(await untilBusy(b)).toBe(BUSY_FUNCTION);
    expect(await err(b.call('SCRIPT', 'KILL'))).toBe(BUSY_FUNCTION);
    const stats = (await b.call('FUNCTION', 'STATS')) as unknown[];
    const running = stats[1] as unknown[];
    expect(stats[0]).toBe('running_script');
    expect(running.slice(0, 4)).toEqual(['name', 'inf', 'command', ['FCALL', 'inf', '0', 'arg']]);
    expect(running[4]).toBe('duration_ms');
    expect(running[5]).toBeGreaterThanOrEqual(100);
    expect(stats.slice(2)).toEqual(['engines', ['LUA', ['libraries_count', 1, 'functions_count', 1]]]);
    expect(await b.call('FUNCTION', 'KILL')).toBe('OK');
    expect(await pending).toBe(`error: ${KILLED} script: inf, on @user_function:4.`);
    expect(((await b.call('FUNCTION', 'STATS')) as unknown[])[1]).toBeNull();
    expect(await err(b.call('FUNCTION', 'KILL'))).toBe('NOTBUSY No scripts in execution right now.');
    await b.call('FUNCTION', 'FLUSH');
  });

  it('in RESP3, FUNCTION STATS gives running_script as a map', async () => {
    const a = client();
    const n = await srv.nodeRedis(3);
    await n.sendCommand(['FUNCTION', 'LOAD', 'REPLACE', "#!lua name=busylib2\nredis.register_function('inf2', function() while true do end end)"]);
    const pending = settled(a.call('FCALL', 'inf2', '0'));
    await waitUntil(async () => {
      const s = (await n.sendCommand(['FUNCTION', 'STATS'])) as Record<string, unknown>;
      return s.running_script !== null;
    }, 5000, 'the function to be busy');
    const s = (await n.sendCommand(['FUNCTION', 'STATS'])) as Record<string, Record<string, unknown>>;
    expect(Object.keys(s.running_script!)).toEqual(['name', 'command', 'duration_ms']);
    expect(s.running_script!.name).toBe('inf2');
    expect(await n.sendCommand(['FUNCTION', 'KILL'])).toBe('OK');
    expect(String(await pending)).toMatch(/^error: ERR Script killed by user/);
    await n.sendCommand(['FUNCTION', 'FLUSH']);
  });
});

describe('conversions of script replies', () => {
  it('reads tables raw: returning the protected globals gives an empty array', async () => {
    const a = client();
    expect(await a.call('EVAL', 'return _G', '0')).toEqual([]);
    await a.call('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=g\nredis.register_function('getg', function() return _G end)");
    expect(await a.call('FCALL', 'getg', '0')).toEqual([]);
    await a.call('FUNCTION', 'DELETE', 'g');
  });
});

describe('SHUTDOWN while a script is busy', () => {
  it('SHUTDOWN without NOSAVE gets BUSY; SHUTDOWN NOSAVE stops the server and drops the caller', async () => {
    const own = await startTestServer({ 'busy-reply-threshold': 100 });
    try {
      const a = own.client({ enableReadyCheck: false, retryStrategy: () => null });
      const b = own.client({ enableReadyCheck: false, retryStrategy: () => null });
      const pending = settled(a.call('EVAL', LOOP, '0'));
      expect(await untilBusy(b)).toBe(BUSY_EVAL);
      expect(await err(b.call('SHUTDOWN'))).toBe(BUSY_EVAL);
      expect(await err(b.call('SHUTDOWN', 'SAVE'))).toBe(BUSY_EVAL);
      await b.call('SHUTDOWN', 'NOSAVE').catch(() => {});
      expect(String(await pending)).toMatch(/^error: /);
      const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect(own.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
      expect(own.engine.busyScript).toBeNull();
    } finally {
      await own.stop();
    }
  });
});

describe('a replica with a busy script', () => {
  it('applies its master stream only after the script ends', async () => {
    const master = await startTestServer({ 'repl-ping-replica-period': 3600, 'repl-diskless-sync-delay': 0 });
    const replica = await startTestServer({ 'busy-reply-threshold': 100, 'repl-ping-replica-period': 3600 });
    try {
      const mc = master.client();
      const rc = replica.client({ enableReadyCheck: false });
      const probe = replica.client({ enableReadyCheck: false });
      expect(await rc.call('REPLICAOF', '127.0.0.1', String(master.port))).toBe('OK');
      await replicaInSync(mc, rc, 5000);
      const key = k('repl');
      const pending = settled(rc.call('EVAL', `${SPIN}return redis.call('get', KEYS[1])`, '1', key, '400'));
      expect(await untilBusy(probe)).toBe(BUSY_EVAL);
      expect(await mc.call('SET', key, 'from-master')).toBe('OK');
      // The SET reached the replica while its script ran: the script never saw it.
      expect(await pending).toBeNull();
      await waitUntil(async () => (await probe.call('GET', key)) === 'from-master', 5000, 'the master stream');
    } finally {
      await replica.stop();
      await master.stop();
    }
  });
});
