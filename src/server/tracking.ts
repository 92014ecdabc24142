/**
 * Server-assisted client-side caching (CLIENT TRACKING), Redis 6/7 semantics.
 *
 * Default mode: after a read-only command of a tracking client, the keys it
 * read are remembered (key → client ids). When such a key is modified (or
 * expires, or its database is flushed) each remembered client is sent one
 * invalidation and forgotten for that key. BCAST mode: every modified key
 * matching one of the client's prefixes (all keys without prefixes) is
 * announced, batched. OPTIN / OPTOUT limit tracking to the commands after
 * CLIENT CACHING yes / not after CLIENT CACHING no. NOLOOP skips keys the
 * client modified itself.
 *
 * Invalidations go to the client itself as RESP3 pushes
 * (`>2 invalidate [keys]`, `_` for a flush), or with REDIRECT to another
 * client: RESP3 push, or a RESP2 `__redis__:invalidate` pub/sub message when
 * that client subscribed to the channel. They are queued and delivered after
 * the running command, so they never land inside a reply.
 */
import type { Engine } from './engine.js';
import type { Session } from './session.js';
import type { Command } from '../commands/command-table.js';

export const INVALIDATE_CHANNEL = '__redis__:invalidate';

export interface TrackingMode {
  /** Client id receiving the invalidations, 0 = the client itself. */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
  /** CLIENT CACHING yes/no for the next command; null when not given. */
  caching: boolean | null;
  /** The redirect client went away. */
  brokenRedirect: boolean;
}

/** What is waiting to be sent to one tracking client. */
interface Pending {
  /** Default mode: one message per key. */
  keys: string[];
  /** BCAST: per matching prefix ('' without prefixes), one message with its keys (as Redis sends one per prefix). */
  bcastKeys: Map<string, Set<string>>;
  /** A flush: one null invalidation. */
  flush: boolean;
}

/** Read-only script commands: only the commands their script runs make them track keys. */
const SCRIPT_RO = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

export class Tracking {
  /** Tracking clients by session id. */
  readonly clients = new Map<number, TrackingMode>();
  /** Default mode: key → ids of the clients that read it. */
  private readonly table = new Map<string, Set<number>>();
  private readonly pending = new Map<number, Pending>();
  private flushScheduled = false;
  /** Callers whose running script has called a read-only command. */
  private readonly scriptReaders = new Set<Session>();
  /** Sessions whose command is running (innermost last): the writer for NOLOOP. */
  private readonly running: Session[] = [];

  constructor(private readonly engine: Engine) {}

  /**
   * Cheap check for the hot paths: is any client tracking, or are keys still
   * remembered? Keys read by clients that stopped tracking stay in the table
   * until written or flushed (FLUSHALL/FLUSHDB empty it), as in Redis 7.0.
   */
  get enabled(): boolean {
    return this.clients.size > 0 || this.table.size > 0;
  }

  mode(s: Session): TrackingMode | undefined {
    return this.clients.get(s.id);
  }

  enable(s: Session, mode: TrackingMode): void {
    this.clients.set(s.id, mode);
  }

  disable(s: Session): void {
    this.clients.delete(s.id);
    this.pending.delete(s.id);
  }

  // ---- command hooks (dispatch.call) ---------------------------------------------

  begin(s: Session): void {
    this.running.push(s);
  }

  /** After a command: remember the keys a read-only command read, consume CLIENT CACHING. */
  end(s: Session, cmd: Command, argv: string[]): void {
    this.running.pop();
    if (this.clients.size === 0 && this.pending.size === 0) return;
    const m = this.clients.get(s.id);
    // A read-only command run by a script: its caller's declared keys are tracked when the script ends.
    if (m === undefined && cmd.isReadonly && this.engine.sessions.get(s.id) !== s) {
      const caller = this.writer();
      if (caller !== null) this.scriptReaders.add(caller);
    }
    const scriptRead = this.scriptReaders.delete(s);
    if (m !== undefined && !m.bcast && ((cmd.isReadonly && !SCRIPT_RO.has(cmd.fullName)) || scriptRead)) {
      const track = m.optin ? m.caching === true : m.optout ? m.caching !== false : true;
      if (track) {
        let idx: number[] = [];
        try {
          idx = this.engine.commands.keyIndexes(cmd, argv);
        } catch {
          idx = [];
        }
        for (const i of idx) {
          const key = argv[i];
          if (key === undefined) continue;
          let set = this.table.get(key);
          if (set === undefined) this.table.set(key, (set = new Set()));
          set.add(s.id);
        }
        this.limitTable();
      }
    }
    if (this.running.length === 0) {
      if (m !== undefined && m.caching !== null && cmd.fullName !== 'client|caching') m.caching = null;
      this.deliver();
    }
  }

  // ---- invalidation ---------------------------------------------------------------

  /**
   * The client NOLOOP compares with (Redis's current_client): the innermost
   * running client, skipping script clients (not registered sessions) so
   * that a script's writes count as its caller's.
   */
  private writer(): Session | null {
    for (let i = this.running.length - 1; i >= 0; i--) {
      const s = this.running[i]!;
      if (this.engine.sessions.get(s.id) === s) return s;
    }
    return null;
  }

  /** A key was modified, expired or evicted. */
  keyModified(key: string): void {
    const writer = this.writer();
    const ids = this.table.get(key);
    if (ids !== undefined) {
      this.table.delete(key);
      for (const id of ids) {
        const m = this.clients.get(id);
        if (m === undefined || m.bcast) continue;
        if (m.noloop && writer !== null && writer.id === id) continue;
        this.queue(id).keys.push(key);
      }
    }
    for (const [id, m] of this.clients) {
      if (!m.bcast) continue;
      if (m.noloop && writer !== null && writer.id === id) continue;
      if (m.prefixes.length === 0) {
        addBcastKey(this.queue(id), '', key);
        continue;
      }
      for (const p of m.prefixes) if (key.startsWith(p)) addBcastKey(this.queue(id), p, key);
    }
  }

  /** Server cron: a tracking-table-max-keys lowered by CONFIG SET applies without waiting for the next read. */
  cron(): void {
    if (this.table.size > 0) this.limitTable();
  }

  /** Before a command (Redis's trackingLimitUsedSlots in processCommand): apply the limit, send what it invalidated. */
  limitBeforeCommand(): void {
    if (this.table.size === 0) return;
    this.limitTable();
    if (this.pending.size > 0) this.deliver();
  }

  /**
   * tracking-table-max-keys: past the limit, the oldest remembered keys are
   * forgotten, their clients told to drop them as if they had been modified.
   */
  private limitTable(): void {
    const max = this.engine.config.num('tracking-table-max-keys');
    if (max <= 0 || this.table.size <= max) return;
    for (const [key, ids] of this.table) {
      if (this.table.size <= max) break;
      this.table.delete(key);
      for (const id of ids) {
        const m = this.clients.get(id);
        if (m !== undefined && !m.bcast) this.queue(id).keys.push(key);
      }
    }
  }

  /** INFO fields: tracking clients, remembered keys, key → client entries, BCAST prefixes. */
  stats(): { clients: number; keys: number; items: number; prefixes: number } {
    let items = 0;
    for (const ids of this.table.values()) items += ids.size;
    const prefixes = new Set<string>();
    for (const m of this.clients.values()) {
      if (m.bcast && m.prefixes.length === 0) prefixes.add('');
      for (const p of m.prefixes) prefixes.add(p);
    }
    return { clients: this.clients.size, keys: this.table.size, items, prefixes: prefixes.size };
  }

  /** FLUSHDB / FLUSHALL: every tracking client drops its whole cache. */
  flushed(): void {
    this.table.clear();
    for (const id of this.clients.keys()) {
      const p = this.queue(id);
      p.flush = true;
      p.keys.length = 0;
      p.bcastKeys.clear();
    }
  }

  private queue(id: number): Pending {
    let p = this.pending.get(id);
    if (p === undefined) this.pending.set(id, (p = { keys: [], bcastKeys: new Map(), flush: false }));
    if (!this.flushScheduled) {
      // Writes outside a command (expiry, eviction) are delivered once the current job ends.
      this.flushScheduled = true;
      queueMicrotask(() => this.deliver());
    }
    return p;
  }

  /** Send everything queued. */
  deliver(): void {
    this.flushScheduled = false;
    if (this.pending.size === 0 || this.running.length > 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [id, p] of batch) {
      const m = this.clients.get(id);
      const s = this.engine.sessions.get(id);
      if (m === undefined || s === undefined) {
        this.clients.delete(id);
        continue;
      }
      if (p.flush) this.send(s, m, null);
      for (const k of p.keys) this.send(s, m, [k]);
      for (const prefix of [...p.bcastKeys.keys()].sort()) this.send(s, m, [...p.bcastKeys.get(prefix)!]);
    }
  }

  /** One invalidation message (null keys = everything) for client `s`. */
  private send(s: Session, m: TrackingMode, keys: string[] | null): void {
    let target = s;
    if (m.redirect !== 0) {
      const t = this.engine.sessions.get(m.redirect);
      if (t === undefined || t.closing) {
        m.brokenRedirect = true;
        if (s.resp === 3) {
          s.reply.pushLen(2);
          s.reply.bulk('tracking-redir-broken');
          s.reply.int(m.redirect);
        }
        return;
      }
      target = t;
    }
    const r = target.reply;
    if (target.resp === 3) {
      r.pushLen(2);
      r.bulk('invalidate');
      if (keys === null) r.nullArray();
      else r.bulkArray(keys);
    } else if (target.channels.has(INVALIDATE_CHANNEL)) {
      r.pushLen(3);
      r.bulk('message');
      r.bulk(INVALIDATE_CHANNEL);
      if (keys === null) r.nullBulk();
      else r.bulkArray(keys);
    }
  }
}

function addBcastKey(p: Pending, prefix: string, key: string): void {
  const keys = p.bcastKeys.get(prefix);
  if (keys === undefined) p.bcastKeys.set(prefix, new Set([key]));
  else keys.add(key);
}
