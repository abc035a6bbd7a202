/** The sorted UID list helpers (src/util/sorted.ts) against Set arithmetic, on lists of very different lengths. */
import { describe, expect, it } from 'vitest';
import { intersectUids, minusUids, unionUids } from '../../src/util/sorted.js';
import { locate } from '../../src/export/backend/group-search.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function list(r: () => number, n: number, p: number): Uint32Array {
  const out: number[] = [];
  for (let u = 1; u <= n; u++) if (r() < p) out.push(u);
  return Uint32Array.from(out);
}

describe('sorted UID lists', () => {
  it('intersect, minus and union equal Set arithmetic, merged or looked up', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      // densities from 1 in 5,000 to all: the short list is looked up in the long one, or both merged
      const a = list(r, 20_000, [0.0002, 0.01, 0.5, 1][seed % 4]!);
      const b = list(r, 20_000, [0.9, 0.003, 0.5, 0.0001][seed % 4]!);
      const sb = new Set(b);
      const sa = new Set(a);
      expect(Array.from(intersectUids(a, b))).toEqual(Array.from(a).filter((x) => sb.has(x)));
      expect(Array.from(intersectUids(b, a))).toEqual(Array.from(a).filter((x) => sb.has(x)));
      expect(Array.from(minusUids(a, b))).toEqual(Array.from(a).filter((x) => !sb.has(x)));
      expect(Array.from(unionUids(a, b))).toEqual([...new Set([...a, ...b])].sort((x, y) => x - y));
      expect(sa.size).toBe(a.length);
    }
  });
});

describe('locate (SORT/THREAD: UIDs → record indices)', () => {
  it('finds each held UID, lists the others, and says "every record" for the whole list', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const held = list(r, 5000, 0.7);
      const asked = list(r, 5200, [0.01, 0.5, 0.99][seed % 3]!);
      const { subset, missing } = locate(held, asked);
      const at = new Map(Array.from(held, (u, i) => [u, i]));
      expect(Array.from(subset!)).toEqual(Array.from(asked).filter((u) => at.has(u)).map((u) => at.get(u)!));
      expect(Array.from(missing)).toEqual(Array.from(asked).filter((u) => !at.has(u)));
    }
    const held = Uint32Array.of(2, 4, 8);
    expect(locate(held, held).subset).toBeNull();
    expect(locate(held, Uint32Array.of(2, 4, 8)).subset).toBeNull();
    expect(Array.from(locate(held, Uint32Array.of(2, 4, 9)).subset!)).toEqual([0, 1]);
  });
});
