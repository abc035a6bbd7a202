/**
 * Planned reads (`MessageReader.read`, batches.ts) against a FakeSource:
 * bodies are downloaded ahead, once each; meta-only reads come in ordered
 * batches, read ahead for a streaming caller; a batch with one unreadable
 * article costs only that article.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSource } from './fake-source.js';
import { collect, rig, type Rig } from './helpers.js';
import { BODY_BATCH, BODY_READ_AHEAD, META_READ_AHEAD, READ_BATCH } from '../../../src/export/backend/limits.js';

describe('planned reads', () => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('with bodies: downloads uncached articles ahead, once each; content() then needs no further upstream call', async () => {
    const src = new FakeSource();
    src.fill('p.group', 50);
    r = await rig(src);
    const h = await r.backend.open('p.group');
    const uids = Array.from(h.current().uids);
    const batches = await collect(h.read(uids, { meta: false, content: true }));
    expect(batches.map((b) => b.uids)).toEqual([uids]);
    expect(batches[0]!.metas).toBeUndefined();
    for (let i = 0; i < 100 && src.calls.article < 50; i++) await new Promise((res) => setTimeout(res, 10));
    expect(src.calls.article).toBe(50);
    for (const uid of uids) {
      const s = await h.content(uid);
      for await (const _ of s) void _;
    }
    expect(src.calls.article).toBe(50);
    await collect(h.read(uids, { meta: false, content: true })); // all cached now: nothing to do
    await new Promise((res) => setTimeout(res, 20));
    expect(src.calls.article).toBe(50);
    h.release();
  });

  it('without bodies: consecutive batches in order, meta of each message, no article read', async () => {
    const src = new FakeSource();
    const n = READ_BATCH * 2 + 7;
    src.fill('p.big', n);
    r = await rig(src);
    const h = await r.backend.open('p.big');
    const uids = Array.from(h.current().uids).reverse();
    const batches = await collect(h.read(uids, { meta: true, exactSize: false }));
    expect(batches.map((b) => [b.from, b.uids.length])).toEqual([[0, READ_BATCH], [READ_BATCH, READ_BATCH], [2 * READ_BATCH, 7]]);
    expect(batches.flatMap((b) => [...b.uids])).toEqual(uids);
    for (const b of batches) {
      expect(b.failed).toBe(0);
      expect([...b.metas!.keys()]).toEqual(b.uids);
    }
    expect(src.calls.article).toBe(0);
    h.release();
  });

  it('reads META_READ_AHEAD batches ahead for a streaming caller only', async () => {
    const src = new FakeSource();
    src.fill('p.ahead', READ_BATCH * (META_READ_AHEAD + 2));
    r = await rig(src);
    const h = await r.backend.open('p.ahead');
    const uids = Array.from(h.current().uids);
    const quiet = h.read(uids, { meta: true, exactSize: false })[Symbol.asyncIterator]();
    await quiet.next();
    expect(src.calls.head).toBe(READ_BATCH); // the first batch only
    const streaming = h.read(uids.slice(READ_BATCH), { meta: true, exactSize: false, streams: true })[Symbol.asyncIterator]();
    await streaming.next();
    expect(src.calls.head).toBe(READ_BATCH * (META_READ_AHEAD + 2));
    await quiet.return?.();
    await streaming.return?.();
    h.release();
  });

  it('with bodies, a streaming caller has BODY_READ_AHEAD further batches of BODY_BATCH downloaded while it sends one, and no more', async () => {
    const src = new FakeSource();
    src.fill('p.bodies', BODY_BATCH * (BODY_READ_AHEAD + 3));
    r = await rig(src);
    const h = await r.backend.open('p.bodies');
    const uids = Array.from(h.current().uids);
    const it = h.read(uids, { meta: true, content: true, streams: true })[Symbol.asyncIterator]();
    await it.next();
    const want = BODY_BATCH * (1 + BODY_READ_AHEAD);
    for (let i = 0; i < 200 && src.calls.article < want; i++) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 50));
    expect(src.calls.article).toBe(want);
    await it.return?.();
    h.release();
  });

  it('one cold message with its body and exact size: one upstream read, not a read for the size and a download', async () => {
    const src = new FakeSource();
    src.fill('p.one', 3);
    r = await rig(src, { sizes: 'download' });
    const h = await r.backend.open('p.one');
    const [b] = await collect(h.read([2], { meta: true, content: true, streams: true }));
    expect(b!.metas!.get(2)?.size).toBeGreaterThan(0);
    const body = await h.bytes!(2);
    expect(Buffer.isBuffer(body) ? body.length : -1).toBe(b!.metas!.get(2)!.size);
    expect(src.calls.article).toBe(1);
    h.release();
  });

  it('asks for structures of the messages the predicate accepts only', async () => {
    const src = new FakeSource();
    src.fill('p.s', 10);
    r = await rig(src);
    const h = await r.backend.open('p.s');
    const uids = Array.from(h.current().uids);
    await collect(h.read(uids, { meta: false, structure: (u) => u > 6 }));
    for (let i = 0; i < 100 && src.calls.article < 4; i++) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 20));
    expect(src.calls.article).toBe(4);
    h.release();
  });

  it('a batch whose read fails is read one message at a time; all failing throws UNAVAILABLE', async () => {
    const src = new FakeSource();
    src.fill('p.f', 5);
    r = await rig(src);
    const h = await r.backend.open('p.f');
    await collect(h.meta([1, 2])); // cached
    src.failing = true;
    const [b] = await collect(h.read([1, 2, 3, 4, 5], { meta: true, exactSize: false }));
    expect([...b!.metas!.keys()]).toEqual([1, 2]);
    expect(b!.failed).toBe(3);
    await expect(collect(h.read([3, 4], { meta: true, exactSize: false }))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    h.release();
  });
});
