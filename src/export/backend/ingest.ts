/**
 * Ingest: overview records of an article-number range → UIDs from the UID map
 * → rows of an article table. Only what later listings need is kept (number,
 * overview size, parsed date); Message-IDs live in the UID map only.
 *
 * Records go to `uidmap.assign` in batches of INGEST_BATCH (one write
 * transaction each, in order; the next batch is read while one is
 * committed, and with a map whose calls may overlap (`pipelined`) up to
 * ASSIGN_AHEAD batches are handed over before the first is stored); from the group's primary upstream a first-seen article
 * gets UID = its article number (DESIGN invariant 2). A Message-ID seen
 * again (duplicate in one group) keeps its first UID and adds no row.
 *
 * The Message-ID handed to the UID map is `uidMapMessageId` (../message-id.ts),
 * the rule shared with the eager ingest of src/app/ingest.ts: a record without
 * a storable Message-ID gets a synthetic one, so it is still listed. It is
 * checked there once: a batch is a `CheckedArticles`, which `assign` does not
 * check again.
 *
 * With `index`, each batch's overview records (and their UIDs) are handed
 * to it (search index feed, index-feed.ts: it queues them, bounded in
 * memory, and the writer thread catches up; past the bound it drops them
 * at once and index-backfill.ts reads them again); the next batch is read
 * meanwhile.
 *
 * Throws whatever the source or the UID map throws; the caller maps it.
 * Progress of big ranges is logged at info every INGEST_PROGRESS_MS.
 */
import type { Logger } from '../../util/log.js';
import type { OverviewRecord, Source } from '../source.js';
import { CheckedArticles, type MailboxUidMap } from '../../uidmap/index.js';
import { uidMapMessageId } from '../message-id.js';
import { parseDate } from './dates.js';
import { ASSIGN_AHEAD, INGEST_BATCH, INGEST_PROGRESS_MS } from './limits.js';
import type { TableBuilder } from './table.js';

/** One overview record of an ingest batch, for the search index. */
export interface IngestItem {
  uid: number;
  key: string;
  record: OverviewRecord;
  internalDate: number;
}

export interface IngestTarget {
  source: Source;
  uidmap: MailboxUidMap;
  group: string;
  /** Upstream id recorded as the articles' location. */
  upstream: string;
  /** Whether `source` is the group's primary upstream (first-sight UID rule). */
  primary: boolean;
  logger: Logger;
  /** Told of each crossposted article (Xref naming two or more groups). */
  onCrosspost?: (messageId: string, groups: string[]) => void;
  /**
   * Given each batch's records with their UIDs and UID map keys (and
   * INTERNALDATE: the parsed overview date, NaN when none), and the source
   * they came from; awaited.
   */
  index?: (items: IngestItem[], source: Source) => Promise<void>;
  /**
   * Asked at each batch's start: false when `index` would drop the batch
   * and needs no word of it (a first look too big to hold, index-feed.ts
   * `dropsHeld`): its records are neither kept nor given (kept, they lived
   * until the batch's UIDs came back: young collections copied them).
   */
  indexWants?: () => boolean;
}

/** Group names of an Xref value `host group:number ...`. */
export function xrefGroups(xref: string | undefined): string[] {
  if (!xref) return [];
  const out: string[] = [];
  for (const tok of xref.trim().split(/\s+/).slice(1)) {
    const colon = tok.lastIndexOf(':');
    if (colon > 0 && !out.includes(tok.slice(0, colon))) out.push(tok.slice(0, colon));
  }
  return out;
}

/** False when an Xref value has fewer than two `group:number` tokens (the common case, told without splitting it). */
function mayNameTwoGroups(xref: string): boolean {
  const first = xref.indexOf(':');
  return first >= 0 && xref.indexOf(':', first + 1) >= 0;
}

export interface IngestResult {
  /** Records read. */
  records: number;
  /** Highest article number seen (0 when none). */
  highest: number;
}

/**
 * Reads overview [low, high] into `out`. `total` (an estimate, for progress
 * logs) may be the GROUP count.
 */
export async function ingestRange(t: IngestTarget, low: number, high: number, out: TableBuilder, total: number): Promise<IngestResult> {
  const started = Date.now();
  let lastLog = started;
  let records = 0;
  let highest = 0;
  let batch = new CheckedArticles(t.upstream, t.group);
  let sizes: number[] = [];
  let dates: number[] = [];
  let overviews: OverviewRecord[] = [];
  /** Whether this batch's records go to `index` (see `indexWants`). */
  let keep = t.index !== undefined && (t.indexWants?.() ?? true);
  let indexing: Promise<void> = Promise.resolve();
  /**
   * The batches handed to the UID map and not yet in the table, oldest
   * first: each waits for the one before it, so rows and index batches stay
   * in order and the first failure is rethrown by every later one.
   */
  const assigning: Promise<void>[] = [];
  const pipelined = t.uidmap.pipelined;
  const ahead = pipelined !== undefined ? ASSIGN_AHEAD : 1;
  const failures = pipelined?.failures() ?? 0;

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const seen = batch;
    const sz = sizes;
    const dt = dates;
    const ov = keep ? overviews : null;
    batch = new CheckedArticles(t.upstream, t.group);
    sizes = [];
    dates = [];
    overviews = [];
    keep = t.index !== undefined && (t.indexWants?.() ?? true);
    while (assigning.length >= ahead) await assigning.shift(); // rethrows an earlier batch's failure
    // No later batch may take UIDs while an earlier one has none: after a
    // failure (told at once by the map) the ingest stops at the failed batch.
    if (pipelined !== undefined && pipelined.failures() !== failures) {
      while (assigning.length > 0) await assigning.shift();
    }
    const planned = t.uidmap.assign(seen, t.primary);
    planned.catch(() => undefined); // observed below, in order
    const before = assigning[assigning.length - 1];
    const done = (async () => {
      await before;
      const uids = await planned;
      const arts = seen.articles;
      for (let i = 0; i < uids.length; i++) out.push(uids[i]!, arts[i]!.number, sz[i]!, dt[i]!);
      if (t.index !== undefined && ov !== null) {
        const items = ov.map((record, i) => ({ uid: uids[i]!, key: arts[i]!.messageId, record, internalDate: dt[i]! }));
        await indexing; // handed over in order
        indexing = t.index(items, t.source);
      }
    })();
    done.catch(() => undefined); // awaited by a later flush or at the end
    assigning.push(done);
    const now = Date.now();
    if (now - lastLog >= INGEST_PROGRESS_MS) {
      lastLog = now;
      const rate = Math.round(records / ((now - started) / 1000));
      t.logger.info({ group: t.group, indexed: records, total, rate }, 'backend: indexing group');
    }
  };

  /** Takes one record into the batch; true when the batch is full. */
  const take = (r: OverviewRecord): boolean => {
    if (r.number < low || r.number > high || r.number <= highest) return false; // out of order or range: ignore
    records++;
    highest = r.number;
    const messageId = uidMapMessageId(t.group, r);
    batch.add(messageId, r.number);
    if (t.onCrosspost && r.xref && mayNameTwoGroups(r.xref)) {
      const groups = xrefGroups(r.xref);
      if (groups.length > 1) t.onCrosspost(messageId, groups);
    }
    sizes.push(Number.isFinite(r.bytes) && r.bytes >= 0 ? r.bytes : -1);
    dates.push(parseDate(r.date));
    if (keep) overviews.push(r);
    return batch.length >= INGEST_BATCH;
  };

  if (t.source.overviewBatches !== undefined) {
    // a batch at a time: no step of an async iteration per record
    for await (const rs of t.source.overviewBatches(t.group, low, high)) {
      for (let i = 0; i < rs.length; i++) if (take(rs[i]!)) await flush();
    }
  } else {
    for await (const r of t.source.overview(t.group, low, high)) if (take(r)) await flush();
  }
  await flush();
  while (assigning.length > 0) await assigning.shift();
  await indexing;
  const ms = Date.now() - started;
  if (ms >= INGEST_PROGRESS_MS) {
    t.logger.info({ group: t.group, indexed: records, ms, rate: Math.round(records / (ms / 1000)) }, 'backend: group indexed');
  }
  return { records, highest };
}
