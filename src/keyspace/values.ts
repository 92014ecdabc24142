/**
 * Value representations stored in the keyspace.
 *
 * A string value is a latin1 JS string. When mutated in place (APPEND,
 * SETRANGE, SETBIT, BITFIELD) it becomes a MutableString: a growable Buffer
 * with a length, so that repeated APPEND is amortized O(1).
 * Every other type is an object with a `kind` tag, defined in its own module.
 */
import { latin1Slice, latin1Write } from '../protocol/bytes.js';

export class MutableString {
  buf: Buffer;
  len: number;
  /**
   * The encoding OBJECT ENCODING reports while the value is unmodified. Redis
   * stores some values as their own (unshared, non-integer-encoded) objects:
   * an INCRBYFLOAT result is an embstr even when it reads "49", and a COPY of
   * a shared small integer is an unshared int. Any in-place write makes it raw.
   */
  storedAs: 'raw' | 'embstr' | 'int' = 'raw';
  constructor(initial: string | Uint8Array, capacity = 0) {
    const n = initial.length;
    this.buf = Buffer.allocUnsafe(Math.max(capacity, n, 16));
    if (typeof initial === 'string') latin1Write(this.buf, initial, 0);
    else this.buf.set(initial, 0);
    this.len = n;
  }
  /** Ensure capacity for `n` bytes; new bytes up to `n` are zero-filled and the length grows to n. */
  growTo(n: number): void {
    if (n <= this.len) return;
    if (n > this.buf.length) {
      const nb = Buffer.allocUnsafe(Math.max(n, Math.min(this.buf.length * 2, n + 1024 * 1024)));
      this.buf.copy(nb, 0, 0, this.len);
      this.buf = nb;
    }
    this.buf.fill(0, this.len, n);
    this.len = n;
  }
  append(s: string): void {
    const start = this.len;
    if (start + s.length > this.buf.length) {
      const nb = Buffer.allocUnsafe(Math.max(start + s.length, this.buf.length * 2));
      this.buf.copy(nb, 0, 0, start);
      this.buf = nb;
    }
    latin1Write(this.buf, s, start);
    this.len = start + s.length;
  }
  /** A value that reports `enc` until modified (see storedAs). */
  static withEncoding(s: string, enc: 'raw' | 'embstr' | 'int'): MutableString {
    const m = new MutableString(s);
    m.storedAs = enc;
    return m;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
  toString(): string {
    return latin1Slice(this.buf, 0, this.len);
  }
}

export type StringValue = string | MutableString;

export type AggregateKind = 'hash' | 'list' | 'set' | 'zset' | 'stream';

/** Every non-string value type implements this. */
export interface AggregateValue {
  readonly kind: AggregateKind;
}

export type Value = StringValue | AggregateValue;

export type TypeName = 'string' | AggregateKind;

export function typeName(v: Value): TypeName {
  return typeof v === 'string' || v instanceof MutableString ? 'string' : v.kind;
}

export function isString(v: Value): v is StringValue {
  return typeof v === 'string' || v instanceof MutableString;
}

export function stringValue(v: StringValue): string {
  return typeof v === 'string' ? v : v.toString();
}

export function stringLength(v: StringValue): number {
  return typeof v === 'string' ? v.length : v.len;
}
