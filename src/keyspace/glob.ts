/**
 * Glob-style pattern matching with the exact semantics of Redis's
 * `stringmatchlen()` (util.c, Redis 7.x), as used by KEYS, SCAN MATCH,
 * PSUBSCRIBE, CONFIG GET, ACL key patterns, ...
 *
 * Strings are latin1 JS strings (one char per byte, codes 0..255).
 *
 * Syntax:
 *   *        any run of characters (consecutive stars are collapsed)
 *   ?        exactly one character
 *   [...]    one character from a class; `[^...]` negates; `a-z` ranges
 *            (reversed ranges such as `z-a` are swapped); `\x` is a literal x
 *   \x       literal x (a trailing lone backslash is a literal backslash)
 *
 * Quirks that are reproduced on purpose (all verified against redis-server
 * 7.0 on x86_64):
 *   - An empty string is only matched by an empty pattern: the main loop of
 *     stringmatchlen runs `while (patternLen && stringLen)`, so "*" does NOT
 *     match "". (KEYS and SCAN special-case the exact pattern "*" before
 *     calling stringmatchlen, so callers should do the same if they want the
 *     empty key to show up for `KEYS *`.) Trailing stars are skipped once the
 *     string has been consumed, so "a*" does match "a".
 *   - An unclosed `[` makes the class run to the end of the pattern.
 *   - `]` right after `[` (or `[^`) closes an empty class: `[]` never matches
 *     and `[^]` matches any single character.
 *   - Ranges compare *signed* chars (x86 `char`), so a byte >= 0x80 counts as
 *     negative inside a range: `[\x01-\xff]` is the swapped range -1..1.
 *   - `[a-]` is the range a..']' (the `-` takes the closing bracket as its end,
 *     and the class then runs on to the next `]` or the end of the pattern).
 *   - With nocase, folding is ASCII-only (C locale `tolower`), and an escaped
 *     character inside a class (`[\A]`) is compared case-sensitively.
 *   - Nesting guard: Redis refuses to recurse through more than 1000 star
 *     groups. A non-trailing 1001st star group reached while string remains
 *     makes the whole match fail.
 *
 * Complexity: the matcher keeps a single backtrack point (the most recent
 * star), which is exactly what Redis's `skipLongerMatches` optimisation does,
 * so the worst case is O(pattern * string) with no exponential blowup.
 */

/** Redis's recursion limit on star groups (`nesting > 1000` returns 0). */
const MAX_STAR_NESTING = 1000;

const enum Kind {
  Star,
  Any,
  Lit,
  Class,
}

type Token =
  | { kind: Kind.Star; group: number }
  | { kind: Kind.Any }
  | { kind: Kind.Lit; code: number }
  | { kind: Kind.Class; table: Uint8Array };

/** C-locale tolower(): ASCII only. */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Interpret a byte as an x86 signed `char`. */
function signed(c: number): number {
  return c >= 128 && c <= 255 ? c - 256 : c;
}

/** tolower() on a value that may be negative (glibc: identity for -128..-1). */
function lowerSigned(c: number): number {
  return c >= 0 ? lower(c) : c;
}

/**
 * Compile the bracket expression that starts right after `[` at index `i`.
 * Returns the 256-entry membership table and the index just past the class.
 */
function compileClass(p: string, i: number, nocase: boolean): { table: Uint8Array; next: number } {
  const n = p.length;
  const table = new Uint8Array(256);
  let not = false;
  if (p.charCodeAt(i) === 94 /* ^ */) {
    not = true;
    i++;
  }
  for (;;) {
    const rest = n - i; // Redis's patternLen at this point
    const c = p.charCodeAt(i); // NaN past the end (C would read the NUL)
    if (c === 92 /* \ */ && rest >= 2) {
      // Escaped char: exact comparison, even with nocase.
      const e = p.charCodeAt(i + 1);
      if (e < 256) table[e] = 1;
      i += 2;
    } else if (c === 93 /* ] */) {
      i++;
      break;
    } else if (rest <= 0) {
      // Unclosed class: it consumed the rest of the pattern.
      i = n;
      break;
    } else if (rest >= 3 && p.charCodeAt(i + 1) === 45 /* - */) {
      let start = signed(c);
      let end = signed(p.charCodeAt(i + 2));
      if (start > end) {
        const t = start;
        start = end;
        end = t;
      }
      if (nocase) {
        start = lowerSigned(start);
        end = lowerSigned(end);
      }
      for (let b = 0; b < 256; b++) {
        const v = nocase ? lowerSigned(signed(b)) : signed(b);
        if (v >= start && v <= end) table[b] = 1;
      }
      i += 3;
    } else {
      if (nocase) {
        const lc = lower(c);
        for (let b = 0; b < 256; b++) if (lower(b) === lc) table[b] = 1;
      } else if (c < 256) {
        table[c] = 1;
      }
      i++;
    }
  }
  if (not) for (let b = 0; b < 256; b++) table[b] ^= 1;
  return { table, next: i };
}

function compile(p: string, nocase: boolean): Token[] {
  const tokens: Token[] = [];
  const n = p.length;
  let groups = 0;
  let i = 0;
  while (i < n) {
    const c = p.charCodeAt(i);
    if (c === 42 /* * */) {
      while (i < n && p.charCodeAt(i) === 42) i++;
      tokens.push({ kind: Kind.Star, group: ++groups });
    } else if (c === 63 /* ? */) {
      tokens.push({ kind: Kind.Any });
      i++;
    } else if (c === 91 /* [ */) {
      const { table, next } = compileClass(p, i + 1, nocase);
      tokens.push({ kind: Kind.Class, table });
      i = next;
    } else if (c === 92 /* \ */ && n - i >= 2) {
      const e = p.charCodeAt(i + 1);
      tokens.push({ kind: Kind.Lit, code: nocase ? lower(e) : e });
      i += 2;
    } else {
      // Plain char, including a trailing lone backslash.
      tokens.push({ kind: Kind.Lit, code: nocase ? lower(c) : c });
      i++;
    }
  }
  return tokens;
}

function run(tokens: Token[], s: string, nocase: boolean): boolean {
  const n = s.length;
  const m = tokens.length;
  // The main loop of stringmatchlen never runs on an empty string.
  if (n === 0) return m === 0;

  let t = 0; // token index
  let i = 0; // string index (always < n inside the loop)
  let backT = -1; // token after the most recent star
  let backI = -1; // string position that star's continuation was tried at

  for (;;) {
    let ok = false;
    if (t < m) {
      const tok = tokens[t]!;
      if (tok.kind === Kind.Star) {
        if (t === m - 1) return true; // trailing star matches the rest
        if (tok.group > MAX_STAR_NESTING) return false; // Redis's nesting guard
        backT = t + 1;
        backI = i;
        t++;
        continue;
      }
      const c = s.charCodeAt(i);
      if (tok.kind === Kind.Any) ok = true;
      else if (tok.kind === Kind.Lit) ok = (nocase ? lower(c) : c) === tok.code;
      else ok = tok.table[c] === 1;
    }
    if (ok) {
      t++;
      i++;
      if (i === n) {
        // String consumed: skip trailing stars; match iff pattern consumed.
        while (t < m && tokens[t]!.kind === Kind.Star) t++;
        if (t === m) return true;
      } else {
        continue;
      }
    }
    // Mismatch (or pattern exhausted / string exhausted with pattern left):
    // retry the continuation of the last star one character later. Redis only
    // tries continuations against non-empty string remainders.
    if (backT < 0) return false;
    backI++;
    if (backI >= n) return false;
    i = backI;
    t = backT;
  }
}

/** A compiled pattern, reusable across many keys (KEYS / SCAN MATCH). */
export type GlobMatcher = (str: string) => boolean;

/** Compile `pattern` once and return a matcher function. */
export function compileGlob(pattern: string, nocase = false): GlobMatcher {
  const tokens = compile(pattern, nocase);
  return (str: string) => run(tokens, str, nocase);
}

// Small cache so repeated globMatch() calls with the same pattern (e.g. a
// PSUBSCRIBE pattern checked on every PUBLISH) don't recompile each time.
const CACHE_MAX = 128;
const cache = new Map<string, Token[]>();

/** Redis `stringmatchlen(pattern, str, nocase)`. */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  const key = (nocase ? '1' : '0') + pattern;
  let tokens = cache.get(key);
  if (tokens === undefined) {
    tokens = compile(pattern, nocase);
    if (pattern.length <= 256) {
      if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
      cache.set(key, tokens);
    }
  }
  return run(tokens, str, nocase);
}

/**
 * True if the pattern contains none of `* ? [ \`, i.e. (with nocase=false)
 * it matches exactly one string: itself. Lets KEYS/SCAN MATCH do a direct
 * lookup instead of a scan.
 */
export function isLiteralPattern(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 42 || c === 63 || c === 91 || c === 92) return false;
  }
  return true;
}
