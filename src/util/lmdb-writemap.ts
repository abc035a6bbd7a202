/**
 * Open options shared by newsfront's LMDB environments that are caches (the
 * small-article store, the metadata cache, the rendered ENVELOPE pages):
 * LMDB's `MDB_WRITEMAP`.
 *
 * Without it, a write transaction copies every page it changes into a
 * malloc'd page and writes those out at commit; LMDB then keeps the single
 * pages on a free list of its own for the rest of the process (mdb.c
 * `mdb_page_free`: never given back to malloc, so `malloc_trim` cannot
 * either). Its largest transaction sets that list's size: after every body of
 * the bench's 100k group was read once (random 40-character keys, 4 MiB
 * batches), heaptrack found 32 MB still held from `mdb_page_malloc` at the
 * 50-client peak, anonymous memory of the process for good (issue 14).
 * With the write map, changes go straight into the environment's shared file
 * mapping: page cache the kernel writes back and may drop, no heap.
 *
 * The cost lmdb-js names: a stray pointer in the process could write into
 * the database's pages. Only caches get it (their damage costs a refetch,
 * and small articles carry a CRC); the UID map and the flag store, state
 * that must survive, keep LMDB's default. LMDB also sizes the file to the
 * map at once (sparse: `ls` shows the map size, `du` what is used).
 */
export const CACHE_LMDB_OPTIONS = { useWritemap: true } as const;
