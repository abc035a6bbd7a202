/**
 * The rendered-ENVELOPE cache: one rendering per (mailbox, UIDVALIDITY, UID,
 * form), a byte bound that holds, least recently used pages out first.
 */
import { describe, expect, it, vi } from 'vitest';
import { EnvelopeCache, ENTRY_OVERHEAD, PACKED_OVERHEAD, PAGE_OVERHEAD } from '../../../src/imap/render/envelope-cache.js';
import { PACK_AT, TRANSIENT_IDLE_MS } from '../../../src/imap/render/page-cache.js';
import { PAGE_SIZE, readSlot } from '../../../src/imap/render/page-pack.js';
import { envelopeOf, type Envelope } from '../../../src/mime/envelope.js';
import { parseHeader } from '../../../src/mime/header.js';

/** A meta whose envelope counts its reads (a read is a parse, then a rendering). */
function meta(uid: number, subject = `Caf\u00e9 ${uid}`): { uid: number; envelope: Envelope; reads: number } {
  const env = envelopeOf(parseHeader(Buffer.from(`Subject: ${subject}\r\nFrom: A <a@example.org>\r\n\r\n`, 'utf8')));
  return {
    uid,
    reads: 0,
    get envelope() {
      this.reads++;
      return env;
    },
  };
}

describe('EnvelopeCache', () => {
  it('renders each article once per form, apart per mailbox and UIDVALIDITY', () => {
    const c = new EnvelopeCache(1 << 20);
    const m = meta(7);
    const plain = c.shelf('g.one', 1, false).get(m);
    expect(c.shelf('g.one', 1, false).get(m)).toBe(plain);
    expect(m.reads).toBe(1);
    const utf8 = c.shelf('g.one', 1, true).get(m);
    expect(m.reads).toBe(2);
    expect(plain.toString('latin1')).toContain('{'); // 8-bit subject: a literal without UTF8=ACCEPT
    expect(utf8.toString('utf8')).toContain('"Caf\u00e9 7"');
    c.shelf('g.one', 2, false).get(m);
    c.shelf('g.two', 1, false).get(m);
    expect(m.reads).toBe(4);
  });

  it('keeps the charged bytes within the bound and evicts the least recently used page first', () => {
    const one = meta(1).envelope;
    const size = new EnvelopeCache(1 << 20).shelf('x', 1, true).get({ uid: 1, envelope: one }).length;
    const perPage = PAGE_OVERHEAD + 4 * (size + ENTRY_OVERHEAD); // 4 renderings on each page
    const perPacked = 1025 * 4 + 4 * size + PACKED_OVERHEAD; // the same once the listing left it
    const bound = 2 * perPacked + perPage;
    const c = new EnvelopeCache(bound);
    const s = c.shelf('g', 1, true);
    const page = (p: number): Array<ReturnType<typeof meta>> => [0, 1, 2, 3].map((i) => meta(p * 1024 + i, 'Caf\u00e9 1'));
    const [a, b, d, e] = [page(0), page(1), page(2), page(3)];
    for (const m of [...a!, ...b!, ...d!]) s.get(m);
    expect(c.bytes).toBe(bound);
    s.get(a![0]!); // page 0 is now the most recently used: page 1 goes first
    for (const m of e!) s.get(m);
    expect(c.bytes).toBeLessThanOrEqual(bound);
    for (const m of [...a!, ...d!, ...e!]) s.get(m);
    expect([...a!, ...d!, ...e!].map((m) => m.reads)).toEqual(new Array(12).fill(1)); // still cached
    s.get(b![0]!);
    expect(b![0]!.reads).toBe(2); // evicted, rendered again
    expect(c.bytes).toBeLessThanOrEqual(bound);
  });

  it('a shelf whose pages were all evicted keeps working and is found again', () => {
    const c = new EnvelopeCache(PAGE_OVERHEAD + 2000);
    const s = c.shelf('g', 1, false);
    const m1 = meta(1);
    s.get(m1);
    c.shelf('h', 1, false).get(meta(5000)); // pushes g's only page out
    const m2 = meta(2);
    s.get(m2);
    s.get(m2);
    expect(m2.reads).toBe(1);
    c.shelf('g', 1, false).get(m2);
    expect(m2.reads).toBe(1);
    s.get(m1);
    expect(m1.reads).toBe(2);
  });

  it('a rendering larger than the bound is returned but not kept', () => {
    const c = new EnvelopeCache(PAGE_OVERHEAD + 10);
    const m = meta(1);
    const s = c.shelf('g', 1, false);
    expect(s.get(m).length).toBeGreaterThan(10);
    s.get(m);
    expect(m.reads).toBe(2);
    expect(c.bytes).toBe(0);
  });
});

/** A RenderStore in memory that counts its reads and writes (`getOne` too). */
function memoryStore(): {
  store: Map<string, Buffer>; gets: number; ones: number; views: number; puts: number;
  get(k: string): Buffer | undefined; getOne(k: string, slot: number): Buffer | undefined; view(k: string): Uint8Array | undefined; put(k: string, v: Buffer): void;
} {
  const shared = Buffer.alloc(1 << 20); // as lmdb-js's: a view of it is valid until the next read
  return {
    store: new Map(),
    gets: 0,
    ones: 0,
    views: 0,
    puts: 0,
    view(k) {
      this.views++;
      const v = this.store.get(k);
      if (v === undefined) return undefined;
      shared.set(v);
      return shared.subarray(0, v.length);
    },
    getOne(k, slot) {
      this.ones++;
      const p = this.store.get(k);
      const one = p === undefined ? undefined : readSlot(p, slot);
      return one === undefined ? undefined : Buffer.from(one);
    },
    get(k) {
      this.gets++;
      return this.store.get(k);
    },
    put(k, v) {
      this.puts++;
      this.store.set(k, v);
    },
  };
}

describe('EnvelopeCache with a store', () => {
  it('writes an evicted page to the store and reads it back instead of rendering again', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(PAGE_OVERHEAD + 4000, st);
    const s = c.shelf('g', 1, false);
    const a = [meta(1), meta(2), meta(3)];
    const first = a.map((m) => Buffer.from(s.get(m)));
    expect(st.puts).toBe(0);
    c.shelf('h', 1, false).get(meta(5000)); // pushes g's page out: written
    expect(st.puts).toBe(1);
    expect(c.saves).toBe(1);
    const again = a.map((m) => Buffer.from(s.get(m)));
    expect(again).toEqual(first);
    expect(a.map((m) => m.reads)).toEqual([1, 1, 1]); // from the store, not rendered
    expect(c.loads).toBe(1);
    expect(c.bytes).toBeLessThanOrEqual(PAGE_OVERHEAD + 4000);
  });

  it('a page read back and then added to is written again with both its old and new renderings', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(1 << 20, st);
    const s = c.shelf('g', 1, true);
    const m1 = meta(1);
    const one = Buffer.from(s.get(m1));
    c.flush();
    expect(st.puts).toBe(1);
    const c2 = new EnvelopeCache(1 << 20, st); // a restart: memory empty, store kept
    const s2 = c2.shelf('g', 1, true);
    const m1b = meta(1);
    expect(Buffer.from(s2.get(m1b))).toEqual(one);
    expect(m1b.reads).toBe(0);
    const m2 = meta(2);
    const two = Buffer.from(s2.get(m2));
    expect(m2.reads).toBe(1);
    c2.flush();
    expect(st.puts).toBe(2);
    const c3 = new EnvelopeCache(1 << 20, st);
    const s3 = c3.shelf('g', 1, true);
    const [x, y] = [meta(1), meta(2)];
    expect([Buffer.from(s3.get(x)), Buffer.from(s3.get(y))]).toEqual([one, two]);
    expect(x.reads + y.reads).toBe(0);
    c3.flush();
    expect(st.puts).toBe(2); // nothing new: nothing written
  });

  it('keeps forms, mailboxes and UIDVALIDITYs apart in the store', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(1 << 20, st);
    c.shelf('g', 1, false).get(meta(1));
    c.flush();
    const c2 = new EnvelopeCache(1 << 20, st);
    for (const [box, v, u] of [['g', 1, true], ['g', 2, false], ['h', 1, false]] as const) {
      const m = meta(1);
      c2.shelf(box, v, u).get(m);
      expect(m.reads).toBe(1);
    }
  });

  it('renders again over an unreadable stored page', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(1 << 20, st);
    c.shelf('g', 1, false).get(meta(1));
    c.flush();
    for (const k of st.store.keys()) st.store.set(k, Buffer.from('garbage'));
    const c2 = new EnvelopeCache(1 << 20, st);
    const m = meta(1);
    const b = c2.shelf('g', 1, false).get(m);
    expect(m.reads).toBe(1);
    expect(b.toString('latin1')).toMatch(/^\(/);
  });

  it('a FETCH of one message takes one rendering from the store, without reading its page back or keeping it', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(PAGE_OVERHEAD + 4000, st);
    const s = c.shelf('g', 1, false);
    const a = [meta(1), meta(2)];
    const first = a.map((m) => Buffer.from(s.get(m)));
    c.shelf('h', 1, false).get(meta(5000)); // g's page out: written
    const bytes = c.bytes;
    const gets = st.gets;
    const one = s.single.get(a[1]!);
    expect(Buffer.from(one)).toEqual(first[1]);
    expect(a[1]!.reads).toBe(1); // not rendered again
    expect([st.ones, st.gets - gets, c.loads, c.oneLoads]).toEqual([1, 0, 0, 1]);
    expect(c.bytes).toBe(bytes); // nothing kept
    // a page in memory answers as always, without the store
    const h = meta(5000);
    expect(c.shelf('h', 1, false).single.get(h).length).toBeGreaterThan(0);
    expect([h.reads, st.ones]).toEqual([0, 1]);
  });

  it('a FETCH of one message reads its page back and keeps it while the bound has room', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(4 << 20, st);
    const a = [meta(1), meta(2)];
    const first = a.map((m) => Buffer.from(c.shelf('g', 1, false).get(m)));
    c.flush();
    const d = new EnvelopeCache(4 << 20, st); // a restart: nothing in memory, room for pages
    const s = d.shelf('g', 1, false);
    expect(Buffer.from(s.single.get(a[0]!))).toEqual(first[0]);
    expect(Buffer.from(s.single.get(a[1]!))).toEqual(first[1]);
    expect([st.ones, d.loads, d.oneLoads]).toEqual([0, 1, 0]);
    expect(a.map((m) => m.reads)).toEqual([1, 1]);
  });

  it('a FETCH of one message the store lacks renders it and keeps it', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(1 << 20, st);
    const m = meta(7);
    const b = Buffer.from(c.shelf('g', 1, false).single.get(m));
    expect(m.reads).toBe(1);
    expect(Buffer.from(c.shelf('g', 1, false).single.get(m))).toEqual(b);
    expect(m.reads).toBe(1); // kept in memory
  });

  it('FETCHes of one message at random pack no page per FETCH: a page is packed (and written) once PACK_AT renderings wait on it', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(8 << 20, st);
    const s = c.shelf('g', 1, false);
    // one message on each of 8 pages, in turn, PACK_AT - 1 rounds: every FETCH on another page than the one before
    const ms = Array.from({ length: PACK_AT - 1 }, (_, r) => Array.from({ length: 8 }, (_, k) => meta(k * PAGE_SIZE + r + 1))).flat();
    const want = ms.map((m) => Buffer.from(s.single.get(m)));
    expect([st.puts, c.saves]).toEqual([0, 0]); // before: one page packed and written per FETCH
    expect(ms.map((m) => Buffer.from(s.single.get(m)))).toEqual(want); // kept: not rendered again
    expect(ms.every((m) => m.reads === 1)).toBe(true);
    for (let k = 0; k < 8; k++) s.single.get(meta(k * PAGE_SIZE + PACK_AT)); // the PACK_AT-th of each page
    expect(st.puts).toBe(8);
    expect(ms.map((m) => Buffer.from(s.single.get(m)))).toEqual(want); // from the packed pages
    expect(ms.every((m) => m.reads === 1)).toBe(true);
  });

  it('a FETCH of one message renders without keeping when its page is not in memory and the bound is full: no page read back or evicted', () => {
    const st = memoryStore();
    const c = new EnvelopeCache(PAGE_OVERHEAD + 4000, st);
    const s = c.shelf('g', 1, false);
    const a = [meta(1), meta(2)];
    for (const m of a) s.get(m);
    c.flush();
    const other = meta(5 * PAGE_SIZE + 1);
    const b = Buffer.from(s.single.get(other)); // page 5 is not in memory; no room for it
    expect(b.toString('latin1')).toMatch(/^\(/);
    expect([other.reads, c.loads, c.saves]).toEqual([1, 0, 1]);
    const ones = st.ones;
    for (const m of a) s.single.get(m); // page 0 still in memory (before: evicted for page 5, then read from the store)
    expect([...a.map((m) => m.reads), st.ones - ones]).toEqual([1, 1, 0]);
    expect(c.bytes).toBeLessThanOrEqual(PAGE_OVERHEAD + 4000);
  });

  it('pages a listing reads back without keeping go into recycled buffers, never handed out', () => {
    const st = memoryStore();
    const ms = Array.from({ length: 8 }, (_, k) => [meta(k * PAGE_SIZE + 1), meta(k * PAGE_SIZE + 2)]).flat();
    const w = new EnvelopeCache(1 << 24, st);
    const want = ms.map((m) => Buffer.from(w.shelf('g', 1, false).get(m)));
    w.flush();
    const c = new EnvelopeCache(12_000, st); // one page of two renderings fits (~9 KB charged)
    const s = c.shelf('g', 1, false);
    for (const m of ms) s.get(m); // first walk: each page kept in turn, the last stays
    const gets = st.gets;
    const held = s.get(ms[0]!); // page 0 is now read back without being kept (the last page stays)
    const heldCopy = Buffer.from(held);
    const out: Buffer[] = [];
    const sink = { range: (b: Buffer, a: number, e: number): void => void out.push(Buffer.from(b.subarray(a, e))) };
    for (const m of ms) s.write(m, sink); // pages 0–6 through recycled buffers, reused after TRANSIENT_PAGES
    expect(out).toEqual(want);
    expect(held).toEqual(heldCopy); // what `get` returned was a copy, not the recycled buffer
    expect(st.gets).toBe(gets); // read through `view`, not copied by the store
    expect(st.views).toBeGreaterThan(8);
    expect(ms.map((m) => m.reads)).toEqual(ms.map(() => 1)); // nothing rendered again
    expect(c.bytes).toBeLessThanOrEqual(12_000);
    s.get(meta(6 * PAGE_SIZE + 3)); // a rendering added to a page read back without being kept: kept with its own copy
    expect(Buffer.from(s.get(ms[12]!))).toEqual(want[12]);
  });

  it('lets go of the pages read back without keeping, and of its spare buffers, once no page was read back for TRANSIENT_IDLE_MS', () => {
    vi.useFakeTimers();
    try {
      const st = memoryStore();
      const ms = Array.from({ length: 8 }, (_, k) => [meta(k * PAGE_SIZE + 1), meta(k * PAGE_SIZE + 2)]).flat();
      const w = new EnvelopeCache(1 << 24, st);
      const want = ms.map((m) => Buffer.from(w.shelf('g', 1, false).get(m)));
      w.flush();
      const c = new EnvelopeCache(12_000, st);
      const held = c as unknown as { transients: unknown[]; spare: { spare: unknown[] } };
      const s = c.shelf('g', 1, false);
      const out: Buffer[] = [];
      const sink = { range: (b: Buffer, a: number, e: number): void => void out.push(Buffer.from(b.subarray(a, e))) };
      for (const m of ms) s.get(m);
      for (const m of ms) s.write(m, sink); // a second walk: pages read back without being kept
      expect(held.transients.length).toBeGreaterThan(0);
      expect(held.spare.spare.length).toBeGreaterThan(0);
      vi.advanceTimersByTime(TRANSIENT_IDLE_MS - 100);
      s.write(ms[0]!, sink); // read back again: the timer waits on
      vi.advanceTimersByTime(TRANSIENT_IDLE_MS - 100);
      expect(held.transients.length).toBeGreaterThan(0);
      vi.advanceTimersByTime(200);
      expect([held.transients.length, held.spare.spare.length]).toEqual([0, 0]);
      const views = st.views;
      out.length = 0;
      for (const m of ms.slice(0, 4)) s.write(m, sink); // the shelf's last page was dropped with them: read back again
      expect(out).toEqual(want.slice(0, 4));
      expect(st.views).toBeGreaterThan(views);
      expect(ms.map((m) => m.reads)).toEqual(ms.map(() => 1)); // nothing rendered again
    } finally {
      vi.useRealTimers();
    }
  });
});
