/**
 * A real redis-server child process on a directory (interop tests of
 * persistence files): random free port in 20000–60000, retried when the
 * port fails to bind; `stopAllRedis()` kills what is left (afterEach).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { rawCommand } from './spawn-server.js';

const redises: ChildProcess[] = [];

export interface RedisProc {
  port: number;
  client: Redis;
  stop: () => Promise<void>;
}

/** A redis-server on a random port in 20000–60000 that is free, on `dir`. */
export async function startRedis(dir: string, args: string[]): Promise<RedisProc> {
  // A port that answers no PING can still fail to bind (the range overlaps the ephemeral ports
  // of the suite's own client connections): try a few fresh ports before giving up.
  let port = 0;
  let child: ReturnType<typeof spawn> | null = null;
  for (let attempt = 0; child === null; attempt++) {
    do port = 20000 + Math.floor(Math.random() * 40000);
    while ((await rawCommand(port, ['PING']).catch(() => 'free')) !== 'free');
    const c = spawn('redis-server', ['--port', String(port), '--dir', dir, '--save', '', '--enable-debug-command', 'yes', ...args], {
      stdio: 'ignore',
    });
    redises.push(c);
    const end = Date.now() + 10_000;
    let up = false;
    while (!(up = (await rawCommand(port, ['PING']).catch(() => '')) === '+PONG')) {
      if (Date.now() > end || c.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 30));
    }
    if (up) child = c;
    else {
      c.kill('SIGKILL');
      if (attempt >= 2) throw new Error('redis-server did not start');
    }
  }
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  return {
    port,
    client,
    stop: async () => {
      await client.call('SHUTDOWN', 'NOSAVE').catch(() => {});
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      client.disconnect();
    },
  };
}

/** Kill every redis-server started here that still runs. */
export async function stopAllRedis(): Promise<void> {
  for (const r of redises.splice(0)) {
    if (r.exitCode === null && r.signalCode === null) {
      r.kill('SIGKILL');
      await new Promise((res) => r.once('exit', res));
    }
  }
}
