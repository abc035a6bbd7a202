/**
 * The background crawler of the search index: for each group whose bodies
 * policy is `all` (index-policy.ts) it reads the articles whose body the
 * index lacks (`SearchIndex.missingBodies`: so it resumes where a killed or
 * stopped process left off) and writes header and body in batches
 * (index-feed.ts), one transaction per batch.
 *
 * Clients come first: the crawler starts a read only after they have been
 * quiet for `quietMs` (activity.ts), keeps at most `concurrency` reads in
 * flight over all groups (pipelined on the source's connections, as bulk
 * reads), and does not go through the article cache (crawled articles would
 * evict what clients read). What it learns on the way goes where a client's
 * read would put it: the exact size and the MIME structure into the metadata
 * store; each structure it parses also goes to `structure` (Backend
 * `onStructure`: rendered ahead, so a first BODYSTRUCTURE listing renders nothing).
 *
 * Fresh articles wait: an article is crawled once it has been in the group's
 * snapshot for `delayMs` (articles clients read meanwhile are indexed from
 * their reads, index-feed.ts, so they are not fetched twice); `newsfront
 * index` does not wait.
 *
 * An article gone upstream is marked scan-only (never fetched again); one
 * above `maxArticleBytes` (overview size) is too, with its header read (HEAD),
 * unless the article cache holds it: its text parts are indexed from there
 * (`cachedText`). Other failures (upstream down) stop the batch and are
 * retried after a pause. Progress (indexed of total, rate, ETA) is logged
 * every CRAWL_PROGRESS_MS; `progress(group)` tells what a crawl does now.
 */
import type { Logger } from '../../util/log.js';
import { articleInto, type Source } from '../source.js';
import { parseStructure, type MimePart } from '../../mime/index.js';
import type { Activity } from './activity.js';
import { CrawlMeter, type CrawlProgress } from './crawl-progress.js';
import { internalDateOf } from './dates.js';
import { isGone } from './errors.js';
import type { FedArticle, IndexFeed } from './index-feed.js';
import { CRAWL_PROGRESS_MS, CRAWL_RECHECK_MS, CRAWL_RETRY_MS } from './limits.js';
import { articleKey, type MetaStore } from './meta-store.js';
import { rowOf } from './table.js';
import type { ViewSnapshot } from './view.js';

export interface CrawlerOptions {
  feed: IndexFeed;
  meta: MetaStore;
  activity: Activity;
  logger: Logger;
  /** Reads in flight, all groups together. */
  concurrency: number;
  /** Articles per index transaction. */
  batch: number;
  /** Clients quiet this long before a read starts (ms). */
  quietMs: number;
  maxArticleBytes: number;
  /** An article is crawled once it has been in the snapshot this long (ms). */
  delayMs: number;
  /** Header and search text of an article past maxArticleBytes the article cache holds (cached-text.ts), by article key. */
  cachedText?: (key: string) => Promise<{ header: Buffer; text: string } | undefined>;
  /** Called with each structure the crawler parsed and stored (never throws into the crawl: errors are logged). */
  structure?: (group: string, uidValidity: number, uid: number, part: MimePart) => void;
}

/** What the crawler needs of a group's view. */
export interface CrawlTarget {
  group: string;
  current(): ViewSnapshot;
  /** Resolves once the group's overview records queued so far are in the index. */
  settled(): Promise<void>;
  /** Called with each new snapshot; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void;
  messageIdOf(uid: number): string | undefined;
}

export interface CrawlStats {
  /** Articles read and written in this run. */
  articles: number;
  /** Their bytes. */
  bytes: number;
  ms: number;
}

interface Loop {
  target: CrawlTarget;
  stopped: boolean;
  wake: (() => void) | null;
  done: Promise<CrawlStats>;
  /** When the snapshot's highest UID was first seen (ascending): what is older than the delay may be crawled. */
  seen: { at: number; uid: number }[];
  unsubscribe: () => void;
  meter: CrawlMeter;
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms).unref());

export class Crawler {
  private readonly loops = new Map<string, Loop>();
  private slots: number;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: CrawlerOptions) {
    this.slots = o.concurrency;
  }

  /** Crawls the group in the background until `close()` (a new target of the same group replaces the old). */
  start(target: CrawlTarget): void {
    if (this.closed) return;
    const old = this.loops.get(target.group);
    if (old !== undefined && old.target === target) return;
    if (old !== undefined) this.stopLoop(old);
    const loop = this.loop(target);
    loop.done = this.crawl(loop, false).catch((err: unknown) => {
      this.o.logger.warn({ group: target.group, err: (err as Error).message }, 'index: crawler stopped');
      loop.meter.set('stopped');
      return { articles: 0, bytes: 0, ms: 0 };
    });
    this.loops.set(target.group, loop);
  }

  /** Crawls the group until nothing is missing (`newsfront index`); rejects when the index cannot be written. */
  async run(target: CrawlTarget): Promise<CrawlStats> {
    const loop = this.loop(target);
    try {
      return await this.crawl(loop, true);
    } finally {
      loop.unsubscribe();
    }
  }

  private loop(target: CrawlTarget): Loop {
    const highest = (): number => {
      const u = target.current().uids;
      return u.length > 0 ? u[u.length - 1]! : 0;
    };
    const l: Loop = {
      target, stopped: false, wake: null, done: Promise.resolve({ articles: 0, bytes: 0, ms: 0 }), seen: [], unsubscribe: () => undefined,
      meter: new CrawlMeter(),
    };
    l.seen.push({ at: Date.now(), uid: highest() });
    l.unsubscribe = target.subscribe(() => {
      const uid = highest();
      if (uid > l.seen[l.seen.length - 1]!.uid) l.seen.push({ at: Date.now(), uid });
    });
    return l;
  }

  /** The highest UID old enough to crawl (`once`: any), and how long until more are (ms, Infinity: none waiting). */
  private ripe(l: Loop, once: boolean): { upTo: number; wait: number } {
    const now = Date.now();
    let upTo = 0;
    let wait = Infinity;
    for (const s of l.seen) {
      if (once || now - s.at >= this.o.delayMs) upTo = s.uid;
      else {
        wait = s.at + this.o.delayMs - now;
        break;
      }
    }
    // entries all ripe but the last are not needed any more
    while (l.seen.length > 1 && (once || now - l.seen[1]!.at >= this.o.delayMs)) l.seen.shift();
    return { upTo, wait };
  }

  /** What the background crawl of `group` is doing now; undefined when none runs in this process. */
  progress(group: string): CrawlProgress | undefined {
    return this.loops.get(group)?.meter.snapshot();
  }

  /** Stops every crawl and waits for the reads under way. */
  async close(): Promise<void> {
    this.closed = true;
    const loops = [...this.loops.values()];
    for (const l of loops) this.stopLoop(l);
    this.loops.clear();
    await Promise.all(loops.map((l) => l.done));
  }

  private stopLoop(l: Loop): void {
    l.stopped = true;
    l.unsubscribe();
    l.wake?.();
  }

  private async acquire(): Promise<() => void> {
    while (this.slots === 0) await new Promise<void>((res) => this.waiting.push(res));
    this.slots--;
    return () => {
      this.slots++;
      this.waiting.shift()?.();
    };
  }

  /** Waits until clients have been quiet for `quietMs`. */
  private async quiet(l: Loop): Promise<void> {
    for (let wait = this.o.activity.untilQuiet(this.o.quietMs); wait > 0 && !l.stopped; wait = this.o.activity.untilQuiet(this.o.quietMs)) {
      if (l.meter.state === 'crawling') l.meter.set('paused');
      await sleep(wait + 5);
    }
    if (l.meter.state === 'paused') l.meter.set('crawling');
  }

  /** Waits for a new snapshot of the group, `ms`, or a stop (at once when stopped already). */
  private async idle(l: Loop, ms: number): Promise<void> {
    if (l.stopped || this.closed) return; // stopped while it was busy: nobody would wake it
    await new Promise<void>((res) => {
      const done = (): void => {
        clearTimeout(timer);
        un();
        l.wake = null;
        res();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      const un = l.target.subscribe(done);
      l.wake = done;
    });
  }

  /**
   * The crawl of one group: read a batch, hand it to the writer, read the
   * next while it is written (one write in flight; its UIDs are not read
   * again meanwhile). `once`: until nothing is missing, failures thrown.
   */
  private async crawl(l: Loop, once: boolean): Promise<CrawlStats> {
    const { group } = l.target;
    const index = this.o.feed.index;
    const started = Date.now();
    const stats: CrawlStats = { articles: 0, bytes: 0, ms: 0 };
    let lastLog = started;
    let logged = false;
    /** The batch being written, and its UIDs. */
    let writing: Promise<boolean> | null = null;
    let writingUids = new Set<number>();
    /** Waits for the write in flight; false when it failed (logged, or thrown with `once`). */
    const written = async (): Promise<boolean> => {
      if (writing === null) return true;
      const ok = await writing;
      writing = null;
      writingUids = new Set();
      return ok;
    };
    /** The crawl goes up the group: missing bodies below this were read in this pass already. */
    let cursor = 0;
    while (!l.stopped && !this.closed) {
      await l.target.settled();
      const snap = l.target.current();
      const uv = snap.uidValidity;
      const ripe = this.ripe(l, once);
      const missing = index.missingBodies(group, uv, this.o.batch * 2 + writingUids.size, cursor);
      const present: number[] = [];
      const gone: number[] = [];
      for (const uid of missing) {
        if (writingUids.has(uid)) continue;
        if (rowOf(snap.table, uid) < 0) gone.push(uid);
        else if (uid <= ripe.upTo) present.push(uid);
      }
      if (gone.length > 0) await this.o.feed.remove(group, uv, gone);
      if (present.length === 0) {
        if (gone.length > 0) continue;
        if (cursor > 0) {
          cursor = 0; // a new pass from the start: what failed or arrived below meanwhile
          continue;
        }
        if (writing !== null) {
          if (!(await written())) await this.retry(l);
          continue;
        }
        if (logged) this.o.logger.info({ group, articles: stats.articles, ms: Date.now() - started }, 'index: group crawled');
        logged = false;
        if (once) break;
        // bodies still missing here belong to articles younger than the delay
        const waiting = missing.length > 0 && ripe.wait < Infinity;
        l.meter.set(waiting ? 'waiting' : 'idle', waiting ? Date.now() + ripe.wait : undefined);
        await this.idle(l, Math.min(CRAWL_RECHECK_MS, ripe.wait + 10));
        continue;
      }
      if (!l.meter.busy) l.meter.set('crawling');
      const batch = present.slice(0, this.o.batch);
      cursor = batch[batch.length - 1]!;
      const { fed, failed } = await this.read(l, snap, batch);
      if (!(await written())) {
        await this.retry(l);
        continue;
      }
      if (fed.length > 0) {
        writingUids = new Set(fed.map((a) => a.uid));
        writing = this.o.feed.write(fed).then(
          () => {
            stats.articles += fed.length;
            for (const a of fed) stats.bytes += a.size;
            l.meter.written(fed.length);
            return true;
          },
          (err: unknown) => {
            if (once) throw err;
            this.o.logger.warn({ group, err: (err as Error).message }, 'index: crawler write failed; retrying later');
            return false;
          },
        );
        writing.catch(() => undefined); // observed by `written`
      }
      if (failed > 0) {
        this.o.logger.warn({ group, failed }, 'index: crawler reads failed; retrying later');
        await this.retry(l);
      }
      const now = Date.now();
      if (now - lastLog >= CRAWL_PROGRESS_MS) {
        lastLog = now;
        logged = true;
        const c = index.coverage(group, uv);
        const rate = l.meter.snapshot().rate;
        const left = c.members - c.bodies;
        this.o.logger.info({ group, indexed: c.bodies, total: c.members, rate: Math.round(rate), etaS: rate > 0 ? Math.round(left / rate) : null }, 'index: crawling group');
      }
    }
    if (once) await written();
    else await written().catch(() => false);
    stats.ms = Date.now() - started;
    return stats;
  }

  /** Pauses after a failure (CRAWL_RETRY_MS, or until a new snapshot). */
  private async retry(l: Loop): Promise<void> {
    l.meter.set('retrying');
    await this.idle(l, CRAWL_RETRY_MS);
  }

  /** Reads the articles of `uids`, `concurrency` at a time (over all groups), each after clients were quiet. */
  private async read(l: Loop, snap: ViewSnapshot, uids: number[]): Promise<{ fed: FedArticle[]; failed: number }> {
    const carrier = snap.carrier;
    const fed: FedArticle[] = [];
    let failed = 0;
    if (carrier === null) return { fed, failed: uids.length };
    const { group } = l.target;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < uids.length && !l.stopped && failed === 0) {
        await this.quiet(l);
        const release = await this.acquire();
        const uid = uids[next++];
        try {
          if (uid === undefined || l.stopped) return;
          const row = rowOf(snap.table, uid);
          const number = snap.table.numbers[row]!;
          const overview = snap.table.sizes[row]!;
          const internalDate = internalDateOf(snap.table.dates[row]!).getTime();
          const messageId = l.target.messageIdOf(uid);
          const loc = { group, uidValidity: snap.uidValidity, uid, key: messageId, internalDate };
          try {
            if (overview > this.o.maxArticleBytes) {
              const cached = await this.o.cachedText?.(articleKey(carrier.id, group, number)).catch(() => undefined);
              if (cached !== undefined) {
                fed.push({ ...loc, header: cached.header, text: cached.text, size: overview });
                continue;
              }
              const header = await carrier.source.head(group, number, messageId);
              fed.push({ ...loc, header, scanOnly: true, size: overview });
              continue;
            }
            const article = await this.fetch(carrier.source, group, number, messageId);
            const key = articleKey(carrier.id, group, number);
            this.o.meta.putExactSize(key, article.size);
            // the MIME structure too, while the bytes are here: a later BODYSTRUCTURE reads nothing upstream
            if (article.bytes !== null && !this.o.meta.hasStructure(key)) this.stored(key, group, snap.uidValidity, uid, parseStructure(article.bytes));
            fed.push(article.bytes === null ? { ...loc, scanOnly: true, size: article.size } : { ...loc, article: article.bytes, size: article.size });
          } catch (err) {
            if (isGone(err)) fed.push({ ...loc, scanOnly: true, size: 0 });
            else failed++;
          }
        } finally {
          release();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, uids.length) }, worker));
    return { fed, failed };
  }

  /** Stores `part` as `key`'s structure and tells the `structure` listener (whose failure is only logged). */
  private stored(key: string, group: string, uidValidity: number, uid: number, part: MimePart): void {
    this.o.meta.putStructure(key, part);
    try { this.o.structure?.(group, uidValidity, uid, part); } catch (err) { this.o.logger.warn({ err, group, uid }, 'index: structure listener failed'); } // prettier-ignore
  }

  /** One article's bytes (null past maxArticleBytes) and size. */
  private async fetch(source: Source, group: string, number: number, messageId: string | undefined): Promise<{ bytes: Buffer | null; size: number }> {
    let chunks: Buffer[] = [];
    let size = 0;
    const max = this.o.maxArticleBytes;
    const sink = {
      begin: (): void => void ((chunks = []), (size = 0)),
      data: (chunk: Buffer): void => {
        size += chunk.length;
        if (size <= max) chunks.push(Buffer.from(chunk)); // a copy: the source may reuse its chunk
        else chunks = [];
      },
    };
    await articleInto(source, group, number, messageId, sink, true);
    return { bytes: size <= max ? Buffer.concat(chunks, size) : null, size };
  }
}
