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
 *  - `--heap-growing-percent=10`: the old generation is collected once it has
 *    grown 10% past the live data of the last collection. V8 reads this flag
 *    at each collection, so it is also set at run time (CONFIG SET maxmemory).
 *  - a small young generation: the CLI's shebang (and npm start) already run
 *    the server with `--max-semi-space-size=1`; without it (plain
 *    `node dist/cli.js`) the default 16 MB semi-spaces hold up to ~50 MB of
 *    short-lived garbage.
 *  - `MALLOC_ARENA_MAX=2`: fewer glibc arenas for the native buffers of
 *    sockets and replies (peaks 1.37-1.48 × without, 1.40-1.42 × with).
 * And `--max-old-space-size` when the default heap limit (a quarter of the
 * system memory, at most 4 GB) is too small for 2 × maxmemory + 512 MB.
 *
 * The environment, the semi-space size and the heap limit only take effect
 * when the process starts, so `cacheside server` started with a maxmemory
 * re-executes itself once with them (unless CACHESIDE_NO_HEAP_TUNING is set,
 * or MALLOC_ARENA_MAX is already set and no flag is missing), forwarding
 * signals and the exit code: the parent stays at its start-up footprint
 * (~50 MB RSS). The growing percentage needs no restart, and is all a
 * maxmemory first set later by CONFIG SET gets.
 */
import v8 from 'node:v8';
import { spawn } from 'node:child_process';
import type { ConfigStore } from '../config/config-store.js';

const MB = 1024 * 1024;
const TUNED_ENV = 'CACHESIDE_HEAP_TUNED';
let growingSet = false;

/** The run-time part: collect the old generation at 10% growth (idempotent). */
export function tuneGcForMaxmemory(): void {
  if (growingSet) return;
  growingSet = true;
  if (/--heap-growing-percent/.test(process.execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS ?? ''))) return;
  v8.setFlagsFromString('--heap-growing-percent=10');
}

/** The old-space size (MB) a maxmemory needs: twice the data plus room for everything else. */
export function oldSpaceMbFor(maxmemory: number): number {
  return Math.ceil((2 * maxmemory) / MB) + 512;
}

/** Node flags to start a server with this maxmemory ([] when none are needed). */
export function heapFlagsFor(maxmemory: number, execArgv: readonly string[] = process.execArgv): string[] {
  if (maxmemory <= 0) return [];
  const given = execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS ?? '');
  const flags: string[] = [];
  if (!given.includes('--max-semi-space-size')) flags.push('--max-semi-space-size=1');
  if (!given.includes('--heap-growing-percent')) flags.push('--heap-growing-percent=10');
  const need = oldSpaceMbFor(maxmemory);
  const limit = v8.getHeapStatistics().heap_size_limit / MB;
  if (need > limit && !given.includes('--max-old-space-size')) flags.push(`--max-old-space-size=${need}`);
  return flags;
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
