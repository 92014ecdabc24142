/**
 * The engine: server-wide state shared by every session. Databases, the
 * command table, config, stats, pub/sub, keyspace notifications, propagation
 * to AOF/replicas, WATCH bookkeeping, and the cron (active expiry, client
 * timeouts, clocks). Nothing here knows about sockets.
 */
import { randomBytes } from 'node:crypto';
import { Keyspace, touchLru, type KeyspaceEvents } from '../keyspace/keyspace.js';
import { clock, lruClockNow, now } from '../keyspace/clock.js';
import { ConfigStore } from '../config/config-store.js';
import { CommandTable, type CommandSpec } from '../commands/command-table.js';
import { PubSub } from '../pubsub/pubsub.js';
import { SlowLog, LatencyMonitor } from './slowlog.js';
import type { Session } from './session.js';
import { Logger } from './logger.js';
import { BlockingRegistry } from './blocking.js';
import { Tracking } from './tracking.js';
import { AclRegistry } from './acl-registry.js';

/**
 * A propagation target (the AOF writer, the replication feed). `replicasOnly`
 * marks a command that goes to replicas but not to the AOF (PUBLISH, as in
 * Redis 7.0): targets that persist skip it.
 */
export type Propagator = (db: number, argv: string[], replicasOnly: boolean) => void;

/** The keyspace hooks several modules may listen to at once (see Engine.addKeyspaceHook). */
export interface ComposableKeyspaceHooks {
  beforeWrite: (db: Keyspace, key: string, slot: number) => void;
  created: (db: Keyspace, key: string) => void;
  moved: (db: Keyspace, key: string, fromSlot: number, toSlot: number) => void;
  beforeClear: (db: Keyspace) => void;
}
type HookName = keyof ComposableKeyspaceHooks;

/**
 * Extra steps of the active expiry cycle, registered by data-type modules
 * when they load (hash field TTLs: src/hash/field-expiry.ts). Each gets the
 * cycle's time and the performance.now() deadline of its CPU budget.
 */
export const activeExpireSteps: ((engine: Engine, t: number, deadline: number) => void)[] = [];

export interface EngineStats {
  startTime: number;
  connectionsReceived: number;
  commandsProcessed: number;
  rejectedConnections: number;
  expiredKeys: number;
  expiredStalePerc: number;
  expiredTimeCapReachedCount: number;
  expireCycleCpuMs: number;
  evictedKeys: number;
  evictedClients: number;
  totalErrorReplies: number;
  /** Replicas served a full resync / a partial one / refused a partial one (INFO stats sync_*). */
  syncFull: number;
  syncPartialOk: number;
  syncPartialErr: number;
  netInputBytes: number;
  netOutputBytes: number;
  pubsubChannelsPeak: number;
  /** errorstats: error code → count */
  errors: Map<string, number>;
  /** keyspace hits/misses, shared with every Keyspace */
  keyspace: { hits: number; misses: number };
  /** ops/sec sampling for instantaneous_ops_per_sec */
  opsSamples: number[];
  lastOpsSampleTime: number;
  lastOpsSampleCount: number;
  /** instantaneous_input_kbps / instantaneous_output_kbps samples (bytes per second). */
  netInputSamples: number[];
  netOutputSamples: number[];
  lastNetInputSample: number;
  lastNetOutputSample: number;
  /** total_reads_processed / total_writes_processed: socket reads and writes. */
  readsProcessed: number;
  writesProcessed: number;
}

/**
 * A script that ran past busy-reply-threshold and now runs in slices
 * (scripting/script-busy.ts): commands not flagged allow_busy get `error`,
 * the cron's writes (active expiry, eviction, saves) wait, and so does a
 * replica's master stream, until it ends.
 */
export interface BusyScript {
  /** The -BUSY error other clients get. */
  readonly error: string;
}

export interface PauseState {
  /** 'all' pauses every command, 'write' only writes; null = not paused. */
  mode: 'all' | 'write' | null;
  until: number;
  timer: NodeJS.Timeout | null;
}

export class Engine {
  readonly config: ConfigStore;
  readonly dbs: Keyspace[] = [];
  readonly commands: CommandTable;
  readonly sessions = new Map<number, Session>();
  /** ACL users, ACL LOG (server/acl-registry.ts). */
  readonly acl: AclRegistry;
  readonly pubsub = new PubSub();
  readonly slowlog = new SlowLog();
  readonly latency = new LatencyMonitor();
  readonly monitors = new Set<Session>();
  /** Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK, ...). */
  readonly blocking: BlockingRegistry = new BlockingRegistry(this);
  /** CLIENT TRACKING: client-side caching invalidations. */
  readonly tracking: Tracking = new Tracking(this);
  readonly runId = randomBytes(20).toString('hex');
  /** Replication ids and offset (INFO replication, DEBUG CHANGE-REPL-ID). */
  replId = randomBytes(20).toString('hex');
  replId2 = '0'.repeat(40);
  masterReplOffset = 0;
  secondReplOffset = -1;
  readonly log: Logger;
  readonly pause: PauseState = { mode: null, until: 0, timer: null };
  readonly stats: EngineStats;
  /** Writes since the last save (Redis's server.dirty). */
  dirty = 0;
  lastSave = Math.floor(Date.now() / 1000);
  activeExpireEnabled = true;
  /** DEBUG PAUSE-CRON. */
  cronPaused = false;
  /**
   * Keys given a TTL by clients of a writable replica (the master's keys
   * expire by its DELs), with the databases they have it in: a replica's
   * cron expires these itself (Redis's slaveKeysWithExpire; INFO
   * slave_expires_tracked_keys).
   */
  readonly replicaKeysWithExpire = new Map<string, Set<number>>();
  /** Cached from config for the per-command hot path. */
  slowlogThreshold = 10000;
  latencyThresholdMs = 0;
  /** latency-tracking: per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM). */
  latencyTracking = true;
  /** Set while a dataset load is in progress: commands answer -LOADING. */
  loading = false;
  /** The script running past busy-reply-threshold, if any (see BusyScript). */
  busyScript: BusyScript | null = null;
  /** Called when a busy script ends (a replica resumes applying its master's stream). */
  readonly busyEndHooks: (() => void)[] = [];
  readonly propagators: Propagator[] = [];
  /** Propagators that feed replicas: replicas-only commands are dropped while there is none (Redis's shouldPropagate). */
  replicaFeeds = 0;
  /** Open execution units and what they propagated so far (see beginPropagationUnit). */
  private unitDepth = 0;
  private unitOps: { db: number; argv: string[]; replicasOnly: boolean }[] = [];
  /** The Redis version cacheside reports (HELLO, INFO redis_version): the Redis 7.0 command set it implements. */
  readonly redisVersion = '7.0.15';
  role: 'master' | 'slave' = 'master';
  /** Listeners for SWAPDB (blocked clients re-check their keys). */
  readonly swapDbListeners: ((a: number, b: number) => void)[] = [];
  /** Listening addresses, filled in by the TCP server (INFO, CLIENT LIST laddr). */
  tcpPort = 0;
  private cron: NodeJS.Timeout | null = null;
  private lazyDeleteBeforePause = false;
  private cronLoops = 0;
  private readonly keyEvents: KeyspaceEvents;
  /** Listeners of the composable keyspace hooks; the field in keyEvents is null while a list is empty. */
  private readonly keyHooks: { [K in HookName]: ComposableKeyspaceHooks[K][] } = { beforeWrite: [], created: [], moved: [], beforeClear: [] };
  /** The new-key notification listener (part of `created`), while 'n' is enabled. */
  private notifyCreated: ComposableKeyspaceHooks['created'] | null = null;
  /** WATCH: "db\0key" → sessions watching it. */
  private readonly watchers = new Map<string, Set<Session>>();
  /** notify-keyspace-events parsed to a class set; empty = disabled. */
  private notifyFlags = '';
  /** Set by bootstrap: stops listeners and timers (SHUTDOWN). */
  closeServer: ((opts?: { save?: boolean; force?: boolean }) => Promise<void>) | null = null;
  /** Set by the CLI: what to do once SHUTDOWN has closed the server (exit the process). Tests leave it null. */
  onShutdown: (() => void) | null = null;
  /** Set by bootstrap: re-open the listeners after CONFIG SET port/bind (rejects, keeping the old ones, on failure). */
  relisten: (() => Promise<void>) | null = null;
  /** Called on every cron tick (memory peak tracking, ...). */
  readonly cronHooks: (() => void)[] = [];
  /** Called when a session goes away (its memory leaves the clients' figure at once). */
  readonly sessionClosedHooks: ((s: Session) => void)[] = [];
  /**
   * Called by FLUSHALL after the data set is emptied (persistence: Redis
   * saves an RDB here when save points are configured; FLUSHALL has already
   * added 1 to dirty).
   */
  readonly flushAllHooks: (() => void)[] = [];
  /** Shutdown hooks (persistence flushes, listeners closing). */
  readonly shutdownHooks: ((opts: { save: boolean | null }) => Promise<void> | void)[] = [];

  constructor(config: ConfigStore, commandSpecs: Iterable<CommandSpec>, log?: Logger) {
    this.config = config;
    this.log = log ?? new Logger(config);
    this.commands = new CommandTable(commandSpecs);
    for (const [from, to] of config.renamedCommands) this.commands.rename(from, to);
    this.acl = new AclRegistry(this);
    const t = Date.now();
    this.stats = {
      startTime: t,
      connectionsReceived: 0,
      commandsProcessed: 0,
      rejectedConnections: 0,
      expiredKeys: 0,
      expiredStalePerc: 0,
      expiredTimeCapReachedCount: 0,
      expireCycleCpuMs: 0,
      evictedKeys: 0,
      evictedClients: 0,
      totalErrorReplies: 0,
      syncFull: 0,
      syncPartialOk: 0,
      syncPartialErr: 0,
      netInputBytes: 0,
      netOutputBytes: 0,
      pubsubChannelsPeak: 0,
      errors: new Map(),
      keyspace: { hits: 0, misses: 0 },
      opsSamples: [],
      lastOpsSampleTime: t,
      lastOpsSampleCount: 0,
      netInputSamples: [],
      netOutputSamples: [],
      lastNetInputSample: 0,
      lastNetOutputSample: 0,
      readsProcessed: 0,
      writesProcessed: 0,
    };
    this.keyEvents = {
      expired: (db, key) => this.onExpired(db, key),
      beforeWrite: null,
      miss: null,
      created: null,
      moved: null,
      beforeClear: null,
      touch: touchLru,
      lazyDeleteDisabled: false,
      stats: this.stats.keyspace,
    };
    const n = config.num('databases');
    for (let i = 0; i < n; i++) this.dbs.push(new Keyspace(i, this.keyEvents));
    this.setNotifyFlags(config.str('notify-keyspace-events'));
    config.onChange('notify-keyspace-events', (v) => this.setNotifyFlags(v as string));
    config.onChange('hz', () => this.startCron());
    this.slowlogThreshold = config.num('slowlog-log-slower-than');
    config.onChange('slowlog-log-slower-than', (v) => (this.slowlogThreshold = v as number));
    this.latencyThresholdMs = config.num('latency-monitor-threshold');
    config.onChange('latency-monitor-threshold', (v) => (this.latencyThresholdMs = v as number));
    this.latencyTracking = config.bool('latency-tracking');
    config.onChange('latency-tracking', (v) => (this.latencyTracking = v as boolean));
  }

  /** Hooks for persistence and eviction modules to intercept key writes and access. */
  get keyspaceEvents(): KeyspaceEvents {
    return this.keyEvents;
  }

  /**
   * Listen to a keyspace hook alongside other listeners (snapshots, new-key
   * notifications). Returns the function that removes the listener. With no
   * listener the hook field stays null, so the hot path pays nothing.
   */
  addKeyspaceHook<K extends HookName>(name: K, fn: ComposableKeyspaceHooks[K]): () => void {
    this.keyHooks[name].push(fn);
    this.rebuildKeyspaceHook(name);
    return () => {
      const l = this.keyHooks[name];
      const i = l.indexOf(fn);
      if (i >= 0) l.splice(i, 1);
      this.rebuildKeyspaceHook(name);
    };
  }

  private rebuildKeyspaceHook(name: HookName): void {
    const l: ((...a: any[]) => void)[] = this.keyHooks[name].slice();
    if (name === 'created' && this.notifyCreated !== null) l.unshift(this.notifyCreated);
    const fn = l.length === 0 ? null : l.length === 1 ? l[0]! : (...a: unknown[]) => { for (const f of l) f(...a); };
    (this.keyEvents as unknown as Record<HookName, unknown>)[name] = fn;
  }

  start(): void {
    this.startCron();
  }

  stop(): void {
    if (this.cron) clearInterval(this.cron);
    this.cron = null;
    if (this.pause.timer) clearTimeout(this.pause.timer);
  }

  /**
   * CLIENT PAUSE until `until` (ms): over a pause in force the stricter mode
   * and the later end win. While paused nothing expires: expired keys look
   * absent but stay (as on a replica) until the pause ends.
   */
  pauseClients(mode: 'all' | 'write', until: number): void {
    const p = this.pause;
    if (p.mode === null) {
      this.lazyDeleteBeforePause = this.keyEvents.lazyDeleteDisabled;
      this.keyEvents.lazyDeleteDisabled = true;
    }
    if (p.mode !== 'all') p.mode = mode;
    if (until <= p.until) return;
    p.until = until;
    if (p.timer) clearTimeout(p.timer);
    const arm = (): void => {
      const left = p.until - Date.now();
      if (left <= 0) this.unpause();
      else {
        // setTimeout takes at most 2^31-1 ms: re-arm for long pauses.
        p.timer = setTimeout(arm, Math.min(left, 0x7fffffff));
        p.timer.unref();
      }
    };
    arm();
  }

  /** End CLIENT PAUSE (UNPAUSE or expiry) and resume every client holding a command. */
  unpause(): void {
    if (this.pause.timer) clearTimeout(this.pause.timer);
    this.pause.timer = null;
    if (this.pause.mode !== null) this.keyEvents.lazyDeleteDisabled = this.lazyDeleteBeforePause;
    this.pause.mode = null;
    this.pause.until = 0;
    for (const s of this.sessions.values()) s.transport?.resume();
  }

  // ---- sessions ------------------------------------------------------------

  registerSession(s: Session): void {
    this.sessions.set(s.id, s);
  }

  unregisterSession(s: Session): void {
    this.sessions.delete(s.id);
    for (let i = 0; i < this.sessionClosedHooks.length; i++) this.sessionClosedHooks[i]!(s);
    if (this.tracking.enabled) this.tracking.disable(s);
    this.pubsub.removeAll(s);
    this.monitors.delete(s);
    this.unwatchAll(s);
  }

  // ---- writes, WATCH, notifications, propagation ------------------------------

  /** A key was written (signalModifiedKey + dirty). */
  keyModified(db: number, key: string, dirty = 1): void {
    this.dirty += dirty;
    // A client of a writable replica wrote a key with a TTL (the master's stream applies with noExpiry set).
    if (this.role === 'slave' && this.keyEvents.noExpiry !== true && !this.loading) this.rememberReplicaKeyWithExpire(db, key);
    if (this.tracking.enabled) this.tracking.keyModified(key);
    if (this.watchers.size > 0) {
      const k = db + '\0' + key;
      const set = this.watchers.get(k);
      if (set !== undefined) {
        for (const s of set) {
          // A key that was already expired when watched and is now deleted did not logically change.
          if (s.watchStale?.has(k) && this.dbs[db]!.slotOf(key) < 0) s.watchStale.delete(k);
          else s.watchDirty = true;
        }
      }
    }
  }

  /**
   * WATCH across FLUSHDB / SWAPDB: database `db` is emptied, or (SWAPDB,
   * called before the swap) gets the contents of `replacedWith`. A watched
   * key is touched when it exists on either side, except that a key that was
   * already expired when watched may vanish or stay expired, and a missing
   * key may be replaced by an expired one, without failing EXEC.
   */
  touchWatchedKeysInDb(db: number, replacedWith: Keyspace | null): void {
    if (this.tracking.enabled) this.tracking.flushed();
    if (this.watchers.size === 0) return;
    const emptied = this.dbs[db]!;
    const prefix = db + '\0';
    for (const [k, set] of this.watchers) {
      if (!k.startsWith(prefix)) continue;
      const key = k.slice(prefix.length);
      const inEmptied = emptied.slotOf(key) >= 0;
      const inReplacement = replacedWith !== null && replacedWith.slotOf(key) >= 0;
      if (!inEmptied && !inReplacement) continue;
      const replacementStale = inReplacement && isStaleKey(replacedWith!, key);
      for (const s of set) {
        if (s.watchStale?.has(k)) {
          if (!inReplacement) {
            s.watchStale.delete(k);
            continue;
          }
          if (replacementStale) continue;
        } else if (!inEmptied && replacementStale) {
          (s.watchStale ??= new Set()).add(k);
          continue;
        }
        s.watchDirty = true;
      }
    }
  }

  /**
   * Every watched key of a database is touched (FLUSHDB, FLUSHALL, SWAPDB).
   * With `only`, just the watched keys it accepts (Redis 7.0's FLUSHALL and
   * FLUSHDB invalidate only watched keys that existed).
   */
  dbModified(db: number, only?: (key: string) => boolean): void {
    if (this.tracking.enabled) this.tracking.flushed();
    if (this.watchers.size === 0) return;
    const prefix = db + '\0';
    for (const [k, set] of this.watchers) {
      if (!k.startsWith(prefix)) continue;
      if (only !== undefined && !only(k.slice(prefix.length))) continue;
      for (const s of set) s.watchDirty = true;
    }
  }

  watch(s: Session, db: number, key: string): void {
    const k = db + '\0' + key;
    if (s.watching?.has(k)) return;
    if (isStaleKey(this.dbs[db]!, key)) (s.watchStale ??= new Set()).add(k);
    (s.watching ??= new Set()).add(k);
    let set = this.watchers.get(k);
    if (set === undefined) this.watchers.set(k, (set = new Set()));
    set.add(s);
  }

  unwatchAll(s: Session): void {
    if (s.watching === null) return;
    for (const k of s.watching) {
      const set = this.watchers.get(k);
      if (set === undefined) continue;
      set.delete(s);
      if (set.size === 0) this.watchers.delete(k);
    }
    s.watching = null;
    s.watchDirty = false;
    s.watchStale = null;
  }

  /** EXEC: has a watched key expired since it was watched (Redis 7.0 fails the transaction)? */
  watchedKeyExpired(s: Session): boolean {
    if (s.watching === null) return false;
    for (const k of s.watching) {
      if (s.watchStale?.has(k)) continue;
      const sep = k.indexOf('\0');
      if (isStaleKey(this.dbs[Number(k.slice(0, sep))]!, k.slice(sep + 1))) return true;
    }
    return false;
  }

  /** Keyspace notification (notifyKeyspaceEvent). `cls` is one of g $ l s h z x e t m n. */
  notify(cls: string, event: string, key: string, db: number): void {
    const f = this.notifyFlags;
    if (f === '' || !f.includes(cls)) return;
    const ps = this.pubsub;
    if (ps.channels.size === 0 && ps.patterns.size === 0) return; // nobody listens: skip building channel names
    if (f.includes('K')) this.pubsub.publish(`__keyspace@${db}__:${key}`, event);
    if (f.includes('E')) this.pubsub.publish(`__keyevent@${db}__:${event}`, key);
  }

  /**
   * Apply notify-keyspace-events. The key-miss ('m') and new-key ('n') hooks
   * are installed in the keyspaces only while enabled, so they cost nothing
   * otherwise. Keys added by a dataset load are not "new".
   */
  private setNotifyFlags(v: string): void {
    const f = (this.notifyFlags = expandNotifyFlags(v));
    this.keyEvents.miss = f.includes('m') ? (db, key) => this.notify('m', 'keymiss', key, db.id) : null;
    this.notifyCreated = f.includes('n')
      ? (db, key) => {
          if (!this.loading) this.notify('n', 'new', key, db.id);
        }
      : null;
    this.rebuildKeyspaceHook('created');
  }

  /**
   * Send a write to the AOF and replicas (to replicas only with `replicasOnly`),
   * held until the end of the current execution unit, if any.
   */
  propagate(db: number, argv: string[], replicasOnly = false): void {
    // No propagators (no AOF, or a load replaying one): nothing to hold either.
    if (this.propagators.length === 0 || (replicasOnly && this.replicaFeeds === 0)) return;
    if (this.unitDepth > 0) this.unitOps.push({ db, argv, replicasOnly });
    else for (let i = 0; i < this.propagators.length; i++) this.propagators[i]!(db, argv, replicasOnly);
  }

  /**
   * An execution unit: one client command (an EXEC with all its commands
   * included) or one served blocked client. What it propagates (lazy-expiry
   * DELs, the command or its rewrite, extra commands) is held until
   * `endPropagationUnit` and then sent at once, wrapped in MULTI/EXEC when it
   * is more than one command so that the AOF and replicas apply it
   * atomically (Redis 7.0's propagatePendingCommands). Units nest; only the
   * outermost sends. Dispatch opens units only while there are propagators.
   */
  beginPropagationUnit(): void {
    this.unitDepth++;
  }

  endPropagationUnit(): void {
    if (--this.unitDepth > 0) return;
    const ops = this.unitOps;
    if (ops.length === 0) return;
    this.unitOps = [];
    const send = (db: number, argv: string[], replicasOnly: boolean): void => {
      for (let i = 0; i < this.propagators.length; i++) this.propagators[i]!(db, argv, replicasOnly);
    };
    if (ops.length === 1) return send(ops[0]!.db, ops[0]!.argv, ops[0]!.replicasOnly);
    // MULTI in the database of the first command (a SELECT before it, if any), EXEC where the last one ran.
    // Both go to every target, as in Redis 7.0 (the AOF gets them even around replicas-only commands).
    send(ops[0]!.db, ['MULTI'], false);
    for (const op of ops) send(op.db, op.argv, op.replicasOnly);
    send(ops[ops.length - 1]!.db, ['EXEC'], false);
  }

  /**
   * A busy script suspends its execution unit: what it propagated so far is
   * taken out (the unit itself is closed by its caller as usual, sending
   * nothing) and given back with `resumePropagationUnit` when it runs again.
   */
  suspendPropagationUnit(): { db: number; argv: string[]; replicasOnly: boolean }[] {
    const ops = this.unitOps;
    this.unitOps = [];
    return ops;
  }

  /** Open a unit holding the operations a suspended one had propagated (close it with endPropagationUnit). */
  resumePropagationUnit(ops: { db: number; argv: string[]; replicasOnly: boolean }[]): void {
    this.unitDepth++;
    if (ops.length > 0) this.unitOps = ops.concat(this.unitOps);
  }

  private onExpired(db: Keyspace, key: string): void {
    this.stats.expiredKeys++;
    this.keyModified(db.id, key, 0);
    this.notify('x', 'expired', key, db.id);
    this.propagate(db.id, ['DEL', key]);
  }

  private rememberReplicaKeyWithExpire(db: number, key: string): void {
    const ks = this.dbs[db]!;
    const slot = ks.slotOf(key);
    if (slot < 0 || ks.expireOf(slot) === 0) return;
    let dbs = this.replicaKeysWithExpire.get(key);
    if (dbs === undefined) this.replicaKeysWithExpire.set(key, (dbs = new Set()));
    dbs.add(db);
  }

  /**
   * A replica's share of active expiry (Redis's expireSlaveKeys): expire the
   * due keys its own clients gave a TTL, forgetting those that are gone or
   * lost their TTL; stop after a few still-volatile keys, or when a
   * millisecond has gone by. Keys kept go to the back of the queue.
   */
  private expireReplicaKeys(): void {
    const tracked = this.replicaKeysWithExpire;
    if (tracked.size === 0) return;
    const start = performance.now();
    const t = now();
    const total = tracked.size;
    let stillVolatile = 0;
    let visited = 0;
    for (const [key, dbs] of tracked) {
      tracked.delete(key);
      for (const id of dbs) {
        const db = this.dbs[id];
        const slot = db === undefined ? -1 : db.slotOf(key);
        if (slot < 0 || db!.expireOf(slot) === 0 || db!.expireIfDue(slot, t)) dbs.delete(id);
        else stillVolatile++;
      }
      if (dbs.size > 0) tracked.set(key, dbs);
      visited++;
      if (stillVolatile > 3 || visited >= total) break;
      if (visited % 64 === 0 && performance.now() - start > 1) break;
    }
  }

  onSwapDb(a: number, b: number): void {
    this.replicaKeysWithExpire.clear();
    for (const l of this.swapDbListeners) l(a, b);
  }

  countError(code: string): void {
    this.stats.totalErrorReplies++;
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
  }

  // ---- cron ------------------------------------------------------------------

  private startCron(): void {
    if (this.cron) clearInterval(this.cron);
    const period = Math.max(2, Math.floor(1000 / this.config.num('hz')));
    this.cron = setInterval(() => this.tick(period), period);
    this.cron.unref();
  }

  private tick(period: number): void {
    // DEBUG PAUSE-CRON 1: no cron work at all (tests of what happens between ticks).
    if (this.cronPaused) return;
    clock.lru = lruClockNow();
    this.cronLoops++;
    // A busy script is still running (atomically): nothing that writes, saves or evicts may run meanwhile.
    const busy = this.busyScript !== null;
    // A replica expires only what its own clients gave a TTL (writable replica); the master's DELs do the rest.
    if (this.activeExpireEnabled && !this.loading && this.pause.mode === null && !busy) {
      if (this.role === 'master') this.activeExpireCycle(period);
      else this.expireReplicaKeys();
    }
    this.sampleOps();
    if (this.tracking.enabled) this.tracking.cron();
    if (!busy) for (let i = 0; i < this.cronHooks.length; i++) this.cronHooks[i]!();
    if (this.cronLoops % 10 === 0) this.clientsCron();
  }

  /**
   * Redis's active expiry cycle: per database, sample volatile keys and
   * expire those due; keep going while more than ~10% of a sample was
   * expired, within a CPU budget of 25% of the cron period.
   */
  activeExpireCycle(period: number): void {
    const effort = this.config.num('active-expire-effort') - 1;
    const perLoop = 20 + 5 * effort;
    const acceptableStale = 10 - effort;
    const start = performance.now();
    const budget = (period * (25 + 2 * effort)) / 100;
    const t = now();
    let sampledTotal = 0;
    let expiredTotal = 0;
    for (const db of this.dbs) {
      for (;;) {
        const n = Math.min(perLoop, db.volatileCount);
        if (n === 0) break;
        let expired = 0;
        for (let i = 0; i < n; i++) {
          const slot = db.randomVolatileSlot();
          if (slot >= 0 && db.expireIfDue(slot, t)) expired++;
        }
        sampledTotal += n;
        expiredTotal += expired;
        if (performance.now() - start > budget) {
          this.stats.expiredTimeCapReachedCount++;
          break;
        }
        if (expired * 100 <= n * acceptableStale) break;
      }
      if (performance.now() - start > budget) break;
    }
    // Sub-key expiry (hash field TTLs), with what is left of the budget.
    for (let i = 0; i < activeExpireSteps.length; i++) activeExpireSteps[i]!(this, t, start + budget);
    const elapsed = performance.now() - start;
    this.stats.expireCycleCpuMs += elapsed;
    // LATENCY: a cycle as long as latency-monitor-threshold is an "expire-cycle" event (whole ms).
    const ms = Math.floor(elapsed);
    if (this.latencyThresholdMs > 0 && ms >= this.latencyThresholdMs) this.latency.add('expire-cycle', ms);
    if (sampledTotal > 0) {
      const perc = expiredTotal / sampledTotal;
      this.stats.expiredStalePerc = perc * 0.05 + this.stats.expiredStalePerc * 0.95;
    }
  }

  private sampleOps(): void {
    const t = Date.now();
    const dt = t - this.stats.lastOpsSampleTime;
    if (dt < 100) return;
    const st = this.stats;
    const push = (a: number[], v: number) => {
      a.push(v);
      if (a.length > 16) a.shift();
    };
    // A CONFIG RESETSTAT in between makes a counter go backwards: count from zero.
    const since = (cur: number, last: number) => (cur >= last ? cur - last : cur);
    push(st.opsSamples, (since(st.commandsProcessed, st.lastOpsSampleCount) * 1000) / dt);
    push(st.netInputSamples, (since(st.netInputBytes, st.lastNetInputSample) * 1000) / dt);
    push(st.netOutputSamples, (since(st.netOutputBytes, st.lastNetOutputSample) * 1000) / dt);
    st.lastOpsSampleTime = t;
    st.lastOpsSampleCount = st.commandsProcessed;
    st.lastNetInputSample = st.netInputBytes;
    st.lastNetOutputSample = st.netOutputBytes;
  }

  get instantaneousOps(): number {
    const s = this.stats.opsSamples;
    return s.length === 0 ? 0 : Math.round(s.reduce((a, b) => a + b, 0) / s.length);
  }

  /** Idle-timeout clients, expire blocked-client deadlines. */
  private clientsCron(): void {
    const timeout = this.config.num('timeout') * 1000;
    const t = Date.now();
    for (const s of this.sessions.values()) {
      if (s.transport === null || s.obeyClient) continue; // the master link has repl-timeout instead
      if (s.blocked !== null) continue;
      if (timeout > 0 && s.subscriptionCount === 0 && !s.monitor && t - s.lastInteraction > timeout) {
        this.log.verbose(`Closing idle client id=${s.id}`);
        s.transport.close(false);
      }
    }
  }

  // ---- misc ------------------------------------------------------------------

  /** Seconds since start. */
  get uptime(): number {
    return Math.floor((Date.now() - this.stats.startTime) / 1000);
  }

  totalKeys(): number {
    let n = 0;
    for (const db of this.dbs) n += db.size;
    return n;
  }
}

/** Expand notify-keyspace-events: 'A' is an alias for "g$lshzxetd" (Redis 7.0). */
export function expandNotifyFlags(s: string): string {
  let f = s.replace(/A/g, 'g$lshzxetd');
  if (!f.includes('K') && !f.includes('E')) f = ''; // neither keyspace nor keyevent: disabled
  return f;
}

/** Is `key` in `db` but logically expired (not yet deleted)? */
function isStaleKey(db: Keyspace, key: string): boolean {
  const slot = db.slotOf(key);
  if (slot < 0) return false;
  const exp = db.expireOf(slot);
  return exp !== 0 && exp <= now();
}
