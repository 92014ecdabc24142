/**
 * SLOWLOG and LATENCY: the slow log, the latency monitor's events
 * (latency-monitor-threshold) and the per-command latency histograms
 * (latency-tracking).
 */
import type { Command, CommandSpec } from '../commands/command-table.js';
import type { Session } from './session.js';
import type { Engine } from './engine.js';
import { CommandError } from '../errors.js';
import { parseInt64 } from '../numbers/parse.js';
import { commandHistogram } from './latency-histogram.js';
import { allCommandObjects } from './info.js';

function help(s: Session, lines: readonly string[]): void {
  s.reply.arrayLen(lines.length);
  for (const l of lines) s.reply.simple(l);
}

function subcommandSyntax(argv: string[], container: string): CommandError {
  return new CommandError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${container} HELP.`);
}

// ---- SLOWLOG ----------------------------------------------------------------------

/** SLOWLOG GET [count]: newest first; count -1 = all, default 10. */
function slowlogGet(s: Session, argv: string[]): void {
  if (argv.length > 3) throw subcommandSyntax(argv, 'SLOWLOG');
  let count = 10;
  if (argv.length === 3) {
    const n = parseInt64(argv[2]!);
    if (n === null || n < -1n) throw new CommandError('ERR count should be greater than or equal to -1');
    count = n === -1n ? Infinity : Number(n);
  }
  const entries = s.engine.slowlog.entries;
  const n = Math.min(count, entries.length);
  const r = s.reply;
  r.arrayLen(n);
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    r.arrayLen(6);
    r.int(e.id);
    r.int(e.time);
    r.int(e.usec);
    r.bulkArray(e.argv);
    r.bulk(e.addr);
    r.bulk(e.name);
  }
}

const SLOWLOG_HELP = [
  'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
  'HELP',
  '    Prints this help.',
];

// ---- LATENCY events -------------------------------------------------------------------

/** LATENCY LATEST: [event, time of the latest sample, latest ms, all-time max ms] per event. */
function latencyLatest(s: Session): void {
  const r = s.reply;
  const events = s.engine.latency.events;
  r.arrayLen(events.size);
  for (const [name, ev] of events) {
    const last = ev.samples[ev.samples.length - 1]!;
    r.arrayLen(4);
    r.bulk(name);
    r.int(last.time);
    r.int(last.ms);
    r.int(ev.max);
  }
}

/** LATENCY HISTORY event: [time, ms] pairs, oldest first (empty for an unknown event). */
function latencyHistory(s: Session, argv: string[]): void {
  const ev = s.engine.latency.events.get(argv[2]!);
  const samples = ev?.samples ?? [];
  const r = s.reply;
  r.arrayLen(samples.length);
  for (const x of samples) {
    r.arrayLen(2);
    r.int(x.time);
    r.int(x.ms);
  }
}

function latencyReset(s: Session, argv: string[]): void {
  s.reply.int(s.engine.latency.reset(argv.slice(2)));
}

/** How long ago a sample was taken, as LATENCY GRAPH labels it: 12s, 5m, 3h, 2d. */
function ageLabel(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

const GRAPH_ROWS = 4;
const GRAPH_COLUMNS = 80;
const FILL = '_o#';

/**
 * A filled sparkline of the samples (at most 80 per block): each sample's
 * height is quantized to rows x 3 steps between the lowest and highest
 * sample; a column shows '_', 'o' or '#' at its top row and '|' below it.
 * Under the graph, after a blank line, each column's age label is written
 * vertically.
 */
function sparkline(values: number[], labels: string[]): string {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const range = max - min === 0 ? 1 : max - min;
  const steps = GRAPH_ROWS * FILL.length;
  let out = '';
  for (let start = 0; start < values.length; start += GRAPH_COLUMNS) {
    if (start > 0) out += '\n';
    const end = Math.min(values.length, start + GRAPH_COLUMNS);
    const step: number[] = [];
    for (let j = start; j < end; j++) step.push(Math.min(steps - 1, Math.max(0, Math.floor(((values[j]! - min) * steps) / range))));
    for (let row = 0; row < GRAPH_ROWS; row++) {
      let line = '';
      for (const st of step) {
        const idx = st - (GRAPH_ROWS - row - 1) * FILL.length;
        line += idx >= 0 && idx < FILL.length ? FILL[idx] : idx >= FILL.length ? '|' : ' ';
      }
      out += line + '\n';
    }
    out += ' '.repeat(end - start) + '\n';
    const longest = Math.max(...labels.slice(start, end).map((l) => l.length));
    for (let c = 0; c < longest; c++) {
      let line = '';
      for (let j = start; j < end; j++) line += labels[j]![c] ?? ' ';
      out += line + '\n';
    }
  }
  return out;
}

function latencyGraph(s: Session, argv: string[]): void {
  const name = argv[2]!;
  const ev = s.engine.latency.events.get(name);
  if (ev === undefined || ev.samples.length === 0) throw new CommandError(`ERR No samples available for event '${name}'`);
  const nowSec = Math.floor(Date.now() / 1000);
  const values = ev.samples.map((x) => x.ms);
  const header =
    `${name} - high ${Math.max(...values)} ms, low ${Math.min(...values)} ms (all time high ${ev.max} ms)\n` + '-'.repeat(80) + '\n';
  s.reply.verbatim(header + sparkline(values, ev.samples.map((x) => ageLabel(nowSec - x.time))), 'txt');
}

const DOCTOR_DISABLED =
  "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
const DOCTOR_QUIET =
  'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n';

/** LATENCY DOCTOR: a human-readable report of the latency events. */
function latencyDoctor(s: Session): void {
  s.reply.verbatim(doctorReport(s.engine), 'txt');
}

function doctorReport(e: Engine): string {
  const events = e.latency.events;
  if (events.size === 0) return e.latencyThresholdMs === 0 ? DOCTOR_DISABLED : DOCTOR_QUIET;
  let out = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
  let i = 1;
  let commandEvents = false;
  for (const [name, ev] of events) {
    const ms = ev.samples.map((x) => x.ms);
    const avg = ms.reduce((a, b) => a + b, 0) / ms.length;
    const mad = ms.reduce((a, b) => a + Math.abs(b - avg), 0) / ms.length;
    const first = ev.samples[0]!.time;
    const last = ev.samples[ev.samples.length - 1]!.time;
    const period = ms.length > 1 ? Math.max(1, last - first) / (ms.length - 1) : 1;
    out += `${i++}. ${name}: ${ms.length} latency spikes (average ${Math.round(avg)}ms, mean deviation ${Math.round(mad)}ms, period ${period.toFixed(2)} sec). Worst all time event ${ev.max}ms.\n`;
    if (name === 'command' || name === 'fast-command') commandEvents = true;
  }
  out += '\nI have a few advices for you:\n\n';
  if (commandEvents) {
    out +=
      '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n' +
      '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
  } else {
    out += '- Check the events above with LATENCY HISTORY <event> to see when they happen, and the server log around those times.\n';
  }
  return out;
}

// ---- LATENCY HISTOGRAM --------------------------------------------------------------------

/** A command by name ("get", "config|get"), as LATENCY HISTOGRAM takes it. */
function lookupCommand(e: Engine, name: string): Command | undefined {
  const bar = name.indexOf('|');
  if (bar < 0) return e.commands.get(name);
  const parent = e.commands.get(name.slice(0, bar));
  return parent?.sub?.get(name.slice(bar + 1).toLowerCase());
}

/** LATENCY HISTOGRAM [command ...]: per command, its calls and cumulative power-of-two buckets (usec). */
function latencyHistogram(s: Session, argv: string[]): void {
  const e = s.engine;
  const picked: Command[] = [];
  const take = (c: Command) => {
    if ((commandHistogram(c)?.total ?? 0) > 0) picked.push(c);
  };
  if (argv.length === 2) for (const c of allCommandObjects(e)) take(c);
  for (let i = 2; i < argv.length; i++) {
    const c = lookupCommand(e, argv[i]!);
    if (c === undefined) continue;
    take(c);
    if (c.sub !== null && c.parent === null) for (const sc of c.sub.values()) take(sc);
  }
  const r = s.reply;
  r.mapLen(picked.length);
  for (const c of picked) {
    const h = commandHistogram(c)!;
    const buckets = h.powerOfTwoBuckets();
    r.bulk(c.fullName);
    r.mapLen(2);
    r.bulk('calls');
    r.int(h.total);
    r.bulk('histogram_usec');
    r.mapLen(buckets.length);
    for (const [usec, count] of buckets) {
      r.int(usec);
      r.int(count);
    }
  }
}

const LATENCY_HELP = [
  'LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
  'HELP',
  '    Prints this help.',
];

// ---- table ---------------------------------------------------------------------------------

const srv = { group: 'server' } as const;
const slowAdm = ['admin', 'loading', 'stale'] as const;
const latAdm = ['admin', 'noscript', 'loading', 'stale'] as const;
const nodes = ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special'] as const;

export const diagnosticCommands: CommandSpec[] = [
  {
    name: 'slowlog',
    arity: -2,
    flags: [],
    ...srv,
    summary: 'A container for slow log commands',
    since: '2.2.12',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'get', arity: -2, flags: slowAdm, ...srv, tips: ['request_policy:all_nodes', 'nondeterministic_output'], summary: "Get the slow log's entries", since: '2.2.12', complexity: 'O(N) where N is the number of entries returned', handler: slowlogGet },
      { name: 'len', arity: 2, flags: slowAdm, ...srv, tips: ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'], summary: "Get the slow log's length", since: '2.2.12', complexity: 'O(1)', handler: (s) => s.reply.int(s.engine.slowlog.entries.length) },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...srv, summary: 'Show helpful text about the different subcommands', since: '6.2.0', complexity: 'O(1)', handler: (s) => help(s, SLOWLOG_HELP) },
      {
        name: 'reset',
        arity: 2,
        flags: slowAdm,
        ...srv,
        tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'],
        summary: 'Clear all entries from the slow log',
        since: '2.2.12',
        complexity: 'O(N) where N is the number of entries in the slowlog',
        handler: (s) => {
          s.engine.slowlog.reset();
          s.reply.ok();
        },
      },
    ],
  },
  {
    name: 'latency',
    arity: -2,
    flags: [],
    ...srv,
    summary: 'A container for latency diagnostics commands',
    since: '2.8.13',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...srv, summary: 'Show helpful text about the different subcommands.', since: '2.8.13', complexity: 'O(1)', handler: (s) => help(s, LATENCY_HELP) },
      { name: 'doctor', arity: 2, flags: latAdm, ...srv, tips: nodes, summary: 'Return a human readable latency analysis report.', since: '2.8.13', complexity: 'O(1)', handler: latencyDoctor },
      { name: 'histogram', arity: -2, flags: latAdm, ...srv, tips: nodes, summary: 'Return the cumulative distribution of latencies of a subset of commands or all.', since: '7.0.0', complexity: 'O(N) where N is the number of commands with latency information being retrieved.', handler: latencyHistogram },
      { name: 'graph', arity: 3, flags: latAdm, ...srv, tips: nodes, summary: 'Return a latency graph for the event.', since: '2.8.13', complexity: 'O(1)', handler: latencyGraph },
      { name: 'history', arity: 3, flags: latAdm, ...srv, tips: nodes, summary: 'Return timestamp-latency samples for the event.', since: '2.8.13', complexity: 'O(1)', handler: latencyHistory },
      { name: 'latest', arity: 2, flags: latAdm, ...srv, tips: nodes, summary: 'Return the latest latency samples for all events.', since: '2.8.13', complexity: 'O(1)', handler: latencyLatest },
      { name: 'reset', arity: -2, flags: latAdm, ...srv, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], summary: 'Reset latency data for one or more events.', since: '2.8.13', complexity: 'O(1)', handler: latencyReset },
    ],
  },
];
