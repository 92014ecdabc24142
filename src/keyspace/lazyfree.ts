/**
 * INFO memory lazyfreed_objects: values Redis 7.0 would free in its
 * background thread. UNLINK (and DEL with lazyfree-lazy-user-del) frees a
 * value there when freeing it takes more than 64 allocations (Redis's
 * lazyfreeGetFreeEffort: a list's nodes, a hash table's entries, a stream's
 * nodes and consumer groups; a compact encoding is one allocation).
 * cacheside frees everything at once (the garbage collector does the work),
 * so nothing is ever pending: lazyfree_pending_objects stays 0.
 */
import type { Engine } from '../server/engine.js';
import type { Value } from './values.js';
import { isString } from './values.js';
import { encodingOf } from './object-encoding.js';

/** LAZYFREE_THRESHOLD */
const THRESHOLD = 64;

const counters = new WeakMap<Engine, { freed: number }>();

export function lazyfreeStats(e: Engine): { freed: number } {
  let c = counters.get(e);
  if (c === undefined) counters.set(e, (c = { freed: 0 }));
  return c;
}

interface Sized {
  size: number;
}

/** How many allocations freeing the value takes, as Redis counts them. */
export function freeEffort(v: Value): number {
  if (isString(v)) return 1;
  const enc = encodingOf(v);
  switch (v.kind) {
    case 'list': {
      if (enc !== 'quicklist') return 1;
      const l = v as unknown as { size: number; bytes: number };
      // One quicklist node per ~8kb listpack.
      return Math.max(1, Math.ceil((l.bytes + 11 * l.size) / 8192));
    }
    case 'stream': {
      const st = v as unknown as { nodeCount: number; groups: Map<string, { pel: Sized; consumers: Map<string, unknown> }> };
      let effort = st.nodeCount;
      for (const g of st.groups.values()) effort += 1 + g.pel.size + g.consumers.size;
      return effort;
    }
    default:
      return enc === 'hashtable' || enc === 'skiplist' ? (v as unknown as Sized).size : 1;
  }
}

/** A value removed by UNLINK (or a lazy DEL): counted when Redis would free it in the background. */
export function noteLazyFree(e: Engine, v: Value): void {
  if (freeEffort(v) > THRESHOLD) lazyfreeStats(e).freed++;
}

/** FLUSHDB / FLUSHALL ASYNC: Redis frees every key of the emptied databases in the background. */
export function noteLazyFlush(e: Engine, keys: number): void {
  lazyfreeStats(e).freed += keys;
}
