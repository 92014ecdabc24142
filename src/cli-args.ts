/**
 * Command-line parsing shared by `cacheside server` and `cacheside start`:
 * `[path/redis.conf] [--directive value ...]`, the same form as redis-server.
 * A directive may take several values (`--save 900 1 300 10`) until the next
 * `--name`; `--save ""` passes an empty value.
 */
import { ConfigStore, ConfigError } from './config/config-store.js';
import { SPECIAL_DIRECTIVES } from './config/config-table.js';

export interface ParsedArgs {
  configFile: string | null;
  directives: { name: string; values: string[] }[];
}

export function splitCommandLine(args: string[]): ParsedArgs {
  let configFile: string | null = null;
  let i = 0;
  if (args.length > 0 && !args[0]!.startsWith('--')) {
    configFile = args[0]!;
    i = 1;
  }
  const directives: { name: string; values: string[] }[] = [];
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--') && a.length > 2) directives.push({ name: a.slice(2).toLowerCase(), values: [] });
    else if (directives.length === 0) throw new ConfigError(`Invalid argument '${a}': expected a config file first or --directive value`);
    else directives[directives.length - 1]!.values.push(a);
  }
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
    const line = `--${d.name} ${d.values.join(' ')}`.trim();
    if (SPECIAL_DIRECTIVES.has(d.name) || !config.def(d.name)) {
      throw new ConfigError(`*** FATAL CONFIG ERROR ***\n>>> '${line}'\nBad directive or wrong number of arguments (unknown option '--${d.name}')`);
    }
    try {
      config.set(d.name, d.values.join(' '), true);
    } catch (e) {
      throw new ConfigError(`*** FATAL CONFIG ERROR ***\n>>> '${line}'\n${(e as Error).message}`);
    }
  }
}
