/**
 * Units under the stores: range text, run algebra (checked against plain
 * sets), `.newsrc` parsing, and `applyRuns`/`runChanges` against the session
 * store's per-UID `MailboxFlags.apply` (the reference semantics).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlagStoreError, type FlagOp } from '../../src/stateagent/flagstore.js';
import { assemble, planWrite, type ChunkRecord } from '../../src/stateagent/stores/chunks.js';
import { applyRuns, changesSince, cloneFlags, emptyFlags, expandChanges } from '../../src/stateagent/stores/mailbox-state.js';
import { formatNewsrc, parseNewsrc } from '../../src/stateagent/newsrc.js';
import { expandRuns, formatRuns, intersectRuns, parseRanges, runsOfUids, subtractRuns, type Run } from '../../src/stateagent/ranges.js';
import { MailboxFlags } from '../../src/stateagent/stores/session.js';

const uidSet = fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }).map((a) => a.sort((x, y) => x - y));

describe('ranges', () => {
  it('parses and formats .newsrc range text', () => {
    expect(parseRanges('1-5,7, 9 - 12')).toEqual([[1, 5], [7, 7], [9, 12]]);
    expect(parseRanges('9-12,1-5,4-7')).toEqual([[1, 7], [9, 12]]);
    expect(parseRanges('')).toEqual([]);
    expect(formatRuns([[1, 5], [7, 7]])).toBe('1-5,7');
    expect(parseRanges('0-5,9-3', { newsrc: true })).toEqual([[1, 5]]);
    for (const bad of ['0', '5-3', 'x', '1,,2', '1-2-3', '-4', '4294967296', '1-99999999999']) {
      expect(() => parseRanges(bad)).toThrow(FlagStoreError);
    }
  });

  it('intersect and subtract agree with sets', () => {
    fc.assert(fc.property(uidSet, uidSet, (a, b) => {
      const ra = runsOfUids(a);
      const rb = runsOfUids(b);
      expect(expandRuns(intersectRuns(ra, rb))).toEqual(a.filter((x) => b.includes(x)));
      expect(expandRuns(subtractRuns(ra, rb))).toEqual(a.filter((x) => !b.includes(x)));
      expect(parseRanges(formatRuns(ra))).toEqual(ra);
    }));
  });
});

describe('newsrc', () => {
  it('reads subscribed and unsubscribed groups, skipping options and continuation lines', () => {
    const g = parseNewsrc('options -n all\n  -r\ngeneral: 1-78,80,85-90\nfa.info-vax! 1-5\nnet.news:1\nalt.x!\r\n\n');
    expect(g).toEqual([
      { group: 'general', subscribed: true, read: [[1, 78], [80, 80], [85, 90]] },
      { group: 'fa.info-vax', subscribed: false, read: [[1, 5]] },
      { group: 'net.news', subscribed: true, read: [[1, 1]] },
      { group: 'alt.x', subscribed: false, read: [] },
    ]);
    expect(formatNewsrc(g)).toBe('general: 1-78,80,85-90\nfa.info-vax! 1-5\nnet.news: 1\nalt.x!\n');
    expect(() => parseNewsrc('ok: 1\nbad line here\n')).toThrow(/line 2/);
    expect(() => parseNewsrc('g: 1-x\n')).toThrow(/line 1/);
  });
});

describe('applyRuns', () => {
  const step = fc.record({
    uids: uidSet.filter((a) => a.length > 0),
    op: fc.constantFrom<FlagOp>('add', 'remove', 'set'),
    flags: fc.subarray(['\\Seen', '\\Deleted', 'k1', 'k2']),
    since: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
  });

  it('matches MailboxFlags.apply (the session store) step by step, and survives chunked storage', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 12 }), fc.constantFrom(6, 10, 4096), (steps, maxItems) => {
      const ref = new MailboxFlags();
      let mine = emptyFlags();
      // a key-value store of chunks, written only where planWrite says
      const kv = new Map<number, ChunkRecord>();
      let splits = [1];
      for (const s of steps) {
        const a = ref.apply(s.uids, s.op, s.flags, s.since === undefined ? {} : { unchangedSince: s.since });
        const next = cloneFlags(mine);
        const b = applyRuns(next, runsOfUids(s.uids), s.op, s.flags, s.since);
        const plan = planWrite(next, splits, b.changed, maxItems);
        for (const st of plan.removes) kv.delete(st);
        for (const [st, c] of plan.puts) kv.set(st, c);
        splits = plan.splits;
        for (const st of kv.keys()) expect(splits).toContain(st);
        mine = assemble({ highestModseq: next.highestModseq, splits }, splits.map((st) => kv.get(st)));
        expect(expandRuns(b.modified)).toEqual(a.modified);
        expect([b.modseq, b.highestModseq]).toEqual([a.modseq, a.highestModseq]);
      }
      for (let u = 1; u <= 61; u++) {
        expect([...mine.flagsOf(u)].sort()).toEqual([...ref.flagsOf(u)].sort());
        expect(mine.modseqOf(u)).toBe(ref.modseqOf(u));
      }
      expect([...mine.keywords()].sort()).toEqual([...ref.keywords()].sort());
      for (const since of [0, 1, 3, 6]) {
        const mineCh = expandChanges(changesSince(mine, since)).map((c) => ({ ...c, flags: [...c.flags].sort() }));
        const refCh = ref.changedSince(since).map((c) => ({ ...c, flags: [...c.flags].sort() }));
        expect(mineCh).toEqual(refCh);
      }
    }), { numRuns: 300 });
  });

  it('changes runs without expanding them (1-4294967295 is one range)', () => {
    const mf = new MailboxFlags();
    const all: Run[] = [[1, 0xffff_ffff]];
    const r = applyRuns(mf, all, 'add', ['\\Seen']);
    expect(r.changed).toEqual(all);
    expect(mf.byFlag.get('\\Seen')!.rangeCount).toBe(1);
    expect(changesSince(mf, 1)).toEqual([{ lo: 1, hi: 0xffff_ffff, flags: ['\\Seen'], modseq: 2 }]);
  });
});

describe('ModseqRuns', () => {
  it('behaves as ModseqMap under random sets, and round-trips through flat()', async () => {
    const { ModseqMap } = await import('../../src/stateagent/modseq-map.js');
    const { ModseqRuns } = await import('../../src/stateagent/modseq-runs.js');
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 2, max: 99 })), { maxLength: 30 }), (sets) => {
      const ref = new ModseqMap();
      const mine = new ModseqRuns();
      for (const [lo, len, ms] of sets) {
        ref.set(lo, lo + len, ms);
        mine.set(lo, lo + len, ms);
      }
      for (let u = 0; u <= 100; u++) expect(mine.get(u)).toBe(ref.get(u));
      const copy = ModseqRuns.fromFlat(mine.flat());
      expect([...copy.runs()]).toEqual([...mine.runs()]);
      expect([...mine.changedSince(50)]).toEqual([...mine.runs()].filter(([, , m]) => m > 50));
      expect(mine.runsIn(10, 20).every(([a, b]) => a >= 10 && b <= 20 && a <= b)).toBe(true);
      for (const [a, b, m] of mine.runsIn(10, 20)) for (let u = a; u <= b; u++) expect(ref.get(u)).toBe(m);
    }), { numRuns: 300 });
  });
});

describe('SseParser', () => {
  it('gives the same events however the stream is cut, with CRLF, LF or CR line ends', async () => {
    const { SseParser } = await import('../../src/stateagent/stores/sse-client.js');
    const body = (eol: string) => [': hello', 'retry: 1000', '', 'id: a-1', 'event: change', 'data: {"x":1}', '', ': ping', '',
      'data: two', 'data: lines', '', 'id: a-2', 'event: resync', 'data: {}', '', 'data: no blank line yet'].join(eol);
    const expected = [
      { event: 'change', data: '{"x":1}', id: 'a-1' },
      { event: 'message', data: 'two\nlines', id: 'a-1' },
      { event: 'resync', data: '{}', id: 'a-2' },
    ];
    fc.assert(fc.property(fc.constantFrom('\r\n', '\n', '\r'), fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 20 }), (eol, cuts) => {
      const text = body(eol);
      const p = new SseParser();
      const got = [];
      const at = [...new Set(cuts.map((c) => c % text.length))].sort((a, b) => a - b);
      let prev = 0;
      for (const c of [...at, text.length]) {
        got.push(...p.push(text.slice(prev, c)));
        prev = c;
      }
      expect(got).toEqual(expected);
    }), { numRuns: 300 });
  });
});
