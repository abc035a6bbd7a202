/**
 * SelectedMailbox.own (issue 12 #4): the change feed's copy of a session's
 * own update is never announced back to it, whether it arrives before the
 * update resolves (LMDB notifies in the same turn) or after (the agent's feed
 * may lag the HTTP answer); other sessions' changes are kept, newest per UID.
 */
import { describe, expect, it } from 'vitest';
import { SelectedMailbox } from '../../src/imap/selected.js';
import type { FlagChange, UpdateResult } from '../../src/stateagent/flagstore.js';
import { FixtureBackend } from './fixture-backend.js';

async function selected(): Promise<SelectedMailbox> {
  const b = new FixtureBackend();
  for (let uid = 1; uid <= 10; uid++) b.add('g', uid, Buffer.from('Subject: x\r\n\r\n'));
  return new SelectedMailbox(await b.open('g'), false);
}

function result(modseq: number, changes: FlagChange[]): UpdateResult {
  return { modified: [], changes, modseq, highestModseq: modseq, bumped: true };
}

const pending = (sel: SelectedMailbox) => sel.takeFlagChanges().map(({ seq, change }) => [seq, [...change.flags], change.modseq]);

describe('SelectedMailbox own updates', () => {
  it("drops the feed's copy of an own change that arrives before the update resolves", async () => {
    const sel = await selected();
    const mine = [{ uid: 2, flags: ['\\Seen'], modseq: 7 }];
    await sel.own(async () => {
      sel.noteFlagChanges(mine); // the store notified first
      return result(7, mine);
    }, false);
    expect(sel.hasUpdates()).toBe(false);
    expect(pending(sel)).toEqual([]);
  });

  it("drops the feed's copy that arrives after, keeps others' changes held meanwhile", async () => {
    const sel = await selected();
    const mine = [{ uid: 2, flags: ['\\Seen'], modseq: 8 }];
    await sel.own(async () => {
      sel.noteFlagChanges([{ uid: 4, flags: ['\\Flagged'], modseq: 7 }]); // another session, just before
      expect(sel.hasUpdates()).toBe(false); // held until the own modseq is known
      return result(8, mine);
    }, true);
    sel.noteFlagChanges(mine);
    expect(pending(sel)).toEqual([[4, ['\\Flagged'], 7]]);
    expect(sel.knownModseq).toBe(8);
  });

  it('releases held changes as they are when the update fails', async () => {
    const sel = await selected();
    await expect(sel.own(async () => {
      sel.noteFlagChanges([{ uid: 3, flags: ['\\Draft'], modseq: 4 }]);
      throw new Error('store away');
    }, false)).rejects.toThrow('store away');
    expect(pending(sel)).toEqual([[3, ['\\Draft'], 4]]);
  });

  it("replaces another session's older waiting change by the own state (silent) or drops it (reported)", async () => {
    for (const reported of [false, true]) {
      const sel = await selected();
      sel.noteFlagChanges([{ uid: 5, flags: ['\\Flagged'], modseq: 3 }, { uid: 6, flags: ['\\Answered'], modseq: 3 }]);
      await sel.own(async () => result(4, [{ uid: 5, flags: ['\\Flagged', '\\Seen'], modseq: 4 }]), reported);
      expect(pending(sel)).toEqual(reported
        ? [[6, ['\\Answered'], 3]]
        : [[5, ['\\Flagged', '\\Seen'], 4], [6, ['\\Answered'], 3]]);
    }
  });

  it('never replaces a newer waiting change by an older one (a resync after the feed)', async () => {
    const sel = await selected();
    sel.noteFlagChanges([{ uid: 1, flags: ['\\Seen', '\\Flagged'], modseq: 9 }]);
    sel.noteFlagChanges([{ uid: 1, flags: ['\\Seen'], modseq: 8 }]);
    expect(pending(sel)).toEqual([[1, ['\\Seen', '\\Flagged'], 9]]);
  });
});
