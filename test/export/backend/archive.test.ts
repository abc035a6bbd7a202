/**
 * The backend over the real ArchiveSource (the generated sample archive) and
 * the LMDB UID map: sizes, headers and structures agree with the article
 * bytes, and after a restart (new backend, same UID map and cache directory)
 * UIDs and UIDVALIDITY are unchanged and structures come from the metadata
 * cache without touching the articles.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveSource } from '../../../src/export/archive/archive-source.js';
import { createBackend } from '../../../src/export/backend/index.js';
import { headerEnd } from '../../../src/mime/header.js';
import { parseStructure } from '../../../src/mime/structure.js';
import { writeSampleArchive } from '../../../src/export/sample/generate.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { silentLogger } from '../../../src/util/log.js';
import { collect, readAll } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-backend-archive-'));
  await writeSampleArchive(join(dir, 'archive'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Counts article() calls of a source. */
function counting(src: ArchiveSource): { calls: () => number } {
  let n = 0;
  const orig = src.article.bind(src);
  src.article = async (g, num) => {
    n++;
    return orig(g, num);
  };
  return { calls: () => n };
}

async function start() {
  const source = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
  const uidmaps = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger: silentLogger() });
  const backend = await createBackend({ source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 1 << 20, pollIntervalMs: 0, logger: silentLogger() });
  return {
    source,
    backend,
    async close() {
      await backend.close();
      await uidmaps.close();
      await source.close();
    },
  };
}

describe('backend over the sample archive', () => {
  it('lists the sample groups and serves consistent sizes, headers, structures and ranges', async () => {
    const s = await start();
    try {
      const names = (await s.backend.mailboxes()).filter((e) => e.selectable).map((e) => e.name);
      expect(names).toEqual(['INBOX', 'sample.announce', 'sample.binaries', 'sample.discuss', 'sample.i18n']);
      for (const name of names.slice(1)) {
        const h = await s.backend.open(name);
        const uids = [...h.current().uids];
        expect(uids.length).toBeGreaterThan(0);
        expect(uids).toEqual(uids.map((_, i) => i + 1)); // UID = position in the file
        for (const m of await collect(h.meta(uids))) {
          const bytes = await readAll(await h.content(m.uid));
          expect(m.size).toBe(bytes.length);
          expect(m.header).toEqual(bytes.subarray(0, headerEnd(bytes)));
          expect(await h.structure(m.uid)).toEqual(parseStructure(bytes));
          const mid = Math.floor(bytes.length / 2);
          expect(await readAll(await h.content(m.uid, { start: mid, end: mid + 10 }))).toEqual(bytes.subarray(mid, mid + 10));
        }
        const st = await s.backend.status(name);
        expect(st.messages).toBe(uids.length);
        h.release();
      }
    } finally {
      await s.close();
    }
  });

  it('keeps UIDs and cached structures across a restart', async () => {
    const a = await start();
    const h = await a.backend.open('sample.binaries');
    const snap = h.current();
    const structures = [];
    for (const uid of snap.uids) structures.push(await h.structure(uid));
    h.release();
    await a.close();

    const b = await start();
    try {
      const c = counting(b.source);
      const h2 = await b.backend.open('sample.binaries');
      expect(h2.current().uidValidity).toBe(snap.uidValidity);
      expect([...h2.current().uids]).toEqual([...snap.uids]);
      const again = [];
      for (const uid of snap.uids) again.push(await h2.structure(uid));
      expect(again).toEqual(structures);
      expect(c.calls()).toBe(0);
      h2.release();
    } finally {
      await b.close();
    }
  });
});
