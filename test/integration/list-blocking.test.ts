/**
 * Blocking list commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) with several
 * concurrently blocked ioredis clients: FIFO service, wake-up by pushes from
 * any client (also inside MULTI/EXEC, after EXEC), fractional timeouts,
 * disconnects while blocked, CLIENT UNBLOCK, MULTI behaviour, propagation and
 * keyspace events of served clients. Replies, error texts, propagated
 * commands and events were checked against redis-server 7.0.15.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WRONGTYPE, err, eventsDuring, keyMaker, rawClient, propagated as propagatedBy } from '../helpers/expect.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';

let srv: TestServer;
let c: Redis;

beforeAll(async () => {
  srv = await startTestServer({ 'notify-keyspace-events': 'KEA' });
  c = srv.client({ enableReadyCheck: false });
});
afterAll(async () => {
  await srv.stop();
});

const k = keyMaker('blist');

const client = (): Redis => srv.client({ enableReadyCheck: false });
const blocked = (): number => srv.engine.blocking.blockedCount;
/** Wait until exactly n clients are blocked (so the order of blocking is known). */
const untilBlocked = (n: number): Promise<void> => waitUntil(() => blocked() === n, 3000, `${n} blocked clients`);

/** Capture what the engine propagates while `fn` runs. */
const propagated = (fn: () => Promise<unknown>): Promise<string[][]> => propagatedBy(srv, fn);

/** Keyevent notifications ("event key") produced while fn runs. */
const events = (fn: () => Promise<unknown>): Promise<string[]> => eventsDuring(srv, c, fn);

describe('serving at once', () => {
  it('BLPOP/BRPOP take from the first non-empty key and propagate as LPOP/RPOP', async () => {
    const a = k('a');
    const b = k('b');
    await c.rpush(b, '1', '2', '3');
    const p = await propagated(async () => {
      expect(await c.blpop(a, b, 0)).toEqual([b, '1']);
      expect(await c.brpop(a, b, 0)).toEqual([b, '3']);
    });
    expect(p).toEqual([
      ['LPOP', b],
      ['RPOP', b],
    ]);
    expect(blocked()).toBe(0);
  });

  it('BLMOVE / BRPOPLPUSH / BLMPOP with data available', async () => {
    const a = k('a');
    const d = k('d');
    await c.rpush(a, '1', '2', '3', '4');
    const p = await propagated(async () => {
      expect(await c.blmove(a, d, 'LEFT', 'RIGHT', 0)).toBe('1');
      expect(await c.brpoplpush(a, d, 0)).toBe('4');
      expect(await c.call('BLMPOP', '0', '2', k('none'), a, 'RIGHT', 'COUNT', '5')).toEqual([a, ['3', '2']]);
    });
    expect(await c.lrange(d, 0, -1)).toEqual(['4', '1']);
    expect(await c.exists(a)).toBe(0);
    expect(p).toEqual([
      ['LMOVE', a, d, 'LEFT', 'RIGHT'],
      ['RPOPLPUSH', a, d],
      ['RPOP', a, '2'],
    ]);
  });

  it('argument errors and WRONGTYPE', async () => {
    const s = k('str');
    await c.set(s, 'x');
    expect(await err(c.blpop(k('x'), -1))).toBe('ERR timeout is negative');
    expect(await err(c.call('BLPOP', k('x'), 'abc'))).toBe('ERR timeout is not a float or out of range');
    expect(await err(c.call('BLPOP', k('x'), 'nan'))).toBe('ERR timeout is not a float or out of range');
    // Redis converts seconds*1000 to a 64-bit integer: infinity and overflow come out negative.
    expect(await err(c.call('BLPOP', k('x'), 'inf'))).toBe('ERR timeout is negative');
    expect(await err(c.call('BLPOP', k('x'), '1e16'))).toBe('ERR timeout is negative');
    expect(await err(c.blpop(s, 0))).toBe(WRONGTYPE);
    expect(await err(c.call('BLMOVE', k('x'), s, 'UP', 'LEFT', '0'))).toBe('ERR syntax error');
    expect(await err(c.call('BLMOVE', k('x'), s, 'LEFT', 'LEFT', '-1'))).toBe('ERR timeout is negative');
    expect(await err(c.call('BLMOVE', s, k('x'), 'LEFT', 'LEFT', '0'))).toBe(WRONGTYPE);
    expect(await err(c.call('BRPOPLPUSH', s, k('x'), '0'))).toBe(WRONGTYPE);
    expect(await err(c.call('BLMPOP', '-1', '0', 'a', 'LEFT'))).toBe('ERR numkeys should be greater than 0');
    expect(await err(c.call('BLMPOP', 'x', '1', 'a', 'LEFT'))).toBe('ERR timeout is not a float or out of range');
    expect(await err(c.call('BLMPOP', '0', '1', 'a', 'MIDDLE'))).toBe('ERR syntax error');
    expect(await err(c.call('BLMPOP', '0', '1', s, 'LEFT'))).toBe(WRONGTYPE);
    const a = k('a');
    await c.rpush(a, 'v');
    // A non-empty key before a wrong-type one is served; the wrong-type key is not looked at.
    expect(await c.blpop(a, s, 0)).toEqual([a, 'v']);
    // A source with data and a wrong-type destination: nothing moves.
    await c.rpush(a, 'v');
    expect(await err(c.blmove(a, s, 'LEFT', 'LEFT', 0))).toBe(WRONGTYPE);
    expect(await c.lrange(a, 0, -1)).toEqual(['v']);
    expect(blocked()).toBe(0);
  });
});

describe('blocking and waking', () => {
  it('serves several blocked clients in the order they blocked (FIFO)', async () => {
    const q = k('fifo');
    const clients = [client(), client(), client(), client()];
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < clients.length; i++) {
      replies.push(clients[i]!.blpop(q, 0));
      await untilBlocked(i + 1);
    }
    expect(await c.rpush(q, 'a', 'b')).toBe(2);
    expect(await Promise.all(replies.slice(0, 2))).toEqual([
      [q, 'a'],
      [q, 'b'],
    ]);
    expect(blocked()).toBe(2);
    await c.lpush(q, 'c');
    expect(await replies[2]).toEqual([q, 'c']);
    await c.rpush(q, 'd');
    expect(await replies[3]).toEqual([q, 'd']);
    expect(blocked()).toBe(0);
    expect(await c.exists(q)).toBe(0);
  });

  it('mixed blocking commands on one key are served in order, each taking what it asks for', async () => {
    const q = k('mixed');
    const r = k('mixed-r');
    const d = k('mixed-d');
    const cl = [client(), client(), client(), client(), client()];
    const replies: Promise<unknown>[] = [];
    const cmds: [string, ...string[]][] = [
      ['BLPOP', q, r, '0'],
      ['BLMOVE', q, r, 'LEFT', 'right', '0'],
      ['BRPOP', r, '0'],
      ['BLMPOP', '0', '2', r, q, 'RIGHT', 'COUNT', '2'],
      ['BRPOPLPUSH', q, d, '0'],
    ];
    for (let i = 0; i < cmds.length; i++) {
      replies.push(cl[i]!.call(...cmds[i]!));
      await untilBlocked(i + 1);
    }
    const p = await propagated(async () => {
      expect(await c.rpush(q, 'a', 'b', 'c', 'd', 'e', 'f')).toBe(6);
      await Promise.all(replies);
    });
    // Same replies and final state as redis-server 7.0.15 gives for this sequence.
    expect(await Promise.all(replies)).toEqual([[q, 'a'], 'b', [r, 'b'], [q, ['f', 'e']], 'd']);
    expect(await c.lrange(q, 0, -1)).toEqual(['c']);
    expect(await c.exists(r)).toBe(0);
    expect(await c.lrange(d, 0, -1)).toEqual(['d']);
    expect(p).toEqual([
      ['rpush', q, 'a', 'b', 'c', 'd', 'e', 'f'],
      ['LPOP', q],
      ['LMOVE', q, r, 'left', 'right'], // served: Redis 7.0 writes its own lowercase ends
      // Every waiter of q first; r became ready during that and is served next.
      ['RPOP', q, '2'],
      ['RPOPLPUSH', q, d],
      ['RPOP', r],
    ]);
  });

  it('a client blocked on several keys is served from the key that receives data', async () => {
    const x = k('x');
    const y = k('y');
    const b = client();
    const reply = b.brpop(x, y, 0);
    await untilBlocked(1);
    await c.rpush(y, 'v1', 'v2');
    expect(await reply).toEqual([y, 'v2']);
    expect(await c.lrange(y, 0, -1)).toEqual(['v1']);
    expect(blocked()).toBe(0);
  });

  it('wakes on pushes from any client, any push command, and on a list arriving by RENAME', async () => {
    const pushes: ((key: string, other: string) => Promise<unknown>)[] = [
      (key) => c.lpush(key, 'v'),
      (key) => c.rpush(key, 'v'),
      async (key, other) => {
        await c.rpush(other, 'v');
        await c.lmove(other, key, 'LEFT', 'LEFT');
      },
      async (key, other) => {
        await c.rpush(other, 'v');
        await c.rename(other, key);
      },
    ];
    for (const push of pushes) {
      const q = k('wake');
      const b = client();
      const reply = b.blpop(q, 0);
      await untilBlocked(1);
      await push(q, k('other'));
      expect(await reply).toEqual([q, 'v']);
      expect(blocked()).toBe(0);
      b.disconnect();
    }
  });

  it('does not wake for another database, and wakes in its own', async () => {
    const q = k('db');
    const b = client();
    await b.select(1);
    const reply = b.blpop(q, 0);
    await untilBlocked(1);
    await c.rpush(q, 'db0');
    await new Promise((r) => setTimeout(r, 30));
    expect(blocked()).toBe(1);
    const c1 = client();
    await c1.select(1);
    await c1.rpush(q, 'db1');
    expect(await reply).toEqual([q, 'db1']);
    expect(await c.lrange(q, 0, -1)).toEqual(['db0']);
  });

  it('stays blocked while the key holds another type, and is served once it is a list again', async () => {
    const q = k('type');
    const b = client();
    const reply = b.blpop(q, 0);
    await untilBlocked(1);
    await c.set(q, 'string');
    await new Promise((r) => setTimeout(r, 30));
    expect(blocked()).toBe(1);
    await c.del(q);
    await c.rpush(q, 'v');
    expect(await reply).toEqual([q, 'v']);
  });

  it('BLMPOP blocks and then pops up to COUNT', async () => {
    const a = k('a');
    const b = client();
    const reply = b.call('BLMPOP', '0', '1', a, 'LEFT', 'COUNT', '3');
    await untilBlocked(1);
    await c.rpush(a, '1', '2', '3', '4', '5');
    expect(await reply).toEqual([a, ['1', '2', '3']]);
    expect(await c.lrange(a, 0, -1)).toEqual(['4', '5']);
  });

  it('a BLMOVE push wakes the clients blocked on its destination', async () => {
    const src = k('src');
    const mid = k('mid');
    const dst = k('dst');
    const mover1 = client();
    const mover2 = client();
    const popper = client();
    const r1 = mover1.blmove(src, mid, 'LEFT', 'RIGHT', 0);
    await untilBlocked(1);
    const r2 = mover2.brpoplpush(mid, dst, 0);
    await untilBlocked(2);
    const r3 = popper.blpop(dst, 0);
    await untilBlocked(3);
    const p = await propagated(async () => {
      await c.rpush(src, 'v');
      await Promise.all([r1, r2, r3]);
    });
    expect(await r1).toBe('v');
    expect(await r2).toBe('v');
    expect(await r3).toEqual([dst, 'v']);
    expect(await c.exists(src, mid, dst)).toBe(0);
    expect(p).toEqual([
      ['rpush', src, 'v'],
      // A served BLMOVE: redis-server 7.0.15 writes its own lowercase left/right.
      ['LMOVE', src, mid, 'left', 'right'],
      ['RPOPLPUSH', mid, dst],
      ['LPOP', dst],
    ]);
  });

  it('a blocked BLMOVE whose destination became another type gets WRONGTYPE; the element stays', async () => {
    const src = k('src');
    const dst = k('dst');
    const b = client();
    const reply = b.blmove(src, dst, 'LEFT', 'LEFT', 0);
    await untilBlocked(1);
    await c.set(dst, 'string');
    expect(await c.rpush(src, 'v')).toBe(1);
    expect(await err(reply)).toBe(WRONGTYPE);
    expect(blocked()).toBe(0);
    expect(await c.lrange(src, 0, -1)).toEqual(['v']);
  });

  it('served clients fire the pop events after the push', async () => {
    const q = k('ev');
    const d = k('ev-d');
    const b1 = client();
    const b2 = client();
    const r1 = b1.blpop(q, 0);
    await untilBlocked(1);
    const r2 = b2.blmove(q, d, 'RIGHT', 'LEFT', 0);
    await untilBlocked(2);
    expect(
      await events(async () => {
        await c.rpush(q, 'a', 'b');
        await Promise.all([r1, r2]);
      }),
    ).toEqual([`rpush ${q}`, `lpop ${q}`, `lpush ${d}`, `rpop ${q}`, `del ${q}`]);
  });

  it('pipelined commands after a blocking one run once it is served', async () => {
    const q = k('pipe');
    const b = client();
    const results = b.pipeline().blpop(q, 0).llen(q).echo('after').exec();
    await untilBlocked(1);
    await c.rpush(q, 'a', 'b');
    expect(await results).toEqual([
      [null, [q, 'a']],
      [null, 1],
      [null, 'after'],
    ]);
  });
});

describe('timeouts', () => {
  it('fractional timeouts: null after about the time asked, for every command', async () => {
    const cmds: [string, ...string[]][] = [
      ['BLPOP', k('t'), '0.1'],
      ['BRPOP', k('t'), k('t'), '0.1'],
      ['BLMOVE', k('t'), k('t'), 'LEFT', 'RIGHT', '0.1'],
      ['BRPOPLPUSH', k('t'), k('t'), '0.1'],
      ['BLMPOP', '0.1', '1', k('t'), 'LEFT'],
    ];
    const b = client();
    for (const cmd of cmds) {
      const t0 = performance.now();
      expect(await b.call(...cmd)).toBeNull();
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(95);
      expect(ms).toBeLessThan(1000);
    }
    expect(blocked()).toBe(0);
  });

  it('the timeout reply is a null array in RESP2 and a null in RESP3, BLMOVE included', async () => {
    for (const [proto, expected] of [
      [2, '*-1\r\n'],
      [3, '_\r\n'],
    ] as const) {
      const r = await rawClient(srv, proto);
      for (const cmd of [
        ['BLPOP', k('t'), '0.02'],
        ['BLMOVE', k('t'), k('t'), 'LEFT', 'LEFT', '0.02'],
        ['BRPOPLPUSH', k('t'), k('t'), '0.02'],
        ['BLMPOP', '0.02', '1', k('t'), 'RIGHT'],
      ]) {
        expect(await r.call(cmd, expected)).toBe(expected);
      }
      r.close();
    }
    const r3 = await srv.nodeRedis(3);
    expect(await r3.sendCommand(['BLPOP', k('t'), '0.02'])).toBeNull();
  });

  it('timeouts are read like Redis reads them (long double seconds * 1000, ceil, 64-bit)', async () => {
    const neg = 'ERR timeout is negative';
    const nf = 'ERR timeout is not a float or out of range';
    // Expected results from redis-server 7.0.15; run inside MULTI so nothing blocks.
    const table: [string, string | null][] = [
      ['0.5', null], ['.5', null], ['5.', null], ['0x10', null], ['0X1P3', null], ['-0', null], ['1e-400', null],
      ['9223372036854775.807', null], ['9223372036854775.808', neg], ['1e16', neg], ['1e4931', neg], ['inf', neg],
      ['-inf', neg], ['-0.0009', null], ['-0.001', null], ['-0.0015', neg], ['-1', neg],
      ['1e4933', nf], ['1e-4960', nf], ['nan', nf], ['x', nf], ['', nf], ['1e', nf], [' 1', nf], ['0x', nf],
    ];
    const m = c.multi();
    for (const [t] of table) m.blpop(k('t'), t);
    const res = await m.exec();
    expect(res!.map(([e, v]) => (e ? e.message : v))).toEqual(table.map(([, want]) => want));
  });

  it('a timeout beyond the 2^31 ms timer limit does not fire early', async () => {
    const q = k('long');
    const b = client();
    const reply = b.blpop(q, 3_000_000); // 34 days
    await untilBlocked(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(blocked()).toBe(1);
    await c.rpush(q, 'v');
    expect(await reply).toEqual([q, 'v']);
  });

  it('a timeout under a millisecond still times out; 0 blocks until served', async () => {
    const b = client();
    expect(await b.blpop(k('tiny'), 0.0001)).toBeNull();
    const q = k('zero');
    const reply = b.blpop(q, 0);
    await untilBlocked(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(blocked()).toBe(1);
    await c.rpush(q, 'v');
    expect(await reply).toEqual([q, 'v']);
  });
});

describe('disconnects, CLIENT UNBLOCK, INFO, CLIENT LIST', () => {
  it('a client disconnecting while blocked leaves nothing behind', async () => {
    const q = k('gone');
    const clients = [client(), client(), client()];
    for (let i = 0; i < clients.length; i++) {
      void clients[i]!.blpop(q, 0).catch(() => {});
      await untilBlocked(i + 1);
    }
    clients[0]!.disconnect();
    clients[2]!.disconnect();
    await untilBlocked(1);
    await c.rpush(q, 'a', 'b');
    await untilBlocked(0);
    // The one left got 'a'; 'b' stays in the list.
    expect(await c.lrange(q, 0, -1)).toEqual(['b']);
    clients[1]!.disconnect();
    await new Promise((r) => setTimeout(r, 20));
    expect(blocked()).toBe(0);
  });

  it('INFO blocked_clients and CLIENT LIST flags=b follow the blocked clients', async () => {
    const q = k('info');
    const b = client();
    await b.client('SETNAME', 'blocker');
    const reply = b.brpop(q, 0);
    await untilBlocked(1);
    expect(await c.info('clients')).toMatch(/\r\nblocked_clients:1\r\n/);
    const line = ((await c.client('LIST')) as string).split('\n').find((l) => l.includes('name=blocker'))!;
    expect(line).toMatch(/ flags=b /);
    expect(line).toMatch(/ cmd=brpop /);
    await c.rpush(q, 'v');
    await reply;
    expect(await c.info('clients')).toMatch(/\r\nblocked_clients:0\r\n/);
  });

  it('CLIENT UNBLOCK [TIMEOUT] answers like a timeout, ERROR with UNBLOCKED, for every blocking command', async () => {
    const cmds: [string, ...string[]][] = [
      ['BLPOP', k('u'), '0'],
      ['BRPOP', k('u'), '0'],
      ['BLMOVE', k('u'), k('u'), 'LEFT', 'LEFT', '0'],
      ['BRPOPLPUSH', k('u'), k('u'), '0'],
      ['BLMPOP', '0', '1', k('u'), 'LEFT'],
    ];
    const b = client();
    const id = String(await b.client('ID'));
    for (const cmd of cmds) {
      let reply = b.call(...cmd);
      await untilBlocked(1);
      expect(await c.client('UNBLOCK', id)).toBe(1);
      expect(await reply).toBeNull();
      expect(blocked()).toBe(0);

      reply = b.call(...cmd);
      const failure = err(reply);
      await untilBlocked(1);
      expect(await c.client('UNBLOCK', id, 'ERROR')).toBe(1);
      expect(await failure).toBe('UNBLOCKED client unblocked via CLIENT UNBLOCK');
      expect(blocked()).toBe(0);
    }
    expect(await c.client('UNBLOCK', id)).toBe(0);
    // The unblocked client works normally afterwards.
    expect(await b.ping()).toBe('PONG');
  });
});

describe('inside MULTI/EXEC', () => {
  it('blocking commands never block: null array, or null bulk for BLMOVE/BRPOPLPUSH', async () => {
    const r = await RawClient.connect(srv.port);
    const e = k('empty');
    expect(await r.call(['MULTI'], '+OK\r\n')).toBe('+OK\r\n');
    for (const cmd of [
      ['BLPOP', e, '0'],
      ['BRPOP', e, '0'],
      ['BLMOVE', e, k('d'), 'LEFT', 'LEFT', '0'],
      ['BRPOPLPUSH', e, k('d'), '0'],
      ['BLMPOP', '0', '1', e, 'LEFT'],
    ]) {
      expect(await r.call(cmd, '+QUEUED\r\n')).toBe('+QUEUED\r\n');
    }
    const expected = '*5\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n';
    expect(await r.call(['EXEC'], expected)).toBe(expected);
    expect(blocked()).toBe(0);
    r.close();
  });

  it('a blocking command with data inside EXEC serves and propagates like its pop', async () => {
    const q = k('mq');
    await c.rpush(q, 'a', 'b');
    const p = await propagated(async () => {
      expect(await c.multi().blpop(q, 0).call('BLMPOP', '0', '1', q, 'RIGHT', 'COUNT', '9').exec()).toEqual([
        [null, [q, 'a']],
        [null, [q, ['b']]],
      ]);
    });
    expect(p).toEqual([['MULTI'], ['LPOP', q], ['RPOP', q, '1'], ['EXEC']]);
  });

  it('pushes inside a transaction wake blocked clients after EXEC', async () => {
    const q = k('tx');
    const b = client();
    const reply = b.blpop(q, 0);
    await untilBlocked(1);
    const p = await propagated(async () => {
      const res = await c.multi().rpush(q, 'a').rpush(q, 'b').lrange(q, 0, -1).exec();
      // Inside the transaction nobody took anything yet.
      expect(res).toEqual([
        [null, 1],
        [null, 2],
        [null, ['a', 'b']],
      ]);
      expect(await reply).toEqual([q, 'a']);
    });
    expect(p).toEqual([['MULTI'], ['rpush', q, 'a'], ['rpush', q, 'b'], ['EXEC'], ['LPOP', q]]);
    expect(await c.lrange(q, 0, -1)).toEqual(['b']);
  });

  it('data pushed and consumed within one transaction does not wake anyone', async () => {
    const q = k('tx2');
    const b = client();
    const reply = b.blpop(q, 0);
    await untilBlocked(1);
    await c.multi().rpush(q, 'a').lpop(q).exec();
    await new Promise((r) => setTimeout(r, 30));
    expect(blocked()).toBe(1);
    await c.rpush(q, 'later');
    expect(await reply).toEqual([q, 'later']);
  });
});
