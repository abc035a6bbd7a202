/**
 * Reads of the search database: substring matches (IMAP SEARCH, RFC 9051
 * §6.4.4; the SQL and its exactness argument are match-sql.ts's), coverage,
 * versions; the SORT/THREAD columns come from index-columns.ts.
 */
import { BodyState, HeaderFlags, type Db } from './db.js';
import { minusUids, unionUids } from '../util/sorted.js';
import { readSortColumns, type SortColumns, type SortField } from './index-columns.js';
import { MatchCache } from './match-cache.js';
import { storedAnswers, type StoredAnswers } from './sort-store.js';
import { flaggedMembersSql, headerLinesMatch, matchPlan, type SearchTerm } from './match-sql.js';

export type { SortColumns, SortField } from './index-columns.js';
export type { SearchField, SearchTerm } from './match-sql.js';

export interface MatchResult {
  /** UIDs known to match every term, ascending. */
  uids: Uint32Array;
  /** UIDs the index cannot decide (some term needs a scan of the article), ascending. */
  unindexed: Uint32Array;
}

const EMPTY = new Uint32Array(0);

/** The UIDs a query selects, as one comma-separated string (one row for SQLite to hand over instead of one per UID). */
const concatSql = (sql: string): string => `SELECT group_concat(uid) FROM (${sql})`;

/** `warm`: the fields of the common searches, and a needle of the common shape (3+ code points, no white space). */
const WARM_FIELDS = ['subject', 'from', 'to', 'cc', 'body', 'text'] as const;
const WARM_NEEDLE = 'warm';

/** Parses `group_concat` output of non-negative integers into a sorted Uint32Array. */
function uidList(s: string | null): Uint32Array {
  if (s === null || s === '') return EMPTY;
  const parts = s.split(',');
  const out = new Uint32Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number(parts[i]);
  return out.sort();
}

export class IndexReader {
  private readonly mbidStmt;
  private readonly cache = new Map<string, ReturnType<Db['prepare']>>();
  /** Answers of `match` kept while the database is unchanged (match-cache.ts). */
  private readonly kept = new MatchCache<MatchResult>();
  private readonly dataVersion;
  private ownWrites = 0;

  /** The caller owns `db` and closes it after this reader. */
  constructor(private readonly db: Db) {
    this.mbidStmt = db.prepare('SELECT mbid FROM mailboxes WHERE name = ? AND uid_validity = ?').raw();
    this.dataVersion = db.prepare('PRAGMA data_version').raw();
  }

  private stmt(sql: string): ReturnType<Db['prepare']> {
    let s = this.cache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql).raw();
      if (this.cache.size > 200) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }

  /** The mailbox generation's id, or undefined when nothing of it is indexed. */
  mbid(mailbox: string, uidValidity: number): number | undefined {
    return (this.mbidStmt.get([mailbox, uidValidity]) as [number] | undefined)?.[0];
  }

  private uids(sql: string, args: unknown[]): Uint32Array {
    const row = this.stmt(concatSql(sql)).get(args) as [string | null];
    return uidList(row[0]);
  }

  /**
   * The mailbox's current version, and the lowest UID added after version
   * `since` (undefined: nothing was added). A caller holding SORT columns of
   * version `since` up to UID u extends them with `sortColumns(…, u)` when
   * `lowestUid > u`, and reloads them otherwise.
   */
  changesSince(mailbox: string, uidValidity: number, since: number): { version: number; lowestUid: number | undefined } {
    const row = this.stmt(
      `SELECT x.version, (SELECT min(l.min_uid) FROM mailbox_log l WHERE l.mbid = x.mbid AND l.version > ?)
       FROM mailboxes x WHERE x.name = ? AND x.uid_validity = ?`,
    ).get([since, mailbox, uidValidity]) as [number, number | null] | undefined;
    if (row === undefined) return { version: 0, lowestUid: undefined };
    return { version: row[0], lowestUid: row[1] ?? undefined };
  }

  /** The mailbox's stored SORT/THREAD answers at its current version (sort-store.ts); undefined when there are none. */
  storedAnswers(mailbox: string, uidValidity: number): StoredAnswers | undefined {
    const row = this.stmt('SELECT mbid, version FROM mailboxes WHERE name = ? AND uid_validity = ?').get([mailbox, uidValidity]) as [number, number] | undefined;
    return row === undefined ? undefined : storedAnswers((sql) => this.stmt(sql), row[0], row[1]);
  }

  /** UIDs of the mailbox whose headers are indexed (members), ascending. */
  indexedUids(mailbox: string, uidValidity: number): Uint32Array {
    const mbid = this.mbid(mailbox, uidValidity);
    if (mbid === undefined) return EMPTY;
    return this.uids('SELECT uid FROM members WHERE mbid = ?', [mbid]);
  }

  /**
   * Members whose body is not indexed yet (the indexer's to-do list, and what
   * BODY must scan), ascending, with UID > `afterUid` (a crawler going up
   * the mailbox does not walk again what it did).
   */
  missingBodies(mailbox: string, uidValidity: number, limit = 0xffffffff, afterUid = 0): Uint32Array {
    const mbid = this.mbid(mailbox, uidValidity);
    if (mbid === undefined) return EMPTY;
    return this.uids(
      `SELECT m.uid AS uid FROM members m JOIN docs d ON d.docid = m.docid
       WHERE m.mbid = ? AND m.uid > ? AND d.body_state = ${BodyState.Missing} ORDER BY m.uid LIMIT ?`,
      [mbid, afterUid, limit],
    );
  }

  /** Members (headers indexed) and how many of their bodies are indexed. */
  coverage(mailbox: string, uidValidity: number): { members: number; bodies: number } {
    const mbid = this.mbid(mailbox, uidValidity);
    if (mbid === undefined) return { members: 0, bodies: 0 };
    const row = this.stmt(
      `SELECT count(*), coalesce(sum(d.body_state <> ${BodyState.Missing}), 0) FROM members m JOIN docs d ON d.docid = m.docid WHERE m.mbid = ?`,
    ).get([mbid]) as [number, number];
    return { members: row[0], bodies: row[1] };
  }

  /**
   * Members matching every term (AND), as the scan would answer, plus those
   * the index cannot decide. With no term: every member. UIDs outside
   * `indexedUids` are not mentioned at all: the caller scans them too.
   * The same question asked again with the database unchanged gets the kept
   * answer (match-cache.ts): the arrays are shared, do not modify them.
   */
  match(mailbox: string, uidValidity: number, terms: readonly SearchTerm[]): MatchResult {
    const mbid = this.mbid(mailbox, uidValidity);
    if (mbid === undefined) return { uids: EMPTY, unindexed: EMPTY };
    const stamp = `${(this.dataVersion.get([]) as [number])[0]}:${this.ownWrites}`;
    return this.kept.answer(`${mbid}\n${JSON.stringify(terms.map((t) => [t.field, t.needle]))}`, stamp, () => this.matchNow(mbid, terms));
  }

  /** The reading connection itself was written to (an inline writer): kept answers are stale. */
  wrote = (): void => void this.ownWrites++;

  private matchNow(mbid: number, terms: readonly SearchTerm[]): MatchResult {
    const p = matchPlan(mbid, terms);
    let unindexed = p.unindexed === null ? EMPTY : this.uids(p.unindexed.sql, p.unindexed.args);
    let hits: Uint32Array;
    if (p.confirm.length === 0) {
      hits = this.uids(p.hits.sql, p.hits.args);
    } else {
      const rows = this.stmt(p.hits.sql).all(p.hits.args) as [number, string | null][];
      const ok = rows.filter(([, all]) => all !== null && p.confirm.every((c) => headerLinesMatch(all, c.name, c.needle))).map(([uid]) => uid);
      hits = Uint32Array.from(ok).sort();
    }
    let uids = unindexed.length === 0 ? hits : minusUids(hits, unindexed);
    if (p.confirmPartial && uids.length > 0) {
      const partial = this.uids(flaggedMembersSql(HeaderFlags.Partial), [mbid]);
      const unsure = minusUids(uids, minusUids(uids, partial));
      if (unsure.length > 0) {
        uids = minusUids(uids, unsure);
        unindexed = unionUids(unindexed, unsure);
      }
    }
    return { uids, unindexed };
  }

  /**
   * Prepares the statements of the common searches (one word in SUBJECT,
   * FROM, TO, CC, BODY or TEXT), so the first such search after the index
   * is opened does not pay for it (SQLite compiles each statement, and the
   * first statement on an FTS5 table loads the table's configuration).
   * Reads nothing of the mailboxes; SearchIndex.open calls it.
   */
  warm(): void {
    for (const field of WARM_FIELDS) {
      const p = matchPlan(0, [{ field, needle: WARM_NEEDLE }]);
      if (p.unindexed !== null) this.stmt(concatSql(p.unindexed.sql));
      this.stmt(p.confirm.length === 0 ? concatSql(p.hits.sql) : p.hits.sql);
    }
  }

  /** Statements prepared and kept (for tests: `warm` leaves nothing for the first search to prepare). */
  get preparedStatements(): number {
    return this.cache.size;
  }

  /**
   * Every mailbox generation with its members (headers indexed) and bodies
   * indexed (or marked scan-only), and the number of documents (an article
   * crossposted to several groups is one document). One pass over the members.
   */
  summary(): { mailboxes: { name: string; uidValidity: number; headers: number; bodies: number }[]; documents: number } {
    const rows = this.stmt(
      `SELECT x.name, x.uid_validity, count(d.docid), coalesce(sum(d.body_state <> ${BodyState.Missing}), 0)
       FROM mailboxes x LEFT JOIN members m ON m.mbid = x.mbid LEFT JOIN docs d ON d.docid = m.docid
       GROUP BY x.mbid ORDER BY x.name, x.uid_validity`,
    ).all([]) as [string, number, number, number][];
    const [documents] = this.stmt('SELECT count(*) FROM docs').get([]) as [number];
    return { mailboxes: rows.map(([name, uidValidity, headers, bodies]) => ({ name, uidValidity, headers, bodies })), documents };
  }

  mailboxes(): { name: string; uidValidity: number }[] {
    return (this.stmt('SELECT name, uid_validity FROM mailboxes ORDER BY name, uid_validity').all([]) as [string, number][]).map(([name, uidValidity]) => ({ name, uidValidity }));
  }

  /**
   * The asked-for SORT/THREAD columns of the members with UID > `sinceUid`,
   * ascending UID (a caller caching a mailbox's columns asks for the new tail).
   */
  sortColumns(mailbox: string, uidValidity: number, fields: readonly SortField[], sinceUid = 0): SortColumns {
    return readSortColumns((sql) => this.stmt(sql), this.mbid(mailbox, uidValidity), fields, sinceUid);
  }
}
