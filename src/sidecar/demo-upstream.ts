/**
 * The demo upstream `cacheside start` runs when no upstream is configured:
 * a slow API without cache headers, so two curls show MISS then HIT.
 *   GET /getLecture/:id   → JSON after 200 ms
 *   GET /                 → a short text saying what to try
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoUpstream {
  url: string;
  /** requests served, for the curious */
  served(): number;
  close(): Promise<void>;
}

export async function startDemoUpstream(delayMs = 200): Promise<DemoUpstream> {
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    const m = /^\/getLecture\/([^/?#]+)/.exec(req.url ?? '');
    if (m === null) {
      res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.url === '/' ? 'cacheside demo upstream: try GET /getLecture/42\n' : 'not found: try /getLecture/42\n');
      return;
    }
    const id = decodeURIComponent(m[1]!);
    setTimeout(() => {
      const body = JSON.stringify({ id, title: `Lecture ${id}`, speaker: 'Ada Lovelace', minutes: 45, generatedAt: new Date().toISOString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, delayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
