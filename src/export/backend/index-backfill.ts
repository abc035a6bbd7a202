/**
 * The backfill of the search index: the overview records the feed dropped
 * (index-feed.ts: past its memory bound an ingest leaves them out rather
 * than wait for the writer, so a first SELECT of a 1M group costs its OVER,
 * not the index's build) are read again and fed, behind the listing.
 *
 * For each group whose view is attached, a pass takes the snapshot's UIDs
 * that are not members of the index (`SearchIndex.indexedUids`: the index's
 * own record is the truth, so a restart resumes where the last process
 * stopped, backend-index.ts `resume`) nor queued in the feed (`pending`),
 * and, BACKFILL_CHUNK at a time in ascending order, reads their overview
 * again from the snapshot's carrier (OVER by article number, one range per
 * run of near numbers), then feeds it with `wait` once the feed is at most
 * half full (`roomy`: an ingest keeps room). A record whose key is not the
 * UID map's for that UID (the upstream renumbered) is skipped. Each chunk
 * fed is handed to `fed` (the In-Reply-To fetches, backend-index.ts).
 *
 * Until then those articles are what the index does not know: SEARCH scans
 * them (exact), SORT and THREAD read their headers, the crawler (which
 * crawls members only) reaches their bodies after the backfill.
 *
 * A pass that fed something is followed by another once its writes settled
 * (what was dropped meanwhile, writes that failed); one that found nothing
 * waits for `kick` (the feed dropped a batch of the group), or
 * BACKFILL_RETRY_MS after a pass that did not shrink what is missing.
 * Failures (upstream, index) are logged and retried after BACKFILL_RETRY_MS.
 */
import type { Logger } from '../../util/log.js';
import type { Source } from '../source.js';
import { minusUids } from '../../util/sorted.js';
import { uidMapMessageId } from '../message-id.js';
import { parseDate } from './dates.js';
import type { Activity } from './activity.js';
import type { IndexFeed, OverviewItem } from './index-feed.js';
import type { IngestItem } from './ingest.js';
import { rowOf } from './table.js';
import type { ViewSnapshot } from './view.js';

/** Articles read again and fed at once (one OVER range when their numbers are near, one feed batch). */
export const BACKFILL_CHUNK = 5_000;
/** Article numbers this close share one OVER range (the records between are read and left). */
const RANGE_GAP = 64;
/** Pause after a failure, or after a pass that did not shrink what is missing. */
const BACKFILL_RETRY_MS = 30_000;

export interface BackfillTarget {
  group: string;
  current(): ViewSnapshot;
  /** The UID map's key (Message-ID) of a UID. */
  messageIdOf(uid: number): string | undefined;
}

export interface BackfillOptions {
  feed: IndexFeed;
  logger: Logger;
  /** Each chunk fed, with its source and its queueing (resolves true once queued). */
  fed?: (group: string, uidValidity: number, source: Source, items: IngestItem[], queued: Promise<boolean>) => void;
  /** Articles per chunk (default BACKFILL_CHUNK). */
  chunk?: number;
  /**
   * A chunk starts only after clients have been quiet for `ms` (a cold
   * listing of a 1M group ran beside the backfill and its queue: ~200 MB more
   * anonymous memory), unless someone waits for the group's backfill (`hurry`).
   */
  quiet?: { activity: Activity; ms: number };
}

interface Loop {
  target: BackfillTarget;
  stopped: boolean;
  kicked: boolean;
  wake: (() => void) | null;
  done: Promise<void>;
  /** While a pass may feed: resolves when the loop next waits or stops (`busy`). */
  busy: { done: Promise<void>; end: () => void } | null;
  /** Someone waits for this backfill (`hurry`): chunks do not wait for quiet clients, until the loop next waits. */
  hurried: boolean;
  /** Ends a wait for quiet clients. */
  unquiet: (() => void) | null;
}

function busy(): NonNullable<Loop['busy']> {
  let end!: () => void;
  const done = new Promise<void>((res) => (end = res));
  return { done, end };
}

export class Backfill {
  private readonly loops = new Map<string, Loop>();
  /** Groups the feed dropped records of before their backfill started (`kick`). */
  private readonly dropped = new Set<string>();
  private closed = false;

  constructor(private readonly o: BackfillOptions) {}

  /** Backfills the group until `stop(group)` or `close()` (a new target of the group replaces the old). */
  start(target: BackfillTarget): void {
    if (this.closed) return;
    this.stop(target.group);
    const l: Loop = {
      target, stopped: false, kicked: false, wake: null, done: Promise.resolve(), busy: this.dropped.delete(target.group) ? busy() : null, hurried: false, unquiet: null,
    };
    l.done = this.run(l);
    this.loops.set(target.group, l);
  }

  /**
   * While the group's backfill has records to feed (from the feed's first
   * drop, or a pass that found some, until it waits again): resolves when it
   * has nothing more to feed for now, or stops; else undefined.
   */
  busy(group: string): Promise<void> | undefined {
    return this.loops.get(group)?.busy?.done;
  }

  /** Someone waits for the group's backfill now (`busy`): its chunks no longer wait for quiet clients. */
  hurry(group: string): void {
    const l = this.loops.get(group);
    if (l === undefined) return;
    l.hurried = true;
    l.unquiet?.();
  }

  /** The feed dropped records of the group: a pass soon. */
  kick(group: string): void {
    const l = this.loops.get(group);
    if (l === undefined) {
      if (!this.closed) this.dropped.add(group);
      return;
    }
    l.kicked = true;
    l.busy ??= busy();
    l.wake?.();
  }

  stop(group: string): void {
    const l = this.loops.get(group);
    if (l === undefined) return;
    this.loops.delete(group);
    l.stopped = true;
    l.busy?.end();
    l.wake?.();
    l.unquiet?.();
  }

  /** Stops every backfill; resolves when the chunks under way are fed. */
  async close(): Promise<void> {
    this.closed = true;
    const loops = [...this.loops.values()];
    for (const l of loops) this.stop(l.target.group);
    await Promise.all(loops.map((l) => l.done));
  }

  private async run(l: Loop): Promise<void> {
    let before = Infinity;
    while (!l.stopped) {
      let wait = 0;
      try {
        const { missing, fed } = await this.pass(l);
        if (fed > 0) await this.o.feed.settled(l.target.group);
        if (missing === 0 || fed === 0) wait = Infinity;
        else if (missing >= before) wait = BACKFILL_RETRY_MS; // writes failing: not at once again
        before = missing;
      } catch (err) {
        this.o.logger.warn({ group: l.target.group, err: (err as Error).message }, 'index: backfill failed; retrying later');
        wait = BACKFILL_RETRY_MS;
      }
      if (wait > 0 && !l.kicked && !l.stopped) {
        l.busy?.end();
        l.busy = null;
        l.hurried = false;
        await new Promise<void>((res) => {
          const timer = wait < Infinity ? setTimeout(res, wait).unref() : undefined;
          l.wake = () => {
            if (timer !== undefined) clearTimeout(timer);
            res();
          };
        });
        l.wake = null;
      }
      l.kicked = false;
    }
    l.busy?.end();
  }

  /** One pass over what is missing; how many UIDs were missing at its start and how many records it fed. */
  private async pass(l: Loop): Promise<{ missing: number; fed: number }> {
    const { feed } = this.o;
    const { group } = l.target;
    await feed.opened(group); // a first look at the group is answered first (its batches were dropped for this pass, index-feed.ts `hold`)
    await feed.roomy();
    const snap = l.target.current();
    const carrier = snap.carrier;
    if (carrier === null || l.stopped) return { missing: 0, fed: 0 };
    const uv = snap.uidValidity;
    let missing = minusUids(snap.uids, feed.index.indexedUids(group, uv));
    const pending = feed.pending(group, uv);
    if (pending !== undefined && missing.length > 0) missing = missing.filter((uid) => pending.overview(uid) === undefined);
    if (missing.length === 0) return { missing: 0, fed: 0 };
    l.busy ??= busy();
    const started = Date.now();
    this.o.logger.info({ group, missing: missing.length }, 'index: backfilling overview records');
    const chunk = this.o.chunk ?? BACKFILL_CHUNK;
    let fed = 0;
    for (let i = 0; i < missing.length && !l.stopped; i += chunk) {
      await this.quiet(l);
      await feed.roomy();
      const now = l.target.current();
      if (l.stopped || now.uidValidity !== uv || now.carrier?.id !== carrier.id) break; // a new generation or carrier: the next pass
      const items = await this.read(group, now, missing.subarray(i, i + chunk), l.target);
      if (items.length === 0) continue;
      const queued = feed.overview(group, uv, items, { wait: true });
      this.o.fed?.(group, uv, carrier.source, items, queued);
      if (await queued) fed += items.length;
    }
    this.o.logger.info({ group, fed, ms: Date.now() - started }, 'index: overview records backfilled');
    return { missing: missing.length, fed };
  }

  /** Resolves once clients have been quiet for `quiet.ms`, at once when hurried or stopped (see BackfillOptions `quiet`). */
  private async quiet(l: Loop): Promise<void> {
    const q = this.o.quiet;
    if (q === undefined) return;
    for (;;) {
      const wait = q.activity.untilQuiet(q.ms);
      if (wait === 0 || l.hurried || l.stopped) return;
      await new Promise<void>((res) => {
        const timer = setTimeout(res, wait).unref();
        l.unquiet = () => {
          clearTimeout(timer);
          res();
        };
      });
      l.unquiet = null;
    }
  }

  /** The overview records of `uids` (ascending) read from the snapshot's carrier, as the feed takes them. */
  private async read(group: string, snap: ViewSnapshot, uids: Uint32Array, target: BackfillTarget): Promise<OverviewItem[]> {
    const byNumber = new Map<number, number>();
    for (const uid of uids) {
      const row = rowOf(snap.table, uid);
      if (row >= 0) byNumber.set(snap.table.numbers[row]!, uid);
    }
    const numbers = [...byNumber.keys()].sort((a, b) => a - b);
    const items: OverviewItem[] = [];
    const source = snap.carrier!.source;
    for (let i = 0; i < numbers.length; ) {
      let j = i;
      while (j + 1 < numbers.length && numbers[j + 1]! - numbers[j]! <= RANGE_GAP) j++;
      const take = (r: Parameters<typeof uidMapMessageId>[1] & IngestItem['record']): void => {
        const uid = byNumber.get(r.number);
        if (uid === undefined) return;
        const key = uidMapMessageId(group, r);
        if (target.messageIdOf(uid) !== key) return;
        byNumber.delete(r.number); // once: a number listed twice is taken at its first record
        items.push({ uid, key, record: r, internalDate: parseDate(r.date) });
      };
      if (source.overviewBatches !== undefined) {
        for await (const rs of source.overviewBatches(group, numbers[i]!, numbers[j]!)) for (const r of rs) take(r);
      } else {
        for await (const r of source.overview(group, numbers[i]!, numbers[j]!)) take(r);
      }
      i = j + 1;
    }
    items.sort((a, b) => a.uid - b.uid);
    return items;
  }
}
