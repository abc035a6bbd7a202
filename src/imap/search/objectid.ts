/**
 * SEARCH EMAILID / THREADID (RFC 8474 §6) for evaluate.ts.
 *
 *   C: a1 UID SEARCH EMAILID M1c0b6f0e2d3a4b5c6d7e8f90
 *   S: * SEARCH 7 1207            (the article and, in this group, nothing else)
 *   C: a2 UID SEARCH THREADID T9a41de0c1b2a39485766554f
 *   S: * SEARCH 7 9 12 40
 *
 * The truth is the id computed from each candidate's header data
 * (objectid.ts), so a scan of `meta` answers every key. The index can narrow
 * that scan when the id was sent to a client by this front-end (then the
 * render cache knows the Message-ID it was made from): it is asked for that
 * Message-ID in the Message-ID field (EMAILID), or in Message-ID, References
 * and In-Reply-To (THREADID, the root's id); the messages it neither matches
 * nor leaves undecided cannot carry the id and are not read. A failing index
 * is not used (its error is a BackendError, as for the other keys).
 */
import { BackendError, type IndexTerm, type MessageMeta } from '../../export/interface.js';
import type { RenderCache } from '../render/cache.js';
import type { SelectedMailbox } from '../selected.js';
import type { SearchKey } from '../wire/search-key.js';
import { emailIdOf, idSource, threadIdOf } from '../objectid.js';

export type ObjectIdKey = Extract<SearchKey, { type: 'emailid' | 'threadid' }>;

/** True when `meta`'s article has the id `k` asks for. */
export function objectIdMatches(k: ObjectIdKey, meta: MessageMeta, sel: SelectedMailbox): boolean {
  const src = idSource(meta.header);
  const place = { mailbox: sel.name, uidValidity: sel.uidValidity, uid: meta.uid };
  return (k.type === 'emailid' ? emailIdOf(src, place) : threadIdOf(src, place)) === k.id;
}

/** The index terms whose hits include every message with id `k` (any one may match), or undefined. */
function termsFor(k: ObjectIdKey, cache: RenderCache): IndexTerm[] | undefined {
  const from = cache.objectIds.peek(k.id);
  if (from === undefined) return undefined;
  if (k.type === 'emailid') return [{ field: { header: 'message-id' }, needle: from }];
  return ['message-id', 'references', 'in-reply-to'].map((header) => ({ field: { header }, needle: from }));
}

/**
 * For each key the index can narrow, the UIDs (among `within`) that may carry
 * its id, into `out`; keys it cannot help with are left out (scanned whole).
 */
export async function narrowObjectIds(
  sel: SelectedMailbox, cache: RenderCache, keys: readonly ObjectIdKey[], within: Uint32Array, out: Map<SearchKey, Set<number>>,
): Promise<void> {
  const index = sel.handle.search;
  if (index === undefined || within.length === 0) return;
  for (const k of keys) {
    const terms = termsFor(k, cache);
    if (terms === undefined) continue;
    try {
      const maybe = new Set<number>();
      for (const t of terms) {
        const m = await index.match([t], within);
        for (const u of m.uids) maybe.add(u);
        for (const u of m.unknown) maybe.add(u);
      }
      out.set(k, maybe);
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
    }
  }
}
