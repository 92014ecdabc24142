/**
 * ACL users and their rules (Redis 7.0 semantics): a user has flags
 * (on/off, nopass, sanitize-payload), a list of SHA-256 password hashes and
 * selectors; the first selector is the root one. A selector holds the set of
 * commands it allows (subcommands are separate entries, a container rule
 * applies to all its subcommands), allowed first arguments of commands that
 * have no subcommands, key patterns with read/write permissions and channel
 * patterns. `ACL SETUSER` rules are applied by `applyRules`; `describeUser`
 * gives the canonical rule string ACL LIST shows.
 */
import { createHash } from 'node:crypto';
import type { Command, CommandTable } from '../commands/command-table.js';
import { ACL_CATEGORIES, commandCategories } from '../commands/introspection-commands.js';

export { ACL_CATEGORIES };

export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_ALL = 3;

export interface KeyPattern {
  pattern: string;
  flags: number;
}

/** Redis's ACLSetUserStringError texts. */
export const RuleError = {
  syntax: 'Syntax error',
  unknownCommand: 'Unknown command or category name in ACL',
  keyAfterAll:
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  channelAfterAll:
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  noSuchPassword: 'The password you are trying to remove from the user does not exist',
  badHash: 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters',
  firstArgOfSub: 'Allowing first-arg of a subcommand is not supported',
} as const;

export function hashPassword(clear: string): string {
  return createHash('sha256').update(Buffer.from(clear, 'latin1')).digest('hex');
}

function validHash(h: string): boolean {
  return /^[0-9a-f]{64}$/.test(h);
}

/** Spaces (C isspace) or NUL: not allowed in user names and patterns. */
export function hasSpaces(s: string): boolean {
  return /[ \t\n\v\f\r\0]/.test(s);
}

/** The commands and categories the rules refer to, from the command table. */
export class AclCommandIndex {
  /** Every command and subcommand, containers before their subcommands. */
  readonly all: Command[] = [];
  readonly byCategory = new Map<string, Command[]>();

  constructor(readonly table: CommandTable) {
    for (const c of table.commands.values()) {
      this.all.push(c);
      if (c.sub !== null) for (const sc of c.sub.values()) this.all.push(sc);
    }
    for (const cat of ACL_CATEGORIES) this.byCategory.set(cat, []);
    for (const c of this.all) {
      for (const cat of commandCategories(c)) this.byCategory.get(cat.slice(1))?.push(c);
    }
  }

  /** ACL's command lookup: "get" or "config|get" (any case); null when unknown. */
  lookup(name: string): Command | null {
    const parts = name.split('|');
    if (parts.length > 2) return null;
    const base = this.table.get(parts[0]!);
    if (base === undefined) return null;
    if (parts.length === 1) return base;
    if (base.sub === null) return null;
    return base.sub.get(parts[1]!.toLowerCase()) ?? null;
  }

  category(name: string): Command[] | null {
    return this.byCategory.get(name.toLowerCase()) ?? null;
  }
}

export class Selector {
  allKeys = false;
  allChannels = false;
  /** Every command bit is set (the fast path of the check). */
  allCommands = false;
  /** The reserved "future commands" bit: set by +@all, kept until -@all. */
  future = false;
  allowed = new Set<Command>();
  firstArgs: Map<Command, string[]> | null = null;
  patterns: KeyPattern[] = [];
  channels: string[] = [];

  constructor(readonly root: boolean) {}

  clone(): Selector {
    const s = new Selector(this.root);
    s.allKeys = this.allKeys;
    s.allChannels = this.allChannels;
    s.allCommands = this.allCommands;
    s.future = this.future;
    s.allowed = new Set(this.allowed);
    if (this.firstArgs !== null) {
      s.firstArgs = new Map();
      for (const [k, v] of this.firstArgs) s.firstArgs.set(k, v.slice());
    }
    s.patterns = this.patterns.map((p) => ({ ...p }));
    s.channels = this.channels.slice();
    return s;
  }

  setCommand(cmd: Command, allow: boolean): void {
    if (allow) this.allowed.add(cmd);
    else {
      this.allowed.delete(cmd);
      this.allCommands = false;
    }
  }

  /** Allow or deny a command; a container rule applies to all its subcommands. */
  changePerm(cmd: Command, allow: boolean): void {
    this.setCommand(cmd, allow);
    this.firstArgs?.delete(cmd);
    if (cmd.sub !== null) for (const sc of cmd.sub.values()) this.setCommand(sc, allow);
  }

  setAll(idx: AclCommandIndex, allow: boolean): void {
    this.allowed = allow ? new Set(idx.all) : new Set();
    this.allCommands = allow;
    this.future = allow;
    this.firstArgs = null;
  }

  addFirstArg(cmd: Command, arg: string): void {
    this.firstArgs ??= new Map();
    const l = this.firstArgs.get(cmd) ?? [];
    if (!l.some((a) => a.toLowerCase() === arg.toLowerCase())) l.push(arg);
    this.firstArgs.set(cmd, l);
  }

  /** Apply one selector rule; returns Redis's error description, or null. */
  apply(op: string, idx: AclCommandIndex): string | null {
    const lower = op.toLowerCase();
    if (lower === 'allkeys' || op === '~*') {
      this.allKeys = true;
      this.patterns = [];
    } else if (lower === 'resetkeys') {
      this.allKeys = false;
      this.patterns = [];
    } else if (lower === 'allchannels' || op === '&*') {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === 'resetchannels') {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === 'allcommands' || lower === '+@all') {
      this.setAll(idx, true);
    } else if (lower === 'nocommands' || lower === '-@all') {
      this.setAll(idx, false);
    } else if (op[0] === '~' || op[0] === '%') {
      if (this.allKeys) return RuleError.keyAfterAll;
      let flags = 0;
      let offset = 1;
      if (op[0] === '%') {
        for (; offset < op.length; offset++) {
          const ch = op[offset]!.toUpperCase();
          if (ch === 'R' && !(flags & PERM_READ)) flags |= PERM_READ;
          else if (ch === 'W' && !(flags & PERM_WRITE)) flags |= PERM_WRITE;
          else if (op[offset] === '~') {
            offset++;
            break;
          } else return RuleError.syntax;
        }
        if (flags === 0) return RuleError.syntax;
      } else flags = PERM_ALL;
      const pattern = op.slice(offset);
      if (hasSpaces(pattern)) return RuleError.syntax;
      const same = this.patterns.find((p) => p.pattern === pattern);
      if (same === undefined) this.patterns.push({ pattern, flags });
      else same.flags |= flags;
      this.allKeys = false;
    } else if (op[0] === '&') {
      if (this.allChannels) return RuleError.channelAfterAll;
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) return RuleError.syntax;
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.allChannels = false;
    } else if (op[0] === '+' && op[1] !== '@') {
      const bar = op.lastIndexOf('|');
      if (bar < 0) {
        const cmd = idx.lookup(op.slice(1));
        if (cmd === null) return RuleError.unknownCommand;
        this.changePerm(cmd, true);
      } else {
        const cmd = idx.lookup(op.slice(1, bar));
        if (cmd === null) return RuleError.unknownCommand;
        if (cmd.parent !== null) return RuleError.firstArgOfSub;
        const sub = op.slice(bar + 1);
        if (sub === '') return RuleError.syntax;
        if (cmd.sub !== null) {
          const sc = idx.lookup(op.slice(1));
          if (sc === null) return RuleError.unknownCommand;
          this.changePerm(sc, true);
        } else this.addFirstArg(cmd, sub);
      }
    } else if (op[0] === '-' && op[1] !== '@') {
      const cmd = idx.lookup(op.slice(1));
      if (cmd === null) return RuleError.unknownCommand;
      this.changePerm(cmd, false);
    } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
      const cmds = idx.category(op.slice(2));
      if (cmds === null) return RuleError.unknownCommand;
      for (const c of cmds) this.changePerm(c, op[0] === '+');
    } else return RuleError.syntax;
    return null;
  }
}

export class AclUser {
  enabled = false;
  disabled = true;
  nopass = false;
  skipSanitize = false;
  sanitize = false;
  /** SHA-256 hex hashes, in the order added. */
  passwords: string[] = [];
  selectors: Selector[];
  /** +@all ~* &* on some selector: the dispatch gate has nothing to check. */
  unrestricted = false;

  constructor(
    readonly name: string,
    pubsubAll: boolean,
  ) {
    const root = new Selector(true);
    root.allChannels = pubsubAll;
    this.selectors = [root];
  }

  get root(): Selector {
    return this.selectors[0]!;
  }

  /** Can log in: enabled. */
  get on(): boolean {
    return this.enabled && !this.disabled;
  }

  copyFrom(o: AclUser): void {
    this.enabled = o.enabled;
    this.disabled = o.disabled;
    this.nopass = o.nopass;
    this.skipSanitize = o.skipSanitize;
    this.sanitize = o.sanitize;
    this.passwords = o.passwords.slice();
    this.selectors = o.selectors.map((s) => s.clone());
    this.updateUnrestricted();
  }

  updateUnrestricted(): void {
    this.unrestricted = this.selectors.some((s) => s.allCommands && s.allKeys && s.allChannels);
  }

  /** Check a password (nopass users accept any). */
  checkPassword(pass: string): boolean {
    if (this.nopass) return true;
    return this.passwords.includes(hashPassword(pass));
  }

  /** The flags GETUSER and ACL LIST show, in Redis's order. */
  flagNames(): string[] {
    const out: string[] = [];
    if (this.enabled) out.push('on');
    if (this.disabled) out.push('off');
    if (this.nopass) out.push('nopass');
    if (this.skipSanitize) out.push('skip-sanitize-payload');
    if (this.sanitize) out.push('sanitize-payload');
    return out;
  }

  /** Apply one user rule; returns Redis's error description, or null. */
  apply(op: string, idx: AclCommandIndex, pubsubAll: boolean): string | null {
    if (op === '') return null;
    const lower = op.toLowerCase();
    switch (lower) {
      case 'on':
        this.enabled = true;
        this.disabled = false;
        return null;
      case 'off':
        this.enabled = false;
        this.disabled = true;
        return null;
      case 'skip-sanitize-payload':
        this.skipSanitize = true;
        this.sanitize = false;
        return null;
      case 'sanitize-payload':
        this.skipSanitize = false;
        this.sanitize = true;
        return null;
      case 'nopass':
        this.nopass = true;
        this.passwords = [];
        return null;
      case 'resetpass':
        this.nopass = false;
        this.passwords = [];
        return null;
      case 'clearselectors':
        this.selectors = [this.root];
        return null;
      case 'reset': {
        this.apply('resetpass', idx, pubsubAll);
        this.root.apply('resetkeys', idx);
        this.root.apply('resetchannels', idx);
        if (pubsubAll) this.root.apply('allchannels', idx);
        this.apply('off', idx, pubsubAll);
        this.apply('sanitize-payload', idx, pubsubAll);
        this.apply('clearselectors', idx, pubsubAll);
        this.root.apply('-@all', idx);
        return null;
      }
    }
    const c0 = op[0];
    if (c0 === '>' || c0 === '#') {
      let hash: string;
      if (c0 === '>') hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!validHash(hash)) return RuleError.badHash;
      }
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.nopass = false;
      return null;
    }
    if (c0 === '<' || c0 === '!') {
      let hash: string;
      if (c0 === '<') hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!validHash(hash)) return RuleError.badHash;
      }
      const i = this.passwords.indexOf(hash);
      if (i < 0) return RuleError.noSuchPassword;
      this.passwords.splice(i, 1);
      return null;
    }
    if (c0 === '(' && op[op.length - 1] === ')') {
      const sel = new Selector(false);
      sel.allChannels = pubsubAll;
      for (const inner of op.slice(1, -1).split(/\s+/)) {
        if (inner === '') continue;
        const err = sel.apply(inner, idx);
        if (err !== null) return err;
      }
      this.selectors.push(sel);
      return null;
    }
    return this.root.apply(op, idx);
  }
}

/**
 * Selector arguments may be split over several arguments ("(+get" "~k)"):
 * join them. Returns the merged list, or the index of an unclosed "(".
 */
export function mergeSelectorArgs(args: readonly string[]): string[] | number {
  const out: string[] = [];
  let open = -1;
  let cur = '';
  for (let j = 0; j < args.length; j++) {
    const op = args[j]!;
    if (op.length > 0 && op[0] === '(' && op[op.length - 1] !== ')' && open < 0) {
      cur = op;
      open = j;
      continue;
    }
    if (open >= 0) {
      cur += ' ' + op;
      if (op.length > 0 && op[op.length - 1] === ')') {
        open = -1;
        out.push(cur);
      }
      continue;
    }
    out.push(op);
  }
  return open >= 0 ? open : out;
}

// ---- describing rules (ACL LIST, GETUSER) ---------------------------------------------

/** Apply a category op to a scratch allowed-set (container rules reach subcommands). */
function applyToSet(set: Set<Command>, cmds: readonly Command[], allow: boolean): void {
  for (const c of cmds) {
    if (allow) set.add(c);
    else set.delete(c);
    if (c.sub !== null) for (const sc of c.sub.values()) allow ? set.add(sc) : set.delete(sc);
  }
}

/**
 * The command rules of a selector as a rule string that rebuilds it: "+@all"
 * or "-@all", then the categories that best fit, then single commands.
 */
export function describeCommandRules(sel: Selector, idx: AclCommandIndex): string {
  const rules: string[] = [];
  const additive = !sel.future;
  rules.push(additive ? '-@all' : '+@all');
  const fake = additive ? new Set<Command>() : new Set(idx.all);
  const temp = new Set(sel.allowed);
  const applied = new Set<string>();
  for (;;) {
    let best: string | null = null;
    let minDiff = Number.MAX_SAFE_INTEGER;
    let maxSame = 0;
    for (const cat of ACL_CATEGORIES) {
      if (applied.has(cat)) continue;
      let on = 0;
      let off = 0;
      for (const c of idx.byCategory.get(cat)!) temp.has(c) ? on++ : off++;
      const diff = additive ? off : on;
      const same = additive ? on : off;
      if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
        best = cat;
        minDiff = diff;
        maxSame = same;
      }
    }
    if (best === null) break;
    const cmds = idx.byCategory.get(best)!;
    applyToSet(fake, cmds, additive);
    applyToSet(temp, cmds, !additive);
    rules.push((additive ? '+@' : '-@') + best);
    applied.add(best);
  }
  for (const c of idx.all) {
    const userBit = sel.allowed.has(c);
    if (userBit !== fake.has(c)) {
      rules.push((userBit ? '+' : '-') + c.fullName);
      applyToSet(fake, [c], userBit);
    }
    const fa = sel.firstArgs?.get(c);
    if (!userBit && fa !== undefined) for (const a of fa) rules.push(`+${c.fullName}|${a}`);
  }
  return rules.join(' ');
}

export function patternString(p: KeyPattern): string {
  const prefix = p.flags === PERM_ALL ? '~' : p.flags === PERM_READ ? '%R~' : '%W~';
  return prefix + p.pattern;
}

export function describeKeys(sel: Selector): string {
  return sel.allKeys ? '~*' : sel.patterns.map(patternString).join(' ');
}

export function describeChannels(sel: Selector): string {
  return sel.allChannels ? '&*' : sel.channels.map((c) => '&' + c).join(' ');
}

function describeSelector(sel: Selector, idx: AclCommandIndex): string {
  let res = '';
  if (sel.allKeys) res += '~* ';
  else for (const p of sel.patterns) res += patternString(p) + ' ';
  if (sel.allChannels) res += '&* ';
  else {
    res += 'resetchannels ';
    for (const c of sel.channels) res += '&' + c + ' ';
  }
  return res + describeCommandRules(sel, idx);
}

/** The rules ACL LIST shows after "user <name> ". */
export function describeUser(u: AclUser, idx: AclCommandIndex): string {
  let res = '';
  for (const f of u.flagNames()) res += f + ' ';
  for (const p of u.passwords) res += '#' + p + ' ';
  for (const sel of u.selectors) {
    const d = describeSelector(sel, idx);
    res += sel.root ? d : ` (${d})`;
  }
  return res;
}
