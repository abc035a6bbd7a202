/**
 * The LMDB environments that are caches open with LMDB's write map
 * (src/util/lmdb-writemap.ts): their changed pages go into the file mapping,
 * not into malloc'd pages LMDB keeps for the life of the process. Seen from
 * outside: with the write map LMDB sizes the file to its map at once, without
 * it the file holds only the pages written.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { LmdbRenderStore } from '../../src/app/render-store.js';
import { MetaStore } from '../../src/export/backend/meta-store.js';
import { SmallStore } from '../../src/export/backend/small-store.js';
import { silentLogger } from '../../src/util/log.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nf-writemap-'));
  dirs.push(d);
  return d;
}

/** File size and LMDB's map size of the environment at `path` (closed). */
async function sizes(path: string): Promise<{ file: number; map: number }> {
  const env = openLmdb({ path, readOnly: true });
  try {
    return { file: statSync(path).size, map: (env.getStats() as { mapSize: number }).mapSize };
  } finally {
    await env.close();
  }
}

describe('cache environments use the write map', () => {
  it('a plain LMDB environment does not (what the check tells apart)', async () => {
    const path = join(tempDir(), 'plain.lmdb');
    const env = openLmdb({ path, compression: false });
    await env.put('k', 'v');
    await env.close();
    const s = await sizes(path);
    expect(s.file).toBeLessThan(s.map);
  });

  it('the small-article store', async () => {
    const dir = tempDir();
    const { store } = SmallStore.open(dir, silentLogger());
    store.put('a'.repeat(40), Buffer.alloc(3000, 1));
    await store.settled();
    await store.close();
    const s = await sizes(join(dir, 'small.lmdb'));
    expect(s.file).toBe(s.map);
  });

  it('the metadata cache', async () => {
    const path = join(tempDir(), 'meta.lmdb');
    const store = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    await store.close();
    const s = await sizes(path);
    expect(s.file).toBe(s.map);
  });

  it('the rendered ENVELOPE pages', async () => {
    const dir = tempDir();
    const store = new LmdbRenderStore(dir, silentLogger());
    await store.close();
    const s = await sizes(join(dir, 'render.lmdb'));
    expect(s.file).toBe(s.map);
  });
});
