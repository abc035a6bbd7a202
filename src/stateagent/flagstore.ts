/**
 * FlagStore: where per-user message flags live (DESIGN "State agent model").
 * The IMAP layer calls only this interface. Implementations: session-only
 * (client-held; nothing persists), and — with the state-agent issue — local
 * LMDB and the remote state agent.
 *
 * Keys are (user, mailbox, uidValidity); values are flags per UID kept as
 * range sets, so the cost follows the number of ranges, not of messages.
 * An `update` that resolves has made the change durable in a persistent store
 * (invariant 4); if the store cannot be reached it rejects with
 * `FlagStoreError('UNAVAILABLE')` and nothing was changed.
 */

export interface FlagKey {
  user: string;
  mailbox: string;
  uidValidity: number;
}

/** A read view of the flags of one mailbox for a UID span. */
export interface FlagView {
  /** The flags of `uid` (system flags with their backslash, keywords as given). */
  flagsOf(uid: number): readonly string[];
  /** All flags and keywords in use in the mailbox (for the FLAGS response). */
  keywords(): readonly string[];
  /** The UIDs in the span that carry `flag`. */
  has(uid: number, flag: string): boolean;
}

export type FlagOp = 'add' | 'remove' | 'set';

export interface FlagStore {
  /** True when flags survive the session (PERMANENTFLAGS is non-empty). */
  readonly persistent: boolean;
  view(key: FlagKey, lo: number, hi: number): Promise<FlagView>;
  /** Apply `op` with `flags` to `uids` (ascending). */
  update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[]): Promise<void>;
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
