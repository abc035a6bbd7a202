/**
 * A planned read that asks for bodies downloads each article once: sizes and
 * headers come from those downloads (sizes:'download'), content() afterwards
 * needs no further upstream call, and no HEAD is sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSource } from './fake-source.js';
import { readAll, rig, type Rig } from './helpers.js';
import type { MessageMeta } from '../../../src/export/interface.js';

describe('planned reads download each article once', () => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('content() after a read with content needs no further upstream call', async () => {
    const src = new FakeSource();
    src.fill('p.group', 50);
    r = await rig(src);
    const h = await r.backend.open('p.group');
    const uids = Array.from(h.current().uids);
    for await (const _ of h.read(uids, { meta: false, content: true })) void _;
    for (const uid of uids) await readAll(await h.content(uid));
    expect(src.calls.article).toBe(50);
    for (const uid of uids) await readAll(await h.content(uid));
    expect(src.calls.article).toBe(50);
    h.release();
  });

  it('keeps the header of a body download: a later meta read sends no HEAD and reads no article again', async () => {
    const src = new FakeSource();
    src.fill('p.group', 40);
    r = await rig(src);
    const h = await r.backend.open('p.group');
    const uids = Array.from(h.current().uids);
    for (const uid of uids) await readAll(await h.content(uid)); // downloaded and stored: nothing in flight
    const metas: MessageMeta[] = [];
    for await (const b of h.read(uids, { meta: true })) for (const u of b.uids) metas.push(b.metas!.get(u)!);
    expect(metas.map((m) => m.header.toString('latin1'))).toEqual(uids.map((u) => src.bytesOf('p.group', u).toString('latin1').split('\r\n\r\n')[0] + '\r\n\r\n'));
    expect(src.calls.head).toBe(0);
    expect(src.calls.article).toBe(40);
    h.release();
  });

  it("gives meta its exact sizes and headers from the downloads (sizes:'download'): one ARTICLE per article, no HEAD", async () => {
    // what a FETCH of many BODY.PEEK[] does: bodies and meta of the same batches
    const src = new FakeSource();
    src.fill('p.group', 300, (n) => ({ body: `${'x'.repeat(n * 7)}\r\n` }));
    src.bytesSkew = () => 3; // the overview size is wrong: only a read of the article gives the exact one
    r = await rig(src, { sizes: 'download' });
    const h = await r.backend.open('p.group');
    const uids = Array.from(h.current().uids);
    const metas: MessageMeta[] = [];
    for await (const b of h.read(uids, { meta: true, content: true })) for (const u of b.uids) metas.push(b.metas!.get(u)!);
    expect(metas.map((m) => m.size)).toEqual(uids.map((u) => src.bytesOf('p.group', u).length));
    expect(metas.map((m) => m.header.toString('latin1'))).toEqual(uids.map((u) => src.bytesOf('p.group', u).toString('latin1').split('\r\n\r\n')[0] + '\r\n\r\n'));
    for (const uid of uids) expect(await readAll(await h.content(uid))).toEqual(src.bytesOf('p.group', uid));
    expect(src.calls.article).toBe(300);
    expect(src.calls.head).toBe(0);
    h.release();
  });
});
