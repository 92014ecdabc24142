/**
 * V8's heap, sized for maxmemory.
 *
 * The size model (size-model.ts) counts live data; the process RSS is that
 * plus what the garbage collector lets accumulate before it collects, the
 * young generation, and allocator slack. With Node's defaults a write-heavy
 * cache at its limit (everything written is soon garbage: evicted values,
 * replaced values, command arguments) lets the old generation grow to 2-4 ×
 * the live data before a full collection, and the RSS reaches ~3.5 ×
 * maxmemory. Three settings bound it (measured with a 256 MB maxmemory and
 * redis-benchmark writing random keys, see benchmarks/RESULTS.md):
 *  - `--heap-growing-percent=25`: the old generation is collected once it has
 *    grown 25% past the live data of the last collection. V8 reads this flag
 *    at each collection, so it is also set at run time (CONFIG SET maxmemory).
 *    At 10% marking ran nearly all the time (each scavenge then also updates
 *    the marking worklist) and SET under eviction cost ~30% more CPU; at 40%
 *    the peak RSS neared the 1.5 × maxmemory bound.
 *  - the young generation: the CLI's shebang (and npm start) run the server
 *    with `--max-semi-space-size=1`, which keeps RSS close to the live heap
 *    (without it, plain `node dist/cli.js`, the default 16 MB semi-spaces
 *    hold up to ~50 MB of short-lived garbage). An evicting server promotes
 *    every value it stores and scavenges at its write rate, so it gets
 *    1/64 of maxmemory (1-8 MB, semiSpaceMbFor): fewer, cheaper scavenges per
 *    write for a bounded share of maxmemory.
 *  - `MALLOC_ARENA_MAX=2`: fewer glibc arenas for the native buffers of
 *    sockets and replies (peaks 1.37-1.48 × without, 1.40-1.42 × with).
 * And `--max-old-space-size` when the default heap limit (a quarter of the
 * system memory, at most 4 GB) is too small for 2 × maxmemory + 512 MB.
 * Peak RSS above start-up with all of them, 256 MB maxmemory: 1.37 ×.
 *
 * The environment, the semi-space size and the heap limit only take effect
 * when the process starts, so `cacheside server` and `cacheside start` (the
 * engine with the sidecar) started with a maxmemory re-execute themselves
 * once with them (unless CACHESIDE_NO_HEAP_TUNING is set, or
 * MALLOC_ARENA_MAX is already set and no flag is missing), forwarding
 * signals and the exit code: the parent stays at its start-up footprint
 * (~50 MB RSS). The growing percentage needs no restart, and is all a
 * maxmemory first set later by CONFIG SET gets.
 */
import v8 from 'node:v8';
import { spawn } from 'node:child_process';
import type { ConfigStore } from '../config/config-store.js';

const MB = 1024 * 1024;
const TUNED_ENV = 'CACHESIDE_HEAP_TUNED';
/** Old-generation growth allowed past the live data of the last full collection (percent). */
export const HEAP_GROWING_PERCENT = 25;
/** The semi-space size the CLI runs with (its shebang, npm start): 1 MB. */
const DEFAULT_SEMI_SPACE_MB = 1;
let growingSet = false;

/** The run-time part: collect the old generation at HEAP_GROWING_PERCENT growth (idempotent). */
export function tuneGcForMaxmemory(): void {
  if (growingSet) return;
  growingSet = true;
  if (/--heap-growing-percent/.test(process.execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS ?? ''))) return;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** The old-space size (MB) a maxmemory needs: twice the data plus room for everything else. */
export function oldSpaceMbFor(maxmemory: number): number {
  return Math.ceil((2 * maxmemory) / MB) + 512;
}

/**
 * The semi-space size (MB) for a server evicting at this maxmemory: 1/64 of
 * it, between 1 and 8. Every value written is promoted and later evicted, so
 * scavenges run at the write rate; a larger young generation makes each one
 * cheaper per write (8 MB: ~25% less CPU per evicting SET than 1 MB) for
 * at most 3 × 8 MB of RSS, a bounded share of maxmemory.
 */
export function semiSpaceMbFor(maxmemory: number): number {
  return Math.max(1, Math.min(8, Math.floor(maxmemory / (64 * MB))));
}

/** The last value given for a V8 flag in these arguments, or undefined. */
function lastFlagValue(given: string, flag: string): string | undefined {
  let v: string | undefined;
  for (const m of given.matchAll(new RegExp(`${flag}[= ](\\S+)`, 'g'))) v = m[1];
  return v;
}

/** Node flags to start a server with this maxmemory ([] when none are needed). */
export function heapFlagsFor(maxmemory: number, execArgv: readonly string[] = process.execArgv): string[] {
  if (maxmemory <= 0) return [];
  const given = execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS ?? '');
  const flags: string[] = [];
  // The CLI's own 1 MB (or none) is replaced by the size for this maxmemory; a size chosen otherwise is kept.
  const semi = lastFlagValue(given, '--max-semi-space-size');
  const wanted = semiSpaceMbFor(maxmemory);
  if ((semi === undefined || Number(semi) === DEFAULT_SEMI_SPACE_MB) && Number(semi) !== wanted) flags.push(`--max-semi-space-size=${wanted}`);
  if (!given.includes('--heap-growing-percent')) flags.push(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const need = oldSpaceMbFor(maxmemory);
  const limit = v8.getHeapStatistics().heap_size_limit / MB;
  if (need > limit && !given.includes('--max-old-space-size')) flags.push(`--max-old-space-size=${need}`);
  return flags;
}

/** The pid of the process the operator started (the parent of a re-executed child). */
export function launchedPid(): number {
  return process.env[TUNED_ENV] !== undefined ? process.ppid : process.pid;
}

/**
 * Re-execute this process with the heap flags its maxmemory needs. Resolves
 * true when a child now runs the server (this process only relays signals
 * and exits with the child), false when this process should go on.
 */
export function reexecWithHeapFlags(config: ConfigStore): boolean {
  if (process.env[TUNED_ENV] !== undefined || process.env.CACHESIDE_NO_HEAP_TUNING !== undefined) return false;
  const flags = heapFlagsFor(config.num('maxmemory'));
  // The growing percentage alone is set at run time (tuneGcForMaxmemory): no restart for it.
  const startOnly = flags.some((f) => f.startsWith('--max-semi-space-size') || f.startsWith('--max-old-space-size'));
  if (!startOnly && (config.num('maxmemory') === 0 || process.env.MALLOC_ARENA_MAX !== undefined)) return false;
  const env: NodeJS.ProcessEnv = { ...process.env, [TUNED_ENV]: '1' };
  if (env.MALLOC_ARENA_MAX === undefined) env.MALLOC_ARENA_MAX = '2';
  const child = spawn(process.execPath, [...process.execArgv, ...flags, ...process.argv.slice(1)], { stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
    process.on(sig, () => child.kill(sig));
  }
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
  child.on('error', (err) => {
    process.stderr.write(`cacheside: could not restart with heap flags (${err.message}); running without them\n`);
  });
  return true;
}
