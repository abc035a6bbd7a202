import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MessageKeys, SORT_KEYS, baseSubject, sortComparator, sortOrder, type FirstAddress, type MessageRecord, type SortCriterion, type SortKey } from '../../src/search/index.js';
import { sortRanks } from '../../src/search/sort.js';
import { extendRanks, rankNumbers, rankStrings } from '../../src/search/collate.js';
import { decodeHeaderValue, parseAddressList } from '../../src/mime/index.js';
import { rec, type Partial } from './records.js';

function uids(records: Partial[], criteria: SortCriterion[], subset?: number[]): number[] {
  const keys = new MessageKeys(records.map(rec));
  return [...sortOrder(keys, criteria, subset)].map((i) => keys.uid(i));
}

describe('SORT keys (RFC 5256 §3, RFC 5957)', () => {
  it('DATE compares instants across zones and falls back to INTERNALDATE', () => {
    const records: Partial[] = [
      { uid: 1, date: 'Mon, 01 Jan 2024 09:00:00 +0000' }, // 09:00Z
      { uid: 2, date: 'Mon, 01 Jan 2024 10:00:00 +0200' }, // 08:00Z
      { uid: 3, date: 'Sun, 31 Dec 2023 23:30:00 -0900' }, // 08:30Z on Jan 1
      { uid: 4, arrival: Date.parse('2024-01-01T08:15:00Z') }, // no Date header
    ];
    expect(uids(records, [{ key: 'DATE' }])).toEqual([2, 4, 3, 1]);
    expect(uids(records, [{ key: 'DATE', reverse: true }])).toEqual([1, 3, 4, 2]);
  });

  it('ARRIVAL and SIZE are numbers; ties stay in mailbox order', () => {
    const records: Partial[] = [
      { uid: 1, arrival: 30, size: 5 },
      { uid: 2, arrival: 10, size: 500 },
      { uid: 3, arrival: 20, size: 5 },
      { uid: 4, arrival: 10, size: 40 },
    ];
    expect(uids(records, [{ key: 'ARRIVAL' }])).toEqual([2, 4, 3, 1]);
    expect(uids(records, [{ key: 'SIZE' }])).toEqual([1, 3, 4, 2]);
    expect(uids(records, [{ key: 'SIZE', reverse: true }])).toEqual([2, 4, 1, 3]);
  });

  it('SUBJECT uses the base subject under i;ascii-casemap', () => {
    const records: Partial[] = [
      { uid: 1, subject: 'Re: b' },
      { uid: 2, subject: '[list] C' },
      { uid: 3, subject: 'a' },
      { uid: 4, subject: '_x' }, // '_' is above 'A'…'Z': i;ascii-casemap maps to upper case
      { uid: 5, subject: '' },
      { uid: 6, subject: 'Fwd: B' },
      { uid: 7, subject: '=?utf-8?q?=C3=A9?=' }, // é, above every ASCII character
    ];
    expect(uids(records, [{ key: 'SUBJECT' }])).toEqual([5, 3, 1, 6, 2, 4, 7]);
  });

  it('FROM, TO and CC use the mailbox (local part) of the first address', () => {
    const records: Partial[] = [
      { uid: 1, from: 'Zed <bob@a.example>', to: 'x@y, a@y', cc: 'c@d' },
      { uid: 2, from: 'ALICE@z.example (Al)', to: 'Group: m@y, n@y;' },
      { uid: 3, from: '', to: 'b@y' },
      { uid: 4, from: '"Aaron" <carol@b.example>', to: '<a@y>' },
    ];
    expect(uids(records, [{ key: 'FROM' }])).toEqual([3, 2, 1, 4]);
    // group start marker: its addr-mailbox is the group name
    expect(uids(records, [{ key: 'TO' }])).toEqual([4, 3, 2, 1]);
    expect(uids(records, [{ key: 'CC' }])).toEqual([2, 3, 4, 1]);
  });

  it('DISPLAYFROM and DISPLAYTO use the display name, else the address', () => {
    const records: Partial[] = [
      { uid: 1, from: 'Zed <alice@a.example>', to: 'Bea <z@y>' },
      { uid: 2, from: 'bob@b.example', to: '=?utf-8?q?=C3=81da?= <a@y>' },
      { uid: 3, from: '=?utf-8?q?Carl?= <aaa@c.example>', to: '"" <c@y>' },
      { uid: 4, from: 'dan@d.example (Abe)', to: '' },
    ];
    // names: Zed, bob@b.example, Carl, Abe
    expect(uids(records, [{ key: 'DISPLAYFROM' }])).toEqual([4, 2, 3, 1]);
    // names: Bea, Áda (decoded, sorts after ASCII), c@y (empty name), ''
    expect(uids(records, [{ key: 'DISPLAYTO' }])).toEqual([4, 1, 3, 2]);
  });

  it('several criteria: later ones break ties of earlier ones (RFC 5256 example shape)', () => {
    const records: Partial[] = [
      { uid: 1, subject: 'Afternoon meeting', date: 'Mon, 7 Feb 1994 21:52:25 -0800' },
      { uid: 2, subject: 'Re: afternoon meeting', date: 'Mon, 7 Feb 1994 22:00:00 -0800' },
      { uid: 3, subject: 'Another', date: 'Mon, 7 Feb 1994 20:00:00 -0800' },
      { uid: 4, subject: 'afternoon Meeting', date: 'Mon, 7 Feb 1994 21:00:00 -0800' },
    ];
    expect(uids(records, [{ key: 'SUBJECT' }, { key: 'DATE', reverse: true }])).toEqual([2, 1, 4, 3]);
    expect(uids(records, [{ key: 'SUBJECT', reverse: true }, { key: 'DATE' }])).toEqual([3, 4, 1, 2]);
  });

  it('sorts a subset, repeats from the kept order, and takes appended messages', () => {
    const keys = new MessageKeys([rec({ uid: 1, size: 3 }), rec({ uid: 2, size: 1 }), rec({ uid: 3, size: 2 }), rec({ uid: 4, size: 0 })]);
    expect([...sortOrder(keys, [{ key: 'SIZE' }], [0, 2])]).toEqual([2, 0]);
    expect([...sortOrder(keys, [{ key: 'SIZE' }])]).toEqual([3, 1, 2, 0]);
    expect([...sortOrder(keys, [{ key: 'SIZE' }], [2, 0, 0, 99])]).toEqual([2, 0]); // from the kept order
    keys.append([rec({ uid: 7, size: 1 })]);
    expect([...sortOrder(keys, [{ key: 'SIZE' }])]).toEqual([3, 1, 4, 2, 0]);
    expect(() => keys.append([rec({ uid: 7 })])).toThrow(RangeError);
    expect(() => sortOrder(keys, [])).toThrow(RangeError);
  });
});

// ---- properties against a reference written straight from the RFC text ----

const fromPool = ['Zed <bob@a.example>', 'bob@b.example', 'BOB@c.example (Bobby)', '"Al" <al@x>', '=?utf-8?q?=C3=89mile?= <e@x>', '', 'g: a@b, c@d;', '_u@x'];
const subjectPool = ['x', 'Re: x', 'X', '[l] y', 'Fwd: Y', '', '=?utf-8?q?caf=C3=A9?=', '_z', 'a (fwd)', 'Re: [l] Fwd: x'];

const recordsArb = fc
  .array(
    fc.record({
      date: fc.oneof(fc.constant(NaN), fc.integer({ min: -5, max: 5 }).map((d) => d * 3_600_000)),
      arrival: fc.integer({ min: -3, max: 3 }),
      size: fc.integer({ min: 0, max: 4 }),
      subject: fc.constantFrom(...subjectPool),
      from: fc.constantFrom(...fromPool),
      to: fc.constantFrom(...fromPool),
      cc: fc.constantFrom(...fromPool),
    }),
    { maxLength: 40 },
  )
  .map((list): MessageRecord[] => list.map((r, i) => ({ ...r, uid: i * 2 + 1, messageId: '', references: '', inReplyTo: '' })));

const criteriaArb = fc.array(fc.record({ key: fc.constantFrom(...SORT_KEYS), reverse: fc.boolean() }), { minLength: 1, maxLength: 3 });

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
const fold = (s: string): string => s.replace(/[a-z]/g, (c) => c.toUpperCase());

function referenceKey(r: MessageRecord, key: SortKey): string | number {
  const first = (v: string | FirstAddress) => {
    if (typeof v !== 'string') throw new Error('the oracle reads raw records only');
    return v === '' ? undefined : parseAddressList(Buffer.from(v))?.[0];
  };
  switch (key) {
    case 'ARRIVAL':
      return r.arrival;
    case 'SIZE':
      return r.size;
    case 'DATE':
      return Number.isNaN(r.date) ? r.arrival : r.date;
    case 'SUBJECT':
      return fold(baseSubject(r.subject).text);
    case 'FROM':
    case 'TO':
    case 'CC': {
      const a = first(r[key.toLowerCase() as 'from' | 'to' | 'cc']);
      return fold(a?.mailbox?.toString('utf8') ?? '');
    }
    case 'DISPLAYFROM':
    case 'DISPLAYTO': {
      const a = first(key === 'DISPLAYFROM' ? r.from : r.to);
      if (a === undefined) return '';
      const name = a.name === null ? '' : decodeHeaderValue(a.name);
      if (name !== '') return fold(name);
      if (a.mailbox === null) return '';
      return fold(a.host === null ? a.mailbox.toString() : `${a.mailbox.toString()}@${a.host.toString()}`);
    }
  }
}

function referenceOrder(records: MessageRecord[], criteria: SortCriterion[]): number[] {
  const idx = records.map((_, i) => i);
  return idx.sort((a, b) => {
    for (const c of criteria) {
      const x = referenceKey(records[a]!, c.key);
      const y = referenceKey(records[b]!, c.key);
      const d = typeof x === 'number' ? x - (y as number) : utf8Compare(x, y as string);
      if (d !== 0) return c.reverse ? -d : d;
    }
    return a - b;
  });
}

describe('SORT properties', () => {
  it('equals a comparison sort by the RFC keys, ties in mailbox order', () => {
    fc.assert(
      fc.property(recordsArb, criteriaArb, (records, criteria) => {
        const keys = new MessageKeys(records);
        expect([...sortOrder(keys, criteria)]).toEqual(referenceOrder(records, criteria));
      }),
      { numRuns: 300 },
    );
  });

  it('is a permutation of the subset, ordered by the comparator', () => {
    fc.assert(
      fc.property(recordsArb, criteriaArb, fc.array(fc.nat({ max: 45 })), (records, criteria, subset) => {
        const keys = new MessageKeys(records);
        const out = [...sortOrder(keys, criteria, subset)];
        const wanted = [...new Set(subset.filter((i) => i < records.length))].sort((a, b) => a - b);
        expect([...out].sort((a, b) => a - b)).toEqual(wanted);
        const cmp = sortComparator(keys, criteria);
        for (let k = 1; k < out.length; k++) expect(cmp(out[k - 1]!, out[k]!)).toBeLessThan(0);
        // the same subset again, now filtered from the kept full order
        sortOrder(keys, criteria);
        expect([...sortOrder(keys, criteria, subset)]).toEqual(out);
      }),
      { numRuns: 200 },
    );
  });

  it('REVERSE reverses the runs of equal keys and keeps mailbox order inside each', () => {
    fc.assert(
      fc.property(recordsArb, fc.constantFrom(...SORT_KEYS), (records, key) => {
        const keys = new MessageKeys(records);
        const forward = [...sortOrder(keys, [{ key }])];
        const runs: number[][] = [];
        for (const i of forward) {
          const last = runs[runs.length - 1];
          if (last !== undefined && referenceKey(records[last[0]!]!, key) === referenceKey(records[i]!, key)) last.push(i);
          else runs.push([i]);
        }
        expect([...sortOrder(keys, [{ key, reverse: true }])]).toEqual(runs.reverse().flat());
      }),
      { numRuns: 200 },
    );
  });

  it('keeps its answers when records arrive in batches', () => {
    fc.assert(
      fc.property(recordsArb, criteriaArb, fc.nat(), (records, criteria, cut) => {
        const keys = new MessageKeys(records.slice(0, cut % (records.length + 1)));
        sortOrder(keys, criteria); // derive keys for the first batch
        keys.append(records.slice(cut % (records.length + 1)));
        expect([...sortOrder(keys, criteria)]).toEqual([...sortOrder(new MessageKeys(records), criteria)]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('SORT orders kept across arrivals', () => {
  it('extends kept ranks and orders batch by batch, equal to a fresh sort after each batch', () => {
    fc.assert(
      fc.property(recordsArb, criteriaArb, fc.array(fc.nat({ max: 12 }), { minLength: 1, maxLength: 5 }), (records, criteria, cuts) => {
        const name = `order:${criteria.map((c) => (c.reverse ? '-' : '') + c.key).join(' ')}`;
        let at = 0;
        const keys = new MessageKeys([]);
        for (const size of [...cuts, records.length]) {
          const batch = records.slice(at, at + size);
          at += batch.length;
          keys.append(batch);
          const fresh = new MessageKeys(records.slice(0, at));
          expect([...sortOrder(keys, criteria)]).toEqual([...sortOrder(fresh, criteria)]);
          for (const c of criteria) expect([...sortRanks(keys, c.key).ranks]).toEqual([...sortRanks(fresh, c.key).ranks]);
          // the order is kept (and extended), not dropped, when records arrive
          expect(keys.holds(name)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('ranks new values among old ones: numbers with NaN and -0, strings by code point', () => {
    const nums = rankNumbers([5, NaN, -1]);
    const more = extendRanks(nums, [0, -0, 3, 7, -1, -2]);
    expect(more).toEqual(rankNumbers([5, NaN, -1, 0, -0, 3, 7, -1, -2]));
    expect(more.count).toBe(6); // -2 -1 0 3 5 7
    const strs = rankStrings(['b', '\u{1F600}', 'A']);
    const moreStrs = extendRanks(strs, ['\uffff', 'a', 'b', '']);
    expect(moreStrs).toEqual(rankStrings(['b', '\u{1F600}', 'A', '\uffff', 'a', 'b', '']));
    // U+FFFF sorts below U+1F600 by code point, though not by UTF-16 code unit
    expect(moreStrs.ranks[3]).toBeLessThan(moreStrs.ranks[1]!);
  });
});
