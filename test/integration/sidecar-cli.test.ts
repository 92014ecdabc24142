/**
 * `cacheside start` as a newcomer runs it: engine + sidecar + demo upstream,
 * MISS then HIT with two requests; engine directives reach the engine; bad
 * config exits 1 with a message naming the field.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, freePort, get, ROOT, sleep } from './sidecar-harness.js';

const procs: ChildProcess[] = [];

beforeAll(() => ensureBuilt(), 150_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode !== null ? null : new Promise((r) => p.once('exit', r)))));
});

function fails(args: string[], env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('cacheside start', () => {
  it('demo mode: the two curls of the README show MISS then HIT', async () => {
    const port = await freePort();
    const http = await freePort();
    const p = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--save', '', '--http-port', String(http), '--http-bind', '127.0.0.1'], { cwd: ROOT, stdio: 'ignore' });
    procs.push(p);
    const url = `http://127.0.0.1:${http}`;
    const end = Date.now() + 15_000;
    while ((await get(url + '/readyz').catch(() => ({ status: 0 }))).status !== 200) {
      if (Date.now() > end) throw new Error('cacheside start did not come up');
      await sleep(50);
    }
    const t0 = Date.now();
    const a = await get(url + '/getLecture/42');
    const took = Date.now() - t0;
    const b = await get(url + '/getLecture/42');
    expect(a.status).toBe(200);
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(took).toBeGreaterThanOrEqual(190);
    expect(JSON.parse(a.text)).toMatchObject({ id: '42', title: 'Lecture 42' });
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.text).toBe(a.text);
    // the engine directives reached the engine: RESP on --port, with the entry in it
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('*2\r\n$6\r\nEXISTS\r\n$27\r\ncs:e:default:/getLecture/42\r\n'));
      s.once('data', (d) => {
        resolve(d.toString());
        s.end();
      });
      s.once('error', reject);
    });
    expect(reply).toBe(':1\r\n');
  });

  it('bad config: exit 1 and a message naming the field', () => {
    const a = fails(['start', '--ttl', 'abc']);
    expect(a.status).toBe(1);
    expect(a.stderr).toBe('config: ttl (from --ttl): expected a number, got "abc"\n');
    const b = fails(['start'], { CACHESIDE_HTTP_PORT: 'x' });
    expect(b.status).toBe(1);
    expect(b.stderr).toBe('config: httpPort (from CACHESIDE_HTTP_PORT): expected a number, got "x"\n');
    const c = fails(['start', '--no-such-directive', '1']);
    expect(c.status).toBe(1);
    expect(c.stderr).toContain("Bad directive or wrong number of arguments (unknown option '--no-such-directive')");
    const d = fails(['proxy', '--engine', 'redis://127.0.0.1:1']);
    expect(d.status).toBe(1);
    expect(d.stderr).toContain('config: upstream: missing');
    const e = fails(['proxy', '--upstream', 'http://a:1', '--port', '1']);
    expect(e.status).toBe(1);
    expect(e.stderr).toContain("proxy: unknown argument '--port'");
  });

  it('--help for start and proxy', () => {
    const r = spawnSync(process.execPath, [CLI, 'start', '--help'], { encoding: 'utf8' });
    expect(r.stdout).toContain('--upstream URL');
    expect(spawnSync(process.execPath, [CLI, 'proxy', '--help'], { encoding: 'utf8' }).stdout).toContain('--engine URL');
  });
});
