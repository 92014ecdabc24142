/**
 * hono glue: reading a request (from Node's IncomingMessage when served by
 * @hono/node-server, else from the fetch Request) and turning a ServeResult
 * into a Response on the adapter's fast path (Buffer body + plain header
 * object, created synchronously).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { HeaderGetter, HeaderRecord } from './http-headers.js';
import type { ServeResult } from './respond.js';

export interface RequestView {
  method: string;
  target: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  get: HeaderGetter;
  body: Readable | null;
  clientIp: string;
  proto: string;
}

function nodeGetter(h: IncomingMessage['headers']): HeaderGetter {
  return (n) => {
    const v = h[n];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : v;
  };
}

export function viewRequest(c: Context): RequestView {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming !== undefined && typeof incoming.url === 'string') {
    const target = incoming.url;
    const q = target.indexOf('?');
    return {
      method: incoming.method ?? 'GET',
      target,
      path: q < 0 ? target : target.slice(0, q),
      headers: incoming.headers,
      get: nodeGetter(incoming.headers),
      body: incoming,
      // Socket lookups cost a native call: only upstream requests need them.
      get clientIp() {
        return incoming.socket?.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
      },
      get proto() {
        return (incoming.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
      },
    };
  }
  const raw = c.req.raw;
  const url = new URL(raw.url);
  const headers: Record<string, string> = {};
  raw.headers.forEach((v, k) => (headers[k] = v));
  if (headers['host'] === undefined) headers['host'] = url.host;
  return {
    method: raw.method,
    target: url.pathname + url.search,
    path: url.pathname,
    headers,
    get: (n) => headers[n],
    body: raw.body !== null ? Readable.fromWeb(raw.body as import('node:stream/web').ReadableStream) : null,
    clientIp: '127.0.0.1',
    proto: url.protocol.replace(':', ''),
  };
}

const NO_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** A Response for a ServeResult. */
export function toResponse(r: ServeResult): Response {
  let headers: HeaderRecord | Headers = r.headers;
  for (const k in r.headers) {
    if (Array.isArray(r.headers[k])) {
      const h = new Headers();
      for (const [name, v] of Object.entries(r.headers)) {
        if (Array.isArray(v)) for (const x of v) h.append(name, x);
        else h.set(name, v);
      }
      headers = h;
      break;
    }
  }
  let body: ConstructorParameters<typeof Response>[0] = null;
  if (!NO_BODY_STATUS.has(r.status) && r.body !== null) {
    body = Buffer.isBuffer(r.body) ? (r.body as unknown as Uint8Array) : (Readable.toWeb(r.body) as unknown as ReadableStream);
  }
  return new Response(body, { status: r.status, headers: headers as Record<string, string> | Headers });
}
