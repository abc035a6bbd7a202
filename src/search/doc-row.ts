/**
 * The `docs` row and header text of an article, from its whole header
 * (text.ts `headerText`) or from its overview record (overview-text.ts), with
 * the HeaderFlags (db.ts) that say what of it is exact.
 */
import { HeaderFlags } from './db.js';
import { firstAddress, headerText, type FirstAddress } from './text.js';
import { parseDate } from '../export/backend/dates.js';
import { COLUMNS_INEXACT, COLUMNS_OVERVIEW } from './index-columns.js';
import { overviewText, overviewValueExact, type OverviewFields } from './overview-text.js';
import { decodeHeaderValue } from '../mime/index.js';

/** A lone surrogate (String.prototype.isWellFormed, typed for ES2022), or NUL. */
const UNSTORABLE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/;

/**
 * Text SQLite cannot index exactly: a lone surrogate would be stored as
 * U+FFFD, and at a NUL the trigram tokenizer stops (found by the property
 * test) and libsql cuts strings it reads back. Such text is answered by the
 * caller's scan instead (BodyState.ScanOnly, HeaderFlags.NotWellFormed).
 */
export function storable(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** What a sort column cannot hold: NUL (libsql cuts strings there) and U+0001 (index-columns.ts joins values with it). */
// eslint-disable-next-line no-control-regex
const NOT_IN_COLUMN = /[\u0000\u0001]/g;

/** A sort key as stored: NUL and U+0001 become spaces (such a document is flagged SortInexact). */
export function sortText(s: string): string {
  return s.replace(NOT_IN_COLUMN, ' ');
}

/** The `docs` row of one article (see db.ts) and the text the FTS tables get. */
export interface DocRow {
  /** `docs.message_id`: the Message-ID, or a key of its own for an article without one. */
  key: string;
  /** date_ms, arrival_ms, size, subject, from_*, to_*, cc_*, refs, in_reply_to, hdr_msgid, in column order. */
  columns: unknown[];
  flags: number;
  /** headers(subject, hfrom, hto, hcc, alltext); null: not stored (NotWellFormed). */
  text: [string | null, string | null, string | null, string | null, string] | null;
}

/**
 * The caller's key for the article, else its Message-ID, else a key no
 * Message-ID can take (they are trimmed), so id-less articles never merge.
 */
function docKey(r: Location, messageId: string): string {
  if (r.key !== undefined && r.key !== '') return sortText(r.key);
  return messageId !== '' ? sortText(messageId) : ` ${r.mailbox} ${r.uidValidity} ${r.uid}`;
}

function sortColumns(values: string[]): { values: string[]; exact: boolean } {
  let exact = true;
  const out = values.map((v) => {
    NOT_IN_COLUMN.lastIndex = 0;
    if (!NOT_IN_COLUMN.test(v)) return v;
    exact = false;
    return sortText(v);
  });
  return { values: out, exact };
}

export interface Location {
  mailbox: string;
  uidValidity: number;
  uid: number;
  internalDate: number;
  size: number;
  /** The document's key (see writer.ts HeaderRecord.key). */
  key?: string;
}

/** The row of an article from its header block (a whole article works too). */
export function headerRow(header: Buffer, r: Location): DocRow {
  const h = headerText(header);
  const texts = [h.subject, h.from, h.to, h.cc, h.all];
  let flags = h.headerNewline ? HeaderFlags.Newline : 0;
  const notWellFormed = texts.some((t) => t !== null && !storable(t));
  if (notWellFormed) flags |= HeaderFlags.NotWellFormed;
  const f = h.fromAddr;
  const t = h.toAddr;
  const c = h.ccAddr;
  const sort = sortColumns([h.sortSubject, f.mailbox, f.host, f.name, t.mailbox, t.host, t.name, c.mailbox, c.host, c.name, h.references, h.inReplyTo, h.messageId]);
  if (!sort.exact) flags |= HeaderFlags.SortInexact;
  return {
    key: docKey(r, h.messageId),
    columns: [Number.isFinite(h.dateMs) ? h.dateMs : null, r.internalDate, r.size, ...sort.values],
    flags,
    text: notWellFormed ? null : [h.subject, h.from, h.to, h.cc, h.all],
  };
}

/** The row of an article known by its overview only (HeaderFlags.Partial). */
export function overviewRow(o: OverviewFields, r: Location): DocRow {
  const v = overviewText(o);
  let flags = HeaderFlags.Partial | (v.headerNewline ? HeaderFlags.Newline : 0);
  if (v.subject === null) flags |= HeaderFlags.SubjectUnknown;
  if (v.from === null) flags |= HeaderFlags.FromUnknown;
  const texts = [v.subject, v.from];
  if (texts.some((t) => t !== null && !storable(t))) flags |= HeaderFlags.NotWellFormed;
  const f = v.fromAddr;
  const sort = sortColumns([v.sortSubject, f.mailbox, f.host, f.name, '', '', '', '', '', '', v.references, '', v.messageId]);
  if (!sort.exact || !v.sortExact) flags |= HeaderFlags.SortInexact;
  return {
    key: docKey(r, v.messageId),
    columns: [Number.isFinite(v.dateMs) ? v.dateMs : null, r.internalDate, r.size, ...sort.values],
    flags,
    // no alltext: every needle on it is left to the scan for a Partial document
    text: (flags & HeaderFlags.NotWellFormed) !== 0 ? null : [v.subject, v.from, null, null, ''],
  };
}

/** In-Reply-To as the index stores it (IndexWriter.setInReplyTo), or null when the column cannot hold it exactly (SortInexact). */
export function inReplyToColumn(value: string): string | null {
  const v = value.trim();
  const stored = sortText(v);
  return stored === v ? stored : null;
}

/** What `sortColumns` reads back for a document written from an overview record alone (see `overviewColumns`). */
export interface OverviewColumns {
  /** COLUMNS_OVERVIEW, or COLUMNS_INEXACT (the header must be read). */
  state: number;
  /** Date header, ms since the epoch; NaN when absent or unparseable. */
  date: number;
  subject: string;
  from: FirstAddress;
  messageId: string;
  references: string;
}

/** ASCII without NUL and U+0001 (which a column cannot hold): such a value is stored as it is. */
// eslint-disable-next-line no-control-regex
const PLAIN = /^[\u0002-\u007f]*$/;
/** NUL or U+0001: a column holding one is stored changed (SortInexact). */
// eslint-disable-next-line no-control-regex
const CTL = /[\u0000\u0001]/;
/** A value `decodeHeaderValue` may change: an encoded word, or a surrogate (a lone one becomes U+FFFD on the way through UTF-8). */
const DECODES = /=\?|[\uD800-\uDFFF]/;
/** A Date the index parses as the overview gives it: ASCII only (overview-text.ts). */
const ASCII = /^[\u0000-\u007f]*$/;

/** What `overviewRow` makes of one From value, kept by an `OverviewMemo`. */
interface FromFacts {
  /** overviewValueExact(from). */
  exact: boolean;
  /** The first address's columns hold NUL or U+0001 (SortInexact). */
  ctl: boolean;
  /** The first address as the columns hold it. */
  addr: FirstAddress;
}

/**
 * What `overviewColumns` keeps between calls: the facts of each From value
 * (decoding and parsing an address is the costly part, and a group's
 * posters repeat). One per pass over a group's records; up to MEMO_FROM
 * values, then it starts again.
 */
export class OverviewMemo {
  readonly from = new Map<string, FromFacts>();
}

const MEMO_FROM = 65_536;

function fromFacts(from: string, memo: OverviewMemo | undefined): FromFacts {
  const known = memo?.from.get(from);
  if (known !== undefined) return known;
  const a = firstAddress(from);
  const addr = a.mailbox === '' && a.host === '' && a.name === '' ? NO_ADDRESS : { mailbox: sortText(a.mailbox), host: sortText(a.host), name: sortText(a.name) };
  const facts = { exact: overviewValueExact(from), ctl: CTL.test(a.mailbox) || CTL.test(a.host) || CTL.test(a.name), addr };
  if (memo !== undefined) {
    if (memo.from.size >= MEMO_FROM) memo.from.clear();
    memo.from.set(from, facts);
  }
  return facts;
}

/**
 * The SORT/THREAD columns `addOverview` stores for overview `o`, as
 * `sortColumns` would read them back: a record queued for the writer
 * stands in for its row, with the same answer (the rule is `overviewRow`'s;
 * this computes only the columns and their state, without the search
 * text). `from` is left empty unless `withFrom` (the state does not depend
 * on it). `memo` (optional) keeps what was worked out for each From value
 * across calls; `dateMs`, when the caller has it, is `parseDate(o.date)`
 * (dates.ts; NaN allowed), so the date is not parsed again.
 * test/search/overview-columns.test.ts checks every kind of value against
 * the index.
 */
export function overviewColumns(o: OverviewFields, withFrom = true, memo?: OverviewMemo, dateMs?: number): OverviewColumns {
  if (!o.subject.includes('=?') && !o.from.includes('=?') && PLAIN.test(o.subject) && PLAIN.test(o.from) && PLAIN.test(o.date) && PLAIN.test(o.messageId) && PLAIN.test(o.references)) {
    // decoding ASCII without encoded words gives it back; nothing is replaced, every overview value is exact
    const date = dateMs ?? parseDate(o.date);
    return {
      state: COLUMNS_OVERVIEW,
      date: Number.isFinite(date) ? date : NaN,
      subject: o.subject,
      from: withFrom ? fromFacts(o.from, memo).addr : NO_ADDRESS,
      references: o.references.trim(),
      messageId: o.messageId.trim(),
    };
  }
  // overviewRow's columns: Subject decoded (overviewText), From's first address, the rest trimmed; each column through sortText
  const subject = DECODES.test(o.subject) ? decodeHeaderValue(Buffer.from(o.subject, 'utf8')) : o.subject;
  const references = o.references.trim();
  const messageId = o.messageId.trim();
  const f = fromFacts(o.from, memo);
  const exact =
    overviewValueExact(o.subject) && f.exact && ASCII.test(o.date) && overviewValueExact(o.messageId) && overviewValueExact(o.references) &&
    !CTL.test(subject) && !f.ctl && !CTL.test(references) && !CTL.test(messageId);
  const date = dateMs ?? parseDate(o.date);
  return {
    state: exact ? COLUMNS_OVERVIEW : COLUMNS_INEXACT,
    date: Number.isFinite(date) ? date : NaN,
    subject: sortText(subject),
    from: withFrom ? f.addr : NO_ADDRESS,
    references: sortText(references),
    messageId: sortText(messageId),
  };
}

const NO_ADDRESS: FirstAddress = Object.freeze({ mailbox: '', host: '', name: '' });
