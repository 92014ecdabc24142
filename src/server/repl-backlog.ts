/**
 * The replication backlog: a circular buffer holding the last
 * `repl-backlog-size` bytes of the replication stream, so that a replica that
 * lost its link can continue from its offset (PSYNC → +CONTINUE) instead of
 * loading the whole dataset again. Offsets are replication offsets: the
 * stream's first byte ever is offset 1, and `endOffset` is the offset of the
 * last byte fed (the server's master_repl_offset).
 */
export class ReplBacklog {
  private buf: Buffer;
  /** Where the next byte goes. */
  private idx = 0;
  /** Bytes of history held (at most the buffer size). */
  histlen = 0;

  constructor(size: number, public endOffset: number) {
    this.buf = Buffer.alloc(Math.max(1, size));
  }

  get size(): number {
    return this.buf.length;
  }

  /** repl_backlog_first_byte_offset: the offset of the oldest byte held (endOffset + 1 when empty). */
  get firstByteOffset(): number {
    return this.endOffset - this.histlen + 1;
  }

  append(b: Buffer): void {
    const size = this.buf.length;
    this.endOffset += b.length;
    if (b.length >= size) {
      b.copy(this.buf, 0, b.length - size);
      this.idx = 0;
      this.histlen = size;
      return;
    }
    const first = Math.min(b.length, size - this.idx);
    b.copy(this.buf, this.idx, 0, first);
    if (first < b.length) b.copy(this.buf, 0, first);
    this.idx = (this.idx + b.length) % size;
    this.histlen = Math.min(size, this.histlen + b.length);
  }

  /** The stream from offset `from` to the end, or null when `from` is not held (PSYNC's test). */
  readFrom(from: number): Buffer | null {
    if (from < this.firstByteOffset || from > this.endOffset + 1) return null;
    const n = this.endOffset + 1 - from;
    if (n === 0) return Buffer.alloc(0);
    const size = this.buf.length;
    const start = (this.idx - n + size) % size;
    if (start + n <= size) return Buffer.from(this.buf.subarray(start, start + n));
    return Buffer.concat([this.buf.subarray(start), this.buf.subarray(0, n - (size - start))]);
  }

  /** CONFIG SET repl-backlog-size: a new buffer keeping as much recent history as fits. */
  resize(size: number): void {
    if (size === this.buf.length) return;
    const keep = this.readFrom(this.endOffset - Math.min(this.histlen, size) + 1)!;
    this.buf = Buffer.alloc(Math.max(1, size));
    this.idx = 0;
    this.histlen = 0;
    this.endOffset -= keep.length;
    this.append(keep);
  }
}
