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
  ];
}
