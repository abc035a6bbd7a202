/**
 * Renderings shared by every session (ENVELOPE: envelope-cache.ts; BODY and
 * BODYSTRUCTURE: structure-cache.ts), keyed by (mailbox, UIDVALIDITY, UID),
 * which names one article forever (DESIGN invariant 1), each form (UTF8=ACCEPT
 * or not, BODY or BODYSTRUCTURE) on a shelf of its own. Bounded by bytes: each
 * rendering made here is charged its length plus ENTRY_OVERHEAD, each page
 * PAGE_OVERHEAD; a packed page its bytes plus PACKED_OVERHEAD.
 *
 * Built for the listing hot path. Renderings are kept in pages of PAGE_SIZE
 * consecutive UIDs (clients list ranges, and a group's UIDs are nearly dense),
 * and a page is the unit of recency and eviction: least recently used pages
 * go first. A command takes the shelf of its mailbox and form once; then a
 * message of the page looked up last costs one array read and one comparison,
 * and nothing is allocated on a hit. (A Map lookup per message was ~15% of a
 * warm 100k listing: its table does not stay in the CPU cache.)
 *
 * Compact: once a shelf moves on to another page (a listing leaves the page),
 * the renderings made on the page it left are packed into one buffer
 * (page-pack.ts): no object per rendering, ~100 bytes less each (issue 14:
 * 100k ENVELOPE renderings held 36 MB, packed they take ~24 MB).
 *
 * With a `RenderStore` (the server gives one on disk, src/app/render-store.ts)
 * pages outlive memory: a page with renderings the store lacks is written to
 * it when it is packed, evicted or at `flush()`; a page not in memory is read
 * back from the store in one read before anything on it is rendered. So a
 * group larger than the bound is rendered once, not on every listing (issue
 * 14: a warm 1M listing re-rendered every article, 17 s). A stored rendering
 * never goes stale: its key names one article forever, and the store's keys
 * carry the cache's prefix and format, bumped when renderings change.
 */
import { PAGE_SIZE, packPage, readOffsets } from './page-pack.js';
import type { RenderStore } from './render-store-api.js';
import { SpareBuffers } from './spare-buffers.js';
import type { PageHost, PageOf } from './page.js';
import { ENTRY_OVERHEAD, PACKED_OVERHEAD, PAGE_OVERHEAD, type PageShelf } from './page-shelf.js';

export type { RenderStore } from './render-store-api.js';
export { ENTRY_OVERHEAD, OWN_ENTRY_OVERHEAD, PACK_AT, PAGE_OVERHEAD, PACKED_OVERHEAD, PageShelf } from './page-shelf.js';
type Page = PageOf<PageShelf>;

const ROOM_FOR_A_PAGE = 512 * 1024; // `hasRoom`: more than a packed page of ENVELOPEs (~310 KB)

/** Pages read back from the store but not kept (a walk over a shelf larger than the bound) that stay at hand, outside the bound. */
const TRANSIENT_PAGES = 4;

/** Transient pages and spare buffers go once no page was read back this long (ms): after a walk they held ~3 MB outside the bound (100k). */
export const TRANSIENT_IDLE_MS = 2000;

export class PageCache implements PageHost<PageShelf> {
  private readonly shelves = new Map<string, PageShelf>();
  /** The last TRANSIENT_PAGES pages `load` read back without keeping them, oldest first. */
  private transients: Page[] = [];
  /** Least recently used. */
  private head: Page | null = null;
  /** Most recently used. */
  private tail: Page | null = null;
  private total = 0;
  /** Lookups answered from the cache (memory or store), and renderings kept (stats; a plain count, no work beyond). */
  hits = 0;
  misses = 0;
  /** Pages read back from the store, single renderings read from it (`PageShelf.findOne`), and pages written to it. */
  loads = 0;
  oneLoads = 0;
  saves = 0;

  /** Recycled buffers for transient pages (`recycle`). */
  private readonly spare = new SpareBuffers(TRANSIENT_PAGES + 1);
  /** When a page was last read back without being kept, and the timer that drops the transients once that is TRANSIENT_IDLE_MS ago. */
  private transientUsed = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * `storePrefix` starts every store key of this cache (kind and format of its
   * renderings). `recycle`: transient pages are read into recycled buffers
   * (spare-buffers.ts) and `find` copies what it returns from them; only for
   * caches read through `find` alone (`locate` hands out the page's buffer).
   */
  constructor(
    private readonly maxBytes: number,
    private readonly storePrefix: string,
    private readonly store?: RenderStore,
    private readonly recycle = false,
  ) {}

  /** Bytes charged now. */
  get bytes(): number {
    return this.total;
  }

  /** The shelf under `key` (mailbox, UIDVALIDITY and form), made by `make` the first time. */
  protected shelfOf<S extends PageShelf>(key: string, make: () => S): S {
    let s = this.shelves.get(key);
    if (s === undefined) this.shelves.set(key, (s = make()));
    return s as S;
  }

  /** Marks `p` most recently used. */
  touch(p: Page): void {
    if (p === this.tail || p.transient === true) return; // a page not kept is in no recency list
    this.unlink(p);
    this.append(p);
  }

  /**
   * Page `no` of `shelf` read back from the store, or undefined. Kept in
   * memory (evicting the least recently used pages) — unless the page to
   * evict is a page of the same shelf further on: a listing walking a shelf
   * larger than the bound would then evict, page after page, the very page
   * it needs next, and read every page back on every listing (a warm 100k
   * BODYSTRUCTURE listing read ~98 pages so). Such a page is used without
   * being kept, from the last TRANSIENT_PAGES of them (the reads ahead of a
   * listing and its rendering walk a page or two apart): the pages that fit
   * stay, and a listing reads back only those that do not.
   */
  load(shelf: PageShelf, no: number): Page | undefined {
    const t = this.transientOf(shelf, no);
    if (t !== undefined) return t;
    const key = this.storeKey(shelf, no);
    const viaView = this.recycle && this.store?.view !== undefined;
    const got = viaView ? this.store!.view!(key) : this.store?.get(key);
    if (got === undefined) return undefined;
    const bytes = got.length + PACKED_OVERHEAD;
    if (bytes > this.maxBytes) return undefined; // cannot be kept: rendered instead
    const h = this.head;
    const transient = this.total + bytes > this.maxBytes && h !== null && h.shelf === shelf && h.no > no;
    let scratch: Buffer | undefined;
    let packed: Buffer;
    if (transient && this.recycle) ({ buf: scratch, view: packed } = this.spare.copy(got));
    else packed = viaView ? Buffer.from(got) : (got as Buffer);
    const offsets = readOffsets(packed);
    if (offsets === undefined) return scratch !== undefined ? void this.spare.give(scratch) : undefined; // unreadable: rendered again
    const p: Page = { no, shelf, packed, offsets, slots: null, unpacked: 0, dirty: false, bytes, dropped: false, prev: null, next: null };
    this.loads++;
    if (transient) {
      p.transient = true;
      if (scratch !== undefined) p.scratch = scratch;
      this.transients.push(p);
      if (this.transients.length > TRANSIENT_PAGES) this.release(this.transients.shift()!);
      this.transientUsed = Date.now();
      this.idleTimer ??= setTimeout(() => this.dropIdleTransients(), TRANSIENT_IDLE_MS).unref();
      return p;
    }
    this.install(shelf, p);
    this.total += p.bytes;
    this.shrink();
    return p.dropped ? undefined : p;
  }

  /** The bound has room for a page read back (`PageShelf.findOne`): ROOM_FOR_A_PAGE more bytes fit. */
  hasRoom(): boolean {
    return this.total + ROOM_FOR_A_PAGE <= this.maxBytes;
  }

  /** Slot `slot` of page `no` of `shelf`, from the store alone and not kept (`PageShelf.findOne`); a hit when found. */
  loadOne(shelf: PageShelf, no: number, slot: number): Buffer | undefined {
    const b = this.store?.getOne?.(this.storeKey(shelf, no), slot);
    if (b !== undefined) {
      this.hits++;
      this.oneLoads++;
    }
    return b;
  }

  /** Page `no` of `shelf` if it is one of the pages read back without being kept. */
  transientOf(shelf: PageShelf, no: number): Page | undefined {
    for (const t of this.transients) if (t.shelf === shelf && t.no === no) return t;
    return undefined;
  }

  /**
   * Keeps `value` in slot `slot` of page `no` of `shelf` (`p`: that page if the
   * shelf has it); returns the page, or undefined when nothing was kept.
   */
  add(shelf: PageShelf, p: Page | undefined, no: number, slot: number, value: Buffer, overhead = ENTRY_OVERHEAD): Page | undefined {
    const cost = value.length + overhead;
    if (cost + PAGE_OVERHEAD > this.maxBytes) return p;
    if (p !== undefined && p.transient === true) {
      // a rendering goes onto a page read back without being kept: it is kept from now on (else its old renderings would be written over)
      p.transient = false;
      if (p.scratch !== undefined) {
        p.packed = Buffer.from(p.packed!); // its own copy: the recycled buffer goes back
        this.spare.give(p.scratch);
        p.scratch = undefined;
      }
      this.install(shelf, p);
      this.total += p.bytes;
    } else if (p === undefined || p.dropped) {
      p = { no, shelf, packed: null, offsets: null, slots: null, unpacked: 0, dirty: false, bytes: 0, dropped: false, prev: null, next: null };
      this.install(shelf, p);
    } else this.touch(p);
    if (p.slots === null) {
      p.slots = new Array<Buffer | undefined>(PAGE_SIZE);
      p.bytes += PAGE_OVERHEAD;
      this.total += PAGE_OVERHEAD;
    }
    p.slots[slot] = value;
    p.unpacked++;
    p.dirty = true;
    p.bytes += cost;
    this.total += cost;
    this.shrink();
    return p.dropped ? undefined : p;
  }

  /** Packs the renderings made on `p` with those it had packed; written to the store if it lacks them. */
  pack(p: Page): void {
    if (p.slots === null) return;
    const packed = packPage(p.packed, p.offsets, p.slots);
    if (p.dirty && this.store !== undefined) {
      this.saves++;
      this.store.put(this.storeKey(p.shelf, p.no), packed);
    }
    p.dirty = false;
    p.packed = packed;
    p.offsets = readOffsets(packed)!;
    p.slots = null;
    p.unpacked = 0;
    const bytes = packed.length + PACKED_OVERHEAD;
    this.total += bytes - p.bytes;
    p.bytes = bytes;
    this.shrink();
  }

  /** Writes every page with renderings the store lacks (at shutdown); they stay in memory. */
  flush(): void {
    for (let p = this.head; p !== null; p = p.next) this.save(p);
  }

  private storeKey(shelf: PageShelf, no: number): string {
    return `${this.storePrefix}\u0000${shelf.key}\u0000${no}`;
  }

  private install(shelf: PageShelf, p: Page): void {
    // a page kept from now on is no longer one read back without being kept (nor is an older copy of it)
    if (this.transients.length > 0) {
      this.transients = this.transients.filter((t) => {
        if (t.shelf !== shelf || t.no !== p.no || t === p) return t !== p;
        this.release(t);
        return false;
      });
    }
    // a shelf emptied by eviction was dropped; a command still holding it puts it back
    if (shelf.pages.size === 0 && !this.shelves.has(shelf.key)) this.shelves.set(shelf.key, shelf);
    shelf.pages.set(p.no, p);
    this.append(p);
  }

  /** The idle timer: drops the transient pages and spare buffers once none was read back for TRANSIENT_IDLE_MS, else waits on. */
  private dropIdleTransients(): void {
    const wait = this.transientUsed + TRANSIENT_IDLE_MS - Date.now();
    if (wait > 0) {
      this.idleTimer = setTimeout(() => this.dropIdleTransients(), wait).unref();
      return;
    }
    this.idleTimer = undefined;
    for (const t of this.transients) {
      this.release(t);
      t.dropped = true; // a shelf's `last` may point at it: read back when asked for again, and its bytes can go
      t.packed = t.offsets = null;
    }
    this.transients = [];
    this.spare.clear();
  }

  /** A transient page leaves the transients: a recycled buffer goes back (and the page is dropped: a shelf's `last` may point at it). */
  private release(t: Page): void {
    if (t.scratch !== undefined) this.spare.give(t.scratch);
    if (t.scratch !== undefined) t.dropped = true;
    t.scratch = undefined;
  }

  private shrink(): void {
    while (this.total > this.maxBytes && this.head !== null) this.evict(this.head);
  }

  private save(p: Page): void {
    if (!p.dirty || this.store === undefined) return;
    p.dirty = false;
    this.saves++;
    this.store.put(this.storeKey(p.shelf, p.no), packPage(p.packed, p.offsets, p.slots));
  }

  private evict(p: Page): void {
    this.save(p);
    this.unlink(p);
    this.total -= p.bytes;
    p.dropped = true;
    const s = p.shelf;
    s.drop(p);
    if (s.pages.size === 0 && this.shelves.get(s.key) === s) this.shelves.delete(s.key);
  }

  private unlink(p: Page): void {
    if (p.prev !== null) p.prev.next = p.next;
    else this.head = p.next;
    if (p.next !== null) p.next.prev = p.prev;
    else this.tail = p.prev;
    p.prev = p.next = null;
  }

  private append(p: Page): void {
    p.prev = this.tail;
    p.next = null;
    if (this.tail !== null) this.tail.next = p;
    else this.head = p;
    this.tail = p;
  }
}
