/**
 * Listeners per user, for a store's in-process change notifications. User
 * names are arbitrary data, so they key a Map — not an EventEmitter, whose
 * `error` and `newListener` events are special, nor a plain object, whose
 * `__proto__` is. A listener that throws is logged; the others still hear.
 */
import type { Logger } from '../../util/log.js';
import type { ChangeEvent, FlagChange, FlagKey } from '../flagstore.js';
import { expandBounded, type RunChange } from './mailbox-state.js';

/** A change in run form (what the agent's SSE feed sends). */
export interface RunChangeEvent {
  key: FlagKey;
  changes: RunChange[];
  highestModseq: number;
  /** Too many mailboxes changed at once to tell one by one (`notifyResync`); `key.mailbox` is ''. */
  resync?: true;
}

/**
 * The per-UID ChangeEvent of `e`, its `changes` expanded on first read (a
 * session that drops its own change by `modseq` never expands 50,000 UIDs).
 * Beyond MAX_EXPANDED_UIDS the list is empty and the refusal logged.
 */
export function perUidEvent(e: RunChangeEvent, log: Logger): ChangeEvent {
  if (e.resync) return { key: e.key, changes: [], highestModseq: 0, resync: true };
  let changes: FlagChange[] | undefined;
  return {
    key: e.key,
    highestModseq: e.highestModseq,
    modseq: e.changes[0]?.modseq, // the runs of one update share its modseq
    get changes(): FlagChange[] {
      if (changes) return changes;
      try {
        return (changes = expandBounded(e.changes));
      } catch (err) {
        log.warn({ err, user: e.key.user, mailbox: e.key.mailbox }, 'change too large to notify per UID');
        return (changes = []);
      }
    },
  };
}

export class Watchers<E> {
  private readonly byUser = new Map<string, Set<(e: E) => void>>();

  constructor(private readonly log: Logger) {}

  /** Call `fn` for every event of `user`. Returns the unsubscribe function. */
  on(user: string, fn: (e: E) => void): () => void {
    const listener = (e: E): void => {
      try {
        fn(e);
      } catch (err) {
        this.log.warn({ err, user }, 'flag change listener threw');
      }
    };
    let set = this.byUser.get(user);
    if (!set) this.byUser.set(user, (set = new Set()));
    set.add(listener);
    return () => {
      const cur = this.byUser.get(user);
      cur?.delete(listener);
      if (cur?.size === 0) this.byUser.delete(user);
    };
  }

  emit(user: string, e: E): void {
    const set = this.byUser.get(user);
    if (set) for (const fn of [...set]) fn(e);
  }

  clear(): void {
    this.byUser.clear();
  }
}
