/**
 * The whole headers and articles the index feed (index-feed.ts `header`,
 * `article`, `text`) hands to the search index: queued and written in
 * batches of `batch` (or after FEED_DELAY_MS), on the feed's one write
 * chain; while FEED_MAX_QUEUED_BYTES of them are queued or still being
 * written, what comes is dropped (the crawler, or a later read, brings it
 * again). `commit` is also the crawler's write (index-feed.ts `write`).
 */
import type { Logger } from '../../util/log.js';
import type { BodyRecord, HeaderRecord, SearchIndex } from '../../search/index.js';
import type { BodyPolicy } from './index-policy.js';
import { FEED_DELAY_MS, FEED_MAX_QUEUED_BYTES } from './limits.js';

/** One article for the index: its header (or the whole article), and its body when `article` is set. */
export interface FedArticle {
  group: string;
  uidValidity: number;
  uid: number;
  /** The article's key in the UID map (its Message-ID, or the one newsfront made up): the document's identity. */
  key: string | undefined;
  /** The whole article: header and body go in. */
  article?: Buffer;
  /** The header block only (a HEAD); with `scanOnly`, the body is marked never to be indexed. */
  header?: Buffer;
  /** With `header`: the body's search text, read apart (cached-text.ts: an article too long to take whole). */
  text?: string;
  scanOnly?: boolean;
  internalDate: number;
  size: number;
}

/** What the queue needs of the feed's options. */
export interface ArticleQueueOptions {
  index: SearchIndex;
  logger: Logger;
  /** Articles per transaction. */
  batch: number;
  /** Bodies of articles bigger than this are not indexed (marked scan-only). */
  maxArticleBytes: number;
  bodies: (group: string) => BodyPolicy;
}

/** The feed's side of the queue. */
export interface ArticleWrites {
  /** Runs a write after the ones before it (the feed's one chain). */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** Told the groups a finished write touched (committed or not). */
  bump(groups: Iterable<string>): void;
  /** A write that failed (logged). */
  failed(err: unknown, group: string, what: string): void;
  /** True once the feed takes nothing more. */
  closed(): boolean;
}

export class ArticleQueue {
  private queue: FedArticle[] = [];
  /** Bytes of the articles and headers queued or handed to a write not finished yet. */
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Articles dropped so far (for the log). */
  private dropped = 0;

  constructor(
    private readonly o: ArticleQueueOptions,
    private readonly w: ArticleWrites,
  ) {}

  /** Queues an article (dropped when the queue is full or the feed closed). */
  enqueue(a: FedArticle): void {
    if (this.w.closed()) return;
    const bytes = (a.article?.length ?? 0) + (a.header?.length ?? 0);
    if (this.queuedBytes + bytes > FEED_MAX_QUEUED_BYTES) {
      if (this.dropped++ % 1000 === 0) this.o.logger.debug({ dropped: this.dropped }, 'index: feed queue full, articles left for later');
      return;
    }
    this.queue.push(a);
    this.queuedBytes += bytes;
    if (this.queue.length >= this.o.batch) this.drain();
    else this.timer ??= setTimeout(() => this.drain(), FEED_DELAY_MS).unref();
  }

  /** Hands what is queued to the write chain now. */
  drain(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    // the bytes stay counted until written: drained batches wait in the chain while the writer is busy
    let bytes = 0;
    for (const a of items) bytes += (a.article?.length ?? 0) + (a.header?.length ?? 0);
    void this.w
      .serial(() => this.commit(items))
      .catch((err: unknown) => this.w.failed(err, items[0]!.group, 'articles'))
      .finally(() => {
        this.queuedBytes -= bytes;
      });
  }

  /** Writes a batch (headers, then the bodies the groups' policies allow); rejects with the index's error. */
  async commit(items: readonly FedArticle[]): Promise<void> {
    const headers: HeaderRecord[] = [];
    const bodies: BodyRecord[] = [];
    for (const a of items) {
      const loc = { mailbox: a.group, uidValidity: a.uidValidity, uid: a.uid };
      const header = a.article ?? a.header;
      if (header !== undefined) headers.push({ ...loc, header, internalDate: a.internalDate, size: a.size, ...(a.key !== undefined ? { key: a.key } : {}) });
      if (this.o.bodies(a.group) === 'none') continue;
      if (a.text !== undefined) bodies.push({ ...loc, text: a.text });
      else if (a.scanOnly || (a.article !== undefined && a.article.length > this.o.maxArticleBytes)) bodies.push({ ...loc, scanOnly: true });
      else if (a.article !== undefined) bodies.push({ ...loc, article: a.article });
    }
    try {
      if (headers.length > 0) await this.o.index.addHeaders(headers);
      if (bodies.length > 0) await this.o.index.addBodies(bodies);
    } finally {
      this.w.bump(items.map((a) => a.group));
    }
  }
}
