/**
 * Who hears what of the PostgreSQL flag store's changes: its in-process
 * watchers (per user), fed by the store's own committed changes at once and
 * by other stores' changes through LISTEN (postgres-notify.ts), in the order
 * they arrive. A notice without its runs (too large for a payload) is
 * completed by reading the mailbox; while that read runs, later notices wait,
 * so watchers hear changes in commit order. After the listening connection
 * was lost, every watched user gets a `resync` event.
 */
import type { Logger } from '../../util/log.js';
import type { FlagKey } from '../flagstore.js';
import { runChanges, type MailboxFlags } from './mailbox-state.js';
import { decodeNotice, PgListener, type Notice } from './postgres-notify.js';
import { Watchers, type RunChangeEvent } from './watchers.js';

export function resyncEvent(user: string): RunChangeEvent {
  return { key: { user, mailbox: '', uidValidity: 0 }, changes: [], highestModseq: 0, resync: true };
}

export interface PgFeedOptions {
  url: string;
  channel: string;
  /** The store's name in payloads: notices from it are skipped (its watchers heard them already). */
  origin: string;
  logger: Logger;
  /** The current flags of a mailbox (for notices without runs). */
  read: (key: FlagKey) => Promise<MailboxFlags>;
}

export class PgFeed {
  private readonly watchers: Watchers<RunChangeEvent>;
  private readonly watched = new Map<string, number>();
  private inbound: Promise<void> = Promise.resolve();
  private readonly listener: PgListener;
  private closed = false;

  constructor(private readonly o: PgFeedOptions) {
    this.watchers = new Watchers(o.logger);
    this.listener = new PgListener({
      url: o.url, channel: o.channel, logger: o.logger, onPayload: (p) => this.heard(p), onReconnect: () => this.resyncAll(),
    });
  }

  /** Start listening. Throws the driver's error if that fails. */
  start(): Promise<void> {
    return this.listener.start();
  }

  get listening(): boolean {
    return this.listener.isListening;
  }

  /** Call `fn` for every change of `user`. Returns the unsubscribe function (idempotent). */
  on(user: string, fn: (e: RunChangeEvent) => void): () => void {
    const off = this.watchers.on(user, fn);
    this.watched.set(user, (this.watched.get(user) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      off();
      const n = (this.watched.get(user) ?? 1) - 1;
      if (n > 0) this.watched.set(user, n);
      else this.watched.delete(user);
    };
  }

  /** Tell local watchers of a change committed through this store. */
  emit(e: RunChangeEvent): void {
    this.watchers.emit(e.key.user, e);
  }

  private heard(payload: string): void {
    const n = decodeNotice(payload);
    if (!n) {
      this.o.logger.warn('ignoring a malformed flag change notification');
      return;
    }
    if (n.origin === this.o.origin || !this.watched.has(n.user)) return;
    this.inbound = this.inbound.then(() => this.deliver(n));
  }

  private async deliver(n: Notice): Promise<void> {
    if (this.closed) return;
    if ('resync' in n) {
      this.emit(resyncEvent(n.user));
      return;
    }
    const key = { user: n.user, mailbox: n.mailbox, uidValidity: n.uidValidity };
    let changes = n.runs;
    if (changes === null) {
      try {
        const mf = await this.o.read(key);
        changes = runChanges(mf, [...mf.modseqs.runs()].filter(([, , ms]) => ms === n.modseq));
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message, user: n.user }, 'could not read a notified change; watchers resync');
        this.emit(resyncEvent(n.user));
        return;
      }
      if (changes.length === 0) return; // overwritten since: a later notice tells
    }
    this.emit({ key, changes, highestModseq: n.modseq });
  }

  /** The listener was down: whatever changed meanwhile went unheard. */
  private resyncAll(): void {
    for (const user of this.watched.keys()) this.inbound = this.inbound.then(() => this.emit(resyncEvent(user)));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    this.watched.clear();
    await this.listener.close();
  }
}
