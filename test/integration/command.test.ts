import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, type RespValue } from '../interop/harness.js';

let srv: TestServer;
let c: Redis;
beforeAll(async () => {
  srv = await startTestServer();
  c = srv.client({ enableReadyCheck: false });
});
afterAll(async () => {
  await srv.stop();
});

const cmd = (...args: string[]) => c.call('COMMAND', ...args);

/** Key spec of a single-key command at argv[index], as Redis 7.0 prints it in RESP2. */
const rangeSpec = (flags: string[], index: number, lastkey = 0, keystep = 1, limit = 0) => [
  'flags',
  flags,
  'begin_search',
  ['type', 'index', 'spec', ['index', index]],
  'find_keys',
  ['type', 'range', 'spec', ['lastkey', lastkey, 'keystep', keystep, 'limit', limit]],
];

describe('COMMAND INFO', () => {
  it('GET, exactly as Redis 7.0', async () => {
    expect(await cmd('INFO', 'get')).toEqual([
      ['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast'], [], [rangeSpec(['RO', 'access'], 1)], []],
    ]);
  });

  it('SET, exactly as Redis 7.0 (key spec with notes)', async () => {
    expect(await cmd('INFO', 'SET')).toEqual([
      [
        'set',
        -3,
        ['write', 'denyoom'],
        1,
        1,
        1,
        ['@write', '@string', '@slow'],
        [],
        [['notes', 'RW and ACCESS due to the optional `GET` argument', ...rangeSpec(['RW', 'access', 'update', 'variable_flags'], 1)]],
        [],
      ],
    ]);
  });

  it('a key spec per key (RENAME) and multi-key ranges (MSET)', async () => {
    const [rename] = (await cmd('INFO', 'rename')) as unknown[][];
    expect(rename!.slice(0, 7)).toEqual(['rename', 3, ['write'], 1, 2, 1, ['@keyspace', '@write', '@slow']]);
    expect(rename![8]).toEqual([rangeSpec(['RW', 'access', 'delete'], 1), rangeSpec(['OW', 'update'], 2)]);
    const [mset] = (await cmd('INFO', 'mset')) as unknown[][];
    expect(mset!.slice(0, 6)).toEqual(['mset', -3, ['write', 'denyoom'], 1, -1, 2]);
    expect(mset![8]).toEqual([rangeSpec(['OW', 'update'], 1, -1, 2, 0)]);
  });

  it('subcommands: container entries and container|sub names', async () => {
    expect(await cmd('INFO', 'client|list', 'CLIENT|ID')).toEqual([
      [
        'client|list',
        -2,
        ['admin', 'noscript', 'loading', 'stale'],
        0,
        0,
        0,
        ['@admin', '@slow', '@dangerous', '@connection'],
        ['nondeterministic_output'],
        [],
        [],
      ],
      ['client|id', 2, ['noscript', 'loading', 'stale'], 0, 0, 0, ['@slow', '@connection'], [], [], []],
    ]);
    const [client] = (await cmd('INFO', 'client')) as unknown[][];
    expect(client!.slice(0, 9)).toEqual(['client', -2, [], 0, 0, 0, ['@slow'], [], []]);
    const subs = client![9] as unknown[][];
    expect(subs.map((e) => e[0])).toEqual(expect.arrayContaining(['client|list', 'client|kill', 'client|pause', 'client|help']));
    for (const e of subs) expect(e).toHaveLength(10);

    const [command] = (await cmd('INFO', 'command')) as unknown[][];
    expect(command!.slice(0, 9)).toEqual(['command', -1, ['loading', 'stale'], 0, 0, 0, ['@slow', '@connection'], ['nondeterministic_output_order'], []]);
    expect((command![9] as unknown[][]).find((e) => e[0] === 'command|getkeys')).toEqual([
      'command|getkeys', -4, ['loading', 'stale'], 0, 0, 0, ['@slow', '@connection'], [], [], [],
    ]);
  });

  it('unknown names give nil entries', async () => {
    const r = (await cmd('INFO', 'nosuch', 'get', 'get|x', 'client|nosuch', 'client|list|x')) as unknown[];
    expect(r).toHaveLength(5);
    expect(r[0]).toBeNull();
    expect((r[1] as unknown[])[0]).toBe('get');
    expect(r.slice(2)).toEqual([null, null, null]);
  });

  it('COMMAND, COMMAND INFO and COMMAND COUNT agree', async () => {
    const all = (await c.call('COMMAND')) as unknown[][];
    const count = (await cmd('COUNT')) as number;
    expect(all).toHaveLength(count);
    expect((await cmd('INFO')) as unknown[]).toHaveLength(count);
    const names = all.map((e) => e[0]);
    expect(new Set(names).size).toBe(count);
    expect(names).toEqual(expect.arrayContaining(['get', 'set', 'client', 'command', 'ping']));
    for (const e of all) expect(e).toHaveLength(10);
    await expect(cmd('COUNT', 'x')).rejects.toThrow("ERR wrong number of arguments for 'command|count' command");
  });

  it('RESP3: flags, categories, tips and key specs are sets, key specs maps', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.send('HELLO', '3');
      const r = await raw.send('COMMAND', 'INFO', 'get', 'nosuch');
      expect(r.type).toBe('array');
      const [get, missing] = (r as Extract<RespValue, { type: 'array' }>).value;
      expect(missing).toEqual({ type: 'null' });
      const e = (get as Extract<RespValue, { type: 'array' }>).value;
      expect(e[2]).toEqual({ type: 'set', value: [{ type: 'simple', value: 'readonly' }, { type: 'simple', value: 'fast' }] });
      expect(e[6]!.type).toBe('set');
      expect(e[7]).toEqual({ type: 'set', value: [] });
      expect(e[8]!.type).toBe('set');
      const spec = (e[8] as Extract<RespValue, { type: 'set' }>).value[0]!;
      expect(spec.type).toBe('map');
      const entries = (spec as Extract<RespValue, { type: 'map' }>).value;
      expect(entries.map(([k]) => (k as { value: string }).value)).toEqual(['flags', 'begin_search', 'find_keys']);
      expect(entries[1]![1]).toEqual({
        type: 'map',
        value: [
          [{ type: 'bulk', value: 'type' }, { type: 'bulk', value: 'index' }],
          [{ type: 'bulk', value: 'spec' }, { type: 'map', value: [[{ type: 'bulk', value: 'index' }, { type: 'integer', value: 1n }]] }],
        ],
      });
      expect(e[9]).toEqual({ type: 'set', value: [] });
    } finally {
      await raw.close();
    }
  });
});

describe('COMMAND DOCS', () => {
  it('RESP2: a flat name → docs array; unknown names are left out', async () => {
    expect(await cmd('DOCS', 'get', 'nosuch', 'client|id')).toEqual([
      'get',
      ['summary', 'Get the value of a key', 'since', '1.0.0', 'group', 'string', 'complexity', 'O(1)'],
      'client|id',
      ['summary', 'Returns the client ID for the current connection', 'since', '5.0.0', 'group', 'connection', 'complexity', 'O(1)'],
    ]);
    expect(await cmd('DOCS', 'nosuch')).toEqual([]);
  });

  it('containers nest their subcommands', async () => {
    const [name, docs] = (await cmd('DOCS', 'client')) as [string, unknown[]];
    expect(name).toBe('client');
    expect(docs.slice(0, 8)).toEqual([
      'summary', 'A container for client connection commands', 'since', '2.4.0', 'group', 'connection', 'complexity', 'Depends on subcommand.',
    ]);
    expect(docs[8]).toBe('subcommands');
    const subs = docs[9] as unknown[];
    const i = subs.indexOf('client|pause');
    expect(i % 2).toBe(0);
    expect(subs[i + 1]).toEqual([
      'summary', 'Stop processing commands from clients for some time', 'since', '2.9.50', 'group', 'connection', 'complexity', 'O(1)',
    ]);
  });

  it('all commands when no name is given; RESP3 answers a map', async () => {
    const all = (await cmd('DOCS')) as unknown[];
    expect(all.length).toBe(2 * ((await cmd('COUNT')) as number));
    const raw = await RawClient.connect(srv.port);
    try {
      await raw.send('HELLO', '3');
      const r = await raw.send('COMMAND', 'DOCS', 'ping');
      expect(r.type).toBe('map');
      const [[k, v]] = (r as Extract<RespValue, { type: 'map' }>).value as [RespValue, RespValue][];
      expect(k).toEqual({ type: 'bulk', value: 'ping' });
      expect(v!.type).toBe('map');
    } finally {
      await raw.close();
    }
  });
});

describe('COMMAND LIST', () => {
  it('every command and subcommand name', async () => {
    const names = (await cmd('LIST')) as string[];
    expect(names).toEqual(expect.arrayContaining(['get', 'client', 'client|list', 'command', 'command|docs']));
    const count = (await cmd('COUNT')) as number;
    expect(names.filter((n) => !n.includes('|'))).toHaveLength(count);
  });

  it('FILTERBY PATTERN / ACLCAT / MODULE', async () => {
    const pat = (await cmd('LIST', 'FILTERBY', 'PATTERN', 'client|*')) as string[];
    expect(pat.length).toBeGreaterThanOrEqual(16);
    expect(pat.every((n) => n.startsWith('client|'))).toBe(true);
    expect(await cmd('LIST', 'filterby', 'pattern', 'CLIENT|ID')).toEqual(['client|id']);
    const conn = (await cmd('LIST', 'FILTERBY', 'ACLCAT', 'CONNECTION')) as string[];
    expect(conn).toEqual(expect.arrayContaining(['ping', 'command', 'command|info', 'client|kill']));
    expect(conn).not.toContain('client'); // a pure container is only @slow
    expect(conn).not.toContain('get');
    expect(await cmd('LIST', 'FILTERBY', 'ACLCAT', 'nosuch')).toEqual([]);
    expect(await cmd('LIST', 'FILTERBY', 'MODULE', 'foo')).toEqual([]);
    await expect(cmd('LIST', 'FILTERBY', 'foo', 'x')).rejects.toThrow('ERR syntax error');
    await expect(cmd('LIST', 'foo')).rejects.toThrow('ERR syntax error');
    await expect(cmd('LIST', 'FILTERBY', 'PATTERN')).rejects.toThrow('ERR syntax error');
  });
});

describe('COMMAND GETKEYS / GETKEYSANDFLAGS', () => {
  it('keys of fixed and multi-key commands, subcommands included', async () => {
    expect(await cmd('GETKEYS', 'set', 'a', 'b')).toEqual(['a']);
    expect(await cmd('GETKEYS', 'GET', 'a')).toEqual(['a']);
    expect(await cmd('GETKEYS', 'mset', 'a', 'b', 'c', 'd')).toEqual(['a', 'c']);
    expect(await cmd('GETKEYS', 'touch', 'a', 'b')).toEqual(['a', 'b']);
    expect(await cmd('GETKEYS', 'object', 'encoding', 'k')).toEqual(['k']);
  });

  it('Redis errors', async () => {
    await expect(cmd('GETKEYS')).rejects.toThrow("ERR wrong number of arguments for 'command|getkeys' command");
    await expect(cmd('GETKEYS', 'get')).rejects.toThrow("ERR wrong number of arguments for 'command|getkeys' command");
    await expect(cmd('GETKEYS', 'nosuch', 'a')).rejects.toThrow('ERR Invalid command specified');
    await expect(cmd('GETKEYS', 'object', 'nosuch')).rejects.toThrow('ERR Invalid command specified');
    await expect(cmd('GETKEYS', 'client|id', 'x')).rejects.toThrow('ERR Invalid command specified');
    await expect(cmd('GETKEYS', 'ping', 'x')).rejects.toThrow('ERR The command has no key arguments');
    await expect(cmd('GETKEYS', 'client', 'list')).rejects.toThrow('ERR The command has no key arguments');
    await expect(cmd('GETKEYS', 'get', 'a', 'b')).rejects.toThrow('ERR Invalid number of arguments specified for command');
    await expect(cmd('GETKEYSANDFLAGS', 'get', 'a', 'b')).rejects.toThrow('ERR Invalid number of arguments specified for command');
  });

  it('GETKEYSANDFLAGS gives each key the flags of its key spec', async () => {
    expect(await cmd('GETKEYSANDFLAGS', 'rename', 'a', 'b')).toEqual([
      ['a', ['RW', 'access', 'delete']],
      ['b', ['OW', 'update']],
    ]);
    expect(await cmd('GETKEYSANDFLAGS', 'mset', 'a', '1', 'b', '2')).toEqual([
      ['a', ['OW', 'update']],
      ['b', ['OW', 'update']],
    ]);
    expect(await cmd('GETKEYSANDFLAGS', 'get', 'k')).toEqual([['k', ['RO', 'access']]]);
  });
});

describe('COMMAND HELP and the container itself', () => {
  it('HELP lines', async () => {
    const help = (await cmd('HELP')) as string[];
    expect(help).toHaveLength(21);
    expect(help[0]).toBe('COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help[help.length - 1]).toBe('    Prints this help.');
  });

  it('unknown subcommand', async () => {
    await expect(cmd('nosuch')).rejects.toThrow("ERR unknown subcommand 'nosuch'. Try COMMAND HELP.");
    await expect(cmd('INFO|GET')).rejects.toThrow("ERR unknown subcommand 'INFO|GET'. Try COMMAND HELP.");
  });
});
