/**
 * The index feed's memory bound (FEED_MAX_QUEUED_BYTES) counts the articles
 * handed to a write that has not finished, not only those still gathering:
 * while the writer is busy, drained batches wait in memory too (issue 14: a
 * cold 100k listing held ~400 MB of articles waiting for the writer).
 */
import { describe, expect, it } from 'vitest';
import { IndexFeed } from '../../../src/export/backend/index-feed.js';
import { FEED_MAX_QUEUED_BYTES } from '../../../src/export/backend/limits.js';
import type { SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';

/** An index whose body writes wait until `release()`; it counts what it was given. */
function slowIndex(): { index: SearchIndex; bodies: () => number; release: () => void } {
  let bodies = 0;
  const waiting: Array<() => void> = [];
  let open = false;
  const gate = (): Promise<void> => (open ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)));
  const index = {
    addHeaders: async () => undefined,
    addBodies: async (records: readonly unknown[]) => {
      bodies += records.length;
      await gate();
    },
  } as unknown as SearchIndex;
  return {
    index,
    bodies: () => bodies,
    release: () => {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
  };
}

describe('index feed bound', () => {
  it('drops articles while FEED_MAX_QUEUED_BYTES wait for a busy writer', async () => {
    const slow = slowIndex();
    const batch = 10;
    const feed = new IndexFeed({ index: slow.index, logger: silentLogger(), batch, maxArticleBytes: 1 << 30, bodies: () => 'all' });
    const size = 64 * 1024;
    const fits = Math.floor(FEED_MAX_QUEUED_BYTES / size);
    const article = Buffer.alloc(size, 0x61);
    // three times the bound, in whole batches, while the first write never finishes
    for (let uid = 1; uid <= 3 * fits; uid++) feed.article('g', 1, uid, `<${uid}@x>`, article, 0);
    await new Promise((r) => setTimeout(r, 20));
    slow.release();
    await feed.flush();
    // everything up to the bound was written, nothing far beyond it
    expect(slow.bodies()).toBeGreaterThanOrEqual(fits - batch);
    expect(slow.bodies()).toBeLessThanOrEqual(fits);
    // once written, the room is back
    const before = slow.bodies();
    feed.article('g', 1, 3 * fits + 1, '<last@x>', article, 0);
    await feed.flush();
    expect(slow.bodies()).toBe(before + 1);
    await feed.close();
  });
});
