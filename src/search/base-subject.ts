/**
 * The base subject of RFC 5256 §2.1: a Subject with the artifacts mail and news
 * software adds ("Re:", "Fwd:", "[list]", "(fwd)", "[fwd: …]") taken away, so that
 * SORT (SUBJECT) and THREAD can compare subjects.
 *
 *   "Re: [list] Fwd: Meeting (fwd)"     → "Meeting"            (reply or forward)
 *   "[list] Meeting"                    → "Meeting"            (not a reply)
 *   "[fwd: Re: Meeting]"                → "Meeting"            (reply or forward)
 *   "=?utf-8?q?Re=3A_caf=C3=A9?="       → "café"               (reply or forward)
 *
 * The steps, with the grammar of RFC 5256 §5:
 *   (1) encoded words decoded to UTF-8; tabs, CR and LF become spaces; runs of
 *       spaces become one;
 *   (2) trailing subj-trailer ("(fwd)" or WSP) removed, repeatedly;
 *   (3) leading subj-leader (`*subj-blob subj-refwd`, or WSP) removed, repeatedly;
 *   (4) a leading subj-blob removed when something is left after it;
 *   (5) (3) and (4) repeated until neither matches;
 *   (6) a "[fwd:" … "]" wrapper removed, and everything again from (2).
 * The subject counts as a reply or forward when a subj-refwd, a "(fwd)" trailer
 * or a "[fwd: ]" wrapper was removed (RFC 5256 §3, REFERENCES step 5).
 *
 * Comparison uses the i;ascii-casemap collation (RFC 5256 §3, RFC 4790 §9.2):
 * `key` is the text with a–z mapped to A–Z and nothing else changed. Pure;
 * never throws.
 */
import { decodeHeaderValue } from '../mime/index.js';
import { asciiCasemap } from './collate.js';

export interface BaseSubject {
  /** The base subject in its own letter case. */
  text: string;
  /** `text` under i;ascii-casemap: equal keys are equal base subjects. */
  key: string;
  /** The extraction removed a subj-refwd, a "(fwd)" trailer or a "[fwd: ]" wrapper. */
  isReplyOrForward: boolean;
}

const SPACE = 0x20;
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COLON = 0x3a;

/** Lower-cased ASCII letter at `i` (other code units unchanged). */
function lower(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** Step (1) after decoding: tabs, CR, LF → space, runs of spaces → one. */
function collapseSpace(s: string): string {
  if (!/[\t\r\n]| {2}/.test(s)) return s;
  return s.replace(/[ \t\r\n]+/g, ' ');
}

/** End of a subj-blob (`"[" *BLOBCHAR "]" *WSP`) starting at `i`, or -1. */
function blobEnd(s: string, i: number, end: number): number {
  if (i >= end || s.charCodeAt(i) !== OPEN) return -1;
  let j = i + 1;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c === CLOSE) break;
    if (c === OPEN) return -1;
    j++;
  }
  if (j >= end) return -1;
  j++;
  while (j < end && s.charCodeAt(j) === SPACE) j++;
  return j;
}

/** End of a subj-refwd (`("re" / "fw" ["d"]) *WSP [subj-blob] ":"`) starting at `i`, or -1. */
function refwdEnd(s: string, i: number, end: number): number {
  let j: number;
  const a = i < end ? lower(s, i) : 0;
  const b = i + 1 < end ? lower(s, i + 1) : 0;
  if (a === 0x72 && b === 0x65) j = i + 2; // re
  else if (a === 0x66 && b === 0x77) j = i + 2 < end && lower(s, i + 2) === 0x64 ? i + 3 : i + 2; // fw, fwd
  else return -1;
  while (j < end && s.charCodeAt(j) === SPACE) j++;
  const blob = blobEnd(s, j, end);
  if (blob >= 0) j = blob;
  return j < end && s.charCodeAt(j) === COLON ? j + 1 : -1;
}

/** End of a `*subj-blob subj-refwd` leader starting at `i`, or -1. */
function leaderEnd(s: string, i: number, end: number): number {
  let j = i;
  for (;;) {
    const r = refwdEnd(s, j, end);
    if (r >= 0) return r;
    const b = blobEnd(s, j, end);
    if (b < 0) return -1;
    j = b;
  }
}

/** True when the five code units at `i` are "(fwd)" in any letter case. */
function isFwdTrailer(s: string, i: number): boolean {
  return (
    s.charCodeAt(i) === 0x28 && lower(s, i + 1) === 0x66 && lower(s, i + 2) === 0x77 && lower(s, i + 3) === 0x64 && s.charCodeAt(i + 4) === 0x29
  );
}

/** True when the text at `i` starts with "[fwd:" in any letter case. */
function isFwdHeader(s: string, i: number): boolean {
  return s.charCodeAt(i) === OPEN && lower(s, i + 1) === 0x66 && lower(s, i + 2) === 0x77 && lower(s, i + 3) === 0x64 && s.charCodeAt(i + 4) === COLON;
}

/**
 * RFC 5256 §2.1 for one Subject header value (unfolded or not; `''` when there is
 * no Subject). Encoded words are decoded with the MIME layer's `decodeHeaderValue`,
 * unless `decoded` says the value is decoded already.
 */
export function baseSubject(subject: string, decoded = false): BaseSubject {
  const s = collapseSpace(!decoded && subject.includes('=?') ? decodeHeaderValue(Buffer.from(subject, 'utf8')) : subject);
  let start = 0;
  let end = s.length;
  let reply = false;
  for (;;) {
    // (2) trailers
    for (;;) {
      if (end > start && s.charCodeAt(end - 1) === SPACE) end--;
      else if (end - start >= 5 && isFwdTrailer(s, end - 5)) {
        end -= 5;
        reply = true;
      } else break;
    }
    // (3)–(5) leaders and blobs
    for (;;) {
      if (start < end && s.charCodeAt(start) === SPACE) {
        start++;
        continue;
      }
      const l = leaderEnd(s, start, end);
      if (l >= 0) {
        start = l;
        reply = true;
        continue;
      }
      const b = blobEnd(s, start, end);
      if (b >= 0 && b < end) {
        start = b;
        continue;
      }
      break;
    }
    // (6) "[fwd: … ]"
    if (end - start >= 6 && isFwdHeader(s, start) && s.charCodeAt(end - 1) === CLOSE) {
      start += 5;
      end -= 1;
      reply = true;
      continue;
    }
    break;
  }
  const text = start === 0 && end === s.length ? s : s.slice(start, end);
  return { text, key: asciiCasemap(text), isReplyOrForward: reply };
}
