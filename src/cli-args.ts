/**
 * Command-line parsing shared by `cacheside server` and `cacheside start`:
 * `[path/redis.conf] [--directive value ...]`, the same form as redis-server.
 * A directive may take several values (`--save 900 1 300 10`) until the next
 * `--name`; `--save ""` passes an empty value. Grouping follows redis-server.
 */
import { ConfigStore, ConfigError } from './config/config-store.js';
import { SPECIAL_DIRECTIVES, MULTI_ARG_DIRECTIVES } from './config/config-table.js';
import { splitArgs } from './protocol/resp-parser.js';

export interface ParsedArgs {
  configFile: string | null;
  directives: { name: string; values: string[] }[];
}

/** How Redis quotes an option value in the line it builds from the command line. */
function quoteValue(v: string): string {
  let out = '"';
  for (const ch of v) {
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return out + '"';
}

/**
 * Group the arguments the way redis-server does: `--name` starts a directive
 * unless the previous one has no value yet (so `--port --bla` gives port the
 * value "--bla"); "--name value" in one argument carries its value(s); a
 * bare `--save` followed by another `--name` or last means `save ""`;
 * values before any `--name` form a directive of their own (`loglevel verbose`).
 */
export function splitCommandLine(args: string[]): ParsedArgs {
  let configFile: string | null = null;
  let i = 0;
  if (args.length > 0 && !args[0]!.startsWith('--')) {
    configFile = args[0]!;
    i = 1;
  }
  const directives: ParsedArgs['directives'] = [];
  let handledLast = true;
  let loose: string[] | null = null;
  const flushLoose = (): void => {
    if (loose === null) return;
    directives.push({ name: loose[0]!.toLowerCase(), values: loose.slice(1) });
    loose = null;
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (handledLast && a.startsWith('--')) {
      flushLoose();
      const words = splitArgs(a.slice(2)) ?? [a.slice(2)];
      if (words.length > 1) {
        directives.push({ name: words[0]!.toLowerCase(), values: words.slice(1) });
        continue;
      }
      const name = (words[0] ?? '').toLowerCase();
      directives.push({ name, values: [] });
      handledLast = false;
      if (name === 'save' && (i === args.length - 1 || args[i + 1]!.startsWith('--'))) {
        directives[directives.length - 1]!.values.push('');
        handledLast = true;
      }
    } else {
      handledLast = true;
      const last = directives[directives.length - 1];
      if (last === undefined || loose !== null) {
        (loose ??= []).push(a);
      } else last.values.push(a);
    }
  }
  flushLoose();
  return { configFile, directives };
}

/** Apply a parsed command line to a config store; errors name the option. */
export function applyCommandLine(config: ConfigStore, parsed: ParsedArgs, skip: ReadonlySet<string> = new Set()): void {
  if (parsed.configFile !== null) {
    config.configFile = parsed.configFile;
    config.loadFile(parsed.configFile);
  }
  for (const d of parsed.directives) {
    if (skip.has(d.name)) continue;
    // The directive as Redis's error shows it: `port "6379" "6380"`.
    const line = d.name + d.values.map((v) => ' ' + quoteValue(v)).join('');
    // `--user name rules...` declares a user, as a `user` line of the config file would.
    if (d.name === 'user' && d.values.length > 0) {
      config.userDirectives.push(d.values);
      continue;
    }
    if (SPECIAL_DIRECTIVES.has(d.name) || !config.def(d.name)) {
      throw new ConfigError(`*** FATAL CONFIG ERROR ***\n>>> '${line}'\nBad directive or wrong number of arguments (unknown option '--${d.name}')`);
    }
    try {
      // Single-argument directives take exactly one value (Redis's "wrong number of arguments").
      if (!MULTI_ARG_DIRECTIVES.has(config.def(d.name)!.name) && d.values.length !== 1) throw new ConfigError('wrong number of arguments');
      config.set(d.name, d.values.join(' '), true);
    } catch (e) {
      throw new ConfigError(`*** FATAL CONFIG ERROR ***\n>>> '${line}'\n${(e as Error).message}`);
    }
  }
}
