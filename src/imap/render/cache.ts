/**
 * Rendered ENVELOPE and BODYSTRUCTURE bytes, kept so that warm listings do not
 * render the same article again for every session and every FETCH. Both are
 * the IMAP layer's own, bounded by bytes (limits.ts), and keyed by mailbox,
 * UIDVALIDITY and UID (one article forever, DESIGN invariant 1).
 *
 * - Envelopes: see envelope-cache.ts. The Envelope object itself is not kept:
 *   parsed, rendered, dropped (a retained tree of ~15 objects per article made
 *   every major GC of a big listing slower).
 * - Body structures: see structure-cache.ts, the same pages by UID as envelopes.
 * Rendering depends on UTF8=ACCEPT (quoted UTF-8 vs literals): both forms are kept apart.
 * - PREVIEW texts (RFC 8970): preview.ts.
 * - Object ids a client was sent → the Message-ID each was made from
 *   (objectid.ts), so SEARCH EMAILID/THREADID can ask the index.
 */
import type { MimePart } from '../../mime/index.js';
import { ByteLru } from '../../util/lru.js';
import { ENVELOPE_CACHE_BYTES, OBJECTID_CACHE_BYTES, PREVIEW_CACHE_BYTES, STRUCTURE_CACHE_BYTES } from '../limits.js';
import { EnvelopeCache, type Envelopes, type EnvelopeShelf, type RenderStore } from './envelope-cache.js';
import { StructureCache, type StructureShelf } from './structure-cache.js';
import { PreviewCache } from './preview.js';

export type { Envelopes, EnvelopeShelf, RenderStore };
export { readSlot } from './page-pack.js';

export class RenderCache {
  private readonly envelopeCache: EnvelopeCache;
  private readonly structures: StructureCache;
  /** PREVIEW texts by article key (mailbox, UIDVALIDITY, UID). */
  readonly previews: PreviewCache;
  /** EMAILID/THREADID → the Message-ID it was made from (a thread root for THREADID). */
  readonly objectIds: ByteLru<string, string>;

  /** `store`: where envelope and structure pages go beyond the memory bound (see page-cache.ts); the caller closes it after `flush()`. */
  constructor(bounds: { envelopeBytes?: number; structureBytes?: number; previewBytes?: number; objectIdBytes?: number } = {}, store?: RenderStore) {
    this.envelopeCache = new EnvelopeCache(bounds.envelopeBytes ?? ENVELOPE_CACHE_BYTES, store);
    this.structures = new StructureCache(bounds.structureBytes ?? STRUCTURE_CACHE_BYTES, store);
    this.previews = new PreviewCache(bounds.previewBytes ?? PREVIEW_CACHE_BYTES);
    this.objectIds = new ByteLru(bounds.objectIdBytes ?? OBJECTID_CACHE_BYTES);
  }

  /** The rendered ENVELOPEs of one mailbox (take it once per command; see envelope-cache.ts). */
  envelopes(mailbox: string, uidValidity: number, utf8: boolean): EnvelopeShelf {
    return this.envelopeCache.shelf(mailbox, uidValidity, utf8);
  }

  /** ENVELOPE cache counters since start, and the bytes it holds now (metrics). */
  envelopeStats(): { hits: number; misses: number; bytes: number; loads: number; oneLoads: number; saves: number } {
    const c = this.envelopeCache;
    return { hits: c.hits, misses: c.misses, bytes: c.bytes, loads: c.loads, oneLoads: c.oneLoads, saves: c.saves };
  }

  /** Bytes the structure renderings are charged now (metrics, tests). */
  get structureBytes(): number {
    return this.structures.bytes;
  }

  /** Writes the envelope and structure pages the store lacks (before the store is closed). */
  flush(): void {
    this.envelopeCache.flush();
    this.structures.flush();
  }

  /** The kept BODY (or BODYSTRUCTURE: `extended`) renderings of one mailbox, for a listing to take once (structure-cache.ts). */
  structureShelf(mailbox: string, uidValidity: number, extended: boolean, utf8: boolean): StructureShelf {
    return this.structures.shelf(mailbox, uidValidity, extended, utf8);
  }

  /** True when `structure(…)` of this message and form would answer from the cache (memory or store). */
  hasStructure(mailbox: string, uidValidity: number, uid: number, extended: boolean, utf8: boolean): boolean {
    return this.structures.shelf(mailbox, uidValidity, extended, utf8).find(uid) !== undefined;
  }

  /** The cached rendering (marked used), or undefined: what `structure` answers without loading. */
  renderedStructure(mailbox: string, uidValidity: number, uid: number, extended: boolean, utf8: boolean): Buffer | undefined {
    return this.structures.shelf(mailbox, uidValidity, extended, utf8).find(uid);
  }

  /**
   * Renders the BODYSTRUCTURE of a message ahead of any command (Backend
   * `onStructure`: the index crawler parsed it), in the form clients list
   * most (extended, without UTF8=ACCEPT); kept and stored like one a listing
   * rendered, so the first listing of a crawled group renders nothing.
   */
  structureAhead(mailbox: string, uidValidity: number, uid: number, part: MimePart): void {
    this.structures.shelf(mailbox, uidValidity, true, false).ahead(uid, part);
  }

  /** The BODY (or BODYSTRUCTURE: `extended`) of a message; `load` gives its structure when not cached. */
  structure(mailbox: string, uidValidity: number, uid: number, extended: boolean, utf8: boolean, load: () => Promise<MimePart>): Promise<Buffer> {
    return this.structures.shelf(mailbox, uidValidity, extended, utf8).get(uid, load);
  }
}
