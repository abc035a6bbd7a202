/**
 * What the index keeps of an article known only by its overview record (RFC
 * 3977 §8.3, NNTP OVER or an archive's index): Subject, From, Date,
 * Message-ID and References, until its whole header arrives.
 *
 * Exactness. The scan reads a header value as `bytesToText` (UTF-8 when the
 * bytes are valid UTF-8, else Latin-1) and decodes encoded words. An overview
 * value differs from that in known ways only:
 * - it is a decoding of the bytes done by the source: NNTP decodes UTF-8 with
 *   U+FFFD for bad bytes (the bytes are lost); an archive decodes a whole
 *   header as UTF-8 or else Latin-1, so one field may be read as Latin-1 where
 *   the scan reads UTF-8. `overviewValueExact` tells when the value is
 *   certainly the scan's text, else the field counts as unknown;
 * - white space: OVER turns each TAB (and a lone CR) into a space, removes
 *   CRLF, and INN keeps extra leading spaces where the header parser trims
 *   them while an archive trims trailing ones. So a needle that holds no white
 *   space occurs in the overview value exactly when it occurs in the header
 *   value; query.ts sends other needles to the scan (see there).
 * An article with two Subject (or From) fields shows only one in the overview
 * (INN refuses such articles; an mbox archive may hold them): a needle found
 * only in the second is missed until the header is indexed.
 */
import { isUtf8 } from 'node:buffer';
import { decodeHeaderValue } from '../mime/index.js';
import { parseDate } from '../export/backend/dates.js';
import { firstAddress, fold, type FirstAddress } from './text.js';

/** The overview values of one article, as a Source reports them (decoded text). */
export interface OverviewFields {
  subject: string;
  from: string;
  date: string;
  messageId: string;
  references: string;
}

/** What the index keeps of an overview record (compare text.ts `HeaderText`). */
export interface OverviewText {
  /** Folded decoded Subject; null when it is not exact (or empty: absent and empty look alike). */
  subject: string | null;
  from: string | null;
  /** A decoded value holds '\n' (text.ts module comment). */
  headerNewline: boolean;
  /** Subject, From, Date, Message-ID and References are all exact (else SORT reads the header). */
  sortExact: boolean;
  sortSubject: string;
  fromAddr: FirstAddress;
  dateMs: number;
  references: string;
  messageId: string;
}

/** A header's Date is parsed from its bytes read as Latin-1 (text.ts): only an ASCII overview date is certainly the same. */
const ASCII = /^[\u0000-\u007f]*$/;
const LATIN1_HIGH = /[\u0080-\u00ff]/;
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

/**
 * True when the overview value `s` is certainly what the scan reads from the
 * header value (see the module comment): no U+FFFD (bytes lost), and not a
 * Latin-1 reading of bytes that are valid UTF-8.
 */
export function overviewValueExact(s: string): boolean {
  if (s.includes('\uFFFD')) return false;
  if (!LATIN1_HIGH.test(s) || BEYOND_LATIN1.test(s)) return true; // ASCII, or a UTF-8 decoding
  return !isUtf8(Buffer.from(s, 'latin1'));
}

/** The overview record as the index keeps it. */
export function overviewText(o: OverviewFields): OverviewText {
  const subjectExact = overviewValueExact(o.subject);
  const fromExact = overviewValueExact(o.from);
  const subject = decodeHeaderValue(Buffer.from(o.subject, 'utf8'));
  const from = decodeHeaderValue(Buffer.from(o.from, 'utf8'));
  return {
    subject: subjectExact && o.subject !== '' ? fold(subject) : null,
    from: fromExact && o.from !== '' ? fold(from) : null,
    headerNewline: subject.includes('\n') || from.includes('\n'),
    sortExact: subjectExact && fromExact && ASCII.test(o.date) && overviewValueExact(o.messageId) && overviewValueExact(o.references),
    sortSubject: subject,
    fromAddr: firstAddress(o.from),
    dateMs: parseDate(o.date),
    references: o.references.trim(),
    messageId: o.messageId.trim(),
  };
}
