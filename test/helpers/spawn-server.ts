/**
 * Crash-safety tests: run the built CLI (`node dist/cli.js server ...`) as a
 * child process in a directory that outlives it, kill it (-9 or TERM), and
 * start it again on the same files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { CACHESIDE_CLI, REPO_ROOT, cachesideNodeArgs } from '../interop/harness.js';
import { freePort } from './raw-client.js';

export { freePort };

export function ensureBuilt(): void {
  if (fs.existsSync(CACHESIDE_CLI)) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cacheside-${tag}-`));
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Proc {
  port: number;
  dir: string;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  client(): Redis;
  kill9(): Promise<void>;
  term(): Promise<number | null>;
}

/** Start `cacheside server` on `dir` (no save points unless given), without waiting. */
export function spawnServer(dir: string, port: number, args: string[] = []): Proc {
  let out = '';
  const child = spawn(
    process.execPath,
    [...cachesideNodeArgs(), CACHESIDE_CLI, 'server', '--port', String(port), '--dir', dir, '--save', '', ...args],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => {
    live.delete(child);
    r(code);
  }));
  const clients: Redis[] = [];
  const p: Proc = {
    port,
    dir,
    child,
    output: () => out,
    exited,
    client() {
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
      for (const c of clients) c.disconnect();
    },
    async term() {
      child.kill('SIGTERM');
      const code = await exited;
      for (const c of clients) c.disconnect();
      return code;
    },
  };
  return p;
}

/** PING until PONG (not LOADING); throws if the process exits first. */
export async function waitReady(p: Proc, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let exited = false;
  void p.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`server exited before answering PING:\n${p.output()}`);
    const reply = await rawCommand(p.port, ['PING']).catch((e: Error) => '-' + e.message);
    if (reply === '+PONG') return;
    if (Date.now() > end) throw new Error(`no PONG within ${timeoutMs} ms (last: ${reply})\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** One command on a fresh connection; the first reply line (errors included). */
export function rawCommand(port: number, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.setTimeout(2000, () => {
      s.destroy();
      reject(new Error('timeout'));
    });
    s.on('connect', () => s.write(`*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\r\n');
      if (i >= 0) {
        s.destroy();
        resolve(buf.slice(0, i));
      }
    });
    s.on('error', reject);
  });
}

/** Start and wait until ready. */
export async function startServerProc(dir: string, args: string[] = [], port?: number): Promise<Proc> {
  const p = spawnServer(dir, port ?? (await freePort()), args);
  await waitReady(p);
  return p;
}
