/**
 * Command errors. A handler throws a CommandError whose message is the full
 * Redis error line (prefix included: "ERR ...", "WRONGTYPE ...", "NOAUTH ...").
 * The dispatch gate turns it into an error reply and counts it in errorstats.
 */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
  }
  /** The error code Redis uses for errorstats: the first word of the message. */
  get code(): string {
    const sp = this.message.indexOf(' ');
    return sp < 0 ? this.message : this.message.slice(0, sp);
  }
}

/** Redis's exact shared error texts. */
export const Err = {
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  noSuchKey: 'ERR no such key',
  outOfRange: 'ERR index out of range',
  invalidDbIndex: 'ERR DB index is out of range',
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
  overflow: 'ERR increment or decrement would overflow',
  nanOrInf: 'ERR increment would produce NaN or Infinity',
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  bitOffset: 'ERR bit offset is not an integer or out of range',
  wrongArgs: (name: string) => `ERR wrong number of arguments for '${name}' command`,
  noAuth: 'NOAUTH Authentication required.',
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  loading: 'LOADING Redis is loading the dataset in memory',
  readonly: "READONLY You can't write against a read only replica.",
  noReplicas: 'NOREPLICAS Not enough good replicas to write.',
  unknownSubcommand: (sub: string, cmd: string) =>
    `ERR unknown subcommand '${truncateForError(sub)}'. Try ${cmd.toUpperCase()} HELP.`,
  timeoutNotFloat: 'ERR timeout is not a float or out of range',
  timeoutNegative: 'ERR timeout is negative',
} as const;

/**
 * User-supplied text echoed in an error, as Redis formats it with C `%.128s`:
 * cut at the first NUL byte, then to `max` bytes (no ellipsis).
 */
export function truncateForError(s: string, max = 128): string {
  const nul = s.indexOf('\x00');
  const t = nul < 0 ? s : s.slice(0, nul);
  return t.length > max ? t.slice(0, max) : t;
}

export function fail(message: string): never {
  throw new CommandError(message);
}
