import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compileGlob, globMatch, isLiteralPattern } from '../../src/keyspace/glob.js';

/**
 * [pattern, string, expected] — every row was checked against redis-server
 * 7.0.15 (x86_64) with `SET <string> 1` + `KEYS <pattern>`.
 */
const REDIS_CASES: Array<[string, string, boolean]> = [
    ['', '', true],
    ['', 'a', false],
    ['*', '', false],
    ['**', '', false],
    ['?', '', false],
    ['a*', 'a', true],
    ['a**', 'a', true],
    ['a*?', 'a', false],
    ['a*b', 'ab', true],
    ['a*b', 'axxb', true],
    ['a*b', 'axxbc', false],
    ['*b*', 'abc', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h*llo', 'hllo', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true],
    ['[z-a]', 'm', true],
    ['[a-c-e]', 'd', false],
    ['[a-c-e]', '-', true],
    ['[a-c-e]', 'e', true],
    ['[]', ']', false],
    ['[]a]', 'a]', false],
    ['[^]', 'x', true],
    ['[^]', '', false],
    ['[', '[', false],
    ['[', 'a', false],
    ['[abc', 'a', true],
    ['[abc', 'abc', false],
    ['[^abc', 'd', true],
    ['a[bc', 'ab', true],
    ['a[', 'a', false],
    ['[a-]', '-', false],
    ['[a-]', 'b', false],
    ['[a-]', '_', true],
    ['[a-]x]', '^', true],
    ['[a-]x]', '^x]', false],
    ['[\\]]', ']', true],
    ['[\\-]', '-', true],
    ['[a\\-z]', 'b', false],
    ['[a\\-z]', '-', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['\\?', '?', true],
    ['\\[a]', '[a]', true],
    ['a\\', 'a\\', true],
    ['\\', '\\', true],
    ['[\\', '\\', true],
    ['[\\', 'x', false],
    ['\\a', 'a', true],
    ['*\\', 'abc\\', true],
    ['[a-\\]]', ']', false],
    ['[a-\\]]', 'b]', false],
    ['[a-\\]]', '\\]', true],
    ['[\x01-\xff]', 'a', false],
    ['[\x01-\xff]', '\x00', true],
    ['[\x01-\xff]', '\xff', true],
    ['[\x80-\xff]', '\x90', true],
    ['[\x80-\xff]', 'a', false],
    ['[a-\x90]', 'b', false],
    ['[a-\x90]', '\x91', true],
    ['[a-\x90]', '\x00', true],
    ['*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(60), false],
    ['?*?', 'ab', true],
    ['?*?', 'a', false],
    ['*?', 'a', true],
    ['[!a]', 'b', false],
    ['[!a]', '!', true],
    ['A', 'a', false],
    ['[A-C]', 'b', false],
];

/**
 * Slow, obviously-correct reference: a direct recursive reading of Redis's
 * stringmatchlen (no backtracking optimisation, no nesting guard). Only used
 * on small inputs.
 */
function refMatch(p: string, s: string, nocase: boolean): boolean {
  const low = (c: string) => (nocase && c >= 'A' && c <= 'Z' ? c.toLowerCase() : c);
  const sc = (c: string) => {
    const k = c.charCodeAt(0);
    return k >= 128 ? k - 256 : k;
  };
  const lowN = (k: number) => (nocase && k >= 65 && k <= 90 ? k + 32 : k);
  const go = (pi: number, si: number): boolean => {
    while (pi < p.length && si < s.length) {
      const c = p[pi]!;
      if (c === '*') {
        while (p[pi + 1] === '*') pi++;
        if (pi === p.length - 1) return true;
        for (let k = si; k < s.length; k++) if (go(pi + 1, k)) return true;
        return false;
      } else if (c === '?') {
        si++;
      } else if (c === '[') {
        pi++;
        const not = p[pi] === '^';
        if (not) pi++;
        let hit = false;
        const ch = s[si]!;
        for (;;) {
          if (p[pi] === '\\' && p.length - pi >= 2) {
            pi++;
            if (p[pi] === ch) hit = true;
          } else if (p[pi] === ']') {
            break;
          } else if (pi >= p.length) {
            pi--;
            break;
          } else if (p.length - pi >= 3 && p[pi + 1] === '-') {
            let a = sc(p[pi]!);
            let b = sc(p[pi + 2]!);
            if (a > b) [a, b] = [b, a];
            const x = lowN(sc(ch));
            if (x >= lowN(a) && x <= lowN(b)) hit = true;
            pi += 2;
          } else if (low(p[pi]!) === low(ch)) {
            hit = true;
          }
          pi++;
        }
        if (hit === not) return false;
        si++;
      } else {
        if (c === '\\' && p.length - pi >= 2) pi++;
        if (low(p[pi]!) !== low(s[si]!)) return false;
        si++;
      }
      pi++;
      if (si === s.length) while (p[pi] === '*') pi++;
    }
    return pi >= p.length && si === s.length;
  };
  return go(0, 0);
}

const PAT_CHARS = ['a', 'b', 'A', 'z', '-', ']', '[', '^', '\\', '*', '?', '\x00', '\x80', '\xff', '_'];
const STR_CHARS = ['a', 'b', 'A', 'B', 'z', '-', ']', '[', '^', '\\', '*', '?', '\x00', '\x80', '\xff', '_'];
const patArb = fc.array(fc.constantFrom(...PAT_CHARS), { maxLength: 8 }).map((a) => a.join(''));
const strArb = fc.array(fc.constantFrom(...STR_CHARS), { maxLength: 8 }).map((a) => a.join(''));
const latin1 = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 12 }).map((a) => String.fromCharCode(...a));

describe('globMatch: cases verified against redis-server', () => {
  it.each(REDIS_CASES)('%j vs %j -> %s', (p, s, expected) => {
    expect(globMatch(p, s)).toBe(expected);
    expect(compileGlob(p)(s)).toBe(expected);
  });
});

describe('globMatch: nocase', () => {
  // Verified with COMMAND LIST FILTERBY PATTERN (which matches with nocase).
  it('folds ASCII case for literals and ranges', () => {
    expect(globMatch('SE[S-T]', 'set', true)).toBe(true);
    expect(globMatch('SET', 'set', true)).toBe(true);
    expect(globMatch('SET', 'set')).toBe(false);
    expect(globMatch('h?LLO*', 'HeLlo world', true)).toBe(true);
  });
  it('compares escaped chars inside a class case-sensitively', () => {
    expect(globMatch('[\\S]et', 'set', true)).toBe(false);
    expect(globMatch('[\\s]et', 'set', true)).toBe(true);
  });
  it('lowercases range ends after swapping (so [Z-a] matches nothing)', () => {
    expect(globMatch('[Z-a]et', 'set', true)).toBe(false);
    expect(globMatch('[Z-a]', '_', true)).toBe(false);
    expect(globMatch('[Z-a]', '_')).toBe(true);
  });
  it('does not fold non-ASCII bytes', () => {
    expect(globMatch('\xc0', '\xe0', true)).toBe(false);
  });
});

describe('globMatch: limits and performance', () => {
  it('applies the 1000-star-group nesting guard like Redis', () => {
    const s = 'a'.repeat(1001) + 'b';
    expect(globMatch('a*'.repeat(1000) + 'b', s)).toBe(true);
    expect(globMatch('a*'.repeat(1001) + 'b', s)).toBe(false);
    expect(globMatch('a*'.repeat(1001), s)).toBe(true); // trailing star: no recursion
    expect(globMatch('*a'.repeat(1000), 'a'.repeat(3000))).toBe(true);
    expect(globMatch('*a'.repeat(1001), 'a'.repeat(3000))).toBe(false);
  });
  it('handles pathological patterns in polynomial time', () => {
    const t0 = performance.now();
    expect(globMatch('a*'.repeat(40) + 'b', 'a'.repeat(20000))).toBe(false);
    expect(globMatch('*a*a*a*a*a*a*a*a*a*a*a*a*c', 'a'.repeat(20000) + 'c')).toBe(true);
    expect(globMatch('*?*?*?*?*?*?*?*?*?*?*[b]', 'a'.repeat(20000))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('globMatch: properties', () => {
  it('agrees with a naive recursive reference', () => {
    fc.assert(
      fc.property(patArb, strArb, fc.boolean(), (p, s, nocase) => {
        expect(globMatch(p, s, nocase)).toBe(refMatch(p, s, nocase));
      }),
      { numRuns: 20000 },
    );
  });
  it('a pattern without special chars matches only itself', () => {
    const lit = latin1.map((s) => s.replace(/[*?[\\]/g, ''));
    fc.assert(
      fc.property(lit, latin1, (p, s) => {
        expect(isLiteralPattern(p)).toBe(true);
        expect(globMatch(p, p)).toBe(true);
        expect(globMatch(p, s)).toBe(p === s);
      }),
    );
  });
  it('a fully backslash-escaped string matches exactly itself', () => {
    fc.assert(
      fc.property(latin1, latin1, (t, s) => {
        const p = t.replace(/[\s\S]/g, '\\$&');
        expect(globMatch(p, t)).toBe(true);
        expect(globMatch(p, s)).toBe(s === t);
      }),
    );
  });
  it('*<literal>* finds substrings of non-empty strings', () => {
    const lit = latin1.map((s) => s.replace(/[*?[\\]/g, ''));
    fc.assert(
      fc.property(lit, latin1, latin1, (mid, pre, post) => {
        const s = pre + mid + post;
        fc.pre(s.length > 0);
        expect(globMatch('*' + mid + '*', s)).toBe(true);
      }),
    );
  });
  it('? matches exactly one char, ?* at least one', () => {
    fc.assert(
      fc.property(latin1, (s) => {
        expect(globMatch('?', s)).toBe(s.length === 1);
        expect(globMatch('?*', s)).toBe(s.length >= 1);
        expect(globMatch('*', s)).toBe(s.length >= 1); // Redis: "*" never matches ""
      }),
    );
  });
});

describe('isLiteralPattern', () => {
  it('detects special characters', () => {
    expect(isLiteralPattern('')).toBe(true);
    expect(isLiteralPattern('user:1000')).toBe(true);
    expect(isLiteralPattern('a]b-^')).toBe(true);
    for (const p of ['*', 'a?', 'x[y]', 'a\\b']) expect(isLiteralPattern(p)).toBe(false);
  });
});
