/**
 * The compact per-article facts (src/export/backend/facts.ts) and the warm
 * listing path they make (GroupReader.known): sizes and header presence
 * learnt once, kept across a restart, cleared when an article is forgotten,
 * and metas equal to those the reading path gives.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { articleKey, articlePrefix, MetaStore } from '../../../src/export/backend/meta-store.js';
import { CHUNK } from '../../../src/export/backend/facts.js';
import { createBackend } from '../../../src/export/backend/index.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeSource, makeArticle } from './fake-source.js';
import { collect } from './helpers.js';
import type { MessageMeta } from '../../../src/export/interface.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-facts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const headerOf = (a: Buffer): Buffer => a.subarray(0, a.indexOf('\r\n\r\n') + 4);

describe('MetaStore facts', () => {
  it('knows sizes and stored headers per article, across chunks and a reopen, and forgets them', async () => {
    const path = join(dir, 'meta.lmdb');
    const prefix = articlePrefix('nntp://up', 'g.x');
    const h = headerOf(makeArticle(1, { subject: 'x' }));
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 });
    const numbers = [1, 2, CHUNK - 1, CHUNK, 5 * CHUNK + 3];
    for (const n of numbers) s.putHeader(articleKey('nntp://up', 'g.x', n), h, n === 2 ? undefined : 1000 + n);
    s.putExactSize(articleKey('nntp://up', 'g.x', 7), 77); // a size without a header
    const f = s.factsOf(prefix);
    expect(numbers.map((n) => [f.size(n), f.hasHeader(n)])).toEqual(numbers.map((n) => [n === 2 ? -1 : 1000 + n, true]));
    expect([f.size(7), f.hasHeader(7)]).toEqual([77, false]);
    expect([f.size(3), f.hasHeader(3)]).toEqual([-1, false]);
    expect(s.factsOf(articlePrefix('nntp://other', 'g.x')).hasHeader(1)).toBe(false);
    s.forget(articleKey('nntp://up', 'g.x', CHUNK));
    expect(s.factsOf(prefix).hasHeader(CHUNK)).toBe(false);
    await s.close();
    const t = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 });
    const g = t.factsOf(prefix);
    expect([1, CHUNK - 1, CHUNK, 5 * CHUNK + 3, 7].map((n) => [g.size(n), g.hasHeader(n)])).toEqual([
      [1001, true], [1000 + CHUNK - 1, true], [-1, false], [1000 + 5 * CHUNK + 3, true], [77, false],
    ]);
    await t.close();
  });

  it('learns the facts of records written before it existed when they are read', async () => {
    const path = join(dir, 'meta.lmdb');
    const prefix = articlePrefix('u', 'g');
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 });
    s.putHeader(articleKey('u', 'g', 9), headerOf(makeArticle(9)), 900);
    await s.close();
    // drop the facts database: what an older data directory looks like
    const { open } = await import('lmdb');
    const env = open({ path, maxDbs: 8 });
    await env.openDB('facts', { encoding: 'binary' }).drop();
    await env.close();
    const t = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 });
    expect(t.factsOf(prefix).hasHeader(9)).toBe(false);
    expect(t.lookup(articleKey('u', 'g', 9)).size).toBe(900);
    expect([t.factsOf(prefix).size(9), t.factsOf(prefix).hasHeader(9)]).toEqual([900, true]);
    await t.close();
  });
});

describe('warm listing from the facts', () => {
  const same = (m: MessageMeta): unknown => ({ uid: m.uid, size: m.size, date: m.internalDate.getTime(), header: m.header.toString('latin1'), subject: m.envelope.subject?.toString() });

  it("gives the metas of the reading path, after a restart too, with no upstream read (sizes 'download')", async () => {
    const src = new FakeSource();
    const n = CHUNK + 40; // two chunks
    src.fill('g.x', n, (i) => ({ subject: `s${i}`, body: i % 7 === 0 ? '.dot first\r\n' : 'plain\r\n' }));
    src.bytesSkew = (a) => (a.includes('\r\n\r\n.') ? -1 : 0); // INN's off-by-one: exact sizes need a read
    const uidmaps = new MemoryUidMapStore();
    const open = () => createBackend({ source: src, uidmaps, cacheDir: dir, cacheMaxBytes: 1 << 26, pollIntervalMs: 0, logger: silentLogger(), sizes: 'download', metaMemoryBytes: 1 });
    const uids = Array.from({ length: n }, (_, i) => i + 1);
    const listing = async (b: Awaited<ReturnType<typeof open>>): Promise<MessageMeta[]> => {
      const h = await b.open('g.x');
      const out: MessageMeta[] = [];
      for await (const batch of h.read(uids, { meta: true, exactSize: true, streams: true })) for (const u of batch.uids) out.push(batch.metas!.get(u)!);
      h.release();
      return out;
    };
    const b1 = await open();
    const cold = await listing(b1);
    expect(cold.map((m) => m.size)).toEqual(uids.map((u) => src.bytesOf('g.x', u).length));
    const calls = { ...src.calls };
    const warm = await listing(b1);
    expect(warm.map(same)).toEqual(cold.map(same));
    expect(warm.every((m) => m.constructor.name === 'StoredMeta')).toBe(true); // the facts answered, no record read
    await b1.close();
    const b2 = await open();
    const again = await listing(b2);
    expect(again.map(same)).toEqual(cold.map(same));
    expect(again.every((m) => m.constructor.name === 'StoredMeta')).toBe(true);
    expect({ head: src.calls.head, article: src.calls.article }).toEqual({ head: calls.head, article: calls.article });
    await b2.close();
    await uidmaps.close();
  });
});
