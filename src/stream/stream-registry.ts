/** Every stream command table, in one array for commands/registry.ts. */
import type { CommandSpec } from '../commands/command-table.js';
import { streamCommands } from './stream-commands.js';
import { streamReadCommands } from './stream-read-commands.js';
import { streamGroupCommands } from './stream-group-commands.js';
import { streamInfoCommands } from './stream-info-commands.js';

export const allStreamCommands: CommandSpec[] = [...streamCommands, ...streamReadCommands, ...streamGroupCommands, ...streamInfoCommands];
