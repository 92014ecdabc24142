/**
 * Geohashes as Redis's GEO commands use them, implemented from the observed
 * behaviour of Redis 7.0.
 *
 * A position is a pair of cell indexes at `step` bits of precision: the
 * longitude's range [-180, 180] and the latitude's range [-85.05112878,
 * 85.05112878] (the limits of Web Mercator) are each cut into 2^step equal
 * slices; a coordinate's index is floor(offset * 2^step) where offset is its
 * relative position in the range. The hash interleaves the two indexes,
 * latitude bits at the even positions and longitude bits at the odd ones,
 * so at the maximum precision (26 steps) a position is a 52-bit integer: the
 * score of the member in the sorted set. The exact upper limits (longitude
 * 180, latitude 85.05112878) give the out-of-range index 2^step, whose bit
 * lands above the 52 (Redis stores those hashes too; a hash at or beyond
 * 2^53 is rounded to a double like any score).
 *
 * Decoding a score gives the cell's centre, clamped into the limits; the
 * arithmetic is the same sequence of IEEE double operations Redis performs,
 * so the coordinates are bit-for-bit those Redis prints.
 *
 * A search (GEOSEARCH, GEORADIUS) covers its shape with the cell containing
 * the centre and its 8 neighbours, at a precision estimated from the radius
 * (see searchAreas), then filters the members of those 9 score ranges by
 * their distance to the centre (haversine, Redis's earth radius).
 *
 * Pure functions: no sessions, no replies.
 */
import { asinR, cosR, sinR } from './geo-math.js';

export const GEO_STEP_MAX = 26;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
/** Redis's earth radius (meters), for the haversine formula. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
/** Half the circumference of the Mercator projection (meters), for the step estimate. */
const MERCATOR_MAX = 20037726.37;

const D_R = Math.PI / 180;

export function degRad(deg: number): number {
  return deg * D_R;
}

export function radDeg(rad: number): number {
  return rad / D_R;
}

const TWO_32 = 4294967296;

// ---------------------------------------------------------------------------
// Bit interleaving

/** Spread the 16 low bits of x to the even positions of a 32-bit value. */
function spread16(x: number): number {
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x >>> 0;
}

/** Gather the even bits of a 32-bit value into 16 bits. */
function compact16(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** Spread a 32-bit value to the even bits of a 64-bit one, as a BigInt. */
function spreadBig(x: number): bigint {
  return BigInt(spread16(x)) | (BigInt(spread16(x >>> 16)) << 32n);
}

/** The interleaved hash of two cell indexes (uint32 each): latitude on the even bits. */
export function interleave(latIdx: number, lonIdx: number): bigint {
  return spreadBig(latIdx) | (spreadBig(lonIdx) << 1n);
}

/**
 * The score of a 26-step position: the interleaved hash converted to a
 * double (rounded to nearest even beyond 2^53, as a uint64 → double
 * conversion does). Both halves are exact doubles and one IEEE addition of
 * two exact values rounds like the conversion of their exact sum.
 */
export function positionScore(latIdx: number, lonIdx: number): number {
  const lat = spread16(latIdx) + spread16(latIdx >>> 16) * TWO_32;
  const lon = spread16(lonIdx) + spread16(lonIdx >>> 16) * TWO_32;
  return lat + lon * 2;
}

/** Cell indexes of the last scoreIndexes() call: [latitude, longitude] (no allocation per member). */
const IDX = new Uint32Array(2);

/**
 * The cell indexes (uint32 each) of the hash held in a score, into IDX:
 * the score converted to uint64 as x86-64 code compiled by GCC does it
 * ((uint64_t)d), then the even bits (latitude) and odd bits (longitude)
 * gathered.
 */
function scoreIndexes(score: number): void {
  let hi: number;
  let lo: number;
  if (score >= 0 && score < 18446744073709551616) {
    const u = Math.trunc(score);
    hi = Math.floor(u / TWO_32);
    lo = u - hi * TWO_32;
  } else {
    let b: bigint;
    if (score >= 18446744073709551616) b = 0n; // (d - 2^63) overflows: 0x8000... ^ 0x8000...
    else if (score > -9223372036854775808) b = (1n << 64n) + BigInt(Math.trunc(score)); // negative: two's complement
    else b = 1n << 63n; // NaN, -inf, <= -2^63: the "integer indefinite" value
    b &= 0xffffffffffffffffn;
    hi = Number(b >> 32n);
    lo = Number(b & 0xffffffffn);
  }
  IDX[0] = compact16(lo) | (compact16(hi) << 16);
  IDX[1] = compact16(lo >>> 1) | (compact16(hi >>> 1) << 16);
}

/** The cell indexes (uint32 each) of a hash held in a score. */
export function scoreToIndexes(score: number): { latIdx: number; lonIdx: number } {
  scoreIndexes(score);
  return { latIdx: IDX[0]!, lonIdx: IDX[1]! };
}

// ---------------------------------------------------------------------------
// Encoding and decoding

export interface Range {
  min: number;
  max: number;
}

export const LONG_RANGE: Range = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const LAT_RANGE: Range = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };
/** The standard geohash latitude range (GEOHASH's strings). */
export const STD_LAT_RANGE: Range = { min: -90, max: 90 };

/** A geohash cell: its two indexes at `step` bits of precision. */
export interface Cell {
  latIdx: number;
  lonIdx: number;
  step: number;
}

/** Double → uint32 conversion of an offset in [0, 2^32). */
function toUint32(x: number): number {
  return Math.trunc(x) >>> 0;
}

/**
 * The cell of a position at `step` bits; null outside the coordinate limits
 * or the given ranges.
 */
export function encode(lon: number, lat: number, step: number, longRange: Range = LONG_RANGE, latRange: Range = LAT_RANGE): Cell | null {
  if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return null;
  if (lat < latRange.min || lat > latRange.max || lon < longRange.min || lon > longRange.max) return null;
  const scale = 2 ** step;
  const latOffset = ((lat - latRange.min) / (latRange.max - latRange.min)) * scale;
  const lonOffset = ((lon - longRange.min) / (longRange.max - longRange.min)) * scale;
  return { latIdx: toUint32(latOffset), lonIdx: toUint32(lonOffset), step };
}

/** GEOADD's score of a valid position (26 steps). */
export function encodeScore(lon: number, lat: number): number {
  const c = encode(lon, lat, GEO_STEP_MAX)!;
  return positionScore(c.latIdx, c.lonIdx);
}

/** True when the position is within Redis's limits. */
export function validLonLat(lon: number, lat: number): boolean {
  return !(lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX);
}

export interface Area {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/** The bounds of a cell. */
export function cellArea(c: Cell, longRange: Range = LONG_RANGE, latRange: Range = LAT_RANGE): Area {
  const latScale = latRange.max - latRange.min;
  const lonScale = longRange.max - longRange.min;
  const div = 2 ** c.step;
  return {
    latMin: latRange.min + (c.latIdx / div) * latScale,
    latMax: latRange.min + (((c.latIdx + 1) >>> 0) / div) * latScale,
    lonMin: longRange.min + (c.lonIdx / div) * lonScale,
    lonMax: longRange.min + (((c.lonIdx + 1) >>> 0) / div) * lonScale,
  };
}

/** A position decoded from a score: the centre of its cell, clamped into the limits. */
export interface LonLat {
  lon: number;
  lat: number;
}

/** The position of the last decodeInto() call: [longitude, latitude]. */
export const DECODED = new Float64Array(2);

const STEP_MAX_DIV = 2 ** GEO_STEP_MAX;
const LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN;
const LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN;

/**
 * Decode a score into DECODED: the centre of its 26-step cell (the bounds
 * computed as cellArea does), clamped into the limits.
 */
export function decodeInto(score: number): void {
  scoreIndexes(score);
  const latIdx = IDX[0]!;
  const lonIdx = IDX[1]!;
  const latMin = GEO_LAT_MIN + (latIdx / STEP_MAX_DIV) * LAT_SCALE;
  const latMax = GEO_LAT_MIN + (((latIdx + 1) >>> 0) / STEP_MAX_DIV) * LAT_SCALE;
  const lonMin = GEO_LONG_MIN + (lonIdx / STEP_MAX_DIV) * LONG_SCALE;
  const lonMax = GEO_LONG_MIN + (((lonIdx + 1) >>> 0) / STEP_MAX_DIV) * LONG_SCALE;
  let lon = (lonMin + lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (latMin + latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  DECODED[0] = lon;
  DECODED[1] = lat;
}

export function decodeScore(score: number): LonLat {
  decodeInto(score);
  return { lon: DECODED[0]!, lat: DECODED[1]! };
}

const GEO_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11-character string of a score: the decoded position encoded
 * again with the standard latitude range [-90, 90], 5 bits per character
 * from the top of the 52 bits; the 11th character (bits Redis doesn't
 * have) is always '0'.
 */
export function geohashString(score: number): string {
  const p = decodeScore(score);
  const c = encode(p.lon, p.lat, GEO_STEP_MAX, LONG_RANGE, STD_LAT_RANGE);
  const bits = c === null ? 0n : interleave(c.latIdx, c.lonIdx);
  let out = '';
  for (let i = 0; i < 10; i++) out += GEO_ALPHABET[Number((bits >> BigInt(52 - (i + 1) * 5)) & 31n)];
  return out + GEO_ALPHABET[0];
}

// ---------------------------------------------------------------------------
// Distances

/** Distance in meters between two latitudes (degrees) along a meridian. */
export function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2) - degRad(lat1));
}

/**
 * Great-circle distance in meters between two positions (degrees), by the
 * haversine formula; along a meridian (same longitude) the arc directly.
 */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = sinR((lon2r - lon1r) / 2);
  if (v === 0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = sinR((lat2r - lat1r) / 2);
  const a = u * u + cosR(lat1r) * cosR(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * asinR(Math.sqrt(a));
}

/**
 * Distances from a fixed first point (a search's centre), computing what
 * distance(lon1, lat1, lon2, lat2) does with the centre's share done once.
 */
export class DistanceFrom {
  private readonly lon1r: number;
  private readonly lat1r: number;
  private readonly cosLat1: number;

  constructor(
    private readonly lon1: number,
    private readonly lat1: number,
  ) {
    this.lon1r = degRad(lon1);
    this.lat1r = degRad(lat1);
    this.cosLat1 = cosR(this.lat1r);
  }

  /** distance(lon1, lat1, lon2, lat2). */
  to(lon2: number, lat2: number): number {
    const v = sinR((degRad(lon2) - this.lon1r) / 2);
    if (v === 0) return latDistance(this.lat1, lat2);
    const lat2r = degRad(lat2);
    const u = sinR((lat2r - this.lat1r) / 2);
    const a = u * u + this.cosLat1 * cosR(lat2r) * v * v;
    return 2.0 * EARTH_RADIUS_IN_METERS * asinR(Math.sqrt(a));
  }

  /**
   * BYBOX: the distance to (lon2, lat2) when the point is within half a
   * height of the centre along its meridian and within half a width along
   * its parallel (latDistance(lat2, lat1), then distance(lon2, lat2, lon1,
   * lat2)); -1 outside. sin is odd, so both distances share v*v; they share
   * cos(lat2) too.
   */
  inBox(lon2: number, lat2: number, halfWidth: number, halfHeight: number): number {
    if (latDistance(lat2, this.lat1) > halfHeight) return -1;
    const v = sinR((this.lon1r - degRad(lon2)) / 2);
    if (v === 0) return 0 > halfWidth ? -1 : latDistance(this.lat1, lat2);
    const lat2r = degRad(lat2);
    const c2 = cosR(lat2r);
    // Along the parallel: u = sin(0) = 0.
    const along = 2.0 * EARTH_RADIUS_IN_METERS * asinR(Math.sqrt(0 + c2 * c2 * v * v));
    if (along > halfWidth) return -1;
    const u = sinR((lat2r - this.lat1r) / 2);
    const a = u * u + this.cosLat1 * c2 * v * v;
    return 2.0 * EARTH_RADIUS_IN_METERS * asinR(Math.sqrt(a));
  }
}

// ---------------------------------------------------------------------------
// Search areas

/** A search shape: a circle (radius) or a box (width × height), sizes in `unit`s of `toMeters` meters. */
export type Shape =
  | { type: 'radius'; lon: number; lat: number; toMeters: number; radius: number }
  | { type: 'box'; lon: number; lat: number; toMeters: number; width: number; height: number };

/**
 * The precision (1..26) whose cells are about as large as the search radius,
 * one or two steps coarser near the poles.
 */
export function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/**
 * The bounding box of a shape in degrees: latitude ± the height (or radius)
 * as an arc; longitude ± the width as an arc on the parallel farther from
 * the equator (the top one in the northern hemisphere, the bottom one in
 * the southern).
 */
export function boundingBox(shape: Shape): { lonMin: number; latMin: number; lonMax: number; latMax: number } {
  const { lon, lat, toMeters } = shape;
  const height = toMeters * (shape.type === 'radius' ? shape.radius : shape.height / 2);
  const width = toMeters * (shape.type === 'radius' ? shape.radius : shape.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / cosR(degRad(lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / cosR(degRad(lat - latDelta)));
  const south = lat < 0;
  return {
    lonMin: south ? lon - lonDeltaBottom : lon - lonDeltaTop,
    lonMax: south ? lon + lonDeltaBottom : lon + lonDeltaTop,
    latMin: lat - latDelta,
    latMax: lat + latDelta,
  };
}

/** Move a cell by dx cells in longitude and dy in latitude, wrapping around at the edges of the index space. */
function moved(c: Cell, dx: number, dy: number): Cell {
  const mask = 2 ** c.step;
  const lonIdx = dx === 0 ? c.lonIdx : (c.lonIdx + dx + mask) % mask;
  const latIdx = dy === 0 ? c.latIdx : (c.latIdx + dy + mask) % mask;
  return { latIdx, lonIdx, step: c.step };
}

/** A score range [min, max) covering the members of one cell. */
export interface ScoreSpan {
  min: number;
  max: number;
}

function cellSpan(c: Cell): ScoreSpan {
  const shift = BigInt(52 - c.step * 2);
  const bits = interleave(c.latIdx, c.lonIdx);
  return { min: Number(bits << shift), max: Number((bits + 1n) << shift) };
}

/**
 * The score ranges to scan for a search, in Redis's order (the centre's
 * cell, then north, south, east, west, north-east, north-west, south-east,
 * south-west), without the neighbours that cannot hold a match and without
 * a range equal to the one scanned just before it.
 */
export function searchAreas(shape: Shape): ScoreSpan[] {
  const bounds = boundingBox(shape);
  const { lon, lat } = shape;
  let radiusMeters =
    shape.type === 'radius' ? shape.radius : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2));
  radiusMeters *= shape.toMeters;

  let steps = estimateSteps(radiusMeters, lat);
  let centre = encode(lon, lat, steps)!;
  // When the neighbours at this precision don't reach the bounding box, use cells twice as large.
  const north = cellArea(moved(centre, 0, 1));
  const south = cellArea(moved(centre, 0, -1));
  const east = cellArea(moved(centre, 1, 0));
  const west = cellArea(moved(centre, -1, 0));
  const decrease = north.latMax < bounds.latMax || south.latMin > bounds.latMin || east.lonMax < bounds.lonMax || west.lonMin > bounds.lonMin;
  if (steps > 1 && decrease) {
    steps--;
    centre = encode(lon, lat, steps)!;
  }
  const area = cellArea(centre);

  // [centre, N, S, E, W, NE, NW, SE, SW] as (dx, dy); null = excluded.
  const moves: Array<[number, number] | null> = [[0, 0], [0, 1], [0, -1], [1, 0], [-1, 0], [1, 1], [-1, 1], [1, -1], [-1, -1]];
  if (steps >= 2) {
    const drop = (...idx: number[]): void => {
      for (const i of idx) moves[i] = null;
    };
    if (area.latMin < bounds.latMin) drop(2, 7, 8);
    if (area.latMax > bounds.latMax) drop(1, 5, 6);
    if (area.lonMin < bounds.lonMin) drop(4, 8, 6);
    if (area.lonMax > bounds.lonMax) drop(3, 7, 5);
  }

  const spans: ScoreSpan[] = [];
  // Index in `moves` of the last cell scanned; 0 (the centre, or none yet) is never compared with.
  let lastProcessed = 0;
  let last: Cell | null = null;
  for (let i = 0; i < moves.length; i++) {
    const m = moves[i];
    if (m === null) continue;
    const c = moved(centre, m[0], m[1]);
    // Huge radiuses make neighbours coincide: skip a cell equal to the one scanned just before.
    if (lastProcessed !== 0 && c.latIdx === last!.latIdx && c.lonIdx === last!.lonIdx) continue;
    spans.push(cellSpan(c));
    lastProcessed = i;
    last = c;
  }
  return spans;
}
