/** What the render caches (page-cache.ts) ask of the store their pages go to beyond memory. */

/**
 * Where pages go when memory lets them go (synchronous reads: an LMDB map).
 * `put` may complete later; `get` must see a `put` at once. Failures are the
 * store's to log: a page that was not kept is rendered again. Keys that agree
 * up to their last NUL are the pages of one shelf (cache kind and format,
 * mailbox, UIDVALIDITY, form): a bounded store may drop them together, and a
 * page it dropped is simply rendered again.
 */
export interface RenderStore {
  get(key: string): Buffer | undefined;
  put(key: string, value: Buffer): void;
  /**
   * Optional: a copy of the one rendering in slot `slot` of the page under
   * `key` (page-pack.ts `readSlot`), read without a copy of the whole page
   * of its own; undefined when there is no such page, the slot is empty or
   * the value is not a packed page. Same visibility as `get`.
   */
  getOne?(key: string, slot: number): Buffer | undefined;
  /** Optional: the value under `key` in a buffer valid only until the next read of the store (no copy), or undefined. */
  view?(key: string): Uint8Array | undefined;
}
