/**
 * Bulk-assign benchmark used by `bench/` and the tests: first sight of `n`
 * articles of one group on its primary upstream, in batches of `batch`
 * (default 5,000), into a fresh mailbox map of `store`. The caller owns and
 * closes the store. Returns the wall-clock seconds of the assigns alone.
 */
import { performance } from 'node:perf_hooks';
import type { SeenArticle, UidMapStore } from '../src/uidmap/types.js';

export const BENCH_DEFAULT_BATCH = 5_000;

export async function benchAssign(
  store: UidMapStore,
  n: number,
  batch: number = BENCH_DEFAULT_BATCH,
): Promise<{ seconds: number; mailbox: string }> {
  const mailbox = `bench.assign.${process.pid}.${Date.now()}`;
  const map = await store.open(mailbox);
  // Build the input first so only the UID map is timed.
  const batches: SeenArticle[][] = [];
  for (let start = 1; start <= n; start += batch) {
    const b: SeenArticle[] = [];
    for (let num = start; num < start + batch && num <= n; num++) {
      b.push({ messageId: `<${num}.bench@newsfront.invalid>`, upstream: 'bench', group: 'bench.group', number: num });
    }
    batches.push(b);
  }
  const t0 = performance.now();
  for (const b of batches) await map.assign(b, true);
  return { seconds: (performance.now() - t0) / 1000, mailbox };
}
