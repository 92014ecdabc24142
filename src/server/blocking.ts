/**
 * Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...).
 *
 * A blocking handler that finds no data calls `blockOnKeys(s, keys, timeoutMs,
 * serve, onTimeout)` and returns without replying. Writers call
 * `signalKeyReady(db, key)` when a key gains data (LPUSH, ZADD, XADD, ...).
 * After every top-level command (so after EXEC as a whole, never in the
 * middle of a transaction) the dispatcher calls `serveReadyKeys()`, which
 * offers each ready key to its waiters in FIFO order: `serve(s, key)` either
 * consumes data of that key, writes the reply and returns true, or returns
 * false to keep waiting (it must not throw: a key of another type just keeps
 * the client waiting). Timeouts longer than setTimeout's 2^31-1 ms limit are
 * re-armed until the deadline. A served client's command is propagated like
 * a normal write (its handler sets `s.rewriteAs`, e.g. BLPOP → LPOP).
 */
import type { Session } from './session.js';
import type { Engine } from './engine.js';
import { clock } from '../keyspace/clock.js';
import { timeoutArg } from '../commands/args.js';
import { servedBlockedCall } from './dispatch.js';
// The module binding, not the global (see dispatch.ts).
import { performance } from 'node:perf_hooks';

/** Offered `key` (the ready key, one of those blocked on), serve `s` or return false to keep waiting. */
export type ServeFn = (s: Session, key: string) => boolean;

/** setTimeout's longest delay (a longer one fires at once): longer timeouts re-arm. */
const MAX_TIMER_MS = 0x7fffffff;

interface Waiter {
  session: Session;
  db: number;
  keys: string[];
  serve: ServeFn;
  timer: NodeJS.Timeout | null;
}

export class BlockingRegistry {
  /** "db\0key" → waiters in arrival order. */
  private readonly waiting = new Map<string, Waiter[]>();
  private ready: string[] = [];
  private readonly readySet = new Set<string>();
  /** Number of clients currently blocked on keys (INFO blocked_clients). */
  blockedCount = 0;
  private serving = false;

  constructor(private readonly engine: Engine) {}

  /** Does anyone wait on this key? (cheap check for writers) */
  hasWaiters(db: number, key: string): boolean {
    return this.waiting.size > 0 && this.waiting.has(db + '\0' + key);
  }

  signalKeyReady(db: number, key: string): void {
    if (this.waiting.size === 0) return;
    const k = db + '\0' + key;
    if (!this.waiting.has(k) || this.readySet.has(k)) return;
    this.readySet.add(k);
    this.ready.push(k);
  }

  /** Every blocked key of a database becomes ready (SWAPDB, FLUSHDB, MOVE targets...). */
  signalDbReady(db: number): void {
    const prefix = db + '\0';
    for (const k of this.waiting.keys()) {
      if (k.startsWith(prefix) && !this.readySet.has(k)) {
        this.readySet.add(k);
        this.ready.push(k);
      }
    }
  }

  /**
   * Block `s` until one of `keys` can be served or `timeoutMs` passes
   * (0 = forever). `onTimeout` writes the timeout reply (usually a null array).
   */
  blockOnKeys(s: Session, keys: string[], timeoutMs: number, serve: ServeFn, onTimeout: (s: Session) => void, kind: 'list' | 'zset' | 'stream' = 'list'): void {
    const w: Waiter = { session: s, db: s.dbIndex, keys: [...new Set(keys)], serve, timer: null };
    for (const key of w.keys) {
      const k = w.db + '\0' + key;
      let q = this.waiting.get(k);
      if (q === undefined) this.waiting.set(k, (q = []));
      q.push(w);
    }
    this.blockedCount++;
    const finish = () => this.remove(w);
    s.blocked = {
      deadline: timeoutMs > 0 ? Date.now() + timeoutMs : 0,
      kind,
      call: null,
      onTimeout: () => {
        finish();
        onTimeout(s);
        s.transport?.resume();
      },
      cancel: () => finish(),
    };
    if (timeoutMs > 0) {
      const deadline = Date.now() + timeoutMs;
      const arm = (ms: number): void => {
        w.timer = setTimeout(() => {
          const left = deadline - Date.now();
          if (left > 0) arm(Math.min(left, MAX_TIMER_MS));
          else if (s.blocked !== null) s.blocked.onTimeout();
        }, ms);
      };
      arm(Math.min(timeoutMs, MAX_TIMER_MS));
    }
  }

  private remove(w: Waiter): void {
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    for (const key of w.keys) {
      const k = w.db + '\0' + key;
      const q = this.waiting.get(k);
      if (q === undefined) continue;
      const i = q.indexOf(w);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.waiting.delete(k);
    }
    if (w.session.blocked !== null) {
      w.session.blocked = null;
      this.blockedCount--;
    }
  }

  /** Offer ready keys to their waiters, FIFO, until no more can be served. */
  serveReadyKeys(): void {
    // While a script is busy its writes are not over: the keys it made ready are served when it ends.
    if (this.ready.length === 0 || this.serving || this.engine.busyScript !== null) return;
    this.serving = true;
    try {
      while (this.ready.length > 0) {
        const batch = this.ready;
        this.ready = [];
        for (const k of batch) {
          this.readySet.delete(k);
          const q = this.waiting.get(k);
          if (q === undefined) continue;
          // Serve waiters in order while they accept (each consumes data).
          for (let i = 0; i < q.length; ) {
            const w = q[i]!;
            if (!this.tryServe(w, k.slice(k.indexOf('\0') + 1))) {
              i++;
              continue;
            }
            // w was removed from q (and other queues) by remove(); do not advance i.
            if (!this.waiting.has(k)) break;
          }
        }
      }
    } finally {
      this.serving = false;
    }
  }

  private tryServe(w: Waiter, key: string): boolean {
    const s = w.session;
    const e = this.engine;
    const saveDb = s.dbIndex;
    if (s.dbIndex !== w.db) s.select(w.db);
    const dirtyBefore = e.dirty;
    s.propagateAs = null;
    s.alsoPropagate = null;
    s.preventPropagation = false;
    const frozen = clock.frozen;
    if (frozen === 0) clock.frozen = Date.now();
    let served = false;
    const blockedCall = s.blocked?.call ?? null;
    const t0 = performance.now();
    // Serving is an execution unit of its own: what it propagates (lazy-expiry DELs included)
    // goes out together, in MULTI/EXEC when several commands.
    e.beginPropagationUnit();
    try {
      served = w.serve(s, key);
      if (served) {
        this.remove(w);
        if (e.dirty > dirtyBefore && !s.preventPropagation && s.propagateAs !== null) e.propagate(w.db, s.propagateAs);
        const extra = s.alsoPropagate as Session['alsoPropagate'];
        if (extra !== null) for (const p of extra) e.propagate(p.db, p.argv, p.replicasOnly);
        s.alsoPropagate = null;
      }
    } finally {
      if (frozen === 0) clock.frozen = 0;
      e.endPropagationUnit();
    }
    if (served && blockedCall !== null) servedBlockedCall(s, blockedCall, (performance.now() - t0) * 1000);
    if (served) s.transport?.resume();
    if (s.dbIndex !== saveDb) s.select(saveDb);
    return served;
  }
}

// ---------------------------------------------------------------------------
// The block-or-serve-now glue of the blocking commands

/** One call of a blocking command, for `serveOrBlock`. */
export interface BlockingCall {
  /** The timeout argument as written (parsed with timeoutArg before anything else is looked at). */
  timeout: string;
  /** The keys to wait on. */
  keys: string[];
  /** Serves at once when some key has data (returns true); false when there is nothing to serve. May throw (WRONGTYPE, ...). */
  serveNow: () => boolean;
  /** Offered a ready key while blocked: serve it or return false (must not throw). */
  serve: ServeFn;
  /** The timeout reply. */
  onTimeout: (s: Session) => void;
  /** The reply when the client may not wait (default: the timeout reply). */
  noWaitReply?: (s: Session) => void;
  /** Clients that get the answer at once instead of waiting (default: inside MULTI/EXEC). */
  cannotBlock?: (s: Session) => boolean;
  kind?: 'list' | 'zset' | 'stream';
}

/**
 * Parse the timeout, serve at once if there is data; else answer at once
 * when the client may not wait (inside MULTI/EXEC), or block it on the keys.
 */
export function serveOrBlock(s: Session, c: BlockingCall): void {
  const timeoutMs = timeoutArg(c.timeout);
  if (c.serveNow()) return;
  if (c.cannotBlock ? c.cannotBlock(s) : s.inExec) {
    (c.noWaitReply ?? c.onTimeout)(s);
    return;
  }
  s.engine.blocking.blockOnKeys(s, c.keys, timeoutMs, c.serve, c.onTimeout, c.kind);
}

/**
 * The value at `key` if it is a `cls` holding data that a blocked client can
 * take now (fetched for writing), else null. Never throws: a key of another
 * type keeps the client waiting.
 */
export function readyValue<T extends { size: number }>(s: Session, key: string, cls: abstract new (...args: never[]) => T): T | null {
  const v = s.db.peek(key);
  if (!(v instanceof cls) || v.size === 0) return null;
  const w = s.db.getForWrite(key);
  return w instanceof cls ? w : null;
}

/** A ServeFn taking from a ready `cls` value with `take`. */
export function serveWhenReady<T extends { size: number }>(cls: abstract new (...args: never[]) => T, take: (s: Session, key: string, v: T) => void): ServeFn {
  return (s, key) => {
    const v = readyValue(s, key, cls);
    if (v === null) return false;
    take(s, key, v);
    return true;
  };
}
