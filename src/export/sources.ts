/**
 * `MultiSource`: several sources (NNTP upstreams in config order, then the
 * archive if any) seen as one.
 *
 * - `listGroups()` is the union. A group's *carriers* are the sources that
 *   list it, in config order; its *primary* is the first carrier
 *   (`primaryOf`), which the UID map uses for first-sight UIDs (DESIGN
 *   invariant 2). A source that cannot be listed right now (UNAVAILABLE,
 *   AUTH_REQUIRED) keeps the groups it was last seen to carry, so a primary
 *   does not change because it was down for a moment.
 * - Group-level calls go to the group's *serving* carrier: the primary at
 *   first; when the serving one fails with UNAVAILABLE, the next carrier in
 *   config order is tried (failover), wrapping around, and the one that
 *   answers becomes the serving carrier until it fails in turn. Each switch is
 *   logged and reported to `onFailover`. Article numbers are those of the
 *   serving carrier: a caller that stores numbers uses `withFailover`, which
 *   tells it which source answered and whether that is the primary.
 * - `overview()` and `overviewBatches()` fail over only before their first
 *   record (numbers of two upstreams never mix in one iteration).
 *
 * Errors: NO_SUCH_GROUP for a group no source lists; when every carrier is
 * down, UNAVAILABLE with the last error as `cause`. When no source can list
 * its groups (and none was listed before): the error itself if there is one
 * source, else UNAVAILABLE naming the first error. Other errors (e.g.
 * NO_SUCH_ARTICLE) are passed through without failover.
 * `warm()` (at start) lists the groups and warms every source in the background.
 * `close()` closes every source.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../util/log.js';
import { SourceError, articleInto, overviewBatchesOf, type ArticleSink, type GroupInfo, type OverviewRecord, type Source } from './source.js';

/** An unknown group triggers a fresh listing at most this often, so clients naming junk cannot make us LIST ACTIVE per command. */
export const RELIST_UNKNOWN_MS = 30_000;

export interface MultiSourceOptions {
  logger: Logger;
  /** Called when a group's serving source changes (after the first choice). */
  onFailover?: (group: string, from: string, to: string) => void;
}

export class MultiSource implements Source {
  readonly id: string;
  readonly sources: readonly Source[];
  private readonly log: Logger;
  private readonly onFailover: MultiSourceOptions['onFailover'];
  /** Per source (same index as `sources`): groups it was last seen to carry. */
  private readonly carried: Map<string, GroupInfo>[];
  /** Per group: index of the serving source. */
  private readonly serving = new Map<string, number>();
  /** Time of the last listing (ms since epoch), 0 before the first. */
  private listedAt = 0;
  /** The start-up listing (`warm`) while it runs. */
  private warming: Promise<void> | undefined;
  /** The last listing was `warm`'s: a group it did not list is looked for again at once (as before any listing). */
  private warmListing = false;

  /** `sources` in priority order; at least one. */
  constructor(sources: readonly Source[], opts: MultiSourceOptions) {
    if (sources.length === 0) throw new SourceError('UNAVAILABLE', 'no sources configured');
    this.sources = [...sources];
    this.id = sources.length === 1 ? sources[0]!.id : `multi:${sources.map((s) => s.id).join(',')}`;
    this.log = opts.logger.child({ component: 'sources' });
    this.onFailover = opts.onFailover;
    this.carried = sources.map(() => new Map());
  }

  /** The source with this id, if any (to fetch by a stored `ArticleLocation.upstream`). */
  get(id: string): Source | undefined {
    return this.sources.find((s) => s.id === id);
  }

  /**
   * At start, in the background: lists the groups (so a first SELECT does
   * not wait for LIST ACTIVE) and warms every source. A group that listing
   * lacks is listed again at its first request, whatever RELIST_UNKNOWN_MS
   * says (it may have been created since). Never rejects: a failure leaves
   * the listing to the first request.
   */
  async warm(): Promise<void> {
    const listing = this.listGroups().then(
      () => void (this.warmListing = true),
      (err: unknown) => this.log.debug({ err: (err as Error).message }, 'start-up group listing failed; listed at the first request'),
    );
    this.warming = listing;
    await Promise.all([listing, ...this.sources.map((s) => s.warm?.())]);
    if (this.warming === listing) this.warming = undefined;
  }

  async listGroups(): Promise<GroupInfo[]> {
    this.warmListing = false;
    const results = await Promise.allSettled(this.sources.map((s) => s.listGroups()));
    let firstErr: unknown;
    let ok = 0;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        ok++;
        this.carried[i] = new Map(r.value.map((g) => [g.name, g]));
      } else {
        firstErr ??= r.reason;
        this.log.warn({ source: this.sources[i]!.id, err: (r.reason as Error).message }, 'source could not list groups; using what it carried before');
      }
    });
    this.listedAt = Date.now();
    if (ok === 0 && this.carried.every((m) => m.size === 0)) {
      if (this.sources.length === 1 && firstErr instanceof SourceError) throw firstErr;
      throw new SourceError('UNAVAILABLE', `no source could list its groups: ${(firstErr as Error).message}`, { cause: firstErr });
    }
    const union = new Map<string, GroupInfo>();
    for (const m of this.carried) for (const [name, g] of m) if (!union.has(name)) union.set(name, g);
    return [...union.values()];
  }

  /** Id of the group's primary source (first carrier in config order), or undefined if no source carries it. */
  primaryOf(group: string): string | undefined {
    const i = this.carried.findIndex((m) => m.has(group));
    return i < 0 ? undefined : this.sources[i]!.id;
  }

  /** The group's carriers in config order. */
  carriersOf(group: string): Source[] {
    return this.sources.filter((_, i) => this.carried[i]!.has(group));
  }

  /** Id of the source currently serving the group (primary until a failover). */
  servingOf(group: string): string | undefined {
    const i = this.serving.get(group);
    return i === undefined ? this.primaryOf(group) : this.sources[i]!.id;
  }

  /**
   * Run `fn` on the group's serving source, failing over on UNAVAILABLE.
   * `primary` tells whether the source that ran `fn` is the group's primary.
   */
  async withFailover<T>(group: string, fn: (source: Source, primary: boolean) => Promise<T>): Promise<T> {
    const order = await this.order(group);
    const primary = this.carried.findIndex((m) => m.has(group));
    let last: unknown;
    for (const i of order) {
      const s = this.sources[i]!;
      try {
        const v = await fn(s, i === primary);
        this.serve(group, i);
        return v;
      } catch (err) {
        if (!(err instanceof SourceError) || err.code !== 'UNAVAILABLE') throw err;
        last = err;
        this.log.warn({ group, source: s.id, err: err.message }, 'source unavailable for group; trying the next carrier');
      }
    }
    throw new SourceError('UNAVAILABLE', `${group}: no carrier reachable`, { cause: last });
  }

  groupInfo(group: string): Promise<GroupInfo> {
    return this.withFailover(group, (s) => s.groupInfo(group));
  }

  articleNumbers(group: string, low: number, high: number): Promise<number[]> {
    return this.withFailover(group, (s) => s.articleNumbers(group, low, high));
  }

  async *overview(group: string, low: number, high: number): AsyncIterable<OverviewRecord> {
    for await (const batch of this.overviewBatches(group, low, high)) yield* batch;
  }

  async *overviewBatches(group: string, low: number, high: number): AsyncIterable<OverviewRecord[]> {
    // Fail over while looking for the first batch; after it, stay on that source.
    const { it, first } = await this.withFailover(group, async (s) => {
      const it = overviewBatchesOf(s, group, low, high)[Symbol.asyncIterator]();
      const first = await it.next();
      return { it, first };
    });
    if (first.done === true) return;
    yield first.value;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
  }

  article(group: string, number: number, messageId?: string): Promise<Readable> {
    return this.withFailover(group, (s) => s.article(group, number, messageId));
  }

  articleInto(group: string, number: number, messageId: string | undefined, sink: ArticleSink, bulk = false): Promise<void> {
    return this.withFailover(group, (s) => articleInto(s, group, number, messageId, sink, bulk));
  }

  head(group: string, number: number, messageId?: string): Promise<Buffer> {
    return this.withFailover(group, (s) => s.head(group, number, messageId));
  }

  async close(): Promise<void> {
    const r = await Promise.allSettled(this.sources.map((s) => s.close()));
    for (const x of r) if (x.status === 'rejected') this.log.warn({ err: (x.reason as Error).message }, 'source close failed');
  }

  /** Indexes of the group's carriers, serving one first, then the rest in config order after it. */
  private async order(group: string): Promise<number[]> {
    if (this.warming !== undefined) await this.warming;
    if (this.listedAt === 0 || (this.primaryOf(group) === undefined && (this.warmListing || Date.now() - this.listedAt >= RELIST_UNKNOWN_MS))) {
      await this.listGroups();
    }
    const carriers = this.sources.map((_, i) => i).filter((i) => this.carried[i]!.has(group));
    if (carriers.length === 0) throw new SourceError('NO_SUCH_GROUP', `${group}: no source carries this group`);
    const cur = this.serving.get(group) ?? carriers[0]!;
    const k = Math.max(0, carriers.indexOf(cur));
    return [...carriers.slice(k), ...carriers.slice(0, k)];
  }

  private serve(group: string, i: number): void {
    const prev = this.serving.get(group);
    if (prev === i) return;
    this.serving.set(group, i);
    if (prev === undefined && i === this.carried.findIndex((m) => m.has(group))) return; // first choice: the primary
    const from = this.sources[prev ?? this.carried.findIndex((m) => m.has(group))]!.id;
    const to = this.sources[i]!.id;
    this.log.warn({ group, from, to }, 'group failed over to another source');
    this.onFailover?.(group, from, to);
  }
}
