#!/usr/bin/env node
// Write throughput under the AOF fsync policies: `redis-benchmark -t set -P 16`
// against cacheside with appendonly off, appendfsync everysec and appendfsync
// always, interleaved (the order rotates every repetition), plus redis-server
// in the same three modes as a reference. Goal: everysec >= 0.8 x off.
// Expects `npm run build`. See benchmarks/README.md.
import { spawn } from 'node:child_process';
import {
  UsageError,
  cachesideNodeArgs,
  CACHESIDE_CLI,
  describeEnvironment,
  installCleanup,
  invocation,
  markdownTable,
  median,
  parseArgs,
  parseBenchmarkOutput,
  pinning,
  positiveInt,
  recordResults,
  shellJoin,
  startServer,
  textTable,
  which,
} from './resp-bench.mjs';

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

function start(kind, mode, pin) {
  if (kind === 'cacheside') {
    return startServer({
      name: `cacheside-${mode.name}`,
      command: process.execPath,
      args: (port, dir) => [...cachesideNodeArgs(), CACHESIDE_CLI, 'server', '--port', String(port), '--save', '', '--dir', dir, ...mode.args],
      pin,
    });
  }
  return startServer({
    name: `redis-${mode.name}`,
    command: 'redis-server',
    args: (port, dir) => ['--port', String(port), '--save', '', '--daemonize', 'no', '--dir', dir, ...mode.args],
    pin,
  });
}

function bench(server, { n, pipeline, clients }, pin) {
  const argv = [...pin, 'redis-benchmark', '-h', '127.0.0.1', '-p', String(server.port), '-q', '-c', String(clients), '-P', String(pipeline), '-n', String(n), '-t', 'set'];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('error', reject);
    child.once('close', () => {
      const rps = parseBenchmarkOutput(out).get('SET');
      if (rps === undefined) reject(new Error(`redis-benchmark failed (${shellJoin(argv)}):\n${out.slice(-2000)}`));
      else resolve(rps);
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2), ['quick', 'record', 'help', 'no-redis']);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const reps = positiveInt(opts.reps ?? (opts.quick ? 3 : 5), '--reps');
  const n = positiveInt(opts.n ?? (opts.quick ? 100_000 : 1_000_000), '--n');
  const pipeline = positiveInt(opts.pipeline ?? 16, '--pipeline');
  const clients = positiveInt(opts.clients ?? 50, '--clients');
  const withRedis = !opts['no-redis'] && which('redis-server') !== undefined;
  installCleanup();
  const pin = pinning();
  const kinds = withRedis ? ['cacheside', 'redis'] : ['cacheside'];
  const results = new Map(); // "kind/mode" -> rps[]
  for (const kind of kinds) for (const m of MODES) results.set(`${kind}/${m.name}`, []);
  for (let rep = 0; rep < reps; rep++) {
    const order = MODES.map((_, i) => MODES[(i + rep) % MODES.length]);
    for (const mode of order) {
      for (const kind of kinds) {
        const server = await start(kind, mode, pin.server);
        try {
          const rps = await bench(server, { n, pipeline, clients }, pin.client);
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
    recordResults(
      'persistence-fsync',
      [
        `Command: \`${invocation()}\``,
        '',
        `Environment: ${describeEnvironment(pin)}`,
        '',
        `redis-benchmark -t set -P ${pipeline} -c ${clients} -n ${n}, ${reps} repetitions, modes interleaved (order rotates), a fresh server per run.`,
        '',
        markdownTable(headers, rows),
        '',
        `cacheside everysec / off = ${ev.toFixed(2)} (goal >= 0.80).`,
      ].join('\n'),
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e instanceof UsageError ? e.message : e.stack}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
