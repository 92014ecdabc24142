/** Every command table, collected. Each module keeps its entries at the bottom of its own file. */
import type { CommandSpec } from './command-table.js';
import { connectionCommands } from '../server/connection-commands.js';
import { stringCommands } from '../strings/string-commands.js';
import { bitCommands } from '../strings/bit-commands.js';
import { keyCommands } from '../keyspace/key-commands.js';
import { pubsubCommands } from '../pubsub/pubsub-commands.js';
import { serverCommands } from '../server/server-commands.js';
import { debugCommands } from '../server/debug-commands.js';
import { clientCommands } from '../server/client-commands.js';
import { introspectionCommands } from './introspection-commands.js';
import { listCommands } from '../list/list-commands.js';
import { blockingListCommands } from '../list/blocking-list-commands.js';
import { setCommands } from '../set/set-commands.js';
import { hashCommands } from '../hash/hash-commands.js';
import { zsetCommands } from '../zset/zset-commands.js';
import { memoryCommands } from '../memory/memory-commands.js';
import { geoCommands } from '../geo/geo-commands.js';
import { hllCommands } from '../hll/hll-commands.js';
import { sortCommands } from '../sort/sort-command.js';
import { dumpRestoreCommands } from '../persistence/dump-restore.js';
import { persistenceCommands } from '../persistence/persistence-commands.js';
import { allStreamCommands } from '../stream/stream-registry.js';
import { functionCommands } from '../server/function-commands.js';
import { replicationCommands } from '../server/replication.js';
import { failoverCommands } from '../server/failover.js';
import { scriptingCommands } from '../scripting/script-commands.js';
import { aclCommands } from '../server/acl-commands.js';
import { clusterCommands } from '../server/cluster-commands.js';

export function allCommands(): CommandSpec[] {
  return [
    ...connectionCommands,
    ...stringCommands,
    ...bitCommands,
    ...keyCommands,
    ...pubsubCommands,
    ...serverCommands,
    ...debugCommands,
    ...clientCommands,
    ...introspectionCommands,
    ...listCommands,
    ...blockingListCommands,
    ...setCommands,
    ...hashCommands,
    ...zsetCommands,
    ...memoryCommands,
    ...geoCommands,
    ...hllCommands,
    ...sortCommands,
    ...dumpRestoreCommands,
    ...persistenceCommands,
    ...allStreamCommands,
    ...functionCommands,
    ...replicationCommands,
    ...failoverCommands,
    ...scriptingCommands,
    ...aclCommands,
    ...clusterCommands,
  ];
}
