/**
 * The export backend (`Backend` of src/export/interface.ts over a `Source`).
 *
 * Files, one idea each:
 * - news-backend.ts  createBackend: mailbox tree, STATUS, open, polling, idle views
 * - names.ts         group ⇄ mailbox names, the tree with \Noselect parents
 * - view.ts          one shared live view per group: snapshots, refresh, expiry, failover re-read
 * - carrier.ts       which upstream a view's article numbers belong to (MultiSource failover)
 * - ingest.ts        overview → UID map → article table rows
 * - table.ts         the compact per-group article table (typed arrays)
 * - table-codec.ts   saving/restoring tables (restart without re-reading the overview)
 * - handle.ts        per-session handles; the empty INBOX
 * - reader.ts        meta (pipelined HEAD), content, structure
 * - meta-store.ts    LMDB + memory LRU: headers, envelopes, exact sizes, structures, saved views
 * - article-cache.ts on-disk article cache, LRU by bytes, shared fetches
 * - fetch.ts         one upstream download teed to the cache file, the parser and readers
 * - measure.ts       exact size + structure by reading an article once, uncached ('download' sizes)
 * - backend-index.ts the search index in the backend: index-feed.ts (writes), crawler.ts (bodies,
 *                    crawl-progress.ts), index-status.ts (the operator's view),
 *                    index-policy.ts (bodies per group), group-search.ts (MailboxSearch),
 *                    sort-keys.ts + sort-records.ts (SORT/THREAD keys), activity.ts, uid-sets.ts
 * - crossposts.ts    MailboxHandle.crossposts
 * - reader-deps.ts   what a GroupReader is built from
 * - lru.ts, dates.ts, errors.ts, limits.ts
 */
export { createBackend, type BackendOptions, type ClosableBackend, type NewsBackendHandle } from './news-backend.js';
export { bodyPolicy, type BodyPolicy, type BodyRules } from './index-policy.js';
export type { IndexOptions } from './backend-index.js';
export type { CrawlStats } from './crawler.js';
export { indexStatus, type CrawlProgress, type CrawlState, type GroupIndexStatus, type IndexStatus, type LiveGroup } from './index-status.js';
export type { SizePolicy } from './reader.js';
