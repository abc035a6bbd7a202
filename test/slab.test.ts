import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Slab, SLAB_BYTES } from '../src/util/slab.js';

describe('Slab', () => {
  it('gives copies that equal their source, never alias it, and never overlap each other', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40_000 }), { maxLength: 40 }), (sources) => {
        const slab = new Slab();
        const expected = sources.map((s) => Buffer.from(s));
        const copies = sources.map((s) => slab.copy(s));
        for (const s of sources) s.fill(0xaa); // changing a source must not reach its copy
        copies.forEach((c, i) => expect(c.equals(expected[i]!)).toBe(true));
        // rewrite every copy with its index: a copy sharing bytes with another would show it
        copies.forEach((c, i) => c.fill(i & 0xff));
        copies.forEach((c, i) => expect(c.every((b) => b === (i & 0xff))).toBe(true));
      }),
    );
  });

  it('copies the bytes (checked before the source changes)', () => {
    const slab = new Slab();
    const src = Buffer.from('Subject: hello\r\n\r\n');
    const copy = slab.copy(src);
    src.fill(0);
    expect(copy.toString()).toBe('Subject: hello\r\n\r\n');
  });

  it('starts a new slab when the current one is full, and gives big copies a buffer of their own', () => {
    const slab = new Slab();
    const a = slab.copy(Buffer.alloc(10_000, 1));
    const b = slab.copy(Buffer.alloc(SLAB_BYTES - 5_000, 2)); // too big for a slab: its own buffer
    const c = slab.copy(Buffer.alloc(10, 3));
    expect(b.buffer).not.toBe(a.buffer);
    expect(b.byteLength).toBe(b.buffer.byteLength);
    expect(c.buffer).toBe(a.buffer);
    let last = c;
    for (let i = 0; i < 40; i++) last = slab.copy(Buffer.alloc(12_000, 4)); // > SLAB_BYTES in total
    expect(last.buffer).not.toBe(a.buffer);
    expect(a.every((x) => x === 1) && c.every((x) => x === 3)).toBe(true);
  });
});
