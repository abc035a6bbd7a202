import { afterEach, describe, expect, it } from 'vitest';
import { FakeSource } from './fake-source.js';
import { collect, readAll, rig, type Rig } from './helpers.js';

describe('prefetch', () => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('downloads uncached articles ahead, once each; content() then needs no further upstream call', async () => {
    const src = new FakeSource();
    src.fill('p.group', 50);
    r = await rig(src);
    const h = await r.backend.open('p.group');
    const uids = Array.from(h.current().uids);
    h.prefetch!(uids);
    h.prefetch!(uids); // asking twice starts nothing twice
    for (let i = 0; i < 100 && src.calls.article < 50; i++) await new Promise((res) => setTimeout(res, 10));
    expect(src.calls.article).toBe(50);
    for (const uid of uids) {
      const s = await h.content(uid);
      for await (const _ of s) void _;
    }
    expect(src.calls.article).toBe(50);
    h.prefetch!(uids); // all cached now: nothing to do
    await new Promise((res) => setTimeout(res, 20));
    expect(src.calls.article).toBe(50);
    h.release();
  });

  it("gives meta its exact sizes and headers from the downloads (sizes:'download'): one ARTICLE per article, no HEAD, no second read", async () => {
    // what a FETCH of many BODY.PEEK[] does: bodies asked for first, then meta of the same batch
    const src = new FakeSource();
    src.fill('p.group', 300, (n) => ({ body: `${'x'.repeat(n * 7)}\r\n` }));
    src.bytesSkew = () => 3; // the overview size is wrong: only a read of the article gives the exact one
    r = await rig(src, { sizes: 'download' });
    const h = await r.backend.open('p.group');
    const uids = Array.from(h.current().uids);
    h.prefetch!(uids);
    const metas = await collect(h.meta(uids));
    expect(metas.map((m) => m.size)).toEqual(uids.map((u) => src.bytesOf('p.group', u).length));
    expect(metas.map((m) => m.header.toString('latin1'))).toEqual(uids.map((u) => src.bytesOf('p.group', u).toString('latin1').split('\r\n\r\n')[0] + '\r\n\r\n'));
    for (const uid of uids) expect(await readAll(await h.content(uid))).toEqual(src.bytesOf('p.group', uid));
    expect(src.calls.article).toBe(300);
    expect(src.calls.head).toBe(0);
    h.release();
  });
});
