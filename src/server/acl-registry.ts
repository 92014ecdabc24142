/**
 * The ACL user registry of an engine: the users (the 'default' one kept in
 * step with `requirepass`), authentication, ACL LOG, `user` directives of the
 * config file and the ACL file (aclfile: ACL LOAD / ACL SAVE).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Engine } from './engine.js';
import type { Session } from './session.js';
import { AclCommandIndex, AclUser, describeUser, hasSpaces, mergeSelectorArgs, RuleError } from './acl-user.js';
import { DENIED_AUTH, userChannelAllowed } from './acl-check.js';

export interface AclLogEntry {
  count: number;
  reason: number;
  context: string;
  object: string;
  username: string;
  ctime: number;
  cinfo: string;
}

const LOG_GROUPING_MS = 60000;

export class AclRegistry {
  readonly users = new Map<string, AclUser>();
  readonly defaultUser: AclUser;
  /** Newest first. */
  log: AclLogEntry[] = [];
  private index: AclCommandIndex | null = null;

  constructor(private readonly engine: Engine) {
    const u = new AclUser('default', false);
    for (const op of ['+@all', '~*', '&*', 'on', 'nopass']) u.apply(op, this.idx, false);
    u.updateUnrestricted();
    this.defaultUser = u;
    this.users.set('default', u);
    const cfg = engine.config;
    const pass = cfg.str('requirepass');
    if (pass !== '') this.setDefaultPassword(pass);
    cfg.onChange('requirepass', (v) => this.setDefaultPassword(v as string));
    const directives = (cfg as { userDirectives?: string[][] }).userDirectives ?? [];
    if (directives.length > 0 && cfg.str('aclfile') !== '') {
      throw new Error('Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.');
    }
    const declared = new Set<string>();
    for (const args of directives) {
      // A user is declared once in the configuration (the default user included).
      if (args[0] !== undefined && declared.has(args[0])) {
        throw new Error(`Error in user declaration '${args[0]}': Duplicate user found. A user can only be defined once in config files`);
      }
      if (args[0] !== undefined) declared.add(args[0]);
      const err = this.defineUser(args, true);
      if (err !== null) throw new Error(`Error in user declaration '${args[0] ?? ''}': ${err}`);
    }
    if (cfg.str('aclfile') !== '') {
      const err = this.loadFile(cfg.str('aclfile'));
      if (err !== null) throw new Error(`Aborting Redis startup because of ACL errors: ${err}`);
    }
  }

  /** The commands and categories (built on first use, after renames). */
  get idx(): AclCommandIndex {
    return (this.index ??= new AclCommandIndex(this.engine.commands));
  }

  get pubsubAll(): boolean {
    return this.engine.config.str('acl-pubsub-default') === 'allchannels';
  }

  get(name: string): AclUser | undefined {
    return this.users.get(name);
  }

  /** Users in name order (as Redis's radix tree lists them). */
  sorted(): AclUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** A new connection's state: the default user, authenticated when it needs no password. */
  defaultAuthenticated(): boolean {
    return this.defaultUser.nopass && !this.defaultUser.disabled;
  }

  /** Does an unauthenticated client need AUTH (Redis's authRequired)? */
  authRequired(): boolean {
    return !this.defaultUser.nopass || this.defaultUser.disabled;
  }

  setDefaultPassword(pass: string): void {
    const u = this.defaultUser;
    u.apply('resetpass', this.idx, false);
    u.apply(pass === '' ? 'nopass' : '>' + pass, this.idx, false);
  }

  /**
   * ACL SETUSER: apply the rules to a copy, then to the user (created if
   * needed) when they are all valid. Returns the error text (without "ERR ").
   */
  setUser(name: string, rules: readonly string[], self?: Session): string | null {
    const merged = mergeSelectorArgs(rules);
    if (typeof merged === 'number') return `Unmatched parenthesis in acl selector starting at '${rules[merged]}'.`;
    const existing = this.users.get(name);
    const temp = new AclUser(name, this.pubsubAll);
    if (existing !== undefined) temp.copyFrom(existing);
    for (const op of merged) {
      const err = temp.apply(op, this.idx, this.pubsubAll);
      if (err !== null) return `Error in ACL SETUSER modifier '${cstr(op)}': ${err}`;
    }
    temp.updateUnrestricted();
    if (existing !== undefined) {
      this.killPubsubClientsIfNeeded(temp, existing, self);
      existing.copyFrom(temp);
    } else this.users.set(name, temp);
    return null;
  }

  /** A `user` line (config file or ACL file): the default user starts from `reset`. */
  private defineUser(args: readonly string[], fromConfig: boolean): string | null {
    const name = args[0];
    if (name === undefined) return 'wrong number of arguments';
    if (hasSpaces(name)) return "Usernames can't contain spaces or null characters";
    if (this.users.has(name) && name !== 'default') return 'Duplicate user found. A user can only be defined once in config files';
    if (name === 'default') this.defaultUser.apply('reset', this.idx, this.pubsubAll);
    const err = this.setUser(name, args.slice(1));
    void fromConfig;
    return err;
  }

  /** ACL DELUSER of one user: its clients are disconnected. */
  deleteUser(name: string, self: Session): boolean {
    const u = this.users.get(name);
    if (u === undefined) return false;
    this.users.delete(name);
    this.killClientsOf(u, self);
    return true;
  }

  /** Clients of a removed user: back to the default user, unauthenticated, disconnected (the caller after its reply). */
  killClientsOf(u: AclUser, self?: Session): void {
    for (const c of [...this.engine.sessions.values()]) {
      if (c.aclUser !== u) continue;
      c.aclUser = this.defaultUser;
      c.authenticated = false;
      if (c === self) c.transport?.close(true);
      else if (c.transport !== null) c.transport.close(false);
      else c.close();
    }
  }

  /**
   * Pub/sub clients of a user whose channel permissions shrink lose their
   * connection when one of their subscriptions is no longer allowed.
   */
  private killPubsubClientsIfNeeded(next: AclUser, prev: AclUser, self?: Session): void {
    if (next.selectors.some((s) => s.allChannels)) return;
    const upcoming = next.selectors.flatMap((s) => s.channels);
    let superset = true;
    for (const s of prev.selectors) {
      if (s.allChannels || s.channels.some((c) => !upcoming.includes(c))) {
        superset = false;
        break;
      }
    }
    if (superset) return;
    const probe = new AclUser('', false);
    probe.root.channels = upcoming;
    for (const c of [...this.engine.sessions.values()]) {
      if (c.aclUser !== prev || c.subscriptionCount === 0) continue;
      let kill = false;
      for (const p of c.patterns) if (!userChannelAllowed(probe, p, true)) kill = true;
      if (!kill) for (const ch of c.channels) if (!userChannelAllowed(probe, ch, false)) kill = true;
      if (!kill) for (const ch of c.shardChannels) if (!userChannelAllowed(probe, ch, false)) kill = true;
      if (!kill) continue;
      if (c === self) c.transport?.close(true);
      else if (c.transport !== null) c.transport.close(false);
      else c.close();
    }
  }

  /**
   * AUTH / HELLO AUTH: on success the session runs as that user; a failure
   * is logged (reason "auth").
   */
  authenticate(s: Session, name: string, pass: string, argv0: string, cinfo: () => string): boolean {
    const u = this.users.get(name);
    if (u !== undefined && !u.disabled && u.checkPassword(pass)) {
      s.authenticated = true;
      s.aclUser = u;
      return true;
    }
    this.addLogEntry(DENIED_AUTH, s.multi !== null ? 'multi' : 'toplevel', argv0, name, cinfo());
    return false;
  }

  addLogEntry(reason: number, context: string, object: string, username: string, cinfo: string): void {
    const now = Date.now();
    const scan = Math.min(10, this.log.length);
    for (let i = 0; i < scan; i++) {
      const e = this.log[i]!;
      if (e.reason === reason && e.context === context && Math.abs(e.ctime - now) <= LOG_GROUPING_MS && e.object === object && e.username === username) {
        this.log.splice(i, 1);
        this.log.unshift(e);
        e.cinfo = cinfo;
        e.ctime = now;
        e.count++;
        return;
      }
    }
    this.log.unshift({ count: 1, reason, context, object, username, ctime: now, cinfo });
    const max = this.engine.config.num('acllog-max-len');
    if (this.log.length > max) this.log.length = max;
  }

  /** "user <name> <rules>" lines, as ACL LIST shows them and ACL SAVE writes them. */
  listLines(): string[] {
    return this.sorted().map((u) => `user ${u.name} ${describeUser(u, this.idx)}`);
  }

  // ---- ACL file ---------------------------------------------------------------------

  /**
   * Load the ACL file: all users are replaced when every line is valid;
   * otherwise nothing changes and the errors are returned.
   */
  loadFile(path: string, self?: Session): string | null {
    let text: string;
    try {
      text = readFileSync(this.engine.config.resolvePath(path), 'latin1');
    } catch (e) {
      return `Error loading ACLs, opening file '${path}': ${strerror(e as NodeJS.ErrnoException)}`;
    }
    const scratch = new AclRegistryScratch(this);
    let errors = '';
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const n = i + 1;
      const line = lines[i]!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '') continue;
      const args = line.split(' ');
      if (args[0] !== 'user' || args.length < 2) {
        errors += `${path}:${n} should start with user keyword followed by the username. `;
        continue;
      }
      errors += scratch.define(args.slice(1), path, n);
    }
    if (errors !== '') return errors + 'WARNING: ACL errors detected, no change to the previously active ACL rules was performed';
    scratch.commit(self);
    return null;
  }

  saveFile(path: string): boolean {
    try {
      const file = this.engine.config.resolvePath(path);
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, this.listLines().map((l) => l + '\n').join(''), 'latin1');
      renameSync(tmp, file);
      return true;
    } catch (e) {
      this.engine.log.warning(`Opening temp ACL file for ACL SAVE: ${(e as Error).message}`);
      return false;
    }
  }
}

/** Users defined by an ACL file, staged before they replace the registry's. */
class AclRegistryScratch {
  private readonly users = new Map<string, AclUser>();

  constructor(private readonly reg: AclRegistry) {}

  /** One "user" line: the errors it adds to ACL LOAD's message ('' when fine). */
  define(args: string[], file: string, n: number): string {
    const name = args[0]!;
    if (hasSpaces(name)) return `'${file}:${n}: username '${name}' contains invalid characters. `;
    if (this.users.has(name)) return `WARNING: Duplicate user '${name}' found on line ${n}. `;
    const u = new AclUser(name, this.reg.pubsubAll);
    this.users.set(name, u);
    const merged = mergeSelectorArgs(args.slice(1));
    if (typeof merged === 'number') return `${file}:${n}: Unmatched parenthesis in selector definition.`;
    let errors = '';
    let syntaxError = false;
    for (const raw of merged) {
      const op = raw.replace(/^[\t\r\n]+|[\t\r\n]+$/g, '');
      const err = u.apply(op, this.reg.idx, this.reg.pubsubAll);
      if (err === null) continue;
      if (err === RuleError.unknownCommand) errors += `${file}:${n}: Error in applying operation '${op}': ${err}. `;
      else if (!syntaxError) {
        errors += `${file}:${n}: ${err}. `;
        syntaxError = true;
      }
    }
    u.updateUnrestricted();
    return errors;
  }

  /**
   * Replace the users. The live default user takes the loaded rules (or the
   * initial ones); every other user is replaced and its clients disconnected.
   */
  commit(self?: Session): void {
    const reg = this.reg;
    const kept = reg.defaultUser;
    const def = this.users.get('default');
    if (def !== undefined) kept.copyFrom(def);
    else {
      const fresh = new AclUser('default', false);
      for (const op of ['+@all', '~*', '&*', 'on', 'nopass']) fresh.apply(op, reg.idx, false);
      kept.copyFrom(fresh);
    }
    const old = [...reg.users.values()];
    reg.users.clear();
    reg.users.set('default', kept);
    for (const [name, u] of this.users) if (name !== 'default') reg.users.set(name, u);
    for (const u of old) if (u !== kept) reg.killClientsOf(u, self);
  }
}

function strerror(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EACCES':
      return 'Permission denied';
    case 'EISDIR':
      return 'Is a directory';
  }
  return e.message;
}

/** Redis formats rule strings with %s: they end at a NUL byte. */
function cstr(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}
