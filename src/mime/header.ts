/**
 * RFC 5322 §2.2 header blocks, byte-exact.
 *
 * Works on Buffers only: article headers are 8-bit and not always UTF-8, and
 * BODY[HEADER.FIELDS (...)] must return the fields exactly as written (RFC 9051
 * §6.4.5). Nothing here throws on hostile input: junk lines (no colon, bad field
 * name, NUL, 8-bit names) are skipped, a leading continuation line without a field
 * is skipped, obs-fold (RFC 5322 §4.2) and bare LF line ends are accepted.
 *
 * Returned `raw`/`value` Buffers may share memory with the input block; copy them
 * (`Buffer.from`) before keeping them beyond the life of the block.
 */

/** One header field as written. */
export interface HeaderField {
  /** Field name as written (trailing WSP before the colon removed), latin1-decoded. */
  name: string;
  /** `name` lower-cased, for matching. */
  lname: string;
  /** The whole field including its folded continuation lines and final line end. */
  raw: Buffer;
  /** The unfolded value: line ends of folds removed, leading WSP trimmed, raw bytes. */
  value: Buffer;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/**
 * Offset just past the blank line that ends the header (so `block.subarray(0, n)`
 * is the header including its terminating empty line), or -1 when the buffer holds
 * no blank line. Accepts CRLF CRLF and bare LF LF (and mixtures). A buffer that
 * starts with a blank line has an empty header: the result is 2 (CRLF) or 1 (LF).
 */
export function headerEnd(buf: Buffer): number {
  if (buf.length > 0 && buf[0] === LF) return 1;
  if (buf.length > 1 && buf[0] === CR && buf[1] === LF) return 2;
  let i = buf.indexOf(LF);
  while (i >= 0 && i + 1 < buf.length) {
    const next = buf[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && i + 2 < buf.length && buf[i + 2] === LF) return i + 3;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

/** True for a valid RFC 5322 field name byte (ftext: printable US-ASCII except ':'). */
function isFtext(b: number): boolean {
  return b >= 33 && b <= 126 && b !== COLON;
}

/**
 * A set of field names `parseHeader` can be limited to. Names are matched
 * byte-wise (ASCII case-insensitive) before anything is allocated: a listing
 * parses one header per article and needs ten fields of the twenty or so
 * a news article has (Path, Xref, References… cost nothing then).
 */
export class FieldNames {
  /** Lower-case names by length. */
  private readonly byLength = new Map<number, Buffer[]>();

  constructor(names: readonly string[]) {
    for (const n of names) {
      const l = n.toLowerCase();
      const list = this.byLength.get(l.length) ?? [];
      list.push(Buffer.from(l, 'latin1'));
      this.byLength.set(l.length, list);
    }
  }

  /** True when block[start, end) is one of the names. */
  has(block: Buffer, start: number, end: number): boolean {
    const list = this.byLength.get(end - start);
    if (list === undefined) return false;
    next: for (const name of list) {
      for (let i = 0; i < name.length; i++) {
        let b = block[start + i]!;
        if (b >= 0x41 && b <= 0x5a) b |= 0x20;
        if (b !== name[i]) continue next;
      }
      return true;
    }
    return false;
  }
}

/**
 * Splits a header block into fields. Stops at the first empty line (or the end of
 * the buffer), so a whole article may be passed. Never throws. With `only`,
 * fields of other names are skipped (with their continuation lines).
 */
export function parseHeader(block: Buffer, only?: FieldNames): HeaderField[] {
  // Plain locals and byte loops, no indexOf per line: a listing parses one
  // header per article, and Buffer#indexOf's call costs more than scanning a
  // header line of ~60 bytes in JavaScript.
  const fields: HeaderField[] = [];
  const n = block.length;
  let name: string | null = null; // the field in progress, if any
  let start = 0;
  let end = 0;
  let valueStart = 0;
  let pos = 0;
  while (pos < n) {
    let lf = pos;
    while (lf < n && block[lf] !== LF) lf++;
    const terminated = lf < n;
    const lineEnd = terminated ? lf + 1 : n;
    let contentEnd = lf;
    if (contentEnd > pos && block[contentEnd - 1] === CR) contentEnd--;
    if (contentEnd === pos && terminated) break; // the empty line that ends the header
    const first = block[pos];
    if (first === SP || first === HT) {
      // Continuation (folded) line; without a field in progress it is junk.
      if (name !== null) end = lineEnd;
    } else {
      // a left-out field leaves no field in progress: its continuation lines are dropped
      if (name !== null) fields.push(makeField(block, name, start, end, valueStart));
      name = null;
      let i = pos;
      while (i < contentEnd && isFtext(block[i]!)) i++;
      const nameEnd = i;
      while (i < contentEnd && (block[i] === SP || block[i] === HT)) i++;
      if (nameEnd > pos && i < contentEnd && block[i] === COLON && (only === undefined || only.has(block, pos, nameEnd))) {
        name = block.toString('latin1', pos, nameEnd);
        start = pos;
        end = lineEnd;
        valueStart = i + 1;
      }
      // else: junk line (mbox "From " line, garbage) or a left-out field: skipped.
    }
    pos = lineEnd;
  }
  if (name !== null) fields.push(makeField(block, name, start, end, valueStart));
  return fields;
}

function makeField(block: Buffer, name: string, start: number, end: number, valueStart: number): HeaderField {
  return { name, lname: name.toLowerCase(), raw: block.subarray(start, end), value: unfold(block, valueStart, end) };
}

/** block[from, to) with CR/LF line ends removed (keeping the WSP of each fold) and leading WSP trimmed. */
function unfold(block: Buffer, from: number, to: number): Buffer {
  let s = from;
  while (s < to && (block[s] === SP || block[s] === HT)) s++;
  let e = to;
  while (e > s && (block[e - 1] === LF || block[e - 1] === CR)) e--;
  let folded = false;
  for (let i = s; i < e; i++) {
    const b = block[i];
    if (b === LF || b === CR) {
      folded = true;
      break;
    }
  }
  if (!folded) return block.subarray(s, e);
  const body = block.subarray(s, e);
  const out = Buffer.allocUnsafe(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === LF || (b === CR && body[i + 1] === LF)) continue;
    out[n++] = b;
  }
  // A fold right after the colon leaves leading WSP behind: trim it too.
  let t = 0;
  while (t < n && (out[t] === SP || out[t] === HT)) t++;
  return out.subarray(t, n);
}

/** First field named `lname` (lower-case), or undefined. */
export function findField(fields: readonly HeaderField[], lname: string): HeaderField | undefined {
  for (const f of fields) if (f.lname === lname) return f;
  return undefined;
}

const CRLF = Buffer.from('\r\n');

/**
 * What BODY[HEADER.FIELDS (names)] (or HEADER.FIELDS.NOT with `not`) returns for
 * this header block (RFC 9051 §6.4.5): the matching fields verbatim, in their
 * original order, followed by the CRLF blank line. Names match case-insensitively.
 * Junk lines are never returned. The result is a new Buffer.
 */
export function selectFields(block: Buffer, names: readonly string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const parts: Buffer[] = [];
  for (const f of parseHeader(block)) {
    if (wanted.has(f.lname) !== not) {
      parts.push(f.raw);
      // A last field without a line end (header cut short) still gets one.
      const last = f.raw[f.raw.length - 1];
      if (last !== LF) parts.push(CRLF);
    }
  }
  parts.push(CRLF);
  return Buffer.concat(parts);
}
