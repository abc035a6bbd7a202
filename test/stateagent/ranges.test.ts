/**
 * Units under the stores: the range helpers (src/util/rangeset.ts) and UID
 * set text checked against plain sets, `.newsrc` parsing, ModseqMap and
 * `applyRuns`/`runChanges` (mailbox-state.ts) against a per-UID model,
 * through the chunked LMDB form (chunks.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlagStoreError, type FlagOp } from '../../src/stateagent/flagstore.js';
import { assemble, planWrite, type ChunkRecord } from '../../src/stateagent/stores/chunks.js';
import { applyRuns, changesSince, expandChanges, MailboxFlags } from '../../src/stateagent/stores/mailbox-state.js';
import { ModseqMap } from '../../src/stateagent/modseq-map.js';
import { formatNewsrc, parseNewsrc } from '../../src/stateagent/newsrc.js';
import { checkUids, parseRanges } from '../../src/stateagent/validate.js';
import {
  RangeSet, expandRuns, formatRuns, intersectRuns, subtractRuns, toRuns, type Run,
} from '../../src/util/rangeset.js';

const uidSet = fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }).map((a) => a.sort((x, y) => x - y));

describe('ranges', () => {
  it('parses and formats .newsrc range text', () => {
    expect(parseRanges('1-5,7, 9 - 12')).toEqual([[1, 5], [7, 7], [9, 12]]);
    expect(parseRanges('9-12,1-5,4-7')).toEqual([[1, 7], [9, 12]]);
    expect(parseRanges('')).toEqual([]);
    expect(formatRuns([[1, 5], [7, 7]])).toBe('1-5,7');
    expect(parseRanges('0-5,0,1-0,0-0', { newsrc: true })).toEqual([[1, 5]]);
    expect(() => parseRanges('1-0')).toThrow(/1-0 ends before it starts/);
    // a range that ends before it starts is refused everywhere, `.newsrc` included (docs/agent-api.md)
    expect(() => parseRanges('0-5,9-3', { newsrc: true })).toThrow(/9-3 ends before it starts/);
    for (const bad of ['0', '5-3', 'x', '1,,2', '1-2-3', '-4', '4294967296', '1-99999999999']) {
      expect(() => parseRanges(bad)).toThrow(FlagStoreError);
    }
  });

  it('toRuns, intersect, subtract and RangeSet agree with sets', () => {
    fc.assert(fc.property(uidSet, uidSet, fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 61 }), (a, b, lo, hi) => {
      const ra = toRuns(a);
      const rb = toRuns(b);
      expect(expandRuns(ra)).toEqual(a);
      expect(expandRuns(intersectRuns(ra, rb))).toEqual(a.filter((x) => b.includes(x)));
      expect(expandRuns(subtractRuns(ra, rb))).toEqual(a.filter((x) => !b.includes(x)));
      expect(parseRanges(formatRuns(ra))).toEqual(ra);
      const set = RangeSet.of(...ra);
      expect([...set.ranges()]).toEqual(ra);
      expect(set.toString()).toBe(formatRuns(ra));
      expect(expandRuns(set.rangesIn(lo, hi))).toEqual(a.filter((x) => x >= lo && x <= hi));
      expect([...RangeSet.fromFlat(ra.flat()).ranges()]).toEqual(ra);
      // an unsorted, overlapping stored form is normalized, not trusted
      const messy = [...rb, ...ra].flat();
      expect([...RangeSet.fromFlat(messy)]).toEqual([...new Set([...a, ...b])].sort((x, y) => x - y));
    }));
  });

  it('checkUids takes strictly ascending UIDs in 1..2^32-1 and gives their runs', () => {
    expect(checkUids([1, 2, 3, 7, 4294967295])).toEqual([[1, 3], [7, 7], [4294967295, 4294967295]]);
    for (const bad of [[0], [2, 2], [3, 1], [1.5], [4294967296]]) expect(() => checkUids(bad)).toThrow(FlagStoreError);
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
    expect(() => parseNewsrc('g1: 1-2\ng2: 3-1\n')).toThrow(/line 2: range 3-1 ends before it starts/);
    // a group given twice is refused, naming both lines (no silent merge or first-wins)
    expect(() => parseNewsrc('a: 1\nb: 2\n# c\na! 3\n')).toThrow(/line 4: group a is already on line 1/);
    // names that are Object.prototype members are group names like any other
    expect(parseNewsrc('toString: 1\nconstructor! 2\n__proto__: 3\n').map((g) => g.group)).toEqual(['toString', 'constructor', '__proto__']);
  });
});

describe('applyRuns', () => {
  const step = fc.record({
    uids: uidSet.filter((a) => a.length > 0),
    op: fc.constantFrom<FlagOp>('add', 'remove', 'set'),
    flags: fc.subarray(['\\Seen', '\\Deleted', 'k1', 'k2']),
    since: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
  });

  it('matches a per-UID model step by step, and survives chunked storage', () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 12 }), fc.constantFrom(6, 10, 4096), (steps, maxItems) => {
      // the model: flags and modseq per UID
      const flags = new Map<number, Set<string>>();
      const modseqs = new Map<number, number>();
      let highest = 1;
      let mine = new MailboxFlags();
      // a key-value store of chunks, written only where planWrite says
      const kv = new Map<number, ChunkRecord>();
      let splits = [1];
      for (const s of steps) {
        const modified = s.since === undefined ? [] : s.uids.filter((u) => (modseqs.get(u) ?? 1) > s.since!);
        const target = s.uids.filter((u) => !modified.includes(u));
        // only UIDs whose flags differ get the new modseq; none differ: no new modseq
        const altered: number[] = [];
        for (const u of target) {
          const was = flags.get(u) ?? new Set<string>();
          const cur = new Set(was);
          if (s.op === 'set') cur.clear();
          for (const f of s.flags) if (s.op === 'remove') cur.delete(f); else cur.add(f);
          if (cur.size !== was.size || [...cur].some((f) => !was.has(f))) {
            altered.push(u);
            flags.set(u, cur);
          }
        }
        if (altered.length > 0) highest++;
        for (const u of altered) modseqs.set(u, highest);
        const next = mine.clone();
        const b = applyRuns(next, toRuns(s.uids), s.op, s.flags, s.since);
        expect(mine.highestModseq).toBe(b.changed.length > 0 ? highest - 1 : highest); // the copy was changed, not the original
        const plan = planWrite(next, splits, b.changed, maxItems);
        for (const st of plan.removes) kv.delete(st);
        for (const [st, c] of plan.puts) kv.set(st, c);
        splits = plan.splits;
        for (const st of kv.keys()) expect(splits).toContain(st);
        mine = assemble({ highestModseq: next.highestModseq, splits }, splits.map((st) => kv.get(st)));
        expect(expandRuns(b.modified)).toEqual(modified);
        expect(expandRuns(b.reached)).toEqual(target);
        expect(expandRuns(b.changed)).toEqual(altered);
        expect([b.modseq, b.highestModseq]).toEqual([highest, highest]);
      }
      const inUse = new Set<string>();
      for (let u = 1; u <= 61; u++) {
        expect([...mine.flagsOf(u)].sort()).toEqual([...(flags.get(u) ?? [])].sort());
        expect(mine.modseqOf(u)).toBe(modseqs.get(u) ?? 1);
        for (const f of flags.get(u) ?? []) inUse.add(f);
      }
      expect([...mine.keywords()].sort()).toEqual([...inUse].sort());
      for (const since of [0, 1, 3, 6]) {
        const mineCh = expandChanges(changesSince(mine, since)).map((c) => ({ ...c, flags: [...c.flags].sort() }));
        const model = [...modseqs.entries()].filter(([, m]) => m > since).sort(([a], [b]) => a - b)
          .map(([uid, modseq]) => ({ uid, flags: [...(flags.get(uid) ?? [])].sort(), modseq }));
        expect(mineCh).toEqual(model);
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

describe('ModseqMap', () => {
  it('agrees with a per-UID model under random sets, and round-trips through flat()', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 2, max: 99 })), { maxLength: 30 }), (sets) => {
      const ref = new Array<number>(101).fill(1);
      const mine = new ModseqMap();
      for (const [lo, len, ms] of sets) {
        for (let u = lo; u <= lo + len; u++) ref[u] = ms;
        mine.set(lo, lo + len, ms);
      }
      for (let u = 1; u <= 100; u++) expect(mine.get(u)).toBe(ref[u]);
      const runs = [...mine.runs()];
      for (let i = 1; i < runs.length; i++) expect(runs[i]![0]).toBeGreaterThan(runs[i - 1]![1]);
      expect([...ModseqMap.fromFlat(mine.flat()).runs()]).toEqual(runs);
      const copy = mine.clone();
      copy.set(1, 100, 1000);
      expect([...mine.runs()]).toEqual(runs); // a clone is independent
      expect([...mine.changedSince(50)]).toEqual(runs.filter(([, , m]) => m > 50));
      expect(mine.runsIn(10, 20).every(([a, b]) => a >= 10 && b <= 20 && a <= b)).toBe(true);
      for (const [a, b, m] of mine.runsIn(10, 20)) for (let u = a; u <= b; u++) expect(ref[u]).toBe(m);
      expect(mine.runsIn(20, 10)).toEqual([]);
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
