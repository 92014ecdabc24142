/**
 * The node flags a maxmemory server is restarted with (src/memory/heap-limit.ts):
 * the young generation scales with maxmemory unless a size other than the
 * CLI's own 1 MB was chosen, the growing percentage is added unless given.
 */
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapFlagsFor, semiSpaceMbFor } from '../../src/memory/heap-limit.js';

const MB = 1024 * 1024;
const growing = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;

describe('heapFlagsFor', () => {
  it('no maxmemory: no flags', () => {
    expect(heapFlagsFor(0, [])).toEqual([]);
  });

  it('semi-space: 1/64 of maxmemory, 1 to 8 MB', () => {
    expect(semiSpaceMbFor(16 * MB)).toBe(1);
    expect(semiSpaceMbFor(64 * MB)).toBe(1);
    expect(semiSpaceMbFor(256 * MB)).toBe(4);
    expect(semiSpaceMbFor(512 * MB)).toBe(8);
    expect(semiSpaceMbFor(64 * 1024 * MB)).toBe(8);
  });

  it("replaces the CLI's 1 MB young generation, keeps one chosen otherwise", () => {
    expect(heapFlagsFor(256 * MB, ['--max-semi-space-size=1'])).toEqual(['--max-semi-space-size=4', growing]);
    expect(heapFlagsFor(256 * MB, [])).toEqual(['--max-semi-space-size=4', growing]);
    expect(heapFlagsFor(64 * MB, ['--max-semi-space-size=1'])).toEqual([growing]);
    expect(heapFlagsFor(64 * MB, [])).toEqual(['--max-semi-space-size=1', growing]);
    expect(heapFlagsFor(256 * MB, ['--max-semi-space-size=1', '--max-semi-space-size=16'])).toEqual([growing]);
    expect(heapFlagsFor(256 * MB, ['--max-semi-space-size', '2', '--heap-growing-percent=5'])).toEqual([]);
  });

  it('raises the old-space limit when 2 × maxmemory + 512 MB exceeds it', () => {
    const flags = heapFlagsFor(64 * 1024 * MB, ['--max-semi-space-size=8', '--heap-growing-percent=25']);
    expect(flags).toEqual([`--max-old-space-size=${2 * 64 * 1024 + 512}`]);
  });
});
