/**
 * MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP, from the size
 * model (size-model.ts) and the engine's memory state.
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { bytesToHuman } from '../server/info.js';
import { entryBytes, PER_KEY_OVERHEAD } from './size-model.js';
import { memoryOf, memoryReport, type MemoryReport } from './memory.js';

/**
 * MEMORY USAGE key [SAMPLES count]: the key's bytes in the model (key and
 * value, exactly as the model counts them: no sampling is needed, so the
 * count is validated and otherwise ignored) plus its share of the
 * database's index. Nil for a missing key. No access-time update.
 */
function usage(s: Session, argv: string[]): void {
  for (let i = 3; i < argv.length; i++) {
    if (is(argv[i]!, 'SAMPLES') && i + 1 < argv.length) {
      const n = longArg(argv[++i]!);
      if (n < 0) throw new CommandError(Err.syntax);
    } else throw new CommandError(Err.syntax);
  }
  const key = argv[2]!;
  const v = s.db.peek(key);
  if (v === undefined) {
    s.reply.nullBulk();
    return;
  }
  s.reply.int(entryBytes(key, v) + PER_KEY_OVERHEAD);
}

/** Redis reports these ratios as C floats. */
function f32(x: number): number {
  return Math.fround(Number.isFinite(x) ? x : 0);
}

function stats(s: Session): void {
  const e = s.engine;
  const m = memoryOf(e);
  const r = memoryReport(e);
  const r3 = s.reply;
  const dbs = e.dbs.filter((db) => db.size > 0);
  r3.mapLen(27 + dbs.length);
  const int = (k: string, v: number) => {
    r3.bulk(k);
    r3.int(Math.round(v));
  };
  const dbl = (k: string, v: number) => {
    r3.bulk(k);
    r3.double(f32(v));
  };
  int('peak.allocated', r.peak);
  int('total.allocated', r.used);
  int('startup.allocated', r.startup);
  int('replication.backlog', 0);
  int('clients.slaves', r.clientsSlaves);
  int('clients.normal', r.clientsNormal);
  int('cluster.links', 0);
  int('aof.buffer', 0);
  int('lua.caches', 0);
  int('functions.caches', 0);
  for (const db of dbs) {
    r3.bulk(`db.${db.id}`);
    const o = m.state.dbOverhead(db);
    r3.mapLen(3);
    int('overhead.hashtable.main', o.main);
    int('overhead.hashtable.expires', o.expires);
    int('overhead.hashtable.slot-to-keys', 0);
  }
  int('overhead.total', r.overhead);
  int('keys.count', r.keys);
  int('keys.bytes-per-key', r.keys > 0 ? Math.floor((r.used - r.startup) / r.keys) : 0);
  int('dataset.bytes', r.dataset);
  dbl('dataset.percentage', r.used > r.startup ? (r.dataset * 100) / (r.used - r.startup) : 0);
  dbl('peak.percentage', r.peak > 0 ? (r.used * 100) / r.peak : 0);
  int('allocator.allocated', r.allocated);
  int('allocator.active', r.active);
  int('allocator.resident', r.resident);
  dbl('allocator-fragmentation.ratio', r.allocated > 0 ? r.active / r.allocated : 0);
  int('allocator-fragmentation.bytes', r.active - r.allocated);
  dbl('allocator-rss.ratio', r.active > 0 ? r.resident / r.active : 0);
  int('allocator-rss.bytes', r.resident - r.active);
  dbl('rss-overhead.ratio', r.resident > 0 ? r.rss / r.resident : 0);
  int('rss-overhead.bytes', r.rss - r.resident);
  dbl('fragmentation', r.used > 0 ? r.rss / r.used : 0);
  int('fragmentation.bytes', r.rss - r.used);
}

/** Below this much used memory there is too little data to judge (as Redis says). */
const DOCTOR_MIN_USED = 5 * 1024 * 1024;

const EMPTY_REPORT =
  "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.";
const NO_ISSUES = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.";

/** MEMORY DOCTOR's findings, one paragraph each. */
export function doctorIssues(r: MemoryReport, clients: number): string[] {
  const out: string[] = [];
  if (r.peak > r.used * 1.5) {
    out.push(
      `* Peak memory: this instance once used ${bytesToHuman(r.peak)}, more than 150% of the ${bytesToHuman(r.used)} it uses now. ` +
        'The JavaScript heap keeps part of the space it grew into after a peak, so the RSS can stay high; that space is reused as the data set grows again. ' +
        'MEMORY PURGE asks for a full collection; otherwise a restart gives the memory back.',
    );
  }
  const bound = 1.5 * r.used + r.startupRss;
  if (r.rss > bound) {
    out.push(
      `* High total RSS: the process RSS (${bytesToHuman(r.rss)}) is more than 1.5 times used_memory (${bytesToHuman(r.used)}) plus the start-up footprint (${bytesToHuman(r.startupRss)}). ` +
        'This happens after a large deletion or a peak, while the heap has not shrunk yet; if it lasts, check for big client buffers or a maxmemory above the heap limit.',
    );
  }
  if (clients > 0 && r.clientsNormal / clients > 200 * 1024) {
    out.push(
      `* Big client buffers: the ${clients} clients use ${bytesToHuman(r.clientsNormal / clients)} each on average, in query buffers or pending replies. ` +
        'This is usually caused by clients reading slowly large replies or pipelining too much; client-output-buffer-limit and maxmemory-clients bound it.',
    );
  }
  if (r.maxmemory > 0 && r.maxmemory > r.totalSystemMemory) {
    out.push(
      `* maxmemory (${bytesToHuman(r.maxmemory)}) is above the system memory (${bytesToHuman(r.totalSystemMemory)}): the limit can never be reached before the system runs out of memory.`,
    );
  }
  return out;
}

function doctor(s: Session): void {
  const r = memoryReport(s.engine);
  let text: string;
  if (r.used < DOCTOR_MIN_USED) text = EMPTY_REPORT;
  else {
    const issues = doctorIssues(r, s.engine.sessions.size);
    text =
      issues.length === 0
        ? NO_ISSUES
        : `Sam, I detected a few issues in this Redis instance memory implants:\n\n${issues.join('\n\n')}\n\nI'm here to keep you safe, Sam. I want to help you.\n`;
  }
  s.reply.verbatim(text);
}

/** The allocator is V8's, with no malloc statistics to report (what Redis says for libc). */
function mallocStats(s: Session): void {
  s.reply.bulk('Stats not supported for the current allocator');
}

function purge(s: Session): void {
  s.reply.ok();
}

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
];

function help(s: Session): void {
  s.reply.arrayLen(MEMORY_HELP.length);
  for (const l of MEMORY_HELP) s.reply.simple(l);
}

// ---- command table ------------------------------------------------------------

const server = { group: 'server', since: '4.0.0' } as const;
const diag = ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'] as const;
const slow = 'Depends on how much memory is allocated, could be slow';

export const memoryCommands: CommandSpec[] = [
  {
    name: 'memory', arity: -2, flags: [], ...server, summary: 'A container for memory diagnostics commands', complexity: 'Depends on subcommand.',
    subcommands: [
      // in the order redis 7.0 lists them
      { name: 'purge', arity: 2, flags: [], ...server, tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'Ask the allocator to release memory', complexity: slow, handler: purge },
      { name: 'malloc-stats', arity: 2, flags: [], ...server, tips: diag, summary: 'Show allocator internal stats', complexity: slow, handler: mallocStats },
      {
        name: 'usage', arity: -3, flags: ['readonly'], ...server, keys: [2, 2, 1],
        keySpecs: [{ flags: ['RO'], begin: { index: 2 }, find: { range: [0, 1, 0] } }],
        summary: 'Estimate the memory usage of a key', complexity: 'O(N) where N is the number of samples.', handler: usage,
      },
      { name: 'doctor', arity: 2, flags: [], ...server, tips: diag, summary: 'Outputs memory problems report', complexity: 'O(1)', handler: doctor },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...server, summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: help },
      { name: 'stats', arity: 2, flags: [], ...server, tips: diag, summary: 'Show memory usage details', complexity: 'O(1)', handler: stats },
    ],
  },
];
