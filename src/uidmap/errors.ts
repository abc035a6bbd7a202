/**
 * Error classes of the UID map layer. Every failure leaves the map unchanged
 * (an `assign` or `remove` batch is all-or-nothing) and is thrown as a
 * `UidMapError` with a stable `code`; storage failures wrap the LMDB error as
 * `cause`. The export layer maps these to IMAP responses (STYLE §7).
 */

export type UidMapErrorCode =
  /** Input rejected before anything was written (empty/oversized Message-ID, bad number, ...). */
  | 'INVALID_INPUT'
  /** No UID ≤ 2^32-1 is left for a new article (RFC 9051 §2.3.1.1: UIDs are 32-bit). */
  | 'UID_EXHAUSTED'
  /** No UIDVALIDITY ≤ 2^32-1 is left for a new mailbox map. */
  | 'UIDVALIDITY_EXHAUSTED'
  /** The store (or a map opened from it) was used after `close()`. */
  | 'CLOSED'
  /** The underlying storage failed; see `cause`. */
  | 'STORAGE';

export class UidMapError extends Error {
  readonly code: UidMapErrorCode;
  constructor(code: UidMapErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UidMapError';
    this.code = code;
  }
}
