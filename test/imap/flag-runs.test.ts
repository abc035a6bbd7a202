/**
 * FETCH FLAGS from runs (issue 14): FlagRunText gives every UID of a span the
 * same `FLAGS (...)` text as a per-message lookup would, whether UIDs are
 * asked in order (the listing) or not, and MailboxFlags.flagRuns covers the
 * span with runs whose neighbours differ.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlagRunText } from '../../src/imap/fetch/flag-runs.js';
import { applyRuns, MailboxFlags } from '../../src/stateagent/stores/mailbox-state.js';
import { toRuns } from '../../src/util/rangeset.js';
import type { FlagOp } from '../../src/stateagent/flagstore.js';

const step = fc.record({
  uids: fc.uniqueArray(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 30 }).map((a) => a.sort((x, y) => x - y)),
  op: fc.constantFrom<FlagOp>('add', 'remove', 'set'),
  flags: fc.subarray(['\\Seen', '\\Flagged', '$Junk', 'k\u00e9']),
});

describe('FETCH FLAGS from runs', () => {
  it('agrees with flagsOf for every UID, in order or not, and the runs cover the span', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 10 }), fc.integer({ min: 1, max: 90 }), fc.integer({ min: 0, max: 40 }), (steps, lo, len) => {
      const mf = new MailboxFlags();
      for (const s of steps) applyRuns(mf, toRuns(s.uids), s.op, s.flags);
      const hi = lo + len;
      const expected = (uid: number) => Buffer.from(`FLAGS (${mf.flagsOf(uid).join(' ')})`, 'utf8');
      const inOrder = new FlagRunText(mf, lo, hi);
      for (let u = lo; u <= hi; u++) expect(inOrder.of(u).equals(expected(u))).toBe(true);
      const shuffled = new FlagRunText(mf, lo, hi);
      for (let u = hi; u >= lo; u -= 3) expect(shuffled.of(u).equals(expected(u))).toBe(true);
      const runs = mf.flagRuns(lo, hi);
      expect(runs[0]!.lo).toBe(lo);
      expect(runs[runs.length - 1]!.hi).toBe(hi);
      for (let i = 1; i < runs.length; i++) {
        expect(runs[i]!.lo).toBe(runs[i - 1]!.hi + 1);
        expect([...runs[i]!.flags].sort()).not.toEqual([...runs[i - 1]!.flags].sort());
      }
    }), { numRuns: 300 });
  });

  it('renders 1:50000 marked \\Seen as one run', () => {
    const mf = new MailboxFlags();
    applyRuns(mf, [[1, 50000]], 'add', ['\\Seen']);
    expect(mf.flagRuns(1, 50000)).toEqual([{ lo: 1, hi: 50000, flags: ['\\Seen'] }]);
    const t = new FlagRunText(mf, 1, 60000);
    expect(t.of(1)).toBe(t.of(50000)); // the same bytes, made once
    expect(t.of(50001).toString()).toBe('FLAGS ()');
  });
});
