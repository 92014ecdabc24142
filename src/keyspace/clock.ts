/**
 * Cached clocks, refreshed by the server cron, as Redis does: the LRU clock
 * has a 1 second resolution and 24 bits, and command execution uses one
 * millisecond time per command so that a command (or a MULTI/EXEC block)
 * sees one consistent "now" for expiry decisions.
 */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
export const LRU_CLOCK_RESOLUTION = 1000;

export const clock = {
  /** Frozen command time in ms, or 0 to read the wall clock. */
  frozen: 0,
  /**
   * Set by the dispatcher while a command runs: the first now() of the
   * command freezes the time (commands that never ask for the time, most
   * of them, skip the clock read).
   */
  inCommand: false,
  lru: lruClockNow(),
  /**
   * Wall-clock ms minus performance.now(), refreshed by the server cron
   * (resyncClock), so the dispatcher gets the command's wall time from the
   * performance.now() it reads anyway for command duration: one clock read
   * per command instead of two.
   */
  offset: Date.now() - performance.now(),
};

/** Re-align the wall-clock offset (cron; also picks up system clock changes). */
export function resyncClock(): void {
  clock.offset = Date.now() - performance.now();
}

/** Wall-clock ms for a performance.now() reading. */
export function wallMsAt(perfNow: number): number {
  return Math.floor(clock.offset + perfNow);
}

export function now(): number {
  if (clock.frozen !== 0) return clock.frozen;
  const t = Date.now();
  if (clock.inCommand) clock.frozen = t;
  return t;
}

export function lruClockNow(): number {
  return Math.floor(Date.now() / LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX;
}

/** Seconds-resolution idle time from a stored LRU clock value (OBJECT IDLETIME). */
export function idleMsFromLru(lru: number): number {
  lru &= LRU_CLOCK_MAX; // the top bits hold the tenths of a second (keyspace.ts lruFine)
  const c = clock.lru;
  const diff = c >= lru ? c - lru : LRU_CLOCK_MAX - lru + c;
  return diff * LRU_CLOCK_RESOLUTION;
}
