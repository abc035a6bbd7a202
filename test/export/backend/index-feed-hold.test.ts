/**
 * The index feed's hold (issue 14): while a group is held, its overview and
 * In-Reply-To writes wait (queued, visible through `pending`, `settled`
 * unresolved); the release starts them in order; past the overview memory
 * bound batches are dropped (not waited for), and a hold cannot outlive a
 * feed that waits for room, or a flush. A held batch's `overview` resolves
 * at the release; past FEED_MAX_HELD_RECORDS a hold keeps nothing (the
 * held batches and every later one are dropped, the backfill told).
 */
import { describe, expect, it } from 'vitest';
import { IndexFeed } from '../../../src/export/backend/index-feed.js';
import { FEED_MAX_HELD_RECORDS, FEED_MAX_OVERVIEW_BYTES } from '../../../src/export/backend/limits.js';
import type { OverviewRecord } from '../../../src/export/source.js';
import type { SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';

function recordingIndex(): { index: SearchIndex; calls: string[] } {
  const calls: string[] = [];
  const index = {
    addOverview: async (records: readonly { uid: number }[]) => {
      calls.push(`overview ${records.map((r) => r.uid).join(',')}`);
    },
    setInReplyTo: async (_g: string, _v: number, items: readonly { uid: number }[]) => {
      calls.push(`irt ${items.map((r) => r.uid).join(',')}`);
    },
    addHeaders: async () => undefined,
    addBodies: async () => undefined,
  } as unknown as SearchIndex;
  return { index, calls };
}

function record(n: number, subject = `s${n}`): OverviewRecord {
  return { number: n, subject, from: 'a@b', date: '', messageId: `<${n}@x>`, references: '', bytes: 10, lines: 1 } as OverviewRecord;
}

const items = (from: number, to: number, subject?: (n: number) => string) => {
  const out = [];
  for (let n = from; n <= to; n++) out.push({ uid: n, key: `<${n}@x>`, record: record(n, subject?.(n)), internalDate: 0 });
  return out;
};

const turns = async (k = 5): Promise<void> => {
  for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
};

function feedOf(index: SearchIndex): IndexFeed {
  return new IndexFeed({ index, logger: silentLogger(), batch: 100, maxArticleBytes: 1 << 20, bodies: () => 'all' });
}

describe('index feed hold', () => {
  it('queues a held group\'s writes, visible as pending, and writes them in order on release', async () => {
    const { index, calls } = recordingIndex();
    const feed = feedOf(index);
    const release = feed.hold('g');
    const first = feed.overview('g', 7, items(1, 2));
    let told = false;
    void first.then(() => (told = true));
    await turns();
    expect(told).toBe(false); // a held batch's answer comes at the release, or once asked about (below: queued, written at the release)
    feed.inReplyTo('g', 7, [{ uid: 2, value: '<1@x>' }]);
    const second = feed.overview('g', 7, items(3, 3));
    expect(await feed.overview('other', 1, items(9, 9))).toBe(true); // not held
    let settled = false;
    void feed.settled('g').then(() => (settled = true));
    await turns();
    expect(calls).toEqual(['overview 9']);
    expect(settled).toBe(false);
    expect(feed.pending('g', 7)?.overview(3)?.overview.subject).toBe('s3');
    expect(feed.pending('g', 7)?.inReplyTo(2)).toBe('<1@x>');
    let opened = false;
    void feed.opened('g').then(() => (opened = true));
    release();
    release(); // idempotent
    expect([await first, await second]).toEqual([true, true]);
    await feed.settled('g');
    await feed.flush();
    expect(opened).toBe(true);
    expect(calls).toEqual(['overview 9', 'overview 1,2', 'irt 2', 'overview 3']);
    expect(feed.pending('g', 7)).toBeUndefined();
    // released: later writes go straight on
    await feed.overview('g', 7, items(4, 4));
    await feed.settled('g');
    expect(calls[calls.length - 1]).toBe('overview 4');
    await feed.close();
  });

  it('past the overview memory bound drops batches (the ingest never waits), and a waiting feed ends the hold', async () => {
    const { index, calls } = recordingIndex();
    const dropped: string[] = [];
    const feed = new IndexFeed({ index, logger: silentLogger(), batch: 100, maxArticleBytes: 1 << 20, bodies: () => 'all', onDropped: (g) => dropped.push(g) });
    feed.hold('g');
    const long = 'x'.repeat(64 * 1024);
    const perBatch = 10;
    const batches = Math.ceil(FEED_MAX_OVERVIEW_BYTES / (perBatch * 2 * long.length)) + 2;
    const answers: Promise<boolean>[] = [];
    for (let b = 0; b < batches; b++) answers.push(feed.overview('g', 1, items(b * perBatch + 1, (b + 1) * perBatch, () => long)));
    // held all along: nothing written, the batches past the bound dropped at once (false), the others answered at the release
    await turns();
    expect(calls).toEqual([]);
    const settledNow = await Promise.all(answers.map((p) => Promise.race([p, Promise.resolve(undefined)])));
    const kept = settledNow.findIndex((a) => a !== undefined);
    expect(settledNow.slice(kept).every((a) => a === false)).toBe(true);
    expect(settledNow.slice(0, kept).every((a) => a === undefined)).toBe(true);
    expect(kept).toBeGreaterThan(0);
    expect(dropped.length).toBe(batches - kept);
    expect(new Set(dropped)).toEqual(new Set(['g']));
    expect(feed.pending('g', 1)?.overview(kept * perBatch)).toBeDefined();
    expect(feed.pending('g', 1)?.overview(kept * perBatch + 1)).toBeUndefined();
    // a feed that waits for room (a batch like the others: it cannot fit) ends the hold so the held records make it
    const waited = await feed.overview('g', 1, items(10_001, 10_000 + perBatch, () => long), { wait: true });
    expect(waited).toBe(true);
    expect((await Promise.all(answers.slice(0, kept))).every((a) => a)).toBe(true);
    await feed.settled('g');
    expect(calls.length).toBe(kept + 1);
    await feed.close();
  });

  it('flush ends every hold', async () => {
    const { index, calls } = recordingIndex();
    const feed = feedOf(index);
    feed.hold('g');
    const queued = feed.overview('g', 1, items(1, 1));
    feed.inReplyTo('g', 1, [{ uid: 1, value: '' }]);
    await feed.flush();
    expect(await queued).toBe(true);
    expect(calls).toEqual(['overview 1', 'irt 1']);
    await feed.close();
  });

  it('past FEED_MAX_HELD_RECORDS a hold keeps nothing: the held batches and the later ones are dropped, the backfill told', async () => {
    const { index, calls } = recordingIndex();
    const dropped: string[] = [];
    const feed = new IndexFeed({ index, logger: silentLogger(), batch: 100, maxArticleBytes: 1 << 20, bodies: () => 'all', onDropped: (g) => dropped.push(g) });
    const release = feed.hold('g');
    const half = FEED_MAX_HELD_RECORDS / 2;
    const a = feed.overview('g', 1, items(1, half));
    const b = feed.overview('g', 1, items(half + 1, 2 * half)); // exactly the bound: still kept
    await turns();
    expect(dropped).toEqual([]);
    const c = feed.overview('g', 1, items(2 * half + 1, 2 * half + 1)); // one more: nothing of the hold is kept
    expect([await a, await b, await c]).toEqual([false, false, false]);
    expect(dropped.length).toBeGreaterThan(0);
    expect(feed.pending('g', 1)?.overview(1)).toBeUndefined();
    expect(await feed.overview('g', 1, items(2 * half + 2, 2 * half + 2))).toBe(false); // still held: dropped too
    expect(await feed.overview('other', 1, items(1, 1))).toBe(true);
    release();
    await feed.flush();
    expect(calls).toEqual(['overview 1']); // the other group's
    // released: kept again; the room the dropped batches held is free
    expect(await feed.overview('g', 1, items(1, 1))).toBe(true);
    await feed.settled('g');
    expect(calls).toEqual(['overview 1', 'overview 1']);
    await feed.close();
  });
});
