/**
 * Bounded concurrency for password checks. scrypt already runs off the main
 * thread (node's async `crypto.scrypt` uses the libuv thread pool), but that
 * pool is small (4 threads) and shared with file reads and DNS lookups:
 * unbounded guesses queue every file read behind them. This queue runs at
 * most `concurrency` checks at once and lets at most `maxWaiting` wait,
 * best rank first (0 before 1 before 2), first come first served within a
 * rank. With two slots or more, one is kept for rank 0 (a user logging in
 * from a source it used before): guesses never hold every slot, so such a
 * login waits for no guess.
 *
 * When the waiting room is full, a newcomer takes the place of the newest
 * waiter of a worse rank, which is rejected with `CheckQueueFull`; with none
 * worse, the newcomer is rejected. A rejected check never ran.
 */

export class CheckQueueFull extends Error {
  readonly code = 'CHECK_QUEUE_FULL';
  constructor() {
    super('too many password checks waiting');
    this.name = 'CheckQueueFull';
  }
}

interface Waiter {
  start(): void;
  reject(err: Error): void;
}

export class CheckQueue {
  private running = 0;
  /** Running checks of ranks other than 0. */
  private runningOthers = 0;
  /** One FIFO per rank. */
  private readonly waiting: Waiter[][];
  private waitingCount = 0;
  /** Slots ranks other than 0 may fill: one is kept for rank 0 when there are two or more. */
  private readonly othersMax: number;

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
    ranks = 3,
  ) {
    if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    this.waiting = Array.from({ length: ranks }, () => []);
    this.othersMax = concurrency > 1 ? concurrency - 1 : 1;
  }

  /** Checks running now. */
  get active(): number {
    return this.running;
  }

  /** Checks waiting for a slot. */
  get queued(): number {
    return this.waitingCount;
  }

  /** Run `task` when a slot is free. Rejects with CheckQueueFull (task not run) when there is no room. */
  async run<T>(task: () => Promise<T>, rank: number): Promise<T> {
    const r = Math.max(0, Math.min(this.waiting.length - 1, rank));
    // after every change the waiters that can start have started, so a waiter of
    // this rank or better means the newcomer cannot start either: FIFO holds
    if (this.canStart(r)) this.take(r);
    else await this.wait(r);
    try {
      return await task();
    } finally {
      this.running--;
      if (r > 0) this.runningOthers--;
      this.dispatch();
    }
  }

  private canStart(rank: number): boolean {
    return this.running < this.concurrency && (rank === 0 || this.runningOthers < this.othersMax);
  }

  private take(rank: number): void {
    this.running++;
    if (rank > 0) this.runningOthers++;
  }

  private wait(rank: number): Promise<void> {
    if (this.waitingCount >= this.maxWaiting) {
      const victim = this.evictWorseThan(rank);
      if (!victim) return Promise.reject(new CheckQueueFull());
      victim.reject(new CheckQueueFull());
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting[rank]!.push({ start: resolve, reject });
      this.waitingCount++;
    });
  }

  /** Remove and return the newest waiter of the worst rank worse than `rank`, if any. */
  private evictWorseThan(rank: number): Waiter | undefined {
    for (let r = this.waiting.length - 1; r > rank; r--) {
      const w = this.waiting[r]!.pop();
      if (w) {
        this.waitingCount--;
        return w;
      }
    }
    return undefined;
  }

  /** Start the best waiters that may start now. */
  private dispatch(): void {
    for (let r = 0; r < this.waiting.length; r++) {
      const q = this.waiting[r]!;
      while (q.length > 0 && this.canStart(r)) {
        this.waitingCount--;
        this.take(r);
        q.shift()!.start();
      }
    }
  }
}
