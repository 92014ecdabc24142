/**
 * Random command generator for the differential test (differential.test.ts):
 * string, bitmap and keyspace commands (plus OBJECT ENCODING/REFCOUNT) over a
 * 20-key space, with valid and invalid arguments, wrong arities, fuzzed
 * arguments, unknown commands, binary values and odd option orders, driven by
 * a seeded PRNG so that a run can be replayed with DIFF_SEED=<seed>. Lists,
 * sets, hashes and zsets are mixed in (for WRONGTYPE) when cacheside has them.
 *
 * Every generated step says how its replies are compared, because some
 * replies are legitimately different between two correct servers (TTLs read
 * a few ms apart, RANDOMKEY, SCAN cursors).
 *
 * Timing rules that keep the two servers in step:
 * - relative TTLs are always >= 100 s, so nothing expires by surprise while
 *   the test runs; absolute ones are either in the past (the key goes away
 *   at once) or >= ABS_MIN_OFFSET_S in the future, a range that relative
 *   TTLs never reach, so EXPIRETIME/PEXPIRETIME of absolute expiries are
 *   compared exactly;
 * - a key that may be logically expired (tiny PX, past EXAT/PXAT) is read
 *   right away (EXISTS), so both servers have removed it before DBSIZE can
 *   count it;
 * - no command can allocate more than a few KB (offsets are bounded, and
 *   the "huge" integers used are all beyond the servers' limits).
 */

// ---------------------------------------------------------------------------
// PRNG

/** sfc32, seeded through splitmix32: small, fast and good enough for fuzzing. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform uint32. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

// ---------------------------------------------------------------------------
// Steps

/**
 * How the replies of a step are compared.
 * - exact: identical RESP values (wire types included).
 * - sorted: arrays compared as multisets (KEYS).
 * - ttl: integers >= 0 may differ by a tolerance (TTL/PTTL/EXPIRETIME/PEXPIRETIME).
 * - randomkey: both nil, or both a bulk string naming a key that exists.
 * - scan: a full SCAN iteration; the union of the keys is compared.
 * - hello: both succeed; the contents (server id, version) are not compared.
 */
export type CompareMode = 'exact' | 'sorted' | 'ttl' | 'randomkey' | 'scan' | 'hello';

export interface Step {
  /** The command; for 'scan' steps, the options that follow the cursor (MATCH/COUNT/TYPE). */
  argv: string[];
  compare: CompareMode;
  /** For 'ttl': the unit of the reply ('s' or 'ms'), which sets the tolerance. */
  unit?: 's' | 'ms';
  /** Pause after the step (lets a tiny TTL run out on both servers). */
  sleepAfterMs?: number;
}

// ---------------------------------------------------------------------------
// Vocabulary

const SMALL_KEYS = Array.from({ length: 15 }, (_, i) => `k${i}`);
/** 20 keys: most are plain, a few are binary or contain glob characters. */
export const KEYS: readonly string[] = [...SMALL_KEYS, 'bin\x00key', '\xff\xfe', 'a b', 'cr\r\nlf', 'k[1]'];

/** Databases the generator moves keys between (plus the odd invalid index). */
export const DBS = 4;

const BYTE_ALPHABET = ['a', 'b', 'c', 'x', 'y', '0', '1', '9', ' ', '\x00', '\xff', '\x80', '\r', '\n', '\r\n', '\xe9', '\x01', '*', '?'];
const WORDS = ['', 'foo', 'bar', 'hello world', 'ohmytext', 'mynewtext', 'redis', '\r\n', '\x00', '\x00\x00\x00', '\xff\xf0\x00', '\x00\xff', '`'];
const INT_EDGE = [
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', '-9223372036854775809',
  '18446744073709551616', '4294967296', '-4294967296', '2147483648',
  '1.5', '1e3', '', ' 1', '1 ', '+1', '01', '-0', '0x10', 'abc', '\x00', '1\x00', '--1',
];
const FLOATS = [
  '0', '1', '-1', '1.5', '-0.5', '0.1', '3.0', '1e3', '1E3', '-1e-3', '2.5e-5', '1e308', '-1e308', '1e-320', '5e-324',
  '1.7976931348623157e308', '123456789.123456789', '0.30000000000000004', '10.5', '-0', '+3', '.5', '5.',
  'inf', '-inf', '+inf', 'Infinity', 'nan', 'NaN', '0x10', ' 1', '1 ', '', '1e', '--1', 'abc', '1.0e1',
  '123456789012345678901234567890', '9223372036854775807', '-9223372036854775808',
];
const OPTION_WORDS = [
  'NX', 'XX', 'GT', 'LT', 'GET', 'EX', 'PX', 'EXAT', 'PXAT', 'KEEPTTL', 'PERSIST', 'LEN', 'IDX', 'MINMATCHLEN',
  'WITHMATCHLEN', 'BYTE', 'BIT', 'MATCH', 'COUNT', 'TYPE', 'DB', 'REPLACE', 'AND', 'OR', 'XOR', 'NOT', 'SET',
  'INCRBY', 'OVERFLOW', 'WRAP', 'SAT', 'FAIL', 'u8', 'i8', 'i64', 'u63', 'u64', 'ASYNC', 'SYNC', 'FOO',
];
const KEY_PATTERNS = [
  '*', 'k*', 'k?', 'k1*', 'k[0-4]', 'k[^0-4]*', 'k[!1]', '*\x00*', 'bin*', '\\*', 'k\\[1\\]', 'k[1]', '[a-c]*',
  '*e*', '', 'nomatch', 'K*', '?', '??', 'k[', 'k[a-', '*\r\n*', '\xff*', 'k[1-3', '[', '\\', 'k1\\', '*[]]*',
  'k[3-1]', '[^a]*', 'a?b', '**', '*1',
];

/** Commands the generator can emit, for DIFF_SKIP validation and the arity/fuzz generators. */
export const COMMANDS: readonly string[] = [
  'get', 'set', 'setnx', 'setex', 'psetex', 'getset', 'getdel', 'getex', 'mget', 'mset', 'msetnx', 'append',
  'strlen', 'getrange', 'substr', 'setrange', 'incr', 'decr', 'incrby', 'decrby', 'incrbyfloat', 'lcs', 'setbit',
  'getbit', 'bitcount', 'bitpos', 'bitop', 'bitfield', 'bitfield_ro', 'del', 'unlink', 'exists', 'type', 'keys',
  'randomkey', 'rename', 'renamenx', 'copy', 'move', 'touch', 'expire', 'pexpire', 'expireat', 'pexpireat', 'ttl',
  'pttl', 'expiretime', 'pexpiretime', 'persist', 'dbsize', 'select', 'flushdb', 'scan', 'object',
];

/** Commands whose replies are TTL-like (compared with a tolerance). */
const TTL_UNITS: Record<string, 's' | 'ms'> = { ttl: 's', pttl: 'ms', expiretime: 's', pexpiretime: 'ms' };

/**
 * Commands the argument fuzzer leaves alone: their random replies cannot be
 * compared (SCAN cursors, RANDOMKEY), they could set a short relative TTL that
 * runs out mid-test at slightly different times on the two servers, or they
 * would wipe the key space too often.
 */
const NOT_FUZZED = new Set(['scan', 'randomkey', 'flushdb', 'set', 'setex', 'psetex', 'getex', 'expire', 'pexpire']);

export interface GeneratorOptions {
  /** Arity of each command as redis-server's COMMAND INFO reports it. */
  arity: ReadonlyMap<string, number>;
  /** Unix time (s) at the start of the run; absolute expiries are derived from it. */
  nowSec: number;
  /** Non-string types to create as well (to exercise WRONGTYPE), those whose commands cacheside has. */
  aggregates: readonly AggregateType[];
  /** Commands not to generate (DIFF_SKIP, to look past a known mismatch). */
  skip: ReadonlySet<string>;
}

export type AggregateType = 'list' | 'set' | 'hash' | 'zset';

/** Per type: the commands that create/read it (all must work on cacheside for the type to be generated). */
export const AGGREGATE_PROBES: Record<AggregateType, string[][]> = {
  list: [['RPUSH', '__probe_l', 'x'], ['LRANGE', '__probe_l', '0', '-1']],
  set: [['SADD', '__probe_s', 'x'], ['SCARD', '__probe_s'], ['SISMEMBER', '__probe_s', 'x']],
  hash: [['HSET', '__probe_h', 'f', 'v'], ['HGET', '__probe_h', 'f'], ['HLEN', '__probe_h']],
  zset: [['ZADD', '__probe_z', '1', 'x'], ['ZRANGE', '__probe_z', '0', '-1', 'WITHSCORES']],
};

/**
 * Very large valid absolute expiries. Redis keeps expiries as exact int64 ms;
 * cacheside keeps them as doubles, exact up to 2^53 ms (year ~287,000) — a
 * known, documented limitation. By default the generator uses the largest
 * exactly representable values; DIFF_HUGE_EXPIRES=1 adds the int64 extremes
 * (EXAT 9223372036854775 is the largest valid EXAT), which currently differ
 * by a few ms in TTL/PEXPIRETIME.
 */
const HUGE = process.env.DIFF_HUGE_EXPIRES === '1';
const HUGE_ABS_SECONDS = HUGE ? ['9223372036854775'] : ['9007199254740'];
const HUGE_ABS_MILLIS = HUGE ? ['9223372036854775807', '9223372036854775806'] : ['9007199254740991', '9007199254740990'];

/** Absolute expiries in the future are at least this far ahead; relative TTLs stay far below it. */
export const ABS_MIN_OFFSET_S = 200_000;
const REL_MAX_S = 100_000;

type Gen = () => Step[];

export class CommandGenerator {
  private readonly r: Prng;
  private readonly table: Array<{ name: string; weight: number; gen: Gen }>;
  private readonly totalWeight: number;

  constructor(
    seed: number,
    private readonly opts: GeneratorOptions,
  ) {
    this.r = new Prng(seed);
    this.table = this.buildTable().filter((e) => !opts.skip.has(e.name));
    this.totalWeight = this.table.reduce((n, e) => n + e.weight, 0);
  }

  /** The next step(s): usually one command, sometimes a short sequence (e.g. tiny TTL + pause + EXISTS). */
  next(): Step[] {
    let x = this.r.float() * this.totalWeight;
    for (const e of this.table) {
      x -= e.weight;
      if (x < 0) return e.gen();
    }
    return this.table[this.table.length - 1]!.gen();
  }

  // -------------------------------------------------------------------------
  // Building blocks

  private cmd(name: string, ...args: string[]): Step[] {
    const unit = TTL_UNITS[name];
    const compare: CompareMode = name === 'keys' ? 'sorted' : unit ? 'ttl' : 'exact';
    return [{ argv: [this.casing(name), ...args], compare, ...(unit ? { unit } : {}) }];
  }

  /** Usually upper case, sometimes lower or mixed: names and options are case-insensitive. */
  private casing(word: string): string {
    const x = this.r.float();
    if (x < 0.6) return word.toUpperCase();
    if (x < 0.85) return word.toLowerCase();
    return [...word].map((c) => (this.r.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
  }

  private key(): string {
    // Skew towards a handful of keys so that commands hit the same keys often.
    return this.r.chance(0.5) ? this.r.pick(KEYS.slice(0, 6)) : this.r.pick(KEYS);
  }

  private keys(min: number, max: number): string[] {
    return Array.from({ length: this.r.int(min, max) }, () => this.key());
  }

  private bytes(min: number, max: number): string {
    let s = '';
    const n = this.r.int(min, max);
    while (s.length < n) s += this.r.pick(BYTE_ALPHABET);
    return s;
  }

  private value(): string {
    const x = this.r.float();
    if (x < 0.3) return String(this.r.int(-100, 100));
    if (x < 0.36) return this.r.pick(INT_EDGE);
    if (x < 0.46) return this.r.pick(FLOATS);
    if (x < 0.76) return this.bytes(0, 16);
    if (x < 0.9) return this.r.pick(WORDS);
    if (x < 0.95) return this.bytes(40, 300);
    return String.fromCharCode(...Array.from({ length: this.r.int(1, 8) }, () => this.r.int(0, 255)));
  }

  /** A plausible integer argument: small, sometimes negative, sometimes an edge case. */
  private intArg(lo = -20, hi = 40): string {
    const x = this.r.float();
    if (x < 0.8) return String(this.r.int(lo, hi));
    if (x < 0.9) return this.r.pick(['0', '-1', '1', '100', '-100', '1000']);
    return this.r.pick(INT_EDGE);
  }

  private floatArg(): string {
    return this.r.chance(0.5) ? String(this.r.int(-50, 50)) : this.r.pick(FLOATS);
  }

  /** A bit offset: small, or one of the invalid ones (never a huge valid one: that would allocate up to 512 MB). */
  private bitOffset(): string {
    if (this.r.chance(0.92)) return String(this.r.int(0, this.r.chance(0.8) ? 80 : 1500));
    return this.r.pick(['-1', '4294967296', '9223372036854775807', 'abc', '1.5', '', '+1']);
  }

  /** Relative seconds for EX/EXPIRE: long, or an invalid/non-positive value. */
  private relSeconds(): string {
    if (this.r.chance(0.85)) return String(this.r.int(100, REL_MAX_S));
    return this.r.pick(['0', '-1', '-100', '9223372036854775807', '9223372036854775', '9223372036854776', 'abc', '1.5', '', ' 100']);
  }

  /** Relative ms for PX/PEXPIRE (whole seconds, so that two random TTLs are never a few ms apart). */
  private relMillis(): string {
    if (this.r.chance(0.85)) return String(this.r.int(100, REL_MAX_S) * 1000);
    return this.r.pick(['0', '-1', '-100', '9223372036854775807', '9223372036854775806', 'abc', '1.5', '']);
  }

  /** Absolute seconds: far future (exactly comparable), past, or invalid. */
  private absSeconds(): { arg: string; past: boolean } {
    const x = this.r.float();
    if (x < 0.7) return { arg: String(this.opts.nowSec + ABS_MIN_OFFSET_S + this.r.int(0, 100_000)), past: false };
    if (x < 0.85) return { arg: this.r.pick(['1', String(this.opts.nowSec - this.r.int(1, 100_000)), '0', '-1']), past: true };
    return { arg: this.r.pick(['9223372036854775807', ...HUGE_ABS_SECONDS, 'abc', '1.5', '', '-9223372036854775808']), past: false };
  }

  private absMillis(): { arg: string; past: boolean } {
    const x = this.r.float();
    if (x < 0.7) {
      const ms = (this.opts.nowSec + ABS_MIN_OFFSET_S) * 1000 + this.r.int(0, 100_000_000);
      return { arg: String(ms), past: false };
    }
    if (x < 0.85) return { arg: this.r.pick(['1', String(this.opts.nowSec * 1000 - this.r.int(1, 100_000_000)), '0', '-1']), past: true };
    return { arg: this.r.pick([...HUGE_ABS_MILLIS, 'abc', '1.5', '', '-9223372036854775808']), past: false };
  }

  /** A steps list followed by an EXISTS of `key`, so a logically expired key is reclaimed on both servers now. */
  private thenReclaim(steps: Step[], key: string, sleepMs = 0): Step[] {
    if (sleepMs > 0) steps[steps.length - 1]!.sleepAfterMs = sleepMs;
    return [...steps, ...this.cmd('exists', key)];
  }

  private db(): string {
    return this.r.chance(0.9) ? String(this.r.int(0, DBS - 1)) : this.r.pick(['16', '-1', 'abc', '1.5', '', '9223372036854775808', '15']);
  }

  // -------------------------------------------------------------------------
  // The table

  private buildTable(): Array<{ name: string; weight: number; gen: Gen }> {
    const r = this.r;
    const t: Array<{ name: string; weight: number; gen: Gen }> = [];
    const add = (name: string, weight: number, gen: Gen): void => {
      t.push({ name, weight, gen });
    };

    // --- strings -----------------------------------------------------------
    add('get', 6, () => this.cmd('get', this.key()));
    add('set', 10, () => this.genSet());
    add('setnx', 2, () => this.cmd('setnx', this.key(), this.value()));
    add('setex', 2, () => this.cmd('setex', this.key(), this.relSeconds(), this.value()));
    add('psetex', 2, () => {
      const k = this.key();
      if (r.chance(0.2)) return this.thenReclaim(this.cmd('psetex', k, String(r.int(1, 3)), this.value()), k, 15);
      return this.cmd('psetex', k, this.relMillis(), this.value());
    });
    add('getset', 2, () => this.cmd('getset', this.key(), this.value()));
    add('getdel', 2, () => this.cmd('getdel', this.key()));
    add('getex', 4, () => this.genGetex());
    add('mget', 3, () => this.cmd('mget', ...this.keys(1, 6)));
    add('mset', 3, () => this.cmd('mset', ...this.pairs()));
    add('msetnx', 2, () => this.cmd('msetnx', ...this.pairs()));
    add('append', 5, () => this.cmd('append', this.key(), this.value()));
    add('strlen', 3, () => this.cmd('strlen', this.key()));
    add('getrange', 4, () => this.cmd('getrange', this.key(), this.intArg(), this.intArg()));
    add('substr', 1, () => this.cmd('substr', this.key(), this.intArg(), this.intArg()));
    add('setrange', 4, () => {
      const off = r.chance(0.9) ? String(r.int(0, r.chance(0.8) ? 30 : 300)) : r.pick(['-1', '536870912', '9223372036854775807', 'abc', '']);
      return this.cmd('setrange', this.key(), off, r.chance(0.15) ? '' : this.value());
    });
    add('incr', 4, () => this.cmd('incr', this.key()));
    add('decr', 2, () => this.cmd('decr', this.key()));
    add('incrby', 3, () => this.cmd('incrby', this.key(), this.intArg(-1000, 1000)));
    add('decrby', 3, () => this.cmd('decrby', this.key(), this.intArg(-1000, 1000)));
    add('incrbyfloat', 5, () => this.cmd('incrbyfloat', this.key(), this.floatArg()));
    add('lcs', 3, () => this.genLcs());

    // --- bitmaps -------------------------------------------------------------
    add('setbit', 4, () => this.cmd('setbit', this.key(), this.bitOffset(), r.chance(0.9) ? r.pick(['0', '1']) : r.pick(['2', '-1', 'a', ''])));
    add('getbit', 3, () => this.cmd('getbit', this.key(), this.bitOffset()));
    add('bitcount', 3, () => {
      const a = [this.key()];
      if (r.chance(0.7)) a.push(this.intArg(-10, 20), this.intArg(-10, 20));
      else if (r.chance(0.3)) a.push(this.intArg());
      if (a.length === 3 && r.chance(0.4)) a.push(this.casing(r.pick(['BYTE', 'BIT', 'BIT', 'FOO'])));
      return this.cmd('bitcount', ...a);
    });
    add('bitpos', 3, () => {
      const a = [this.key(), r.chance(0.9) ? r.pick(['0', '1']) : r.pick(['2', '-1', 'x'])];
      const extra = r.int(0, 3);
      if (extra >= 1) a.push(this.intArg(-10, 20));
      if (extra >= 2) a.push(this.intArg(-10, 20));
      if (extra >= 3) a.push(this.casing(r.pick(['BYTE', 'BIT', 'BIT', 'FOO'])));
      return this.cmd('bitpos', ...a);
    });
    add('bitop', 3, () => {
      const op = r.chance(0.9) ? r.pick(['AND', 'OR', 'XOR', 'NOT']) : r.pick(['NAND', '', 'ANDX']);
      const srcs = op === 'NOT' && r.chance(0.8) ? [this.key()] : this.keys(1, 4);
      return this.cmd('bitop', this.casing(op), this.key(), ...srcs);
    });
    add('bitfield', 4, () => this.cmd('bitfield', this.key(), ...this.bitfieldOps(false)));
    add('bitfield_ro', 2, () => this.cmd('bitfield_ro', this.key(), ...this.bitfieldOps(true)));

    // --- keyspace ------------------------------------------------------------
    add('del', 3, () => this.cmd('del', ...this.keys(1, 4)));
    add('unlink', 2, () => this.cmd('unlink', ...this.keys(1, 4)));
    add('exists', 3, () => this.cmd('exists', ...this.keys(1, 5)));
    add('type', 3, () => this.cmd('type', this.key()));
    add('keys', 3, () => this.cmd('keys', r.chance(0.85) ? r.pick(KEY_PATTERNS) : this.key()));
    add('randomkey', 1, () => [{ argv: [this.casing('randomkey')], compare: 'randomkey' }]);
    add('rename', 3, () => this.cmd('rename', this.key(), r.chance(0.1) ? KEYS[0]! : this.key()));
    add('renamenx', 2, () => this.cmd('renamenx', this.key(), this.key()));
    add('copy', 3, () => {
      const a = [this.key(), this.key()];
      const opts: string[][] = [];
      if (r.chance(0.4)) opts.push([this.casing('DB'), this.db()]);
      if (r.chance(0.4)) opts.push([this.casing('REPLACE')]);
      if (r.chance(0.05)) opts.push([r.pick(['FOO', 'DB'])]);
      return this.cmd('copy', ...a, ...r.shuffle(opts).flat());
    });
    add('move', 2, () => this.cmd('move', this.key(), this.db()));
    add('touch', 2, () => this.cmd('touch', ...this.keys(1, 4)));
    add('expire', 4, () => this.genExpire('expire'));
    add('pexpire', 3, () => this.genExpire('pexpire'));
    add('expireat', 3, () => this.genExpire('expireat'));
    add('pexpireat', 3, () => this.genExpire('pexpireat'));
    add('ttl', 3, () => this.cmd('ttl', this.key()));
    add('pttl', 3, () => this.cmd('pttl', this.key()));
    add('expiretime', 3, () => this.cmd('expiretime', this.key()));
    add('pexpiretime', 3, () => this.cmd('pexpiretime', this.key()));
    add('persist', 3, () => this.cmd('persist', this.key()));
    add('dbsize', 3, () => this.cmd('dbsize'));
    add('select', 2, () => this.cmd('select', r.chance(0.8) ? String(r.int(0, DBS - 1)) : this.db()));
    add('flushdb', 0.15, () => this.cmd('flushdb', ...(r.chance(0.5) ? [] : [this.casing(r.pick(['ASYNC', 'SYNC', 'FOO']))])));
    add('scan', 2, () => this.genScan());
    add('object', 3, () => {
      // Encodings (int / embstr / raw) follow how a value was written; refcount shows shared integers.
      const x = r.float();
      if (x < 0.65) return this.cmd('object', this.casing('ENCODING'), this.key());
      if (x < 0.8) return this.cmd('object', this.casing('REFCOUNT'), this.key());
      if (x < 0.88) return this.cmd('object', this.casing('FREQ'), this.key());
      return this.cmd('object', ...r.pick([['ENCODING'], ['FOO', 'k0'], ['ENCODING', 'k0', 'x'], ['REFCOUNT'], ['IDLETIME'], ['encodings', 'k1']]));
    });

    // --- errors --------------------------------------------------------------
    add('arity', 4, () => this.genWrongArity());
    add('fuzz', 8, () => this.genFuzz());
    add('unknown', 0.4, () => {
      // Unknown names, echoed back (truncated to 128 bytes, cut at a NUL) with the first arguments.
      const name = r.pick(['NOSUCHCMD', 'getx', 'se t', '', '\x00', 'a\x00b', 'x'.repeat(r.int(120, 140)), 'get\r\n']);
      const args = Array.from({ length: r.int(0, 4) }, () => (r.chance(0.2) ? 'y'.repeat(r.int(40, 140)) : this.anyToken()));
      return [{ argv: [name, ...args], compare: 'exact' }];
    });
    if (this.opts.aggregates.length > 0) add('aggregate', 5, () => this.genAggregate());
    return t;
  }

  // -------------------------------------------------------------------------
  // Command-specific generators

  private pairs(): string[] {
    const n = this.r.int(1, 4);
    const a: string[] = [];
    for (let i = 0; i < n; i++) a.push(this.key(), this.value());
    if (this.r.chance(0.08)) a.pop(); // odd count
    return a;
  }

  /** SET with a random subset of options in random order, sometimes conflicting or malformed. */
  private genSet(): Step[] {
    const r = this.r;
    const k = this.key();
    const opts: string[][] = [];
    let reclaim = false;
    let sleep = 0;
    if (r.chance(0.3)) opts.push([this.casing(r.pick(['NX', 'XX']))]);
    if (r.chance(0.25)) opts.push([this.casing('GET')]);
    if (r.chance(0.45)) {
      const x = r.float();
      if (x < 0.25) opts.push([this.casing('EX'), this.relSeconds()]);
      else if (x < 0.45) {
        if (r.chance(0.25)) {
          opts.push([this.casing('PX'), String(r.int(1, 3))]);
          reclaim = true;
          sleep = 15;
        } else opts.push([this.casing('PX'), this.relMillis()]);
      } else if (x < 0.65) {
        const a = this.absSeconds();
        opts.push([this.casing('EXAT'), a.arg]);
        reclaim ||= a.past;
      } else if (x < 0.85) {
        const a = this.absMillis();
        opts.push([this.casing('PXAT'), a.arg]);
        reclaim ||= a.past;
      } else opts.push([this.casing('KEEPTTL')]);
    }
    if (r.chance(0.08)) {
      // Conflicts and junk: NX+XX, two expiries, KEEPTTL+EX, unknown token, missing argument.
      // (EXAT 1 may also be the only expiry: a past one, so reclaim the key.)
      opts.push(r.pick([['NX'], ['XX'], ['EX', '100'], ['PX', '100000'], ['KEEPTTL'], ['FOO'], ['EX'], ['PERSIST'], ['GET'], ['EXAT', '1']]));
      reclaim = true;
    }
    const steps = this.cmd('set', k, this.value(), ...r.shuffle(opts).flat());
    return reclaim ? this.thenReclaim(steps, k, sleep) : steps;
  }

  private genGetex(): Step[] {
    const r = this.r;
    const k = this.key();
    const opts: string[][] = [];
    let reclaim = false;
    let sleep = 0;
    const x = r.float();
    if (x < 0.15) opts.push([this.casing('EX'), this.relSeconds()]);
    else if (x < 0.3) {
      if (r.chance(0.25)) {
        opts.push([this.casing('PX'), String(r.int(1, 3))]);
        reclaim = true;
        sleep = 15;
      } else opts.push([this.casing('PX'), this.relMillis()]);
    } else if (x < 0.45) {
      const a = this.absSeconds();
      opts.push([this.casing('EXAT'), a.arg]);
      reclaim ||= a.past;
    } else if (x < 0.6) {
      const a = this.absMillis();
      opts.push([this.casing('PXAT'), a.arg]);
      reclaim ||= a.past;
    } else if (x < 0.75) opts.push([this.casing('PERSIST')]);
    if (r.chance(0.1)) opts.push(r.pick([['PERSIST'], ['EX', '100'], ['KEEPTTL'], ['NX'], ['GET'], ['FOO'], ['PX']]));
    const steps = this.cmd('getex', k, ...r.shuffle(opts).flat());
    return reclaim ? this.thenReclaim(steps, k, sleep) : steps;
  }

  private genExpire(name: 'expire' | 'pexpire' | 'expireat' | 'pexpireat'): Step[] {
    const r = this.r;
    const k = this.key();
    let arg: string;
    let reclaim = false;
    let sleep = 0;
    if (name === 'expire') arg = this.relSeconds();
    else if (name === 'pexpire') {
      if (r.chance(0.15)) {
        arg = String(r.int(1, 3));
        reclaim = true;
        sleep = 15;
      } else arg = this.relMillis();
    } else {
      const a = name === 'expireat' ? this.absSeconds() : this.absMillis();
      arg = a.arg;
      reclaim = a.past;
    }
    const flags: string[] = [];
    if (r.chance(0.4)) flags.push(r.pick(['NX', 'XX', 'GT', 'LT']));
    if (r.chance(0.08)) flags.push(r.pick(['NX', 'XX', 'GT', 'LT', 'FOO', 'EX']));
    const steps = this.cmd(name, k, arg, ...flags.map((f) => this.casing(f)));
    return reclaim ? this.thenReclaim(steps, k, sleep) : steps;
  }

  private genLcs(): Step[] {
    const r = this.r;
    const opts: string[][] = [];
    if (r.chance(0.3)) opts.push([this.casing('LEN')]);
    if (r.chance(0.4)) opts.push([this.casing('IDX')]);
    if (r.chance(0.3)) opts.push([this.casing('MINMATCHLEN'), r.chance(0.85) ? String(r.int(0, 5)) : r.pick(['-1', 'abc', '9223372036854775807'])]);
    if (r.chance(0.3)) opts.push([this.casing('WITHMATCHLEN')]);
    if (r.chance(0.05)) opts.push([r.pick(['FOO', 'MINMATCHLEN'])]);
    return this.cmd('lcs', this.key(), this.key(), ...r.shuffle(opts).flat());
  }

  private bitfieldType(): string {
    const r = this.r;
    if (r.chance(0.9)) return r.chance(0.5) ? `i${r.int(1, 64)}` : `u${r.int(1, 63)}`;
    return r.pick(['u64', 'i65', 'i0', 'u0', 'x8', 'I8', 'U8', '8', 'i', '']);
  }

  private bitfieldOffset(): string {
    const r = this.r;
    if (r.chance(0.75)) return String(r.int(0, 100));
    if (r.chance(0.7)) return `#${r.int(0, 12)}`;
    return r.pick(['-1', '#-1', '4294967296', 'abc', '#', '']);
  }

  private bitfieldOps(readOnly: boolean): string[] {
    const r = this.r;
    const out: string[] = [];
    const n = r.int(0, 4);
    for (let i = 0; i < n; i++) {
      const x = r.float();
      if (x < 0.35 || (readOnly && x < 0.9)) out.push(this.casing('GET'), this.bitfieldType(), this.bitfieldOffset());
      else if (x < 0.6) out.push(this.casing('SET'), this.bitfieldType(), this.bitfieldOffset(), this.intArg(-300, 300));
      else if (x < 0.85) out.push(this.casing('INCRBY'), this.bitfieldType(), this.bitfieldOffset(), this.intArg(-300, 300));
      else if (x < 0.95) out.push(this.casing('OVERFLOW'), this.casing(r.pick(['WRAP', 'SAT', 'FAIL', 'FAIL', 'NONE'])));
      else out.push(r.pick(['FOO', 'GET', 'SET', 'INCRBY', 'OVERFLOW']));
    }
    return out;
  }

  private genScan(): Step[] {
    const r = this.r;
    if (r.chance(0.15)) {
      // A single malformed SCAN: compared exactly (the errors must match).
      const bad = r.pick([
        ['abc'], ['1.5'], [' 0'], ['0 '], ['18446744073709551616'], ['0', 'COUNT', '0'], ['0', 'COUNT', '-1'],
        ['0', 'COUNT', 'abc'], ['0', 'MATCH'], ['0', 'FOO', 'bar'], ['0', 'COUNT'], ['0', 'TYPE'],
      ]);
      return [{ argv: [this.casing('scan'), ...bad], compare: 'exact' }];
    }
    const opts: string[][] = [];
    if (r.chance(0.5)) opts.push([this.casing('MATCH'), r.pick(KEY_PATTERNS)]);
    if (r.chance(0.5)) opts.push([this.casing('COUNT'), String(r.pick([1, 2, 3, 5, 10, 100, 1000]))]);
    if (r.chance(0.3)) opts.push([this.casing('TYPE'), r.pick(['string', 'list', 'set', 'hash', 'zset', 'STRING', 'nosuchtype'])]);
    return [{ argv: r.shuffle(opts).flat(), compare: 'scan' }];
  }

  /** A command from the covered set with an argument count its arity rejects. */
  private genWrongArity(): Step[] {
    const r = this.r;
    const name = r.pick(COMMANDS.filter((c) => !this.opts.skip.has(c) && this.opts.arity.has(c)));
    const arity = this.opts.arity.get(name)!;
    let len: number;
    if (arity > 0) {
      const choices = [];
      for (let n = 1; n <= arity + 2; n++) if (n !== arity) choices.push(n);
      len = r.pick(choices);
    } else {
      if (-arity <= 1) return this.genFuzz();
      len = r.int(1, -arity - 1);
    }
    const argv = [this.casing(name)];
    while (argv.length < len) argv.push(this.anyToken());
    return [{ argv, compare: 'exact' }];
  }

  private anyToken(): string {
    const x = this.r.float();
    if (x < 0.35) return this.key();
    if (x < 0.6) return this.intArg(-5, 20);
    if (x < 0.8) return this.casing(this.r.pick(OPTION_WORDS));
    return this.value();
  }

  /** A covered command with a valid-looking argument count but random arguments. */
  private genFuzz(): Step[] {
    const r = this.r;
    const names = COMMANDS.filter((c) => !NOT_FUZZED.has(c) && !this.opts.skip.has(c) && this.opts.arity.has(c));
    const name = r.pick(names);
    const arity = this.opts.arity.get(name)!;
    const len = arity > 0 ? arity : -arity + r.int(0, 4);
    const argv = [name];
    // Keys where the command expects them (first argument), random tokens elsewhere.
    while (argv.length < len) argv.push(argv.length === 1 && r.chance(0.8) ? this.key() : this.anyToken());
    const steps = this.cmd(name, ...argv.slice(1));
    // Whatever the fuzzed command did, make sure no logically expired key lingers.
    return name === 'expireat' || name === 'pexpireat' ? this.thenReclaim(steps, argv[1] ?? KEYS[0]!) : steps;
  }

  /** Create or read a non-string value so that WRONGTYPE paths are exercised. */
  private genAggregate(): Step[] {
    const r = this.r;
    const k = this.key();
    const members = (): string[] => Array.from({ length: r.int(1, 3) }, () => (r.chance(0.5) ? String(r.int(0, 20)) : this.value()));
    const read = r.chance(0.35);
    switch (r.pick(this.opts.aggregates)) {
      case 'list':
        return read ? this.cmd('lrange', k, '0', '-1') : this.cmd(r.pick(['lpush', 'rpush']), k, ...members());
      case 'set':
        if (read) return r.chance(0.5) ? this.cmd('scard', k) : this.cmd('sismember', k, this.value());
        return this.cmd('sadd', k, ...members());
      case 'hash':
        if (read) return r.chance(0.5) ? this.cmd('hlen', k) : this.cmd('hget', k, r.pick(['f', 'g', '1']));
        return this.cmd('hset', k, r.pick(['f', 'g', '1']), this.value());
      case 'zset':
        return read ? this.cmd('zrange', k, '0', '-1', 'WITHSCORES') : this.cmd('zadd', k, String(r.int(-5, 5)), this.value());
    }
  }
}
