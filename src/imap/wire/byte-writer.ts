/**
 * A growing byte buffer for rendering one response element (ENVELOPE) in a
 * single pass: no Buffer per string and no concat at the end. Cold listings
 * render one envelope per article, so this is on the hot path (measured: the
 * chunk-list rendering cost ~15 µs per envelope, most of it allocation).
 *
 * `nstring` follows the encoder's rules (encoder.ts): NIL, quoted when every
 * octet is a TEXT-CHAR (or valid UTF-8 in UTF-8 mode), else a literal.
 */
import { isQuotable } from './encoder.js';
import type { Slab } from '../../util/slab.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /**
   * Starts over (a writer reused for one rendering after another), on a fresh
   * `initial`-byte buffer if an unusually large rendering grew it past `keepUpTo`.
   */
  reset(keepUpTo = Infinity, initial = 256): this {
    this.pos = 0;
    if (this.buf.length > keepUpTo) this.buf = Buffer.allocUnsafe(initial);
    return this;
  }

  // Copies use Uint8Array#set: for the short pieces written here, Buffer#copy's
  // argument checks cost more than the copy (measured in a cold listing).
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** The buffer written into (the output is its first `length` octets), for a caller that reuses it (`use`). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Starts over on `buf`, a buffer the caller reuses: its contents are overwritten. */
  use(buf: Buffer): this {
    this.buf = buf;
    this.pos = 0;
    return this;
  }

  /** Forgets what was written after the first `n` octets (a response given up half-way). */
  truncate(n: number): this {
    if (n < this.pos) this.pos = Math.max(0, n);
    return this;
  }

  /** Octets written so far. */
  get length(): number {
    return this.pos;
  }

  /** Appends ASCII text (protocol syntax: parentheses, spaces, NIL, numbers). */
  ascii(s: string): this {
    this.ensure(s.length);
    if (s.length < 48) {
      // short pieces: a byte loop beats a call into Buffer.write
      const b = this.buf;
      let o = this.pos;
      for (let i = 0; i < s.length; i++) b[o++] = s.charCodeAt(i);
      this.pos = o;
    } else this.pos += this.buf.write(s, this.pos, 'latin1');
    return this;
  }

  /** Appends a non-negative integer in decimal (sequence numbers, UIDs, sizes) without making a string. */
  uint(n: number): this {
    if (n < 10 && n >= 0 && (n | 0) === n) {
      this.ensure(1);
      this.buf[this.pos++] = 0x30 + n;
      return this;
    }
    if (!(n >= 0 && n <= 0x7fffffff) || n % 1 !== 0) return this.ascii(String(n)); // past int32: rare, a string
    let digits = 1;
    for (let v = n; v >= 10; v = (v / 10) | 0) digits++;
    this.ensure(digits);
    const end = this.pos + digits;
    let o = end;
    let v = n;
    do {
      const q = (v / 10) | 0;
      this.buf[--o] = 0x30 + v - q * 10;
      v = q;
    } while (v > 0);
    this.pos = end;
    return this;
  }

  bytes(b: Buffer): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Appends bytes [start, end) of `b` (no view of them is made). */
  range(b: Buffer, start: number, end: number): this {
    const n = end - start;
    this.ensure(n);
    b.copy(this.buf, this.pos, start, end);
    this.pos += n;
    return this;
  }

  /** `nstring`: NIL, a quoted string, or a literal. */
  nstring(b: Buffer | null | undefined, utf8: boolean): this {
    if (b === null || b === undefined) return this.ascii('NIL');
    let escapes = 0;
    let plain = true;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === QUOTE || c === BACKSLASH) escapes++;
      else if (c >= 0x80 || c === 0x00 || c === 0x0a || c === 0x0d) plain = false;
    }
    if (!plain && !isQuotable(b, { utf8 })) return this.ascii(`{${b.length}}\r\n`).bytes(b);
    this.ensure(b.length + escapes + 2);
    const out = this.buf;
    let o = this.pos;
    out[o++] = QUOTE;
    if (escapes === 0) {
      out.set(b, o);
      o += b.length;
    } else {
      for (let i = 0; i < b.length; i++) {
        const c = b[i]!;
        if (c === QUOTE || c === BACKSLASH) out[o++] = BACKSLASH;
        out[o++] = c;
      }
    }
    out[o++] = QUOTE;
    this.pos = o;
    return this;
  }

  /** The bytes written, in a Buffer of their own size (or carved from `slab`); the writer may be reset and reused. */
  finish(slab?: Slab): Buffer {
    const written = this.buf.subarray(0, this.pos);
    return slab !== undefined ? slab.copy(written) : Buffer.from(written);
  }

  /** The bytes written, as a view of the writer's buffer (no copy; the writer is done). */
  take(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
