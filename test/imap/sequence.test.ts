import { describe, expect, it } from 'vitest';
import { resolveSet } from '../../src/imap/sequence.js';
import type { SelectedMailbox } from '../../src/imap/selected.js';
import { SequenceSet } from '../../src/imap/wire/sequence-set.js';

/** Only what resolveSet reads of a selected mailbox: its ascending UIDs. */
const mailbox = (uids: number[]): SelectedMailbox => ({ uids: Uint32Array.from(uids) }) as unknown as SelectedMailbox;

/** The rule, member by member: by UID, the positions (1-based) of UIDs the set names; by number, the numbers themselves. */
function reference(uids: number[], text: string, byUid: boolean): number[] {
  const set = SequenceSet.parse(text);
  const max = byUid ? (uids.at(-1) ?? 0) : uids.length;
  const named = new Set<number>();
  for (const [lo, hi] of set.resolve(max)) for (let n = lo; n <= hi; n++) named.add(n);
  return byUid ? uids.flatMap((u, i) => (named.has(u) ? [i + 1] : [])) : [...named].sort((a, b) => a - b);
}

describe('resolveSet', () => {
  const uids = [3, 4, 7, 10, 11, 12, 20, 21, 40];
  const sets = ['1:*', '*', '4', '5', '5:9', '1:3,10:12', '12:*', '41:*', '13:19', '2,4,6,8,10,12', '1:2,*', '9:10,20', '4:7,11:12,39:41'];

  it('by UID: the positions of the UIDs named, ascending, none for UIDs not in use', () => {
    for (const text of sets) expect(resolveSet(mailbox(uids), SequenceSet.parse(text), true), text).toEqual(reference(uids, text, true));
    expect(resolveSet(mailbox([]), SequenceSet.parse('1:*'), true)).toEqual([]);
  });

  it('by number: the numbers named; above the count a client error unless lenient', () => {
    for (const text of ['1:*', '*', '1', '2:5', '1,3,5:6,9', '8:*']) expect(resolveSet(mailbox(uids), SequenceSet.parse(text), false), text).toEqual(reference(uids, text, false));
    expect(() => resolveSet(mailbox(uids), SequenceSet.parse('5:10'), false)).toThrow(/out of range/);
    expect(resolveSet(mailbox(uids), SequenceSet.parse('8:10'), false, true)).toEqual([8, 9]);
    expect(resolveSet(mailbox([]), SequenceSet.parse('1:*'), false)).toEqual([]);
  });

  it('a large mailbox with gaps: every member, in order, the array exactly as long', () => {
    const big: number[] = [];
    for (let u = 1; big.length < 50_000; u += 1 + (u % 7 === 0 ? 3 : 0)) big.push(u);
    for (const text of ['1:*', '100:40000,45000:*', `${big[123]}`]) {
      const got = resolveSet(mailbox(big), SequenceSet.parse(text), true);
      expect(got).toEqual(reference(big, text, true));
    }
  });
});
