import { describe, expect, it } from 'vitest';
import { IdTable, idHash } from '../../src/uidmap/id-hashes.js';

describe('IdTable', () => {
  it('finds every (hash, UID) pair added, through several growths, and says "no" for nearly every other hash', () => {
    const t = new IdTable();
    const n = 50_000;
    for (let i = 0; i < n; i++) t.add(idHash(`<${i}@in>`), i + 1);
    t.add(idHash('<0@in>'), 7); // a hash added twice keeps both UIDs
    expect(t.size).toBe(n + 1);
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const h = idHash(`<${i}@in>`);
      if (!t.has(h) || !t.candidates(h).includes(i + 1)) missing++;
    }
    expect(missing).toBe(0);
    expect(t.candidates(idHash('<0@in>')).sort((a, b) => a - b)).toEqual([1, 7]);
    let falsePositives = 0;
    for (let i = 0; i < n; i++) if (t.has(idHash(`<${i}@out>`))) falsePositives++;
    expect(falsePositives).toBeLessThan(5); // 32-bit hashes: a collision or two at most
  });

  it('never hashes to 0 (the empty slot)', () => {
    expect(idHash('')).not.toBe(0);
    expect(new IdTable().has(idHash(''))).toBe(false);
    expect(new IdTable().candidates(idHash(''))).toEqual([]);
  });
});
