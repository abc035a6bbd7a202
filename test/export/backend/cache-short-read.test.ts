/**
 * A short range of a cached long article (a partial fetch) is read on the
 * calling thread (cache-io.ts readRange, SYNC_READ_MAX): it is served while
 * every thread of libuv's pool is blocked, once the file's handle is kept
 * open; a longer range still goes through the pool. Bytes are exact.
 * A download's batch is written at its place through short writes
 * (cache-io.ts writeAllAt: writev of a few buffers, else one concatenated).
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ArticleCache, type Upstream } from '../../../src/export/backend/article-cache.js';
import { SMALL_ARTICLE_BYTES, SYNC_READ_MAX } from '../../../src/export/backend/limits.js';
import { writeAllAt } from '../../../src/export/backend/cache-io.js';
import { silentLogger } from '../../../src/util/log.js';
import { readAll } from './helpers.js';

const dirs: string[] = [];
const caches: ArticleCache[] = [];
afterEach(async () => {
  for (const c of caches.splice(0)) await c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const pause = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe('a short range of a cached file', () => {
  it('is read while the thread pool is blocked; bytes exact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-shortread-'));
    dirs.push(dir);
    const c = new ArticleCache({ dir, maxBytes: 1 << 30, logger: silentLogger() });
    await c.init();
    caches.push(c);
    const bytes = Buffer.alloc(3 * SMALL_ARTICLE_BYTES);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 251;
    const upstream: Upstream = async () => Readable.from([bytes]);
    await c.ensure('k', upstream);
    expect(await c.take('k', upstream, 5, 10)).toEqual(bytes.subarray(5, 10)); // opens the file; its handle is kept
    const fifos = [0, 1, 2, 3].map((i) => join(dir, `fifo${i}`));
    for (const f of fifos) await new Promise<void>((res, rej) => spawn('mkfifo', [f]).on('exit', (code) => (code === 0 ? res() : rej(new Error(`mkfifo ${code}`)))));
    const blocked = fifos.map((f) => openAsync(f, 'r').then((h) => h.close()));
    await pause(50);
    try {
      const start = SMALL_ARTICLE_BYTES + 1000;
      const r = await Promise.race([c.take('k', upstream, start, start + SYNC_READ_MAX), pause(3000).then(() => 'waited for the thread pool')]);
      expect(r).toEqual(bytes.subarray(start, start + SYNC_READ_MAX));
    } finally {
      for (const f of fifos) closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      await Promise.all(blocked);
    }
    const long = await c.take('k', upstream, 100, 100 + SYNC_READ_MAX + 1);
    expect(Buffer.isBuffer(long) ? long : await readAll(long as Readable)).toEqual(bytes.subarray(100, 100 + SYNC_READ_MAX + 1));
  });
});

describe('writeAllAt', () => {
  /** A file handle that writes at most `most` bytes per call into `file` (short writes), recording the calls. */
  function shortHandle(file: Buffer, most: number): { fh: FileHandle; calls: string[] } {
    const calls: string[] = [];
    const put = (b: Buffer, at: number): number => {
      const n = Math.min(most, b.length);
      b.copy(file, at, 0, n);
      return n;
    };
    const fh = {
      writev: async (bufs: Buffer[], at: number) => {
        calls.push(`writev ${bufs.length}`);
        return { bytesWritten: put(Buffer.concat(bufs), at), buffers: bufs };
      },
      write: async (b: Buffer, off: number, len: number, at: number) => {
        calls.push('write');
        return { bytesWritten: put(b.subarray(off, off + len), at), buffer: b };
      },
    } as unknown as FileHandle;
    return { fh, calls };
  }

  it('writes every byte at its place, through short writes, with or without writev', async () => {
    const all = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
    for (const [count, most] of [[1, 1000], [1, 7], [3, 1000], [3, 10], [200, 1000], [200, 333]] as const) {
      const bufs: Buffer[] = [];
      const size = Math.ceil(all.length / count);
      for (let at = 0; at < all.length; at += size) bufs.push(all.subarray(at, at + size));
      const file = Buffer.alloc(all.length + 50);
      const { fh, calls } = shortHandle(file, most);
      await writeAllAt(fh, bufs, all.length, 50);
      expect(file.subarray(50).equals(all)).toBe(true);
      expect(calls[0]).toBe(bufs.length > 1 && bufs.length <= 64 ? `writev ${bufs.length}` : 'write'); // a few buffers: no copy into one
    }
  });
});
