/**
 * What reaches the AOF, compared with a real redis-server 7.0.15 running the
 * same commands: commands that propagate several commands (SPOP with COUNT
 * as SREMs, XREADGROUP as XCLAIMs, lazy-expiry DELs before the command, EXEC)
 * are wrapped in MULTI/EXEC, a single propagated command is not, and served
 * blocked clients are units of their own. Both servers run with appendonly
 * yes; their incremental AOF files are read back and compared command by
 * command, with times (PXAT, TIME) and random SPOP members masked.
 */
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { AofReader } from '../../src/persistence/aof-reader.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/spawn-server.js';
import { startRedis, stopAllRedis } from '../helpers/redis-proc.js';

const servers: TestServer[] = [];
const extra: Redis[] = [];
afterEach(async () => {
  for (const c of extra.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.stop().catch(() => {});
  await stopAllRedis();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The commands of every incremental file of the AOF in `dir`, in manifest order. */
function incrCommands(dir: string): string[][] {
  const adir = path.join(dir, 'appendonlydir');
  const manifest = fs.readFileSync(path.join(adir, 'appendonly.aof.manifest'), 'latin1');
  const out: string[][] = [];
  for (const line of manifest.split('\n')) {
    const m = /^file (\S+) seq \d+ type i$/.exec(line.trim());
    if (m === null) continue;
    const r = new AofReader();
    r.feed(fs.readFileSync(path.join(adir, m[1]!)));
    for (let argv = r.next(); argv !== null; argv = r.next()) out.push(argv);
  }
  return out;
}

/** Mask what differs between two runs: absolute times, and members popped at random. */
function masked(cmds: string[][]): string[] {
  return cmds.map((argv) => {
    const a = argv.slice();
    for (let i = 1; i < a.length; i++) {
      const prev = a[i - 1]!.toUpperCase();
      if (prev === 'PXAT' || prev === 'TIME' || (i === 2 && a[0]!.toUpperCase() === 'PEXPIREAT')) a[i] = '<t>';
    }
    if (a[0] === 'SREM' && a[1]!.startsWith('rnd')) a[2] = '<m>';
    return a.join(' ');
  });
}

type Script = (c: Redis, client: () => Redis) => Promise<void>;

async function blockedServed(c: Redis, client: () => Redis, blocking: (w: Redis) => Promise<unknown>, feed: () => Promise<unknown>): Promise<void> {
  const w = client();
  await w.ping();
  const p = blocking(w);
  // Wait until the command is blocked on both servers (CLIENT LIST shows the blocking command).
  const end = Date.now() + 5000;
  while (!String(await c.call('CLIENT', 'LIST')).includes('flags=b')) {
    if (Date.now() > end) throw new Error('client did not block');
    await sleep(5);
  }
  await feed();
  await p;
}

const scripts: Record<string, Script> = {
  'SPOP with COUNT: one SREM per member in MULTI/EXEC; the whole set: DEL; one member: SREM': async (c) => {
    await c.sadd('rnd1', 'a', 'b', 'c', 'd', 'e', 'f', 'g');
    await c.spop('rnd1', 3);
    await c.spop('rnd1', 1);
    await c.spop('rnd1');
    await c.spop('rnd1', 10);
    await c.sadd('rnd2', ...Array.from({ length: 100 }, (_, i) => `m${i}`));
    await c.spop('rnd2', 90);
    await c.spop('nokey', 3);
  },
  'lazy expiry: the DEL and the command in one MULTI/EXEC; a read alone propagates only the DEL': async (c) => {
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await c.set('k1', 'v', 'PX', 5);
    await c.set('k2', 'v', 'PX', 5);
    await c.set('k3', 'v', 'PX', 5);
    await c.set('k4', 'v', 'PX', 5);
    await c.rpush('l4', 'a');
    await sleep(30);
    await c.set('k1', 'new');
    await c.get('k2');
    await c.mset('k3', '1', 'x', '2');
    await c.rename('l4', 'k4');
    await c.set('m1', 'v', 'PX', 5);
    await c.set('m2', 'v', 'PX', 5);
    await sleep(30);
    await c.mget('m1', 'm2');
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
  },
  'transactions: several writes wrapped, one write alone, reads only nothing, across databases': async (c) => {
    await c.multi().set('a', '1').incr('a').exec();
    await c.multi().set('single', '1').exec();
    await c.multi().set('single2', '1').get('single2').exec();
    await c.multi().get('a').exec();
    await c.multi().spop('nokey', 2).exec();
    await c.sadd('rnd3', 'x', 'y', 'z');
    await c.multi().spop('rnd3', 2).exec();
    await c.multi().set('z', '1').select(4).set('z', '2').select(0).exec();
    await c.multi().setnx('a', 'no').exec();
  },
  'lists: LMOVE / BLMOVE / RPOPLPUSH / LMPOP, served blocked clients are units of their own': async (c, client) => {
    await c.rpush('l1', 'a', 'b', 'c', 'd');
    await c.lmove('l1', 'l2', 'LEFT', 'RIGHT');
    await c.blmove('l1', 'l2', 'LEFT', 'RIGHT', 1);
    await c.rpoplpush('l1', 'l2');
    await c.call('LMPOP', '2', 'nol', 'l2', 'LEFT', 'COUNT', '2');
    await blockedServed(c, client, (w) => w.blpop('bk', 5), () => c.rpush('bk', 'x', 'y'));
    await blockedServed(c, client, (w) => w.blmove('bsrc', 'bdst', 'LEFT', 'RIGHT', 5), () => c.rpush('bsrc', 'x'));
    await blockedServed(c, client, (w) => w.call('BLMPOP', '5', '1', 'bm', 'RIGHT', 'COUNT', '5'), () => c.rpush('bm', '1', '2', '3'));
    await blockedServed(c, client, (w) => w.bzpopmin('bz', 5), () => c.zadd('bz', 1, 'a', 2, 'b'));
    await c.zadd('z', 1, 'a', 2, 'b', 3, 'c');
    await c.zpopmin('z', 2);
  },
  'streams: XREADGROUP deliveries as XCLAIMs in MULTI/EXEC, NOACK, XCLAIM / XAUTOCLAIM, blocked readers': async (c, client) => {
    await c.xadd('st', '1-1', 'f', 'v');
    await c.xadd('st', '1-2', 'f', 'v');
    await c.xadd('st', '1-3', 'f', 'v');
    await c.xgroup('CREATE', 'st', 'g', '0');
    await c.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', 'st', '>');
    await c.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', 'st', '>');
    await c.xadd('st', '1-4', 'f', 'v');
    await c.xadd('st', '1-5', 'f', 'v');
    await c.xreadgroup('GROUP', 'g', 'c2', 'NOACK', 'STREAMS', 'st', '>');
    await c.call('XCLAIM', 'st', 'g', 'c3', '0', '1-1', '1-2');
    await c.call('XAUTOCLAIM', 'st', 'g', 'c4', '0', '0-0', 'COUNT', '10');
    await c.xgroup('CREATE', 'st2', 'g', '$', 'MKSTREAM');
    await blockedServed(
      c,
      client,
      (w) => w.call('XREADGROUP', 'GROUP', 'g', 'b1', 'COUNT', '10', 'BLOCK', '5000', 'STREAMS', 'st2', '>'),
      () => c.multi().xadd('st2', '2-1', 'f', 'v').xadd('st2', '2-2', 'f', 'v').exec(),
    );
  },
  'rewrites: relative TTLs as PXAT, EXPIRE in the past as DEL, GETEX, INCRBYFLOAT': async (c) => {
    await c.set('e1', 'v', 'EX', 100);
    await c.expire('e1', -1);
    await c.set('e2', 'v');
    await c.getex('e2', 'PX', 100000);
    await c.incrbyfloat('f', 1.5);
    await c.getdel('e2');
    await c.sadd('s1', 'a', 'b');
    await c.smove('s1', 's2', 'a');
    await c.call('SINTERSTORE', 'dst', 's1', 's2');
  },
};

describe('multi-command propagation as redis-server 7.0 writes it to the AOF', () => {
  for (const [title, script] of Object.entries(scripts)) {
    it(title, async () => {
      const rdir = tempDir('prop-redis');
      const r = await startRedis(rdir, ['--appendonly', 'yes', '--appendfsync', 'always']);
      const cdir = tempDir('prop-cs');
      const srv = await startTestServer({ dir: cdir, appendonly: 'yes', appendfsync: 'always', 'enable-debug-command': 'yes' });
      servers.push(srv);
      const mk = (port: number) => () => {
        const x = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
        extra.push(x);
        return x;
      };
      const cs = mk(srv.port)();
      await script(r.client, mk(r.port));
      await script(cs, mk(srv.port));
      await r.stop();
      const want = masked(incrCommands(rdir));
      const got = masked(incrCommands(cdir));
      expect(got).toEqual(want);
    }, 60_000);
  }
});
