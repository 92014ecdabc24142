/**
 * Running the real redis tools (redis-cli, redis-benchmark, ...) from the
 * interop tests: a child process with a time limit, a PATH check and the
 * parser of `redis-benchmark -q` output.
 */
import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (no shell, REDISCLI_AUTH unset), feeding `input` on stdin, killing it after timeoutMs. */
export function run(command: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const env = { ...process.env };
  delete env.REDISCLI_AUTH;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the tool may exit before reading all input
    child.stdin.end(opts.input ?? '');
  });
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Throws, saying how to install them, unless every tool is on PATH. */
export function requireTools(...names: string[]): void {
  const missing = names.filter((t) => !hasCommand(t));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not on PATH: run \`bash test/interop/ensure-redis.sh\` first`);
}

/** Parses `redis-benchmark -q` output: `SET: 123456.79 requests per second, p50=0.191 msec` (progress lines end in \r). */
export function parseBenchmark(output: string): Map<string, number> {
  const rates = new Map<string, number>();
  for (const line of output.split(/[\r\n]+/)) {
    const m = /^\s*(.+?):\s+([\d.]+)\s+requests per second/.exec(line);
    if (m) rates.set(m[1]!, Number(m[2]));
  }
  return rates;
}
