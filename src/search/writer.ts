/**
 * Writes to the search database: overview records, header records and
 * bodies, one transaction per batch (a killed process leaves whole batches or
 * nothing; `members` and `docs.body_state` then tell what is indexed, so
 * indexing resumes there).
 *
 * Runs wherever its connection lives: in the writer worker (worker.ts) in
 * production, inline for tests and tools. Synchronous; a batch of 1,000
 * bodies takes ~0.2 s of CPU (MIME decode + FTS insert), which is why the
 * server runs it off the main thread.
 *
 * A mailbox's version (query.ts `changesSince`) moves with its membership:
 * a batch that adds members (or points a UID at another document) logs the
 * lowest UID it added; a removal logs 0 (whatever a reader kept is stale).
 * Upgrading a document in place (overview → whole header) or adding a body
 * leaves versions alone: what SORT reads of a document is exact either way,
 * or flagged for the reader to fetch (db.ts HeaderFlags).
 */
import { BodyState, HeaderFlags, type Db } from './db.js';
import { headerRow, inReplyToColumn, overviewRow, sortText, storable, type DocRow } from './doc-row.js';
import { SearchIndexError } from './errors.js';
import type { OverviewFields } from './overview-text.js';
import { bodyText, fold } from './text.js';

export { sortText, storable } from './doc-row.js';

/** One article as a mailbox member: its header and what SORT needs. */
export interface HeaderRecord {
  mailbox: string;
  uidValidity: number;
  uid: number;
  /** The header block (up to and including the blank line); a whole article also works. */
  header: Uint8Array;
  /** INTERNALDATE, ms since the epoch. */
  internalDate: number;
  /** RFC822.SIZE in octets. */
  size: number;
  /**
   * The article's identity, when the caller has its own (the UID map's
   * Message-ID: one per distinct article even where an archive holds two
   * messages with one Message-ID); default: the header's Message-ID. Records
   * with one key are one document (crossposts).
   */
  key?: string;
}

/** One article as a mailbox member known by its overview record only (until its header comes: `addHeaders`). */
export interface OverviewRecord {
  mailbox: string;
  uidValidity: number;
  uid: number;
  overview: OverviewFields;
  internalDate: number;
  size: number;
  /** As HeaderRecord.key (default: the overview's Message-ID). */
  key?: string;
}

/**
 * The body of an indexed member, as the article bytes or as text already
 * decoded (text.ts `bodyText`), or `scanOnly`: never to be indexed (too large,
 * gone upstream), so the scan answers for it and a crawler moves on.
 */
export type BodyRecord = { mailbox: string; uidValidity: number; uid: number } & ({ article: Uint8Array } | { text: string } | { scanOnly: true });

export interface BodyResult {
  /** Bodies stored now. */
  indexed: number;
  /** Already stored (a crosspost met again) or unknown member (headers not added): nothing done. */
  skipped: number;
}

function buf(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function checkLocation(mailbox: string, uidValidity: number, uid: number): void {
  if (typeof mailbox !== 'string' || mailbox === '') throw new SearchIndexError('INVALID_INPUT', 'mailbox name must be a non-empty string');
  for (const [n, v] of [['uidValidity', uidValidity], ['uid', uid]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) throw new SearchIndexError('INVALID_INPUT', `${n} must be an integer in 1..2^32-1, got ${v}`);
  }
}

const DOC_COLUMNS = `date_ms, arrival_ms, size, subject,
  from_mailbox, from_host, from_name, to_mailbox, to_host, to_name, cc_mailbox, cc_host, cc_name, refs, in_reply_to, hdr_msgid, hdr_flags`;

export class IndexWriter {
  private readonly mbids = new Map<string, number>();
  private readonly s;

  /** The caller owns `db` (opened writable, see db.ts) and closes it after this writer. */
  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      findMailbox: p('SELECT mbid FROM mailboxes WHERE name = ? AND uid_validity = ?').raw(),
      addMailbox: p('INSERT INTO mailboxes (name, uid_validity) VALUES (?, ?)'),
      dropMembers: p('DELETE FROM members WHERE mbid = ?'),
      dropLog: p('DELETE FROM mailbox_log WHERE mbid = ?'),
      bumpVersion: p('UPDATE mailboxes SET version = version + 1 WHERE mbid = ?'),
      logVersion: p('INSERT INTO mailbox_log (mbid, version, min_uid) SELECT mbid, version, ? FROM mailboxes WHERE mbid = ?'),
      dropMailbox: p('DELETE FROM mailboxes WHERE mbid = ?'),
      dropSortStore: p('DELETE FROM sort_store WHERE mbid = ?'),
      findDoc: p('SELECT docid, hdr_flags FROM docs WHERE message_id = ?').raw(),
      addDoc: p(`INSERT INTO docs (message_id, ${DOC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`),
      // an overview row's To, Cc and In-Reply-To are '' (doc-row.ts overviewRow): fewer values to bind (libsql binds ~0.4 µs a value)
      addOverviewDoc: p(
        `INSERT INTO docs (message_id, date_ms, arrival_ms, size, subject, from_mailbox, from_host, from_name, refs, hdr_msgid, hdr_flags,
           to_mailbox, to_host, to_name, cc_mailbox, cc_host, cc_name, in_reply_to)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '', '', '', '') ON CONFLICT (message_id) DO NOTHING`,
      ),
      allFtsHas: p('SELECT 1 FROM alltext_fts_docsize WHERE id = ?').raw(),
      updateDoc: p(`UPDATE docs SET (${DOC_COLUMNS}) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE docid = ?`),
      dropDoc: p('DELETE FROM docs WHERE docid = ?'),
      headerText: p('SELECT subject, hfrom, hto, hcc, alltext FROM headers WHERE docid = ?').raw(),
      addHeaders: p('INSERT INTO headers (docid, subject, hfrom, hto, hcc, alltext) VALUES (?, ?, ?, ?, ?, ?)'),
      dropHeaders: p('DELETE FROM headers WHERE docid = ?'),
      addHeadersFts: p('INSERT INTO headers_fts (rowid, subject, hfrom, hto, hcc) VALUES (?, ?, ?, ?, ?)'),
      dropHeadersFts: p("INSERT INTO headers_fts (headers_fts, rowid, subject, hfrom, hto, hcc) VALUES ('delete', ?, ?, ?, ?, ?)"),
      addAllFts: p('INSERT INTO alltext_fts (rowid, alltext) VALUES (?, ?)'),
      dropAllFts: p("INSERT INTO alltext_fts (alltext_fts, rowid, alltext) VALUES ('delete', ?, ?)"),
      member: p('SELECT docid FROM members WHERE mbid = ? AND uid = ?').raw(),
      addMember: p('INSERT INTO members (mbid, uid, docid) VALUES (?, ?, ?) ON CONFLICT (mbid, uid) DO NOTHING'),
      moveMember: p('UPDATE members SET docid = ? WHERE mbid = ? AND uid = ?'),
      dropMember: p('DELETE FROM members WHERE mbid = ? AND uid = ?'),
      memberDocs: p('SELECT docid FROM members WHERE mbid = ?').raw(),
      anyMember: p('SELECT 1 FROM members WHERE docid = ? LIMIT 1').raw(),
      memberDoc: p('SELECT d.docid, d.body_state FROM members m JOIN docs d ON d.docid = m.docid WHERE m.mbid = ? AND m.uid = ?').raw(),
      bodyText: p('SELECT text FROM bodies WHERE docid = ?').raw(),
      addBody: p('INSERT INTO bodies (docid, text) VALUES (?, ?)'),
      dropBody: p('DELETE FROM bodies WHERE docid = ?'),
      addBodyFts: p('INSERT INTO bodies_fts (rowid, text) VALUES (?, ?)'),
      dropBodyFts: p("INSERT INTO bodies_fts (bodies_fts, rowid, text) VALUES ('delete', ?, ?)"),
      setBodyState: p('UPDATE docs SET body_state = ? WHERE docid = ?'),
      setInReplyTo: p(
        `UPDATE docs SET in_reply_to = ?, hdr_flags = hdr_flags | ?
         WHERE docid = (SELECT docid FROM members WHERE mbid = ? AND uid = ?) AND hdr_flags & ${HeaderFlags.Partial} <> 0`,
      ),
    };
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (err) {
      this.db.exec('ROLLBACK');
      this.mbids.clear(); // a mailbox row made in the rolled-back transaction is gone
      throw err instanceof SearchIndexError ? err : new SearchIndexError('STORAGE', 'search index write failed', { cause: err });
    }
  }

  private mbid(name: string, uidValidity: number, create: boolean): number | undefined {
    const key = `${uidValidity}\0${name}`;
    let id = this.mbids.get(key);
    if (id !== undefined) return id;
    id = (this.s.findMailbox.get([name, uidValidity]) as [number] | undefined)?.[0];
    if (id === undefined && create) id = Number(this.s.addMailbox.run([name, uidValidity]).lastInsertRowid);
    if (id !== undefined) this.mbids.set(key, id);
    return id;
  }

  /** An empty whole-header text (an overview row's) is not put into `alltext_fts`: it has no trigram to index. */
  private insertText(docid: number, text: NonNullable<DocRow['text']>): void {
    const [subject, from, to, cc, all] = text;
    this.s.addHeaders.run([docid, subject, from, to, cc, all]);
    this.s.addHeadersFts.run([docid, subject, from, to, cc]);
    if (all !== '') this.s.addAllFts.run([docid, all]);
  }

  /** Takes a document's header text out of the tables and their FTS indexes (external content: the old values are needed). */
  private deleteText(docid: number): void {
    const old = this.s.headerText.get([docid]) as [string | null, string | null, string | null, string | null, string] | undefined;
    if (old === undefined) return;
    this.s.dropHeadersFts.run([docid, old[0], old[1], old[2], old[3]]);
    // an empty text was put in only by older versions (see insertText): its row there is looked for
    if (old[4] !== '' || this.s.allFtsHas.get([docid]) !== undefined) this.s.dropAllFts.run([docid, old[4]]);
    this.s.dropHeaders.run([docid]);
  }

  /** Deletes a document no member refers to any more, with its header and body text. */
  private deleteIfOrphan(docid: number): void {
    if (this.s.anyMember.get([docid]) !== undefined) return;
    this.deleteText(docid);
    const body = this.s.bodyText.get([docid]) as [string] | undefined;
    if (body !== undefined) {
      this.s.dropBodyFts.run([docid, body[0]]);
      this.s.dropBody.run([docid]);
    }
    this.s.dropDoc.run([docid]);
  }

  /**
   * Adds members (`rows[i]` for `records[i]`), creating a document per new key
   * and upgrading an overview-only document when a whole header comes.
   * Returns the number of documents created.
   */
  private addRows(records: readonly { mailbox: string; uidValidity: number; uid: number }[], rows: readonly DocRow[]): number {
    const s = this.s;
    let created = 0;
    const lowest = new Map<number, number>();
    const moved: number[] = [];
    records.forEach((r, i) => {
      const row = rows[i]!;
      const mbid = this.mbid(r.mailbox, r.uidValidity, true)!;
      // insert first, look up only when the key is known: one statement for a new article
      // (run() and lastInsertRowid: RETURNING through libsql's get() leaves the statement
      // open and made every later insert of the batch ~40× slower, measured)
      const c = row.columns;
      const added =
        (row.flags & HeaderFlags.Partial) !== 0
          ? s.addOverviewDoc.run([row.key, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[13], c[15], row.flags])
          : s.addDoc.run([row.key, ...c, row.flags]);
      let docid: number;
      if (added.changes === 1) {
        docid = Number(added.lastInsertRowid);
        if (row.text !== null) this.insertText(docid, row.text);
        created++;
      } else {
        const found = s.findDoc.get([row.key]) as [number, number];
        docid = found[0];
        // the first header seen for a Message-ID is kept; an overview-only document takes a whole header
        if ((found[1] & HeaderFlags.Partial) !== 0 && (row.flags & HeaderFlags.Partial) === 0) {
          this.deleteText(docid);
          s.updateDoc.run([...row.columns, row.flags, docid]);
          if (row.text !== null) this.insertText(docid, row.text);
        }
      }
      if (s.addMember.run([mbid, r.uid, docid]).changes === 0) {
        const was = (s.member.get([mbid, r.uid]) as [number])[0];
        if (was === docid) return;
        s.moveMember.run([docid, mbid, r.uid]);
        moved.push(was);
      }
      lowest.set(mbid, Math.min(lowest.get(mbid) ?? r.uid, r.uid));
    });
    for (const docid of moved) this.deleteIfOrphan(docid);
    for (const [mbid, uid] of lowest) this.logVersion(mbid, uid);
    return created;
  }

  private logVersion(mbid: number, lowestUid: number): void {
    this.s.bumpVersion.run([mbid]);
    this.s.logVersion.run([lowestUid, mbid]);
  }

  /**
   * Adds mailbox members with their headers, in one transaction. An article
   * already known by its Message-ID (a crosspost, or one re-added) only gains
   * the membership; the first header seen for a Message-ID is the one kept,
   * except that a whole header replaces an overview record (`addOverview`).
   * An article without Message-ID is a document of its own per location.
   * Returns the number of documents created. Throws SearchIndexError
   * (INVALID_INPUT before anything is written, STORAGE).
   */
  addHeaders(records: readonly HeaderRecord[]): number {
    for (const r of records) checkLocation(r.mailbox, r.uidValidity, r.uid);
    const rows = records.map((r) => headerRow(buf(r.header), r));
    return this.transaction(() => this.addRows(records, rows));
  }

  /**
   * Adds mailbox members known by their overview records (HeaderFlags.Partial:
   * Subject and From searchable, SORT columns partly known); an article
   * already known by its Message-ID only gains the membership. Returns the
   * number of documents created.
   */
  addOverview(records: readonly OverviewRecord[]): number {
    for (const r of records) checkLocation(r.mailbox, r.uidValidity, r.uid);
    const rows = records.map((r) => overviewRow(r.overview, r));
    return this.transaction(() => this.addRows(records, rows));
  }

  /**
   * Stores bodies of members already added, in one transaction; a document's
   * body is stored once (crossposts share it). The article is decoded as the
   * scan decodes it (text.ts `bodyText`).
   */
  addBodies(records: readonly BodyRecord[]): BodyResult {
    for (const r of records) checkLocation(r.mailbox, r.uidValidity, r.uid);
    // Decode before the transaction opens: the write lock is held only for the inserts.
    const texts = records.map((r) => ('scanOnly' in r ? null : fold('text' in r ? r.text : bodyText(buf(r.article)))));
    const s = this.s;
    return this.transaction(() => {
      const result: BodyResult = { indexed: 0, skipped: 0 };
      const done = new Set<number>();
      records.forEach((r, i) => {
        const mbid = this.mbid(r.mailbox, r.uidValidity, false);
        const row = mbid === undefined ? undefined : (s.memberDoc.get([mbid, r.uid]) as [number, number] | undefined);
        // a text may replace a scan-only mark (an article too long for the crawler, read whole since: cached-text.ts)
        const open = row !== undefined && (row[1] === BodyState.Missing || (row[1] === BodyState.ScanOnly && texts[i] !== null));
        if (!open || done.has(row[0])) {
          result.skipped++;
          return;
        }
        const [docid] = row;
        const text = texts[i]!;
        if (text !== null && storable(text)) {
          s.addBody.run([docid, text]);
          s.addBodyFts.run([docid, text]);
          s.setBodyState.run([BodyState.Indexed, docid]);
        } else {
          s.setBodyState.run([BodyState.ScanOnly, docid]);
        }
        done.add(docid);
        result.indexed++;
      });
      return result;
    });
  }

  /**
   * In-Reply-To of members known by their overview only (which lacks it; an
   * NNTP HDR gives it for a range): `value` as the header holds it, '' when
   * the article has none. Documents with a whole header are left alone.
   * Returns the number of documents updated.
   */
  setInReplyTo(mailbox: string, uidValidity: number, items: readonly { uid: number; value: string }[]): number {
    return this.transaction(() => {
      const mbid = this.mbid(mailbox, uidValidity, false);
      if (mbid === undefined) return 0;
      let n = 0;
      for (const { uid, value } of items) {
        const exact = inReplyToColumn(value);
        const flags = HeaderFlags.InReplyToKnown | (exact === null ? HeaderFlags.SortInexact : 0);
        n += this.s.setInReplyTo.run([exact ?? sortText(value.trim()), flags, mbid, uid]).changes;
      }
      return n;
    });
  }

  /**
   * Removes members (their articles expired); a document left without any
   * member is deleted with its text. Returns the number of members removed.
   */
  removeMembers(mailbox: string, uidValidity: number, uids: readonly number[]): number {
    return this.transaction(() => {
      const mbid = this.mbid(mailbox, uidValidity, false);
      if (mbid === undefined) return 0;
      let removed = 0;
      for (const uid of uids) {
        const docid = (this.s.member.get([mbid, uid]) as [number] | undefined)?.[0];
        if (docid === undefined) continue;
        this.s.dropMember.run([mbid, uid]);
        this.deleteIfOrphan(docid);
        removed++;
      }
      if (removed > 0) this.logVersion(mbid, 0);
      return removed;
    });
  }

  /**
   * Forgets a mailbox generation (its UIDVALIDITY changed, or it is gone):
   * its members go, and the documents no other mailbox holds.
   */
  dropMailbox(mailbox: string, uidValidity: number): void {
    this.transaction(() => {
      const mbid = this.mbid(mailbox, uidValidity, false);
      if (mbid === undefined) return;
      const docids = (this.s.memberDocs.all([mbid]) as [number][]).map((r) => r[0]);
      this.s.dropMembers.run([mbid]);
      for (const docid of docids) this.deleteIfOrphan(docid);
      this.s.dropLog.run([mbid]);
      this.s.dropSortStore.run([mbid]);
      this.s.dropMailbox.run([mbid]);
      this.mbids.delete(`${uidValidity}\0${mailbox}`);
    });
  }
}
