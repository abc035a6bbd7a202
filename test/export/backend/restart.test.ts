/**
 * Restart: a second backend on the same LMDB UID map and cache directory opens
 * an ingested group from its saved table (no OVER for the old articles), picks
 * up what changed while it was down (new, expired and cancelled articles), and
 * serves the saved snapshot when the upstream is down at start.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../../src/export/backend/index.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeSource } from './fake-source.js';
import { collect } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-backend-restart-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(source: FakeSource) {
  const uidmaps = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger: silentLogger() });
  const backend = await createBackend({ source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 1 << 20, pollIntervalMs: 0, logger: silentLogger() });
  return {
    backend,
    async close() {
      await backend.close();
      await uidmaps.close();
    },
  };
}

describe('restart', () => {
  it('opens from the saved table and catches up with changes made while down', async () => {
    const src = new FakeSource();
    src.fill('g.x', 50);
    const a = await start(src);
    const h = await a.backend.open('g.x');
    const first = h.current();
    await collect(h.meta([1, 2]));
    h.release();
    await a.close();

    src.fill('g.x', 2); // 51, 52
    src.expire('g.x', 1, 2); // low rises
    src.cancel('g.x', 10); // invisible in GROUP
    const overviews = src.calls.overview;
    const b = await start(src);
    try {
      const h2 = await b.backend.open('g.x');
      const s = h2.current();
      expect(s.uidValidity).toBe(first.uidValidity);
      const want = [...first.uids].filter((u) => u !== 1 && u !== 2 && u !== 10).concat([51, 52]);
      expect([...s.uids]).toEqual(want);
      expect(src.calls.overview).toBe(overviews + 1); // only the new range
      expect((await collect(h2.meta([3, 51]))).map((m) => m.uid)).toEqual([3, 51]);
      h2.release();
    } finally {
      await b.close();
    }
  });

  it('serves the saved snapshot when the upstream is down at start', async () => {
    const src = new FakeSource();
    src.fill('g.x', 5);
    const a = await start(src);
    const h = await a.backend.open('g.x');
    const uids = [...h.current().uids];
    await collect(h.meta(uids));
    h.release();
    await a.close();

    src.failing = true;
    const b = await start(src);
    try {
      const h2 = await b.backend.open('g.x');
      expect([...h2.current().uids]).toEqual(uids);
      expect((await collect(h2.meta(uids))).length).toBe(5); // headers from the metadata cache
      h2.release();
    } finally {
      await b.close();
    }
  });
});
