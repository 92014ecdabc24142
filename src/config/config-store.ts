/**
 * Config values, parsed from the table's types. One store serves the config
 * file, command-line `--name value` flags, CONFIG GET/SET/REWRITE and INFO.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CONFIG_TABLE, SPECIAL_DIRECTIVES, type ConfigDef } from './config-table.js';
import { splitArgs } from '../protocol/resp-parser.js';
import { globMatch } from '../keyspace/glob.js';

export type ConfigValue = string | number | boolean | SavePoint[] | ObufLimits;
export interface SavePoint { seconds: number; changes: number }
export interface ObufClassLimit { hard: number; soft: number; softSeconds: number }
export type ObufLimits = Record<'normal' | 'replica' | 'pubsub', ObufClassLimit>;

export class ConfigError extends Error {}

const NO_LIMIT: ObufClassLimit = { hard: 0, soft: 0, softSeconds: 0 };
const NO_LIMITS: ObufLimits = { normal: NO_LIMIT, replica: NO_LIMIT, pubsub: NO_LIMIT };

/** Redis's memtoull: 1k = 1000, 1kb = 1024, likewise m/mb, g/gb. */
export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb|b)?$/i.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const mul: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  const v = n * mul[(m[2] ?? '').toLowerCase()]!;
  return Number.isSafeInteger(v) ? v : null;
}

function parseBool(s: string): boolean | null {
  const l = s.toLowerCase();
  return l === 'yes' ? true : l === 'no' ? false : null;
}

const KEYSPACE_EVENT_CLASSES = 'KEg$lshzxetmdnA';

/** Validate a notify-keyspace-events flag string (Redis's keyspaceEventsStringToFlags). */
export function normalizeKeyspaceEvents(s: string): string | null {
  for (const c of s) if (!KEYSPACE_EVENT_CLASSES.includes(c)) return null;
  return s;
}

function parseSave(s: string): SavePoint[] | null {
  const parts = s.trim() === '' ? [] : s.trim().split(/\s+/);
  if (parts.length % 2 !== 0) return null;
  const out: SavePoint[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const seconds = Number(parts[i]);
    const changes = Number(parts[i + 1]);
    if (!Number.isInteger(seconds) || !Number.isInteger(changes) || seconds < 1 || changes < 0) return null;
    out.push({ seconds, changes });
  }
  return out;
}

function formatSave(v: SavePoint[]): string {
  return v.map((p) => `${p.seconds} ${p.changes}`).join(' ');
}

function parseObuf(s: string, base: ObufLimits): ObufLimits | null {
  const parts = s.trim().split(/\s+/);
  if (parts.length % 4 !== 0) return null;
  const out: ObufLimits = { normal: { ...base.normal }, replica: { ...base.replica }, pubsub: { ...base.pubsub } };
  for (let i = 0; i < parts.length; i += 4) {
    let cls = parts[i]!.toLowerCase();
    if (cls === 'slave') cls = 'replica';
    if (cls !== 'normal' && cls !== 'replica' && cls !== 'pubsub') return null;
    const hard = parseMemory(parts[i + 1]!);
    const soft = parseMemory(parts[i + 2]!);
    const secs = Number(parts[i + 3]);
    if (hard === null || soft === null || hard < 0 || soft < 0 || !Number.isInteger(secs) || secs < 0) return null;
    out[cls] = { hard, soft, softSeconds: secs };
  }
  return out;
}

function formatObuf(v: ObufLimits): string {
  const c = (n: string, l: ObufClassLimit) => `${n} ${l.hard} ${l.soft} ${l.softSeconds}`;
  return [c('normal', v.normal), c('slave', v.replica), c('pubsub', v.pubsub)].join(' ');
}

export class ConfigStore {
  private readonly defs = new Map<string, ConfigDef>();
  private readonly values = new Map<string, ConfigValue>();
  /** Directives set explicitly (from a file, flags or CONFIG SET), for REWRITE and the no-effect log. */
  readonly explicit = new Set<string>();
  /** Listeners run after a value changes (CONFIG SET, or file load before start). */
  private readonly listeners = new Map<string, ((v: ConfigValue) => void)[]>();
  configFile: string | null = null;
  readonly renamedCommands = new Map<string, string>();
  readonly includes: string[] = [];

  constructor() {
    for (const d of CONFIG_TABLE) {
      this.defs.set(d.name, d);
      if (d.alias) this.defs.set(d.alias, d);
      this.values.set(d.name, this.parse(d, d.default)!);
    }
  }

  def(name: string): ConfigDef | undefined {
    return this.defs.get(name.toLowerCase());
  }

  get(name: string): ConfigValue {
    const d = this.defs.get(name);
    if (!d) throw new Error(`unknown config ${name}`);
    return this.values.get(d.name)!;
  }
  num(name: string): number {
    return this.get(name) as number;
  }
  bool(name: string): boolean {
    return this.get(name) as boolean;
  }
  str(name: string): string {
    return this.get(name) as string;
  }

  onChange(name: string, fn: (v: ConfigValue) => void): void {
    const d = this.defs.get(name)!;
    const l = this.listeners.get(d.name) ?? [];
    l.push(fn);
    this.listeners.set(d.name, l);
  }

  /** Parse a textual value for a directive; null if invalid. */
  parse(d: ConfigDef, raw: string): ConfigValue | null {
    switch (d.type) {
      case 'bool':
        return parseBool(raw);
      case 'int': {
        if (!/^-?\d+$/.test(raw.trim())) return null;
        const n = Number(raw);
        return n < d.min! || n > d.max! ? null : n;
      }
      case 'memory': {
        if (d.percent && /^\d+%$/.test(raw)) return raw;
        const n = parseMemory(raw);
        return n === null || n < d.min! || n > d.max! ? null : n;
      }
      case 'enum': {
        const l = raw.toLowerCase();
        return d.enumValues!.includes(l) ? l : null;
      }
      case 'save':
        return parseSave(raw);
      case 'obuf':
        return parseObuf(raw, (this.values.get(d.name) as ObufLimits | undefined) ?? NO_LIMITS);
      case 'keyspace-events':
        return normalizeKeyspaceEvents(raw);
      case 'bind':
        return raw.trim() === '' ? null : raw.trim().split(/\s+/).join(' ');
      case 'string':
        return raw;
    }
  }

  /** The text CONFIG GET shows. */
  format(name: string): string {
    const d = this.defs.get(name)!;
    const v = this.values.get(d.name)!;
    switch (d.type) {
      case 'bool':
        return v ? 'yes' : 'no';
      case 'save':
        return formatSave(v as SavePoint[]);
      case 'obuf':
        return formatObuf(v as ObufLimits);
      default:
        return String(v);
    }
  }

  /**
   * Set a directive from text. Throws ConfigError with Redis's reason text.
   * `fromFile` relaxes the immutable check (files and flags may set anything).
   */
  set(name: string, raw: string, fromFile: boolean): void {
    const d = this.defs.get(name.toLowerCase());
    if (!d) throw new ConfigError('Bad directive or wrong number of arguments');
    if (!fromFile && d.immutable) throw new ConfigError("can't set immutable config");
    // `save ""` and repeated save lines: a file's save lines accumulate, as in Redis.
    let value = this.parse(d, raw);
    if (d.type === 'save' && fromFile && value !== null && raw.trim() !== '' && this.explicit.has('save')) {
      value = [...(this.values.get('save') as SavePoint[]), ...(value as SavePoint[])];
    }
    if (value === null) throw new ConfigError(this.reason(d));
    this.values.set(d.name, value);
    this.explicit.add(d.name);
    for (const fn of this.listeners.get(d.name) ?? []) fn(value);
  }

  private reason(d: ConfigDef): string {
    switch (d.type) {
      case 'bool':
        return 'argument must be \'yes\' or \'no\'';
      case 'int':
        return `argument must be between ${d.min} and ${d.max} inclusive`;
      case 'memory':
        return 'argument must be a memory value';
      case 'enum':
        return `argument(s) must be one of the following: ${d.enumValues!.join(', ')}`;
      case 'keyspace-events':
        return 'Invalid event class character. Use \'Ag$lshzxeKEtmd\'.';
      default:
        return 'Invalid argument';
    }
  }

  /** Names (canonical and alias) matching a CONFIG GET glob. */
  matching(pattern: string): string[] {
    const out: string[] = [];
    const p = pattern.toLowerCase();
    const literal = !/[*?[\\]/.test(p);
    if (literal) {
      const d = this.defs.get(p);
      return d ? [p] : [];
    }
    for (const d of CONFIG_TABLE) {
      if (globMatch(p, d.name)) out.push(d.name);
      if (d.alias && globMatch(p, d.alias)) out.push(d.alias);
    }
    return out;
  }

  /** Directives set explicitly that cacheside has no use for (logged once at start-up). */
  noEffectDirectives(): string[] {
    return [...this.explicit].filter((n) => this.defs.get(n)?.effect === false);
  }

  /** Load redis.conf text. Errors name the file and line like Redis's fatal config error. */
  loadText(text: string, file: string): void {
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '' || line.startsWith('#')) continue;
      const args = splitArgs(line);
      const fail = (msg: string): never => {
        throw new ConfigError(
          `*** FATAL CONFIG FILE ERROR ***\nReading the configuration file, at line ${i + 1} of ${file}\n>>> '${line}'\n${msg}`,
        );
      };
      if (args === null) fail('Unbalanced quotes in configuration line');
      if (args!.length === 0) continue;
      const [name0, ...rest] = args!;
      const name = name0!.toLowerCase();
      if (SPECIAL_DIRECTIVES.has(name)) {
        this.special(name, rest, file, fail);
        continue;
      }
      const d = this.defs.get(name);
      if (!d) fail('Bad directive or wrong number of arguments');
      const raw = rest.join(' ');
      if (rest.length === 0 && d!.type !== 'save' && d!.type !== 'string') fail('wrong number of arguments');
      try {
        this.set(name, raw, true);
      } catch (e) {
        fail((e as Error).message);
      }
    }
  }

  private special(name: string, args: string[], file: string, fail: (m: string) => never): void {
    switch (name) {
      case 'include': {
        if (args.length !== 1) fail('wrong number of arguments');
        const path = resolve(dirname(file), args[0]!);
        this.includes.push(path);
        this.loadFile(path);
        return;
      }
      case 'rename-command':
        if (args.length !== 2) fail('wrong number of arguments');
        this.renamedCommands.set(args[0]!.toLowerCase(), args[1]!);
        return;
      case 'user':
        fail('ACL users in the config file are not supported by cacheside yet; use requirepass');
        return;
      case 'loadmodule':
        fail('cacheside cannot load Redis modules');
        return;
      case 'sentinel':
        fail('cacheside does not run as a Sentinel');
    }
  }

  loadFile(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (e) {
      throw new ConfigError(`Fatal error, can't open config file '${path}': ${(e as Error).message}`);
    }
    this.loadText(text, path);
  }

  /**
   * CONFIG REWRITE: rewrite the config file in place, keeping comments and
   * unknown-to-us lines, replacing each explicit directive's line (or appending).
   */
  rewrite(): void {
    if (!this.configFile) throw new ConfigError('The server is running without a config file');
    let lines: string[];
    try {
      lines = readFileSync(this.configFile, 'latin1').split(/\r?\n/);
    } catch {
      lines = [];
    }
    const written = new Set<string>();
    const out: string[] = [];
    for (const line of lines) {
      const args = splitArgs(line.trim());
      const d = args && args.length > 0 && !line.trim().startsWith('#') ? this.defs.get(args[0]!.toLowerCase()) : undefined;
      if (!d) {
        if (line !== '# Generated by CONFIG REWRITE') out.push(line);
        continue;
      }
      if (written.has(d.name)) continue;
      written.add(d.name);
      if (this.isDefault(d)) continue;
      out.push(this.directiveLine(d));
    }
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    const extra = CONFIG_TABLE.filter((d) => !written.has(d.name) && !this.isDefault(d));
    if (extra.length > 0) {
      out.push('', '# Generated by CONFIG REWRITE');
      for (const d of extra) out.push(this.directiveLine(d));
    }
    const tmp = this.configFile + '.tmp-rewrite';
    writeFileSync(tmp, out.join('\n') + '\n', 'latin1');
    renameSync(tmp, this.configFile);
  }

  private isDefault(d: ConfigDef): boolean {
    return this.format(d.name) === this.format2(d, this.parse(d, d.default)!);
  }

  private format2(d: ConfigDef, v: ConfigValue): string {
    const saved = this.values.get(d.name)!;
    this.values.set(d.name, v);
    const s = this.format(d.name);
    this.values.set(d.name, saved);
    return s;
  }

  private directiveLine(d: ConfigDef): string {
    const v = this.format(d.name);
    if (d.type === 'save') {
      const pts = this.values.get('save') as SavePoint[];
      return pts.length === 0 ? 'save ""' : pts.map((p) => `save ${p.seconds} ${p.changes}`).join('\n');
    }
    if (d.type === 'obuf') {
      const o = this.values.get(d.name) as ObufLimits;
      return (['normal', 'replica', 'pubsub'] as const)
        .map((c) => `client-output-buffer-limit ${c} ${o[c].hard} ${o[c].soft} ${o[c].softSeconds}`)
        .join('\n');
    }
    const needsQuote = v === '' || /[\s"'\\]/.test(v);
    return `${d.name} ${needsQuote ? JSON.stringify(v) : v}`;
  }
}
