/**
 * One shared, live view of one group (invariant 7): every session that has the
 * group selected holds a handle on the same view. The view owns the current
 * snapshot — its article table and the carrier (source) whose article numbers
 * the table holds — and moves it forward on `refresh()`:
 *
 * - new articles (GROUP `high` grew): the new range is ingested and a new
 *   snapshot published; sessions on the old one keep it until they move;
 * - expired articles (GROUP `low` rose, or fewer articles than listed, or
 *   `fullCheckMs` passed — cancels do not show in GROUP): the present numbers
 *   are listed (`articleNumbers`), the missing rows dropped and their UIDs
 *   removed from the UID map (they are never reused);
 * - another carrier serving the group (failover, see carrier.ts): the group is
 *   read again from it; known Message-IDs keep their UIDs, so the snapshot
 *   changes only by what that carrier lacks or has in addition.
 *
 * Refreshes of one view never overlap: a refresh asked for while one runs
 * joins it. Listeners are called after the new snapshot is in place; a
 * listener that throws is logged and ignored. `refresh()` throws the raw
 * upstream error; the backend decides whether a session sees it (it does not:
 * polling errors are logged only).
 */
import type { Logger } from '../../util/log.js';
import type { MailboxSnapshot } from '../interface.js';
import type { GroupInfo } from '../source.js';
import type { MailboxUidMap } from '../../uidmap/index.js';
import type { Carrier, Carriers } from './carrier.js';
import { ingestRange, type IngestTarget } from './ingest.js';
import { REMOVE_BATCH, SAVE_VIEW_MS } from './limits.js';
import type { SavedView } from './table-codec.js';
import { EMPTY_TABLE, TableBuilder, withoutUids, type ArticleTable } from './table.js';

export interface ViewSnapshot extends MailboxSnapshot {
  readonly table: ArticleTable;
  /** The source the table's article numbers belong to (null only before the first look). */
  readonly carrier: Carrier | null;
}

export interface ViewOptions {
  carriers: Carriers;
  uidmap: MailboxUidMap;
  group: string;
  logger: Logger;
  /**
   * Every this often a refresh lists the present article numbers even when
   * GROUP shows no change: INN leaves GROUP's low and count unchanged after a
   * cancel (measured, INN 2.7), so only LISTGROUP reveals cancelled articles.
   */
  fullCheckMs: number;
  /** The table saved by an earlier run (see table-codec.ts), used when its UIDVALIDITY and carrier still hold. */
  saved?: SavedView;
  /** Told of crossposted articles met while ingesting. */
  onCrosspost?: (messageId: string, groups: string[]) => void;
  /** Told the article numbers (of `carrier`) that expired, so their cached metadata can go, and their UIDs. */
  onExpired?: (carrier: Carrier, numbers: number[], uids: number[]) => void;
  /** Given each ingest batch's overview records with their UIDs (the search index); awaited (ingest.ts). */
  index?: IngestTarget['index'];
  /** See IngestTarget `indexWants`. */
  indexWants?: IngestTarget['indexWants'];
  /** Saves the table (throttled to SAVE_VIEW_MS; always on `save()`). */
  save?: (v: SavedView) => Promise<void>;
}

export class MailboxView {
  readonly group: string;
  /** Open handles; the backend keeps idle views (refs 0) in a small LRU. */
  refs = 0;
  private snap: ViewSnapshot;
  /** Highest article number ingested (of the snapshot's carrier). */
  private high = 0;
  /** Lowest article number the carrier reported at the last look. */
  private low = 0;
  private readonly listeners = new Set<(s: MailboxSnapshot) => void>();
  private running: Promise<ViewSnapshot> | null = null;
  /** A full look asked for and not started yet (later askers join it). */
  private fullNext: Promise<ViewSnapshot> | null = null;
  /** The next update lists the present article numbers whatever `fullCheckMs` says. */
  private fullWanted = false;
  private sizeSum: number | undefined;
  private lastFullCheck = Date.now();
  /** The table changed since it was last saved. */
  private dirty = false;
  private savedAt = 0;

  private constructor(private readonly o: ViewOptions) {
    this.group = o.group;
    this.snap = this.makeSnapshot(EMPTY_TABLE, null);
  }

  /**
   * Creates the view. With a usable saved table it starts from that and looks
   * upstream for changes since (a failure there is logged: the saved snapshot
   * is served); otherwise it ingests the whole group and throws the source's /
   * UID map's errors, and saves the table in a later event turn.
   */
  static async create(o: ViewOptions): Promise<MailboxView> {
    const v = new MailboxView(o);
    const saved = o.saved;
    const carrier = saved === undefined ? undefined : await o.carriers.find(o.group, saved.carrier);
    if (saved !== undefined && carrier !== undefined && saved.uidValidity === o.uidmap.uidValidity) {
      v.publish(saved.table, carrier);
      v.high = saved.high;
      v.low = saved.low;
      v.lastFullCheck = 0; // cancels while we were away show only in LISTGROUP
      try {
        await v.refresh();
      } catch (err) {
        o.logger.warn({ group: o.group, err: (err as Error).message }, 'backend: upstream check failed; serving the saved view');
      }
      return v;
    }
    // Saved after the opener is answered, not by this first look (issue 14:
    // its commit was the opener's wait): the saved table only spares a later
    // run the ingest (the UID map, not it, keeps the UIDs).
    v.savedAt = Date.now();
    await v.refresh();
    setImmediate(() => {
      v.save().catch((err: unknown) => o.logger.warn({ group: o.group, err: (err as Error).message }, 'backend: saving the view failed'));
    });
    return v;
  }

  /** Saves the table if it changed since the last save. */
  async save(): Promise<void> {
    const c = this.snap.carrier;
    if (!this.dirty || this.o.save === undefined || c === null) return;
    this.dirty = false;
    this.savedAt = Date.now();
    await this.o.save({ uidValidity: this.snap.uidValidity, carrier: c.id, high: this.high, low: this.low, table: this.snap.table });
  }

  current(): ViewSnapshot {
    return this.snap;
  }

  /** Sum of overview sizes of the current snapshot (articles of unknown size count 0). */
  totalSize(): number {
    if (this.sizeSum === undefined) {
      let s = 0;
      for (const b of this.snap.table.sizes) if (b > 0) s += b;
      this.sizeSum = s;
    }
    return this.sizeSum;
  }

  subscribe(fn: (s: MailboxSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Looks upstream for new and expired articles; resolves with the (possibly new) snapshot.
   * `full`: also list the present article numbers (cancels), in a look that
   * starts after this call — not one already under way, which may predate it.
   */
  refresh(opts: { full?: boolean } = {}): Promise<ViewSnapshot> {
    if (opts.full) {
      this.fullNext ??= (this.running ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => {
          this.fullNext = null;
          this.fullWanted = true;
          return this.refresh();
        });
      return this.fullNext;
    }
    this.running ??= this.look().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async look(): Promise<ViewSnapshot> {
    const before = this.snap;
    await this.o.carriers.serve(this.group, (c) => (this.snap.carrier?.id === c.id ? this.update(c) : this.rebuild(c)));
    if (this.snap !== before) {
      this.notify();
      if (Date.now() - this.savedAt >= SAVE_VIEW_MS) await this.save();
    }
    return this.snap;
  }

  /** Reads the whole group from carrier `c` into a new table (first look, or another carrier now serves). */
  private async rebuild(c: Carrier): Promise<void> {
    const info = await c.source.groupInfo(this.group);
    const b = new TableBuilder(EMPTY_TABLE, Math.max(1024, Math.min(info.count + 16, 1 << 20))); // no doublings on the way (GROUP's count is an estimate)
    let high = 0;
    if (info.count > 0 && info.low <= info.high) {
      const r = await ingestRange(this.target(c), info.low, info.high, b, info.count);
      high = Math.max(r.highest, info.high);
    }
    if (this.snap.carrier !== null) {
      this.o.logger.warn({ group: this.group, from: this.snap.carrier.id, to: c.id, articles: b.length }, 'backend: group re-read from another source');
    }
    this.high = high;
    this.low = info.low;
    this.lastFullCheck = Date.now();
    this.publish(b.build(), c);
  }

  /** One look at the snapshot's own carrier: expiry, then new articles. */
  private async update(c: Carrier): Promise<void> {
    const info = await c.source.groupInfo(this.group);
    const empty = info.count === 0 || info.low > info.high;
    const rows = this.snap.table.uids.length;
    const due = this.fullWanted || Date.now() - this.lastFullCheck >= this.o.fullCheckMs;
    this.fullWanted = false;
    if (rows > 0 && (empty || due || info.low > this.low || info.count < rows)) {
      await this.expire(c, info, empty);
      this.lastFullCheck = Date.now();
    }
    this.low = info.low;
    if (!empty && info.high > this.high) await this.grow(c, info);
  }

  /** Ingests (this.high, info.high] and publishes a new snapshot when rows were added. */
  private async grow(c: Carrier, info: GroupInfo): Promise<void> {
    const from = Math.max(this.high + 1, info.low);
    if (from > info.high) return;
    const base = this.snap.table;
    const b = new TableBuilder(base, base.uids.length + Math.max(16, Math.min(info.high - from + 1, 1 << 20)));
    const r = await ingestRange(this.target(c), from, info.high, b, info.count);
    this.high = Math.max(this.high, r.highest, info.high);
    if (b.length !== base.uids.length) {
      this.publish(b.build(), c);
    } else if (this.o.uidmap.uidNext() !== this.snap.uidNext) this.publish(base, c);
  }

  /** Drops rows whose article is no longer listed upstream. */
  private async expire(c: Carrier, info: GroupInfo, empty: boolean): Promise<void> {
    const t = this.snap.table;
    const present = empty ? new Set<number>() : new Set(await c.source.articleNumbers(this.group, info.low, info.high));
    const drop = new Set<number>();
    const gone: number[] = [];
    for (let i = 0; i < t.uids.length; i++) {
      const n = t.numbers[i]!;
      if (n > this.high) continue;
      if (!present.has(n)) {
        drop.add(t.uids[i]!);
        gone.push(n);
      }
    }
    if (drop.size === 0) return;
    const list = [...drop];
    for (let i = 0; i < list.length; i += REMOVE_BATCH) await this.o.uidmap.remove(list.slice(i, i + REMOVE_BATCH));
    this.o.logger.info({ group: this.group, expired: drop.size }, 'backend: articles expired');
    this.o.onExpired?.(c, gone, list);
    this.publish(withoutUids(t, drop), c);
  }

  private target(c: Carrier) {
    return {
      source: c.source, uidmap: this.o.uidmap, group: this.group, upstream: c.id, primary: c.primary, logger: this.o.logger,
      onCrosspost: this.o.onCrosspost,
      index: this.o.index,
      indexWants: this.o.indexWants,
    };
  }

  private publish(table: ArticleTable, carrier: Carrier): void {
    this.snap = this.makeSnapshot(table, carrier);
    this.sizeSum = undefined;
    this.dirty = true;
  }

  private makeSnapshot(table: ArticleTable, carrier: Carrier | null): ViewSnapshot {
    return Object.freeze({
      uidValidity: this.o.uidmap.uidValidity,
      uidNext: Math.max(this.o.uidmap.uidNext(), 1),
      uids: table.uids,
      table,
      carrier,
    });
  }

  private notify(): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(this.snap);
      } catch (err) {
        this.o.logger.warn({ group: this.group, err: (err as Error).message }, 'backend: snapshot listener failed');
      }
    }
  }
}
