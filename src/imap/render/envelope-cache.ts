/**
 * Rendered ENVELOPEs shared by every session, so a warm listing renders no
 * article twice. Keyed by (mailbox, UIDVALIDITY, UID), which names one article
 * forever (DESIGN invariant 1), with the two renderings (plain and with
 * UTF8=ACCEPT) kept apart. Bounded by bytes: ENVELOPE_CACHE_BYTES (limits.ts),
 * each rendering charged its length plus ENTRY_OVERHEAD, each page PAGE_OVERHEAD
 * (a page read from the store: its packed bytes plus PACKED_OVERHEAD).
 *
 * Built for the listing hot path. Renderings are kept in pages of PAGE_SIZE
 * consecutive UIDs (clients list ranges, and a group's UIDs are nearly dense),
 * and a page is the unit of recency and eviction: least recently used pages
 * go first. A command takes the shelf of its mailbox once (`shelf`); then a
 * message of the page looked up last costs one array read and one comparison,
 * and nothing is allocated on a hit of a rendering made here. (A Map lookup
 * per message was ~15% of a warm 100k listing: its table does not stay in the
 * CPU cache.)
 *
 * With a `RenderStore` (the server gives one on disk, src/app/render-store.ts)
 * pages outlive memory: a page with renderings the store lacks is written to it,
 * packed (page-pack.ts: one buffer, no object per rendering), when it is
 * evicted or at `flush()`; a page not in memory is read back from the store in
 * one read before anything on it is rendered. So a group larger than the bound
 * (1M articles render to ~250 MB) is rendered once, not on every listing
 * (issue 14: a warm 1M listing re-rendered every article, 17 s). A stored
 * rendering never goes stale: its key names one article forever, and the
 * store's keys carry PAGE_FORMAT, bumped when renderings change.
 */
import type { Envelope } from '../../mime/index.js';
import { envelopeBytes } from './envelope.js';
import { PAGE_BITS, PAGE_SIZE, packPage, readOffsets } from './page-pack.js';

const SLOT_MASK = PAGE_SIZE - 1;

/** Charged per rendering besides its bytes: the Buffer view (measured, heapUsed). */
export const ENTRY_OVERHEAD = 96;
/** Charged per page for its slot array of PAGE_SIZE pointers and the page object. */
export const PAGE_OVERHEAD = PAGE_SIZE * 8 + 128;
/** Charged per page read from the store besides its packed bytes: its offset table and the page object. */
export const PACKED_OVERHEAD = (PAGE_SIZE + 1) * 4 + 256;
/** Part of every store key: renderings of another format are never read back. */
export const PAGE_FORMAT = 1;

/**
 * Where pages go when memory lets them go (synchronous reads: an LMDB map).
 * `put` may complete later; `get` must see a `put` at once. Failures are the
 * store's to log: a page that was not kept is rendered again. Keys that agree
 * up to their last NUL are the pages of one shelf (mailbox, UIDVALIDITY, form
 * and PAGE_FORMAT): a bounded store may drop them together, and a page it
 * dropped is simply rendered again.
 */
export interface RenderStore {
  get(key: string): Buffer | undefined;
  put(key: string, value: Buffer): void;
}

interface Page {
  /** `uid >>> PAGE_BITS` of its UIDs. */
  readonly no: number;
  readonly shelf: EnvelopeShelf;
  /** Renderings read from the store, packed (page-pack.ts), with their offsets; or null. */
  packed: Buffer | null;
  offsets: Uint32Array | null;
  /** Renderings made here (allocated at the first). */
  slots: Array<Buffer | undefined> | null;
  /** Has renderings the store lacks. */
  dirty: boolean;
  /** Bytes charged for it and its renderings. */
  bytes: number;
  /** Evicted: no longer in its shelf. */
  dropped: boolean;
  prev: Page | null;
  next: Page | null;
}

/** The renderings of one mailbox in one form; take one per command (`EnvelopeCache.shelf`). */
export class EnvelopeShelf {
  /** Page number → page; kept by the cache. */
  readonly pages = new Map<number, Page>();
  /** The page of the last lookup (a listing stays on one page for PAGE_SIZE UIDs). */
  private last: Page | undefined = undefined;

  constructor(
    private readonly cache: EnvelopeCache,
    readonly key: string,
    private readonly utf8: boolean,
  ) {}

  /** The rendered ENVELOPE of `m`; `m.envelope` is read (parsed) only when it is not cached. */
  get(m: { readonly uid: number; readonly envelope: Envelope }): Buffer {
    const uid = m.uid;
    const no = uid >>> PAGE_BITS;
    const slot = uid & SLOT_MASK;
    let p = this.last;
    if (p === undefined || p.no !== no || p.dropped) {
      p = this.pages.get(no) ?? this.cache.load(this, no);
      if (p !== undefined) this.last = p;
    }
    if (p !== undefined) {
      const hit = p.slots?.[slot];
      if (hit !== undefined) {
        this.cache.hits++;
        this.cache.touch(p);
        return hit;
      }
      const o = p.offsets;
      if (o !== null && o[slot + 1]! > o[slot]!) {
        this.cache.hits++;
        this.cache.touch(p);
        return p.packed!.subarray(o[slot]!, o[slot + 1]!);
      }
    }
    const b = envelopeBytes(m.envelope, this.utf8);
    this.cache.misses++;
    this.last = this.cache.add(this, p, no, slot, b);
    return b;
  }

  /** Called by the cache when it evicts `p`. */
  drop(p: Page): void {
    this.pages.delete(p.no);
    if (this.last === p) this.last = undefined;
  }
}

export class EnvelopeCache {
  private readonly shelves = new Map<string, EnvelopeShelf>();
  /** Least recently used. */
  private head: Page | null = null;
  /** Most recently used. */
  private tail: Page | null = null;
  private total = 0;
  /** Lookups answered from the cache (memory or store), and renderings made (stats; a plain count, no work beyond). */
  hits = 0;
  misses = 0;
  /** Pages read back from the store, and pages written to it. */
  loads = 0;
  saves = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly store?: RenderStore,
  ) {}

  /** Bytes charged now. */
  get bytes(): number {
    return this.total;
  }

  /** The shelf of `mailbox` at `uidValidity`, for renderings with UTF8=ACCEPT or without. */
  shelf(mailbox: string, uidValidity: number, utf8: boolean): EnvelopeShelf {
    const key = `${mailbox}\u0000${uidValidity}\u0000${utf8 ? 'u' : 'a'}`;
    let s = this.shelves.get(key);
    if (s === undefined) this.shelves.set(key, (s = new EnvelopeShelf(this, key, utf8)));
    return s;
  }

  /** Marks `p` most recently used. */
  touch(p: Page): void {
    if (p === this.tail) return;
    this.unlink(p);
    this.append(p);
  }

  /** Page `no` of `shelf` read back from the store (kept in memory when it fits), or undefined. */
  load(shelf: EnvelopeShelf, no: number): Page | undefined {
    const packed = this.store?.get(storeKey(shelf.key, no));
    if (packed === undefined) return undefined;
    const offsets = readOffsets(packed);
    if (offsets === undefined) return undefined; // unreadable: rendered again, and written anew
    const p: Page = { no, shelf, packed, offsets, slots: null, dirty: false, bytes: packed.length + PACKED_OVERHEAD, dropped: false, prev: null, next: null };
    if (p.bytes > this.maxBytes) return undefined; // cannot be kept: rendered instead
    this.loads++;
    this.install(shelf, p);
    this.total += p.bytes;
    this.shrink();
    return p.dropped ? undefined : p;
  }

  /**
   * Keeps `value` in slot `slot` of page `no` of `shelf` (`p`: that page if the
   * shelf has it); returns the page, or undefined when nothing was kept.
   */
  add(shelf: EnvelopeShelf, p: Page | undefined, no: number, slot: number, value: Buffer): Page | undefined {
    const cost = value.length + ENTRY_OVERHEAD;
    if (cost + PAGE_OVERHEAD > this.maxBytes) return p;
    if (p === undefined || p.dropped) {
      p = { no, shelf, packed: null, offsets: null, slots: null, dirty: false, bytes: 0, dropped: false, prev: null, next: null };
      this.install(shelf, p);
    } else this.touch(p);
    if (p.slots === null) {
      p.slots = new Array<Buffer | undefined>(PAGE_SIZE);
      p.bytes += PAGE_OVERHEAD;
      this.total += PAGE_OVERHEAD;
    }
    p.slots[slot] = value;
    p.dirty = true;
    p.bytes += cost;
    this.total += cost;
    this.shrink();
    return p.dropped ? undefined : p;
  }

  /** Writes every page with renderings the store lacks (at shutdown); they stay in memory. */
  flush(): void {
    for (let p = this.head; p !== null; p = p.next) this.save(p);
  }

  private install(shelf: EnvelopeShelf, p: Page): void {
    // a shelf emptied by eviction was dropped; a command still holding it puts it back
    if (shelf.pages.size === 0 && !this.shelves.has(shelf.key)) this.shelves.set(shelf.key, shelf);
    shelf.pages.set(p.no, p);
    this.append(p);
  }

  private shrink(): void {
    while (this.total > this.maxBytes && this.head !== null) this.evict(this.head);
  }

  private save(p: Page): void {
    if (!p.dirty || this.store === undefined) return;
    p.dirty = false;
    this.saves++;
    this.store.put(storeKey(p.shelf.key, p.no), packPage(p.packed, p.offsets, p.slots));
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

/** Store key of page `no` of a shelf: format, mailbox, UIDVALIDITY, form, page. */
function storeKey(shelfKey: string, no: number): string {
  return `e${PAGE_FORMAT}\u0000${shelfKey}\u0000${no}`;
}
