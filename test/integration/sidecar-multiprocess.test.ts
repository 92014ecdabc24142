/**
 * The headline: 100 concurrent requests spread over 3 sidecar
 * processes (`node dist/cli.js proxy`) sharing one engine process
 * (`node dist/cli.js server`) cost the upstream exactly one request.
 * Builds dist/ first when it is older than the sources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, freePort, get, ROOT, sleep, startUpstream, type Upstream } from './sidecar-harness.js';

const procs: ChildProcess[] = [];
let up: Upstream;
let enginePort: number;
const sidecars: string[] = [];

function run(args: string[]): ChildProcess {
  const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CACHESIDE_PURGE_TOKEN: '' } });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  p.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`cacheside ${args[0]} exited ${code}: ${err}`);
  });
  procs.push(p);
  return p;
}

async function until(cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error('timed out waiting for the processes');
    await sleep(50);
  }
}

beforeAll(async () => {
  await ensureBuilt();
  up = await startUpstream(async (req, res, _b, n) => {
    await sleep(200);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, n }));
  });
  enginePort = await freePort();
  run(['server', '--port', String(enginePort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    run(['proxy', '--upstream', up.url, '--ttl', '60', '--engine', `redis://127.0.0.1:${enginePort}`, '--http-port', String(port), '--http-bind', '127.0.0.1', '--log-level', 'warn']);
    sidecars.push(`http://127.0.0.1:${port}`);
  }
  for (const s of sidecars) await until(async () => (await get(s + '/readyz')).status === 200);
}, 120_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode !== null ? null : new Promise((r) => p.once('exit', r)))));
  await up?.close();
});

describe('3 sidecar processes sharing one engine process', () => {
  it('100 concurrent requests for a cold key: exactly one upstream request', async () => {
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => get(sidecars[i % 3]! + '/getLecture/7')));
    expect(up.count('/getLecture/7')).toBe(1);
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(new Set(rs.map((r) => r.text)).size).toBe(1);
    expect(rs.filter((r) => r.headers.get('cache-status')!.includes('collapsed')).length).toBe(99);
    // and every node now answers from the shared cache
    for (const s of sidecars) expect((await get(s + '/getLecture/7')).headers.get('x-cache')).toBe('HIT');
    expect(up.count('/getLecture/7')).toBe(1);
  });

  it('a write through one node invalidates the others', async () => {
    for (const s of sidecars) await get(s + '/getLecture/8');
    expect((await get(sidecars[2]! + '/getLecture/8')).headers.get('x-cache')).toBe('HIT');
    await get(sidecars[0]! + '/getLecture/8', { method: 'PUT', body: '{}' });
    await sleep(100);
    expect((await get(sidecars[2]! + '/getLecture/8')).headers.get('x-cache')).toBe('MISS');
  });
});
