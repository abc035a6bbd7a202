/**
 * Heavy searches take turns with the rest of the event loop. SEARCH, SORT
 * and THREAD on a big group run for tens to hundreds of ms without awaiting
 * real I/O (the index is read synchronously, and the caller's continuation —
 * sets of 100k UIDs, the answer's text — runs in the same microtask run).
 * When many sessions search at once, one loop iteration used to run all of
 * them back to back: measured on the 100k group with 100 sessions repeating
 * `UID SEARCH BODY the` on a loaded machine (scratch test, 2026-12-07), an
 * iteration took ~50 s; and Node (libuv 1.46, Linux) accepts one connection
 * per loop iteration while the loop is busy (measured: 59 of 300 queued
 * connections accepted over 60 busy iterations), so of 300 new connections
 * 4 were greeted within 60 s, and every other command waited as long.
 *
 * `take()` resolves in a `setImmediate` callback of its own, one waiter at
 * a time in arrival order, and after a heavy turn (CHEAP_MS or more until
 * the next iteration's check phase) BETWEEN_TURNS more loop iterations pass
 * before the next (each costs a few µs when there is no I/O): between two searches the loop polls, accepts connections, reads and
 * answers cheap commands. With it, the same test greeted all 300.
 * A search alone waits one `setImmediate` (well under a millisecond).
 */

/** Loop iterations between two turns after a heavy one: up to this many connections accepted per heavy search. */
const BETWEEN_TURNS = 16;

/** A turn shorter than this (with the poll phase after it) was cheap: the next waiter goes in the next iteration, without the pause. */
const CHEAP_MS = 2;

export class Turns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  /** When the last waiter was let go (performance.now()). */
  private released = 0;

  /** Resolves when it is this caller's turn (never rejects). */
  take(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) this.schedule(0);
    });
  }

  /** The next waiter runs after `hops` more loop iterations (immediates queued in the check phase run in the next iteration). */
  private schedule(hops: number): void {
    this.scheduled = true;
    setImmediate(() => {
      // the first pause step sees how long the last turn (and the poll phase after it) took
      if (hops === BETWEEN_TURNS && performance.now() - this.released < CHEAP_MS) hops = 0;
      if (hops > 0) return this.schedule(hops - 1);
      const next = this.waiting.shift();
      if (next === undefined) {
        this.scheduled = false;
        return;
      }
      next();
      this.released = performance.now();
      if (this.waiting.length > 0) this.schedule(BETWEEN_TURNS);
      else this.scheduled = false;
    });
  }
}
