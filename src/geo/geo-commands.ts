/**
 * GEO commands: GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE
 * GEORADIUS GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO.
 *
 * Positions live in sorted sets (zset/zset-value.ts): a member's score is
 * its 52-bit geohash (geohash.ts), so every sorted set command works on
 * them too, and a GEO command on another type is WRONGTYPE. Replies follow
 * Redis 7.0: distances as "%.4f" bulk strings (also in RESP3), coordinates
 * as "%.17Lf"-style doubles (geo-format.ts), hashes as integers.
 */
import { type CommandSpec, type KeySpec, typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { floatArg, is, longArg } from '../commands/args.js';
import { ZsetValue, asZset } from '../zset/zset-value.js';
import { limitsOf } from '../zset/zset-common.js';
import {
  DECODED,
  DistanceFrom,
  decodeInto,
  decodeScore,
  distance,
  encode,
  geohashString,
  GEO_STEP_MAX,
  interleave,
  positionScore,
  searchAreas,
  validLonLat,
  type LonLat,
  type Shape,
} from './geohash.js';
import { formatCoord, formatDistance, formatFixed } from './geo-format.js';

const ERR_UNIT = 'ERR unsupported unit provided. please use M, KM, FT, MI';
const ERR_MEMBER = 'ERR could not decode requested zset member';

// ---------------------------------------------------------------------------
// Argument helpers

/** A longitude,latitude pair at argv[i], argv[i+1]: both parsed, then range-checked. */
function lonLatArg(argv: string[], i: number): LonLat {
  const lon = floatArg(argv[i]!);
  const lat = floatArg(argv[i + 1]!);
  if (!validLonLat(lon, lat)) {
    throw new CommandError(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
  }
  return { lon, lat };
}

/** Meters per unit: m, km, ft, mi (any case). */
function unitArg(arg: string): number {
  if (is(arg, 'M')) return 1;
  if (is(arg, 'KM')) return 1000;
  if (is(arg, 'FT')) return 0.3048;
  if (is(arg, 'MI')) return 1609.34;
  throw new CommandError(ERR_UNIT);
}

/** `radius unit` at argv[i]. */
function radiusArg(argv: string[], i: number): { radius: number; toMeters: number } {
  const radius = floatArg(argv[i]!, 'ERR need numeric radius');
  if (radius < 0) throw new CommandError('ERR radius cannot be negative');
  return { radius, toMeters: unitArg(argv[i + 1]!) };
}

/** `width height unit` at argv[i]. */
function boxArg(argv: string[], i: number): { width: number; height: number; toMeters: number } {
  const width = floatArg(argv[i]!, 'ERR need numeric width');
  const height = floatArg(argv[i + 1]!, 'ERR need numeric height');
  if (height < 0 || width < 0) throw new CommandError('ERR height or width cannot be negative');
  return { width, height, toMeters: unitArg(argv[i + 2]!) };
}

/** The decoded position of a member; null when absent. */
function memberPosition(z: ZsetValue, member: string): LonLat | null {
  const score = z.score(member);
  return score === undefined ? null : decodeScore(score);
}

// ---------------------------------------------------------------------------
// GEOADD

/** GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...] */
function geoadd(s: Session, argv: string[]): void {
  const key = argv[1]!;
  let nx = false;
  let xx = false;
  let ch = false;
  let first = 2;
  for (; first < argv.length; first++) {
    const a = argv[first]!;
    if (is(a, 'NX')) nx = true;
    else if (is(a, 'XX')) xx = true;
    else if (is(a, 'CH')) ch = true;
    else break;
  }
  const n = (argv.length - first) / 3;
  if (!Number.isInteger(n) || (xx && nx) || n === 0) throw new CommandError(Err.syntax);

  // Every position is validated before anything is written.
  const scores = new Array<number>(n);
  const bits = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const p = lonLatArg(argv, first + i * 3);
    const c = encode(p.lon, p.lat, GEO_STEP_MAX)!;
    const score = positionScore(c.latIdx, c.lonIdx);
    scores[i] = score;
    // Propagated as the exact integer (beyond 2^53 the double is rounded).
    bits[i] = score < 9007199254740992 ? String(score) : interleave(c.latIdx, c.lonIdx).toString();
  }

  // Then it is a ZADD of the geohashes (and propagates as one).
  let z = asZset(s.db.getForWrite(key));
  const limits = limitsOf(s);
  let created = false;
  if (z === undefined) {
    if (xx) {
      s.reply.int(0);
      return;
    }
    z = ZsetValue.forFirstMember(argv[first + 2]!, limits);
    s.db.set(key, z);
    created = true;
  }
  let added = 0;
  let updated = 0;
  for (let i = 0; i < n; i++) {
    const member = argv[first + i * 3 + 2]!;
    const score = scores[i]!;
    const cur = z.score(member);
    if (cur !== undefined) {
      if (nx) continue;
      if (cur !== score) {
        z.update(member, score);
        updated++;
      }
    } else {
      if (xx) continue;
      z.insert(member, score, limits);
      added++;
    }
  }
  if (added + updated > 0) {
    s.wrote('z', 'zadd', key, added + updated);
    const zadd = ['zadd', key, ...argv.slice(2, first)];
    for (let i = 0; i < n; i++) zadd.push(bits[i]!, argv[first + i * 3 + 2]!);
    s.rewriteAs(zadd);
  }
  // A new key always got its first member (only XX refuses new members, and XX created nothing).
  if (created) s.engine.blocking.signalKeyReady(s.dbIndex, key);
  s.reply.int(ch ? added + updated : added);
}

// ---------------------------------------------------------------------------
// GEODIST GEOHASH GEOPOS

/** GEODIST key member1 member2 [M|KM|FT|MI] */
function geodist(s: Session, argv: string[]): void {
  let toMeters = 1;
  if (argv.length === 5) toMeters = unitArg(argv[4]!);
  else if (argv.length > 5) throw new CommandError(Err.syntax);
  const z = asZset(s.db.get(argv[1]!));
  const a = z === undefined ? null : memberPosition(z, argv[2]!);
  const b = z === undefined || a === null ? null : memberPosition(z, argv[3]!);
  if (a === null || b === null) {
    s.reply.nullBulk();
    return;
  }
  s.reply.bulk(formatDistance(distance(a.lon, a.lat, b.lon, b.lat) / toMeters));
}

/** GEOHASH key [member ...] */
function geohash(s: Session, argv: string[]): void {
  const z = asZset(s.db.get(argv[1]!));
  s.reply.arrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const score = z?.score(argv[i]!);
    s.reply.bulk(score === undefined ? null : geohashString(score));
  }
}

function replyCoords(s: Session, p: LonLat): void {
  s.reply.arrayLen(2);
  s.reply.double(p.lon, formatCoord(p.lon));
  s.reply.double(p.lat, formatCoord(p.lat));
}

/** GEOPOS key [member ...] */
function geopos(s: Session, argv: string[]): void {
  const z = asZset(s.db.get(argv[1]!));
  s.reply.arrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const p = z === undefined ? null : memberPosition(z, argv[i]!);
    if (p === null) s.reply.nullArray();
    else replyCoords(s, p);
  }
}

// ---------------------------------------------------------------------------
// Searches

const enum Kind {
  /** GEORADIUS[_RO] key longitude latitude radius unit ... */
  RadiusCoords,
  /** GEORADIUSBYMEMBER[_RO] key member radius unit ... */
  RadiusMember,
  /** GEOSEARCH key ... */
  Search,
  /** GEOSEARCHSTORE destination source ... */
  SearchStore,
}

/** One match of a search. */
interface GeoPoint {
  member: string;
  score: number;
  lon: number;
  lat: number;
  dist: number;
}

/**
 * The members within the shape, scanning the search areas in order, each
 * in ascending score order; with `limit` > 0 the scan stops once that many
 * matched (COUNT ... ANY).
 */
export function membersInShape(z: ZsetValue, shape: Shape, limit: number): GeoPoint[] {
  const out: GeoPoint[] = [];
  const from = new DistanceFrom(shape.lon, shape.lat);
  const radiusM = shape.type === 'radius' ? shape.radius * shape.toMeters : 0;
  const halfW = shape.type === 'box' ? (shape.width * shape.toMeters) / 2 : 0;
  const halfH = shape.type === 'box' ? (shape.height * shape.toMeters) / 2 : 0;
  const box = shape.type === 'box';
  const visit = (member: string, score: number): boolean => {
    decodeInto(score);
    const lon = DECODED[0]!;
    const lat = DECODED[1]!;
    let dist: number;
    if (box) {
      dist = from.inBox(lon, lat, halfW, halfH);
      if (dist < 0) return true;
    } else {
      dist = from.to(lon, lat);
      if (dist > radiusM) return true;
    }
    out.push({ member, score, lon, lat, dist });
    return !(limit > 0 && out.length >= limit);
  };
  for (const span of searchAreas(shape)) {
    if (limit > 0 && out.length >= limit) break;
    z.forEachInScoreRange({ min: span.min, minex: false, max: span.max, maxex: true }, false, visit);
  }
  return out;
}

function byDistAsc(a: GeoPoint, b: GeoPoint): number {
  return a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1;
}

function byDistDesc(a: GeoPoint, b: GeoPoint): number {
  return a.dist < b.dist ? 1 : a.dist === b.dist ? 0 : -1;
}

/**
 * The search commands, parsed and run as Redis does: every argument is
 * checked in order (so the first bad one reports), then the source is
 * searched, the matches sorted and either replied or stored.
 */
function search(s: Session, argv: string[], kind: Kind, noStore: boolean): void {
  const srcKey = argv[kind === Kind.SearchStore ? 2 : 1]!;
  const z = asZset(s.db.get(srcKey));
  const isSearch = kind === Kind.Search || kind === Kind.SearchStore;

  let storeKey: string | null = kind === Kind.SearchStore ? argv[1]! : null;
  let storeDist = false;
  let center: LonLat | null = null;
  let circle: { radius: number; toMeters: number } | null = null;
  let box: { width: number; height: number; toMeters: number } | null = null;
  let base: number;
  if (kind === Kind.RadiusCoords) {
    base = 6;
    center = lonLatArg(argv, 2);
    circle = radiusArg(argv, 4);
  } else if (kind === Kind.RadiusMember) {
    base = 5;
    // Without a source key the member and radius go unchecked: the reply is empty anyway.
    if (z !== undefined) {
      center = memberPosition(z, argv[2]!);
      if (center === null) throw new CommandError(ERR_MEMBER);
      circle = radiusArg(argv, 3);
    }
  } else {
    base = kind === Kind.SearchStore ? 3 : 2;
  }

  let withDist = false;
  let withHash = false;
  let withCoord = false;
  let fromMember = false;
  let fromLonLat = false;
  let sort: 'none' | 'asc' | 'desc' = 'none';
  let any = false;
  let count = 0;
  const remaining = argv.length - base;
  for (let i = 0; i < remaining; i++) {
    const a = argv[base + i]!;
    const more = remaining - i - 1; // arguments after this one
    if (is(a, 'WITHDIST')) withDist = true;
    else if (is(a, 'WITHHASH')) withHash = true;
    else if (is(a, 'WITHCOORD')) withCoord = true;
    else if (is(a, 'ANY')) any = true;
    else if (is(a, 'ASC')) sort = 'asc';
    else if (is(a, 'DESC')) sort = 'desc';
    else if (is(a, 'COUNT') && more >= 1) {
      count = longArg(argv[base + i + 1]!);
      if (count <= 0) throw new CommandError('ERR COUNT must be > 0');
      i++;
    } else if ((is(a, 'STORE') || is(a, 'STOREDIST')) && more >= 1 && !noStore && !isSearch) {
      storeKey = argv[base + i + 1]!;
      storeDist = a.length === 9;
      i++;
    } else if (is(a, 'STOREDIST') && kind === Kind.SearchStore) {
      storeDist = true;
    } else if (is(a, 'FROMMEMBER') && more >= 1 && isSearch && !fromLonLat) {
      if (z !== undefined) {
        center = memberPosition(z, argv[base + i + 1]!);
        if (center === null) throw new CommandError(ERR_MEMBER);
      }
      fromMember = true;
      i++;
    } else if (is(a, 'FROMLONLAT') && more >= 2 && isSearch && !fromMember) {
      center = lonLatArg(argv, base + i + 1);
      fromLonLat = true;
      i += 2;
    } else if (is(a, 'BYRADIUS') && more >= 2 && isSearch && box === null) {
      circle = radiusArg(argv, base + i + 1);
      i += 2;
    } else if (is(a, 'BYBOX') && more >= 3 && isSearch && circle === null) {
      box = boxArg(argv, base + i + 1);
      i += 3;
    } else throw new CommandError(Err.syntax);
  }

  if (storeKey !== null && (withDist || withHash || withCoord)) {
    throw new CommandError(
      `ERR ${kind === Kind.SearchStore ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS'} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`,
    );
  }
  if (isSearch && !fromMember && !fromLonLat) {
    throw new CommandError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
  }
  if (isSearch && circle === null && box === null) {
    throw new CommandError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
  }
  if (any && count === 0) throw new CommandError('ERR the ANY argument requires COUNT argument');

  if (z === undefined) {
    if (storeKey !== null) {
      if (s.db.delete(storeKey)) s.wrote('g', 'del', storeKey);
      s.reply.int(0);
    } else s.reply.arrayLen(0);
    return;
  }

  // COUNT without an order returns the closest ones (ANY takes the first found).
  if (count !== 0 && sort === 'none' && !any) sort = 'asc';
  const shape: Shape =
    box !== null
      ? { type: 'box', lon: center!.lon, lat: center!.lat, toMeters: box.toMeters, width: box.width, height: box.height }
      : { type: 'radius', lon: center!.lon, lat: center!.lat, toMeters: circle!.toMeters, radius: circle!.radius };
  const points = membersInShape(z, shape, any ? count : 0);
  if (sort !== 'none') points.sort(sort === 'asc' ? byDistAsc : byDistDesc);
  const returned = count === 0 || points.length < count ? points.length : count;

  if (storeKey === null) {
    replyPoints(s, points, returned, shape.toMeters, withDist, withHash, withCoord);
    return;
  }
  storePoints(s, storeKey, points, returned, shape.toMeters, storeDist, kind === Kind.SearchStore ? 'geosearchstore' : 'georadiusstore');
}

function replyPoints(
  s: Session,
  points: GeoPoint[],
  returned: number,
  toMeters: number,
  withDist: boolean,
  withHash: boolean,
  withCoord: boolean,
): void {
  const r = s.reply;
  const options = Number(withDist) + Number(withHash) + Number(withCoord);
  r.arrayLen(returned);
  for (let i = 0; i < returned; i++) {
    const p = points[i]!;
    if (options > 0) r.arrayLen(options + 1);
    r.bulk(p.member);
    if (withDist) r.bulk(formatDistance(p.dist / toMeters));
    if (withHash) r.int(Math.trunc(p.score));
    if (withCoord) replyCoords(s, p);
  }
}

/**
 * STORE / STOREDIST / GEOSEARCHSTORE: the matches become a sorted set at
 * `dst` (scored by geohash, or by distance in the search unit), replacing
 * whatever was there; no match deletes `dst`. Replies with the count.
 */
function storePoints(
  s: Session,
  dst: string,
  points: GeoPoint[],
  returned: number,
  toMeters: number,
  storeDist: boolean,
  event: string,
): void {
  if (returned === 0) {
    if (s.db.delete(dst)) s.wrote('g', 'del', dst);
    s.reply.int(0);
    return;
  }
  const z = new ZsetValue(false);
  const all = { entries: Infinity, value: Infinity };
  for (let i = 0; i < returned; i++) {
    const p = points[i]!;
    z.set(p.member, storeDist ? p.dist / toMeters : p.score, all);
  }
  z.shrinkEncodingIfFits(limitsOf(s));
  s.db.set(dst, z);
  s.wrote('z', event, dst, returned);
  s.engine.blocking.signalKeyReady(s.dbIndex, dst);
  s.reply.int(returned);
}

// ---------------------------------------------------------------------------
// Command table

function keySpec(flags: string[], index: number): KeySpec {
  return { flags, begin: { index }, find: { range: [0, 1, 0] } };
}

function storeSpecs(startfrom: number): KeySpec[] {
  return [
    keySpec(['RO', 'access'], 1),
    { flags: ['OW', 'update'], begin: { keyword: 'STORE', startfrom }, find: { range: [0, 1, 0] } },
    { flags: ['OW', 'update'], begin: { keyword: 'STOREDIST', startfrom }, find: { range: [0, 1, 0] } },
  ];
}

/** GEORADIUS's keys: the source, and the key after the first STORE and the first STOREDIST from `startfrom` on. */
function storeKeys(startfrom: number): (argv: string[]) => number[] {
  return (argv) => {
    const out = new Set<number>([1]);
    for (const kw of ['STORE', 'STOREDIST']) {
      for (let i = startfrom; i < argv.length; i++) {
        if (is(argv[i], kw)) {
          if (i + 1 < argv.length) out.add(i + 1);
          break;
        }
      }
    }
    return [...out].sort((a, b) => a - b);
  };
}

const RO = [keySpec(['RO', 'access'], 1)];
const SEARCH_CX = 'O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape';
const RADIUS_CX = 'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.';

const geocmd = typeCommand('geo');

export const geoCommands: CommandSpec[] = [
  geocmd('geoadd', -5, ['write', 'denyoom'], 'Add one or more geospatial items in the geospatial index represented using a sorted set', '3.2.0',
    'O(log(N)) for each item added, where N is the number of elements in the sorted set.', [keySpec(['RW', 'update'], 1)], geoadd),
  geocmd('geodist', -4, ['readonly'], 'Returns the distance between two members of a geospatial index', '3.2.0', 'O(log(N))', RO, geodist),
  geocmd('geohash', -2, ['readonly'], 'Returns members of a geospatial index as standard geohash strings', '3.2.0',
    'O(log(N)) for each member requested, where N is the number of elements in the sorted set.', RO, geohash),
  geocmd('geopos', -2, ['readonly'], 'Returns longitude and latitude of members of a geospatial index', '3.2.0',
    'O(N) where N is the number of members requested.', RO, geopos),
  geocmd('georadius', -6, ['write', 'denyoom', 'movablekeys'],
    'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point', '3.2.0',
    RADIUS_CX, storeSpecs(6), (s, argv) => search(s, argv, Kind.RadiusCoords, false), { getKeys: storeKeys(6) }),
  geocmd('georadius_ro', -6, ['readonly'],
    'A read-only variant for GEORADIUS', '3.2.10', RADIUS_CX, RO, (s, argv) => search(s, argv, Kind.RadiusCoords, true)),
  geocmd('georadiusbymember', -5, ['write', 'denyoom', 'movablekeys'],
    'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member', '3.2.0',
    'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.',
    storeSpecs(5), (s, argv) => search(s, argv, Kind.RadiusMember, false), { getKeys: storeKeys(5) }),
  geocmd('georadiusbymember_ro', -5, ['readonly'], 'A read-only variant for GEORADIUSBYMEMBER', '3.2.10',
    'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.',
    RO, (s, argv) => search(s, argv, Kind.RadiusMember, true)),
  geocmd('geosearch', -7, ['readonly'],
    'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.', '6.2.0', SEARCH_CX, RO,
    (s, argv) => search(s, argv, Kind.Search, true)),
  geocmd('geosearchstore', -8, ['write', 'denyoom'],
    'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.',
    '6.2.0', SEARCH_CX, [keySpec(['OW', 'update'], 1), keySpec(['RO', 'access'], 2)], (s, argv) => search(s, argv, Kind.SearchStore, false),
    { keys: [1, 2, 1] }),
];
