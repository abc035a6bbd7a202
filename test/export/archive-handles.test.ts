/**
 * HandleCache: bounded open files, reads never see their handle closed, a
 * replaced file is read anew after `forget`, nothing after `close`.
 * And ArchiveSource notices a file replaced by rename even when it grew.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HandleCache } from '../../src/export/archive/handles.js';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { formatMboxrdMessage } from '../../src/export/archive/mboxrd-writer.js';
import { silentLogger } from '../../src/util/log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-handles-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Descriptors of this process that point into `dir`. */
async function openIn(d: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    try {
      const { readlink } = await import('node:fs/promises');
      if ((await readlink(`/proc/self/fd/${fd}`)).startsWith(d)) n++;
    } catch {
      /* fd closed meanwhile */
    }
  }
  return n;
}

describe('HandleCache', () => {
  it('keeps at most `max` files open and reads each correctly', async () => {
    const files = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (n) => {
        const p = join(dir, n);
        await writeFile(p, `${n.repeat(10)}0123456789`);
        return p;
      }),
    );
    const hc = new HandleCache(2);
    for (let round = 0; round < 3; round++) {
      for (const [i, p] of files.entries()) {
        expect((await hc.read(p, 8, 14)).toString()).toBe(`${'abcd'[i]!.repeat(2)}0123`);
        expect(await openIn(dir)).toBeLessThanOrEqual(2);
      }
    }
    // Concurrent reads across more files than the bound all succeed.
    const all = await Promise.all(files.flatMap((p) => [hc.read(p, 0, 3), hc.read(p, 10, 12)]));
    expect(all.map(String)).toEqual(['aaa', '01', 'bbb', '01', 'ccc', '01', 'ddd', '01']);
    await hc.close();
    expect(await openIn(dir)).toBe(0);
    await expect(hc.read(files[0]!, 0, 1)).rejects.toThrow(/closed/);
  });

  it('after forget, a replaced file is read from its new content', async () => {
    const p = join(dir, 'f');
    await writeFile(p, 'old content');
    const hc = new HandleCache();
    expect((await hc.read(p, 0, 3)).toString()).toBe('old');
    await writeFile(join(dir, 'tmp'), 'new content');
    await rename(join(dir, 'tmp'), p);
    expect((await hc.read(p, 0, 3)).toString()).toBe('old'); // the handle still shows the old inode
    hc.forget(p);
    expect((await hc.read(p, 0, 3)).toString()).toBe('new');
    await hc.close();
  });

  it('a missing file rejects, and the next read opens again', async () => {
    const p = join(dir, 'later');
    const hc = new HandleCache();
    await expect(hc.read(p, 0, 1)).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(p, 'x');
    expect((await hc.read(p, 0, 1)).toString()).toBe('x');
    await hc.close();
  });
});

describe('ArchiveSource and replaced files', () => {
  it('rescans a file replaced by rename even when it grew', async () => {
    const art = (id: string, body: string) =>
      formatMboxrdMessage(Buffer.from(`Message-ID: <${id}>\r\nSubject: ${id}\r\n\r\n${body}\r\n`), 'x@y', new Date(0));
    const p = join(dir, 'g');
    await writeFile(p, art('one@x', 'a'));
    const src = new ArchiveSource({ dir, logger: silentLogger() });
    expect((await src.head('g', 1)).toString()).toContain('<one@x>');
    await writeFile(join(dir, '.tmp'), Buffer.concat([art('two@x', 'a much longer body than before'), art('three@x', 'b')]));
    await rename(join(dir, '.tmp'), p);
    expect((await src.groupInfo('g')).count).toBe(2);
    expect((await src.head('g', 1)).toString()).toContain('<two@x>');
    await src.close();
  });
});
