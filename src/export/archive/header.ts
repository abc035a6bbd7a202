/**
 * Overview fields from a raw article header block (RFC 3977 §8.3 / RFC 5322 §2.2).
 *
 * Values are unfolded the way OVER presents them (RFC 3977 §8.3.2): CR and LF
 * removed, each TAB replaced by a space, NUL dropped, leading and trailing
 * white space trimmed. Encoded words are NOT decoded (overview values are raw).
 * Header bytes are read as UTF-8 when they are valid UTF-8, else as Latin-1
 * (8-bit netnews headers are usually one of the two), so no byte is lost.
 */

export interface HeaderFields {
  subject: string;
  from: string;
  date: string;
  /** The `<…>` token of the Message-ID header, or '' if there is none. */
  messageId: string;
  references: string;
  /** The Newsgroups header (comma-separated group names), or ''. */
  newsgroups: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode header bytes: UTF-8 when valid, else Latin-1 (never throws). */
export function decodeHeaderBytes(b: Buffer): string {
  try {
    return utf8.decode(b);
  } catch {
    return b.toString('latin1');
  }
}

const WANTED = new Set(['subject', 'from', 'date', 'message-id', 'references', 'newsgroups']);

/** Parse the fields overview needs; the first occurrence of each field wins. */
export function parseHeaderFields(header: Buffer): HeaderFields {
  const text = decodeHeaderBytes(header);
  const found = new Map<string, string>();
  let name: string | undefined;
  let value = '';
  const finish = (): void => {
    if (name !== undefined && !found.has(name)) found.set(name, clean(value));
    name = undefined;
  };
  for (const line of text.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l === '') break; // end of header
    if (l[0] === ' ' || l[0] === '\t') {
      if (name !== undefined) value += l; // continuation (folding whitespace kept, CRLF dropped)
      continue;
    }
    finish();
    const colon = l.indexOf(':');
    if (colon <= 0) continue; // not a field line: ignored
    const n = l.slice(0, colon).trim().toLowerCase();
    if (WANTED.has(n)) {
      name = n;
      value = l.slice(colon + 1);
    }
  }
  finish();
  const rawId = found.get('message-id') ?? '';
  const m = /<[^<>\s]+>/.exec(rawId);
  return {
    subject: found.get('subject') ?? '',
    from: found.get('from') ?? '',
    date: found.get('date') ?? '',
    messageId: m ? m[0] : '',
    references: found.get('references') ?? '',
    newsgroups: found.get('newsgroups') ?? '',
  };
}

function clean(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\r\n\0]/g, '').replace(/\t/g, ' ').trim();
}
