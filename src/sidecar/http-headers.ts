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
 * case-insensitive, arguments as token or quoted-string. Unknown directives
 * are kept (callers ignore them). A duplicated directive keeps its first value.
 */
export function parseCacheControl(value: string | undefined): CacheControl {
  if (value === undefined || value === '') return EMPTY_CC;
  const out: CacheControl = new Map();
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    let j = i;
    while (j < n && value[j] !== '=' && value[j] !== ',') j++;
    const name = value.slice(i, j).trim().toLowerCase();
    let arg: string | true = true;
    if (j < n && value[j] === '=') {
      j++;
      while (j < n && value[j] === ' ') j++;
      if (value[j] === '"') {
        let k = j + 1;
        let s = '';
        while (k < n && value[k] !== '"') {
          if (value[k] === '\\' && k + 1 < n) k++;
          s += value[k];
          k++;
        }
        arg = s;
        j = k + 1;
        while (j < n && value[j] !== ',') j++;
      } else {
        const k = j;
        while (j < n && value[j] !== ',') j++;
        arg = value.slice(k, j).trim();
      }
    }
    if (name !== '' && !out.has(name)) out.set(name, arg);
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

/** Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded nor stored. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
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

/** Parse an HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands); NaN when invalid. */
export function parseHttpDate(v: string | undefined): number {
  if (v === undefined || v === '') return NaN;
  const t = Date.parse(v);
  return t;
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Entity tags of an If-None-Match / If-Match list; ['*'] for a wildcard. */
export function parseEtagList(v: string): string[] {
  const out: string[] = [];
  const re = /\s*(\*|(?:W\/)?"[^"]*")\s*(?:,|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    out.push(m[1]!);
    if (re.lastIndex >= v.length) break;
  }
  return out;
}

/** Weak comparison (RFC 9110 §8.8.3.2): opaque tags equal, W/ prefixes ignored. */
export function weakEtagMatch(a: string, b: string): boolean {
  const strip = (s: string) => (s.startsWith('W/') ? s.slice(2) : s);
  return strip(a) === strip(b);
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

/** Normalise a request header value for a Vary/secondary key: trimmed, inner whitespace collapsed. */
export function normalizeVaryValue(v: string | undefined): string {
  if (v === undefined) return '';
  return v.trim().replace(/\s+/g, ' ');
}

/** JSON with every non-ASCII char escaped, so any client's encoding round-trips it. */
export function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
