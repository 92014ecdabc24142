/**
 * Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH,
 * SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and the PUBSUB introspection container.
 *
 * Replies follow Redis 7.0: every (un)subscription is confirmed by its own
 * [kind, name, count] message (a RESP3 push). The count is the session's
 * channels + patterns for the (P)(UN)SUBSCRIBE family and its shard channels
 * alone for S(UN)SUBSCRIBE. An unsubscribe-all with nothing to drop answers one
 * message with a null name. The RESP2 "subscribed context" restriction is the
 * dispatch gate's job.
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import type { PubSub } from './pubsub.js';
import { CommandError } from '../errors.js';
import { globMatch } from '../keyspace/glob.js';

type Kind = 'subscribe' | 'unsubscribe' | 'psubscribe' | 'punsubscribe' | 'ssubscribe' | 'sunsubscribe';

/**
 * One confirmation message: [kind, name|null, count]. Like Redis 7.0's
 * pub/sub pushes it is sent even under CLIENT REPLY OFF / SKIP (the
 * connection mutes the writer while such a client's command runs).
 */
function confirm(s: Session, kind: Kind, name: string | null, count: number): void {
  const r = s.reply;
  const w = r as { mute?: () => void; unmute?: () => void };
  const muted = s.replyMode !== 'on';
  if (muted) w.unmute?.();
  r.pushLen(3);
  r.bulk(kind);
  r.bulk(name);
  r.int(count);
  if (muted) w.mute?.();
}

/** Subscription count reported by the classic (non-shard) family. */
function classicCount(s: Session): number {
  return s.channels.size + s.patterns.size;
}

function subscribe(s: Session, argv: string[]): void {
  const ps = s.engine.pubsub;
  for (let i = 1; i < argv.length; i++) {
    ps.subscribe(s, argv[i]!);
    confirm(s, 'subscribe', argv[i]!, classicCount(s));
  }
}

function psubscribe(s: Session, argv: string[]): void {
  const ps = s.engine.pubsub;
  for (let i = 1; i < argv.length; i++) {
    ps.psubscribe(s, argv[i]!);
    confirm(s, 'psubscribe', argv[i]!, classicCount(s));
  }
}

function ssubscribe(s: Session, argv: string[]): void {
  const ps = s.engine.pubsub;
  for (let i = 1; i < argv.length; i++) {
    ps.ssubscribe(s, argv[i]!);
    confirm(s, 'ssubscribe', argv[i]!, s.shardChannels.size);
  }
}

/**
 * The three unsubscribe commands: with names, one message per name (subscribed
 * or not); without, one per current subscription, or a single message with a
 * null name when there is none.
 */
function unsubscribeWith(
  s: Session,
  argv: string[],
  kind: Kind,
  own: Set<string>,
  drop: (ps: PubSub, s: Session, name: string) => boolean,
  count: (s: Session) => number,
): void {
  const ps = s.engine.pubsub;
  if (argv.length === 1) {
    if (own.size === 0) {
      confirm(s, kind, null, count(s));
      return;
    }
    for (const name of [...own]) {
      drop(ps, s, name);
      confirm(s, kind, name, count(s));
    }
    return;
  }
  for (let i = 1; i < argv.length; i++) {
    drop(ps, s, argv[i]!);
    confirm(s, kind, argv[i]!, count(s));
  }
}

function unsubscribe(s: Session, argv: string[]): void {
  unsubscribeWith(s, argv, 'unsubscribe', s.channels, (ps, c, n) => ps.unsubscribe(c, n), classicCount);
}

function punsubscribe(s: Session, argv: string[]): void {
  unsubscribeWith(s, argv, 'punsubscribe', s.patterns, (ps, c, n) => ps.punsubscribe(c, n), classicCount);
}

function sunsubscribe(s: Session, argv: string[]): void {
  unsubscribeWith(s, argv, 'sunsubscribe', s.shardChannels, (ps, c, n) => ps.sunsubscribe(c, n), (c) => c.shardChannels.size);
}

// Without cluster mode Redis 7.0 propagates PUBLISH and SPUBLISH to replicas (their subscribers get the
// message too), but not to the AOF: a message is not data.
function publish(s: Session, argv: string[]): void {
  s.reply.int(s.engine.pubsub.publish(argv[1]!, argv[2]!));
  s.propagateAlso(argv, s.dbIndex, true);
}

function spublish(s: Session, argv: string[]): void {
  s.reply.int(s.engine.pubsub.spublish(argv[1]!, argv[2]!));
  s.propagateAlso(argv, s.dbIndex, true);
}

// ---- PUBSUB ---------------------------------------------------------------------

function subcommandSyntax(argv: string[]): CommandError {
  const sub = argv[1]!.length > 128 ? argv[1]!.slice(0, 128) : argv[1]!;
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${sub}'. Try ${argv[0]!.toUpperCase()} HELP.`,
  );
}

/** CHANNELS / SHARDCHANNELS [pattern]: active names, optionally glob-filtered. */
function listChannels(s: Session, argv: string[], reg: Map<string, Set<Session>>): void {
  if (argv.length > 3) throw subcommandSyntax(argv);
  const pattern = argv.length === 3 ? argv[2]! : null;
  const out: string[] = [];
  for (const name of reg.keys()) if (pattern === null || globMatch(pattern, name)) out.push(name);
  s.reply.bulkArray(out);
}

/** NUMSUB / SHARDNUMSUB [name ...]: a flat name, count, name, count ... array (RESP3 too). */
function numsub(s: Session, argv: string[], count: (name: string) => number): void {
  const r = s.reply;
  r.arrayLen((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    r.bulk(argv[i]!);
    r.int(count(argv[i]!));
  }
}

const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

function pubsubHelp(s: Session): void {
  s.reply.arrayLen(PUBSUB_HELP.length);
  for (const line of PUBSUB_HELP) s.reply.simple(line);
}

const ps = { group: 'pubsub' } as const;
const SUB_FLAGS = ['pubsub', 'noscript', 'loading', 'stale'] as const;
// may_replicate: PUBLISH and SPUBLISH wait under CLIENT PAUSE WRITE (Redis 7.0 does not list it in COMMAND INFO).
const PUB_FLAGS = ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'] as const;
/** Shard channels sit where keys would (cluster slot routing) but are not keys. */
const shardSpec = (lastkey: number): KeySpec[] => [{ flags: ['not_key'], begin: { index: 1 }, find: { range: [lastkey, 1, 0] } }];
const INTRO_FLAGS = ['pubsub', 'loading', 'stale'] as const;

export const pubsubCommands: CommandSpec[] = [
  { name: 'subscribe', arity: -2, flags: SUB_FLAGS, ...ps, summary: 'Listen for messages published to the given channels', since: '2.0.0', complexity: 'O(N) where N is the number of channels to subscribe to.', handler: subscribe },
  { name: 'unsubscribe', arity: -1, flags: SUB_FLAGS, ...ps, summary: 'Stop listening for messages posted to the given channels', since: '2.0.0', complexity: 'O(N) where N is the number of clients already subscribed to a channel.', handler: unsubscribe },
  { name: 'psubscribe', arity: -2, flags: SUB_FLAGS, ...ps, summary: 'Listen for messages published to channels matching the given patterns', since: '2.0.0', complexity: 'O(N) where N is the number of patterns the client is already subscribed to.', handler: psubscribe },
  { name: 'punsubscribe', arity: -1, flags: SUB_FLAGS, ...ps, summary: 'Stop listening for messages posted to channels matching the given patterns', since: '2.0.0', complexity: 'O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).', handler: punsubscribe },
  { name: 'publish', arity: 3, flags: PUB_FLAGS, ...ps, summary: 'Post a message to a channel', since: '2.0.0', complexity: 'O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).', handler: publish },
  { name: 'ssubscribe', arity: -2, flags: SUB_FLAGS, ...ps, keys: [1, -1, 1], keySpecs: shardSpec(-1), summary: 'Listen for messages published to the given shard channels', since: '7.0.0', complexity: 'O(N) where N is the number of shard channels to subscribe to.', handler: ssubscribe },
  { name: 'sunsubscribe', arity: -1, flags: SUB_FLAGS, ...ps, keys: [1, -1, 1], keySpecs: shardSpec(-1), summary: 'Stop listening for messages posted to the given shard channels', since: '7.0.0', complexity: 'O(N) where N is the number of clients already subscribed to a shard channel.', handler: sunsubscribe },
  { name: 'spublish', arity: 3, flags: PUB_FLAGS, ...ps, keys: [1, 1, 1], keySpecs: shardSpec(0), summary: 'Post a message to a shard channel', since: '7.0.0', complexity: 'O(N) where N is the number of clients subscribed to the receiving shard channel.', handler: spublish },
  {
    name: 'pubsub',
    arity: -2,
    flags: [],
    ...ps,
    summary: 'A container for Pub/Sub commands',
    since: '2.8.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'channels', arity: -2, flags: INTRO_FLAGS, ...ps, summary: 'List active channels', since: '2.8.0', complexity: 'O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)', handler: (s, argv) => listChannels(s, argv, s.engine.pubsub.channels) },
      { name: 'numsub', arity: -2, flags: INTRO_FLAGS, ...ps, summary: 'Get the count of subscribers for channels', since: '2.8.0', complexity: 'O(N) for the NUMSUB subcommand, where N is the number of requested channels', handler: (s, argv) => numsub(s, argv, (c) => s.engine.pubsub.numsub(c)) },
      { name: 'numpat', arity: 2, flags: INTRO_FLAGS, ...ps, summary: 'Get the count of unique patterns pattern subscriptions', since: '2.8.0', complexity: 'O(1)', handler: (s) => s.reply.int(s.engine.pubsub.numpat) },
      { name: 'shardchannels', arity: -2, flags: INTRO_FLAGS, ...ps, summary: 'List active shard channels', since: '7.0.0', complexity: 'O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).', handler: (s, argv) => listChannels(s, argv, s.engine.pubsub.shardChannels) },
      { name: 'shardnumsub', arity: -2, flags: INTRO_FLAGS, ...ps, summary: 'Get the count of subscribers for shard channels', since: '7.0.0', complexity: 'O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels', handler: (s, argv) => numsub(s, argv, (c) => s.engine.pubsub.shardNumsub(c)) },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...ps, summary: 'Show helpful text about the different subcommands', since: '6.2.0', complexity: 'O(1)', handler: pubsubHelp },
    ],
  },
];
