/**
 * Bounded concurrency for password checks. scrypt already runs off the main
 * thread (node's async `crypto.scrypt` uses the libuv thread pool), but that
 * pool is small (4 threads) and shared with file reads and DNS lookups:
 * unbounded guesses queue every file read behind them. This queue runs at
 * most `concurrency` checks at once and lets at most `maxWaiting` wait,
 * best rank first (0 before 1 before 2), first come first served within a rank.
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
  /** One FIFO per rank. */
  private readonly waiting: Waiter[][];
  private waitingCount = 0;

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
    ranks = 3,
  ) {
    if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    this.waiting = Array.from({ length: ranks }, () => []);
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
    if (this.running >= this.concurrency) await this.wait(r);
    else this.running++;
    try {
      return await task();
    } finally {
      this.release();
    }
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

  /** A check ended: hand its slot to the best waiter, or free it. */
  private release(): void {
    for (const q of this.waiting) {
      const w = q.shift();
      if (w) {
        this.waitingCount--;
        w.start(); // the slot passes on: `running` is unchanged
        return;
      }
    }
    this.running--;
  }
}
