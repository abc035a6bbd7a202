/**
 * Input checks shared by the flag stores and the agent. Every check throws
 * `FlagStoreError('INVALID')` with a message safe to show a caller.
 */
import { FlagStoreError, SYSTEM_FLAGS, type FlagKey } from './flagstore.js';
import {
  MAX_FLAG_BYTES, MAX_FLAGS_PER_UPDATE, MAX_MAILBOX_BYTES, MAX_UID_VALIDITY, MAX_USER_BYTES,
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
