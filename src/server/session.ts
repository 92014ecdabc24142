/**
 * A client session: everything the engine knows about one client, none of it
 * about sockets. A TCP connection (server/connection.ts) or an in-process
 * caller (server/local-session.ts) owns one and provides its Reply sink and
 * transport.
 */
import type { Reply } from '../protocol/reply.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { Engine } from './engine.js';
import type { Command } from '../commands/command-table.js';
import { CommandError, Err } from '../errors.js';
import type { AclUser } from './acl-user.js';

/** What a session needs from whoever carries its bytes. */
export interface Transport {
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  /** Close now, or after pending replies are written. */
  close(afterReply: boolean): void;
  /** Bytes queued for output (encoded and in the socket). */
  outputBytes(): number;
  /** Bytes received but not yet parsed into commands. */
  queryBufferBytes(): number;
  /** The query buffer as the memory figures count it (a long pipeline's unparsed part is capped); default queryBufferBytes(). */
  queryMemoryBytes?(): number;
  /** Resume command processing (after unblock / unpause). */
  resume(): void;
  /** Write bytes as they are, after the replies encoded so far (a replica's RDB payload and command stream). */
  sendRaw?(bytes: Buffer): void;
}

export interface MultiState {
  queue: { cmd: Command; argv: string[] }[];
  /** A command was rejected while queueing: EXEC answers EXECABORT. */
  aborted: boolean;
}

/** A client blocked on keys (BLPOP and friends) or on WAIT; see issue #3. */
export interface BlockState {
  /** Absolute deadline in ms, 0 = forever. */
  deadline: number;
  /** Called when the block times out: writes the timeout reply. */
  onTimeout(): void;
  /** Called by CLIENT UNBLOCK ... ERROR or when the client disconnects. */
  cancel(): void;
  /** Block reason reported by CLIENT LIST flags/cmd. */
  kind: 'list' | 'zset' | 'stream' | 'wait' | 'pause' | 'module' | 'script';
  /**
   * Blocked on keys: null until dispatch records the command that blocked;
   * SLOWLOG and the latency histogram get it when it is served (Redis 7.0).
   */
  call?: { cmd: Command; argv: string[]; usec: number } | null;
  /**
   * A busy script (kind 'script', scripting/script-busy.ts): the end of the
   * dispatcher's call() of its EVAL/FCALL (stats, slowlog, propagation),
   * set when the handler returns, run once the script ends.
   */
  endCall?: (() => void) | null;
}

export type ReplyMode = 'on' | 'off' | 'skip';

let nextId = 1;

export class Session {
  readonly id = nextId++;
  dbIndex = 0;
  db: Keyspace;
  name = '';
  libName = '';
  libVer = '';
  authenticated: boolean;
  /** The ACL user the session runs as (the default user until AUTH). */
  aclUser: AclUser;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = 'NULL';
  multi: MultiState | null = null;
  /** Keys watched by WATCH: "db\0key". Set to true by the engine when any is modified. */
  watching: Set<string> | null = null;
  watchDirty = false;
  /** Watched keys that were already expired (not yet deleted) when watched: their deletion is no change. */
  watchStale: Set<string> | null = null;
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();
  replyMode: ReplyMode = 'on';
  noEvict = false;
  noTouch = false;
  monitor = false;
  /** The session is closing: no more commands are processed. */
  closing = false;
  blocked: BlockState | null = null;
  /** Set while the session runs inside EXEC (for nested-propagation decisions). */
  inExec = false;
  /** Per command: argv to propagate instead of the original (deterministic rewrite), or extra commands. */
  propagateAs: string[] | null = null;
  alsoPropagate: { db: number; argv: string[]; replicasOnly?: boolean }[] | null = null;
  /** Per command: suppress propagation even though the data changed. */
  preventPropagation = false;
  /** Replays propagated commands (the AOF loader): already-rewritten forms are obeyed as written (XADD LIMIT with '='). */
  obeyClient = false;

  constructor(
    readonly engine: Engine,
    readonly reply: Reply & { resp: 2 | 3 },
    readonly transport: Transport | null,
  ) {
    this.db = engine.dbs[0]!;
    this.aclUser = engine.acl.defaultUser;
    this.authenticated = engine.acl.defaultAuthenticated();
    engine.registerSession(this);
  }

  get user(): string {
    return this.aclUser.name;
  }

  get resp(): 2 | 3 {
    return this.reply.resp;
  }

  /** Number of pub/sub subscriptions (channels + patterns + shard channels). */
  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }

  /** RESP2 clients with subscriptions may only run the pub/sub subset. */
  get inPubSubContext(): boolean {
    return this.resp === 2 && this.subscriptionCount > 0;
  }

  select(index: number): void {
    const db = this.engine.dbs[index];
    if (db === undefined) throw new CommandError(Err.invalidDbIndex);
    this.dbIndex = index;
    this.db = db;
  }

  /**
   * Record a write to `key` in the current database: marks the data set
   * dirty (propagation, save points), invalidates WATCH, and fires the
   * keyspace notification `event` of class `cls` ('$', 'g', 'l', 'h', ...).
   */
  wrote(cls: string, event: string, key: string, dirty = 1): void {
    this.engine.keyModified(this.dbIndex, key, dirty);
    this.engine.notify(cls, event, key, this.dbIndex);
  }

  /** Replace the argv propagated for the current command. */
  rewriteAs(argv: string[]): void {
    this.propagateAs = argv;
  }

  /** Propagate an additional command after the current one (to replicas only, not the AOF, with `replicasOnly`). */
  propagateAlso(argv: string[], db = this.dbIndex, replicasOnly = false): void {
    (this.alsoPropagate ??= []).push({ db, argv, replicasOnly });
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    // cancel() unregisters the waiter and clears `blocked` (keeping the blocked count right).
    if (this.blocked !== null) this.blocked.cancel();
    this.blocked = null;
    this.engine.unregisterSession(this);
  }
}
