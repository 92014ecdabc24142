/**
 * The GEO building blocks (src/geo/): geohash encoding against bit-by-bit
 * models, the trigonometry against a 200-bit fixed-point model, the
 * number formats against their C definitions, and the search against a
 * brute-force scan of every member.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  decodeScore,
  distance,
  encode,
  encodeScore,
  estimateSteps,
  geohashString,
  interleave,
  latDistance,
  positionScore,
  scoreToIndexes,
  searchAreas,
  type Shape,
} from '../../src/geo/geohash.js';
import { asinR, cosR, sinR } from '../../src/geo/geo-math.js';
import { formatCoord, formatDistance, formatFixed } from '../../src/geo/geo-format.js';
import { membersInShape } from '../../src/geo/geo-commands.js';
import { ZsetValue } from '../../src/zset/zset-value.js';

const lon = fc.double({ min: -180, max: 180, noNaN: true });
const lat = fc.double({ min: GEO_LAT_MIN, max: GEO_LAT_MAX, noNaN: true });
const idx26 = fc.integer({ min: 0, max: 2 ** 26 - 1 });

// ---------------------------------------------------------------------------
// Models

/** Interleave bit by bit: latitude bit i at 2i, longitude bit i at 2i+1. */
function interleaveModel(latIdx: number, lonIdx: number): bigint {
  let out = 0n;
  for (let i = 0; i < 32; i++) {
    if ((latIdx >>> i) & 1) out |= 1n << BigInt(2 * i);
    if ((lonIdx >>> i) & 1) out |= 1n << BigInt(2 * i + 1);
  }
  return out;
}

/** Textbook geohash: alternate longitude / latitude bisections, 5 bits per character. */
function geohashModel(lo: number, la: number, chars: number): string {
  const alphabet = '0123456789bcdefghjkmnpqrstuvwxyz';
  let lonMin = -180;
  let lonMax = 180;
  let latMin = -90;
  let latMax = 90;
  let out = '';
  let bits = 0;
  let n = 0;
  let even = true;
  while (out.length < chars) {
    if (even) {
      const mid = (lonMin + lonMax) / 2;
      bits = bits * 2 + (lo >= mid ? 1 : 0);
      if (lo >= mid) lonMin = mid;
      else lonMax = mid;
    } else {
      const mid = (latMin + latMax) / 2;
      bits = bits * 2 + (la >= mid ? 1 : 0);
      if (la >= mid) latMin = mid;
      else latMax = mid;
    }
    even = !even;
    if (++n === 5) {
      out += alphabet[bits];
      bits = 0;
      n = 0;
    }
  }
  return out;
}

const P = 200n;
const ONE = 1n << P;

/** x (a double, |x| >= 2^-140) as a P-bit fixed-point BigInt, exactly. */
function toFix(x: number): bigint {
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e++;
  }
  return (BigInt(m) << P) >> BigInt(e);
}

/** sin of a fixed-point value by its Taylor series (|x| <= 4). */
function sinFix(x: bigint): bigint {
  const x2 = (x * x) >> P;
  let term = x;
  let sum = x;
  for (let k = 1n; term !== 0n; k++) {
    term = -((term * x2) >> P) / (2n * k * (2n * k + 1n));
    sum += term;
  }
  return sum;
}

function cosFix(x: bigint): bigint {
  const x2 = (x * x) >> P;
  let term = ONE;
  let sum = ONE;
  for (let k = 1n; term !== 0n; k++) {
    term = -((term * x2) >> P) / ((2n * k - 1n) * (2n * k));
    sum += term;
  }
  return sum;
}

/** A fixed-point value rounded to the nearest double. */
const fromFix = (v: bigint): number => Number(v) / 2 ** Number(P);

function ulp(y: number): number {
  const e = Math.floor(Math.log2(Math.abs(y)));
  return 2 ** (e - 52);
}

// ---------------------------------------------------------------------------

describe('geohash bits', () => {
  it('interleave puts latitude on the even bits and longitude on the odd bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (a, b) => {
        expect(interleave(a, b)).toBe(interleaveModel(a, b));
      }),
    );
  });

  it('a position score is the interleaved hash as a double, and decodes back to its indexes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 26 }), fc.integer({ min: 0, max: 2 ** 26 }), (a, b) => {
        const exact = interleaveModel(a, b);
        expect(positionScore(a, b)).toBe(Number(exact));
        if (exact < 2n ** 53n) expect(scoreToIndexes(Number(exact))).toEqual({ latIdx: a, lonIdx: b });
      }),
    );
  });

  it('non-geohash scores convert to uint64 as (uint64_t)d does on x86-64', () => {
    expect(scoreToIndexes(-1)).toEqual({ latIdx: 0xffffffff, lonIdx: 0xffffffff }); // 2^64 - 1
    expect(scoreToIndexes(0.75)).toEqual({ latIdx: 0, lonIdx: 0 });
    expect(scoreToIndexes(3.5)).toEqual({ latIdx: 1, lonIdx: 1 });
    expect(scoreToIndexes(Infinity)).toEqual({ latIdx: 0, lonIdx: 0 });
    // NaN, -inf: 0x8000000000000000, bit 63 = longitude bit 31.
    expect(scoreToIndexes(NaN)).toEqual({ latIdx: 0, lonIdx: 0x80000000 });
    expect(scoreToIndexes(-Infinity)).toEqual({ latIdx: 0, lonIdx: 0x80000000 });
  });

  it('encode takes floor(offset * 2^step) of each coordinate', () => {
    fc.assert(
      fc.property(lon, lat, fc.integer({ min: 1, max: 26 }), (x, y, step) => {
        const c = encode(x, y, step)!;
        const latOff = ((y - GEO_LAT_MIN) / (GEO_LAT_MAX - GEO_LAT_MIN)) * 2 ** step;
        const lonOff = ((x + 180) / 360) * 2 ** step;
        expect(c).toEqual({ latIdx: Math.floor(latOff), lonIdx: Math.floor(lonOff), step });
      }),
    );
    expect(encode(180.0000001, 0, 26)).toBeNull();
    expect(encode(0, 85.06, 26)).toBeNull();
    // The upper limits give the out-of-range index 2^step.
    expect(encode(180, GEO_LAT_MAX, 26)).toEqual({ latIdx: 2 ** 26, lonIdx: 2 ** 26, step: 26 });
  });

  it('decoding gives the centre of the cell, within half a cell of the position', () => {
    fc.assert(
      fc.property(lon, lat, (x, y) => {
        // Like Redis, the fixed-point step computes (lon+180)/360 * 2^26 in doubles: within an ulp
        // of 180 that rounds up to 2^26 and decoding clamps to the limit — not a half-cell case.
        fc.pre(((x + 180) / 360) * 2 ** 26 < 2 ** 26);
        const p = decodeScore(encodeScore(x, y));
        expect(Math.abs(p.lon - x)).toBeLessThanOrEqual(360 / 2 ** 27 + 1e-12);
        expect(Math.abs(p.lat - y)).toBeLessThanOrEqual((GEO_LAT_MAX - GEO_LAT_MIN) / 2 ** 27 + 1e-12);
      }),
    );
  });

  it('decodes and hashes as redis-server 7.0 prints them', () => {
    const palermo = encodeScore(13.361389, 38.115556);
    expect(palermo).toBe(3479099956230698);
    expect(formatCoord(decodeScore(palermo).lon)).toBe('13.36138933897018433');
    expect(formatCoord(decodeScore(palermo).lat)).toBe('38.11555639549629859');
    expect(geohashString(palermo)).toBe('sqc8b49rny0');
    expect(geohashString(encodeScore(15.087269, 37.502669))).toBe('sqdtr74hyu0');
    // The limits: clamped on decoding.
    const np = encodeScore(180, GEO_LAT_MAX);
    expect(np).toBe(13510798882111488);
    expect(decodeScore(np)).toEqual({ lon: 180, lat: GEO_LAT_MAX });
    expect(formatCoord(decodeScore(np).lat)).toBe('85.0511287799999991');
    expect(geohashString(np)).toBe('bp05b5048p0');
    expect(geohashString(encodeScore(-180, -GEO_LAT_MAX))).toBe('00bh0hbj200');
    expect(formatCoord(decodeScore(0).lon)).toBe('-179.99999731779098511');
  });

  it('GEOHASH strings are standard geohashes of the decoded position (52 bits, then "0")', () => {
    fc.assert(
      fc.property(fc.double({ min: -179.9, max: 179.9, noNaN: true }), lat, (x, y) => {
        const score = encodeScore(x, y);
        const p = decodeScore(score);
        const s = geohashString(score);
        expect(s).toHaveLength(11);
        expect(s[10]).toBe('0');
        expect(s.slice(0, 10)).toBe(geohashModel(p.lon, p.lat, 10));
      }),
    );
  });
});

describe('trigonometry', () => {
  const arg = fc.double({ min: -3.2, max: 3.2, noNaN: true }).filter((x) => Math.abs(x) > 1e-30);

  it('sin and cos are correctly rounded', () => {
    fc.assert(
      fc.property(arg, (x) => {
        expect(sinR(x)).toBe(fromFix(sinFix(toFix(x))));
        expect(cosR(x)).toBe(fromFix(cosFix(toFix(x))));
      }),
      { numRuns: 3000 },
    );
    expect(sinR(0)).toBe(0);
    expect(Object.is(sinR(-0), -0)).toBe(true);
    expect(cosR(0)).toBe(1);
    expect(sinR(1e10)).toBe(Math.sin(1e10)); // beyond 2^20: the built-in
  });

  it('asin is correctly rounded: sin of the neighbouring midpoints brackets the argument', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-20, max: 1, maxExcluded: true, noNaN: true }), (x) => {
        const y = asinR(x);
        const half = toFix(ulp(y)) / 2n;
        const below = sinFix(toFix(y) - half);
        const above = sinFix(toFix(y) + half);
        const X = toFix(x);
        expect(below <= X && X <= above).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(asinR(1)).toBe(Math.PI / 2);
    expect(asinR(0)).toBe(0);
    expect(asinR(1.0000000000000002)).toBeNaN();
  });
});

describe('distances', () => {
  it('is symmetric, zero on the same point, the meridian arc on the same longitude', () => {
    fc.assert(
      fc.property(lon, lat, lon, lat, (x1, y1, x2, y2) => {
        expect(distance(x1, y1, x2, y2)).toBe(distance(x2, y2, x1, y1));
        expect(distance(x1, y1, x1, y1)).toBe(0);
        expect(distance(x1, y1, x1, y2)).toBe(latDistance(y1, y2));
        expect(distance(x1, y1, x2, y2)).toBeLessThanOrEqual(Math.PI * 6372797.560856 * (1 + 1e-15));
      }),
    );
  });

  it('matches redis-server 7.0 (GEODIST Palermo Catania)', () => {
    const a = decodeScore(3479099956230698);
    const b = decodeScore(3479447370796909);
    expect(formatDistance(distance(a.lon, a.lat, b.lon, b.lat))).toBe('166274.1516');
    expect(formatDistance(distance(a.lon, a.lat, b.lon, b.lat) / 1000)).toBe('166.2742');
  });
});

describe('number formats', () => {
  it('%.4f rounds the exact value, ties to even', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), (d) => {
        const t = d * 32;
        if (!(Number.isInteger(t) && t % 2 === 1)) expect(formatDistance(d)).toBe(d.toFixed(4));
        expect(formatDistance(d)).toBe(formatFixed(d, 4));
      }),
    );
    expect(formatDistance(1.03125)).toBe('1.0312');
    expect(formatDistance(1.09375)).toBe('1.0938');
    expect(formatDistance(0)).toBe('0.0000');
  });

  it('%f prints like glibc', () => {
    expect(formatFixed(200, 6)).toBe('200.000000');
    expect(formatFixed(-0, 6)).toBe('-0.000000');
    expect(formatFixed(-1e-9, 6)).toBe('-0.000000');
    expect(formatFixed(0.5, 0)).toBe('0');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(Infinity, 6)).toBe('inf');
    expect(formatFixed(-Infinity, 6)).toBe('-inf');
    expect(formatFixed(1e22, 1)).toBe('10000000000000000000000.0');
    expect(formatFixed(0.1, 20)).toBe('0.10000000000000000555');
  });

  it('%.17Lf coordinates drop trailing zeros', () => {
    expect(formatCoord(180)).toBe('180');
    expect(formatCoord(-0.5)).toBe('-0.5');
    expect(formatCoord(0.1)).toBe('0.10000000000000001');
  });
});

describe('search areas', () => {
  it('estimates fewer steps for larger radiuses and near the poles', () => {
    expect(estimateSteps(0, 0)).toBe(26);
    expect(estimateSteps(1, 0)).toBe(24);
    expect(estimateSteps(1000, 0)).toBe(14);
    expect(estimateSteps(1000, 70)).toBe(13);
    expect(estimateSteps(1000, -81)).toBe(12);
    expect(estimateSteps(1e9, 0)).toBe(1);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e8, noNaN: true }), fc.double({ min: 0, max: 1e8, noNaN: true }), lat, (a, b, y) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(estimateSteps(hi, y)).toBeLessThanOrEqual(estimateSteps(lo, y));
      }),
    );
  });

  it('gives 1 to 9 disjoint score ranges, the first holding the centre', () => {
    fc.assert(
      fc.property(lon, lat, fc.double({ min: 0, max: 3e7, noNaN: true }), fc.boolean(), (x, y, size, box) => {
        const shape: Shape = box
          ? { type: 'box', lon: x, lat: y, toMeters: 1, width: size, height: size / 2 }
          : { type: 'radius', lon: x, lat: y, toMeters: 1, radius: size };
        const spans = searchAreas(shape);
        expect(spans.length).toBeGreaterThanOrEqual(1);
        expect(spans.length).toBeLessThanOrEqual(9);
        for (const s of spans) expect(s.max).toBeGreaterThan(s.min);
        const sorted = [...spans].sort((a, b) => a.min - b.min);
        for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.min).toBeGreaterThanOrEqual(sorted[i - 1]!.max);
        const c = encodeScore(x, y);
        expect(c >= spans[0]!.min && c < spans[0]!.max).toBe(true);
      }),
    );
  });

  // Away from the poles and the antimeridian the 9 cells cover the whole shape.
  const member = fc.record({ dx: fc.double({ min: -3, max: 3, noNaN: true }), dy: fc.double({ min: -3, max: 3, noNaN: true }) });
  it('finds exactly the members within the radius or the box (brute force model)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -150, max: 150, noNaN: true }),
        fc.double({ min: -60, max: 60, noNaN: true }),
        fc.array(member, { minLength: 1, maxLength: 60 }),
        fc.double({ min: 1, max: 400_000, noNaN: true }),
        fc.boolean(),
        (x, y, ms, size, box) => {
          const z = new ZsetValue(false);
          const all = { entries: Infinity, value: Infinity };
          ms.forEach((m, i) => z.set('m' + i, encodeScore(x + m.dx, y + m.dy), all));
          const shape: Shape = box
            ? { type: 'box', lon: x, lat: y, toMeters: 1, width: size, height: size * 1.5 }
            : { type: 'radius', lon: x, lat: y, toMeters: 1, radius: size };
          const found = membersInShape(z, shape, 0).map((p) => p.member).sort();
          const model: string[] = [];
          z.forEach((m, score) => {
            const p = decodeScore(score);
            const inside = box
              ? latDistance(p.lat, y) <= (size * 1.5) / 2 && distance(p.lon, p.lat, x, p.lat) <= size / 2
              : distance(x, y, p.lon, p.lat) <= size;
            if (inside) model.push(m);
          });
          expect(found).toEqual(model.sort());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('COUNT ANY stops after that many matches', () => {
    const z = new ZsetValue(false);
    const all = { entries: Infinity, value: Infinity };
    for (let i = 0; i < 20; i++) z.set('m' + i, encodeScore(10 + i * 0.001, 20), all);
    const shape: Shape = { type: 'radius', lon: 10, lat: 20, toMeters: 1000, radius: 100 };
    expect(membersInShape(z, shape, 0)).toHaveLength(20);
    expect(membersInShape(z, shape, 3).map((p) => p.member)).toEqual(['m0', 'm1', 'm2']);
  });
});
