/**
 * Wiring of memory accounting and eviction into an engine (called once per
 * engine by bootstrap's createEngine), and the memory figures INFO memory and
 * MEMORY STATS / DOCTOR report.
 */
import os from 'node:os';
import type { Engine } from '../server/engine.js';
import type { Session } from '../server/session.js';
import { memoryGate } from '../server/dispatch.js';
import { MemoryState, markMutated, settleMutations } from './memory-state.js';
import { EVICT_FAIL, Evictor } from './eviction.js';
import { tuneGcForMaxmemory } from './heap-limit.js';
import { lruFine } from '../keyspace/keyspace.js';

export interface EngineMemory {
  state: MemoryState;
  evictor: Evictor;
  /** Process RSS when memory management was installed (the start-up footprint). */
  startupRss: number;
}

const installed = new WeakMap<Engine, EngineMemory>();
/** Engines with a maxmemory: the dispatch gate calls eviction only while there is one. */
const limited = new Set<Engine>();

/** The engine whose clients were looked at this event-loop turn (reset by setImmediate). */
let refreshedThisTurn: Engine | null = null;
const newTurn = (): void => {
  refreshedThisTurn = null;
};

function gate(s: Session): boolean {
  const m = installed.get(s.engine);
  if (m === undefined) return true;
  // Buffers grow between cron ticks (a client piling up replies or a half-sent command): once a
  // turn, figures older than a few ms are refreshed before eviction decides.
  if (refreshedThisTurn !== s.engine) {
    if (refreshedThisTurn === null) setImmediate(newTurn);
    refreshedThisTurn = s.engine;
    m.state.refreshIfStale();
  }
  if (m.evictor.clientsLimitBytes > 0) {
    // maxmemory-clients before keys (Redis's evictClients in processCommand), this client measured
    // now (its command may be the big one); it may be the one to go.
    m.state.refreshClient(s);
    m.evictor.evictClients();
  }
  return m.evictor.perform() !== EVICT_FAIL;
}

memoryGate.freeMemoryIfNeeded = gate;
memoryGate.settle = settleMutations;

/** The memory state of an engine (installing it if needed). */
export function memoryOf(e: Engine): EngineMemory {
  return installed.get(e) ?? installMemory(e);
}

/** Install the size model's accounting and the evictor on an engine. */
export function installMemory(e: Engine): EngineMemory {
  const existing = installed.get(e);
  if (existing !== undefined) return existing;
  const state = new MemoryState(e);
  const evictor = new Evictor(e, state);
  const m: EngineMemory = { state, evictor, startupRss: process.memoryUsage.rss() };
  installed.set(e, m);
  e.keyspaceEvents.mutated = markMutated;
  // The gate runs while the engine has a maxmemory or a maxmemory-clients (client eviction needs no maxmemory).
  const track = () => {
    evictor.clientsLimitBytes = evictor.clientsLimit();
    if (evictor.maxmemory > 0) tuneGcForMaxmemory();
    if (evictor.maxmemory > 0 || evictor.clientsLimitBytes > 0) limited.add(e);
    else limited.delete(e);
    memoryGate.enabled = limited.size > 0;
  };
  track();
  e.config.onChange('maxmemory', track);
  e.config.onChange('maxmemory-clients', track);
  e.cronHooks.push(() => {
    lruFine.tenths = Math.floor((Date.now() % 1000) / 100);
    if (memoryGate.dirty) settleMutations();
    state.refreshClients();
    state.updatePeak();
    evictor.cron();
  });
  e.sessionClosedHooks.push((s) => state.forgetClient(s.id));
  e.shutdownHooks.push(() => {
    evictor.stop();
    limited.delete(e);
    memoryGate.enabled = limited.size > 0;
  });
  return m;
}

/** Every figure of INFO memory / MEMORY STATS, computed once. */
export interface MemoryReport {
  used: number;
  peak: number;
  startup: number;
  overhead: number;
  dataset: number;
  clientsNormal: number;
  clientsSlaves: number;
  replicaOutput: number;
  notCounted: number;
  rss: number;
  /** V8: heap in use + external (Buffers): what the runtime allocated. */
  allocated: number;
  /** V8: heap reserved + external. */
  active: number;
  resident: number;
  maxmemory: number;
  policy: string;
  totalSystemMemory: number;
  keys: number;
  startupRss: number;
}

export function memoryReport(e: Engine): MemoryReport {
  const m = memoryOf(e);
  const st = m.state;
  st.refreshClients();
  const used = st.used();
  const peak = st.updatePeak(used);
  const overhead = Math.min(used, st.overhead());
  const pm = process.memoryUsage();
  const allocated = pm.heapUsed + pm.external;
  const active = Math.max(allocated, pm.heapTotal + pm.external);
  return {
    used,
    peak,
    startup: st.startup,
    overhead,
    dataset: used - overhead,
    clientsNormal: st.clientsNormal,
    clientsSlaves: st.clientsSlaves,
    replicaOutput: st.replicaOutput,
    notCounted: st.notCountedForEvict(),
    rss: pm.rss,
    allocated,
    active,
    resident: Math.max(active, pm.rss),
    maxmemory: e.config.num('maxmemory'),
    policy: e.config.str('maxmemory-policy'),
    totalSystemMemory: os.totalmem(),
    keys: e.totalKeys(),
    startupRss: m.startupRss,
  };
}
