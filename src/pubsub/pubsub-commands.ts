import type { CommandSpec } from '../commands/command-table.js';

export const pubsubCommands: CommandSpec[] = [];
