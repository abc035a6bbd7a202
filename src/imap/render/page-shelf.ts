/**
 * One shelf of a `PageCache` (page-cache.ts): the renderings of one mailbox
 * in one form, found and kept page by page; the cache holds the pages and
 * their bound.
 */
import { PAGE_BITS, PAGE_SIZE } from './page-pack.js';
import type { PageHost, PageOf } from './page.js';

const SLOT_MASK = PAGE_SIZE - 1;
type Page = PageOf<PageShelf>;

/** Charged per rendering made here besides its bytes: the Buffer view (measured, heapUsed). */
export const ENTRY_OVERHEAD = 96;
/** Charged per rendering kept by `keepOne` besides its bytes: a Buffer with an ArrayBuffer of its own (measured: ~350 bytes of Pss_Anon beside a 300-byte one). */
export const OWN_ENTRY_OVERHEAD = 384;
/** A page is packed once this many renderings made by `keepOne` wait on it unpacked. */
export const PACK_AT = 64;
/** Charged per page for its slot array of PAGE_SIZE pointers and the page object. */
export const PAGE_OVERHEAD = PAGE_SIZE * 8 + 128;
/** Charged per packed page besides its bytes: its offset table and the page object. */
export const PACKED_OVERHEAD = (PAGE_SIZE + 1) * 4 + 256;
/** The renderings of one mailbox in one form; take one per command (`PageCache.shelfOf`). */
export class PageShelf {
  /** Page number → page; kept by the cache. */
  readonly pages = new Map<number, Page>();
  /** The page of the last lookup (a listing stays on one page for PAGE_SIZE UIDs). */
  private last: Page | undefined = undefined;
  /** The page that got the last rendering made here: packed when another page gets one. */
  private filling: Page | undefined = undefined;

  constructor(
    private readonly cache: PageHost<PageShelf>,
    readonly key: string,
  ) {}

  /** Where the last `locate` that found something found it: bytes [at, end) of the buffer it returned. */
  at = 0;
  end = 0;

  /** The page of the last `locate` that found something is read into a recycled buffer: what it returned must be copied now. */
  scratch = false;

  /** The kept rendering of `uid` (from memory, or its page read back from the store), or undefined. */
  find(uid: number): Buffer | undefined {
    const b = this.locate(uid);
    if (b !== undefined && this.scratch) return Buffer.from(b.subarray(this.at, this.end));
    return b === undefined || (this.at === 0 && this.end === b.length) ? b : b.subarray(this.at, this.end);
  }

  /**
   * `find` without making a view (a listing copies 100,000s of renderings:
   * one Buffer object each was measurable): the buffer holding `uid`'s
   * rendering, at bytes [`at`, `end`), or undefined. The cache never modifies
   * a buffer it handed out (packing makes a new one): it stays valid; but
   * when `scratch` is set it is a recycled one: copy from it at once.
   */
  locate(uid: number): Buffer | undefined {
    const no = uid >>> PAGE_BITS;
    let p = this.last;
    if (p === undefined || p.no !== no || p.dropped) {
      p = this.pages.get(no) ?? this.cache.load(this, no);
      if (p === undefined) return undefined;
      this.last = p;
    }
    const slot = uid & SLOT_MASK;
    this.scratch = p.scratch !== undefined;
    const hit = p.slots?.[slot];
    const o = p.offsets;
    if (hit === undefined && (o === null || o[slot + 1]! <= o[slot]!)) return undefined;
    this.cache.hits++;
    this.cache.touch(p);
    this.at = hit !== undefined ? 0 : o![slot]!;
    this.end = hit !== undefined ? hit.length : o![slot + 1]!;
    return hit ?? p.packed!;
  }

  /**
   * `find` for a FETCH of one message, but a page that is not in memory and
   * would evict another is not read back for one rendering: the store gives
   * that rendering alone (`RenderStore.getOne`: ~10–15 µs of CPU, against
   * ~250–370 µs for a page read back and its garbage). Undefined when none.
   */
  findOne(uid: number): Buffer | undefined {
    const no = uid >>> PAGE_BITS;
    const l = this.last;
    const inMemory = (l !== undefined && l.no === no && !l.dropped) || this.pages.has(no) || this.cache.transientOf(this, no) !== undefined;
    return inMemory || this.cache.hasRoom() ? this.find(uid) : this.cache.loadOne(this, no, uid & SLOT_MASK);
  }

  /**
   * `keep` for a FETCH of one message (after `findOne(uid)` found none): kept
   * only when its page is in memory or the bound has room for a page (else a
   * page would be evicted for one rendering), as a copy of its own (charged
   * OWN_ENTRY_OVERHEAD: it may stay unpacked for long, and a view would pin
   * the slab it was rendered into), without packing the page another
   * rendering went to before: clients opening messages at random put each on
   * another page, and packing one page per FETCH (a copy of up to ~300 KB,
   * then a store write of it) was most of such a FETCH's memory traffic. A
   * page is packed once PACK_AT renderings wait on it unpacked.
   */
  keepOne(uid: number, value: Buffer): void {
    const no = uid >>> PAGE_BITS;
    this.cache.misses++;
    const l = this.last;
    let p = l !== undefined && l.no === no && !l.dropped ? l : (this.pages.get(no) ?? this.cache.transientOf(this, no));
    if (p === undefined && !this.cache.hasRoom()) return;
    const own = Buffer.allocUnsafeSlow(value.length);
    own.set(value);
    p = this.cache.add(this, p, no, uid & SLOT_MASK, own, OWN_ENTRY_OVERHEAD);
    if (p === undefined) return;
    this.last = p;
    if (p.unpacked >= PACK_AT) this.cache.pack(p);
  }

  /** Keeps `value`, just rendered for `uid` (after `find(uid)` found none), if it fits the bound. */
  keep(uid: number, value: Buffer): void {
    const no = uid >>> PAGE_BITS;
    this.cache.misses++;
    let p = this.last !== undefined && this.last.no === no && !this.last.dropped ? this.last : (this.pages.get(no) ?? this.cache.transientOf(this, no));
    const f = this.filling;
    if (f !== undefined && f !== p && !f.dropped) this.cache.pack(f);
    p = this.cache.add(this, p, no, uid & SLOT_MASK, value);
    this.last = this.filling = p;
  }

  /** Called by the cache when it evicts `p`. */
  drop(p: Page): void {
    this.pages.delete(p.no);
    if (this.last === p) this.last = undefined;
    if (this.filling === p) this.filling = undefined;
  }
}
