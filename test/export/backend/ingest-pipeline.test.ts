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

describe('ingestRange over a source with overviewBatches', () => {
  /** Records with the awkward cases: out of range, out of order, a duplicate Message-ID, one without a Message-ID. */
  function records(): OverviewRecord[] {
    const out: OverviewRecord[] = [];
    for (let n = 1; n <= INGEST_BATCH * 2 + 7; n++) {
      out.push({ number: n, subject: `s${n}`, from: 'f', date: 'Mon, 1 Jan 2024 00:00:00 +0000', messageId: n === 9 ? '<8@x>' : n === 11 ? '' : `<${n}@x>`, references: '', bytes: n, lines: 1, xref: `h g:${n}` });
      if (n === 5) out.push({ ...out[2]! }); // out of order: ignored
    }
    out.push({ ...out[0]!, number: INGEST_BATCH * 3 }); // out of range: ignored
    return out;
  }

  async function ingest(source: Source) {
    const store = new MemoryUidMapStore({});
    const map = await store.open('g');
    const indexed: { uid: number; key: string; number: number; internalDate: number }[] = [];
    const out = new TableBuilder();
    const r = await ingestRange({
      source, uidmap: map, group: 'g', upstream: 'fake:1', primary: true, logger: silentLogger(),
      index: async (items) => void indexed.push(...items.map((i) => ({ uid: i.uid, key: i.key, number: i.record.number, internalDate: i.internalDate }))),
    }, 1, INGEST_BATCH * 2 + 7, out, 0);
    await store.close();
    return { r, table: out.build(), indexed };
  }

  it('gives the table and index items the per-record iteration gives, and iterates no record', async () => {
    const perRecord = await ingest({ id: 'fake:1', async *overview() { yield* records(); } } as unknown as Source);
    const sizes = [1, 3, INGEST_BATCH - 1, INGEST_BATCH + 5];
    const batched = await ingest({
      id: 'fake:1',
      overview: () => { throw new Error('overview() called'); },
      async *overviewBatches() {
        const all = records();
        for (let i = 0, k = 0; i < all.length; k++) {
          const n = sizes[k % sizes.length]!;
          yield all.slice(i, i + n);
          i += n;
        }
      },
    } as unknown as Source);
    expect(batched.r).toEqual(perRecord.r);
    expect(batched.table).toEqual(perRecord.table);
    expect(batched.indexed).toEqual(perRecord.indexed);
    expect(batched.r.records).toBe(INGEST_BATCH * 2 + 7);
    expect(batched.table.uids.length).toBe(INGEST_BATCH * 2 + 6); // the duplicate Message-ID adds no row
  });
});

describe('ingestRange with indexWants', () => {
  it('gives the index only the batches started while it wants them, the table every row', async () => {
    const store = new MemoryUidMapStore({});
    const map = await store.open('g');
    const given: number[][] = [];
    let asked = 0;
    const out = new TableBuilder();
    const r = await ingestRange({
      source: overviewSource(), uidmap: map, group: 'g', upstream: 'fake:1', primary: true, logger: silentLogger(),
      index: async (items) => void given.push(items.map((i) => i.record.number)),
      indexWants: () => asked++ !== 1, // the second batch is not wanted
    }, 1, INGEST_BATCH * 3, out, 0);
    await store.close();
    expect(r.records).toBe(INGEST_BATCH * 3);
    expect(out.build().uids.length).toBe(INGEST_BATCH * 3);
    expect(given.map((b) => [b[0], b.length])).toEqual([[1, INGEST_BATCH], [2 * INGEST_BATCH + 1, INGEST_BATCH]]);
  });
});
