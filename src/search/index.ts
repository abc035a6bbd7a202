/**
 * The door of `src/search/`: the search index (DESIGN.md "Search": SQLite FTS5
 * storage engine) and the SORT/THREAD algorithms (RFC 5256, RFC 5957, THREAD=REFS)
 * over per-group MessageKeys (keys.ts).
 *
 *   const index = await SearchIndex.open(join(dataDir, 'search.db'));
 *   await index.addOverview([{ mailbox, uidValidity, uid, overview, internalDate, size }, …]); // at ingest (OVER)
 *   await index.addHeaders([{ mailbox, uidValidity, uid, header, internalDate, size }, …]);   // whole header: upgrades
 *   await index.addBodies([{ mailbox, uidValidity, uid, article }, …]);
 *   const { uids, unindexed } = index.match(mailbox, uidValidity, [{ field: 'body', needle: 'nntp' }]);
 *   // answer = uids ∪ (unindexed and the uids never added, each scanned with the same key)
 *   await index.close();
 *
 * Contract:
 * - answers equal the scan of src/imap/commands/search.ts (fold = NFC +
 *   toLowerCase, substring) for every UID in `uids`/outside `unindexed`;
 * - reads are synchronous on the calling thread (a rare word: well under
 *   10 ms on 100k articles; see bench/search-index.ts); writes go to a worker
 *   thread with a connection of its own (WAL: reads go on meanwhile) and
 *   resolve when their batch is committed; a batch is one transaction, so after
 *   a crash `indexedUids` / `missingBodies` tell where to resume;
 * - one SearchIndex per file per process; close() it once. Errors are
 *   SearchIndexError with a stable code; the index is a cache, so any error
 *   can be answered by scanning instead.
 */
import { Worker } from 'node:worker_threads';
import { openDb, type Db } from './db.js';
import { SearchIndexError } from './errors.js';
import { IndexReader, type MatchResult, type SearchField, type SearchTerm, type SortColumns, type SortField } from './query.js';
import { IndexWriter, type BodyRecord, type BodyResult, type HeaderRecord, type OverviewRecord } from './writer.js';
import type { WorkerReply, WorkerRequest } from './worker.js';

export { SearchIndexError, type SearchIndexErrorCode } from './errors.js';
export type { BodyRecord, BodyResult, HeaderRecord, MatchResult, OverviewRecord, SearchField, SearchTerm, SortColumns, SortField };
export { COLUMNS_EXACT, COLUMNS_INEXACT, COLUMNS_OVERVIEW, COLUMNS_OVERVIEW_IRT } from './index-columns.js';
export { overviewValueExact, type OverviewFields } from './overview-text.js';
export { overviewColumns, inReplyToColumn, OverviewMemo, type OverviewColumns } from './doc-row.js';
export { hasMsgId } from './msgid.js';
export { overviewDoc, overviewMatcher, type OverviewAnswer, type OverviewDoc } from './overview-match.js';
export { MessageKeys, sentDate, type MessageRecord } from './keys.js';
export { baseSubject, type BaseSubject } from './base-subject.js';
export { sortOrder, sortComparator, SORT_KEYS, type SortKey, type SortCriterion } from './sort.js';
import type { StoredAnswers } from './sort-store.js';
export { StoredAnswers, type StoredMembers } from './sort-store.js';
import { diskBytes, type IndexSummary } from './summary.js';
export type { IndexSummary } from './summary.js';
export { prepareThread, threadMessages, threadPacked, unpackForest, type PackedForest, THREAD_ALGORITHMS, type ThreadAlgorithm, type ThreadNode } from './thread.js';
export { bodyText, fold, headerText, MAX_SEARCH_BODY, type FirstAddress, type HeaderText } from './text.js';

export interface SearchIndexOptions {
  /**
   * Where writes run: 'worker' (default) a worker thread, so indexing never
   * blocks the event loop for a batch (~0.2 s per 1,000 bodies); 'inline' on
   * the calling thread (tests, one-shot tools).
   */
  writer?: 'worker' | 'inline';
}

/** Writes, wherever they run. */
interface WriteSide {
  addHeaders(records: readonly HeaderRecord[]): Promise<number>;
  addOverview(records: readonly OverviewRecord[]): Promise<number>;
  addBodies(records: readonly BodyRecord[]): Promise<BodyResult>;
  removeMembers(mailbox: string, uidValidity: number, uids: readonly number[]): Promise<number>;
  setInReplyTo(mailbox: string, uidValidity: number, items: readonly { uid: number; value: string }[]): Promise<number>;
  dropMailbox(mailbox: string, uidValidity: number): Promise<void>;
  close(): Promise<void>;
}

/** Writes on the reading connection itself; each tells the reader, whose kept answers `data_version` would not invalidate. */
class InlineWriter implements WriteSide {
  private readonly w: IndexWriter;
  constructor(
    private readonly db: Db,
    private readonly reader: IndexReader,
  ) {
    this.w = new IndexWriter(db);
  }
  private wrote<T>(v: T): T {
    this.reader.wrote();
    return v;
  }
  async addHeaders(records: readonly HeaderRecord[]): Promise<number> {
    return this.wrote(this.w.addHeaders(records));
  }
  async addOverview(records: readonly OverviewRecord[]): Promise<number> {
    return this.wrote(this.w.addOverview(records));
  }
  async addBodies(records: readonly BodyRecord[]): Promise<BodyResult> {
    return this.wrote(this.w.addBodies(records));
  }
  async removeMembers(mailbox: string, uidValidity: number, uids: readonly number[]): Promise<number> {
    return this.wrote(this.w.removeMembers(mailbox, uidValidity, uids));
  }
  async setInReplyTo(mailbox: string, uidValidity: number, items: readonly { uid: number; value: string }[]): Promise<number> {
    return this.wrote(this.w.setInReplyTo(mailbox, uidValidity, items));
  }
  async dropMailbox(mailbox: string, uidValidity: number): Promise<void> {
    this.wrote(this.w.dropMailbox(mailbox, uidValidity));
  }
  async close(): Promise<void> {
    this.db.close();
  }
}

/** The writer thread's young generation, MB: V8's default committed 33.6 MB of new space for batches promoted or dropped whole (writer heap at its largest 78 → 53 MB with 12). */
/* A process-wide --max-semi-space-size overrides it: with the launchers' 8 MiB (bench/server.ts NODE_FLAGS) this thread may grow to 2 × 8 MiB while it writes. */
const WRITER_YOUNG_GENERATION_MB = 12;

/** The worker's entry: worker.js beside this file, or worker.ts through tsx when running from source. */
function startWorker(path: string): Worker {
  const here = import.meta.url;
  const resourceLimits = { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB };
  if (here.endsWith('.js')) return new Worker(new URL('./worker.js', here), { workerData: { path }, resourceLimits });
  // From source (tests, benchmarks run in the repository): tsx, a dev dependency, loads the TypeScript.
  const entry = new URL('./worker.ts', here).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: { path }, resourceLimits });
}

class WorkerWriter implements WriteSide {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WorkerReply) => {
      if (!('id' in m)) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new SearchIndexError(m.code as SearchIndexError['code'], m.message));
    });
    const fail = (err: Error): void => {
      this.dead ??= new SearchIndexError('STORAGE', 'search index writer stopped', { cause: err });
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`writer thread exited (${code})`)));
  }

  /** Resolves once the worker has opened (and migrated) the database. */
  static start(path: string): Promise<WorkerWriter> {
    const worker = startWorker(path);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new SearchIndexError('OPEN_FAILED', 'search index writer failed to start', { cause: err }));
      worker.once('error', onError);
      worker.once('message', (m: WorkerReply) => {
        worker.off('error', onError);
        if ('ready' in m && m.ready) resolve(new WorkerWriter(worker));
        else {
          const e = m as { code: string; message: string };
          void worker.terminate();
          reject(new SearchIndexError(e.code as SearchIndexError['code'], e.message));
        }
      });
    });
  }

  private call<T>(op: WorkerRequest['op'], ...args: unknown[]): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args } satisfies WorkerRequest);
    });
  }

  addHeaders(records: readonly HeaderRecord[]): Promise<number> {
    return this.call('addHeaders', records);
  }
  addOverview(records: readonly OverviewRecord[]): Promise<number> {
    return this.call('addOverview', records);
  }
  addBodies(records: readonly BodyRecord[]): Promise<BodyResult> {
    return this.call('addBodies', records);
  }
  removeMembers(mailbox: string, uidValidity: number, uids: readonly number[]): Promise<number> {
    return this.call('removeMembers', mailbox, uidValidity, uids);
  }
  setInReplyTo(mailbox: string, uidValidity: number, items: readonly { uid: number; value: string }[]): Promise<number> {
    return this.call('setInReplyTo', mailbox, uidValidity, items);
  }
  dropMailbox(mailbox: string, uidValidity: number): Promise<void> {
    return this.call('dropMailbox', mailbox, uidValidity);
  }
  async close(): Promise<void> {
    if (!this.dead) await this.call('close').catch(() => undefined);
    await this.worker.terminate();
  }
}

export class SearchIndex {
  private closed = false;

  private constructor(
    /** The index file. */
    readonly path: string,
    private readonly db: Db,
    private readonly reader: IndexReader,
    private readonly writer: WriteSide,
  ) {}

  /**
   * Opens (creating or migrating) the index file. Throws SearchIndexError
   * OPEN_FAILED or NEWER_SCHEMA (delete the file: the index is rebuilt).
   */
  static async open(path: string, opts: SearchIndexOptions = {}): Promise<SearchIndex> {
    if (opts.writer === 'inline') {
      const db = openDb(path);
      const reader = new IndexReader(db);
      reader.warm();
      return new SearchIndex(path, db, reader, new InlineWriter(db, reader));
    }
    // The writer creates or migrates the schema first; the reader then only checks it.
    const writer = await WorkerWriter.start(path);
    try {
      const db = openDb(path, { readonly: true });
      const reader = new IndexReader(db);
      reader.warm(); // the first search of each common kind finds its statements ready
      return new SearchIndex(path, db, reader, writer);
    } catch (err) {
      await writer.close();
      throw err;
    }
  }

  /**
   * The summary of the index file at `path` without opening it for writing
   * (a running server may hold it meanwhile: WAL lets both read). Throws
   * SearchIndexError OPEN_FAILED (no such file, not a database) or NEWER_SCHEMA.
   */
  static inspect(path: string): IndexSummary {
    if (diskBytes(path) === 0) throw new SearchIndexError('OPEN_FAILED', `no search index at ${path}`);
    const db = openDb(path, { readonly: true });
    try {
      return { path, bytes: diskBytes(path), ...new IndexReader(db).summary() };
    } catch (err) {
      throw err instanceof SearchIndexError ? err : new SearchIndexError('OPEN_FAILED', `cannot read ${path}`, { cause: err });
    } finally {
      db.close();
    }
  }

  /** See IndexSummary; one pass over the members (tens of ms per 100k). */
  summary(): IndexSummary {
    this.check();
    return { path: this.path, bytes: diskBytes(this.path), ...this.reader.summary() };
  }

  private check(): void {
    if (this.closed) throw new SearchIndexError('CLOSED', 'search index is closed');
  }

  /**
   * Adds members with their headers, one transaction for the batch (keep
   * batches around 1,000). Resolves to the number of new documents.
   */
  async addHeaders(records: readonly HeaderRecord[]): Promise<number> {
    this.check();
    return this.writer.addHeaders(records);
  }

  /**
   * Adds members known by their overview records only (SUBJECT/FROM searchable,
   * the rest left to the scan until `addHeaders` brings the whole header),
   * one transaction for the batch. Resolves to the number of new documents.
   */
  async addOverview(records: readonly OverviewRecord[]): Promise<number> {
    this.check();
    return this.writer.addOverview(records);
  }

  /** Stores bodies of members added before, one transaction for the batch. */
  async addBodies(records: readonly BodyRecord[]): Promise<BodyResult> {
    this.check();
    return this.writer.addBodies(records);
  }

  /** Removes members (expired articles) and the documents no member holds any more. */
  async removeMembers(mailbox: string, uidValidity: number, uids: readonly number[]): Promise<number> {
    this.check();
    return this.writer.removeMembers(mailbox, uidValidity, uids);
  }

  /**
   * In-Reply-To of members known by their overview only ('' for none), which
   * THREAD needs where References names no msg-id; see IndexWriter.setInReplyTo.
   */
  async setInReplyTo(mailbox: string, uidValidity: number, items: readonly { uid: number; value: string }[]): Promise<number> {
    this.check();
    return this.writer.setInReplyTo(mailbox, uidValidity, items);
  }

  /** Every mailbox generation the index holds (a crawler resumes from these). */
  mailboxes(): { name: string; uidValidity: number }[] {
    this.check();
    return this.reader.mailboxes();
  }

  /** Forgets a mailbox generation (UIDVALIDITY changed). */
  async dropMailbox(mailbox: string, uidValidity: number): Promise<void> {
    this.check();
    return this.writer.dropMailbox(mailbox, uidValidity);
  }

  /** Statements the reader keeps prepared (see IndexReader.warm). */
  get preparedStatements(): number {
    return this.reader.preparedStatements;
  }

  /** Members matching every term; see IndexReader.match. */
  match(mailbox: string, uidValidity: number, terms: readonly SearchTerm[]): MatchResult {
    this.check();
    return this.reader.match(mailbox, uidValidity, terms);
  }

  /** HEADER / SUBJECT / FROM / TO / CC needle (one term). */
  matchHeader(mailbox: string, uidValidity: number, field: 'subject' | 'from' | 'to' | 'cc' | { header: string }, needle: string): MatchResult {
    return this.match(mailbox, uidValidity, [{ field, needle }]);
  }

  /** BODY needle, or TEXT needle (header or body) with `{ text: true }`. */
  matchBody(mailbox: string, uidValidity: number, needle: string, opts: { text?: boolean } = {}): MatchResult {
    return this.match(mailbox, uidValidity, [{ field: opts.text ? 'text' : 'body', needle }]);
  }

  /**
   * The mailbox's version (one step per header batch) and the lowest UID added
   * after version `since`; see IndexReader.changesSince. With it a SORT/THREAD
   * layer keeps a mailbox's columns and fetches only the new tail.
   */
  changesSince(mailbox: string, uidValidity: number, since: number): { version: number; lowestUid: number | undefined } {
    this.check();
    return this.reader.changesSince(mailbox, uidValidity, since);
  }

  /** UIDs with headers indexed, ascending. */
  indexedUids(mailbox: string, uidValidity: number): Uint32Array {
    this.check();
    return this.reader.indexedUids(mailbox, uidValidity);
  }

  /** UIDs with headers but no body indexed yet, ascending (at most `limit`, above `afterUid`). */
  missingBodies(mailbox: string, uidValidity: number, limit?: number, afterUid?: number): Uint32Array {
    this.check();
    return this.reader.missingBodies(mailbox, uidValidity, limit, afterUid);
  }

  /** How much of a mailbox is indexed (for RFC 9585 INPROGRESS-style progress). */
  coverage(mailbox: string, uidValidity: number): { members: number; bodies: number } {
    this.check();
    return this.reader.coverage(mailbox, uidValidity);
  }

  /**
   * The asked-for SORT/THREAD columns of the indexed members with UID >
   * `sinceUid`, ascending UID. Columns of a mailbox only grow at the end, so a
   * caller may keep them and ask for the tail.
   */
  sortColumns(mailbox: string, uidValidity: number, fields: readonly SortField[], sinceUid = 0): SortColumns {
    this.check();
    return this.reader.sortColumns(mailbox, uidValidity, fields, sinceUid);
  }

  /** Whole-mailbox SORT/THREAD answers stored at its current version, for exactly their `members` (sort-store.ts). */
  storedAnswers(mailbox: string, uidValidity: number): StoredAnswers | undefined {
    this.check();
    return this.reader.storedAnswers(mailbox, uidValidity);
  }

  /** Waits for the pending writes, then closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    if (this.writer instanceof WorkerWriter) this.db.close();
  }
}
