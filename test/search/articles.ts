/**
 * Small MIME articles for the search index tests, built from decoded text so
 * the test knows what a correct decoder yields: encoded-word headers (B/Q,
 * UTF-8 and ISO-8859-1), raw 8-bit headers, text parts in 8bit /
 * quoted-printable / base64, multipart with a non-text attachment (never
 * searched), message/rfc822.
 */

export type Charset = 'utf-8' | 'iso-8859-1';
export type Cte = '8bit' | 'quoted-printable' | 'base64';

export interface TextPart {
  text: string;
  charset: Charset;
  cte: Cte;
}

export interface ArticleSpec {
  messageId: string;
  /** Subject values (several Subject fields when more than one). */
  subjects: string[];
  /** How the subject is written: raw bytes (UTF-8) or an encoded word. */
  subjectStyle: 'raw' | 'B' | 'Q';
  subjectCharset: Charset;
  fromName: string;
  extra?: string;
  parts: TextPart[];
  /** Wrap the first part in a message/rfc822 inside multipart/mixed. */
  nested: boolean;
  /** Add a base64 attachment holding this text (BODY must not see it). */
  attachment?: string;
}

/** Characters representable in ISO-8859-1. */
export const latin1Safe = (s: string): string => [...s].filter((c) => c.codePointAt(0)! <= 0xff).join('');

function bytesOf(s: string, cs: Charset): Buffer {
  return Buffer.from(s, cs === 'utf-8' ? 'utf8' : 'latin1');
}

function qp(b: Buffer): string {
  let out = '';
  let line = 0;
  for (const c of b) {
    const lit = (c >= 33 && c <= 126 && c !== 61) || c === 32;
    const piece = c === 10 ? '\r\n' : lit ? String.fromCharCode(c) : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
    if (c === 10) {
      // a space before a hard break would be dropped by the decoder (RFC 2045 §6.7 rule 3): encode it
      if (out.endsWith(' ')) out = `${out.slice(0, -1)}=20`;
      out += piece;
      line = 0;
      continue;
    }
    if (line + piece.length > 73) {
      out += '=\r\n';
      line = 0;
    }
    out += piece;
    line += piece.length;
  }
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}=20`;
  return out;
}

function b64(b: Buffer): string {
  return (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

function encodedWord(s: string, enc: 'B' | 'Q', cs: Charset): string {
  const b = bytesOf(s, cs);
  if (enc === 'B') return `=?${cs}?B?${b.toString('base64')}?=`;
  let q = '';
  for (const c of b) q += (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? String.fromCharCode(c) : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
  return `=?${cs}?Q?${q}?=`;
}

function partBytes(p: TextPart): { header: string; body: Buffer } {
  // Raw 8bit text in headers-free lines: CRLF line ends, as on the wire.
  const raw = bytesOf(p.text, p.charset);
  const header = `Content-Type: text/plain; charset=${p.charset}\r\nContent-Transfer-Encoding: ${p.cte}\r\n`;
  if (p.cte === 'base64') return { header, body: Buffer.from(b64(raw), 'latin1') };
  if (p.cte === 'quoted-printable') return { header, body: Buffer.from(qp(raw), 'latin1') };
  return { header, body: Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') };
}

/** The article bytes: header, blank line, body; CRLF line ends. */
export function buildArticle(a: ArticleSpec): Buffer {
  const h: Buffer[] = [];
  const line = (s: string | Buffer): void => {
    h.push(typeof s === 'string' ? Buffer.from(s, 'latin1') : s, Buffer.from('\r\n'));
  };
  line(`From: ${encodedWord(a.fromName, 'Q', 'utf-8')} <poster@example.org>`);
  for (const s of a.subjects) {
    if (a.subjectStyle === 'raw') line(Buffer.concat([Buffer.from('Subject: '), Buffer.from(s.replace(/[\r\n]/g, ' '), 'utf8')]));
    else line(`Subject: ${encodedWord(s, a.subjectStyle, a.subjectCharset)}`);
  }
  line(`Message-ID: ${a.messageId}`);
  line('Newsgroups: test.search');
  if (a.extra !== undefined) line(`X-Extra: ${encodedWord(a.extra, 'B', 'utf-8')}`);
  line('MIME-Version: 1.0');
  const single = a.parts.length === 1 && !a.nested && a.attachment === undefined;
  let body: Buffer;
  if (single) {
    const p = partBytes(a.parts[0]!);
    h.push(Buffer.from(p.header, 'latin1'));
    body = p.body;
  } else {
    const bd = 'b0und4ry';
    line(`Content-Type: multipart/mixed; boundary="${bd}"`);
    const chunks: Buffer[] = [];
    a.parts.forEach((p, i) => {
      const pb = partBytes(p);
      chunks.push(Buffer.from(`--${bd}\r\n`, 'latin1'));
      if (i === 0 && a.nested) {
        const inner = Buffer.concat([Buffer.from(`Subject: inner\r\nMIME-Version: 1.0\r\n${pb.header}\r\n`, 'latin1'), pb.body]);
        chunks.push(Buffer.from('Content-Type: message/rfc822\r\n\r\n', 'latin1'), inner, Buffer.from('\r\n'));
      } else {
        chunks.push(Buffer.from(`${pb.header}\r\n`, 'latin1'), pb.body, Buffer.from('\r\n'));
      }
    });
    if (a.attachment !== undefined) {
      chunks.push(Buffer.from(`--${bd}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(Buffer.from(a.attachment))}\r\n`, 'latin1'));
    }
    chunks.push(Buffer.from(`--${bd}--\r\n`, 'latin1'));
    body = Buffer.concat(chunks);
  }
  return Buffer.concat([...h, Buffer.from('\r\n'), body]);
}
