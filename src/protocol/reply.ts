/**
 * The reply sink a command handler writes to. Handlers never see bytes or
 * sockets: the TCP session encodes into RESP2 or RESP3 (protocol/resp-writer.ts),
 * a local in-process session builds JS values (server/local-session.ts).
 *
 * Aggregates are streamed: `arrayLen(n)` (or mapLen/setLen/pushLen) followed by
 * exactly n elements (2n for maps).
 */
export interface Reply {
  /** 2 or 3: the protocol negotiated with HELLO. */
  readonly resp: 2 | 3;
  ok(): void;
  simple(s: string): void;
  /** A full error line, prefix included ("ERR ...", "WRONGTYPE ..."). */
  error(line: string): void;
  int(n: number | bigint): void;
  /** A binary-safe (latin1) bulk string; null writes the null bulk. */
  bulk(s: string | null): void;
  bulkBytes(b: Uint8Array): void;
  nullBulk(): void;
  /** RESP2 `*-1`, RESP3 `_`. */
  nullArray(): void;
  arrayLen(n: number): void;
  /** RESP3 map of n pairs; RESP2 flat array of 2n. */
  mapLen(n: number): void;
  /** RESP3 set; RESP2 array. */
  setLen(n: number): void;
  /** RESP3 push; RESP2 array. */
  pushLen(n: number): void;
  /**
   * RESP3 double; RESP2 bulk string formatted as Redis does (%.17g, inf, -inf).
   * `text`, when given, is the exact text to send instead (GEOPOS coordinates
   * print like "%.17Lf", trimmed).
   */
  double(d: number, text?: string): void;
  /** RESP3 boolean; RESP2 integer 1/0. */
  bool(b: boolean): void;
  /** RESP3 verbatim string; RESP2 bulk. */
  verbatim(s: string, format?: string): void;
  /** RESP3 big number; RESP2 bulk. */
  bigNumber(s: string): void;
  /**
   * RESP3 attribute map of n pairs before the next reply (DEBUG PROTOCOL
   * attrib); in RESP2 the caller skips the pairs. Optional: sinks without
   * attributes ignore it.
   */
  attributeLen?(n: number): void;
  /** Convenience: an array of bulk strings. */
  bulkArray(items: readonly (string | null)[]): void;
}

/** A reply sink that drops everything (the AOF loading client, a replica's link to its master). */
export class NullReply implements Reply {
  readonly resp = 2 as const;
  ok(): void {}
  simple(): void {}
  error(): void {}
  int(): void {}
  bulk(): void {}
  bulkBytes(): void {}
  nullBulk(): void {}
  nullArray(): void {}
  arrayLen(): void {}
  mapLen(): void {}
  setLen(): void {}
  pushLen(): void {}
  double(): void {}
  bool(): void {}
  verbatim(): void {}
  bigNumber(): void {}
  bulkArray(): void {}
}
