/**
 * Legacy RDB blobs (ziplists, zipmaps) built byte by byte from their format
 * descriptions, for tests of the loader: cacheside never writes them.
 */
/** A ziplist built from its format description (strings and the integer encodings). */
export function makeZiplist(items: (string | { int: number | bigint; enc: number })[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    const prevlen = prev < 254 ? Buffer.from([prev]) : Buffer.concat([Buffer.from([0xfe]), u32le(prev)]);
    let body: Buffer;
    if (typeof it === 'string') {
      const d = Buffer.from(it, 'latin1');
      const n = d.length;
      const hdr = n < 64 ? Buffer.from([n]) : n < 16384 ? Buffer.from([0x40 | (n >> 8), n & 0xff]) : Buffer.concat([Buffer.from([0x80]), u32be(n)]);
      body = Buffer.concat([hdr, d]);
    } else {
      const v = it.int;
      const b = Buffer.alloc(9);
      b[0] = it.enc;
      let len = 1;
      if (it.enc === 0xfe) (b.writeInt8(Number(v), 1), (len = 2));
      else if (it.enc === 0xc0) (b.writeInt16LE(Number(v), 1), (len = 3));
      else if (it.enc === 0xf0) (b.writeIntLE(Number(v), 1, 3), (len = 4));
      else if (it.enc === 0xd0) (b.writeInt32LE(Number(v), 1), (len = 5));
      else if (it.enc === 0xe0) (b.writeBigInt64LE(BigInt(v), 1), (len = 9));
      else b[0] = 0xf1 + Number(v); // immediate 0..12
      body = b.subarray(0, len);
    }
    const e = Buffer.concat([prevlen, body]);
    prev = e.length;
    entries.push(e);
  }
  const data = Buffer.concat(entries);
  const total = 10 + data.length + 1;
  const hdr = Buffer.alloc(10);
  hdr.writeUInt32LE(total, 0);
  hdr.writeUInt32LE(10 + data.length - prev, 4);
  hdr.writeUInt16LE(items.length, 8);
  return Buffer.concat([hdr, data, Buffer.from([0xff])]);
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A zipmap (Redis 2.x small hash) built from its description. */
export function makeZipmap(pairs: [string, string][], free = 0): Buffer {
  const len = (n: number) => (n < 254 ? Buffer.from([n]) : Buffer.concat([Buffer.from([254]), u32le(n)]));
  const parts: Buffer[] = [Buffer.from([pairs.length])];
  for (const [k, v] of pairs) {
    parts.push(len(k.length), Buffer.from(k, 'latin1'), len(v.length), Buffer.from([free]), Buffer.from(v, 'latin1'), Buffer.alloc(free));
  }
  parts.push(Buffer.from([0xff]));
  return Buffer.concat(parts);
}
