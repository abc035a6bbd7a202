/**
 * One upstream download of one article into the cache, shared by every reader
 * that asks for the article while it runs (invariant 6: N readers, one fetch).
 * The upstream is read as fast as it comes (at most DOWNLOAD_TURN_BYTES per
 * event-loop turn), never at the pace of a slow client; a header capture
 * sees every chunk, so the header block is known when the download ends.
 *
 * - An article of at most `smallMax` bytes (SMALL_ARTICLE_BYTES) stays in
 *   memory and ends as one buffer of its own (`Fetched.bytes`), which readers
 *   are served from and the owner stores (small-store.ts): no file written or
 *   read back. Its MIME structure is left to whoever needs it (clients that
 *   show structures usually ask for them before the bodies; parsing every
 *   body cost as much as the rest of its download).
 * - A longer one spills, once it passes `smallMax`, to a temp file renamed
 *   into place when complete (a crash never leaves half an article under its
 *   final name), parsed by a `StructureParser` as it comes. Readers follow the
 *   growing file through the fetch's own handle (positional reads), so they
 *   work even if the file is renamed, evicted or its directory deleted, and no
 *   long article is held in memory (invariant 7: one chunk per reader) but
 *   its first ~`smallMax` bytes, kept from the spill until the copy has ended
 *   and the last reader is gone: a reader of them (a part's first KB, its
 *   header) is served at once, not after file reads queued behind the
 *   download's writes on the thread pool.
 * - One the overview already says is longer (`Upstream.size`) goes to the
 *   file, and to the parser, from its first byte, its prefix kept as it comes:
 *   a part that starts near the top is located (`watch`, asked after every
 *   chunk) and served without waiting for `smallMax` bytes.
 *
 * Life cycle: `start()` resolves once the upstream answered (a sink read:
 * once the article is in; see `Upstream`), or rejects with the raw upstream
 * error (the caller maps it); `done` resolves with what the download learnt,
 * or rejects (upstream cut, file error, `abort`). The file handle is closed
 * when the copy has ended, the owner called `detach()` and the last reader is gone.
 */
import { unlink, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ParseProgress } from '../../mime/index.js';
import { ParseFeed } from './fetch-watch.js';
import { DOWNLOAD_TURN_BYTES, SMALL_ARTICLE_BYTES, STORE_FRAME_BYTES, WRITE_COALESCE } from './limits.js';
import { followingReader, type DownloadState } from './fetch-reader.js';
import { HeaderCapture } from './measure.js';
import type { ArticleSink } from '../source.js';
import { openCreating, renameCreating, writeAllAt } from './cache-io.js';
import { FlowGate } from './flow-gate.js';

export type { Fetched, SpillPaths, Upstream } from './fetch-types.js';
import type { Fetched, SpillPaths, Upstream } from './fetch-types.js';

export class Fetch {
  /** Bytes downloaded so far, and written to the temp file (0 while the article is in memory). */
  received = 0;
  private written = 0;
  private ended = false;
  private failure: unknown = null;
  /** Chunks of an article still in memory; null once spilled to a file. */
  private chunks: Buffer[] | null = [];
  private bytes: Buffer | null = null; // the finished in-memory article
  /**
   * A long article's first bytes, `prefix[0, prefixLen)` (what was in memory when it spilled, or, for one
   * known long at the start, its first `smallMax` bytes as they come): readers of them need not wait for the file.
   */
  private prefix: Buffer | null = null;
  private prefixLen = 0;
  private fh: FileHandle | null = null;
  private spilled = false;
  private readers = 0;
  private detached = false;
  private src: Readable | null = null;
  private waiters: (() => void)[] = [];
  private parser: ParseFeed | null = null; // once the article goes to a file
  private head = new HeaderCapture();
  readonly done: Promise<Fetched>;
  private resolveDone!: (f: Fetched) => void;
  private rejectDone!: (e: unknown) => void;
  private startP: Promise<void> | null = null;
  private spillPaths: SpillPaths | null = null;

  /** `spill` names the files of a long article (asked for only when one spills: most never do). */
  constructor(
    readonly what: string,
    private readonly spill: () => SpillPaths,
    private readonly upstream: Upstream,
    private readonly smallMax = SMALL_ARTICLE_BYTES,
  ) {
    this.done = new Promise<Fetched>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined); // observed through start() or readers; never unhandled
    if (upstream.size !== undefined && upstream.size > smallMax && upstream.into === undefined) {
      // known long: to a file from the first byte, parsed as it comes (a part near the start is located at once)
      this.chunks = null;
      this.parser = new ParseFeed();
      this.prefix = Buffer.allocUnsafeSlow(smallMax);
    }
  }

  private get paths(): SpillPaths { return (this.spillPaths ??= this.spill()); }

  /** Asks upstream; the copy continues in the background. Idempotent: every caller gets the same promise. */
  start = (): Promise<void> => (this.startP ??= this.begin());

  private async begin(): Promise<void> {
    if (this.upstream.into !== undefined && (await this.readInto(this.upstream.into))) return;
    let src: Readable;
    try {
      src = await this.upstream();
    } catch (err) {
      this.fail(err);
      throw err;
    }
    if (this.failure !== null) {
      src.destroy(); // aborted while the upstream was asked
      throw this.failure;
    }
    this.src = src;
    this.copy(src);
  }

  /**
   * Reads the article through a sink into memory; true when it fitted (the
   * download is then finished), false when it passed `smallMax` (nothing is
   * kept: the caller reads it as a stream). Memory stays within `smallMax`.
   */
  private async readInto(into: (sink: ArticleSink) => Promise<void>): Promise<boolean> {
    let overflow = false;
    const restart = (): void => {
      this.chunks = [];
      this.received = 0;
      this.head = new HeaderCapture();
    };
    const sink: ArticleSink = {
      begin: () => {
        restart();
        overflow = false;
      },
      data: (c) => {
        if (overflow) return;
        this.received += c.length;
        overflow = this.received > this.smallMax;
        if (overflow) {
          this.chunks = []; // keep nothing
          return;
        }
        this.chunks!.push(c);
        this.head.push(c);
      },
    };
    try {
      await into(sink);
    } catch (err) {
      this.fail(err);
      throw err;
    }
    if (this.failure !== null) throw this.failure; // aborted meanwhile
    if (overflow) {
      restart();
      return false;
    }
    await this.finish();
    return true;
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
      if (this.ended || (this.spilled && this.written >= end) || end <= this.prefixLen) return;
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }

  /**
   * The whole article as one buffer once the download has finished in memory
   * (at most `smallMax` bytes); null as soon as it is known to go to a file
   * (then follow it with `reader`). Rejects with the download's failure.
   */
  async small(): Promise<Buffer | null> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.bytes !== null) return this.bytes;
      if (this.chunks === null || this.ended) return null; // spilled (or finished as a file)
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }

  /**
   * `ask`'s first answer (not undefined) about the structure parsed so far, asked again as the parse
   * advances (fetch-watch.ts; mime locate.ts); undefined when the download ends first or stays in
   * memory (its structure is then the whole parse's). Rejects with the download's failure.
   */
  async watch<T>(ask: (parsed: ParseProgress) => T | undefined): Promise<T | undefined> {
    if (this.parser === null && (await this.small()) !== null) return undefined;
    if (this.failure !== null) throw this.failure;
    if (this.ended || this.parser === null) return undefined;
    return this.parser.watch(ask);
  }

  /** A copy of bytes [start, end) when the kept prefix already holds them (no stream, no file read); else null. */
  prefixed(start: number, end: number): Buffer | null {
    return this.failure === null && this.prefix !== null && start < end && end <= this.prefixLen ? Buffer.from(this.prefix.subarray(start, end)) : null;
  }

  /** A stream of bytes [start, end) of the article, following the download (fetch-reader.ts). */
  reader(start = 0, end = Infinity): Readable {
    this.readers++;
    const state = (): DownloadState => ({ failure: this.failure, bytes: this.bytes, prefix: this.prefix?.subarray(0, this.prefixLen) ?? null, written: this.written, fh: this.fh, ended: this.ended });
    const progress = (): Promise<void> => new Promise<void>((res) => this.waiters.push(res));
    const release = (): void => {
      this.readers--;
      this.maybeClose();
    };
    return followingReader({ what: this.what, state, progress, release }, start, end);
  }

  /**
   * Takes the upstream stream chunk by chunk ('data' events: no promise per
   * chunk), at most DOWNLOAD_TURN_BYTES per turn of the event loop
   * (flow-gate.ts: commands of other sessions get a turn between). In memory
   * until it passes `smallMax`; then into the temp file, what comes while a
   * write is under way written next, together (the stream is paused once
   * WRITE_COALESCE bytes wait).
   */
  private copy(src: Readable): void {
    let pending: Buffer[] = [];
    let pendingLen = 0;
    let [writing, scheduled, srcEnded, stopped] = [false, false, false, false];
    const gate = new FlowGate(src, DOWNLOAD_TURN_BYTES);
    const stop = (err: unknown): void => {
      if (stopped) return;
      stopped = true;
      gate.close();
      src.destroy();
      void (async () => {
        if (this.spilled) await unlink(this.paths.tmp).catch(() => undefined);
        this.fail(err);
        this.maybeClose(); // a file opened while an abort came in
      })();
    };
    const accept = (chunk: Buffer | Uint8Array): void => {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      this.head.push(b);
      this.received += b.length;
      if (this.chunks !== null) {
        this.chunks.push(b);
        if (this.received <= this.smallMax) return;
        // too long for memory: from now on the article goes to a file, and is parsed as it comes
        this.parser = new ParseFeed();
        for (const c of this.chunks) this.parser.push(c);
        pending = this.chunks;
        pendingLen = this.received;
        this.prefix = Buffer.concat(this.chunks, this.received);
        this.prefixLen = this.received;
        this.chunks = null;
        this.wake(); // readers of the prefix need not wait for the file
        return;
      }
      this.parser!.push(b);
      pending.push(b);
      pendingLen += b.length;
      const p = this.prefix;
      if (p !== null && this.prefixLen < p.length) {
        // known long at the start: its first bytes kept as they come
        this.prefixLen += b.copy(p, this.prefixLen);
        this.wake();
      }
    };
    const write = async (): Promise<void> => {
      writing = true;
      try {
        if (this.fh === null) {
          this.fh = await openCreating(this.paths.tmp);
          this.spilled = true;
        }
        while (pendingLen > 0) {
          if (this.failure !== null) throw this.failure;
          const [bufs, len] = [pending, pendingLen];
          [pending, pendingLen] = [[], 0];
          gate.release('write'); // the next batch gathers while this one is written
          await writeAllAt(this.fh, bufs, len, this.written);
          this.written += len;
          this.wake();
        }
      } catch (err) {
        stop(err);
        return;
      }
      writing = false;
      if (srcEnded) void this.finish();
    };
    src.on('data', (chunk: Buffer) => {
      if (stopped) return;
      if (this.failure !== null) return stop(this.failure);
      accept(chunk);
      gate.spend(chunk.length);
      if (this.chunks !== null) return;
      if (pendingLen >= WRITE_COALESCE) gate.hold('write');
      if (!writing && !scheduled) {
        // after the chunks the stream emits in this turn: they are written together
        scheduled = true;
        queueMicrotask(() => {
          scheduled = false;
          if (!stopped && !writing) void write();
        });
      }
    });
    src.once('end', () => {
      srcEnded = true;
      gate.close();
      if (stopped) return;
      if (this.failure !== null) stop(this.failure);
      else if (this.chunks !== null) void this.finish();
      else if (!writing && !scheduled) void write();
    });
    src.once('error', stop);
    src.once('close', () => {
      if (!srcEnded) stop(this.failure ?? new Error(`${this.what}: upstream stream closed early`));
    });
  }

  /** The whole article is in: its own buffer (in memory), or the file renamed into place. */
  private async finish(): Promise<void> {
    let cached = false;
    if (this.chunks !== null) {
      // a buffer of its own: a slice of a socket read or of Node's pool would pin more than the article;
      // STORE_FRAME_BYTES free in front of it, for the small store's CRC (no second copy when it stores it)
      const frame = Buffer.allocUnsafeSlow(STORE_FRAME_BYTES + this.received);
      let at = STORE_FRAME_BYTES;
      for (const c of this.chunks) at += c.copy(frame, at);
      this.bytes = frame.subarray(STORE_FRAME_BYTES);
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
    if (this.failure !== null) return; // aborted meanwhile
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
    this.prefix = null;
    this.prefixLen = 0;
    this.parser?.fail(this.failure);
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
    if (this.detached && this.ended && this.readers === 0) [this.prefix, this.prefixLen] = [null, 0];
    if (this.detached && this.ended && this.readers === 0 && this.fh !== null) {
      const fh = this.fh;
      this.fh = null;
      fh.close().catch(() => undefined);
    }
  }
}
