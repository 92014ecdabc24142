/**
 * An in-process client of the engine: the same dispatch gate as a TCP client,
 * without sockets or RESP bytes. The sidecar uses it when engine and sidecar
 * share a process. Replies become JS values:
 *   simple/bulk → string (latin1), null bulk/array → null, integer → number
 *   (bigint beyond 2^53), double → number, boolean → boolean, array/set/push
 *   → array, map → Map, error → ReplyError (thrown at top level, kept in place
 *   inside arrays such as EXEC results).
 *
 * `call` returns at once. `send` is the acknowledged form: with
 * `appendfsync always` its promise resolves only once an fsync covers every
 * write executed so far, its own included (the same group commit per
 * event-loop turn that holds TCP replies: connection.ts replyGate); with
 * the other policies, or no AOF, it resolves in the same turn.
 */
import type { Reply } from '../protocol/reply.js';
import { Session } from './session.js';
import { dispatch } from './dispatch.js';
import type { Engine } from './engine.js';
import { replyGate } from './connection.js';

export class ReplyError extends Error {}

type Frame = { items: unknown[]; remaining: number; map: boolean };

class ValueReply implements Reply {
  resp: 2 | 3 = 3;
  private stack: Frame[] = [];
  private results: unknown[] = [];
  /** Push messages (pub/sub, invalidations) delivered outside a call. */
  onPush: ((msg: unknown[]) => void) | null = null;
  private inCall = false;

  begin(): void {
    this.inCall = true;
    this.results = [];
  }
  end(): unknown[] {
    this.inCall = false;
    return this.results;
  }

  private value(v: unknown): void {
    let top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.emit(v);
      return;
    }
    top.items.push(v);
    top.remaining--;
    while (top !== undefined && top.remaining === 0) {
      this.stack.pop();
      const done = top.map ? toMap(top.items) : top.items;
      const parent = this.stack[this.stack.length - 1];
      if (parent === undefined) {
        this.emit(done);
        return;
      }
      parent.items.push(done);
      parent.remaining--;
      top = parent;
    }
  }

  private emit(v: unknown): void {
    if (this.inCall) this.results.push(v);
    else if (this.onPush !== null && Array.isArray(v)) this.onPush(v);
  }

  private open(n: number, map: boolean): void {
    if (n === 0) this.value(map ? new Map() : []);
    else this.stack.push({ items: [], remaining: map ? n * 2 : n, map });
  }

  ok(): void {
    this.value('OK');
  }
  simple(s: string): void {
    this.value(s);
  }
  error(line: string): void {
    this.value(new ReplyError(line));
  }
  int(n: number | bigint): void {
    this.value(typeof n === 'bigint' && n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);
  }
  bulk(s: string | null): void {
    this.value(s);
  }
  bulkBytes(b: Uint8Array): void {
    this.value(Buffer.from(b).toString('latin1'));
  }
  nullBulk(): void {
    this.value(null);
  }
  nullArray(): void {
    this.value(null);
  }
  arrayLen(n: number): void {
    this.open(n, false);
  }
  mapLen(n: number): void {
    this.open(n, true);
  }
  setLen(n: number): void {
    this.open(n, false);
  }
  pushLen(n: number): void {
    this.open(n, false);
  }
  double(d: number): void {
    this.value(d);
  }
  bool(b: boolean): void {
    this.value(b);
  }
  verbatim(s: string): void {
    this.value(s);
  }
  bigNumber(s: string): void {
    this.value(BigInt(s));
  }
  bulkArray(items: readonly (string | null)[]): void {
    this.value([...items]);
  }
}

function toMap(items: unknown[]): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
  return m;
}

/** The durability wait shared by every local reply of this event-loop turn. */
let turnDurable: Promise<void> | null = null;

/**
 * Resolves once every write executed so far is on disk under `appendfsync
 * always` (at the end of this turn, with the TCP replies' group commit);
 * null when no AOF holds replies.
 */
function durable(): Promise<void> | null {
  if (replyGate.barrier === null) return null;
  turnDurable ??= new Promise<void>((resolve) => {
    setImmediate(() => {
      turnDurable = null;
      if (replyGate.beforeFlush !== null) replyGate.beforeFlush();
      const wait = replyGate.barrier !== null ? replyGate.barrier() : null;
      if (wait === null) resolve();
      else wait.then(resolve, resolve);
    });
  });
  return turnDurable;
}

export class LocalClient {
  private readonly replies = new ValueReply();
  readonly session: Session;

  constructor(engine: Engine) {
    this.session = new Session(engine, this.replies, null);
    this.session.authenticated = true;
  }

  /** Pub/sub messages for this client (after SUBSCRIBE), as arrays like ['message', channel, payload]. */
  set onPush(fn: ((msg: unknown[]) => void) | null) {
    this.replies.onPush = fn;
  }

  /**
   * Run one command synchronously and return its reply. Error replies throw
   * ReplyError. Blocking commands are not supported in-process.
   */
  call(...argv: string[]): unknown {
    this.replies.begin();
    dispatch(this.session, argv);
    const out = this.replies.end();
    const first = out[0];
    if (first instanceof ReplyError) throw first;
    // Subscribe-style commands reply several messages: return them all.
    return out.length === 1 ? first : out;
  }

  /**
   * Run one command and resolve with its reply once it is acknowledged: under
   * `appendfsync always`, after the fsync covering it (see the module
   * comment). The command itself runs synchronously, before this returns.
   * Error replies reject with ReplyError.
   */
  send(...argv: string[]): Promise<unknown> {
    let v: unknown;
    let err: unknown = null;
    try {
      v = this.call(...argv);
    } catch (e) {
      err = e;
    }
    const wait = durable();
    if (wait === null) return err === null ? Promise.resolve(v) : Promise.reject(err);
    return wait.then(() => {
      if (err !== null) throw err;
      return v;
    });
  }

  /** Resolves once every write executed so far is acknowledged (see `send`). */
  durable(): Promise<void> {
    return durable() ?? Promise.resolve();
  }

  close(): void {
    this.session.close();
  }
}
