import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { filterLcsMatches, lcs, lcsLength, lcsTableBytes, type LcsMatch } from '../../src/strings/lcs.js';

const flat = (ms: LcsMatch[]): Array<[[number, number], [number, number], number]> => ms.map((m) => [m.a, m.b, m.len]);

function naiveLcsLen(a: string, b: string): number {
  const memo = new Map<string, number>();
  const go = (i: number, j: number): number => {
    if (i === a.length || j === b.length) return 0;
    const key = `${i},${j}`;
    let v = memo.get(key);
    if (v === undefined) {
      v = a[i] === b[j] ? 1 + go(i + 1, j + 1) : Math.max(go(i + 1, j), go(i, j + 1));
      memo.set(key, v);
    }
    return v;
  };
  return go(0, 0);
}

function isSubsequence(s: string, of: string): boolean {
  let k = 0;
  for (let i = 0; i < of.length && k < s.length; i++) if (of[i] === s[k]) k++;
  return k === s.length;
}

describe('lcs', () => {
  it('Redis docs example: ohmytext / mynewtext', () => {
    const r = lcs('ohmytext', 'mynewtext');
    expect(r.str).toBe('mytext');
    expect(r.len).toBe(6);
    expect(r.matches).toEqual([
      { a: [4, 7], b: [5, 8], len: 4 },
      { a: [2, 3], b: [0, 1], len: 2 },
    ]);
    // MINMATCHLEN 4 hides the short range but not the total length.
    const f = lcs('ohmytext', 'mynewtext', 4);
    expect(f.len).toBe(6);
    expect(f.str).toBe('mytext');
    expect(flat(f.matches)).toEqual([[[4, 7], [5, 8], 4]]);
    expect(filterLcsMatches(r.matches, 4)).toEqual(f.matches);
    expect(filterLcsMatches(r.matches, 0)).toEqual(r.matches);
    expect(filterLcsMatches(r.matches, -5)).toEqual(r.matches); // negative = no filter
  });

  // Outputs of LCS / LCS IDX WITHMATCHLEN on redis-server 7.0.15 (tie-breaking matters).
  it.each([
    ['ab', 'ba', 'b', [[[1, 1], [0, 0], 1]]],
    ['abc', 'cab', 'ab', [[[0, 1], [1, 2], 2]]],
    ['caaccbba', 'bcba', 'bba', [[[6, 7], [2, 3], 2], [[5, 5], [0, 0], 1]]],
    ['caca', 'bbccacbc', 'cca', [[[2, 3], [3, 4], 2], [[0, 0], [2, 2], 1]]],
    ['aaaaaaaa', 'aaaa', 'aaaa', [[[4, 7], [0, 3], 4]]],
    ['xyzabc', 'abcxyz', 'abc', [[[3, 5], [0, 2], 3]]],
    ['abc', 'abc', 'abc', [[[0, 2], [0, 2], 3]]],
    ['', 'abc', '', []],
    ['', '', '', []],
  ] as const)('LCS %j %j', (a, b, str, matches) => {
    const r = lcs(a, b);
    expect(r.str).toBe(str);
    expect(r.len).toBe(str.length);
    expect(flat(r.matches)).toEqual(matches);
    expect(lcsLength(a, b)).toBe(str.length);
  });

  it('accepts bytes and treats strings as latin1 bytes', () => {
    const r = lcs(Buffer.from([0, 255, 1, 2]), Buffer.from([255, 2, 0]));
    expect(r.len).toBe(2);
    expect(r.str).toBe('\u00ff\u0002');
    expect(lcs('\u00ff\u0000x', '\u0000x').str).toBe('\u0000x');
  });

  it('reports table memory like Redis accounts it', () => {
    expect(lcsTableBytes(0, 0)).toBe(4);
    expect(lcsTableBytes(8, 9)).toBe(360);
  });

  it('length equals a naive recursive LCS; str and matches are consistent', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 14 }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 14 }),
        fc.nat(4),
        (a, b, minLen) => {
          const r = lcs(a, b);
          expect(r.len).toBe(naiveLcsLen(a, b));
          expect(lcsLength(a, b)).toBe(r.len);
          expect(r.str.length).toBe(r.len);
          expect(isSubsequence(r.str, a) && isSubsequence(r.str, b)).toBe(true);

          // Ranges are maximal-walk runs, back to front, covering str exactly.
          let rebuilt = '';
          let prevA = Infinity;
          let prevB = Infinity;
          for (const m of r.matches) {
            expect(m.len).toBe(m.a[1] - m.a[0] + 1);
            expect(m.len).toBe(m.b[1] - m.b[0] + 1);
            expect(a.slice(m.a[0], m.a[1] + 1)).toBe(b.slice(m.b[0], m.b[1] + 1));
            expect(m.a[1]).toBeLessThan(prevA);
            expect(m.b[1]).toBeLessThan(prevB);
            prevA = m.a[0];
            prevB = m.b[0];
            rebuilt = a.slice(m.a[0], m.a[1] + 1) + rebuilt;
          }
          expect(rebuilt).toBe(r.str);

          const f = lcs(a, b, minLen);
          expect(f.len).toBe(r.len);
          expect(f.str).toBe(r.str);
          expect(f.matches).toEqual(filterLcsMatches(r.matches, minLen));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('handles moderately large inputs', () => {
    const a = 'abcde'.repeat(400);
    const b = 'edcba'.repeat(400);
    const r = lcs(a, b);
    expect(r.len).toBe(lcsLength(a, b));
    expect(r.str.length).toBe(r.len);
  });
});
