/**
 * RESTORE of damaged payloads, as Redis's corrupt-dump suite checks them:
 * "ERR Bad data format" with the loader's "... integrity check failed." line
 * in the log (verbose), and DEBUG SET-SKIP-CHECKSUM-VALIDATION.
 */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Crc64 } from '../../src/persistence/crc64.js';

/** A DUMP payload: body + RDB version 10 + CRC-64 (little-endian) of everything before it. */
function payload(body: string): Buffer {
  const head = Buffer.concat([Buffer.from(body, 'latin1'), Buffer.from([10, 0])]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(new Crc64().update(head).value);
  return Buffer.concat([head, crc]);
}

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ 'enable-debug-command': 'yes', loglevel: 'verbose' });
});
afterAll(() => srv.stop());

describe('RESTORE of a damaged payload', () => {
  it('a set-intset whose blob is no intset: Bad data format, "Intset integrity check failed." logged', async () => {
    const c = srv.client();
    await expect(c.call('RESTORE', 'k', 0, payload('\x0b\x03abc'))).rejects.toThrow('ERR Bad data format');
    expect(srv.logs.some((l) => /- Internal error in RDB reading offset 0, function at rdb\.c:\d+ -> Intset integrity check failed\.$/.test(l))).toBe(true);
    expect(await c.call('EXISTS', 'k')).toBe(0);
  });

  it('a hash ziplist blob that is garbage: "Hash ziplist integrity check failed."', async () => {
    const c = srv.client();
    await expect(c.call('RESTORE', 'h', 0, payload('\x0d\x04abcd'))).rejects.toThrow('ERR Bad data format');
    expect(srv.logs.some((l) => l.endsWith('-> Hash ziplist integrity check failed.'))).toBe(true);
  });

  it('an empty zipmap: "Zipmap integrity check failed."', async () => {
    const c = srv.client();
    await expect(c.call('RESTORE', 'z', 0, payload('\x09\x02\x00\xff'))).rejects.toThrow('ERR Bad data format');
    expect(srv.logs.some((l) => l.endsWith('-> Zipmap integrity check failed.'))).toBe(true);
  });

  it('a stream whose group lists the same consumer twice: "Duplicate stream consumer detected."', async () => {
    const c = srv.client();
    await c.call('XADD', 's', '1-1', 'f', 'v');
    await c.call('XGROUP', 'CREATE', 's', 'g', '0');
    await c.call('XGROUP', 'CREATECONSUMER', 's', 'g', 'cA');
    await c.call('XGROUP', 'CREATECONSUMER', 's', 'g', 'cB');
    const dump = (await c.callBuffer('DUMP', 's')) as Buffer;
    const body = dump.subarray(0, dump.length - 10).toString('latin1');
    expect(body.split('cB').length).toBe(2);
    await expect(c.call('RESTORE', 's2', 0, payload(body.replace('cB', 'cA')))).rejects.toThrow('ERR Bad data format');
    expect(srv.logs.some((l) => l.endsWith('-> Duplicate stream consumer detected.'))).toBe(true);
    expect(await c.call('RESTORE', 's3', 0, payload(body))).toBe('OK');
  });

  it('DEBUG SET-SKIP-CHECKSUM-VALIDATION 1 accepts a payload whose CRC is wrong; 0 checks again', async () => {
    const c = srv.client();
    await c.call('SET', 'src', 'value');
    const good = (await c.callBuffer('DUMP', 'src')) as Buffer;
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    await expect(c.call('RESTORE', 'dst', 0, bad)).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
    expect(await c.call('DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', 1)).toBe('OK');
    expect(await c.call('RESTORE', 'dst', 0, bad)).toBe('OK');
    expect(await c.call('GET', 'dst')).toBe('value');
    expect(await c.call('DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', 0)).toBe('OK');
    await expect(c.call('RESTORE', 'dst2', 0, bad)).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
  });
});
