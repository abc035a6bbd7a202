/** Public entry of the UID map layer. */
export type { ArticleLocation, CheckedBatch, MailboxUidMap, SeenArticle, UidEntry, UidMapStore } from './types.js';
export { UidMapError, type UidMapErrorCode } from './errors.js';
export { MemoryUidMapStore, type MemoryUidMapStoreOptions } from './memory.js';
export { LmdbUidMapStore, type LmdbUidMapStoreOptions } from './lmdb.js';
export { CheckedArticles, checkMessageId, isStorableMessageId, storableMessageId, type StorableMessageId } from './validate.js';
export { PgUidMapStore, type PgUidMapStoreOptions } from './postgres.js';
export * as uidMapLimits from './limits.js';
