/**
 * FUNCTION (LOAD DELETE LIST STATS KILL FLUSH DUMP RESTORE HELP), FCALL and
 * FCALL_RO: Redis 7.0 functions with the Lua engine (the registry and the
 * engine are in scripting/function-library.ts; functions run like EVAL
 * scripts, scripting/script-runner.ts). LOAD, DELETE, FLUSH and RESTORE
 * propagate as themselves; the effects of FCALL propagate as EVAL's do.
 * A function running past busy-reply-threshold is busy (scripting/
 * script-busy.ts): FUNCTION STATS shows it and FUNCTION KILL ends it.
 */
import type { CommandSpec, KeySpec } from '../commands/command-table.js';
import type { Session } from './session.js';
import { CommandError } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { replyHelpLines } from './server-commands.js';
import { appendDumpFooter } from '../persistence/rdb-encoder.js';
import { verifyDumpPayload } from '../persistence/rdb-decoder.js';
import { RdbReader, RdbOpcode, RdbWriter, RDB_VERSION } from '../persistence/rdb-format.js';
import { globMatch } from '../keyspace/glob.js';
import { writeGate } from './dispatch.js';
import { lua } from '../scripting/lua-vm.js';
import { runLua } from '../scripting/script-runner.js';
import { killBusyScript, runningFunction } from '../scripting/script-busy.js';
import {
  existingFunctionStore,
  flushFunctions,
  functionStore,
  libraryCodes,
  parseLibraryMetadata,
  type FunctionStore,
  type Library,
} from '../scripting/function-library.js';
import { numkeysIndexes } from '../zset/zset-common.js';

function flush(s: Session, argv: string[]): void {
  if (argv.length > 3) {
    throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try FUNCTION HELP.`);
  }
  if (argv.length === 3 && !is(argv[2]!, 'ASYNC') && !is(argv[2]!, 'SYNC')) {
    throw new CommandError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
  }
  flushFunctions(s.engine);
  s.engine.dirty++;
  s.reply.ok();
}

/** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] */
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
  const libs = [...(existingFunctionStore(s.engine)?.libraries.values() ?? [])].filter((l) => pattern === null || globMatch(pattern, l.name, true));
  const r = s.reply;
  r.arrayLen(libs.length);
  for (const lib of libs) {
    r.mapLen(withCode ? 4 : 3);
    r.bulk('library_name');
    r.bulk(lib.name);
    r.bulk('engine');
    r.bulk('LUA');
    r.bulk('functions');
    r.arrayLen(lib.functions.size);
    for (const f of lib.functions.values()) {
      r.mapLen(3);
      r.bulk('name');
      r.bulk(f.name);
      r.bulk('description');
      r.bulk(f.description);
      r.bulk('flags');
      r.setLen(f.flags.length);
      for (const flag of f.flags) r.simple(flag);
    }
    if (withCode) {
      r.bulk('library_code');
      r.bulk(lib.code);
    }
  }
}

function stats(s: Session): void {
  const store = existingFunctionStore(s.engine);
  // A busy function (BUSY while an EVAL script is busy).
  const running = runningFunction(s.engine);
  const r = s.reply;
  r.mapLen(2);
  r.bulk('running_script');
  if (running === null) r.nullBulk();
  else {
    r.mapLen(3);
    r.bulk('name');
    r.bulk(running.name);
    r.bulk('command');
    r.bulkArray(running.argv);
    r.bulk('duration_ms');
    r.int(running.durationMs);
  }
  r.bulk('engines');
  r.mapLen(1);
  r.bulk('LUA');
  r.mapLen(2);
  r.bulk('libraries_count');
  r.int(store?.libraries.size ?? 0);
  r.bulk('functions_count');
  r.int(store?.functionCount ?? 0);
}

function load(s: Session, argv: string[]): void {
  let replace = false;
  for (let i = 2; i < argv.length - 1; i++) {
    if (is(argv[i]!, 'REPLACE')) replace = true;
    else throw new CommandError(`ERR Unknown option given: ${argv[i]}`);
  }
  const name = functionStore(s.engine).load(argv[argv.length - 1]!, replace);
  s.engine.dirty++;
  s.reply.bulk(name);
}

function deleteLibrary(s: Session, argv: string[]): void {
  const store = existingFunctionStore(s.engine);
  if (store === undefined) throw new CommandError('ERR Library not found');
  store.delete(argv[2]!);
  s.engine.dirty++;
  s.reply.ok();
}

/** FUNCTION DUMP: each library as RDB_OPCODE_FUNCTION2 + its code, then the version and CRC-64 footer. */
function dump(s: Session): void {
  const w = new RdbWriter(s.engine.config.bool('rdbcompression'));
  for (const code of libraryCodes(s.engine)) {
    w.byte(RdbOpcode.FUNCTION2);
    w.string(code);
  }
  s.reply.bulkBytes(appendDumpFooter(Buffer.concat(w.take()), RDB_VERSION));
}

/** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] */
function restore(s: Session, argv: string[]): void {
  if (argv.length > 4) {
    throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try FUNCTION HELP.`);
  }
  let policy: 'FLUSH' | 'APPEND' | 'REPLACE' = 'APPEND';
  if (argv.length === 4) {
    const p = (['FLUSH', 'APPEND', 'REPLACE'] as const).find((x) => is(argv[3]!, x));
    if (p === undefined) throw new CommandError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
    policy = p;
  }
  const payload = Buffer.from(argv[2]!, 'latin1');
  if (verifyDumpPayload(payload) < 0) throw new CommandError('ERR DUMP payload version or checksum are wrong');
  const r = new RdbReader(payload.subarray(0, payload.length - 10));
  const codes: string[] = [];
  while (r.remaining > 0) {
    const type = r.u8();
    try {
      if (type === RdbOpcode.FUNCTION2) codes.push(r.string());
      else if (type === RdbOpcode.FUNCTION_PRE_GA) {
        const name = r.string();
        const engine = r.string();
        if (r.len() !== 0) r.string();
        codes.push(`#!${engine} name=${name}\n${r.string()}`);
      } else throw new CommandError('ERR given type is not a function');
    } catch (err) {
      if (err instanceof CommandError) throw err;
      throw new CommandError('ERR failed loading the given functions payload');
    }
  }
  restoreLibraries(functionStore(s.engine), codes, policy);
  s.engine.dirty++;
  s.reply.ok();
}

/** Compile every library of a payload, then join them to the registry as `policy` says; nothing changes on error. */
function restoreLibraries(store: FunctionStore, codes: string[], policy: 'FLUSH' | 'APPEND' | 'REPLACE'): void {
  const fresh: Library[] = [];
  const drop = (): void => fresh.forEach((l) => store.release(l));
  try {
    const names = new Set<string>();
    const fns = new Set<string>();
    for (const code of codes) {
      const { engine, name } = parseLibraryMetadata(code);
      if (engine.toLowerCase() !== 'lua') throw new CommandError(`ERR Engine '${engine}' not found`);
      if (names.has(name)) throw new CommandError(`ERR Library '${name}' already exists`);
      const lib = store.compile(code, name);
      fresh.push(lib);
      names.add(name);
      for (const f of lib.functions.values()) {
        const k = f.name.toLowerCase();
        if (fns.has(k)) throw new CommandError(`ERR Function ${f.name} already exists`);
        fns.add(k);
      }
    }
    const replaced: Library[] = [];
    if (policy === 'FLUSH') replaced.push(...store.libraries.values());
    else {
      for (const lib of fresh) {
        const old = store.library(lib.name);
        if (old === undefined) continue;
        if (policy === 'APPEND') throw new CommandError(`ERR Library ${lib.name} already exists`);
        replaced.push(old);
      }
    }
    for (const lib of fresh) {
      for (const f of lib.functions.values()) {
        const other = store.function(f.name);
        if (other !== undefined && !replaced.includes(other.library)) throw new CommandError(`ERR Function ${f.name} already exists`);
      }
    }
    for (const old of replaced) {
      store.unlink(old);
      store.release(old);
    }
    for (const lib of fresh) store.link(lib);
  } catch (err) {
    drop();
    throw err;
  }
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

/** FUNCTION KILL: end the busy function (script-busy.ts has Redis's refusals). */
function functionKill(s: Session): void {
  killBusyScript(s.engine, false);
  s.reply.ok();
}

/** FCALL / FCALL_RO function numkeys key... arg... */
function fcall(ro: boolean) {
  return (s: Session, argv: string[]): void => {
    const store = existingFunctionStore(s.engine);
    const fn = store?.function(argv[1]!);
    if (store === undefined || fn === undefined) throw new CommandError('ERR Function not found');
    const numkeys = longArg(argv[2]!, 'ERR Bad number of keys provided');
    if (numkeys > argv.length - 3) throw new CommandError("ERR Number of keys can't be greater than number of args");
    if (numkeys < 0) throw new CommandError("ERR Number of keys can't be negative");
    if (!fn.allowStale && writeGate.masterDown !== null && !s.obeyClient && writeGate.masterDown(s)) {
      throw new CommandError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
    }
    runLua(store.ctx, s, { push: (L) => lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, fn.ref), name: fn.name, flags: fn.scriptFlags, keysAsArgs: true }, argv, numkeys, ro);
  };
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
    handler: fcall(ro),
  };
}

export const functionCommands: CommandSpec[] = [
  {
    name: 'function', arity: -2, flags: [], ...scripting, acl: ['-scripting'], summary: 'A container for function commands', complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'restore', arity: -3, flags: ['write', 'denyoom', 'noscript'], ...scripting, tips: allShards, summary: 'Restore all the functions on the given payload', complexity: 'O(N) where N is the number of functions on the payload', handler: restore },
      { name: 'delete', arity: 3, flags: ['write', 'noscript'], ...scripting, tips: allShards, summary: 'Delete a function by name', complexity: 'O(1)', handler: deleteLibrary },
      { name: 'load', arity: -3, flags: ['write', 'denyoom', 'noscript'], ...scripting, tips: allShards, summary: 'Create a function with the given arguments (name, code, description)', complexity: 'O(1) (considering compilation time is redundant)', handler: load },
      { name: 'stats', arity: 2, flags: ['noscript', 'allow_busy'], ...scripting, tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], summary: 'Return information about the function currently running (name, description, duration)', complexity: 'O(1)', handler: stats },
      { name: 'kill', arity: 2, flags: ['noscript', 'allow_busy'], ...scripting, tips: ['request_policy:all_shards', 'response_policy:one_succeeded'], summary: 'Kill the function currently in execution.', complexity: 'O(1)', handler: functionKill },
      { name: 'dump', arity: 2, flags: ['noscript'], ...scripting, summary: 'Dump all functions into a serialized binary payload', complexity: 'O(N) where N is the number of functions', handler: dump },
      { name: 'list', arity: -2, flags: ['noscript'], ...scripting, tips: ['nondeterministic_output_order'], summary: 'List information about all the functions', complexity: 'O(N) where N is the number of functions', handler: list },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...scripting, summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (s) => replyHelpLines(s, FUNCTION_HELP) },
      { name: 'flush', arity: -2, flags: ['write', 'noscript'], ...scripting, tips: allShards, summary: 'Deleting all functions', complexity: 'O(N) where N is the number of functions deleted', handler: flush },
    ],
  },
  fcallSpec('fcall', false),
  fcallSpec('fcall_ro', true),
];
