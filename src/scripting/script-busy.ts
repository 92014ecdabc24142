/**
 * Busy scripts (Redis 7.0's "timed out" scripts). A script runs in a Lua
 * coroutine whose count hook looks at the clock (script-runner.ts); once it
 * has run longer than busy-reply-threshold, a top-level EVAL/FCALL of a
 * network client is suspended and goes on in slices (SLICE_MS each, one per
 * event-loop turn), so that the server answers other clients meanwhile:
 *
 * - the engine is busy (`engine.busyScript`): the dispatch gate answers
 *   "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or
 *   SHUTDOWN NOSAVE." (FUNCTION KILL for a function) to every command not
 *   flagged allow_busy, and nothing else touches the dataset: no active
 *   expiry, eviction or cron work, no blocked client served, no master
 *   stream applied on a replica, until the script ends. The script stays
 *   atomic.
 * - the caller is blocked (BlockState kind 'script'): its pipelined commands
 *   wait, and its reply is written when the script ends (dropped if it left).
 * - SCRIPT KILL / FUNCTION KILL end a script that has not written (its caller
 *   gets "ERR Script killed by user with SCRIPT KILL..."), UNKILLABLE after a
 *   write; SHUTDOWN NOSAVE stops the server anyway (the script never ends).
 * - between slices the command clock is released and the script's execution
 *   unit suspended: when it ends, what it propagated goes to the AOF and the
 *   replicas as one unit, and the dispatcher's bookkeeping of its command
 *   (stats, slowlog, latency: once, with the whole run time) completes.
 *
 * A script that may not be suspended (inside MULTI/EXEC, from the master's
 * stream, an AOF load or an in-process session), or whose hook fires where
 * Lua cannot yield (in a coroutine of its own, under a JS call such as a
 * table.sort comparator), keeps running until it can yield or ends: Redis
 * answers other clients there too, cacheside cannot, so SCRIPT KILL cannot
 * reach such a script either.
 */
import type { BusyScript, Engine } from '../server/engine.js';
import type { BlockState } from '../server/session.js';
import { CommandError } from '../errors.js';
import { NullReply } from '../protocol/reply.js';
import { clock, wallMsAt } from '../keyspace/clock.js';
import { lua, type LuaState } from './lua-vm.js';
import type { Run, ScriptContext } from './script-runner.js';
// The module binding, not the global (see server/dispatch.ts).
import { performance } from 'node:perf_hooks';

/** How long a busy script runs before the server serves others again (ms). */
const SLICE_MS = 5;

export const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
export const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';
const UNKILLABLE =
  'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.';

type Ops = ReturnType<Engine['suspendPropagationUnit']>;

const dropped = new NullReply();

class BusyRun implements BusyScript {
  readonly error: string;
  /** An EVAL script (else a function). */
  readonly isEval: boolean;
  /** What the script propagated so far: its execution unit, between slices. */
  private ops: Ops;
  /** The script's command time (every slice sees the time it started at). */
  private readonly frozen: number;
  /** The caller had CLIENT REPLY OFF/SKIP for this command. */
  private readonly muted: boolean;
  private readonly block: BlockState;
  private callerGone = false;
  private stopped = false;
  private timer: NodeJS.Immediate | null = null;

  constructor(
    private readonly ctx: ScriptContext,
    private readonly co: LuaState,
    readonly run: Run,
  ) {
    const e = ctx.engine;
    const s = run.caller;
    this.isEval = ctx.chunkName === '@user_script';
    this.error = this.isEval ? BUSY_EVAL : BUSY_FUNCTION;
    this.frozen = clock.frozen !== 0 ? clock.frozen : wallMsAt(run.start);
    this.muted = s.replyMode !== 'on';
    // The unit stays open for the dispatcher to close, holding nothing.
    this.ops = e.suspendPropagationUnit();
    run.busy = true;
    this.block = {
      kind: 'script',
      deadline: 0,
      onTimeout: () => {},
      // The caller disconnected: the script goes on (atomic), its reply is dropped.
      cancel: () => {
        this.callerGone = true;
      },
    };
    s.blocked = this.block;
    e.busyScript = this;
    watchShutdown(e);
    this.schedule();
  }

  /** FUNCTION STATS: milliseconds since the script started. */
  get durationMs(): number {
    return Math.floor(performance.now() - this.run.start);
  }

  private schedule(): void {
    this.timer = setImmediate(this.slice);
  }

  /** Run the script for one slice, with the context of its command around it. */
  private readonly slice = (): void => {
    this.timer = null;
    if (this.stopped) return;
    const { ctx, run } = this;
    const e = ctx.engine;
    const ev = run.caller.noTouch ? e.keyspaceEvents : null;
    const noTouchBefore = ev !== null && ev.noTouch === true;
    if (ev !== null) ev.noTouch = true;
    clock.inCommand = true;
    clock.frozen = this.frozen;
    e.resumePropagationUnit(this.ops);
    this.ops = [];
    run.sliceEnd = performance.now() + SLICE_MS;
    ctx.run = run;
    let status: number;
    try {
      status = lua.lua_resume(this.co, ctx.L, 0);
    } catch (err) {
      // Not expected (library errors become Lua errors): the script ends with an internal error.
      e.log.warning(`Internal error in a busy script: ${(err as Error).stack ?? err}`);
      status = -1;
    } finally {
      ctx.run = null;
      if (ev !== null) ev.noTouch = noTouchBefore;
    }
    if (status === lua.LUA_YIELD) {
      this.ops = e.suspendPropagationUnit();
      e.endPropagationUnit();
      clock.inCommand = false;
      clock.frozen = 0;
      this.schedule();
      return;
    }
    this.finish(status);
  };

  /** The script ended: its reply, the end of its command's call, its execution unit, then everyone else. */
  private finish(status: number): void {
    const { ctx, run } = this;
    const e = ctx.engine;
    const s = run.caller;
    const reply = this.callerGone || this.muted ? dropped : s.reply;
    try {
      if (status >= 0) ctx.finishRun(this.co, status, run.sha, reply);
      else {
        ctx.resp = 2;
        reply.error(`ERR internal error in a script: ${run.sha}`);
      }
    } catch (err) {
      e.log.warning(`Internal error in a busy script's reply: ${(err as Error).stack ?? err}`);
    }
    // The commands the script ran were propagated themselves.
    s.preventPropagation = true;
    e.busyScript = null;
    if (s.blocked === this.block) s.blocked = null;
    try {
      // Stats, slowlog and latency of the EVAL/FCALL with its whole run time (the clock is released there).
      this.block.endCall?.();
    } finally {
      clock.inCommand = false;
      clock.frozen = 0;
      e.endPropagationUnit();
    }
    e.blocking.serveReadyKeys();
    for (const h of e.busyEndHooks.slice()) h();
    if (!this.callerGone) s.transport?.resume();
  }

  /** SHUTDOWN NOSAVE while busy: the script never ends, its caller is disconnected. */
  abort(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    const e = this.ctx.engine;
    if (e.busyScript === this) e.busyScript = null;
    this.ops = [];
    const s = this.run.caller;
    if (s.blocked === this.block) s.blocked = null;
    s.transport?.close(false);
  }
}

/** A script of `ctx` yielded from its hook: it is busy from now on (see the file comment). */
export function startBusy(ctx: ScriptContext, co: LuaState, run: Run): void {
  new BusyRun(ctx, co, run);
}

const watched = new WeakSet<Engine>();

/** A shutdown (SHUTDOWN NOSAVE, a signal) while a script is busy stops it first. */
function watchShutdown(e: Engine): void {
  if (watched.has(e)) return;
  watched.add(e);
  e.shutdownHooks.unshift(() => {
    const b = e.busyScript;
    if (b instanceof BusyRun) b.abort();
  });
}

/** The busy script, if any. */
function busyRun(e: Engine): BusyRun | null {
  const b = e.busyScript;
  return b instanceof BusyRun ? b : null;
}

/**
 * SCRIPT KILL (`isEval`) / FUNCTION KILL: ask the busy script to end (it
 * raises the kill error at its next hook), with Redis 7.0's refusals.
 */
export function killBusyScript(e: Engine, isEval: boolean): void {
  const b = busyRun(e);
  if (b === null) throw new CommandError('NOTBUSY No scripts in execution right now.');
  if (b.run.wrote) throw new CommandError(UNKILLABLE);
  // A function is killed with FUNCTION KILL, an EVAL script with SCRIPT KILL: the other answers BUSY.
  if (isEval !== b.isEval) throw new CommandError(b.error);
  b.run.killed = true;
}

/** FUNCTION STATS' running_script: the busy function (name, its command, duration), or null; BUSY while an EVAL script is busy. */
export function runningFunction(e: Engine): { name: string; argv: string[]; durationMs: number } | null {
  const b = busyRun(e);
  if (b === null) return null;
  if (b.isEval) throw new CommandError(BUSY_EVAL);
  return { name: b.run.sha, argv: b.run.argv, durationMs: b.durationMs };
}
