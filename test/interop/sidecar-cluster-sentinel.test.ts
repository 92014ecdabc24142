/**
 * `cacheside proxy --engine redis+cluster://…` and `redis+sentinel://…/master`
 * against the real Debian redis-server / redis-sentinel:
 *  (a) a 3-master Redis Cluster on loopback shared by two sidecar processes:
 *      MISS then HIT across them, 50 concurrent cold requests → 1 upstream
 *      request, purge by URL and by tag reaching both (tag sets and entries
 *      live in different hash slots, so every engine call must stay single-key);
 *  (b) one master watched by one sentinel: the sidecar finds the master
 *      through the sentinel and caches (MISS then HIT).
 * Needs redis-server, redis-cli and redis-sentinel (test/interop/ensure-redis.sh).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, freePort, get, ROOT, sleep, startUpstream, type Upstream } from '../integration/sidecar-harness.js';

const TOKEN = 'cluster-sekret';
const procs: ChildProcess[] = [];
const dirs: string[] = [];
let up: Upstream;

function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const p = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  p.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`);
  });
  procs.push(p);
  return p;
}

function sidecar(engineUrl: string, port: number): string {
  spawnLogged(process.execPath, [CLI, 'proxy', '--upstream', up.url, '--ttl', '60', '--engine', engineUrl, '--http-port', String(port), '--http-bind', '127.0.0.1', '--log-level', 'warn'], { ...process.env, CACHESIDE_PURGE_TOKEN: TOKEN });
  return `http://127.0.0.1:${port}`;
}

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await Promise.resolve().then(cond).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const cli = (port: number, ...args: string[]) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });

function redisServer(port: number, dir: string, extra: string[] = []): void {
  spawnLogged('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra]);
}

const xc = async (url: string) => {
  const r = await get(url);
  expect(r.status).toBe(200);
  return r.headers.get('x-cache');
};

beforeAll(async () => {
  await ensureBuilt();
  up = await startUpstream(async (req, res, _b, n) => {
    await sleep(150);
    const u = new URL(req.url!, 'http://x');
    const sk = u.searchParams.get('sk');
    if (sk !== null) res.setHeader('surrogate-key', sk);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, n }));
  });
}, 60_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => p.once('exit', r)))));
  await up?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('sidecars on a 3-master Redis Cluster (redis+cluster://)', () => {
  const sc: string[] = [];
  let ports: number[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-cluster-'));
    dirs.push(dir);
    ports = [await freePort(), await freePort(), await freePort()];
    for (const p of ports) redisServer(p, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${p}.conf`)]);
    for (const p of ports) await until(() => cli(p, 'ping').trim() === 'PONG', `redis-server :${p}`);
    execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 20_000 });
    for (const p of ports) await until(() => /cluster_state:ok/.test(cli(p, 'cluster', 'info')), `cluster_state:ok on :${p}`);
    const engine = `redis+cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`;
    for (let i = 0; i < 2; i++) sc.push(sidecar(engine, await freePort()));
    for (const s of sc) await until(async () => (await get(s + '/readyz')).status === 200, `${s}/readyz`);
  }, 60_000);

  it('MISS on one sidecar, then HIT on both', async () => {
    expect(await xc(sc[0] + '/getLecture/1')).toBe('MISS');
    expect(await xc(sc[0] + '/getLecture/1')).toBe('HIT');
    expect(await xc(sc[1] + '/getLecture/1')).toBe('HIT');
    expect(up.count('/getLecture/1')).toBe(1);
  });

  it('50 concurrent cold requests over both sidecars: one upstream request', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => get(sc[i % 2] + '/getLecture/2')));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(new Set(rs.map((r) => r.text)).size).toBe(1);
    expect(up.count('/getLecture/2')).toBe(1);
    expect(rs.filter((r) => r.headers.get('cache-status')!.includes('collapsed')).length).toBe(49);
  });

  it('purge by URL on one sidecar reaches both', async () => {
    const p = '/getLecture/3';
    expect(await xc(sc[0] + p)).toBe('MISS');
    expect(await xc(sc[1] + p)).toBe('HIT');
    expect(await xc(sc[0] + p)).toBe('HIT'); // now in both L1s
    const r = await get(sc[1] + '/_cacheside/purge', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: p }) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ purged: 1, soft: false });
    await sleep(150); // pub/sub L1 drop over the cluster bus
    expect(await xc(sc[0] + p)).toBe('MISS');
    expect(await xc(sc[1] + p)).toBe('HIT');
    expect(up.count(p)).toBe(2);
  });

  it('purge by tag (entries and tag set in different slots) reaches both', async () => {
    const paths = ['/t/a?sk=lectures', '/t/b?sk=lectures%20other', '/t/c?sk=other', '/t/d?sk=lectures', '/t/e?sk=lectures'];
    for (const p of paths) {
      expect(await xc(sc[0] + p)).toBe('MISS');
      expect(await xc(sc[1] + p)).toBe('HIT');
    }
    // the cache really is sharded: keys on more than one master
    expect(ports.filter((p) => Number(cli(p, 'dbsize').trim()) > 0).length).toBeGreaterThan(1);
    const r = await get(sc[0] + '/_cacheside/purge', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ tag: 'lectures' }) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ purged: 4, soft: false });
    await sleep(150);
    expect(await xc(sc[1] + '/t/a?sk=lectures')).toBe('MISS');
    expect(await xc(sc[0] + '/t/b?sk=lectures%20other')).toBe('MISS');
    expect(await xc(sc[1] + '/t/d?sk=lectures')).toBe('MISS');
    expect(await xc(sc[0] + '/t/e?sk=lectures')).toBe('MISS');
    expect(await xc(sc[1] + '/t/c?sk=other')).toBe('HIT');
    expect(await xc(sc[0] + '/t/c?sk=other')).toBe('HIT');
  });
});

describe('a sidecar on a Sentinel-monitored master (redis+sentinel://)', () => {
  let s = '';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-sentinel-'));
    dirs.push(dir);
    const master = await freePort();
    const sport = await freePort();
    redisServer(master, dir);
    await until(() => cli(master, 'ping').trim() === 'PONG', 'master');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, [`port ${sport}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor m 127.0.0.1 ${master} 1`, 'sentinel down-after-milliseconds m 5000', ''].join('\n'));
    spawnLogged('redis-sentinel', [conf]);
    await until(() => cli(sport, 'sentinel', 'get-master-addr-by-name', 'm').includes(String(master)), 'sentinel knows the master');
    s = sidecar(`redis+sentinel://127.0.0.1:${sport}/m`, await freePort());
    await until(async () => (await get(s + '/readyz')).status === 200, `${s}/readyz`);
  }, 60_000);

  it('MISS then HIT through the master the sentinel names', async () => {
    expect(await xc(s + '/getLecture/s1')).toBe('MISS');
    expect(await xc(s + '/getLecture/s1')).toBe('HIT');
    expect(up.count('/getLecture/s1')).toBe(1);
  });
});
