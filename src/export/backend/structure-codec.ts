/**
 * The metadata store's binary form of a MIME structure (meta-store.ts): what
 * a BODYSTRUCTURE listing of stored structures decodes once per article, so
 * it is made for that. msgpack maps (the form before this one) cost ~4.5 µs a
 * structure to read and 5–9 µs to write, their keys spelt out in every value;
 * this form ~1 µs each way (measured on the 100k bench group).
 *
 * Layout (integers LEB128-style varints, up to 2^53; strings UTF-8 with a
 * varint length; a nullable Buffer as varint length + 1, 0 for null):
 *
 *   0xC1 (a byte msgpack never starts with: tells this form from the old one)
 *   FORMAT
 *   part := flags(1 byte) type subtype params id description location md5
 *           encoding [disposition-type params] [language-count tags…]
 *           headerStart bodyStart bodyEnd size lines [decodedSize] [declared]
 *           [part-count part…]
 *   params := count (name value)…
 *
 * A tree with an encapsulated message (message/rfc822 parts carry an
 * envelope) has no binary form here: `encodeStructure` returns null and the
 * store keeps the old msgpack form for it (rare in news).
 *
 * Errors: `decodeStructure` throws on a value it cannot read (truncated, another
 * FORMAT); the store treats that as a missing structure.
 */
import type { MimePart } from '../../mime/index.js';

/** First byte of every value in this form. */
export const STRUCTURE_MAGIC = 0xc1;
/** Version of the layout; values of another version are not read. */
const FORMAT = 1;

const HAS_PARTS = 1;
const HAS_DECLARED = 2;
const SYNTHETIC = 4;
const HAS_DISPOSITION = 8;
const HAS_LANGUAGE = 16;
const HAS_DECODED = 32;

/** The binary form of `root`, or null when it holds an encapsulated message. */
export function encodeStructure(root: MimePart): Buffer | null {
  const w = new Out();
  w.byte(STRUCTURE_MAGIC);
  w.byte(FORMAT);
  return writePart(w, root, 0) ? w.done() : null;
}

function writePart(w: Out, p: MimePart, depth: number): boolean {
  if (p.message !== undefined || depth > MAX_NESTING) return false;
  let flags = 0;
  if (p.parts !== undefined) flags |= HAS_PARTS;
  if (p.declared !== undefined) flags |= HAS_DECLARED;
  if (p.synthetic === true) flags |= SYNTHETIC;
  if (p.disposition !== null) flags |= HAS_DISPOSITION;
  if (p.language !== null) flags |= HAS_LANGUAGE;
  if (p.decodedSize !== null) flags |= HAS_DECODED;
  w.byte(flags);
  w.str(p.type);
  w.str(p.subtype);
  w.params(p.params);
  w.nbuf(p.id);
  w.nbuf(p.description);
  w.nbuf(p.location);
  w.nbuf(p.md5);
  w.str(p.encoding);
  if (p.disposition !== null) {
    w.str(p.disposition.type);
    w.params(p.disposition.params);
  }
  if (p.language !== null) {
    w.uint(p.language.length);
    for (const l of p.language) w.str(l);
  }
  w.uint(p.headerStart);
  w.uint(p.bodyStart);
  w.uint(p.bodyEnd);
  w.uint(p.size);
  w.uint(p.lines);
  if (p.decodedSize !== null) w.uint(p.decodedSize);
  if (p.declared !== undefined) w.str(p.declared);
  if (p.parts !== undefined) {
    w.uint(p.parts.length);
    for (const c of p.parts) if (!writePart(w, c, depth + 1)) return false;
  }
  return true;
}

/** Nesting kept in this form (the parser stops at MAX_DEPTH, far below). */
const MAX_NESTING = 200;

/** The structure in `value` (a value of this form: its first byte is STRUCTURE_MAGIC); copies what it keeps. */
export function decodeStructure(value: Buffer): MimePart {
  if (value.length < 2 || value[0] !== STRUCTURE_MAGIC || value[1] !== FORMAT) throw new Error('not a stored structure of this format');
  const r = new In(value, 2);
  const root = readPart(r, 0);
  if (r.pos !== value.length) throw new Error('stored structure longer than its parts');
  return root;
}

function readPart(r: In, depth: number): MimePart {
  if (depth > MAX_NESTING) throw new Error('stored structure nested too deep');
  const flags = r.byte();
  const type = r.str();
  const subtype = r.str();
  const params = r.params();
  const id = r.nbuf();
  const description = r.nbuf();
  const location = r.nbuf();
  const md5 = r.nbuf();
  const encoding = r.str();
  const disposition = flags & HAS_DISPOSITION ? { type: r.str(), params: r.params() } : null;
  let language: string[] | null = null;
  if (flags & HAS_LANGUAGE) {
    const n = r.count();
    language = [];
    for (let i = 0; i < n; i++) language.push(r.str());
  }
  const part: MimePart = {
    type,
    subtype,
    params,
    id,
    description,
    encoding,
    disposition,
    language,
    location,
    md5,
    headerStart: r.uint(),
    bodyStart: r.uint(),
    bodyEnd: r.uint(),
    size: r.uint(),
    lines: r.uint(),
    decodedSize: flags & HAS_DECODED ? r.uint() : null,
  };
  if (flags & HAS_DECLARED) part.declared = r.str();
  if (flags & SYNTHETIC) part.synthetic = true;
  if (flags & HAS_PARTS) {
    const n = r.count();
    const parts: MimePart[] = [];
    for (let i = 0; i < n; i++) parts.push(readPart(r, depth + 1));
    part.parts = parts;
  }
  return part;
}

class Out {
  private buf = Buffer.allocUnsafe(512);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  uint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`stored structure: ${n} is not a size`);
    this.ensure(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.uint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  nbuf(b: Buffer | null): void {
    if (b === null) return this.uint(0);
    this.uint(b.length + 1);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  params(ps: readonly [string, string][]): void {
    this.uint(ps.length);
    for (const [k, v] of ps) {
      this.str(k);
      this.str(v);
    }
  }

  /** The bytes written, in a Buffer of their own size. */
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

class In {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('stored structure cut short');
    return this.buf[this.pos++]!;
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 53) throw new Error('stored structure: number too long');
    }
  }

  /** A count of items that follow, each at least one byte: no larger than what is left. */
  count(): number {
    const n = this.uint();
    if (n > this.buf.length - this.pos) throw new Error('stored structure: count past its end');
    return n;
  }

  private span(): number {
    const n = this.uint();
    if (n > this.buf.length - this.pos) throw new Error('stored structure cut short');
    return n;
  }

  str(): string {
    const n = this.span();
    const at = this.pos;
    this.pos += n;
    return this.buf.toString('utf8', at, at + n);
  }

  nbuf(): Buffer | null {
    const n = this.uint();
    if (n === 0) return null;
    if (n - 1 > this.buf.length - this.pos) throw new Error('stored structure cut short');
    const b = Buffer.allocUnsafe(n - 1);
    this.buf.copy(b, 0, this.pos, this.pos + n - 1);
    this.pos += n - 1;
    return b;
  }

  params(): [string, string][] {
    const n = this.count();
    const out: [string, string][] = [];
    for (let i = 0; i < n; i++) out.push([this.str(), this.str()]);
    return out;
  }
}
