/**
 * Types of the deterministic netnews corpus (see `generate.ts`).
 */
import type { PartMeta } from './mime.js';

export type { PartMeta } from './mime.js';

/** Body layouts the generator produces. */
export type BodyKind =
  | 'plain' // text/plain, 7bit/8bit, MIME headers optional
  | 'qp' // text/plain quoted-printable
  | 'base64-text' // text/plain base64
  | 'alternative' // multipart/alternative: text/plain + text/html
  | 'mixed' // multipart/mixed: text/plain + 1–2 attachments
  | 'nested' // multipart/mixed: [multipart/alternative, attachment]
  | 'related' // multipart/mixed: [multipart/alternative: [plain, multipart/related: [html, image]], attachment]
  | 'rfc822' // multipart/mixed: [text/plain, message/rfc822]
  | 'large'; // multipart/mixed: [text/plain, big base64 attachment]

export interface ArticleMeta {
  /** Position in injection order (0-based). */
  index: number;
  /** Subject, RFC 2047-decoded (what a correct ENVELOPE decoder yields). */
  subject: string;
  /** From header value with encoded-words decoded (quotes and comments kept). */
  from: string;
  /** Display name, decoded and unquoted; undefined for a bare address. */
  fromName?: string;
  fromAddress: string;
  /** Date header value exactly as in the article. */
  date: string;
  /** The same instant in ms since the epoch. */
  dateMs: number;
  /** Message-IDs from References, in order. */
  references: string[];
  /**
   * Distinct vocabulary words drawn into the decoded text parts, in order of first
   * appearance (as drawn: they may appear capitalised at a sentence start; compare
   * case-insensitively, as IMAP SEARCH does). Boilerplate (attribution, signature,
   * HTML tags, URLs) adds other tokens not listed here.
   */
  bodyWords: string[];
  /** MIME tree. */
  parts: PartMeta;
  /** Some body line starts with '.' (dot-stuffed on the wire). */
  hasLeadingDotLines: boolean;
  /** The very first body line starts with '.' (INN's overview :bytes is off by one then). */
  bodyStartsWithDot: boolean;
  /** Charset of the main text (the bytes' real charset, declared or not). */
  charset: 'us-ascii' | 'utf-8' | 'iso-8859-1';
  /** Article carries MIME-Version / Content-Type. */
  mime: boolean;
  kind: BodyKind;
  /** Some header field contains raw (unencoded) UTF-8. */
  rawUtf8Header: boolean;
  /** Bytes of the header block including the empty line. */
  headerBytes: number;
  /** Total article bytes (CRLF form, not dot-stuffed). */
  size: number;
  /** Number of body lines (CRLF count, as INN's Lines/overview counts them). */
  bodyLines: number;
}

export interface CorpusArticle {
  /** `<...>` form. */
  messageId: string;
  /** Newsgroups header, in order (first is the group the article was posted to). */
  groups: string[];
  /** The article: header, empty line, body; CRLF line ends; never dot-stuffed. */
  bytes: Buffer;
  meta: ArticleMeta;
}

export interface CorpusOptions {
  seed: number;
  /** Group names; articles are spread over them. */
  groups: string[];
  /** Articles posted to each group (crossposts from other groups come on top). */
  perGroup: number;
  /**
   * Add one large article (in groups[0], in the middle of the sequence) of at least
   * this many bytes: multipart/mixed with a base64 application/octet-stream attachment.
   */
  largeArticleBytes?: number;
  /** Alternatively, the decoded size of that attachment (wins over largeArticleBytes). */
  largeAttachmentBytes?: number;
  /** Fraction of articles crossposted to 1–2 more groups (default 0.06; needs ≥ 2 groups). */
  crosspostRate?: number;
  /** Fraction of articles that are replies (default 0.35). */
  replyRate?: number;
  /**
   * Milliseconds between consecutive articles' dates (default 7 minutes). INN
   * refuses articles dated more than a day ahead, so a big corpus needs a
   * shorter step for its last dates to stay in the past.
   */
  dateStepMs?: number;
}
