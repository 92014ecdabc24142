/**
 * Stream consumer groups through ioredis (RESP2) and node-redis (RESP3):
 * XGROUP (all subcommands), XREADGROUP (`>`, history, NOACK, BLOCK with
 * several waiting clients, NOGROUP / UNBLOCKED wake-ups), XACK, XPENDING,
 * XCLAIM, XAUTOCLAIM, XINFO GROUPS / CONSUMERS, events and propagation.
 * Expected replies, error texts, events and the propagated commands (read
 * from the AOF) were taken from redis-server 7.0.15.
 */
import { describe, it, expect } from 'vitest';
import { serverForFile } from '../helpers/server.js';
import { err, WRONGTYPE } from '../helpers/expect.js';
import { waitUntil } from '../helpers/raw-client.js';

const { srv, c, call, client, eventsOf: events, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA', 'enable-debug-command': 'yes' });

let seq = 0;
const k = (name: string): string => `sg:${name}:${++seq}`;
const NOKEY =
  'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.';

/** A stream with entries 1-1 a=1, 1-2 b=2, 1-3 c=3 and group g at 0. */
async function fixture(name: string): Promise<string> {
  const s = k(name);
  await call('XADD', s, '1-1', 'a', '1');
  await call('XADD', s, '1-2', 'b', '2');
  await call('XADD', s, '1-3', 'c', '3');
  await call('XGROUP', 'CREATE', s, 'g', '0');
  return s;
}

/** XPENDING extended rows without the idle time. */
const rows = (r: unknown): [string, string, number][] => (r as [string, string, number, number][]).map(([id, cons, , n]) => [id, cons, n]);

describe('XGROUP', () => {
  it('CREATE (with $, MKSTREAM, ENTRIESREAD), SETID, DESTROY, CREATECONSUMER, DELCONSUMER and their errors', async () => {
    const s = await fixture('xgroup');
    expect(await err(call('XGROUP', 'CREATE', s, 'g', '0'))).toBe('BUSYGROUP Consumer Group name already exists');
    expect(await err(call('XGROUP', 'CREATE', k('none'), 'g', '0'))).toBe(NOKEY);
    const m = k('mk');
    expect(await call('XGROUP', 'CREATE', m, 'g', '$', 'MKSTREAM')).toBe('OK');
    expect(await call('TYPE', m)).toBe('stream');
    expect(await call('XGROUP', 'CREATE', s, 'g2', '$', 'ENTRIESREAD', '3')).toBe('OK');
    expect(await err(call('XGROUP', 'CREATE', s, 'g3', '0', 'ENTRIESREAD', '-2'))).toBe('ERR value for ENTRIESREAD must be positive or -1');
    expect(await err(call('XGROUP', 'CREATE', s, 'g3', '0', 'FOO'))).toBe("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.");
    expect(await err(call('XGROUP', 'CREATE', s, 'g3', '-'))).toBe('ERR Invalid stream ID specified as stream command argument');
    expect(await err(call('XGROUP', 'SETID', s, 'nog', '0'))).toBe("NOGROUP No such consumer group 'nog' for key name '" + s + "'");
    expect(await call('XGROUP', 'SETID', s, 'g', '1-1', 'ENTRIESREAD', '1')).toBe('OK');
    expect(await call('XGROUP', 'CREATECONSUMER', s, 'g', 'alice')).toBe(1);
    expect(await call('XGROUP', 'CREATECONSUMER', s, 'g', 'alice')).toBe(0);
    expect(await call('XINFO', 'GROUPS', s)).toEqual([
      ['name', 'g', 'consumers', 1, 'pending', 0, 'last-delivered-id', '1-1', 'entries-read', 1, 'lag', 2],
      ['name', 'g2', 'consumers', 0, 'pending', 0, 'last-delivered-id', '1-3', 'entries-read', 3, 'lag', 0],
    ]);
    expect(await call('XGROUP', 'DELCONSUMER', s, 'g', 'alice')).toBe(0);
    expect(await call('XGROUP', 'DELCONSUMER', s, 'g', 'nobody')).toBe(0);
    expect(await call('XGROUP', 'DESTROY', s, 'g2')).toBe(1);
    expect(await call('XGROUP', 'DESTROY', s, 'g2')).toBe(0);
    expect(await err(call('XGROUP', 'DESTROY', k('none'), 'g'))).toBe(NOKEY);
    expect(await err(call('XGROUP', 'FOO'))).toBe("ERR unknown subcommand 'FOO'. Try XGROUP HELP.");
    expect(((await call('XGROUP', 'HELP')) as string[])[0]).toBe('XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    await c.set(k('str'), 'x');
    expect(await err(call('XGROUP', 'CREATE', `sg:str:${seq}`, 'g', '0', 'MKSTREAM'))).toBe(WRONGTYPE);
  });

  it('fires xgroup-* events', async () => {
    const s = k('gev');
    const ev = await events(async () => {
      await call('XGROUP', 'CREATE', s, 'g', '$', 'MKSTREAM');
      await call('XGROUP', 'CREATECONSUMER', s, 'g', 'c');
      await call('XGROUP', 'SETID', s, 'g', '0');
      await call('XGROUP', 'DELCONSUMER', s, 'g', 'c');
      await call('XGROUP', 'DESTROY', s, 'g');
    });
    expect(ev).toEqual([`xgroup-create ${s}`, `xgroup-createconsumer ${s}`, `xgroup-setid ${s}`, `xgroup-delconsumer ${s}`, `xgroup-destroy ${s}`]);
  });
});

describe('XREADGROUP / XACK / XPENDING', () => {
  it('delivers new entries, reads history, acknowledges, and reports pending entries', async () => {
    const s = await fixture('read');
    expect(await call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 2, 'STREAMS', s, '>')).toEqual([[s, [['1-1', ['a', '1']], ['1-2', ['b', '2']]]]]);
    expect(await call('XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', s, '>')).toEqual([[s, [['1-3', ['c', '3']]]]]);
    expect(await call('XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', s, '>')).toBeNull();
    expect(await call('XPENDING', s, 'g')).toEqual([3, '1-1', '1-3', [['alice', '2'], ['bob', '1']]]);
    // History: the consumer's own pending entries; a deleted one shows as [id, nil].
    await call('XDEL', s, '1-2');
    expect(await call('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', s, '0')).toEqual([[s, [['1-1', ['a', '1']], ['1-2', null]]]]);
    expect(rows(await call('XPENDING', s, 'g', '-', '+', 10))).toEqual([['1-1', 'alice', 2], ['1-2', 'alice', 1], ['1-3', 'bob', 1]]);
    expect(rows(await call('XPENDING', s, 'g', '(1-1', '+', 10, 'alice'))).toEqual([['1-2', 'alice', 1]]);
    expect(await call('XPENDING', s, 'g', 'IDLE', 3600000, '-', '+', 10)).toEqual([]);
    expect(await call('XACK', s, 'g', '1-1', '1-1', '9-9')).toBe(1);
    expect(await call('XACK', s, 'nog', '1-1')).toBe(0);
    expect(await err(call('XACK', s, 'g', 'x'))).toBe('ERR Invalid stream ID specified as stream command argument');
    expect(await call('XINFO', 'GROUPS', s)).toEqual([
      ['name', 'g', 'consumers', 2, 'pending', 2, 'last-delivered-id', '1-3', 'entries-read', 3, 'lag', 0],
    ]);
    const consumers = (await call('XINFO', 'CONSUMERS', s, 'g')) as unknown[][];
    expect(consumers.map((x) => x.slice(0, 4))).toEqual([['name', 'alice', 'pending', 1], ['name', 'bob', 'pending', 1]]);
    expect(await err(call('XPENDING', s, 'nog'))).toBe(`NOGROUP No such key '${s}' or consumer group 'nog'`);
    expect(await err(call('XPENDING', s, 'g', '-', '+'))).toBe('ERR syntax error');
  });

  it('errors: NOGROUP, $, missing GROUP; NOACK; RESP3 map reply', async () => {
    const s = await fixture('rerr');
    expect(await err(call('XREADGROUP', 'GROUP', 'nog', 'c', 'STREAMS', s, '>'))).toBe(`NOGROUP No such key '${s}' or consumer group 'nog' in XREADGROUP with GROUP option`);
    expect(await err(call('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', s, '$'))).toMatch(/^ERR The \$ ID is meaningless in the context of XREADGROUP/);
    expect(await err(call('XREADGROUP', 'COUNT', '1', 'STREAMS', s, '>', 'x'))).toBe("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
    expect(await call('XREADGROUP', 'GROUP', 'g', 'c', 'NOACK', 'COUNT', 1, 'STREAMS', s, '>')).toEqual([[s, [['1-1', ['a', '1']]]]]);
    expect(await call('XPENDING', s, 'g')).toEqual([0, null, null, null]);
    const r3 = await srv.nodeRedis(3);
    expect(await r3.sendCommand(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', s, '>'])).toEqual({ [s]: [['1-2', ['b', '2']]] });
    expect(await r3.sendCommand(['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', s, '0'])).toEqual({ [s]: [['1-2', ['b', '2']]] });
  });

  it('propagates deliveries as XCLAIM, NOACK reads as CREATECONSUMER + SETID, and does not touch WATCH', async () => {
    const s = await fixture('rprop');
    const p = await propagated(async () => {
      await call('XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', 2, 'STREAMS', s, '>');
      await call('XREADGROUP', 'GROUP', 'g', 'carol', 'NOACK', 'STREAMS', s, '>');
      await call('XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', s, '0');
    });
    const t = (x: string[]) => x.map((a, i) => (x[i - 1] === 'TIME' ? 'T' : a));
    // Several commands of one call go out in MULTI/EXEC (as redis-server 7.0 writes them).
    expect(p.map(t)).toEqual([
      ['MULTI'],
      ['XCLAIM', s, 'g', 'bob', '0', '1-1', 'TIME', 'T', 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', '1-1'],
      ['XCLAIM', s, 'g', 'bob', '0', '1-2', 'TIME', 'T', 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', '1-2'],
      ['EXEC'],
      ['MULTI'],
      ['XGROUP', 'CREATECONSUMER', s, 'g', 'carol'],
      ['XGROUP', 'SETID', s, 'g', '1-3', 'ENTRIESREAD', '3'],
      ['EXEC'],
    ]);
    const w = client();
    await w.watch(s);
    await call('XGROUP', 'SETID', s, 'g', '0');
    await call('XREADGROUP', 'GROUP', 'g', 'dave', 'STREAMS', s, '>');
    expect(await w.multi().ping().exec()).toEqual([[null, 'PONG']]);
  });
});

describe('XCLAIM / XAUTOCLAIM', () => {
  it('XCLAIM transfers ownership with IDLE / TIME / RETRYCOUNT / FORCE / JUSTID / LASTID', async () => {
    const s = await fixture('claim');
    await call('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', s, '>');
    expect(await call('XCLAIM', s, 'g', 'bob', 3600000, '1-1')).toEqual([]);
    expect(await call('XCLAIM', s, 'g', 'bob', 0, '1-1')).toEqual([['1-1', ['a', '1']]]);
    expect(await call('XCLAIM', s, 'g', 'bob', 0, '1-2', 'IDLE', 5000, 'RETRYCOUNT', 7, 'JUSTID')).toEqual(['1-2']);
    const pend = (await call('XPENDING', s, 'g', '-', '+', 10)) as [string, string, number, number][];
    expect(pend.map(([id, cons, , n]) => [id, cons, n])).toEqual([['1-1', 'bob', 2], ['1-2', 'bob', 7], ['1-3', 'alice', 1]]);
    expect(pend[1]![2]).toBeGreaterThanOrEqual(5000);
    await call('XACK', s, 'g', '1-3');
    expect(await call('XCLAIM', s, 'g', 'carol', 0, '1-3', 'JUSTID')).toEqual([]);
    expect(await call('XCLAIM', s, 'g', 'carol', 0, '1-3', 'FORCE', 'JUSTID', 'LASTID', '5-5')).toEqual(['1-3']);
    expect(((await call('XINFO', 'GROUPS', s)) as unknown[][])[0]!.slice(6, 8)).toEqual(['last-delivered-id', '5-5']);
    // A deleted entry is dropped from the PEL.
    await call('XDEL', s, '1-1');
    expect(await call('XCLAIM', s, 'g', 'carol', 0, '1-1')).toEqual([]);
    expect((await call('XPENDING', s, 'g')) as unknown[]).toEqual([2, '1-2', '1-3', [['bob', '1'], ['carol', '1']]]);
    expect(await err(call('XCLAIM', s, 'nog', 'c', 0, '1-2'))).toBe(`NOGROUP No such key '${s}' or consumer group 'nog'`);
    expect(await err(call('XCLAIM', s, 'g', 'c', 'x', '1-2'))).toBe('ERR Invalid min-idle-time argument for XCLAIM');
    expect(await err(call('XCLAIM', s, 'g', 'c', 0, '1-2', 'FOO'))).toBe("ERR Unrecognized XCLAIM option 'FOO'");
    expect(await err(call('XCLAIM', s, 'g', 'c', 0, '1-2', 'IDLE', 'x'))).toBe('ERR Invalid IDLE option argument for XCLAIM');
    expect(await err(call('XCLAIM', s, 'g', 'c', 0, '1-2', 'TIME', 'x'))).toBe('ERR Invalid TIME option argument for XCLAIM');
    expect(await err(call('XCLAIM', s, 'g', 'c', 0, '1-2', 'RETRYCOUNT', 'x'))).toBe('ERR Invalid RETRYCOUNT option argument for XCLAIM');
  });

  it('XAUTOCLAIM scans the PEL with a cursor and reports deleted entries (7.0 reply)', async () => {
    const s = await fixture('auto');
    await call('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', s, '>');
    expect(await call('XAUTOCLAIM', s, 'g', 'bob', 0, '0', 'COUNT', 1)).toEqual(['1-2', [['1-1', ['a', '1']]], []]);
    expect(await call('XAUTOCLAIM', s, 'g', 'bob', 0, '1-2', 'COUNT', 5, 'JUSTID')).toEqual(['0-0', ['1-2', '1-3'], []]);
    await call('XDEL', s, '1-2');
    expect(await call('XAUTOCLAIM', s, 'g', 'carol', 0, '0')).toEqual(['0-0', [['1-1', ['a', '1']], ['1-3', ['c', '3']]], ['1-2']]);
    expect(await call('XAUTOCLAIM', s, 'g', 'dave', 3600000, '0')).toEqual(['0-0', [], []]);
    const consumers = ((await call('XINFO', 'CONSUMERS', s, 'g')) as unknown[][]).map((x) => x[1]);
    expect(consumers).toEqual(['alice', 'bob', 'carol']);
    expect(await err(call('XAUTOCLAIM', s, 'g', 'c', 0, '0', 'COUNT', 0))).toBe('ERR COUNT must be > 0');
    expect(await err(call('XAUTOCLAIM', s, 'g', 'c', 'x', '0'))).toBe('ERR Invalid min-idle-time argument for XAUTOCLAIM');
    expect(await err(call('XAUTOCLAIM', s, 'g', 'c', 0, '0', 'FOO'))).toBe('ERR syntax error');
    expect(await err(call('XAUTOCLAIM', s, 'nog', 'c', 0, '0'))).toBe(`NOGROUP No such key '${s}' or consumer group 'nog'`);
  });

  it('XCLAIM / XAUTOCLAIM propagate as XCLAIM ... FORCE JUSTID LASTID (deleted entries too)', async () => {
    const s = await fixture('cprop');
    await call('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', s, '>');
    await call('XDEL', s, '1-3');
    const p = await propagated(async () => {
      await call('XCLAIM', s, 'g', 'bob', 0, '1-1', 'TIME', '1000');
      await call('XAUTOCLAIM', s, 'g', 'carol', 0, '1-2', 'JUSTID');
      await call('XCLAIM', s, 'g', 'bob', 0, '9-9', 'LASTID', '7-7');
    });
    expect(p).toEqual([
      ['XCLAIM', s, 'g', 'bob', '0', '1-1', 'TIME', '1000', 'RETRYCOUNT', '2', 'FORCE', 'JUSTID', 'LASTID', '1-3'],
      ['MULTI'],
      ['XCLAIM', s, 'g', 'carol', '0', '1-2', 'TIME', p[2]![7]!, 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', '1-3'],
      ['XCLAIM', s, 'g', 'alice', '0', '1-3', 'TIME', p[3]![7]!, 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', '1-3'],
      ['EXEC'],
      ['XGROUP', 'SETID', s, 'g', '7-7', 'ENTRIESREAD', '3'],
    ]);
  });
});

describe('blocking XREADGROUP', () => {
  it('serves blocked consumers in order, one entry each when COUNT 1', async () => {
    const s = k('bg');
    await call('XGROUP', 'CREATE', s, 'g', '$', 'MKSTREAM');
    const w1 = client();
    const w2 = client();
    const p1 = w1.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', s, '>');
    await waitUntil(() => srv.engine.blocking.blockedCount === 1);
    const p2 = w2.call('XREADGROUP', 'GROUP', 'g', 'c2', 'BLOCK', '0', 'STREAMS', s, '>');
    await waitUntil(() => srv.engine.blocking.blockedCount === 2);
    const p = await propagated(async () => {
      await c.multi().call('XADD', s, '1-1', 'a', '1').call('XADD', s, '1-2', 'b', '2').exec();
      expect(await p1).toEqual([[s, [['1-1', ['a', '1']]]]]);
      expect(await p2).toEqual([[s, [['1-2', ['b', '2']]]]]);
    });
    expect(p.filter((x) => x[0] === 'XCLAIM').map((x) => [x[3], x[5]])).toEqual([['c1', '1-1'], ['c2', '1-2']]);
    expect(rows(await call('XPENDING', s, 'g', '-', '+', 10))).toEqual([['1-1', 'c1', 1], ['1-2', 'c2', 1]]);
  });

  it('a destroyed group wakes its blocked readers with NOGROUP, a deleted key with UNBLOCKED', async () => {
    const s = k('bgerr');
    await call('XGROUP', 'CREATE', s, 'g', '$', 'MKSTREAM');
    await call('XGROUP', 'CREATE', s, 'h', '$');
    const w1 = client();
    const w2 = client();
    const p1 = w1.call('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', s, '>').catch((e: Error) => e.message);
    const p2 = w2.call('XREADGROUP', 'GROUP', 'h', 'c', 'BLOCK', '0', 'STREAMS', s, '>').catch((e: Error) => e.message);
    await waitUntil(() => srv.engine.blocking.blockedCount === 2);
    await call('XGROUP', 'DESTROY', s, 'g');
    expect(await p1).toBe('NOGROUP the consumer group this client was blocked on no longer exists');
    await call('DEL', s);
    expect(await p2).toBe('UNBLOCKED the stream key no longer exists');
    expect(srv.engine.blocking.blockedCount).toBe(0);
    // Timeout.
    await call('XGROUP', 'CREATE', s, 'g', '$', 'MKSTREAM');
    expect(await call('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '50', 'STREAMS', s, '>')).toBeNull();
  });
});

describe('COPY and RENAME of a stream with groups', () => {
  it('copies entries, metadata and groups', async () => {
    const s = await fixture('copy');
    await call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', 1, 'STREAMS', s, '>');
    const d = k('copydst');
    expect(await call('COPY', s, d)).toBe(1);
    await call('XACK', s, 'g', '1-1');
    expect(await call('XPENDING', d, 'g')).toEqual([1, '1-1', '1-1', [['alice', '1']]]);
    expect(await call('XPENDING', s, 'g')).toEqual([0, null, null, null]);
    expect(await call('DEBUG', 'DIGEST-VALUE', s)).toEqual(await call('DEBUG', 'DIGEST-VALUE', d));
  });
});
