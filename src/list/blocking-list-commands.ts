/**
 * Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
 *
 * Each first tries to serve at once, exactly like its non-blocking form. When
 * every key is empty the client blocks on them (server/blocking.ts) until a
 * push from any client makes one ready — served in the order clients
 * blocked — or the timeout passes (null array, in RESP3 a null). Inside
 * MULTI/EXEC a blocking command never blocks: it answers as on a timeout
 * (BLMOVE and BRPOPLPUSH with a null bulk there, as Redis 7.0 does); nor does
 * an in-process session (server/local-session.ts).
 *
 * A served command is propagated as its deterministic effect: BLPOP/BRPOP as
 * LPOP/RPOP key, BLMPOP as LPOP/RPOP key count, BLMOVE as LMOVE (with the
 * directions as the client wrote them), BRPOPLPUSH as RPOPLPUSH.
 */
import type { CommandSpec } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { Err } from '../errors.js';
import { readyValue, serveOrBlock, serveWhenReady } from '../server/blocking.js';
import type { ListEnd } from './list-value.js';
import { ListValue } from './list-value.js';
import {
  MOVE_KEY_SPECS,
  endArg,
  firstNonEmpty,
  listKeySpec,
  moveElement,
  parseMpop,
  popOneWithKey,
  popRangeWithKey,
  writeList,
} from './list-commands.js';

/**
 * May this client wait? Not inside MULTI/EXEC, and not an in-process session
 * (no connection to resume later, like a script in Redis): those get the
 * timeout answer at once.
 */
const cannotBlock = (s: Session): boolean => s.inExec || s.transport === null;

/** Timeout reply of every blocking list command: RESP2 `*-1`, RESP3 `_`. */
const timedOut = (s: Session): void => s.reply.nullArray();

// ---------------------------------------------------------------------------
// BLPOP / BRPOP

function blockingPop(s: Session, argv: string[], end: ListEnd): void {
  const keys = argv.slice(1, -1);
  serveOrBlock(s, {
    timeout: argv[argv.length - 1]!,
    keys,
    serveNow: () => {
      const hit = firstNonEmpty(s, keys);
      if (hit !== null) popOneWithKey(s, hit.key, hit.list, end);
      return hit !== null;
    },
    serve: serveWhenReady(ListValue, (bs, key, l) => popOneWithKey(bs, key, l, end)),
    onTimeout: timedOut,
    cannotBlock,
  });
}

// ---------------------------------------------------------------------------
// BLMOVE / BRPOPLPUSH

/**
 * Serve a blocked BLMOVE from `src`. A destination holding another type
 * unblocks the client with WRONGTYPE and leaves the source untouched.
 */
function serveMove(s: Session, src: string, dst: string, from: ListEnd, to: ListEnd, rewrite: string[]): boolean {
  const sl = readyValue(s, src, ListValue);
  if (sl === null) return false;
  if (src !== dst) {
    const dv = s.db.peek(dst);
    if (dv !== undefined && !(dv instanceof ListValue)) {
      s.engine.countError('WRONGTYPE');
      s.reply.error(Err.wrongType);
      return true;
    }
  }
  moveElement(s, src, dst, from, to, sl);
  s.rewriteAs(rewrite);
  return true;
}

/**
 * `rewrite` is what an immediate move propagates (the client's own words);
 * `servedRewrite` what a served blocked one does (Redis 7.0 writes its own
 * lowercase left/right there).
 */
function blmoveGeneric(s: Session, src: string, dst: string, from: ListEnd, to: ListEnd, timeoutText: string, rewrite: string[], servedRewrite: string[]): void {
  serveOrBlock(s, {
    timeout: timeoutText,
    keys: [src],
    serveNow: () => {
      const sl = writeList(s, src);
      if (sl === undefined || sl.size === 0) return false;
      moveElement(s, src, dst, from, to, sl);
      s.rewriteAs(rewrite);
      return true;
    },
    serve: (bs) => serveMove(bs, src, dst, from, to, servedRewrite),
    onTimeout: timedOut,
    noWaitReply: (ns) => ns.reply.nullBulk(),
    cannotBlock,
  });
}

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
function blmove(s: Session, argv: string[]): void {
  const from = endArg(argv[3]!);
  const to = endArg(argv[4]!);
  blmoveGeneric(s, argv[1]!, argv[2]!, from, to, argv[5]!, ['LMOVE', argv[1]!, argv[2]!, argv[3]!, argv[4]!], ['LMOVE', argv[1]!, argv[2]!, from, to]);
}

/** BRPOPLPUSH source destination timeout */
function brpoplpush(s: Session, argv: string[]): void {
  const rewrite = ['RPOPLPUSH', argv[1]!, argv[2]!];
  blmoveGeneric(s, argv[1]!, argv[2]!, 'right', 'left', argv[3]!, rewrite, rewrite);
}

// ---------------------------------------------------------------------------
// BLMPOP

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
function blmpop(s: Session, argv: string[]): void {
  const a = parseMpop(argv, 2);
  serveOrBlock(s, {
    timeout: argv[1]!,
    keys: a.keys,
    serveNow: () => {
      const hit = firstNonEmpty(s, a.keys);
      if (hit !== null) popRangeWithKey(s, hit.key, hit.list, a.end, a.count);
      return hit !== null;
    },
    serve: serveWhenReady(ListValue, (bs, key, l) => popRangeWithKey(bs, key, l, a.end, a.count)),
    onTimeout: timedOut,
    cannotBlock,
  });
}

// ---------------------------------------------------------------------------
// Command table

const BLOCKING_POP_SPECS = [listKeySpec(['RW', 'access', 'delete'], 1, -2)];

export const blockingListCommands: CommandSpec[] = [
  {
    name: 'blpop', arity: -3, flags: ['write', 'noscript', 'blocking'], group: 'list',
    summary: 'Remove and get the first element in a list, or block until one is available', since: '2.0.0',
    complexity: 'O(N) where N is the number of provided keys.', keys: [1, -2, 1], keySpecs: BLOCKING_POP_SPECS,
    handler: (s, argv) => blockingPop(s, argv, 'left'),
  },
  {
    name: 'brpop', arity: -3, flags: ['write', 'noscript', 'blocking'], group: 'list',
    summary: 'Remove and get the last element in a list, or block until one is available', since: '2.0.0',
    complexity: 'O(N) where N is the number of provided keys.', keys: [1, -2, 1], keySpecs: BLOCKING_POP_SPECS,
    handler: (s, argv) => blockingPop(s, argv, 'right'),
  },
  {
    name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], group: 'list',
    summary: 'Pop an element from a list, push it to another list and return it; or block until one is available', since: '6.2.0',
    complexity: 'O(1)', keys: [1, 2, 1], keySpecs: MOVE_KEY_SPECS, handler: blmove,
  },
  {
    name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], group: 'list',
    summary: 'Pop an element from a list, push it to another list and return it; or block until one is available', since: '2.2.0',
    complexity: 'O(1)', keys: [1, 2, 1], keySpecs: MOVE_KEY_SPECS, handler: brpoplpush,
  },
  {
    name: 'blmpop', arity: -5, flags: ['write', 'blocking', 'movablekeys'], group: 'list',
    summary: 'Pop elements from a list, or block until one is available', since: '7.0.0',
    complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.', keys: [0, 0, 0],
    keySpecs: [{ flags: ['RW', 'access', 'delete'], begin: { index: 2 }, find: { keynum: [0, 1, 1] } }],
    handler: blmpop,
  },
];
