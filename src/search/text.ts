/**
 * Article → the text the search index stores, folded once at index time.
 *
 * The index must answer exactly as the scan of `src/imap/commands/search.ts`
 * does, which folds both sides with `fold` and tests `includes`:
 * - HEADER name x: each field `name` → fold(decodeHeaderValue(value)) contains x;
 * - TEXT x: a whole field `fold(name + ': ' + value)` contains x, or the body does;
 * - BODY x: fold(bodyText) contains x, bodyText = the decoded text leaves joined by '\n'.
 * So the index keeps fold(text), never the raw text: a trigram phrase of the
 * folded needle over folded text is then the same substring test (see query.ts).
 *
 * Several fields (two Subject lines, or every field for TEXT) are stored as one
 * string joined by '\n'. A needle without '\n' cannot span such a join, and '\n'
 * is a context boundary for both NFC and toLowerCase (the Final_Sigma rule stops
 * at a character that is neither cased nor case-ignorable), so
 * fold(a + '\n' + b) === fold(a) + '\n' + fold(b) and the joined string answers
 * exactly. Only a field whose decoded value itself holds '\n' (an encoded word
 * can) makes the joins ambiguous; such a document is flagged `headerNewline`
 * and a needle holding '\n' is not answered from its header text.
 *
 * Never throws on article bytes (the MIME layer never does).
 */
import {
  bytesToText,
  decodeHeaderValue,
  parseAddressList,
  parseHeader,
  parseStructure,
  textForSearch,
  searchTextLeaves,
  MAX_SEARCH_PART_BYTES,
  type HeaderField,
  type MimePart,
} from '../mime/index.js';
import { parseDate } from '../export/backend/dates.js';

/** The case fold of IMAP SEARCH in newsfront (both sides of every comparison). */
export const fold = (s: string): string => s.normalize('NFC').toLowerCase();

/** Bodies larger than this are searched in their first part only: the MIME library's rule, shared with the scan. */
export const MAX_SEARCH_BODY = MAX_SEARCH_PART_BYTES;

/** The first address of an address field, as SORT (RFC 5256) and DISPLAY (RFC 5957) need it. */
export interface FirstAddress {
  /** addr-mailbox (local part), '' when absent. */
  mailbox: string;
  /** addr-host, '' when absent. */
  host: string;
  /** Display name with encoded words decoded, '' when absent. */
  name: string;
}

/** What the index keeps of an article header. */
export interface HeaderText {
  /** Folded values of every field of that name, joined by '\n'; null when the article has none. */
  subject: string | null;
  from: string | null;
  to: string | null;
  cc: string | null;
  /** Every field as fold(`${name}: ${decoded value}`), joined by '\n' (TEXT and other HEADER fields). */
  all: string;
  /** Some decoded field value holds '\n' (see the module comment). */
  headerNewline: boolean;
  /** For SORT/THREAD: the first Subject decoded (not folded), '' when absent. */
  sortSubject: string;
  fromAddr: FirstAddress;
  toAddr: FirstAddress;
  ccAddr: FirstAddress;
  /** Date header in ms since the epoch, NaN when absent or unparseable. */
  dateMs: number;
  /** References and In-Reply-To as written (unfolded, trimmed), '' when absent. */
  references: string;
  inReplyTo: string;
  /** Message-ID as written (trimmed), '' when absent. */
  messageId: string;
}

const NO_ADDRESS: FirstAddress = Object.freeze({ mailbox: '', host: '', name: '' });

/**
 * The first address of an address field value (as text), the way SORT reads it
 * from a raw header value (columns.ts): the first entry of the list, so a
 * group's name for a group (RFC 5256 §3), the text re-encoded as UTF-8 for the
 * parser.
 */
export function firstAddress(value: string): FirstAddress {
  if (value === '') return NO_ADDRESS;
  const a = parseAddressList(Buffer.from(value, 'utf8'))?.[0];
  if (a === undefined) return NO_ADDRESS;
  return {
    mailbox: a.mailbox === null ? '' : bytesToText(a.mailbox),
    host: a.host === null ? '' : bytesToText(a.host),
    name: a.name === null ? '' : decodeHeaderValue(a.name),
  };
}

function valueText(f: HeaderField | undefined): string {
  return f === undefined ? '' : bytesToText(f.value);
}

function rawText(f: HeaderField | undefined): string {
  return valueText(f).trim();
}

/** The header block (up to and including its blank line) as the index keeps it. */
export function headerText(block: Buffer): HeaderText {
  const fields = parseHeader(block);
  const byName: Record<'subject' | 'from' | 'to' | 'cc', string[] | null> = { subject: null, from: null, to: null, cc: null };
  const all: string[] = [];
  let headerNewline = false;
  let sortSubject: string | undefined;
  for (const f of fields) {
    const value = decodeHeaderValue(f.value);
    if (value.includes('\n')) headerNewline = true;
    all.push(fold(`${f.name}: ${value}`));
    const l = f.lname;
    if (l === 'subject' || l === 'from' || l === 'to' || l === 'cc') {
      (byName[l] ??= []).push(fold(value));
      if (l === 'subject') sortSubject ??= value;
    }
  }
  const first = (n: string): HeaderField | undefined => fields.find((f) => f.lname === n);
  const date = first('date');
  return {
    subject: byName.subject?.join('\n') ?? null,
    from: byName.from?.join('\n') ?? null,
    to: byName.to?.join('\n') ?? null,
    cc: byName.cc?.join('\n') ?? null,
    all: all.join('\n'),
    headerNewline,
    sortSubject: sortSubject ?? '',
    fromAddr: firstAddress(valueText(first('from'))),
    toAddr: firstAddress(valueText(first('to'))),
    ccAddr: firstAddress(valueText(first('cc'))),
    dateMs: date === undefined ? NaN : parseDate(date.value.toString('latin1')),
    references: rawText(first('references')),
    inReplyTo: rawText(first('in-reply-to')),
    messageId: rawText(first('message-id')),
  };
}

/** The decoded body text of a whole article (not folded): what BODY searches. */
export function bodyText(article: Buffer): string {
  const root = parseStructure(article);
  const out: string[] = [];
  for (const leaf of searchTextLeaves(root)) {
    const end = Math.min(leaf.bodyEnd, leaf.bodyStart + MAX_SEARCH_BODY);
    if (end <= leaf.bodyStart) continue;
    out.push(textForSearch(leaf, article.subarray(leaf.bodyStart, end)));
  }
  return out.join('\n');
}
