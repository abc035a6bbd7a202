/**
 * The search index as the backend uses it (one per backend, absent without
 * an index): what each group view, reader and handle gets (ingest feed,
 * reader hooks, `MailboxSearch`), the background crawler, the hook for
 * articles downloaded into the article cache, and the memory bound of the
 * SORT/THREAD keys.
 *
 * Ownership: the caller of createBackend opens the SearchIndex and closes it
 * after the backend's `close()`; `close()` here stops the crawler and writes
 * what is queued.
 */
import type { Logger } from '../../util/log.js';
import type { MailboxUidMap } from '../../uidmap/index.js';
import type { SearchIndex } from '../../search/index.js';
import { Activity } from './activity.js';
import type { Fetched } from './fetch.js';
import { Crawler, type CrawlerOptions, type CrawlStats, type CrawlTarget } from './crawler.js';
import { internalDateOf } from './dates.js';
import { GroupSearch } from './group-search.js';
import { IndexFeed } from './index-feed.js';
import { Backfill } from './index-backfill.js';
import { viewKey } from './meta-keys.js';
import type { BodyPolicy } from './index-policy.js';
import type { MetaStore } from './meta-store.js';
import type { GroupReader, ReaderIndexHooks } from './reader.js';
import { KeysBudget } from './sort-keys.js';
import { Turns } from './turns.js';
import { QuietBacklog } from './quiet-gate.js';
import { InReplyToFetches } from './in-reply-to.js';
import { indexStatus, type IndexStatus } from './index-status.js';
import { rowOfNumber } from './table.js';
import type { MailboxView, ViewOptions } from './view.js';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

/**
 * Articles read for their exact size (a listing, up to HEAD_WINDOW at once)
 * are kept whole for the index only up to this size: a copy per read in
 * flight (bigger ones are left to the crawler).
 */
const MEASURED_KEEP_BYTES = 64 * 1024;

/** Bytes of downloaded articles that may wait for quiet clients before they go to the index (`fetched`). */
const FETCHED_WAIT_BYTES = 4 * 1024 * 1024;

/** A group whose crawl could not be resumed at start (its view did not open) is tried again this often. */
const RESUME_RETRY_MS = 10_000;

/** Settings of the index in the backend (config `index.*`). */
export interface IndexOptions {
  /** Bodies kept per group; default: 'all' for every group. */
  bodies?: (group: string) => BodyPolicy;
  crawlConcurrency: number;
  crawlBatch: number;
  crawlQuietMs: number;
  /** An article is crawled once it has been in its group's snapshot this long (default 0). */
  crawlDelayMs?: number;
  maxArticleBytes: number;
  keysMemoryBytes: number;
  /** SORT/THREAD keys of a group unused this long are dropped (sort-keys.ts `KeysBudget`); default 0, never. */
  keysIdleMs?: number;
  /**
   * Crawl groups with `bodies: all` in the background: each group as its view
   * opens, and at start every group the index knows with bodies missing
   * (so a crawl cut short resumes). Default true; `newsfront index` crawls
   * the groups it names itself instead.
   */
  crawl?: boolean;
  /** Overview bytes the feed queues for the writer at most; beyond, the backfill brings them (default FEED_MAX_OVERVIEW_BYTES). */
  maxOverviewBytes?: number;
}

export class BackendIndex {
  readonly activity = new Activity();
  private readonly feed: IndexFeed;
  private readonly crawler: Crawler;
  private readonly backfill: Backfill;
  private readonly budget: KeysBudget;
  /** One heavy search per loop iteration, all groups together (turns.ts). */
  private readonly turns = new Turns();
  private readonly searches = new Map<MailboxView, GroupSearch>();
  private readonly bodies: (group: string) => BodyPolicy;
  /** In-Reply-To values THREAD needs, read from the overview or by HDR (in-reply-to.ts). */
  private readonly irt: InReplyToFetches;
  /** Downloaded articles waiting for quiet clients before they go to the index (`fetched`). */
  private readonly fetchedBacklog: QuietBacklog;
  /** The UID map of each group seen (an article's key in the index is its key there). */
  private readonly uidmaps = new Map<string, MailboxUidMap>();
  /** Each group's view while attached; its last UIDVALIDITY and count once detached (`status`). */
  private readonly seen = new Map<string, MailboxView | { uidValidity: number; total: number }>();
  private closed = false;
  private drainedListener: ((heldBytes: number) => void) | undefined;

  constructor(
    readonly index: SearchIndex,
    private readonly o: IndexOptions,
    private readonly meta: MetaStore,
    private readonly log: Logger,
    /**
     * `cachedText`: header and search text of a cached article past maxArticleBytes (cached-text.ts), by article key;
     * `structure`: each structure the crawler parses (Crawler `structure`).
     */
    private readonly hooks: Pick<CrawlerOptions, 'cachedText' | 'structure'> = {},
  ) {
    this.bodies = o.bodies ?? (() => 'all');
    this.feed = new IndexFeed({
      index, logger: log, batch: o.crawlBatch, maxArticleBytes: o.maxArticleBytes, bodies: this.bodies, maxOverviewBytes: o.maxOverviewBytes,
      onDropped: (group) => this.backfill.kick(group),
      onDrained: (held) => this.drainedListener?.(held),
    });
    this.backfill = new Backfill({
      feed: this.feed, logger: log, fed: (group, uv, source, items, queued) => this.irt.fetch(group, uv, source, items, queued),
      quiet: { activity: this.activity, ms: o.crawlQuietMs },
    });
    this.crawler = new Crawler({
      feed: this.feed, meta, activity: this.activity, logger: log,
      concurrency: o.crawlConcurrency, batch: o.crawlBatch, quietMs: o.crawlQuietMs, maxArticleBytes: o.maxArticleBytes, delayMs: o.crawlDelayMs ?? 0,
      ...hooks,
    });
    this.budget = new KeysBudget(o.keysMemoryBytes, o.keysIdleMs ?? 0);
    this.irt = new InReplyToFetches(this.feed, this.activity, o.crawlQuietMs, log);
    this.fetchedBacklog = new QuietBacklog(this.activity, o.crawlQuietMs, FETCHED_WAIT_BYTES);
  }

  /** Bytes of SORT/THREAD keys kept now, all groups. */
  get keysBytes(): number {
    return this.budget.bytes;
  }

  /**
   * What a group's view gets: its ingest batches go to the index (with the
   * In-Reply-To values THREAD needs, in-reply-to.ts), and expired
   * articles leave it. The writes and the In-Reply-To fetches start once
   * `opened` is called (the view's opener is answered: the index does not
   * compete with a first SELECT; index-feed.ts `hold`). A batch the feed
   * drops (no room, or a first look past FEED_MAX_HELD_RECORDS) is never
   * waited for: the backfill brings it (index-backfill.ts), after the
   * release, with its In-Reply-To values.
   */
  viewHooks(group: string, uidmap: MailboxUidMap): Pick<ViewOptions, 'index' | 'indexWants'> & { expired: (uids: number[]) => void; opened: () => void } {
    this.uidmaps.set(group, uidmap);
    const opened = this.feed.hold(group);
    return {
      opened,
      index: (items, source) => {
        const queued = this.feed.overview(group, uidmap.uidValidity, items);
        // from the release on: INN's time (and ours) goes to a first SELECT's OVER first; a dropped
        // batch is let go at once (held until the release, 1M records' items were ~600 MB live, issue 14).
        // Not awaited by the ingest: a held batch's `queued` resolves at the release, after the answer.
        void queued.then((ok) => {
          if (ok) void this.feed.opened(group).then(() => this.irt.fetch(group, uidmap.uidValidity, source, items, queued));
        });
        return Promise.resolve();
      },
      indexWants: () => !this.feed.dropsHeld(group),
      expired: (uids) => void this.feed.remove(group, uidmap.uidValidity, uids),
    };
  }

  /** The In-Reply-To fetches under way for the group, if any (in-reply-to.ts `wait`). */
  inReplyTo(group: string): Promise<void> | undefined {
    return this.irt.wait(group);
  }

  /** What a group's reader gets: headers and articles it reads go to the index. */
  readerHooks(group: string, uidmap: MailboxUidMap): { index: ReaderIndexHooks; activity: Activity } {
    const uv = uidmap.uidValidity;
    const key = (uid: number): string | undefined => uidmap.lookup(uid)?.messageId;
    return {
      index: {
        header: (uid, header, date, size) => this.feed.header(group, uv, uid, key(uid), header, date, size),
        article: (uid, article, date) => this.feed.article(group, uv, uid, key(uid), article, date),
        keepBytes: this.bodies(group) === 'none' ? 0 : Math.min(this.o.maxArticleBytes, MEASURED_KEEP_BYTES),
      },
      activity: this.activity,
    };
  }

  /**
   * A group's view is open: older generations of the group leave the index,
   * the crawler starts (bodies: all), and the view gets its `MailboxSearch`.
   */
  attach(group: string, view: MailboxView, reader: GroupReader, uidmap: MailboxUidMap): GroupSearch {
    for (const m of this.index.mailboxes()) {
      if (m.name === group && m.uidValidity !== uidmap.uidValidity) {
        this.index.dropMailbox(group, m.uidValidity).catch((err: unknown) => this.log.warn({ group, err: (err as Error).message }, 'index: dropping an old generation failed'));
      }
    }
    if (this.o.crawl !== false && this.bodies(group) === 'all') this.crawler.start(this.target(group, view, uidmap));
    this.backfill.start({ group, current: () => view.current(), messageIdOf: (uid) => uidmap.lookup(uid)?.messageId });
    const search = new GroupSearch({
      group, index: this.index, reader, snapshot: () => view.current(), budget: this.budget,
      // a search takes the downloads waiting for quiet first (else it would scan them)
      settled: () => (this.fetchedBacklog.drain(), this.feed.settled(group)),
      writes: () => this.feed.writes(group),
      inReplyTo: () => this.inReplyTo(group),
      pending: (uidValidity) => (this.fetchedBacklog.drain(), this.feed.pending(group, uidValidity)),
      backfill: () => this.backfill.busy(group),
      hurryBackfill: () => this.backfill.hurry(group),
      turns: this.turns,
    });
    this.searches.set(view, search);
    this.seen.set(group, view);
    return search;
  }

  /** The view is forgotten (idle LRU): its SORT/THREAD keys go. */
  detach(view: MailboxView): void {
    this.searches.get(view)?.dispose();
    this.searches.delete(view);
    if (this.seen.get(view.group) === view) {
      this.backfill.stop(view.group);
      const s = view.current();
      this.seen.set(view.group, { uidValidity: s.uidValidity, total: s.uids.length });
    }
  }

  /**
   * `fn` is told when the overview records queued for the index (a new
   * group's first SELECT) are all written: the memory they held (at most
   * `heldBytes`, estimated) is garbage from then on (start.ts collects it,
   * heap-leftovers.ts `afterBurst`).
   */
  onFeedDrained(fn: (heldBytes: number) => void): void {
    this.drainedListener = fn;
  }

  /**
   * The operator's view (index-status.ts): every group in the index with
   * what this server knows of it. Reads the index (one pass over its
   * members: tens of ms per 100k articles); throws the index's errors.
   */
  status(): IndexStatus {
    return indexStatus(
      this.index.summary(),
      (group) => {
        const v = this.seen.get(group);
        if (v === undefined) return undefined;
        const snap = 'current' in v ? v.current() : undefined;
        const now = snap !== undefined ? { uidValidity: snap.uidValidity, total: snap.uids.length } : (v as { uidValidity: number; total: number });
        return { ...now, crawl: this.crawler.progress(group) };
      },
      (group) => this.bodies(group),
    );
  }

  /**
   * An article was downloaded into the article cache (ArticleCache
   * `onFetched`): queued for the index (a long one read back from the
   * cache) once clients have been quiet for `crawlQuietMs`, so a FETCH of
   * bodies does not wait for the index's work; at once when more than
   * FETCHED_WAIT_BYTES wait, and before a search reads the index.
   * `live` finds the group's view; `open` reads the cached file.
   */
  fetched(key: string, r: Fetched, live: (group: string) => MailboxView | undefined, open: (key: string) => Promise<Readable>): void {
    if (this.closed || (r.bytes === null && !r.cached)) return;
    // what it holds: the article (a small one), its header copy and ~200 bytes of closure and record
    this.fetchedBacklog.add(() => this.indexFetched(key, r, live, open), (r.bytes?.length ?? 0) + (r.header?.length ?? 0) + 200);
  }

  private indexFetched(key: string, r: Fetched, live: (group: string) => MailboxView | undefined, open: (key: string) => Promise<Readable>): void {
    // a small article comes with its bytes (kept in memory, then the small store); a long one is read back from its file
    const long = r.size > this.o.maxArticleBytes;
    if (this.closed || (long && this.hooks.cachedText === undefined)) return;
    const [upstream, group, num] = key.split('\u0000');
    if (group === undefined || num === undefined) return;
    const view = live(group);
    const snap = view?.current();
    if (snap === undefined || snap.carrier?.id !== upstream) return;
    const row = rowOfNumber(snap.table, Number(num));
    if (row < 0) return;
    const uid = snap.table.uids[row]!;
    const date = internalDateOf(snap.table.dates[row]!).getTime();
    const id = this.uidmaps.get(group)?.lookup(uid)?.messageId;
    if (long) {
      // too long to take whole: its text parts, read from the cache (it may have been crawled as scan-only before)
      void this.hooks.cachedText!(key)
        .then((t) => t && this.feed.text(group, snap.uidValidity, uid, id, t.header, t.text, date, r.size))
        .catch(() => undefined);
      return;
    }
    if (r.bytes !== null) {
      if (r.bytes.length === r.size) this.feed.article(group, snap.uidValidity, uid, id, r.bytes, date);
      return;
    }
    void (async () => {
      const bytes = await buffer(await open(key));
      if (bytes.length === r.size) this.feed.article(group, snap.uidValidity, uid, id, bytes, date);
    })().catch(() => undefined); // evicted meanwhile: the crawler (or the next read) brings it
  }

  /**
   * Resumes crawls and backfills cut short (a restart): opens, one after
   * another, the view of each group the index knows with bodies missing, or
   * with fewer members than its saved view has articles (`openView` starts
   * its crawl and backfill, see `attach`). A group whose view cannot be opened (the upstream
   * refuses or is down at start) is logged and tried again every
   * RESUME_RETRY_MS until it opens or the backend stops; one the upstream
   * no longer has (NONEXISTENT) is not.
   */
  async resume(openView: (group: string) => Promise<unknown>, stopped: () => boolean): Promise<void> {
    if (this.o.crawl === false) return;
    const names = new Set<string>();
    try {
      for (const m of this.index.mailboxes()) {
        if (this.bodies(m.name) === 'all' && this.index.missingBodies(m.name, m.uidValidity, 1).length > 0) names.add(m.name);
        else if (this.unfed(m.name, m.uidValidity)) names.add(m.name);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'index: cannot list groups to crawl');
      return;
    }
    for (let left = [...names]; left.length > 0; ) {
      const failed: string[] = [];
      for (const group of left) {
        if (stopped() || this.closed) return;
        await openView(group).catch((err: unknown) => {
          const gone = (err as { code?: string }).code === 'NONEXISTENT';
          if (!gone) failed.push(group);
          this.log.warn({ group, err: (err as Error).message, ...(gone ? {} : { retryMs: RESUME_RETRY_MS }) }, gone ? 'index: crawl of a group not resumed (no such group)' : 'index: crawl of a group not resumed yet');
        });
      }
      left = failed;
      if (left.length > 0) await new Promise((res) => setTimeout(res, RESUME_RETRY_MS).unref());
    }
  }

  /** Whether the group's saved view lists more articles than the index has members (the backfill has work). */
  private unfed(group: string, uidValidity: number): boolean {
    const saved = this.meta.loadView(viewKey(group));
    return saved !== undefined && saved.uidValidity === uidValidity && saved.table.uids.length > this.index.coverage(group, uidValidity).members;
  }

  /** Resolves when what is queued for the index (downloads waiting for quiet included) is written. */
  flush(): Promise<void> {
    this.fetchedBacklog.drain();
    return this.feed.flush();
  }

  /** Crawls one group until every body is indexed (`newsfront index`). */
  buildIndex(group: string, view: MailboxView, uidmap: MailboxUidMap): Promise<CrawlStats> {
    return this.crawler.run(this.target(group, view, uidmap));
  }

  /** Stops the crawler and writes what is queued. */
  async close(): Promise<void> {
    this.fetchedBacklog.drain();
    this.closed = true;
    const irt = this.irt.close();
    await this.backfill.close();
    await this.crawler.close();
    await irt;
    await this.feed.close();
    for (const s of this.searches.values()) s.dispose();
    this.searches.clear();
  }

  private target(group: string, view: MailboxView, uidmap: MailboxUidMap): CrawlTarget {
    return {
      group,
      current: () => view.current(),
      // after the release: made into records inside the first SELECT, the stash cost its answer 30–290 ms
      settled: () => this.feed.opened(group).then(() => this.feed.settled(group)),
      subscribe: (fn) => view.subscribe(() => fn()),
      messageIdOf: (uid) => uidmap.lookup(uid)?.messageId,
    };
  }
}
