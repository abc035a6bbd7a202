/**
 * Input checks shared by the flag stores and the agent, and the parser of
 * UID set text. Every check throws `FlagStoreError('INVALID')` with a message
 * safe to show a caller.
 */
import { RangeSet, toRuns, type Run } from '../util/rangeset.js';
import { FlagStoreError, SYSTEM_FLAGS, type FlagKey } from './flagstore.js';
import {
  MAX_FLAG_BYTES, MAX_FLAGS_PER_UPDATE, MAX_MAILBOX_BYTES, MAX_RANGES_PER_REQUEST, MAX_UID, MAX_UID_VALIDITY, MAX_USER_BYTES,
} from './limits.js';

/** C0 controls and DEL: they would break key separators and `.newsrc` lines. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function checkUser(user: unknown): string {
  if (typeof user !== 'string' || user === '' || bytes(user) > MAX_USER_BYTES || CONTROL.test(user)) {
    throw new FlagStoreError('INVALID', `user name must be 1..${MAX_USER_BYTES} bytes without control characters`);
  }
  return user;
}

export function checkMailbox(mailbox: unknown): string {
  if (typeof mailbox !== 'string' || mailbox === '' || bytes(mailbox) > MAX_MAILBOX_BYTES || CONTROL.test(mailbox)) {
    throw new FlagStoreError('INVALID', `mailbox name must be 1..${MAX_MAILBOX_BYTES} bytes without control characters`);
  }
  return mailbox;
}

export function checkUidValidity(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_UID_VALIDITY) {
    throw new FlagStoreError('INVALID', `UIDVALIDITY must be an integer in 1..${MAX_UID_VALIDITY}`);
  }
  return v;
}

export function checkKey(key: FlagKey): FlagKey {
  checkUser(key.user);
  checkMailbox(key.mailbox);
  checkUidValidity(key.uidValidity);
  return key;
}

/**
 * A flag is a system flag (`\Seen` ...; matched case-insensitively and returned
 * in canonical case; `\Recent` is not storable, RFC 9051 §2.3.2) or a keyword: an IMAP atom without `\` (RFC 9051 §9 flag-keyword).
 */
const KEYWORD = /^[^\u0000-\u0020\u007f(){%*"\\\]]+$/;
const SYSTEM = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

export function checkFlags(flags: unknown): string[] {
  if (!Array.isArray(flags) || flags.length > MAX_FLAGS_PER_UPDATE) {
    throw new FlagStoreError('INVALID', `flags must be a list of at most ${MAX_FLAGS_PER_UPDATE}`);
  }
  const out = new Set<string>();
  for (const f of flags) {
    const sys = typeof f === 'string' ? SYSTEM.get(f.toLowerCase()) : undefined;
    if (sys) out.add(sys);
    else if (typeof f === 'string' && bytes(f) <= MAX_FLAG_BYTES && KEYWORD.test(f)) out.add(f);
    else throw new FlagStoreError('INVALID', `bad flag ${JSON.stringify(String(f).slice(0, 40))}`);
  }
  return [...out];
}

export function checkModseq(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new FlagStoreError('INVALID', `${what} must be a non-negative integer`);
  }
  return n;
}

/** Ascending UIDs (an update's `uids`) → runs. Throws INVALID unless strictly ascending integers in 1..MAX_UID. */
export function checkUids(uids: readonly number[]): Run[] {
  let prev = 0;
  for (const u of uids) {
    if (!Number.isInteger(u) || u < 1 || u > MAX_UID || u <= prev) {
      throw new FlagStoreError('INVALID', `UIDs must be ascending integers in 1..${MAX_UID}`);
    }
    prev = u;
  }
  return toRuns(uids);
}

export interface ParseRangesOptions {
  /**
   * `.newsrc` leniency: article `0`, which newsreaders write to mean
   * "nothing" (`0`, `1-0`, `0-N` for "nothing before N"), is dropped. Nothing
   * else differs: any other range that ends before it starts (`5-1`) is
   * refused in both forms.
   */
  newsrc?: boolean;
}

/**
 * Parse UID set text `1-5,7,9-12` (the agent API's and `.newsrc`'s form) into
 * normalized runs (sorted, merged; overlaps allowed in the input). Empty text
 * is the empty list. Throws INVALID naming the range (`range 9-4 ends before
 * it starts`), also beyond MAX_RANGES_PER_REQUEST ranges.
 */
export function parseRanges(text: string, opts: ParseRangesOptions = {}): Run[] {
  const t = text.trim();
  if (t === '') return [];
  const parts = t.split(',');
  if (parts.length > MAX_RANGES_PER_REQUEST) {
    throw new FlagStoreError('INVALID', `more than ${MAX_RANGES_PER_REQUEST} ranges`);
  }
  let sorted = true;
  let prevHi = 0;
  const runs: Run[] = [];
  for (const raw of parts) {
    const m = /^\s*(\d{1,10})(?:\s*-\s*(\d{1,10}))?\s*$/.exec(raw);
    if (!m) throw new FlagStoreError('INVALID', `bad range ${JSON.stringify(raw.slice(0, 40))}`);
    let lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (opts.newsrc && hi === 0) continue; // `0`, `1-0`: nothing read
    if (hi < lo) throw new FlagStoreError('INVALID', `range ${lo}-${hi} ends before it starts`);
    if (opts.newsrc && lo === 0) lo = 1;
    if (lo < 1 || hi > MAX_UID) throw new FlagStoreError('INVALID', `range ${raw.trim()} outside 1..${MAX_UID}`);
    if (lo <= prevHi + 1 && runs.length > 0) sorted = false;
    prevHi = Math.max(prevHi, hi);
    runs.push([lo, hi]);
  }
  if (sorted) return runs;
  const set = new RangeSet();
  for (const [lo, hi] of runs) set.add(lo, hi);
  return [...set.ranges()];
}
