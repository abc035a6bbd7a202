/**
 * Backend over a FakeSource: the mailbox tree (INBOX, groups, non-group
 * parents, namespace prefix), STATUS before and after ingest, error mapping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/export/interface.js';
import { mailboxTree, normalizePrefix } from '../../../src/export/backend/names.js';
import { FakeSource } from './fake-source.js';
import { rig, type Rig } from './helpers.js';

let r: Rig | null = null;
afterEach(async () => {
  await r?.close();
  r = null;
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BackendError);
    return (err as BackendError).code;
  }
  return 'resolved';
}

describe('mailbox tree', () => {
  it('lists INBOX, every group and non-selectable parents with hasChildren', async () => {
    const src = new FakeSource();
    for (const g of ['comp.lang.misc', 'comp.lang.c', 'comp', 'alt.test']) src.addGroup(g);
    r = await rig(src);
    const list = await r.backend.mailboxes();
    expect(list).toEqual([
      { name: 'INBOX', selectable: true, hasChildren: false },
      { name: 'alt', selectable: false, hasChildren: true },
      { name: 'alt.test', selectable: true, hasChildren: false },
      { name: 'comp', selectable: true, hasChildren: true },
      { name: 'comp.lang', selectable: false, hasChildren: true },
      { name: 'comp.lang.c', selectable: true, hasChildren: false },
      { name: 'comp.lang.misc', selectable: true, hasChildren: false },
    ]);
  });

  it('puts groups under the namespace prefix, which is a non-selectable parent', async () => {
    const src = new FakeSource();
    src.addGroup('comp.lang.misc');
    r = await rig(src, { namespacePrefix: '#news.' });
    const names = (await r.backend.mailboxes()).map((e) => `${e.name}:${e.selectable ? 's' : 'n'}${e.hasChildren ? 'c' : ''}`);
    expect(names).toEqual(['INBOX:s', '#news:nc', '#news.comp:nc', '#news.comp.lang:nc', '#news.comp.lang.misc:s']);
    src.fill('comp.lang.misc', 2);
    const h = await r.backend.open('#news.comp.lang.misc');
    expect([...h.current().uids]).toEqual([1, 2]);
    h.release();
    expect(await codeOf(r.backend.open('comp.lang.misc'))).toBe('NONEXISTENT');
    expect(await codeOf(r.backend.open('#news.comp'))).toBe('NONEXISTENT');
  });

  it('accepts a prefix without the trailing separator', () => {
    expect(mailboxTree(['a.b'], normalizePrefix('#news')).map((e) => e.name)).toEqual(['INBOX', '#news', '#news.a', '#news.a.b']);
    expect(mailboxTree(['a.b'], '').map((e) => e.name)).toEqual(['INBOX', 'a', 'a.b']);
  });

  it('caches the group list between calls', async () => {
    const src = new FakeSource();
    src.addGroup('a.b');
    r = await rig(src);
    await r.backend.mailboxes();
    await r.backend.mailboxes();
    expect(src.calls.listGroups).toBe(1);
  });
});

describe('INBOX', () => {
  it('is selectable, empty and has a stable UIDVALIDITY', async () => {
    r = await rig(new FakeSource());
    const h = await r.backend.open('inbox');
    expect(h.current().uids.length).toBe(0);
    const st = await r.backend.status('INBOX');
    expect(st).toEqual({ messages: 0, uidNext: 1, uidValidity: h.current().uidValidity, size: 0 });
    expect(await codeOf(h.content(1))).toBe('NONEXISTENT');
    h.release();
  });
});

describe('status', () => {
  it('estimates from GROUP before ingest and reports the snapshot after', async () => {
    const src = new FakeSource();
    src.fill('g.x', 5);
    src.expire('g.x', 2);
    r = await rig(src);
    const before = await r.backend.status('g.x');
    expect(before.messages).toBe(4);
    expect(before.uidNext).toBe(6);
    expect(src.calls.overview).toBe(0);
    const h = await r.backend.open('g.x');
    const after = await r.backend.status('g.x');
    expect(after.uidValidity).toBe(before.uidValidity);
    expect(after).toMatchObject({ messages: 4, uidNext: 6 });
    const sizes = [1, 3, 4, 5].map((n) => src.bytesOf('g.x', n).length).reduce((a, b) => a + b, 0);
    expect(after.size).toBe(sizes);
    h.release();
  });
});

describe('errors', () => {
  it('maps NO_SUCH_GROUP to NONEXISTENT and an unreachable upstream to UNAVAILABLE', async () => {
    const src = new FakeSource();
    src.fill('g.x', 1);
    r = await rig(src);
    expect(await codeOf(r.backend.open('no.such'))).toBe('NONEXISTENT');
    expect(await codeOf(r.backend.status('no.such'))).toBe('NONEXISTENT');
    expect(r.uidmaps.mailboxes()).not.toContain('no.such'); // junk names leave no trace
    const before = src.calls.groupInfo;
    for (const bad of ['g.x\r\nQUIT', 'a b', '', 'x'.repeat(600)]) expect(await codeOf(r.backend.open(bad))).toBe('NONEXISTENT');
    expect(src.calls.groupInfo).toBe(before); // refused before reaching the upstream
    src.failing = true;
    expect(await codeOf(r.backend.open('g.x'))).toBe('UNAVAILABLE');
    expect(await codeOf(r.backend.mailboxes())).toBe('UNAVAILABLE');
    src.failing = false;
    const h = await r.backend.open('g.x');
    expect([...h.current().uids]).toEqual([1]);
    h.release();
  });

  it('keeps serving the old group list when the upstream fails later', async () => {
    const src = new FakeSource();
    src.addGroup('a.b');
    r = await rig(src);
    const first = await r.backend.mailboxes();
    src.failing = true;
    expect(await r.backend.mailboxes()).toEqual(first);
  });
});
