/**
 * CLIENT and its subcommands: identity (ID, SETNAME, GETNAME, SETINFO),
 * introspection (LIST, INFO), control of other clients (KILL, PAUSE, UNPAUSE,
 * UNBLOCK), per-connection modes (REPLY, NO-EVICT, NO-TOUCH) and client-side
 * caching (TRACKING, CACHING; see server/tracking.ts). Replies and errors
 * follow Redis 7.0 (NO-TOUCH and SETINFO follow Redis 7.2).
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from './session.js';
import { CommandError, Err } from '../errors.js';
import { intArg, is } from '../commands/args.js';
import { parseInt64 } from '../numbers/parse.js';
import { validateClientName } from './connection-commands.js';
import { isReplica } from './repl-feed.js';
import { isMasterClient } from './replica-link.js';
import { servedBlockedCall } from './dispatch.js';
import { replyBufferInfo } from './reply-buffer.js';
import { queryBufferFree } from './query-buffer.js';

// ---- CLIENT LIST / CLIENT INFO ------------------------------------------------

type ClientType = 'normal' | 'master' | 'replica' | 'pubsub';

/** CLIENT LIST / KILL TYPE argument → client class (slave is an alias of replica). */
function parseClientType(arg: string): ClientType {
  const t = arg.toLowerCase();
  if (t === 'normal' || t === 'master' || t === 'replica' || t === 'pubsub') return t;
  if (t === 'slave') return 'replica';
  throw new CommandError(`ERR Unknown client type '${arg}'`);
}

/** The class Redis puts a client in: a MONITOR client counts as normal. */
function clientType(c: Session): ClientType {
  if (isMasterClient(c)) return 'master';
  if (isReplica(c)) return 'replica';
  return c.subscriptionCount > 0 ? 'pubsub' : 'normal';
}

/** The flags field, letters in Redis's order; N when none applies. */
function clientFlags(c: Session): string {
  let f = '';
  if (isReplica(c)) f += 'S';
  if (c.monitor) f += 'O';
  if (isMasterClient(c)) f += 'M';
  if (c.subscriptionCount > 0) f += 'P';
  if (c.multi !== null) f += 'x';
  if (c.blocked !== null) f += 'b';
  const t = c.engine.tracking.mode(c);
  if (t !== undefined) {
    f += 't';
    if (t.brokenRedirect) f += 'R';
    if (t.bcast) f += 'B';
  }
  if (c.watching !== null && c.watchDirty) f += 'd';
  if (c.closing) f += 'A';
  if (c.noEvict) f += 'e';
  if (c.noTouch) f += 'T';
  return f === '' ? 'N' : f;
}

function argvBytes(argv: readonly string[]): number {
  let n = 0;
  for (const a of argv) n += a.length;
  return n;
}

/** Rough fixed per-client overhead reported in tot-mem (the client struct and its buffers). */
const CLIENT_BASE_MEM = 1920;
const REPLY_BUFFER_SIZE = 16384;

/**
 * One CLIENT LIST line (Redis 7.0 field order, plus lib-name/lib-ver once a
 * client has sent CLIENT SETINFO). `current` is the running command of the
 * calling client: its name and argv show in cmd= and argv-mem=.
 */
export function clientInfoLine(c: Session, current?: { cmd: string; argv: readonly string[] }): string {
  const t = Date.now();
  const tr = c.transport;
  const qbuf = tr?.queryBufferBytes() ?? 0;
  const omem = tr?.outputBytes() ?? 0;
  const argvMem = current ? argvBytes(current.argv) : 0;
  let multiMem = 0;
  if (c.multi !== null) for (const q of c.multi.queue) multiMem += argvBytes(q.argv) + 16 * q.argv.length;
  const rb = replyBufferInfo(c);
  const totMem = CLIENT_BASE_MEM + REPLY_BUFFER_SIZE + qbuf + argvMem + multiMem + omem;
  let line =
    `id=${c.id} addr=${tr?.addr ?? ''} laddr=${tr?.laddr ?? ''} fd=${tr?.fd ?? -1} name=${c.name}` +
    ` age=${Math.floor((t - c.createdAt) / 1000)} idle=${Math.max(0, Math.floor((t - c.lastInteraction) / 1000))}` +
    ` flags=${clientFlags(c)} db=${c.dbIndex} sub=${c.channels.size} psub=${c.patterns.size} ssub=${c.shardChannels.size}` +
    ` multi=${c.multi === null ? -1 : c.multi.queue.length} qbuf=${qbuf} qbuf-free=${queryBufferFree(c, qbuf)} argv-mem=${argvMem}` +
    ` multi-mem=${multiMem} rbs=${rb.size} rbp=${rb.peak} obl=0` +
    ` oll=${omem === 0 ? 0 : Math.ceil(omem / REPLY_BUFFER_SIZE)} omem=${omem} tot-mem=${totMem}` +
    ` events=${omem > 0 ? 'rw' : 'r'} cmd=${current ? current.cmd : c.lastCommand} user=${isMasterClient(c) ? '(superuser)' : c.user} redir=${c.engine.tracking.mode(c)?.redirect ?? -1} resp=${c.resp}`;
  if (c.libName !== '' || c.libVer !== '') line += ` lib-name=${c.libName} lib-ver=${c.libVer}`;
  return line + '\n';
}

/** Sessions CLIENT LIST shows and CLIENT KILL can reach: network clients, in connection order. */
function networkClients(s: Session): Session[] {
  const out: Session[] = [];
  for (const c of s.engine.sessions.values()) if (c.transport !== null && !c.closing) out.push(c);
  return out;
}

/** CLIENT LIST [TYPE type] | [ID id ...] */
function clientList(s: Session, argv: string[]): void {
  let clients = networkClients(s);
  if (argv.length === 4 && is(argv[2], 'TYPE')) {
    const type = parseClientType(argv[3]!);
    clients = clients.filter((c) => clientType(c) === type);
  } else if (argv.length > 3 && is(argv[2], 'ID')) {
    const ids = new Set<number>();
    for (let i = 3; i < argv.length; i++) ids.add(intArg(argv[i]!, 'ERR Invalid client ID'));
    clients = clients.filter((c) => ids.has(c.id));
  } else if (argv.length !== 2) throw new CommandError(Err.syntax);
  let text = '';
  for (const c of clients) text += clientInfoLine(c, c === s ? { cmd: 'client|list', argv } : undefined);
  s.reply.verbatim(text);
}

function clientInfo(s: Session, argv: string[]): void {
  s.reply.verbatim(clientInfoLine(s, { cmd: 'client|info', argv }));
}

// ---- CLIENT KILL ----------------------------------------------------------------

interface KillFilter {
  id?: number;
  type?: ClientType;
  addr?: string;
  laddr?: string;
  user?: string;
  skipMe: boolean;
}

function parseKillFilter(self: Session, argv: string[]): KillFilter {
  const f: KillFilter = { skipMe: true };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!;
    const val = argv[i + 1];
    if (val === undefined) throw new CommandError(Err.syntax);
    if (is(opt, 'ID')) {
      const id = parseInt64(val);
      if (id === null || id <= 0n) throw new CommandError('ERR client-id should be greater than 0');
      f.id = Number(id);
    } else if (is(opt, 'TYPE')) f.type = parseClientType(val);
    else if (is(opt, 'ADDR')) f.addr = val;
    else if (is(opt, 'LADDR')) f.laddr = val;
    else if (is(opt, 'USER')) {
      if (self.engine.acl.get(val) === undefined) throw new CommandError(`ERR No such user '${val}'`);
      f.user = val;
    } else if (is(opt, 'SKIPME')) {
      if (is(val, 'YES')) f.skipMe = true;
      else if (is(val, 'NO')) f.skipMe = false;
      else throw new CommandError(Err.syntax);
    } else throw new CommandError(Err.syntax);
  }
  return f;
}

function matchesKill(c: Session, self: Session, f: KillFilter): boolean {
  const tr = c.transport!;
  if (f.id !== undefined && c.id !== f.id) return false;
  if (f.type !== undefined && clientType(c) !== f.type) return false;
  if (f.addr !== undefined && tr.addr !== f.addr) return false;
  if (f.laddr !== undefined && tr.laddr !== f.laddr) return false;
  if (f.user !== undefined && c.user !== f.user) return false;
  if (f.skipMe && c === self) return false;
  return true;
}

/** Disconnect a client: the caller itself after this reply, anyone else now. */
function kill(self: Session, c: Session): void {
  if (c === self) c.transport!.close(true);
  else c.transport!.close(false);
}

/** CLIENT KILL addr:port (old form) | CLIENT KILL <filter> <value> ... (new form). */
function clientKill(s: Session, argv: string[]): void {
  if (argv.length === 3) {
    const target = networkClients(s).find((c) => c.transport!.addr === argv[2]);
    if (target === undefined) throw new CommandError('ERR No such client');
    s.reply.ok();
    kill(s, target);
    return;
  }
  const f = parseKillFilter(s, argv);
  const victims = networkClients(s).filter((c) => matchesKill(c, s, f));
  s.reply.int(victims.length);
  for (const c of victims) kill(s, c);
}

// ---- PAUSE / UNPAUSE / UNBLOCK --------------------------------------------------

/** Redis's answer to extra arguments on some CLIENT subcommands. */
function subcommandSyntax(sub: string): string {
  return `ERR unknown subcommand or wrong number of arguments for '${sub}'. Try CLIENT HELP.`;
}

/** CLIENT PAUSE timeout [WRITE|ALL]: the stricter mode and the later end win over a pause in force. */
function clientPause(s: Session, argv: string[]): void {
  if (argv.length > 4) throw new CommandError(subcommandSyntax('pause'));
  const timeout = parseInt64(argv[2]!);
  if (timeout === null) throw new CommandError('ERR timeout is not an integer or out of range');
  if (timeout < 0n) throw new CommandError('ERR timeout is negative');
  let mode: 'all' | 'write' = 'all';
  if (argv.length === 4) {
    if (is(argv[3], 'WRITE')) mode = 'write';
    else if (!is(argv[3], 'ALL')) throw new CommandError('ERR CLIENT PAUSE mode must be WRITE or ALL');
  }
  s.engine.pauseClients(mode, Date.now() + Number(timeout > 100_000_000_000_000n ? 100_000_000_000_000n : timeout));
  s.reply.ok();
}

function clientUnpause(s: Session): void {
  s.engine.unpause();
  s.reply.ok();
}

/** CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 if a blocked client was unblocked. */
function clientUnblock(s: Session, argv: string[]): void {
  const id = intArg(argv[2]!);
  let asError = false;
  if (argv.length === 4) {
    if (is(argv[3], 'ERROR')) asError = true;
    else if (!is(argv[3], 'TIMEOUT')) throw new CommandError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  } else if (argv.length > 4) throw new CommandError(subcommandSyntax('unblock'));
  const target = s.engine.sessions.get(id);
  const b = target?.blocked ?? null;
  if (target === undefined || b === null || b.kind === 'pause') {
    s.reply.int(0);
    return;
  }
  const call = b.call ?? null;
  if (asError) {
    s.engine.countError('UNBLOCKED');
    target.reply.error('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    b.cancel();
    target.blocked = null;
    target.transport?.resume();
  } else b.onTimeout();
  // The blocked command ends here: Redis 7.0 counts it as failed (even for TIMEOUT), and logs its time.
  if (call !== null) {
    call.cmd.failedCalls++;
    servedBlockedCall(target, call, 0);
  }
  s.reply.int(1);
}

// ---- modes and identity -----------------------------------------------------------

/** ON|OFF argument of NO-EVICT / NO-TOUCH; anything else is a syntax error. */
function onOff(arg: string): boolean {
  if (is(arg, 'ON')) return true;
  if (is(arg, 'OFF')) return false;
  throw new CommandError(Err.syntax);
}

/**
 * CLIENT REPLY ON|OFF|SKIP. The connection mutes replies while the mode is
 * not 'on'; OFF and SKIP answer nothing, ON answers OK (even right after
 * OFF or SKIP, as Redis does, so the mute ends before the OK is written).
 */
function clientReply(s: Session, argv: string[]): void {
  const a = argv[2]!;
  if (is(a, 'ON')) {
    s.replyMode = 'on';
    (s.reply as { unmute?: () => void }).unmute?.();
    s.reply.ok();
  } else if (is(a, 'OFF')) s.replyMode = 'off';
  else if (is(a, 'SKIP')) {
    if (s.replyMode !== 'off') s.replyMode = 'skip';
  } else throw new CommandError(Err.syntax);
}

function clientNoEvict(s: Session, argv: string[]): void {
  s.noEvict = onOff(argv[2]!);
  s.reply.ok();
}

function clientNoTouch(s: Session, argv: string[]): void {
  s.noTouch = onOff(argv[2]!);
  s.reply.ok();
}

function clientSetName(s: Session, argv: string[]): void {
  validateClientName(argv[2]!);
  s.name = argv[2]!;
  s.reply.ok();
}

function clientGetName(s: Session): void {
  s.reply.bulk(s.name === '' ? null : s.name);
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; clients send it on connect). */
function clientSetInfo(s: Session, argv: string[]): void {
  const attr = argv[2]!;
  const val = argv[3]!;
  const isName = is(attr, 'LIB-NAME');
  if (!isName && !is(attr, 'LIB-VER')) throw new CommandError(`ERR Unrecognized option '${attr}'`);
  for (let i = 0; i < val.length; i++) {
    const c = val.charCodeAt(i);
    if (c < 33 || c > 126) throw new CommandError(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
  }
  if (isName) s.libName = val;
  else s.libVer = val;
  s.reply.ok();
}

// ---- client side caching ------------------------------------------------------------

function prefixOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP] */
function clientTracking(s: Session, argv: string[]): void {
  const tr = s.engine.tracking;
  let redirect = 0;
  let bcast = false;
  let optin = false;
  let optout = false;
  let noloop = false;
  const prefixes: string[] = [];
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i]!;
    const more = i + 1 < argv.length;
    if (is(a, 'REDIRECT') && more) {
      if (redirect !== 0) throw new CommandError('ERR A client can only redirect to a single other client');
      const id = intArg(argv[++i]!);
      const target = s.engine.sessions.get(id);
      if (target === undefined || target.closing) throw new CommandError('ERR The client ID you want redirect to does not exist');
      redirect = id;
    } else if (is(a, 'BCAST')) bcast = true;
    else if (is(a, 'OPTIN')) optin = true;
    else if (is(a, 'OPTOUT')) optout = true;
    else if (is(a, 'NOLOOP')) noloop = true;
    else if (is(a, 'PREFIX') && more) prefixes.push(argv[++i]!);
    else throw new CommandError(Err.syntax);
  }
  if (is(argv[2], 'OFF')) {
    tr.disable(s);
    s.reply.ok();
    return;
  }
  if (!is(argv[2], 'ON')) throw new CommandError(Err.syntax);
  if (bcast && (optin || optout)) throw new CommandError('ERR OPTIN and OPTOUT are not compatible with BCAST');
  if (optin && optout) throw new CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode");
  const old = tr.mode(s);
  if (old !== undefined && old.bcast !== bcast) {
    throw new CommandError(
      "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
    );
  }
  if (!bcast && prefixes.length > 0) throw new CommandError('ERR PREFIX option requires BCAST mode to be enabled');
  const existing = old?.prefixes ?? [];
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    const clash = existing.find((e) => e !== p && prefixOverlap(e, p));
    if (clash !== undefined) {
      throw new CommandError(`ERR Prefix '${p}' overlaps with an existing prefix '${clash}'. Prefixes for a single client must not overlap.`);
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      if (prefixes[j] !== p && prefixOverlap(p, prefixes[j]!)) {
        throw new CommandError(
          `ERR Prefix '${p}' overlaps with another provided prefix '${prefixes[j]}'. Prefixes for a single client must not overlap.`,
        );
      }
    }
  }
  const all = [...existing];
  for (const p of prefixes) if (!all.includes(p)) all.push(p);
  tr.enable(s, { redirect, bcast, optin, optout, noloop, prefixes: all, caching: null, brokenRedirect: false });
  s.reply.ok();
}

function clientTrackingInfo(s: Session): void {
  const m = s.engine.tracking.mode(s);
  const flags: string[] = [];
  if (m === undefined) flags.push('off');
  else {
    flags.push('on');
    if (m.bcast) flags.push('bcast');
    if (m.optin) flags.push('optin');
    if (m.optout) flags.push('optout');
    if (m.caching === true) flags.push('caching-yes');
    if (m.caching === false) flags.push('caching-no');
    if (m.noloop) flags.push('noloop');
    if (m.brokenRedirect) flags.push('broken_redirect');
  }
  const r = s.reply;
  r.mapLen(3);
  r.bulk('flags');
  r.setLen(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk('redirect');
  r.int(m === undefined ? -1 : m.redirect);
  r.bulk('prefixes');
  // BCAST without PREFIX follows the empty prefix, which Redis lists.
  r.bulkArray(m === undefined ? [] : m.bcast && m.prefixes.length === 0 ? [''] : m.prefixes);
}

/** CLIENT CACHING YES|NO: whether the next command's keys are tracked (OPTIN / OPTOUT modes). */
function clientCaching(s: Session, argv: string[]): void {
  const m = s.engine.tracking.mode(s);
  if (m === undefined || (!m.optin && !m.optout)) {
    throw new CommandError('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  }
  if (is(argv[2], 'YES')) {
    if (!m.optin) throw new CommandError('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
    m.caching = true;
  } else if (is(argv[2], 'NO')) {
    if (!m.optout) throw new CommandError('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
    m.caching = false;
  } else throw new CommandError(Err.syntax);
  s.reply.ok();
}

function clientGetRedir(s: Session): void {
  const m = s.engine.tracking.mode(s);
  s.reply.int(m === undefined ? -1 : m.redirect);
}

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'HELP',
  '    Prints this help.',
];

/** A HELP reply: one status line per element, as Redis's addReplyHelp. */
export function replyHelp(s: Session, lines: readonly string[]): void {
  s.reply.arrayLen(lines.length);
  for (const l of lines) s.reply.simple(l);
}

const sub = { group: 'connection' } as const;
const ctl = ['noscript', 'loading', 'stale'] as const;
const adm = ['admin', 'noscript', 'loading', 'stale'] as const;

export const clientCommands: CommandSpec[] = [
  {
    name: 'client',
    arity: -2,
    flags: [],
    group: 'connection',
    summary: 'A container for client connection commands',
    since: '2.4.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { name: 'id', arity: 2, flags: ctl, ...sub, summary: 'Returns the client ID for the current connection', since: '5.0.0', complexity: 'O(1)', handler: (s) => s.reply.int(s.id) },
      { name: 'setname', arity: 3, flags: ctl, ...sub, summary: 'Set the current connection name', since: '2.6.9', complexity: 'O(1)', handler: clientSetName },
      { name: 'getname', arity: 2, flags: ctl, ...sub, summary: 'Get the current connection name', since: '2.6.9', complexity: 'O(1)', handler: clientGetName },
      { name: 'list', arity: -2, flags: adm, ...sub, tips: ['nondeterministic_output'], summary: 'Get the list of client connections', since: '2.4.0', complexity: 'O(N) where N is the number of client connections', handler: clientList },
      { name: 'info', arity: 2, flags: ctl, ...sub, tips: ['nondeterministic_output'], summary: 'Returns information about the current client connection.', since: '6.2.0', complexity: 'O(1)', handler: clientInfo },
      { name: 'kill', arity: -3, flags: adm, ...sub, summary: 'Kill the connection of a client', since: '2.4.0', complexity: 'O(N) where N is the number of client connections', handler: clientKill },
      { name: 'pause', arity: -3, flags: adm, ...sub, summary: 'Stop processing commands from clients for some time', since: '2.9.50', complexity: 'O(1)', handler: clientPause },
      { name: 'unpause', arity: 2, flags: adm, ...sub, summary: 'Resume processing of clients that were paused', since: '6.2.0', complexity: 'O(N) Where N is the number of paused clients', handler: clientUnpause },
      { name: 'unblock', arity: -3, flags: adm, ...sub, summary: 'Unblock a client blocked in a blocking command from a different connection', since: '5.0.0', complexity: 'O(log N) where N is the number of client connections', handler: clientUnblock },
      { name: 'reply', arity: 3, flags: ctl, ...sub, summary: 'Instruct the server whether to reply to commands', since: '3.2.0', complexity: 'O(1)', handler: clientReply },
      { name: 'no-evict', arity: 3, flags: adm, ...sub, summary: 'Set client eviction mode for the current connection', since: '7.0.0', complexity: 'O(1)', handler: clientNoEvict },
      { name: 'no-touch', arity: 3, flags: ctl, ...sub, summary: 'Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.', since: '7.2.0', complexity: 'O(1)', handler: clientNoTouch },
      { name: 'setinfo', arity: 4, flags: ctl, ...sub, tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], summary: 'Set client or connection specific info.', since: '7.2.0', complexity: 'O(1)', handler: clientSetInfo },
      { name: 'getredir', arity: 2, flags: ctl, ...sub, summary: 'Get tracking notifications redirection client ID if any', since: '6.0.0', complexity: 'O(1)', handler: clientGetRedir },
      { name: 'tracking', arity: -3, flags: ctl, ...sub, summary: 'Enable or disable server assisted client side caching support', since: '6.0.0', complexity: 'O(1). Some options may introduce additional complexity.', handler: clientTracking },
      { name: 'trackinginfo', arity: 2, flags: ctl, ...sub, summary: 'Return information about server assisted client side caching for the current connection', since: '6.2.0', complexity: 'O(1)', handler: clientTrackingInfo },
      { name: 'caching', arity: 3, flags: ctl, ...sub, summary: 'Instruct the server about tracking or not keys in the next request', since: '6.0.0', complexity: 'O(1)', handler: clientCaching },
      { name: 'help', arity: 2, flags: ['loading', 'stale'], ...sub, summary: 'Show helpful text about the different subcommands', since: '5.0.0', complexity: 'O(1)', handler: (s) => replyHelp(s, CLIENT_HELP) },
    ],
  },
];
