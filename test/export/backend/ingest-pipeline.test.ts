/**
 * ingestRange with a UID map whose calls may overlap (`pipelined`): up to
 * ASSIGN_AHEAD batches are handed over before the first is stored, rows land
 * in order, and after a failed batch no later batch is handed over.
 */
import { describe, expect, it } from 'vitest';
import { ingestRange } from '../../../src/export/backend/ingest.js';
import { ASSIGN_AHEAD, INGEST_BATCH } from '../../../src/export/backend/limits.js';
import { TableBuilder } from '../../../src/export/backend/table.js';
import type { OverviewRecord, Source } from '../../../src/export/source.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import type { MailboxUidMap, SeenArticle } from '../../../src/uidmap/types.js';
import { silentLogger } from '../../../src/util/log.js';

const BATCHES = ASSIGN_AHEAD + 3;
const COUNT = INGEST_BATCH * BATCHES;

function overviewSource(): Source {
  return {
    id: 'fake:1',
    async *overview(_group: string, low: number, high: number): AsyncIterable<OverviewRecord> {
      for (let n = low; n <= high; n++) {
        yield { number: n, subject: 's', from: 'f', date: '', messageId: `<${n}@x>`, references: '', bytes: 100, lines: 1 };
      }
    },
  } as unknown as Source;
}

/** Wraps a map: holds every assign until `release`, counts calls, fails call number `failAt`. */
function gated(map: MailboxUidMap, failAt = 0) {
  let calls = 0;
  let failures = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const held: (() => void)[] = [];
  const wrapped: MailboxUidMap = Object.create(map, {
    pipelined: { value: { failures: () => failures } },
    assign: {
      value: async (articles: readonly SeenArticle[], primary: boolean) => {
        calls++;
        if (calls === failAt) {
          failures++;
          throw new Error('disk full');
        }
        const uids = map.assign(articles, primary);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((r) => held.push(r));
        inFlight--;
        return uids;
      },
    },
  }) as MailboxUidMap;
  const pump = setInterval(() => held.splice(0).forEach((r) => r()), 5);
  return { map: wrapped, stats: () => ({ calls, maxInFlight }), stop: () => clearInterval(pump) };
}

describe('ingestRange with a pipelined UID map', () => {
  it('hands up to ASSIGN_AHEAD batches over at once and keeps rows in article order', async () => {
    const store = new MemoryUidMapStore({});
    const g = gated(await store.open('g'));
    try {
      const out = new TableBuilder();
      const r = await ingestRange({ source: overviewSource(), uidmap: g.map, group: 'g', upstream: 'fake:1', primary: true, logger: silentLogger() }, 1, COUNT, out, COUNT);
      expect(r.records).toBe(COUNT);
      expect(g.stats().maxInFlight).toBe(ASSIGN_AHEAD);
      const t = out.build();
      expect(t.uids.length).toBe(COUNT);
      for (let i = 0; i < COUNT; i++) expect(t.uids[i]).toBe(i + 1);
    } finally {
      g.stop();
      await store.close();
    }
  });

  it('hands no batch over after one failed', async () => {
    const store = new MemoryUidMapStore({});
    const g = gated(await store.open('g'), 2);
    try {
      await expect(
        ingestRange({ source: overviewSource(), uidmap: g.map, group: 'g', upstream: 'fake:1', primary: true, logger: silentLogger() }, 1, COUNT, new TableBuilder(), COUNT),
      ).rejects.toThrow('disk full');
      expect(g.stats().calls).toBe(2);
    } finally {
      g.stop();
      await store.close();
    }
  });
});
