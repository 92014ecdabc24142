/**
 * XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP,
 * with Redis 7.0.15's fields (RESP3 maps, RESP2 flat arrays): the stream's
 * node counts, last / max-deleted / recorded-first IDs and entries-added;
 * per group entries-read (null when unknown) and lag (null when it cannot
 * be computed); per consumer its pending count and idle time (7.0 has no
 * "inactive" field). FULL lists at most COUNT entries, and at most COUNT
 * pending entries per group and per consumer (COUNT 0: all, default 10).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import type { Reply } from '../protocol/reply.js';
import { CommandError, Err, truncateForError } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { now } from '../keyspace/clock.js';
import type { StreamValue } from './stream-value.js';
import { type Consumer, type ConsumerGroup, type Nack, INVALID_ENTRIES_READ, groupLag } from './stream-group.js';
import type { IdMap } from './id-map.js';
import { MAX_ID, MIN_ID } from './stream-id.js';
import { collectRange, cstr, errorText, readStream, replyEntries, replyEntry, replyId, streamKeySpec } from './stream-commands.js';

function subcommandSyntax(argv: string[]): CommandError {
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${truncateForError(argv[1]!)}'. Try ${argv[0]!.toUpperCase()} HELP.`,
  );
}

function existing(s: Session, key: string): StreamValue {
  const st = readStream(s, key);
  if (st === undefined) throw new CommandError(Err.noSuchKey);
  return st;
}

/**
 * The first `count` entries (0: all) of a pending entries list, each as
 * [id, consumer name, delivery time, deliveries]; the consumer's name is left
 * out of the PEL of a consumer (`withConsumer` false).
 */
function replyPending(r: Reply, pel: IdMap<Nack>, count: number, withConsumer: boolean): void {
  const items: [string, Nack][] = [];
  pel.forEachFrom(MIN_ID, (id, n) => {
    items.push([`${id.ms}-${id.seq}`, n]);
    return count === 0 || items.length < count;
  });
  r.arrayLen(items.length);
  for (const [id, n] of items) {
    r.arrayLen(withConsumer ? 4 : 3);
    r.bulk(id);
    if (withConsumer) r.bulk(n.consumer.name);
    r.int(n.deliveryTime);
    r.int(n.deliveryCount);
  }
}

/**
 * One consumer group's map, as XINFO GROUPS replies it (`full` null) or as
 * an element of XINFO STREAM FULL's groups (`full.count` bounds the pending
 * lists): name, [consumers, pending,] last-delivered-id, entries-read (null
 * when unknown), lag (null when it cannot be computed) [, pel-count,
 * pending, consumers].
 */
function replyGroup(r: Reply, st: StreamValue, g: ConsumerGroup, full: { count: number } | null): void {
  r.mapLen(full === null ? 6 : 7);
  r.bulk('name');
  r.bulk(g.name);
  if (full === null) {
    r.bulk('consumers');
    r.int(g.consumers.size);
    r.bulk('pending');
    r.int(g.pel.size);
  }
  r.bulk('last-delivered-id');
  replyId(r, g.lastId);
  r.bulk('entries-read');
  if (g.entriesRead === INVALID_ENTRIES_READ) r.nullBulk();
  else r.int(g.entriesRead);
  r.bulk('lag');
  const lag = groupLag(st, g);
  if (lag === null) r.nullBulk();
  else r.int(lag);
  if (full === null) return;
  r.bulk('pel-count');
  r.int(g.pel.size);
  r.bulk('pending');
  replyPending(r, g.pel, full.count, true);
  r.bulk('consumers');
  const consumers = g.sortedConsumers();
  r.arrayLen(consumers.length);
  for (const c of consumers) replyConsumer(r, c, full);
}

/**
 * One consumer's map, as XINFO CONSUMERS replies it (`full` null: name,
 * pending count, idle ms) or in XINFO STREAM FULL (name, seen-time,
 * pel-count, its first `full.count` pending entries).
 */
function replyConsumer(r: Reply, c: Consumer, full: { count: number } | null): void {
  r.mapLen(full === null ? 3 : 4);
  r.bulk('name');
  r.bulk(c.name);
  if (full === null) {
    r.bulk('pending');
    r.int(c.pel.size);
    r.bulk('idle');
    r.int(Math.max(0, now() - c.seenTime));
    return;
  }
  r.bulk('seen-time');
  r.int(c.seenTime);
  r.bulk('pel-count');
  r.int(c.pel.size);
  r.bulk('pending');
  replyPending(r, c.pel, full.count, false);
}

function xinfoStream(s: Session, argv: string[]): void {
  const key = argv[2]!;
  const st = existing(s, key);
  const optc = argv.length - 3;
  let full = false;
  let count = 10;
  if (optc > 0) {
    if (optc !== 1 && optc !== 3) throw subcommandSyntax(argv);
    if (!is(argv[3], 'FULL')) throw subcommandSyntax(argv);
    if (optc === 3) {
      if (!is(argv[4], 'COUNT')) throw subcommandSyntax(argv);
      count = longArg(argv[5]!);
      if (count < 0) count = 10;
    }
    full = true;
  }
  const r = s.reply;
  r.mapLen(full ? 9 : 10);
  r.bulk('length');
  r.int(st.size);
  r.bulk('radix-tree-keys');
  r.int(st.nodeCount);
  r.bulk('radix-tree-nodes');
  r.int(st.radixTreeNodes());
  r.bulk('last-generated-id');
  replyId(r, st.lastId);
  r.bulk('max-deleted-entry-id');
  replyId(r, st.maxDeletedId);
  r.bulk('entries-added');
  r.int(st.entriesAdded);
  r.bulk('recorded-first-entry-id');
  replyId(r, st.firstId);
  if (!full) {
    r.bulk('groups');
    r.int(st.groups.size);
    for (const [label, first] of [['first-entry', true], ['last-entry', false]] as const) {
      r.bulk(label);
      const e = st.edgeEntry(first);
      if (e === null) r.nullBulk();
      else replyEntry(r, e.id.ms, e.id.seq, e.fv);
    }
    return;
  }
  r.bulk('entries');
  replyEntries(r, collectRange(st, MIN_ID, MAX_ID, count, false));
  r.bulk('groups');
  const groups = st.sortedGroups();
  r.arrayLen(groups.length);
  for (const g of groups) replyGroup(r, st, g, { count });
}

function xinfoGroups(s: Session, argv: string[]): void {
  const st = existing(s, argv[2]!);
  const r = s.reply;
  const groups = st.sortedGroups();
  r.arrayLen(groups.length);
  for (const g of groups) replyGroup(r, st, g, null);
}

function xinfoConsumers(s: Session, argv: string[]): void {
  const key = argv[2]!;
  const st = existing(s, key);
  const g = st.groups.get(argv[3]!);
  if (g === undefined) throw new CommandError(errorText(`NOGROUP No such consumer group '${cstr(argv[3]!)}' for key name '${cstr(key)}'`));
  const r = s.reply;
  const consumers = g.sortedConsumers();
  r.arrayLen(consumers.length);
  for (const c of consumers) replyConsumer(r, c, null);
}

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

const infoSub = {
  flags: ['readonly'], group: 'stream', since: '5.0.0', complexity: 'O(1)', keys: [2, 2, 1], keySpecs: [streamKeySpec(['RO', 'access'], 2)],
} as const;

export const streamInfoCommands: CommandSpec[] = [
  {
    name: 'xinfo', arity: -2, flags: [], group: 'stream', summary: 'A container for stream introspection commands', since: '5.0.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'stream', summary: 'Show helpful text about the different subcommands',
        since: '5.0.0', complexity: 'O(1)', handler: (s) => {
          s.reply.arrayLen(XINFO_HELP.length);
          for (const l of XINFO_HELP) s.reply.simple(l);
        },
      },
      { name: 'groups', arity: 3, ...infoSub, summary: 'List the consumer groups of a stream', handler: xinfoGroups },
      { name: 'stream', arity: -3, ...infoSub, summary: 'Get information about a stream', handler: xinfoStream },
      {
        name: 'consumers', arity: 4, ...infoSub, tips: ['nondeterministic_output'], summary: 'List the consumers in a consumer group',
        handler: xinfoConsumers,
      },
    ],
  },
];
