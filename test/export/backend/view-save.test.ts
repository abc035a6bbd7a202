/**
 * A view made by a first ingest saves its table once, after its opener has
 * its answer (issue 14: the save's commit was part of the first SELECT).
 */
import { describe, expect, it } from 'vitest';
import { carriersOf } from '../../../src/export/backend/carrier.js';
import type { SavedView } from '../../../src/export/backend/table-codec.js';
import { MailboxView } from '../../../src/export/backend/view.js';
import { MemoryUidMapStore } from '../../../src/uidmap/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeSource } from './fake-source.js';

describe('first view of a group', () => {
  it('is saved once, after create() has resolved', async () => {
    const src = new FakeSource();
    src.fill('g.x', 30);
    const uidmap = await new MemoryUidMapStore().open('g.x');
    let created = false;
    const saves: { afterCreate: boolean; rows: number }[] = [];
    let saved!: () => void;
    const done = new Promise<void>((r) => (saved = r));
    const v = await MailboxView.create({
      carriers: carriersOf(src),
      uidmap,
      group: 'g.x',
      logger: silentLogger(),
      fullCheckMs: 60_000,
      save: async (sv: SavedView) => {
        saves.push({ afterCreate: created, rows: sv.table.uids.length });
        saved();
      },
    });
    created = true;
    expect(v.current().uids.length).toBe(30);
    await done;
    expect(saves).toEqual([{ afterCreate: true, rows: 30 }]);
  });
});
