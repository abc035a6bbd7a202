/**
 * openExport over an archive: every group gets UIDs = article numbers at first
 * sight, appended articles are picked up by refresh (and their overview
 * goes into the search index, `newsfront ingest`), and the LMDB map keeps
 * UIDVALIDITY and UIDs across a restart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openExport } from '../../src/app/ingest.js';
import { testConfig } from '../../src/app/config/load.js';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { MemoryUidMapStore } from '../../src/uidmap/memory.js';
import { silentLogger } from '../../src/util/log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-serve-'));
  await cp('sample', join(dir, 'archive'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openExport', () => {
  it('ingests every group with UIDs equal to article numbers, and picks up appended articles', async () => {
    const config = testConfig({ archive: join(dir, 'archive'), data: join(dir, 'data') });
    const store = new MemoryUidMapStore();
    const ctx = await openExport(config, silentLogger(), { uidmaps: store });
    try {
      expect([...ctx.groups.keys()]).toEqual(['sample.announce', 'sample.binaries', 'sample.discuss', 'sample.i18n']);
      const d = ctx.groups.get('sample.discuss')!;
      expect(d.uidMap.count()).toBe(194);
      expect([...d.uidMap.uids(1, 3)]).toEqual([1, 2, 3]);
      expect(d.uidMap.lookup(194)!.location).toEqual({ upstream: ctx.sources.sources[0]!.id, group: 'sample.discuss', number: 194 });
      expect(d.primary).toBe(ctx.sources.sources[0]!.id);

      const art = Buffer.from('From: x@y\r\nSubject: late\r\nMessage-ID: <late@test>\r\n\r\nbody\r\n');
      await appendFile(join(dir, 'archive', 'sample.discuss.mbox'), formatMboxrdMessage(art, 'x@y', new Date(0)));
      await ctx.refresh();
      expect(d.uidMap.uidOf('<late@test>')).toBe(195);
      expect(d.uidMap.uidNext()).toBe(196);
      // the search index has every article's overview (no body yet)
      expect(ctx.index!.coverage('sample.discuss', d.uidMap.uidValidity)).toEqual({ members: 195, bodies: 0 });
      expect([...ctx.index!.match('sample.discuss', d.uidMap.uidValidity, [{ field: 'subject', needle: 'late' }]).uids]).toContain(195);
    } finally {
      await ctx.close();
      await store.close();
    }
  });

  it('keeps UIDVALIDITY and UIDs in <data>/uidmap.lmdb across a restart', async () => {
    const config = testConfig({ archive: join(dir, 'archive'), data: join(dir, 'data') });
    const first = await openExport(config, silentLogger());
    const g1 = first.groups.get('sample.i18n')!;
    const before = { v: g1.uidMap.uidValidity, uid: g1.uidMap.uidOf(g1.uidMap.lookup(7)!.messageId) };
    await first.close();
    const second = await openExport(config, silentLogger());
    try {
      const g2 = second.groups.get('sample.i18n')!;
      expect({ v: g2.uidMap.uidValidity, uid: g2.uidMap.uidOf(g2.uidMap.lookup(7)!.messageId) }).toEqual(before);
      expect(g2.uidMap.count()).toBe(60);
    } finally {
      await second.close();
    }
  });

  it('fails fast when the archive directory does not exist', async () => {
    const config = testConfig({ archive: join(dir, 'nope'), data: join(dir, 'data') });
    const store = new MemoryUidMapStore();
    await expect(openExport(config, silentLogger(), { uidmaps: store })).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
    await store.close();
  });
});
