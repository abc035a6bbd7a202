/**
 * Input checks shared by every UidMapStore implementation. Each throws
 * `UidMapError('INVALID_INPUT')` naming the offending field; nothing is stored
 * when a check fails (DESIGN invariant 8: hostile input gets a clear error).
 *
 * Strings must be well-formed UTF-16 (a lone surrogate would encode to U+FFFD,
 * so two different Message-IDs could share one key) and free of C0 controls
 * and DEL (never valid in a Message-ID, RFC 5536 §3.1.3, and NUL would be
 * ambiguous inside an ordered-binary array key).
 */
import { UidMapError } from './errors.js';
import {
  MAX_ARTICLE_NUMBER,
  MAX_BATCH,
  MAX_LOCATION_NAME_BYTES,
  MAX_MAILBOX_BYTES,
  MAX_MESSAGE_ID_BYTES,
  MAX_UID,
} from './limits.js';
import type { CheckedBatch, SeenArticle } from './types.js';

const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function invalid(message: string): never {
  throw new UidMapError('INVALID_INPUT', message);
}

/** Printable ASCII only (0x20–0x7e): no control, no surrogate, one UTF-8 byte a character (a regular expression: compiled, it beats a loop over charCodeAt). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const printableAscii = (s: string): boolean => PRINTABLE_ASCII.test(s);

/** Checks a non-empty, bounded, control-free string; `what` names it in the error. */
export function checkName(value: unknown, what: string, maxBytes: number): string {
  // the common case, told without regular expressions or a UTF-8 byte count (a first ingest checks 100k names)
  if (typeof value === 'string' && value.length > 0 && value.length <= maxBytes && printableAscii(value)) return value;
  if (typeof value !== 'string') invalid(`${what} must be a string, got ${typeof value}`);
  if (value.length === 0) invalid(`${what} is empty`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) invalid(`${what} is ${bytes} bytes long; the limit is ${maxBytes}`);
  if (CONTROL.test(value)) invalid(`${what} contains a control character`);
  if (LONE_SURROGATE.test(value)) invalid(`${what} is not well-formed Unicode (lone surrogate)`);
  return value;
}

export function checkMailbox(mailbox: unknown): string {
  return checkName(mailbox, 'mailbox name', MAX_MAILBOX_BYTES);
}

declare const storable: unique symbol;

/**
 * A Message-ID that passed `checkMessageId`: only `storableMessageId` and
 * `checkMessageId` make one (a type that proves the check, so a batch of
 * them, `CheckedArticles`, is not checked again by `assign`).
 */
export type StorableMessageId = string & { readonly [storable]: true };

export function checkMessageId(messageId: unknown): StorableMessageId {
  return checkName(messageId, 'Message-ID', MAX_MESSAGE_ID_BYTES) as StorableMessageId;
}

/** `messageId` when it could be stored, else undefined (no exception made for the common case). */
export function storableMessageId(messageId: unknown): StorableMessageId | undefined {
  try {
    return checkMessageId(messageId);
  } catch {
    return undefined;
  }
}

/** True when `messageId` could be stored; lookups answer "unknown" for anything else instead of throwing. */
export function isStorableMessageId(messageId: unknown): messageId is string {
  return storableMessageId(messageId) !== undefined;
}

/**
 * An `assign` batch of one upstream and group, each article checked as it
 * is added (its Message-ID by its type, `StorableMessageId`; its number
 * here), so `assign` takes it without a second pass over it (issue 14: the
 * first SELECT of a 100k group checked every Message-ID twice). Articles
 * are only added: what was checked stays as checked.
 */
export class CheckedArticles implements CheckedBatch {
  readonly #list: SeenArticle[] = [];
  readonly upstream: string;
  readonly group: string;

  /** Throws INVALID_INPUT for an unstorable upstream id or group name. */
  constructor(upstream: string, group: string) {
    this.upstream = checkName(upstream, 'upstream id', MAX_LOCATION_NAME_BYTES);
    this.group = checkName(group, 'group name', MAX_LOCATION_NAME_BYTES);
  }

  /** Adds an article; throws INVALID_INPUT for a number out of range, or past MAX_BATCH articles. */
  add(messageId: StorableMessageId, number: number): void {
    if (!Number.isInteger(number) || number < 1 || number > MAX_ARTICLE_NUMBER) {
      invalid(`article #${this.#list.length}: article number must be an integer in [1, ${MAX_ARTICLE_NUMBER}], got ${String(number)}`);
    }
    if (this.#list.length >= MAX_BATCH) invalid(`batch of more than ${MAX_BATCH} articles exceeds the limit`);
    this.#list.push({ messageId, upstream: this.upstream, group: this.group, number });
  }

  get length(): number {
    return this.#list.length;
  }

  /** The articles, in the order added (read only: the batch's checks hold for them as they are). */
  get articles(): readonly SeenArticle[] {
    return this.#list;
  }

  /** The articles of a `CheckedArticles`, or undefined for anything else (an object merely shaped like one included). */
  static listOf(x: unknown): readonly SeenArticle[] | undefined {
    return typeof x === 'object' && x !== null && #list in x ? (x as CheckedArticles).#list : undefined;
  }
}

/** True when `uid` is a possible UID (integer in [1, MAX_UID]). */
export function isUid(uid: unknown): uid is number {
  return typeof uid === 'number' && Number.isInteger(uid) && uid >= 1 && uid <= MAX_UID;
}

/** Checks an `assign` batch; returns its articles when every one is valid (a `CheckedArticles` was checked as it was made). */
export function checkArticles(articles: unknown): readonly SeenArticle[] {
  const checked = CheckedArticles.listOf(articles);
  if (checked !== undefined) return checked;
  if (!Array.isArray(articles)) invalid('articles must be an array');
  if (articles.length > MAX_BATCH) invalid(`batch of ${articles.length} articles exceeds the limit of ${MAX_BATCH}`);
  // a batch names one upstream and one group, as a rule: each distinct value is checked once
  let upstream: unknown;
  let group: unknown;
  for (let i = 0; i < articles.length; i++) {
    const a: unknown = articles[i];
    if (typeof a !== 'object' || a === null) invalid(`article #${i} is not an object`);
    const art = a as Record<string, unknown>;
    try {
      checkMessageId(art['messageId']);
      if (art['upstream'] !== upstream || upstream === undefined) upstream = checkName(art['upstream'], 'upstream id', MAX_LOCATION_NAME_BYTES);
      if (art['group'] !== group || group === undefined) group = checkName(art['group'], 'group name', MAX_LOCATION_NAME_BYTES);
      const n = art['number'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_ARTICLE_NUMBER) {
        invalid(`article number must be an integer in [1, ${MAX_ARTICLE_NUMBER}], got ${String(n)}`);
      }
    } catch (err) {
      if (err instanceof UidMapError) throw new UidMapError('INVALID_INPUT', `article #${i}: ${err.message}`);
      throw err;
    }
  }
  return articles as readonly SeenArticle[];
}

/** Checks a list of UIDs for `remove`. */
export function checkUids(uids: unknown): readonly number[] {
  if (!Array.isArray(uids)) invalid('uids must be an array');
  if (uids.length > MAX_BATCH) invalid(`batch of ${uids.length} UIDs exceeds the limit of ${MAX_BATCH}`);
  for (const u of uids) {
    if (typeof u !== 'number' || !Number.isInteger(u) || u < 1 || u > MAX_UID) {
      invalid(`UID must be an integer in [1, ${MAX_UID}], got ${String(u)}`);
    }
  }
  return uids as readonly number[];
}

/**
 * Normalises the optional bounds of `uids(lo, hi)`: missing ⇒ [1, MAX_UID],
 * clamped to that interval; non-numbers are refused. An empty range is fine.
 */
export function checkRange(lo: unknown, hi: unknown): [number, number] {
  const l = lo === undefined ? 1 : lo;
  const h = hi === undefined ? MAX_UID : hi;
  if (typeof l !== 'number' || Number.isNaN(l)) invalid(`range start must be a number, got ${String(lo)}`);
  if (typeof h !== 'number' || Number.isNaN(h)) invalid(`range end must be a number, got ${String(hi)}`);
  return [Math.max(1, Math.ceil(l)), Math.min(MAX_UID, Math.floor(h))];
}
