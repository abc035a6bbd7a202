/**
 * Rendered BODY and BODYSTRUCTUREs shared by every session, so a warm listing
 * renders no structure twice: a `PageCache` (page-cache.ts: pages of UIDs,
 * packed once a listing leaves them, bounded by STRUCTURE_CACHE_BYTES in
 * limits.ts, pages beyond the bound in the render store) with one shelf per
 * mailbox, UIDVALIDITY and form (BODY or BODYSTRUCTURE, plain or with
 * UTF8=ACCEPT). A rendering made here is an exact-size slab copy until its
 * page is packed: a small Buffer from Node's 8 KB pool would pin its chunk
 * (measured: 100k BODYSTRUCTUREs held 78 MB of pool chunks while ~26 MB were charged).
 */
import type { MimePart } from '../../mime/index.js';
import { Slab } from '../../util/slab.js';
import { bodyStructureBytes } from './bodystructure.js';
import { PageCache, PageShelf, type RenderStore } from './page-cache.js';

/** Part of every store key: renderings of another format are never read back. */
export const STRUCTURE_FORMAT = 1;

/** Kept renderings are carved from shared slabs (see slab.ts). */
const slab = new Slab();

/** The renderings of one mailbox in one form. */
export class StructureShelf extends PageShelf {
  constructor(
    cache: PageCache,
    key: string,
    readonly mailbox: string,
    readonly uidValidity: number,
    private readonly extended: boolean,
    private readonly utf8: boolean,
  ) {
    super(cache, key);
  }

  /** The rendering of `uid`: kept, else rendered from `load()` and kept. */
  async get(uid: number, load: () => Promise<MimePart>): Promise<Buffer> {
    const hit = this.find(uid);
    if (hit !== undefined) return hit;
    const part = await load();
    // another command may have kept it meanwhile
    const again = this.find(uid);
    if (again !== undefined) return again;
    const b = slab.copy(bodyStructureBytes(part, this.extended, this.utf8));
    this.keep(uid, b);
    return b;
  }

  /** Renders and keeps `part` as `uid`'s, unless a rendering is kept already (nothing waits). */
  ahead(uid: number, part: MimePart): void {
    if (this.find(uid) === undefined) this.keep(uid, slab.copy(bodyStructureBytes(part, this.extended, this.utf8)));
  }
}

export class StructureCache extends PageCache {
  /** The shelf asked for last, per form (index: extended × 2 + utf8), so a listing builds no key per message. */
  private readonly recent: Array<StructureShelf | undefined> = [undefined, undefined, undefined, undefined];

  constructor(maxBytes: number, store?: RenderStore) {
    super(maxBytes, `s${STRUCTURE_FORMAT}`, store);
  }

  /** The shelf of `mailbox` at `uidValidity` for BODYSTRUCTURE (`extended`) or BODY, with UTF8=ACCEPT or without. */
  shelf(mailbox: string, uidValidity: number, extended: boolean, utf8: boolean): StructureShelf {
    const form = (extended ? 2 : 0) + (utf8 ? 1 : 0);
    const r = this.recent[form];
    if (r !== undefined && r.mailbox === mailbox && r.uidValidity === uidValidity) return r;
    const key = `${mailbox}\u0000${uidValidity}\u0000${extended ? 'S' : 'B'}${utf8 ? 'u' : 'a'}`;
    const s = this.shelfOf(key, () => new StructureShelf(this, key, mailbox, uidValidity, extended, utf8));
    this.recent[form] = s;
    return s;
  }
}
