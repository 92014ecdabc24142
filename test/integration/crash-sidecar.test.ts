/**
 * The sidecar keeps its cache across a restart of `cacheside start`: a MISS
 * fills the cache, SIGTERM saves it (default save points), the next process
 * loads it and answers HIT with the TTL that was left. With the AOF on, the
 * same holds after kill -9.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, freePort, get, ROOT, sleep } from './sidecar-harness.js';
import { tempDir } from '../helpers/spawn-server.js';

const procs: ChildProcess[] = [];
beforeAll(() => ensureBuilt(), 150_000);
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
    }
  }
});

const KEY = 'cs:e:default:/getLecture/42';

async function startSidecar(dir: string, port: number, http: number, extra: string[] = []): Promise<ChildProcess> {
  const p = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--dir', dir, '--http-port', String(http), '--http-bind', '127.0.0.1', ...extra], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  procs.push(p);
  const end = Date.now() + 15_000;
  while ((await get(`http://127.0.0.1:${http}/readyz`).catch(() => ({ status: 0 }))).status !== 200) {
    if (p.exitCode !== null) throw new Error('cacheside start exited');
    if (Date.now() > end) throw new Error('cacheside start did not come up');
    await sleep(50);
  }
  return p;
}

function resp(port: number, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`*${argv.length}\r\n` + argv.map((a) => `$${a.length}\r\n${a}\r\n`).join('')));
    s.once('data', (d) => {
      resolve(d.toString().trim());
      s.end();
    });
    s.once('error', reject);
  });
}

async function pttl(port: number): Promise<number> {
  return Number((await resp(port, ['PTTL', KEY])).slice(1));
}

describe('sidecar cache across restarts', () => {
  it('MISS, SIGTERM, restart, HIT with the remaining TTL', async () => {
    const dir = tempDir('sidecar-restart');
    const port = await freePort();
    const http = await freePort();
    let p = await startSidecar(dir, port, http);
    const url = `http://127.0.0.1:${http}/getLecture/42`;
    const a = await get(url);
    expect(a.headers.get('x-cache')).toBe('MISS');
    const ttlBefore = await pttl(port);
    expect(ttlBefore).toBeGreaterThan(0);
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
    await sleep(300);
    p = await startSidecar(dir, port, http);
    const ttlAfter = await pttl(port);
    expect(ttlAfter).toBeGreaterThan(0);
    expect(ttlAfter).toBeLessThan(ttlBefore);
    const b = await get(url);
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.text).toBe(a.text);
  }, 30_000);

  it('with appendonly yes the cache survives kill -9', async () => {
    const dir = tempDir('sidecar-kill');
    const port = await freePort();
    const http = await freePort();
    let p = await startSidecar(dir, port, http, ['--appendonly', 'yes', '--save', '']);
    const url = `http://127.0.0.1:${http}/getLecture/7`;
    expect((await get(url)).headers.get('x-cache')).toBe('MISS');
    expect((await get(url)).headers.get('x-cache')).toBe('HIT');
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    p = await startSidecar(dir, port, http, ['--appendonly', 'yes', '--save', '']);
    expect((await get(url)).headers.get('x-cache')).toBe('HIT');
  }, 30_000);
});
