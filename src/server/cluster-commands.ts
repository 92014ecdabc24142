/**
 * CLUSTER as a redis-server started without cluster-enabled has it: the
 * container and every Redis 7.0 subcommand are in the command table (COMMAND
 * LIST / INFO / DOCS show them with their arity and flags), and each one,
 * CLUSTER HELP included, answers "ERR This instance has cluster support
 * disabled". Unknown subcommands and arity errors come from the gate.
 */
import type { CommandSpec } from '../commands/command-table.js';
import { CommandError } from '../errors.js';

const grp = { group: 'cluster' } as const;

function disabled(): void {
  throw new CommandError('ERR This instance has cluster support disabled');
}

export const clusterCommands: CommandSpec[] = [
  {
    name: 'cluster',
    arity: -2,
    flags: [],
    ...grp,
    summary: 'A container for cluster commands',
    since: '3.0.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'addslots', arity: -3, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Assign new hash slots to receiving node', since: '3.0.0', complexity: 'O(N) where N is the total number of hash slot arguments', handler: disabled },
      { name: 'addslotsrange', arity: -4, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Assign new hash slots to receiving node', since: '7.0.0', complexity: 'O(N) where N is the total number of the slots between the start slot and end slot arguments.', handler: disabled },
      { name: 'bumpepoch', arity: 2, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Advance the cluster config epoch', since: '3.0.0', complexity: 'O(1)', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'count-failure-reports', arity: 3, flags: ['admin', 'stale'], ...grp, summary: 'Return the number of failure reports active for a given node', since: '3.0.0', complexity: 'O(N) where N is the number of failure reports', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'countkeysinslot', arity: 3, flags: ['stale'], ...grp, summary: 'Return the number of local keys in the specified hash slot', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'delslots', arity: -3, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Set hash slots as unbound in receiving node', since: '3.0.0', complexity: 'O(N) where N is the total number of hash slot arguments', handler: disabled },
      { name: 'delslotsrange', arity: -4, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Set hash slots as unbound in receiving node', since: '7.0.0', complexity: 'O(N) where N is the total number of the slots between the start slot and end slot arguments.', handler: disabled },
      { name: 'failover', arity: -2, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Forces a replica to perform a manual failover of its master.', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'flushslots', arity: 2, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Delete a node\'s own slots information', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'forget', arity: 3, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Remove a node from the nodes table', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'getkeysinslot', arity: 4, flags: ['stale'], ...grp, summary: 'Return local key names in the specified hash slot', since: '3.0.0', complexity: 'O(log(N)) where N is the number of requested keys', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...grp, summary: 'Show helpful text about the different subcommands', since: '5.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'info', arity: 2, flags: ['stale'], ...grp, summary: 'Provides info about Redis Cluster node state', since: '3.0.0', complexity: 'O(1)', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'keyslot', arity: 3, flags: ['stale'], ...grp, summary: 'Returns the hash slot of the specified key', since: '3.0.0', complexity: 'O(N) where N is the number of bytes in the key', handler: disabled },
      { name: 'links', arity: 2, flags: ['stale'], ...grp, summary: 'Returns a list of all TCP links to and from peer nodes in cluster', since: '7.0.0', complexity: 'O(N) where N is the total number of Cluster nodes', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'meet', arity: -4, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Force a node cluster to handshake with another node', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'myid', arity: 2, flags: ['stale'], ...grp, summary: 'Return the node id', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'nodes', arity: 2, flags: ['stale'], ...grp, summary: 'Get Cluster config for the node', since: '3.0.0', complexity: 'O(N) where N is the total number of Cluster nodes', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'replicas', arity: 3, flags: ['admin', 'stale'], ...grp, summary: 'List replica nodes of the specified master node', since: '5.0.0', complexity: 'O(1)', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'replicate', arity: 3, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Reconfigure a node as a replica of the specified master node', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'reset', arity: -2, flags: ['admin', 'noscript', 'stale'], ...grp, summary: 'Reset a Redis Cluster node', since: '3.0.0', complexity: 'O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.', handler: disabled },
      { name: 'saveconfig', arity: 2, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Forces the node to save cluster state on disk', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'set-config-epoch', arity: 3, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Set the configuration epoch in a new node', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'setslot', arity: -4, flags: ['admin', 'stale', 'no_async_loading'], ...grp, summary: 'Bind a hash slot to a specific node', since: '3.0.0', complexity: 'O(1)', handler: disabled },
      { name: 'shards', arity: 2, flags: ['stale'], ...grp, summary: 'Get array of cluster slots to node mappings', since: '7.0.0', complexity: 'O(N) where N is the total number of cluster nodes', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'slaves', arity: 3, flags: ['admin', 'stale'], ...grp, summary: 'List replica nodes of the specified master node', since: '3.0.0', complexity: 'O(1)', tips: ['nondeterministic_output'], handler: disabled },
      { name: 'slots', arity: 2, flags: ['stale'], ...grp, summary: 'Get array of Cluster slot to node mappings', since: '3.0.0', complexity: 'O(N) where N is the total number of Cluster nodes', tips: ['nondeterministic_output'], handler: disabled },
    ],
  },
];
