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
