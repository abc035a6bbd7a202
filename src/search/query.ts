/**
 * Reads of the search database: substring matches (IMAP SEARCH, RFC 9051
 * §6.4.4), coverage, versions; the SORT/THREAD columns come from columns.ts.
 *
 * Exactness. The stored text is fold(text) (text.ts) and a needle is folded
 * the same way, so the scan's `fold(text).includes(fold(needle))` becomes a
 * substring test on stored text:
 * - a needle of 3 or more code points is a trigram phrase query on a
 *   `detail=full` table: FTS5 matches a phrase when its trigrams sit at
 *   consecutive positions, i.e. when the needle occurs (the tokenizer is
 *   case-sensitive, so it adds no fold of its own) — no confirmation needed,
 *   which the property test (test/search/index-property.test.ts) checks;
 * - the whole-header text has no positions (`detail=none`): its trigrams AND-ed
 *   give candidates, `instr` confirms them;
 * - a shorter needle is `instr` over the stored text (a scan, but in SQLite);
 * - `HEADER <other field>` is confirmed in JavaScript on the field's lines.
 * A document known by its overview only (db.ts HeaderFlags.Partial) answers
 * SUBJECT and FROM from the overview values, which differ from the header's
 * in white space only (overview-text.ts): a needle without white space is
 * exact; one with inner spaces is exact where it does not match, and its
 * matches there are left to the scan; one with TAB, CR, LF or a space at
 * either end, and every TO, CC, TEXT and other HEADER needle, is left to the
 * scan for such documents.
 * What the index cannot answer exactly (bodies not indexed yet, text SQLite
 * cannot hold, a needle with '\n' against a header whose values hold '\n') is
 * returned as `unindexed`: the caller scans those articles with the same key.
 */
import { BodyState, HeaderFlags, type Db } from './db.js';
import { minusUids, unionUids } from '../util/sorted.js';
import { fold } from './text.js';
import { storable } from './doc-row.js';
import { readSortColumns, type SortColumns, type SortField } from './index-columns.js';
import { MatchCache } from './match-cache.js';

export type { SortColumns, SortField } from './index-columns.js';

/** A field a needle is searched in (RFC 9051 §6.4.4 keys). */
export type SearchField = 'subject' | 'from' | 'to' | 'cc' | 'body' | 'text' | { header: string };

/** One substring condition; `match` ANDs them. */
export interface SearchTerm {
  field: SearchField;
  /** As the client sent it (not folded). */
  needle: string;
}

export interface MatchResult {
  /** UIDs known to match every term, ascending. */
  uids: Uint32Array;
  /** UIDs the index cannot decide (some term needs a scan of the article), ascending. */
  unindexed: Uint32Array;
}

/** Needles shorter than this (in code points) have no trigram: they are scanned with instr. */
const TRIGRAM = 3;

const COLUMN: Record<'subject' | 'from' | 'to' | 'cc', string> = { subject: 'subject', from: 'hfrom', to: 'hto', cc: 'hcc' };

const EMPTY = new Uint32Array(0);

/** An FTS5 string: double quotes doubled, the whole in double quotes (no operator inside is special). */
const quoted = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** Every trigram of `s` AND-ed (for the `detail=none` table, where phrases are not available). */
function trigramsAnd(cps: string[]): string {
  const seen = new Set<string>();
  for (let i = 0; i + TRIGRAM <= cps.length; i++) seen.add(quoted(cps.slice(i, i + TRIGRAM).join('')));
  return [...seen].join(' AND ');
}

interface Built {
  where: string[];
  args: unknown[];
  /** Documents some term cannot decide: conditions on d, each served by a partial index (db.ts). */
  undecidable: Set<string>;
  joinHeaders: boolean;
  joinBodies: boolean;
  /** Terms on other header fields, confirmed in JS on `h.alltext`. */
  confirm: { name: string; needle: string }[];
  /** Phrases AND-ed into one MATCH per table (FTS5 skips through both lists at once). */
  bodyPhrases: string[];
  headerPhrases: string[];
  /** A Subject/From needle with inner spaces: overview-only documents it matches are left to the scan. */
  confirmPartial: boolean;
}

const BODY_MISSING = `d.body_state <> ${BodyState.Indexed}`;
/** Documents whose hdr_flags hold any bit of `mask`; `<> 0` lets SQLite use the partial index docs_hdr_flagged. */
const flagged = (mask: number): string => `d.hdr_flags <> 0 AND (d.hdr_flags & ${mask}) <> 0`;
/** The partial index (db.ts) that lists the documents of a condition; the planner left alone scans every member. */
const undecidableIndex = (condition: string): string | undefined =>
  condition === BODY_MISSING ? 'docs_body_missing' : condition.startsWith('d.hdr_flags <> 0') ? 'docs_hdr_flagged' : undefined;
const F = {
  newline: HeaderFlags.Newline,
  notWellFormed: HeaderFlags.NotWellFormed,
  partial: HeaderFlags.Partial,
  subject: HeaderFlags.SubjectUnknown,
  from: HeaderFlags.FromUnknown,
} as const;

/** Docids whose whole-header text contains the needle (candidates by trigrams, confirmed by instr). */
const ALLTEXT_DOCS = 'SELECT docid FROM headers WHERE docid IN (SELECT rowid FROM alltext_fts WHERE alltext_fts MATCH ?) AND instr(alltext, ?) > 0';

/**
 * Turns one term into SQL conditions on `m` (members), `d` (docs), `h`
 * (headers) and `b` (bodies). Needles of 3+ code points become
 * `m.docid IN (FTS subquery)`, so SQLite can drive the join from the few hits.
 */
function addTerm(q: Built, t: SearchTerm): void {
  const n = fold(t.needle);
  const cps = [...n];
  const short = cps.length < TRIGRAM;
  const nl = n.includes('\n');
  // A needle with NUL matches no stored text (writer.ts `storable`: text with NUL is not stored).
  const impossible = n.includes('\0');
  const f = t.field;
  if (!impossible && !storable(n)) {
    // A lone surrogate (never from an IMAP client: needles are decoded UTF-8) can match half of a
    // pair in the scan's code-unit test, and SQLite would see U+FFFD: leave every article to the scan.
    q.undecidable.add('1');
    q.where.push('0');
    return;
  }

  // Overview values differ from header values in white space (overview-text.ts)
  const overviewUnsure = /[\t\r\n]/.test(n) || n.startsWith(' ') || n.endsWith(' ');
  if (typeof f === 'object') {
    const name = f.header.toLowerCase();
    q.undecidable.add(flagged(F.newline | F.notWellFormed | F.partial)); // the field's lines are needed
    q.joinHeaders = true;
    if (!short && !nl && !impossible) {
      q.args.push(trigramsAnd(cps), n);
      q.where.push(`m.docid IN (${ALLTEXT_DOCS})`);
    }
    q.confirm.push({ name, needle: n });
    return;
  }
  switch (f) {
    case 'subject':
    case 'from':
    case 'to':
    case 'cc': {
      const column = COLUMN[f];
      // nl: decided only where no value holds '\n', so no single field contains the needle
      let mask = F.notWellFormed | (nl ? F.newline : 0);
      if (f === 'subject' || f === 'from') {
        mask |= F[f] | (overviewUnsure ? F.partial : 0);
        if (!overviewUnsure && n.includes(' ')) q.confirmPartial = true;
      } else mask |= F.partial;
      q.undecidable.add(flagged(mask));
      if (n === '') {
        q.joinHeaders = true;
        q.where.push(`h.${column} IS NOT NULL`); // HEADER x "": the field is present
      } else if (impossible || nl) {
        q.where.push('0');
      } else if (short) {
        q.joinHeaders = true;
        q.args.push(n);
        q.where.push(`instr(h.${column}, ?) > 0`);
      } else {
        q.headerPhrases.push(`{${column}} : ${quoted(n)}`);
      }
      return;
    }
    case 'body':
      if (n === '') return; // every text contains ""
      q.undecidable.add(BODY_MISSING);
      if (impossible) q.where.push('0');
      else if (short) {
        q.joinBodies = true;
        q.args.push(n);
        q.where.push('instr(b.text, ?) > 0');
      } else {
        q.bodyPhrases.push(quoted(n));
      }
      return;
    case 'text':
      if (n === '') return;
      q.undecidable.add(flagged(F.notWellFormed | F.partial | (nl ? F.newline : 0))).add(BODY_MISSING);
      if (impossible) q.where.push('0');
      else if (short && nl) {
        // The header part is decided false (see the subject case); a join of two fields must not match.
        q.joinBodies = true;
        q.args.push(n);
        q.where.push('instr(b.text, ?) > 0');
      } else if (short) {
        q.joinHeaders = q.joinBodies = true;
        q.args.push(n, n);
        q.where.push('(instr(h.alltext, ?) > 0 OR instr(b.text, ?) > 0)');
      } else if (nl) {
        q.args.push(quoted(n));
        q.where.push('m.docid IN (SELECT rowid FROM bodies_fts WHERE bodies_fts MATCH ?)');
      } else {
        q.args.push(trigramsAnd(cps), n, quoted(n));
        q.where.push(`m.docid IN (${ALLTEXT_DOCS} UNION ALL SELECT rowid FROM bodies_fts WHERE bodies_fts MATCH ?)`);
      }
      return;
  }
}

/** `HEADER name needle` on one document's folded header lines (the scan's per-field test). */
function headerLinesMatch(alltext: string, name: string, needle: string): boolean {
  const prefix = `${name}: `;
  for (const line of alltext.split('\n')) {
    if (line.startsWith(prefix) && line.includes(needle, prefix.length)) return true;
  }
  return false;
}

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
    const row = this.stmt(`SELECT group_concat(uid) FROM (${sql})`).get(args) as [string | null];
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
    const q: Built = {
      where: [], args: [], undecidable: new Set(), joinHeaders: false, joinBodies: false, confirm: [], bodyPhrases: [], headerPhrases: [], confirmPartial: false,
    };
    for (const t of terms) addTerm(q, t);
    for (const [phrases, table] of [[q.bodyPhrases, 'bodies_fts'], [q.headerPhrases, 'headers_fts']] as const) {
      if (phrases.length === 0) continue;
      q.args.push(phrases.join(' AND '));
      q.where.push(`m.docid IN (SELECT rowid FROM ${table} WHERE ${table} MATCH ?)`);
    }
    const undecidable = [...q.undecidable];
    // Driven by the partial indexes: costs nothing once a mailbox is indexed.
    let unindexed =
      undecidable.length === 0
        ? EMPTY
        : this.uids(
            undecidable
              .map((c) => {
                const index = undecidableIndex(c);
                const docs = index === undefined ? 'docs d' : `docs d INDEXED BY ${index}`;
                return `SELECT m.uid AS uid FROM ${docs} CROSS JOIN members m ON m.docid = d.docid AND m.mbid = ? WHERE ${c}`;
              })
              .join(' UNION '),
            undecidable.map(() => mbid),
          );
    // The matches among every member, less the undecidable ones (no per-hit lookup of docs).
    const joins =
      'FROM members m' +
      (q.joinHeaders ? ' LEFT JOIN headers h ON h.docid = m.docid' : '') +
      (q.joinBodies ? ' LEFT JOIN bodies b ON b.docid = m.docid' : '');
    const where = ['m.mbid = ?', ...q.where].join(' AND ');
    let hits: Uint32Array;
    if (q.confirm.length === 0) {
      hits = this.uids(`SELECT m.uid AS uid ${joins} WHERE ${where}`, [mbid, ...q.args]);
    } else {
      const rows = this.stmt(`SELECT m.uid, h.alltext ${joins} WHERE ${where}`).all([mbid, ...q.args]) as [number, string | null][];
      const ok = rows.filter(([, all]) => all !== null && q.confirm.every((c) => headerLinesMatch(all, c.name, c.needle))).map(([uid]) => uid);
      hits = Uint32Array.from(ok).sort();
    }
    let uids = unindexed.length === 0 ? hits : minusUids(hits, unindexed);
    if (q.confirmPartial && uids.length > 0) {
      const partial = this.flaggedMembers(mbid, HeaderFlags.Partial);
      const unsure = minusUids(uids, minusUids(uids, partial));
      if (unsure.length > 0) {
        uids = minusUids(uids, unsure);
        unindexed = unionUids(unindexed, unsure);
      }
    }
    return { uids, unindexed };
  }

  /** Members whose document has any of the `mask` bits, ascending. */
  private flaggedMembers(mbid: number, mask: number): Uint32Array {
    return this.uids(`SELECT m.uid AS uid FROM docs d INDEXED BY docs_hdr_flagged CROSS JOIN members m ON m.docid = d.docid AND m.mbid = ? WHERE ${flagged(mask)}`, [mbid]);
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
