/**
 * What a FETCH's items ask of it (commands/fetch.ts `runFetch`), worked out
 * in one pass over the items: which backend data it needs (`ReadNeeds`), and
 * which rendering path answers it (listing, bodies, structure listing, one
 * message at a time). A plain loop on purpose: a dozen `items.some(...)`
 * closures per command were a measurable part of what a one-message FETCH
 * allocated.
 */
import type { FetchItem } from '../wire/fetch-att.js';
import { bodiesPath } from './bodies.js';
import { LISTING_ITEMS } from './listing.js';
import { STRUCTURE_ITEMS } from './structures.js';

const META_ITEMS: ReadonlySet<string> = new Set(['ENVELOPE', 'INTERNALDATE', 'RFC822.SIZE', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'EMAILID', 'THREADID']);

export interface FetchPlan {
  /** Some item needs the cached header (`ReadNeeds.meta`). */
  meta: boolean;
  /** Some item needs the MIME structure. */
  structure: boolean;
  /** Some item reads article bytes beyond the header (PREVIEW aside: see `eagerPreview`). */
  content: boolean;
  /** A PREVIEW that is computed when not cached (not LAZY). */
  eagerPreview: boolean;
  /** Some item sets \Seen on a read-write mailbox. */
  setsSeen: boolean;
  /** FLAGS or MODSEQ is asked for. */
  flagItems: boolean;
  /** ENVELOPE is asked for. */
  envelope: boolean;
  /** Only RFC822.SIZE and byte ranges of the article use the exact size (header sections and ENVELOPE do not). */
  exactSize: boolean;
  /** Every item is a listing item (fetch/listing.ts). */
  listing: boolean;
  /** Every item is a listing or BODY/BODYSTRUCTURE item. */
  structureListing: boolean;
  /** The bodies path answers the items (fetch/bodies.ts `bodiesPath`). */
  bodies: boolean;
  /** The items that need the structure, in order. */
  structureItems: FetchItem[];
  /** Each of `structureItems` is BODY, BODYSTRUCTURE or PREVIEW (renderings the cache may hold). */
  renderedOnly: boolean;
  /** Each of `structureItems` is BODY or BODYSTRUCTURE. */
  structureOnly: boolean;
}

/** A section of the header only (BODY[HEADER], BODY[HEADER.FIELDS ...], ...). */
export function isHeaderOnly(i: FetchItem): boolean {
  return i.type === 'BODY[]' && i.section.part.length === 0 && i.section.text !== undefined && i.section.text !== 'TEXT';
}

/** Does `i` need the MIME structure? */
export function needsStructure(i: FetchItem): boolean {
  return STRUCTURE_ITEMS.has(i.type) ||
    (i.type === 'BODY[]' && i.section.part.length > 0) ||
    i.type === 'BINARY' ||
    i.type === 'BINARY.SIZE' ||
    (i.type === 'PREVIEW' && !i.lazy);
}

export function planOf(items: readonly FetchItem[]): FetchPlan {
  const p: FetchPlan = {
    meta: false, structure: false, content: false, eagerPreview: false, setsSeen: false, flagItems: false, envelope: false,
    exactSize: false, listing: true, structureListing: true, bodies: false, structureItems: [], renderedOnly: true, structureOnly: true,
  };
  for (const i of items) {
    const t = i.type;
    const wholeBody = t === 'BODY[]' && !isHeaderOnly(i);
    // a part's section (BODY[2]<0.1024>, BINARY[2]<0.1024>) needs neither the header nor the size: only the
    // structure and bytes (no wait on a download for an exact size: the partial goes out once its bytes are in)
    const ofPart = (t === 'BODY[]' && i.section.part.length > 0) || (t === 'BINARY' && i.part.length > 0);
    if (META_ITEMS.has(t) || ((t === 'BODY[]' || t === 'BINARY') && !ofPart) || t === 'BINARY.SIZE') p.meta = true;
    if (t === 'RFC822' || t === 'RFC822.TEXT' || t === 'BINARY' || wholeBody) p.content = true;
    if (t === 'PREVIEW' && !i.lazy) p.eagerPreview = true;
    if (i.setsSeen) p.setsSeen = true;
    if (t === 'FLAGS' || t === 'MODSEQ') p.flagItems = true;
    if (t === 'ENVELOPE') p.envelope = true;
    if (t === 'RFC822.SIZE' || t === 'RFC822' || t === 'RFC822.TEXT' || t === 'BINARY.SIZE' || ((wholeBody || t === 'BINARY') && !ofPart)) p.exactSize = true;
    const listed = LISTING_ITEMS.has(t);
    if (!listed) p.listing = false;
    if (!listed && !STRUCTURE_ITEMS.has(t)) p.structureListing = false;
    if (needsStructure(i)) {
      p.structure = true;
      p.structureItems.push(i);
      if (t !== 'BODY' && t !== 'BODYSTRUCTURE') {
        p.structureOnly = false;
        if (t !== 'PREVIEW') p.renderedOnly = false;
      }
    }
  }
  p.bodies = !p.listing && bodiesPath(items);
  p.structureListing &&= !p.listing;
  return p;
}
