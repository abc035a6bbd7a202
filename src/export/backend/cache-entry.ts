/**
 * The article cache's index entry (article-cache.ts): one small integer per
 * cached article (~350,000 per GiB of small articles) — the size of a file;
 * `-size - 1` for an article in the small-article store; `VERIFIED` less once
 * its checksum was checked in this process (SmallStore.get / lend), or when
 * this process wrote it (`checkedSmall`: its bytes came from the download).
 */
export type Entry = number;
export const VERIFIED = 2 ** 26;
export const entry = (size: number, small: boolean): Entry => (small ? -size - 1 : size);
/** A small article this process checked, or stored itself: read back without computing its checksum. */
export const checkedSmall = (size: number): Entry => (size < VERIFIED ? -size - 1 - VERIFIED : -size - 1);
export const isSmall = (e: Entry): boolean => e < 0;
export const isVerified = (e: Entry): boolean => e <= -VERIFIED;
export const sizeOf = (e: Entry): number => (e >= 0 ? e : e > -VERIFIED ? -e - 1 : -e - 1 - VERIFIED);

/** What `hashOf` (cache-io.ts) gives, the only names the index holds: 40 hex digits. */
export const HASH_NAME = /^[0-9a-f]{40}$/;
