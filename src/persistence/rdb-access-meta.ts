/**
 * A key's access metadata (LRU clock or LFU counter) in RDB files and
 * RESTORE: under an LRU maxmemory policy Redis saves each key's idle time
 * in seconds (RDB_OPCODE_IDLE), under an LFU policy its decayed access
 * counter (RDB_OPCODE_FREQ); loading and RESTORE IDLETIME/FREQ set it back.
 *
 * Keyspace.metaOf(slot) holds the 24-bit LRU clock (seconds), or for LFU
 * (16-bit minutes of the last decrement << 8) | counter.
 */
import type { Keyspace } from '../keyspace/keyspace.js';
import { LRU_CLOCK_MAX, clock, idleMsFromLru } from '../keyspace/clock.js';
import { isLfuPolicy, lfuDecayedCounter } from '../keyspace/object-encoding.js';

export interface AccessMeta {
  lruIdleSec?: number;
  lfuFreq?: number;
}

/** Does the policy keep an LRU clock Redis would save (allkeys-lru, volatile-lru)? */
function isLruPolicy(policy: string): boolean {
  return policy.endsWith('-lru');
}

/**
 * What to save with the key at `slot` under maxmemory-policy `policy`
 * (`decayMinutes`: lfu-decay-time): undefined when the policy tracks
 * neither.
 */
export function accessMetaForSave(db: Keyspace, slot: number, policy: string, decayMinutes: number): AccessMeta | undefined {
  if (isLfuPolicy(policy)) return { lfuFreq: lfuDecayedCounter(db.metaOf(slot), decayMinutes) };
  if (isLruPolicy(policy)) return { lruIdleSec: Math.floor(idleMsFromLru(db.metaOf(slot)) / 1000) };
  return undefined;
}

/**
 * Apply a loaded / restored access time to `key` (already stored in `db`):
 * under an LFU policy the counter (`lfuFreq` 0..255), otherwise the idle
 * time in seconds. A missing or negative value leaves the key as it is.
 * Returns true when something was set.
 */
export function applyAccessMeta(db: Keyspace, key: string, policy: string, meta: AccessMeta): boolean {
  const slot = db.slotOf(key);
  if (slot < 0) return false;
  if (isLfuPolicy(policy)) {
    const f = meta.lfuFreq;
    if (f === undefined || f < 0) return false;
    const minutes = Math.floor(Date.now() / 60000) & 65535;
    db.setMeta(slot, ((minutes << 8) | Math.min(255, f)) >>> 0);
    return true;
  }
  const idle = meta.lruIdleSec;
  if (idle === undefined || idle < 0) return false;
  const now = clock.lru;
  let at = now - idle;
  // A clock that would underflow wraps to a point half a cycle ahead, as Redis does.
  if (at < 0) at = (now + Math.floor(LRU_CLOCK_MAX / 2)) % LRU_CLOCK_MAX;
  db.setMeta(slot, at);
  return true;
}
