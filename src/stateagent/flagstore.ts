/**
 * FlagStore: where per-user message flags live (DESIGN "State agent model").
 * The IMAP layer calls only this interface. Implementations: session-only
 * (client-held; nothing persists), local LMDB, and the remote state agent.
 *
 * A `set`/`add`/`remove` call that resolves has made the change durable in a
 * persistent store (invariant 4). Keys are (user, mailbox, uidValidity, uid).
 */

export interface FlagKey {
  user: string;
  mailbox: string;
  uidValidity: number;
}

export interface FlagStore {
  /** True when flags survive the session (PERMANENTFLAGS is non-empty). */
  readonly persistent: boolean;
  /** Flags per UID for the UIDs in `uids` (absent ⇒ no flags). */
  get(key: FlagKey, uids: readonly number[]): Promise<Map<number, Set<string>>>;
  /** Apply a change to a set of UIDs; resolves with the new flags of each. */
  update(
    key: FlagKey,
    uids: readonly number[],
    op: 'add' | 'remove' | 'set',
    flags: readonly string[],
  ): Promise<Map<number, Set<string>>>;
}
