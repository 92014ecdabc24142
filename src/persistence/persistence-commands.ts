/**
 * SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF, and DEBUG RELOAD / DEBUG LOADAOF.
 * (LASTSAVE is in server-commands: it only reads engine.lastSave.)
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { is } from '../commands/args.js';
import { registerDebugSubcommand } from '../server/debug-commands.js';
import { persistenceOf } from './persistence.js';
import { setAofFlushSleep } from './aof-writer.js';
import { setSkipChecksumValidation } from './dump-restore.js';
import { AofLoadJob, newProgress, rdbFileJob, runSync, LoadError } from './loading.js';
import { readManifest } from './aof-manifest.js';
import { RdbError } from './rdb-decoder.js';
import { flushFunctions } from '../scripting/function-library.js';

function save(s: Session): void {
  const p = persistenceOf(s.engine);
  if (p.child?.type === 'rdb') throw new CommandError('ERR Background save already in progress');
  if (!p.saveSync()) throw new CommandError('ERR');
  s.reply.ok();
}

function bgsave(s: Session, argv: string[]): void {
  let schedule = false;
  if (argv.length > 1) {
    if (argv.length === 2 && is(argv[1], 'SCHEDULE')) schedule = true;
    else throw new CommandError(Err.syntax);
  }
  const p = persistenceOf(s.engine);
  if (p.child?.type === 'rdb') throw new CommandError('ERR Background save already in progress');
  if (p.child !== null || s.inExec) {
    if (schedule || s.inExec) {
      p.bgsaveScheduled = true;
      s.reply.simple('Background saving scheduled');
      return;
    }
    throw new CommandError(
      "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
    );
  }
  const err = p.startBgsave();
  if (err !== null) throw new CommandError(`ERR ${err}`);
  s.reply.simple('Background saving started');
}

function bgrewriteaof(s: Session): void {
  const p = persistenceOf(s.engine);
  if (p.child?.type === 'aof') throw new CommandError('ERR Background append only file rewriting already in progress');
  if (p.child !== null || s.inExec) {
    p.aof.rewriteScheduled = true;
    p.aof.consecutiveFailures = 0;
    s.reply.simple('Background append only file rewriting scheduled');
    return;
  }
  if (p.aof.startRewrite() !== null) {
    throw new CommandError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
  }
  s.reply.simple('Background append only file rewriting started');
}

/** Empty every database as FLUSHALL does for WATCH (without its propagation or save). */
function emptyAll(s: Session): void {
  const e = s.engine;
  for (let i = 0; i < e.dbs.length; i++) {
    const db = e.dbs[i]!;
    if (db.size === 0) continue;
    e.dbModified(i, (key) => db.slotOf(key) >= 0);
    db.clear();
  }
  flushFunctions(e);
}

function loadingError(err: unknown): string {
  if (err instanceof LoadError || err instanceof RdbError) return err.message;
  throw err;
}

/** DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]. */
function debugReload(s: Session, argv: string[]): void {
  let merge = false;
  let flush = true;
  let doSave = true;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (is(a, 'MERGE')) merge = true;
    else if (is(a, 'NOFLUSH')) flush = false;
    else if (is(a, 'NOSAVE')) doSave = false;
    else throw new CommandError('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
  }
  const e = s.engine;
  const p = persistenceOf(e);
  if (doSave && !p.saveSync()) throw new CommandError('ERR');
  if (flush) emptyAll(s);
  const progress = newProgress(0);
  const wasLoading = e.loading;
  e.loading = true;
  try {
    runSync(rdbFileJob(e, p.rdbPath, { merge }, progress));
  } catch (err) {
    e.log.warning(`DEBUG RELOAD: ${loadingError(err)}`);
    throw new CommandError('ERR Error trying to load the RDB dump, check server logs.');
  } finally {
    e.loading = wasLoading;
  }
  e.log.warning('DB reloaded by DEBUG RELOAD');
  s.preventPropagation = true;
  s.reply.ok();
}

/** DEBUG LOADAOF: flush the AOF, empty the data set, load the AOF files back. */
function debugLoadaof(s: Session): void {
  const e = s.engine;
  const p = persistenceOf(e);
  p.aof.writer?.flushAndSync();
  const m = readManifest(p.aof.dir, e.config.str('appendfilename'));
  if (m === null) throw new CommandError('ERR There is no AOF to load (no manifest in the AOF directory).');
  p.aof.reloadedManifest(m);
  emptyAll(s);
  const wasLoading = e.loading;
  e.loading = true;
  try {
    runSync(new AofLoadJob(e, p.aof.dir, m, newProgress(0)));
  } catch (err) {
    e.log.warning(`DEBUG LOADAOF: ${loadingError(err)}`);
    throw new CommandError('ERR Error trying to load the AOF files, check server logs.');
  } finally {
    e.loading = wasLoading;
  }
  // Not propagated (the data came from the AOF itself), and no change for save points.
  e.dirty = 0;
  s.preventPropagation = true;
  e.log.warning('Append Only File loaded by DEBUG LOADAOF');
  s.reply.ok();
}

registerDebugSubcommand({
  name: 'RELOAD',
  minArgs: 2,
  maxArgs: 5,
  help: [
    'RELOAD [option ...]',
    '    Save the RDB on disk and reload it back to memory. Valid <option> values:',
    '    * MERGE: conflicting keys will be loaded from RDB.',
    '    * NOFLUSH: the existing database will not be removed before load, but',
    '      conflicting keys will generate an exception and kill the server.',
    '    * NOSAVE: the database will be loaded from an existing RDB file.',
    '    Examples:',
    '    * DEBUG RELOAD: verify that the server is able to persist, flush and reload',
    '      the database.',
    '    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an',
    '      existing RDB file.',
    '    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB',
    '      file to the database.',
  ],
  handler: debugReload,
});

registerDebugSubcommand({
  name: 'LOADAOF',
  minArgs: 2,
  maxArgs: 2,
  help: ['LOADAOF', '    Flush the AOF buffers on disk and reload the AOF in memory.'],
  handler: debugLoadaof,
});

registerDebugSubcommand({
  name: 'AOF-FLUSH-SLEEP',
  minArgs: 3,
  maxArgs: 3,
  help: ['AOF-FLUSH-SLEEP <microsec>', '    Server will sleep before flushing the AOF, this is used for testing.'],
  handler: (s, argv) => {
    // Like Redis's atoi: the leading digits, 0 when there are none.
    const m = /^\s*[+-]?\d+/.exec(argv[2]!);
    setAofFlushSleep(s.engine, m === null ? 0 : Number.parseInt(m[0], 10));
    s.reply.ok();
  },
});

registerDebugSubcommand({
  name: 'SET-SKIP-CHECKSUM-VALIDATION',
  minArgs: 3,
  maxArgs: 3,
  help: ['SET-SKIP-CHECKSUM-VALIDATION <0|1>', "    Enables or disables checksum checks for RDB files and RESTORE's payload."],
  handler: (s, argv) => {
    // Like Redis's atoi: the leading digits, 0 when there are none.
    const m = /^\s*[+-]?\d+/.exec(argv[2]!);
    setSkipChecksumValidation(s.engine, m !== null && Number.parseInt(m[0], 10) !== 0);
    s.reply.ok();
  },
});

const srv = { group: 'server' } as const;
const adm = ['admin', 'noscript', 'no_async_loading'] as const;

export const persistenceCommands: CommandSpec[] = [
  {
    name: 'save',
    arity: 1,
    flags: [...adm, 'no_multi'],
    ...srv,
    summary: 'Synchronously save the dataset to disk',
    since: '1.0.0',
    complexity: 'O(N) where N is the total number of keys in all databases',
    handler: save,
  },
  {
    name: 'bgsave',
    arity: -1,
    flags: adm,
    ...srv,
    summary: 'Asynchronously save the dataset to disk',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: bgsave,
  },
  {
    name: 'bgrewriteaof',
    arity: 1,
    flags: adm,
    ...srv,
    summary: 'Asynchronously rewrite the append-only file',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: bgrewriteaof,
  },
];
