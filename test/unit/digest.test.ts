/**
 * DEBUG DIGEST / DIGEST-VALUE signatures. Expected values were produced by
 * redis-server 7.0.15 (DEBUG DIGEST-VALUE / DEBUG DIGEST) for the same data.
 */
import { describe, it, expect } from 'vitest';
import { Keyspace, type KeyspaceEvents } from '../../src/keyspace/keyspace.js';
import { testKeyspaceEvents } from '../helpers/keyspace.js';
import { MutableString, type AggregateValue } from '../../src/keyspace/values.js';
import { datasetDigest, keyDigest, registerDigest, mixDigest, xorDigest, newDigest, digestValue } from '../../src/keyspace/digest.js';

function events(): KeyspaceEvents {
  return testKeyspaceEvents({ touch() {} });
}

function dbs(n = 4): Keyspace[] {
  const ev = events();
  return Array.from({ length: n }, (_, i) => new Keyspace(i, ev));
}

// Aggregate stand-ins digested the way the data-type modules must do it (see digest.ts).
interface FakeList extends AggregateValue { items: string[] }
interface FakeHash extends AggregateValue { fields: [string, string][] }
interface FakeZset extends AggregateValue { members: [string, string][] }
registerDigest('list', (d, v) => {
  for (const e of (v as FakeList).items) mixDigest(d, e);
});
registerDigest('set', (d, v) => {
  for (const e of (v as FakeList).items) xorDigest(d, e);
});
registerDigest('hash', (d, v) => {
  for (const [f, val] of (v as FakeHash).fields) {
    const e = newDigest();
    mixDigest(e, f);
    mixDigest(e, val);
    xorDigest(d, e);
  }
});
registerDigest('zset', (d, v) => {
  for (const [m, score] of (v as FakeZset).members) {
    const e = newDigest();
    mixDigest(e, m);
    mixDigest(e, score);
    xorDigest(d, e);
  }
});

const hex = (v: Parameters<typeof digestValue>[1], ttl = false) => {
  const d = newDigest();
  digestValue(d, v, ttl);
  return d.toString('hex');
};

describe('value digests (DEBUG DIGEST-VALUE)', () => {
  it('strings, as redis-server 7.0 computes them', () => {
    expect(hex('bar')).toBe('68467c70ae30376e7ce005bcc8827f5ba7fd67dc');
    expect(hex('')).toBe('8b3447c33a834b810e3e181b6fd6a2ee1020921c');
    expect(hex('123')).toBe('89f7f51b707418f666d5b45e053bd5bbbf82ac2b');
    expect(hex('bar', true)).toBe('8ec3828f7209dd3abdf6ee448de8b0c0bd53265f');
  });

  it('a MutableString digests like the same bytes as a plain string', () => {
    const m = new MutableString('ba');
    m.append('r');
    expect(hex(m)).toBe(hex('bar'));
  });

  it('aggregates through their registered functions', () => {
    expect(hex({ kind: 'list', items: ['a', 'b'] } as FakeList)).toBe('62f55a532623cf6c3d81081db480b6fd8461eb3f');
    expect(hex({ kind: 'set', items: ['b', 'a'] } as FakeList)).toBe('dd99329063ca0f1f28df2ac68d94b82fd95501c6');
    expect(hex({ kind: 'hash', fields: [['f', 'v']] } as FakeHash)).toBe('90c76e9e9f4c62d642a34fc97c7dad503b51f906');
    expect(hex({ kind: 'zset', members: [['m', '1.5']] } as FakeZset)).toBe('0b67afcf657d7aa53a5226bcca2f55ea7f2fff48');
    expect(hex({ kind: 'zset', members: [['m', '0.10000000000000001']] } as FakeZset)).toBe('285a6e508750d13f749019c7cddbd43bf282cb72');
  });

  it('a kind with no digest function is an error, not a silent zero', () => {
    expect(() => hex({ kind: 'stream' })).toThrow("no digest function registered for type 'stream'");
  });

  it('keyDigest: 40 zeros for a missing key', () => {
    const [db] = dbs(1);
    expect(keyDigest(db!, 'nokey')).toBe('0'.repeat(40));
    db!.set('foo', 'bar');
    expect(keyDigest(db!, 'foo')).toBe('68467c70ae30376e7ce005bcc8827f5ba7fd67dc');
  });
});

describe('data set digest (DEBUG DIGEST)', () => {
  it('is 40 zeros when empty', () => {
    expect(datasetDigest(dbs())).toBe('0'.repeat(40));
  });

  it('matches redis-server for the same data', () => {
    const d = dbs();
    d[0]!.set('foo', 'bar');
    expect(datasetDigest(d)).toBe('d2ab4820c1be0580ea28efbfe8bfa1dc05bb802a');
    d[0]!.setExpire('foo', Date.now() + 100_000);
    d[3]!.set('k', 'v');
    expect(datasetDigest(d)).toBe('3294a7b8841d62bbec963c6c3383cd4d36ce21db');
  });

  it('does not depend on insertion order, but on the database', () => {
    const a = dbs();
    const b = dbs();
    for (const k of ['x', 'y', 'z']) a[0]!.set(k, k + '!');
    for (const k of ['z', 'x', 'y']) b[0]!.set(k, k + '!');
    expect(datasetDigest(a)).toBe(datasetDigest(b));
    const c = dbs();
    for (const k of ['x', 'y', 'z']) c[1]!.set(k, k + '!');
    expect(datasetDigest(c)).not.toBe(datasetDigest(a));
  });

  it('changes with any value, key or TTL change', () => {
    const d = dbs();
    d[0]!.set('k', 'v');
    const before = datasetDigest(d);
    d[0]!.set('k', 'w');
    expect(datasetDigest(d)).not.toBe(before);
    d[0]!.set('k', 'v');
    expect(datasetDigest(d)).toBe(before);
    d[0]!.setExpire('k', Date.now() + 60_000);
    expect(datasetDigest(d)).not.toBe(before);
  });
});

describe('the SHA-1 under the digest primitives', () => {
  it('equals node:crypto SHA-1 for every length across block boundaries, strings and bytes', async () => {
    const { createHash } = await import('node:crypto');
    for (let len = 0; len <= 300; len++) {
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = (i * 151 + len * 7) & 0xff;
      const want = createHash('sha1').update(bytes).digest('hex');
      const a = newDigest();
      xorDigest(a, bytes);
      expect(a.toString('hex')).toBe(want);
      const b = newDigest();
      xorDigest(b, bytes.toString('latin1'));
      expect(b.toString('hex')).toBe(want);
    }
  });

  it('mixDigest is SHA1(d ^ SHA1(data))', async () => {
    const { createHash } = await import('node:crypto');
    const d = Buffer.from('0123456789abcdefghij', 'latin1');
    const x = createHash('sha1').update('hello').digest();
    for (let i = 0; i < 20; i++) x[i] ^= d[i]!;
    const want = createHash('sha1').update(x).digest('hex');
    mixDigest(d, 'hello');
    expect(d.toString('hex')).toBe(want);
  });
});
