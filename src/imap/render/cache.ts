/**
 * Rendered ENVELOPE and BODYSTRUCTURE bytes, kept so that warm listings do not
 * render the same article again for every session and every FETCH. Both are
 * the IMAP layer's own, bounded by bytes (limits.ts), and keyed by mailbox,
 * UIDVALIDITY and UID (one article forever, DESIGN invariant 1).
 *
 * - Envelopes: see envelope-cache.ts. The Envelope object itself is not kept:
 *   parsed, rendered, dropped (a retained tree of ~15 objects per article made
 *   every major GC of a big listing slower).
 * - Body structures: the backend may hand out a fresh object each time, so
 *   their renderings are kept in an LRU keyed by (mailbox, UIDVALIDITY, UID, form).
 * Rendering depends on UTF8=ACCEPT (quoted UTF-8 vs literals): both forms are kept apart.
 * - PREVIEW texts (RFC 8970): preview.ts.
 * - Object ids a client was sent → the Message-ID each was made from
 *   (objectid.ts), so SEARCH EMAILID/THREADID can ask the index.
 */
import type { MimePart } from '../../mime/index.js';
import { ByteLru } from '../../util/lru.js';
import { Slab } from '../../util/slab.js';
import { ENVELOPE_CACHE_BYTES, OBJECTID_CACHE_BYTES, PREVIEW_CACHE_BYTES, STRUCTURE_CACHE_BYTES } from '../limits.js';
import { bodyStructureBytes } from './bodystructure.js';
import { EnvelopeCache, type EnvelopeShelf, type RenderStore } from './envelope-cache.js';
import { PreviewCache } from './preview.js';

export type { EnvelopeShelf, RenderStore };

/** Kept renderings are carved from shared slabs (see slab.ts). */
const slab = new Slab();

/**
 * Charged per kept BODY/BODYSTRUCTURE rendering besides its bytes: the Buffer
 * view (~96), the LRU node (~56) and its key, a string of ~40–60 characters
 * (measured in a heap snapshot of 100k kept renderings). A kept rendering is
 * an exact-size slab copy: a small Buffer from Node's 8 KB pool would pin its
 * chunk (measured: 100k BODYSTRUCTUREs held 78 MB of pool chunks while the
 * bound charged ~26 MB).
 */
export const STRUCTURE_ENTRY_OVERHEAD = 240;

const structureKey = (key: string, extended: boolean, utf8: boolean): string => `${key}\u0000${extended ? 'S' : 'B'}${utf8 ? 'u' : ''}`;

export class RenderCache {
  private readonly envelopeCache: EnvelopeCache;
  private readonly structures: ByteLru<string, Buffer>;
  /** PREVIEW texts by article key (mailbox, UIDVALIDITY, UID). */
  readonly previews: PreviewCache;
  /** EMAILID/THREADID → the Message-ID it was made from (a thread root for THREADID). */
  readonly objectIds: ByteLru<string, string>;

  /** `store`: where envelope pages go beyond the memory bound (see envelope-cache.ts); the caller closes it after `flush()`. */
  constructor(bounds: { envelopeBytes?: number; structureBytes?: number; previewBytes?: number; objectIdBytes?: number } = {}, store?: RenderStore) {
    this.envelopeCache = new EnvelopeCache(bounds.envelopeBytes ?? ENVELOPE_CACHE_BYTES, store);
    this.structures = new ByteLru(bounds.structureBytes ?? STRUCTURE_CACHE_BYTES);
    this.previews = new PreviewCache(bounds.previewBytes ?? PREVIEW_CACHE_BYTES);
    this.objectIds = new ByteLru(bounds.objectIdBytes ?? OBJECTID_CACHE_BYTES);
  }

  /** The rendered ENVELOPEs of one mailbox (take it once per command; see envelope-cache.ts). */
  envelopes(mailbox: string, uidValidity: number, utf8: boolean): EnvelopeShelf {
    return this.envelopeCache.shelf(mailbox, uidValidity, utf8);
  }

  /** ENVELOPE cache counters since start, and the bytes it holds now (metrics). */
  envelopeStats(): { hits: number; misses: number; bytes: number; loads: number; saves: number } {
    const c = this.envelopeCache;
    return { hits: c.hits, misses: c.misses, bytes: c.bytes, loads: c.loads, saves: c.saves };
  }

  /** Writes the envelope pages the store lacks (before the store is closed). */
  flush(): void {
    this.envelopeCache.flush();
  }

  /** True when `structure(key, extended, utf8, …)` would answer from the cache. */
  hasStructure(key: string, extended: boolean, utf8: boolean): boolean {
    return this.structures.peek(structureKey(key, extended, utf8)) !== undefined;
  }

  /** The cached rendering (marked used), or undefined: what `structure` answers without loading. */
  renderedStructure(key: string, extended: boolean, utf8: boolean): Buffer | undefined {
    return this.structures.get(structureKey(key, extended, utf8));
  }

  /** `key` names the article (mailbox, UIDVALIDITY, UID); `load` gives its structure when not cached. */
  async structure(key: string, extended: boolean, utf8: boolean, load: () => Promise<MimePart>): Promise<Buffer> {
    const k = structureKey(key, extended, utf8);
    const hit = this.structures.get(k);
    if (hit) return hit;
    const b = slab.copy(bodyStructureBytes(await load(), extended, utf8));
    this.structures.set(k, b, b.length + STRUCTURE_ENTRY_OVERHEAD);
    return b;
  }
}
