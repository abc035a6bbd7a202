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
 * Contract of `take()`:
 * - waiters get their turn one at a time, in arrival order; a turn is the
 *   work the waiter does until it awaits real I/O (its promise chain: the
 *   microtasks it queues); the next turn starts after that;
 * - turns run back to back in a *window* that starts in a `setImmediate`
 *   callback (the check phase of a loop iteration) and lasts while less than
 *   `budgetMs` has passed since it started (one turn may overrun it: a turn
 *   is never cut);
 * - after a window the scheduler yields to the loop: one iteration per
 *   `budgetMs` the window took (at least 1, at most MAX_PAUSE) passes before
 *   the next window, so between two windows the loop polls, accepts
 *   connections (one per iteration while busy), reads and answers cheap
 *   commands, in proportion to the time the turns took;
 * - a search alone waits one `setImmediate` (well under a millisecond);
 *   `take()` never rejects.
 *
 * Before the windows (2026-12-07), each heavy turn was followed by 16 loop
 * iterations: 1,000 sessions got 1,343 commands/s with SEARCH mean 4.8 s,
 * nearly all of it waiting in line.
 */

/** Milliseconds of turns one window may run before yielding to the loop. */
const BUDGET_MS = 5;

/** Most loop iterations between two windows (one very long turn does not stall the queue for longer). */
const MAX_PAUSE = 16;

export interface TurnsOptions {
  /** See BUDGET_MS. */
  budgetMs?: number;
  /** The clock windows are measured with, in ms (default `performance.now`; tests inject one). */
  now?: () => number;
}

export class Turns {
  private readonly waiting: (() => void)[] = [];
  /** A window is running or scheduled. */
  private active = false;
  private windowStart = 0;
  private readonly budgetMs: number;
  private readonly now: () => number;

  constructor(opts: TurnsOptions = {}) {
    this.budgetMs = opts.budgetMs ?? BUDGET_MS;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Resolves when it is this caller's turn (never rejects). */
  take(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (!this.active) this.pause(1);
    });
  }

  /** Starts a window after `hops` loop iterations (an immediate queued in the check phase runs in the next iteration). */
  private pause(hops: number): void {
    this.active = true;
    setImmediate(() => {
      if (hops > 1) return this.pause(hops - 1);
      this.windowStart = this.now();
      this.release();
    });
  }

  /** Lets the next waiter go; its turn ends when the microtasks it queued have run. */
  private release(): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      this.active = false;
      return;
    }
    next();
    // A tick queued from a microtask runs once the microtask queue is empty: after the turn's promise chain.
    queueMicrotask(() => process.nextTick(this.afterTurn));
  }

  private readonly afterTurn = (): void => {
    const took = this.now() - this.windowStart;
    if (took < this.budgetMs) return this.release();
    if (this.waiting.length === 0) {
      this.active = false;
      return;
    }
    this.pause(Math.min(MAX_PAUSE, Math.max(1, Math.ceil(took / this.budgetMs))));
  };
}
