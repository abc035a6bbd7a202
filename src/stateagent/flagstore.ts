/**
 * FlagStore: where per-user message flags live (DESIGN "State agent model").
 * The IMAP layer calls only this interface. Implementations: session-only
 * (client-held; nothing persists), local LMDB (`stores/local.ts`), PostgreSQL
 * shared by front-ends (`stores/postgres.ts`) and the remote state agent over
 * HTTP (`stores/remote.ts`); one contract suite (test/stateagent/contract.ts)
 * runs against all.
 *
 * Keys are (user, mailbox, uidValidity); values are flags per UID kept as
 * range sets, so the cost follows the number of ranges, not of messages.
 * Every change gets a modification sequence (RFC 7162): all UIDs whose flags
 * one `update` alters share one new modseq, greater than every earlier one
 * of that key; UIDs already so keep theirs, and an update that alters no UID
 * takes no modseq. A UID never changed has modseq 1 (RFC 7162 §3.1: ≥ 1).
 *
 * An `update` that resolves has made the change durable in a persistent store
 * (invariant 4); if the store cannot be reached it rejects with
 * `FlagStoreError('UNAVAILABLE')` and nothing was changed.
 *
 * Behind this interface flags take four forms, each for one purpose:
 * - `RangeSet` / `Run[]` (src/util/rangeset.ts): a set of UIDs as ranges, and
 *   a sorted list of ranges as argument and wire form (`.newsrc` text);
 * - `ModseqMap` (modseq-map.ts): UID ranges → modseq, flat so it copies cheaply;
 * - `MailboxFlags` (stores/mailbox-state.ts): one mailbox in memory (a RangeSet
 *   per flag, a ModseqMap, HIGHESTMODSEQ), changed and read back in runs;
 * - chunk records (stores/chunks.ts): one mailbox on disk (LMDB), cut by UID
 *   span so an update rewrites only the chunks it touches.
 */

export interface FlagKey {
  user: string;
  mailbox: string;
  uidValidity: number;
}

/** A read view of the flags of one mailbox for a UID span [lo, hi]. */
export interface FlagView {
  /** The flags of `uid` (system flags with their backslash, keywords as given). */
  flagsOf(uid: number): readonly string[];
  has(uid: number, flag: string): boolean;
  /** Modification sequence of `uid` (1 if never changed). */
  modseqOf(uid: number): number;
  /** All flags and keywords in use in the mailbox (for the FLAGS response). */
  keywords(): readonly string[];
  /**
   * The UIDs lo..hi cut into runs of equal flags, ascending, covering the span
   * (UIDs with no flags form runs with `[]`): a listing renders each run's
   * flags once, not once per message. Cost follows the ranges inside the span.
   */
  flagRuns(lo: number, hi: number): FlagRun[];
  /** HIGHESTMODSEQ of the mailbox when the view was taken (≥ 1). */
  readonly highestModseq: number;
}

/** UIDs lo..hi that all have `flags`. */
export interface FlagRun {
  lo: number;
  hi: number;
  flags: readonly string[];
}

export type FlagOp = 'add' | 'remove' | 'set';

export interface FlagChange {
  uid: number;
  flags: readonly string[];
  modseq: number;
}

export interface UpdateOptions {
  /** RFC 7162 UNCHANGEDSINCE: UIDs whose modseq is greater are not changed. */
  unchangedSince?: number;
}

export interface UpdateResult {
  /** UIDs not changed because of UNCHANGEDSINCE (for `[MODIFIED ...]`), ascending. */
  modified: number[];
  /**
   * Every UID this update reached — all of `uids` not in `modified` — with
   * its flags and modseq right after the change, ascending by UID: what
   * STORE reports in its untagged FETCH (FLAGS, CONDSTORE MODSEQ) without
   * reading the store again. A UID whose flags changed has `modseq` below;
   * one whose flags were already so keeps its modseq. Stores may build the
   * list on first read (a silent STORE does not read it).
   */
  readonly changes: FlagChange[];
  /** The modseq given to this change (the unchanged HIGHESTMODSEQ if nothing changed). */
  modseq: number;
  highestModseq: number;
  /**
   * True when some UID's flags changed and got the new `modseq`; false when
   * none did (all in `modified`, or already so): then nothing was stored,
   * no watcher hears of it, and `modseq` is no change's own.
   */
  bumped: boolean;
}

/**
 * A change notification for other sessions of the same user. With `resync`
 * the feed lost events (e.g. the agent restarted): `key.mailbox` is '' and
 * every session should ask `changedSince` for what it has missed.
 */
export interface ChangeEvent {
  key: FlagKey;
  /** Per UID, ascending; a store may build the list on first read (read it only if needed). */
  readonly changes: FlagChange[];
  highestModseq: number;
  /** The modseq every entry of `changes` has, when they share one (one update's change). */
  modseq?: number;
  resync?: true;
}

export interface FlagStore {
  /** True when flags survive the session (PERMANENTFLAGS is non-empty). */
  readonly persistent: boolean;
  view(key: FlagKey, lo: number, hi: number): Promise<FlagView>;
  /** Apply `op` with `flags` to `uids` (ascending); resolves with the flags it set (see UpdateResult). */
  update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[], opts?: UpdateOptions): Promise<UpdateResult>;
  /** Every UID whose modseq is greater than `modseq`, with its current flags (CHANGEDSINCE, QRESYNC). */
  changedSince(key: FlagKey, modseq: number): Promise<FlagChange[]>;
  /** Learn of changes made by other sessions of `user` (all mailboxes). Returns an unsubscribe function. */
  watch(user: string, fn: (e: ChangeEvent) => void): () => void;
  /** The user's subscribed mailboxes, or null if the user never set any (all count as subscribed). */
  subscriptions(user: string): Promise<string[] | null>;
  setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void>;
  close(): Promise<void>;
}

export type FlagStoreErrorCode = 'UNAVAILABLE' | 'INVALID' | 'FORBIDDEN';

export class FlagStoreError extends Error {
  readonly code: FlagStoreErrorCode;
  constructor(code: FlagStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlagStoreError';
    this.code = code;
  }
}

/** System flags a user may set (RFC 9051 §2.3.2); \Recent is not settable. */
export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;
