/**
 * EVAL / EVALSHA / EVAL_RO / SCRIPT through real clients (ioredis RESP2,
 * node-redis RESP3). Expected replies and error texts are those of
 * redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { propagated } from '../helpers/expect.js';
import { RawClient } from '../helpers/raw-client.js';

let srv: TestServer;
let c: Redis;
beforeAll(async () => {
  srv = await startTestServer();
  c = srv.client();
});
afterAll(async () => {
  await srv.stop();
});

const err = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error reply');
};

describe('EVAL basics', () => {
  it('KEYS and ARGV', async () => {
    expect(await c.call('EVAL', 'return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}', '2', 'k1', 'k2', 'a1')).toEqual(['k1', 'k2', 'a1', 2, 1]);
  });

  it('numkeys errors', async () => {
    expect(await err(c.call('EVAL', 'return 1', '1'))).toBe("ERR Number of keys can't be greater than number of args");
    expect(await err(c.call('EVAL', 'return 1', '-1'))).toBe("ERR Number of keys can't be negative");
    expect(await err(c.call('EVAL', 'return 1', 'abc'))).toBe('ERR value is not an integer or out of range');
  });

  it('EVALSHA, SCRIPT LOAD / EXISTS / FLUSH', async () => {
    const sha = 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db';
    await c.call('SCRIPT', 'FLUSH');
    expect(await err(c.call('EVALSHA', sha, '0'))).toBe('NOSCRIPT No matching script. Please use EVAL.');
    expect(await err(c.call('EVALSHA', 'abc', '0'))).toBe('NOSCRIPT No matching script. Please use EVAL.');
    expect(await c.call('SCRIPT', 'LOAD', 'return 1')).toBe(sha);
    expect(await c.call('SCRIPT', 'EXISTS', sha, 'nope')).toEqual([1, 0]);
    expect(await c.call('EVALSHA', sha.toUpperCase(), '0')).toBe(1);
    expect(await c.call('SCRIPT', 'FLUSH', 'ASYNC')).toBe('OK');
    expect(await c.call('SCRIPT', 'EXISTS', sha)).toEqual([0]);
    // EVAL caches the script it runs.
    await c.call('EVAL', 'return 1', '0');
    expect(await c.call('SCRIPT', 'EXISTS', sha)).toEqual([1]);
    expect(await err(c.call('SCRIPT', 'FLUSH', 'foo'))).toBe('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
    expect(await err(c.call('SCRIPT', 'KILL'))).toBe('NOTBUSY No scripts in execution right now.');
    expect(await err(c.call('SCRIPT', 'nosuch'))).toBe("ERR unknown subcommand 'nosuch'. Try SCRIPT HELP.");
    expect(await err(c.call('SCRIPT', 'EXISTS'))).toBe("ERR wrong number of arguments for 'script|exists' command");
    const help = (await c.call('SCRIPT', 'HELP')) as string[];
    expect(help[0]).toBe('SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toHaveLength(17);
  });

  it('COMMAND INFO matches Redis 7.0', async () => {
    const [info] = (await c.call('COMMAND', 'INFO', 'eval')) as unknown[][];
    expect(info!.slice(0, 6)).toEqual(['eval', -3, ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'], 0, 0, 0]);
    const [ro] = (await c.call('COMMAND', 'INFO', 'evalsha_ro')) as unknown[][];
    expect(ro!.slice(0, 3)).toEqual(['evalsha_ro', -3, ['readonly', 'noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys']]);
    expect(await c.call('COMMAND', 'GETKEYS', 'EVAL', 'return 1', '2', 'a', 'b', 'c')).toEqual(['a', 'b']);
  });
});

describe('conversions', () => {
  it('Lua → Redis', async () => {
    expect(await c.call('EVAL', 'return 3.99', '0')).toBe(3);
    expect(await c.call('EVAL', 'return -3.99', '0')).toBe(-3);
    expect(await c.call('EVAL', "return {1,2,3,'x',nil,5}", '0')).toEqual([1, 2, 3, 'x']);
    expect(await c.call('EVAL', "return {1,{2,{3}},true,false,'a'}", '0')).toEqual([1, [2, [3]], 1, null, 'a']);
    expect(await c.call('EVAL', 'return true', '0')).toBe(1);
    expect(await c.call('EVAL', 'return false', '0')).toBe(null);
    expect(await c.call('EVAL', 'return nil', '0')).toBe(null);
    expect(await c.call('EVAL', "return {ok='fine'}", '0')).toBe('fine');
    expect(await c.call('EVAL', "return redis.status_reply('FINE')", '0')).toBe('FINE');
    expect(await err(c.call('EVAL', "return {err='My error'}", '0'))).toBe('My error');
    expect(await err(c.call('EVAL', "return redis.error_reply('bar')", '0'))).toBe('ERR bar');
    expect(await err(c.call('EVAL', "return redis.error_reply('-foo bar')", '0'))).toBe('foo bar');
    expect(await c.call('EVAL', 'return {err=3}', '0')).toEqual([]);
    expect(await c.call('EVAL', 'return {a=1}', '0')).toEqual([]);
    expect(await c.call('EVAL', "return 'a', 'b'", '0')).toBe('a');
    // Out of the int64 range (and NaN): C's cast gives INT64_MIN (raw bytes: ioredis's integers lose precision).
    const raw = await RawClient.connect(srv.port);
    await raw.call(['EVAL', 'return 1e20', '0'], ':-9223372036854775808\r\n');
    await raw.call(['EVAL', 'return 0/0', '0'], ':-9223372036854775808\r\n');
    raw.sock.destroy();
    expect(await c.call('EVAL', 'return {double=3.5}', '0')).toBe('3.5');
  });

  it('Redis → Lua', async () => {
    await c.set('conv:s', '10');
    expect(await c.call('EVAL', "return type(redis.call('get','conv:nokey'))", '0')).toBe('boolean');
    expect(await c.call('EVAL', "return type(redis.call('get','conv:s'))", '0')).toBe('string');
    expect(await c.call('EVAL', "return type(redis.call('incr','conv:s'))", '0')).toBe('number');
    expect(await c.call('EVAL', "local t = redis.call('set','conv:s','1'); return type(t) .. t.ok", '0')).toBe('tableOK');
    expect(await c.call('EVAL', "local t = redis.pcall('lpush','conv:s','x'); return t.err", '0')).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    await c.call('HSET', 'conv:h', 'a', '1');
    expect(await c.call('EVAL', "return redis.call('hgetall','conv:h')", '0')).toEqual(['a', '1']);
    expect(await c.call('EVAL', "redis.setresp(3); return redis.call('hgetall','conv:h').map.a", '0')).toBe('1');
    expect(await c.call('EVAL', "redis.setresp(3); return redis.call('get','conv:nokey') == nil", '0')).toBe(1);
  });

  it('numbers as command arguments and Lua 5.1 number formatting', async () => {
    expect(await c.call('EVAL', "redis.call('set','conv:n',0.1); return redis.call('get','conv:n')", '0')).toBe('0.10000000000000001');
    expect(await c.call('EVAL', "redis.call('set','conv:n',3.0); return redis.call('get','conv:n')", '0')).toBe('3');
    expect(await c.call('EVAL', 'return {tostring(10/2), tostring(1e15), tostring(2^53), tostring(1/0), tostring(0.1)}', '0')).toEqual(['5', '1e+15', '9.007199254741e+15', 'inf', '0.1']);
    expect(await c.call('EVAL', "return tostring(tonumber('12') + 1)", '0')).toBe('13');
    expect(await c.call('EVAL', 'return {unpack({1,2})}', '0')).toEqual([1, 2]);
    expect(await c.call('EVAL', 'return {_VERSION, table.getn({1,2,3}), math.pow(2,10)}', '0')).toEqual(['Lua 5.1', 3, 1024]);
    expect(await err(c.call('EVAL', "return redis.call('set','k',true)", '0'))).toMatch(/^ERR Lua redis lib command arguments must be strings or integers script: /);
  });

  it('is binary safe (bytes 0-255 round-trip)', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const out = (await c.callBuffer('EVAL', "redis.call('set', KEYS[1], ARGV[1]); return {redis.call('get', KEYS[1]), string.len(ARGV[1]), ARGV[1]:byte(256)}", '1', 'bin:k', all)) as [Buffer, number, number];
    expect(out[0]!.equals(all)).toBe(true);
    expect(out[1]).toBe(256);
    expect(out[2]).toBe(255);
    expect((await c.getBuffer('bin:k'))!.equals(all)).toBe(true);
    expect(await c.call('EVAL', 'return redis.sha1hex(ARGV[1])', '0', 'abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});

describe('errors', () => {
  const sha = (body: string): Promise<string> => c.call('SCRIPT', 'LOAD', body) as Promise<string>;
  it('redis.call errors abort the script with Redis 7.0 texts', async () => {
    await c.set('err:str', 'x');
    let body = "return redis.call('nosuchcmd')";
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR Unknown Redis command called from script script: ${await sha(body)}, on @user_script:1.`);
    body = "local x = 1\nreturn redis.call('lpush','err:str','a')";
    expect(await err(c.call('EVAL', body, '0'))).toBe(`WRONGTYPE Operation against a key holding the wrong kind of value script: ${await sha(body)}, on @user_script:2.`);
    body = "return redis.call('get')";
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR Wrong number of args calling Redis command from script script: ${await sha(body)}, on @user_script:1.`);
    body = 'return redis.call()';
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR Please specify at least one argument for this redis lib call script: ${await sha(body)}, on @user_script:1.`);
    body = "return redis.call('eval','return 1','0')";
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR This Redis command is not allowed from script script: ${await sha(body)}, on @user_script:1.`);
    expect(await err(c.call('EVAL', "return redis.pcall('nosuchcmd')", '0'))).toBe('ERR Unknown Redis command called from script');
    expect(await c.call('EVAL', "local ok, e = pcall(redis.call, 'nosuch'); return e", '0')).toBe('ERR Unknown Redis command called from script');
  });

  it('Lua errors, compile errors and global protection', async () => {
    expect(await err(c.call('EVAL', 'return foo(', '0'))).toBe("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'");
    let body = 'return nil + 1';
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR user_script:1: attempt to perform arithmetic on a nil value script: ${await sha(body)}, on @user_script:1.`);
    body = "local function f() error('deep') end\nlocal x = 1\nf()";
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR user_script:1: deep script: ${await sha(body)}, on @user_script:1.`);
    body = "error({err='MY custom'})";
    expect(await err(c.call('EVAL', body, '0'))).toBe(`MY custom script: ${await sha(body)}, on @user_script:1.`);
    body = 'return x';
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: ${await sha(body)}, on @user_script:1.`);
    body = 'x = 1';
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR user_script:1: Attempt to modify a readonly table script: ${await sha(body)}, on @user_script:1.`);
    body = 'string.foo = 1';
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR user_script:1: Attempt to modify a readonly table script: ${await sha(body)}, on @user_script:1.`);
    body = 'return type(os)';
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: ${await sha(body)}, on @user_script:1.`);
  });

  it('shebang flags', async () => {
    expect(await err(c.call('EVAL', '#!python\nreturn 1', '0'))).toBe('ERR Unexpected engine in script shebang: #!python');
    expect(await err(c.call('EVAL', '#!lua flags=bogus\nreturn 1', '0'))).toBe('ERR Unexpected flag in script shebang: bogus');
    expect(await err(c.call('EVAL_RO', "#!lua\nreturn redis.call('set','a','b')", '0'))).toBe('ERR Can not execute a script with write flag using *_ro command.');
    const body = "#!lua flags=no-writes\nreturn redis.call('set','a','b')";
    expect(await err(c.call('EVAL', body, '0'))).toBe(`ERR Write commands are not allowed from read-only scripts. script: ${await sha(body)}, on @user_script:2.`);
    expect(await c.call('EVAL', '#!lua flags=no-writes\nreturn 7', '0')).toBe(7);
  });
});

describe('writes, databases, propagation', () => {
  it('EVAL_RO refuses writes, reads work', async () => {
    await c.set('ro:k', 'v');
    const body = "return redis.call('set','ro:k','b')";
    const sha = (await c.call('SCRIPT', 'LOAD', body)) as string;
    expect(await err(c.call('EVAL_RO', body, '1', 'ro:k'))).toBe(`ERR Write commands are not allowed from read-only scripts. script: ${sha}, on @user_script:1.`);
    expect(await err(c.call('EVALSHA_RO', sha, '1', 'ro:k'))).toBe(`ERR Write commands are not allowed from read-only scripts. script: ${sha}, on @user_script:1.`);
    expect(await c.call('EVAL_RO', "return redis.call('get', KEYS[1])", '1', 'ro:k')).toBe('v');
    expect(await c.get('ro:k')).toBe('v');
  });

  it("runs in the caller's db; SELECT inside does not leak", async () => {
    const d = srv.client({ db: 3 });
    expect(await d.call('EVAL', "redis.call('set', KEYS[1], 'in3'); redis.call('select', 5); return redis.call('set', KEYS[1], 'in5')", '1', 'db:k')).toBe('OK');
    expect(await d.get('db:k')).toBe('in3');
    expect(await d.call('EVAL', "return redis.call('get', KEYS[1])", '1', 'db:k')).toBe('in3');
    await d.select(5);
    expect(await d.get('db:k')).toBe('in5');
  });

  it('propagates the effects, wrapped in MULTI/EXEC', async () => {
    const ops = await propagated(srv, () => c.call('EVAL', "redis.call('set', KEYS[1], '1'); redis.call('incr', KEYS[1]); redis.call('get', KEYS[1]); return 1", '1', 'prop:k'));
    expect(ops).toEqual([['MULTI'], ['set', 'prop:k', '1'], ['incr', 'prop:k'], ['EXEC']]);
    const one = await propagated(srv, () => c.call('EVAL', "return redis.call('del', KEYS[1])", '1', 'prop:k'));
    expect(one).toEqual([['del', 'prop:k']]);
    const none = await propagated(srv, () => c.call('EVAL', "return redis.call('get', KEYS[1])", '1', 'prop:k'));
    expect(none).toEqual([]);
  });

  it('MONITOR shows the script commands as "lua"', async () => {
    const m = srv.client();
    const lines: string[] = [];
    await m.monitor().then((mon) => mon.on('monitor', (_t: string, args: string[], source: string) => lines.push(`${source} ${args.join(' ')}`)));
    await c.call('EVAL', "return redis.call('set', 'mon:k', 'v')", '0');
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.some((l) => l.endsWith('lua set mon:k v'))).toBe(true);
  });

  it('OOM: writes inside a script are refused over maxmemory with noeviction', async () => {
    const o = await startTestServer({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
    try {
      const oc = o.client();
      const body = "return redis.call('set','a','b')";
      const sha = (await oc.call('SCRIPT', 'LOAD', body)) as string;
      expect(await err(oc.call('EVAL', body, '0'))).toBe(`OOM command not allowed when used memory > 'maxmemory'. script: ${sha}, on @user_script:1.`);
      expect(await oc.call('EVAL', "return redis.call('get','a')", '0')).toBe(null);
      expect(await err(oc.call('EVAL', "#!lua\nreturn 1", '0'))).toBe("OOM command not allowed when used memory > 'maxmemory'.");
    } finally {
      await o.stop();
    }
  });
});

describe('clients', () => {
  it('ioredis defineCommand', async () => {
    c.defineCommand('incrCapped', {
      numberOfKeys: 1,
      lua: "local v = redis.call('incr', KEYS[1]); if v > tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1]); return tonumber(ARGV[1]) end; return v",
    });
    const r = c as unknown as { incrCapped(k: string, cap: number): Promise<number> };
    await c.del('dc:k');
    expect(await r.incrCapped('dc:k', 2)).toBe(1);
    expect(await r.incrCapped('dc:k', 2)).toBe(2);
    expect(await r.incrCapped('dc:k', 2)).toBe(2);
  });

  it('node-redis RESP3', async () => {
    const n = await srv.nodeRedis(3);
    expect(await n.sendCommand(['EVAL', "return {1, 'a', false, {ok='x'}}", '0'])).toEqual([1, 'a', null, 'x']);
    expect(await n.sendCommand(['EVAL', "redis.setresp(3); return {map={a=1}}", '0'])).toEqual({ a: 1 });
    expect(await n.sendCommand(['EVAL', 'redis.setresp(3); return true', '0'])).toBe(true);
    expect(await n.sendCommand(['EVAL', 'return true', '0'])).toBe(1);
  });
});
