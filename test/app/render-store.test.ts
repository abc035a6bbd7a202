/** The render cache's LMDB store (src/app/render-store.ts): a put is read back at once, and after a reopen; its bound drops whole shelves, least recently used first. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbRenderStore } from '../../src/app/render-store.js';
import { EnvelopeCache } from '../../src/imap/render/envelope-cache.js';
import { PAGE_SIZE, packPage } from '../../src/imap/render/page-pack.js';
import { envelopeOf } from '../../src/mime/envelope.js';
import { parseHeader } from '../../src/mime/header.js';
import { silentLogger } from '../../src/util/log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-render-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LmdbRenderStore', () => {
  it('answers a put at once and keeps it across a reopen', async () => {
    const s = new LmdbRenderStore(dir, silentLogger());
    s.put('k', Buffer.from('value'));
    expect(s.get('k')?.toString()).toBe('value'); // before the write commits
    expect(s.get('other')).toBeUndefined();
    await s.close();
    const t = new LmdbRenderStore(dir, silentLogger());
    expect(t.get('k')?.toString()).toBe('value');
    await t.close();
  });

  it('getOne copies one rendering out of a stored page, before and after the write commits; view gives the page', async () => {
    const slots = new Array<Buffer | undefined>(PAGE_SIZE);
    slots[5] = Buffer.from('(five)');
    const s = new LmdbRenderStore(dir, silentLogger());
    s.put('e1\u0000g\u00001\u0000a\u00000', packPage(null, null, slots));
    expect(s.getOne('e1\u0000g\u00001\u0000a\u00000', 5)?.toString()).toBe('(five)'); // pending
    expect(s.getOne('e1\u0000g\u00001\u0000a\u00000', 6)).toBeUndefined();
    await s.close();
    const t = new LmdbRenderStore(dir, silentLogger());
    const one = t.getOne('e1\u0000g\u00001\u0000a\u00000', 5);
    t.get('e1\u0000g\u00001\u0000a\u00000'); // another read reuses lmdb-js's shared buffer
    expect(one?.toString()).toBe('(five)');
    expect(t.getOne('missing\u00000', 5)).toBeUndefined();
    const v = t.view('e1\u0000g\u00001\u0000a\u00000'); // the page itself, valid until the next read
    expect(v === undefined ? undefined : Buffer.from(v)).toEqual(packPage(null, null, slots));
    expect(t.view('missing\u00000')).toBeUndefined();
    await t.close();
  });

  it('gives a restarted envelope cache the renderings flushed before, without rendering', async () => {
    let reads = 0;
    const env = envelopeOf(parseHeader(Buffer.from('Subject: stored\r\nFrom: A <a@example.org>\r\n\r\n')));
    const m = { uid: 3, get envelope() { reads++; return env; } };
    const s = new LmdbRenderStore(dir, silentLogger());
    const c = new EnvelopeCache(1 << 20, s);
    const first = Buffer.from(c.shelf('g', 1, false).get(m));
    c.flush();
    await s.close();
    const t = new LmdbRenderStore(dir, silentLogger());
    const again = new EnvelopeCache(1 << 20, t).shelf('g', 1, false).get(m);
    expect(Buffer.from(again)).toEqual(first);
    expect(reads).toBe(1);
    await t.close();
  });

  const page = (n: number): Buffer => Buffer.alloc(n, 0x61);
  const key = (mailbox: string, no: number): string => `e1\u0000${mailbox}\u00001\u0000a\u0000${no}`;

  it('counts the bytes of its pages, a page written again counted once', async () => {
    const s = new LmdbRenderStore(dir, silentLogger(), 10_000);
    s.put(key('g', 0), page(1000));
    s.put(key('g', 1), page(500));
    s.put(key('g', 0), page(1200)); // page 0 again, bigger
    expect(s.bytes).toBe(1700);
    await s.close();
    const t = new LmdbRenderStore(dir, silentLogger(), 10_000);
    expect(t.bytes).toBe(1700); // the shelf records survive a reopen
    await t.close();
  });

  it('beyond its bound drops the least recently used shelf whole, never the one being written', async () => {
    const s = new LmdbRenderStore(dir, silentLogger(), 5000);
    for (let i = 0; i < 2; i++) s.put(key('old', i), page(1000));
    for (let i = 0; i < 2; i++) s.put(key('used', i), page(1000));
    await new Promise((r) => setTimeout(r, 5));
    expect(s.get(key('old', 0))).toBeDefined(); // read last: 'used' is now the least recently used
    await new Promise((r) => setTimeout(r, 5));
    s.put(key('new', 0), page(1500)); // 5,500 > 5,000
    expect(s.get(key('used', 0))).toBeUndefined();
    expect(s.get(key('used', 1))).toBeUndefined();
    expect(s.get(key('old', 1))?.length).toBe(1000);
    expect(s.get(key('new', 0))?.length).toBe(1500);
    expect(s.bytes).toBe(3500);
    expect(s.dropped).toBe(2);
    for (let i = 1; i < 8; i++) s.put(key('new', i), page(1500)); // one shelf beyond the bound alone
    expect(s.get(key('old', 0))).toBeUndefined();
    expect(s.get(key('new', 0))?.length).toBe(1500);
    expect(s.bytes).toBe(12_000);
    await s.close();
    const t = new LmdbRenderStore(dir, silentLogger(), 5000);
    expect(t.get(key('used', 1))).toBeUndefined(); // dropped from disk, not only from the count
    expect(t.get(key('new', 7))?.length).toBe(1500);
    expect(t.bytes).toBe(12_000);
    await t.close();
  });

  it('counts the pages of a store written before shelves were counted, and drops them first', async () => {
    const s = new LmdbRenderStore(dir, silentLogger());
    s.put(key('legacy', 0), page(3000));
    await s.close();
    // what a store of the previous version looks like: pages, no shelf records
    const { open } = await import('lmdb');
    const env = open({ path: `${dir}/render.lmdb`, maxDbs: 2 });
    await env.openDB('shelves', { encoding: 'json' }).clearAsync();
    await env.close();
    const t = new LmdbRenderStore(dir, silentLogger(), 4000);
    expect(t.bytes).toBe(3000);
    t.put(key('fresh', 0), page(2000));
    expect(t.get(key('legacy', 0))).toBeUndefined();
    expect(t.bytes).toBe(2000);
    await t.close();
  });
});
