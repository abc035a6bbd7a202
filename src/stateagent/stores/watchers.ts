/**
 * Listeners per user, for a store's in-process change notifications. User
 * names are arbitrary data, so they key a Map — not an EventEmitter, whose
 * `error` and `newListener` events are special, nor a plain object, whose
 * `__proto__` is. A listener that throws is logged; the others still hear.
 */
import type { Logger } from '../../util/log.js';

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
