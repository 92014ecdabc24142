/**
 * Building and starting an engine: config → Engine → TCP listener.
 * Used by the CLI, by `cacheside start` (with the sidecar), and by tests.
 */
import { ConfigStore } from '../config/config-store.js';
import { Engine } from './engine.js';
import { TcpServer } from './tcp-server.js';
import { allCommands } from '../commands/registry.js';
import { Logger } from './logger.js';
import { trackMemory } from './info.js';
import { installPersistence } from '../persistence/persistence.js';
import { installReplication } from './replication.js';

export interface RunningEngine {
  engine: Engine;
  tcp: TcpServer;
  port: number;
  /** Stop listening, drop clients, stop timers; runs shutdown hooks (no save unless asked). */
  close(opts?: { save?: boolean; force?: boolean }): Promise<void>;
}

export function createEngine(config: ConfigStore, log?: Logger): Engine {
  const engine = new Engine(config, allCommands(), log);
  trackMemory(engine);
  installPersistence(engine);
  installReplication(engine);
  return engine;
}

/** Build a ConfigStore from redis.conf-style directives (for tests and embedding). */
export function configFrom(directives: Record<string, string | number | boolean> = {}): ConfigStore {
  const c = new ConfigStore();
  for (const [k, v] of Object.entries(directives)) c.set(k, typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v), true);
  return c;
}

/**
 * Start an engine: listen, then load the data set. `onListening` runs once
 * the port is bound and before loading (where redis-server shows its logo).
 */
export async function startEngine(config: ConfigStore, log?: Logger, onListening?: (engine: Engine, port: number) => void): Promise<RunningEngine> {
  const engine = createEngine(config, log);
  const noEffect = config.noEffectDirectives();
  if (noEffect.length > 0) engine.log.notice(`Directives accepted with no effect in cacheside: ${noEffect.join(', ')}`);
  engine.start();
  const tcp = new TcpServer(engine);
  const port = await tcp.listen();
  onListening?.(engine, port);
  // Load the data set (dump.rdb or the AOF) while listening: clients get -LOADING meanwhile.
  try {
    await installPersistence(engine).loadAtStartup();
  } catch (e) {
    await tcp.close();
    engine.stop();
    throw e;
  }
  let closed = false;
  const close = async (opts: { save?: boolean; force?: boolean } = {}) => {
    if (closed) return;
    closed = true;
    try {
      for (const h of engine.shutdownHooks) await h({ save: opts.save ?? null });
    } catch (e) {
      // SHUTDOWN without FORCE: a failing hook (a save that failed) keeps the server running.
      if (!opts.force) {
        closed = false;
        throw e;
      }
      engine.log.warning(`Error during shutdown, ignored (FORCE): ${(e as Error).message}`);
    }
    await tcp.close();
    engine.stop();
  };
  engine.closeServer = close;
  engine.relisten = () => tcp.relisten();
  return { engine, tcp, port, close };
}
