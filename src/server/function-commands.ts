/**
 * FUNCTION (FLUSH LIST STATS KILL DELETE LOAD DUMP RESTORE HELP), FCALL and
 * FCALL_RO for a server with no scripting engine registered: the library
 * registry is always empty, so FUNCTION FLUSH / LIST / STATS / DUMP answer as
 * Redis does with no libraries, FUNCTION LOAD checks the library's shebang
 * metadata as Redis does and then fails with "Engine '<name>' not found",
 * and FCALL finds no function. (Redis test harnesses run FUNCTION FLUSH
 * before every test file.)
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from './session.js';
import { CommandError } from '../errors.js';
import { is } from '../commands/args.js';
import { replyHelpLines } from './server-commands.js';
import { appendDumpFooter } from '../persistence/rdb-encoder.js';
import { verifyDumpPayload } from '../persistence/rdb-decoder.js';
import { RdbReader, RdbOpcode, RDB_VERSION } from '../persistence/rdb-format.js';
import { numkeysIndexes } from '../zset/zset-common.js';

/** The engines a library may name in its shebang: none in cacheside. */
const ENGINES: ReadonlySet<string> = new Set();

/**
 * FUNCTION LOAD's checks of `#!<engine> name=<library>` in Redis's order,
 * then the engine lookup (which always fails here).
 */
function loadLibrary(code: string): never {
  if (!code.startsWith('#!')) throw new CommandError('ERR Missing library metadata');
  const eol = code.indexOf('\n');
  if (eol < 0) throw new CommandError('ERR Invalid library metadata');
  const parts = code.slice(2, eol).split(' ');
  const engine = parts[0]!;
  let name: string | null = null;
  for (const p of parts.slice(1)) {
    if (p.startsWith('name=')) name = p.slice(5);
    else throw new CommandError(`ERR Invalid metadata value given: ${p}`);
  }
  if (name === null) throw new CommandError('ERR Library name was not given');
  if (!ENGINES.has(engine.toLowerCase())) throw new CommandError(`ERR Engine '${engine}' not found`);
  throw new CommandError('ERR No functions registered');
}

function flush(s: Session, argv: string[]): void {
  if (argv.length > 3) {
    throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try FUNCTION HELP.`);
  }
  if (argv.length === 3 && !is(argv[2]!, 'ASYNC') && !is(argv[2]!, 'SYNC')) {
    throw new CommandError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
  }
  s.reply.ok();
}

/** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: no libraries to list. */
function list(s: Session, argv: string[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (is(a, 'WITHCODE') && !withCode) withCode = true;
    else if (is(a, 'LIBRARYNAME') && pattern === null) {
      if (i + 1 >= argv.length) throw new CommandError('ERR library name argument was not given');
      pattern = argv[++i]!;
    } else throw new CommandError(`ERR Unknown argument ${a}`);
  }
  s.reply.arrayLen(0);
}

function stats(s: Session): void {
  s.reply.mapLen(2);
  s.reply.bulk('running_script');
  s.reply.nullBulk();
  s.reply.bulk('engines');
  s.reply.mapLen(0);
}

function load(s: Session, argv: string[]): void {
  for (let i = 2; i < argv.length - 1; i++) {
    if (!is(argv[i]!, 'REPLACE')) throw new CommandError(`ERR Unknown option given: ${argv[i]}`);
  }
  loadLibrary(argv[argv.length - 1]!);
}

/** FUNCTION DUMP: the payload of zero libraries (just the version and CRC-64 footer). */
function dump(s: Session): void {
  s.reply.bulkBytes(appendDumpFooter(Buffer.alloc(0), RDB_VERSION));
}

/** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] */
function restore(s: Session, argv: string[]): void {
  if (argv.length > 4) throw new CommandError('ERR syntax error');
  if (argv.length === 4 && !['FLUSH', 'APPEND', 'REPLACE'].some((p) => is(argv[3]!, p))) {
    throw new CommandError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
  }
  const payload = Buffer.from(argv[2]!, 'latin1');
  if (verifyDumpPayload(payload) < 0) throw new CommandError('ERR DUMP payload version or checksum are wrong');
  const r = new RdbReader(payload.subarray(0, payload.length - 10));
  while (r.remaining > 0) {
    if (r.u8() !== RdbOpcode.FUNCTION2) throw new CommandError('ERR given type is not a function');
    let code: string;
    try {
      code = r.string();
    } catch {
      throw new CommandError('ERR Failed loading the library');
    }
    loadLibrary(code);
  }
  s.reply.ok();
}

const FUNCTION_HELP = [
  'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Library description',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
  'HELP',
  '    Prints this help.',
];

function fcall(): void {
  throw new CommandError('ERR Function not found');
}

const scripting = { group: 'scripting', since: '7.0.0' } as const;
const allShards = ['request_policy:all_shards', 'response_policy:all_succeeded'];

/**
 * The key spec of FCALL and EVAL (and their _RO forms): numkeys at argv[2],
 * the keys after it; with Redis 7.0's notes unless `notes` is false (EVALSHA).
 */
export function numkeysScriptKeySpec(ro: boolean, notes = true): KeySpec {
  return {
    ...(notes
      ? {
          notes: ro
            ? 'We cannot tell how the keys will be used so we assume the worst, RO and ACCESS'
            : 'We cannot tell how the keys will be used so we assume the worst, RW and UPDATE',
        }
      : {}),
    flags: ro ? ['RO', 'access'] : ['RW', 'access', 'update'],
    begin: { index: 2 },
    find: { keynum: [0, 1, 1] },
  };
}

function fcallSpec(name: string, ro: boolean): CommandSpec {
  const keySpecs: KeySpec[] = [numkeysScriptKeySpec(ro)];
  return {
    name,
    arity: -3,
    flags: [...(ro ? (['readonly'] as const) : []), 'noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
    ...scripting,
    summary: ro ? 'Invoke a read-only function' : 'Invoke a function',
    complexity: 'Depends on the function that is executed.',
    keys: [0, 0, 0],
    getKeys: (argv) => numkeysIndexes(argv, 2),
    keySpecs,
    handler: fcall,
  };
}

export const functionCommands: CommandSpec[] = [
  {
    name: 'function', arity: -2, flags: [], ...scripting, acl: ['-scripting'], summary: 'A container for function commands', complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'restore', arity: -3, flags: ['write', 'denyoom', 'noscript'], ...scripting, tips: allShards, summary: 'Restore all the functions on the given payload', complexity: 'O(N) where N is the number of functions on the payload', handler: restore },
      { name: 'delete', arity: 3, flags: ['write', 'noscript'], ...scripting, tips: allShards, summary: 'Delete a function by name', complexity: 'O(1)', handler: () => { throw new CommandError('ERR Library not found'); } },
      { name: 'load', arity: -3, flags: ['write', 'denyoom', 'noscript'], ...scripting, tips: allShards, summary: 'Create a function with the given arguments (name, code, description)', complexity: 'O(1) (considering compilation time is redundant)', handler: load },
      { name: 'stats', arity: 2, flags: ['noscript', 'allow_busy'], ...scripting, tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], summary: 'Return information about the function currently running (name, description, duration)', complexity: 'O(1)', handler: stats },
      { name: 'kill', arity: 2, flags: ['noscript', 'allow_busy'], ...scripting, tips: ['request_policy:all_shards', 'response_policy:one_succeeded'], summary: 'Kill the function currently in execution.', complexity: 'O(1)', handler: () => { throw new CommandError('NOTBUSY No scripts in execution right now.'); } },
      { name: 'dump', arity: 2, flags: ['noscript'], ...scripting, summary: 'Dump all functions into a serialized binary payload', complexity: 'O(N) where N is the number of functions', handler: dump },
      { name: 'list', arity: -2, flags: ['noscript'], ...scripting, tips: ['nondeterministic_output_order'], summary: 'List information about all the functions', complexity: 'O(N) where N is the number of functions', handler: list },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...scripting, summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (s) => replyHelpLines(s, FUNCTION_HELP) },
      { name: 'flush', arity: -2, flags: ['write', 'noscript'], ...scripting, tips: allShards, summary: 'Deleting all functions', complexity: 'O(N) where N is the number of functions deleted', handler: flush },
    ],
  },
  fcallSpec('fcall', false),
  fcallSpec('fcall_ro', true),
];
