/**
 * A bare Keyspace for unit tests: no engine, events that do nothing except
 * what a test asks for (overrides), LRU touches as the engine's default.
 */
import { Keyspace, touchLru, type KeyspaceEvents } from '../../src/keyspace/keyspace.js';

export function testKeyspaceEvents(overrides: Partial<KeyspaceEvents> = {}): KeyspaceEvents {
  return {
    expired: () => {},
    beforeWrite: null,
    touch: touchLru,
    miss: null,
    created: null,
    lazyDeleteDisabled: false,
    stats: { hits: 0, misses: 0 },
    ...overrides,
  };
}

export function newTestKeyspace(overrides: Partial<KeyspaceEvents> = {}, id = 0): Keyspace {
  return new Keyspace(id, testKeyspaceEvents(overrides));
}
