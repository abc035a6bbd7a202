/**
 * A reader of one download in progress (fetch.ts `Fetch.reader`): bytes
 * [start, end) of the article as a stream that follows the download — from
 * the finished in-memory article, from the spilled prefix kept in memory,
 * from the temp file as far as it is written (positional reads through the
 * download's own handle), or waiting for the download's next progress. Errors:
 * the download's failure as a BackendError; a file shorter than written.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { toBackendError } from './errors.js';
import { READ_CHUNK } from './limits.js';

/** What a reader sees of the download at one moment (a snapshot, asked for at each step). */
export interface DownloadState {
  failure: unknown;
  /** The finished in-memory article. */
  bytes: Buffer | null;
  /** A long article's first bytes, kept from the spill. */
  prefix: Buffer | null;
  /** Bytes written to the temp file so far. */
  written: number;
  fh: FileHandle | null;
  ended: boolean;
}

export interface Followed {
  /** For error messages. */
  what: string;
  state(): DownloadState;
  /** Resolves at the download's next progress (or end, or failure). */
  progress(): Promise<void>;
  /** Called once, when the stream ends or is destroyed. */
  release(): void;
}

export function followingReader(f: Followed, start: number, end: number): Readable {
  let pos = start;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    f.release();
  };
  const stream = new Readable({
    highWaterMark: READ_CHUNK,
    read: () => {
      const step = async (): Promise<void> => {
        for (;;) {
          const s = f.state();
          if (s.failure !== null) throw toBackendError(s.failure, f.what);
          if (s.bytes !== null) {
            const b = s.bytes;
            if (pos < Math.min(end, b.length)) stream.push(b.subarray(pos, Math.min(end, b.length)));
            pos = Infinity;
            stream.push(null);
            return;
          }
          const p = s.prefix;
          if (p !== null && pos < Math.min(end, p.length)) {
            // from the spilled prefix in memory: no file read queued behind the download's writes
            stream.push(p.subarray(pos, (pos = Math.min(end, p.length))));
            if (pos >= end) stream.push(null);
            return;
          }
          const limit = Math.min(end, s.written);
          if (pos < limit && s.fh !== null) {
            const b = Buffer.allocUnsafe(Math.min(READ_CHUNK, limit - pos));
            const { bytesRead } = await s.fh.read(b, 0, b.length, pos);
            if (bytesRead === 0) throw new Error(`${f.what}: cache file shorter than written`);
            pos += bytesRead;
            stream.push(b.subarray(0, bytesRead));
            return;
          }
          if (s.ended || pos >= end) {
            stream.push(null);
            return;
          }
          await f.progress();
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
