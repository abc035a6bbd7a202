/**
 * BODY and BODYSTRUCTURE of a FETCH listing batch (commands/fetch.ts
 * `listingBatch`), gathered before the batch is rendered in one write:
 *
 *   C: a1 UID FETCH 1:* (UID BODYSTRUCTURE)
 *   S: * 1 FETCH (UID 1 BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL))
 */
import type { CommandContext } from '../command.js';
import type { FetchItem } from '../wire/fetch-att.js';
import type { MessageMeta, MimePart } from '../../export/interface.js';
import { BackendError } from '../../export/interface.js';

/** Items rendered from the MIME structure alone. */
export const STRUCTURE_ITEMS: ReadonlySet<string> = new Set(['BODY', 'BODYSTRUCTURE']);

/**
 * The BODY/BODYSTRUCTURE renderings of a batch for `listingBatch`, in the
 * order of those items: from the render cache, else rendered from the
 * structure (the backend's reads for the batch are under way). null for a
 * message whose article vanished upstream (skipped, as expiry announces it).
 */
export async function batchStructures(
  ctx: CommandContext,
  uids: readonly number[],
  items: readonly FetchItem[],
  metas: ReadonlyMap<number, MessageMeta> | undefined,
): Promise<Array<Buffer[] | null>> {
  const sel = ctx.session.selected!;
  const utf8 = ctx.session.utf8;
  const cache = ctx.server.renderCache;
  const kinds = items.filter((i) => STRUCTURE_ITEMS.has(i.type)).map((i) => i.type === 'BODYSTRUCTURE');
  const out: Array<Buffer[] | null> = new Array(uids.length).fill(null);
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    if (metas && !metas.has(uid)) continue;
    const got: Buffer[] = [];
    let loaded: Promise<MimePart> | undefined;
    try {
      for (const extended of kinds) {
        got.push(cache.renderedStructure(sel.name, sel.uidValidity, uid, extended, utf8) ?? (await cache.structure(sel.name, sel.uidValidity, uid, extended, utf8, () => (loaded ??= sel.handle.structure(uid)))));
      }
    } catch (err) {
      if (err instanceof BackendError && err.code === 'NONEXISTENT') continue;
      throw err;
    }
    out[i] = got;
  }
  return out;
}
