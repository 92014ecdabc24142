/**
 * A stand-in for Redis's fork child. Background saves and AOF rewrites run
 * inside the server process here (snapshot.ts), but tools and tests look for
 * the child process (`pgrep -P <server pid>`) and kill it to make a
 * background job fail. Each job in the "child" slot therefore gets a tiny
 * placeholder process (a shell waiting for its stdin to close): killing it
 * with a signal aborts the job as if its fork child had died by that signal.
 * It ends when the job ends, and by itself when the server dies (its stdin
 * pipe closes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

export class ChildProxy {
  private proc: ChildProcess | null;
  private released = false;

  /** `onSignal(n)`: the placeholder was killed by signal n while its job still ran. */
  constructor(onSignal: (signal: number) => void) {
    let proc: ChildProcess | null = null;
    try {
      proc = spawn('/bin/sh', ['-c', 'read _'], { stdio: ['pipe', 'ignore', 'ignore'] });
    } catch {
      proc = null;
    }
    this.proc = proc;
    if (proc === null) return;
    proc.on('error', () => {
      this.proc = null;
    });
    proc.stdin?.on('error', () => {});
    proc.on('exit', (_code, signal) => {
      this.proc = null;
      if (this.released || signal === null) return;
      onSignal(os.constants.signals[signal] ?? 9);
    });
    // The server may exit while a job runs: the placeholder must not keep it alive.
    proc.unref();
    (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  /** Process id of the placeholder (0 when none could be started). */
  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  /** The job ended: the placeholder exits (not reported). */
  release(): void {
    if (this.released) return;
    this.released = true;
    const p = this.proc;
    if (p === null) return;
    p.stdin?.end();
    p.kill('SIGKILL');
  }
}
