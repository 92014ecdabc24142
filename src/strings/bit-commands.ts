/**
 * Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
 * The bit algorithms are in strings/bitops.ts; this file parses arguments,
 * looks keys up and replies.
 */
import { type CommandSpec, typeCommand } from '../commands/command-table.js';
import type { Session } from '../server/session.js';
import { CommandError, Err } from '../errors.js';
import { int64Arg, is, longArg } from '../commands/args.js';
import { MutableString, stringLength, type StringValue } from '../keyspace/values.js';
import {
  bitcount,
  bitfieldClampForSet,
  bitfieldGet,
  bitfieldIncr,
  bitfieldSet,
  bitop,
  bitpos,
  bytesNeededForBit,
  getbit,
  parseBitOffset,
  parseBitfieldOffset,
  parseBitfieldType,
  setbit,
  type BitOp,
  type BitUnit,
  type BitfieldOverflow,
} from './bitops.js';
import { asString, exactlyGreater, keySpec, maxBulkLen, mutableForWrite, valueBytes, zeroString } from './string-commands.js';

const INT64_MAX = 9223372036854775807n;
const BIT_VALUE_ERR = 'ERR bit is not an integer or out of range';

function bitOffsetArg(s: Session, arg: string): number {
  const off = parseBitOffset(arg, maxBulkLen(s));
  if (off === null) throw new CommandError(Err.bitOffset);
  return off;
}

/** The bit at `offset` of a string value (0 past its end). */
function bitOf(v: StringValue, offset: number): 0 | 1 {
  if (typeof v !== 'string') return getbit(v.bytes(), offset);
  const byte = Math.floor(offset / 8);
  if (byte >= v.length) return 0;
  return ((v.charCodeAt(byte) >> (7 - (offset % 8))) & 1) as 0 | 1;
}

/**
 * Redis lookupStringForBitCommand: the value of `key` as a MutableString of at
 * least `bytes` bytes, creating or zero-extending it. `dirty` tells whether
 * the key was created or grown.
 */
function stringForBitWrite(s: Session, key: string, v: StringValue | undefined, bytes: number): { m: MutableString; dirty: boolean } {
  if (v === undefined) {
    const m = zeroString(bytes);
    s.db.set(key, m);
    return { m, dirty: true };
  }
  const m = mutableForWrite(s, key);
  const old = m.len;
  m.growTo(bytes);
  return { m, dirty: m.len !== old };
}

// ---------------------------------------------------------------------------

function setbitCommand(s: Session, argv: string[]): void {
  const key = argv[1]!;
  const offset = bitOffsetArg(s, argv[2]!);
  const on = longArg(argv[3]!, BIT_VALUE_ERR);
  if (on !== 0 && on !== 1) throw new CommandError(BIT_VALUE_ERR);
  const v = asString(s.db.peek(key));
  const bytes = bytesNeededForBit(offset);
  const old = v === undefined ? 0 : bitOf(v, offset);
  // Nothing to do when the key exists, is long enough and already holds the bit:
  // no notification, but Redis still unshares the value (OBJECT ENCODING becomes "raw").
  if (v !== undefined && stringLength(v) >= bytes && old === on) {
    mutableForWrite(s, key);
    s.reply.int(old);
    return;
  }
  const { m } = stringForBitWrite(s, key, v, bytes);
  setbit(m.bytes(), offset, on);
  s.wrote('$', 'setbit', key);
  s.reply.int(old);
}

function getbitCommand(s: Session, argv: string[]): void {
  const offset = bitOffsetArg(s, argv[2]!);
  const v = asString(s.db.get(argv[1]!));
  s.reply.int(v === undefined ? 0 : bitOf(v, offset));
}

function unitArg(arg: string): BitUnit {
  if (is(arg, 'BIT')) return 'bit';
  if (is(arg, 'BYTE')) return 'byte';
  throw new CommandError(Err.syntax);
}

function bitcountCommand(s: Session, argv: string[]): void {
  const v = asString(s.db.get(argv[1]!));
  if (v === undefined) {
    s.reply.int(0);
    return;
  }
  if (argv.length === 2) {
    s.reply.int(bitcount(valueBytes(v)));
    return;
  }
  if (argv.length !== 4 && argv.length !== 5) throw new CommandError(Err.syntax);
  const start = longArg(argv[2]!);
  const end = longArg(argv[3]!);
  if (start < 0 && end < 0 && exactlyGreater(start, end, argv[2]!, argv[3]!)) {
    s.reply.int(0);
    return;
  }
  const unit = argv.length === 5 ? unitArg(argv[4]!) : 'byte';
  s.reply.int(bitcount(valueBytes(v), start, end, unit));
}

function bitposCommand(s: Session, argv: string[]): void {
  const bit = longArg(argv[2]!);
  if (bit !== 0 && bit !== 1) throw new CommandError('ERR The bit argument must be 1 or 0.');
  const v = asString(s.db.get(argv[1]!));
  if (v === undefined) {
    // A missing key is an infinite run of zeros.
    s.reply.int(bit === 1 ? -1 : 0);
    return;
  }
  if (argv.length === 3) {
    s.reply.int(bitpos(valueBytes(v), bit));
    return;
  }
  if (argv.length > 6) throw new CommandError(Err.syntax);
  const start = longArg(argv[3]!);
  const unit = argv.length === 6 ? unitArg(argv[5]!) : 'byte';
  const end = argv.length >= 5 ? longArg(argv[4]!) : undefined;
  s.reply.int(bitpos(valueBytes(v), bit, start, end, unit, end !== undefined));
}

function bitopCommand(s: Session, argv: string[]): void {
  const op = argv[1]!.toUpperCase();
  if (op !== 'AND' && op !== 'OR' && op !== 'XOR' && op !== 'NOT') throw new CommandError(Err.syntax);
  if (op === 'NOT' && argv.length !== 4) throw new CommandError('ERR BITOP NOT must be called with a single source key.');
  const dest = argv[2]!;
  const sources: Uint8Array[] = [];
  for (let j = 3; j < argv.length; j++) {
    const v = asString(s.db.get(argv[j]!));
    sources.push(v === undefined ? new Uint8Array(0) : valueBytes(v));
  }
  const res = bitop(op as BitOp, sources);
  if (res.length > 0) {
    // Redis stores the BITOP result as a raw string (OBJECT ENCODING "raw" even when short).
    s.db.set(dest, new MutableString(res));
    s.wrote('$', 'set', dest);
  } else if (s.db.delete(dest)) {
    s.wrote('g', 'del', dest);
  }
  s.reply.int(res.length);
}

// ---------------------------------------------------------------------------
// BITFIELD

interface FieldOp {
  op: 'GET' | 'SET' | 'INCRBY';
  signed: boolean;
  bits: number;
  offset: number;
  value: bigint;
  overflow: BitfieldOverflow;
}

const TYPE_ERR = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

function parseFieldOps(s: Session, argv: string[]): FieldOp[] {
  const ops: FieldOp[] = [];
  let overflow: BitfieldOverflow = 'WRAP';
  const max = maxBulkLen(s);
  for (let j = 2; j < argv.length; j++) {
    const rem = argv.length - j - 1;
    const sub = argv[j]!;
    let op: FieldOp['op'];
    if (is(sub, 'GET') && rem >= 2) op = 'GET';
    else if (is(sub, 'SET') && rem >= 3) op = 'SET';
    else if (is(sub, 'INCRBY') && rem >= 3) op = 'INCRBY';
    else if (is(sub, 'OVERFLOW') && rem >= 1) {
      const t = argv[++j]!.toUpperCase();
      if (t !== 'WRAP' && t !== 'SAT' && t !== 'FAIL') throw new CommandError('ERR Invalid OVERFLOW type specified');
      overflow = t;
      continue;
    } else throw new CommandError(Err.syntax);
    const type = parseBitfieldType(argv[j + 1]!);
    if (type === null) throw new CommandError(TYPE_ERR);
    const offset = parseBitfieldOffset(argv[j + 2]!, type.bits, max);
    if (offset === null) throw new CommandError(Err.bitOffset);
    const value = op === 'GET' ? 0n : int64Arg(argv[j + 3]!);
    ops.push({ op, signed: type.signed, bits: type.bits, offset, value, overflow });
    j += op === 'GET' ? 2 : 3;
  }
  return ops;
}

/** Read a field of a plain string without converting the whole string to bytes. */
function readField(v: StringValue | undefined, f: FieldOp): bigint {
  if (v === undefined) return 0n;
  if (typeof v !== 'string') return bitfieldGet(v.bytes(), f.offset, f.bits, f.signed);
  const first = Math.floor(f.offset / 8);
  const window = Buffer.from(v.slice(first, Math.floor((f.offset + f.bits - 1) / 8) + 1), 'latin1');
  return bitfieldGet(window, f.offset - first * 8, f.bits, f.signed);
}

function bitfieldGeneric(s: Session, argv: string[], readonlyCommand: boolean): void {
  const key = argv[1]!;
  const ops = parseFieldOps(s, argv);
  let highest = -1;
  for (const f of ops) if (f.op !== 'GET') highest = Math.max(highest, f.offset + f.bits - 1);

  if (highest < 0) {
    const v = asString(s.db.get(key));
    s.reply.arrayLen(ops.length);
    for (const f of ops) s.reply.int(readField(v, f));
    return;
  }
  if (readonlyCommand) throw new CommandError('ERR BITFIELD_RO only supports the GET subcommand');

  const { m, dirty } = stringForBitWrite(s, key, asString(s.db.peek(key)), bytesNeededForBit(highest));
  const buf = m.bytes();
  let changes = 0;
  s.reply.arrayLen(ops.length);
  for (const f of ops) {
    const old = bitfieldGet(buf, f.offset, f.bits, f.signed);
    if (f.op === 'GET') {
      s.reply.int(old);
      continue;
    }
    let stored: bigint | null;
    let replyWith: bigint;
    if (f.op === 'SET') {
      stored = bitfieldClampForSet(f.value, f.bits, f.signed, f.overflow);
      replyWith = old;
      // Redis quirk: for a signed field narrower than 64 bits, its overflow
      // check computes max - value in int64, which wraps for values below
      // max - INT64_MAX; such values then count as overflowing *upward*, so
      // OVERFLOW SAT stores the maximum (WRAP and FAIL are unaffected).
      if (f.signed && f.overflow === 'SAT' && f.bits < 64) {
        const max = (1n << BigInt(f.bits - 1)) - 1n;
        if (f.value < max - INT64_MAX) stored = max;
      }
    } else {
      const r = bitfieldIncr(old, f.value, f.bits, f.signed, f.overflow);
      stored = r.overflowed && f.overflow === 'FAIL' ? null : r.value;
      replyWith = r.value;
    }
    if (stored === null) {
      s.reply.nullBulk();
      continue;
    }
    s.reply.int(replyWith);
    bitfieldSet(buf, f.offset, f.bits, f.signed, stored);
    if (dirty || stored !== old) changes++;
  }
  if (changes > 0) s.wrote('$', 'setbit', key, changes);
}

// ---------------------------------------------------------------------------
// Command table

const bitmap = typeCommand('bitmap');

const RO_ACCESS = [keySpec(['RO', 'access'])];

export const bitCommands: CommandSpec[] = [
  bitmap('setbit', 4, ['write', 'denyoom'], 'Sets or clears the bit at offset in the string value stored at key', '2.2.0', 'O(1)',
    [keySpec(['RW', 'access', 'update'])], setbitCommand),
  bitmap('getbit', 3, ['readonly', 'fast'], 'Returns the bit value at offset in the string value stored at key', '2.2.0', 'O(1)',
    RO_ACCESS, getbitCommand),
  bitmap('bitcount', -2, ['readonly'], 'Count set bits in a string', '2.6.0', 'O(N)', RO_ACCESS, bitcountCommand),
  bitmap('bitpos', -3, ['readonly'], 'Find first bit set or clear in a string', '2.8.7', 'O(N)', RO_ACCESS, bitposCommand),
  bitmap('bitop', -4, ['write', 'denyoom'], 'Perform bitwise operations between strings', '2.6.0', 'O(N)',
    [keySpec(['OW', 'update'], 2), keySpec(['RO', 'access'], 3, [-1, 1, 0])], bitopCommand, { keys: [2, -1, 1] }),
  bitmap('bitfield', -2, ['write', 'denyoom'], 'Perform arbitrary bitfield integer operations on strings', '3.2.0',
    'O(1) for each subcommand specified',
    [keySpec(['RW', 'access', 'update', 'variable_flags'], 1, [0, 1, 0], 'This command allows both access and modification of the key')],
    (s, argv) => bitfieldGeneric(s, argv, false)),
  bitmap('bitfield_ro', -2, ['readonly', 'fast'],
    'Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD', '6.0.0',
    'O(1) for each subcommand specified', RO_ACCESS, (s, argv) => bitfieldGeneric(s, argv, true)),
];
