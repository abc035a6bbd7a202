/**
 * The UID map: the only place IMAP UIDs are made (DESIGN invariants 1 and 2).
 *
 * Per mailbox it keeps UIDVALIDITY, UIDNEXT, Message-ID ↔ UID and, per UID,
 * where to fetch the article (upstream id, group, article number).
 *
 * Rules:
 * - first sight: an article seen on the mailbox's primary upstream gets
 *   UID = its article number, provided that number ≥ UIDNEXT; otherwise UIDNEXT.
 *   Articles seen first on a non-primary upstream get UIDNEXT.
 * - after that the map is authoritative: a known Message-ID keeps its UID even
 *   if an upstream renumbers it or is replaced (its location is updated);
 * - UIDs are assigned strictly ascending and never reused;
 * - UIDVALIDITY is set when a mailbox's map is created and only changes when
 *   the map is lost (a new map then gets a UIDVALIDITY different from any
 *   earlier one of the same store).
 */

export interface ArticleLocation {
  /** Source id (see `Source.id`). */
  upstream: string;
  group: string;
  number: number;
}

export interface SeenArticle extends ArticleLocation {
  messageId: string;
}

/**
 * A batch of articles checked as it was made: validate.ts `CheckedArticles`
 * is the one kind `assign` trusts (anything else of this shape is checked
 * like an array).
 */
export interface CheckedBatch {
  readonly articles: readonly SeenArticle[];
  readonly length: number;
}

export interface UidEntry {
  uid: number;
  messageId: string;
  location: ArticleLocation;
}

export interface MailboxUidMap {
  readonly mailbox: string;
  readonly uidValidity: number;
  /** Next UID to be assigned (1 + highest UID ever assigned, at least 1). */
  uidNext(): number;
  /** Number of UIDs currently mapped. */
  count(): number;
  /**
   * Record articles seen on an upstream, in ascending article-number order,
   * and return their UIDs in the same order. Known Message-IDs keep their UID
   * (the location is updated when it differs); new ones are assigned per the
   * first-sight rule. `primary` tells whether `upstream` is this mailbox's
   * primary upstream. Atomic: all of a batch or none is stored. A
   * `CheckedArticles` batch was checked as it was made (validate.ts); an
   * array is checked here.
   */
  assign(articles: readonly SeenArticle[] | CheckedBatch, primary: boolean): Promise<number[]>;
  /**
   * Present when `assign` calls may overlap (a caller need not wait for one
   * to resolve before making the next): they are applied in call order, each
   * planned on what the earlier ones leave, and a call made while an earlier
   * one is unsettled is not applied when that one fails. `failures()` counts
   * the calls that failed so far, synchronously: a caller overlapping calls
   * checks it before each call, since a call made after a failure is applied
   * on its own. Absent: a caller awaits each call before the next.
   */
  readonly pipelined?: { failures(): number };
  uidOf(messageId: string): number | undefined;
  lookup(uid: number): UidEntry | undefined;
  /** UIDs in [lo, hi] ascending, without loading the whole mailbox at once. */
  uids(lo?: number, hi?: number): Iterable<number>;
  /** Forget UIDs whose article expired upstream; they are never reused. */
  remove(uids: readonly number[]): Promise<void>;
}

export interface UidMapStore {
  /** Open (creating if needed) the map of one mailbox. */
  open(mailbox: string): Promise<MailboxUidMap>;
  /** Names of mailboxes that have a map. */
  mailboxes(): string[];
  close(): Promise<void>;
}
