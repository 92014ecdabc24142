/**
 * `cacheside start` (engine + sidecar in one process) and `cacheside proxy`
 * (the sidecar alone, against a shared engine over RESP).
 */
import { pino, type Logger } from 'pino';
import { ConfigStore } from '../config/config-store.js';
import { applyCommandLine, splitCommandLine } from '../cli-args.js';
import { startEngine, type RunningEngine } from '../server/bootstrap.js';
import { LocalEngineClient, type EngineClient } from './engine-client.js';
import { RedisEngineClient } from './redis-engine-client.js';
import { startDemoUpstream, type DemoUpstream } from './demo-upstream.js';
import { ConfigFieldError, parseRoute } from './routes.js';
import { startSidecar, type RunningSidecar } from './server.js';
import { extractSidecarFlags, resolveSettings, type SidecarSettings } from './settings.js';

export const SIDECAR_HELP = `HTTP sidecar options (cacheside start and cacheside proxy):
  --upstream URL             upstream of the default route "/" (env CACHESIDE_UPSTREAM)
  --ttl SECONDS              default TTL for responses without cache headers (CACHESIDE_TTL)
  --stale-while-revalidate S route default (CACHESIDE_STALE_WHILE_REVALIDATE)
  --stale-if-error S         route default (CACHESIDE_STALE_IF_ERROR)
  --http-port N              HTTP port, default 8080 (CACHESIDE_HTTP_PORT)
  --http-bind ADDR           HTTP address, default 0.0.0.0 (CACHESIDE_HTTP_BIND)
  --config FILE              JSON routes/config file (CACHESIDE_CONFIG)
  --purge-token TOKEN        enables the purge API (CACHESIDE_PURGE_TOKEN)
  --log-level LEVEL          fatal|error|warn|info|debug|trace|silent (CACHESIDE_LOG_LEVEL)
  --l1-max-bytes N           in-process L1 budget, default 64 MiB, 0 = off (CACHESIDE_L1_MAX_BYTES)
  --key-prefix P             engine key prefix, default "cs:" (CACHESIDE_KEY_PREFIX)
  --engine URL               proxy only: redis://host:6379, redis+cluster://h:p,h:p,
                             redis+sentinel://h:p,h:p/master (CACHESIDE_ENGINE)
Flags override environment variables, which override the config file.

Endpoints: /healthz, /readyz, /metrics, POST /_cacheside/purge
  {"urls": [...], "tags": [...], "soft": false} with "Authorization: Bearer TOKEN",
  or "PURGE /path" with the same header.`;

export const START_HELP = `Usage: cacheside start [path/redis.conf] [sidecar options] [--directive value ...]

Runs the engine (RESP, default port 6379) and the HTTP sidecar (default port
8080) in one process. With no upstream configured, a demo upstream answers
/getLecture/:id after 200 ms, with a 60 s default TTL:
  curl -i http://localhost:8080/getLecture/42     # X-Cache: MISS (200 ms)
  curl -i http://localhost:8080/getLecture/42     # X-Cache: HIT

${SIDECAR_HELP}

Every engine directive is accepted too (--port, --dir, --appendonly,
--maxmemory, ...): see 'cacheside server --help'.`;

export const PROXY_HELP = `Usage: cacheside proxy --upstream URL --engine redis://host:6379 [sidecar options]

Runs the HTTP sidecar alone against a shared engine: a cacheside engine
('cacheside server' or 'cacheside start'), Redis or Valkey, a Redis Cluster
or a Sentinel set. Sidecars sharing an engine share the cache, coalesce
misses across nodes, and see each other's purges. While the engine is
unreachable requests pass through uncached; caching resumes on reconnect.

${SIDECAR_HELP}`;

function makeLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid, name: 'cacheside' } });
}

function onSignals(stop: (sig: string) => Promise<void>): void {
  let stopping = false;
  const h = (sig: string) => {
    if (stopping) return;
    stopping = true;
    void stop(sig).finally(() => process.exit(0));
  };
  process.on('SIGINT', () => h('SIGINT'));
  process.on('SIGTERM', () => h('SIGTERM'));
}

async function serveSidecar(settings: SidecarSettings, engine: EngineClient, log: Logger, what: string): Promise<{ sidecar: RunningSidecar; demo: DemoUpstream | null }> {
  let demo: DemoUpstream | null = null;
  let routes = settings.routes;
  if (settings.demo) {
    demo = await startDemoUpstream();
    routes = [parseRoute({ prefix: '/', name: 'default', upstream: demo.url, ttl: settings.routeDefaults.ttl ?? 60 }, 'demo route', settings.routeDefaults)];
  }
  const sidecar = await startSidecar({
    routes,
    engine,
    port: settings.httpPort,
    hostname: settings.httpBind,
    purgeToken: settings.purgeToken,
    l1MaxBytes: settings.l1MaxBytes,
    keyPrefix: settings.keyPrefix,
    lockTtl: settings.lockTtl,
    lockWait: settings.lockWait,
    log,
    defaultMetrics: true,
  });
  const shownHost = settings.httpBind === '0.0.0.0' || settings.httpBind === '::' ? 'localhost' : settings.httpBind;
  for (const r of routes) log.info({ route: r.name, prefix: r.prefix, upstream: r.upstream?.href, ttl: r.ttl }, 'route');
  log.info({ http: `http://${shownHost}:${sidecar.port}`, engine: what, purgeApi: settings.purgeToken !== null }, 'cacheside sidecar listening');
  if (demo !== null) {
    log.info(`no upstream configured: demo upstream on ${demo.url}; try twice: curl -i http://${shownHost}:${sidecar.port}/getLecture/42`);
  }
  return { sidecar, demo };
}

/** cacheside start: engine + sidecar in this process. */
export async function runStart(args: string[]): Promise<void> {
  const { flags, rest } = extractSidecarFlags(args);
  const settings = resolveSettings({ flags, mode: 'start' });
  const config = new ConfigStore();
  applyCommandLine(config, splitCommandLine(rest));
  const log = makeLogger(settings.logLevel);
  const running: RunningEngine = await startEngine(config);
  const e = running.engine;
  e.log.notice(`cacheside (Redis ${e.redisVersion} compatible) started, pid=${process.pid}`);
  e.log.notice(`Ready to accept connections tcp on port ${running.port}`);
  const engine = new LocalEngineClient(e);
  let sc: { sidecar: RunningSidecar; demo: DemoUpstream | null };
  try {
    sc = await serveSidecar(settings, engine, log, `in-process (RESP on port ${running.port})`);
  } catch (err) {
    await running.close();
    throw err;
  }
  // SHUTDOWN from a client: close the HTTP side too, then end the process.
  e.onShutdown = () => {
    void sc.sidecar.close().finally(() => process.exit(0));
  };
  onSignals(async (sig) => {
    e.log.warning(`Received ${sig} scheduling shutdown...`);
    await sc.sidecar.close();
    await sc.demo?.close();
    await engine.close();
    await running.close();
    e.log.warning('cacheside is now ready to exit, bye bye...');
  });
}

/** cacheside proxy: the sidecar alone against a shared engine. */
export async function runProxy(args: string[]): Promise<void> {
  const { flags, rest } = extractSidecarFlags(args);
  if (rest.length > 0) throw new ConfigFieldError(`proxy: unknown argument '${rest[0]}' (engine directives belong to 'cacheside server'; see 'cacheside proxy --help')`);
  const settings = resolveSettings({ flags, mode: 'proxy' });
  const log = makeLogger(settings.logLevel);
  const engine = new RedisEngineClient(settings.engine);
  const { sidecar } = await serveSidecar(settings, engine, log, settings.engine.replace(/\/\/[^@/]*@/, '//***@'));
  onSignals(async () => {
    await sidecar.close();
    await engine.close();
  });
}
