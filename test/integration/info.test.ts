import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawClient, waitUntil } from '../helpers/raw-client.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.stop();
});

/** INFO text → field map (headings and blank lines skipped). */
function parse(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

const headings = (text: string) => text.split('\r\n').filter((l) => l.startsWith('# '));

const DEFAULT = ['# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Replication', '# CPU', '# Modules', '# Errorstats', '# Cluster', '# Keyspace'];
const ALL = ['# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Replication', '# CPU', '# Modules', '# Commandstats', '# Errorstats', '# Latencystats', '# Cluster', '# Keyspace'];

describe('INFO sections', () => {
  it('INFO and INFO default: the default sections in Redis order', async () => {
    const c = srv.client();
    expect(headings((await c.call('INFO')) as string)).toEqual(DEFAULT);
    expect(headings((await c.call('INFO', 'default')) as string)).toEqual(DEFAULT);
  });

  it('INFO all / everything add commandstats and latencystats', async () => {
    const c = srv.client();
    expect(headings((await c.call('INFO', 'all')) as string)).toEqual(ALL);
    expect(headings((await c.call('INFO', 'EVERYTHING')) as string)).toEqual(ALL);
    expect(headings((await c.call('INFO', 'default', 'commandstats')) as string)).toEqual(ALL.filter((h) => h !== '# Latencystats'));
  });

  it('several sections come out once each, in Redis order, any case; unknown ones are ignored', async () => {
    const c = srv.client();
    expect(headings((await c.call('INFO', 'keyspace', 'CPU', 'server', 'cpu', 'nosuch')) as string)).toEqual(['# Server', '# CPU', '# Keyspace']);
    expect(await c.call('INFO', 'nosuch')).toBe('');
  });

  it('format: CRLF lines, a blank line between sections, none at the end', async () => {
    const c = srv.client();
    const text = (await c.call('INFO', 'cpu', 'cluster')) as string;
    expect(text).toMatch(/^# CPU\r\nused_cpu_sys:\d+\.\d{6}\r\nused_cpu_user:\d+\.\d{6}\r\n/);
    expect(text.endsWith('\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n')).toBe(true);
    expect(await c.call('INFO', 'modules')).toBe('# Modules\r\n');
  });

  it('RESP2 bulk string, RESP3 verbatim string of format txt', async () => {
    const raw = await RawClient.connect(srv.port);
    try {
      raw.send('INFO', 'cluster');
      expect(await raw.expectBytes('$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n')).toBe('$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n');
      raw.send('HELLO', '3');
      await waitUntil(() => raw.buf.includes('modules'));
      await waitUntil(() => raw.buf.endsWith('*0\r\n'));
      raw.buf = '';
      raw.send('INFO', 'cluster');
      expect(await raw.expectBytes('=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n')).toBe('=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n');
    } finally {
      raw.close();
    }
  });

  it('node-redis RESP3 reads it as text', async () => {
    const c = await srv.nodeRedis(3);
    const r = await c.sendCommand(['INFO', 'server']);
    expect(String(r)).toContain('redis_version:7.0.15');
  });
});

describe('INFO fields', () => {
  const FIELDS: Record<string, string[]> = {
    server: ['redis_version', 'redis_git_sha1', 'redis_git_dirty', 'redis_build_id', 'redis_mode', 'os', 'arch_bits', 'monotonic_clock', 'multiplexing_api', 'atomicvar_api', 'gcc_version', 'process_id', 'process_supervised', 'run_id', 'tcp_port', 'server_time_usec', 'uptime_in_seconds', 'uptime_in_days', 'hz', 'configured_hz', 'lru_clock', 'executable', 'config_file', 'io_threads_active'],
    clients: ['connected_clients', 'cluster_connections', 'maxclients', 'client_recent_max_input_buffer', 'client_recent_max_output_buffer', 'blocked_clients', 'tracking_clients', 'clients_in_timeout_table'],
    memory: ['used_memory', 'used_memory_human', 'used_memory_rss', 'used_memory_rss_human', 'used_memory_peak', 'used_memory_peak_human', 'used_memory_peak_perc', 'used_memory_overhead', 'used_memory_startup', 'used_memory_dataset', 'used_memory_dataset_perc', 'total_system_memory', 'total_system_memory_human', 'used_memory_lua', 'maxmemory', 'maxmemory_human', 'maxmemory_policy', 'mem_fragmentation_ratio', 'mem_fragmentation_bytes', 'mem_allocator', 'lazyfree_pending_objects'],
    persistence: ['loading', 'async_loading', 'rdb_changes_since_last_save', 'rdb_bgsave_in_progress', 'rdb_last_save_time', 'rdb_last_bgsave_status', 'rdb_last_bgsave_time_sec', 'rdb_current_bgsave_time_sec', 'aof_enabled', 'aof_rewrite_in_progress', 'aof_rewrite_scheduled', 'aof_last_bgrewrite_status', 'aof_last_write_status'],
    stats: ['total_connections_received', 'total_commands_processed', 'instantaneous_ops_per_sec', 'total_net_input_bytes', 'total_net_output_bytes', 'instantaneous_input_kbps', 'instantaneous_output_kbps', 'rejected_connections', 'sync_full', 'expired_keys', 'expired_stale_perc', 'expired_time_cap_reached_count', 'expire_cycle_cpu_milliseconds', 'evicted_keys', 'evicted_clients', 'keyspace_hits', 'keyspace_misses', 'pubsub_channels', 'pubsub_patterns', 'pubsubshard_channels', 'latest_fork_usec', 'total_forks', 'unexpected_error_replies', 'total_error_replies', 'total_reads_processed', 'total_writes_processed'],
    replication: ['role', 'connected_slaves', 'master_failover_state', 'master_replid', 'master_replid2', 'master_repl_offset', 'second_repl_offset', 'repl_backlog_active', 'repl_backlog_size', 'repl_backlog_first_byte_offset', 'repl_backlog_histlen'],
    cpu: ['used_cpu_sys', 'used_cpu_user', 'used_cpu_sys_children', 'used_cpu_user_children', 'used_cpu_sys_main_thread', 'used_cpu_user_main_thread'],
    cluster: ['cluster_enabled'],
  };

  for (const [section, fields] of Object.entries(FIELDS)) {
    it(`${section} has Redis 7.0's fields, in order`, async () => {
      const keys = [...parse((await srv.client().call('INFO', section)) as string).keys()];
      expect(keys.filter((k) => fields.includes(k))).toEqual(fields);
    });
  }

  it('server values come from the engine', async () => {
    const m = parse((await srv.client().call('INFO', 'server')) as string);
    expect(m.get('redis_version')).toBe('7.0.15');
    expect(m.get('redis_mode')).toBe('standalone');
    expect(m.get('arch_bits')).toBe('64');
    expect(m.get('process_id')).toBe(String(process.pid));
    expect(m.get('tcp_port')).toBe(String(srv.port));
    expect(m.get('run_id')).toBe(srv.engine.runId);
    expect(m.get('run_id')).toMatch(/^[0-9a-f]{40}$/);
    expect(m.get('hz')).toBe('10');
    expect(m.get('configured_hz')).toBe('10');
    expect(m.get('config_file')).toBe('');
    expect(Number(m.get('uptime_in_seconds'))).toBeGreaterThanOrEqual(0);
    expect(Math.abs(Number(m.get('server_time_usec')) / 1000 - Date.now())).toBeLessThan(5000);
  });

  it('memory values are numbers, human forms like Redis, maxmemory from the config', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'SET', 'maxmemory', '100mb', 'maxmemory-policy', 'allkeys-lru');
    try {
      const m = parse((await c.call('INFO', 'memory')) as string);
      expect(Number(m.get('used_memory'))).toBeGreaterThan(0);
      expect(Number(m.get('used_memory_peak'))).toBeGreaterThanOrEqual(Number(m.get('used_memory')));
      expect(m.get('used_memory_human')).toMatch(/^\d+\.\d\d[KMG]$/);
      expect(m.get('used_memory_peak_perc')).toMatch(/^\d+\.\d\d%$/);
      expect(m.get('maxmemory')).toBe(String(100 * 1024 * 1024));
      expect(m.get('maxmemory_human')).toBe('100.00M');
      expect(m.get('maxmemory_policy')).toBe('allkeys-lru');
      expect(m.get('mem_fragmentation_ratio')).toMatch(/^\d+\.\d\d$/);
    } finally {
      await c.call('CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction');
    }
  });

  it('replication: a master with its replication id', async () => {
    const m = parse((await srv.client().call('INFO', 'replication')) as string);
    expect(m.get('role')).toBe('master');
    expect(m.get('connected_slaves')).toBe('0');
    expect(m.get('master_replid')).toMatch(/^[0-9a-f]{40}$/);
    expect(m.get('master_replid2')).toBe('0'.repeat(40));
    expect(m.get('repl_backlog_size')).toBe('1048576');
  });
});

describe('INFO values move', () => {
  it('total_commands_processed counts each command once (INFO counts after it replies)', async () => {
    const c = srv.client();
    const n = async () => Number(parse((await c.call('INFO', 'stats')) as string).get('total_commands_processed'));
    const a = await n();
    await c.call('PING');
    await c.call('ECHO', 'x');
    const b = await n();
    // the first INFO, PING, ECHO; other test clients may run commands concurrently only in other files
    expect(b - a).toBe(3);
  });

  it('connected_clients and total_connections_received follow connections', async () => {
    const c = srv.client();
    const info = async () => parse((await c.call('INFO')) as string);
    const before = await info();
    const extra = srv.client();
    await extra.ping();
    const after = await info();
    expect(Number(after.get('connected_clients'))).toBe(Number(before.get('connected_clients')) + 1);
    expect(Number(after.get('total_connections_received'))).toBe(Number(before.get('total_connections_received')) + 1);
    expect(Number(after.get('total_net_input_bytes'))).toBeGreaterThan(Number(before.get('total_net_input_bytes')));
    extra.disconnect();
    await waitUntil(async () => Number((await info()).get('connected_clients')) === Number(before.get('connected_clients')));
  });

  it('keyspace: keys and expires per database; hits and misses', async () => {
    const c = srv.client();
    await c.call('SELECT', '5');
    await c.call('SET', 'a', '1');
    await c.call('SET', 'b', '2', 'EX', '1000');
    const before = parse((await c.call('INFO', 'stats')) as string);
    await c.call('GET', 'a');
    await c.call('GET', 'nosuch');
    await c.call('GET', 'nosuch2');
    const after = parse((await c.call('INFO', 'stats', 'keyspace')) as string);
    expect(Number(after.get('keyspace_hits')) - Number(before.get('keyspace_hits'))).toBe(1);
    expect(Number(after.get('keyspace_misses')) - Number(before.get('keyspace_misses'))).toBe(2);
    expect(after.get('db5')).toMatch(/^keys=2,expires=1,avg_ttl=\d+$/);
    const ttl = Number(/avg_ttl=(\d+)/.exec(after.get('db5')!)![1]);
    expect(ttl).toBeGreaterThan(990_000);
    expect(ttl).toBeLessThanOrEqual(1_000_000);
    await c.call('FLUSHDB');
    expect(parse((await c.call('INFO', 'keyspace')) as string).has('db5')).toBe(false);
  });

  it('rdb_changes_since_last_save counts writes; rdb_last_save_time is LASTSAVE', async () => {
    const c = srv.client();
    const dirty = async () => Number(parse((await c.call('INFO', 'persistence')) as string).get('rdb_changes_since_last_save'));
    const a = await dirty();
    await c.call('SET', 'dirty:1', 'x');
    await c.call('SET', 'dirty:2', 'x');
    expect((await dirty()) - a).toBe(2);
    const m = parse((await c.call('INFO', 'persistence')) as string);
    expect(m.get('rdb_last_save_time')).toBe(String(await c.call('LASTSAVE')));
    await c.call('DEL', 'dirty:1', 'dirty:2');
  });

  it('errorstats and total_error_replies count error replies by code', async () => {
    const c = srv.client();
    const before = parse((await c.call('INFO', 'stats', 'errorstats')) as string);
    const errs = Number(before.get('errorstat_ERR')?.slice('count='.length) ?? 0);
    await expect(c.call('NOSUCHCOMMAND')).rejects.toThrow('ERR unknown command');
    await expect(c.call('GET')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    const after = parse((await c.call('INFO', 'stats', 'errorstats')) as string);
    expect(after.get('errorstat_ERR')).toBe(`count=${errs + 2}`);
    expect(Number(after.get('total_error_replies')) - Number(before.get('total_error_replies'))).toBe(2);
  });

  it('commandstats: calls, usec, per call, rejected and failed calls; subcommands as cmd|sub', async () => {
    const c = srv.client();
    await c.call('CONFIG', 'RESETSTAT');
    await c.call('SET', 'cs', 'notanumber');
    await c.call('GET', 'cs');
    await c.call('GET', 'cs');
    await expect(c.call('GET')).rejects.toThrow();
    await expect(c.call('INCR', 'cs')).rejects.toThrow('ERR value is not an integer or out of range');
    await c.call('CONFIG', 'GET', 'hz');
    const m = parse((await c.call('INFO', 'commandstats')) as string);
    expect(m.get('cmdstat_get')).toMatch(/^calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0$/);
    expect(m.get('cmdstat_incr')).toMatch(/^calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1$/);
    expect(m.get('cmdstat_config|get')).toMatch(/^calls=1,/);
    expect(m.get('cmdstat_config|resetstat')).toMatch(/^calls=1,/);
    expect(m.has('cmdstat_config')).toBe(false);
    expect(m.has('cmdstat_hset')).toBe(false);
    await c.call('DEL', 'cs');
  });

  it('latencystats: percentiles per command, as latency-tracking-info-percentiles says', async () => {
    const c = srv.client();
    await c.call('PING');
    let m = parse((await c.call('INFO', 'latencystats')) as string);
    expect(m.get('latency_percentiles_usec_ping')).toMatch(/^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
    await c.call('CONFIG', 'SET', 'latency-tracking-info-percentiles', '50.5 90');
    m = parse((await c.call('INFO', 'latencystats')) as string);
    expect(m.get('latency_percentiles_usec_ping')).toMatch(/^p50\.5=\d+\.\d{3},p90=\d+\.\d{3}$/);
    await c.call('CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9');
  });

  it('pubsub_channels and pubsub_patterns count subscriptions', async () => {
    const c = srv.client();
    const sub = srv.client();
    await sub.subscribe('ch1', 'ch2');
    await sub.psubscribe('p*');
    const m = parse((await c.call('INFO', 'stats')) as string);
    expect(m.get('pubsub_channels')).toBe('2');
    expect(m.get('pubsub_patterns')).toBe('1');
    sub.disconnect();
  });
});
