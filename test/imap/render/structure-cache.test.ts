/**
 * The BODY/BODYSTRUCTURE render cache: pages of UIDs like the envelope cache
 * (page-cache.ts). A rendering made here is an exact copy carved from a slab,
 * not a slice of Node's 8 KB Buffer pool (such a slice pinned the whole pool
 * chunk: 100k renderings held 78 MB while ~26 MB were charged); a page the
 * listing left is packed into one buffer, and written to the store.
 */
import { describe, expect, it } from 'vitest';
import { parseStructure } from '../../../src/mime/index.js';
import { RenderCache } from '../../../src/imap/render/cache.js';
import { PACKED_OVERHEAD } from '../../../src/imap/render/page-cache.js';
import { StructureCache } from '../../../src/imap/render/structure-cache.js';

const article = Buffer.from('From: a@example.com\r\nSubject: s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nbody line\r\n');
const part = parseStructure(article);
const never = async (): Promise<never> => {
  throw new Error('loaded again');
};

/** A RenderStore in memory. */
function memoryStore(): { store: Map<string, Buffer>; get(k: string): Buffer | undefined; put(k: string, v: Buffer): void } {
  return {
    store: new Map(),
    get(k) {
      return this.store.get(k);
    },
    put(k, v) {
      this.store.set(k, v);
    },
  };
}

describe('structure render cache', () => {
  it('keeps renderings outside the Buffer pool, and answers a hit without loading', async () => {
    const cache = new RenderCache({ structureBytes: 1024 * 1024 });
    const kept: Buffer[] = [];
    for (let uid = 1; uid <= 50; uid++) kept.push(await cache.structure('g', 1, uid, true, false, async () => part));
    expect(kept[0]!.toString()).toMatch(/^\("text" "plain" \("charset" "us-ascii"\)/i);
    for (const b of kept) expect(b.buffer.byteLength).not.toBe(Buffer.poolSize);
    const again = await cache.structure('g', 1, 1, true, false, never);
    expect(again.equals(kept[0]!)).toBe(true);
    expect(cache.hasStructure('g', 1, 1, true, false)).toBe(true);
    expect(cache.hasStructure('g', 1, 1, false, false)).toBe(false); // BODY is another form
    expect(cache.hasStructure('g', 2, 1, true, false)).toBe(false); // another UIDVALIDITY
  });

  it('packs a page once renderings go to another page, into one buffer charged its bytes', async () => {
    const cache = new RenderCache({ structureBytes: 1 << 20 });
    for (let uid = 1; uid <= 100; uid++) await cache.structure('g', 1, uid, true, false, async () => part);
    const unpacked = cache.structureBytes;
    await cache.structure('g', 1, 1024, true, false, async () => part); // page 1: page 0 is packed
    const a = cache.renderedStructure('g', 1, 1, true, false)!;
    const b = cache.renderedStructure('g', 1, 100, true, false)!;
    expect(a.buffer).toBe(b.buffer);
    expect(a.equals(b)).toBe(true);
    expect(cache.structureBytes).toBeLessThan(unpacked);
    const packedPage = (PAGE_SLOTS + 1) * 4 + 100 * a.length + PACKED_OVERHEAD;
    expect(cache.structureBytes).toBeGreaterThanOrEqual(packedPage);
  });

  it('holds no more than its bound, and reads evicted pages back from the store', async () => {
    const st = memoryStore();
    const bound = 64 * 1024;
    const cache = new RenderCache({ structureBytes: bound }, st);
    let loads = 0;
    const load = async (): Promise<typeof part> => {
      loads++;
      return part;
    };
    for (let page = 0; page < 20; page++) for (let i = 0; i < 50; i++) await cache.structure('g', 1, page * 1024 + i, false, true, load);
    expect(loads).toBe(1000);
    expect(cache.structureBytes).toBeLessThanOrEqual(bound);
    cache.flush();
    for (let page = 0; page < 20; page++) for (let i = 0; i < 50; i++) await cache.structure('g', 1, page * 1024 + i, false, true, load);
    expect(loads).toBe(1000); // every page from memory or the store
    expect(cache.structureBytes).toBeLessThanOrEqual(bound);
    const restarted = new RenderCache({ structureBytes: bound }, st);
    expect((await restarted.structure('g', 1, 5 * 1024 + 7, false, true, never)).length).toBeGreaterThan(10);
    expect(await restarted.structure('g', 1, 5 * 1024 + 7, true, true, load)).not.toEqual(await restarted.structure('g', 1, 5 * 1024 + 7, false, true, never));
  });
  it('a walk over a shelf larger than the bound reads back only the pages that do not fit, not every page, and a page read back unkept that gets a rendering keeps its others', async () => {
    const st = memoryStore();
    const full = new StructureCache(1 << 30, st);
    const fill = full.shelf('g', 1, true, false);
    for (let page = 0; page < 8; page++) for (let i = 0; i < 50; i++) await fill.get(page * 1024 + i, async () => part);
    full.flush();
    const perPage = full.bytes / 8;
    const cache = new StructureCache(Math.floor(perPage * 5.5), st);
    const shelf = cache.shelf('g', 1, true, false);
    const want = (await fill.get(3, never)).toString();
    const walk = (): number => {
      const before = cache.loads;
      for (let page = 0; page < 8; page++) for (let i = 0; i < 50; i++) expect(shelf.find(page * 1024 + i)?.toString()).toBe(want);
      return cache.loads - before;
    };
    expect(walk()).toBe(8); // the first: every page from the store
    for (let k = 0; k < 3; k++) expect(walk()).toBeLessThanOrEqual(4); // least-recently-used eviction would read all 8 each time
    expect(cache.bytes).toBeLessThanOrEqual(Math.floor(perPage * 5.5));
    expect(shelf.pages.size).toBe(5); // the pages that fit, no more
    // a page the walk reads back without keeping it, then a rendering onto it: stored with its 50 others
    let unkept = -1;
    for (let page = 0; page < 8; page++) if (!shelf.pages.has(page)) unkept = page;
    expect(shelf.find(unkept * 1024)?.toString()).toBe(want);
    expect(unkept).toBeGreaterThanOrEqual(0);
    await shelf.get(unkept * 1024 + 500, async () => part);
    cache.flush();
    const again = new StructureCache(1 << 30, st).shelf('g', 1, true, false);
    for (const i of [0, 49, 500]) expect((await again.get(unkept * 1024 + i, never)).toString()).toBe(want);
  });

  it('renders ahead (structureAhead) the BODYSTRUCTURE form a listing then answers without loading, and keeps a rendering it has', async () => {
    const store = memoryStore();
    const cache = new RenderCache({ structureBytes: 256 * 1024 }, store);
    const other = parseStructure(Buffer.from('Content-Type: text/html\r\n\r\n<p>x</p>\r\n'));
    const listed = await new RenderCache().structure('g', 1, 1, true, false, async () => part);
    for (let uid = 1; uid <= 3000; uid++) cache.structureAhead('g', 1, uid, part);
    cache.structureAhead('g', 1, 7, other); // already rendered: kept as it was
    for (let uid = 1; uid <= 3000; uid++) expect((await cache.structure('g', 1, uid, true, false, never)).equals(listed)).toBe(true);
    expect(cache.structureBytes).toBeLessThanOrEqual(256 * 1024); // bounded like any rendering: early pages went to the store
    expect(store.store.size).toBeGreaterThan(0);
    // only that form: BODY, or UTF8=ACCEPT, is rendered on demand
    expect(cache.renderedStructure('g', 1, 1, false, false)).toBeUndefined();
    expect(cache.renderedStructure('g', 1, 1, true, true)).toBeUndefined();
  });
});

const PAGE_SLOTS = 1024;
