/** The render cache's LMDB store (src/app/render-store.ts): a put is read back at once, and after a reopen. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbRenderStore } from '../../src/app/render-store.js';
import { EnvelopeCache } from '../../src/imap/render/envelope-cache.js';
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
});
