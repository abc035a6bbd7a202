import { afterEach, describe, expect, it } from 'vitest';
import { FakeSource } from './fake-source.js';
import { rig, type Rig } from './helpers.js';

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
});
