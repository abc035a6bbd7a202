/**
 * Byte-level helpers for articles in tests: header/body split, header parsing,
 * wire-format (dot-stuffing) undo, the CRLF→LF conversion rnews needs, and the
 * model of what INN changes when it files an article (`expectedStoredBytes`).
 *
 * Everything works on Buffers: articles are 8-bit and not always UTF-8.
 */

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

export class ArticleBytesError extends Error {
  readonly code: 'NO_HEADER_END' | 'BARE_CR_OR_LF' | 'NUL_BYTE';
  constructor(code: ArticleBytesError['code'], message: string) {
    super(message);
    this.name = 'ArticleBytesError';
    this.code = code;
  }
}

/**
 * Split an article at the first empty line. `header` includes the terminating
 * CRLF CRLF; `body` is everything after it (possibly empty).
 * An article with an empty header block is not a valid netnews article; throws NO_HEADER_END.
 */
export function splitArticle(article: Buffer): { header: Buffer; body: Buffer } {
  const at = article.indexOf(CRLFCRLF);
  if (at < 0) throw new ArticleBytesError('NO_HEADER_END', 'article has no CRLF CRLF header terminator');
  return { header: article.subarray(0, at + 4), body: article.subarray(at + 4) };
}

/** One header field as it appears: name, raw value bytes (folding kept, no trailing CRLF), and its full line(s). */
export interface RawField {
  name: string;
  /** Value after `Name:` and one optional space, folding CRLFs kept, latin1-decoded (byte-preserving). */
  value: string;
  /** The whole field including its final CRLF, exact bytes. */
  raw: Buffer;
}

/** Parse a header block (as returned by `splitArticle`) into fields, in order. */
export function parseHeader(header: Buffer): RawField[] {
  const fields: RawField[] = [];
  let start = 0;
  const end = header.length - 2; // the final empty line
  while (start < end) {
    let lineEnd = header.indexOf(CRLF, start);
    // Extend over continuation lines (start with space or tab).
    while (lineEnd >= 0 && lineEnd + 2 < end && (header[lineEnd + 2] === 0x20 || header[lineEnd + 2] === 0x09)) {
      lineEnd = header.indexOf(CRLF, lineEnd + 2);
    }
    if (lineEnd < 0) lineEnd = end;
    const raw = header.subarray(start, lineEnd + 2);
    const text = raw.toString('latin1');
    const colon = text.indexOf(':');
    const name = colon < 0 ? text.slice(0, -2) : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1, -2);
    if (value.startsWith(' ')) value = value.slice(1);
    fields.push({ name, value, raw });
    start = lineEnd + 2;
  }
  return fields;
}

/** Value of the first field named `name` (case-insensitive), unfolded; undefined if absent. */
export function headerValue(article: Buffer, name: string): string | undefined {
  const { header } = splitArticle(article);
  const lower = name.toLowerCase();
  const f = parseHeader(header).find((x) => x.name.toLowerCase() === lower);
  return f?.value.replace(/\r\n(?=[ \t])/g, '');
}

/**
 * Convert a CRLF article to the native (LF) form rnews expects.
 * rnews converts native to wire format itself (LF→CRLF, dot-stuffing), so a CRLF
 * article fed to rnews would be stored with CR CR LF and rejected ("No body").
 * Throws BARE_CR_OR_LF if a CR or LF occurs outside a CRLF pair (it could not
 * survive the round trip) and NUL_BYTE for NUL (rnews cannot carry it).
 */
export function crlfToLf(article: Buffer): Buffer {
  const out = Buffer.allocUnsafe(article.length);
  let o = 0;
  let pos = 0;
  // Copy line by line (native indexOf keeps this fast for a 57 MB article).
  while (pos < article.length) {
    let eol = article.indexOf(CRLF, pos);
    const end = eol < 0 ? article.length : eol;
    const line = article.subarray(pos, end);
    const bad = [line.indexOf(0x0d), line.indexOf(0x0a), line.indexOf(0)].filter((x) => x >= 0);
    if (bad.length > 0) {
      const at = pos + Math.min(...bad);
      const code = article[at] === 0 ? 'NUL_BYTE' : 'BARE_CR_OR_LF';
      throw new ArticleBytesError(code, `${code === 'NUL_BYTE' ? 'NUL byte' : 'bare CR or LF'} at offset ${at}`);
    }
    o += line.copy(out, o);
    if (eol >= 0) {
      out[o++] = 0x0a;
      eol += 2;
    }
    pos = eol < 0 ? article.length : eol;
  }
  return out.subarray(0, o);
}

/**
 * Undo NNTP wire format: drop the terminating `.\r\n` line if present and remove
 * one leading dot from every line that starts with `..` (RFC 3977 §3.1.1).
 * Input must have CRLF line ends (as `sm -R` prints and NNTP sends).
 */
export function undotStuff(wire: Buffer): Buffer {
  let end = wire.length;
  if (end >= 3 && wire[end - 3] === 0x2e && wire[end - 2] === 0x0d && wire[end - 1] === 0x0a) {
    if (end === 3 || (wire[end - 5] === 0x0d && wire[end - 4] === 0x0a)) end -= 3;
  }
  const out = Buffer.allocUnsafe(end);
  let o = 0;
  let lineStart = true;
  for (let i = 0; i < end; i++) {
    const c = wire[i]!;
    if (lineStart && c === 0x2e && wire[i + 1] === 0x2e) {
      lineStart = false;
      continue; // drop the stuffed dot, keep the next one
    }
    out[o++] = c;
    lineStart = c === 0x0a;
  }
  return out.subarray(0, o);
}

/**
 * What INN 2.7 stores (and serves by ARTICLE) for an article injected with rnews,
 * per the facts in the comment at the top of `inn.ts`:
 * - the Path body gets `<pathhost>!` prepended;
 * - an existing Xref field gets its value replaced in place, otherwise
 *   `Xref: <xref>` is appended after the last header field;
 * - a `Bytes:` field is removed;
 * - everything else (field order, folding, 8-bit bytes, body) is unchanged.
 * `xref` is the full value, e.g. `news.test alt.test:3 comp.lang.misc:1`; it is written
 * as UTF-8 (group names may be UTF-8).
 */
export function expectedStoredBytes(article: Buffer, pathhost: string, xref: string): Buffer {
  const { header, body } = splitArticle(article);
  const parts: Buffer[] = [];
  let sawXref = false;
  for (const f of parseHeader(header)) {
    const lname = f.name.toLowerCase();
    if (lname === 'path') {
      parts.push(Buffer.concat([Buffer.from(`${f.name}: ${pathhost}!`, 'latin1'), Buffer.from(f.value, 'latin1'), CRLF]));
    } else if (lname === 'xref') {
      sawXref = true;
      parts.push(Buffer.from(`${f.name}: `, 'latin1'), Buffer.from(`${xref}\r\n`, 'utf8'));
    } else if (lname === 'bytes') {
      continue;
    } else {
      parts.push(f.raw);
    }
  }
  if (!sawXref) parts.push(Buffer.from(`Xref: ${xref}\r\n`, 'utf8'));
  parts.push(CRLF, body);
  return Buffer.concat(parts);
}
