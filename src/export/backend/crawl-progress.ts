/**
 * What a group's background crawl (crawler.ts) is doing now, and how fast:
 * the crawler sets its state and counts each batch written; `snapshot()`
 * is what `newsfront status`, the ops listener's /status and the metrics show.
 */

/**
 * crawling: reading and writing bodies; paused: waiting for clients to be
 * quiet; waiting: the bodies missing are of articles younger than the delay,
 * until `resumesAt`; retrying: a read or write failed, tried again after a
 * pause; idle: nothing missing; stopped: the index cannot be written.
 */
export type CrawlState = 'crawling' | 'paused' | 'waiting' | 'retrying' | 'idle' | 'stopped';

export interface CrawlProgress {
  state: CrawlState;
  /** Articles written by this crawl (in this process). */
  articles: number;
  /** Articles per second over the last RATE_WINDOW_MS (0 unless crawling or paused). */
  rate: number;
  /** When this crawl started (ms since the epoch). */
  startedAt: number;
  /** With `waiting`: when the next articles are old enough (ms since the epoch). */
  resumesAt?: number;
}

/** The rate is measured over the batches written this long ago at most. */
export const RATE_WINDOW_MS = 30_000;

export class CrawlMeter {
  private readonly p: CrawlProgress = { state: 'crawling', articles: 0, rate: 0, startedAt: Date.now() };
  /** Articles written by `at`, one entry per batch within RATE_WINDOW_MS (the first may be older). */
  private samples: { at: number; articles: number }[] = [{ at: Date.now(), articles: 0 }];

  get state(): CrawlState {
    return this.p.state;
  }

  /** Crawling or paused: the rate counts (a pause for clients lowers it, as it should). */
  get busy(): boolean {
    return this.p.state === 'crawling' || this.p.state === 'paused';
  }

  set(state: CrawlState, resumesAt?: number): void {
    this.p.state = state;
    if (!this.busy) this.samples = [];
    else if (this.samples.length === 0) this.samples.push({ at: Date.now(), articles: this.p.articles });
    if (resumesAt === undefined) delete this.p.resumesAt;
    else this.p.resumesAt = resumesAt;
  }

  /** A batch of `articles` was written. */
  written(articles: number): void {
    const now = Date.now();
    this.p.articles += articles;
    this.samples.push({ at: now, articles: this.p.articles });
    while (this.samples.length > 2 && now - this.samples[1]!.at > RATE_WINDOW_MS) this.samples.shift();
  }

  snapshot(): CrawlProgress {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const rate = this.busy && first !== undefined && last !== undefined && last.at > first.at ? ((last.articles - first.articles) * 1000) / (last.at - first.at) : 0;
    return { ...this.p, rate };
  }
}
