/**
 * Shared views over a FakeSource: snapshot UIDs = article numbers, one view per
 * group for all sessions, new articles via refresh/onChange/polling as a new
 * snapshot (old one untouched), expiry drops UIDs (also from the UID map),
 * upstream errors while refreshing never reach the session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MailboxSnapshot } from '../../../src/export/interface.js';
import { FakeSource, makeArticle } from './fake-source.js';
import { collect, rig, type Rig } from './helpers.js';

let r: Rig | null = null;
afterEach(async () => {
  await r?.close();
  r = null;
});

describe('snapshots', () => {
  it('gives UIDs equal to article numbers, with the gaps of the group', async () => {
    const src = new FakeSource();
    src.fill('g.x', 10);
    src.expire('g.x', 1, 4, 5);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    const s = h.current();
    expect([...s.uids]).toEqual([2, 3, 6, 7, 8, 9, 10]);
    expect(s.uidNext).toBe(11);
    const map = await r.uidmaps.open('g.x');
    expect(s.uidValidity).toBe(map.uidValidity);
    expect(map.lookup(6)?.location).toEqual({ upstream: src.id, group: 'g.x', number: 6 });
    h.release();
  });

  it('ingests in batches with progress and keeps one row per Message-ID', async () => {
    const src = new FakeSource();
    src.fill('g.big', 12_345);
    src.post('g.big', makeArticle(99, { messageId: '<dup@x>' }));
    src.post('g.big', makeArticle(100, { messageId: '<dup@x>' }));
    r = await rig(src);
    const h = await r.backend.open('g.big');
    const s = h.current();
    expect(s.uids.length).toBe(12_346);
    expect(s.uids[12_345]).toBe(12_346);
    for (let i = 1; i < s.uids.length; i++) expect(s.uids[i]! > s.uids[i - 1]!).toBe(true);
    h.release();
  });

  it('lists an article without a usable Message-ID under a synthetic one', async () => {
    const src = new FakeSource();
    src.fill('g.x', 1);
    src.post('g.x', makeArticle(2, { messageId: '' }));
    src.post('g.x', makeArticle(3, { messageId: `<${'x'.repeat(600)}@long>` }));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    expect([...h.current().uids]).toEqual([1, 2, 3]);
    const map = await r.uidmaps.open('g.x');
    expect(map.lookup(2)?.messageId).toBe('<2.g.x@newsfront.invalid>');
    expect(map.lookup(3)?.messageId).toBe('<3.g.x@newsfront.invalid>');
    h.release();
  });

  it('shares one view between sessions and re-opens without a new ingest', async () => {
    const src = new FakeSource();
    src.fill('g.x', 3);
    r = await rig(src);
    const [a, b] = await Promise.all([r.backend.open('g.x'), r.backend.open('g.x')]);
    expect(a.current()).toBe(b.current());
    expect(src.calls.overview).toBe(1);
    a.release();
    b.release();
    const c = await r.backend.open('g.x');
    expect(src.calls.overview).toBe(1);
    expect([...c.current().uids]).toEqual([1, 2, 3]);
    c.release();
  });
});

describe('new and expired articles', () => {
  it('publishes a new snapshot on refresh and tells listeners; the old one is unchanged', async () => {
    const src = new FakeSource();
    src.fill('g.x', 3);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    const old = h.current();
    const seen: MailboxSnapshot[] = [];
    const off = h.onChange((s) => seen.push(s));
    expect(await h.refresh()).toBe(old); // nothing new: same snapshot, no event
    expect(seen).toEqual([]);
    src.fill('g.x', 2);
    const next = await h.refresh();
    expect([...next.uids]).toEqual([1, 2, 3, 4, 5]);
    expect(next.uidNext).toBe(6);
    expect([...old.uids]).toEqual([1, 2, 3]);
    expect(seen).toEqual([next]);
    expect(h.current()).toBe(next);
    off();
    src.fill('g.x', 1);
    await h.refresh();
    expect(seen.length).toBe(1);
    h.release();
  });

  it('polls groups with open handles', async () => {
    const src = new FakeSource();
    src.fill('g.x', 1);
    r = await rig(src, { pollIntervalMs: 20 });
    const h = await r.backend.open('g.x');
    const changed = new Promise<MailboxSnapshot>((res) => h.onChange(res));
    src.fill('g.x', 1);
    const s = await changed;
    expect([...s.uids]).toEqual([1, 2]);
    h.release();
  });

  it('drops expired articles from the snapshot and the UID map', async () => {
    const src = new FakeSource();
    src.fill('g.x', 6);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    src.expire('g.x', 1, 2, 4);
    const s = await h.refresh();
    expect([...s.uids]).toEqual([3, 5, 6]);
    const map = await r.uidmaps.open('g.x');
    expect(map.lookup(4)).toBeUndefined();
    expect(map.lookup(5)).toBeDefined();
    // A vanished UID is skipped by meta and NONEXISTENT for content.
    expect((await collect(h.meta([2, 3]))).map((m) => m.uid)).toEqual([3]);
    await expect(h.content(2)).rejects.toMatchObject({ code: 'NONEXISTENT' });
    // Expiry and arrival in one look; UIDs never reused.
    src.expire('g.x', 3);
    src.fill('g.x', 1);
    const t = await h.refresh();
    expect([...t.uids]).toEqual([5, 6, 7]);
    h.release();
  });

  it('finds cancelled articles that GROUP does not show, every fullCheckMs', async () => {
    const src = new FakeSource();
    src.fill('g.x', 4);
    r = await rig(src, { fullCheckMs: 0 });
    const h = await r.backend.open('g.x');
    src.cancel('g.x', 2);
    expect([...(await h.refresh()).uids]).toEqual([1, 3, 4]);
    h.release();
    await r.close();
    // With the default interval, a refresh right away trusts GROUP (no LISTGROUP).
    const src2 = new FakeSource();
    src2.fill('g.x', 4);
    r = await rig(src2);
    const h2 = await r.backend.open('g.x');
    src2.cancel('g.x', 2);
    expect([...(await h2.refresh()).uids]).toEqual([1, 2, 3, 4]);
    expect(src2.calls.articleNumbers).toBe(0);
    h2.release();
  });

  it('empties the mailbox when every article expired', async () => {
    const src = new FakeSource();
    src.fill('g.x', 2);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    src.expire('g.x', 1, 2);
    const s = await h.refresh();
    expect(s.uids.length).toBe(0);
    expect(s.uidNext).toBe(3);
    h.release();
  });

  it('logs upstream errors on refresh instead of throwing, and recovers', async () => {
    const src = new FakeSource();
    src.fill('g.x', 2);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    const before = h.current();
    src.failing = true;
    src.fill('g.x', 1);
    expect(await h.refresh()).toBe(before);
    // Re-opening while the upstream is down serves the known snapshot.
    const h2 = await r.backend.open('g.x');
    expect(h2.current()).toBe(before);
    src.failing = false;
    expect([...(await h.refresh()).uids]).toEqual([1, 2, 3]);
    h.release();
    h2.release();
  });
});
