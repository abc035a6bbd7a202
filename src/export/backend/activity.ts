/**
 * When clients last read something (meta, content, structure, SORT/THREAD
 * header reads), so background work (the index crawler) can keep out of
 * their way: it starts a read only after `quietFor(ms)`.
 */
export class Activity {
  private last = 0;

  /** A client read happened now. */
  touch(): void {
    this.last = Date.now();
  }

  /** True when no client read for `ms` milliseconds. */
  quietFor(ms: number): boolean {
    return Date.now() - this.last >= ms;
  }

  /** Milliseconds until `quietFor(ms)` holds (0: it does). */
  untilQuiet(ms: number): number {
    return Math.max(0, this.last + ms - Date.now());
  }
}
