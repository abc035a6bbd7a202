/**
 * The search database: one SQLite file per data directory (`<data>/search.db`),
 * opened through libsql (the better-sqlite3 API, FTS5 built in).
 *
 * Layout (see DESIGN.md "Search"):
 * - `mailboxes(mbid, name, uid_validity, version)`: a mailbox generation, and
 *   `mailbox_log` the lowest UID each of its versions added (SORT caches);
 * - `docs`: one row per article, keyed by Message-ID (or the caller's key for
 *   it: the UID map's), so a crossposted article is one document found in
 *   every group it belongs to; holds what SORT and THREAD need (not folded,
 *   the header's Message-ID in `hdr_msgid`) and the state of its body;
 * - `members(mbid, uid, docid)`: where each document sits; a document no
 *   member refers to any more (its articles expired) is deleted with its text;
 * - `sort_store`: SORT/THREAD answers of whole mailboxes (sort-store.ts);
 * - `headers` / `bodies`: the folded text (text.ts) the FTS tables index and
 *   the short-needle scan reads; `headers_fts`, `alltext_fts` and `bodies_fts` are
 *   trigram FTS5 tables over them (external content, case-sensitive because
 *   the text is folded already).
 *
 * Why two detail levels: positions (`detail=full`) make a trigram phrase an
 * exact substring test and keep a common word fast (BODY/SUBJECT), at about
 * 2 KB per article for bodies; the whole-header text (TEXT and rare HEADER
 * fields) is long and rarely searched, so `alltext_fts` keeps no positions
 * (`detail=none`, a fifth of the size) and its candidates are confirmed with
 * `instr` in SQL.
 *
 * Connections: WAL, so the reader on the main thread keeps reading while the
 * writer (a worker thread, writer.ts) commits; `synchronous=NORMAL` (a commit
 * survives a killed process; an OS crash may lose the last commits but never
 * leaves a half batch). Opening migrates an older schema or refuses a newer one.
 */
import Database from 'libsql';
import { SearchIndexError } from './errors.js';

export type Db = InstanceType<typeof Database>;

/** Schema version (PRAGMA user_version). Bump with a migration step below. */
export const SCHEMA_VERSION = 3;

/** Bytes the WAL file is cut back to after a checkpoint. */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** Waiting for the other connection's lock (a checkpoint, the writer's commit): milliseconds. */
const BUSY_TIMEOUT_MS = 10_000;

/** Body states in `docs.body_state`. */
export const enum BodyState {
  /** Not indexed yet: the caller scans the article. */
  Missing = 0,
  /** `bodies` holds the folded text. */
  Indexed = 1,
  /** Cannot be stored exactly (a lone surrogate or NUL after decoding, writer.ts `storable`): always scanned. */
  ScanOnly = 2,
}

/** Bits of `docs.hdr_flags` (0: a whole header, every column exact: the common case once indexed). */
export const enum HeaderFlags {
  /** A decoded header value holds '\n': a needle with '\n' cannot be answered from the joined text. */
  Newline = 1,
  /** The header text cannot be stored (writer.ts `storable`): every header needle is scanned. */
  NotWellFormed = 2,
  /**
   * Only the overview is known (writer.ts `addOverview`): Subject and From as
   * OVER gave them, no To, Cc, other fields or In-Reply-To. A whole header
   * replaces it (an upgrade in place).
   */
  Partial = 4,
  /** With Partial: the overview Subject is not known to equal the header's (text.ts `overviewValueExact`). */
  SubjectUnknown = 8,
  /** With Partial: the same for From. */
  FromUnknown = 16,
  /**
   * The SORT/THREAD columns are not exact (a value held NUL or U+0001, which
   * the columns cannot carry, or an overview value that is not exact): the
   * caller reads the header instead.
   */
  SortInexact = 32,
  /** With Partial: In-Reply-To is known (writer.ts `setInReplyTo`; '' for none). */
  InReplyToKnown = 64,
}

const TRIGRAM = "tokenize='trigram case_sensitive 1'";

const SCHEMA_V1 = `
CREATE TABLE mailboxes (
  mbid INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  uid_validity INTEGER NOT NULL,
  -- one step per addHeaders batch that touched the mailbox
  version INTEGER NOT NULL DEFAULT 0,
  UNIQUE (name, uid_validity)
);
-- The lowest UID each version added: a reader holding SORT columns of version v
-- learns whether the members since then only extend them (all UIDs above its last).
CREATE TABLE mailbox_log (
  mbid INTEGER NOT NULL,
  version INTEGER NOT NULL,
  min_uid INTEGER NOT NULL,
  PRIMARY KEY (mbid, version)
) WITHOUT ROWID;
CREATE TABLE docs (
  docid INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  date_ms INTEGER,
  arrival_ms INTEGER NOT NULL,
  size INTEGER NOT NULL,
  subject TEXT NOT NULL,
  from_mailbox TEXT NOT NULL, from_host TEXT NOT NULL, from_name TEXT NOT NULL,
  to_mailbox TEXT NOT NULL, to_host TEXT NOT NULL, to_name TEXT NOT NULL,
  cc_mailbox TEXT NOT NULL, cc_host TEXT NOT NULL, cc_name TEXT NOT NULL,
  refs TEXT NOT NULL,
  in_reply_to TEXT NOT NULL,
  hdr_flags INTEGER NOT NULL,
  body_state INTEGER NOT NULL DEFAULT 0
);
-- What the index cannot answer is found through these (nearly empty once indexing is done).
CREATE INDEX docs_body_missing ON docs (body_state) WHERE body_state <> 1;
CREATE INDEX docs_hdr_flagged ON docs (hdr_flags) WHERE hdr_flags <> 0;
CREATE TABLE members (
  mbid INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  docid INTEGER NOT NULL,
  PRIMARY KEY (mbid, uid)
) WITHOUT ROWID;
CREATE INDEX members_docid ON members (docid);
CREATE TABLE headers (
  docid INTEGER PRIMARY KEY,
  subject TEXT, hfrom TEXT, hto TEXT, hcc TEXT,
  alltext TEXT NOT NULL
);
CREATE VIRTUAL TABLE headers_fts USING fts5 (
  subject, hfrom, hto, hcc,
  content='headers', content_rowid='docid', ${TRIGRAM}, detail=full
);
CREATE VIRTUAL TABLE alltext_fts USING fts5 (
  alltext,
  content='headers', content_rowid='docid', ${TRIGRAM}, detail=none
);
CREATE TABLE bodies (
  docid INTEGER PRIMARY KEY,
  text TEXT NOT NULL
);
CREATE VIRTUAL TABLE bodies_fts USING fts5 (
  text,
  content='bodies', content_rowid='docid', ${TRIGRAM}, detail=full
);
`;

/**
 * v2: a document's key (`message_id`) may be the caller's identity of the
 * article (the UID map's Message-ID: distinct for two archive messages that
 * share one); the header's own Message-ID, which THREAD reads, gets a column.
 */
const SCHEMA_V2 = `
ALTER TABLE docs ADD COLUMN hdr_msgid TEXT NOT NULL DEFAULT '';
UPDATE docs SET hdr_msgid = message_id WHERE substr(message_id, 1, 1) <> ' ';
`;

/**
 * v3: whole-mailbox SORT/THREAD answers computed ahead by the writer thread
 * (sort-store.ts: what `data` holds per `name`, how `version` validates it).
 */
const SCHEMA_V3 = `
CREATE TABLE sort_store (
  mbid INTEGER NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  format INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (mbid, name)
) WITHOUT ROWID;
`;

/** Steps from version i to i + 1 (index 0: the empty file). */
const MIGRATIONS: readonly string[] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3];

/**
 * A reading connection maps this much of the file instead of reading pages
 * through its 2 MB page cache: the trigram doclists of one BODY search span
 * hundreds of pages, each a pread otherwise (BODY of a rare word on the 100k
 * benchmark group, server CPU: ~10–20% less). Mapped pages are the kernel's
 * page cache (Pss_File), not process memory.
 */
const READER_MMAP_BYTES = 1 << 30;

/**
 * Opens (creating or migrating) the database at `path`. The caller owns the
 * connection and closes it. Throws SearchIndexError: OPEN_FAILED (not a
 * database, no FTS5 trigram), NEWER_SCHEMA (written by a newer newsfront).
 */
export function openDb(path: string, opts: { readonly?: boolean } = {}): Db {
  let db: Db;
  try {
    db = new Database(path);
  } catch (err) {
    throw new SearchIndexError('OPEN_FAILED', `cannot open ${path}`, { cause: err });
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    // a checkpoint leaves the WAL at most this long: a crawl's batches would otherwise keep it at its high-water mark
    db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}`);
    if (opts.readonly) db.exec(`PRAGMA mmap_size = ${READER_MMAP_BYTES}`);
    // Readers do not write: the schema is the writer's business.
    if (!opts.readonly) migrate(db, path);
    else checkVersion(db, path);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof SearchIndexError) throw err;
    throw new SearchIndexError('OPEN_FAILED', `cannot open ${path}`, { cause: err });
  }
}

function userVersion(db: Db): number {
  return (db.prepare('PRAGMA user_version').raw().get() as [number])[0];
}

function checkVersion(db: Db, path: string): number {
  const v = userVersion(db);
  if (v > SCHEMA_VERSION) throw new SearchIndexError('NEWER_SCHEMA', `${path} has schema ${v}, this newsfront knows ${SCHEMA_VERSION}`);
  return v;
}

function migrate(db: Db, path: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    let v = checkVersion(db, path);
    for (; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
