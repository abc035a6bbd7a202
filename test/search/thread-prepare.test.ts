/**
 * `prepareThread` and `MessageKeys.setInReplyTo`: keys prepared before the
 * In-Reply-To values were known give, once they are set, the threads fresh
 * keys give; what was prepared stays when the values change nothing.
 */
import { describe, expect, it } from 'vitest';
import { MessageKeys, prepareThread, threadMessages, threadPacked, unpackForest, type MessageRecord, type ThreadAlgorithm } from '../../src/search/index.js';
import { rec } from './records.js';

const T0 = Date.parse('2001-01-01T00:00:00Z');
/** Replies by References, by In-Reply-To alone (2, 5, 6), two replies to a missing parent (5, 6). */
function records(): MessageRecord[] {
  return [
    rec({ uid: 1, date: T0 + 5, subject: 'root', id: '<a@x>' }),
    rec({ uid: 2, date: T0 + 1, subject: 'Re: root', id: '<b@x>', irt: '<a@x>' }),
    rec({ uid: 3, date: T0 + 3, subject: 'Re: root', id: '<c@x>', refs: '<a@x> <b@x>' }),
    rec({ uid: 4, date: T0 + 2, subject: 'other', id: '<d@x>' }),
    rec({ uid: 5, date: T0 + 4, subject: 'Re: lost', id: '<e@x>', irt: '<gone@x>' }),
    rec({ uid: 6, date: T0 + 6, subject: 'lost', id: '<f@x>', irt: 'x <gone@x>' }),
  ];
}
const ALGS: ThreadAlgorithm[] = ['REFERENCES', 'REFS', 'ORDEREDSUBJECT'];

describe('threads prepared before In-Reply-To is known', () => {
  for (const alg of ALGS) {
    for (const whole of [true, false]) {
      it(`${alg}${whole ? '' : ' (subset)'}: after setInReplyTo, as fresh keys`, () => {
        const full = records();
        const keys = new MessageKeys(full.map((r) => ({ ...r, inReplyTo: '' })));
        prepareThread(keys, alg, whole);
        const values = new Map(full.map((r, i) => [i, r.inReplyTo]));
        keys.setInReplyTo(values);
        const subset = whole ? undefined : [0, 1, 2, 4, 5];
        expect(threadMessages(keys, alg, subset)).toEqual(threadMessages(new MessageKeys(full), alg, subset));
      });
    }
  }

  it('keeps what was prepared when the values change nothing, drops it when they do', () => {
    const full = records();
    const keys = new MessageKeys(full.map((r) => ({ ...r, inReplyTo: '' })));
    prepareThread(keys, 'REFERENCES', true);
    const prepared = keys.peek('thread:REFERENCES');
    expect(prepared).toBeDefined();
    keys.setInReplyTo(new Map([[0, ''], [3, '']]));
    expect(keys.peek('thread:REFERENCES')).toBe(prepared);
    expect(keys.holds('thread-ids')).toBe(true);
    keys.setInReplyTo(new Map([[1, '<a@x>']]));
    expect(keys.peek('thread:REFERENCES')).toBeUndefined();
    expect(keys.holds('thread-ids')).toBe(false);
    expect(keys.records[1]!.inReplyTo).toBe('<a@x>');
    expect(() => keys.setInReplyTo(new Map([[9, '<a@x>']]))).toThrow(RangeError);
  });

  it('prepares the packed forest a whole-group THREAD hands out, and a repeat hands out the same arrays', () => {
    const keys = new MessageKeys(records());
    prepareThread(keys, 'REFERENCES', true);
    const prepared = keys.peek('thread:REFERENCES');
    expect(prepared).toBeDefined();
    const first = threadPacked(keys, 'REFERENCES');
    expect(first).toBe(prepared);
    expect(threadPacked(keys, 'REFERENCES')).toBe(first);
    expect(unpackForest(first)).toEqual(threadMessages(new MessageKeys(records()), 'REFERENCES'));
  });
});
