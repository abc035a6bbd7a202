/**
 * Content-Transfer-Encoding decoders (RFC 2045 §6) for BINARY[] / BINARY.SIZE
 * (RFC 3516) and text decoding for SEARCH.
 *
 * The decoders are incremental state machines: the output for an input is the
 * same however the input is split into chunks (the structure parser uses the same
 * classes to count BINARY.SIZE, so the count always equals the streamed output).
 * - base64: every byte outside the alphabet (line breaks, junk) is ignored; '='
 *   ends the current quantum, and decoding resumes after it (concatenated base64);
 *   both the standard and the URL-safe alphabets are accepted.
 * - quoted-printable: `=XX` (either hex case), soft line breaks `=` [WSP] CRLF/LF,
 *   trailing white space before a line break removed (§6.7 rule 3), a malformed
 *   `=` kept literally, line breaks kept as written.
 * - 7bit / 8bit / binary (and an absent encoding): identity.
 * Any other encoding ⇒ `MimeError('UNKNOWN_CTE')` (IMAP: `NO [UNKNOWN-CTE]`).
 */
import { Transform, type TransformCallback } from 'node:stream';
import libmime from 'libmime';
import { decode as decodeCharset } from 'libmime/lib/charset.js';
import { MimeError } from './errors.js';
import { bytesToText } from './params.js';

/** An incremental decoder: `update` per chunk, `end` once. */
export interface ChunkDecoder {
  update(chunk: Buffer): Buffer;
  end(): Buffer;
  /** Optional fast path: `update(chunk).length` without allocating the output. */
  count?(chunk: Buffer): number;
}

const EMPTY = Buffer.alloc(0);

const B64 = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  B64[c.charCodeAt(0)] = i;
});
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;

/** Alphabet characters in each pair of bytes (index: first byte | second byte << 8). */
const PAIRS = new Uint8Array(65536);
for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) PAIRS[a | (b << 8)] = (B64[a]! >= 0 ? 1 : 0) + (B64[b]! >= 0 ? 1 : 0);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Below this a chunk is counted byte by byte (the pair table's set-up costs more). */
const PAIR_COUNT_MIN = 64;

/**
 * Base64 alphabet characters in `b`: four bytes per load (a Uint32Array over
 * the aligned middle), two table look-ups per load; the unaligned ends byte by
 * byte. Half the loads of one per byte pair: this runs over every byte of a
 * large attachment while it downloads.
 */
function alphabetCount(b: Buffer): number {
  let k = 0;
  let i = 0;
  const head = Math.min(b.length, (4 - (b.byteOffset & 3)) & 3);
  for (; i < head; i++) if (B64[b[i]!]! >= 0) k++;
  const n32 = (b.length - i) >> 2;
  const u32 = new Uint32Array(b.buffer, b.byteOffset + i, n32);
  for (let j = 0; j < n32; j++) {
    const w = u32[j]!;
    k += PAIRS[w & 0xffff]! + PAIRS[w >>> 16]!;
  }
  for (i += n32 * 4; i < b.length; i++) if (B64[b[i]!]! >= 0) k++;
  return k;
}

export class Base64Decoder implements ChunkDecoder {
  private bits = 0;
  private n = 0;

  update(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(Math.floor(((chunk.length + this.n) * 3) / 4) + 3);
    return out.subarray(0, this.scan(chunk, out));
  }

  /** What `update(chunk).length` would be, without producing the bytes (same state change). */
  count(chunk: Buffer): number {
    if (LITTLE_ENDIAN && chunk.length >= PAIR_COUNT_MIN && chunk.indexOf(0x3d) < 0) return this.countPlain(chunk);
    return this.scan(chunk, undefined);
  }

  /**
   * `count` of a chunk without '=': only the alphabet characters matter, so
   * they are counted a word at a time (alphabetCount); the state (characters of the open
   * quantum and their bits) is rebuilt from the chunk's last ones.
   */
  private countPlain(chunk: Buffer): number {
    const total = this.n + alphabetCount(chunk);
    const n = total & 3;
    let bits = 0;
    let got = 0;
    for (let i = chunk.length - 1; i >= 0 && got < n; i--) {
      const v = B64[chunk[i]!]!;
      if (v >= 0) bits |= v << (6 * got++);
    }
    if (got < n) bits |= this.bits << (6 * got); // the quantum began before this chunk
    this.n = n;
    this.bits = bits & 0x3ffff;
    return (total >> 2) * 3;
  }

  end(): Buffer {
    const out = Buffer.allocUnsafe(2);
    const o = shortQuantum(this.bits, this.n, out, 0);
    this.bits = 0;
    this.n = 0;
    return out.subarray(0, o);
  }

  /** Decodes `chunk` into `out` from offset 0, or only counts without `out`; returns the byte count. */
  private scan(chunk: Buffer, out: Buffer | undefined): number {
    let o = 0;
    let bits = this.bits;
    let n = this.n;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      const v = B64[c]!;
      if (v >= 0) {
        bits = (bits << 6) | v;
        if (++n === 4) {
          if (out !== undefined) {
            out[o] = (bits >> 16) & 0xff;
            out[o + 1] = (bits >> 8) & 0xff;
            out[o + 2] = bits & 0xff;
          }
          o += 3;
          bits = 0;
          n = 0;
        }
      } else if (c === 0x3d) {
        o = shortQuantum(bits, n, out, o); // '=' ends the quantum
        bits = 0;
        n = 0;
      }
    }
    this.bits = bits;
    this.n = n;
    return o;
  }
}

/**
 * A quantum cut short after `n` (< 4) characters holding `bits`: 2 or 3 characters
 * yield 1 or 2 bytes, fewer none. Writes them at `o` in `out` when given; returns
 * the offset after them.
 */
function shortQuantum(bits: number, n: number, out: Buffer | undefined, o: number): number {
  if (n < 2) return o;
  if (out !== undefined) {
    if (n === 2) out[o] = (bits >> 4) & 0xff;
    else {
      out[o] = (bits >> 10) & 0xff;
      out[o + 1] = (bits >> 2) & 0xff;
    }
  }
  return o + n - 1;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const enum Qp {
  Normal,
  Eq,
  EqHex,
  EqWs,
}

export class QpDecoder implements ChunkDecoder {
  private state = Qp.Normal;
  /** Bytes held back: trailing white space (Normal), "=X" (EqHex), "=" + WSP (EqWs). */
  private held: number[] = [];
  /** A CR seen in Normal state whose meaning (line break or data) is not known yet. */
  private cr = false;

  update(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length + this.held.length + 4);
    let o = 0;
    const emitHeld = (): void => {
      for (const b of this.held) out[o++] = b;
      this.held.length = 0;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      switch (this.state) {
        case Qp.Normal:
          if (this.cr) {
            this.cr = false;
            if (c === 0x0a) {
              this.held.length = 0; // trailing white space before a hard break
              out[o++] = 0x0d;
              out[o++] = 0x0a;
              continue;
            }
            emitHeld();
            out[o++] = 0x0d;
          }
          if (c === 0x20 || c === 0x09) this.held.push(c);
          else if (c === 0x0d) this.cr = true;
          else if (c === 0x0a) {
            this.held.length = 0;
            out[o++] = c;
          } else {
            emitHeld();
            if (c === 0x3d) this.state = Qp.Eq;
            else out[o++] = c;
          }
          break;
        case Qp.Eq:
          if (hex(c) >= 0) {
            this.held.push(0x3d, c);
            this.state = Qp.EqHex;
          } else if (c === 0x20 || c === 0x09 || c === 0x0d) {
            this.held.push(0x3d, c);
            this.state = Qp.EqWs;
          } else if (c === 0x0a) {
            this.state = Qp.Normal; // soft line break
          } else {
            out[o++] = 0x3d;
            this.state = Qp.Normal;
            i--; // reprocess c
          }
          break;
        case Qp.EqHex: {
          const h = hex(c);
          if (h >= 0) {
            out[o++] = (hex(this.held[1]!) << 4) | h;
            this.held.length = 0;
            this.state = Qp.Normal;
          } else {
            emitHeld();
            this.state = Qp.Normal;
            i--;
          }
          break;
        }
        case Qp.EqWs:
          if (c === 0x20 || c === 0x09 || c === 0x0d) this.held.push(c);
          else if (c === 0x0a) {
            this.held.length = 0; // soft line break with transport padding
            this.state = Qp.Normal;
          } else {
            emitHeld();
            this.state = Qp.Normal;
            i--;
          }
          break;
      }
    }
    return out.subarray(0, o);
  }

  end(): Buffer {
    const out: number[] = [];
    if (this.state === Qp.EqHex) out.push(...this.held);
    if (this.state === Qp.Normal && this.cr) out.push(0x0d);
    // Normal: trailing white space at the end of the body is dropped (end of line);
    // Eq / EqWs: a final soft line break.
    this.held.length = 0;
    this.cr = false;
    this.state = Qp.Normal;
    return out.length === 0 ? EMPTY : Buffer.from(out);
  }
}

class IdentityDecoder implements ChunkDecoder {
  update(chunk: Buffer): Buffer {
    return chunk;
  }
  end(): Buffer {
    return EMPTY;
  }
}

/** Normalised transfer encoding name: upper-case, absent ⇒ 7BIT. */
export function normalizeEncoding(encoding: string | null | undefined): string {
  const e = (encoding ?? '').trim().toUpperCase();
  return e === '' ? '7BIT' : e;
}

/** True when `chunkDecoderFor` knows the encoding. */
export function isKnownEncoding(encoding: string | null | undefined): boolean {
  const e = normalizeEncoding(encoding);
  return e === '7BIT' || e === '8BIT' || e === 'BINARY' || e === 'BASE64' || e === 'QUOTED-PRINTABLE';
}

/** An incremental decoder for the encoding. Throws MimeError UNKNOWN_CTE. */
export function chunkDecoderFor(encoding: string | null | undefined): ChunkDecoder {
  switch (normalizeEncoding(encoding)) {
    case '7BIT':
    case '8BIT':
    case 'BINARY':
      return new IdentityDecoder();
    case 'BASE64':
      return new Base64Decoder();
    case 'QUOTED-PRINTABLE':
      return new QpDecoder();
    default:
      throw new MimeError('UNKNOWN_CTE', `unknown Content-Transfer-Encoding: ${String(encoding).slice(0, 64)}`);
  }
}

class DecodeTransform extends Transform {
  constructor(private readonly dec: ChunkDecoder) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const out = this.dec.update(chunk);
    if (out.length > 0) this.push(out);
    done();
  }
  override _flush(done: TransformCallback): void {
    const out = this.dec.end();
    if (out.length > 0) this.push(out);
    done();
  }
}

/**
 * A Transform decoding the transfer encoding (Buffers in, Buffers out). The
 * caller pipes the part's body bytes through it and owns both ends.
 * Throws MimeError UNKNOWN_CTE synchronously for an unknown encoding.
 */
export function decoderFor(encoding: string | null | undefined): Transform {
  return new DecodeTransform(chunkDecoderFor(encoding));
}

/** Decodes a whole (small) body with the encoding; unknown encodings give the bytes unchanged. */
export function decodeTransfer(encoding: string | null | undefined, bytes: Buffer): Buffer {
  if (!isKnownEncoding(encoding)) return bytes;
  const d = chunkDecoderFor(encoding);
  return Buffer.concat([d.update(bytes), d.end()]);
}

/** What textForSearch needs of a part (a MimePart fits). */
export interface TextPartInfo {
  type: string;
  encoding: string;
  params: readonly (readonly [string, string])[];
}

/**
 * The body of a part as text for SEARCH BODY/TEXT: transfer encoding decoded,
 * then the charset parameter applied (libmime / iconv-lite). No charset, us-ascii
 * or an unknown charset: UTF-8 when valid, else latin-1. `bytes` are the part's
 * encoded body bytes (its `bodyStart..bodyEnd` range). Never throws.
 */
export function textForSearch(part: TextPartInfo, bytes: Buffer): string {
  const raw = decodeTransfer(part.encoding, bytes);
  const cs = part.params.find(([n]) => n === 'charset')?.[1]?.trim().toLowerCase();
  if (cs === undefined || cs === '' || cs === 'us-ascii' || cs === 'utf-8' || cs === 'utf8') return bytesToText(raw);
  try {
    return decodeCharset(raw, cs);
  } catch {
    return bytesToText(raw);
  }
}

/**
 * A header value as text for header SEARCH: raw 8-bit bytes read as UTF-8 (latin-1
 * when not valid UTF-8), then RFC 2047 encoded words decoded. Never throws.
 */
export function decodeHeaderValue(value: Buffer): string {
  const s = bytesToText(value);
  if (!s.includes('=?')) return s;
  try {
    return libmime.decodeWords(s);
  } catch {
    return s;
  }
}
