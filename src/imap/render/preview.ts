/**
 * PREVIEW (RFC 8970): a short plain-text excerpt of a message for a client's
 * message list, computed once per article and kept in a cache bounded by bytes
 * (shared by every session, like the rendered ENVELOPEs).
 *
 *   C: a1 UID FETCH 7 (PREVIEW)
 *   S: * 3 FETCH (UID 7 PREVIEW "Does anyone know whether the new release ...")
 *   C: a2 UID FETCH 8 (PREVIEW (LAZY))
 *   S: * 4 FETCH (UID 8 PREVIEW NIL)        (not computed yet: ask again without LAZY)
 *
 * The text: the first text part that is not an attachment (text/plain
 * preferred, else text/html with its markup removed), transfer- and
 * charset-decoded, whitespace runs collapsed to one space, at most
 * PREVIEW_CHARS characters (RFC 8970 §2 allows up to 256). A message with no
 * such part, or with nothing but whitespace in it, has the empty preview "".
 * Only the first PREVIEW_READ_BYTES of the part are read upstream.
 *
 * Errors: `compute` throws what the reader throws (BackendError); nothing is
 * cached then.
 */
import type { MessageReader, MimePart } from '../../export/interface.js';
import { textForSearch } from '../../mime/index.js';
import { ByteLru } from '../../util/lru.js';

/** Characters in a preview (RFC 8970 §2: no more than 256). */
export const PREVIEW_CHARS = 200;
/** Encoded octets of the text part read for a preview: enough for 200 characters after HTML markup or base64. */
export const PREVIEW_READ_BYTES = 32 * 1024;
/** Charged per cached preview besides its UTF-16 text: key, node, string header (estimated). */
const ENTRY_OVERHEAD = 160;

/** The part a preview is made from: the first inline text/plain, else the first inline text/html. */
export function previewPart(root: MimePart): MimePart | undefined {
  let html: MimePart | undefined;
  const walk = (p: MimePart): MimePart | undefined => {
    if (p.parts) {
      for (const c of p.parts) {
        const hit = walk(c);
        if (hit) return hit;
      }
      return undefined;
    }
    if (p.message || p.type !== 'text' || p.disposition?.type === 'attachment') return undefined;
    if (p.subtype === 'plain') return p;
    if (p.subtype === 'html') html ??= p;
    return undefined;
  };
  return walk(root) ?? html;
}

/** Markup, comments, style and script of an HTML text removed; common entities decoded. */
function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<(style|script|head)\b[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
    .replace(/<[^>]*(>|$)/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#(\d{1,6});/g, (_, n: string) => safeCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]{1,6});/gi, (_, n: string) => safeCodePoint(parseInt(n, 16)))
    .replace(/&amp;/gi, '&');
}

function safeCodePoint(n: number): string {
  return n > 0 && n <= 0x10ffff && (n < 0xd800 || n > 0xdfff) ? String.fromCodePoint(n) : ' ';
}

/**
 * `text` with every run of white space and control characters made one space,
 * trimmed, and cut to PREVIEW_CHARS characters (code points: a surrogate pair
 * is never split).
 */
export function normalizePreview(text: string): string {
  const flat = text.replace(/[\s\u0000-\u001f\u007f\u0080-\u009f\ufeff]+/g, ' ').trim();
  const chars = Array.from(flat.length > PREVIEW_CHARS * 2 + 2 ? flat.slice(0, PREVIEW_CHARS * 2 + 2) : flat);
  return chars.length <= PREVIEW_CHARS ? flat : chars.slice(0, PREVIEW_CHARS).join('').trimEnd();
}

/** The preview of a message whose structure is `root`, reading what it must through `reader`. */
export async function computePreview(reader: MessageReader, uid: number, root: MimePart): Promise<string> {
  const part = previewPart(root);
  if (!part || part.bodyEnd <= part.bodyStart) return '';
  const end = Math.min(part.bodyEnd, part.bodyStart + PREVIEW_READ_BYTES);
  const chunks: Buffer[] = [];
  const stream = await reader.content(uid, { start: part.bodyStart, end });
  try {
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  } finally {
    stream.destroy();
  }
  const text = textForSearch(part, Buffer.concat(chunks));
  return normalizePreview(part.subtype === 'html' ? htmlToText(text) : text);
}

/**
 * Previews by article (key: mailbox, UIDVALIDITY, UID — one article forever),
 * least recently used first out, bounded by `maxBytes` (two bytes a UTF-16
 * code unit plus ENTRY_OVERHEAD an entry).
 */
export class PreviewCache {
  private readonly lru: ByteLru<string, string>;

  constructor(maxBytes: number) {
    this.lru = new ByteLru(maxBytes);
  }

  /** Bytes charged now. */
  get bytes(): number {
    return this.lru.cost;
  }

  get size(): number {
    return this.lru.size;
  }

  get(key: string): string | undefined {
    return this.lru.get(key);
  }

  /** The cached preview, or `compute()`'s, which is then kept. */
  async of(key: string, compute: () => Promise<string>): Promise<string> {
    const hit = this.lru.get(key);
    if (hit !== undefined) return hit;
    const text = await compute();
    this.lru.set(key, text, text.length * 2 + key.length * 2 + ENTRY_OVERHEAD);
    return text;
  }
}
