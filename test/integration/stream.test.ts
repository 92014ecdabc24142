/**
 * Stream commands without consumer groups, through ioredis (RESP2) and
 * node-redis (RESP3): XADD (IDs, NOMKSTREAM, trimming, errors), XLEN,
 * XRANGE/XREVRANGE, XDEL, XTRIM, XSETID, XINFO STREAM, XREAD (several
 * streams, COUNT, `$`, BLOCK with several waiting clients, MULTI), keyspace
 * events and propagation. Expected replies and error texts were taken from
 * redis-server 7.0.15.
 */
import { describe, it, expect } from 'vitest';
import { serverForFile } from '../helpers/server.js';
import { err, WRONGTYPE } from '../helpers/expect.js';
import { waitUntil } from '../helpers/raw-client.js';

const { srv, c, call, client, eventsOf: events, propagated } = await serverForFile({ 'notify-keyspace-events': 'KEA' });

let seq = 0;
const k = (name: string): string => `st:${name}:${++seq}`;
const INVALID = 'ERR Invalid stream ID specified as stream command argument';

describe('XADD', () => {
  it('adds entries with explicit, partial and automatic IDs', async () => {
    const s = k('add');
    expect(await call('XADD', s, '0-*', 'a', '1')).toBe('0-1');
    expect(await call('XADD', s, '0-*', 'a', '2')).toBe('0-2');
    expect(await call('XADD', s, '5-*', 'a', '3')).toBe('5-0');
    expect(await err(call('XADD', s, '5', 'a', '4'))).toBe('ERR The ID specified in XADD is equal or smaller than the target stream top item');
    expect(await err(call('XADD', s, '4-*', 'a', '4'))).toBe('ERR The ID specified in XADD is equal or smaller than the target stream top item');
    const auto = (await call('XADD', s, '*', 'f', 'v')) as string;
    const [ms, sq] = auto.split('-').map(Number);
    expect(Math.abs(ms! - Date.now())).toBeLessThan(5000);
    expect(sq).toBe(0);
    expect(await call('XLEN', s)).toBe(4);
    expect(await call('XRANGE', s, '-', '+')).toEqual([
      ['0-1', ['a', '1']],
      ['0-2', ['a', '2']],
      ['5-0', ['a', '3']],
      [auto, ['f', 'v']],
    ]);
  });

  it('rejects 0-0, bad IDs, odd field lists and an exhausted stream', async () => {
    const s = k('adderr');
    expect(await err(call('XADD', s, '0-0', 'a', '1'))).toBe('ERR The ID specified in XADD must be greater than 0-0');
    expect(await err(call('XADD', s, '0', 'a', '1'))).toBe('ERR The ID specified in XADD must be greater than 0-0');
    expect(await call('EXISTS', s)).toBe(0);
    for (const bad of ['-', '+', '-1', 'x', '1-x', '18446744073709551616']) expect(await err(call('XADD', s, bad, 'a', '1'))).toBe(INVALID);
    expect(await err(call('XADD', s, '1-1', 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'xadd' command");
    expect(await err(call('XADD', s, '*', 'a'))).toBe("ERR wrong number of arguments for 'xadd' command");
    expect(await call('XADD', s, '18446744073709551615-18446744073709551615', 'a', '1')).toBe('18446744073709551615-18446744073709551615');
    expect(await err(call('XADD', s, '*', 'a', '1'))).toBe('ERR The stream has exhausted the last possible ID, unable to add more items');
    await c.set(k('str'), 'x');
    expect(await err(call('XADD', `st:str:${seq}`, '*', 'a', '1'))).toBe(WRONGTYPE);
  });

  it('NOMKSTREAM does not create the key', async () => {
    const s = k('nomk');
    expect(await call('XADD', s, 'NOMKSTREAM', '*', 'a', '1')).toBeNull();
    expect(await call('EXISTS', s)).toBe(0);
    await call('XADD', s, '1-1', 'a', '1');
    expect(await call('XADD', s, 'NOMKSTREAM', '2-1', 'a', '1')).toBe('2-1');
  });

  it('trims with MAXLEN / MINID, exactly or by whole nodes with ~, and checks the options', async () => {
    const s = k('trim');
    for (let i = 1; i <= 250; i++) await call('XADD', s, `${i}-0`, 'f', 'v');
    // ~: whole nodes of stream-node-max-entries (100) only.
    expect(await call('XADD', s, 'MAXLEN', '~', '120', '251-0', 'f', 'v')).toBe('251-0');
    expect(await call('XLEN', s)).toBe(151);
    expect(await call('XADD', s, 'MAXLEN', '=', '120', '252-0', 'f', 'v')).toBe('252-0');
    expect(await call('XLEN', s)).toBe(120);
    expect(await call('XADD', s, 'MINID', '200', '253-0', 'f', 'v')).toBe('253-0');
    expect((await call('XRANGE', s, '-', '+', 'COUNT', 1)) as unknown[]).toEqual([['200-0', ['f', 'v']]]);
    expect(await err(call('XADD', s, 'MAXLEN', '1', 'MINID', '5', '*', 'a', '1'))).toBe('ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
    expect(await err(call('XADD', s, 'LIMIT', '10', '*', 'a', '1'))).toBe('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
    expect(await err(call('XADD', s, 'MAXLEN', '1', 'LIMIT', '10', '*', 'a', '1'))).toBe('ERR syntax error, LIMIT cannot be used without the special ~ option');
    expect(await err(call('XADD', s, 'MAXLEN', '-1', '*', 'a', '1'))).toBe('ERR The MAXLEN argument must be >= 0.');
    expect(await err(call('XADD', s, 'MAXLEN', '~', '1', 'LIMIT', '-1', '*', 'a', '1'))).toBe('ERR The LIMIT argument must be >= 0.');
    expect(await err(call('XADD', s, 'MAXLEN', 'x', '*', 'a', '1'))).toBe('ERR value is not an integer or out of range');
    expect(await err(call('XADD', s, 'MINID', '-', '*', 'a', '1'))).toBe(INVALID);
  });

  it('propagates the concrete ID and ~ trims as = with the result', async () => {
    const s = k('prop');
    for (let i = 1; i <= 150; i++) await call('XADD', s, `${i}-0`, 'f', 'v');
    const p = await propagated(async () => {
      await call('XADD', s, 'MAXLEN', '~', '10', '200-*', 'f', 'v');
      await call('XADD', s, 'MINID', '~', '0', '300', 'f', 'v');
      await call('XTRIM', s, 'MAXLEN', '~', '0');
    });
    expect(p).toEqual([
      ['XADD', s, 'MAXLEN', '=', '51', '200-0', 'f', 'v'],
      ['XADD', s, 'MINID', '=', '101-0', '300', 'f', 'v'],
      ['XTRIM', s, 'MAXLEN', '=', '0'],
    ]);
    const q = await propagated(() => call('XADD', s, '*', 'f', 'v'));
    expect(q[0]![2]).toMatch(/^\d{13}-0$/);
  });

  it('fires xadd and xtrim events', async () => {
    const s = k('ev');
    const ev = await events(async () => {
      await call('XADD', s, '1-1', 'a', '1');
      await call('XADD', s, 'MAXLEN', '0', '1-2', 'a', '1');
      await call('XDEL', s, '9-9');
      await call('XADD', s, '1-3', 'a', '1');
      await call('XDEL', s, '1-3');
      await call('XTRIM', s, 'MAXLEN', '0');
      await call('XSETID', s, '5-5');
    });
    expect(ev).toEqual([`xadd ${s}`, `xadd ${s}`, `xtrim ${s}`, `xadd ${s}`, `xdel ${s}`, `xsetid ${s}`]);
  });
});

describe('XRANGE / XREVRANGE / XLEN / XDEL / XTRIM / XSETID', () => {
  it('ranges with -, +, exclusive bounds, partial IDs and COUNT', async () => {
    const s = k('range');
    for (const id of ['1-1', '1-2', '2-0', '3-5']) await call('XADD', s, id, 'f', id);
    const ids = (r: unknown) => (r as [string, string[]][]).map((e) => e[0]);
    expect(ids(await call('XRANGE', s, '-', '+'))).toEqual(['1-1', '1-2', '2-0', '3-5']);
    expect(ids(await call('XRANGE', s, '1', '1'))).toEqual(['1-1', '1-2']);
    expect(ids(await call('XRANGE', s, '(1-1', '(3-5'))).toEqual(['1-2', '2-0']);
    expect(ids(await call('XRANGE', s, '-', '+', 'COUNT', 2))).toEqual(['1-1', '1-2']);
    expect(ids(await call('XREVRANGE', s, '+', '-', 'COUNT', 3))).toEqual(['3-5', '2-0', '1-2']);
    expect(ids(await call('XREVRANGE', s, '(3-5', '1-2'))).toEqual(['2-0', '1-2']);
    expect(await call('XRANGE', s, '-', '+', 'COUNT', 0)).toBeNull();
    expect(await call('XRANGE', s, '-', '+', 'COUNT', -1)).toBeNull();
    expect(await call('XRANGE', k('none'), '-', '+')).toEqual([]);
    expect(await err(call('XRANGE', s, '(18446744073709551615-18446744073709551615', '+'))).toBe('ERR invalid start ID for the interval');
    expect(await err(call('XRANGE', s, '-', '(0-0'))).toBe('ERR invalid end ID for the interval');
    expect(await err(call('XRANGE', s, '(-', '+'))).toBe(INVALID);
    expect(await err(call('XRANGE', s, '-', '+', 'COUNT'))).toBe('ERR syntax error');
    expect(await err(call('XRANGE', s, '-', '+', 'COUNT', 'x'))).toBe('ERR value is not an integer or out of range');
  });

  it('XDEL marks entries deleted and keeps the (possibly empty) stream', async () => {
    const s = k('del');
    for (const id of ['1-1', '1-2', '1-3']) await call('XADD', s, id, 'f', 'v');
    expect(await call('XDEL', k('none'), 'garbage')).toBe(0);
    expect(await err(call('XDEL', s, '1-1', 'x'))).toBe(INVALID);
    expect(await call('XDEL', s, '1-1', '1-1', '9-9')).toBe(1);
    expect(await call('XDEL', s, '1-2', '1-3')).toBe(2);
    expect(await call('XLEN', s)).toBe(0);
    expect(await call('EXISTS', s)).toBe(1);
    expect(await call('TYPE', s)).toBe('stream');
    expect(await call('XINFO', 'STREAM', s)).toEqual([
      'length', 0, 'radix-tree-keys', 0, 'radix-tree-nodes', 1, 'last-generated-id', '1-3', 'max-deleted-entry-id', '1-3',
      'entries-added', 3, 'recorded-first-entry-id', '0-0', 'groups', 0, 'first-entry', null, 'last-entry', null,
    ]);
  });

  it('XTRIM trims and validates', async () => {
    const s = k('xtrim');
    for (let i = 1; i <= 10; i++) await call('XADD', s, `${i}-0`, 'f', 'v');
    expect(await call('XTRIM', s, 'MAXLEN', '~', '5')).toBe(0);
    expect(await call('XTRIM', s, 'MAXLEN', '5')).toBe(5);
    expect(await call('XTRIM', s, 'MINID', '=', '8')).toBe(2);
    expect(await call('XTRIM', k('none'), 'MAXLEN', '0')).toBe(0);
    expect(await err(call('XTRIM', s, 'FOO', 'BAR'))).toBe('ERR syntax error');
    expect(await err(call('XTRIM', s, 'LIMIT', '5', 'MAXLEN', '1'))).toBe('ERR syntax error, LIMIT cannot be used without the special ~ option');
    expect(await err(call('XTRIM', s, 'MAXLEN'))).toBe("ERR wrong number of arguments for 'xtrim' command");
  });

  it('XSETID sets the last ID and the counters, with its checks', async () => {
    const s = k('setid');
    await call('XADD', s, '1-1', 'a', '1');
    await call('XADD', s, '1-2', 'a', '1');
    expect(await err(call('XSETID', k('none'), '1-1'))).toBe('ERR no such key');
    expect(await err(call('XSETID', s, '1-1'))).toBe('ERR The ID specified in XSETID is smaller than the target stream top item');
    expect(await err(call('XSETID', s, '1-3', 'ENTRIESADDED', '1'))).toBe('ERR The entries_added specified in XSETID is smaller than the target stream length');
    expect(await err(call('XSETID', s, '1-3', 'ENTRIESADDED', '-1'))).toBe('ERR entries_added must be positive');
    expect(await err(call('XSETID', s, '1-3', 'MAXDELETEDID', '1-4'))).toBe('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
    expect(await err(call('XSETID', s, '1-3', 'FOO'))).toBe('ERR syntax error');
    expect(await call('XSETID', s, '9-9', 'ENTRIESADDED', '100', 'MAXDELETEDID', '2-2')).toBe('OK');
    const info = (await call('XINFO', 'STREAM', s)) as unknown[];
    expect(info.slice(6, 14)).toEqual(['last-generated-id', '9-9', 'max-deleted-entry-id', '2-2', 'entries-added', 100, 'recorded-first-entry-id', '1-1']);
    expect(await err(call('XADD', s, '9-9', 'a', '1'))).toBe('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  });

  it('WRONGTYPE on every stream command', async () => {
    const s = k('wt');
    await c.set(s, 'x');
    for (const argv of [['XLEN', s], ['XRANGE', s, '-', '+'], ['XREVRANGE', s, '+', '-'], ['XDEL', s, '1-1'], ['XTRIM', s, 'MAXLEN', '1'], ['XSETID', s, '1-1'], ['XINFO', 'STREAM', s], ['XREAD', 'STREAMS', s, '0']]) {
      expect(await err(call(...argv))).toBe(WRONGTYPE);
    }
  });

  it('XINFO STREAM FULL and RESP3 maps (node-redis)', async () => {
    const s = k('info');
    await call('XADD', s, '1-1', 'a', '1');
    await call('XADD', s, '1-2', 'b', '2');
    const r3 = await srv.nodeRedis(3);
    const info = (await r3.sendCommand(['XINFO', 'STREAM', s])) as Record<string, unknown>;
    expect(info['length']).toBe(2);
    expect(info['first-entry']).toEqual(['1-1', ['a', '1']]);
    expect(info['last-entry']).toEqual(['1-2', ['b', '2']]);
    const full = (await r3.sendCommand(['XINFO', 'STREAM', s, 'FULL', 'COUNT', '1'])) as Record<string, unknown>;
    expect(full['entries']).toEqual([['1-1', ['a', '1']]]);
    expect(full['groups']).toEqual([]);
    expect(await err(call('XINFO', 'STREAM', s, 'FULL', 'COUNT'))).toBe("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.");
    expect(await call('OBJECT', 'ENCODING', s)).toBe('stream');
  });
});

describe('XREAD', () => {
  it('reads several streams, with COUNT and $, RESP2 arrays and RESP3 maps', async () => {
    const a = k('ra');
    const b = k('rb');
    await call('XADD', a, '1-1', 'a', '1');
    await call('XADD', a, '1-2', 'a', '2');
    await call('XADD', b, '2-1', 'b', '1');
    expect(await call('XREAD', 'COUNT', 1, 'STREAMS', a, b, '0', '0')).toEqual([
      [a, [['1-1', ['a', '1']]]],
      [b, [['2-1', ['b', '1']]]],
    ]);
    expect(await call('XREAD', 'STREAMS', a, b, '$', '$')).toBeNull();
    expect(await call('XREAD', 'STREAMS', a, '1-1')).toEqual([[a, [['1-2', ['a', '2']]]]]);
    const r3 = await srv.nodeRedis(3);
    expect(await r3.sendCommand(['XREAD', 'STREAMS', a, b, '1-1', '0'])).toEqual({ [a]: [['1-2', ['a', '2']]], [b]: [['2-1', ['b', '1']]] });
    expect(await r3.sendCommand(['XREAD', 'STREAMS', a, '9-9'])).toBeNull();
    expect(await err(call('XREAD', 'STREAMS', a, b, '0'))).toBe("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
    expect(await err(call('XREAD', 'STREAMS', a, '>'))).toBe('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
    expect(await err(call('XREAD', 'GROUP', 'g', 'c', 'STREAMS', a, '0'))).toBe('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
    expect(await err(call('XREAD', 'BLOCK', '-1', 'STREAMS', a, '0'))).toBe('ERR timeout is negative');
    expect(await err(call('XREAD', 'BLOCK', '1.5', 'STREAMS', a, '0'))).toBe('ERR timeout is not an integer or out of range');
    expect(await err(call('XREAD', 'FOO', 'STREAMS', a, '0'))).toBe('ERR syntax error');
    expect(await call('COMMAND', 'GETKEYS', 'XREAD', 'COUNT', '1', 'STREAMS', a, b, '0', '0')).toEqual([a, b]);
  });

  it('BLOCK waits for XADD; several clients are served in order; $ is resolved at block time', async () => {
    const s = k('blk');
    await call('XADD', s, '1-1', 'a', '1');
    const w1 = client();
    const w2 = client();
    const p1 = w1.call('XREAD', 'BLOCK', '0', 'STREAMS', s, '$');
    await waitUntil(() => srv.engine.blocking.blockedCount === 1);
    const p2 = w2.call('XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', k('other'), s, '0', '1-1');
    await waitUntil(() => srv.engine.blocking.blockedCount === 2);
    await call('XADD', s, '2-1', 'b', '2');
    expect(await p1).toEqual([[s, [['2-1', ['b', '2']]]]]);
    expect(await p2).toEqual([[s, [['2-1', ['b', '2']]]]]);
    // Timeout: a null reply.
    const t0 = Date.now();
    expect(await call('XREAD', 'BLOCK', '100', 'STREAMS', s, '$')).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    // Inside MULTI BLOCK does not wait.
    const m = client();
    await m.multi().call('XREAD', 'BLOCK', '0', 'STREAMS', s, '$').exec();
    expect(srv.engine.blocking.blockedCount).toBe(0);
  });

  it('a blocked XREAD is not woken by a write to a key of another type, and a disconnect unblocks it', async () => {
    const s = k('blk2');
    const w = client();
    const p = w.call('XREAD', 'BLOCK', '0', 'STREAMS', s, '$').catch(() => 'closed');
    await waitUntil(() => srv.engine.blocking.blockedCount === 1);
    await c.set(s, 'x');
    await c.del(s);
    await new Promise((r) => setTimeout(r, 30));
    expect(srv.engine.blocking.blockedCount).toBe(1);
    w.disconnect();
    await waitUntil(() => srv.engine.blocking.blockedCount === 0);
    expect(await p).toBe('closed');
  });
});
