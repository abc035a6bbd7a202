/**
 * The on-disk article cache: article bytes in `<dir>/<hh>/<hash>` files, where
 * `hash` is a SHA-256 of the article key (source, group, number), bounded by
 * total bytes with least-recently-used eviction.
 *
 * - `open(key, upstream, range)`: a cached file is streamed from disk (only the
 *   range is read); otherwise one `Fetch` downloads it (shared by concurrent
 *   callers, see fetch.ts) and the caller follows the download — once the
 *   range is on disk, unless it is very long (COMPLETE_BEFORE_SERVING).
 * - Files are written to `<dir>/tmp/` and renamed into place, so a reader never
 *   sees half an article under its final name.
 * - The index of cached files lives in memory, rebuilt at `init()` from a scan of
 *   the directory (oldest modification first). Files that vanish (the directory
 *   was deleted, another process evicted them) are noticed on open (ENOENT),
 *   dropped from the index and fetched again; directories are re-created.
 * - The bound covers finished files; downloads in progress are not counted until
 *   they finish. An article larger than the whole bound is served but not kept.
 *
 * Errors: `open` rejects with the raw upstream error (NO_SUCH_ARTICLE, ...) or
 * file error; the caller maps it. Streams returned belong to the caller, who
 * consumes or destroys them.
 */
import { hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from '../../util/log.js';
import { Fetch, type Fetched } from './fetch.js';
import { COMPLETE_BEFORE_SERVING, MEMORY_ARTICLE_CACHE_BYTES, READ_CHUNK, STALE_TEMP_MS } from './limits.js';
import { ByteLru } from '../../util/lru.js';

export interface ArticleCacheOptions {
  dir: string;
  maxBytes: number;
  logger: Logger;
  /** Called once per finished download (exact size and MIME structure are known now). */
  onFetched?: (key: string, result: Fetched) => void;
}

export type Upstream = () => Promise<Readable>;

export class ArticleCache {
  /** hash → size, least recently used first; eviction unlinks the file. */
  private readonly index: ByteLru<string, number>;
  /** hash → bytes of small cached files read lately (see MEMORY_ARTICLE_CACHE_BYTES); only consulted while `index` has the hash. */
  private readonly memory = new ByteLru<string, Buffer>(MEMORY_ARTICLE_CACHE_BYTES);
  private readonly downloads = new Map<string, Fetch>();
  private seq = 0;
  private readonly log: Logger;
  /** Upstream fetches started (for tests and stats). */
  fetches = 0;
  /** `open` calls that started no download: served from a cached file or a download in progress (stats). */
  hits = 0;
  private closed = false;

  constructor(private readonly opts: ArticleCacheOptions) {
    this.log = opts.logger;
    this.index = new ByteLru(opts.maxBytes, (hash) => {
      this.memory.delete(hash);
      this.unlinkFile(hash);
    });
  }

  get bytes(): number {
    return this.index.cost;
  }

  get files(): number {
    return this.index.size;
  }

  /** Creates the directories, removes stale temp files and indexes the cached files. */
  async init(): Promise<void> {
    await mkdir(this.tmpDir(), { recursive: true });
    await this.removeStaleTemps();
    const found: { hash: string; size: number; mtime: number }[] = [];
    for (const sub of await readdir(this.opts.dir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.opts.dir, sub));
      } catch {
        continue;
      }
      for (const name of names) {
        try {
          const st = await stat(join(this.opts.dir, sub, name));
          if (st.isFile()) found.push({ hash: name, size: st.size, mtime: st.mtimeMs });
        } catch {
          // vanished meanwhile
        }
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.index.set(f.hash, f.size, f.size);
    this.log.info({ files: this.index.size, bytes: this.index.cost }, 'backend: article cache indexed');
  }

  /**
   * Aborts downloads in progress (their temp files are removed; their readers
   * get UNAVAILABLE) and refuses new ones. Cached files stay.
   */
  close(): void {
    this.closed = true;
    for (const f of this.downloads.values()) f.abort(new Error('article cache closed'));
  }

  /** Deletes temp files left by crashed runs (old enough not to be another process's live download). */
  private async removeStaleTemps(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.tmpDir())) {
      const p = join(this.tmpDir(), name);
      try {
        if (now - (await stat(p)).mtimeMs > STALE_TEMP_MS) await unlink(p);
      } catch {
        // vanished meanwhile
      }
    }
  }

  /** True when the article is cached on disk (as far as this process knows). */
  has(key: string): boolean {
    return this.index.peek(hashOf(key)) !== undefined;
  }

  /** The download of `key` in progress, if any (its result gives the exact size). */
  inflight(key: string): Promise<Fetched> | undefined {
    return this.downloads.get(hashOf(key))?.done;
  }

  /** Size of a cached article, if cached. */
  cachedSize(key: string): number | undefined {
    return this.index.peek(hashOf(key));
  }

  /**
   * Bytes [start, end) of the article (whole article without a range).
   * Rejects with the upstream's error when the download cannot start.
   */
  async open(key: string, upstream: Upstream, start = 0, end = Infinity): Promise<Readable> {
    const hash = hashOf(key);
    const running = this.downloads.get(hash);
    if (running !== undefined) {
      this.hits++;
      return this.follow(running, start, end);
    }
    const size = this.index.peek(hash);
    if (size !== undefined) {
      const stream = await this.openCached(hash, size, start, end);
      if (stream !== null) {
        this.hits++;
        return stream;
      }
    }
    return this.follow(await this.fetch(key, hash, upstream), start, end);
  }

  /** A reader of a running download, handed out once the range (at most its first COMPLETE_BEFORE_SERVING bytes) is on disk. */
  private async follow(f: Fetch, start: number, end: number): Promise<Readable> {
    await f.start();
    const reader = f.reader(start, end); // holds the file handle open while we wait
    try {
      await f.writtenThrough(Math.min(end, start + COMPLETE_BEFORE_SERVING));
    } catch (err) {
      reader.destroy();
      throw err;
    }
    return reader;
  }

  /**
   * Makes sure the article was downloaded and resolves with what the download
   * learnt; resolves with null when it is already cached (nothing new learnt).
   */
  async ensure(key: string, upstream: Upstream): Promise<Fetched | null> {
    const hash = hashOf(key);
    const running = this.downloads.get(hash);
    if (running !== undefined) return running.done;
    if (this.index.peek(hash) !== undefined) return null;
    const f = await this.fetch(key, hash, upstream);
    return f.done;
  }

  private async fetch(key: string, hash: string, upstream: Upstream): Promise<Fetch> {
    const running = this.downloads.get(hash);
    if (running !== undefined) {
      await running.start();
      return running;
    }
    if (this.closed) throw new Error('article cache closed');
    const tmp = join(this.tmpDir(), `${hash}.${process.pid}.${++this.seq}`);
    const f = new Fetch(key.replaceAll('\u0000', ' '), tmp, this.pathOf(hash), upstream);
    this.downloads.set(hash, f);
    this.fetches++;
    f.done.then(
      (r) => {
        this.downloads.delete(hash);
        f.detach();
        this.memory.delete(hash); // a new download of this key: never serve older bytes
        if (r.cached) this.index.set(hash, r.size, r.size);
        this.opts.onFetched?.(key, r);
      },
      () => {
        this.downloads.delete(hash);
        f.detach();
      },
    );
    await f.start(); // a failure rejects `done` too, which removes the entry
    return f;
  }

  private async openCached(hash: string, size: number, start: number, end: number): Promise<Readable | null> {
    const inMemory = this.memory.get(hash);
    if (inMemory !== undefined) {
      this.index.get(hash); // mark as recently used
      return Readable.from([inMemory.subarray(Math.min(start, size), Math.min(end, size))]);
    }
    let fh;
    try {
      fh = await open(this.pathOf(hash), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.index.delete(hash);
      this.memory.delete(hash);
      return null;
    }
    this.index.get(hash); // mark as recently used
    const e = Math.min(end, size);
    if (start >= e) {
      await fh.close();
      return Readable.from([]);
    }
    if (size <= READ_CHUNK) {
      // small (most articles): the whole file in one positional read, kept in memory too
      // (a buffer of its own: a slice of Node's shared pool would pin 8 KB the LRU does not count)
      try {
        const buf = Buffer.allocUnsafeSlow(size);
        const { bytesRead } = await fh.read(buf, 0, size, 0);
        if (bytesRead === size) this.memory.set(hash, buf, size);
        return Readable.from([buf.subarray(Math.min(start, bytesRead), Math.min(e, bytesRead))]);
      } finally {
        await fh.close();
      }
    }
    if (e - start <= READ_CHUNK) {
      // a short range of a big article (a partial fetch): one positional read
      try {
        const buf = Buffer.allocUnsafe(e - start);
        const { bytesRead } = await fh.read(buf, 0, buf.length, start);
        return Readable.from(bytesRead === buf.length ? [buf] : [buf.subarray(0, bytesRead)]);
      } finally {
        await fh.close();
      }
    }
    return createReadStream('', { fd: fh, start, end: e - 1, highWaterMark: READ_CHUNK });
  }

  private unlinkFile(hash: string): void {
    unlink(this.pathOf(hash)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.log.warn({ err: err.message }, 'backend: cache eviction failed');
    });
  }

  private pathOf(hash: string): string {
    return join(this.opts.dir, hash.slice(0, 2), hash);
  }

  private tmpDir(): string {
    return join(this.opts.dir, 'tmp');
  }
}

export function hashOf(key: string): string {
  // Callers ask for the same key several times in a row (cached? downloading?):
  // the last answer is kept, one SHA-256 per article instead of two or three.
  if (key === lastKey) return lastHash;
  lastHash = hash('sha256', key, 'hex').slice(0, 40); // one-shot: no Hash object per article
  lastKey = key;
  return lastHash;
}
let lastKey = '';
let lastHash = '';
