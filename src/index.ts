/**
 * cacheside as a library.
 *
 *   Caching in an existing server:  cacheAside (hono middleware), cached (any async function),
 *                                   configureCache / createCache (which engine), invalidate.
 *   The sidecar itself:             startSidecar / createSidecar, parseRoute.
 *   The engine:                     startEngine, configFrom, LocalClient.
 */
export { cacheAside, type CacheAsideOptions } from './sidecar/middleware.js';
export { cached, invalidate, type CachedOptions } from './sidecar/cached.js';
export { Cache, configureCache, createCache, getDefaultCache, type CacheOptions } from './sidecar/library.js';
export { createSidecar, startSidecar, type Sidecar, type RunningSidecar, type SidecarOptions } from './sidecar/server.js';
export { parseRoute, RouteTable, ConfigFieldError, type Route } from './sidecar/routes.js';
export { LocalEngineClient, type EngineClient } from './sidecar/engine-client.js';
export { RedisEngineClient } from './sidecar/redis-engine-client.js';
export { HttpCache, type CacheRequest, type Origin } from './sidecar/http-cache.js';
export { startEngine, createEngine, configFrom, type RunningEngine } from './server/bootstrap.js';
export { LocalClient, ReplyError } from './server/local-session.js';
export { Engine } from './server/engine.js';
export { ConfigStore, ConfigError } from './config/config-store.js';
