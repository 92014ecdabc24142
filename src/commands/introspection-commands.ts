import type { CommandSpec } from './command-table.js';

export const introspectionCommands: CommandSpec[] = [];
