/** What createBackend (news-backend.ts) is built from. */
import type { Logger } from '../../util/log.js';
import type { UidMapStore } from '../../uidmap/index.js';
import type { SearchIndex } from '../../search/index.js';
import type { Source } from '../source.js';
import type { IndexOptions } from './backend-index.js';
import type { SizePolicy } from './reader.js';

export interface BackendOptions {
  source: Source;
  uidmaps: UidMapStore;
  /**
   * For a plain source: the id recorded as the articles' location in the UID
   * map and used in cache keys; undefined or absent ⇒ `source.id`. A
   * multi-upstream source (with `withFailover`/`carriersOf`, see carrier.ts)
   * names its serving carrier itself and this is not used.
   */
  primaryOf?: (group: string) => string | undefined;
  /** Directory of the article cache and of the metadata LMDB (`meta.lmdb`). Created if missing. */
  cacheDir: string;
  /** Bound of the article cache in bytes. */
  cacheMaxBytes: number;
  /** How often groups with open handles are checked for new/expired articles; 0 disables polling. */
  pollIntervalMs: number;
  /** Prefix of every group mailbox (e.g. `#news.`); '' or absent: groups at the top level. */
  namespacePrefix?: string;
  /** The caller's logger, unbound: the backend adds `component: 'backend'` (its index `component: 'index'`) itself. */
  logger: Logger;
  /**
   * Whether a group's overview `bytes` are exact RFC822.SIZEs ('exact': the
   * archive source) or must be confirmed by downloading the article
   * ('download': NNTP). Measured on INN 2.7 (test/export/backend/inn-sizes.ts):
   * `:bytes` is the exact size plus one when the body's first byte is '.',
   * exact otherwise; nothing short of the body tells which. Default 'exact'.
   */
  sizes?: SizePolicy | ((group: string) => SizePolicy);
  /**
   * In 'download' mode, articles whose overview size exceeds this are not
   * downloaded for their size: the overview size is reported (off by one if
   * such a body starts with '.'). Default DEFAULT_DOWNLOAD_SIZES_UP_TO.
   */
  downloadSizesUpTo?: number;
  /**
   * How often polling lists a group's article numbers (LISTGROUP) to find
   * cancelled articles, which GROUP does not reveal; default DEFAULT_FULL_CHECK_MS.
   */
  fullCheckMs?: number;
  /** Bound of the in-memory header LRU (bytes); default DEFAULT_META_MEMORY_BYTES. */
  metaMemoryBytes?: number;
  /** The search index (one per data directory), opened and closed by the caller; absent: none. */
  index?: SearchIndex;
  /** Its settings (config `index.*`); the index is used only with both. */
  indexOptions?: IndexOptions;
}
