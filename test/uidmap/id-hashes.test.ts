import { describe, expect, it } from 'vitest';
import { IdHashes, idHash } from '../../src/uidmap/id-hashes.js';

describe('IdHashes', () => {
  it('says "maybe" for every id added (through several growths) and "no" for nearly every other', () => {
    const h = new IdHashes();
    const n = 50_000;
    for (let i = 0; i < n; i++) h.add(`<${i}@in>`);
    h.add('<0@in>'); // twice: counted once
    expect(h.size).toBeLessThanOrEqual(n);
    expect(h.size).toBeGreaterThan(n - 5); // 32-bit hashes: a collision or two at most
    for (let i = 0; i < n; i++) expect(h.mayHave(`<${i}@in>`)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < n; i++) if (h.mayHave(`<${i}@out>`)) falsePositives++;
    expect(falsePositives).toBeLessThan(5);
  });

  it('never hashes to 0 (the empty slot)', () => {
    expect(idHash('')).not.toBe(0);
    expect(new IdHashes().mayHave('')).toBe(false);
  });
});
