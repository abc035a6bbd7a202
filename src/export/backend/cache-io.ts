/**
 * I/O primitives shared by the article cache (article-cache.ts) and its
 * downloads (fetch.ts): the streams handed to readers (one buffer; a byte
 * range of a kept file handle) and file operations that re-create a cache
 * directory deleted under a running server.
 */
import { hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Held } from './file-handles.js';
import type { ByteSource } from '../interface.js';
import { READ_CHUNK, SYNC_READ_MAX } from './limits.js';

/**
 * Bytes [start, end) of a kept file handle, READ_CHUNK at a time by positional
 * reads; the handle is released at the end or when the stream is destroyed
 * (never closed by the stream: fs.createReadStream closes its descriptor on
 * destroy, and the handle is shared).
 */
export function rangeStream(held: Held, start: number, end: number): Readable {
  let pos = start;
  return new Readable({
    highWaterMark: READ_CHUNK,
    read() {
      const n = Math.min(READ_CHUNK, end - pos);
      if (n <= 0) {
        this.push(null);
        return;
      }
      const buf = Buffer.allocUnsafe(n);
      held.fh.read(buf, 0, n, pos).then(
        ({ bytesRead }) => {
          if (bytesRead === 0) throw new Error(`cached file shorter than ${end} bytes`);
          pos += bytesRead;
          this.push(bytesRead === n ? buf : buf.subarray(0, bytesRead));
        },
      ).catch((err: unknown) => this.destroy(err as Error));
    },
    destroy(err, cb) {
      held.release();
      cb(err);
    },
  });
}

/**
 * Bytes [start, end) of a kept file handle as a `ByteSource`: positional reads
 * into the caller's buffers, no buffer allocated per piece (a 57 MB article in
 * fresh 256 KB buffers made V8 collect every few megabytes). The handle is
 * released by `close()`; a file shorter than `end` rejects the read.
 */
export function fileSource(held: Held, start: number, end: number): ByteSource {
  let pos = start;
  let closed = false;
  return {
    size: end - start,
    async read(into: Buffer): Promise<number> {
      const n = Math.min(into.length, end - pos);
      if (n <= 0) return 0;
      const { bytesRead } = await held.fh.read(into, 0, n, pos);
      if (bytesRead === 0) throw new Error(`cached file shorter than ${end} bytes`);
      pos += bytesRead;
      return bytesRead;
    },
    close(): void {
      if (closed) return;
      closed = true;
      held.release();
    },
  };
}

/**
 * Bytes [start, end) of a kept file handle in one positional read (a short range); releases the handle.
 * At most SYNC_READ_MAX octets are read on the calling thread (no thread-pool round trip).
 */
export async function readRange(held: Held, start: number, end: number): Promise<Buffer> {
  try {
    const buf = Buffer.allocUnsafe(end - start);
    const bytesRead = buf.length <= SYNC_READ_MAX ? readSync(held.fh.fd, buf, 0, buf.length, start) : (await held.fh.read(buf, 0, buf.length, start)).bytesRead;
    return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  } finally {
    held.release();
  }
}

/** A stream of one buffer (cheaper than Readable.from: no async iterator behind it). */
export function bufferStream(b: Buffer): Readable {
  const r = new Readable({ read() {} });
  if (b.length > 0) r.push(b);
  r.push(null);
  return r;
}

/**
 * Writes `bufs` (`len` bytes together) at `at` of a file: one `writev` of the buffers as they are when
 * they are few (no copy into one buffer: a large download's 64 KB chunks went through a 256 KB concat
 * each), one concatenated write when many; a short write goes on with the rest.
 */
export async function writeAllAt(fh: FileHandle, bufs: readonly Buffer[], len: number, at: number): Promise<void> {
  let done = 0;
  if (bufs.length > 1 && bufs.length <= WRITEV_MAX) done = (await fh.writev(bufs as Buffer[], at)).bytesWritten;
  if (done >= len) return;
  const b = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs as Buffer[], len);
  while (done < len) done += (await fh.write(b, done, len - done, at + done)).bytesWritten;
}
/** Most buffers in one `writev` (below IOV_MAX; more go as one concatenated buffer). */
const WRITEV_MAX = 64;

/** Opens `path` for writing (truncating), creating its directory if it is missing (e.g. deleted under us). */
export async function openCreating(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'w+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(path), { recursive: true });
    return open(path, 'w+');
  }
}

export async function renameCreating(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  }
}

/**
 * What an article costs on disk, as counted against the bound: a file its
 * size; an LMDB value its checksum and node header, on a share of a leaf page
 * when short (LMDB keeps values up to about half a page there), else on
 * overflow pages of its own; plus its `order` record.
 */
export function storedCost(size: number, small: boolean): number {
  if (!small) return size;
  const value = size + 4;
  const bytes = value <= LEAF_VALUE_MAX ? value + 64 : Math.ceil((value + 16) / PAGE) * PAGE + 64;
  return bytes + 64;
}
const PAGE = 4096;
const LEAF_VALUE_MAX = 2000;

/**
 * The cache's name of an article key (hex of the first 20 bytes of its SHA-256).
 * A FETCH of bodies asks for every key of a batch twice (`prefetch` checks
 * what is cached, then each read): the names of the last HASH_MEMO to
 * 2×HASH_MEMO keys are kept in two generations of a Map (the older dropped
 * whole when the newer fills), so a batch of READ_BATCH reads ahead of its
 * sends costs one SHA-256 per article. Memory: 2×HASH_MEMO short strings.
 */
export function hashOf(key: string): string {
  const known = memoNew.get(key) ?? memoOld.get(key);
  if (known !== undefined) return known;
  // one-shot (no Hash object per article); hex of the first 20 bytes is a flat string: a
  // `.slice(0, 40)` of the 64-character digest kept that digest alive in the cache's index
  const h = (hash('sha256', key, 'buffer') as unknown as Buffer).toString('hex', 0, 20);
  if (memoNew.size >= HASH_MEMO) {
    memoOld = memoNew;
    memoNew = new Map();
  }
  memoNew.set(key, h);
  return h;
}
/** Keys per generation of `hashOf`'s memo: two batches of READ_BATCH (500) and more. */
const HASH_MEMO = 2048;
let memoNew = new Map<string, string>();
let memoOld = new Map<string, string>();

/** The cached article files `<dir>/<hh>/<hash>` with their sizes and times (a file vanishing meanwhile is skipped). */
export async function scanFiles(dir: string): Promise<{ hash: string; size: number; at: number; small: false }[]> {
  const found: { hash: string; size: number; at: number; small: false }[] = [];
  for (const sub of await readdir(dir)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    let names: string[];
    try {
      names = await readdir(join(dir, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        const st = await stat(join(dir, sub, name));
        if (st.isFile()) found.push({ hash: name, size: st.size, at: st.mtimeMs, small: false });
      } catch {
        // vanished meanwhile
      }
    }
  }
  return found;
}

/** Deletes temp files left by crashed runs: those untouched for `staleMs` (not another process's live download). */
export async function removeStaleTemps(tmpDir: string, staleMs: number): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(tmpDir)) {
    const p = join(tmpDir, name);
    try {
      if (now - (await stat(p)).mtimeMs > staleMs) await unlink(p);
    } catch {
      // vanished meanwhile
    }
  }
}
