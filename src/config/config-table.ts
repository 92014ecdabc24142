/**
 * The one config table, keyed by redis.conf names. It drives the config file,
 * `--name value` flags, CONFIG GET/SET/REWRITE and INFO.
 *
 * `effect: false` marks directives Redis knows that cacheside accepts (so a
 * Redis 7 redis.conf loads unchanged), shows in CONFIG GET and lets CONFIG SET
 * change, but that have no effect here; they are logged once at start-up.
 */
import { statSync } from 'node:fs';

export type ConfigType = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'save' | 'obuf' | 'bind' | 'keyspace-events' | 'percentiles';

export interface ConfigDef {
  name: string;
  alias?: string;
  type: ConfigType;
  /** Default as written in redis.conf. */
  default: string;
  enumValues?: readonly string[];
  min?: number;
  max?: number;
  /** CONFIG SET refuses it ("can't set immutable config"). */
  immutable?: boolean;
  /** CONFIG SET refuses it unless enable-protected-configs allows ("can't set protected config"). */
  protected?: boolean;
  /** Numbers accepted in [min, max] but stored clamped to this range (hz: 0..INT_MAX used as 1..500). */
  clamp?: readonly [number, number];
  /** Extra validation of a value that passed its type's: Redis's error reason, or null when valid. */
  check?: (raw: string) => string | null;
  /** Not listed by CONFIG GET globs, only by exact name (Redis's DEBUG_CONFIG directives). */
  hidden?: boolean;
  /** Accepted and stored, but cacheside does not act on it. */
  effect?: false;
  /** A secret: redacted from SLOWLOG / MONITOR in CONFIG SET, not written by REWRITE when empty. */
  sensitive?: boolean;
  /** For enums: a space-separated set of the values (shutdown-on-sigterm "nosave now"). */
  multi?: boolean;
  /** For memory values: also accept a percentage (maxmemory-clients). */
  percent?: boolean;
}

const MB = 1024 * 1024;
const GB = 1024 * MB;
const LLMAX = Number.MAX_SAFE_INTEGER;

const yesno = (name: string, def: 'yes' | 'no', extra: Partial<ConfigDef> = {}): ConfigDef => ({ name, type: 'bool', default: def, ...extra });
const int = (name: string, def: number, min: number, max: number, extra: Partial<ConfigDef> = {}): ConfigDef => ({ name, type: 'int', default: String(def), min, max, ...extra });
const mem = (name: string, def: string, extra: Partial<ConfigDef> = {}): ConfigDef => ({ name, type: 'memory', default: def, min: 0, max: LLMAX, ...extra });
const str = (name: string, def: string, extra: Partial<ConfigDef> = {}): ConfigDef => ({ name, type: 'string', default: def, ...extra });
const oneOf = (name: string, def: string, values: readonly string[], extra: Partial<ConfigDef> = {}): ConfigDef => ({ name, type: 'enum', default: def, enumValues: values, ...extra });
const noEffect = { effect: false } as const;
const SHUTDOWN_FLAGS = ['default', 'save', 'nosave', 'now', 'force'] as const;

/** dbfilename / appendfilename / appenddirname name a file in `dir`, not a path. */
function isPath(v: string): boolean {
  return v.includes('/') || v.includes('\\');
}

/** dir must be an existing directory (Redis chdirs there). */
function checkDir(v: string): string | null {
  try {
    return statSync(v).isDirectory() ? null : 'Not a directory';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
  }
}

/** oom-score-adj-values: three integers in -2000..2000. */
function checkOomScoreAdjValues(raw: string): string | null {
  const parts = raw.split(' ');
  if (parts.length !== 3) return 'wrong number of arguments';
  for (const p of parts) {
    if (!/^-?\d+$/.test(p) || Number(p) < -2000 || Number(p) > 2000) return 'Invalid oom-score-adj-values, elements must be between -2000 and 2000.';
  }
  return null;
}

/** proc-title-template: not empty, braces balanced, only known {variables}. */
function checkProcTitle(raw: string): string | null {
  const known = ['{title}', '{listen-addr}', '{server-mode}', '{port}', '{tls-port}', '{unixsocket}', '{config-file}'];
  const stripped = raw.replace(/\{[^{}]*\}/g, (v) => (known.includes(v) ? '' : '\0'));
  if (raw.trim() === '' || /[{}\0]/.test(stripped)) return 'template format is invalid or contains unknown variables';
  return null;
}

export const CONFIG_TABLE: readonly ConfigDef[] = [
  // ---- network -------------------------------------------------------------
  { name: 'bind', type: 'bind', default: '* -::*' },
  int('port', 6379, 0, 65535),
  yesno('protected-mode', 'yes'),
  int('tcp-backlog', 511, 0, 65535, { immutable: true }),
  int('timeout', 0, 0, 2147483647),
  int('tcp-keepalive', 300, 0, 2147483647),
  int('maxclients', 10000, 1, 2147483647),
  str('requirepass', '', { sensitive: true }),
  str('unixsocket', '', { immutable: true }),
  int('unixsocketperm', 0, 0, 0o777, { immutable: true, ...noEffect }),
  str('bind-source-addr', ''),
  int('socket-mark-id', 0, 0, 4294967295, { immutable: true, ...noEffect }),
  int('tls-port', 0, 0, 65535, noEffect),
  str('tls-cert-file', '', noEffect),
  str('tls-key-file', '', noEffect),
  str('tls-key-file-pass', '', { sensitive: true, ...noEffect }),
  str('tls-client-cert-file', '', noEffect),
  str('tls-client-key-file', '', noEffect),
  str('tls-client-key-file-pass', '', { sensitive: true, ...noEffect }),
  str('tls-dh-params-file', '', noEffect),
  str('tls-ca-cert-file', '', noEffect),
  str('tls-ca-cert-dir', '', noEffect),
  str('tls-protocols', '', noEffect),
  str('tls-ciphers', '', noEffect),
  str('tls-ciphersuites', '', noEffect),
  oneOf('tls-auth-clients', 'yes', ['no', 'yes', 'optional'], noEffect),
  yesno('tls-replication', 'no', noEffect),
  yesno('tls-cluster', 'no', noEffect),
  yesno('tls-prefer-server-ciphers', 'no', noEffect),
  yesno('tls-session-caching', 'yes', noEffect),
  int('tls-session-cache-size', 20480, 0, 2147483647, noEffect),
  int('tls-session-cache-timeout', 300, 0, 2147483647, noEffect),
  // ---- general -------------------------------------------------------------
  int('databases', 16, 1, 2147483647, { immutable: true }),
  int('hz', 10, 0, 2147483647, { clamp: [1, 500] }),
  yesno('dynamic-hz', 'yes'),
  oneOf('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning']),
  str('logfile', '', { immutable: true }),
  str('pidfile', '', { immutable: true }),
  yesno('daemonize', 'no', { immutable: true, ...noEffect }),
  oneOf('supervised', 'no', ['upstart', 'systemd', 'auto', 'no'], { immutable: true, ...noEffect }),
  yesno('syslog-enabled', 'no', { immutable: true, ...noEffect }),
  str('syslog-ident', 'redis', { immutable: true, ...noEffect }),
  oneOf('syslog-facility', 'local0', ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'], { immutable: true, ...noEffect }),
  yesno('always-show-logo', 'no', { immutable: true }),
  yesno('set-proc-title', 'yes', { immutable: true, ...noEffect }),
  str('proc-title-template', '{title} {listen-addr} {server-mode}', { check: checkProcTitle, ...noEffect }),
  str('server_cpulist', '', { immutable: true, ...noEffect }),
  str('bio_cpulist', '', { immutable: true, ...noEffect }),
  str('aof_rewrite_cpulist', '', { immutable: true, ...noEffect }),
  str('bgsave_cpulist', '', { immutable: true, ...noEffect }),
  yesno('crash-log-enabled', 'yes', noEffect),
  yesno('crash-memcheck-enabled', 'yes', noEffect),
  yesno('use-exit-on-panic', 'no', { hidden: true, ...noEffect }),
  oneOf('enable-protected-configs', 'no', ['no', 'yes', 'local'], { immutable: true }),
  oneOf('enable-debug-command', 'no', ['no', 'yes', 'local'], { immutable: true }),
  oneOf('enable-module-command', 'no', ['no', 'yes', 'local'], { immutable: true, ...noEffect }),
  int('io-threads', 1, 1, 128, { immutable: true, ...noEffect }),
  yesno('io-threads-do-reads', 'no', { immutable: true, ...noEffect }),
  str('locale-collate', '', noEffect),
  str('ignore-warnings', '', noEffect),
  int('shutdown-timeout', 10, 0, 2147483647),
  oneOf('shutdown-on-sigint', 'default', SHUTDOWN_FLAGS, { multi: true, ...noEffect }),
  oneOf('shutdown-on-sigterm', 'default', SHUTDOWN_FLAGS, { multi: true, ...noEffect }),
  oneOf('oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute'], noEffect),
  str('oom-score-adj-values', '0 200 800', { check: checkOomScoreAdjValues, ...noEffect }),
  yesno('disable-thp', 'yes', { immutable: true, ...noEffect }),
  yesno('jemalloc-bg-thread', 'yes', noEffect),
  // ---- limits and protocol ---------------------------------------------------
  mem('proto-max-bulk-len', '512mb', { min: 1024 * 1024 }),
  mem('client-query-buffer-limit', '1gb', { min: 1024 * 1024 }),
  { name: 'client-output-buffer-limit', type: 'obuf', default: 'normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60' },
  mem('maxmemory-clients', '0', { percent: true }),
  int('tracking-table-max-keys', 1000000, 0, LLMAX),
  // ---- keyspace --------------------------------------------------------------
  { name: 'notify-keyspace-events', type: 'keyspace-events', default: '' },
  int('active-expire-effort', 1, 1, 10),
  yesno('activerehashing', 'yes', noEffect),
  yesno('lazyfree-lazy-eviction', 'no', noEffect),
  yesno('lazyfree-lazy-expire', 'no', noEffect),
  yesno('lazyfree-lazy-server-del', 'no', noEffect),
  yesno('lazyfree-lazy-user-del', 'no', noEffect),
  yesno('lazyfree-lazy-user-flush', 'no', noEffect),
  yesno('replica-lazy-flush', 'no', { alias: 'slave-lazy-flush', ...noEffect }),
  // ---- memory and eviction ----------------------------------------------------
  mem('maxmemory', '0'),
  oneOf('maxmemory-policy', 'noeviction', [
    'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl',
    'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction',
  ]),
  int('maxmemory-samples', 5, 1, 2147483647),
  int('maxmemory-eviction-tenacity', 10, 0, 100),
  int('lfu-log-factor', 10, 0, 2147483647),
  int('lfu-decay-time', 1, 0, 2147483647),
  yesno('activedefrag', 'no', noEffect),
  int('active-defrag-cycle-min', 1, 1, 99, noEffect),
  int('active-defrag-cycle-max', 25, 1, 99, noEffect),
  mem('active-defrag-ignore-bytes', '100mb', { min: 1, ...noEffect }),
  int('active-defrag-threshold-lower', 10, 0, 1000, noEffect),
  int('active-defrag-threshold-upper', 100, 0, 1000, noEffect),
  int('active-defrag-max-scan-fields', 1000, 1, LLMAX, noEffect),
  // ---- encodings (thresholds Redis uses to pick OBJECT ENCODING names) ----------
  // 512: redis-server 7.0's built-in default (its sample redis.conf says 128).
  int('hash-max-listpack-entries', 512, 0, LLMAX, { alias: 'hash-max-ziplist-entries' }),
  mem('hash-max-listpack-value', '64', { alias: 'hash-max-ziplist-value' }),
  int('list-max-listpack-size', -2, -2147483648, 2147483647, { alias: 'list-max-ziplist-size' }),
  int('list-compress-depth', 0, 0, 2147483647, noEffect),
  int('set-max-intset-entries', 512, 0, LLMAX),
  int('set-max-listpack-entries', 128, 0, LLMAX),
  int('set-max-listpack-value', 64, 0, LLMAX),
  int('zset-max-listpack-entries', 128, 0, LLMAX, { alias: 'zset-max-ziplist-entries' }),
  mem('zset-max-listpack-value', '64', { alias: 'zset-max-ziplist-value' }),
  mem('hll-sparse-max-bytes', '3000'),
  mem('stream-node-max-bytes', '4096'),
  int('stream-node-max-entries', 100, 0, LLMAX),
  // ---- persistence -------------------------------------------------------------
  { name: 'save', type: 'save', default: '3600 1 300 100 60 10000' },
  str('dbfilename', 'dump.rdb', { protected: true, check: (v) => (isPath(v) ? "dbfilename can't be a path, just a filename" : null) }),
  str('dir', '.', { protected: true, check: checkDir }),
  yesno('rdbcompression', 'yes'),
  yesno('rdbchecksum', 'yes', { immutable: true }),
  yesno('stop-writes-on-bgsave-error', 'yes'),
  yesno('rdb-del-sync-files', 'no', noEffect),
  yesno('rdb-save-incremental-fsync', 'yes', noEffect),
  int('rdb-key-save-delay', 0, -LLMAX, LLMAX, { hidden: true }),
  int('key-load-delay', 0, -LLMAX, LLMAX, { hidden: true }),
  int('loading-process-events-interval-bytes', 2 * MB, 1024, 2147483647, { hidden: true, ...noEffect }),
  oneOf('sanitize-dump-payload', 'no', ['no', 'yes', 'clients']),
  yesno('appendonly', 'no'),
  str('appendfilename', 'appendonly.aof', { immutable: true, check: (v) => (isPath(v) ? "appendfilename can't be a path, just a filename" : null) }),
  str('appenddirname', 'appendonlydir', { immutable: true, check: (v) => (isPath(v) ? "appenddirname can't be a path, just a dirname" : null) }),
  oneOf('appendfsync', 'everysec', ['everysec', 'always', 'no']),
  yesno('no-appendfsync-on-rewrite', 'no'),
  int('auto-aof-rewrite-percentage', 100, 0, 2147483647),
  mem('auto-aof-rewrite-min-size', '64mb'),
  yesno('aof-load-truncated', 'yes'),
  yesno('aof-use-rdb-preamble', 'yes'),
  yesno('aof-rewrite-incremental-fsync', 'yes', noEffect),
  yesno('aof-timestamp-enabled', 'no'),
  yesno('aof-disable-auto-gc', 'no', noEffect),
  // ---- replication ---------------------------------------------------------------
  str('replicaof', '', { alias: 'slaveof', immutable: true, check: checkReplicaOf }),
  str('masterauth', '', { sensitive: true }),
  str('masteruser', ''),
  yesno('replica-serve-stale-data', 'yes', { alias: 'slave-serve-stale-data' }),
  yesno('replica-read-only', 'yes', { alias: 'slave-read-only' }),
  yesno('repl-diskless-sync', 'yes'),
  int('repl-diskless-sync-delay', 5, 0, 2147483647),
  int('repl-diskless-sync-max-replicas', 0, 0, 2147483647),
  oneOf('repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb']),
  int('repl-ping-replica-period', 10, 1, 2147483647, { alias: 'repl-ping-slave-period' }),
  int('repl-timeout', 60, 1, 2147483647),
  yesno('repl-disable-tcp-nodelay', 'no'),
  mem('repl-backlog-size', '1mb', { min: 1, clamp: [16 * 1024, LLMAX] }),
  int('repl-backlog-ttl', 3600, 0, LLMAX),
  int('replica-priority', 100, 0, 2147483647, { alias: 'slave-priority' }),
  yesno('replica-announced', 'yes'),
  str('replica-announce-ip', '', { alias: 'slave-announce-ip' }),
  int('replica-announce-port', 0, 0, 65535, { alias: 'slave-announce-port' }),
  int('min-replicas-to-write', 0, 0, 2147483647, { alias: 'min-slaves-to-write' }),
  int('min-replicas-max-lag', 10, 0, 2147483647, { alias: 'min-slaves-max-lag' }),
  yesno('replica-ignore-maxmemory', 'yes', { alias: 'slave-ignore-maxmemory' }),
  oneOf('propagation-error-behavior', 'ignore', ['ignore', 'panic', 'panic-on-replicas'], noEffect),
  yesno('replica-ignore-disk-write-errors', 'no', noEffect),
  // ---- scripting, slowlog, latency, ACL ---------------------------------------------
  int('busy-reply-threshold', 5000, 0, LLMAX, { alias: 'lua-time-limit' }),
  int('slowlog-log-slower-than', 10000, -1, LLMAX),
  int('slowlog-max-len', 128, 0, LLMAX),
  int('latency-monitor-threshold', 0, 0, LLMAX),
  yesno('latency-tracking', 'yes'),
  { name: 'latency-tracking-info-percentiles', type: 'percentiles', default: '50 99 99.9' },
  int('acllog-max-len', 128, 0, LLMAX),
  str('aclfile', '', { immutable: true }),
  oneOf('acl-pubsub-default', 'resetchannels', ['allchannels', 'resetchannels'], noEffect),
  // ---- cluster (accepted, no effect: cacheside is not a cluster node) ---------------
  yesno('cluster-enabled', 'no', { immutable: true, ...noEffect }),
  str('cluster-config-file', 'nodes.conf', { immutable: true, ...noEffect }),
  int('cluster-node-timeout', 15000, 0, LLMAX, noEffect),
  int('cluster-port', 0, 0, 65535, { immutable: true, ...noEffect }),
  yesno('cluster-require-full-coverage', 'yes', noEffect),
  yesno('cluster-allow-reads-when-down', 'no', noEffect),
  yesno('cluster-allow-pubsubshard-when-down', 'yes', noEffect),
  int('cluster-migration-barrier', 1, 0, 2147483647, noEffect),
  yesno('cluster-allow-replica-migration', 'yes', noEffect),
  int('cluster-replica-validity-factor', 10, 0, 2147483647, { alias: 'cluster-slave-validity-factor', ...noEffect }),
  yesno('cluster-replica-no-failover', 'no', { alias: 'cluster-slave-no-failover', ...noEffect }),
  str('cluster-announce-ip', '', noEffect),
  int('cluster-announce-port', 0, 0, 65535, noEffect),
  int('cluster-announce-bus-port', 0, 0, 65535, noEffect),
  int('cluster-announce-tls-port', 0, 0, 65535, noEffect),
  str('cluster-announce-hostname', '', noEffect),
  oneOf('cluster-preferred-endpoint-type', 'ip', ['ip', 'hostname', 'unknown-endpoint'], noEffect),
  mem('cluster-link-sendbuf-limit', '0', noEffect),
];

/** Directives that appear in redis.conf but are not plain name/value pairs. */
export const SPECIAL_DIRECTIVES = new Set(['include', 'rename-command', 'user', 'loadmodule', 'sentinel']);

/** Directives that take several arguments (Redis's MULTI_ARG_CONFIG); every other one takes exactly one. */
export const MULTI_ARG_DIRECTIVES = new Set([
  'save', 'client-output-buffer-limit', 'oom-score-adj-values', 'bind', 'replicaof',
  'latency-tracking-info-percentiles', 'shutdown-on-sigint', 'shutdown-on-sigterm',
]);

/** replicaof from a file or the command line: `<host> <port>` or `no one`. */
function checkReplicaOf(raw: string): string | null {
  const parts = raw.split(' ').filter((p) => p !== '');
  if (raw === '') return null;
  if (parts.length !== 2) return 'wrong number of arguments';
  if (parts[0]!.toLowerCase() === 'no' && parts[1]!.toLowerCase() === 'one') return null;
  const port = /^-?\d+$/.test(parts[1]!) ? Number(parts[1]) : NaN;
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? null : 'Invalid master port';
}

export { MB, GB };
