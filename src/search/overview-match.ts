/**
 * SEARCH on an article known by its overview record only, before the index
 * writer has written it (a group just opened): the answer the index gives
 * for the same record once written as a Partial document (doc-row.ts
 * `overviewRow`; query.ts, module comment and `addTerm`), so a SEARCH right
 * after a first SELECT need not wait for the writer.
 *
 * Per term, on the overview text (overview-text.ts `overviewText`):
 * - SUBJECT, FROM: the folded value contains the folded needle — decided
 *   when the value is exact (not SubjectUnknown/FromUnknown), storable, the
 *   needle has no TAB/CR/LF/space at either end and no '\n' a value holds;
 *   a match of a needle with inner spaces is left undecided (white space
 *   may differ from the header's); `""` matches a present field; a needle
 *   with NUL or '\n' (no value holding '\n') matches nothing;
 * - BODY "" and TEXT "": every article;
 * - TO, CC, BCC, other HEADER fields, BODY, TEXT: undecided (the overview
 *   lacks them; no body is indexed yet);
 * - a needle that is not well-formed UTF-16: undecided.
 * The terms are AND-ed: one decided false decides the article; else one
 * undecided leaves it to the caller's scan. Decided answers are exact, as the
 * scan would give (test/search/overview-match.test.ts compares with the
 * index).
 */
import { storable } from './doc-row.js';
import { overviewText, type OverviewFields, type OverviewText } from './overview-text.js';
import type { SearchTerm } from './query.js';
import { fold } from './text.js';

export type OverviewAnswer = 'yes' | 'no' | 'unknown';

/** What a term needs of the overview text, worked out once per SEARCH (the needle folded). */
interface Prepared {
  field: SearchTerm['field'];
  n: string;
  unsure: boolean;
  nl: boolean;
  impossible: boolean;
  space: boolean;
  wellFormed: boolean;
}

/** The overview text with what `overviewRow` flags (NotWellFormed). */
export interface OverviewDoc {
  text: OverviewText;
  notWellFormed: boolean;
}

/** The overview text of `o` as the index's Partial document holds it. */
export function overviewDoc(o: OverviewFields): OverviewDoc {
  const text = overviewText(o);
  const notWellFormed = (text.subject !== null && !storable(text.subject)) || (text.from !== null && !storable(text.from));
  return { text, notWellFormed };
}

/**
 * A matcher for `terms` (AND): call it per article with its overview
 * document. Pure; never throws.
 */
export function overviewMatcher(terms: readonly SearchTerm[]): (doc: OverviewDoc) => OverviewAnswer {
  const prepared: Prepared[] = terms.map((t) => {
    const n = fold(t.needle);
    return {
      field: t.field,
      n,
      unsure: /[\t\r\n]/.test(n) || n.startsWith(' ') || n.endsWith(' '),
      nl: n.includes('\n'),
      impossible: n.includes('\0'),
      space: n.includes(' '),
      wellFormed: storable(n) || n.includes('\0'),
    };
  });
  return (doc) => {
    let unknown = false;
    for (const p of prepared) {
      const a = answer(p, doc);
      if (a === 'no') return 'no';
      if (a === 'unknown') unknown = true;
    }
    return unknown ? 'unknown' : 'yes';
  };
}

function answer(p: Prepared, doc: OverviewDoc): OverviewAnswer {
  if (!p.wellFormed) return 'unknown';
  const f = p.field;
  if (f === 'body' || f === 'text') return p.n === '' ? 'yes' : 'unknown';
  if (f !== 'subject' && f !== 'from') return 'unknown';
  const value = f === 'subject' ? doc.text.subject : doc.text.from;
  if (value === null || doc.notWellFormed || p.unsure || (p.nl && doc.text.headerNewline)) return 'unknown';
  if (p.n === '') return 'yes';
  if (p.impossible || p.nl) return 'no';
  if (!value.includes(p.n)) return 'no';
  return p.space ? 'unknown' : 'yes';
}
