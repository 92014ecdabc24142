/**
 * Differential test for streams: the same random stream commands (valid and
 * invalid arguments, a small key space, a few wrong-type keys) go to a real
 * redis-server 7.0 and to the built cacheside, in RESP2 and RESP3 rounds,
 * and every pair of replies must be identical on the wire.
 *
 * IDs are always explicit (`<ms>-<seq>`, `<ms>-*`, `<ms>`), never `*`, so
 * both servers assign the same IDs. Time-dependent reply fields are masked:
 * idle times (XPENDING extended form, XINFO CONSUMERS) and absolute
 * delivery / seen times (XINFO STREAM FULL); min-idle arguments are 0 or an
 * hour, and XCLAIM's TIME/IDLE values are far from "now", so which entries
 * are claimed is deterministic. Every round ends by comparing each key's
 * entries, XINFO STREAM (node counts included), XINFO GROUPS, the pending
 * summaries, DEBUG DIGEST-VALUE and the keyspace events.
 *
 * Blocking is covered at the end: several clients blocked in XREAD /
 * XREADGROUP are served in the same order with the same replies.
 *
 * Needs `npm run build` and redis-server on PATH (bash test/interop/ensure-redis.sh).
 * Knobs: DIFF_SEED=<n> replays a run (the seed is printed), DIFF_ROUNDS, DIFF_STEPS, DIFF_TAIL (history shown, default 20).
 */
import { describe, it } from 'vitest';
import {
  FloatDraws,
  diffSeed,
  envInt,
  expectSameBlockedService,
  expectSameEvents,
  fmtReply as fmt,
  historyTail,
  mulberry32,
  openEventedPair,
  useServerPair,
} from './diff-kit.js';
import type { RawClient, RespValue } from './harness.js';

const SEED = diffSeed();
const ROUNDS = envInt('DIFF_ROUNDS', 4);
const STEPS = envInt('DIFF_STEPS', 1500);
const TAIL = historyTail(20);

const ZERO: RespValue = { type: 'integer', value: 0n };

/** Children of an aggregate, as a flat list (maps: key, value, key, value...). */
function flat(v: RespValue): RespValue[] | null {
  if (v.type === 'array') return v.value;
  if (v.type === 'map') return v.value.flat();
  return null;
}

function rebuild(v: RespValue, items: RespValue[]): RespValue {
  if (v.type === 'array') return { type: 'array', value: items };
  const pairs: Array<[RespValue, RespValue]> = [];
  for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
  return { type: 'map', value: pairs };
}

/** Zero the value following any of `keys` in key/value lists, at any depth. */
function maskFields(v: RespValue, keys: ReadonlySet<string>): RespValue {
  const items = flat(v);
  if (items === null) return v;
  const out = items.map((x) => maskFields(x, keys));
  for (let i = 0; i + 1 < out.length; i++) {
    const k = out[i]!;
    if (k.type === 'bulk' && keys.has(k.value) && out[i + 1]!.type === 'integer') out[i + 1] = ZERO;
  }
  return rebuild(v, out);
}

/** XINFO STREAM FULL: zero seen-time and the delivery times in the pending lists. */
function maskFull(v: RespValue): RespValue {
  const items = flat(v);
  if (items === null) return v;
  const out = items.map((x) => maskFull(x));
  for (let i = 0; i + 1 < out.length; i++) {
    const k = out[i]!;
    if (k.type !== 'bulk') continue;
    if (k.value === 'seen-time') out[i + 1] = ZERO;
    if (k.value === 'pending' && out[i + 1]!.type === 'array') {
      const list = (out[i + 1] as { value: RespValue[] }).value.map((p) => {
        if (p.type !== 'array') return p;
        const q = p.value.slice();
        q[q.length - 2] = ZERO; // [id, (consumer,) delivery-time, count]
        return { type: 'array', value: q } as RespValue;
      });
      out[i + 1] = { type: 'array', value: list };
    }
  }
  return rebuild(v, out);
}

/** Replace time-dependent parts of a reply. */
function mask(argv: string[], v: RespValue): RespValue {
  const cmd = argv[0]!.toUpperCase();
  const sub = (argv[1] ?? '').toUpperCase();
  if (cmd === 'XPENDING' && argv.length > 3 && v.type === 'array') {
    return { type: 'array', value: v.value.map((e) => (e.type === 'array' && e.value.length === 4 ? { type: 'array', value: [e.value[0]!, e.value[1]!, ZERO, e.value[3]!] } : e)) };
  }
  if (cmd === 'XINFO' && sub === 'CONSUMERS') return maskFields(v, new Set(['idle']));
  if (cmd === 'XINFO' && sub === 'STREAM' && argv.length > 3) return maskFull(v);
  if (cmd === 'EXEC' && v.type === 'array') return v; // queued commands are masked individually below
  return v;
}

// ---------------------------------------------------------------------------
// Command generator

const KEYS = ['s1', 's2', 's3', 'str', 'missing'];

class Gen extends FloatDraws {
  key(): string {
    return this.chance(0.85) ? this.pick(['s1', 's2', 's3']) : this.pick(['str', 'missing']);
  }
  group(): string {
    return this.chance(0.9) ? this.pick(['g1', 'g2']) : 'nog';
  }
  consumer(): string {
    return this.pick(['c1', 'c2', 'c3']);
  }
  /** An ID in a small space (so commands collide), sometimes odd. */
  id(): string {
    if (this.chance(0.04)) {
      return this.pick(['0', '0-0', '-', '+', 'x', '1-', '-1', '1-x', ' 3', '03-1', '18446744073709551615-18446744073709551615', '18446744073709551616', '1--01', '5-*', '']);
    }
    const ms = this.int(0, 40);
    return this.chance(0.2) ? String(ms) : `${ms}-${this.int(0, 4)}`;
  }
  bound(start: boolean): string {
    if (this.chance(0.25)) return start ? '-' : '+';
    if (this.chance(0.15)) return '(' + this.id();
    return this.id();
  }
  /** XADD's ID: explicit, `<ms>-*` or `<ms>`, mostly increasing for the key. */
  addId(): string {
    const ms = this.int(0, 45);
    const r = this.r();
    if (r < 0.4) return `${ms}-*`;
    if (r < 0.55) return String(ms);
    if (r < 0.58) return this.pick(['0-0', '0', '0-*', 'x', '-', '18446744073709551615-18446744073709551615']);
    return `${ms}-${this.int(0, 4)}`;
  }
  fields(): string[] {
    const n = this.chance(0.05) ? this.pick([1, 3]) : this.pick([2, 2, 4, 6]);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) out.push(this.chance(0.7) ? `f${i / 2}` : this.pick(['a', 'b', 'name', '']));
      else out.push(this.chance(0.9) ? this.pick(['1', '2', 'v', 'hello', '-7', '100000']) : this.pick(['x'.repeat(this.int(1, 300)), '\x00\xff', '9223372036854775808', '01']));
    }
    return out;
  }
  trimOpts(): string[] {
    if (this.chance(0.6)) return [];
    const out: string[] = [];
    const strat = this.pick(['MAXLEN', 'MINID', 'maxlen']);
    out.push(strat);
    const approx = this.pick(['~', '=', '', '']);
    if (approx !== '') out.push(approx);
    if (strat.toUpperCase() === 'MAXLEN') out.push(this.chance(0.95) ? String(this.int(0, 30)) : this.pick(['-1', 'x']));
    else out.push(this.id());
    if (this.chance(0.15)) out.push('LIMIT', this.chance(0.9) ? String(this.int(0, 200)) : this.pick(['-1', 'x']));
    if (this.chance(0.03)) out.push(this.pick(['MAXLEN', 'MINID']), '5');
    return out;
  }
  count(): string {
    if (this.chance(0.05)) return this.pick(['x', '-1', '0', '9223372036854775807']);
    return String(this.int(1, 6));
  }

  /** One random command. */
  command(): string[] {
    const k = this.key();
    switch (this.int(0, 33)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        return ['XADD', k, ...(this.chance(0.05) ? ['NOMKSTREAM'] : []), ...this.trimOpts(), this.addId(), ...this.fields()];
      case 5:
        return ['XLEN', k];
      case 6:
      case 7:
        return ['XRANGE', k, this.bound(true), this.bound(false), ...(this.chance(0.5) ? ['COUNT', this.count()] : [])];
      case 8:
        return ['XREVRANGE', k, this.bound(false), this.bound(true), ...(this.chance(0.5) ? ['COUNT', this.count()] : [])];
      case 9:
        return ['XDEL', k, this.id(), ...(this.chance(0.4) ? [this.id(), this.id()] : [])];
      case 10:
        return ['XTRIM', k, ...(this.chance(0.95) ? this.trimOpts() : ['FOO'])];
      case 11:
      case 12: {
        const keys = this.chance(0.7) ? [k] : [k, this.key()];
        return ['XREAD', ...(this.chance(0.4) ? ['COUNT', this.count()] : []), 'STREAMS', ...keys, ...keys.map(() => (this.chance(0.2) ? '$' : this.id()))];
      }
      case 13:
        return ['XGROUP', 'CREATE', k, this.group(), this.chance(0.3) ? '$' : this.id(), ...(this.chance(0.3) ? ['MKSTREAM'] : []), ...(this.chance(0.2) ? ['ENTRIESREAD', this.pick(['0', '1', '3', '-1', '-2', 'x'])] : [])];
      case 14:
        return ['XGROUP', 'SETID', k, this.group(), this.chance(0.3) ? '$' : this.id(), ...(this.chance(0.3) ? ['ENTRIESREAD', this.pick(['0', '2', '-1', 'x'])] : [])];
      case 15:
        return this.pick([
          ['XGROUP', 'DESTROY', k, this.group()],
          ['XGROUP', 'CREATECONSUMER', k, this.group(), this.consumer()],
          ['XGROUP', 'DELCONSUMER', k, this.group(), this.consumer()],
        ]);
      case 16:
      case 17:
      case 18: {
        const keys = this.chance(0.8) ? [k] : [k, this.key()];
        const opts: string[] = [];
        if (this.chance(0.4)) opts.push('COUNT', this.count());
        if (this.chance(0.2)) opts.push('NOACK');
        return ['XREADGROUP', 'GROUP', this.group(), this.consumer(), ...opts, 'STREAMS', ...keys, ...keys.map(() => (this.chance(0.7) ? '>' : this.chance(0.9) ? this.id() : '$'))];
      }
      case 19:
        return ['XACK', k, this.group(), this.id(), ...(this.chance(0.4) ? [this.id()] : [])];
      case 20:
        return ['XPENDING', k, this.group()];
      case 21: {
        const idle = this.chance(0.3) ? ['IDLE', this.pick(['0', '3600000', 'x'])] : [];
        return ['XPENDING', k, this.group(), ...idle, this.bound(true), this.bound(false), this.count(), ...(this.chance(0.3) ? [this.consumer()] : [])];
      }
      case 22:
      case 23: {
        const opts: string[] = [];
        if (this.chance(0.2)) opts.push('IDLE', this.pick(['0', '7200000', '-1']));
        if (this.chance(0.2)) opts.push('TIME', this.pick(['0', '1000', '99999999999999']));
        if (this.chance(0.2)) opts.push('RETRYCOUNT', this.pick(['0', '5', '-1']));
        if (this.chance(0.2)) opts.push('FORCE');
        if (this.chance(0.4)) opts.push('JUSTID');
        if (this.chance(0.15)) opts.push('LASTID', this.id());
        if (this.chance(0.03)) opts.push('BOGUS');
        return ['XCLAIM', k, this.group(), this.consumer(), this.pick(['0', '3600000', '-5', 'x']), this.id(), ...(this.chance(0.4) ? [this.id()] : []), ...opts];
      }
      case 24:
      case 25: {
        const opts: string[] = [];
        if (this.chance(0.5)) opts.push('COUNT', this.pick(['1', '2', '3', '100', '0', 'x']));
        if (this.chance(0.4)) opts.push('JUSTID');
        return ['XAUTOCLAIM', k, this.group(), this.consumer(), this.pick(['0', '0', '3600000', 'x']), this.bound(true), ...opts];
      }
      case 26:
        return ['XINFO', 'STREAM', k, ...(this.chance(0.3) ? ['FULL', ...(this.chance(0.5) ? ['COUNT', this.pick(['0', '1', '2', '-1'])] : [])] : [])];
      case 27:
        return ['XINFO', this.pick(['GROUPS', 'GROUPS', 'CONSUMERS']), k, ...(this.chance(0.5) ? [this.group()] : [])];
      case 28:
        return ['XSETID', k, this.id(), ...(this.chance(0.2) ? ['ENTRIESADDED', this.pick(['0', '5', '100', '-1'])] : []), ...(this.chance(0.2) ? ['MAXDELETEDID', this.id()] : [])];
      case 29:
        return this.pick([['SET', 'str', 'v'], ['DEL', k], ['EXISTS', k], ['TYPE', k], ['OBJECT', 'ENCODING', k]]);
      case 30:
        return ['COPY', k, this.key(), ...(this.chance(0.5) ? ['REPLACE'] : [])];
      case 31:
        return ['DEBUG', 'DIGEST-VALUE', k];
      case 32:
        return ['RENAME', k, this.key()];
      default:
        return this.pick([['XADD', k], ['XRANGE', k], ['XGROUP', 'CREATE', k], ['XREAD', 'STREAMS'], ['XCLAIM', k, 'g1'], ['XINFO', 'FOO'], ['XTRIM', k, 'MAXLEN']]);
    }
  }
}

// ---------------------------------------------------------------------------

const servers = useServerPair();

async function both(a: RawClient, b: RawClient, argv: string[]): Promise<[string, string]> {
  const [x, y] = await Promise.all([a.send(...argv), b.send(...argv)]);
  return [fmt(mask(argv, x)), fmt(mask(argv, y))];
}

describe(`stream differential vs redis-server (DIFF_SEED=${SEED})`, () => {
  it('random stream commands give identical replies and data', async () => {
    console.log(`differential-stream: DIFF_SEED=${SEED}`);
    const g = new Gen(mulberry32(SEED));
    // Keyspace events of both servers are compared after every round.
    const { a, b, subs, check, close } = await openEventedPair(servers, { seed: SEED, tail: TAIL, file: 'differential-stream.test.ts' });
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const resp = round % 2 === 0 ? '2' : '3';
        await both(a, b, ['HELLO', resp]);
        await both(a, b, ['FLUSHALL']);
        // Small nodes in some rounds, so that node splits and approximate trims happen often.
        const nodeCfg = round % 4 < 2 ? ['100', '4096'] : ['4', '256'];
        await both(a, b, ['CONFIG', 'SET', 'stream-node-max-entries', nodeCfg[0]!, 'stream-node-max-bytes', nodeCfg[1]!]);
        for (let i = 0; i < STEPS; i++) {
          const argv = g.command();
          if (g.chance(0.03)) {
            // Inside MULTI (BLOCK answers at once there).
            const inner = g.chance(0.5) ? argv : ['XREAD', 'BLOCK', '0', 'STREAMS', argv[1] ?? 's1', '$'];
            await both(a, b, ['MULTI']);
            const [qa, qb] = await both(a, b, inner);
            check(inner, qa, qb);
            const [xa, xb] = await Promise.all([a.send('EXEC'), b.send('EXEC')]);
            const m = (v: RespValue) => fmt(v.type === 'array' && v.value.length === 1 ? { type: 'array', value: [mask(inner, v.value[0]!)] } : v);
            check(['EXEC'], m(xa), m(xb));
            continue;
          }
          const [ra, rb] = await both(a, b, argv);
          check(argv, ra, rb);
        }
        await expectSameEvents(subs, SEED);
        for (const key of KEYS) {
          const probes = [
            ['TYPE', key], ['XRANGE', key, '-', '+'], ['XINFO', 'STREAM', key], ['XINFO', 'STREAM', key, 'FULL', 'COUNT', '0'],
            ['XINFO', 'GROUPS', key], ['XPENDING', key, 'g1'], ['XPENDING', key, 'g2'], ['XINFO', 'CONSUMERS', key, 'g1'],
            ['OBJECT', 'ENCODING', key], ['DEBUG', 'DIGEST-VALUE', key],
          ];
          for (const argv of probes) {
            const [ra, rb] = await both(a, b, argv);
            check(argv, ra, rb);
          }
        }
      }
    } finally {
      close();
    }
  });

  it('blocked XREAD / XREADGROUP clients are served in the same order, with the same replies', async () => {
    await expectSameBlockedService(servers, {
      setup: [
        ['XADD', 'q', '1-1', 'a', '1'],
        ['XGROUP', 'CREATE', 'q', 'g', '$'],
        ['XGROUP', 'CREATE', 'q', 'gone', '$'],
        ['XGROUP', 'CREATE', 'r', 'g', '$', 'MKSTREAM'],
      ],
      blocked: [
        ['XREAD', 'BLOCK', '0', 'STREAMS', 'q', 'r', '$', '$'],
        ['XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'COUNT', '1', 'STREAMS', 'q', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'c2', 'BLOCK', '0', 'STREAMS', 'q', '>'],
        ['XREADGROUP', 'GROUP', 'gone', 'c1', 'BLOCK', '0', 'STREAMS', 'q', '>'],
        ['XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'r', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'c3', 'NOACK', 'BLOCK', '0', 'STREAMS', 'r', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'c4', 'BLOCK', '0', 'STREAMS', 'r', '>'],
      ],
      async serve(ctl) {
        const out: string[] = [];
        out.push(fmt(await ctl.send('XGROUP', 'DESTROY', 'q', 'gone')));
        out.push(fmt(await ctl.send('MULTI')));
        out.push(fmt(await ctl.send('XADD', 'q', '2-1', 'b', '2')));
        out.push(fmt(await ctl.send('XADD', 'q', '2-2', 'c', '3')));
        out.push(fmt(await ctl.send('EXEC')));
        out.push(fmt(await ctl.send('XADD', 'r', '5-1', 'd', '4')));
        await new Promise((r) => setTimeout(r, 50));
        out.push(fmt(await ctl.send('DEL', 'r')));
        return out;
      },
      async inspect(ctl) {
        const out: string[] = [];
        for (const probe of [['XINFO', 'GROUPS', 'q'], ['XPENDING', 'q', 'g', '-', '+', '10'], ['EXISTS', 'r']]) {
          out.push(fmt(mask(probe, await ctl.send(...probe))));
        }
        return out;
      },
    });
  });
});
