/**
 * FETCH items of extensions, rendered for commands/fetch.ts:
 *
 * - `EMAILID (M…)` and `THREADID (T…)` (RFC 8474 §5), from the header data
 *   (`MessageMeta.header`) alone; each id sent is remembered with the
 *   Message-ID it was made from (RenderCache.objectIds), so a later SEARCH
 *   EMAILID/THREADID can ask the index for that Message-ID (search/objectid.ts);
 * - `PREVIEW "…"` (RFC 8970), from the preview cache, else computed from the
 *   first text part (render/preview.ts); with LAZY, NIL when not cached.
 */
import type { MessageMeta, MimePart } from '../../export/interface.js';
import type { FetchItem } from '../wire/fetch-att.js';
import type { RenderCache } from '../render/cache.js';
import type { SelectedMailbox } from '../selected.js';
import { emailIdOf, idSource, threadIdOf } from '../objectid.js';
import { computePreview } from '../render/preview.js';
import { nstring } from '../wire/encoder.js';

/** Charged per remembered object id: id, Message-ID (≤ ~250), node (estimated). */
const OBJECTID_ENTRY_BYTES = 96;

/** The article key the render caches use: mailbox, UIDVALIDITY, UID. */
export function articleKey(sel: SelectedMailbox, uid: number): string {
  return `${sel.name}\u0000${sel.uidValidity}\u0000${uid}`;
}

/** `EMAILID (…)` or `THREADID (…)` of one article. */
export function objectIdItem(type: 'EMAILID' | 'THREADID', meta: MessageMeta, sel: SelectedMailbox, cache: RenderCache): string {
  const src = idSource(meta.header);
  const place = { mailbox: sel.name, uidValidity: sel.uidValidity, uid: meta.uid };
  const id = type === 'EMAILID' ? emailIdOf(src, place) : threadIdOf(src, place);
  const from = type === 'EMAILID' ? src.messageId : src.root;
  if (from !== undefined && cache.objectIds.peek(id) === undefined) {
    cache.objectIds.set(id, from, (id.length + from.length) * 2 + OBJECTID_ENTRY_BYTES);
  }
  return `${type} (${id})`;
}

/** True when the preview of `uid` is cached (no article data needed for it). */
export function previewCached(cache: RenderCache, sel: SelectedMailbox, uid: number): boolean {
  return cache.previews.get(articleKey(sel, uid)) !== undefined;
}

/** `PREVIEW <nstring>`: cached, computed (not `lazy`), or NIL (`lazy` and not cached). */
export async function previewItem(
  lazy: boolean, uid: number, sel: SelectedMailbox, cache: RenderCache, structure: (() => Promise<MimePart>) | undefined, utf8: boolean,
): Promise<Buffer> {
  const key = articleKey(sel, uid);
  let text = cache.previews.get(key);
  if (text === undefined && !lazy && structure) {
    const root = await structure();
    text = await cache.previews.of(key, () => computePreview(sel.handle, uid, root));
  }
  return Buffer.concat([Buffer.from('PREVIEW ', 'latin1'), nstring(text ?? null, { utf8 })]);
}
