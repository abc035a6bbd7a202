/**
 * Rendered ENVELOPEs shared by every session, so a warm listing renders no
 * article twice. Keyed by (mailbox, UIDVALIDITY, UID), which names one article
 * forever (DESIGN invariant 1), with the two renderings (plain and with
 * UTF8=ACCEPT) kept apart. Bounded by bytes: ENVELOPE_CACHE_BYTES (limits.ts),
 * each rendering charged its length plus ENTRY_OVERHEAD, each page PAGE_OVERHEAD.
 *
 * Built for the listing hot path. Renderings are kept in pages of PAGE_SIZE
 * consecutive UIDs (clients list ranges, and a group's UIDs are nearly dense),
 * and a page is the unit of recency and eviction: least recently used pages
 * go first. A command takes the shelf of its mailbox once (`shelf`); then a
 * message of the page looked up last costs one array read and one comparison,
 * and nothing is allocated on a hit. (A Map lookup per message was ~15% of a
 * warm 100k listing: its table does not stay in the CPU cache.)
 */
import type { Envelope } from '../../mime/index.js';
import { envelopeBytes } from './envelope.js';

const PAGE_BITS = 10;
/** UIDs per page. */
const PAGE_SIZE = 1 << PAGE_BITS;
const SLOT_MASK = PAGE_SIZE - 1;

/** Charged per rendering besides its bytes: the Buffer view (measured, heapUsed). */
export const ENTRY_OVERHEAD = 96;
/** Charged per page: its slot array of PAGE_SIZE pointers and the page object. */
export const PAGE_OVERHEAD = PAGE_SIZE * 8 + 128;

interface Page {
  /** `uid >>> PAGE_BITS` of its UIDs. */
  readonly no: number;
  readonly shelf: EnvelopeShelf;
  readonly slots: Array<Buffer | undefined>;
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
    let p = this.last;
    if (p === undefined || p.no !== no || p.dropped) {
      p = this.pages.get(no);
      if (p !== undefined) this.last = p;
    }
    if (p !== undefined) {
      const hit = p.slots[uid & SLOT_MASK];
      if (hit !== undefined) {
        this.cache.hits++;
        this.cache.touch(p);
        return hit;
      }
    }
    const b = envelopeBytes(m.envelope, this.utf8);
    this.cache.misses++;
    this.last = this.cache.add(this, p, no, uid & SLOT_MASK, b);
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
  /** Lookups answered from the cache, and renderings made (stats; a plain count, no work beyond). */
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

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

  /**
   * Keeps `value` in slot `slot` of page `no` of `shelf` (`p`: that page if the
   * shelf has it); returns the page, or undefined when nothing was kept.
   */
  add(shelf: EnvelopeShelf, p: Page | undefined, no: number, slot: number, value: Buffer): Page | undefined {
    const cost = value.length + ENTRY_OVERHEAD;
    if (cost + PAGE_OVERHEAD > this.maxBytes) return p;
    if (p === undefined) {
      // a shelf emptied by eviction was dropped; a command still holding it puts it back
      if (shelf.pages.size === 0 && !this.shelves.has(shelf.key)) this.shelves.set(shelf.key, shelf);
      p = { no, shelf, slots: new Array<Buffer | undefined>(PAGE_SIZE), bytes: PAGE_OVERHEAD, dropped: false, prev: null, next: null };
      shelf.pages.set(no, p);
      this.append(p);
      this.total += PAGE_OVERHEAD;
    } else this.touch(p);
    p.slots[slot] = value;
    p.bytes += cost;
    this.total += cost;
    while (this.total > this.maxBytes && this.head !== null) this.evict(this.head);
    return p.dropped ? undefined : p;
  }

  private evict(p: Page): void {
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
