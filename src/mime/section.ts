/**
 * Section numbers and byte ranges (RFC 9051 §6.4.5 BODY[<section>]).
 *
 * - `[]` is the whole message; every message has a part 1: a non-multipart
 *   message's part 1 is its body (`partAt(root, [1]) === root`);
 * - the parts of a multipart are numbered from 1;
 * - the subparts of a message/rfc822 part are those of its encapsulated message
 *   (its multipart children, or its body as part 1).
 *
 * `sectionRange` gives the absolute byte range in the article, so the server reads
 * only that range of a cached article. Errors: MimeError NO_SUCH_PART for a path
 * that names no part, BAD_SECTION for HEADER/TEXT of a part that is not a
 * message, or MIME of the top level.
 */
import { MimeError } from './errors.js';
import type { MimePart } from './part.js';

export type SectionText = '' | 'HEADER' | 'TEXT' | 'MIME';

export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
}

/** The children `n` indexes into below `p` (p is the root when `isRoot`), in a finished tree. */
export function childrenOf(p: MimePart, isRoot: boolean): readonly MimePart[] {
  if (p.parts !== undefined) return p.parts;
  if (p.message !== undefined && !isRoot) {
    const body = p.message.body;
    return body.parts ?? [body];
  }
  return isRoot ? [p] : [];
}

/** The part named by `path` (1-based numbers). Throws MimeError NO_SUCH_PART. */
export function partAt(root: MimePart, path: readonly number[]): MimePart {
  let cur = root;
  let isRoot = true;
  for (const n of path) {
    const kids = childrenOf(cur, isRoot);
    const next = Number.isInteger(n) && n >= 1 ? kids[n - 1] : undefined;
    if (next === undefined) throw new MimeError('NO_SUCH_PART', `no part ${path.join('.')}`);
    // A root's own body (part 1 of a non-multipart message) keeps root semantics
    // for its message/rfc822 content: its subparts are those of the inner message.
    isRoot = false;
    cur = next;
  }
  return cur;
}

/**
 * Byte range of BODY[<path>.<text>]:
 * - '' : `[]` → the whole article; a part → its body (for message/rfc822: the
 *   whole encapsulated message);
 * - HEADER / TEXT : `[]` → the article's header / body; a message/rfc822 part →
 *   its encapsulated message's header / body;
 * - MIME : a part's MIME header (for part 1 of a non-multipart message: the
 *   message header).
 */
export function sectionRange(root: MimePart, path: readonly number[], text: SectionText): ByteRange {
  const p = partAt(root, path);
  const top = path.length === 0;
  switch (text) {
    case '':
      return top ? { start: root.headerStart, end: root.bodyEnd } : { start: p.bodyStart, end: p.bodyEnd };
    case 'MIME':
      if (top) throw new MimeError('BAD_SECTION', 'MIME needs a part number');
      return { start: p.headerStart, end: p.bodyStart };
    case 'HEADER':
    case 'TEXT': {
      const msg = top ? root : p.message?.body;
      if (msg === undefined) throw new MimeError('BAD_SECTION', `${text} of a part that is not a message`);
      return text === 'HEADER' ? { start: msg.headerStart, end: msg.bodyStart } : { start: msg.bodyStart, end: msg.bodyEnd };
    }
    default:
      throw new MimeError('BAD_SECTION', `unknown section text ${String(text)}`);
  }
}
