/** Packed pages of renderings (src/imap/render/page-pack.ts): what goes in comes out, and damage is refused. */
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, packPage, readOffsets } from '../../../src/imap/render/page-pack.js';

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
