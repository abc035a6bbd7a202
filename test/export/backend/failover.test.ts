/**
 * The backend over a MultiSource of two FakeSources that number the same
 * articles differently: reads go to the source whose numbers the view holds,
 * and when the primary goes down the view is re-read from the other one —
 * every UID keeps naming the same article (same Message-ID), never the article
 * that happens to have that number on the other server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../../src/export/backend/index.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { MultiSource } from '../../../src/export/sources.js';
import { findField, parseHeader } from '../../../src/mime/header.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeSource, makeArticle } from './fake-source.js';
import { collect, readAll, rig, type Rig } from './helpers.js';

let r: Rig | null = null;
afterEach(async () => {
  await r?.close();
  r = null;
});

const msgidOf = (b: Buffer): string => findField(parseHeader(b), 'message-id')!.value.toString();

describe('failover between upstreams', () => {
  it('keeps UIDs naming the same articles when another upstream serves the group', async () => {
    const a = new FakeSource('fake:A');
    const b = new FakeSource('fake:B');
    b.post('g.x', makeArticle(0, { messageId: '<only-on-b@x>' })); // shifts B's numbers by one
    const arts = [1, 2, 3, 4].map((n) => makeArticle(n, { messageId: `<m${n}@x>` }));
    for (const x of arts) {
      a.post('g.x', x);
      b.post('g.x', x);
    }
    const multi = new MultiSource([a, b], { logger: silentLogger() });
    await multi.listGroups();
    r = await rig(multi);
    const h = await r.backend.open('g.x');
    const first = h.current();
    expect([...first.uids]).toEqual([1, 2, 3, 4]);
    for (const uid of first.uids) expect(msgidOf(await readAll(await h.content(uid)))).toBe(`<m${uid}@x>`);

    a.failing = true;
    const next = await h.refresh();
    expect(next.uidValidity).toBe(first.uidValidity);
    expect([...next.uids]).toEqual([1, 2, 3, 4, 5]); // B's extra article gets UIDNEXT
    for (const uid of [1, 2, 3, 4]) {
      expect(msgidOf(await readAll(await h.content(uid)))).toBe(`<m${uid}@x>`);
    }
    expect(msgidOf(await readAll(await h.content(5)))).toBe('<only-on-b@x>');
    const metas = await collect(h.meta([2, 5]));
    expect(metas.map((m) => m.envelope.messageId?.toString())).toEqual(['<m2@x>', '<only-on-b@x>']);
    h.release();
  });

  it('restarts from the saved view over a fresh (unlisted) MultiSource without re-reading the group', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nf-backend-multi-'));
    const a = new FakeSource('fake:A');
    const b = new FakeSource('fake:B');
    a.fill('g.x', 20);
    b.fill('g.x', 20);
    const start = async () => {
      const multi = new MultiSource([a, b], { logger: silentLogger() });
      const uidmaps = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger: silentLogger() });
      const backend = await createBackend({ source: multi, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 1 << 20, pollIntervalMs: 0, logger: silentLogger() });
      return { backend, close: async () => (await backend.close(), await uidmaps.close()) };
    };
    try {
      const one = await start();
      const h = await one.backend.open('g.x');
      const uids = [...h.current().uids];
      h.release();
      await one.close();
      const overviews = a.calls.overview;
      const two = await start();
      const h2 = await two.backend.open('g.x');
      expect([...h2.current().uids]).toEqual(uids);
      expect(a.calls.overview).toBe(overviews);
      h2.release();
      await two.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
