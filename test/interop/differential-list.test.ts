/**
 * Differential test for the list type: the same random list commands (valid
 * and invalid arguments, a few wrong-type keys, a small key space so that
 * commands collide) go to a real redis-server 7.0 and to the built cacheside,
 * in RESP2 and RESP3 rounds, and every pair of replies must be identical on
 * the wire (simple vs bulk vs null bulk vs null array, errors by full text).
 * Every round ends by comparing the whole data set (LRANGE of every key, TYPE,
 * OBJECT ENCODING, DEBUG DIGEST-VALUE).
 *
 * Blocking commands are generated with a short timeout only against keys
 * that hold data or inside MULTI, so neither side blocks for long; the
 * blocking behaviour itself is tested in test/integration/list-blocking.test.ts
 * and at the end of this file (several clients, same order on both servers).
 *
 * Needs `npm run build` and redis-server on PATH (bash test/interop/ensure-redis.sh).
 * Knobs: DIFF_SEED=<n> replays a run (the seed is printed), DIFF_ROUNDS, DIFF_STEPS, DIFF_TAIL (history shown, default 15).
 */
import { describe, it } from 'vitest';
import { FloatDraws, diffSeed, envInt, expectSameBlockedService, expectSameEvents, fmtReply as fmt, historyTail, mulberry32, openEventedPair, useServerPair } from './diff-kit.js';
import type { RawClient } from './harness.js';

const SEED = diffSeed();
const ROUNDS = envInt('DIFF_ROUNDS', 4);
const STEPS = envInt('DIFF_STEPS', 1500);
const TAIL = historyTail(15);

// ---------------------------------------------------------------------------
// Command generator

class Gen extends FloatDraws {
  key(): string {
    return this.pick(['l1', 'l2', 'l3', 'l4', 'str', 'missing']);
  }
  keys(): string[] {
    const n = this.int(1, 3);
    return Array.from({ length: n }, () => this.key());
  }
  elem(): string {
    return this.chance(0.05) ? this.pick(['', '\x00\xff', 'a b', 'x'.repeat(70), '12345678901234567890']) : this.pick(['a', 'b', 'c', 'd', '1', '2', '-1']);
  }
  elems(): string[] {
    return Array.from({ length: this.int(1, 5) }, () => this.elem());
  }
  index(): string {
    if (this.chance(0.04)) return this.pick(['x', '', '1.5', '9223372036854775807', '-9223372036854775808', '9223372036854775808', ' 1']);
    return String(this.int(-12, 12));
  }
  count(): string {
    if (this.chance(0.05)) return this.pick(['x', '-1', '0', '9223372036854775807', '9223372036854775808', '']);
    return String(this.int(0, 8));
  }
  end(): string {
    return this.chance(0.03) ? this.pick(['UP', 'middle', '']) : this.pick(['LEFT', 'RIGHT', 'left', 'Right']);
  }
  timeout(): string {
    return this.chance(0.1) ? this.pick(['-1', 'x', 'inf', '-0.0001', 'nan', '1e400', '0x10', '']) : this.pick(['0.01', '0.02']);
  }
  lposOpts(): string[] {
    const out: string[] = [];
    const n = this.int(0, 3);
    for (let i = 0; i < n; i++) {
      const o = this.pick(['RANK', 'COUNT', 'MAXLEN', 'rank', 'FOO']);
      out.push(o);
      if (this.chance(0.95)) {
        if (o.toUpperCase() === 'RANK') out.push(this.pick(['1', '2', '-1', '-2', '0', '3', '-9223372036854775808', 'x']));
        else out.push(this.pick(['0', '1', '2', '-1', '5', 'x']));
      }
    }
    return out;
  }
  mpopTail(numkeysIdxArgs: string[]): string[] {
    const keys = this.keys();
    let numkeys = String(keys.length);
    if (this.chance(0.05)) numkeys = this.pick(['0', '-1', 'x', String(keys.length + 1), '2147483648']);
    const out = [...numkeysIdxArgs, numkeys, ...keys, this.end()];
    if (this.chance(0.5)) out.push('COUNT', this.chance(0.9) ? String(this.int(1, 6)) : this.pick(['0', '-1', 'x']));
    if (this.chance(0.03)) out.push(this.pick(['COUNT', 'extra']));
    return out;
  }

  /** One random command. */
  command(): string[] {
    const k = this.key();
    switch (this.int(0, 27)) {
      case 0:
      case 1:
        return ['LPUSH', k, ...this.elems()];
      case 2:
      case 3:
        return ['RPUSH', k, ...this.elems()];
      case 4:
        return [this.pick(['LPUSHX', 'RPUSHX']), k, ...this.elems()];
      case 5:
        return this.chance(0.5) ? [this.pick(['LPOP', 'RPOP']), k] : [this.pick(['LPOP', 'RPOP']), k, this.count(), ...(this.chance(0.03) ? ['1'] : [])];
      case 6:
        return ['LLEN', k];
      case 7:
      case 8:
        return ['LRANGE', k, this.index(), this.index()];
      case 9:
        return ['LINDEX', k, this.index()];
      case 10:
        return ['LSET', k, this.index(), this.elem()];
      case 11:
        return ['LINSERT', k, this.chance(0.95) ? this.pick(['BEFORE', 'AFTER', 'before']) : 'MIDDLE', this.elem(), this.elem()];
      case 12:
        return ['LREM', k, this.chance(0.95) ? String(this.int(-3, 3)) : 'x', this.elem()];
      case 13:
        return ['LTRIM', k, this.index(), this.index()];
      case 14:
      case 15:
        return ['LPOS', k, this.elem(), ...this.lposOpts()];
      case 16:
        return ['LMOVE', k, this.key(), this.end(), this.end()];
      case 17:
        return ['RPOPLPUSH', k, this.key()];
      case 18:
        return ['LMPOP', ...this.mpopTail([])];
      case 19:
        return [this.pick(['BLPOP', 'BRPOP']), ...this.keys(), this.timeout()];
      case 20:
        return ['BLMOVE', k, this.key(), this.end(), this.end(), this.timeout()];
      case 21:
        return ['BRPOPLPUSH', k, this.key(), this.timeout()];
      case 22:
        return ['BLMPOP', this.timeout(), ...this.mpopTail([])];
      case 23:
        return this.pick([['SET', 'str', 'v'], ['DEL', k], ['EXISTS', k], ['TYPE', k], ['OBJECT', 'ENCODING', k]]);
      case 24:
        return ['COPY', k, this.key(), ...(this.chance(0.5) ? ['REPLACE'] : [])];
      case 25:
        return ['DEBUG', 'DIGEST-VALUE', k];
      case 26:
        return ['RENAME', k, this.key()];
      default:
        return this.pick([['LPOP'], ['LRANGE', k], ['LINSERT', k, 'BEFORE'], ['BLPOP', k], ['LMOVE', k], ['LPOS', k]]);
    }
  }
}

/** Would this blocking command block on redis-server? (Then it is run inside MULTI instead.) */
function mayBlock(argv: string[]): boolean {
  return /^(BLPOP|BRPOP|BLMOVE|BRPOPLPUSH|BLMPOP)$/i.test(argv[0]!);
}

// ---------------------------------------------------------------------------

const servers = useServerPair();

async function both(a: RawClient, b: RawClient, argv: string[]): Promise<[string, string]> {
  const [x, y] = await Promise.all([a.send(...argv), b.send(...argv)]);
  return [fmt(x), fmt(y)];
}

const KEYS = ['l1', 'l2', 'l3', 'l4', 'str', 'missing'];

describe(`list differential vs redis-server (DIFF_SEED=${SEED})`, () => {
  it('random list commands give identical replies and data', async () => {
    console.log(`differential-list: DIFF_SEED=${SEED}`);
    const g = new Gen(mulberry32(SEED));
    // Keyspace events of both servers are compared after every round.
    const { a, b, subs, check, close } = await openEventedPair(servers, { seed: SEED, tail: TAIL, file: 'differential-list.test.ts' });
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const resp = round % 2 === 0 ? '2' : '3';
        await both(a, b, ['HELLO', resp]);
        await both(a, b, ['FLUSHALL']);
        for (let i = 0; i < STEPS; i++) {
          const argv = g.command();
          if (mayBlock(argv)) {
            // Run it where it cannot block for long: if every key is empty it
            // would wait up to its timeout on both sides; wrap in MULTI half of the time.
            if (g.chance(0.5)) {
              await both(a, b, ['MULTI']);
              const [qa, qb] = await both(a, b, argv);
              check(argv, qa, qb);
              const [ra, rb] = await both(a, b, ['EXEC']);
              check(['EXEC'], ra, rb);
              continue;
            }
            // Outside MULTI only with a timeout that is short or invalid.
            const t = /^BLMPOP$/i.test(argv[0]!) ? argv[1]! : argv[argv.length - 1]!;
            if (t === '0' || t === '-0.0001' || t === '0x10') continue;
          }
          const [ra, rb] = await both(a, b, argv);
          check(argv, ra, rb);
        }
        await expectSameEvents(subs, SEED);
        for (const key of KEYS) {
          for (const argv of [['TYPE', key], ['LRANGE', key, '0', '-1'], ['OBJECT', 'ENCODING', key], ['DEBUG', 'DIGEST-VALUE', key]]) {
            const [ra, rb] = await both(a, b, argv);
            check(argv, ra, rb);
          }
        }
      }
    } finally {
      close();
    }
  });

  it('several blocked clients are served in the same order, with the same replies', async () => {
    await expectSameBlockedService(servers, {
      setup: [],
      blocked: [
        ['BLPOP', 'q', 'r', '0'],
        ['BLMOVE', 'q', 'r', 'LEFT', 'right', '0'],
        ['BRPOP', 'r', '0'],
        ['BLMPOP', '0', '2', 'r', 'q', 'RIGHT', 'COUNT', '2'],
        ['BRPOPLPUSH', 'q', 'dst', '0'],
      ],
      serve: async (ctl) => [fmt(await ctl.send('RPUSH', 'q', 'a', 'b', 'c', 'd', 'e', 'f'))],
      async inspect(ctl) {
        const out: string[] = [];
        for (const key of ['q', 'r', 'dst']) out.push(fmt(await ctl.send('LRANGE', key, '0', '-1')));
        return out;
      },
    });
  });
});
