import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SequenceSet, STAR, type RawSeqRange, type SeqNumber } from '../../../src/imap/wire/sequence-set.js';
import { ParseError } from '../../../src/imap/wire/errors.js';

const seqNumber = (maxN: number): fc.Arbitrary<SeqNumber> =>
  fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: maxN }) }, { weight: 1, arbitrary: fc.constant(STAR) });
const rawRanges = (maxN: number): fc.Arbitrary<RawSeqRange[]> =>
  fc.array(fc.record({ start: seqNumber(maxN), end: seqNumber(maxN) }), { minLength: 1, maxLength: 8 });

/** The RFC 9051 meaning, computed the slow way: substitute *, order the ends, keep 1..max. */
function naive(raw: RawSeqRange[], max: number): number[] {
  const out = new Set<number>();
  for (const r of raw) {
    const a = r.start === STAR ? max : r.start;
    const b = r.end === STAR ? max : r.end;
    for (let n = Math.min(a, b); n <= Math.max(a, b); n++) if (n >= 1 && n <= max) out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

const wire = (raw: RawSeqRange[]): string => raw.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}:${r.end}`)).join(',');

describe('SequenceSet', () => {
  it('parse(toString(x)) equals x', () => {
    fc.assert(
      fc.property(rawRanges(1000), (raw) => {
        const x = SequenceSet.from(raw);
        const y = SequenceSet.parse(x.toString());
        expect(y.ranges).toEqual(x.ranges);
        expect(y.starFrom).toEqual(x.starFrom);
      }),
    );
  });

  it('membership, values, count and resolve match a naive expansion on small maxima', () => {
    fc.assert(
      fc.property(rawRanges(30), fc.integer({ min: 0, max: 35 }), (raw, max) => {
        const set = SequenceSet.parse(wire(raw));
        const expected = naive(raw, max);
        expect([...set.values(max)]).toEqual(expected);
        expect(set.count(max)).toBe(expected.length);
        for (let n = 0; n <= max + 2; n++) expect(set.has(n, max)).toBe(expected.includes(n));
        // canonical form keeps the meaning for this maximum too
        expect([...SequenceSet.parse(set.toString()).values(max)]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('sets with the same meaning for every maximum print the same', () => {
    expect(SequenceSet.parse('5:3,1,2').toString()).toBe('1:5');
    expect(SequenceSet.parse('7:*,9,3:6').toString()).toBe('3:*');
    expect(SequenceSet.parse('*:4,10:*').toString()).toBe('4:*');
    expect(SequenceSet.parse('*,*').toString()).toBe('*');
    expect(SequenceSet.parse('2,*').toString()).toBe('2,*');
  });

  it('gives UID n:* with n above the maximum the highest message (RFC 9051 §6.4.8)', () => {
    expect(SequenceSet.parse('500:*').resolve(300)).toEqual([[300, 300]]);
    expect(SequenceSet.parse('1:*').resolve(0)).toEqual([]);
  });

  it('handles 1:* over 2^32-1 without expanding it', () => {
    const set = SequenceSet.parse('1:*');
    expect(set.count(0xffffffff)).toBe(0xffffffff);
    expect(set.has(0xfffffffe, 0xffffffff)).toBe(true);
    const it = set.values(0xffffffff);
    expect([it.next().value, it.next().value]).toEqual([1, 2]);
  });

  it('one number (parsed without a range list) is the set of a general parse', () => {
    for (const n of [1, 7, 100000, 4294967295]) {
      const one = SequenceSet.parse(String(n));
      expect(one.ranges).toEqual([[n, n]]);
      expect(one.starFrom).toBeNull();
      expect(one.equals(SequenceSet.parse(`${n}:${n}`))).toBe(true);
      expect(one.toString()).toBe(String(n));
    }
  });

  it('rejects malformed sets with ParseError', () => {
    for (const bad of ['', '0', '1:', ':1', '1,,2', '1:2:3', '01', '4294967296', 'a', '1,', '*:']) {
      expect(() => SequenceSet.parse(bad), bad).toThrow(ParseError);
    }
  });

  it('reports the largest explicit number so message-number commands can refuse it', () => {
    expect(SequenceSet.parse('1:4,9').maxNumber()).toBe(9);
    expect(SequenceSet.parse('*').maxNumber()).toBe(0);
    expect(SequenceSet.parse('12:*').maxNumber()).toBe(12);
  });
});
