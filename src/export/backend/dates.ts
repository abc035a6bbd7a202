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
  const fast = canonicalDate(value);
  if (fast === fast) return fast; // not NaN
  const v = value.replace(COMMENT, ' ').trim();
  if (v === '') return NaN;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : NaN;
}

/** The INTERNALDATE for a stored date (NaN ⇒ the epoch). */
export function internalDateOf(ms: number): Date {
  return new Date(Number.isFinite(ms) ? ms : 0);
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The number of `n` ASCII digits at `at` of `s`, or -1. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** True when `s` goes on from `at` with one space and one comment without parentheses inside, to its end (` (JST)`): dropping it gives the same date. */
function zoneComment(s: string, at: number): boolean {
  const last = s.length - 1;
  if (last < at + 2 || s.charCodeAt(at) !== 0x20 || s.charCodeAt(at + 1) !== 0x28 || s.charCodeAt(last) !== 0x29) return false;
  const inner = s.indexOf('(', at + 2);
  const close = s.indexOf(')', at + 2);
  return inner < 0 && close === last;
}

/**
 * `parseDate` of the one form nearly every article has (RFC 5322 §3.3 as
 * news software writes it), `[Ddd, ]D[D] Mon YYYY HH:MM:SS ±HHMM[ (comment)]` exactly,
 * read without V8's general parser; NaN for any other string (and for
 * values out of range), which then takes the general way. Same result as
 * `Date.parse` wherever it answers (a test compares them).
 */
function canonicalDate(s: string): number {
  let p = 0;
  if (s.length >= 5 && s.charCodeAt(3) === 0x2c && s.charCodeAt(4) === 0x20) {
    if (!DAYS.includes(s.slice(0, 3))) return NaN;
    p = 5;
  }
  const oneDigitDay = s.charCodeAt(p + 1) === 0x20;
  const day = digits(s, p, oneDigitDay ? 1 : 2);
  p += oneDigitDay ? 2 : 3;
  if (day < 1 || (s.length !== p + 23 && !zoneComment(s, p + 23)) || (!oneDigitDay && s.charCodeAt(p - 1) !== 0x20)) return NaN;
  // p: "Mon YYYY HH:MM:SS ±HHMM" (23 characters) follows
  const month = MONTHS.indexOf(s.slice(p, p + 3));
  const year = digits(s, p + 4, 4);
  const hh = digits(s, p + 9, 2);
  const mm = digits(s, p + 12, 2);
  const ss = digits(s, p + 15, 2);
  const sign = s.charCodeAt(p + 18);
  const zh = digits(s, p + 19, 2);
  const zm = digits(s, p + 21, 2);
  if (
    month < 0 || year < 1000 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 || zh < 0 || zh > 23 || zm < 0 || zm > 59 ||
    s.charCodeAt(p + 3) !== 0x20 || s.charCodeAt(p + 8) !== 0x20 || s.charCodeAt(p + 11) !== 0x3a || s.charCodeAt(p + 14) !== 0x3a ||
    s.charCodeAt(p + 17) !== 0x20 || (sign !== 0x2b && sign !== 0x2d)
  ) {
    return NaN;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 1 ? (leap ? 29 : 28) : MONTH_DAYS[month]!)) return NaN; // no such day: the general way decides
  const seconds = daysFromCivil(year, month, day) * 86_400 + hh * 3600 + mm * 60 + ss - (sign === 0x2b ? 1 : -1) * (zh * 60 + zm) * 60;
  return seconds * 1000;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar
 * (`month` 0–11, a valid day; years ≥ 1000 here), by whole 400-year eras
 * counted from March: what Date.UTC computes, as arithmetic (a first SELECT
 * of a 100k group reads 100k dates; the builtin call was most of their cost).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month < 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400; // 0–399
  const mp = month < 2 ? month + 10 : month - 2; // March = 0
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1; // 0–365
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy; // 0–146096
  return era * 146_097 + doe - 719_468;
}
