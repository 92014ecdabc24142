#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * cacheside command line.
 *
 * The shebang carries the V8 flags the server runs with (benchmarks and the
 * interop harness read them from here): a 1 MiB young generation keeps RSS
 * close to the live heap (1M keys × 100 B: 247 B/key instead of 313, with no
 * measurable CPU cost per command at -P 16 — see benchmarks/RESULTS.md).
 *   cacheside server [redis.conf] [--directive value ...]   the RESP engine alone
 *   cacheside start  [redis.conf] [--directive value ...]   engine + HTTP sidecar (npm start)
 *   cacheside proxy  --upstream URL --engine redis://...    HTTP sidecar against a shared engine
 */
import { ConfigStore, ConfigError } from './config/config-store.js';
import { splitCommandLine, applyCommandLine } from './cli-args.js';
import { startEngine } from './server/bootstrap.js';
import { launchedPid, reexecWithHeapFlags } from './memory/heap-limit.js';
import { CONFIG_TABLE } from './config/config-table.js';
import { checkAof, parseTimestampArg } from './persistence/aof-check.js';
import { checkRdbFile } from './persistence/rdb-check.js';
import { installCrashHandlers } from './server/crash-report.js';

/** The sidecar (hono, undici, pino, ...) is loaded only by the commands that run it. */
const sidecarCli = () => import('./sidecar/cli-run.js');
/** Errors whose message is meant for the user as is (no stack trace). */
const userErrorNames = new Set(['ConfigError', 'ConfigFieldError', 'EngineUrlError']);

const VERSION = '0.1.0';

const MAIN_HELP = `cacheside ${VERSION} — a Redis-compatible engine and cache-aside HTTP sidecar

Usage:
  cacheside server [path/redis.conf] [--directive value ...]
      Run the RESP engine alone, like redis-server. Any Redis client,
      redis-cli and redis-benchmark work against it.
  cacheside start [path/redis.conf] [--upstream URL] [--ttl S] [--http-port N] [--config FILE] [--directive value ...]
      Run the engine and the HTTP cache-aside sidecar together (what \`npm start\` runs).
  cacheside proxy --upstream URL --engine redis://host:6379 [--http-port N] [--config FILE]
      Run the HTTP sidecar alone against a shared engine (cacheside, Redis, Valkey,
      Redis Cluster or Sentinel).
  cacheside check-aof [--fix|--truncate-to-timestamp <ts>] <file.manifest|file.aof>
      Check an append-only file (a multi-part AOF through its manifest, or one
      file), like redis-check-aof; --fix truncates a damaged tail after asking;
      --truncate-to-timestamp cuts the AOF after the last #TS: annotation not
      later than <ts> (unix seconds; needs aof-timestamp-enabled yes).
  cacheside check-rdb <dump.rdb>
      Check an RDB file, like redis-check-rdb.
  cacheside --help | cacheside server --help | cacheside start --help | cacheside proxy --help
  cacheside --version

Run 'cacheside server --help' for every engine directive.`;

function serverHelp(): string {
  const rows = CONFIG_TABLE.map((d) => {
    const kind = d.type === 'enum' ? d.enumValues!.join('|') : d.type === 'bool' ? 'yes|no' : d.type;
    const flags = [d.immutable ? 'not settable at runtime' : '', d.effect === false ? 'accepted, no effect' : ''].filter(Boolean).join('; ');
    return `  --${d.name} <${kind}>  (default: ${JSON.stringify(d.default)})${flags ? '  [' + flags + ']' : ''}${d.alias ? `  alias: ${d.alias}` : ''}`;
  });
  return `Usage: cacheside server [path/redis.conf] [--directive value ...]

The config file uses redis.conf syntax; a redis.conf written for Redis 7
loads unchanged. Command-line directives override the file. Every directive
can also be read with CONFIG GET and (unless marked) changed with CONFIG SET.
Directives Redis knows but cacheside has no use for are accepted, shown by
CONFIG GET, and logged once as having no effect. Unknown directives are errors.

Examples:
  cacheside server --port 6380 --save "" --appendonly no
  cacheside server /etc/redis/redis.conf --maxmemory 256mb --maxmemory-policy allkeys-lru

Directives:
${rows.join('\n')}
  --include <file>           read another config file (config files only)
  --rename-command <a> <b>   rename (or with "" disable) a command (config files only)`;
}

async function runServer(args: string[]): Promise<void> {
  const config = new ConfigStore();
  applyCommandLine(config, splitCommandLine(args));
  // A maxmemory needs V8 heap settings that only apply at start: run a child with them (src/memory/heap-limit.ts).
  if (reexecWithHeapFlags(config)) return;
  // Like redis-server, once listening and before loading: a banner with Port and PID when always-show-logo
  // is yes (test harnesses written for Redis wait for its "PID: <pid>" line), else one "Running mode" line.
  // The PID is the one the operator started: the parent when it re-executed itself with heap flags.
  const running = await startEngine(config, undefined, (engine, port) => {
    engine.log.notice(`cacheside ${VERSION} (Redis ${engine.redisVersion} compatible) started, pid=${process.pid}`);
    if (config.bool('always-show-logo')) {
      const side = [`cacheside ${VERSION} (Redis ${engine.redisVersion} compatible) 64 bit`, 'Running in standalone mode', `Port: ${port}`, `PID: ${launchedPid()}`];
      engine.log.raw(side.map((l) => `    ${l}`).join('\n') + '\n');
    } else {
      engine.log.notice(`Running mode=standalone, port=${port}.`);
    }
  });
  const e = running.engine;
  e.log.notice(`Ready to accept connections tcp on port ${running.port}`);
  // SHUTDOWN: the server has closed (hooks run, listeners down); end the process.
  e.onShutdown = () => process.exit(0);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    e.log.warning(`Received ${sig} scheduling shutdown...`);
    await running.close();
    e.log.warning('cacheside is now ready to exit, bye bye...');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  installCrashHandlers(e);
}

/**
 * cacheside start: the engine and the sidecar in one process. A maxmemory
 * needs the same V8 heap settings as with `cacheside server`, so the process
 * re-executes itself with them first (src/memory/heap-limit.ts), before
 * loading the sidecar; the child runs both.
 */
async function runStartCommand(args: string[]): Promise<void> {
  const { extractSidecarFlags } = await import('./sidecar/settings.js');
  const config = new ConfigStore();
  applyCommandLine(config, splitCommandLine(extractSidecarFlags(args).rest));
  if (reexecWithHeapFlags(config)) return;
  return (await sidecarCli()).runStart(args);
}

/** Ask on the terminal (check-aof --fix); anything but y/yes is no. */
function confirm(question: string): Promise<boolean> {
  process.stdout.write(question);
  return new Promise((resolve) => {
    let answer = '';
    const onData = (d: Buffer) => {
      answer += d.toString();
      if (answer.includes('\n')) done();
    };
    const done = () => {
      process.stdin.off('data', onData);
      process.stdin.off('end', done);
      process.stdin.pause();
      resolve(/^y(es)?$/i.test(answer.trim()));
    };
    process.stdin.on('data', onData);
    process.stdin.on('end', done);
    process.stdin.resume();
  });
}

async function runCheckAof(args: string[]): Promise<void> {
  // As redis-check-aof: <file> | --fix <file> | --truncate-to-timestamp <ts> <file>.
  const usage = () => {
    process.stdout.write('Usage: cacheside check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n');
    process.exit(1);
  };
  let fix = false;
  let ts = 0;
  if (args.length === 2) {
    if (args[0] !== '--fix') usage();
    fix = true;
  } else if (args.length === 3) {
    if (args[0] !== '--truncate-to-timestamp') usage();
    const t = parseTimestampArg(args[1]!);
    if (t === null) {
      process.stdout.write('Invalid timestamp, aborting...\n');
      process.exit(1);
    }
    ts = t;
  } else if (args.length !== 1) usage();
  const out = (l: string) => process.stdout.write(l + '\n');
  const code = await checkAof(args[args.length - 1]!, { fix, truncateToTimestamp: ts, confirm, out });
  process.exit(code);
}

async function runCheckRdb(args: string[]): Promise<void> {
  if (args.length !== 1) {
    process.stderr.write('Usage: cacheside check-rdb <rdb-file-name>\n');
    process.exit(1);
  }
  const r = await checkRdbFile(args[0]!);
  process.stdout.write(r.report);
  process.exit(r.ok ? 0 : 1);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(MAIN_HELP);
    return;
  }
  if (cmd === '--version' || cmd === '-v') {
    console.log(`cacheside ${VERSION}`);
    return;
  }
  if ((cmd === 'server' || cmd === 'start' || cmd === 'proxy') && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(cmd === 'server' ? serverHelp() : cmd === 'start' ? (await sidecarCli()).START_HELP : (await sidecarCli()).PROXY_HELP);
    return;
  }
  switch (cmd) {
    case 'server':
      return runServer(rest);
    case 'start':
      return runStartCommand(rest);
    case 'proxy':
      return (await sidecarCli()).runProxy(rest);
    case 'check-aof':
      return runCheckAof(rest);
    case 'check-rdb':
      return runCheckRdb(rest);
    default:
      throw new ConfigError(`Unknown command '${cmd}'. Run 'cacheside --help'.`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError || userErrorNames.has((err as Error)?.constructor?.name)) {
    process.stderr.write(err.message + '\n');
  } else {
    process.stderr.write(`cacheside: ${(err as Error).stack ?? err}\n`);
  }
  process.exit(1);
});
