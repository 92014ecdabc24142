/**
 * Building and starting an engine: config → Engine → TCP listener.
 * Used by the CLI, by `cacheside start` (with the sidecar), and by tests.
 */
import { ConfigStore } from '../config/config-store.js';
import { Engine } from './engine.js';
import { TcpServer } from './tcp-server.js';
import { allCommands } from '../commands/registry.js';
import { Logger } from './logger.js';

export interface RunningEngine {
  engine: Engine;
  tcp: TcpServer;
  port: number;
  /** Stop listening, drop clients, stop timers; runs shutdown hooks (no save unless asked). */
  close(opts?: { save?: boolean }): Promise<void>;
}

export function createEngine(config: ConfigStore, log?: Logger): Engine {
  return new Engine(config, allCommands(), log);
}

/** Build a ConfigStore from redis.conf-style directives (for tests and embedding). */
export function configFrom(directives: Record<string, string | number | boolean> = {}): ConfigStore {
  const c = new ConfigStore();
  for (const [k, v] of Object.entries(directives)) c.set(k, typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v), true);
  return c;
}

export async function startEngine(config: ConfigStore, log?: Logger): Promise<RunningEngine> {
  const engine = createEngine(config, log);
  const noEffect = config.noEffectDirectives();
  if (noEffect.length > 0) engine.log.notice(`Directives accepted with no effect in cacheside: ${noEffect.join(', ')}`);
  engine.start();
  const tcp = new TcpServer(engine);
  const port = await tcp.listen();
  let closed = false;
  const close = async (opts: { save?: boolean } = {}) => {
    if (closed) return;
    closed = true;
    for (const h of engine.shutdownHooks) await h({ save: opts.save ?? null });
    await tcp.close();
    engine.stop();
  };
  engine.closeServer = close;
  return { engine, tcp, port, close };
}
