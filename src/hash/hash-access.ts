/**
 * Hash lookups with lazy field expiry, and the command-table entry builder,
 * shared by hash-commands.ts and hash-ttl-commands.ts.
 */
import { typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import type { Value } from '../keyspace/values.js';
import { HashValue } from './hash-value.js';
import { expireFieldsOnAccess } from './field-expiry.js';

/** The value as a hash, undefined when missing; WRONGTYPE for other types. */
export function asHash(v: Value | undefined): HashValue | undefined {
  if (v === undefined || v instanceof HashValue) return v;
  throw new CommandError(Err.wrongType);
}

/**
 * Let the due field TTLs of `h` (at `key`) expire; undefined when that
 * emptied and deleted the hash.
 */
export function liveHash(s: Session, key: string, h: HashValue | undefined): HashValue | undefined {
  if (h === undefined || h.volatileCount === 0) return h;
  return expireFieldsOnAccess(s, key, h) ? h : undefined;
}

/**
 * Read lookup (keyspace hit/miss, access time) of a hash, with lazy field
 * expiry; undefined when missing or emptied by expiry.
 */
export function readHash(s: Session, key: string): HashValue | undefined {
  return liveHash(s, key, asHash(s.db.get(key)));
}

/** Write lookup of a hash about to be modified in place, with lazy field expiry. */
export function writeHash(s: Session, key: string): HashValue | undefined {
  return liveHash(s, key, asHash(s.db.getForWrite(key)));
}

/** A hash command-table entry (one key at argv[1]). */
export const hashCmd = typeCommand('hash');
