/**
 * Cache directives targeted at caches like this one rather than at every
 * cache: CDN-Cache-Control (RFC 9213: a Structured Field Dictionary, RFC 8941)
 * and Surrogate-Control (W3C Edge Architecture 1.0: directives optionally
 * addressed to a device, `max-age=60;cacheside`). The sidecar is a cache run
 * by the origin's operator, which is what both address.
 *
 * When one of them applies (CDN-Cache-Control first), its directives stand
 * in for Cache-Control and Expires in every storage and freshness decision
 * (RFC 9213 §2.2); Cache-Control still goes to clients, and so do the
 * targeted fields themselves (a CDN further out may use them too).
 */
import { headerString, type CacheControl, type HeaderRecord } from './http-headers.js';

/** The device token this cache answers to in Surrogate-Control, announced upstream in Surrogate-Capability. */
export const SURROGATE_DEVICE = 'cacheside';
export const SURROGATE_CAPABILITY = `${SURROGATE_DEVICE}="Surrogate/1.0"`;

/**
 * The targeted directives that apply to a response, or null when none do
 * (then Cache-Control and Expires rule). The response is only inspected
 * when it carries one of the fields.
 */
export function targetedDirectives(h: HeaderRecord): CacheControl | null {
  if (h['cdn-cache-control'] !== undefined) {
    const cdn = cdnCacheControl(headerString(h, 'cdn-cache-control')!);
    if (cdn !== null) return cdn;
  }
  if (h['surrogate-control'] !== undefined) return surrogateControl(headerString(h, 'surrogate-control')!);
  return null;
}

/** Directives whose argument is a list of field names (a String, or an Inner List of Strings or Tokens). */
const FIELD_LIST_DIRECTIVES = new Set(['private', 'no-cache']);

/**
 * CDN-Cache-Control as cache directives: null when the field is not a valid
 * Dictionary or is empty (it is then ignored, RFC 9213 §2.1). A directive
 * without value is true; a delta-seconds argument must be an Integer, a
 * field list a String or Inner List; an argument of another type drops the
 * directive ("SHOULD NOT consume" values violating those constraints).
 */
export function cdnCacheControl(value: string): CacheControl | null {
  const dict = parseDictionary(value);
  if (dict === null || dict.size === 0) return null;
  const out: CacheControl = new Map();
  for (const [key, v] of dict) {
    if (v === true) out.set(key, true);
    else if (typeof v === 'number') out.set(key, String(v));
    else if (FIELD_LIST_DIRECTIVES.has(key)) {
      if (typeof v === 'string') out.set(key, v);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out.set(key, v.join(', '));
    }
  }
  return out;
}

const SC_DIRECTIVE = /^([A-Za-z][A-Za-z0-9_.-]*)(?:=([^\s;]*))?$/;

/**
 * Surrogate-Control as cache directives, or null when no directive applies.
 * Directives addressed to this device (`;cacheside`) win over unaddressed
 * ones; those addressed elsewhere are ignored. `max-age=N` is the freshness,
 * `max-age=N+M` adds M seconds in which a stale copy may stand in for an
 * unreachable upstream (stale-if-error); `no-store` forbids storing. Other
 * directives (`content`, `no-store-remote`: this cache sits next to the
 * origin) and malformed ones (`max-age =5`) are ignored.
 */
export function surrogateControl(value: string): CacheControl | null {
  const mine: [string, string | true][] = [];
  const anyone: [string, string | true][] = [];
  for (const part of value.split(',')) {
    const semi = part.indexOf(';');
    const main = (semi < 0 ? part : part.slice(0, semi)).trim();
    const target = semi < 0 ? undefined : part.slice(semi + 1).trim().toLowerCase();
    const m = SC_DIRECTIVE.exec(main);
    if (m === null) continue;
    const name = m[1]!.toLowerCase();
    if (name !== 'max-age' && name !== 'no-store') continue;
    if (target === undefined) anyone.push([name, m[2] ?? true]);
    else if (target === SURROGATE_DEVICE) mine.push([name, m[2] ?? true]);
  }
  const chosen = mine.length > 0 ? mine : anyone;
  const out: CacheControl = new Map();
  for (const [name, arg] of chosen) {
    if (out.has(name)) continue;
    if (name === 'no-store') out.set('no-store', true);
    else {
      const ma = typeof arg === 'string' ? /^(\d+)(?:\+(\d+))?$/.exec(arg) : null;
      if (ma === null) continue;
      out.set('max-age', ma[1]!);
      if (ma[2] !== undefined) out.set('stale-if-error', ma[2]);
    }
  }
  return out.size > 0 ? out : null;
}

// ---- Structured Field Dictionary (RFC 8941 §4.2.2), values only ----------

/** A Decimal, kept apart from Integers (a max-age of 10.0 is not consumed). */
class Decimal {
  constructor(readonly value: number) {}
}
/** A member value: Integer (number), Decimal, String or Token (string), Boolean, Byte Sequence (Buffer), Inner List. */
type BareItem = number | Decimal | string | boolean | Buffer;
type Member = BareItem | BareItem[];

const KEY_START = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_.*-]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;

/** Parse a Dictionary; null when the value is not one. Later duplicates win; parameters are checked and dropped. */
export function parseDictionary(input: string): Map<string, Member> | null {
  const s = input.replace(/^ +| +$/g, '');
  const out = new Map<string, Member>();
  let i = 0;
  const fail = () => null;
  if (s === '') return out;
  for (;;) {
    const key = parseKey();
    if (key === null) return fail();
    let value: Member | null;
    if (s[i] === '=') {
      i++;
      value = s[i] === '(' ? parseInnerList() : parseBareItem();
    } else value = true;
    if (value === null || !parseParameters()) return fail();
    out.set(key, value);
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) return out;
    if (s[i] !== ',') return fail();
    i++;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) return fail(); // trailing comma
  }

  function parseKey(): string | null {
    if (i >= s.length || !KEY_START.test(s[i]!)) return null;
    const start = i;
    while (i < s.length && KEY_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  }

  function parseParameters(): boolean {
    while (s[i] === ';') {
      i++;
      while (s[i] === ' ') i++;
      if (parseKey() === null) return false;
      if (s[i] === '=') {
        i++;
        if (parseBareItem() === null) return false;
      }
    }
    return true;
  }

  function parseInnerList(): BareItem[] | null {
    i++; // (
    const items: BareItem[] = [];
    for (;;) {
      while (s[i] === ' ') i++;
      if (i >= s.length) return null;
      if (s[i] === ')') {
        i++;
        return parseParameters() ? items : null;
      }
      const item = parseBareItem();
      if (item === null || !parseParameters()) return null;
      items.push(item);
      if (s[i] !== ' ' && s[i] !== ')') return null;
    }
  }

  function parseBareItem(): BareItem | null {
    const c = s[i];
    if (c === undefined) return null;
    if (c === '-' || (c >= '0' && c <= '9')) return parseNumber();
    if (c === '"') return parseString();
    if (c === '*' || /[A-Za-z]/.test(c)) {
      const start = i;
      i++;
      while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
      return s.slice(start, i);
    }
    if (c === ':') {
      const end = s.indexOf(':', i + 1);
      if (end < 0) return null;
      const b64 = s.slice(i + 1, end);
      if (!/^[A-Za-z0-9+/=]*$/.test(b64)) return null;
      i = end + 1;
      return Buffer.from(b64, 'base64');
    }
    if (c === '?') {
      const b = s[i + 1];
      if (b !== '0' && b !== '1') return null;
      i += 2;
      return b === '1';
    }
    return null;
  }

  function parseNumber(): number | Decimal | null {
    const m = /^-?(\d{1,15})(\.\d{1,3})?/.exec(s.slice(i));
    if (m === null) return null;
    if (m[2] !== undefined && m[1]!.length > 12) return null;
    const next = s[i + m[0].length];
    if (next !== undefined && (next === '.' || (next >= '0' && next <= '9'))) return null;
    i += m[0].length;
    return m[2] === undefined ? Number(m[0]) : new Decimal(Number(m[0]));
  }

  function parseString(): string | null {
    let out = '';
    i++;
    while (i < s.length) {
      const c = s[i++]!;
      if (c === '\\') {
        const n = s[i++];
        if (n !== '"' && n !== '\\') return null;
        out += n;
      } else if (c === '"') return out;
      else if (c < ' ' || c > '~') return null;
      else out += c;
    }
    return null;
  }
}
