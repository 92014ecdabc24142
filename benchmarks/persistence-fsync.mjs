#!/usr/bin/env node
// Write throughput under the AOF fsync policies: `redis-benchmark -t set -P 16`
// against cacheside with appendonly off, appendfsync everysec and appendfsync
// always, interleaved (the order rotates every repetition), plus redis-server
// in the same three modes as a reference. Goal: everysec >= 0.8 x off.
// Expects `npm run build`. See benchmarks/README.md.
import { benchmarkRps, benchOptions, installCleanup, intOptions, markdownTable, median, pinning, recordRun, runMain, serverKinds, startKind, textTable } from './bench-kit.mjs';

const USAGE = `usage: node benchmarks/persistence-fsync.mjs [options]
  --reps 5          repetitions (the order of the modes rotates)
  --n 1000000       SET requests per run
  --pipeline 16     redis-benchmark -P
  --clients 50      redis-benchmark -c
  --no-redis        cacheside only
  --quick           n / 10, 3 reps
  --record          append the results to benchmarks/RESULTS.md`;

const MODES = [
  { name: 'off', args: ['--appendonly', 'no'] },
  { name: 'everysec', args: ['--appendonly', 'yes', '--appendfsync', 'everysec'] },
  { name: 'always', args: ['--appendonly', 'yes', '--appendfsync', 'always'] },
];

async function main() {
  const opts = benchOptions(USAGE, ['quick', 'record', 'no-redis']);
  if (opts === null) return 0;
  const { reps, n, pipeline, clients } = intOptions(opts, { reps: opts.quick ? 3 : 5, n: opts.quick ? 100_000 : 1_000_000, pipeline: 16, clients: 50 });
  installCleanup();
  const pin = pinning();
  const kinds = serverKinds(opts);
  const results = new Map(); // "kind/mode" -> rps[]
  for (const kind of kinds) for (const m of MODES) results.set(`${kind}/${m.name}`, []);
  for (let rep = 0; rep < reps; rep++) {
    const order = MODES.map((_, i) => MODES[(i + rep) % MODES.length]);
    for (const mode of order) {
      for (const kind of kinds) {
        // The mode sets the AOF options itself (aof: [] drops the default --appendonly no).
        const server = await startKind(kind, pin.server, { name: `${kind}-${mode.name}`, aof: [], extra: mode.args });
        try {
          const rps = await benchmarkRps(server, 'SET', ['-c', String(clients), '-P', String(pipeline), '-n', String(n), '-t', 'set'], { pin: pin.client });
          results.get(`${kind}/${mode.name}`).push(rps);
          console.log(`rep ${rep + 1}/${reps} ${kind.padEnd(9)} ${mode.name.padEnd(8)} ${Math.round(rps)} req/s`);
        } finally {
          await server.stop();
        }
      }
    }
  }
  const rows = [];
  for (const kind of kinds) {
    const off = median(results.get(`${kind}/off`));
    for (const m of MODES) {
      const xs = results.get(`${kind}/${m.name}`);
      // Ratio per repetition (runs of one repetition are adjacent in time).
      const ratios = xs.map((x, i) => x / results.get(`${kind}/off`)[i]);
      rows.push([
        `${kind} ${m.name}`,
        Math.round(median(xs)),
        (median(xs) / off).toFixed(2),
        `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      ]);
    }
  }
  const headers = ['server / AOF', 'SET req/s (median)', 'vs off', 'per-rep range'];
  console.log('\n' + textTable(headers, rows));
  const ev = median(results.get('cacheside/everysec')) / median(results.get('cacheside/off'));
  console.log(`\ncacheside everysec / off = ${ev.toFixed(2)} (goal >= 0.80): ${ev >= 0.8 ? 'met' : 'NOT met'}`);
  if (opts.record) {
    recordRun(
      'persistence-fsync',
      { pin },
      `redis-benchmark -t set -P ${pipeline} -c ${clients} -n ${n}, ${reps} repetitions, modes interleaved (order rotates), a fresh server per run.`,
      markdownTable(headers, rows),
      `cacheside everysec / off = ${ev.toFixed(2)} (goal >= 0.80).`,
    );
  }
  return 0;
}

runMain(main);
