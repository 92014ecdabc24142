/**
 * Per-command latency histograms (`latency-tracking yes`), behind INFO
 * latencystats and LATENCY HISTOGRAM.
 *
 * Log-linear buckets over nanoseconds: values below 64 ns have a bucket
 * each; above, every power-of-two range [2^e, 2^(e+1)) is split into 32
 * equal sub-buckets, so a reported value is within ~3% of the real one (Redis
 * uses an HDR histogram with 2 significant digits; exact percentile values
 * differ, the format is the same). Range: up to 2^40 ns (~18 minutes);
 * longer calls count in the last bucket.
 */
const LINEAR = 64;
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 40;
const SIZE = LINEAR + (MAX_EXP - 6 + 1) * SUB;

function log2Floor(v: number): number {
  return v < 0x100000000 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
}

function indexOf(ns: number): number {
  if (ns >= 0 && ns < 0x80000000) {
    // Below 2^31 ns (every ordinary call): integer ops only, the sub-bucket is a shift.
    const t = ns | 0;
    if (t < LINEAR) return t;
    const te = 31 - Math.clz32(t);
    return LINEAR + (te - 6) * SUB + (t >>> (te - SUB_BITS)) - SUB;
  }
  const v = Math.max(0, Math.floor(ns));
  if (v < LINEAR) return v;
  const e = Math.min(log2Floor(v), MAX_EXP);
  if (e === MAX_EXP && v >= 2 ** (MAX_EXP + 1)) return SIZE - 1;
  const sub = Math.floor(v / 2 ** (e - SUB_BITS)) - SUB;
  return LINEAR + (e - 6) * SUB + sub;
}

/** The highest value (ns) that lands in bucket `i`. */
function highestOf(i: number): number {
  if (i < LINEAR) return i;
  const e = 6 + Math.floor((i - LINEAR) / SUB);
  const sub = (i - LINEAR) % SUB;
  const width = 2 ** (e - SUB_BITS);
  return (SUB + sub) * width + width - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(SIZE);
  total = 0;

  record(ns: number): void {
    this.counts[indexOf(ns)]!++;
    this.total++;
  }

  /** The value (ns) at or below which `p` percent of the samples fall. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const target = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= target) return highestOf(i);
    }
    return highestOf(SIZE - 1);
  }

  /**
   * LATENCY HISTOGRAM's buckets: cumulative counts at power-of-two bounds
   * from 1024 ns, reported in microseconds; a bound is listed only when it
   * adds samples, and the list stops once every sample is counted.
   */
  powerOfTwoBuckets(): [usec: number, cumulative: number][] {
    const out: [number, number][] = [];
    let cumulative = 0;
    let i = 0;
    for (let k = 10; k <= MAX_EXP + 1 && cumulative < this.total; k++) {
      const bound = k > MAX_EXP ? SIZE : indexOf(2 ** k);
      let added = 0;
      for (; i < bound; i++) added += this.counts[i]!;
      if (k === MAX_EXP + 1) for (; i < SIZE; i++) added += this.counts[i]!;
      if (added === 0) continue;
      cumulative += added;
      out.push([Math.round(2 ** k / 1000), cumulative]);
    }
    return out;
  }
}

/** Per-command histograms, keyed by the command object (created on first call). */
const histograms = new WeakMap<object, LatencyHistogram>();

export function recordCommandLatency(cmd: object, usec: number): void {
  let h = histograms.get(cmd);
  if (h === undefined) histograms.set(cmd, (h = new LatencyHistogram()));
  h.record(usec * 1000);
}

export function commandHistogram(cmd: object): LatencyHistogram | undefined {
  return histograms.get(cmd);
}

export function resetCommandHistogram(cmd: object): void {
  histograms.delete(cmd);
}
