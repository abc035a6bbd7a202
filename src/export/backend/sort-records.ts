/**
 * The records SORT and THREAD run on (src/search `MessageRecord`), for UIDs
 * of a group's snapshot, each exactly what a client reading the message
 * would get: INTERNALDATE and RFC822.SIZE as `meta` reports them, header
 * values as the header holds them.
 *
 * Where they come from:
 * - the search index's SORT columns (`sortColumns`), or for a member whose
 *   overview record is still queued for the writer, the same columns made
 *   from that record (`overviewColumns`): exact for a document
 *   with its whole header; one known by its overview only is exact for Date,
 *   Subject, From, Message-ID and References (what OVER carries) — To and Cc
 *   it lacks, and In-Reply-To (which THREAD reads only when References names
 *   no msg-id) unless an NNTP HDR brought it (backend-index.ts); while
 *   those HDR fetches run, such a record is read without it and completed
 *   once they are done (`readRecords`, then `completeRecords`: a first
 *   THREAD prepares meanwhile what does not depend on it, sort-keys.ts);
 * - the header (`meta`: the metadata cache, else HEAD, pipelined) for every
 *   UID the index lacks or cannot give exactly what is needed. Headers read
 *   that way go into the index (reader hooks), so next time they are there.
 * INTERNALDATE: the overview date (the article table), else the header's.
 * RFC822.SIZE (only when a SIZE sort needs it): `reader.knownSize`, else
 * left as the overview size and reported unsettled; `settleSizes` then reads
 * those articles the way FETCH RFC822.SIZE would (their exact size is kept
 * in the metadata store, and their body goes to the index).
 */
import {
  COLUMNS_EXACT, COLUMNS_OVERVIEW, COLUMNS_OVERVIEW_IRT, hasMsgId, headerText, inReplyToColumn, overviewColumns, OverviewMemo,
  type FirstAddress, type MessageRecord, type OverviewFields, type SearchIndex, type SortColumns, type SortField,
} from '../../search/index.js';
import type { GroupReader } from './reader.js';
import type { ViewSnapshot } from './view.js';

/** What a set of keys must hold beyond UID, dates and the overview size. */
export type Need = 'subject' | 'from' | 'to' | 'cc' | 'thread' | 'size';

export interface BuiltRecords {
  records: MessageRecord[];
  /** Positions in `records` whose size is the overview's, not known exact (only with the 'size' need). */
  unsettled: number[];
}

const NO_ADDRESS: FirstAddress = Object.freeze({ mailbox: '', host: '', name: '' });

/** A record's place while it waits for its header (`fromHeaders` fills every one). */
const UNFILLED = null as unknown as MessageRecord;

function fieldsOf(needs: ReadonlySet<Need>): SortField[] {
  const f: SortField[] = ['state', 'date'];
  if (needs.has('subject')) f.push('subject');
  if (needs.has('from')) f.push('from');
  if (needs.has('to')) f.push('to');
  if (needs.has('cc')) f.push('cc');
  if (needs.has('thread')) f.push('messageId', 'references', 'inReplyTo');
  return f;
}

function address(c: SortColumns, field: 'from' | 'to' | 'cc', j: number): FirstAddress {
  const m = c[`${field}Mailbox`]![j]!;
  const h = c[`${field}Host`]![j]!;
  const n = c[`${field}Name`]![j]!;
  return m === '' && h === '' && n === '' ? NO_ADDRESS : { mailbox: m, host: h, name: n };
}

/** INTERNALDATE as `meta` reports it: the overview date, else the header's Date, else the epoch. */
function arrivalOf(tableDate: number, headerDate: number): number {
  return Number.isFinite(tableDate) ? tableDate : Number.isFinite(headerDate) ? headerDate : 0;
}

export interface RecordSource {
  group: string;
  index: SearchIndex;
  reader: GroupReader;
  /**
   * The group's In-Reply-To fetches under way, if any: a THREAD record whose
   * value they bring waits for them (`readRecords` `awaiting`), the others
   * do not.
   */
  inReplyTo?: () => Promise<void> | undefined;
  /**
   * What is queued for the index and not written yet (index-feed.ts
   * `pending`): read in the same synchronous step as the index, so every
   * queued UID is found in one or the other.
   */
  pending?: (uidValidity: number) => PendingLookup | undefined;
}

/** Overview records and In-Reply-To values on their way into the index, by UID. */
export interface PendingLookup {
  /** `internalDate`: the overview date parsed (dates.ts `parseDate`), 0 when it has none (then it is parsed again). */
  overview(uid: number): { overview: OverviewFields; internalDate?: number } | undefined;
  inReplyTo(uid: number): string | undefined;
}

/** One member's SORT/THREAD columns, from the index or from a record not written yet. */
interface Columns {
  state: number;
  date: number;
  subject: string;
  from: FirstAddress;
  to: FirstAddress;
  cc: FirstAddress;
  messageId: string;
  references: string;
  inReplyTo: string;
}

/**
 * Records for `snap.uids[from…]` read at one moment (synchronously) from the
 * index and what is queued for it. A THREAD record whose In-Reply-To is
 * being fetched (`src.inReplyTo`) is complete but for it: it holds '' there
 * and its position is in `awaiting` until `completeRecords` has the value;
 * positions in `unfilled` hold no record yet (their header is read then).
 * Throws SearchIndexError.
 */
export interface RecordsRead {
  from: number;
  needs: ReadonlySet<Need>;
  records: MessageRecord[];
  unfilled: number[];
  awaiting: number[];
  /** The In-Reply-To fetches under way when the records were read (`awaiting` waits for them). */
  wait: Promise<void> | undefined;
}

export function readRecords(src: RecordSource, snap: ViewSnapshot, from: number, needs: ReadonlySet<Need>): RecordsRead {
  const uids = snap.uids;
  const t = snap.table;
  const count = uids.length - from;
  // filled by push: `new Array(n)` beyond ~100k elements would make a slow dictionary array
  const records: MessageRecord[] = [];
  const thread = needs.has('thread');
  // taken before the index is read: a value not there yet comes with one of these fetches, or never
  const wait = thread ? src.inReplyTo?.() : undefined;
  // from here to the end of the loop nothing is awaited: the index and `pending` are read at one moment
  const cols = src.index.sortColumns(src.group, snap.uidValidity, fieldsOf(needs), from > 0 ? uids[from - 1]! : 0);
  const pending = src.pending?.(snap.uidValidity);
  const n = cols.uids.length;
  const unfilled: number[] = [];
  const awaiting: number[] = [];
  const wantSubject = needs.has('subject');
  const wantFrom = needs.has('from');
  const overviewWill = !needs.has('to') && !needs.has('cc');
  const memo = new OverviewMemo();
  const at = (j: number): Columns => ({
    state: cols.state![j]!,
    date: cols.date![j]!,
    subject: wantSubject ? cols.subject![j]! : '',
    from: wantFrom ? address(cols, 'from', j) : NO_ADDRESS,
    to: needs.has('to') ? address(cols, 'to', j) : NO_ADDRESS,
    cc: needs.has('cc') ? address(cols, 'cc', j) : NO_ADDRESS,
    messageId: thread ? cols.messageId![j]! : '',
    references: thread ? cols.references![j]! : '',
    inReplyTo: thread ? cols.inReplyTo![j]! : '',
  });
  const queuedAt = (r: { overview: OverviewFields; internalDate?: number }): Columns => {
    const q = overviewColumns(r.overview, wantFrom, memo, r.internalDate !== undefined && r.internalDate !== 0 ? r.internalDate : undefined);
    return { state: q.state, date: q.date, subject: q.subject, from: q.from, to: NO_ADDRESS, cc: NO_ADDRESS, messageId: q.messageId, references: q.references, inReplyTo: '' };
  };
  let j = 0;
  for (let k = 0; k < count; k++) {
    const row = from + k;
    const uid = uids[row]!;
    records.push(UNFILLED);
    while (j < n && cols.uids[j]! < uid) j++;
    let c: Columns | undefined;
    if (j < n && cols.uids[j] === uid) c = at(j);
    else {
      const queued = pending?.overview(uid);
      if (queued !== undefined) c = queuedAt(queued);
    }
    if (c === undefined) {
      unfilled.push(k);
      continue;
    }
    if (c.state === COLUMNS_OVERVIEW && thread) {
      // In-Reply-To fetched and not written yet
      const v = pending?.inReplyTo(uid);
      const stored = v === undefined ? null : inReplyToColumn(v);
      if (stored !== null) {
        c.state = COLUMNS_OVERVIEW_IRT;
        c.inReplyTo = stored;
      }
    }
    const state = c.state;
    const tableDate = t.dates[row]!;
    const fromOverview = (state === COLUMNS_OVERVIEW || state === COLUMNS_OVERVIEW_IRT) && overviewWill && Number.isFinite(tableDate);
    // RFC 5256 REFERENCES reads In-Reply-To only when References names no msg-id
    const lacksInReplyTo = thread && state === COLUMNS_OVERVIEW && !hasMsgId(c.references);
    if (!(state === COLUMNS_EXACT || (fromOverview && !lacksInReplyTo))) {
      if (fromOverview && wait !== undefined) awaiting.push(k);
      else {
        unfilled.push(k);
        continue;
      }
    }
    records[k] = {
      uid,
      date: c.date,
      arrival: arrivalOf(tableDate, c.date),
      size: Math.max(t.sizes[row]!, 0),
      subject: wantSubject ? c.subject : '',
      subjectDecoded: true,
      from: wantFrom ? c.from : NO_ADDRESS,
      to: c.to,
      cc: c.cc,
      messageId: thread ? c.messageId : '',
      references: thread ? c.references : '',
      inReplyTo: thread ? c.inReplyTo : '',
    };
  }
  return { from, needs, records, unfilled, awaiting, wait };
}

/** `read`'s records completed (in place), and what changed in them since they were read. */
export interface CompletedRecords extends BuiltRecords {
  /** In-Reply-To values that came for `awaiting` positions (the stored form; '' for none). */
  inReplyTo: Map<number, string>;
  /** Positions whose record was read from the header (every `unfilled` one, and `awaiting` ones no value came for). */
  replaced: number[];
}

/**
 * Completes `read`: waits for the In-Reply-To fetches if records await
 * them, then takes their values from what is queued for the index and the
 * index (at one moment); a record no value came for (the fetch failed, or a
 * value the index cannot hold) is read from its header, as every `unfilled`
 * one is. Throws what `meta` throws (upstream unreachable) and
 * SearchIndexError.
 */
export async function completeRecords(src: RecordSource, snap: ViewSnapshot, read: RecordsRead): Promise<CompletedRecords> {
  const { from, records } = read;
  const needHeader = read.unfilled.slice();
  const inReplyTo = new Map<number, string>();
  if (read.awaiting.length > 0) {
    await read.wait;
    for (const [k, v] of lateInReplyTo(src, snap, from, read.awaiting)) {
      if (v === null) needHeader.push(k);
      else {
        inReplyTo.set(k, v);
        if (v !== '') records[k] = { ...records[k]!, inReplyTo: v };
      }
    }
  }
  needHeader.sort((a, b) => a - b);
  if (needHeader.length > 0) await fromHeaders(src, snap, from, needHeader, records);
  const unsettled: number[] = [];
  if (read.needs.has('size')) {
    for (let k = 0; k < records.length; k++) {
      const known = src.reader.knownSize(snap, from + k);
      if (known === undefined) unsettled.push(k);
      else records[k]!.size = known;
    }
  }
  return { records, unsettled, inReplyTo, replaced: needHeader };
}

/**
 * In-Reply-To of the records at `awaiting` (ascending positions) as stored,
 * after their fetches: from what is queued for the index, else from the
 * index (read in the same synchronous step, so a value written meanwhile is
 * in one or the other); null where neither knows it exactly.
 */
function lateInReplyTo(src: RecordSource, snap: ViewSnapshot, from: number, awaiting: readonly number[]): Map<number, string | null> {
  const uids = snap.uids;
  const out = new Map<number, string | null>();
  const pending = src.pending?.(snap.uidValidity);
  const written: number[] = [];
  for (const k of awaiting) {
    const v = pending?.inReplyTo(uids[from + k]!);
    if (v === undefined) written.push(k);
    else out.set(k, inReplyToColumn(v));
  }
  if (written.length === 0) return out;
  const cols = src.index.sortColumns(src.group, snap.uidValidity, ['state', 'inReplyTo'], uids[from + written[0]!]! - 1);
  let j = 0;
  for (const k of written) {
    const uid = uids[from + k]!;
    while (j < cols.uids.length && cols.uids[j]! < uid) j++;
    const state = j < cols.uids.length && cols.uids[j] === uid ? cols.state![j]! : -1;
    out.set(k, state === COLUMNS_OVERVIEW_IRT || state === COLUMNS_EXACT ? cols.inReplyTo![j]! : null);
  }
  return out;
}

/**
 * Records for `snap.uids[from…]` (ascending), with what `needs` asks for
 * (other fields empty): `readRecords` and `completeRecords` in one.
 */
export async function buildRecords(src: RecordSource, snap: ViewSnapshot, from: number, needs: ReadonlySet<Need>): Promise<BuiltRecords> {
  const done = await completeRecords(src, snap, readRecords(src, snap, from, needs));
  return { records: done.records, unsettled: done.unsettled };
}

/** Fills `records[k]` for each `k` of `which` from the article's header (`meta`, pipelined). */
async function fromHeaders(src: RecordSource, snap: ViewSnapshot, from: number, which: number[], records: MessageRecord[]): Promise<void> {
  const uids = snap.uids;
  const pos = new Map<number, number>();
  for (const k of which) pos.set(uids[from + k]!, k);
  for await (const m of src.reader.meta([...pos.keys()], { exactSize: false })) {
    const k = pos.get(m.uid);
    if (k === undefined) continue;
    pos.delete(m.uid);
    const h = headerText(m.header);
    const row = from + k;
    records[k] = {
      uid: m.uid,
      date: h.dateMs,
      arrival: m.internalDate.getTime(),
      size: Math.max(snap.table.sizes[row]!, 0),
      subject: h.sortSubject,
      subjectDecoded: true,
      from: h.fromAddr,
      to: h.toAddr,
      cc: h.ccAddr,
      messageId: h.messageId,
      references: h.references,
      inReplyTo: h.inReplyTo,
    };
  }
  // vanished upstream since the snapshot: sorted as a message with no header (it is about to expire)
  for (const [uid, k] of pos) {
    records[k] = {
      uid, date: NaN, arrival: arrivalOf(snap.table.dates[from + k]!, NaN), size: 0,
      subject: '', subjectDecoded: true, from: NO_ADDRESS, to: NO_ADDRESS, cc: NO_ADDRESS, messageId: '', references: '', inReplyTo: '',
    };
  }
}

/**
 * Exact sizes for `records[k]`, `k` in `which`, read as FETCH RFC822.SIZE
 * reads them (`meta` with exact sizes). Returns the new records by position.
 */
export async function settleSizes(reader: GroupReader, records: readonly MessageRecord[], which: readonly number[]): Promise<Map<number, MessageRecord>> {
  const pos = new Map<number, number>();
  for (const k of which) pos.set(records[k]!.uid, k);
  const out = new Map<number, MessageRecord>();
  for await (const m of reader.meta([...pos.keys()], { exactSize: true })) {
    const k = pos.get(m.uid);
    if (k !== undefined) out.set(k, { ...records[k]!, size: m.size });
  }
  return out;
}
