/**
 * The per-client query buffer of Redis 7.0 as CLIENT LIST reports it
 * (qbuf-free = allocated - used). cacheside's parser keeps only unparsed
 * bytes, so this models the allocation: the first read of a client (or the
 * first after a release) allocates Redis's 16k read buffer (20474 bytes
 * free as jemalloc rounds it), a bigger pending command grows it, and every
 * cron tick a buffer wasting more than 4k is released when the client has
 * been idle over 2 seconds, or trimmed to the recent peak when it is over
 * 32k and more than twice that peak (Redis's clientsCronResizeQueryBuffer).
 */
import type { Session } from './session.js';
import type { Engine } from './engine.js';

/** What Redis's PROTO_IOBUF_LEN (16k) read buffer leaves free. */
const IOBUF_ALLOC = 20474;
const IOBUF_LEN = 16 * 1024;
/** PROTO_RESIZE_THRESHOLD */
const RESIZE_THRESHOLD = 32 * 1024;

interface QueryBuffer {
  alloc: number;
  peak: number;
}

const buffers = new WeakMap<Session, QueryBuffer>();

function bufferOf(s: Session): QueryBuffer {
  let b = buffers.get(s);
  if (b === undefined) {
    b = { alloc: 0, peak: 0 };
    buffers.set(s, b);
  }
  return b;
}

/** A read left `pending` bytes in the client's query buffer. */
export function noteQueryRead(s: Session, pending: number): void {
  const b = bufferOf(s);
  if (b.alloc < IOBUF_LEN) b.alloc = Math.max(IOBUF_ALLOC, pending);
  // Growth as sdsMakeRoomFor's: double below 1MB, +1MB above.
  if (pending > b.alloc) b.alloc = pending < 1024 * 1024 ? pending * 2 : pending + 1024 * 1024;
  if (pending > b.peak) b.peak = pending;
}

/** qbuf-free of CLIENT LIST for a client with `used` bytes in its query buffer. */
export function queryBufferFree(s: Session, used: number): number {
  return Math.max(0, bufferOf(s).alloc - used);
}

/** One cron pass over the network clients. */
export function queryBufferCron(engine: Engine): void {
  const t = Date.now();
  for (const s of engine.sessions.values()) {
    const tr = s.transport;
    if (tr === null) continue;
    const b = bufferOf(s);
    const used = tr.queryBufferBytes();
    if (b.alloc - used > 4096) {
      if (Math.floor((t - s.lastInteraction) / 1000) > 2) b.alloc = used;
      else if (b.alloc > RESIZE_THRESHOLD && b.alloc / 2 > b.peak) b.alloc = Math.max(used, b.peak);
    }
    b.peak = used;
  }
}
