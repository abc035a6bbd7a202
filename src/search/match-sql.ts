/**
 * The SQL of a substring match (IMAP SEARCH, RFC 9051 §6.4.4) on the search
 * database: `matchPlan` turns AND-ed terms into the statements query.ts runs.
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
import { BodyState, HeaderFlags } from './db.js';
import { fold } from './text.js';
import { storable } from './doc-row.js';

/** A field a needle is searched in (RFC 9051 §6.4.4 keys). */
export type SearchField = 'subject' | 'from' | 'to' | 'cc' | 'body' | 'text' | { header: string };

/** One substring condition; `match` ANDs them. */
export interface SearchTerm {
  field: SearchField;
  /** As the client sent it (not folded). */
  needle: string;
}

/** Needles shorter than this (in code points) have no trigram: they are scanned with instr. */
const TRIGRAM = 3;

const COLUMN: Record<'subject' | 'from' | 'to' | 'cc', string> = { subject: 'subject', from: 'hfrom', to: 'hto', cc: 'hcc' };

/** An FTS5 string: double quotes doubled, the whole in double quotes (no operator inside is special). */
const quoted = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** Every trigram of `s` AND-ed (for the `detail=none` table, where phrases are not available). */
function trigramsAnd(cps: string[]): string {
  const seen = new Set<string>();
  for (let i = 0; i + TRIGRAM <= cps.length; i++) seen.add(quoted(cps.slice(i, i + TRIGRAM).join('')));
  return [...seen].join(' AND ');
}

export interface Built {
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
export function headerLinesMatch(alltext: string, name: string, needle: string): boolean {
  const prefix = `${name}: `;
  for (const line of alltext.split('\n')) {
    if (line.startsWith(prefix) && line.includes(needle, prefix.length)) return true;
  }
  return false;
}

/**
 * The statements of one `match`: `unindexed` lists the members no term can
 * decide (null: none can be undecided), `hits` the members matching every
 * term (with `confirm`: their `h.alltext` too, each to be confirmed with
 * `headerLinesMatch`). Each statement's SQL selects `uid`; its arguments
 * start with the mailbox id (`mbid`). The SQL depends on the terms' fields
 * and on the shape of their needles (length, white space), never on the
 * needles' text, so a statement prepared for one needle serves every other
 * of the same shape (IndexReader.warm prepares the common ones at open).
 */
export interface MatchPlan {
  unindexed: { sql: string; args: unknown[] } | null;
  hits: { sql: string; args: unknown[] };
  confirm: { name: string; needle: string }[];
  /** A Subject/From needle with inner spaces: overview-only documents it matches are left to the scan. */
  confirmPartial: boolean;
}

export function matchPlan(mbid: number, terms: readonly SearchTerm[]): MatchPlan {
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
  const unindexed =
    undecidable.length === 0
      ? null
      : {
          sql: undecidable
            .map((c) => {
              const index = undecidableIndex(c);
              const docs = index === undefined ? 'docs d' : `docs d INDEXED BY ${index}`;
              return `SELECT m.uid AS uid FROM ${docs} CROSS JOIN members m ON m.docid = d.docid AND m.mbid = ? WHERE ${c}`;
            })
            .join(' UNION '),
          args: undecidable.map(() => mbid),
        };
  // The matches among every member, less the undecidable ones (no per-hit lookup of docs).
  const joins =
    'FROM members m' +
    (q.joinHeaders ? ' LEFT JOIN headers h ON h.docid = m.docid' : '') +
    (q.joinBodies ? ' LEFT JOIN bodies b ON b.docid = m.docid' : '');
  const where = ['m.mbid = ?', ...q.where].join(' AND ');
  const columns = q.confirm.length === 0 ? 'm.uid AS uid' : 'm.uid AS uid, h.alltext AS alltext';
  return { unindexed, hits: { sql: `SELECT ${columns} ${joins} WHERE ${where}`, args: [mbid, ...q.args] }, confirm: q.confirm, confirmPartial: q.confirmPartial };
}

/** Documents whose hdr_flags hold any bit of `mask`, as a `members` query of `mbid` (the first argument). */
export function flaggedMembersSql(mask: number): string {
  return `SELECT m.uid AS uid FROM docs d INDEXED BY docs_hdr_flagged CROSS JOIN members m ON m.docid = d.docid AND m.mbid = ? WHERE ${flagged(mask)}`;
}
