/**
 * Range requests (RFC 9110 §14) through the real sidecar against a scripted
 * upstream on loopback: single byte ranges served from a stored complete
 * response, If-Range, 416, what is ignored (several ranges, other units,
 * HEAD), misses filled with the whole response, and ranges cut from
 * responses that are not stored. Partial (206) responses are never stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/sidecar/engine-client.js';
import type { RunningSidecar } from '../../src/sidecar/server.js';
import { get, route, sidecarOn, startScriptedUpstream, startTestEngine, type ScriptedUpstream, type TestEngine } from './sidecar-harness.js';

let engine: TestEngine;
let client: EngineClient;
let up: ScriptedUpstream;
let sc: RunningSidecar;
const BODY = '0123456789A';
const LM = 'Mon, 01 Jan 2024 00:00:00 GMT';

beforeAll(async () => {
  engine = await startTestEngine();
  client = engine.client();
  up = await startScriptedUpstream();
  sc = await sidecarOn(client, {
    routes: [route({ prefix: '/', upstream: up.url }), route({ prefix: '/small', name: 'small', upstream: up.url, maxObjectSize: 5 })],
  });
  up.script('/full', { body: BODY, headers: [['cache-control', 'max-age=3600'], ['etag', '"s"'], ['last-modified', LM]] });
  await get(sc.url + '/full');
});

afterAll(async () => {
  await sc?.close();
  await up?.close();
  await engine?.stop();
});

const req = (path: string, headers?: Record<string, string>, method?: string) => get(sc.url + path, { headers, method });

describe('ranges from a stored response', () => {
  it('first-last, first-, and suffix ranges', async () => {
    for (const [range, text, cr] of [
      ['bytes=0-1', '01', 'bytes 0-1/11'],
      ['bytes=1-', '123456789A', 'bytes 1-10/11'],
      ['bytes=-1', 'A', 'bytes 10-10/11'],
      ['bytes=5-100', '56789A', 'bytes 5-10/11'],
      ['bytes=-100', BODY, 'bytes 0-10/11'],
      ['Bytes=2-3', '23', 'bytes 2-3/11'],
    ] as const) {
      const r = await req('/full', { range });
      expect(r.status, range).toBe(206);
      expect(r.text, range).toBe(text);
      expect(r.headers.get('content-range'), range).toBe(cr);
      expect(r.headers.get('content-length'), range).toBe(String(text.length));
      expect(r.headers.get('x-cache'), range).toBe('HIT');
      expect(r.headers.get('etag'), range).toBe('"s"');
    }
    expect(up.seen('/full').length).toBe(1);
  });

  it('416 with the length when no range is satisfiable', async () => {
    for (const range of ['bytes=11-20', 'bytes=-0']) {
      const r = await req('/full', { range });
      expect(r.status, range).toBe(416);
      expect(r.headers.get('content-range'), range).toBe('bytes */11');
      expect(r.text, range).toBe('');
    }
  });

  it('several ranges, other units, bad syntax and HEAD get the whole response', async () => {
    for (const range of ['bytes=0-1,3-4', 'items=0-1', 'bytes=x-y', 'bytes=3-1']) {
      const r = await req('/full', { range });
      expect(r.status, range).toBe(200);
      expect(r.text, range).toBe(BODY);
    }
    const h = await req('/full', { range: 'bytes=0-1' }, 'HEAD');
    expect(h.status).toBe(200);
    expect(h.headers.get('content-length')).toBe('11');
  });

  it('If-Range: a strong ETag or the exact Last-Modified selects the range; anything else the whole', async () => {
    const ok = [{ 'if-range': '"s"' }, { 'if-range': LM }];
    for (const h of ok) expect((await req('/full', { range: 'bytes=0-1', ...h })).status, JSON.stringify(h)).toBe(206);
    for (const h of [{ 'if-range': '"other"' }, { 'if-range': 'W/"s"' }, { 'if-range': 'Tue, 02 Jan 2024 00:00:00 GMT' }]) {
      const r = await req('/full', { range: 'bytes=0-1', ...h });
      expect(r.status, JSON.stringify(h)).toBe(200);
      expect(r.text).toBe(BODY);
    }
  });

  it('If-None-Match is evaluated before Range', async () => {
    const r = await req('/full', { range: 'bytes=0-1', 'if-none-match': '"s"' });
    expect(r.status).toBe(304);
  });
});

describe('ranges on a miss', () => {
  it('the whole response is fetched and stored, the client gets its range', async () => {
    const p = up.script('/miss', { body: BODY, headers: [['cache-control', 'max-age=3600']] });
    const r = await req(p, { range: 'bytes=2-4', 'if-range': '"zzz"' });
    // If-Range names no validator of the fresh response: the whole of it
    expect(r.status).toBe(200);
    const s = await req(p, { range: 'bytes=2-4' });
    expect(s.status).toBe(206);
    expect(s.text).toBe('234');
    expect(s.headers.get('x-cache')).toBe('HIT');
    const seen = up.seen(p);
    expect(seen.length).toBe(1);
    expect(seen[0]!.headers['range']).toBeUndefined();
    expect(seen[0]!.headers['if-range']).toBeUndefined();
  });

  it('a response that is not stored still answers the range (cut from the stream)', async () => {
    const a = up.script('/nostore', { body: BODY, headers: [['cache-control', 'no-store']] });
    const r = await req(a, { range: 'bytes=2-3' });
    expect(r.status).toBe(206);
    expect(r.text).toBe('23');
    expect(r.headers.get('content-range')).toBe('bytes 2-3/11');
    const b = up.script('/small/big', { body: BODY, headers: [['cache-control', 'max-age=3600']] });
    const t = await req(b, { range: 'bytes=-2' });
    expect(t.status).toBe(206);
    expect(t.text).toBe('9A');
    expect(t.headers.get('cache-status')).toContain('detail=too-big');
  });

  it('a 206 from the upstream passes through and is not stored', async () => {
    const p = up.script('/partial', { status: 206, body: '01234', headers: [['cache-control', 'max-age=3600'], ['content-range', 'bytes 0-4/10']] });
    const a = await req(p, { range: 'bytes=0-4' });
    expect(a.status).toBe(206);
    expect(a.text).toBe('01234');
    await req(p, { range: 'bytes=0-4' });
    expect(up.seen(p).length).toBe(2);
  });
});
