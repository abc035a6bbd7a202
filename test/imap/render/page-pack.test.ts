/** Packed pages of renderings (src/imap/render/page-pack.ts): what goes in comes out, and damage is refused. */
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, packPage, readOffsets, readSlot } from '../../../src/imap/render/page-pack.js';

const slice = (b: Buffer, o: Uint32Array, i: number): string | undefined => (o[i + 1]! > o[i]! ? b.toString('latin1', o[i]!, o[i + 1]!) : undefined);

describe('packPage / readOffsets', () => {
  it('round-trips sparse slots, and merges new slots over an earlier packing', () => {
    const slots = new Array<Buffer | undefined>(PAGE_SIZE);
    slots[0] = Buffer.from('(zero)');
    slots[7] = Buffer.from('(seven)');
    slots[PAGE_SIZE - 1] = Buffer.from('(last)');
    const b = packPage(null, null, slots);
    const o = readOffsets(b)!;
    expect([0, 1, 7, PAGE_SIZE - 1].map((i) => slice(b, o, i))).toEqual(['(zero)', undefined, '(seven)', '(last)']);
    const more = new Array<Buffer | undefined>(PAGE_SIZE);
    more[1] = Buffer.from('(one)');
    more[7] = Buffer.from('(SEVEN)');
    const b2 = packPage(b, o, more);
    const o2 = readOffsets(b2)!;
    expect([0, 1, 7, PAGE_SIZE - 1].map((i) => slice(b2, o2, i))).toEqual(['(zero)', '(one)', '(SEVEN)', '(last)']);
  });

  it('refuses truncated or disordered pages', () => {
    const slots = new Array<Buffer | undefined>(PAGE_SIZE);
    slots[3] = Buffer.from('(three)');
    const b = packPage(null, null, slots);
    expect(readOffsets(b.subarray(0, b.length - 1))).toBeUndefined();
    expect(readOffsets(b.subarray(0, 100))).toBeUndefined();
    const bad = Buffer.from(b);
    bad.writeUInt32LE(b.length, 4 * 2); // slot 2 ends past slot 3's start
    expect(readOffsets(bad)).toBeUndefined();
    expect(readOffsets(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('readSlot', () => {
  const slots = new Array<Buffer | undefined>(PAGE_SIZE);
  slots[3] = Buffer.from('(three)');
  slots[PAGE_SIZE - 1] = Buffer.from('(last)');
  const b = packPage(null, null, slots);
  const text = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString('latin1'));

  it('gives the one rendering of a slot, or undefined for an empty or impossible slot', () => {
    expect([3, PAGE_SIZE - 1, 0, 4, -1, PAGE_SIZE].map((i) => text(readSlot(b, i)))).toEqual(['(three)', '(last)', undefined, undefined, undefined, undefined]);
  });

  it('reads a page that lies inside a bigger buffer (a view, as lmdb-js hands out)', () => {
    const big = Buffer.alloc(b.length + 64, 0x55);
    b.copy(big, 16);
    expect(text(readSlot(big.subarray(16, 16 + b.length), 3))).toBe('(three)');
  });

  it('refuses a truncated page and offsets that point outside it', () => {
    expect(readSlot(b.subarray(0, b.length - 1), 3)).toBeUndefined(); // last offset no longer the length
    expect(readSlot(b.subarray(0, 100), 3)).toBeUndefined();
    const bad = Buffer.from(b);
    bad.writeUInt32LE(b.length + 10, 4 * 4); // slot 3 ends beyond the page
    expect(readSlot(bad, 3)).toBeUndefined();
  });
});
