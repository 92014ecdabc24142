/**
 * Sidecar settings for `cacheside start` and `cacheside proxy`: the JSON
 * config file, overridden by CACHESIDE_* environment variables (Kubernetes),
 * overridden by command-line flags. Errors name the field and where it came
 * from; the CLI prints them and exits 1.
 *
 * Config file (JSON):
 *   { "upstream": "http://api:3000", "ttl": 60, "staleWhileRevalidate": 30, "staleIfError": 300,
 *     "httpPort": 8080, "httpBind": "0.0.0.0", "purgeToken": "...", "engine": "redis://cache:6379",
 *     "logLevel": "info", "l1MaxBytes": 67108864, "keyPrefix": "cs:", "lockTtl": 15000, "lockWait": 5000,
 *     "routes": [ { "prefix": "/api/", "upstream": "...", "ttl": 30, "query": ["id"], "keyHeaders": ["accept-language"],
 *                   "tags": ["api"], "maxObjectSize": 1048576, "setCookie": "bypass", "stripPrefix": false, ... } ] }
 * Top-level upstream/ttl/staleWhileRevalidate/staleIfError/keep/maxObjectSize/timeout are defaults for every
 * route, and make the default route "/" when no route has that prefix.
 */
import { readFileSync } from 'node:fs';
import { ConfigFieldError, num, parseRoute, parseUpstream, type Route, type RouteDefaults } from './routes.js';

export interface SidecarSettings {
  routes: Route[];
  /** No upstream anywhere: `start` runs the demo upstream. */
  demo: boolean;
  /** Top-level route defaults (the demo route uses them). */
  routeDefaults: RouteDefaults;
  httpPort: number;
  httpBind: string;
  purgeToken: string | null;
  /** Shared engine URL (proxy mode). */
  engine: string;
  logLevel: string;
  l1MaxBytes: number;
  keyPrefix: string;
  lockTtl: number;
  lockWait: number;
}

/** Sidecar flags → config field. Each takes exactly one value. */
export const SIDECAR_FLAGS: Record<string, string> = {
  upstream: 'upstream',
  ttl: 'ttl',
  'stale-while-revalidate': 'staleWhileRevalidate',
  'stale-if-error': 'staleIfError',
  'http-port': 'httpPort',
  'http-bind': 'httpBind',
  config: 'config',
  'purge-token': 'purgeToken',
  engine: 'engine',
  'log-level': 'logLevel',
  'l1-max-bytes': 'l1MaxBytes',
  'key-prefix': 'keyPrefix',
};

/** Environment variables → config field. */
export const SIDECAR_ENV: Record<string, string> = {
  CACHESIDE_UPSTREAM: 'upstream',
  CACHESIDE_TTL: 'ttl',
  CACHESIDE_STALE_WHILE_REVALIDATE: 'staleWhileRevalidate',
  CACHESIDE_STALE_IF_ERROR: 'staleIfError',
  CACHESIDE_HTTP_PORT: 'httpPort',
  CACHESIDE_HTTP_BIND: 'httpBind',
  CACHESIDE_CONFIG: 'config',
  CACHESIDE_PURGE_TOKEN: 'purgeToken',
  CACHESIDE_ENGINE: 'engine',
  CACHESIDE_LOG_LEVEL: 'logLevel',
  CACHESIDE_L1_MAX_BYTES: 'l1MaxBytes',
  CACHESIDE_KEY_PREFIX: 'keyPrefix',
};

const TOP_FIELDS = new Set([
  'upstream',
  'ttl',
  'staleWhileRevalidate',
  'staleIfError',
  'keep',
  'maxObjectSize',
  'timeout',
  'httpPort',
  'httpBind',
  'purgeToken',
  'engine',
  'logLevel',
  'l1MaxBytes',
  'keyPrefix',
  'lockTtl',
  'lockWait',
  'routes',
]);

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Take the sidecar's own flags out of a command line; what remains is for
 * the engine (`start`) or must be empty (`proxy`). Accepts `--flag value`
 * and `--flag=value`.
 */
export function extractSidecarFlags(args: string[]): { flags: Record<string, string>; rest: string[] } {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/i.exec(a);
    const field = m ? SIDECAR_FLAGS[m[1]!.toLowerCase()] : undefined;
    if (m === null || field === undefined) {
      rest.push(a);
      continue;
    }
    let v = m[2];
    if (v === undefined) {
      v = args[i + 1];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new ConfigFieldError(`config: ${field} (from --${m[1]}): missing value`);
      i++;
    }
    flags[field] = v;
  }
  return { flags, rest };
}

export function resolveSettings(opts: { flags: Record<string, string>; env?: NodeJS.ProcessEnv; mode: 'start' | 'proxy' }): SidecarSettings {
  const env = opts.env ?? process.env;
  const envValues: Record<string, string> = {};
  const envNames: Record<string, string> = {};
  for (const [name, field] of Object.entries(SIDECAR_ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      envValues[field] = v;
      envNames[field] = name;
    }
  }
  const flagNames: Record<string, string> = {};
  for (const [flag, field] of Object.entries(SIDECAR_FLAGS)) flagNames[field] = `--${flag}`;

  const configPath = opts.flags.config ?? envValues.config;
  let file: Record<string, unknown> = {};
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (e) {
      throw new ConfigFieldError(`config: cannot read config file '${configPath}': ${(e as Error).message}`);
    }
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigFieldError(`config: ${configPath} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigFieldError(`config: ${configPath}: expected a JSON object at the top level`);
    for (const k of Object.keys(file)) if (!TOP_FIELDS.has(k)) throw new ConfigFieldError(`config: ${k} (in ${configPath}): unknown field (known: ${[...TOP_FIELDS].join(', ')})`);
  }
  /** The winning value of a field and a label naming where it came from. */
  const pick = (field: string): { v: unknown; where: string } | undefined => {
    if (opts.flags[field] !== undefined) return { v: opts.flags[field], where: `${field} (from ${flagNames[field]})` };
    if (envValues[field] !== undefined) return { v: envValues[field], where: `${field} (from ${envNames[field]})` };
    if (file[field] !== undefined) return { v: file[field], where: `${field} (in ${configPath})` };
    return undefined;
  };
  const number = (field: string, o: { min?: number; integer?: boolean; max?: number } = {}): number | undefined => {
    const p = pick(field);
    if (p === undefined) return undefined;
    const n = num({ [field]: p.v }, field, p.where, o);
    if (n !== undefined && o.max !== undefined && n > o.max) throw new ConfigFieldError(`config: ${p.where}: expected a number <= ${o.max}, got ${JSON.stringify(p.v)}`);
    return n;
  };
  const string = (field: string): string | undefined => {
    const p = pick(field);
    if (p === undefined) return undefined;
    if (typeof p.v !== 'string') throw new ConfigFieldError(`config: ${p.where}: expected a string, got ${JSON.stringify(p.v)}`);
    return p.v;
  };

  const up = pick('upstream');
  const defaults: RouteDefaults = {
    upstream: up === undefined ? null : parseUpstream(up.v, up.where),
    ttl: number('ttl', { min: 0 }) ?? null,
    staleWhileRevalidate: number('staleWhileRevalidate', { min: 0 }),
    staleIfError: number('staleIfError', { min: 0 }),
    keep: number('keep', { min: 0 }),
    maxObjectSize: number('maxObjectSize', { min: 0, integer: true }),
    timeout: number('timeout', { min: 0.001 }),
  };
  const routesRaw = file.routes;
  if (routesRaw !== undefined && !Array.isArray(routesRaw)) throw new ConfigFieldError(`config: routes (in ${configPath}): expected an array of route objects`);
  const routes = ((routesRaw as unknown[] | undefined) ?? []).map((r, i) => parseRoute(r, `routes[${i}] (in ${configPath})`, defaults, opts.mode === 'proxy' || defaults.upstream !== null));
  let demo = false;
  if (!routes.some((r) => r.prefix === '/')) {
    if (defaults.upstream !== null) routes.push(parseRoute({ prefix: '/', name: 'default' }, 'default route', defaults));
    else if (routes.length === 0) {
      if (opts.mode === 'proxy') throw new ConfigFieldError('config: upstream: missing (use --upstream URL, CACHESIDE_UPSTREAM, or a config file with routes)');
      demo = true;
    }
  }
  if (routes.some((r) => r.upstream === null)) {
    const bad = routes.findIndex((r) => r.upstream === null);
    throw new ConfigFieldError(`config: routes[${bad}].upstream: missing (set it on the route, at the top level, with --upstream or CACHESIDE_UPSTREAM)`);
  }
  const logLevel = string('logLevel') ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigFieldError(`config: ${pick('logLevel')!.where}: expected one of ${[...LOG_LEVELS].join(', ')}, got ${JSON.stringify(logLevel)}`);
  const engine = string('engine') ?? 'redis://127.0.0.1:6379';
  if (opts.mode === 'proxy' && !/^rediss?(\+cluster|\+sentinel)?:\/\//.test(engine)) {
    throw new ConfigFieldError(`config: ${pick('engine')?.where ?? 'engine'}: expected a redis://, redis+cluster:// or redis+sentinel:// URL, got ${JSON.stringify(engine)}`);
  }
  return {
    routes,
    demo,
    routeDefaults: defaults,
    httpPort: number('httpPort', { min: 0, max: 65535, integer: true }) ?? 8080,
    httpBind: string('httpBind') ?? '0.0.0.0',
    purgeToken: string('purgeToken') ?? null,
    engine,
    logLevel,
    l1MaxBytes: number('l1MaxBytes', { min: 0, integer: true }) ?? 64 * 1024 * 1024,
    keyPrefix: string('keyPrefix') ?? 'cs:',
    lockTtl: number('lockTtl', { min: 1, integer: true }) ?? 15_000,
    lockWait: number('lockWait', { min: 1, integer: true }) ?? 5_000,
  };
}
