/**
 * One upstream download of one article into the cache, shared by every reader
 * that asks for the article while it runs (invariant 6: N readers, one fetch).
 *
 * The upstream stream is copied to a temp file as fast as the disk takes it —
 * never at the pace of a slow client — while a `StructureParser` sees the same
 * chunks, so the MIME structure is known the moment the download ends. Readers
 * follow the growing file through the fetch's own file handle (positional
 * reads), so they work even if the file is renamed, evicted or its directory
 * deleted meanwhile, and no article is ever held in memory (invariant 7: a
 * 40 MB article costs one chunk per reader).
 *
 * Life cycle: `start()` resolves once the upstream answered and the temp file
 * exists (or rejects with the raw upstream/file error: the caller maps it); the
 * copy then runs on; `done` resolves with size and structure after the temp
 * file was renamed to its final path, or rejects. The file handle is closed
 * when the copy has ended, the owner called `detach()` and the last reader is
 * gone.
 */
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { StructureParser, type MimePart } from '../../mime/index.js';
import { READ_CHUNK, WRITE_COALESCE } from './limits.js';
import { toBackendError } from './errors.js';

export interface Fetched {
  size: number;
  structure: MimePart;
  /** False when the finished file could not be moved into the cache (e.g. the directory vanished). */
  cached: boolean;
}

export class Fetch {
  /** Bytes written to the temp file so far. */
  written = 0;
  private ended = false;
  private failure: unknown = null;
  private fh: FileHandle | null = null;
  private readers = 0;
  private detached = false;
  private src: Readable | null = null;
  private waiters: (() => void)[] = [];
  private readonly parser = new StructureParser();
  readonly done: Promise<Fetched>;
  private resolveDone!: (f: Fetched) => void;
  private rejectDone!: (e: unknown) => void;

  constructor(
    readonly what: string,
    private readonly tmpPath: string,
    private readonly finalPath: string,
    private readonly upstream: () => Promise<Readable>,
  ) {
    this.done = new Promise<Fetched>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined); // observed through start() or readers; never unhandled
  }

  private startP: Promise<void> | null = null;

  /**
   * Asks upstream and creates the temp file; the copy continues in the
   * background. Idempotent: every caller gets the same promise.
   */
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
    // Until copy() consumes it, an upstream stream that fails (connection cut)
    // must have a listener, or its 'error' event would end the process.
    let early: unknown = null;
    src.on('error', (err) => {
      early ??= err;
    });
    this.src = src;
    try {
      this.fh = await openCreating(this.tmpPath);
    } catch (err) {
      src.destroy();
      this.fail(err);
      throw err;
    }
    const failed = early ?? this.failure; // upstream cut, or aborted meanwhile
    if (failed !== null) {
      src.destroy();
      await unlink(this.tmpPath).catch(() => undefined);
      this.fail(failed);
      throw failed;
    }
    void this.copy(src);
  }

  /**
   * Stops the download (the cache is closing): the upstream stream is
   * destroyed, the temp file removed (by the copy loop), readers and `done`
   * see `err`.
   */
  abort(err: Error): void {
    if (this.ended) return;
    this.fail(err);
    this.src?.destroy(err);
  }

  /**
   * Resolves once bytes [0, end) are on disk (or the download ended with
   * fewer: the reader then ends early and the caller's size check sees it);
   * rejects with the download's failure.
   */
  async writtenThrough(end: number): Promise<void> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.written >= end || this.ended) return;
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
    const buf = (n: number): Buffer => Buffer.allocUnsafe(Math.min(READ_CHUNK, n));
    const stream = new Readable({
      highWaterMark: READ_CHUNK,
      read: () => {
        const step = async (): Promise<void> => {
          for (;;) {
            if (this.failure !== null) throw toBackendError(this.failure, this.what);
            const limit = Math.min(end, this.written);
            if (pos < limit && this.fh !== null) {
              const b = buf(limit - pos);
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
    const fh = this.fh!;
    // Chunks already buffered by the upstream stream are written together
    // (up to WRITE_COALESCE bytes): one positional write per socket read, not per chunk.
    let pending: Buffer[] = [];
    let pendingLen = 0;
    const flush = async (): Promise<void> => {
      if (pendingLen === 0) return;
      const b = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
      pending = [];
      pendingLen = 0;
      let off = 0;
      while (off < b.length) {
        const { bytesWritten } = await fh.write(b, off, b.length - off, this.written);
        off += bytesWritten;
        this.written += bytesWritten;
      }
      this.wake();
    };
    try {
      for await (const chunk of src as AsyncIterable<Buffer>) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        this.parser.push(b);
        pending.push(b);
        pendingLen += b.length;
        if (pendingLen >= WRITE_COALESCE || src.readableLength === 0) await flush();
      }
      await flush();
    } catch (err) {
      src.destroy();
      await unlink(this.tmpPath).catch(() => undefined);
      this.fail(err);
      return;
    }
    // The bytes are complete in the open file: readers finish even if the rename fails.
    let cached = true;
    try {
      await renameCreating(this.tmpPath, this.finalPath);
    } catch {
      cached = false;
      await unlink(this.tmpPath).catch(() => undefined);
    }
    this.ended = true;
    const structure = this.parser.end();
    this.wake();
    this.maybeClose();
    this.resolveDone({ size: this.written, structure, cached });
  }

  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err ?? new Error('fetch failed');
    this.ended = true;
    this.wake();
    this.maybeClose();
    this.rejectDone(err);
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
