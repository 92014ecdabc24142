/**
 * Key lookups with Redis 7.0's lookup flags, shared by the generic key
 * commands: commands that only inspect a key (EXISTS, TYPE, TTL, OBJECT, ...)
 * count a keyspace hit or miss without updating its access time; TOUCH and
 * COPY's source count and touch; write lookups (Keyspace.peek/has in DEL,
 * RENAME, MOVE, EXPIRE, ...) do neither.
 */
import type { Session } from '../server/session.js';
import type { Value } from './values.js';

/**
 * Read lookup that counts a keyspace hit or miss but leaves the key's access
 * time alone (Redis's LOOKUP_NOTOUCH). A miss fires the 'keymiss' event
 * unless `notifyMiss` is false (OBJECT looks up with LOOKUP_NONOTIFY).
 */
export function lookupNoTouch(s: Session, key: string, notifyMiss = true): Value | undefined {
  const v = s.db.peek(key);
  const st = s.engine.stats.keyspace;
  if (v === undefined) {
    st.misses++;
    if (notifyMiss) s.engine.notify('m', 'keymiss', key, s.dbIndex);
  } else st.hits++;
  return v;
}

/** Read lookup that counts a hit or miss, updates the access time and fires 'keymiss' (lookupKeyRead). */
export function lookupRead(s: Session, key: string): Value | undefined {
  return s.db.get(key);
}
