import { describe, expect, it } from 'vitest';
import { readBatches, type BatchReader } from '../../../src/export/backend/batches.js';
import { BODY_BATCH, BODY_BATCH_SPAN, BODY_READ_AHEAD, READ_BATCH } from '../../../src/export/backend/limits.js';
import type { MessageMeta } from '../../../src/export/interface.js';

/** A reader that records the order of what it is asked. */
function recorder(): { r: BatchReader; calls: string[] } {
  const calls: string[] = [];
  const r: BatchReader = {
    async *meta(uids) {
      calls.push(`meta ${uids[0]}`);
      for (const uid of uids) yield { uid, size: 1 } as unknown as MessageMeta;
    },
    prefetch: (uids) => void calls.push(`prefetch ${uids[0]}-${uids[uids.length - 1]}`),
    prefetchStructures: (uids) => void calls.push(`structures ${uids[0]}`),
  };
  return { r, calls };
}

describe('readBatches with bodies', () => {
  it('asks for the downloads of every batch read ahead before any meta data, each batch once, BODY_BATCH at a time', async () => {
    const n = BODY_BATCH * (BODY_READ_AHEAD + 2);
    const uids = Array.from({ length: n }, (_, i) => i + 1);
    const { r, calls } = recorder();
    const seen: number[] = [];
    for await (const b of readBatches(r, uids, { meta: true, content: true, streams: true })) seen.push(...b.uids);
    expect(seen).toEqual(uids);
    const firstMeta = calls.findIndex((c) => c.startsWith('meta'));
    const before = calls.slice(0, firstMeta);
    expect(before).toEqual(Array.from({ length: BODY_READ_AHEAD + 1 }, (_, k) => `prefetch ${k * BODY_BATCH + 1}-${(k + 1) * BODY_BATCH}`));
    const prefetches = calls.filter((c) => c.startsWith('prefetch'));
    expect(prefetches).toHaveLength(BODY_READ_AHEAD + 2);
    expect(new Set(prefetches).size).toBe(prefetches.length);
    // a FETCH of 1,000 bodies has at most (BODY_READ_AHEAD + 1) × BODY_BATCH downloads asked for before its first batch is answered
    expect(BODY_BATCH).toBeLessThan(READ_BATCH);
  });

  it('a read longer than BODY_BATCH_SPAN keeps READ_BATCH', async () => {
    const uids = Array.from({ length: BODY_BATCH_SPAN + 1 }, (_, i) => i + 1);
    const { r, calls } = recorder();
    const sizes: number[] = [];
    for await (const b of readBatches(r, uids, { meta: true, content: true, streams: true })) sizes.push(b.uids.length);
    expect(sizes[0]).toBe(READ_BATCH);
    expect(calls[0]).toBe(`prefetch 1-${READ_BATCH}`);
  });

  it('without streaming (SEARCH), one batch at a time', async () => {
    const uids = Array.from({ length: READ_BATCH * 2 }, (_, i) => i + 1);
    const { r, calls } = recorder();
    for await (const _ of readBatches(r, uids, { meta: true, content: true })) void _;
    expect(calls).toEqual([`prefetch 1-${READ_BATCH}`, 'meta 1', `prefetch ${READ_BATCH + 1}-${2 * READ_BATCH}`, `meta ${READ_BATCH + 1}`]);
  });
});
