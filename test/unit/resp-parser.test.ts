import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { RespParser, ProtocolError, splitArgs, type ParserLimits } from '../../src/protocol/resp-parser.js';

/** One command as a RESP multibulk. Arguments are latin1 strings (one char per byte). */
function encode(argv: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) parts.push(Buffer.from(`$${a.length}\r\n`), Buffer.from(a, 'latin1'), Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Feed `chunks` one by one, pulling every complete command after each. */
function parseChunks(chunks: readonly Buffer[], limits?: ParserLimits): string[][] {
  const p = new RespParser(limits);
  const out: string[][] = [];
  for (const c of chunks) {
    p.feed(c);
    for (let argv = p.next(); argv !== null; argv = p.next()) out.push(argv);
  }
  return out;
}

/** Split a buffer at the given (sorted, deduplicated) offsets. */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  // Copies: the parser may keep references to what it was fed.
  return out.map((b) => Buffer.from(b));
}

function errorOf(input: string | Buffer, limits?: ParserLimits): string {
  try {
    parseChunks([typeof input === 'string' ? Buffer.from(input, 'latin1') : input], limits);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as Error).message;
  }
  return '(no error)';
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** Any bytes, CR and LF over-represented; sometimes empty; sometimes ≥ 40 KB. */
const arg: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.uint8Array({ maxLength: 40 }).map(latin1) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom('\r', '\n', '\r\n', '$', '*', 'a', '\0', '1'), { maxLength: 12 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc
      .record({ size: fc.integer({ min: 40 * 1024, max: 100 * 1024 }), seed: fc.integer({ min: 0, max: 255 }) })
      .map(({ size, seed }) => {
        const b = Buffer.alloc(size);
        for (let i = 0; i < size; i++) b[i] = (seed + i * 31) & 0xff;
        return b.toString('latin1');
      }),
  },
);
const command = fc.array(arg, { minLength: 1, maxLength: 6 });

describe('RespParser: multibulk', () => {
  it('any commands, split anywhere across chunks, parse back to the same argv lists', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (cmds, cuts) => {
        const wire = Buffer.concat(cmds.map(encode));
        expect(parseChunks(splitAt(wire, cuts))).toEqual(cmds);
      }),
      { numRuns: 300 },
    );
  });

  it('one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.uint8Array({ maxLength: 20 }).map(latin1), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), (cmds) => {
        const wire = Buffer.concat(cmds.map(encode));
        const chunks = [...wire].map((b) => Buffer.from([b]));
        expect(parseChunks(chunks)).toEqual(cmds);
      }),
      { numRuns: 100 },
    );
  });

  it('a large argument split into many chunks, then a pipelined command', () => {
    const big = Buffer.alloc(300 * 1024, 'x').toString('latin1');
    const wire = Buffer.concat([encode(['SET', 'k', big]), encode(['GET', 'k'])]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 7000) chunks.push(Buffer.from(wire.subarray(i, i + 7000)));
    expect(parseChunks(chunks)).toEqual([['SET', 'k', big], ['GET', 'k']]);
  });

  it('counts unparsed bytes as the query buffer and stops when input runs out', () => {
    const p = new RespParser();
    p.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r'));
    expect(p.next()).toBeNull();
    expect(p.buffered).toBeGreaterThan(0);
    p.feed(Buffer.from('\nk\r\n'));
    expect(p.next()).toEqual(['GET', 'k']);
    expect(p.next()).toBeNull();
    expect(p.buffered).toBe(0);
  });

  it('skips *0 and *-1 like Redis', () => {
    expect(parseChunks([Buffer.from('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n')])).toEqual([['PING']]);
  });
});

describe('RespParser: inline commands', () => {
  it('whitespace-separated words, quotes and escapes, CRLF or LF', () => {
    const wire = Buffer.from('PING\r\nSET a "b c"\r\n  GET   a  \nECHO "\\x41\\n\\t\\"q\\"" \'it\\\'s\'\r\n\r\n\n', 'latin1');
    expect(parseChunks([wire])).toEqual([['PING'], ['SET', 'a', 'b c'], ['GET', 'a'], ['ECHO', 'A\n\t"q"', "it's"]]);
  });

  it('inline and multibulk mixed, split anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 10 }), (cuts) => {
        const wire = Buffer.concat([
          Buffer.from('PING\r\n'),
          encode(['SET', 'k', 'a\r\nb']),
          Buffer.from('GET "k"\n'),
          encode(['DEL', 'k']),
        ]);
        expect(parseChunks(splitAt(wire, cuts))).toEqual([['PING'], ['SET', 'k', 'a\r\nb'], ['GET', 'k'], ['DEL', 'k']]);
      }),
    );
  });
});

describe('splitArgs', () => {
  it('Redis sdssplitargs rules', () => {
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('   ')).toEqual([]);
    expect(splitArgs('set  key\tvalue')).toEqual(['set', 'key', 'value']);
    expect(splitArgs('"a b" c')).toEqual(['a b', 'c']);
    expect(splitArgs('""')).toEqual(['']);
    expect(splitArgs("''")).toEqual(['']);
    expect(splitArgs('"\\x00\\xff\\xZZ"')).toEqual(['\x00\xff' + 'xZZ']);
    expect(splitArgs('"\\n\\r\\t\\b\\a\\\\\\"\\z"')).toEqual(['\n\r\t\b\x07\\"z']);
    expect(splitArgs("'a\\'b' 'c\\nd'")).toEqual(["a'b", 'c\\nd']);
    expect(splitArgs('a"b"')).toEqual(['ab']); // a quote opens anywhere in a word
  });

  it('unbalanced quotes and a closing quote not followed by a space are errors', () => {
    expect(splitArgs('"abc')).toBeNull();
    expect(splitArgs("'abc")).toBeNull();
    expect(splitArgs('"abc"def')).toBeNull();
    expect(splitArgs("'abc'def")).toBeNull();
    expect(splitArgs('"abc\\"')).toBeNull();
  });

  it('any arguments, double-quoted with escapes, split back exactly', () => {
    const quote = (a: string) => {
      let s = '"';
      for (const ch of a) {
        const c = ch.charCodeAt(0);
        if (ch === '"' || ch === '\\') s += '\\' + ch;
        else if (c < 32 || c > 126) s += '\\x' + c.toString(16).padStart(2, '0');
        else s += ch;
      }
      return s + '"';
    };
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 30 }).map(latin1), { minLength: 1, maxLength: 6 }), (args) => {
        expect(splitArgs(args.map(quote).join(' '))).toEqual(args);
      }),
      { numRuns: 300 },
    );
  });
});

describe('RespParser: protocol errors (Redis texts)', () => {
  const small: ParserLimits = { maxBulkLen: 1024, maxMultibulkLen: 1024 * 1024, maxInlineLen: 64 * 1024 };

  it('invalid multibulk length', () => {
    expect(errorOf('*abc\r\n')).toBe('invalid multibulk length');
    expect(errorOf('*1x\r\n')).toBe('invalid multibulk length');
    expect(errorOf('*3000000000\r\n')).toBe('invalid multibulk length');
    expect(errorOf('*1\n')).toBe('invalid multibulk length');
  });

  it('invalid bulk length', () => {
    expect(errorOf('*1\r\n$abc\r\n')).toBe('invalid bulk length');
    expect(errorOf('*1\r\n$-1\r\n')).toBe('invalid bulk length');
    expect(errorOf('*1\r\n$1025\r\n', small)).toBe('invalid bulk length');
    expect(errorOf('*1\r\n$1024\r\n', small)).toBe('(no error)');
  });

  it("expected '$', got 'x'", () => {
    expect(errorOf('*2\r\n$1\r\na\r\n:1\r\n')).toBe("expected '$', got ':'");
    expect(errorOf('*1\r\nx')).toBe("expected '$', got 'x'");
  });

  it('unbalanced quotes in request', () => {
    expect(errorOf('SET a "b c\r\n')).toBe('unbalanced quotes in request');
    expect(errorOf("SET a 'b\r\n")).toBe('unbalanced quotes in request');
    expect(errorOf('SET a "b"c\r\n')).toBe('unbalanced quotes in request');
  });

  it('too big inline request / count strings', () => {
    expect(errorOf(Buffer.alloc(64 * 1024 + 1, 'a'))).toBe('too big inline request');
    expect(errorOf(Buffer.alloc(64 * 1024, 'a'))).toBe('(no error)');
    expect(errorOf(Buffer.concat([Buffer.from('*'), Buffer.alloc(64 * 1024 + 1, '1')]))).toBe('too big mbulk count string');
    expect(errorOf(Buffer.concat([Buffer.from('*1\r\n$'), Buffer.alloc(64 * 1024 + 1, '1')]))).toBe('too big bulk count string');
  });

  it('unauthenticated clients: at most 10 arguments of at most 16 KiB', () => {
    const unauth: ParserLimits = { ...small, maxBulkLen: 1024 * 1024, unauthenticated: true };
    expect(errorOf('*11\r\n', unauth)).toBe('unauthenticated multibulk length');
    expect(errorOf('*10\r\n', unauth)).toBe('(no error)');
    expect(errorOf('*2\r\n$4\r\nAUTH\r\n$16385\r\n', unauth)).toBe('unauthenticated bulk length');
    expect(errorOf('*2\r\n$4\r\nAUTH\r\n$16384\r\n', unauth)).toBe('(no error)');
    expect(errorOf('*2\r\n$4\r\nAUTH\r\n$2000000\r\n', unauth)).toBe('invalid bulk length');
    expect(errorOf('*11\r\n', { ...unauth, unauthenticated: false })).toBe('(no error)');
  });

  it('commands parsed before the error are delivered', () => {
    const p = new RespParser();
    p.feed(Buffer.from('PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n'));
    expect(p.next()).toEqual(['PING']);
    expect(p.next()).toEqual(['PING']);
    expect(() => p.next()).toThrow(ProtocolError);
  });
});
