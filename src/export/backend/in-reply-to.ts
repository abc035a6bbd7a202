/**
 * The In-Reply-To values THREAD needs (RFC 5256 REFERENCES step 1A reads it
 * only for articles whose References names no msg-id), fetched for each
 * ingest batch the index feed queued and written into the index after the
 * batch's overview records.
 *
 * Taken from the records when the overview carries it
 * (`OverviewRecord.inReplyTo`, INN's extraoverviewadvertised), else asked
 * for with NNTP HDR over ranges of those articles (INN reads each article it
 * answers for: ~40 µs of its time apiece) as background uses of the pool,
 * IN_REPLY_TO_TURNS ranges at a time, a range starting only while clients
 * are quiet unless THREAD waits for them (`wait`). Failures are logged
 * (THREAD then reads those headers).
 */
import type { Logger } from '../../util/log.js';
import { bytesToText } from '../../mime/index.js';
import { hasMsgId } from '../../search/index.js';
import type { Source } from '../source.js';
import type { Activity } from './activity.js';
import type { IndexFeed } from './index-feed.js';
import type { IngestItem } from './ingest.js';
import { QuietGate } from './quiet-gate.js';

/**
 * Articles that need their In-Reply-To this close (in article numbers) share
 * one HDR range: the few articles between cost INN less than another command.
 */
const IN_REPLY_TO_GAP = 8;

/**
 * In-Reply-To HDR ranges read at once, all groups together (quiet-gate.ts):
 * INN reads every article it answers HDR for, so these compete with client
 * reads for INN's CPU; the pool keeps them off one connection (NntpPool `pick`).
 */
const IN_REPLY_TO_TURNS = 3;

export class InReplyToFetches {
  /** Fetches under way, by group. */
  private readonly pending = new Map<string, Set<Promise<void>>>();
  /** Turns of the HDR reads: while clients read, only when THREAD waits for them. */
  private readonly gate: QuietGate;
  private closed = false;

  constructor(
    private readonly feed: IndexFeed,
    activity: Activity,
    quietMs: number,
    private readonly log: Logger,
  ) {
    this.gate = new QuietGate(activity, quietMs, IN_REPLY_TO_TURNS);
  }

  /** Fetches the values of `items` once `queued` (the feed took their records) resolves true; nothing when false. */
  fetch(group: string, uidValidity: number, source: Source, items: readonly IngestItem[], queued: Promise<boolean>): void {
    if (this.closed) return;
    void queued.then((ok) => ok && this.start(group, uidValidity, source, items, queued));
  }

  /** The fetches under way for the group, if any (resolves when they are done, never rejects); the caller waits for them, so they no longer wait for quiet. */
  wait(group: string): Promise<void> | undefined {
    const pending = this.pending.get(group);
    if (pending === undefined) return undefined;
    this.gate.hurry(group);
    return Promise.all([...pending]).then(() => undefined);
  }

  /** No new fetches; resolves when those under way have ended. */
  close(): Promise<void> {
    this.closed = true;
    this.gate.close();
    return Promise.all([...this.pending.values()].flatMap((set) => [...set])).then(() => undefined);
  }

  private start(group: string, uidValidity: number, source: Source, items: readonly IngestItem[], queued: Promise<boolean>): void {
    if (this.closed) return;
    const needed = items.filter((it) => !hasMsgId(it.record.references));
    // the overview may carry it (OverviewRecord.inReplyTo): queued now, written after the batch's records
    const known = needed.filter((it) => it.record.inReplyTo !== undefined);
    if (known.length > 0) this.feed.inReplyTo(group, uidValidity, known.map((it) => ({ uid: it.uid, value: it.record.inReplyTo! })));
    const want = known.length > 0 ? needed.filter((it) => it.record.inReplyTo === undefined) : needed;
    if (want.length === 0 || source.headerValues === undefined) return;
    const ranges: [number, number][] = [];
    for (const it of want) {
      const n = it.record.number;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && n - last[1] <= IN_REPLY_TO_GAP) last[1] = n;
      else ranges.push([n, n]);
    }
    const headerValues = source.headerValues.bind(source);
    // only numbers and UIDs wait for a turn, not the batch's records
    const uids = want.map((it) => it.uid);
    const numbers = want.map((it) => it.record.number);
    const pending = this.pending.get(group) ?? new Set<Promise<void>>();
    this.pending.set(group, pending);
    const p: Promise<void> = (async () => {
      const values = new Map<number, string>();
      await Promise.all(
        ranges.map(([lo, hi]) =>
          this.gate.run(group, async () => {
            if (this.closed) return;
            for await (const v of headerValues(group, 'In-Reply-To', lo, hi)) values.set(v.number, bytesToText(v.value));
          }),
        ),
      );
      await queued;
      if (this.closed) return;
      this.feed.inReplyTo(group, uidValidity, uids.map((uid, i) => ({ uid, value: values.get(numbers[i]!) ?? '' })));
    })()
      .catch((err: unknown) => this.log.warn({ group, err: (err as Error).message }, 'index: In-Reply-To not fetched (THREAD reads those headers)'))
      .finally(() => {
        pending.delete(p);
        if (pending.size === 0 && this.pending.get(group) === pending) {
          this.pending.delete(group);
          this.gate.calm(group);
        }
      });
    pending.add(p);
  }
}
