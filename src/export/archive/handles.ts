/**
 * A small cache of open read-only file handles, so reading one article is one
 * positional read instead of open + read + close (measured: open and close
 * cost more CPU than the read itself for a 2 KB article).
 *
 * Contract:
 * - at most `max` handles are open; the least recently used is retired when a
 *   new one is needed;
 * - a retired handle (evicted, `forget`-ed after its file changed, or after
 *   `close()`) is closed only when no read on it is in flight, so a read never
 *   sees its handle closed under it;
 * - a failed open or read retires the handle, so the next read opens again;
 * - `close()` retires everything; later reads throw.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Open archive files kept at once: well under the usual 1024 descriptor limit, leaving room for sockets and LMDB. */
export const MAX_OPEN_FILES = 64;

interface Entry {
  fh: Promise<FileHandle>;
  users: number;
  retired: boolean;
}

export class HandleCache {
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  /** Closes started and not finished yet (awaited by `close()`). */
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly max = MAX_OPEN_FILES) {}

  /** Read [start, end) of `path` (fewer bytes if the file is shorter). */
  async read(path: string, start: number, end: number): Promise<Buffer> {
    if (this.closed) throw new Error('archive file cache is closed');
    const e = this.acquire(path);
    try {
      const fh = await e.fh;
      const b = Buffer.allocUnsafe(end - start);
      let got = 0;
      while (got < b.length) {
        const { bytesRead } = await fh.read(b, got, b.length - got, start + got);
        if (bytesRead === 0) break; // the file shrank under us: serve what is there
        got += bytesRead;
      }
      return got === b.length ? b : b.subarray(0, got);
    } catch (err) {
      this.retire(path, e);
      throw err;
    } finally {
      e.users--;
      if (e.retired && e.users === 0) this.closeQuietly(e);
    }
  }

  /** Drop the handle of a file that was replaced or rewritten. */
  forget(path: string): void {
    const e = this.entries.get(path);
    if (e) this.retire(path, e);
  }

  /** Retire every handle; resolves when every handle that is not in use is closed (busy ones close when their read ends). */
  async close(): Promise<void> {
    this.closed = true;
    for (const [p, e] of [...this.entries]) this.retire(p, e);
    await Promise.all([...this.closing]);
  }

  private acquire(path: string): Entry {
    let e = this.entries.get(path);
    if (e !== undefined) {
      // Move to the most recently used end.
      this.entries.delete(path);
      this.entries.set(path, e);
    } else {
      while (this.entries.size >= this.max) {
        const [oldPath, old] = this.entries.entries().next().value as [string, Entry];
        this.retire(oldPath, old);
      }
      e = { fh: open(path, 'r'), users: 0, retired: false };
      e.fh.catch(() => undefined); // an open error is reported by the read that awaits it
      this.entries.set(path, e);
    }
    e.users++;
    return e;
  }

  private retire(path: string, e: Entry): void {
    if (this.entries.get(path) === e) this.entries.delete(path);
    if (e.retired) return;
    e.retired = true;
    if (e.users === 0) this.closeQuietly(e);
  }

  private closeQuietly(e: Entry): void {
    const p = e.fh
      .then((fh) => fh.close())
      .catch(() => undefined)
      .finally(() => this.closing.delete(p));
    this.closing.add(p);
  }
}
