/**
 * One upstream download of one article into the cache, shared by every reader
 * that asks for the article while it runs (invariant 6: N readers, one fetch).
 *
 * The upstream stream is taken as fast as it comes — never at the pace of a
 * slow client — while a header capture sees the same chunks, so the header
 * block is known the moment the download ends.
 *
 * - An article of at most `smallMax` bytes (SMALL_ARTICLE_BYTES) stays in
 *   memory: it ends as one buffer of its own (`Fetched.bytes`), which readers
 *   are served from and the owner stores (small-store.ts). No file is written
 *   or read back, and its MIME structure is left to whoever needs it (a
 *   client that shows structures has usually asked for them before the
 *   bodies; parsing every body cost as much as the rest of its download).
 * - A longer one is spilled, once it passes `smallMax`, to a temp file that is
 *   renamed into place when complete (a crash never leaves half an article
 *   under its final name), and a `StructureParser` sees it as it comes, so
 *   its structure is known without reading it again. Readers follow the growing file through the
 *   fetch's own file handle (positional reads), so they work even if the file
 *   is renamed, evicted or its directory deleted meanwhile, and no long article
 *   is held in memory (invariant 7: a 40 MB article costs one chunk per reader).
 *
 * Life cycle: `start()` resolves once the upstream answered (or rejects with
 * the raw upstream error: the caller maps it); the copy then runs on; `done`
 * resolves with what the download learnt, or rejects (upstream cut, file
 * error, `abort`). The file handle is closed when the copy has ended, the
 * owner called `detach()` and the last reader is gone.
 */
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { StructureParser, type MimePart } from '../../mime/index.js';
import { READ_CHUNK, SMALL_ARTICLE_BYTES, WRITE_COALESCE } from './limits.js';
import { toBackendError } from './errors.js';
import { HeaderCapture } from './measure.js';

export interface Fetched {
  size: number;
  /** The MIME structure of an article written to a file; null for one kept in memory (parse `bytes` when needed). */
  structure: MimePart | null;
  /** The header block up to and including its empty line; null when not found in the first HEADER_CAPTURE_MAX bytes. */
  header: Buffer | null;
  /** The whole article when it stayed in memory (at most `smallMax` bytes); null when it went to a file. */
  bytes: Buffer | null;
  /** For a file: false when the finished file could not be moved into the cache (e.g. the directory vanished). */
  cached: boolean;
}

/** Where a long article goes: written to `tmp`, renamed to `final` when complete. */
export interface SpillPaths {
  tmp: string;
  final: string;
}

export class Fetch {
  /** Bytes downloaded so far. */
  received = 0;
  /** Bytes written to the temp file so far (0 while the article is in memory). */
  private written = 0;
  private ended = false;
  private failure: unknown = null;
  /** Chunks of an article still in memory; null once spilled to a file. */
  private chunks: Buffer[] | null = [];
  /** The finished in-memory article. */
  private bytes: Buffer | null = null;
  private fh: FileHandle | null = null;
  private spilled = false;
  private readers = 0;
  private detached = false;
  private src: Readable | null = null;
  private waiters: (() => void)[] = [];
  /** Parses an article once it goes to a file (see the file comment). */
  private parser: StructureParser | null = null;
  private readonly head = new HeaderCapture();
  readonly done: Promise<Fetched>;
  private resolveDone!: (f: Fetched) => void;
  private rejectDone!: (e: unknown) => void;
  private startP: Promise<void> | null = null;

  constructor(
    readonly what: string,
    private readonly paths: SpillPaths,
    private readonly upstream: () => Promise<Readable>,
    private readonly smallMax = SMALL_ARTICLE_BYTES,
  ) {
    this.done = new Promise<Fetched>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined); // observed through start() or readers; never unhandled
  }

  /** Asks upstream; the copy continues in the background. Idempotent: every caller gets the same promise. */
  start(): Promise<void> {
    this.startP ??= this.begin();
    return this.startP;
  }

  private async begin(): Promise<void> {
    let src: Readable;
    try {
      src = await this.upstream();
    } catch (err) {
      this.fail(err);
      throw err;
    }
    if (this.failure !== null) {
      // aborted while the upstream was asked
      src.destroy();
      throw this.failure;
    }
    this.src = src;
    void this.copy(src);
  }

  /** Stops the download (the cache is closing): readers and `done` see `err`; a temp file is removed. */
  abort(err: Error): void {
    if (this.ended) return;
    this.fail(err);
    this.src?.destroy(err);
  }

  /**
   * Resolves once bytes [0, end) can be read (an in-memory article: once it is
   * complete), or the download ended with fewer (the reader then ends early
   * and the caller's size check sees it); rejects with the download's failure.
   */
  async writtenThrough(end: number): Promise<void> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.ended || (this.spilled && this.written >= end)) return;
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }

  /** A stream of bytes [start, end) of the article, following the download. */
  reader(start = 0, end = Infinity): Readable {
    this.readers++;
    let pos = start;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.readers--;
      this.maybeClose();
    };
    const stream = new Readable({
      highWaterMark: READ_CHUNK,
      read: () => {
        const step = async (): Promise<void> => {
          for (;;) {
            if (this.failure !== null) throw toBackendError(this.failure, this.what);
            if (this.bytes !== null) {
              const b = this.bytes;
              if (pos < Math.min(end, b.length)) stream.push(b.subarray(pos, Math.min(end, b.length)));
              pos = Infinity;
              stream.push(null);
              return;
            }
            const limit = Math.min(end, this.written);
            if (pos < limit && this.fh !== null) {
              const b = Buffer.allocUnsafe(Math.min(READ_CHUNK, limit - pos));
              const { bytesRead } = await this.fh.read(b, 0, b.length, pos);
              if (bytesRead === 0) throw new Error(`${this.what}: cache file shorter than written`);
              pos += bytesRead;
              stream.push(b.subarray(0, bytesRead));
              return;
            }
            if (this.ended || pos >= end) {
              stream.push(null);
              return;
            }
            await new Promise<void>((res) => this.waiters.push(res));
          }
        };
        step().catch((err: unknown) => stream.destroy(err as Error));
      },
      destroy: (err, cb) => {
        release();
        cb(err);
      },
    });
    stream.once('end', release);
    return stream;
  }

  private async copy(src: Readable): Promise<void> {
    // Once spilled, chunks already buffered by the upstream stream are written
    // together (up to WRITE_COALESCE bytes): one positional write per socket read, not per chunk.
    let pending: Buffer[] = [];
    let pendingLen = 0;
    const flush = async (): Promise<void> => {
      if (pendingLen === 0) return;
      const b = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
      pending = [];
      pendingLen = 0;
      let off = 0;
      while (off < b.length) {
        const { bytesWritten } = await this.fh!.write(b, off, b.length - off, this.written);
        off += bytesWritten;
        this.written += bytesWritten;
      }
      this.wake();
    };
    try {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        if (this.failure !== null) throw this.failure;
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        this.head.push(b);
        this.received += b.length;
        if (this.chunks !== null) {
          this.chunks.push(b);
          if (this.received <= this.smallMax) continue;
          // too long for memory: from now on the article goes to a file, and is parsed as it comes
          this.parser = new StructureParser();
          for (const c of this.chunks) this.parser.push(c);
          pending = this.chunks;
          pendingLen = this.received;
          this.chunks = null;
          this.fh = await openCreating(this.paths.tmp);
          this.spilled = true;
          if (this.failure !== null) throw this.failure;
        } else {
          this.parser!.push(b);
          pending.push(b);
          pendingLen += b.length;
        }
        if (pendingLen >= WRITE_COALESCE || src.readableLength === 0) await flush();
      }
      if (this.failure !== null) throw this.failure;
      await flush();
    } catch (err) {
      src.destroy();
      if (this.spilled) await unlink(this.paths.tmp).catch(() => undefined);
      this.fail(err);
      this.maybeClose(); // a file opened while an abort came in
      return;
    }
    let cached = false;
    if (this.chunks !== null) {
      // a buffer of its own: a slice of a socket read or of Node's pool would pin more than the article
      this.bytes = Buffer.allocUnsafeSlow(this.received);
      let at = 0;
      for (const c of this.chunks) at += c.copy(this.bytes, at);
      this.chunks = null;
    } else {
      // The bytes are complete in the open file: readers finish even if the rename fails.
      try {
        await renameCreating(this.paths.tmp, this.paths.final);
        cached = true;
      } catch {
        await unlink(this.paths.tmp).catch(() => undefined);
      }
    }
    this.ended = true;
    const structure = this.parser?.end() ?? null;
    this.wake();
    this.maybeClose();
    this.resolveDone({ size: this.received, structure, header: this.head.header, bytes: this.bytes, cached });
  }

  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err ?? new Error('fetch failed');
    this.ended = true;
    this.chunks = null;
    this.wake();
    this.maybeClose();
    this.rejectDone(this.failure);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * The owner no longer hands out readers of this fetch (it removed it from its
   * in-flight map): the file handle may close once the copy ended and the last
   * reader is gone. Until then it stays open, so a reader created just after
   * the copy ended still has a handle.
   */
  detach(): void {
    this.detached = true;
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.detached && this.ended && this.readers === 0 && this.fh !== null) {
      const fh = this.fh;
      this.fh = null;
      fh.close().catch(() => undefined);
    }
  }
}

/** Opens `path` for writing (truncating), creating its directory if it is missing (e.g. deleted under us). */
async function openCreating(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'w+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(path), { recursive: true });
    return open(path, 'w+');
  }
}

async function renameCreating(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  }
}
