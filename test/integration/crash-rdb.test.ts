/**
 * dump.rdb across crashes and restarts of the real process:
 *  - kill -9 in the middle of a BGSAVE leaves the previous dump intact;
 *  - a dump with a bad checksum makes the server refuse to start (exit 1,
 *    clear message) and is never overwritten;
 *  - SIGTERM with save points saves; the next start loads it, answering
 *    -LOADING while it does, with INFO loading fields.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureBuilt, freePort, rawCommand, spawnServer, startServerProc, tempDir, waitReady, type Proc } from '../helpers/spawn-server.js';

beforeAll(() => ensureBuilt(), 120_000);

const procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
});

async function start(dir: string, args: string[] = []): Promise<Proc> {
  const p = await startServerProc(dir, ['--enable-debug-command', 'yes', ...args]);
  procs.push(p);
  return p;
}

describe('crash safety of dump.rdb', () => {
  it('kill -9 during BGSAVE: the previous dump.rdb is intact and loads', async () => {
    const dir = tempDir('crash-bgsave');
    let p = await start(dir, ['--rdb-key-save-delay', '1000']);
    let c = p.client();
    await c.call('DEBUG', 'POPULATE', 2000, 'old');
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', 0);
    await c.call('SAVE');
    const digest = await c.call('DEBUG', 'DIGEST');
    const dump = fs.readFileSync(path.join(dir, 'dump.rdb'));
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', 1000);
    await c.call('DEBUG', 'POPULATE', 4000, 'new');
    expect(await c.call('BGSAVE')).toBe('Background saving started');
    await new Promise((r) => setTimeout(r, 300));
    expect(String(await c.call('INFO', 'persistence'))).toContain('rdb_bgsave_in_progress:1');
    expect(fs.readdirSync(dir).some((f) => /^temp-bg-\d+\.rdb$/.test(f))).toBe(true);
    await p.kill9();
    expect(fs.readFileSync(path.join(dir, 'dump.rdb')).equals(dump)).toBe(true);
    p = await start(dir);
    c = p.client();
    expect(await c.call('DEBUG', 'DIGEST')).toBe(digest);
    expect(await c.call('DBSIZE')).toBe(2000);
  }, 30_000);

  it('a dump.rdb with a bad checksum: exit 1 with a clear error, the file untouched', async () => {
    const dir = tempDir('crash-crc');
    const p = await start(dir);
    const c = p.client();
    await c.call('DEBUG', 'POPULATE', 500);
    await c.call('SAVE');
    await p.term();
    const file = path.join(dir, 'dump.rdb');
    const buf = fs.readFileSync(file);
    buf[buf.length - 40] ^= 0x55;
    fs.writeFileSync(file, buf);
    const q = spawnServer(dir, await freePort(), ['--save', '3600 1', '--appendonly', 'no']);
    procs.push(q);
    const code = await q.exited;
    expect(code).toBe(1);
    // Redis's lines: the computed and the stored CRC (%llx), then the CRC error (the TCL suite greps "CRC error").
    const stored = buf.readBigUInt64LE(buf.length - 8).toString(16);
    expect(q.output()).toMatch(new RegExp(`# Wrong RDB checksum expected: \\([0-9a-f]+\\) but got \\(${stored}\\)\\. Aborting now\\.`));
    expect(q.output()).toMatch(/# Internal error in RDB reading offset \d+, function at rdb\.c:3225 -> RDB CRC error\n/);
    expect(fs.readFileSync(file).equals(buf)).toBe(true);
  }, 30_000);

  it('an empty aggregate in dump.rdb is skipped with Redis 7.0.15\'s log lines', async () => {
    const dir = tempDir('crash-empty');
    // RDB 9: SELECT 0, a set "s" with 0 members, the string k=v, EOF, checksum 0 (disabled).
    fs.writeFileSync(path.join(dir, 'dump.rdb'), Buffer.from('REDIS0009\xfe\x00\x02\x01s\x00\x00\x01k\x01v\xff\0\0\0\0\0\0\0\0', 'latin1'));
    const p = await start(dir);
    expect(await p.client().call('DBSIZE')).toBe(1);
    expect(p.output()).toMatch(/# rdbLoadObject skipping empty key: s\n/);
    expect(p.output()).toMatch(/# Done loading RDB, keys loaded: 1, keys expired: 0, empty keys skipped: 1\.\n/);
  }, 30_000);

  it('a malformed encoded value in dump.rdb: the integrity error, the check report, "Terminating server ...", exit 1', async () => {
    const dir = tempDir('crash-intset');
    // A set-intset whose blob ("abc") is no intset.
    fs.writeFileSync(path.join(dir, 'dump.rdb'), Buffer.from('REDIS0009\xfe\x00\x0b\x01s\x03abc\xff\0\0\0\0\0\0\0\0', 'latin1'));
    const q = spawnServer(dir, await freePort(), ['--save', '']);
    procs.push(q);
    expect(await q.exited).toBe(1);
    const out = q.output();
    expect(out).toMatch(/# Internal error in RDB reading offset \d+, function at rdb\.c:\d+ -> Intset integrity check failed\.\n/);
    expect(out).toContain('--- RDB ERROR DETECTED ---');
    const logLines = out.split('\n').filter((l) => /^\d+:M /.test(l));
    expect(logLines[logLines.length - 1]).toMatch(/# Terminating server after rdb file reading failure\.$/);
  }, 30_000);

  it('SIGTERM with save points saves; the restart answers -LOADING while loading, then has the data', async () => {
    const dir = tempDir('crash-loading');
    const p = await start(dir, ['--save', '3600 1']);
    const c = p.client();
    await c.call('DEBUG', 'POPULATE', 300_000, 'key', 64);
    await c.call('SET', 'marker', 'present', 'EX', 1000);
    const sample = await c.call('GET', 'key:123456');
    expect(await p.term()).toBe(0);
    expect(p.output()).toContain('Saving the final RDB snapshot before exiting.');
    expect(p.output()).toContain('DB saved on disk');

    const q = spawnServer(dir, await freePort(), ['--enable-debug-command', 'yes']);
    procs.push(q);
    const seen = new Set<string>();
    let loadingInfo = '';
    const end = Date.now() + 20_000;
    for (;;) {
      const r = await rawCommand(q.port, ['PING']).catch(() => 'down');
      seen.add(r);
      if (r === '+PONG' || Date.now() > end) break;
      if (r.startsWith('-LOADING') && loadingInfo === '') {
        loadingInfo = await new Promise<string>((resolve) => {
          // INFO is allowed while loading.
          const s = net.connect(q.port, '127.0.0.1', () => s.write('*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n'));
          let buf = '';
          s.on('data', (d: Buffer) => {
            buf += d.toString();
            if (buf.includes('loading_eta_seconds')) {
              s.destroy();
              resolve(buf);
            }
          });
          s.on('error', () => resolve(''));
          setTimeout(() => {
            s.destroy();
            resolve(buf);
          }, 1000);
        });
      }
    }
    expect(seen.has('-LOADING Redis is loading the dataset in memory')).toBe(true);
    expect(loadingInfo).toContain('loading:1');
    expect(loadingInfo).toMatch(/loading_loaded_perc:\d+\.\d\d/);
    await waitReady(q);
    const c2 = q.client();
    expect(await c2.call('DBSIZE')).toBe(300_001);
    expect(await c2.call('GET', 'key:123456')).toBe(sample);
    expect(Number(await c2.call('TTL', 'marker'))).toBeGreaterThan(900);
    const logEnd = Date.now() + 3000;
    while (!q.output().includes('Done loading RDB') && Date.now() < logEnd) await new Promise((r) => setTimeout(r, 20));
    expect(q.output()).toMatch(/Done loading RDB, keys loaded: 300001, keys expired: 0\./);
  }, 30_000);
});
