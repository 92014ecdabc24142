/**
 * The replication backlog: the last `repl-backlog-size` bytes of the
 * replication stream, so that a replica that lost its link can continue from
 * its offset (PSYNC → +CONTINUE) instead of loading the whole dataset again.
 * Offsets are replication offsets: the stream's first byte ever is offset 1,
 * and `endOffset` is the offset of the last byte fed (master_repl_offset).
 *
 * As in Redis 7.0 the backlog is also the buffer of replicas waiting for
 * their RDB image: `pinned()` names the oldest offset one of them still
 * needs, and history from there is kept even beyond repl-backlog-size (a
 * replica may PSYNC from it meanwhile); it shrinks back once they are fed.
 * Bytes are kept in blocks of 16 KB (bigger writes get a block of their own);
 * `memory` is what the blocks take (mem_total_replication_buffers).
 */
const BLOCK = 16 * 1024;

export class ReplBacklog {
  private blocks: Buffer[] = [];
  /** Bytes of the last block in use. */
  private used = 0;
  /** Bytes of the first block already dropped. */
  private head = 0;
  /** Bytes of history held. */
  histlen = 0;
  /** The oldest offset a replica still needs (Infinity: none); history from it is kept. */
  pinned: () => number = () => Infinity;

  constructor(
    private limit: number,
    public endOffset: number,
  ) {
    this.limit = Math.max(1, limit);
  }

  /** repl-backlog-size. */
  get size(): number {
    return this.limit;
  }

  /** repl_backlog_first_byte_offset: the offset of the oldest byte held (endOffset + 1 when empty). */
  get firstByteOffset(): number {
    return this.endOffset - this.histlen + 1;
  }

  /** Bytes the blocks take. */
  get memory(): number {
    let n = 0;
    for (const b of this.blocks) n += b.length;
    return n;
  }

  append(b: Buffer): void {
    if (b.length === 0) return;
    this.endOffset += b.length;
    this.histlen += b.length;
    let off = 0;
    const last = this.blocks[this.blocks.length - 1];
    if (last !== undefined && this.used < last.length) {
      const n = b.copy(last, this.used, 0);
      this.used += n;
      off = n;
    }
    if (off < b.length) {
      const rest = b.length - off;
      const block = Buffer.allocUnsafe(Math.max(BLOCK, rest));
      b.copy(block, 0, off);
      this.blocks.push(block);
      this.used = rest;
    }
    this.trim();
  }

  /** Drop history older than repl-backlog-size bytes, unless a waiting replica still needs it. */
  trim(): void {
    const pin = this.pinned();
    const needed = pin === Infinity ? 0 : this.endOffset + 1 - pin;
    let drop = this.histlen - Math.max(this.limit, needed);
    while (drop > 0 && this.blocks.length > 0) {
      const first = this.blocks[0]!;
      const inFirst = (this.blocks.length === 1 ? this.used : first.length) - this.head;
      if (drop >= inFirst) {
        this.blocks.shift();
        this.head = 0;
        this.histlen -= inFirst;
        drop -= inFirst;
        if (this.blocks.length === 0) this.used = 0;
      } else {
        this.head += drop;
        this.histlen -= drop;
        drop = 0;
      }
    }
  }

  /** The stream from offset `from` to the end, or null when `from` is not held (PSYNC's test). */
  readFrom(from: number): Buffer | null {
    if (from < this.firstByteOffset || from > this.endOffset + 1) return null;
    const want = this.endOffset + 1 - from;
    if (want === 0) return Buffer.alloc(0);
    // Skip to the block holding `from`.
    let skip = this.histlen - want;
    const parts: Buffer[] = [];
    for (let i = 0; i < this.blocks.length; i++) {
      const start = i === 0 ? this.head : 0;
      const end = i === this.blocks.length - 1 ? this.used : this.blocks[i]!.length;
      const len = end - start;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      parts.push(this.blocks[i]!.subarray(start + skip, end));
      skip = 0;
    }
    return Buffer.concat(parts, want);
  }

  /** CONFIG SET repl-backlog-size: keep as much recent history as the new size allows. */
  resize(size: number): void {
    this.limit = Math.max(1, size);
    this.trim();
  }

  /** The history is `delta` bytes further on than counted (a start-up continuing the one dump.rdb names). */
  rebase(delta: number): void {
    this.endOffset += delta;
  }
}
