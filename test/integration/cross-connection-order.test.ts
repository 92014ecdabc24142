/**
 * Commands from two connections run in the order they reached the server.
 * A client on connection A sends a command, waits for its reply, then at once
 * sends `SET k 1` on connection B (without waiting) and `GET k` on A: the GET
 * reached the server after the SET, so it must see "1" (real redis-server
 * does). A level-triggered epoll keeps the socket it just reported (A) at the
 * head of its ready list until the next poll; when the reply left before
 * that poll and the client answered in time, A's GET was reported (and run)
 * before B's SET. The client runs in a child process so it races the
 * server's event loop as a real client does.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The racing client: argv port, iterations; prints {"bad":n,"iterations":n}. */
const CLIENT = `
import net from 'node:net';
const port = Number(process.argv[1]);
const iterations = Number(process.argv[2]);
const cmd = (...a) => '*' + a.length + '\\r\\n' + a.map((x) => '$' + Buffer.byteLength(x) + '\\r\\n' + x + '\\r\\n').join('');
const connect = () => new Promise((res, rej) => {
  const s = net.connect(port, '127.0.0.1', () => res(s));
  s.setNoDelay(true);
  s.on('error', rej);
});
const a = await connect();
const b = await connect();
b.on('data', () => {});
let buf = '';
let waiter = null;
a.on('data', (d) => {
  buf += d.toString('latin1');
  for (;;) {
    const i = buf.indexOf('\\r\\n');
    if (i < 0) return;
    let end = i + 2;
    if (buf[0] === '$' && buf[1] !== '-') {
      end = buf.indexOf('\\r\\n', end) + 2;
      if (end < 2) return;
    }
    const line = buf.slice(0, end);
    buf = buf.slice(end);
    const w = waiter;
    waiter = null;
    w(line);
  }
});
let bad = 0;
for (let i = 0; i < iterations; i++) {
  a.write(cmd('SET', 'a:' + i, 'x'));
  // On the reply: B's SET, then A's GET, in the same tick (the GET reaches the server second).
  await new Promise((r) => {
    waiter = (line) => {
      b.write(cmd('SET', 'k:' + i, '1'));
      a.write(cmd('GET', 'k:' + i));
      r(line);
    };
  });
  const got = await new Promise((r) => (waiter = r));
  if (got !== '$1\\r\\n1\\r\\n') bad++;
}
console.log(JSON.stringify({ bad, iterations }));
a.destroy();
b.destroy();
`;

function race(port: number, iterations: number): Promise<{ bad: number; iterations: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, String(port), String(iterations)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`racing client exited ${code}: ${out}`));
      else resolve(JSON.parse(out.trim()) as { bad: number; iterations: number });
    });
  });
}

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('cross-connection command order', () => {
  it('a command sent on B before a command on A (sent right after A read a reply) runs first', async () => {
    // Each round on a fresh server (its code not yet optimized: the window was widest then).
    let bad = 0;
    let total = 0;
    for (let round = 0; round < 3; round++) {
      const s = await startTestServer();
      servers.push(s);
      const r = await race(s.port, 400);
      bad += r.bad;
      total += r.iterations;
      const c = s.client();
      // Every SET ran (the GETs are what could come too early).
      expect(await c.dbsize()).toBe(2 * r.iterations);
      expect(await c.get('k:0')).toBe('1');
    }
    expect(total).toBe(1200);
    expect(bad).toBe(0);
  }, 60_000);
});
