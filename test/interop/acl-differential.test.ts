/**
 * Differential test for ACL users: the same sessions (an admin connection and
 * a user connection) run against a real redis-server 7.0 and the built
 * cacheside, in RESP2 and RESP3, and every reply is compared exactly. The
 * parts Redis leaves to its hash table order (ACL CAT <category>, the order
 * of several single-command rules) or to the clock (ACL LOG age-seconds,
 * client-info ids/addresses) are normalized or avoided.
 *
 * Needs `npm run build` and redis-server on PATH.
 */
import { describe, expect, it } from 'vitest';
import { RawClient, type RespValue } from './harness.js';
import { serverPair } from './differential.js';

type Norm = 'sorted' | 'log';
/** [connection (0 admin, 1 user), argv, normalization?] */
type Step = [number, string[], Norm?];

const STEPS: Step[] = [
  [0, ['ACL', 'WHOAMI']],
  [0, ['ACL', 'LIST']],
  [0, ['ACL', 'USERS']],
  [0, ['ACL', 'GETUSER', 'default']],
  [0, ['ACL', 'GETUSER', 'nosuch']],
  [0, ['ACL', 'SETUSER', 'alice']],
  [0, ['ACL', 'GETUSER', 'alice']],
  [0, ['ACL', 'LIST']],
  [1, ['AUTH', 'alice', 'x']],
  [0, ['ACL', 'SETUSER', 'alice', 'on', '>p1', '>p2', '<p2', '~k*', '%R~r*', '%W~w*', '&ch*', '+@string', '-append', '+config|get']],
  [0, ['ACL', 'GETUSER', 'alice']],
  [0, ['ACL', 'LIST']],
  [1, ['AUTH', 'alice', 'p2']],
  [1, ['AUTH', 'alice', 'p1']],
  [1, ['ACL', 'WHOAMI']],
  [1, ['GET', 'k1']],
  [1, ['GET', 'x1']],
  [1, ['SET', 'w1', 'v']],
  [1, ['SET', 'r1', 'v']],
  [1, ['GET', 'w1']],
  [1, ['GET', 'r1']],
  [1, ['APPEND', 'k1', 'x']],
  [1, ['MGET', 'k1', 'x', 'k2']],
  [1, ['LPUSH', 'k1', 'a']],
  [1, ['CONFIG', 'GET', 'maxmemory']],
  [1, ['CONFIG', 'SET', 'maxmemory', '0']],
  [1, ['PUBLISH', 'ch1', 'm']],
  [1, ['MULTI']],
  [1, ['GET', 'k1']],
  [1, ['GET', 'x']],
  [1, ['EXEC']],
  [0, ['ACL', 'LOG', '3'], 'log'],
  [0, ['ACL', 'LOG', 'RESET']],
  [0, ['ACL', 'LOG']],
  // rules changed between MULTI and EXEC
  [0, ['ACL', 'SETUSER', 'alice', '+multi', '+exec']],
  [1, ['MULTI']],
  [1, ['GET', 'k1']],
  [0, ['ACL', 'SETUSER', 'alice', '-get']],
  [1, ['EXEC']],
  [0, ['ACL', 'LOG', '1'], 'log'],
  // dry runs
  [0, ['ACL', 'DRYRUN', 'alice', 'get', 'k1']],
  [0, ['ACL', 'DRYRUN', 'alice', 'set', 'k1', 'v']],
  [0, ['ACL', 'DRYRUN', 'alice', 'set', 'x', 'v']],
  [0, ['ACL', 'DRYRUN', 'alice', 'get', 'r1']],
  [0, ['ACL', 'DRYRUN', 'alice', 'publish', 'x', 'm']],
  [0, ['ACL', 'DRYRUN', 'alice', 'config', 'get', 'x']],
  [0, ['ACL', 'DRYRUN', 'alice', 'config', 'set', 'x', 'y']],
  [0, ['ACL', 'DRYRUN', 'nosuch', 'get', 'x']],
  [0, ['ACL', 'DRYRUN', 'alice', 'nosuch', 'x']],
  [0, ['ACL', 'DRYRUN', 'alice', 'get']],
  // rule errors
  [0, ['ACL', 'SETUSER', 'bob', 'bad']],
  [0, ['ACL', 'SETUSER', 'bob', '+nosuch']],
  [0, ['ACL', 'SETUSER', 'bob', '-@nosuch']],
  [0, ['ACL', 'SETUSER', 'bob', '~*', '~x']],
  [0, ['ACL', 'SETUSER', 'bob', '&*', '&x']],
  [0, ['ACL', 'SETUSER', 'bob', '#abc']],
  [0, ['ACL', 'SETUSER', 'bob', '<nopw']],
  [0, ['ACL', 'SETUSER', 'bob', '+config|get|x']],
  [0, ['ACL', 'SETUSER', 'bob', '+get|']],
  [0, ['ACL', 'SETUSER', 'bob', '%X~k']],
  [0, ['ACL', 'SETUSER', 'bob', '(+get']],
  [0, ['ACL', 'SETUSER', 'a b']],
  [0, ['ACL', 'USERS']],
  [0, ['ACL', 'SETUSER', 'bob', 'on', 'nopass', '+@all', '-@dangerous', '~*']],
  [0, ['ACL', 'LIST']],
  [0, ['ACL', 'SETUSER', 'bob', '-@all', '+@read', '+@write', '-set', '+select|0']],
  [0, ['ACL', 'GETUSER', 'bob']],
  [0, ['ACL', 'SETUSER', 'bob', 'reset']],
  [0, ['ACL', 'LIST']],
  [0, ['ACL', 'SETUSER', 'carol', 'on', 'nopass', '(+get ~x)', '(+set', '~y)', '%RW~z']],
  [0, ['ACL', 'GETUSER', 'carol']],
  [0, ['ACL', 'LIST']],
  [0, ['ACL', 'SETUSER', 'carol', 'clearselectors']],
  [0, ['ACL', 'LIST']],
  // other subcommands
  [0, ['ACL', 'CAT']],
  [0, ['ACL', 'CAT', 'geo'], 'sorted'],
  [0, ['ACL', 'CAT', 'nosuch']],
  [0, ['ACL', 'CAT', 'a', 'b']],
  [0, ['ACL', 'GENPASS', '0']],
  [0, ['ACL', 'GENPASS', '5000']],
  [0, ['ACL', 'GENPASS', 'x']],
  [0, ['ACL', 'LOG', 'x']],
  [0, ['ACL', 'SAVE']],
  [0, ['ACL', 'LOAD']],
  [0, ['ACL', 'HELP']],
  [0, ['ACL', 'HELP', 'x']],
  [0, ['ACL', 'NOSUCH']],
  [0, ['ACL', 'DELUSER', 'default']],
  [0, ['ACL', 'DELUSER', 'nosuch', 'bob']],
  [0, ['CLIENT', 'KILL', 'USER', 'nosuch']],
  // the default user and requirepass
  [0, ['CONFIG', 'SET', 'requirepass', 'foo']],
  [0, ['ACL', 'GETUSER', 'default']],
  [1, ['AUTH', 'default', 'bar']],
  [1, ['AUTH', 'foo']],
  [1, ['ACL', 'WHOAMI']],
  [0, ['CONFIG', 'SET', 'requirepass', '']],
  [0, ['ACL', 'LIST']],
  [1, ['AUTH', 'x']],
  [0, ['ACL', 'SETUSER', 'default', '-@all', '+acl']],
  [1, ['GET', 'x']],
  [1, ['AUTH', 'alice', 'p1']],
  [0, ['ACL', 'SETUSER', 'default', '+@all']],
  [0, ['ACL', 'LOG', '2'], 'log'],
];

/** Same shape, with the clock- and connection-dependent fields of ACL LOG entries blanked. */
function normalizeLog(v: RespValue): RespValue {
  if (v.type !== 'array') return v;
  return {
    ...v,
    value: v.value.map((e) => {
      if (e.type !== 'map' && e.type !== 'array') return e;
      if (e.type === 'map') {
        return { ...e, value: e.value.map(([k, val]) => [k, keyName(k) === 'age-seconds' || keyName(k) === 'client-info' ? ({ type: 'null' } as RespValue) : val]) } as RespValue;
      }
      const items = e.value.slice();
      for (let i = 0; i + 1 < items.length; i += 2) {
        const k = keyName(items[i]!);
        if (k === 'age-seconds' || k === 'client-info') items[i + 1] = { type: 'null' } as RespValue;
      }
      return { ...e, value: items };
    }),
  } as RespValue;
}

/**
 * Redis emits the single-command rules after the categories in its hash
 * table order: sort those (only in strings without selectors).
 */
function sortRules(text: string): string {
  if (text.includes('(')) return text;
  const t = text.split(' ');
  const at = t.findIndex((x) => x === '+@all' || x === '-@all');
  if (at < 0) return text;
  let i = at + 1;
  while (i < t.length && /^[+-]@/.test(t[i]!)) i++;
  return [...t.slice(0, i), ...t.slice(i).sort()].join(' ');
}

function normalizeRules(v: RespValue): RespValue {
  switch (v.type) {
    case 'bulk':
      return { ...v, value: sortRules(v.value) };
    case 'array':
    case 'set':
      return { ...v, value: v.value.map(normalizeRules) };
    case 'map':
      return { ...v, value: v.value.map(([k, x]) => [k, normalizeRules(x)] as [RespValue, RespValue]) };
  }
  return v;
}

function keyName(v: RespValue): string {
  return 'value' in v && typeof v.value === 'string' ? v.value : '';
}

function sortReply(v: RespValue): RespValue {
  if (v.type !== 'array') return v;
  return { ...v, value: v.value.slice().sort((x, y) => keyName(x).localeCompare(keyName(y))) };
}

const servers = serverPair();

describe('ACL differential (redis-server 7.0 vs cacheside)', () => {
  for (const resp of [2, 3]) {
    it(`same replies, RESP${resp}`, async () => {
      const conns = await Promise.all([servers.redis.port, servers.redis.port, servers.cs.port, servers.cs.port].map((p) => RawClient.connect(p)));
      const [ra, ru, ca, cu] = conns as [RawClient, RawClient, RawClient, RawClient];
      try {
        for (const c of [ra, ca]) {
          await c.send('ACL', 'DELUSER', 'alice', 'bob', 'carol');
          await c.send('ACL', 'LOG', 'RESET');
        }
        if (resp === 3) for (const c of conns) await c.send('HELLO', '3');
        for (const [who, argv, norm] of STEPS) {
          const [x, y] = who === 0 ? [ra, ca] : [ru, cu];
          let [want, got] = [await x.send(...argv), await y.send(...argv)];
          if (norm === 'log') [want, got] = [normalizeLog(want), normalizeLog(got)];
          if (norm === 'sorted') [want, got] = [sortReply(want), sortReply(got)];
          if ((argv[0] === 'ACL' && (argv[1] === 'LIST' || argv[1] === 'GETUSER'))) [want, got] = [normalizeRules(want), normalizeRules(got)];
          expect({ argv, reply: got }).toEqual({ argv, reply: want });
        }
      } finally {
        for (const c of conns) await c.close();
      }
    });
  }

  it('DELUSER disconnects the clients of the user, the caller after its reply', async () => {
    for (const port of [servers.redis.port, servers.cs.port]) {
      const admin = await RawClient.connect(port);
      const user = await RawClient.connect(port);
      const self = await RawClient.connect(port);
      try {
        expect(await admin.send('ACL', 'SETUSER', 'gone', 'on', '>pw', '+@all', '~*')).toEqual({ type: 'simple', value: 'OK' });
        await user.send('AUTH', 'gone', 'pw');
        await self.send('AUTH', 'gone', 'pw');
        expect(await self.send('ACL', 'DELUSER', 'gone')).toEqual({ type: 'integer', value: 1n });
        await Promise.all([user.closed, self.closed]);
        expect(user.isClosed && self.isClosed).toBe(true);
        expect(await admin.send('PING')).toEqual({ type: 'simple', value: 'PONG' });
      } finally {
        for (const c of [admin, user, self]) await c.close();
      }
    }
  });
});
