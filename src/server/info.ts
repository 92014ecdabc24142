/**
 * INFO: the sections and fields of Redis 7.0's INFO, filled from the engine.
 *
 * Each section builder returns an ordered field map (name → value); modules
 * that own the real data of a section (persistence, replication, eviction,
 * scripting) patch it with `extendInfoSection`, replacing values in place or
 * appending fields, so the field order stays Redis's.
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { Engine } from './engine.js';
import type { Command } from '../commands/command-table.js';
import { clock } from '../keyspace/clock.js';
import { evalMemoryInfo } from '../scripting/script-runner.js';
import { functionCounts } from '../scripting/function-library.js';
import { commandHistogram } from './latency-histogram.js';
import { installMemory, memoryOf, memoryReport } from '../memory/memory.js';
import { feedOf, isReplica } from './repl-feed.js';
import { replyBufferState } from './reply-buffer.js';
import { lazyfreeStats } from '../keyspace/lazyfree.js';

export type InfoFields = Map<string, string | number>;
export type InfoExtension = (e: Engine, fields: InfoFields) => void;

interface Section {
  /** Lowercase name, as INFO takes it. */
  name: string;
  /** Heading after "# ". */
  title: string;
  /** Part of INFO / INFO default. */
  isDefault: boolean;
  build: (e: Engine) => InfoFields;
}

const extensions = new Map<string, InfoExtension[]>();

/** Add fields to (or replace fields of) a section; `fn` runs every time the section is built. */
export function extendInfoSection(section: string, fn: InfoExtension): void {
  const l = extensions.get(section) ?? [];
  l.push(fn);
  extensions.set(section, l);
}

// ---- memory ---------------------------------------------------------------------

/**
 * used_memory: the size model of src/memory (keys, values, structure,
 * clients, start-up tables), what maxmemory bounds. O(databases) to read.
 */
export function usedMemory(e: Engine): number {
  return memoryOf(e).state.used();
}

/** Install memory accounting and eviction on an engine (createEngine calls it once). */
export function trackMemory(e: Engine): void {
  installMemory(e).state.isReplica = isReplica;
}

/** Update and return the peak. */
export function updateMemoryPeak(e: Engine, used = usedMemory(e)): number {
  return memoryOf(e).state.updatePeak(used);
}

/** Redis's bytesToHuman: 895.38K, 1.23M, ... (two decimals), bytes below 1 KiB as "123B". */
export function bytesToHuman(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

// ---- sections -----------------------------------------------------------------------

function fields(entries: [string, string | number][]): InfoFields {
  return new Map(entries);
}

const buildId = createHash('sha1').update('cacheside').digest('hex').slice(0, 16);

function executable(): string {
  const script = process.argv[1];
  return script ? resolve(script) : process.execPath;
}

function nowUsec(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

function serverSection(e: Engine): InfoFields {
  const uptime = e.uptime;
  const hz = e.config.num('hz');
  return fields([
    ['redis_version', e.redisVersion],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', buildId],
    ['redis_mode', 'standalone'],
    ['os', `${os.type()} ${os.release()} ${os.machine()}`],
    ['arch_bits', 64],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', process.platform === 'linux' ? 'epoll' : process.platform === 'win32' ? 'iocp' : 'kqueue'],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', e.runId],
    ['tcp_port', e.tcpPort],
    ['server_time_usec', nowUsec()],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', hz],
    ['configured_hz', hz],
    ['lru_clock', clock.lru],
    ['executable', executable()],
    ['config_file', e.config.configFile ? resolve(e.config.configFile) : ''],
    ['io_threads_active', 0],
  ]);
}

function clientsSection(e: Engine): InfoFields {
  let maxIn = 0;
  let maxOut = 0;
  let inTimeoutTable = 0;
  for (const s of e.sessions.values()) {
    if (s.transport !== null) {
      maxIn = Math.max(maxIn, s.transport.queryBufferBytes());
      maxOut = Math.max(maxOut, s.transport.outputBytes());
    }
    if (s.blocked !== null && s.blocked.deadline > 0) inTimeoutTable++;
  }
  return fields([
    // Replicas are not counted (the master link of a replica is).
    ['connected_clients', e.sessions.size - feedOf(e).live().length],
    ['cluster_connections', 0],
    ['maxclients', e.config.num('maxclients')],
    ['client_recent_max_input_buffer', maxIn],
    ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', e.blocking.blockedCount],
    ['tracking_clients', e.tracking.clients.size],
    ['clients_in_timeout_table', inTimeoutTable],
  ]);
}

function pct(a: number, b: number): string {
  return `${(b > 0 ? (a * 100) / b : 0).toFixed(2)}%`;
}

function ratio(a: number, b: number): string {
  return (b > 0 ? a / b : 0).toFixed(2);
}

function memorySection(e: Engine): InfoFields {
  const r = memoryReport(e);
  const { used, peak, startup, overhead, dataset, allocated, active, resident, rss, maxmemory } = r;
  const total = r.totalSystemMemory;
  const ev = evalMemoryInfo(e);
  const f = fields([
    ['used_memory', used],
    ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', rss],
    ['used_memory_rss_human', bytesToHuman(rss)],
    ['used_memory_peak', peak],
    ['used_memory_peak_human', bytesToHuman(peak)],
    ['used_memory_peak_perc', pct(used, peak)],
    ['used_memory_overhead', overhead],
    ['used_memory_startup', startup],
    ['used_memory_dataset', dataset],
    ['used_memory_dataset_perc', pct(dataset, used - startup)],
    ['allocator_allocated', allocated],
    ['allocator_active', active],
    ['allocator_resident', resident],
    ['total_system_memory', total],
    ['total_system_memory_human', bytesToHuman(total)],
    ['used_memory_lua', ev.vm],
    ['used_memory_vm_eval', ev.vm],
    ['used_memory_lua_human', bytesToHuman(ev.vm)],
    ['used_memory_scripts_eval', ev.scripts],
    ['number_of_cached_scripts', ev.count],
    ['number_of_functions', functionCounts(e).functions],
    ['number_of_libraries', functionCounts(e).libraries],
    ['used_memory_vm_functions', 0],
    ['used_memory_vm_total', 0],
    ['used_memory_vm_total_human', '0B'],
    ['used_memory_functions', 0],
    ['used_memory_scripts', 0],
    ['used_memory_scripts_human', '0B'],
    ['maxmemory', maxmemory],
    ['maxmemory_human', bytesToHuman(maxmemory)],
    ['maxmemory_policy', r.policy],
    ['allocator_frag_ratio', ratio(active, allocated)],
    ['allocator_frag_bytes', active - allocated],
    ['allocator_rss_ratio', ratio(resident, active)],
    ['allocator_rss_bytes', resident - active],
    ['rss_overhead_ratio', ratio(rss, resident)],
    ['rss_overhead_bytes', rss - resident],
    ['mem_fragmentation_ratio', ratio(rss, used)],
    ['mem_fragmentation_bytes', rss - used],
    ['mem_not_counted_for_evict', r.notCounted],
    ['mem_replication_backlog', 0],
    // The output waiting for replicas (Redis 7.0 shares these blocks with the backlog; ours are per replica).
    ['mem_total_replication_buffers', r.replicaOutput],
    ['mem_clients_slaves', r.clientsSlaves],
    ['mem_clients_normal', r.clientsNormal],
    ['mem_cluster_links', 0],
    ['mem_aof_buffer', 0],
    ['mem_allocator', 'libc'],
    ['active_defrag_running', 0],
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', lazyfreeStats(e).freed],
  ]);
  // The totals include the EVAL figures above and the FUNCTION ones, whoever fills those.
  const num = (k: string): number => Number(f.get(k) ?? 0);
  f.set('used_memory_vm_total', num('used_memory_vm_eval') + num('used_memory_vm_functions'));
  f.set('used_memory_vm_total_human', bytesToHuman(num('used_memory_vm_total')));
  f.set('used_memory_scripts', num('used_memory_scripts_eval') + num('used_memory_functions'));
  f.set('used_memory_scripts_human', bytesToHuman(num('used_memory_scripts')));
  return f;
}

function persistenceSection(e: Engine): InfoFields {
  return fields([
    ['loading', e.loading ? 1 : 0],
    ['async_loading', 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ['current_save_keys_processed', 0],
    ['current_save_keys_total', 0],
    ['rdb_changes_since_last_save', e.dirty],
    ['rdb_bgsave_in_progress', 0],
    ['rdb_last_save_time', e.lastSave],
    ['rdb_last_bgsave_status', 'ok'],
    ['rdb_last_bgsave_time_sec', -1],
    ['rdb_current_bgsave_time_sec', -1],
    ['rdb_saves', 0],
    ['rdb_last_cow_size', 0],
    ['rdb_last_load_keys_expired', 0],
    ['rdb_last_load_keys_loaded', 0],
    ['aof_enabled', e.config.bool('appendonly') ? 1 : 0],
    ['aof_rewrite_in_progress', 0],
    ['aof_rewrite_scheduled', 0],
    ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1],
    ['aof_last_bgrewrite_status', 'ok'],
    ['aof_rewrites', 0],
    ['aof_rewrites_consecutive_failures', 0],
    ['aof_last_write_status', 'ok'],
    ['aof_last_cow_size', 0],
    ['module_fork_in_progress', 0],
    ['module_fork_last_cow_size', 0],
  ]);
}

function average(a: number[]): number {
  return a.length === 0 ? 0 : a.reduce((x, y) => x + y, 0) / a.length;
}

function statsSection(e: Engine): InfoFields {
  const tracking = e.tracking.stats();
  const st = e.stats;
  const ps = e.pubsub;
  return fields([
    ['total_connections_received', st.connectionsReceived],
    ['total_commands_processed', st.commandsProcessed],
    ['instantaneous_ops_per_sec', e.instantaneousOps],
    ['total_net_input_bytes', st.netInputBytes],
    ['total_net_output_bytes', st.netOutputBytes],
    ['total_net_repl_input_bytes', 0],
    ['total_net_repl_output_bytes', 0],
    ['instantaneous_input_kbps', (average(st.netInputSamples) / 1024).toFixed(2)],
    ['instantaneous_output_kbps', (average(st.netOutputSamples) / 1024).toFixed(2)],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', st.rejectedConnections],
    ['sync_full', st.syncFull],
    ['sync_partial_ok', st.syncPartialOk],
    ['sync_partial_err', st.syncPartialErr],
    ['expired_keys', st.expiredKeys],
    ['expired_stale_perc', (st.expiredStalePerc * 100).toFixed(2)],
    ['expired_time_cap_reached_count', st.expiredTimeCapReachedCount],
    ['expire_cycle_cpu_milliseconds', Math.round(st.expireCycleCpuMs)],
    ['evicted_keys', st.evictedKeys],
    ['evicted_clients', st.evictedClients],
    ['total_eviction_exceeded_time', 0],
    ['current_eviction_exceeded_time', 0],
    ['keyspace_hits', st.keyspace.hits],
    ['keyspace_misses', st.keyspace.misses],
    ['pubsub_channels', ps.channels.size],
    ['pubsub_patterns', ps.patterns.size],
    ['pubsubshard_channels', ps.shardChannels.size],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', 0],
    ['slave_expires_tracked_keys', e.replicaKeysWithExpire.size],
    ['active_defrag_hits', 0],
    ['active_defrag_misses', 0],
    ['active_defrag_key_hits', 0],
    ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0],
    ['current_active_defrag_time', 0],
    ['tracking_total_keys', tracking.keys],
    ['tracking_total_items', tracking.items],
    ['tracking_total_prefixes', tracking.prefixes],
    ['unexpected_error_replies', 0],
    ['total_error_replies', st.totalErrorReplies],
    ['dump_payload_sanitizations', 0],
    ['total_reads_processed', st.readsProcessed],
    ['total_writes_processed', st.writesProcessed],
    ['io_threaded_reads_processed', 0],
    ['io_threaded_writes_processed', 0],
    ['reply_buffer_shrinks', replyBufferState(e).shrinks],
    ['reply_buffer_expands', replyBufferState(e).expands],
  ]);
}

function replicationSection(e: Engine): InfoFields {
  return fields([
    ['role', e.role],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', e.replId],
    ['master_replid2', e.replId2],
    ['master_repl_offset', e.masterReplOffset],
    ['second_repl_offset', e.secondReplOffset],
    ['repl_backlog_active', 0],
    ['repl_backlog_size', e.config.num('repl-backlog-size')],
    ['repl_backlog_first_byte_offset', 0],
    ['repl_backlog_histlen', 0],
  ]);
}

function cpuSection(): InfoFields {
  const u = process.cpuUsage();
  const sys = (u.system / 1e6).toFixed(6);
  const user = (u.user / 1e6).toFixed(6);
  return fields([
    ['used_cpu_sys', sys],
    ['used_cpu_user', user],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', sys],
    ['used_cpu_user_main_thread', user],
  ]);
}

/** Every command and subcommand of the table, containers first then their subcommands. */
export function* allCommandObjects(e: Engine): Generator<Command> {
  const seen = new Set<Command>();
  for (const c of e.commands.commands.values()) {
    if (seen.has(c)) continue;
    seen.add(c);
    yield c;
    if (c.sub !== null) for (const sc of c.sub.values()) yield sc;
  }
}

function commandstatsSection(e: Engine): InfoFields {
  const f: InfoFields = new Map();
  for (const c of allCommandObjects(e)) {
    if (c.calls === 0 && c.failedCalls === 0 && c.rejectedCalls === 0) continue;
    const usec = Math.round(c.usec);
    const perCall = c.calls > 0 ? c.usec / c.calls : 0;
    f.set(
      `cmdstat_${c.fullName}`,
      `calls=${c.calls},usec=${usec},usec_per_call=${perCall.toFixed(2)},rejected_calls=${c.rejectedCalls},failed_calls=${c.failedCalls}`,
    );
  }
  return f;
}

function errorstatsSection(e: Engine): InfoFields {
  const f: InfoFields = new Map();
  for (const code of [...e.stats.errors.keys()].sort()) f.set(`errorstat_${code}`, `count=${e.stats.errors.get(code)}`);
  return f;
}

/** The percentiles listed by latency-tracking-info-percentiles. */
function infoPercentiles(e: Engine): number[] {
  const raw = e.config.str('latency-tracking-info-percentiles').trim();
  if (raw === '') return [];
  return raw
    .split(/\s+/)
    .map(Number)
    .filter((p) => Number.isFinite(p) && p >= 0 && p <= 100);
}

function latencystatsSection(e: Engine): InfoFields {
  const f: InfoFields = new Map();
  const ps = infoPercentiles(e);
  for (const c of allCommandObjects(e)) {
    const h = commandHistogram(c);
    if (h === undefined || h.total === 0) continue;
    const parts = ps.map((p) => `p${formatPercentile(p)}=${(h.percentile(p) / 1000).toFixed(3)}`);
    f.set(`latency_percentiles_usec_${c.fullName}`, parts.join(','));
  }
  return f;
}

/** 50 → "50", 99.9 → "99.9" (Redis prints percentiles with trailing zeros trimmed). */
function formatPercentile(p: number): string {
  return String(Number(p.toFixed(6)));
}

/** Approximate avg_ttl: the mean remaining TTL of (up to 64 sampled) volatile keys. */
function averageTtl(db: Engine['dbs'][number]): number {
  const n = db.volatileCount;
  if (n === 0) return 0;
  const t = Date.now();
  const samples = Math.min(n, 64);
  let sum = 0;
  let counted = 0;
  for (let i = 0; i < samples; i++) {
    const slot = db.randomVolatileSlot();
    if (slot < 0) continue;
    const ttl = db.expireOf(slot) - t;
    if (ttl > 0) {
      sum += ttl;
      counted++;
    }
  }
  return counted === 0 ? 0 : Math.round(sum / counted);
}

function keyspaceSection(e: Engine): InfoFields {
  const f: InfoFields = new Map();
  for (const db of e.dbs) {
    if (db.size === 0) continue;
    f.set(`db${db.id}`, `keys=${db.size},expires=${db.volatileCount},avg_ttl=${averageTtl(db)}`);
  }
  return f;
}

const SECTIONS: readonly Section[] = [
  { name: 'server', title: 'Server', isDefault: true, build: serverSection },
  { name: 'clients', title: 'Clients', isDefault: true, build: clientsSection },
  { name: 'memory', title: 'Memory', isDefault: true, build: memorySection },
  { name: 'persistence', title: 'Persistence', isDefault: true, build: persistenceSection },
  { name: 'stats', title: 'Stats', isDefault: true, build: statsSection },
  { name: 'replication', title: 'Replication', isDefault: true, build: replicationSection },
  { name: 'cpu', title: 'CPU', isDefault: true, build: cpuSection },
  { name: 'modules', title: 'Modules', isDefault: true, build: () => new Map() },
  { name: 'commandstats', title: 'Commandstats', isDefault: false, build: commandstatsSection },
  { name: 'errorstats', title: 'Errorstats', isDefault: true, build: errorstatsSection },
  { name: 'latencystats', title: 'Latencystats', isDefault: false, build: latencystatsSection },
  { name: 'cluster', title: 'Cluster', isDefault: true, build: () => fields([['cluster_enabled', 0]]) },
  { name: 'keyspace', title: 'Keyspace', isDefault: true, build: keyspaceSection },
];

/** The names of the sections INFO <args> selects, in output order. */
export function selectSections(args: readonly string[]): string[] {
  const wanted = new Set<string>();
  let all = false;
  let defaults = args.length === 0;
  for (const a of args) {
    const l = a.toLowerCase();
    if (l === 'all' || l === 'everything') all = true;
    else if (l === 'default') defaults = true;
    else wanted.add(l);
  }
  return SECTIONS.filter((s) => all || (defaults && s.isDefault) || wanted.has(s.name)).map((s) => s.name);
}

/** One section's fields, extensions applied. */
export function infoSection(e: Engine, name: string): InfoFields {
  const s = SECTIONS.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no INFO section ${name}`);
  const f = s.build(e);
  for (const ext of extensions.get(name) ?? []) ext(e, f);
  return f;
}

/** The INFO text: "# Title\r\nfield:value\r\n..." per section, sections separated by a blank line. */
export function genInfo(e: Engine, args: readonly string[]): string {
  const out: string[] = [];
  for (const name of selectSections(args)) {
    const s = SECTIONS.find((x) => x.name === name)!;
    let text = `# ${s.title}\r\n`;
    for (const [k, v] of infoSection(e, name)) text += `${k}:${v}\r\n`;
    out.push(text);
  }
  return out.join('\r\n');
}
