#!/usr/bin/env node
// RESP throughput benchmark: redis-benchmark against cacheside (A) and a real
// redis-server (B), interleaved, pinned to CPUs when taskset is available.
// Expects `npm run build` to have produced dist/. See benchmarks/README.md.
import { Conn, UsageError, benchOptions, describeEnvironment, haveReference, installCleanup, invocation, markdownTable, median, parseBenchmarkOutput, pinning, positiveInt, recordResults, runMain, runRedisBenchmark, serversLine, startPair, textTable, which, withTimeout } from './bench-kit.mjs';

// ---------------------------------------------------------------------------
// redis-benchmark runs
// ---------------------------------------------------------------------------

/**
 * Tests that redis-benchmark 7.0 does not have (its -t silently ignores
 * them), run as custom commands instead; the result row gets `label`.
 */
const CUSTOM_TESTS = {
  xadd: { label: 'XADD', command: ['XADD', 'benchstream', '*', 'field', 'value'] },
};

/** The redis-benchmark runs a -t list needs: one for the built-in tests, one per custom test. */
function benchmarkPlan(tests) {
  const names = tests.split(',').filter(Boolean);
  const custom = (t) => (Object.hasOwn(CUSTOM_TESTS, t.toLowerCase()) ? CUSTOM_TESTS[t.toLowerCase()] : undefined);
  const builtin = names.filter((t) => custom(t) === undefined);
  const plan = builtin.length > 0 ? [{ tests: builtin.join(',') }] : [];
  for (const t of names) if (custom(t) !== undefined) plan.push(custom(t));
  return plan;
}

/** Runs every redis-benchmark run of `tests` once and merges the results. */
async function runTests({ server, pipeline, n, clients, tests, pin, timeoutMs }) {
  const merged = { code: 0, rates: new Map(), stdout: '', stderr: '', cmds: [] };
  for (const run of benchmarkPlan(tests)) {
    const what = run.command !== undefined ? run.command : ['-t', run.tests];
    const r = await runRedisBenchmark(server, ['-q', '-c', String(clients), '-P', String(pipeline), '-n', String(n), ...what], { pin, timeoutMs });
    const rates = parseBenchmarkOutput(r.stdout);
    if (r.code !== 0) merged.code = r.code;
    if (run.label !== undefined) {
      // A custom command's output line is named after the command line.
      const rps = [...rates.values()][0];
      if (rps !== undefined) merged.rates.set(run.label, rps);
    } else for (const [k, v] of rates) merged.rates.set(k, v);
    merged.stdout += r.stdout;
    merged.stderr += r.stderr;
    merged.cmds.push(r.cmd);
  }
  return merged;
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

/**
 * Named sets of defaults (--suite). `types`: the data-type commands of
 * issue #3 at -P 16; xadd is dropped when a server does not know XADD.
 */
const SUITES = {
  default: { tests: 'ping,set,get,incr,mset', pipelines: '1,16', reps: 5, n16: 2_000_000 },
  types: {
    tests: 'lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600,xadd',
    pipelines: '16',
    reps: 3,
    n16: 200_000,
    /** Goal of issue #3: every test at least this fraction of redis-server's rps. */
    target: 0.5,
    /** One unmeasured run per server first (n / 10), so that cacheside's JIT is warm. */
    warmup: true,
  },
};

/** True when the server's COMMAND INFO knows `name`. */
async function knowsCommand(server, name) {
  const c = await Conn.connect(server.port);
  try {
    const r = await withTimeout(c.call('COMMAND', 'INFO', name), 5000, 'COMMAND INFO timed out');
    return Array.isArray(r) && Array.isArray(r[0]);
  } finally {
    c.close();
  }
}

const USAGE = `usage: node benchmarks/resp-bench.mjs [options]
  --suite default|types            default: ping,set,get,incr,mset at P=1,16 (5 reps);
                                   types: lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,
                                   lrange_100,lrange_600,xadd at P=16 (3 reps, n=200000);
                                   xadd only if both servers know XADD (run as the custom
                                   command XADD benchstream * field value: redis-benchmark 7.0
                                   has no xadd test)
  --tests ping,set,get,incr,mset   redis-benchmark -t list (overrides the suite's)
  --reps 5                         repetitions per pipeline depth (A/B order alternates)
  --pipelines 1,16                 pipeline depths (-P)
  --n1 200000 --n16 2000000        requests per run for a depth (--n<P>; other depths use --n16's value;
                                   the types suite defaults to --n16 200000)
  --clients 50                     parallel connections (-c)
  --quick                          smoke run: default n divided by 10
  --timeout 600                    seconds before a single redis-benchmark run is aborted
  --record                         append the results to benchmarks/RESULTS.md`;

async function main() {
  const opts = benchOptions(USAGE, ['quick', 'record']);
  if (opts === null) return 0;
  const known = new Set(['suite', 'tests', 'reps', 'pipelines', 'clients', 'quick', 'record', 'timeout', 'help']);
  for (const k of Object.keys(opts)) {
    if (!known.has(k) && !/^n\d+$/.test(k)) throw new UsageError(`unknown option --${k}\n${USAGE}`);
  }
  const suiteName = String(opts.suite ?? 'default');
  const suite = SUITES[suiteName];
  if (suite === undefined || !Object.hasOwn(SUITES, suiteName)) throw new UsageError(`unknown suite ${JSON.stringify(suiteName)}\n${USAGE}`);
  let tests = String(opts.tests ?? suite.tests);
  const reps = positiveInt(opts.reps ?? suite.reps, '--reps');
  const pipelines = String(opts.pipelines ?? suite.pipelines).split(',').map((p) => positiveInt(p, '--pipelines'));
  const clients = positiveInt(opts.clients ?? 50, '--clients');
  const timeoutMs = positiveInt(opts.timeout ?? 600, '--timeout') * 1000;
  const scale = opts.quick ? 10 : 1;
  const n1 = opts.n1 !== undefined ? positiveInt(opts.n1, '--n1') : 200_000 / scale;
  const n16 = opts.n16 !== undefined ? positiveInt(opts.n16, '--n16') : suite.n16 / scale;
  const nFor = (p) => (opts[`n${p}`] !== undefined ? positiveInt(opts[`n${p}`], `--n${p}`) : p === 1 ? n1 : n16);

  if (!which('redis-benchmark')) throw new Error('redis-benchmark not found on PATH (bash test/interop/ensure-redis.sh installs it)');
  const pin = pinning();
  console.log(`# ${pin.note}`);
  const haveRedis = haveReference();

  installCleanup();
  const servers = [];
  let exitCode = 0;
  try {
    if (!(await startPair(servers, pin.server, haveRedis))) return 2;
    for (const s of servers) console.log(`# ${s.name} on port ${s.port}: ${s.cmd}`);
    const notes = [];
    if (tests.split(',').includes('xadd')) {
      const lacking = [];
      for (const s of servers) if (!(await knowsCommand(s, 'xadd'))) lacking.push(s.name);
      if (lacking.length > 0) {
        tests = tests.split(',').filter((t) => t !== 'xadd').join(',');
        notes.push(`xadd left out: ${lacking.join(' and ')} does not know XADD (COMMAND INFO xadd)`);
        console.log(`# ${notes.at(-1)}`);
      }
    }

    // results[serverName][`${test}|${P}`] = rps per repetition (index = rep)
    const results = Object.fromEntries(servers.map((s) => [s.name, new Map()]));
    const testOrder = [];
    const commands = new Set(); // redis-benchmark command lines (port as <port>)
    if (suite.warmup) {
      for (const server of servers) {
        const n = Math.max(1000, Math.floor(nFor(pipelines[0]) / 10));
        await runTests({ server, pipeline: pipelines[0], n, clients, tests, pin: pin.client, timeoutMs });
        console.error(`  warm-up run against ${server.name} (n=${n}, not counted)`);
      }
      notes.push('Each server got one unmeasured warm-up run (n/10) first.');
    }
    for (const p of pipelines) {
      const n = nFor(p);
      for (let rep = 0; rep < reps; rep++) {
        const order = rep % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          const r = await runTests({ server, pipeline: p, n, clients, tests, pin: pin.client, timeoutMs });
          for (const cmd of r.cmds) commands.add(cmd.replace(/ -p \d+ /, ' -p <port> '));
          if (r.code !== 0) {
            exitCode = 1;
            console.error(`! redis-benchmark exited with code ${r.code} against ${server.name} (P=${p}, rep ${rep + 1})\n${(r.stderr || r.stdout).trim().slice(-2000)}`);
          }
          if (r.rates.size === 0) console.error(`! no results parsed from redis-benchmark output against ${server.name}`);
          for (const [test, rps] of r.rates) {
            if (!testOrder.includes(test)) testOrder.push(test);
            const key = `${test}|${p}`;
            const m = results[server.name];
            if (!m.has(key)) m.set(key, Array(reps).fill(NaN));
            m.get(key)[rep] = rps;
          }
          const summary = [...r.rates].map(([t, v]) => `${t}=${Math.round(v)}`).join(' ');
          console.error(`  P=${p} rep ${rep + 1}/${reps} ${server.name.padEnd(12)} ${summary}`);
        }
      }
    }

    const fmtRps = (x) => (Number.isFinite(x) ? String(Math.round(x)) : 'n/a');
    const fmtRatio = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
    let headers;
    const rows = [];
    for (const p of pipelines) {
      for (const test of testOrder) {
        const key = `${test}|${p}`;
        const a = results.cacheside.get(key) ?? [];
        if (haveRedis) {
          const b = results['redis-server'].get(key) ?? [];
          const ratios = a.map((x, i) => x / b[i]).filter((x) => Number.isFinite(x));
          rows.push([test, p, fmtRps(median(a)), fmtRps(median(b)), fmtRatio(median(ratios)), fmtRatio(Math.min(...ratios)), fmtRatio(Math.max(...ratios))]);
        } else {
          const ok = a.filter((x) => Number.isFinite(x));
          rows.push([test, p, fmtRps(median(a)), fmtRps(Math.min(...ok)), fmtRps(Math.max(...ok))]);
        }
      }
    }
    if (haveRedis) headers = ['test', 'P', 'cacheside rps (median)', 'redis rps (median)', 'ratio (median)', 'ratio min', 'ratio max'];
    else headers = ['test', 'P', 'cacheside rps (median)', 'min', 'max'];

    const where = `${reps} repetition(s), ${clients} clients, n = ${pipelines.map((p) => `${nFor(p)} at P=${p}`).join(', ')}`;
    console.log(`\n${where}${haveRedis ? '; ratio = cacheside/redis per repetition' : '; reference missing: redis-server not installed'}\n`);
    console.log(textTable(headers, rows));
    if (haveRedis && suite.target !== undefined) {
      const below = rows.filter((r) => !(Number(r[4]) >= suite.target)).map((r) => `${r[0]} (P=${r[1]}): ${r[4]}`);
      notes.push(
        below.length === 0
          ? `Every test reaches ${suite.target}× redis-server (median ratio).`
          : `Below ${suite.target}× redis-server (median ratio): ${below.join('; ')}.`,
      );
      console.log(`\n${notes.at(-1)}`);
    }

    if (opts.record) {
      const body = [
        `Command: \`${invocation()}\``,
        '',
        'redis-benchmark runs:',
        '',
        ...[...commands.values()].map((c) => `- \`${c}\``),
        '',
        serversLine(servers),
        '',
        `Environment: ${describeEnvironment(pin)}`,
        '',
        `${where}.${haveRedis ? ' Ratio = cacheside rps / redis rps per repetition; A/B order alternates between repetitions.' : ' **Reference missing: redis-server not installed.**'}`,
        '',
        markdownTable(headers, rows),
        ...notes.flatMap((n) => ['', n]),
      ].join('\n');
      recordResults(suiteName === 'default' ? 'resp-bench' : `resp-bench --suite ${suiteName}`, body);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return exitCode;
}

runMain(main);
