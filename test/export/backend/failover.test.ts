/**
 * The backend over a MultiSource of two FakeSources that number the same
 * articles differently: reads go to the source whose numbers the view holds,
 * and when the primary goes down the view is re-read from the other one —
 * every UID keeps naming the same article (same Message-ID), never the article
 * that happens to have that number on the other server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MultiSource } from '../../../src/export/sources.js';
import { findField, parseHeader } from '../../../src/export/mime/header.js';
import { silentLogger } from '../../../src/log.js';
import { FakeSource, makeArticle } from './fake-source.js';
import { collect, readAll, rig, type Rig } from './helpers.js';

let r: Rig | null = null;
afterEach(async () => {
  await r?.close();
  r = null;
});

const msgidOf = (b: Buffer): string => findField(parseHeader(b), 'message-id')!.value.toString();

describe('failover between upstreams', () => {
  it('keeps UIDs naming the same articles when another upstream serves the group', async () => {
    const a = new FakeSource('fake:A');
    const b = new FakeSource('fake:B');
    b.post('g.x', makeArticle(0, { messageId: '<only-on-b@x>' })); // shifts B's numbers by one
    const arts = [1, 2, 3, 4].map((n) => makeArticle(n, { messageId: `<m${n}@x>` }));
    for (const x of arts) {
      a.post('g.x', x);
      b.post('g.x', x);
    }
    const multi = new MultiSource([a, b], { logger: silentLogger() });
    await multi.listGroups();
    r = await rig(multi);
    const h = await r.backend.open('g.x');
    const first = h.current();
    expect([...first.uids]).toEqual([1, 2, 3, 4]);
    for (const uid of first.uids) expect(msgidOf(await readAll(await h.content(uid)))).toBe(`<m${uid}@x>`);

    a.failing = true;
    const next = await h.refresh();
    expect(next.uidValidity).toBe(first.uidValidity);
    expect([...next.uids]).toEqual([1, 2, 3, 4, 5]); // B's extra article gets UIDNEXT
    for (const uid of [1, 2, 3, 4]) {
      expect(msgidOf(await readAll(await h.content(uid)))).toBe(`<m${uid}@x>`);
    }
    expect(msgidOf(await readAll(await h.content(5)))).toBe('<only-on-b@x>');
    const metas = await collect(h.meta([2, 5]));
    expect(metas.map((m) => m.envelope.messageId?.toString())).toEqual(['<m2@x>', '<only-on-b@x>']);
    h.release();
  });
});
