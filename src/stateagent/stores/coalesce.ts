/**
 * Group commit for a store's statements: calls that arrive while `maxInFlight`
 * flushes are already out wait, and go out together in the next flush (at most
 * `maxBatch` per flush), so under load N waiting calls cost one round trip
 * instead of N, and a quiet store sends each call at once (no timer, no delay).
 *
 *   const reads = new Coalescer<FlagKey, Loaded>(4, 500, (keys) => loadMany(keys));
 *   const one = await reads.submit(key);
 *
 * Contract: `flush(items)` resolves with one output per item, in order (or
 * rejects: every item of that flush rejects with the same error); a flush
 * that returns the wrong count rejects its items. Items are flushed in the
 * order submitted. Used by the PostgreSQL flag store (postgres.ts) for reads
 * (`loadMany` of many mailboxes) and writes (`writeMany`, one transaction
 * and one WAL flush for many users' STOREs).
 */
interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class Coalescer<I, O> {
  private readonly queue: Array<Waiting<I, O>> = [];
  private inFlight = 0;

  constructor(
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
    private readonly flush: (items: I[]) => Promise<O[]>,
  ) {
    if (!(maxInFlight >= 1 && maxBatch >= 1)) throw new RangeError('Coalescer: maxInFlight and maxBatch must be ≥ 1');
  }

  /** Flushes out now (for tests and metrics). */
  get flushing(): number {
    return this.inFlight;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.run(batch);
    }
  }

  private async run(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const out = await this.flush(batch.map((w) => w.item));
      if (out.length !== batch.length) throw new Error(`Coalescer: flush gave ${out.length} results for ${batch.length} items`);
      batch.forEach((w, i) => w.resolve(out[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.inFlight--;
      this.pump();
    }
  }
}
