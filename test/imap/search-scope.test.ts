/**
 * The bookkeeping of SEARCH (src/imap/search/scope.ts): index answers placed on
 * candidate positions, and the positions a query can still match. Checked
 * against plain Set arithmetic on random mailboxes.
 */
import { describe, expect, it } from 'vitest';
import { narrowing, NO, Scope, UNKNOWN, YES } from '../../src/imap/search/scope.js';
import type { SelectedMailbox } from '../../src/imap/selected.js';
import type { SearchKey } from '../../src/imap/wire/search-key.js';
import { SequenceSet } from '../../src/imap/wire/sequence-set.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** A selected mailbox as Scope reads it: its UIDs. */
function mailbox(uids: number[]): SelectedMailbox {
  const list = Uint32Array.from(uids);
  return { uids: list, uidAt: (seq: number) => list[seq - 1]!, saved: undefined } as unknown as SelectedMailbox;
}

function sample(r: () => number, from: number[], p: number): Uint32Array {
  return Uint32Array.from(from.filter(() => r() < p));
}

describe('Scope', () => {
  it('is the whole mailbox, sequence number = position + 1, without a top-level set', () => {
    const sel = mailbox([3, 7, 9, 20]);
    const s = Scope.of(sel, { type: 'body', value: 'x' } as SearchKey);
    expect(s.uids).toBe(sel.uids); // the snapshot's own list, not a copy
    expect(Array.from(s.seqsOf(Uint32Array.of(0, 2, 3)))).toEqual([1, 3, 4]);
  });

  it('keeps only the messages of top-level UID and sequence sets', () => {
    const sel = mailbox([3, 7, 9, 20, 21]);
    const key: SearchKey = { type: 'and', keys: [{ type: 'uid', set: SequenceSet.parse('5:21') }, { type: 'seq', set: SequenceSet.parse('1:4') }] } as SearchKey;
    const s = Scope.of(sel, key);
    expect(Array.from(s.uids)).toEqual([7, 9, 20]);
    expect([0, 1, 2].map((i) => s.seqAt(i))).toEqual([2, 3, 4]);
  });

  it('places hits and unknowns as a Set-based answer would, for random mailboxes', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const all: number[] = [];
      for (let u = 1; u < 3000; u++) if (r() < 0.6) all.push(u);
      const sel = mailbox(all);
      // the index may name UIDs the session does not hold (expired, newer)
      const universe = Array.from({ length: 3100 }, (_, i) => i + 1);
      const hits = sample(r, universe, [0.001, 0.05, 0.9][seed % 3]!);
      const unknown = sample(r, universe, [0, 0.002, 0.3][seed % 3]!);
      const scope = Scope.of(sel, { type: 'all' });
      const { state, maybe } = scope.place(hits, unknown);
      const h = new Set(hits);
      const k = new Set(unknown);
      const want = all.map((u) => (k.has(u) ? UNKNOWN : h.has(u) ? YES : NO));
      expect(Array.from(state)).toEqual(want);
      expect(Array.from(maybe)).toEqual(want.flatMap((v, i) => (v === NO ? [] : [i])));
    }
  });
});

describe('narrowing', () => {
  const a: SearchKey = { type: 'body', value: 'a' } as SearchKey;
  const b: SearchKey = { type: 'header', field: 'subject', value: 'b' } as SearchKey;
  const answers = new Map<SearchKey, Uint32Array>([[a, Uint32Array.of(1, 5, 9)], [b, Uint32Array.of(2)]]);
  const answered = (k: SearchKey): Uint32Array | undefined => answers.get(k);

  it('is what the index left open for an answered key, nothing for others', () => {
    expect(Array.from(narrowing(a, answered)!)).toEqual([1, 5, 9]);
    expect(narrowing({ type: 'body', value: 'not asked' } as SearchKey, answered)).toBeNull();
    expect(narrowing({ type: 'not', key: a } as SearchKey, answered)).toBeNull();
    expect(narrowing({ type: 'or', a, b } as SearchKey, answered)).toBeNull();
  });

  it('takes the narrowest part of an AND', () => {
    expect(Array.from(narrowing({ type: 'and', keys: [{ type: 'all' }, a, b] } as SearchKey, answered)!)).toEqual([2]);
    expect(narrowing({ type: 'and', keys: [{ type: 'all' }, { type: 'new' }] } as SearchKey, answered)).toBeNull();
  });
});
