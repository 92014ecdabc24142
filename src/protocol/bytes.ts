/**
 * Node's Buffer has fast native latin1 codecs (`latin1Slice`, `latin1Write`)
 * that are not in its type declarations. The engine's strings are latin1
 * (one char per byte), so these are the only conversions it needs.
 */
export interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length?: number): number;
}

export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end);
}

export function latin1Write(buf: Buffer, s: string, offset: number): number {
  return (buf as Latin1Buffer).latin1Write(s, offset, s.length);
}

/** Bytes of a latin1 string (one byte per char). */
export function bytesOf(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A latin1 string from bytes. */
export function stringOf(b: Uint8Array): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return latin1Slice(buf, 0, buf.length);
}
