/** What a download (fetch.ts `Fetch`) reads from, what it learns, where a long article goes, and the options of the cache that runs downloads (article-cache.ts). */
import type { Readable } from 'node:stream';
import type { MimePart } from '../../mime/index.js';
import type { ArticleSink } from '../source.js';
import type { Logger } from '../../util/log.js';

/**
 * How a download reads its article: a stream (backpressure, any length), and
 * optionally, for an article expected to be small, a sink read
 * (`Source.articleInto`: no stream per article, and a listing's routing on
 * the upstream). The sink read is tried first; an article that turns out
 * longer than `smallMax` is dropped from memory and read again as a stream.
 */
export interface Upstream {
  (): Promise<Readable>;
  into?: (sink: ArticleSink) => Promise<void>;
  /**
   * The article's size as the overview gives it, when known (a hint: the
   * download counts the bytes it gets). One longer than `smallMax` (and read
   * as a stream) goes to a file from its first byte, parsed as it comes, so a
   * part near its start is located and served before `smallMax` bytes are in.
   */
  size?: number;
}

export interface Fetched {
  size: number;
  /** The MIME structure of an article written to a file; null for one kept in memory (parse `bytes` when needed). */
  structure: MimePart | null;
  /** The header block up to and including its empty line; null when not found in the first HEADER_CAPTURE_MAX bytes. */
  header: Buffer | null;
  /**
   * The whole article when it stayed in memory (at most `smallMax` bytes); null when it went to a file.
   * Its buffer has STORE_FRAME_BYTES (limits.ts) free just before it, for `SmallStore.put(…, framed)`.
   */
  bytes: Buffer | null;
  /** For a file: false when the finished file could not be moved into the cache (e.g. the directory vanished). */
  cached: boolean;
}

/** Where a long article goes: written to `tmp`, renamed to `final` when complete. */
export type SpillPaths = { tmp: string; final: string };

/** A download asked for by `ArticleCache.prefetch` and not started yet. */
export interface Queued {
  key: string;
  upstream: Upstream;
  done: Promise<Fetched>;
  resolve: (f: Fetched) => void;
  reject: (e: unknown) => void;
}

export interface ArticleCacheOptions {
  dir: string;
  maxBytes: number;
  logger: Logger;
  /** Called once per finished download (exact size and MIME structure are known now). */
  onFetched?: (key: string, result: Fetched) => void;
  /** Longest article kept in memory and in the LMDB store (default SMALL_ARTICLE_BYTES; tests lower it). */
  smallMax?: number;
  /** Milliseconds until clients are quiet: the small store's writes wait for it (small-store.ts). */
  untilQuiet?: () => number;
}
