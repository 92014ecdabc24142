/**
 * The ACL command (Redis 7.0): SETUSER, GETUSER, DELUSER, USERS, LIST,
 * WHOAMI, CAT, GENPASS, LOG, DRYRUN, LOAD, SAVE, HELP.
 */
import { randomBytes } from 'node:crypto';
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from './session.js';
import { CommandError } from '../errors.js';
import { is, longArg } from '../commands/args.js';
import { replyHelp } from './client-commands.js';
import { ACL_CATEGORIES, describeChannels, describeCommandRules, describeKeys, hasSpaces, type Selector } from './acl-user.js';
import { ACL_OK, checkCommand, DENIED_AUTH, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY } from './acl-check.js';

const NO_ACL_FILE =
  'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

function setuser(s: Session, argv: string[]): void {
  const name = argv[2]!;
  if (hasSpaces(name)) throw new CommandError("ERR Usernames can't contain spaces or null characters");
  const err = s.engine.acl.setUser(name, argv.slice(3), s);
  if (err !== null) throw new CommandError('ERR ' + err);
  s.reply.ok();
}

function deluser(s: Session, argv: string[]): void {
  const acl = s.engine.acl;
  for (let i = 2; i < argv.length; i++) if (argv[i] === 'default') throw new CommandError("ERR The 'default' user cannot be removed");
  let n = 0;
  for (let i = 2; i < argv.length; i++) if (acl.deleteUser(argv[i]!, s)) n++;
  s.reply.int(n);
}

/** commands, keys, channels of one selector (GETUSER). */
function writeSelector(s: Session, sel: Selector): void {
  const r = s.reply;
  r.bulk('commands');
  r.bulk(describeCommandRules(sel, s.engine.acl.idx));
  r.bulk('keys');
  r.bulk(describeKeys(sel));
  r.bulk('channels');
  r.bulk(describeChannels(sel));
}

function getuser(s: Session, argv: string[]): void {
  const u = s.engine.acl.get(argv[2]!);
  const r = s.reply;
  if (u === undefined) return r.nullBulk();
  r.mapLen(6);
  r.bulk('flags');
  const flags = u.flagNames();
  r.setLen(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk('passwords');
  r.bulkArray(u.passwords);
  writeSelector(s, u.root);
  r.bulk('selectors');
  r.arrayLen(u.selectors.length - 1);
  for (let i = 1; i < u.selectors.length; i++) {
    r.mapLen(3);
    writeSelector(s, u.selectors[i]!);
  }
}

function users(s: Session): void {
  s.reply.bulkArray(s.engine.acl.sorted().map((u) => u.name));
}

function list(s: Session): void {
  s.reply.bulkArray(s.engine.acl.listLines());
}

function whoami(s: Session): void {
  s.reply.bulk(s.aclUser.name);
}

function cat(s: Session, argv: string[]): void {
  if (argv.length === 2) return s.reply.bulkArray(ACL_CATEGORIES as unknown as string[]);
  if (argv.length !== 3) throw new CommandError(subcommandSyntax(argv));
  const cmds = s.engine.acl.idx.category(argv[2]!);
  if (cmds === null) throw new CommandError(`ERR Unknown category '${argv[2]!.slice(0, 128)}'`);
  s.reply.bulkArray(cmds.map((c) => c.fullName));
}

function genpass(s: Session, argv: string[]): void {
  if (argv.length > 3) throw new CommandError(subcommandSyntax(argv));
  let bits = 256;
  if (argv.length === 3) bits = longArg(argv[2]!);
  if (bits <= 0 || bits > 4096) {
    throw new CommandError('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
  }
  const chars = Math.floor((bits + 3) / 4);
  s.reply.bulk(randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
}

const REASONS: Record<number, string> = { [DENIED_CMD]: 'command', [DENIED_KEY]: 'key', [DENIED_CHANNEL]: 'channel', [DENIED_AUTH]: 'auth' };

function log(s: Session, argv: string[]): void {
  if (argv.length > 3) throw new CommandError(subcommandSyntax(argv));
  const acl = s.engine.acl;
  let count = 10;
  if (argv.length === 3) {
    if (is(argv[2], 'RESET')) {
      acl.log = [];
      return s.reply.ok();
    }
    count = Math.max(0, longArg(argv[2]!));
  }
  count = Math.min(count, acl.log.length);
  const r = s.reply;
  const now = Date.now();
  r.arrayLen(count);
  for (let i = 0; i < count; i++) {
    const e = acl.log[i]!;
    r.mapLen(7);
    r.bulk('count');
    r.int(e.count);
    r.bulk('reason');
    r.bulk(REASONS[e.reason] ?? 'unknown');
    r.bulk('context');
    r.bulk(e.context);
    r.bulk('object');
    r.bulk(e.object);
    r.bulk('username');
    r.bulk(e.username);
    r.bulk('age-seconds');
    r.double((now - e.ctime) / 1000);
    r.bulk('client-info');
    r.bulk(e.cinfo);
  }
}

function dryrun(s: Session, argv: string[]): void {
  const u = s.engine.acl.get(argv[2]!);
  if (u === undefined) throw new CommandError(`ERR User '${argv[2]}' not found`);
  const target = argv.slice(3);
  let cmd = s.engine.commands.get(target[0]!);
  if (cmd !== undefined && cmd.sub !== null && target.length > 1) cmd = cmd.sub.get(target[1]!.toLowerCase());
  if (cmd === undefined) throw new CommandError(`ERR Command '${target[0]}' not found`);
  if ((cmd.arity > 0 && cmd.arity !== target.length) || target.length < -cmd.arity) {
    throw new CommandError(`ERR wrong number of arguments for '${cmd.fullName}' command`);
  }
  const v = checkCommand(u, cmd, target);
  if (v.reason === ACL_OK) return s.reply.ok();
  if (v.reason === DENIED_CMD) s.reply.bulk(`This user has no permissions to run the '${cmd.fullName}' command`);
  else if (v.reason === DENIED_KEY) s.reply.bulk(`This user has no permissions to access the '${target[v.index]}' key`);
  else s.reply.bulk(`This user has no permissions to access the '${target[v.index]}' channel`);
}

function load(s: Session): void {
  const file = s.engine.config.str('aclfile');
  if (file === '') throw new CommandError(NO_ACL_FILE);
  const err = s.engine.acl.loadFile(file, s);
  if (err !== null) throw new CommandError('ERR ' + err);
  s.reply.ok();
}

function save(s: Session): void {
  const file = s.engine.config.str('aclfile');
  if (file === '') throw new CommandError(NO_ACL_FILE);
  if (!s.engine.acl.saveFile(file)) {
    throw new CommandError('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  }
  s.reply.ok();
}

function subcommandSyntax(argv: string[]): string {
  return `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try ACL HELP.`;
}

const ACL_HELP = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'LOG [<count> | RESET]',
  '    Show the ACL log entries.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
  'HELP',
  '    Prints this help.',
];

const base = { group: 'server', since: '6.0.0' } as const;
const adm = ['admin', 'noscript', 'loading', 'stale'] as const;
const ctl = ['noscript', 'loading', 'stale'] as const;

export const aclCommands: CommandSpec[] = [
  {
    name: 'acl',
    arity: -2,
    flags: [],
    ...base,
    summary: 'A container for Access List Control commands ',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'cat', arity: -2, flags: ctl, ...base, summary: 'List the ACL categories or the commands inside a category', complexity: 'O(1) since the categories and commands are a fixed set.', handler: cat },
      { name: 'deluser', arity: -3, flags: adm, ...base, summary: 'Remove the specified ACL users and the associated rules', complexity: 'O(1) amortized time considering the typical user.', handler: deluser },
      { name: 'dryrun', arity: -4, flags: adm, ...base, since: '7.0.0', summary: 'Returns whether the user can execute the given command without executing the command.', complexity: 'O(1).', handler: dryrun },
      { name: 'genpass', arity: -2, flags: ctl, ...base, summary: 'Generate a pseudorandom secure password to use for ACL users', complexity: 'O(1)', handler: genpass },
      { name: 'getuser', arity: 3, flags: adm, ...base, summary: 'Get the rules for a specific ACL user', complexity: 'O(N). Where N is the number of password, command and pattern rules that the user has.', handler: getuser },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...base, summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: (s) => replyHelp(s, ACL_HELP) },
      { name: 'list', arity: 2, flags: adm, ...base, summary: 'List the current ACL rules in ACL config file format', complexity: 'O(N). Where N is the number of configured users.', handler: list },
      { name: 'load', arity: 2, flags: adm, ...base, summary: 'Reload the ACLs from the configured ACL file', complexity: 'O(N). Where N is the number of configured users.', handler: load },
      { name: 'log', arity: -2, flags: adm, ...base, summary: 'List latest events denied because of ACLs in place', complexity: 'O(N) with N being the number of entries shown.', handler: log },
      { name: 'save', arity: 2, flags: adm, ...base, summary: 'Save the current ACL rules in the configured ACL file', complexity: 'O(N). Where N is the number of configured users.', handler: save },
      { name: 'setuser', arity: -3, flags: adm, ...base, summary: 'Modify or create the rules for a specific ACL user', complexity: 'O(N). Where N is the number of rules provided.', handler: setuser },
      { name: 'users', arity: 2, flags: adm, ...base, summary: 'List the username of all the configured ACL rules', complexity: 'O(N). Where N is the number of configured users.', handler: users },
      { name: 'whoami', arity: 2, flags: ctl, ...base, summary: 'Return the name of the user associated to the current connection', complexity: 'O(1)', handler: whoami },
    ],
  },
];
