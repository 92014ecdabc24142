/**
 * The ACL permission check of one command invocation for one user (Redis
 * 7.0's ACLCheckAllUserCommandPerm): the command (or its allowed first
 * argument), the keys it names with the access its key specs declare
 * (read: %R, write: %W), and the pub/sub channels of PUBLISH / SUBSCRIBE /
 * PSUBSCRIBE and their shard forms. The dispatch gate only calls it for a
 * user that is not unrestricted (the default +@all ~* &* user never does).
 */
import type { Command } from '../commands/command-table.js';
import { keySpecIndexes, keySpecsOf, variableKeyFlags } from '../commands/introspection-commands.js';
import { globMatch } from '../keyspace/glob.js';
import { PERM_READ, PERM_WRITE, type AclUser, type Selector } from './acl-user.js';
import type { Session } from './session.js';
import { clientInfoLine } from './client-commands.js';

export const ACL_OK = 0;
export const DENIED_CMD = 1;
export const DENIED_KEY = 2;
export const DENIED_AUTH = 3;
export const DENIED_CHANNEL = 4;

export interface AclVerdict {
  reason: number;
  /** argv index of the denied key or channel. */
  index: number;
}

interface KeyRef {
  index: number;
  perm: number;
}

function permOf(flags: readonly string[]): number {
  let p = 0;
  for (const f of flags) {
    if (f === 'access') p |= PERM_READ;
    else if (f === 'insert' || f === 'delete' || f === 'update') p |= PERM_WRITE;
  }
  return p;
}

/** The keys of an invocation with the access each needs. */
function keyRefs(cmd: Command, argv: string[]): KeyRef[] {
  const specs = keySpecsOf(cmd).filter((ks) => !ks.flags.includes('not_key'));
  const perms = specs.map((ks) => permOf(ks.flags.includes('variable_flags') ? (variableKeyFlags(cmd.name, argv) ?? ks.flags) : ks.flags));
  const out: KeyRef[] = [];
  if (cmd.getKeys !== undefined) {
    let idxs: number[];
    try {
      idxs = cmd.getKeys(argv);
    } catch {
      idxs = [];
    }
    const per = specs.map((ks) => new Set(keySpecIndexes(ks, argv)));
    for (const i of idxs) {
      if (i <= 0 || i >= argv.length) continue;
      const k = per.findIndex((set) => set.has(i));
      out.push({ index: i, perm: perms[k < 0 ? 0 : k] ?? 0 });
    }
  } else {
    specs.forEach((ks, k) => {
      for (const i of keySpecIndexes(ks, argv)) if (i > 0 && i < argv.length) out.push({ index: i, perm: perms[k]! });
    });
  }
  return out;
}

function hasKeys(cmd: Command): boolean {
  return cmd.getKeys !== undefined || keySpecsOf(cmd).some((ks) => !ks.flags.includes('not_key'));
}

/** Channel arguments: [first index, count (-1 = all the rest), pattern?] for commands that publish or subscribe. */
function channelArgs(cmd: Command): readonly [number, number, boolean] | null {
  if (cmd.parent !== null) return null;
  switch (cmd.name) {
    case 'subscribe':
    case 'ssubscribe':
      return [1, -1, false];
    case 'psubscribe':
      return [1, -1, true];
    case 'publish':
    case 'spublish':
      return [1, 1, false];
  }
  return null;
}

/** A channel (or, for PSUBSCRIBE, a pattern taken literally) against a list of allowed channel patterns. */
export function channelAllowed(list: readonly string[], channel: string, isPattern: boolean): boolean {
  for (const p of list) if (isPattern ? p === channel : globMatch(p, channel)) return true;
  return false;
}

function keyAllowed(sel: Selector, key: string, perm: number): boolean {
  if (sel.allKeys) return true;
  for (const p of sel.patterns) {
    if ((p.flags & perm) !== perm) continue;
    if (globMatch(p.pattern, key)) return true;
  }
  return false;
}

function selectorCheck(sel: Selector, cmd: Command, argv: string[], cache: { keys: KeyRef[] | null }, out: AclVerdict): number {
  if (!sel.allCommands && !cmd.noAuth && !sel.allowed.has(cmd)) {
    const fa = sel.firstArgs?.get(cmd);
    if (argv.length < 2 || fa === undefined) return DENIED_CMD;
    const arg = argv[cmd.parent ? 2 : 1]?.toLowerCase();
    if (!fa.some((a) => a.toLowerCase() === arg)) return DENIED_CMD;
  }
  if (!sel.allKeys && hasKeys(cmd)) {
    cache.keys ??= keyRefs(cmd, argv);
    for (const k of cache.keys) {
      if (!keyAllowed(sel, argv[k.index]!, k.perm)) {
        out.index = k.index;
        return DENIED_KEY;
      }
    }
  }
  if (!sel.allChannels) {
    const ch = channelArgs(cmd);
    if (ch !== null) {
      const [first, count, isPattern] = ch;
      const last = count < 0 ? argv.length - 1 : Math.min(argv.length - 1, first + count - 1);
      for (let i = first; i <= last; i++) {
        if (!channelAllowed(sel.channels, argv[i]!, isPattern)) {
          out.index = i;
          return DENIED_CHANNEL;
        }
      }
    }
  }
  return ACL_OK;
}

/** Can `u` run this invocation? The most relevant denial across selectors otherwise. */
export function checkCommand(u: AclUser, cmd: Command, argv: string[]): AclVerdict {
  let reason = DENIED_CMD;
  let lastIdx = 0;
  const cache = { keys: null as KeyRef[] | null };
  const local: AclVerdict = { reason: 0, index: 0 };
  for (const sel of u.selectors) {
    local.index = 0;
    const r = selectorCheck(sel, cmd, argv, cache, local);
    if (r === ACL_OK) return { reason: ACL_OK, index: 0 };
    if (r > reason || (r === reason && local.index > lastIdx)) {
      reason = r;
      lastIdx = local.index;
    }
  }
  return { reason, index: lastIdx };
}

/**
 * May `s` run this invocation through a selector that reads every key
 * (~* / allkeys, or a %R~* pattern)? Redis's
 * ACLUserCheckCmdWithUnrestrictedKeyAccess: SORT's BY and GET patterns,
 * which name keys no key spec shows, need it.
 */
export function fullKeyReadAccess(s: Session, cmd: Command, argv: string[]): boolean {
  const u = s.aclUser;
  if (u.unrestricted || s.obeyClient) return true;
  const cache = { keys: null as KeyRef[] | null };
  const local: AclVerdict = { reason: 0, index: 0 };
  for (const sel of u.selectors) {
    if (selectorCheck(sel, cmd, argv, cache, local) !== ACL_OK) continue;
    if (sel.allKeys || sel.patterns.some((p) => (p.flags & PERM_READ) !== 0 && p.pattern === '*')) return true;
  }
  return false;
}

/** Can `u` use this channel (PUBLISH-like) or literal pattern? */
export function userChannelAllowed(u: AclUser, channel: string, isPattern: boolean): boolean {
  for (const sel of u.selectors) {
    if (sel.allChannels) return true;
    if (channelAllowed(sel.channels, channel, isPattern)) return true;
  }
  return false;
}

export type LogContext = 'toplevel' | 'multi' | 'lua' | 'module';

/** Record a denial in ACL LOG. */
export function logDenial(s: Session, v: AclVerdict, cmd: Command, argv: string[], context: LogContext, caller?: Session): void {
  const object = v.reason === DENIED_CMD ? cmd.fullName : argv[v.index]!;
  const who = caller ?? s;
  s.engine.acl.addLogEntry(v.reason, context, object, s.aclUser.name, clientInfoLine(who, { cmd: cmd.fullName, argv }).trimEnd());
}

/** The error a top-level (or queued) command gets (Redis's processCommand texts). */
export function deniedMessage(v: AclVerdict, cmd: Command): string {
  switch (v.reason) {
    case DENIED_CMD:
      return `NOPERM this user has no permissions to run the '${cmd.fullName}' command`;
    case DENIED_KEY:
      return 'NOPERM this user has no permissions to access one of the keys used as arguments';
    case DENIED_CHANNEL:
      return 'NOPERM this user has no permissions to access one of the channels used as arguments';
  }
  return 'ERR no permission';
}

/**
 * The dispatch gate's check (only for sessions whose user is restricted):
 * null when allowed, else the error line (the denial is logged).
 */
export function aclGate(s: Session, cmd: Command, argv: string[]): string | null {
  const v = checkCommand(s.aclUser, cmd, argv);
  if (v.reason === ACL_OK) return null;
  logDenial(s, v, cmd, argv, s.multi !== null ? 'multi' : 'toplevel');
  return deniedMessage(v, cmd);
}

/** EXEC re-checks each queued command: the rules may have changed since it was queued. */
export function aclExecCheck(s: Session, cmd: Command, argv: string[]): string | null {
  if (s.aclUser.unrestricted || s.obeyClient) return null;
  const v = checkCommand(s.aclUser, cmd, argv);
  if (v.reason === ACL_OK) return null;
  logDenial(s, v, cmd, argv, 'multi');
  const reason =
    v.reason === DENIED_CMD
      ? 'no permission to execute the command or subcommand'
      : v.reason === DENIED_KEY
        ? 'no permission to touch the specified keys'
        : v.reason === DENIED_CHANNEL
          ? 'no permission to access one of the channels used as arguments'
          : 'no permission';
  return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
}

/**
 * For redis.call from a script: the command runs under the caller's user.
 * Returns null when allowed, else the script error (the denial is logged
 * with context "lua").
 */
export function aclScriptCheck(caller: Session, scriptClient: Session, cmd: Command, argv: string[]): string | null {
  const u = caller.aclUser;
  if (u.unrestricted || caller.obeyClient) return null;
  const v = checkCommand(u, cmd, argv);
  if (v.reason === ACL_OK) return null;
  const object = v.reason === DENIED_CMD ? cmd.fullName : argv[v.index]!;
  caller.engine.acl.addLogEntry(v.reason, 'lua', object, u.name, clientInfoLine(caller, { cmd: caller.lastCommand, argv: [] }).trimEnd());
  void scriptClient;
  const msg =
    v.reason === DENIED_CMD
      ? "can't run this command or subcommand"
      : v.reason === DENIED_KEY
        ? "can't access at least one of the keys mentioned in the command arguments"
        : v.reason === DENIED_CHANNEL
          ? "can't publish to the channel mentioned in the command"
          : 'lacking the permissions for the command';
  return `ERR The user executing the script ${msg}`;
}
