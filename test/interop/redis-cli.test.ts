/**
 * The real redis-cli / redis-benchmark (Debian redis-tools 7.x) against cacheside.
 * Needs `npm run build` and the tools on PATH (bash test/interop/ensure-redis.sh).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand, RawClient, startCacheside, type ServerHandle } from './harness.js';
import { parseBenchmark, requireTools, run, type RunResult } from './tools.js';

/** `SET a 1\r\nGET a\r\n` (inline commands, one per line) → RESP multibulk, as `redis-cli --pipe` wants. */
function inlineToResp(text: string): Buffer {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return Buffer.concat(lines.map((l) => encodeCommand(l.trim().split(/\s+/))));
}

describe('redis-cli and redis-benchmark against cacheside', () => {
  let server: ServerHandle | undefined;
  let port = 0;

  const cli = async (...args: string[]): Promise<RunResult> => {
    const r = await run('redis-cli', ['-p', String(port), ...args]);
    expect(r.stderr, `redis-cli ${args.join(' ')} wrote to stderr`).toBe('');
    expect(r.code, `redis-cli ${args.join(' ')} exit code\n${r.stdout}`).toBe(0);
    return r;
  };

  beforeAll(async () => {
    requireTools('redis-cli', 'redis-benchmark');
    server = await startCacheside();
    port = server.port;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('redis-cli ping → PONG', async () => {
    const r = await cli('ping');
    expect(r.stdout).toBe('PONG\n');
  });

  it('redis-cli set / get', async () => {
    expect((await cli('set', 'foo', 'bar')).stdout).toBe('OK\n');
    expect((await cli('get', 'foo')).stdout).toBe('bar\n');
  });

  it('redis-cli --no-raw incr shows the integer type', async () => {
    expect((await cli('--no-raw', 'incr', 'n')).stdout).toBe('(integer) 1\n');
    expect((await cli('--no-raw', 'incr', 'n')).stdout).toBe('(integer) 2\n');
  });

  it('redis-cli --pipe with RESP input', async () => {
    const input = inlineToResp('SET a 1\r\nGET a\r\n');
    const r = await run('redis-cli', ['-p', String(port), '--pipe'], { input });
    const all = r.stdout + r.stderr;
    expect(r.code, all).toBe(0);
    expect(all).toMatch(/All data transferred/);
    expect(all).toMatch(/errors: 0, replies: 2\b/);
    expect((await cli('get', 'a')).stdout).toBe('1\n');
  });

  it('redis-cli info server contains redis_version', async () => {
    const r = await cli('info', 'server');
    expect(r.stdout).toMatch(/^redis_version:\S+/m);
  });

  it("redis-cli --scan --pattern 'k*' lists matching keys", async () => {
    const c = await RawClient.connect(port);
    try {
      for (const k of ['k1', 'k2', 'k3', 'kk:nested', 'other', 'xk']) {
        expect(await c.send('SET', k, 'v')).toEqual({ type: 'simple', value: 'OK' });
      }
    } finally {
      await c.close();
    }
    const r = await cli('--scan', '--pattern', 'k*');
    const keys = r.stdout.split('\n').filter((l) => l !== '');
    // SCAN may return a key more than once; redis-cli does not deduplicate.
    expect([...new Set(keys)].sort()).toEqual(['k1', 'k2', 'k3', 'kk:nested']);
  });

  it('redis-benchmark -q -n 2000 -c 10 -t ping,set,get,incr,mset', async () => {
    const r = await run(
      'redis-benchmark',
      ['-p', String(port), '-q', '-n', '2000', '-c', '10', '-t', 'ping,set,get,incr,mset'],
      { timeoutMs: 90_000 },
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const rates = parseBenchmark(r.stdout);
    expect([...rates.keys()].sort()).toEqual(['GET', 'INCR', 'MSET (10 keys)', 'PING_INLINE', 'PING_MBULK', 'SET']);
    for (const [test, rps] of rates) {
      expect(rps, `${test} requests per second`).toBeGreaterThan(0);
    }
  });
});
