/**
 * INTERNALDATE for an article: its Date header (RFC 5322 §3.3, with the obsolete
 * forms of §4.3 that V8's Date parser accepts: two-digit years, named zones),
 * parsed once at ingest from the overview `date` field. Comments such as
 * `(UTC)` are dropped first. An unparseable date gives NaN; the reader then
 * falls back to the epoch, which is stable (unlike "now") so that every session
 * and every front-end reports the same INTERNALDATE.
 */

const COMMENT = /\([^()]*\)/g;

export function parseDate(value: string): number {
  const v = value.replace(COMMENT, ' ').trim();
  if (v === '') return NaN;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : NaN;
}

/** The INTERNALDATE for a stored date (NaN ⇒ the epoch). */
export function internalDateOf(ms: number): Date {
  return new Date(Number.isFinite(ms) ? ms : 0);
}
