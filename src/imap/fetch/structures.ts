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
import type { StructureShelf } from '../render/structure-cache.js';

/** Items rendered from the MIME structure alone. */
export const STRUCTURE_ITEMS: ReadonlySet<string> = new Set(['BODY', 'BODYSTRUCTURE']);

/**
 * The renderings of a batch: for message i and its k-th BODY/BODYSTRUCTURE
 * item (j = i × kinds + k), bytes [at[j], end[j]) of bufs[j] — a page of the
 * render cache or a rendering of its own, no Buffer view per message.
 * `gone[i]` is 1 for a message whose article vanished upstream (skipped, as
 * expiry announces it).
 */
export interface BatchRenderings {
  kinds: number;
  bufs: Array<Buffer | undefined>;
  at: Uint32Array;
  end: Uint32Array;
  gone: Uint8Array;
}

/** The render-cache shelves of the BODY/BODYSTRUCTURE items, in their order (taken once per command). */
function shelvesOf(ctx: CommandContext, items: readonly FetchItem[]): StructureShelf[] {
  const sel = ctx.session.selected!;
  const cache = ctx.server.renderCache;
  return items.filter((i) => STRUCTURE_ITEMS.has(i.type)).map((i) => cache.structureShelf(sel.name, sel.uidValidity, i.type === 'BODYSTRUCTURE', ctx.session.utf8));
}

/**
 * For `ReadNeeds.structure` of a FETCH whose structure items are all BODY or
 * BODYSTRUCTURE: true for a UID some rendering of which is not kept (its
 * structure must be read). No allocation per UID (a warm listing asks 100,000s).
 */
export function unrendered(ctx: CommandContext, items: readonly FetchItem[]): (uid: number) => boolean {
  const shelves = shelvesOf(ctx, items);
  if (shelves.length === 1) {
    const s = shelves[0]!;
    return (uid) => s.locate(uid) === undefined;
  }
  return (uid) => {
    for (const s of shelves) if (s.locate(uid) === undefined) return true;
    return false;
  };
}

/**
 * The BODY/BODYSTRUCTURE renderings of a batch for `listingBatch`, in the
 * order of those items: from the render cache, else rendered from the
 * structure (the backend's reads for the batch are under way). The buffers
 * are the cache's, never modified (a page is packed into a new one), so they
 * stay valid while the batch is written, whatever the cache does meanwhile.
 */
export async function batchStructures(
  ctx: CommandContext,
  uids: readonly number[],
  items: readonly FetchItem[],
  metas: ReadonlyMap<number, MessageMeta> | undefined,
): Promise<BatchRenderings> {
  const sel = ctx.session.selected!;
  const shelves = shelvesOf(ctx, items);
  const kinds = shelves.length;
  const n = uids.length;
  const out: BatchRenderings = { kinds, bufs: new Array(n * kinds), at: new Uint32Array(n * kinds), end: new Uint32Array(n * kinds), gone: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const uid = uids[i]!;
    if (metas && !metas.has(uid)) {
      out.gone[i] = 1;
      continue;
    }
    let loaded: Promise<MimePart> | undefined;
    try {
      for (let k = 0; k < kinds; k++) {
        const j = i * kinds + k;
        const s = shelves[k]!;
        let b = s.locate(uid);
        if (b !== undefined) {
          out.at[j] = s.at;
          out.end[j] = s.end;
        } else {
          b = await s.get(uid, () => (loaded ??= sel.handle.structure(uid)));
          out.end[j] = b.length;
        }
        out.bufs[j] = b;
      }
    } catch (err) {
      if (err instanceof BackendError && err.code === 'NONEXISTENT') {
        out.gone[i] = 1;
        continue;
      }
      throw err;
    }
  }
  return out;
}
