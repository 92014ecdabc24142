/**
 * Differential test of the GEO commands: random GEOADD / GEOPOS / GEODIST /
 * GEOHASH / GEOSEARCH / GEOSEARCHSTORE / GEORADIUS* commands over a small
 * key space (seeded PRNG, printed seed) go to a real redis-server 7.0 and to
 * the built cacheside; every pair of replies must be identical on the wire
 * (types, error texts, coordinates and distances as printed).
 *
 * Positions are drawn uniformly, in clusters (so that searches find several
 * members), and on purpose at the limits: latitudes at and next to
 * ±85.05112878, longitudes at and next to ±180 (the antimeridian), the
 * origin, co-located members. "Edge" searches put a member exactly on the
 * boundary: two members on the same meridian are exactly `d` apart where d
 * is the distance Redis stored with STOREDIST (along a meridian the
 * distance is an exact formula without trigonometry), then BYRADIUS d m and
 * BYBOX with a height of 2d find the member on the edge; other searches use
 * a GEODIST result (4 decimals) as the radius.
 *
 * Two comparisons are looser, for what Redis itself leaves unspecified or
 * what the C library decides:
 *  - COUNT n (without ANY) cutting a result: Redis orders with an unstable
 *    partial quicksort, so members at equal distances may come in any order
 *    and either of them may be cut; the reply (or the stored set) is checked
 *    to be a valid "closest n" against the full (stably sorted, hence exact)
 *    result, and a stored set that validly differs is copied from Redis so
 *    that both servers go on from the same data.
 *  - STOREDIST stores full-precision distances: glibc's sin/cos/asin are
 *    not always correctly rounded (cacheside's are), so the stored scores
 *    are compared within a few ulps; everything else in a stored key is
 *    exact.
 *
 * Needs `npm run build` and redis-server on PATH.
 * Knobs: DIFF_SEED=<n> (replay), DIFF_ROUNDS=<n> (default 4), DIFF_STEPS=<n> (default 1000),
 * DIFF_TAIL=<n> (history shown, default 30).
 */
import { describe, expect, it } from 'vitest';
import { Prng, cliArgv as fmtArgv, connectBoth, diffSeed, envInt, fmtReply as fmt, historyTail, mismatchMessage, sendBoth, setUpBoth, useServerPair } from './diff-kit.js';
import type { RawClient, RespValue } from './harness.js';

const SEED = diffSeed();
const ROUNDS = envInt('DIFF_ROUNDS', 4);
const STEPS = envInt('DIFF_STEPS', 1000);
const TAIL = historyTail(30);

// ---------------------------------------------------------------------------
// Generator

type Compare = 'exact' | 'search' | 'store' | 'edge';
interface Step {
  argv: string[];
  compare: Compare;
  /** For 'store': the destination key. */
  dst?: string;
  /** For 'edge': two members on one meridian of `key`, exactly `dist` meters apart (filled in at run time). */
  edge?: { key: string; from: string; to: string; unit: string; kind: string };
}

const GEOKEYS = ['g1', 'g2', 'g3'];
const DSTKEYS = ['d1', 'd2'];
const OTHER = ['str', 'missing'];
const MEMBERS = Array.from({ length: 100 }, (_, i) => 'm' + i).concat('abcdefghij'.split(''), ['', 'm\x00n', '\xe9t\xe9', 'long-member-name-0123456789']);
const UNITS = ['m', 'km', 'ft', 'mi', 'M', 'Km', 'FT', 'mI'];
const BAD_UNITS = ['', 'meters', 'k', 'cm'];
const HUBS: Array<[number, number]> = [
  [13.361389, 38.115556],
  [-122.27652, 37.805186],
  [179.9, 10],
  [-179.95, -12.5],
  [0, 0],
  [45, 84.9],
  [-100, -84.95],
  [2.3522, 48.8566],
];
const SPECIAL_LON = ['180', '-180', '179.99999', '-179.99999', '179.999999999', '0', '-0', '0.000001', '90', '-90'];
const SPECIAL_LAT = ['85.05112878', '-85.05112878', '85.05112877', '-85.05112877', '85.0511', '-85.0511', '84.99', '0', '-0', '66.5', '-80.1'];
const BAD_COORDS: Array<[string, string]> = [
  ['180.000001', '0'],
  ['-180.0000001', '10'],
  ['0', '85.05112879'],
  ['10', '-85.0511288'],
  ['200', '10'],
  ['nan', '0'],
  ['0', 'abc'],
  ['inf', '0'],
  ['1', '-inf'],
  ['', '1'],
  ['1e400', '1'],
  ['0x10', '5'],
  ['1e300', '-1e-300'],
];

class Gen {
  constructor(private readonly r: Prng) {}

  private p<T>(a: readonly T[]): T {
    return this.r.pick(a);
  }
  private chance(x: number): boolean {
    return this.r.chance(x);
  }
  private key(): string {
    return this.chance(0.06) ? this.p(OTHER) : this.p(GEOKEYS);
  }
  private member(): string {
    return this.p(MEMBERS);
  }
  private num(lo: number, hi: number, digits: number): string {
    return (lo + this.r.float() * (hi - lo)).toFixed(digits);
  }

  /** A valid position: uniform, clustered, or at the limits. */
  lonLat(): [string, string] {
    const w = this.r.int(0, 9);
    if (w < 3) return [this.num(-180, 180, this.r.int(0, 7)), this.num(-85.05112878, 85.05112878, this.r.int(0, 7))];
    if (w < 7) {
      const [lon, lat] = this.p(HUBS);
      const spread = this.p([0.0001, 0.01, 0.2, 2]);
      const x = Math.max(-180, Math.min(180, lon + (this.r.float() * 2 - 1) * spread));
      const y = Math.max(-85.05112878, Math.min(85.05112878, lat + (this.r.float() * 2 - 1) * spread));
      return [x.toFixed(7), y.toFixed(7)];
    }
    if (w < 8) return [this.p(SPECIAL_LON), this.num(-85, 85, 4)];
    if (w < 9) return [this.num(-180, 180, 4), this.p(SPECIAL_LAT)];
    return [this.p(SPECIAL_LON), this.p(SPECIAL_LAT)];
  }

  private coords(): [string, string] {
    return this.chance(0.04) ? this.p(BAD_COORDS) : this.lonLat();
  }

  private unit(): string {
    return this.chance(0.03) ? this.p(BAD_UNITS) : this.p(UNITS);
  }

  /** A radius in the given unit: tiny to planet-sized, sometimes 0 or invalid. */
  private radius(): string {
    if (this.chance(0.03)) return this.p(['-1', 'x', '', 'nan', '-0.0001']);
    if (this.chance(0.05)) return this.p(['0', '-0', 'inf', '1e30', '0x10']);
    return this.p(['1', '10', '100', '500', '1000', '2500', '5000', '20000', '50000', '200000', '1000000', '5000000', '20000000']);
  }

  private geoadd(): string[] {
    const flags: string[] = [];
    for (const f of ['NX', 'XX', 'CH']) if (this.chance(0.12)) flags.push(f);
    this.r.shuffle(flags);
    const n = this.r.int(1, 8);
    const args: string[] = [];
    // Sometimes several members at one position (distance ties).
    const shared = this.chance(0.15) ? this.coords() : null;
    for (let i = 0; i < n; i++) args.push(...(shared ?? this.coords()), this.member());
    if (this.chance(0.03)) args.pop();
    return ['GEOADD', this.key(), ...flags, ...args];
  }

  /** FROMMEMBER / FROMLONLAT, BYRADIUS / BYBOX, options; shuffled like a user might write them. */
  private searchArgs(store: boolean): string[][] {
    const parts: string[][] = [];
    if (this.chance(0.97)) parts.push(this.chance(0.45) ? ['FROMMEMBER', this.member()] : ['FROMLONLAT', ...this.coords()]);
    if (this.chance(0.97)) {
      if (this.chance(0.6)) parts.push(['BYRADIUS', this.radius(), this.unit()]);
      else parts.push(['BYBOX', this.radius(), this.radius(), this.unit()]);
    }
    this.options(parts, store, false);
    return parts;
  }

  /** ASC/DESC, COUNT [ANY], WITH* (not for stores, mostly), STORE/STOREDIST. */
  private options(parts: string[][], store: boolean, radiusStore: boolean): void {
    if (this.chance(0.5)) parts.push([this.p(['ASC', 'DESC', 'asc', 'desc'])]);
    if (this.chance(0.45)) {
      const c = ['COUNT', this.chance(0.05) ? this.p(['0', '-1', 'x']) : this.p(['1', '2', '3', '5', '10', '100'])];
      if (this.chance(0.3)) c.push('ANY');
      parts.push(c);
    } else if (this.chance(0.02)) parts.push(['ANY']);
    const withs = store && this.chance(0.95) ? [] : ['WITHDIST', 'WITHHASH', 'WITHCOORD'].filter(() => this.chance(0.4));
    for (const w of withs) parts.push([w]);
    if (store && !radiusStore && this.chance(0.5)) parts.push(['STOREDIST']);
    // STORE (geohash scores) may overwrite a source key, even the one searched.
    if (radiusStore) {
      const kw = this.p(['STORE', 'STOREDIST', 'store', 'storedist']);
      parts.push([kw, /^store$/i.test(kw) && this.chance(0.15) ? this.p(GEOKEYS) : this.p(DSTKEYS)]);
    }
    this.r.shuffle(parts);
  }

  next(): Step {
    const r = this.r;
    const x = (argv: string[], compare: Compare = 'exact'): Step => ({ argv, compare });
    const w = r.int(0, 99);
    if (w < 24) return x(this.geoadd());
    if (w < 29) return x(['GEOPOS', this.key(), ...Array.from({ length: r.int(0, 4) }, () => this.member())]);
    if (w < 33) return x(['GEOHASH', this.key(), ...Array.from({ length: r.int(0, 4) }, () => this.member())]);
    if (w < 38) {
      const a = ['GEODIST', this.key(), this.member(), this.member()];
      if (this.chance(0.6)) a.push(this.unit());
      if (this.chance(0.02)) a.push('extra');
      return x(a);
    }
    if (w < 55) {
      const a = [this.p(['GEOSEARCH', 'geosearch', 'GeoSearch']), this.key(), ...this.searchArgs(false).flat()];
      return x(a, 'search');
    }
    if (w < 62) {
      const dst = this.p(DSTKEYS);
      return { argv: ['GEOSEARCHSTORE', dst, this.key(), ...this.searchArgs(true).flat()], compare: 'store', dst };
    }
    if (w < 72) {
      const ro = this.chance(0.3);
      const store = !ro && this.chance(0.3);
      const parts: string[][] = [];
      this.options(parts, store, store);
      const byMember = this.chance(0.5);
      const head = byMember
        ? [ro ? 'GEORADIUSBYMEMBER_RO' : 'GEORADIUSBYMEMBER', this.key(), this.member(), this.radius(), this.unit()]
        : [ro ? 'GEORADIUS_RO' : 'GEORADIUS', this.key(), ...this.coords(), this.radius(), this.unit()];
      if (ro && this.chance(0.05)) parts.push(['STORE', 'd1']);
      const argv = [...head, ...parts.flat()];
      const st = parts.find((p) => /^store/i.test(p[0]!) && p.length === 2);
      return st ? { argv, compare: 'store', dst: st[1]! } : x(argv, 'search');
    }
    if (w < 78) {
      const key = this.p(GEOKEYS);
      return {
        argv: [],
        compare: 'edge',
        edge: { key, from: this.member(), to: this.member(), unit: this.p(['m', 'km']), kind: this.p(['radius', 'box', 'radius4']) },
      };
    }
    if (w < 81) {
      // Scores that are not geohashes decode too (clamped, truncated, wrapped).
      const score = this.p(['-1', '0.5', '-0.5', '4503599627370496', '4503599627370495.5', '9007199254740993', '1e17', '1e20', '18446744073709551616', '-1e300', 'inf', '-inf', '123.75', '3471579339700058']);
      return x(['ZADD', this.p(GEOKEYS), score, this.member()]);
    }
    if (w < 84) return x(['ZREM', this.key(), this.member(), this.member()]);
    if (w < 87) return x(['ZRANGE', this.key(), '0', '-1', 'WITHSCORES']);
    if (w < 89) return x(['OBJECT', 'ENCODING', this.p([...GEOKEYS, ...DSTKEYS])]);
    if (w < 91) return x(['TYPE', this.p(DSTKEYS)]);
    if (w < 93) return x(['ZCARD', this.p(DSTKEYS)]);
    if (w < 95) return x(['SET', this.p(DSTKEYS), 'x']);
    if (w < 96) return x(['DEL', this.key()]);
    return x([
      this.p(['GEOADD', 'GEOPOS', 'GEODIST', 'GEOHASH', 'GEOSEARCH', 'GEOSEARCHSTORE', 'GEORADIUS', 'GEORADIUS_RO', 'GEORADIUSBYMEMBER']),
      ...Array.from({ length: r.int(0, 4) }, () => this.p(['g1', 'a', '1', '2', 'km', 'BYRADIUS', 'FROMMEMBER'])),
    ]);
  }
}

// ---------------------------------------------------------------------------
// Looser comparisons

/** One item of a search reply: the member and its WITH* fields, rendered. */
interface Item {
  member: string;
  fields: string[];
}

function items(v: RespValue): Item[] | null {
  if (v.type !== 'array') return null;
  const out: Item[] = [];
  for (const it of v.value) {
    if (it.type === 'bulk') out.push({ member: it.value, fields: [] });
    else if (it.type === 'array' && it.value[0]?.type === 'bulk') out.push({ member: it.value[0].value, fields: it.value.slice(1).map(fmt) });
    else return null;
  }
  return out;
}

/** The index of COUNT's argument in a search command, -1 without COUNT. */
function countIndex(argv: string[]): number {
  for (let i = 2; i < argv.length - 1; i++) if (/^count$/i.test(argv[i]!)) return i;
  return -1;
}

const hasAny = (argv: string[]): boolean => argv.some((a) => /^any$/i.test(a));
const isWith = (a: string): boolean => /^with(dist|hash|coord)$/i.test(a);

/**
 * The full result of a COUNT search (COUNT removed, every WITH* field
 * added, in the same order): member → [dist, hash, coords], in order.
 */
function fullSearchArgv(argv: string[]): string[] {
  const out: string[] = [];
  const ci = countIndex(argv);
  for (let i = 0; i < argv.length; i++) {
    if (i === ci || i === ci + 1 || isWith(argv[i]!)) continue;
    out.push(argv[i]!);
  }
  if (!argv.some((a) => /^(asc|desc)$/i.test(a))) out.push('ASC');
  out.push('WITHDIST', 'WITHHASH', 'WITHCOORD');
  return out;
}

/**
 * A COUNT-cut reply is valid when its i-th member is at the distance of the
 * i-th closest member (members at equal distances are interchangeable) and
 * each member's fields are those of the full result.
 */
function checkCountCut(argv: string[], reply: RespValue, full: RespValue): string | undefined {
  const got = items(reply);
  const all = items(full);
  if (got === null || all === null) return `malformed reply ${fmt(reply)}`;
  const n = Number(argv[countIndex(argv) + 1]);
  if (got.length !== Math.min(n, all.length)) return `expected ${Math.min(n, all.length)} members, got ${got.length}`;
  const byMember = new Map(all.map((it) => [it.member, it]));
  const wanted = argv.filter(isWith).map((a) => a.toUpperCase());
  const order = ['WITHDIST', 'WITHHASH', 'WITHCOORD'].filter((f) => wanted.includes(f));
  const seen = new Set<string>();
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const f = byMember.get(g.member);
    if (f === undefined) return `${JSON.stringify(g.member)} is not in the full result`;
    if (seen.has(g.member)) return `${JSON.stringify(g.member)} twice`;
    seen.add(g.member);
    if (f.fields[0] !== all[i]!.fields[0]) return `member ${i} ${JSON.stringify(g.member)} is at ${f.fields[0]}, the ${i}th closest at ${all[i]!.fields[0]}`;
    const expectFields = order.map((o) => f.fields[['WITHDIST', 'WITHHASH', 'WITHCOORD'].indexOf(o)]!);
    if (JSON.stringify(expectFields) !== JSON.stringify(g.fields)) return `fields of ${JSON.stringify(g.member)}: ${g.fields} vs ${expectFields}`;
  }
  return undefined;
}

/** The search a store command runs (its reply lists what it stores). */
function searchArgvOfStore(argv: string[]): string[] {
  if (/^geosearchstore$/i.test(argv[0]!)) return ['GEOSEARCH', ...argv.slice(2).filter((v) => !/^storedist$/i.test(v))];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (i >= 5 && /^store(dist)?$/i.test(argv[i]!) && i + 1 < argv.length) i++;
    else out.push(argv[i]!);
  }
  return out;
}

/**
 * A COUNT-cut store is valid when its members are the closest ones: each in
 * the full result, at the distances of the first n members of it.
 */
function checkStoredCut(stored: Map<string, string>, full: RespValue): string | undefined {
  const all = items(full);
  if (all === null) return `malformed full result ${fmt(full)}`;
  const dist = new Map(all.map((it) => [it.member, it.fields[0]!]));
  const got: string[] = [];
  for (const m of stored.keys()) {
    const d = dist.get(m);
    if (d === undefined) return `${JSON.stringify(m)} is not in the full result`;
    got.push(d);
  }
  const want = all.slice(0, stored.size).map((it) => it.fields[0]!);
  return JSON.stringify(got.sort()) === JSON.stringify(want.sort()) ? undefined : `stored distances ${got} vs closest ${want}`;
}

/** member → score (as a number) of a stored destination. */
async function dump(c: RawClient, key: string): Promise<{ type: string; pairs: Map<string, string> }> {
  const t = await c.send('TYPE', key);
  const pairs = new Map<string, string>();
  if (t.type !== 'simple' || t.value !== 'zset') return { type: fmt(t), pairs };
  const r = await c.send('ZRANGE', key, '0', '-1', 'WITHSCORES');
  if (r.type === 'array') {
    const flat = r.value.flatMap((v) => (v.type === 'array' ? v.value : [v]));
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const m = flat[i]!;
      const s = flat[i + 1]!;
      if (m.type === 'bulk' && (s.type === 'bulk' || s.type === 'double')) pairs.set(m.value, s.value);
    }
  }
  return { type: 'zset', pairs };
}

/** Stored scores: exact, or (distances) within a few ulps. */
function sameScore(a: string, b: string, distances: boolean): boolean {
  if (a === b) return true;
  if (!distances) return false;
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 8 * Number.EPSILON;
}

// ---------------------------------------------------------------------------
// The test

describe('differential: GEO commands, cacheside vs redis-server 7.0', () => {
  const servers = useServerPair({ debug: false });

  it(`random GEO commands get identical replies (seed ${SEED})`, async () => {
    console.log(`differential-geo: seed ${SEED} (replay with DIFF_SEED=${SEED}), ${ROUNDS} rounds x ${STEPS} commands`);
    const [a, b] = await connectBoth(servers);
    const both = (argv: string[]): Promise<[RespValue, RespValue]> => sendBoth(a, b, argv);
    const rng = new Prng(SEED);
    let total = 0;
    let errors = 0;
    let nonEmptySearches = 0;
    let edges = 0;
    const seen = new Set<string>();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const resp: 2 | 3 = round % 2 === 0 ? 2 : 3;
        const entries = ['128', '0'][Math.floor(round / 2) % 2]!;
        await setUpBoth(a, b, [['HELLO', String(resp)], ['FLUSHALL'], ['CONFIG', 'SET', 'zset-max-listpack-entries', entries], ['SET', 'str', 'x']]);
        const gen = new Gen(rng);
        const history: string[] = [];
        for (let i = 0; i < STEPS; i++) {
          const step = gen.next();
          let argv = step.argv;
          if (step.compare === 'edge') {
            const e = await edgeSearch(a, b, step.edge!, rng);
            if (e === null) continue;
            argv = e;
            edges++;
          }
          // A store cut by COUNT may keep either of members at equal distances: know the full result first.
          const storeCut = step.compare === 'store' && countIndex(argv) >= 0 && !hasAny(argv);
          const fullBefore = storeCut ? await a.send(...fullSearchArgv(searchArgvOfStore(argv))) : null;
          const [x, y] = await both(argv);
          total++;
          seen.add(argv[0]!.toUpperCase());
          if (x.type === 'error') errors++;
          if (step.compare === 'search' && x.type === 'array' && x.value.length > 0) nonEmptySearches++;
          let why: string | undefined;
          if (fmt(x) !== fmt(y)) {
            why = 'replies differ';
            const ci = countIndex(argv);
            if (step.compare === 'search' && ci >= 0 && !hasAny(argv) && x.type === 'array' && y.type === 'array') {
              const full = await a.send(...fullSearchArgv(argv));
              const own = checkCountCut(argv, x, full);
              why = own !== undefined ? `redis-server's own reply fails the COUNT check (${own}): the checker is wrong` : checkCountCut(argv, y, full);
            }
          }
          if (why === undefined && step.compare === 'store' && x.type !== 'error') {
            const [da, db] = await Promise.all([dump(a, step.dst!), dump(b, step.dst!)]);
            const distances = argv.some((v) => /^storedist$/i.test(v));
            if (da.type !== db.type) why = `stored type ${da.type} vs ${db.type}`;
            else if (da.pairs.size !== db.pairs.size) why = `stored ${da.pairs.size} vs ${db.pairs.size} members`;
            else if (storeCut) {
              const own = checkStoredCut(da.pairs, fullBefore!);
              why = own !== undefined ? `redis-server's own store fails the COUNT check (${own}): the checker is wrong` : checkStoredCut(db.pairs, fullBefore!);
            }
            for (const [m, s] of da.pairs) {
              const t = db.pairs.get(m);
              if (why !== undefined || (t === undefined && storeCut)) continue;
              if (t === undefined || !sameScore(s, t, distances)) why = `stored ${JSON.stringify(m)}: ${s} vs ${t}`;
            }
            // Equally valid but different choices: continue from Redis's.
            if (why === undefined && storeCut && [...da.pairs.keys()].some((m) => !db.pairs.has(m))) {
              await b.send('DEL', step.dst!);
              await b.send('ZADD', step.dst!, ...[...da.pairs].flatMap(([m, sc]) => [sc, m]));
            }
            if (why === undefined) {
              const [ea, eb] = await both(['OBJECT', 'ENCODING', step.dst!]);
              if (fmt(ea) !== fmt(eb)) why = `stored encoding ${fmt(ea)} vs ${fmt(eb)}`;
            }
          }
          const line = `${fmtArgv(argv)} -> ${fmt(x).slice(0, 300)}`;
          if (why !== undefined) {
            throw new Error(
              mismatchMessage({
                seed: SEED,
                header: `cacheside differs (seed ${SEED}, round ${round}, RESP${resp}, zset-max-listpack-entries ${entries}, step ${i})`,
                why,
                command: fmtArgv(argv),
                redis: fmt(x),
                cacheside: fmt(y),
                history,
                tail: TAIL,
                historyNote: ` (after FLUSHALL, CONFIG SET zset-max-listpack-entries ${entries}, SET str x)`,
                file: 'differential-geo.test.ts',
              }),
            );
          }
          history.push(line);
        }
      }
    } finally {
      await both(['CONFIG', 'SET', 'zset-max-listpack-entries', '128']).catch(() => undefined);
      await Promise.all([a.close(), b.close()]);
    }
    console.log(
      `differential-geo: ${total} commands compared, ${errors} error replies, ${nonEmptySearches} non-empty searches, ${edges} edge searches, ${seen.size} distinct commands`,
    );
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(total / 2);
    expect(nonEmptySearches).toBeGreaterThan(total / 30);
    expect(seen.size).toBeGreaterThan(12);
  }, 600_000);
});

/**
 * Set up an edge case on both servers and return the search to compare:
 *  - radius / box: `to` is placed on the meridian of `from`, its exact
 *    distance read back from Redis through STOREDIST (17 digits), and the
 *    search uses exactly that radius (or half-height);
 *  - radius4: the radius is GEODIST's 4-decimal distance between two
 *    arbitrary members (the member sits within 0.00005 of the edge).
 * Returns null when the members are missing.
 */
async function edgeSearch(
  a: RawClient,
  b: RawClient,
  e: { key: string; from: string; to: string; unit: string; kind: string },
  r: Prng,
): Promise<string[] | null> {
  const both = (argv: string[]): Promise<[RespValue, RespValue]> => sendBoth(a, b, argv);
  const pos = await a.send('GEOPOS', e.key, e.from);
  if (pos.type !== 'array' || pos.value[0]?.type !== 'array') return null;
  const lon = (pos.value[0].value[0] as { value: string }).value;
  const lat = Number((pos.value[0].value[1] as { value: string }).value);
  const tail = r.chance(0.5) ? ['ASC', 'WITHDIST'] : ['WITHCOORD'];
  if (e.kind === 'radius4') {
    const d = await a.send('GEODIST', e.key, e.from, e.to, e.unit);
    if (d.type !== 'bulk') return null;
    return ['GEOSEARCH', e.key, 'FROMMEMBER', e.from, 'BYRADIUS', d.value, e.unit, ...tail];
  }
  // Same longitude (same cell column), another latitude.
  const toLat = Math.max(-85.05, Math.min(85.05, lat + (r.float() * 2 - 1) * r.pick([0.001, 0.1, 3, 40])));
  await both(['GEOADD', e.key, lon, toLat.toFixed(6), e.to]);
  await both(['GEOSEARCHSTORE', '__edge', e.key, 'FROMMEMBER', e.from, 'BYRADIUS', '50000000', 'm', 'STOREDIST']);
  const sc = await a.send('ZSCORE', '__edge', e.to);
  await both(['DEL', '__edge']);
  if (sc.type !== 'bulk' && sc.type !== 'double') return null;
  const d = sc.value;
  if (e.kind === 'radius') return ['GEOSEARCH', e.key, 'FROMMEMBER', e.from, 'BYRADIUS', d, 'm', ...tail];
  return ['GEOSEARCH', e.key, 'FROMMEMBER', e.from, 'BYBOX', '1', String(Number(d) * 2), 'm', ...tail];
}
