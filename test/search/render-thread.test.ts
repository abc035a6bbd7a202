import { describe, expect, it } from 'vitest';
import { renderThreads } from '../../src/imap/render/thread.js';
import type { ThreadNode } from '../../src/search/index.js';
import { parseThreads } from './thread-wire.js';
import { packForest } from '../../src/search/thread.js';
import { prng } from '../../bench/prng.js';

const m = (uid: number, ...children: ThreadNode[]): ThreadNode => ({ uid, children });
const dummy = (...children: ThreadNode[]): ThreadNode => ({ uid: null, children });
const text = (forest: ThreadNode[], numberOf?: (uid: number) => number): string => renderThreads(forest, numberOf).toString('latin1');

describe('renderThreads (RFC 5256 thread-list)', () => {
  it('renders the examples of RFC 5256 §4', () => {
    const forest = [m(2), m(3, m(6, m(4, m(23)), m(44, m(7, m(96)))))];
    expect(text(forest)).toBe('(2)(3 6 (4 23)(44 7 96))');
    expect(text([dummy(m(3), m(5))])).toBe('((3)(5))');
    expect(text([m(174, m(175), m(176))])).toBe('(174 (175)(176))');
  });

  it('renders nothing for an empty forest, and nested dummies and lone-child dummies validly', () => {
    expect(text([])).toBe('');
    expect(text([dummy(m(5))])).toBe('(5)');
    expect(text([dummy(m(1, m(2)), dummy(m(3), m(4)))])).toBe('((1 2)((3)(4)))');
    expect(text([m(1, dummy(m(2), m(3)), m(4))])).toBe('(1 ((2)(3))(4))');
  });

  it('writes sequence numbers through numberOf', () => {
    expect(text([m(100, m(200), m(300))], (uid) => uid / 100)).toBe('(1 (2)(3))');
  });

  it('reads back as the same forest', () => {
    const forest = [m(1), dummy(m(2, m(3)), m(4)), m(5, m(6, m(7), m(8, m(9, m(10)), m(11))))];
    expect(parseThreads(text(forest))).toEqual(forest);
  });

  it('renders a chain 100,000 deep without recursion', () => {
    let node = m(100_000);
    for (let uid = 99_999; uid >= 1; uid--) node = m(uid, node);
    const out = text([node]);
    expect(out.length).toBe(2 + 488_895 + 99_999); // parentheses, digits, spaces
    expect(out.startsWith('(1 2 3 ')).toBe(true);
  });

  it('renders a packed forest as the same forest of nodes', () => {
    const rnd = prng(11);
    const random = (depth: number): ThreadNode => {
      const kids: ThreadNode[] = [];
      const n = depth > 5 ? 0 : [0, 0, 1, 1, 2, 3][Math.floor(rnd() * 6)]!;
      for (let k = 0; k < n; k++) kids.push(random(depth + 1));
      return rnd() < 0.15 && kids.length > 0 ? dummy(...kids) : m(1 + Math.floor(rnd() * 1e6), ...kids);
    };
    let chain = m(50_000);
    for (let uid = 49_999; uid >= 1; uid--) chain = m(uid, chain);
    const forests: ThreadNode[][] = [
      [],
      [m(2), m(3, m(6, m(4, m(23)), m(44, m(7, m(96)))))],
      [dummy(m(3), m(5))],
      [dummy(m(5))],
      [dummy(m(1, m(2)), dummy(m(3), m(4)))],
      [m(1, dummy(m(2), m(3)), m(4))],
      [chain],
      ...Array.from({ length: 50 }, () => Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => random(0))),
    ];
    for (const forest of forests) {
      const packed = packForest(forest);
      expect(renderThreads(packed).toString('latin1')).toBe(text(forest));
      expect(renderThreads(packed, (uid) => uid + 7).toString('latin1')).toBe(text(forest, (uid) => uid + 7));
    }
  });
});
