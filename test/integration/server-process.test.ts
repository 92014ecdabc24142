/**
 * The server process as an operator starts it (`node dist/cli.js ...`).
 * With a maxmemory, `cacheside server` and `cacheside start` (engine +
 * sidecar) re-execute themselves once with the V8 heap settings maxmemory
 * needs (src/memory/heap-limit.ts): the server then runs in a child process
 * whose command line carries the flags and whose environment has
 * MALLOC_ARENA_MAX; CACHESIDE_NO_HEAP_TUNING=1 keeps it in the process
 * started. Signals reach the child, and the parent exits with it.
 * The start-up banner (always-show-logo) comes before loading, as in
 * redis-server, and a load failure's message is the log's last line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CLI, ensureBuilt, freePort, get, ROOT, sleep } from './sidecar-harness.js';
import { HEAP_GROWING_PERCENT } from '../../src/memory/heap-limit.js';

const GROWING = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;

const hasProc = existsSync('/proc/self/cmdline');
const procs: ChildProcess[] = [];

beforeAll(() => ensureBuilt(), 150_000);
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** The server's own pid (INFO server process_id), once it answers. */
async function serverPid(port: number): Promise<number> {
  const end = Date.now() + 15_000;
  for (;;) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {}); // refused while the server starts: retried here
    try {
      await c.connect();
      const info = (await c.call('INFO', 'server')) as string;
      return Number(/^process_id:(\d+)/m.exec(info)![1]);
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(100);
    } finally {
      c.disconnect();
    }
  }
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
}

function environ(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
}

/** Start the CLI (plain `node dist/cli.js`, no shebang flags); returns the process and the server's pid. */
async function launch(args: string[], env: Record<string, string> = {}): Promise<{ p: ChildProcess; pid: number }> {
  const port = await freePort();
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.CACHESIDE_HEAP_TUNED;
  delete e.MALLOC_ARENA_MAX;
  if (env.CACHESIDE_NO_HEAP_TUNING === undefined) delete e.CACHESIDE_NO_HEAP_TUNING;
  const p = spawn(process.execPath, [CLI, ...args, '--port', String(port), '--save', '', '--appendonly', 'no'], { cwd: ROOT, env: e, stdio: 'ignore' });
  procs.push(p);
  return { p, pid: await serverPid(port) };
}

async function stop(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  p.kill('SIGTERM');
  return exited;
}

describe.skipIf(!hasProc)('heap settings for a maxmemory', () => {
  it('cacheside server --maxmemory runs the server in a child with the heap flags', async () => {
    const { p, pid } = await launch(['server', '--maxmemory', '512mb']);
    expect(pid).not.toBe(p.pid);
    const argv = cmdline(pid);
    expect(argv).toContain('--max-semi-space-size=8');
    expect(argv).toContain(GROWING);
    expect(environ(pid)).toContain('MALLOC_ARENA_MAX=2');
    expect(await stop(p)).toBe(0);
  });

  it('cacheside start --maxmemory does the same, and the sidecar runs in the child', async () => {
    const http = await freePort();
    const { p, pid } = await launch(['start', '--http-port', String(http), '--http-bind', '127.0.0.1', '--maxmemory', '64mb']);
    expect(pid).not.toBe(p.pid);
    const argv = cmdline(pid);
    expect(argv).toContain('start');
    expect(argv).toContain('--max-semi-space-size=1');
    expect(argv).toContain(GROWING);
    expect(environ(pid)).toContain('MALLOC_ARENA_MAX=2');
    const end = Date.now() + 15_000;
    while ((await get(`http://127.0.0.1:${http}/readyz`).catch(() => ({ status: 0 }))).status !== 200) {
      if (Date.now() > end) throw new Error('the sidecar did not come up');
      await sleep(50);
    }
    // SIGTERM to the parent reaches the child; the parent exits with the child's code.
    expect(await stop(p)).toBe(0);
    await sleep(200);
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/status`, 'latin1').includes('State:\tZ')).toBe(false);
  });

  it('cacheside start without a maxmemory, or with CACHESIDE_NO_HEAP_TUNING=1, stays in one process', async () => {
    const a = await launch(['start', '--http-port', String(await freePort()), '--http-bind', '127.0.0.1']);
    expect(a.pid).toBe(a.p.pid);
    expect(await stop(a.p)).toBe(0);
    const b = await launch(['start', '--http-port', String(await freePort()), '--http-bind', '127.0.0.1', '--maxmemory', '64mb'], {
      CACHESIDE_NO_HEAP_TUNING: '1',
    });
    expect(b.pid).toBe(b.p.pid);
    expect(cmdline(b.pid)).not.toContain(GROWING);
    expect(await stop(b.p)).toBe(0);
  });
});

describe('start-up banner', () => {
  /** Run `cacheside server` with extra flags until it is ready; its stdout, then stop it. */
  async function bannerOf(extra: string[]): Promise<{ out: string; pid: number; port: number }> {
    const port = await freePort();
    const e: NodeJS.ProcessEnv = { ...process.env };
    delete e.CACHESIDE_HEAP_TUNED;
    delete e.CACHESIDE_NO_HEAP_TUNING;
    const p = spawn(process.execPath, [CLI, 'server', '--port', String(port), '--save', '', '--appendonly', 'no', ...extra], { cwd: ROOT, env: e, stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(p);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
    await serverPid(port);
    expect(await stop(p)).toBe(0);
    return { out, pid: p.pid!, port };
  }

  it('always-show-logo yes shows Port and the PID of the process started (the parent when it re-executed itself)', async () => {
    for (const extra of [[], ['--maxmemory', '64mb']]) {
      const { out, pid, port } = await bannerOf(['--always-show-logo', 'yes', ...extra]);
      expect(out).toContain(`Port: ${port}\n`);
      expect(out).toMatch(new RegExp(` PID: ${pid}\\n`));
      expect(out).not.toContain('Running mode=');
    }
  });

  it('without the logo, one "Running mode" line', async () => {
    const { out, port } = await bannerOf([]);
    expect(out).toContain(`Running mode=standalone, port=${port}.`);
    expect(out).not.toContain('PID: ');
  });
});

describe('start-up with a damaged AOF', () => {
  it('shows the banner before loading, and the AOF error is the last line of the log when it exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cacheside-banner-'));
    mkdirSync(join(dir, 'appendonlydir'));
    writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), '*3\r\n$3\r\nset\r\n$3\r\nfoo\r\n$5\r\nhello\r\n!!!');
    writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\n');
    const port = await freePort();
    const p = spawn(process.execPath, [CLI, 'server', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--always-show-logo', 'yes'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    procs.push(p);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(out).toContain(`PID: ${p.pid}\n`);
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/Bad file format reading the append only file/);
    rmSync(dir, { recursive: true, force: true });
  });
});
