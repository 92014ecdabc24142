/**
 * Redis's crash report: when the server dies of a signal (SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGABRT) Redis logs a "REDIS BUG REPORT" with the line
 * "Redis <version> crashed by signal: <sig>, si_code: <code>" and then dies
 * of that signal. A JavaScript process gets no SIGSEGV of its own, so two
 * paths produce the report here: a SIGABRT sent to the process (the
 * `cacheside server` command installs the handler) and DEBUG SEGFAULT.
 * There is no native stack to print.
 */
import type { Engine } from './engine.js';
import { registerDebugSubcommand } from './debug-commands.js';

const SIGSEGV = 11;
const SIGABRT = 6;
/** si_code of a signal sent with kill(); of an invalid access to mapped memory. */
const SI_USER = 0;
const SEGV_ACCERR = 2;

function bugReport(e: Engine, sig: number, siCode: number, address: string | null): void {
  e.log.raw('\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===');
  e.log.warning(`Redis ${e.redisVersion} crashed by signal: ${sig}, si_code: ${siCode}`);
  if (address !== null) e.log.warning(`Accessing address: ${address}`);
  e.log.raw(
    '\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n' +
      '       Please report the crash by opening an issue on github:\n\n' +
      '           http://github.com/redis/redis/issues\n\n' +
      "  If a Redis module was involved, please open in the module's repo instead.\n\n" +
      '  Suspect RAM error? Use redis-server --test-memory to verify it.\n\n' +
      '  Some other issues could be detected by redis-server --check-system',
  );
}

/** End the process the way the signal would have: its default action (abort() as a fallback). */
function dieBy(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  try {
    process.kill(process.pid, signal);
  } catch {
    // fall through
  }
  setTimeout(() => process.abort(), 100);
}

/** `cacheside server`: a SIGABRT logs the crash report, then ends the process with SIGABRT. */
export function installCrashHandlers(e: Engine): void {
  process.on('SIGABRT', () => {
    bugReport(e, SIGABRT, SI_USER, null);
    dieBy('SIGABRT');
  });
}

registerDebugSubcommand({
  name: 'SEGFAULT',
  minArgs: 2,
  maxArgs: 2,
  help: ['SEGFAULT', '    Crash the server with sigsegv.'],
  handler: (s) => {
    // No reply: the client sees the connection drop, as with Redis.
    bugReport(s.engine, SIGSEGV, SEGV_ACCERR, '0x0');
    dieBy('SIGSEGV');
  },
});
