/**
 * RDB values and files: every type and encoding round-trips through DUMP
 * payloads and whole files (same content, same OBJECT ENCODING, hash field
 * TTLs kept), files decode identically whatever the chunking, and every
 * older encoding (Redis 2.x–7.4: ziplist, zipmap, quicklist v1, old
 * list/zset, intset/listpack sets, hashes with field TTLs, stream-less
 * opcodes) loads. Corrupt, truncated and unsupported input fails with an
 * RdbError naming the offset.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { Value } from '../../src/keyspace/values.js';
import { MutableString } from '../../src/keyspace/values.js';
import { ListValue } from '../../src/list/list-value.js';
import { SetValue } from '../../src/set/set-value.js';
import { ZsetValue } from '../../src/zset/zset-value.js';
import { HashValue } from '../../src/hash/hash-value.js';
import { encodingOf } from '../../src/keyspace/object-encoding.js';
import { digestValue, newDigest } from '../../src/keyspace/digest.js';
import { RdbEncoder, appendDumpFooter, createDumpPayload, encodeValuePayload } from '../../src/persistence/rdb-encoder.js';
import { RdbDecoder, RdbError, decodeRdb, decodeValuePayload, verifyDumpPayload, type RdbEvent } from '../../src/persistence/rdb-decoder.js';
import { RdbWriter, RdbType, RdbOpcode } from '../../src/persistence/rdb-format.js';
import { buildIntset, buildListpack } from '../../src/persistence/rdb-listpack.js';
import { crc64 } from '../../src/persistence/crc64.js';
import { makeZiplist, makeZipmap } from '../helpers/rdb-blobs.js';

const LIMITS = { entries: 128, value: 64 };

/** Everything observable about a value: digest, encoding, and hash field TTLs. */
function describeValue(v: Value): { digest: string; encoding: string; ttls?: [string, number][] } {
  const d = newDigest();
  digestValue(d, v, false);
  const out: { digest: string; encoding: string; ttls?: [string, number][] } = { digest: d.toString('hex'), encoding: encodingOf(v) };
  if (v instanceof HashValue && v.volatileCount > 0) {
    const t: [string, number][] = [];
    for (let i = 0; i < v.size; i++) if (v.expireOf(v.fieldAt(i)) > 0) t.push([v.fieldAt(i), v.expireOf(v.fieldAt(i))]);
    out.ttls = t.sort();
  }
  return out;
}

const latin1 = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x00-\xff]/g, '\xe9'));
const intText = fc.oneof(fc.integer({ min: -1000, max: 100000 }), fc.constantFrom(2147483647, -2147483648, 2 ** 40)).map(String);
const elem = fc.oneof(latin1, intText, fc.constantFrom('x'.repeat(100), 'abc'.repeat(50)));

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  elem,
  elem.map((s) => new MutableString(s) as Value),
  fc.array(elem, { minLength: 1, maxLength: 60 }).map((a) => new ListValue(a) as Value),
  fc.uniqueArray(intText, { minLength: 1, maxLength: 30 }).map((a) => SetValue.from(a, 512) as Value),
  fc.uniqueArray(elem, { minLength: 1, maxLength: 30 }).map((a) => SetValue.from(a, 16) as Value),
  fc
    .tuple(
      fc.uniqueArray(elem, { minLength: 1, maxLength: 40 }),
      fc.array(fc.oneof(fc.double({ noNaN: true }), fc.integer().map((x) => x * 1000), fc.constantFrom(0, -0, Infinity, -Infinity, 2 ** 62, 2 ** 63, 0.1))),
      fc.boolean(),
    )
    .map(([members, scores, small]) => {
      const z = new ZsetValue(true);
      members.forEach((m, i) => z.insert(m, scores[i % Math.max(1, scores.length)] ?? i, small ? LIMITS : { entries: 3, value: 64 }));
      return z as Value;
    }),
  fc
    .tuple(fc.uniqueArray(elem, { minLength: 1, maxLength: 40 }), fc.array(elem), fc.boolean(), fc.array(fc.option(fc.integer({ min: 1, max: 2 ** 45 }))))
    .map(([fields, values, ht, ttls]) => {
      const h = new HashValue();
      fields.forEach((f, i) => h.set(f, values[i % Math.max(1, values.length)] ?? ''));
      if (ht) h.checkEntries(0);
      fields.forEach((f, i) => {
        const t = ttls[i];
        if (t !== undefined && t !== null) h.setExpire(f, Date.now() + t);
      });
      return h as Value;
    }),
);

function asListpack(z: ZsetValue): ZsetValue {
  const c = new ZsetValue(true);
  z.forEach((m, sc) => c.insert(m, sc, { entries: Infinity, value: Infinity }));
  return c;
}

describe('DUMP payloads', () => {
  it('round-trip every type and encoding (with and without compression)', () => {
    fc.assert(
      fc.property(valueArb, fc.boolean(), (v, compress) => {
        const p = createDumpPayload(v, { compress });
        expect(verifyDumpPayload(p)).toBeGreaterThanOrEqual(10);
        const back = decodeValuePayload(p, { hashMaxListpackEntries: 512, setMaxIntsetEntries: 512 });
        // A listpack/intset decoded with the same limits keeps its encoding; so does a big one.
        // A skiplist small enough becomes a listpack on load, where -0 reads back as 0 (as in Redis).
        const a = describeValue(v instanceof ZsetValue && !v.listpack && (back as ZsetValue).listpack ? asListpack(v) : v);
        const b = describeValue(back);
        expect(b.digest).toBe(a.digest);
        expect(b.ttls).toEqual(a.ttls);
        if (!(v instanceof SetValue) && !(v instanceof ZsetValue && !v.listpack) && !(v instanceof HashValue && v.hashtable)) {
          expect(b.encoding).toBe(a.encoding === 'raw' || a.encoding === 'embstr' || a.encoding === 'int' ? b.encoding : a.encoding);
        }
        // Re-encoding the decoded value gives the same bytes (deterministic encodings).
        if (typeof v === 'string' || v instanceof ListValue) expect(createDumpPayload(back, { compress }).equals(p)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('has the footer Redis checks: version 10 (12 for hashes with field TTLs), CRC-64 of the rest', () => {
    const p = createDumpPayload('hello');
    expect(p.toString('latin1')).toBe('\x00\x05hello\n\x00' + p.subarray(-8).toString('latin1'));
    expect(crc64(0, p.subarray(0, p.length - 8))).toBe(p.readBigUInt64LE(p.length - 8));
    const h = new HashValue();
    h.set('f', 'v');
    h.setExpire('f', 4102444800000);
    const ph = createDumpPayload(h);
    expect(ph[0]).toBe(RdbType.HASH_LISTPACK_EX);
    expect(ph.readUInt16LE(ph.length - 10)).toBe(12);
    expect(verifyDumpPayload(ph, 10)).toBe(-1);
    const bad = Buffer.from(p);
    bad[2] ^= 1;
    expect(verifyDumpPayload(bad)).toBe(-1);
    expect(verifyDumpPayload(appendDumpFooter(encodeValuePayload('x'), 13))).toBe(-1);
    expect(verifyDumpPayload(Buffer.alloc(5))).toBe(-1);
  });

  it('refuses bad data: unknown types, truncation, empty aggregates, duplicates, module values', () => {
    const bad = (body: number[] | Buffer) => () => decodeValuePayload(appendDumpFooter(Buffer.from(body as number[]), 10));
    expect(bad([0x1a, 0])).toThrow(RdbError);
    expect(bad([0x08, 0])).toThrow(/unknown RDB value type 8/);
    expect(bad([0x00, 0x05, 0x61])).toThrow(/truncated/);
    expect(bad([RdbType.LIST, 0])).toThrow(/empty/);
    expect(bad([RdbType.SET, 2, 1, 0x61, 1, 0x61])).toThrow(/duplicate/);
    expect(bad([RdbType.MODULE_2, 0x81, 0, 0, 0, 0, 0, 0, 0, 0])).toThrow(/module/);
    const w = new RdbWriter(false);
    w.byte(RdbType.ZSET_LISTPACK);
    w.blob(buildListpack(['a', 'notanumber']));
    expect(bad(w.take()[0]!)).toThrow(/score/);
  });
});

/** Encode a small data set as a whole file. */
function encodeFile(opts: { compress: boolean; checksum: boolean }, dbs: [number, [string, Value, number][]][]): Buffer {
  const e = new RdbEncoder(opts);
  e.header();
  e.aux('redis-ver', '7.0.15');
  e.aux('redis-bits', '64');
  e.aux('ctime', '1700000000');
  for (const [db, entries] of dbs) {
    e.selectDb(db);
    e.resizeDb(entries.length, entries.filter((x) => x[2] !== 0).length);
    for (const [k, v, exp] of entries) e.entry(k, v, exp, k === 'idle' ? { lruIdleSec: 77 } : k === 'freq' ? { lfuFreq: 200 } : undefined);
  }
  e.eof();
  const out = Buffer.concat(e.take());
  expect(out.length).toBe(e.bytes);
  return out;
}

function sampleDb(): [number, [string, Value, number][]][] {
  const h = new HashValue();
  h.set('a', '1');
  h.set('b', 'x'.repeat(30));
  const z = new ZsetValue(true);
  z.insert('m', 1.5, LIMITS);
  return [
    [0, [['s', 'value', 0], ['n', '12345', 1893456000000], ['idle', 'i', 0], ['freq', 'f', 0], ['l', new ListValue(['a', 'b', '3']), 0]]],
    [3, [['h', h, 0], ['z', z, 4102444800000], ['set', SetValue.from(['1', '2'], 512), 0]]],
  ];
}

function summarize(events: RdbEvent[]): unknown[] {
  return events.map((e) => (e.t === 'entry' ? { ...e, value: describeValue(e.value) } : e));
}

describe('RDB files', () => {
  it('encode and decode: header, aux, databases, resize hints, expiries, IDLE/FREQ, EOF and checksum', () => {
    const file = encodeFile({ compress: true, checksum: true }, sampleDb());
    expect(file.subarray(0, 9).toString()).toBe('REDIS0010');
    expect(file[file.length - 9]).toBe(RdbOpcode.EOF);
    expect(file.readBigUInt64LE(file.length - 8)).toBe(crc64(0, file.subarray(0, file.length - 8)));
    const ev = decodeRdb(file, { source: 'dump.rdb' });
    expect(ev.map((e) => e.t)).toEqual(['aux', 'aux', 'aux', 'db', 'resize', 'entry', 'entry', 'entry', 'entry', 'entry', 'db', 'resize', 'entry', 'entry', 'entry', 'eof']);
    const entries = ev.filter((e) => e.t === 'entry');
    expect(entries.map((e) => [e.db, e.key, e.expireAtMs])).toEqual([
      [0, 's', 0], [0, 'n', 1893456000000], [0, 'idle', 0], [0, 'freq', 0], [0, 'l', 0], [3, 'h', 0], [3, 'z', 4102444800000], [3, 'set', 0],
    ]);
    expect(entries[2]).toMatchObject({ lruIdleSec: 77 });
    expect(entries[3]).toMatchObject({ lfuFreq: 200 });
    expect(entries[0]).not.toHaveProperty('lruIdleSec');
    expect(ev[ev.length - 1]).toEqual({ t: 'eof', checksum: file.readBigUInt64LE(file.length - 8) });
  });

  it('decodes the same events whatever the chunking, and reports the bytes after the RDB', () => {
    const file = encodeFile({ compress: false, checksum: true }, sampleDb());
    const whole = summarize(decodeRdb(file, { source: 'x' }));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 3 }), (sizes, per) => {
        const d = new RdbDecoder({ source: 'x' });
        const got: RdbEvent[] = [];
        let pos = 0;
        let i = 0;
        while (!d.done) {
          if (d.needsInput) {
            if (pos >= file.length + 5) d.finish();
            else {
              const n = sizes[i++ % sizes.length]!;
              const tail = Buffer.concat([file, Buffer.from('AFTER')]);
              d.feed(tail.subarray(pos, pos + n));
              pos += n;
            }
          }
          got.push(...d.step(per));
        }
        expect(summarize(got)).toEqual(whole);
        expect(d.offset).toBe(file.length);
        const rest = Buffer.concat([d.rest()]);
        expect(Buffer.from('AFTER').subarray(0, rest.length).equals(rest)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a checksum of zero (rdbchecksum no) is not verified; a wrong one is refused with its offset', () => {
    const noSum = encodeFile({ compress: false, checksum: false }, sampleDb());
    expect(noSum.readBigUInt64LE(noSum.length - 8)).toBe(0n);
    expect(decodeRdb(noSum, { source: 'a.rdb' }).at(-1)).toEqual({ t: 'eof', checksum: 0n });
    const file = encodeFile({ compress: false, checksum: true }, sampleDb());
    const corrupt = Buffer.from(file);
    corrupt[22] ^= 0x01; // inside the redis-ver aux value: still parses, the CRC catches it
    expect(() => decodeRdb(corrupt, { source: 'a.rdb' })).toThrow(new RegExp(`a\\.rdb: wrong RDB checksum.*offset ${file.length - 8}`));
    expect(decodeRdb(corrupt, { source: 'a.rdb', skipChecksum: true }).length).toBeGreaterThan(0);
  });

  it('refuses truncated files, bad magic, unsupported versions, unknown opcodes and module data, naming the offset', () => {
    const file = encodeFile({ compress: false, checksum: true }, sampleDb());
    const err = (b: Buffer): RdbError => {
      try {
        decodeRdb(b, { source: 'f.rdb' });
      } catch (e) {
        expect(e).toBeInstanceOf(RdbError);
        return e as RdbError;
      }
      throw new Error('no error');
    };
    expect(err(file.subarray(0, file.length - 3)).message).toMatch(/f\.rdb: unexpected end of file \(truncated RDB\)/);
    expect(err(file.subarray(0, 60)).message).toMatch(/truncated.*offset 60/);
    expect(err(Buffer.from('RUDIS0010')).message).toMatch(/wrong signature/);
    expect(err(Buffer.from('REDIS0013\xff', 'latin1')).message).toMatch(/version '0013'/);
    const head = Buffer.from('REDIS0010', 'latin1');
    expect(err(Buffer.concat([head, Buffer.from([0xf3])])).offset).toBe(9);
    expect(err(Buffer.concat([head, Buffer.from([0xf3])])).message).toMatch(/unknown RDB value type or opcode 243.*offset 9/);
    const mod = new RdbWriter(false);
    mod.byte(RdbType.MODULE_2);
    mod.string('k');
    mod.raw(Buffer.from([0x81, 0x32, 0x5f, 0x2b, 0x1e, 0x1e, 0x9b, 0x00, 0x01]));
    expect(err(Buffer.concat([head, ...mod.take()])).message).toMatch(/key 'k' holds a value of module type '.{9}': modules are not supported \(at byte offset 9\)/);
    const aux = new RdbWriter(false);
    aux.byte(RdbOpcode.MODULE_AUX);
    aux.raw(Buffer.from([0x81, 0x32, 0x5f, 0x2b, 0x1e, 0x1e, 0x9b, 0x00, 0x01]));
    expect(err(Buffer.concat([head, ...aux.take()])).message).toMatch(/module auxiliary data/);
  });

  it('loads every older encoding (Redis 2.x–7.4 files)', () => {
    const w = new RdbWriter(true);
    w.raw(Buffer.from('REDIS0009'));
    w.byte(RdbOpcode.AUX);
    w.string('redis-ver');
    w.string('5.0.7');
    w.byte(RdbOpcode.SELECTDB);
    w.len(0);
    const key = (type: number, k: string) => {
      w.byte(type);
      w.string(k);
    };
    w.byte(RdbOpcode.EXPIRETIME);
    w.raw(Buffer.from([0x00, 0x5e, 0xd0, 0xb2])); // seconds, little-endian
    key(RdbType.LIST, 'oldlist');
    w.len(2);
    w.string('a');
    w.string('12');
    key(RdbType.ZSET, 'oldzset');
    w.len(3);
    for (const [m, s] of [['a', '1.5'], ['b', 'inf'], ['c', '-inf']] as const) {
      w.string(m);
      if (s === 'inf') w.byte(254);
      else if (s === '-inf') w.byte(255);
      else {
        w.byte(s.length);
        w.raw(Buffer.from(s));
      }
    }
    key(RdbType.HASH_ZIPMAP, 'zipmap');
    w.blob(makeZipmap([['f1', 'v1'], ['f2', 'v2']], 1));
    key(RdbType.LIST_ZIPLIST, 'ziplist');
    w.blob(makeZiplist(['x', { int: 7, enc: 0 }, { int: -300, enc: 0xc0 }]));
    key(RdbType.SET_INTSET, 'intset');
    w.blob(buildIntset(['5', '-2', '70000']));
    key(RdbType.ZSET_ZIPLIST, 'zsetzl');
    w.blob(makeZiplist(['m1', '2.5', 'm2', { int: 3, enc: 0xfe }]));
    key(RdbType.HASH_ZIPLIST, 'hashzl');
    w.blob(makeZiplist(['f', 'v', 'n', { int: 1000, enc: 0xc0 }]));
    key(RdbType.LIST_QUICKLIST, 'quicklist1');
    w.len(3);
    w.blob(makeZiplist(['a', 'b']));
    w.blob(makeZiplist([]));
    w.blob(makeZiplist(['c']));
    w.byte(RdbOpcode.EOF);
    const v9 = Buffer.concat(w.take());
    const sum = crc64(0, v9);
    const sumBuf = Buffer.alloc(8);
    sumBuf.writeBigUInt64LE(sum);
    const ev = decodeRdb(Buffer.concat([v9, sumBuf]), { source: 'old.rdb' });
    const ents = Object.fromEntries(ev.filter((e) => e.t === 'entry').map((e) => [e.key, e]));
    const list = (k: string) => (ents[k]!.value as ListValue).toArray();
    expect(ents.oldlist!.expireAtMs).toBe(0xb2d05e00 * 1000);
    expect(list('oldlist')).toEqual(['a', '12']);
    const oz = ents.oldzset!.value as ZsetValue;
    expect([oz.score('a'), oz.score('b'), oz.score('c'), oz.encoding]).toEqual([1.5, Infinity, -Infinity, 'listpack']);
    const zm = ents.zipmap!.value as HashValue;
    expect([zm.get('f1'), zm.get('f2'), zm.encoding]).toEqual(['v1', 'v2', 'listpack']);
    expect(list('ziplist')).toEqual(['x', '7', '-300']);
    const is = ents.intset!.value as SetValue;
    expect([[...is.members()], is.isIntset]).toEqual([['-2', '5', '70000'], true]);
    const zz = ents.zsetzl!.value as ZsetValue;
    expect([zz.score('m1'), zz.score('m2')]).toEqual([2.5, 3]);
    expect((ents.hashzl!.value as HashValue).get('n')).toBe('1000');
    expect(list('quicklist1')).toEqual(['a', 'b', 'c']);
  });

  it('loads Redis 7.2/7.4 types: listpack sets, hashes with field TTLs (GA and pre-GA), functions, slot info', () => {
    const w = new RdbWriter(false);
    w.raw(Buffer.from('REDIS0012'));
    w.byte(RdbOpcode.FUNCTION2);
    w.string('#!lua name=lib\nredis.register_function("f", function() return 1 end)');
    w.byte(RdbOpcode.FUNCTION_PRE_GA);
    w.string('old');
    w.string('LUA');
    w.len(1);
    w.string('desc');
    w.string('return 1');
    w.byte(RdbOpcode.SELECTDB);
    w.len(0);
    w.byte(RdbOpcode.SLOT_INFO);
    w.len(5);
    w.len(10);
    w.len(2);
    const key = (type: number, k: string) => {
      w.byte(type);
      w.string(k);
    };
    key(RdbType.SET_LISTPACK, 'lpset');
    w.blob(buildListpack(['a', '1', 'b']));
    key(RdbType.SET_LISTPACK, 'lpintset');
    w.blob(buildListpack(['3', '1']));
    const min = 4102444800000;
    key(RdbType.HASH_METADATA, 'hmeta');
    w.millis(min);
    w.len(2);
    w.len(0);
    w.string('nottl');
    w.string('v');
    w.len(501);
    w.string('ttl');
    w.string('w');
    key(RdbType.HASH_METADATA_PRE_GA, 'hmetapre');
    w.len(1);
    w.len(min + 7);
    w.string('f');
    w.string('v');
    key(RdbType.HASH_LISTPACK_EX, 'hlpex');
    w.millis(min);
    w.blob(buildListpack(['f', 'v', String(min), 'g', 'w', '0']));
    key(RdbType.HASH_LISTPACK_EX_PRE_GA, 'hlpexpre');
    w.blob(buildListpack(['f', 'v', String(min + 1)]));
    w.byte(RdbOpcode.EOF);
    w.raw(Buffer.alloc(8));
    const ev = decodeRdb(Buffer.concat(w.take()), { source: 'new.rdb' });
    expect(ev.filter((e) => e.t === 'function')).toEqual([
      { t: 'function', code: '#!lua name=lib\nredis.register_function("f", function() return 1 end)' },
      { t: 'function', code: '#!LUA name=old\nreturn 1' },
    ]);
    const ents = Object.fromEntries(ev.filter((e) => e.t === 'entry').map((e) => [e.key, e.value]));
    expect([...(ents.lpset as SetValue).members()].sort()).toEqual(['1', 'a', 'b']);
    expect(encodingOf(ents.lpset!)).toBe('hashtable');
    expect(encodingOf(ents.lpintset!)).toBe('intset');
    const hm = ents.hmeta as HashValue;
    expect([hm.expireOf('nottl'), hm.expireOf('ttl'), hm.encoding]).toEqual([0, min + 500, 'listpackex']);
    expect((ents.hmetapre as HashValue).expireOf('f')).toBe(min + 7);
    const hx = ents.hlpex as HashValue;
    expect([hx.expireOf('f'), hx.expireOf('g'), hx.get('g'), hx.encoding]).toEqual([min, 0, 'w', 'listpackex']);
    expect((ents.hlpexpre as HashValue).expireOf('f')).toBe(min + 1);
  });

  it('applies the configured limits when loading plain encodings, and keeps compact blobs compact', () => {
    const big = new HashValue();
    for (let i = 0; i < 10; i++) big.set('f' + i, 'v');
    big.checkEntries(0);
    const p = createDumpPayload(big);
    expect(encodingOf(decodeValuePayload(p))).toBe('listpack');
    expect(encodingOf(decodeValuePayload(p, { hashMaxListpackEntries: 5 }))).toBe('hashtable');
    const lp = new HashValue();
    lp.set('f', 'x'.repeat(100));
    const lpPayload = createDumpPayload(lp);
    expect(lpPayload[0]).toBe(RdbType.HASH_LISTPACK);
    expect(encodingOf(decodeValuePayload(lpPayload))).toBe('listpack'); // too long a value, but a listpack stays one
    const ints = SetValue.from(['1', '2', 'x'], 512);
    ints.remove('x');
    expect(encodingOf(decodeValuePayload(createDumpPayload(ints)))).toBe('intset');
    expect(encodingOf(decodeValuePayload(createDumpPayload(SetValue.from(['1', '2', '3'], 512)), { setMaxIntsetEntries: 2 }))).toBe('hashtable');
    const z = new ZsetValue(false);
    z.insert('a', -0, LIMITS);
    const back = decodeValuePayload(createDumpPayload(z)) as ZsetValue;
    expect([back.encoding, Object.is(back.score('a'), 0)]).toEqual(['listpack', true]);
    const kept = decodeValuePayload(createDumpPayload(z), { zsetMaxListpackEntries: 0 }) as ZsetValue;
    expect([kept.encoding, Object.is(kept.score('a'), -0)]).toEqual(['skiplist', true]);
  });

  it('splits lists into quicklist nodes as list-max-listpack-size says', () => {
    const l = new ListValue(Array.from({ length: 12 }, (_, i) => 'e' + i));
    const nodes = (fill: number) => {
      const p = encodeValuePayload(l, { compress: false, listMaxListpackSize: fill });
      return p[1];
    };
    expect(nodes(5)).toBe(3);
    expect(nodes(1)).toBe(12);
    expect(nodes(-2)).toBe(1);
    const big = new ListValue(Array.from({ length: 100 }, () => 'y'.repeat(100)));
    expect(encodeValuePayload(big, { compress: false, listMaxListpackSize: -1 })[1]).toBe(3);
    expect((decodeValuePayload(appendDumpFooter(encodeValuePayload(big, { listMaxListpackSize: -1 }))) as ListValue).size).toBe(100);
  });
});
