import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore, ConfigError, ConfigSetError, parseMemory, type SavePoint } from '../../src/config/config-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cacheside-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(text: string, name = 'redis.conf'): ConfigStore {
  const c = new ConfigStore();
  const file = join(dir, name);
  writeFileSync(file, text);
  c.configFile = file;
  c.loadFile(file);
  return c;
}

describe('memory values', () => {
  it('k/m/g are powers of 1000, kb/mb/gb of 1024, any case', () => {
    expect(parseMemory('1k')).toBe(1000);
    expect(parseMemory('1kb')).toBe(1024);
    expect(parseMemory('1KB')).toBe(1024);
    expect(parseMemory('2m')).toBe(2_000_000);
    expect(parseMemory('2mb')).toBe(2 * 1024 * 1024);
    expect(parseMemory('1g')).toBe(1e9);
    expect(parseMemory('1gb')).toBe(1024 ** 3);
    expect(parseMemory('1Gb')).toBe(1024 ** 3);
    expect(parseMemory('123')).toBe(123);
    expect(parseMemory('10b')).toBe(10);
  });

  it('rejects signs, fractions, spaces and unknown units', () => {
    for (const bad of ['-1', '1.5', ' 5', '5 ', '1t', 'kb', 'abc']) expect(parseMemory(bad)).toBeNull();
  });

  it('a memory directive stores bytes and CONFIG GET shows them', () => {
    const c = new ConfigStore();
    c.set('maxmemory', '1gb', true);
    expect(c.num('maxmemory')).toBe(1024 ** 3);
    expect(c.format('maxmemory')).toBe('1073741824');
    c.set('maxmemory', '100k', true);
    expect(c.format('maxmemory')).toBe('100000');
    expect(() => c.set('maxmemory', '-1', true)).toThrow('argument must be a memory value');
  });
});

describe('value validation (Redis 7.0 reasons)', () => {
  const c = new ConfigStore();
  const reason = (name: string, raw: string) => {
    try {
      c.validate(c.def(name)!, raw);
      return 'ok';
    } catch (e) {
      return (e as ConfigError).message;
    }
  };

  it('integers: parse errors and ranges', () => {
    expect(reason('timeout', 'abc')).toBe("argument couldn't be parsed into an integer");
    expect(reason('timeout', ' 5')).toBe("argument couldn't be parsed into an integer");
    expect(reason('timeout', '1k')).toBe("argument couldn't be parsed into an integer");
    expect(reason('timeout', '-1')).toBe('argument must be between 0 and 2147483647 inclusive');
    expect(reason('slowlog-log-slower-than', '-2')).toBe('argument must be between -1 and 9223372036854775807 inclusive');
    expect(reason('acllog-max-len', '3000000000')).toBe('ok');
  });

  it('hz accepts 0..INT_MAX and is clamped to 1..500', () => {
    expect(c.validate(c.def('hz')!, '1000')).toBe(500);
    expect(c.validate(c.def('hz')!, '0')).toBe(1);
    expect(reason('hz', '-1')).toBe('argument must be between 0 and 2147483647 inclusive');
  });

  it('booleans, enums, event classes, save, output buffer limits, percentiles', () => {
    expect(reason('appendonly', 'maybe')).toBe("argument must be 'yes' or 'no'");
    expect(reason('appendfsync', 'x')).toBe('argument(s) must be one of the following: everysec, always, no');
    expect(reason('loglevel', 'x')).toBe('argument(s) must be one of the following: debug, verbose, notice, warning');
    expect(reason('notify-keyspace-events', 'Q')).toBe("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    expect(reason('save', '10')).toBe('Invalid save parameters');
    expect(reason('save', '0 1')).toBe('Invalid save parameters');
    expect(reason('save', ' 100 1')).toBe('Invalid save parameters');
    expect(reason('client-output-buffer-limit', 'abc')).toBe('Wrong number of arguments in buffer limit configuration.');
    expect(reason('client-output-buffer-limit', 'master 1 1 1')).toBe('Invalid client class specified in buffer limit configuration.');
    expect(reason('client-output-buffer-limit', 'normal x 1 1')).toBe('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
    expect(reason('latency-tracking-info-percentiles', '50 101')).toBe('latency-tracking-info-percentiles parameters should sit between [0.0,100.0]');
    expect(reason('latency-tracking-info-percentiles', 'abc')).toBe('Invalid latency-tracking-info-percentiles parameters');
    expect(reason('maxmemory-clients', '101%')).toBe('percentage argument must be less or equal to 100');
    expect(reason('maxmemory-clients', '10%')).toBe('ok');
  });

  it('client-output-buffer-limit updates only the classes given', () => {
    const s = new ConfigStore();
    s.set('client-output-buffer-limit', 'pubsub 1mb 2mb 3', false);
    expect(s.format('client-output-buffer-limit')).toBe('normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3');
  });
});

describe('setMany (CONFIG SET)', () => {
  it('validates everything before changing anything', () => {
    const c = new ConfigStore();
    const seen: unknown[] = [];
    c.onChange('maxmemory', (v) => seen.push(v));
    let err: unknown;
    try {
      c.setMany([
        { name: 'maxmemory', raw: '10mb' },
        { name: 'MAXMEMORY-POLICY', raw: 'bad' },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigSetError);
    expect((err as ConfigSetError).param).toBe('MAXMEMORY-POLICY');
    expect(c.num('maxmemory')).toBe(0);
    expect(seen).toEqual([]);
  });

  it('applies all values, then runs listeners; restore puts them back', () => {
    const c = new ConfigStore();
    const seen: unknown[] = [];
    c.onChange('maxmemory', (v) => seen.push(['maxmemory', v, c.str('maxmemory-policy')]));
    const prev = c.setMany([
      { name: 'maxmemory', raw: '10mb' },
      { name: 'maxmemory-policy', raw: 'allkeys-lru' },
    ]);
    expect(seen).toEqual([['maxmemory', 10 * 1024 * 1024, 'allkeys-lru']]);
    c.restore(prev);
    expect(c.num('maxmemory')).toBe(0);
    expect(c.str('maxmemory-policy')).toBe('noeviction');
  });
});

describe('redis.conf parsing', () => {
  it('double quotes with escapes, single quotes, comments and blank lines', () => {
    const c = load(['# a comment', '', 'requirepass "a b\\x41\\n"', "masteruser 'it\\'s'", '  maxmemory 2mb  ', 'appendfsync ALWAYS'].join('\n'));
    expect(c.str('requirepass')).toBe('a bA\n');
    expect(c.str('masteruser')).toBe("it's");
    expect(c.num('maxmemory')).toBe(2 * 1024 * 1024);
    expect(c.str('appendfsync')).toBe('always');
  });

  it('save lines accumulate, the first one replacing the defaults; save "" clears', () => {
    const pts = (c: ConfigStore) => (c.get('save') as SavePoint[]).map((p) => `${p.seconds}/${p.changes}`);
    expect(pts(new ConfigStore())).toEqual(['3600/1', '300/100', '60/10000']);
    expect(pts(load('save 900 1\nsave 300 10\n'))).toEqual(['900/1', '300/10']);
    expect(pts(load('save 900 1 300 10\nsave 60 5\n'))).toEqual(['900/1', '300/10', '60/5']);
    expect(pts(load('save 900 1\nsave ""\n'))).toEqual([]);
    expect(pts(load('save ""\nsave 10 1\n'))).toEqual(['10/1']);
  });

  it('include reads another file relative to the including one', () => {
    writeFileSync(join(dir, 'extra.conf'), 'maxmemory 5mb\nhz 20\n');
    const c = load('hz 15\ninclude extra.conf\nmaxmemory-policy allkeys-lfu\n');
    expect(c.num('maxmemory')).toBe(5 * 1024 * 1024);
    expect(c.num('hz')).toBe(20);
    expect(c.str('maxmemory-policy')).toBe('allkeys-lfu');
  });

  it('aliases set the canonical directive', () => {
    const c = load('slave-read-only no\nhash-max-ziplist-entries 7\n');
    expect(c.bool('replica-read-only')).toBe(false);
    expect(c.num('hash-max-listpack-entries')).toBe(7);
  });

  it('an unknown directive or bad value names the file and the line', () => {
    const file = join(dir, 'bad.conf');
    writeFileSync(file, 'port 7000\n\nnosuch 1\n');
    expect(() => new ConfigStore().loadFile(file)).toThrow(
      `*** FATAL CONFIG FILE ERROR ***\nReading the configuration file, at line 3 of ${file}\n>>> 'nosuch 1'\nBad directive or wrong number of arguments`,
    );
    writeFileSync(file, 'maxmemory abc\n');
    expect(() => new ConfigStore().loadFile(file)).toThrow(`at line 1 of ${file}\n>>> 'maxmemory abc'\nargument must be a memory value`);
    writeFileSync(file, 'requirepass "abc\n');
    expect(() => new ConfigStore().loadFile(file)).toThrow('Unbalanced quotes in configuration line');
  });

  it('files may set immutable directives, CONFIG SET may not', () => {
    const c = load('databases 4\n');
    expect(c.num('databases')).toBe(4);
    expect(() => c.set('databases', '8', false)).toThrow("can't set immutable config");
  });
});

describe('CONFIG REWRITE', () => {
  const original = [
    '# my config',
    'port 6400',
    'maxmemory 100mb',
    '# save points',
    'save 900 1',
    'save 300 10',
    'hz 10',
    'slave-read-only yes',
    'client-output-buffer-limit pubsub 32mb 8mb 60',
    'rename-command KEYS ""',
    '',
  ].join('\n');

  it('rewrites lines in place, keeps comments and unknown lines, appends the rest', () => {
    const c = load(original);
    c.setMany([
      { name: 'maxmemory', raw: '200mb' },
      { name: 'hz', raw: '20' },
      { name: 'save', raw: '100 1' },
      { name: 'maxmemory-policy', raw: 'allkeys-lru' },
      { name: 'requirepass', raw: 'a "b"' },
      { name: 'notify-keyspace-events', raw: 'KEA' },
    ]);
    c.rewrite();
    expect(readFileSync(c.configFile!, 'latin1')).toBe(
      [
        '# my config',
        'port 6400',
        'maxmemory 200mb',
        '# save points',
        'save 100 1',
        '',
        'hz 20',
        'replica-read-only yes',
        'client-output-buffer-limit normal 0 0 0',
        'rename-command KEYS ""',
        '',
        '# Generated by CONFIG REWRITE',
        'requirepass "a \\"b\\""',
        'notify-keyspace-events "AKE"',
        'maxmemory-policy allkeys-lru',
        // Always written, as Redis does: its current directory.
        `dir "${realpathSync(process.cwd())}"`,
        '',
      ].join('\n'),
    );
    // The rewritten file loads back to the same values.
    const again = new ConfigStore();
    again.loadFile(c.configFile!);
    for (const n of ['maxmemory', 'hz', 'save', 'maxmemory-policy', 'requirepass', 'notify-keyspace-events', 'client-output-buffer-limit']) {
      expect(again.format(n)).toBe(c.format(n));
    }
  });

  it('reuses its own section on a second rewrite; memory in kb/mb/gb; save "" when no save points', () => {
    const c = load(original);
    c.setMany([{ name: 'maxmemory-policy', raw: 'allkeys-lru' }]);
    c.rewrite();
    c.setMany([
      { name: 'maxmemory-policy', raw: 'noeviction' },
      { name: 'save', raw: '' },
      { name: 'maxmemory', raw: '1536kb' },
      { name: 'client-output-buffer-limit', raw: 'replica 1gb 2kb 3' },
    ]);
    c.rewrite();
    const text = readFileSync(c.configFile!, 'latin1');
    expect(text.split('\n').filter((l) => l === '# Generated by CONFIG REWRITE')).toHaveLength(1);
    expect(text).toContain('\nmaxmemory 1536kb\n');
    expect(text).toContain('\nsave ""\n');
    expect(text).toContain('\nclient-output-buffer-limit replica 1gb 2kb 3\n');
    // Once in the file, a directive stays there even at its default value (as Redis does).
    expect(text).toContain('\n# Generated by CONFIG REWRITE\nmaxmemory-policy noeviction\n');
  });

  it('without a config file it fails', () => {
    expect(() => new ConfigStore().rewrite()).toThrow('The server is running without a config file');
  });
});
