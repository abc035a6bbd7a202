/**
 * The BODY/BODYSTRUCTURE render cache keeps what its bound charges for: each
 * rendering is an exact copy carved from a slab, not a slice of Node's 8 KB
 * Buffer pool (such a slice pinned the whole pool chunk, which the temporary
 * pieces of the rendering had also used: 100k renderings held 78 MB while
 * ~26 MB were charged).
 */
import { describe, expect, it } from 'vitest';
import { parseStructure } from '../../../src/mime/index.js';
import { RenderCache, STRUCTURE_ENTRY_OVERHEAD } from '../../../src/imap/render/cache.js';

const article = Buffer.from('From: a@example.com\r\nSubject: s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nbody line\r\n');

describe('structure render cache', () => {
  it('keeps renderings outside the Buffer pool, and charges their overhead', async () => {
    const cache = new RenderCache({ structureBytes: 1024 * 1024 });
    const part = parseStructure(article);
    const kept: Buffer[] = [];
    for (let uid = 1; uid <= 50; uid++) kept.push(await cache.structure(`g\u00001\u0000${uid}`, true, false, async () => part));
    expect(kept[0]!.toString()).toMatch(/^\("text" "plain" \("charset" "us-ascii"\)/i);
    for (const b of kept) expect(b.buffer.byteLength).not.toBe(Buffer.poolSize);
    // a hit answers the same bytes without loading
    const again = await cache.structure(`g\u00001\u00001`, true, false, async () => {
      throw new Error('loaded again');
    });
    expect(again.equals(kept[0]!)).toBe(true);
    expect(STRUCTURE_ENTRY_OVERHEAD).toBeGreaterThanOrEqual(200);
  });

  it('holds no more than its bound charges', async () => {
    const part = parseStructure(article);
    const one = (await new RenderCache().structure('k', true, false, async () => part)).length + STRUCTURE_ENTRY_OVERHEAD;
    const cache = new RenderCache({ structureBytes: one * 10 });
    for (let uid = 1; uid <= 30; uid++) await cache.structure(`g\u00001\u0000${uid}`, true, false, async () => part);
    let held = 0;
    for (let uid = 1; uid <= 30; uid++) if (cache.hasStructure(`g\u00001\u0000${uid}`, true, false)) held++;
    expect(held).toBe(10);
  });
});
