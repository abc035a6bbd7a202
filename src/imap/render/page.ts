/**
 * A page of renderings of `PageCache` (page-cache.ts): PAGE_SIZE consecutive
 * UIDs of one shelf, packed in one buffer and/or rendered one by one, linked
 * in the cache's recency list. `S`: the shelf type (page-cache.ts `PageShelf`).
 */
export interface PageOf<S> {
  /** `uid >>> PAGE_BITS` of its UIDs. */
  readonly no: number;
  readonly shelf: S;
  /** Renderings packed (read from the store, or packed here), with their offsets; or null. */
  packed: Buffer | null;
  offsets: Uint32Array | null;
  /** Renderings made here and not packed yet (allocated at the first). */
  slots: Array<Buffer | undefined> | null;
  /** Renderings in `slots` (made since the last packing). */
  unpacked: number;
  /** Has renderings the store lacks. */
  dirty: boolean;
  /** Bytes charged for it and its renderings. */
  bytes: number;
  /** Evicted: no longer in its shelf. */
  dropped: boolean;
  /** Read back from the store and not kept (see `PageCache.load`): in no shelf, charged nothing. */
  transient?: boolean;
  /** `packed` is a view of this recycled buffer (a transient page of a recycling cache): never handed out. */
  scratch?: Buffer;
  prev: PageOf<S> | null;
  next: PageOf<S> | null;
}

/**
 * What a shelf (page-shelf.ts) asks of the cache that holds its pages
 * (page-cache.ts `PageCache`, which implements it): declared here so that the
 * shelf does not import the cache, which imports the shelf.
 */
export interface PageHost<S> {
  hits: number;
  misses: number;
  /** Marks `p` used. */
  touch(p: PageOf<S>): void;
  /** The page read back from the store (kept while the bound allows), or undefined. */
  load(shelf: S, no: number): PageOf<S> | undefined;
  /** True while the bound has room for more. */
  hasRoom(): boolean;
  /** One rendering of a page in the store, without keeping the page. */
  loadOne(shelf: S, no: number, slot: number): Buffer | undefined;
  /** The page read back and not kept, if it is the one at hand. */
  transientOf(shelf: S, no: number): PageOf<S> | undefined;
  /** Adds a rendering to page `no` (made if `p` is undefined); the page, or undefined when none could be kept. */
  add(shelf: S, p: PageOf<S> | undefined, no: number, slot: number, value: Buffer, overhead?: number): PageOf<S> | undefined;
  /** Packs the page's renderings into one buffer. */
  pack(p: PageOf<S>): void;
}
