/**
 * The on-disk article cache, keyed by a SHA-256 of the article key (source,
 * group, number), bounded by total bytes with least-recently-used eviction.
 *
 * - Small articles (up to SMALL_ARTICLE_BYTES, most text articles) are values
 *   of one LMDB environment (small-store.ts): a cached one is read with one
 *   synchronous lookup, a new one is downloaded into memory, served from
 *   there and stored without a file.
 * - Longer articles are files `<dir>/<hh>/<hash>`, written to `<dir>/tmp/`
 *   and renamed into place, so a reader never sees half an article under its
 *   final name; they are streamed from disk, only the range asked for.
 * - `open(key, upstream, range)`: a cached article is served from the store or
 *   its file; otherwise one `Fetch` downloads it (shared by concurrent
 *   callers, see fetch.ts) and the caller follows the download — once the
 *   range is downloaded, unless it is very long (COMPLETE_BEFORE_SERVING);
 *   `watch` locates a part in what is in so far (a part's partial, early).
 * - `prefetch(items, window)`: downloads of many articles ahead of their
 *   reads, `window` at a time; the queued ones count as in flight at once
 *   (`inflight`), so nothing else reads them upstream meanwhile.
 * - The index of cached articles lives in memory, rebuilt at `init()` from the
 *   store's own index and a scan of the file directories (oldest first).
 *   Entries that vanish (the directory was deleted, another process evicted
 *   them) are noticed on open, dropped from the index and fetched again.
 * - The bound covers finished articles at their cost on disk (LMDB pages for
 *   small ones, see `storedCost`); downloads in progress are not counted until
 *   they finish. An article larger than the whole bound is served but not kept.
 * - Crash safety: an article is only ever under its key complete (one LMDB
 *   transaction, or a rename); small ones carry a checksum, checked on a first read (cache-entry.ts).
 *
 * Errors: `open` rejects with the raw upstream error (NO_SUCH_ARTICLE, ...) or
 * file error; the caller maps it. Streams returned belong to the caller, who
 * consumes or destroys them.
 */
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from '../../util/log.js';
import { Fetch, type Fetched, type Upstream } from './fetch.js';
import type { ArticleCacheOptions, Queued } from './fetch-types.js';
export type { ArticleCacheOptions };
import { COMPLETE_BEFORE_SERVING, FILE_HANDLES_KEPT, READ_CHUNK, SMALL_ARTICLE_BYTES, STALE_TEMP_MS } from './limits.js';
import { HashLru } from '../../util/hash-lru.js';
import { SmallStore } from './small-store.js';
import { checkedSmall, entry, HASH_NAME, isSmall, isVerified, sizeOf, VERIFIED, type Entry } from './cache-entry.js';
import { FileHandles, type Held } from './file-handles.js';
import { bufferStream, fileSource, hashOf, rangeStream, readRange, removeStaleTemps, scanFiles, storedCost } from './cache-io.js';
import type { ByteSource } from '../interface.js';
import type { ParseProgress } from '../../mime/index.js';

export type { Upstream };
export { storedCost, hashOf };

export class ArticleCache {
  /** hash → entry, least recently used first; eviction removes the bytes. Typed arrays only (~56 bytes an article, off V8's heap: src/util/hash-lru.ts). */
  private readonly index: HashLru;
  private store: SmallStore | null = null;
  private readonly downloads = new Map<string, Fetch>();
  private readonly queued = new Map<string, Queued>();
  /** Open handles of long articles' files, kept between reads. */
  private readonly handles = new FileHandles(FILE_HANDLES_KEPT);
  private seq = 0;
  private readonly log: Logger;
  private readonly smallMax: number;
  /** Upstream fetches started (for tests and stats). */
  fetches = 0;
  /** `open` calls that started no download: served from a cached file or a download in progress (stats). */
  hits = 0;
  /** Downloads started by `prefetch` that no reader has joined yet: the first to join one is its reader, not a hit. */
  private readonly unclaimed = new Set<string>();
  private closed = false;

  constructor(private readonly opts: ArticleCacheOptions) {
    this.log = opts.logger;
    this.smallMax = opts.smallMax ?? SMALL_ARTICLE_BYTES;
    this.index = new HashLru(opts.maxBytes, (hash, e) => {
      if (isSmall(e)) this.store?.drop(hash);
      else this.unlinkFile(hash);
    });
  }

  /** Bytes the cached articles take (see `storedCost`). */
  get bytes(): number { return this.index.cost; }

  /** Number of cached articles. */
  get articles(): number { return this.index.size; }

  /** Creates the directories, removes stale temp files and indexes the cached articles. */
  async init(): Promise<void> {
    await mkdir(this.tmpDir(), { recursive: true });
    await removeStaleTemps(this.tmpDir(), STALE_TEMP_MS);
    const found: { hash: string; size: number; at: number; small: boolean }[] = await scanFiles(this.opts.dir);
    const { store, entries } = SmallStore.open(this.opts.dir, this.log, this.opts.untilQuiet);
    this.store = store;
    for (const e of entries) found.push({ ...e, small: true });
    found.sort((a, b) => a.at - b.at); // oldest first: the first to go if the bound is lower now
    // a name that is no hashOf (not written by this cache) is not indexed, so never evicted either
    for (const f of found) if (HASH_NAME.test(f.hash)) this.index.set(f.hash, entry(f.size, f.small), storedCost(f.size, f.small));
    this.log.info({ articles: this.index.size, bytes: this.index.cost }, 'backend: article cache indexed');
  }

  /**
   * Aborts downloads in progress (their temp files are removed; their readers
   * get UNAVAILABLE), refuses new ones and closes the small-article store.
   * Cached articles stay.
   */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('article cache closed');
    for (const f of this.downloads.values()) f.abort(err);
    for (const q of this.queued.values()) q.reject(err);
    this.queued.clear();
    this.handles.closeAll();
    const store = this.store;
    this.store = null;
    await store?.close();
  }

  /** Resolves once the small-article store's writes so far are committed and on disk (SmallStore.settled). */
  settled = (): Promise<void> => this.store?.settled() ?? Promise.resolve();

  /** True when the article is cached (as far as this process knows). */
  has = (key: string): boolean => this.index.peek(hashOf(key)) !== undefined;

  /** The download of `key` in progress or queued, if any (its result gives the exact size and header). */
  inflight(key: string): Promise<Fetched> | undefined {
    const h = hashOf(key);
    return this.downloads.get(h)?.done ?? this.queued.get(h)?.done;
  }

  /** Size of a cached article, if cached. */
  cachedSize(key: string): number | undefined {
    const e = this.index.peek(hashOf(key));
    return e === undefined ? undefined : sizeOf(e);
  }

  /**
   * Bytes [start, end) of the article (whole article without a range).
   * Rejects with the upstream's error when the download cannot start.
   */
  async open(key: string, upstream: Upstream, start = 0, end = Infinity): Promise<Readable> {
    const hash = hashOf(key);
    const running = this.downloads.get(hash);
    if (running !== undefined) {
      if (!this.unclaimed.delete(hash)) this.hits++; // the first reader of a prefetch started no download, but it is no hit either
      return this.follow(running, start, end);
    }
    const e = this.index.get(hash); // marks it recently used
    const stream = e === undefined ? null : isSmall(e) ? this.openSmall(hash, start, end) : await this.openFile(hash, sizeOf(e), start, end);
    if (stream !== null) {
      this.hits++;
      return stream;
    }
    return this.follow(await this.fetch(key, hash, upstream), start, end);
  }

  /** A reader of a running download, handed out once the range (at most its first COMPLETE_BEFORE_SERVING bytes) is downloaded. */
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

  /** Makes sure the article was downloaded; resolves with what the download learnt, or null when it is already cached (nothing new learnt). */
  async ensure(key: string, upstream: Upstream): Promise<Fetched | null> {
    return (await this.joined(key, upstream))?.done ?? null;
  }

  /**
   * As `ensure`, and meanwhile `ask`s the structure parsed so far as the download advances (fetch.ts `watch`):
   * its first answer; undefined when the article is cached, or the download ends or stays in memory first.
   * Downloads nothing `ensure` would not. Rejects as `ensure`.
   */
  async watch<T>(key: string, upstream: Upstream, ask: (parsed: ParseProgress) => T | undefined): Promise<T | undefined> {
    return (await this.joined(key, upstream))?.watch(ask);
  }

  /** The download of the article, joined or started; null when it is cached. */
  private async joined(key: string, upstream: Upstream): Promise<Fetch | null> {
    const hash = hashOf(key);
    const running = this.downloads.get(hash);
    if (running !== undefined) return running;
    return this.index.peek(hash) !== undefined ? null : this.fetch(key, hash, upstream);
  }

  /**
   * Downloads the articles of `items` that are neither cached nor under way,
   * `window` at a time, in the order given. Never throws; a failure shows up
   * when the article is opened (or through `inflight`).
   */
  prefetch(items: readonly { key: string; upstream: Upstream }[], window: number): void {
    if (this.closed) return;
    const todo: string[] = [];
    for (const { key, upstream } of items) {
      const hash = hashOf(key);
      if (this.index.peek(hash) !== undefined || this.downloads.has(hash) || this.queued.has(hash)) continue;
      let resolve!: (f: Fetched) => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<Fetched>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      done.catch(() => undefined); // observed by whoever waits through `inflight`
      this.queued.set(hash, { key, upstream, done, resolve, reject });
      todo.push(hash);
    }
    let next = 0;
    const run = async (): Promise<void> => {
      while (next < todo.length) {
        const hash = todo[next++]!;
        const q = this.queued.get(hash);
        if (q === undefined) continue; // started by a reader meanwhile
        this.unclaimed.add(hash);
        await this.startQueued(hash, q).catch(() => undefined);
      }
    };
    for (let i = 0; i < Math.min(window, todo.length); i++) void run();
  }

  /** Starts a queued download now; resolves when it has finished. */
  private async startQueued(hash: string, q: Queued): Promise<Fetched> {
    this.queued.delete(hash);
    try {
      const f = await this.fetch(q.key, hash, q.upstream);
      q.resolve(await f.done);
    } catch (err) {
      q.reject(err);
    }
    return q.done;
  }

  private async fetch(key: string, hash: string, upstream: Upstream): Promise<Fetch> {
    const running = this.downloads.get(hash);
    if (running !== undefined) {
      await running.start();
      return running;
    }
    const q = this.queued.get(hash);
    if (q !== undefined) {
      // asked for ahead and not started yet: start it now, for this caller
      void this.startQueued(hash, q).catch(() => undefined);
      return this.fetch(key, hash, upstream);
    }
    if (this.closed) throw new Error('article cache closed');
    const paths = (): { tmp: string; final: string } => ({ tmp: join(this.tmpDir(), `${hash}.${process.pid}.${++this.seq}`), final: this.pathOf(hash) });
    const f = new Fetch(key.replaceAll('\u0000', ' '), paths, upstream, this.smallMax);
    this.downloads.set(hash, f);
    this.fetches++;
    const forget = (): void => {
      this.unclaimed.delete(hash);
      this.downloads.delete(hash);
      f.detach();
    };
    f.done.then((r) => {
      forget();
      this.stored(hash, r);
      this.opts.onFetched?.(key, r);
    }, forget);
    await f.start(); // a failure rejects `done` too, which removes the entry
    return f;
  }

  /** Records a finished download in the index (and the store, for a small one). */
  private stored(hash: string, r: Fetched): void {
    const old = this.index.peek(hash);
    if (old !== undefined) {
      // fetched again while cached (it had vanished): the old copy goes
      this.index.delete(hash);
      if (isSmall(old) && r.bytes === null) this.store?.drop(hash);
      if (!isSmall(old) && r.bytes !== null) this.unlinkFile(hash);
      if (!isSmall(old) && r.bytes === null) this.handles.forget(hash); // the file was replaced
    }
    if (r.bytes !== null) {
      if (this.store === null) return;
      this.store.put(hash, r.bytes, true); // fetch.ts left the frame's room (Fetched.bytes)
      this.index.set(hash, checkedSmall(r.size), storedCost(r.size, true));
    } else if (r.cached) {
      this.index.set(hash, entry(r.size, false), storedCost(r.size, false));
    }
  }

  /** A small cached article from the store; null when it is gone (dropped from the index). */
  private openSmall(hash: string, start: number, end: number): Readable | null {
    const b = this.store?.get(hash);
    if (b === undefined) {
      this.index.delete(hash);
      return null;
    }
    return bufferStream(b.subarray(Math.min(start, b.length), Math.min(end, b.length)));
  }

  private async openFile(hash: string, size: number, start: number, end: number): Promise<Readable | null> {
    let held: Held;
    try {
      held = await this.handles.acquire(hash, this.pathOf(hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.index.delete(hash);
      return null;
    }
    const e = Math.min(end, size);
    if (start >= e) {
      held.release();
      return bufferStream(Buffer.alloc(0));
    }
    if (e - start <= READ_CHUNK) return bufferStream(await readRange(held, start, e)); // a short range (a partial fetch): one positional read
    return rangeStream(held, start, e);
  }

  /**
   * Bytes [start, end) of the article as `MessageReader.bytes` hands them out: a small stored article as a
   * Buffer, synchronously (one store read, no stream); a range of a cached file as a `ByteSource` (a short
   * range: one read into a Buffer); otherwise its download (started, or joined, as by `open`) — a Buffer
   * once it finished in memory or the range is in its kept prefix, else a stream following it. Rejects as `open`.
   */
  take(key: string, upstream: Upstream, start = 0, end = Infinity): Buffer | Promise<Buffer | ByteSource | Readable> {
    const hash = hashOf(key);
    if (!this.downloads.has(hash)) {
      const e = this.index.get(hash); // marks it recently used
      if (e !== undefined && isSmall(e)) {
        const b = this.store?.get(hash, isVerified(e));
        if (b !== undefined) {
          this.readSmall(hash, e);
          return b.subarray(Math.min(start, b.length), Math.min(end, b.length));
        }
        this.index.delete(hash); // gone from the store: fetched again below
      } else if (e !== undefined) {
        return this.takeFile(key, hash, upstream, sizeOf(e), start, end);
      }
    }
    return this.takeDownload(key, hash, upstream, start, end);
  }

  /** `take` of a small stored article, lent (SmallStore.lend: `use` sees bytes [start, end) during the call only); false when it is not one at hand so (not cached, long, downloading, damaged: then `take`). */
  lend(key: string, start: number, end: number, use: (bytes: Buffer) => void): boolean {
    const hash = hashOf(key);
    const e = this.downloads.has(hash) ? undefined : this.index.get(hash); // marks it recently used
    if (e === undefined || !isSmall(e)) return false;
    if (this.store?.lend(hash, isVerified(e), start, end, use) === true) return this.readSmall(hash, e);
    this.index.delete(hash); // gone from the store, or damaged: `take` fetches it again
    return false;
  }

  /** A small stored article was read: a hit, and its checksum has been checked (SmallStore.get); true. */
  private readSmall(hash: string, e: Entry): true {
    this.hits++;
    if (!isVerified(e) && sizeOf(e) < VERIFIED) this.index.set(hash, e - VERIFIED, storedCost(sizeOf(e), true));
    return true;
  }

  private async takeFile(key: string, hash: string, upstream: Upstream, size: number, start: number, end: number): Promise<Buffer | ByteSource | Readable> {
    let held: Held;
    try {
      held = await this.handles.acquire(hash, this.pathOf(hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.index.delete(hash);
      return this.takeDownload(key, hash, upstream, start, end);
    }
    this.hits++;
    const e = Math.min(end, size);
    if (start >= e) {
      held.release();
      return Buffer.alloc(0);
    }
    if (e - start <= READ_CHUNK) return readRange(held, start, e);
    return fileSource(held, start, e);
  }

  private async takeDownload(key: string, hash: string, upstream: Upstream, start: number, end: number): Promise<Buffer | Readable> {
    let f = this.downloads.get(hash);
    if (f !== undefined && !this.unclaimed.delete(hash)) this.hits++; // as in `open`
    else f = await this.fetch(key, hash, upstream);
    const b = await f.small();
    if (b !== null) return b.subarray(Math.min(start, b.length), Math.min(end, b.length));
    return f.prefixed(start, end) ?? this.follow(f, start, end);
  }

  private unlinkFile(hash: string): void {
    this.handles.forget(hash);
    unlink(this.pathOf(hash)).catch((err: NodeJS.ErrnoException) => void (err.code !== 'ENOENT' && this.log.warn({ err: err.message }, 'backend: cache eviction failed')));
  }

  private pathOf = (hash: string): string => join(this.opts.dir, hash.slice(0, 2), hash);
  private tmpDir = (): string => join(this.opts.dir, 'tmp');
}
