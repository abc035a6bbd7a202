import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MessageKeys, THREAD_ALGORITHMS, baseSubject, sentDate, threadMessages, type MessageRecord, type ThreadNode } from '../../src/search/index.js';
import { renderThreads } from '../../src/imap/render/thread.js';
import { parseThreads } from './thread-wire.js';

// a small pool of ids, so that duplicates, loops and missing parents are common
const idArb = fc.integer({ min: 0, max: 9 }).map((k) => `<m${k}@x>`);
const recordsArb = fc
  .array(
    fc.record({
      id: fc.oneof(idArb, fc.constant(''), fc.constant('garbage')),
      refs: fc.array(fc.oneof(idArb, fc.constant('(comment)')), { maxLength: 4 }).map((l) => l.join(' ')),
      irt: fc.oneof(fc.constant(''), idArb),
      subject: fc.constantFrom('', 'x', 'Re: x', 'X', 'y', 'Fwd: y', '[l] Re: x', 'Re:'),
      date: fc.oneof(fc.constant(NaN), fc.integer({ min: 0, max: 6 })),
      arrival: fc.integer({ min: 0, max: 6 }),
    }),
    { maxLength: 30 },
  )
  .map((list): MessageRecord[] =>
    list.map((r, i) => ({
      uid: i * 3 + 2,
      date: r.date,
      arrival: r.arrival,
      size: 0,
      subject: r.subject,
      from: '',
      to: '',
      cc: '',
      messageId: r.id,
      references: r.refs,
      inReplyTo: r.irt,
    })),
  );
const subsetArb = fc.option(fc.array(fc.nat({ max: 35 })), { nil: undefined });

function* walk(forest: readonly ThreadNode[], depth = 0): Generator<{ node: ThreadNode; depth: number }> {
  for (const node of forest) {
    yield { node, depth };
    yield* walk(node.children, depth + 1);
  }
}

/** Sort key of a node: (sent date, mailbox order) of the message, or of a dummy's first child. */
function keyOf(records: MessageRecord[], node: ThreadNode): [number, number] {
  const n = node.uid === null ? node.children[0]! : node;
  const i = records.findIndex((r) => r.uid === n.uid);
  return [sentDate(records[i]!), i];
}
const before = (a: [number, number], b: [number, number]): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

function selected(records: MessageRecord[], subset: number[] | undefined): number[] {
  const idx = subset === undefined ? records.map((_, i) => i) : [...new Set(subset.filter((i) => i < records.length))];
  return idx.map((i) => records[i]!.uid).sort((a, b) => a - b);
}

describe('THREAD properties', () => {
  it('every selected message appears exactly once, in any algorithm', () => {
    fc.assert(
      fc.property(recordsArb, subsetArb, fc.constantFrom(...THREAD_ALGORITHMS), (records, subset, algorithm) => {
        const forest = threadMessages(new MessageKeys(records), algorithm, subset);
        const uids = [...walk(forest)].flatMap(({ node }) => (node.uid === null ? [] : [node.uid]));
        expect(uids.sort((a, b) => a - b)).toEqual(selected(records, subset));
      }),
      { numRuns: 500 },
    );
  });

  it('dummies only at the top, each with two or more message children', () => {
    fc.assert(
      fc.property(recordsArb, subsetArb, fc.constantFrom(...THREAD_ALGORITHMS), (records, subset, algorithm) => {
        for (const { node, depth } of walk(threadMessages(new MessageKeys(records), algorithm, subset))) {
          if (node.uid !== null) continue;
          expect(algorithm).not.toBe('ORDEREDSUBJECT');
          expect(depth).toBe(0);
          expect(node.children.length).toBeGreaterThanOrEqual(2);
          for (const c of node.children) expect(c.uid).not.toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('siblings in sent-date order; threads by first message, or by latest for REFS', () => {
    fc.assert(
      fc.property(recordsArb, subsetArb, fc.constantFrom(...THREAD_ALGORITHMS), (records, subset, algorithm) => {
        const forest = threadMessages(new MessageKeys(records), algorithm, subset);
        for (const { node } of walk(forest)) {
          for (let k = 1; k < node.children.length; k++) {
            expect(before(keyOf(records, node.children[k - 1]!), keyOf(records, node.children[k]!))).toBe(true);
          }
        }
        const rootKey = (t: ThreadNode): [number, number] => {
          if (algorithm !== 'REFS') return keyOf(records, t);
          let latest: [number, number] = [-Infinity, -1];
          for (const { node } of walk([t])) if (node.uid !== null && before(latest, keyOf(records, node))) latest = keyOf(records, node);
          return latest;
        };
        for (let k = 1; k < forest.length; k++) expect(before(rootKey(forest[k - 1]!), rootKey(forest[k]!))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('ORDEREDSUBJECT: one base subject per thread, a different one in each', () => {
    fc.assert(
      fc.property(recordsArb, subsetArb, (records, subset) => {
        const forest = threadMessages(new MessageKeys(records), 'ORDEREDSUBJECT', subset);
        const subjectOf = (uid: number) => baseSubject(records.find((r) => r.uid === uid)!.subject).key;
        const seen = new Set<string>();
        for (const root of forest) {
          const s = subjectOf(root.uid!);
          expect(seen.has(s)).toBe(false);
          seen.add(s);
          for (const { node } of walk(root.children)) expect(subjectOf(node.uid!)).toBe(s);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('without subjects, REFERENCES and REFS build the same threads', () => {
    fc.assert(
      fc.property(recordsArb, subsetArb, (records, subset) => {
        const keys = new MessageKeys(records.map((r) => ({ ...r, subject: '' })));
        const threads = (a: 'REFERENCES' | 'REFS') =>
          threadMessages(keys, a, subset)
            .map((t) => renderThreads([t]).toString())
            .sort();
        expect(threads('REFS')).toEqual(threads('REFERENCES'));
      }),
      { numRuns: 200 },
    );
  });

  it('renders to thread-lists that read back as the same forest', () => {
    fc.assert(
      fc.property(recordsArb, subsetArb, fc.constantFrom(...THREAD_ALGORITHMS), (records, subset, algorithm) => {
        const forest = threadMessages(new MessageKeys(records), algorithm, subset);
        expect(parseThreads(renderThreads(forest).toString('latin1'))).toEqual(forest);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same answer from kept keys, after appends, as from fresh ones', () => {
    fc.assert(
      fc.property(recordsArb, fc.nat(), fc.constantFrom(...THREAD_ALGORITHMS), (records, cut, algorithm) => {
        const at = cut % (records.length + 1);
        const keys = new MessageKeys(records.slice(0, at));
        threadMessages(keys, algorithm);
        keys.append(records.slice(at));
        const fresh = threadMessages(new MessageKeys(records), algorithm);
        expect(threadMessages(keys, algorithm)).toEqual(fresh);
        expect(threadMessages(keys, algorithm)).toEqual(fresh);
      }),
      { numRuns: 200 },
    );
  });
});
