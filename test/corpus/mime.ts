/**
 * MIME trees for corpus articles: a small spec (leaf / multipart / message/rfc822)
 * rendered to exact bytes, together with a `PartMeta` tree describing what a
 * correct parser must find (IMAP section numbers, BODYSTRUCTURE sizes and lines,
 * decoded sizes and hashes).
 *
 * Multipart layout (RFC 2046 §5.1.1): [preamble CRLF] then per child
 * `--b CRLF <child headers> CRLF <child body> CRLF`, then `--b-- CRLF` [epilogue].
 * The CRLF before each `--b` belongs to the delimiter, so a child's body octets are
 * exactly its encoded body as built here.
 */
import { createHash } from 'node:crypto';
import { base64Lines, countLines, foldField, quotedPrintable } from './encode.js';

export type TransferEncoding = '7bit' | '8bit' | 'base64' | 'quoted-printable';

/** What a parser should report for one body part. */
export interface PartMeta {
  /**
   * IMAP section (RFC 3501 §6.4.5): '1', '2.1', ... For a multipart message root it is ''
   * (its children are '1', '2', ...). A non-multipart message root is '1' (= TEXT).
   */
  section: string;
  /** Lower-case media type and subtype, as declared (text/plain if no Content-Type). */
  type: string;
  subtype: string;
  /** Content-Type parameters as declared (names lower-case), e.g. charset, boundary, name. */
  params: Record<string, string>;
  /** Content-Transfer-Encoding as declared ('7bit' when absent). */
  encoding: TransferEncoding;
  disposition?: 'inline' | 'attachment';
  filename?: string;
  /** Content-ID, if declared (BODYSTRUCTURE body id). */
  id?: string;
  /** Octets of the encoded body (BODYSTRUCTURE body size). */
  bodyOctets: number;
  /** Lines of the encoded body; set for text/* and message/rfc822 (BODYSTRUCTURE). */
  bodyLines?: number;
  /** Leaves: size and sha256 (hex) of the decoded content. */
  decodedSize?: number;
  decodedSha256?: string;
  /** multipart/*: the children; message/rfc822: one entry, the embedded message's root. */
  children?: PartMeta[];
}

export interface LeafSpec {
  kind: 'leaf';
  type: string;
  subtype: string;
  params?: Record<string, string>;
  encoding: TransferEncoding;
  /** Write the Content-Transfer-Encoding header even for 7bit. */
  declareEncoding?: boolean;
  disposition?: 'inline' | 'attachment';
  filename?: string;
  /** Content-ID value including angle brackets. */
  contentId?: string;
  /** Decoded content (text: canonical CRLF form in its charset). */
  content: Buffer;
}

export interface MultipartSpec {
  kind: 'multipart';
  subtype: string;
  boundary: string;
  children: MimeSpec[];
  preamble?: string;
  epilogue?: string;
}

export interface MessageSpec {
  kind: 'message';
  /** Header fields of the embedded message (CRLF-terminated, without its MIME fields). */
  header: string;
  body: LeafSpec;
}

export type MimeSpec = LeafSpec | MultipartSpec | MessageSpec;

export interface Rendered {
  /** MIME header fields for this part (Content-Type etc.), CRLF-terminated; may be ''. */
  header: string;
  body: Buffer;
  meta: PartMeta;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function quoteParam(v: string): string {
  return /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

function contentTypeField(type: string, subtype: string, params: Record<string, string>): string {
  const toks = [`${type}/${subtype}${Object.keys(params).length > 0 ? ';' : ''}`];
  const entries = Object.entries(params);
  entries.forEach(([k, v], i) => toks.push(`${k}=${quoteParam(v)}${i < entries.length - 1 ? ';' : ''}`));
  return foldField('Content-Type', toks);
}

function encodeBody(spec: LeafSpec): Buffer {
  switch (spec.encoding) {
    case 'base64':
      return base64Lines(spec.content);
    case 'quoted-printable':
      return quotedPrintable(spec.content);
    default:
      return spec.content;
  }
}

/**
 * Render a spec. `section` is this part's IMAP section; `messageRoot` says the part
 * is the root of a (possibly embedded) message whose section prefix is `section`.
 * `withContentType: false` omits the MIME fields of a root text/plain part (an
 * old-style article without MIME headers).
 */
export function render(spec: MimeSpec, section: string, messageRoot: boolean, withContentType = true): Rendered {
  if (spec.kind === 'leaf') {
    const body = encodeBody(spec);
    const params = { ...(spec.params ?? {}) };
    let header = '';
    if (withContentType) {
      if (spec.filename && spec.type !== 'text') params['name'] = spec.filename;
      header += contentTypeField(spec.type, spec.subtype, params);
      if (spec.encoding !== '7bit' || spec.declareEncoding) header += `Content-Transfer-Encoding: ${spec.encoding}\r\n`;
      if (spec.contentId) header += `Content-ID: ${spec.contentId}\r\n`;
      if (spec.disposition) {
        header += foldField('Content-Disposition', spec.filename ? [`${spec.disposition};`, `filename=${quoteParam(spec.filename)}`] : [spec.disposition]);
      }
    }
    const sec = messageRoot ? (section === '' ? '1' : `${section}.1`) : section;
    const meta: PartMeta = {
      section: sec,
      type: spec.type,
      subtype: spec.subtype,
      params: withContentType ? { ...params } : {},
      encoding: withContentType ? spec.encoding : '7bit',
      bodyOctets: body.length,
      decodedSize: spec.content.length,
      decodedSha256: sha256(spec.content),
    };
    if (spec.disposition) meta.disposition = spec.disposition;
    if (spec.filename) meta.filename = spec.filename;
    if (spec.contentId && withContentType) meta.id = spec.contentId;
    if (spec.type === 'text') meta.bodyLines = countLines(body);
    return { header, body, meta };
  }
  if (spec.kind === 'multipart') {
    const b = spec.boundary;
    const chunks: Buffer[] = [];
    if (spec.preamble !== undefined) chunks.push(Buffer.from(`${spec.preamble}\r\n`, 'latin1'));
    const children: PartMeta[] = [];
    spec.children.forEach((child, i) => {
      const childSec = section === '' ? String(i + 1) : `${section}.${i + 1}`;
      const r = render(child, childSec, false);
      chunks.push(Buffer.from(`--${b}\r\n${r.header}\r\n`, 'latin1'), r.body, Buffer.from('\r\n', 'latin1'));
      children.push(r.meta);
    });
    chunks.push(Buffer.from(`--${b}--\r\n`, 'latin1'));
    if (spec.epilogue !== undefined) chunks.push(Buffer.from(spec.epilogue, 'latin1'));
    const body = Buffer.concat(chunks);
    const params = { boundary: b };
    return {
      header: contentTypeField('multipart', spec.subtype, params),
      body,
      meta: { section, type: 'multipart', subtype: spec.subtype, params, encoding: '7bit', bodyOctets: body.length, children },
    };
  }
  // message/rfc822: the embedded message's root leaf is section `${section}.1`.
  const inner = render(spec.body, section, true);
  const body = Buffer.concat([Buffer.from(`${spec.header}${inner.header}\r\n`, 'utf8'), inner.body]);
  const eightBit = body.some((c) => c >= 0x80);
  const encoding: TransferEncoding = eightBit ? '8bit' : '7bit';
  return {
    header: `Content-Type: message/rfc822\r\n${eightBit ? 'Content-Transfer-Encoding: 8bit\r\n' : ''}Content-Disposition: inline\r\n`,
    body,
    meta: {
      section,
      type: 'message',
      subtype: 'rfc822',
      params: {},
      encoding,
      disposition: 'inline',
      bodyOctets: body.length,
      bodyLines: countLines(body),
      children: [inner.meta],
    },
  };
}
