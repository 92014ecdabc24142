/**
 * check-rdb's logic (checkRdbFile): a sound file is reported in
 * redis-check-rdb's style; truncation, a bad checksum and garbage are
 * reported with the offset and the key being read.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RdbEncoder } from '../../src/persistence/rdb-encoder.js';
import { checkRdbFile } from '../../src/persistence/rdb-check.js';
import { ListValue } from '../../src/list/list-value.js';

let dir = '';
let good: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rdb-check-'));
  const e = new RdbEncoder({ compress: true, checksum: true });
  e.header();
  e.aux('redis-ver', '7.0.15');
  e.selectDb(0);
  e.resizeDb(3, 2);
  e.entry('a', 'x'.repeat(100), 0);
  e.entry('b', new ListValue(Array.from({ length: 50 }, (_, i) => 'item' + i)), Date.now() + 100000);
  e.entry('c', 'old', 1000);
  e.eof();
  good = Buffer.concat(e.take());
});

function file(name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

describe('checkRdbFile', () => {
  it('accepts a sound file and counts keys, expires and already expired keys', async () => {
    const p = file('good.rdb', good);
    const r = await checkRdbFile(p);
    expect(r.ok).toBe(true);
    expect(r.report).toBe(
      [
        `[offset 0] Checking RDB file ${p}`,
        `[offset 27] AUX FIELD redis-ver = '7.0.15'`,
        `[offset 29] Selecting DB ID 0`,
        `[offset ${good.length}] Checksum OK`,
        `[offset ${good.length}] \\o/ RDB looks OK! \\o/`,
        '[info] 3 keys read',
        '[info] 2 expires',
        '[info] 1 already expired',
        '',
      ].join('\n'),
    );
  });

  it('reports a truncated file with the key being read', async () => {
    const r = await checkRdbFile(file('trunc.rdb', good.subarray(0, 60)));
    expect(r.ok).toBe(false);
    expect(r.report).toContain('--- RDB ERROR DETECTED ---\n[offset 60] unexpected end of file (truncated RDB)\n[additional info] RDB version 10');
    expect(r.report).toMatch(/Reading key 'b'/);
    expect(r.report).toMatch(/\[info\] 1 keys read/);
  });

  it('reports a wrong checksum, garbage and a missing file', async () => {
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    const r = await checkRdbFile(file('crc.rdb', bad));
    expect(r.ok).toBe(false);
    expect(r.report).toContain(`[offset ${good.length - 8}] wrong RDB checksum`);
    const g = await checkRdbFile(file('garbage.rdb', Buffer.from('hello world, not an rdb')));
    expect(g.ok).toBe(false);
    expect(g.report).toContain('[offset 0] wrong signature: not an RDB file (no REDIS magic)');
    const m = await checkRdbFile(join(dir, 'missing.rdb'));
    expect(m.ok).toBe(false);
    expect(m.report).toMatch(/Cannot open RDB file: ENOENT/);
  });
});
