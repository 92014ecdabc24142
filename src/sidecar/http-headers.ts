/**
 * HTTP header helpers for the sidecar: Cache-Control parsing, hop-by-hop
 * removal, entity-tag comparison and HTTP-date parsing. Header names are
 * always handled in lower case.
 */

/** A header value as Node and undici hand them over. */
export type HeaderValue = string | string[] | undefined;
/** Response headers as stored and served: lower-case names. */
export type HeaderRecord = Record<string, string | string[]>;
/** Reads one request header (lower-case name), list values joined with ", ". */
export type HeaderGetter = (name: string) => string | undefined;

/** Parsed Cache-Control: directive → argument (true when it has none). */
export type CacheControl = Map<string, string | true>;

const EMPTY_CC: CacheControl = new Map();

/**
 * Parse Cache-Control (RFC 9111 §5.2): comma-separated directives, names
 * case-insensitive, arguments as token or quoted-string. A directive that
 * breaks the grammar (whitespace around "=", junk after a quoted string)
 * keeps its name but loses its argument: `max-age = 5` leaves the response
 * stale, a malformed `no-store` still forbids storing. Unknown directives are
 * kept (callers ignore them). A duplicated directive keeps its first value.
 */
export function parseCacheControl(value: string | undefined): CacheControl {
  if (value === undefined || value === '') return EMPTY_CC;
  const out: CacheControl = new Map();
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && value[j] !== '=' && value[j] !== ',') j++;
    const rawName = value.slice(i, j);
    const name = rawName.trim().toLowerCase();
    let valid = true;
    let arg: string | true = true;
    if (j < n && value[j] === '=') {
      if (rawName !== rawName.trimEnd()) valid = false;
      j++;
      if (value[j] === '"') {
        let k = j + 1;
        let s = '';
        while (k < n && value[k] !== '"') {
          if (value[k] === '\\' && k + 1 < n) k++;
          s += value[k];
          k++;
        }
        if (k >= n) valid = false; // unterminated
        arg = s;
        j = k + 1;
        while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
        if (j < n && value[j] !== ',') valid = false;
        while (j < n && value[j] !== ',') j++;
      } else {
        const k = j;
        while (j < n && value[j] !== ',') j++;
        const tok = value.slice(k, j).trimEnd();
        if (tok === '' || /[\s"]/.test(tok)) valid = false;
        arg = tok;
      }
    }
    if (name !== '' && !out.has(name)) out.set(name, valid ? arg : true);
    i = j + 1;
  }
  return out;
}

/** A delta-seconds argument (RFC 9111 §1.2.2), or null when absent/invalid. */
export function deltaSeconds(cc: CacheControl, name: string): number | null {
  const v = cc.get(name);
  if (v === undefined || v === true) return null;
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return Number.isFinite(n) ? Math.min(n, 2 ** 31) : null;
}

/** Field names listed in a qualified directive such as `no-cache="set-cookie, x-a"`. */
export function fieldList(cc: CacheControl, name: string): string[] | null {
  const v = cc.get(name);
  if (v === undefined || v === true) return null;
  return v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded nor stored; with them
 * the proxy authentication fields, which concern this hop only (RFC 9111 §3.1).
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The hop-by-hop set plus whatever a Connection header lists. */
export function hopByHop(connection: HeaderValue): Set<string> {
  if (connection === undefined) return HOP_BY_HOP;
  const extra = (Array.isArray(connection) ? connection.join(',') : connection)
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'close' && s !== 'keep-alive');
  if (extra.length === 0) return HOP_BY_HOP;
  const set = new Set(HOP_BY_HOP);
  for (const e of extra) set.add(e);
  return set;
}

/** One header of a record, list values joined (set-cookie excepted: callers never join it). */
export function headerString(h: HeaderRecord, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };
const MON = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^(?:mon|tue|wed|thu|fri|sat|sun), (\\d{2}) ${MON} (\\d{4}) ${TIME} gmt$`, 'i');
const RFC850_DATE = new RegExp(`^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday), (\\d{2})-${MON}-(\\d{2}) ${TIME} gmt$`, 'i');
const ASCTIME_DATE = new RegExp(`^(?:mon|tue|wed|thu|fri|sat|sun) ${MON} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');

function utc(year: number, month: number, day: number, h: number, m: number, s: number): number {
  if (day < 1 || h > 23 || m > 59 || s > 60) return NaN;
  const t = Date.UTC(year, month, day, h, m, Math.min(s, 59));
  return new Date(t).getUTCDate() === day ? t : NaN; // no 31 Feb
}

/**
 * Parse an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, or the obsolete
 * rfc850-date and asctime-date, matched case-insensitively as a cache
 * recipient should (RFC 9111 §4.2). NaN for anything else ("0", other
 * time zones, missing commas, ...).
 */
export function parseHttpDate(v: string | undefined): number {
  if (v === undefined) return NaN;
  const t = v.trim();
  let m = IMF_FIXDATE.exec(t);
  if (m !== null) return utc(Number(m[3]), MONTHS[m[2]!.toLowerCase()]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850_DATE.exec(t);
  if (m !== null) {
    // a two-digit year more than 50 years ahead is the most recent such year in the past
    const now = new Date();
    let year = now.getUTCFullYear() - (now.getUTCFullYear() % 100) + Number(m[3]);
    const at = utc(year, MONTHS[m[2]!.toLowerCase()]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
    if (at - now.getTime() > 50 * 365.25 * 86_400_000) year -= 100;
    return utc(year, MONTHS[m[2]!.toLowerCase()]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME_DATE.exec(t);
  if (m !== null) return utc(Number(m[6]), MONTHS[m[1]!.toLowerCase()]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return NaN;
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * Entity tags of an If-None-Match / If-Match / If-Range list; ['*'] for a
 * wildcard. Commas inside quotes are kept; an unquoted tag is taken as is.
 */
export function parseEtagList(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of v) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      if (cur.trim() !== '') out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** A weak entity tag (W/"..."; a lower-case w/ is accepted as well). */
export const isWeak = (t: string) => t.length > 1 && (t[0] === 'W' || t[0] === 'w') && t[1] === '/';
/** The opaque part of an entity tag: W/ and the quotes removed (unquoted tags compare as if quoted). */
const opaque = (t: string) => {
  const s = isWeak(t) ? t.slice(2) : t;
  return s.length >= 2 && s[0] === '"' && s[s.length - 1] === '"' ? s.slice(1, -1) : s;
};

/** Weak comparison (RFC 9110 §8.8.3.2): opaque tags equal, W/ prefixes ignored. */
export function weakEtagMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b);
}

/** Strong comparison: neither weak, opaque tags equal. */
export function strongEtagMatch(a: string, b: string): boolean {
  return !isWeak(a) && !isWeak(b) && opaque(a) === opaque(b);
}

/** Tags of a response: Surrogate-Key (space-separated) and Cache-Tag (comma-separated). */
export function responseTags(h: HeaderRecord): string[] {
  const tags: string[] = [];
  const sk = headerString(h, 'surrogate-key');
  if (sk !== undefined) for (const t of sk.split(/[\s,]+/)) if (t !== '') tags.push(t);
  const ct = headerString(h, 'cache-tag');
  if (ct !== undefined) for (const t of ct.split(',')) if (t.trim() !== '') tags.push(t.trim());
  return tags;
}

/** Request fields whose values are case-insensitive tokens (language tags, codings, charsets). */
const CASELESS_VARY = new Set(['accept-language', 'accept-encoding', 'accept-charset']);

/**
 * Normalise a request header value for a Vary/secondary key (RFC 9111 §4.1):
 * list members trimmed and rejoined with "," (so "1,2", " 1, 2 " and two
 * field lines "1" and "2" select the same variant), inner whitespace
 * collapsed; lower-cased for fields whose values are case-insensitive.
 */
export function normalizeVaryValue(name: string, v: string | undefined): string {
  if (v === undefined) return '';
  const n =
    v.indexOf(',') < 0
      ? v.trim().replace(/\s+/g, ' ')
      : v
          .split(',')
          .map((x) => x.trim().replace(/\s+/g, ' '))
          .join(',');
  return CASELESS_VARY.has(name) ? n.toLowerCase() : n;
}

/** JSON with every non-ASCII char escaped, so any client's encoding round-trips it. */
export function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
