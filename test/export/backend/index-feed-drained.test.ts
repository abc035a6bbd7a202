/**
 * The index feed tells when its overview queue ran empty after holding
 * FEED_DRAINED_NOTICE_BYTES or more (issue 14): a new group's first SELECT
 * queues its records for the writer, live until written; start.ts collects
 * their garbage then (heap-leftovers.ts `afterBurst`), not during the next
 * client command.
 */
import { describe, expect, it } from 'vitest';
import { IndexFeed } from '../../../src/export/backend/index-feed.js';
import { FEED_DRAINED_NOTICE_BYTES } from '../../../src/export/backend/limits.js';
import type { OverviewRecord } from '../../../src/export/source.js';
import type { SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';

/** An index whose overview writes wait until `release()`. */
function gatedIndex(): { index: SearchIndex; release: () => void; written: () => number } {
  const waiting: Array<() => void> = [];
  let open = false;
  let written = 0;
  const index = {
    addOverview: async (records: readonly unknown[]) => {
      if (!open) await new Promise<void>((r) => waiting.push(r));
      written += records.length;
    },
    addHeaders: async () => undefined,
    addBodies: async () => undefined,
  } as unknown as SearchIndex;
  return {
    index,
    written: () => written,
    release: () => {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
  };
}

const long = 'x'.repeat(32 * 1024);
const record = (n: number, subject: string): OverviewRecord =>
  ({ number: n, subject, from: 'a@b', date: '', messageId: `<${n}@x>`, references: '', bytes: 10, lines: 1 }) as OverviewRecord;
const items = (from: number, to: number, subject: string) => {
  const out = [];
  for (let n = from; n <= to; n++) out.push({ uid: n, key: `<${n}@x>`, record: record(n, subject), internalDate: 0 });
  return out;
};

describe('index feed: overview queue drained', () => {
  it('tells once, with the most bytes it held, when a large queue is written; not for a small one', async () => {
    const gated = gatedIndex();
    const told: number[] = [];
    const feed = new IndexFeed({ index: gated.index, logger: silentLogger(), batch: 100, maxArticleBytes: 1 << 20, bodies: () => 'all', onDrained: (held) => told.push(held) });
    // records of 64 KiB (two bytes a character) each: enough batches to pass the notice size
    const perBatch = 8;
    const batches = Math.ceil(FEED_DRAINED_NOTICE_BYTES / (perBatch * 2 * long.length)) + 1;
    for (let b = 0; b < batches; b++) expect(await feed.overview('g', 1, items(b * perBatch + 1, (b + 1) * perBatch, long))).toBe(true);
    expect(told).toEqual([]); // queued, not written
    gated.release();
    await feed.settled('g');
    expect(gated.written()).toBe(batches * perBatch);
    expect(told.length).toBe(1);
    expect(told[0]).toBeGreaterThanOrEqual(FEED_DRAINED_NOTICE_BYTES);
    // a small batch later: written, nothing told
    await feed.overview('g', 1, items(100_000, 100_001, 's'));
    await feed.settled('g');
    expect(told.length).toBe(1);
    await feed.close();
  });
});
