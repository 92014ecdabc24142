/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD EXISTS FLUSH KILL
 * DEBUG HELP). Scripts run to completion, atomically; one running past
 * busy-reply-threshold is busy (script-busy.ts) and SCRIPT KILL can end it.
 * See script-runner.ts for the Lua side.
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { replyHelpLines } from '../server/server-commands.js';
import { numkeysIndexes } from '../zset/zset-common.js';
import { numkeysScriptKeySpec } from '../server/function-commands.js';
import { flushScripts, loadScript, runScript, scriptExists, setDenyScriptsDisabled } from './script-runner.js';
import { registerDebugSubcommand } from '../server/debug-commands.js';
import { killBusyScript } from './script-busy.js';

/** Checks numkeys against the arguments, as Redis does before looking the script up. */
function numKeys(argv: string[]): number {
  const n = longArg(argv[2]!);
  if (n > argv.length - 3) throw new CommandError("ERR Number of keys can't be greater than number of args");
  if (n < 0) throw new CommandError("ERR Number of keys can't be negative");
  return n;
}

function evalCommand(ro: boolean) {
  return (s: Session, argv: string[]): void => {
    const n = numKeys(argv);
    runScript(s, loadScript(s.engine, argv[1]!), argv, n, ro);
  };
}

function evalshaCommand(ro: boolean) {
  return (s: Session, argv: string[]): void => {
    const n = numKeys(argv);
    const sha = argv[1]!;
    if (sha.length !== 40) throw new CommandError('NOSCRIPT No matching script. Please use EVAL.');
    runScript(s, sha.toLowerCase(), argv, n, ro);
  };
}

function scriptLoad(s: Session, argv: string[]): void {
  s.reply.bulk(loadScript(s.engine, argv[2]!));
}

function scriptExistsCommand(s: Session, argv: string[]): void {
  s.reply.arrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) s.reply.int(scriptExists(s.engine, argv[i]!) ? 1 : 0);
}

function scriptFlush(s: Session, argv: string[]): void {
  if (argv.length > 3 || (argv.length === 3 && !is(argv[2]!, 'SYNC') && !is(argv[2]!, 'ASYNC'))) {
    throw new CommandError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
  }
  flushScripts(s.engine);
  s.reply.ok();
}

/** SCRIPT KILL: end the busy EVAL script (script-busy.ts has Redis's refusals). */
function scriptKill(s: Session): void {
  killBusyScript(s.engine, true);
  s.reply.ok();
}

function scriptDebug(s: Session, argv: string[]): void {
  const mode = argv[2]!;
  if (is(mode, 'NO')) return s.reply.ok();
  if (is(mode, 'YES') || is(mode, 'SYNC')) throw new CommandError('ERR SCRIPT DEBUG (the Lua debugger) is not supported');
  throw new CommandError('ERR Use SCRIPT DEBUG YES/SYNC/NO');
}

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Prints this help.',
];

const scripting = { group: 'scripting' } as const;

function evalSpec(name: string, sha: boolean, ro: boolean): CommandSpec {
  const keySpec: KeySpec = numkeysScriptKeySpec(ro, !sha);
  return {
    name,
    arity: -3,
    flags: [...(ro ? (['readonly'] as const) : []), 'noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
    ...scripting,
    since: ro ? '7.0.0' : '2.6.0',
    summary: ro ? 'Execute a read-only Lua script server side' : 'Execute a Lua script server side',
    complexity: 'Depends on the script that is executed.',
    keys: [0, 0, 0],
    getKeys: (argv) => numkeysIndexes(argv, 2),
    keySpecs: [keySpec],
    handler: sha ? evalshaCommand(ro) : evalCommand(ro),
  };
}

const allNodes = ['request_policy:all_nodes', 'response_policy:all_succeeded'];

export const scriptingCommands: CommandSpec[] = [
  evalSpec('eval', false, false),
  evalSpec('evalsha', true, false),
  evalSpec('eval_ro', false, true),
  evalSpec('evalsha_ro', true, true),
  {
    name: 'script', arity: -2, flags: [], ...scripting, since: '2.6.0', summary: 'A container for Lua scripts management commands', complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'debug', arity: 3, flags: ['noscript'], ...scripting, since: '3.2.0', summary: 'Set the debug mode for executed scripts.', complexity: 'O(1)', handler: scriptDebug },
      { name: 'exists', arity: -3, flags: ['noscript'], ...scripting, since: '2.6.0', tips: ['request_policy:all_shards', 'response_policy:agg_logical_and'], summary: 'Check existence of scripts in the script cache.', complexity: 'O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).', handler: scriptExistsCommand },
      { name: 'flush', arity: -2, flags: ['noscript'], ...scripting, since: '2.6.0', tips: allNodes, summary: 'Remove all the scripts from the script cache.', complexity: 'O(N) with N being the number of scripts in cache', handler: scriptFlush },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...scripting, since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (s) => replyHelpLines(s, SCRIPT_HELP) },
      { name: 'kill', arity: 2, flags: ['noscript', 'allow_busy'], ...scripting, since: '2.6.0', tips: ['request_policy:all_shards', 'response_policy:one_succeeded'], summary: 'Kill the script currently in execution.', complexity: 'O(1)', handler: scriptKill },
      { name: 'load', arity: 3, flags: ['noscript', 'stale'], ...scripting, since: '2.6.0', tips: allNodes, summary: 'Load the specified Lua script into the script cache.', complexity: 'O(N) with N being the length in bytes of the script body.', handler: scriptLoad },
    ],
  },
];

// DEBUG SET-DISABLE-DENY-SCRIPTS 0|1: scripts may call commands flagged noscript (Redis's test hook; not in DEBUG HELP).
registerDebugSubcommand({
  name: 'SET-DISABLE-DENY-SCRIPTS',
  minArgs: 3,
  maxArgs: 3,
  help: [],
  handler: (s, argv) => {
    // Redis reads the flag with atoi(): on when the text starts with a non-zero number.
    setDenyScriptsDisabled(s.engine, /^\s*[+-]?0*[1-9]/.test(argv[2]!));
    s.reply.ok();
  },
});
