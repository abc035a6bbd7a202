/**
 * Encoders the corpus generator needs, written from the RFCs (kept independent of
 * the decoders under test): base64 body lines (RFC 2045 §6.8), quoted-printable
 * (RFC 2045 §6.7), RFC 2047 encoded-words (B and Q, UTF-8 and ISO-8859-1) and
 * header folding (RFC 5322 §2.2.3). All output uses CRLF.
 */

export type Charset = 'utf-8' | 'iso-8859-1';
export type WordEncoding = 'B' | 'Q';

/** RFC 2045 §6.8: encoded lines are at most 76 characters. */
const B64_LINE = 76;
/** RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters including a soft break. */
const QP_LINE = 76;
/** RFC 2047 §2: an encoded-word is at most 75 characters. */
const EW_MAX = 75;
/** RFC 5322 §2.1.1: SHOULD keep lines at most 78 characters; we fold at this width. */
const FOLD_WIDTH = 76;
/** Bytes per base64 chunk when encoding large buffers (a multiple of 57 = 76 * 3/4). */
const B64_CHUNK = 57 * 16384;

const CRLF = 0x0d0a;

/** Text to bytes in the given charset. Throws for characters ISO-8859-1 cannot represent. */
export function charsetBytes(text: string, charset: Charset): Buffer {
  if (charset === 'utf-8') return Buffer.from(text, 'utf8');
  for (const ch of text) {
    if (ch.codePointAt(0)! > 0xff) throw new Error(`not representable in ISO-8859-1: ${ch}`);
  }
  return Buffer.from(text, 'latin1');
}

/** Size of `base64Lines(n bytes)` output, without building it. */
export function base64LinesSize(n: number): number {
  const enc = 4 * Math.ceil(n / 3);
  return enc + 2 * Math.ceil(enc / B64_LINE);
}

/** Base64 in 76-character lines, each ending in CRLF (including the last). */
export function base64Lines(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(base64LinesSize(data.length));
  let o = 0;
  for (let i = 0; i < data.length; i += B64_CHUNK) {
    const enc = data.subarray(i, Math.min(data.length, i + B64_CHUNK)).toString('base64');
    for (let k = 0; k < enc.length; k += B64_LINE) {
      o += out.write(enc.slice(k, k + B64_LINE), o, 'latin1');
      out.writeUInt16BE(CRLF, o);
      o += 2;
    }
  }
  return out.subarray(0, o);
}

function hex2(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
}

/**
 * Quoted-printable encoding of canonical text (lines separated by CRLF). Line breaks
 * stay hard breaks; trailing blanks are encoded; long lines get soft breaks. The
 * output ends in CRLF iff the input does.
 */
export function quotedPrintable(text: Buffer): Buffer {
  const src = text.toString('latin1');
  const lines = src.split('\r\n');
  const out: string[] = [];
  for (const line of lines) {
    let cur = '';
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      const last = i === line.length - 1;
      let tok: string;
      if ((c === 0x20 || c === 0x09) && last) tok = `=${hex2(c)}`;
      else if (c === 0x20 || c === 0x09 || (c >= 33 && c <= 126 && c !== 0x3d)) tok = line[i]!;
      else tok = `=${hex2(c)}`;
      if (cur.length + tok.length > QP_LINE - 1) {
        out.push(`${cur}=`);
        cur = '';
      }
      cur += tok;
    }
    out.push(cur);
  }
  return Buffer.from(out.join('\r\n'), 'latin1');
}

/** Characters that may stand for themselves in a Q encoded-word anywhere (RFC 2047 §5(3)). */
function qSafe(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x21 || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2f;
}

function qEncodeChar(bytes: Buffer): string {
  let s = '';
  for (const b of bytes) s += b === 0x20 ? '_' : qSafe(b) ? String.fromCharCode(b) : `=${hex2(b)}`;
  return s;
}

/**
 * Encode `text` as a sequence of encoded-words (each ≤ 75 characters), split only
 * between characters. Whitespace between the returned words is ignored by decoders
 * (RFC 2047 §6.2), so joining them with a space or CRLF SP gives back `text`.
 */
export function encodedWords(text: string, charset: Charset, enc: WordEncoding, label?: string): string[] {
  const name = label ?? charset.toUpperCase();
  const prefix = `=?${name}?${enc}?`;
  const room = EW_MAX - prefix.length - 2;
  const words: string[] = [];
  let chunk: Buffer[] = [];
  let chunkLen = 0;
  const encLen = (n: number): number => 4 * Math.ceil(n / 3);
  const flush = (): void => {
    if (chunk.length === 0) return;
    const bytes = Buffer.concat(chunk);
    const body = enc === 'B' ? bytes.toString('base64') : qEncodeChar(bytes);
    words.push(`${prefix}${body}?=`);
    chunk = [];
    chunkLen = 0;
  };
  for (const ch of text) {
    const b = charsetBytes(ch, charset);
    const add = enc === 'Q' ? qEncodeChar(b).length : 0;
    const fits = enc === 'B' ? encLen(chunkLen + b.length) <= room : chunkLen + add <= room;
    if (!fits) flush();
    chunk.push(b);
    chunkLen += enc === 'B' ? b.length : add;
  }
  flush();
  return words;
}

/**
 * Header text with its non-ASCII run encoded: the ASCII words before the first and
 * after the last non-ASCII word stay plain; the run between is encoded-words.
 * Returns tokens to be joined by single spaces (or folded with `foldField`).
 */
export function encodeHeaderText(text: string, charset: Charset, enc: WordEncoding, label?: string): string[] {
  const words = text.split(' ');
  const isAscii = (w: string): boolean => /^[\x20-\x7e]*$/.test(w);
  const first = words.findIndex((w) => !isAscii(w));
  if (first < 0) return words;
  let last = words.length - 1;
  while (isAscii(words[last]!)) last--;
  return [...words.slice(0, first), ...encodedWords(words.slice(first, last + 1).join(' '), charset, enc, label), ...words.slice(last + 1)];
}

/**
 * A header field `Name: tok tok ...` folded at about 76 columns by turning the space
 * before a token into CRLF SP (unfolding restores the single space). A token longer
 * than the width stays on its own line. Returns the field including its final CRLF.
 */
export function foldField(name: string, tokens: readonly string[], fold = true): string {
  let out = `${name}:`;
  let lineLen = out.length;
  for (const tok of tokens) {
    if (fold && lineLen + 1 + tok.length > FOLD_WIDTH && lineLen > name.length + 1) {
      out += `\r\n ${tok}`;
      lineLen = 1 + tok.length;
    } else {
      out += ` ${tok}`;
      lineLen += 1 + tok.length;
    }
  }
  return `${out}\r\n`;
}

/** Count lines as IMAP BODYSTRUCTURE does: CRLFs, plus one if bytes follow the last CRLF. */
export function countLines(buf: Buffer): number {
  let n = 0;
  let at = buf.indexOf('\r\n');
  let lastEnd = 0;
  while (at >= 0) {
    n++;
    lastEnd = at + 2;
    at = buf.indexOf('\r\n', lastEnd);
  }
  return lastEnd < buf.length ? n + 1 : n;
}
