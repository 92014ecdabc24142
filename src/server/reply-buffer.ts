/**
 * The per-client reply buffer of Redis 7.0 as CLIENT LIST reports it (rbs=
 * size, rbp= peak) and as its clientsCron resizes it. cacheside has no such
 * fixed buffer (replies are encoded into growable chunks), so this models
 * it: a client starts with 16k; the bytes of replies produced in one turn
 * fill it (up to its size) and raise the peak; every cron tick a buffer whose
 * peak stayed under half its size shrinks to max(1k, peak+1), one filled to
 * the brim doubles (up to 16k), and the peak is reset to what is pending
 * every `peak-reset-time` ms (DEBUG REPLYBUFFER PEAK-RESET-TIME, default 5s).
 * DEBUG REPLYBUFFER RESIZING 0 stops the resizing.
 */
import type { Session } from './session.js';
import type { Engine } from './engine.js';
import { registerDebugSubcommand } from './debug-commands.js';
import { longArg } from '../commands/args.js';
import { CommandError } from '../errors.js';

/** PROTO_REPLY_CHUNK_BYTES: the initial and largest size. */
const CHUNK_BYTES = 16 * 1024;
/** PROTO_REPLY_MIN_BYTES: the smallest size. */
const MIN_BYTES = 1024;
const DEFAULT_PEAK_RESET_MS = 5000;

interface ReplyBuffer {
  size: number;
  peak: number;
  lastReset: number;
}

const buffers = new WeakMap<Session, ReplyBuffer>();

interface EngineState {
  /** ms between peak resets; -1 = never. */
  peakResetTime: number;
  resizing: boolean;
  /** INFO stats reply_buffer_shrinks / reply_buffer_expands. */
  shrinks: number;
  expands: number;
}

const engines = new WeakMap<Engine, EngineState>();

/** The engine's reply-buffer settings and counters. */
export function replyBufferState(e: Engine): EngineState {
  let st = engines.get(e);
  if (st === undefined) {
    st = { peakResetTime: DEFAULT_PEAK_RESET_MS, resizing: true, shrinks: 0, expands: 0 };
    engines.set(e, st);
  }
  return st;
}

function bufferOf(s: Session): ReplyBuffer {
  let b = buffers.get(s);
  if (b === undefined) {
    b = { size: CHUNK_BYTES, peak: CHUNK_BYTES, lastReset: Date.now() };
    buffers.set(s, b);
  }
  return b;
}

/** rbs= and rbp= of CLIENT LIST. */
export function replyBufferInfo(s: Session): { size: number; peak: number } {
  const b = bufferOf(s);
  return { size: b.size, peak: b.peak };
}

/** Replies of `bytes` were produced for `s` in one turn (they went through its buffer). */
export function noteReplyBytes(s: Session, bytes: number): void {
  const b = bufferOf(s);
  const used = Math.min(bytes, b.size);
  if (used > b.peak) b.peak = used;
}

/** One cron pass over the network clients (Redis's clientsCronResizeOutputBuffer). */
export function replyBufferCron(engine: Engine): void {
  const t = Date.now();
  const st = replyBufferState(engine);
  if (!st.resizing) return;
  for (const s of engine.sessions.values()) {
    if (s.transport === null) continue;
    const b = bufferOf(s);
    let next = 0;
    if (b.size / 2 >= MIN_BYTES && b.peak < b.size / 2) {
      next = Math.max(MIN_BYTES, b.peak + 1);
      st.shrinks++;
    } else if (b.size * 2 < CHUNK_BYTES * 2 && b.peak === b.size) {
      next = Math.min(CHUNK_BYTES, b.size * 2);
      st.expands++;
    }
    if (st.peakResetTime >= 0 && t - b.lastReset >= st.peakResetTime) {
      b.peak = Math.min(s.transport.outputBytes(), b.size);
      b.lastReset = t;
    }
    if (next !== 0) b.size = next;
  }
}

/** atoi(): the leading integer of a string, 0 when there is none. */
function atoi(v: string): number {
  const m = /^\s*[+-]?\d+/.exec(v);
  return m === null ? 0 : Number.parseInt(m[0], 10);
}

registerDebugSubcommand({
  name: 'REPLYBUFFER',
  minArgs: 4,
  maxArgs: 4,
  help: [
    'REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>',
    '    Sets the time (in milliseconds) to wait between client reply buffer peak resets.',
    '    In case NEVER is provided the last observed peak will never be reset',
    '    In case RESET is provided the peak reset time will be restored to the default value',
    'REPLYBUFFER RESIZING <0|1>',
    '    Enable or disable the reply buffer resize cron job',
  ],
  handler: (s, argv) => {
    const st = replyBufferState(s.engine);
    const option = argv[2]!.toLowerCase();
    const value = argv[3]!;
    if (option === 'peak-reset-time') {
      const v = value.toLowerCase();
      if (v === 'never') st.peakResetTime = -1;
      else if (v === 'reset') st.peakResetTime = DEFAULT_PEAK_RESET_MS;
      else st.peakResetTime = longArg(value);
    } else if (option === 'resizing') {
      st.resizing = atoi(value) !== 0;
    } else {
      throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try DEBUG HELP.`);
    }
    s.reply.ok();
  },
});
