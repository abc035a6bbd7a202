/**
 * What the backend writes into the search index (src/search/), batched and
 * never in a reader's way:
 * - `overview`: the overview records of one ingest batch (OVER), queued for
 *   writing: the ingest never waits for the writer thread (a SELECT of a new
 *   group costs its OVER, not the index's ~4 s per 100k of writing): while
 *   `maxOverviewBytes` are queued a batch is dropped (`onDropped`; SEARCH
 *   scans those non-members, exact, until index-backfill.ts feeds them again
 *   `wait`ing for room); `settled(group)` resolves once the group's records
 *   are written (SEARCH waits for it), and until then `pending` holds them
 *   (SORT and THREAD read them there instead of waiting);
 * - `inReplyTo`: values NNTP HDR brought for overview-only members, queued
 *   the same way (and held in `pending` until written);
 * - `header`: a whole header fetched for a listing (HEAD, a read for the
 *   exact size): it upgrades the overview-only document (Subject/From from
 *   OVER) to the whole header (To, Cc, other fields, In-Reply-To);
 * - `article`: a whole article newsfront read anyway (a download into the
 *   article cache, a read for the exact size): its header, and its body when
 *   the group's policy (index-policy.ts) is not `none`;
 * - `write`: the crawler's batches, awaited;
 * - `remove`: expired articles.
 * `header` and `article` are queued and written in batches
 * (index-feed-articles.ts).
 *
 * `hold(group)` keeps a group's overview and In-Reply-To writes from starting
 * (they are queued, `pending` and `settled` as usual) until its release, so
 * the first SELECT of a group is answered before the writer thread competes
 * for the CPU (issue 14); a hold ends early when an `overview` with `wait`
 * finds no room (what is held must make it) and on `flush`. A held group's
 * overview batches are kept only while they come to at most
 * FEED_MAX_HELD_RECORDS: past that, the held ones and every later one of the
 * hold are dropped (`onDropped`; the backfill reads them after the release):
 * holding a big group's records through its first SELECT cost the SELECT
 * more than reading them again costs after it. A held batch's `overview`
 * resolves at the release (true) or when it is dropped (false).
 *
 * The index is a cache: a failed write is logged (warn) and forgotten, never
 * thrown to a reader; only `write` (the crawler's) rejects.
 */
import type { Logger } from '../../util/log.js';
import type { OverviewRecord } from '../source.js';
import type { OverviewRecord as SearchOverviewRecord, SearchIndex } from '../../search/index.js';
import type { BodyPolicy } from './index-policy.js';
import { ArticleQueue, type FedArticle } from './index-feed-articles.js';
import { FEED_DRAINED_NOTICE_BYTES, FEED_MAX_HELD_RECORDS, FEED_MAX_OVERVIEW_BYTES } from './limits.js';

export type { FedArticle } from './index-feed-articles.js';

/** Memory of one queued overview record beyond its strings (objects, numbers); strings count two bytes a character. */
const OVERVIEW_RECORD_BYTES = 200;

export interface IndexFeedOptions {
  index: SearchIndex;
  logger: Logger;
  /** Articles per transaction. */
  batch: number;
  /** Bodies of articles bigger than this are not indexed (marked scan-only). */
  maxArticleBytes: number;
  bodies: (group: string) => BodyPolicy;
  /** Overview bytes queued at most (default FEED_MAX_OVERVIEW_BYTES). */
  maxOverviewBytes?: number;
  /** Told when an overview batch of the group was dropped (no room). */
  onDropped?: (group: string) => void;
  /** Told when the overview queue ran empty after holding FEED_DRAINED_NOTICE_BYTES or more (`heldBytes`, now garbage). */
  onDrained?: (heldBytes: number) => void;
}

/** One overview record of an ingest batch, as `overview` takes it. */
export interface OverviewItem {
  uid: number;
  key: string;
  record: OverviewRecord;
  internalDate: number;
}

interface Hold {
  opened: Promise<void>;
  open: () => void;
  stash: { uidValidity: number; items: readonly OverviewItem[]; bytes: number; kept: (yes: boolean) => void }[];
  /** Records given while held (kept or not). */
  records: number;
  /** Past FEED_MAX_HELD_RECORDS: nothing more of this hold is kept. */
  dropping: boolean;
}

export class IndexFeed {
  /** Headers and articles waiting for their batch's write. */
  private readonly articles: ArticleQueue;
  /** The write under way (writes run one after another). */
  private tail: Promise<void> = Promise.resolve();
  /** Overview batches dropped so far (for the log). */
  private droppedOverviews = 0;
  private closed = false;
  /** Bytes of overview records queued or being written, and the ingests waiting for room. */
  private overviewBytes = 0;
  /** Most overview bytes queued at once since the queue was last empty (`onDrained`). */
  private overviewPeak = 0;
  private room: (() => void)[] = [];
  /** Per group: the last overview write queued (writes run in order, so it settles after the others). */
  private readonly groupTail = new Map<string, Promise<void>>();
  /** Per group: how many writes touching it have been committed (see `writes`). */
  private readonly committed = new Map<string, number>();
  /** Per group: held writes wait for `opened`; overview batches wait in `stash`, not even registered (see `hold`). */
  private readonly holds = new Map<string, Hold>();
  /** Per group generation (`uidValidity NUL group`): overview records and In-Reply-To values queued or being written, by UID (see `pending`). */
  private readonly unwritten = new Map<string, { overview: Map<number, SearchOverviewRecord>; inReplyTo: Map<number, string> }>();

  private readonly maxOverview: number;

  constructor(private readonly o: IndexFeedOptions) {
    this.maxOverview = o.maxOverviewBytes ?? FEED_MAX_OVERVIEW_BYTES;
    this.articles = new ArticleQueue(o, {
      serial: (fn) => this.serial(fn),
      bump: (groups) => this.bump(groups),
      failed: (err, group, what) => this.failed(err, group, what),
      closed: () => this.closed,
    });
  }

  get index(): SearchIndex {
    return this.o.index;
  }

  /** The body policy of a group. */
  bodies(group: string): BodyPolicy {
    return this.o.bodies(group);
  }

  /**
   * Holds the group's overview and In-Reply-To writes queued from now on
   * until the returned release is called (idempotent; a hold already in
   * place is shared). See the file comment for when a hold ends early.
   * Overview batches given meanwhile are only stashed: they are made into
   * records (and `pending`) at the release, or as soon as `pending`,
   * `settled` or `inReplyTo` asks about the group.
   */
  hold(group: string): () => void {
    let h = this.holds.get(group);
    if (h === undefined) {
      let open!: () => void;
      const opened = new Promise<void>((res) => (open = res));
      const held: Hold = { opened, stash: [], records: 0, dropping: false, open: () => {
        this.unstash(group);
        if (this.holds.get(group) === held) this.holds.delete(group);
        open();
      } };
      h = held;
      this.holds.set(group, h);
    }
    return h.open;
  }

  /** Queues the overview batches stashed while the group is held (in order; their writes still wait for the release). */
  private unstash(group: string): void {
    const h = this.holds.get(group);
    if (h === undefined || h.stash.length === 0) return;
    const stash = h.stash;
    h.stash = [];
    for (const b of stash) {
      this.queueOverview(group, b.uidValidity, b.items, b.bytes);
      b.kept(true);
    }
  }

  /** The held group's batches are dropped from now on, the stashed ones too (see `hold`). */
  private dropHeld(group: string, h: Hold): void {
    h.dropping = true;
    const stash = h.stash;
    h.stash = [];
    for (const b of stash) {
      this.overviewBytes -= b.bytes;
      b.kept(false);
    }
    if (stash.length > 0) for (const wake of this.room.splice(0)) wake();
    this.o.logger.debug({ group }, 'index: a first look too big to hold, records left for the backfill');
    this.o.onDropped?.(group);
  }

  /**
   * True while the group is held and its hold keeps nothing more (past
   * FEED_MAX_HELD_RECORDS): every batch given until the release is dropped,
   * and the backfill, which starts after the release, brings them all (an
   * ingest need not keep or give them).
   */
  dropsHeld(group: string): boolean {
    return this.holds.get(group)?.dropping === true;
  }

  /** Resolves once the group is not held (at once when it is not). */
  opened(group: string): Promise<void> {
    return this.holds.get(group)?.opened ?? Promise.resolve();
  }

  private releaseAll(): void {
    for (const h of [...this.holds.values()]) h.open();
  }

  /** Runs `fn` once the group is not held. */
  private unheld<T>(group: string, fn: () => Promise<T>): Promise<T> {
    const h = this.holds.get(group);
    return h === undefined ? fn() : h.opened.then(fn);
  }

  /**
   * Overview records of one ingest batch (`items[i].uid` from the UID map;
   * `internalDate`: `parseDate(record.date)`, NaN when none: `pending`
   * hands it on as the parsed date), queued. Resolves true once queued
   * (at once when there is room); when `maxOverviewBytes` are queued, at
   * once false (the batch is dropped, `onDropped` told), or with `wait`
   * true once there is room. A batch of a held group resolves at the
   * release (true) or when dropped (false), see `hold`. A failed write is
   * logged.
   */
  async overview(group: string, uidValidity: number, items: readonly OverviewItem[], opts: { wait?: boolean } = {}): Promise<boolean> {
    if (this.closed || items.length === 0) return true;
    const hold = opts.wait ? undefined : this.holds.get(group);
    if (hold !== undefined) {
      hold.records += items.length;
      if (!hold.dropping && hold.records > FEED_MAX_HELD_RECORDS) this.dropHeld(group, hold);
      if (hold.dropping) {
        this.o.onDropped?.(group);
        return false;
      }
    }
    let bytes = 0;
    const full = !opts.wait && this.overviewBytes >= this.maxOverview; // dropped whatever its size: not even measured
    if (!full) for (const { record: r } of items) bytes += OVERVIEW_RECORD_BYTES + 2 * (r.subject.length + r.from.length + r.date.length + r.messageId.length + r.references.length);
    if (full || (!opts.wait && !this.fits(bytes))) {
      if (this.droppedOverviews++ % 100 === 0) this.o.logger.debug({ group, batches: this.droppedOverviews }, 'index: overview queue full, records left for the backfill');
      this.o.onDropped?.(group);
      return false;
    }
    while (!this.fits(bytes)) {
      this.releaseAll(); // held writes must make the room
      await new Promise<void>((res) => this.room.push(res));
      if (this.closed) return false;
    }
    this.overviewBytes += bytes;
    this.overviewPeak = Math.max(this.overviewPeak, this.overviewBytes);
    const h = this.holds.get(group);
    if (h === undefined || h.dropping) {
      this.queueOverview(group, uidValidity, items, bytes);
      return true;
    }
    return new Promise<boolean>((kept) => h.stash.push({ uidValidity, items, bytes, kept }));
  }

  private fits = (bytes: number): boolean => this.overviewBytes === 0 || this.overviewBytes + bytes <= this.maxOverview;

  /** Resolves once at most half of `maxOverviewBytes` are queued (a backfill feeds then, leaving the ingest room). */
  async roomy(): Promise<void> {
    while (!this.closed && this.overviewBytes > this.maxOverview / 2) await new Promise<void>((res) => this.room.push(res));
  }

  /** Makes a batch into records, `pending` until written, and queues its write (after the group's release). */
  private queueOverview(group: string, uidValidity: number, items: readonly OverviewItem[], bytes: number): void {
    const records = items.map(({ uid, key, record: r, internalDate }) => ({
      mailbox: group,
      uidValidity,
      uid,
      key,
      overview: { subject: r.subject, from: r.from, date: r.date, messageId: r.messageId, references: r.references },
      internalDate: Number.isFinite(internalDate) ? internalDate : 0,
      size: Number.isFinite(r.bytes) && r.bytes >= 0 ? r.bytes : 0,
    }));
    const held = this.held(group, uidValidity).overview;
    for (const r of records) held.set(r.uid, r);
    const done = this.unheld(group, () => this.serial(() => this.o.index.addOverview(records).then(() => this.bump([group]))))
      .catch((err: unknown) => this.failed(err, group, 'overview'))
      .finally(() => {
        for (const r of records) if (held.get(r.uid) === r) held.delete(r.uid);
        this.forget(group, uidValidity);
        this.overviewBytes -= bytes;
        if (this.overviewBytes === 0) this.drained();
        for (const wake of this.room.splice(0)) wake();
        if (this.groupTail.get(group) === done) this.groupTail.delete(group);
      });
    this.groupTail.set(group, done);
  }

  /** The overview queue ran empty: told when it had held FEED_DRAINED_NOTICE_BYTES or more. */
  private drained(): void {
    const peak = this.overviewPeak;
    this.overviewPeak = 0;
    if (peak >= FEED_DRAINED_NOTICE_BYTES && !this.closed) this.o.onDrained?.(peak);
  }

  /** A number that changes whenever a write touching the group was committed (what is indexed may have changed). */
  writes(group: string): number {
    return this.committed.get(group) ?? 0;
  }

  private bump(groups: Iterable<string>): void {
    for (const g of new Set(groups)) this.committed.set(g, (this.committed.get(g) ?? 0) + 1);
  }

  /** Resolves once every overview record queued for the group so far is written (or failed); never rejects. */
  settled(group: string): Promise<void> {
    this.unstash(group);
    return this.groupTail.get(group) ?? Promise.resolve();
  }

  /**
   * In-Reply-To values of a group's members (queued after their overview
   * records, which must be queued already), queued; a failure is logged.
   */
  inReplyTo(group: string, uidValidity: number, items: readonly { uid: number; value: string }[]): void {
    if (this.closed || items.length === 0) return;
    this.unstash(group); // the overview records go first
    const held = this.held(group, uidValidity).inReplyTo;
    for (const { uid, value } of items) held.set(uid, value);
    void this.unheld(group, () => this.serial(() => this.o.index.setInReplyTo(group, uidValidity, items).then(() => undefined)))
      .catch((err: unknown) => this.failed(err, group, 'in-reply-to'))
      .finally(() => {
        for (const { uid, value } of items) if (held.get(uid) === value) held.delete(uid);
        this.forget(group, uidValidity);
      });
  }

  /**
   * What is queued for the group's generation and not written yet: its
   * overview records and In-Reply-To values by UID. Between them and the
   * index every queued UID is found (an entry goes only once its write
   * committed, or failed: then neither holds it). Read synchronously.
   */
  pending(group: string, uidValidity: number): { overview(uid: number): SearchOverviewRecord | undefined; inReplyTo(uid: number): string | undefined } | undefined {
    this.unstash(group);
    const h = this.unwritten.get(`${uidValidity}\0${group}`);
    if (h === undefined) return undefined;
    return { overview: (uid) => h.overview.get(uid), inReplyTo: (uid) => h.inReplyTo.get(uid) };
  }

  private held(group: string, uidValidity: number): { overview: Map<number, SearchOverviewRecord>; inReplyTo: Map<number, string> } {
    const key = `${uidValidity}\0${group}`;
    let h = this.unwritten.get(key);
    if (h === undefined) {
      h = { overview: new Map(), inReplyTo: new Map() };
      this.unwritten.set(key, h);
    }
    return h;
  }

  private forget(group: string, uidValidity: number): void {
    const key = `${uidValidity}\0${group}`;
    const h = this.unwritten.get(key);
    if (h !== undefined && h.overview.size === 0 && h.inReplyTo.size === 0) this.unwritten.delete(key);
  }

  /** A header fetched upstream (`key`: the UID map's Message-ID); queued. */
  header(group: string, uidValidity: number, uid: number, key: string | undefined, header: Buffer, internalDate: number, size: number): void {
    this.articles.enqueue({ group, uidValidity, uid, key, header, internalDate, size });
  }

  /** A whole article read anyway; queued (its body only if the group's policy allows). */
  article(group: string, uidValidity: number, uid: number, key: string | undefined, article: Buffer, internalDate: number): void {
    this.articles.enqueue({ group, uidValidity, uid, key, article, internalDate, size: article.length });
  }

  /** A header block and the body's search text read apart (cached-text.ts); the text replaces a scan-only mark. */
  text(group: string, uidValidity: number, uid: number, key: string | undefined, header: Buffer, text: string, internalDate: number, size: number): void {
    this.articles.enqueue({ group, uidValidity, uid, key, header, text, internalDate, size });
  }

  /** Writes a batch now (after what is queued before it); rejects with the index's error. */
  write(items: readonly FedArticle[]): Promise<void> {
    return this.serial(() => this.articles.commit(items));
  }

  /** Expired articles leave the index (with the documents no other group holds). */
  async remove(group: string, uidValidity: number, uids: readonly number[]): Promise<void> {
    if (this.closed || uids.length === 0) return;
    await this.serial(() => this.o.index.removeMembers(group, uidValidity, uids).then(() => this.bump([group]))).catch((err: unknown) => this.failed(err, group, 'remove'));
  }

  /** Ends every hold and writes what is queued; resolves when every write so far is done. */
  async flush(): Promise<void> {
    this.releaseAll();
    await Promise.all([...this.groupTail.values()]); // held writes join the chain once released
    this.articles.drain();
    await this.tail;
  }

  /** Flushes, then takes nothing more. The owner closes the index afterwards. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const wake of this.room.splice(0)) wake();
  }

  /** Runs `fn` after the writes before it; the chain goes on whatever `fn` does. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.then(() => undefined, () => undefined); // prettier-ignore
    return p;
  }

  private failed(err: unknown, group: string, what: string): void {
    this.o.logger.warn({ group, what, err: (err as Error).message, code: (err as { code?: string }).code }, 'index: write failed (the index answers less until the article is read again)');
  }
}
