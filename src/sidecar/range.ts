/**
 * Byte ranges (RFC 9110 §14): which single range of a representation a
 * Range header asks for, and cutting it out of a stored body or out of a
 * response streaming through. Several ranges are answered with the whole
 * representation (a server may ignore Range); an invalid header or another
 * unit is ignored.
 */
import { Readable } from 'node:stream';

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The one range to serve, 'unsatisfiable' (416), or null (serve the whole representation). */
export type RangeChoice = ByteRange | 'unsatisfiable' | null;

const SPEC = /^(\d+)-(\d*)$|^-(\d+)$/;

export function selectRange(header: string | undefined, size: number): RangeChoice {
  if (header === undefined) return null;
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes' || header.slice(0, eq) !== header.slice(0, eq).trim()) return null;
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return null;
  const satisfiable: ByteRange[] = [];
  for (const spec of specs) {
    const m = SPEC.exec(spec);
    if (m === null) return null;
    if (m[3] !== undefined) {
      const suffix = Number(m[3]);
      if (suffix > 0 && size > 0) satisfiable.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const first = Number(m[1]);
    const last = m[2] === '' ? Infinity : Number(m[2]);
    if (last < first) return null; // an invalid range-spec: the header is ignored
    if (first < size) satisfiable.push({ start: first, end: Math.min(last, size - 1) });
  }
  if (satisfiable.length === 0) return 'unsatisfiable';
  return specs.length === 1 ? satisfiable[0]! : null;
}

export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

/** The bytes of a range of a stream (the rest of the source is dropped). */
export function sliceStream(src: Readable, r: ByteRange): Readable {
  async function* cut() {
    let pos = 0;
    try {
      for await (const c of src) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        const next = pos + chunk.length;
        if (next > r.start) yield chunk.subarray(Math.max(0, r.start - pos), Math.min(chunk.length, r.end + 1 - pos));
        pos = next;
        if (pos > r.end) break;
      }
    } finally {
      if (!src.readableEnded) src.destroy();
    }
  }
  return Readable.from(cut(), { objectMode: false });
}
