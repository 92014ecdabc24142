/**
 * ACL users (Redis 7.0): rules, AUTH / HELLO AUTH, the permission gate
 * (commands, keys with read/write patterns, channels), MULTI/EXEC, ACL LOG,
 * DRYRUN, the pub/sub kill on revoked channels, `user` directives in the
 * config file and the ACL file (ACL SAVE / LOAD). Expected replies are
 * redis-server 7.0.15's.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, freePort, type TestServer } from '../helpers/server.js';
import { err, sleep } from '../helpers/expect.js';
import { configFrom, startEngine } from '../../src/server/bootstrap.js';
import { Logger } from '../../src/server/logger.js';

const NOPERM_KEY = 'NOPERM this user has no permissions to access one of the keys used as arguments';
const NOPERM_CHANNEL = 'NOPERM this user has no permissions to access one of the channels used as arguments';
const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
const noperm = (cmd: string) => `NOPERM this user has no permissions to run the '${cmd}' command`;

let srv: TestServer;
let admin: Redis;
beforeAll(async () => {
  srv = await startTestServer();
  admin = cli();
});
afterAll(async () => {
  await srv.stop();
});

/** A client that neither checks readiness (INFO needs auth) nor reconnects. */
const cli = (server: TestServer = srv): Redis => server.client({ enableReadyCheck: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });

async function userClient(name: string, pass: string): Promise<Redis> {
  const c = cli();
  expect(await c.call('AUTH', name, pass)).toBe('OK');
  return c;
}

describe('users and rules', () => {
  it('the default user is on, nopass, ~* &* +@all and unrestricted for the gate', async () => {
    expect(await admin.call('ACL', 'LIST')).toEqual(['user default on nopass ~* &* +@all']);
    expect(await admin.call('ACL', 'WHOAMI')).toBe('default');
    expect(srv.engine.acl.defaultUser.unrestricted).toBe(true);
  });

  it('new users start off with no permissions; rules render canonically', async () => {
    expect(await admin.call('ACL', 'SETUSER', 'u1')).toBe('OK');
    expect(await admin.call('ACL', 'LIST')).toContain('user u1 off resetchannels -@all');
    await admin.call('ACL', 'SETUSER', 'u1', 'on', '>a', '~k*', '%R~r*', '%W~w*', '&c*', '+@all', '-@dangerous');
    expect(await admin.call('ACL', 'GETUSER', 'u1')).toEqual([
      'flags', ['on'],
      'passwords', ['ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'],
      'commands', '+@all -@dangerous',
      'keys', '~k* %R~r* %W~w*',
      'channels', '&c*',
      'selectors', [],
    ]);
    await admin.call('ACL', 'SETUSER', 'u1', 'reset');
    expect(await admin.call('ACL', 'LIST')).toContain('user u1 off sanitize-payload resetchannels -@all');
    expect(await admin.call('ACL', 'DELUSER', 'u1')).toBe(1);
  });

  it('rejects bad rules with Redis texts and applies none of the rules of a failing SETUSER', async () => {
    expect(await err(admin.call('ACL', 'SETUSER', 'u2', 'on', 'bogus'))).toBe("ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
    expect(await admin.call('ACL', 'GETUSER', 'u2')).toBeNull();
    expect(await err(admin.call('ACL', 'SETUSER', 'u2', '+nosuch'))).toBe(
      "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL",
    );
    expect(await err(admin.call('ACL', 'SETUSER', 'u2', '+config|get|x'))).toBe(
      "ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported",
    );
    expect(await err(admin.call('ACL', 'SETUSER', 'u2', '(+get'))).toBe("ERR Unmatched parenthesis in acl selector starting at '(+get'.");
    expect(await err(admin.call('ACL', 'SETUSER', 'a b'))).toBe("ERR Usernames can't contain spaces or null characters");
    expect(await err(admin.call('ACL', 'DELUSER', 'default'))).toBe("ERR The 'default' user cannot be removed");
  });

  it('selectors render in parentheses and grant on their own', async () => {
    await admin.call('ACL', 'SETUSER', 'sel', 'on', '>p', '+get', '~a*', '(+set ~b*)');
    expect(await admin.call('ACL', 'LIST')).toContain('user sel on #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 ~a* resetchannels -@all +get (~b* resetchannels -@all +set)');
    const c = await userClient('sel', 'p');
    expect(await c.call('SET', 'b1', 'x')).toBe('OK');
    expect(await c.call('GET', 'a1')).toBeNull();
    expect(await err(c.call('SET', 'a1', 'x'))).toBe(NOPERM_KEY);
    expect(await err(c.call('GET', 'b1'))).toBe(NOPERM_KEY);
    expect(await err(c.call('DEL', 'b1'))).toBe(noperm('del'));
    await admin.call('ACL', 'DELUSER', 'sel');
  });
});

describe('the permission gate', () => {
  it('checks commands, subcommands, first args, key read/write patterns and channels', async () => {
    await admin.call('ACL', 'SETUSER', 'g', 'on', '>p', '~k*', '%R~r*', '%W~w*', '&ch*', '+@string', '-append', '+config|get', '+select|0', '+publish', '+rename');
    const c = await userClient('g', 'p');
    expect(await c.call('SET', 'k1', 'v')).toBe('OK');
    expect(await err(c.call('APPEND', 'k1', 'x'))).toBe(noperm('append'));
    expect(await err(c.call('CONFIG', 'SET', 'maxmemory', '0'))).toBe(noperm('config|set'));
    expect(await c.call('CONFIG', 'GET', 'maxmemory')).toEqual(['maxmemory', '0']);
    expect(await c.call('SELECT', '0')).toBe('OK');
    expect(await err(c.call('SELECT', '1'))).toBe(noperm('select'));
    expect(await c.call('GET', 'r1')).toBeNull();
    expect(await err(c.call('SET', 'r1', 'v'))).toBe(NOPERM_KEY);
    expect(await c.call('SET', 'w1', 'v')).toBe('OK');
    expect(await err(c.call('GET', 'w1'))).toBe(NOPERM_KEY);
    // RENAME reads and deletes its source, writes its destination.
    expect(await err(c.call('RENAME', 'w1', 'k2'))).toBe(NOPERM_KEY);
    expect(await c.call('RENAME', 'k1', 'w2')).toBe('OK');
    expect(await c.call('PUBLISH', 'ch1', 'm')).toBe(0);
    expect(await err(c.call('PUBLISH', 'other', 'm'))).toBe(NOPERM_CHANNEL);
    // Commands that need no authentication are always allowed.
    expect(await c.call('PING').catch((e: Error) => e.message)).toBe(noperm('ping'));
    expect(await c.call('AUTH', 'g', 'p')).toBe('OK');
  });

  it('checks queued commands and again at EXEC', async () => {
    await admin.call('ACL', 'SETUSER', 'm', 'on', '>p', '~*', '+multi', '+exec', '+get', '+set');
    const c = await userClient('m', 'p');
    expect(await c.call('MULTI')).toBe('OK');
    expect(await err(c.call('DEL', 'x'))).toBe(noperm('del'));
    expect(await err(c.call('EXEC'))).toBe('EXECABORT Transaction discarded because of previous errors.');
    const raw = cli();
    await raw.call('AUTH', 'm', 'p');
    await raw.call('MULTI');
    await raw.call('SET', 'x', '2');
    await admin.call('ACL', 'SETUSER', 'm', '-set');
    const out = (await raw.call('EXEC').catch((e: Error) => e)) as unknown[];
    expect(String(out[0])).toContain(
      'NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand',
    );
  });

  it("redis.call from a script runs under the caller's user, and the denial is logged with context lua", async () => {
    await admin.call('ACL', 'SETUSER', 'lu', 'on', '>p', '~k*', '+eval', '+get');
    await admin.call('ACL', 'LOG', 'RESET');
    const c = await userClient('lu', 'p');
    expect(await c.call('EVAL', "return redis.call('get', 'k1')", '0')).toBeNull();
    const sha = String(await admin.call('SCRIPT', 'LOAD', "return redis.call('set', 'k1', 'v')"));
    expect(await err(c.call('EVAL', "return redis.call('set', 'k1', 'v')", '0'))).toBe(
      `ERR The user executing the script can't run this command or subcommand script: ${sha}, on @user_script:1.`,
    );
    expect(await c.call('EVAL', "return redis.pcall('get', 'other')['err']", '0')).toBe(
      "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
    );
    const log = (await admin.call('ACL', 'LOG')) as unknown[][];
    expect(log.map((e) => [e[3], e[5], e[7], e[9]])).toEqual([
      ['key', 'lua', 'other', 'lu'],
      ['command', 'lua', 'set', 'lu'],
    ]);
  });

  it('a restricted default user applies to connections already open; AUTH and HELLO switch users', async () => {
    await admin.call('ACL', 'SETUSER', 'ok', 'on', '>pw', '+@all', '~*', '&*');
    const c = cli();
    expect(await c.call('PING')).toBe('PONG');
    await admin.call('ACL', 'SETUSER', 'default', '-get');
    expect(await err(c.call('GET', 'x'))).toBe(noperm('get'));
    expect(await err(c.call('AUTH', 'ok', 'bad'))).toBe(WRONGPASS);
    expect(await err(c.call('HELLO', '2', 'AUTH', 'nosuch', 'x'))).toBe(WRONGPASS);
    const hello = (await c.call('HELLO', '2', 'AUTH', 'ok', 'pw')) as unknown[];
    expect(hello[0]).toBe('server');
    expect(await c.call('GET', 'x')).toBeNull();
    expect(await c.call('ACL', 'WHOAMI')).toBe('ok');
    const list = (await c.call('CLIENT', 'LIST')) as string;
    expect(list).toMatch(/ user=ok /);
    await admin.call('ACL', 'SETUSER', 'default', '+get');
  });
});

describe('requirepass and the default user', () => {
  it('requirepass gives the default user a password, removing it makes it nopass again', async () => {
    await admin.call('CONFIG', 'SET', 'requirepass', 'secret');
    expect(await admin.call('ACL', 'LIST')).toContain(
      'user default on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all',
    );
    const c = cli();
    expect(await err(c.call('GET', 'x'))).toBe('NOAUTH Authentication required.');
    expect(await err(c.call('AUTH', 'wrong'))).toBe(WRONGPASS);
    expect(await c.call('AUTH', 'secret')).toBe('OK');
    expect(await c.call('AUTH', 'default', 'secret')).toBe('OK');
    await admin.call('CONFIG', 'SET', 'requirepass', '');
    expect(((await admin.call('ACL', 'GETUSER', 'default')) as unknown[])[1]).toEqual(['on', 'nopass']);
    expect(await err(c.call('AUTH', 'x'))).toBe(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  });

  it('new connections are not authenticated while the default user is off', async () => {
    await admin.call('ACL', 'SETUSER', 'default', 'off');
    const c = cli();
    expect(await err(c.call('GET', 'x'))).toBe('NOAUTH Authentication required.');
    await admin.call('ACL', 'SETUSER', 'default', 'on');
    // Nothing is required once the default user is on and nopass again.
    expect(await c.call('GET', 'x')).toBeNull();
  });
});

describe('ACL LOG, DRYRUN, CAT, GENPASS', () => {
  it('logs denied commands, keys, channels and failed auths, grouping repeats', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    await admin.call('ACL', 'SETUSER', 'lg', 'on', '>p', '~k*', '+get', '+publish');
    const c = await userClient('lg', 'p');
    await c.call('CLIENT', 'SETNAME', 'x').catch(() => {});
    await err(c.call('GET', 'x'));
    await err(c.call('GET', 'x'));
    await err(c.call('PUBLISH', 'ch', 'm'));
    await err(c.call('AUTH', 'lg', 'bad'));
    const log = (await admin.call('ACL', 'LOG')) as unknown[][];
    expect(log.length).toBe(4);
    const entry = (e: unknown[]) => Object.fromEntries(Array.from({ length: e.length / 2 }, (_, i) => [e[2 * i], e[2 * i + 1]]));
    const [auth, chan, key, cmd] = log.map(entry);
    expect(auth).toMatchObject({ count: 1, reason: 'auth', context: 'toplevel', object: 'AUTH', username: 'lg' });
    expect(chan).toMatchObject({ count: 1, reason: 'channel', object: 'ch', username: 'lg' });
    expect(key).toMatchObject({ count: 2, reason: 'key', object: 'x', username: 'lg' });
    expect(cmd).toMatchObject({ count: 1, reason: 'command', object: 'client|setname' });
    expect(String(key['client-info'])).toMatch(/ cmd=get user=lg /);
    expect(await admin.call('ACL', 'LOG', '1')).toHaveLength(1);
    expect(await admin.call('ACL', 'LOG', 'RESET')).toBe('OK');
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it('ACL LOG keeps at most acllog-max-len entries', async () => {
    await admin.call('CONFIG', 'SET', 'acllog-max-len', '2');
    await admin.call('ACL', 'SETUSER', 'lm', 'on', '>p', '+get');
    const c = await userClient('lm', 'p');
    for (const k of ['a', 'b', 'c']) await err(c.call('GET', k));
    expect(await admin.call('ACL', 'LOG')).toHaveLength(2);
    await admin.call('CONFIG', 'SET', 'acllog-max-len', '128');
  });

  it('DRYRUN tells what the gate would say', async () => {
    await admin.call('ACL', 'SETUSER', 'dr', 'on', '~k*', '&c*', '+get', '+publish');
    expect(await admin.call('ACL', 'DRYRUN', 'dr', 'GET', 'k1')).toBe('OK');
    expect(await admin.call('ACL', 'DRYRUN', 'dr', 'GET', 'x')).toBe("This user has no permissions to access the 'x' key");
    expect(await admin.call('ACL', 'DRYRUN', 'dr', 'SET', 'k', 'v')).toBe("This user has no permissions to run the 'set' command");
    expect(await admin.call('ACL', 'DRYRUN', 'dr', 'PUBLISH', 'z', 'm')).toBe("This user has no permissions to access the 'z' channel");
    expect(await err(admin.call('ACL', 'DRYRUN', 'nobody', 'GET', 'x'))).toBe("ERR User 'nobody' not found");
    expect(await err(admin.call('ACL', 'DRYRUN', 'dr', 'GET'))).toBe("ERR wrong number of arguments for 'get' command");
  });

  it('CAT lists the categories and their commands; GENPASS gives hex of the asked size', async () => {
    const cats = (await admin.call('ACL', 'CAT')) as string[];
    expect(cats).toHaveLength(21);
    expect(cats[0]).toBe('keyspace');
    const hll = ((await admin.call('ACL', 'CAT', 'hyperloglog')) as string[]).sort();
    expect(hll).toEqual(['pfadd', 'pfcount', 'pfdebug', 'pfmerge', 'pfselftest']);
    expect(await err(admin.call('ACL', 'CAT', 'nope'))).toBe("ERR Unknown category 'nope'");
    expect(await admin.call('ACL', 'GENPASS')).toMatch(/^[0-9a-f]{64}$/);
    expect(await admin.call('ACL', 'GENPASS', '5')).toMatch(/^[0-9a-f]{2}$/);
  });
});

describe('disconnections', () => {
  it('DELUSER disconnects the clients of the user; CLIENT KILL USER finds them', async () => {
    await admin.call('ACL', 'SETUSER', 'kd', 'on', '>p', '+@all', '~*');
    const a = await userClient('kd', 'p');
    const b = await userClient('kd', 'p');
    expect(await admin.call('CLIENT', 'KILL', 'USER', 'kd')).toBe(2);
    expect(await err(admin.call('CLIENT', 'KILL', 'USER', 'nobody'))).toBe("ERR No such user 'nobody'");
    const c = await userClient('kd', 'p');
    expect(await c.call('ACL', 'DELUSER', 'kd')).toBe(1);
    await sleep(50);
    expect(c.status).not.toBe('ready');
    c.disconnect();
    a.disconnect();
    b.disconnect();
  });

  it('revoking a channel disconnects the subscribers that used it', async () => {
    await admin.call('ACL', 'SETUSER', 'ps', 'on', '>p', '+@all', '~*', 'resetchannels', '&news', '&sport');
    const sub = cli();
    await sub.call('AUTH', 'ps', 'p');
    await sub.subscribe('news');
    expect(await err(sub.subscribe('other'))).toBe(NOPERM_CHANNEL);
    const closed = new Promise<void>((r) => sub.once('end', () => r()));
    // Keeping 'news' keeps the subscriber.
    await admin.call('ACL', 'SETUSER', 'ps', 'resetchannels', '&news');
    expect(await admin.call('PUBLISH', 'news', 'x')).toBe(1);
    await admin.call('ACL', 'SETUSER', 'ps', 'resetchannels', '&sport');
    await closed;
    expect(await admin.call('PUBLISH', 'news', 'x')).toBe(0);
  });
});

describe('config file users and the ACL file', () => {
  it('user directives define users at startup (the default user starts from reset)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-acl-'));
    const cfg = configFrom({ port: await freePort(), save: '', appendonly: 'no', dir });
    cfg.loadText('user alice on >pw ~* &* +@all\nuser default on nopass ~* +@all\n', join(dir, 'x.conf'));
    const running = await startEngine(cfg, new Logger(cfg));
    const c = new Redis({ port: running.port, enableReadyCheck: false });
    try {
      expect(await c.call('ACL', 'LIST')).toEqual([
        'user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* &* +@all',
        'user default on nopass sanitize-payload ~* resetchannels +@all',
      ]);
      expect(await c.call('AUTH', 'alice', 'pw')).toBe('OK');
    } finally {
      c.disconnect();
      await running.close();
    }
  });

  it('ACL SAVE writes the users, ACL LOAD replaces them (all or nothing)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-acl-'));
    const file = join(dir, 'users.acl');
    writeFileSync(file, 'user bob on nopass ~b* +get\n');
    const s2 = await startTestServer({ aclfile: file });
    try {
      const c = cli(s2);
      expect(await c.call('ACL', 'USERS')).toEqual(['bob', 'default']);
      await c.call('ACL', 'SETUSER', 'carl', 'on', '>x', '+@read');
      expect(await c.call('ACL', 'SAVE')).toBe('OK');
      expect(readFileSync(file, 'latin1')).toBe(
        'user bob on nopass ~b* resetchannels -@all +get\n' +
          'user carl on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 resetchannels -@all +@read\n' +
          'user default on nopass ~* &* +@all\n',
      );
      const bob = cli(s2);
      await bob.call('AUTH', 'bob', 'any');
      writeFileSync(file, 'user dan on nopass +@all\nuser bad on +nosuch\n');
      expect(await err(c.call('ACL', 'LOAD'))).toBe(
        `ERR ${file}:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed`,
      );
      expect(await c.call('ACL', 'USERS')).toEqual(['bob', 'carl', 'default']);
      writeFileSync(file, 'user dan on nopass +@all\n');
      expect(await c.call('ACL', 'LOAD')).toBe('OK');
      expect(await c.call('ACL', 'USERS')).toEqual(['dan', 'default']);
      await sleep(50);
      // bob's connection went with the old users
      expect(await bob.call('PING').catch((e: Error) => e.message)).not.toBe('PONG');
    } finally {
      await s2.stop();
    }
  });

  it('without aclfile, LOAD and SAVE answer as Redis does', async () => {
    const msg =
      'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';
    expect(await err(admin.call('ACL', 'SAVE'))).toBe(msg);
    expect(await err(admin.call('ACL', 'LOAD'))).toBe(msg);
  });
});
