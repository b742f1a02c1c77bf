// Text written as bytes into one growing buffer: a listing of 50,000 lines made as strings and
// joined cost more in allocation and GC than the formatting itself (under emulation most of all).

export class TextSink {
  private buf: Buffer;
  length = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /**
   * Room for n more bytes, for a caller that writes them itself with the put* functions from
   * `length` on and then sets `length` (a line written in one go, without a call per field).
   */
  reserve(n: number): Buffer {
    this.room(n);
    return this.buf;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.length++] = c;
  }

  /** Text; ASCII byte by byte, anything else as UTF-8. */
  text(s: string): void {
    this.room(s.length * 3);
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.length = p + b.write(s.slice(i), p, 'utf8');
        return;
      }
      b[p++] = c;
    }
    this.length = p;
  }

  /** What was written (a view: the sink is not used afterwards). */
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

// The put* functions write at b[p] (room already reserved) and return the position after.

/** An integer (at most 20 digits and a sign) in decimal. */
export function putInt(b: Buffer, p: number, n: number): number {
  if (n < 0) {
    b[p++] = 45;
    n = -n;
  }
  if (n < 10) {
    b[p] = 48 + n;
    return p + 1;
  }
  let digits = 2;
  for (let v = n; v >= 100; v = Math.floor(v / 10)) digits++;
  let q = p + digits;
  do {
    b[--q] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return p + digits;
}

/** A dotted quad from a host-order 32-bit word. */
export function putIPv4(b: Buffer, p: number, word: number): number {
  p = putInt(b, p, word >>> 24);
  b[p++] = 46;
  p = putInt(b, p, (word >>> 16) & 0xff);
  b[p++] = 46;
  p = putInt(b, p, (word >>> 8) & 0xff);
  b[p++] = 46;
  return putInt(b, p, word & 0xff);
}

/** printf("%-Nd", n) */
export function putLeftInt(b: Buffer, p: number, n: number, width: number): number {
  return putSpacesTo(b, putInt(b, p, n), p + width);
}

/** Spaces up to column `to` (nothing if p is already there or past it). */
export function putSpacesTo(b: Buffer, p: number, to: number): number {
  while (p < to) b[p++] = 32;
  return p;
}

/** ASCII bytes of a constant. */
export function putBytes(b: Buffer, p: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) b[p++] = bytes[i];
  return p;
}
