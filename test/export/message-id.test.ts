/**
 * The one Message-ID rule of both ingests (src/export/message-id.ts): a
 * storable Message-ID is kept, anything else gets `<number.group@newsfront.invalid>`;
 * and the backend's ingest and `openExport` (newsfront ingest) store the same
 * Message-IDs under the same UIDs for the same archive.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSyntheticMessageId, uidMapMessageId } from '../../src/export/message-id.js';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { openExport } from '../../src/app/ingest.js';
import { testConfig } from '../../src/app/config/load.js';
import { MemoryUidMapStore } from '../../src/uidmap/index.js';
import { silentLogger } from '../../src/util/log.js';
import { rig } from './backend/helpers.js';

describe('uidMapMessageId', () => {
  it('keeps a storable Message-ID and makes one up for anything else', () => {
    expect(uidMapMessageId('g.x', { number: 7, messageId: '<a@b>' })).toBe('<a@b>');
    expect(uidMapMessageId('g.x', { number: 7, messageId: '' })).toBe('<7.g.x@newsfront.invalid>');
    expect(uidMapMessageId('g.x', { number: 8, messageId: `<${'x'.repeat(600)}@long>` })).toBe('<8.g.x@newsfront.invalid>');
    expect(uidMapMessageId('g.x', { number: 9, messageId: '<a\x01@b>' })).toBe('<9.g.x@newsfront.invalid>');
  });

  it('refuses, as the UID map would, when not even the made-up one can be stored', () => {
    const group = `g.${'x'.repeat(520)}`;
    expect(uidMapMessageId(group, { number: 1, messageId: '<a@b>' })).toBe('<a@b>');
    expect(() => uidMapMessageId(group, { number: 1, messageId: '' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('recognises the Message-IDs it makes', () => {
    expect(isSyntheticMessageId(uidMapMessageId('g.x', { number: 1, messageId: '' }))).toBe(true);
    expect(isSyntheticMessageId('<a@b>')).toBe(false);
    expect(isSyntheticMessageId('<a@newsfront.invalid.example>')).toBe(false);
  });
});

describe('both ingests follow the one rule', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-msgid-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('give the same UIDs and Message-IDs to the same archive', async () => {
    const art = (id: string, n: number): Buffer => Buffer.from(`From: a@b\r\nSubject: s${n}\r\nMessage-ID: ${id}\r\n\r\nbody ${n}\r\n`);
    const ids = ['<ok.1@test>', `<${'y'.repeat(600)}@long>`, '<ok.3@test>'];
    await mkdir(join(dir, 'archive'));
    await writeFile(join(dir, 'archive', 'g.rule.mbox'), Buffer.concat(ids.map((id, i) => formatMboxrdMessage(art(id, i + 1), 'a@b', new Date(0)))));

    const eager = new MemoryUidMapStore();
    const ctx = await openExport(testConfig({ archive: join(dir, 'archive'), data: join(dir, 'data') }), silentLogger(), { uidmaps: eager });
    const source = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
    const r = await rig(source);
    try {
      (await r.backend.open('g.rule')).release();
      const [a, b] = [await eager.open('g.rule'), await r.uidmaps.open('g.rule')];
      const entries = (m: typeof a) => [...m.uids()].map((u) => [u, m.lookup(u)!.messageId]);
      expect(entries(a)).toEqual([
        [1, '<ok.1@test>'],
        [2, '<2.g.rule@newsfront.invalid>'],
        [3, '<ok.3@test>'],
      ]);
      expect(entries(b)).toEqual(entries(a));
    } finally {
      await ctx.close();
      await eager.close();
      await r.close();
      await source.close();
    }
  });
});
