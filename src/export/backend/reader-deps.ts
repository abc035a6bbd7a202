/**
 * What a GroupReader (reader.ts) is built from: the group's stores, its view,
 * the size policy, and where it reports what it read (search index, client
 * activity).
 */
import type { Activity } from './activity.js';
import type { ArticleCache } from './article-cache.js';
import type { MetaStore } from './meta-store.js';
import type { ViewSnapshot } from './view.js';

export type SizePolicy = 'exact' | 'download';

export interface ReaderDeps {
  group: string;
  meta: MetaStore;
  cache: ArticleCache;
  /** The view's latest snapshot: its table and the carrier its numbers belong to. */
  view: () => ViewSnapshot;
  /**
   * How exact the overview `bytes` of this source are: 'exact' trusts them;
   * 'download' fetches the article when its exact size is not known yet
   * (up to `downloadSizesUpTo` overview bytes).
   */
  sizes: SizePolicy;
  downloadSizesUpTo: number;
  /** The Message-ID the UID map holds for a UID: the source checks the number still names it. */
  messageIdOf?: (uid: number) => string | undefined;
  /** Told of headers and whole articles read upstream (the search index feed, index-feed.ts). */
  index?: ReaderIndexHooks;
  /** Told of every client read (the index crawler keeps out of their way). */
  activity?: Activity;
}

/** Where the reader hands what it read upstream anyway, for the search index. */
export interface ReaderIndexHooks {
  /** A header read (HEAD, or the start of an article read for its size). */
  header(uid: number, header: Buffer, internalDate: number, size: number): void;
  /** A whole article read for its size (at most `keepBytes`). */
  article(uid: number, article: Buffer, internalDate: number): void;
  /** Articles up to this size are handed to `article` whole (0: none). */
  keepBytes: number;
}
