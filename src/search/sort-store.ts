/**
 * SORT and THREAD answers of whole mailboxes kept in the search database
 * (`sort_store`, db.ts v3), so the first SORT (DATE), SORT (SUBJECT) or
 * THREAD after a restart reads an answer instead of deriving the keys of
 * every member (issue 14: 151 / 307 / 448 ms on 100k members, and ~47 MB of
 * keys held afterwards).
 *
 * Written by the writer thread (worker.ts, through `SortStoreRefresher`)
 * once a mailbox's writes have been quiet for a while: it reads the SORT
 * columns of every member, runs the same algorithms the server runs
 * (sort.ts, thread.ts) and stores, per mailbox generation (`mbid`):
 * - `uids`: the members (ascending) the answers are for, the sent dates
 *   that fell back to INTERNALDATE (record index and the INTERNALDATE used),
 *   and the mailbox version they were computed at;
 * - `order:…`: whole-mailbox SORT orders as member indices (`STORED_ORDERS`);
 * - `thread:…`: whole-mailbox forests, packed (thread.ts `PackedForest`).
 *
 * An answer is stored only when the columns alone give it exactly, as
 * sort-records.ts would read them: no member flagged inexact (it would be
 * read from its header), and for THREAD no member known by its overview
 * only whose References names no msg-id while its In-Reply-To is unknown.
 *
 * Validity (`SortStoreReader`): a row is used only when its version is the
 * mailbox's current version (it moves whenever membership changes:
 * articles added, expired or cancelled, writer.ts `logVersion`), the
 * caller's UID list is exactly the stored one, and every member's
 * INTERNALDATE is known and equal to what was used for the sent dates that
 * fell back to it. A new UIDVALIDITY is a new mailbox generation (another
 * `mbid`), and dropping a generation deletes its rows. In-place upgrades
 * (overview → whole header, In-Reply-To learned) move no version: they
 * change nothing an exact answer read, and they mark the mailbox for a new
 * computation (what was not exact may be now).
 */
import type { Db } from './db.js';
import { readSortColumns, COLUMNS_INEXACT, COLUMNS_OVERVIEW } from './index-columns.js';
import { MessageKeys, type MessageRecord } from './keys.js';
import { hasMsgId } from './msgid.js';
import { sortOrder, type SortCriterion } from './sort.js';
import { packForest, threadMessages, type PackedForest, type ThreadAlgorithm } from './thread.js';
import type { FirstAddress } from './text.js';

/** Bumped when what a row holds changes meaning (older rows are then ignored and replaced). */
export const SORT_STORE_FORMAT = 1;

/** Whole-mailbox SORT orders computed ahead (criteria names as `sortOrderName` makes them). */
export const STORED_ORDERS: readonly (readonly SortCriterion[])[] = [
  [{ key: 'DATE' }],
  [{ key: 'DATE', reverse: true }],
  [{ key: 'SUBJECT' }],
];

/** Whole-mailbox THREAD answers computed ahead. */
export const STORED_THREADS: readonly ThreadAlgorithm[] = ['REFERENCES', 'ORDEREDSUBJECT', 'REFS'];

/** The name of the row holding the UID order of `criteria` (`SORT (REVERSE DATE)` → `order:-DATE`). */
export function sortOrderName(criteria: readonly SortCriterion[]): string {
  return `order:${criteria.map((c) => (c.reverse ? '-' : '') + c.key).join(' ')}`;
}

export function threadName(algorithm: ThreadAlgorithm): string {
  return `thread:${algorithm}`;
}

const NO_ADDRESS: FirstAddress = Object.freeze({ mailbox: '', host: '', name: '' });

type Stmt = (sql: string) => ReturnType<Db['prepare']>;

function bytesOf(a: Uint32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A copy of `b` as `n` 32-bit words (a Buffer from the driver need not be aligned). */
function words(b: Uint8Array, from: number, n: number): Uint32Array {
  const out = new Uint32Array(n);
  new Uint8Array(out.buffer).set(b.subarray(from, from + n * 4));
  return out;
}

function doubles(b: Uint8Array, from: number, n: number): Float64Array {
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(b.subarray(from, from + n * 8));
  return out;
}

/** What the `uids` row says: the members, and the INTERNALDATEs sent dates fell back to. */
export interface StoredMembers {
  uids: Uint32Array;
  /** Record indices whose Date was missing or unparsable, ascending … */
  fallbackAt: Uint32Array;
  /** … and the INTERNALDATE each used (ms). */
  fallbackDate: Float64Array;
}

function encodeMembers(m: StoredMembers): Buffer {
  const head = new Uint32Array([m.uids.length, m.fallbackAt.length]);
  return Buffer.concat([bytesOf(head), bytesOf(m.uids), bytesOf(m.fallbackAt), bytesOf(m.fallbackDate)]);
}

function decodeMembers(b: Uint8Array): StoredMembers | undefined {
  if (b.byteLength < 8) return undefined;
  const [n, f] = words(b, 0, 2) as unknown as [number, number];
  if (b.byteLength !== 8 + 4 * n + 12 * f) return undefined;
  return { uids: words(b, 8, n), fallbackAt: words(b, 8 + 4 * n, f), fallbackDate: doubles(b, 8 + 4 * n + 4 * f, f) };
}

function encodeForest(p: PackedForest): Buffer {
  return Buffer.concat([bytesOf(p.uids), bytesOf(p.kids)]);
}

function decodeForest(b: Uint8Array): PackedForest | undefined {
  if (b.byteLength % 8 !== 0) return undefined;
  const n = b.byteLength / 8;
  return { uids: words(b, 0, n), kids: words(b, 4 * n, n) };
}

/** What the writer stores for one mailbox generation (`computeSortStore`). */
export interface SortStoreRows {
  members: StoredMembers;
  /** Row name → member indices in order. */
  orders: Map<string, Uint32Array>;
  /** Row name → packed forest. */
  forests: Map<string, PackedForest>;
}

/**
 * The answers the columns of mailbox generation `mbid` give exactly (see
 * the file comment); undefined when no answer can be stored (a member
 * flagged inexact, or no member).
 */
export function computeSortStore(stmt: Stmt, mbid: number): SortStoreRows | undefined {
  const c = readSortColumns(stmt, mbid, ['state', 'date', 'arrival', 'subject', 'messageId', 'references', 'inReplyTo'], 0);
  const n = c.uids.length;
  if (n === 0) return undefined;
  const records: MessageRecord[] = [];
  const fallbackAt: number[] = [];
  const fallbackDate: number[] = [];
  let threadExact = true;
  for (let i = 0; i < n; i++) {
    const state = c.state![i]!;
    if (state === COLUMNS_INEXACT) return undefined;
    // sort-records.ts reads such a member's header (its In-Reply-To may name its parent)
    if (state === COLUMNS_OVERVIEW && threadExact && !hasMsgId(c.references![i]!)) threadExact = false;
    const date = c.date![i]!;
    const arrival = c.arrival![i]!;
    if (!Number.isFinite(date)) {
      fallbackAt.push(i);
      fallbackDate.push(arrival);
    }
    records.push({
      uid: c.uids[i]!, date, arrival, size: 0, subject: c.subject![i]!, subjectDecoded: true,
      from: NO_ADDRESS, to: NO_ADDRESS, cc: NO_ADDRESS,
      messageId: c.messageId![i]!, references: c.references![i]!, inReplyTo: c.inReplyTo![i]!,
    });
  }
  const keys = new MessageKeys(records);
  records.length = 0;
  const orders = new Map<string, Uint32Array>();
  for (const criteria of STORED_ORDERS) {
    orders.set(sortOrderName(criteria), sortOrder(keys, criteria));
  }
  const forests = new Map<string, PackedForest>();
  for (const algorithm of STORED_THREADS) {
    if (algorithm !== 'ORDEREDSUBJECT' && !threadExact) continue;
    forests.set(threadName(algorithm), packForest(threadMessages(keys, algorithm)));
  }
  return { members: { uids: c.uids, fallbackAt: Uint32Array.from(fallbackAt), fallbackDate: Float64Array.from(fallbackDate) }, orders, forests };
}

/**
 * Replaces the stored answers of `mbid` with `rows`, stamped with `version`;
 * with none, an empty `uids` row only says they were looked at for that
 * version (a restart does not compute them again: `SortStoreRefresher.catchUp`).
 * The caller runs it inside a transaction.
 */
export function writeSortStore(db: Db, mbid: number, version: number, rows: SortStoreRows | undefined): void {
  db.prepare('DELETE FROM sort_store WHERE mbid = ?').run([mbid]);
  const put = db.prepare('INSERT INTO sort_store (mbid, name, version, format, data) VALUES (?, ?, ?, ?, ?)');
  put.run([mbid, 'uids', version, SORT_STORE_FORMAT, rows === undefined ? Buffer.alloc(0) : encodeMembers(rows.members)]);
  if (rows === undefined) return;
  for (const [name, order] of rows.orders) put.run([mbid, name, version, SORT_STORE_FORMAT, bytesOf(order)]);
  for (const [name, forest] of rows.forests) put.run([mbid, name, version, SORT_STORE_FORMAT, encodeForest(forest)]);
}

/** A stored row as read: its version and bytes (undefined: none of the current format). */
function readRow(stmt: Stmt, mbid: number, name: string): { version: number; data: Uint8Array } | undefined {
  const row = stmt('SELECT version, data FROM sort_store WHERE mbid = ? AND name = ? AND format = ?').get([mbid, name, SORT_STORE_FORMAT]) as
    | [number, Uint8Array]
    | undefined;
  return row === undefined ? undefined : { version: row[0], data: row[1] };
}

/** The members row of `mbid` if it was computed at `version`. */
export function readStoredMembers(stmt: Stmt, mbid: number, version: number): StoredMembers | undefined {
  const row = readRow(stmt, mbid, 'uids');
  if (row === undefined || row.version !== version) return undefined;
  return decodeMembers(row.data);
}

/** The stored order (member indices) under `name` (`sortOrderName`) computed at `version`, of `n` members. */
export function readStoredOrder(stmt: Stmt, mbid: number, version: number, name: string, n: number): Uint32Array | undefined {
  const row = readRow(stmt, mbid, name);
  if (row === undefined || row.version !== version || row.data.byteLength !== 4 * n) return undefined;
  return words(row.data, 0, n);
}

/** The stored forest under `name` (`threadName`) computed at `version`. */
export function readStoredForest(stmt: Stmt, mbid: number, version: number, name: string): PackedForest | undefined {
  const row = readRow(stmt, mbid, name);
  if (row === undefined || row.version !== version) return undefined;
  return decodeForest(row.data);
}

/**
 * The stored answers of one mailbox generation at its current version, as
 * a reader found them (`IndexReader.storedAnswers`); each answer is read
 * when first asked for and kept (a few bytes a member: a repeated command
 * reads nothing; the caller drops this object when the version moves). `members` holds the UIDs they are for: the caller
 * uses them only for exactly that list of UIDs, and checks the INTERNALDATEs
 * (`fallbackAt` / `fallbackDate`).
 */
export class StoredAnswers {
  private readonly read = new Map<string, Uint32Array | PackedForest | undefined>();

  constructor(
    private readonly stmt: Stmt,
    private readonly mbid: number,
    readonly version: number,
    readonly members: StoredMembers,
  ) {}

  /** Indices of every member (in `members.uids`) in the order of `criteria`; undefined when not stored (or stale). */
  order(criteria: readonly SortCriterion[]): Uint32Array | undefined {
    const name = sortOrderName(criteria);
    if (!this.read.has(name)) this.read.set(name, readStoredOrder(this.stmt, this.mbid, this.version, name, this.members.uids.length));
    return this.read.get(name) as Uint32Array | undefined;
  }

  /** The forest of every member by `algorithm`; undefined when not stored (or stale). */
  forest(algorithm: ThreadAlgorithm): PackedForest | undefined {
    const name = threadName(algorithm);
    if (!this.read.has(name)) this.read.set(name, readStoredForest(this.stmt, this.mbid, this.version, name));
    return this.read.get(name) as PackedForest | undefined;
  }
}

/** The stored answers of `mbid` if they were computed at `version` (the mailbox's current one). */
export function storedAnswers(stmt: Stmt, mbid: number, version: number): StoredAnswers | undefined {
  const members = readStoredMembers(stmt, mbid, version);
  return members === undefined ? undefined : new StoredAnswers(stmt, mbid, version, members);
}
