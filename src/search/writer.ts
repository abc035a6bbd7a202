/**
 * Writes to the search database: header records and bodies, one transaction
 * per batch (a killed process leaves whole batches or nothing; `members` and
 * `docs.body_state` then tell what is indexed, so indexing resumes there).
 *
 * Runs wherever its connection lives: in the writer worker (worker.ts) in
 * production, inline for tests and tools. Synchronous; a batch of 1,000
 * bodies takes ~0.2 s of CPU (MIME decode + FTS insert), which is why the
 * server runs it off the main thread.
 */
import { BodyState, HeaderFlags, type Db } from './db.js';
import { SearchIndexError } from './errors.js';
import { bodyText, fold, headerText } from './text.js';

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
}

/** The body of an indexed member, as the article bytes or as text already decoded (text.ts `bodyText`). */
export type BodyRecord = { mailbox: string; uidValidity: number; uid: number } & ({ article: Uint8Array } | { text: string });

export interface BodyResult {
  /** Bodies stored now. */
  indexed: number;
  /** Already stored (a crosspost met again) or unknown member (headers not added): nothing done. */
  skipped: number;
}

/** A lone surrogate (String.prototype.isWellFormed, typed for ES2022), or NUL. */
const UNSTORABLE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/;

/**
 * Text SQLite cannot index exactly: a lone surrogate would be stored as
 * U+FFFD, and at a NUL the trigram tokenizer stops (found by the property
 * test) and libsql cuts strings it reads back. Such text is answered by the
 * caller's scan instead (BodyState.ScanOnly, HeaderFlags.NotWellFormed).
 */
export function storable(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** A sort key as stored: C0 controls become spaces (query.ts joins the values with U+0001; libsql cuts strings at NUL). */
export function sortText(s: string): string {
  return s.replace(/[\u0000-\u001f]/g, ' ');
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
      findDoc: p('SELECT docid FROM docs WHERE message_id = ?').raw(),
      addDoc: p(
        `INSERT INTO docs (message_id, date_ms, arrival_ms, size, subject,
           from_mailbox, from_host, from_name, to_mailbox, to_host, to_name, cc_mailbox, cc_host, cc_name,
           refs, in_reply_to, hdr_flags)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      addHeaders: p('INSERT INTO headers (docid, subject, hfrom, hto, hcc, alltext) VALUES (?, ?, ?, ?, ?, ?)'),
      addHeadersFts: p('INSERT INTO headers_fts (rowid, subject, hfrom, hto, hcc) VALUES (?, ?, ?, ?, ?)'),
      addAllFts: p('INSERT INTO alltext_fts (rowid, alltext) VALUES (?, ?)'),
      addMember: p('INSERT OR REPLACE INTO members (mbid, uid, docid) VALUES (?, ?, ?)'),
      memberDoc: p('SELECT d.docid, d.body_state FROM members m JOIN docs d ON d.docid = m.docid WHERE m.mbid = ? AND m.uid = ?').raw(),
      addBody: p('INSERT INTO bodies (docid, text) VALUES (?, ?)'),
      addBodyFts: p('INSERT INTO bodies_fts (rowid, text) VALUES (?, ?)'),
      setBodyState: p('UPDATE docs SET body_state = ? WHERE docid = ?'),
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

  /**
   * Adds mailbox members with their headers, in one transaction. An article
   * already known by its Message-ID (a crosspost, or one re-added) only gains
   * the membership; the first header seen for a Message-ID is the one kept.
   * An article without Message-ID is a document of its own per location.
   * Returns the number of documents created. Throws SearchIndexError
   * (INVALID_INPUT before anything is written, STORAGE).
   */
  addHeaders(records: readonly HeaderRecord[]): number {
    for (const r of records) checkLocation(r.mailbox, r.uidValidity, r.uid);
    const s = this.s;
    return this.transaction(() => {
      let created = 0;
      const lowest = new Map<number, number>();
      for (const r of records) {
        const mbid = this.mbid(r.mailbox, r.uidValidity, true)!;
        const h = headerText(buf(r.header));
        // A key no Message-ID can take (they are trimmed), so id-less articles never merge.
        const key = h.messageId !== '' ? sortText(h.messageId) : ` ${r.mailbox} ${r.uidValidity} ${r.uid}`;
        let docid = (s.findDoc.get([key]) as [number] | undefined)?.[0];
        if (docid === undefined) {
          const texts = [h.subject, h.from, h.to, h.cc, h.all];
          let flags = h.headerNewline ? HeaderFlags.Newline : 0;
          if (texts.some((t) => t !== null && !storable(t))) flags |= HeaderFlags.NotWellFormed;
          const f = h.fromAddr;
          const t = h.toAddr;
          const c = h.ccAddr;
          // run() and lastInsertRowid: RETURNING through libsql's get() leaves the statement
          // open and made every later insert of the batch ~40× slower (measured).
          docid = Number(
            s.addDoc.run([
              key,
              Number.isFinite(h.dateMs) ? h.dateMs : null,
              r.internalDate,
              r.size,
              ...[h.sortSubject, f.mailbox, f.host, f.name, t.mailbox, t.host, t.name, c.mailbox, c.host, c.name, h.references, h.inReplyTo].map(sortText),
              flags,
            ]).lastInsertRowid,
          );
          if ((flags & HeaderFlags.NotWellFormed) === 0) {
            s.addHeaders.run([docid, h.subject, h.from, h.to, h.cc, h.all]);
            s.addHeadersFts.run([docid, h.subject, h.from, h.to, h.cc]);
            s.addAllFts.run([docid, h.all]);
          }
          created++;
        }
        s.addMember.run([mbid, r.uid, docid]);
        lowest.set(mbid, Math.min(lowest.get(mbid) ?? r.uid, r.uid));
      }
      for (const [mbid, uid] of lowest) {
        s.bumpVersion.run([mbid]);
        s.logVersion.run([uid, mbid]);
      }
      return created;
    });
  }

  /**
   * Stores bodies of members already added by `addHeaders`, in one
   * transaction; a document's body is stored once (crossposts share it).
   * The article is decoded as the scan decodes it (text.ts `bodyText`).
   */
  addBodies(records: readonly BodyRecord[]): BodyResult {
    for (const r of records) checkLocation(r.mailbox, r.uidValidity, r.uid);
    // Decode before the transaction opens: the write lock is held only for the inserts.
    const texts = records.map((r) => fold('text' in r ? r.text : bodyText(buf(r.article))));
    const s = this.s;
    return this.transaction(() => {
      const result: BodyResult = { indexed: 0, skipped: 0 };
      const done = new Set<number>();
      records.forEach((r, i) => {
        const mbid = this.mbid(r.mailbox, r.uidValidity, false);
        const row = mbid === undefined ? undefined : (s.memberDoc.get([mbid, r.uid]) as [number, number] | undefined);
        if (row === undefined || row[1] !== BodyState.Missing || done.has(row[0])) {
          result.skipped++;
          return;
        }
        const [docid] = row;
        const text = texts[i]!;
        if (storable(text)) {
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
   * Forgets a mailbox generation (its UIDVALIDITY changed, or it is gone):
   * its members go; documents stay for other mailboxes.
   */
  dropMailbox(mailbox: string, uidValidity: number): void {
    this.transaction(() => {
      const mbid = this.mbid(mailbox, uidValidity, false);
      if (mbid === undefined) return;
      this.s.dropMembers.run([mbid]);
      this.s.dropLog.run([mbid]);
      this.s.dropMailbox.run([mbid]);
      this.mbids.delete(`${uidValidity}\0${mailbox}`);
    });
  }
}
