/**
 * Turns for background upstream work that competes with clients for the
 * upstream (the index's In-Reply-To HDR reads, which INN answers by reading
 * every article): at most `concurrency` run at once, and a turn starts only
 * after clients have been quiet for `quietMs` (activity.ts), unless its key
 * (a group) was hurried: someone waits for that work now (THREAD waiting for
 * In-Reply-To), and then all its turns start at once, whatever the bound.
 *
 * Work already started is not interrupted; a client that starts reading
 * delays only the turns not started yet. `close()` lets every waiting turn
 * start at once (the caller's work checks its own closed state).
 */
import type { Activity } from './activity.js';

interface Waiting {
  key: string;
  go: () => void;
}

export class QuietGate {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private readonly hurried = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly activity: Activity,
    private readonly quietMs: number,
    private readonly concurrency: number,
  ) {}

  /** Runs `fn` in a turn of `key` (see the file comment); resolves or rejects as `fn`. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((go) => {
      this.waiting.push({ key, go });
      this.pump();
    });
    try {
      return await fn();
    } finally {
      this.running--;
      this.pump();
    }
  }

  /** Turns of `key` no longer wait for quiet, until `calm(key)`. */
  hurry(key: string): void {
    this.hurried.add(key);
    this.pump();
  }

  calm(key: string): void {
    this.hurried.delete(key);
  }

  /** Turns waiting now (for tests and status). */
  get queued(): number {
    return this.waiting.length;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) {
      this.running++;
      w.go();
    }
  }

  private pump(): void {
    // a hurried key's turns all start now, beyond `concurrency`: a client waits for every one of them
    // (THREAD's first answer waited 1–2 s longer for In-Reply-To HDRs three ranges at a time)
    if (this.hurried.size > 0) {
      for (let i = 0; i < this.waiting.length; ) {
        const w = this.waiting[i]!;
        if (!this.hurried.has(w.key)) {
          i++;
          continue;
        }
        this.waiting.splice(i, 1);
        this.running++;
        w.go();
      }
    }
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const wait = this.closed ? 0 : this.activity.untilQuiet(this.quietMs);
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait).unref();
        return;
      }
      const w = this.waiting.shift()!;
      this.running++;
      w.go();
    }
  }
}

/**
 * Work that waits until clients have been quiet for `quietMs` (e.g. indexing
 * the articles a FETCH just downloaded), each item with the bytes it holds:
 * once more than `maxBytes` wait, everything waiting runs at once (memory
 * stays bounded whatever clients do). `drain()` runs what waits now (before
 * a search reads the index, at close). Items run in the order added; one that
 * throws does not stop the others (it is the item's business to log).
 */
export class QuietBacklog {
  private items: (() => void)[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly activity: Activity,
    private readonly quietMs: number,
    private readonly maxBytes: number,
  ) {}

  /** Items waiting now (for tests and status). */
  get length(): number {
    return this.items.length;
  }

  add(run: () => void, bytes: number): void {
    this.items.push(run);
    this.bytes += bytes;
    if (this.bytes > this.maxBytes) this.drain();
    else this.timer ??= setTimeout(() => this.whenQuiet(), this.activity.untilQuiet(this.quietMs)).unref();
  }

  drain(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    for (const run of items) {
      try {
        run();
      } catch {
        // the item's own failure: see the class comment
      }
    }
  }

  private whenQuiet(): void {
    this.timer = undefined;
    const wait = this.activity.untilQuiet(this.quietMs);
    if (wait > 0) this.timer = setTimeout(() => this.whenQuiet(), wait).unref();
    else this.drain();
  }
}
