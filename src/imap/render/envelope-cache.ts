/**
 * Rendered ENVELOPEs shared by every session, so a warm listing renders no
 * article twice: a `PageCache` (page-cache.ts: pages of UIDs, packed once a
 * listing leaves them, bounded by ENVELOPE_CACHE_BYTES in limits.ts, pages
 * beyond the bound in the render store) with one shelf per mailbox,
 * UIDVALIDITY and form (plain, or with UTF8=ACCEPT).
 */
import type { Envelope } from '../../mime/index.js';
import { envelopeBytes } from './envelope.js';
import { PageCache, PageShelf, type RenderStore } from './page-cache.js';

export { ENTRY_OVERHEAD, PACKED_OVERHEAD, PAGE_OVERHEAD, type RenderStore } from './page-cache.js';

/** Part of every store key: renderings of another format are never read back. */
export const PAGE_FORMAT = 1;

/** What a FETCH reads ENVELOPE renderings through: a shelf, or its `single` view (a FETCH of one message). */
export interface Envelopes {
  /** The rendered ENVELOPE of `m`; `m.envelope` is read (parsed) only when it is not cached. */
  get(m: { readonly uid: number; readonly envelope: Envelope }): Buffer;
  /** `get`, written into `w` at once (a listing: no Buffer made for a rendering kept in memory). */
  write(m: { readonly uid: number; readonly envelope: Envelope }, w: { range(b: Buffer, start: number, end: number): unknown }): void;
}

/** The renderings of one mailbox in one form; take one per command (`EnvelopeCache.shelf`). */
export class EnvelopeShelf extends PageShelf implements Envelopes {
  /**
   * `get` for a FETCH of one message: once the bound is full, a page that is
   * not in memory gives that one rendering from the store
   * (`PageShelf.findOne`) instead of being read back whole and kept, and one
   * rendered is kept only on a page in memory or while the bound has room
   * (`PageShelf.keepOne`), so clients opening messages at random in a group
   * bigger than the bound do not cycle pages through memory.
   */
  readonly single: Envelopes = {
    get: (m) => {
      const hit = this.findOne(m.uid);
      if (hit !== undefined) return hit;
      const b = envelopeBytes(m.envelope, this.utf8);
      this.keepOne(m.uid, b);
      return b;
    },
    write: (m, w) => {
      const b = this.single.get(m);
      w.range(b, 0, b.length);
    },
  };

  write(m: { readonly uid: number; readonly envelope: Envelope }, w: { range(b: Buffer, start: number, end: number): unknown }): void {
    const b = this.locate(m.uid);
    if (b !== undefined) w.range(b, this.at, this.end);
    else {
      const r = this.get(m);
      w.range(r, 0, r.length);
    }
  }

  constructor(
    cache: PageCache,
    key: string,
    private readonly utf8: boolean,
  ) {
    super(cache, key);
  }

  /** The rendered ENVELOPE of `m`; `m.envelope` is read (parsed) only when it is not cached. */
  get(m: { readonly uid: number; readonly envelope: Envelope }): Buffer {
    const hit = this.find(m.uid);
    if (hit !== undefined) return hit;
    const b = envelopeBytes(m.envelope, this.utf8);
    this.keep(m.uid, b);
    return b;
  }
}

export class EnvelopeCache extends PageCache {
  constructor(maxBytes: number, store?: RenderStore) {
    super(maxBytes, `e${PAGE_FORMAT}`, store, true); // read through `find` alone: transient pages recycled
  }

  /** The shelf of `mailbox` at `uidValidity`, for renderings with UTF8=ACCEPT or without. */
  shelf(mailbox: string, uidValidity: number, utf8: boolean): EnvelopeShelf {
    const key = `${mailbox}\u0000${uidValidity}\u0000${utf8 ? 'u' : 'a'}`;
    return this.shelfOf(key, () => new EnvelopeShelf(this, key, utf8));
  }
}
