/**
 * Integration-test helper: a raw TCP client that sends RESP commands and
 * checks the exact bytes of what comes back (latin1, one char per byte).
 */
import net from 'node:net';

/** A TCP port free on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class RawClient {
  /** Received and not yet consumed. */
  buf = '';
  closed = false;
  private wake: (() => void) | null = null;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.wake?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Send one command as a RESP array of bulk strings. */
  send(...args: string[]): void {
    this.sock.write(encode(args), 'latin1');
  }

  /** Wait until at least n bytes are buffered, then consume and return them. */
  async read(n: number, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} bytes; got ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }

  /** Read exactly as many bytes as `expected` holds and return them (compare with toBe). */
  expectBytes(expected: string, timeoutMs?: number): Promise<string> {
    return this.read(expected.length, timeoutMs);
  }

  /** Send a command and return the next `expected.length` bytes. */
  async call(args: string[], expected: string): Promise<string> {
    this.send(...args);
    return this.read(expected.length);
  }

  /** Resolves when the server closes the connection. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const t = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.sock.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

export function encode(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return out;
}

/** RESP builders for expected replies. */
export const resp = {
  bulk: (s: string | null) => (s === null ? '$-1\r\n' : `$${s.length}\r\n${s}\r\n`),
  int: (n: number) => `:${n}\r\n`,
  arr: (n: number) => `*${n}\r\n`,
  push: (n: number) => `>${n}\r\n`,
  /** A RESP2 array or RESP3 push of bulk strings and integers. */
  msg: (proto: 2 | 3, ...items: (string | number | null)[]) =>
    (proto === 3 ? `>${items.length}\r\n` : `*${items.length}\r\n`) +
    items
      .map((x) => (typeof x === 'number' ? `:${x}\r\n` : x === null ? (proto === 3 ? '_\r\n' : '$-1\r\n') : `$${x.length}\r\n${x}\r\n`))
      .join(''),
};

/** Poll until fn() returns true (or throw after timeoutMs). */
export async function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
