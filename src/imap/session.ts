/**
 * Per-connection IMAP session state (RFC 9051 §3): the state machine, the
 * authenticated user, enabled extensions and the selected mailbox. It holds
 * no mailbox data of its own beyond the selected view (invariant 7).
 */
import type { FlagKey, FlagStore } from '../stateagent/flagstore.js';
import type { SelectedMailbox } from './selected.js';

export type SessionState = 'notauth' | 'auth' | 'selected' | 'logout';

export const ANY: readonly SessionState[] = ['notauth', 'auth', 'selected'];
export const NOT_AUTHENTICATED: readonly SessionState[] = ['notauth'];
export const AUTHENTICATED: readonly SessionState[] = ['auth', 'selected'];
export const SELECTED: readonly SessionState[] = ['selected'];

export class Session {
  state: SessionState = 'notauth';
  user: string | undefined;
  anonymous = false;
  selected: SelectedMailbox | undefined;
  /** Extensions turned on with ENABLE (upper case), e.g. UTF8=ACCEPT, CONDSTORE, QRESYNC. */
  readonly enabled = new Set<string>();
  flags: FlagStore | undefined;
  failedLogins = 0;
  /**
   * The client's source for per-source login limits (IPv4 address, IPv6 /64;
   * admission.ts `sourceKey`), or undefined when exempt or unknown. Set by the server.
   */
  sourceKey: string | undefined;

  tls = false;
  compressed = false;

  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.enabled.has('IMAP4REV2');
  }

  /** CONDSTORE is on once any command enabled it (RFC 7162 §3.1); QRESYNC implies it. */
  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.enabled.has('QRESYNC');
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  /** The flag-store key of the selected mailbox. */
  flagKey(): FlagKey {
    const sel = this.selected;
    if (!sel || !this.user) throw new Error('no mailbox selected');
    return { user: this.user, mailbox: sel.name, uidValidity: sel.uidValidity };
  }

  private unwatch: (() => void) | undefined;

  login(user: string, anonymous: boolean, flags: FlagStore): void {
    this.user = user;
    this.anonymous = anonymous;
    this.flags = flags;
    this.state = 'auth';
    // Changes by this user's other sessions reach the selected mailbox (RFC 7162 §3.2.3 style updates).
    this.unwatch = flags.watch(user, (e) => {
      const sel = this.selected;
      if (!sel) return;
      if (e.resync) void this.resync(sel);
      else if (e.key.mailbox === sel.name && e.key.uidValidity === sel.uidValidity) sel.noteFlagEvent(e);
    });
  }

  /** The change feed lost events: ask the store what changed since the last modseq heard. */
  private async resync(sel: SelectedMailbox): Promise<void> {
    try {
      const changes = await this.flags!.changedSince(this.flagKey(), sel.knownModseq);
      if (this.selected === sel) sel.noteFlagChanges(changes);
    } catch {
      // the store is away again: the next resync or the client's own CHANGEDSINCE will tell
    }
  }

  select(view: SelectedMailbox): void {
    this.unselect();
    this.selected = view;
    this.state = 'selected';
  }

  unselect(): void {
    if (this.selected) {
      this.selected.close();
      this.selected = undefined;
    }
    if (this.state === 'selected') this.state = 'auth';
  }

  logout(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.unselect();
    this.state = 'logout';
  }
}
