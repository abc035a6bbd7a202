/**
 * What a GroupReader (reader.ts) is built from: the group's stores, its view,
 * the size policy, and where it reports what it read (search index, client
 * activity); and how it reaches a snapshot's upstream (`carrierOf`, `upstreamOf`).
 */
import type { Activity } from './activity.js';
import type { ArticleCache } from './article-cache.js';
import type { MetaStore } from './meta-store.js';
import type { ViewSnapshot } from './view.js';
import type { Upstream } from './article-cache.js';
import type { Carrier } from './carrier.js';
import { BackendError } from '../interface.js';
import { articleInto } from '../source.js';
import { SMALL_ARTICLE_BYTES } from './limits.js';
import { rowOf, type ArticleTable } from './table.js';

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

/** The carrier of a snapshot's numbers; UNAVAILABLE before any source was read. */
export function carrierOf(group: string, t: ViewSnapshot): Carrier {
  if (t.carrier === null) throw new BackendError('UNAVAILABLE', `${group}: not read from any source yet`);
  return t.carrier;
}

/**
 * How the cache downloads the article of `row` (see fetch.ts `Upstream`): a
 * stream, and a sink read when the source has one and the overview says the
 * article is small (`bulk`: one of many reads issued together).
 */
export function upstreamOf(d: ReaderDeps, t: ViewSnapshot, row: number, bulk = false): Upstream {
  const number = t.table.numbers[row]!;
  const source = carrierOf(d.group, t).source;
  const uid = t.table.uids[row]!;
  // the Message-ID is looked up only when the article is fetched (a UID map read per call; most articles are cached)
  const up: Upstream = () => source.article(d.group, number, d.messageIdOf?.(uid));
  const size = t.table.sizes[row]!;
  if (source.articleInto !== undefined && size >= 0 && size <= SMALL_ARTICLE_BYTES) {
    up.into = (sink) => articleInto(source, d.group, number, d.messageIdOf?.(uid), sink, bulk);
  } else if (size > SMALL_ARTICLE_BYTES) {
    up.size = size; // a long one: to a file and parsed from its first byte (fetch.ts)
  }
  return up;
}

/** Row of `uid` (or -1), looked for after row `prev` first: a listing's UIDs go row by row, no search each. */
export function rowAfter(t: ArticleTable, uid: number, prev: number): number {
  return prev + 1 < t.uids.length && t.uids[prev + 1] === uid ? prev + 1 : rowOf(t, uid);
}
