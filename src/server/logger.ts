/**
 * The engine's log, in Redis's line format
 * (`pid:M 21 Nov 2026 05:05:40.123 * message`), honouring `loglevel` and
 * `logfile` (empty = standard output).
 */
import { appendFileSync } from 'node:fs';
import type { ConfigStore } from '../config/config-store.js';

const LEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'] as const;
const MARK = ['.', '-', '*', '#'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Logger {
  /** When set, lines go here instead of stdout/logfile (tests, embedding). */
  sink: ((line: string) => void) | null = null;
  constructor(private readonly config: ConfigStore | null) {}

  private write(level: number, msg: string): void {
    if (level < this.minLevel()) return;
    const d = new Date();
    const p2 = (n: number) => String(n).padStart(2, '0');
    const ts = `${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
    this.emit(`${process.pid}:M ${ts} ${MARK[level]} ${msg}`);
  }

  private minLevel(): number {
    return LEVELS.indexOf((this.config?.str('loglevel') ?? 'notice') as (typeof LEVELS)[number]);
  }

  /** Lines without the pid/time prefix (the start-up banner), at notice level, like Redis's serverLogRaw. */
  raw(text: string): void {
    if (this.minLevel() <= 2) for (const line of text.split('\n')) this.emit(line);
  }

  private emit(line: string): void {
    if (this.sink) return this.sink(line);
    const file = this.config?.str('logfile') ?? '';
    if (file) {
      try {
        // Relative to dir, where Redis has chdir'ed.
        appendFileSync(this.config!.resolvePath(file), line + '\n');
        return;
      } catch {
        /* fall back to stdout */
      }
    }
    process.stdout.write(line + '\n');
  }

  debug(msg: string): void {
    this.write(0, msg);
  }
  verbose(msg: string): void {
    this.write(1, msg);
  }
  notice(msg: string): void {
    this.write(2, msg);
  }
  warning(msg: string): void {
    this.write(3, msg);
  }
}
