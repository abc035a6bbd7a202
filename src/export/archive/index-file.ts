/**
 * The in-memory index of one mboxrd file: the byte range and overview fields of
 * every message, built by one streaming scan and kept while the file's size and
 * mtime stay the same.
 *
 * Refresh rules (`refresh()`, cheap when nothing changed: one `stat`):
 * - same size and mtime: nothing to do;
 * - the file grew and its last indexed message still starts with `From ` at
 *   the same offset: only the bytes from that message on are scanned (the last
 *   message may have been incomplete), so appended articles are found and
 *   earlier article numbers keep their meaning;
 * - anything else (shrunk, rewritten): a full rescan.
 *
 * Errors: `MboxFormatError` for data that is not mboxrd, and fs errors (ENOENT…)
 * as thrown by `node:fs`; the archive source maps both to `SourceError`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { HandleCache } from './handles.js';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { MboxScanner, type MboxEntry } from './scan.js';
import { MboxrdUnquote, unquoteBuffer } from './unquote.js';
import { FileKeys, syntheticId } from './keys.js';

/** Read size for scanning; large enough to amortise syscalls, small enough to stay in cache. */
export const SCAN_CHUNK = 256 * 1024;
/**
 * Articles up to this raw size are read with one positional read and unquoted
 * in memory (far cheaper than a stream per article); larger ones are streamed,
 * so a 40 MB article is never held whole (DESIGN invariant 7).
 */
export const SMALL_ARTICLE_BYTES = 256 * 1024;

export class MboxIndex {
  readonly path: string;
  private entries: MboxEntry[] = [];
  private size = -1;
  private mtimeMs = -1;
  private ino = -1;
  private pending: Promise<void> | undefined;
  /** Message-ID keys given so far, so every message of the file has its own (./keys.ts). */
  private readonly keys = new FileKeys();

  /** `files` serves the reads of synthetic Message-ID hashing; it is told when the file was rewritten. */
  constructor(
    path: string,
    private readonly files: HandleCache,
  ) {
    this.path = path;
  }

  /** Number of messages as of the last refresh. */
  get count(): number {
    return this.entries.length;
  }

  /** Entry for 1-based article number `n`, or undefined. */
  entry(n: number): MboxEntry | undefined {
    return Number.isInteger(n) && n >= 1 ? this.entries[n - 1] : undefined;
  }

  /** Bring the index up to date with the file (concurrent calls share one scan). */
  refresh(): Promise<void> {
    this.pending ??= this.doRefresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async doRefresh(): Promise<void> {
    const st = await stat(this.path);
    if (!st.isFile()) throw Object.assign(new Error(`${this.path}: not a regular file`), { code: 'ENOTFILE' });
    if (st.size === this.size && st.mtimeMs === this.mtimeMs && st.ino === this.ino) return;
    const last = this.entries[this.entries.length - 1];
    let keep = 0;
    let from = 0;
    if (last !== undefined && st.ino === this.ino && st.size > this.size && (await startsWithFrom(this.path, last.fromOffset))) {
      keep = this.entries.length - 1;
      from = last.fromOffset;
    } else {
      this.files.forget(this.path); // replaced or rewritten: an open handle may show the old file
    }
    const fresh = await scanRange(this.path, from, st.size);
    const bases = await baseIds(this.files, this.path, fresh);
    // No await from here on: a refresh that failed above left the index (and its keys) as they were.
    if (keep === 0) this.keys.reset();
    else this.keys.retractLast(); // the last message is scanned again
    for (let i = 0; i < fresh.length; i++) fresh[i]!.messageId = this.keys.next(bases[i]!);
    this.entries = this.entries.slice(0, keep).concat(fresh);
    this.size = st.size;
    this.mtimeMs = st.mtimeMs;
    this.ino = st.ino;
  }
}

async function startsWithFrom(path: string, offset: number): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(5);
    const { bytesRead } = await fh.read(b, 0, 5, offset);
    return bytesRead === 5 && b.toString('latin1') === 'From ';
  } finally {
    await fh.close();
  }
}

/** Scan [from, to) of the file; `from` must be the start of a line. */
async function scanRange(path: string, from: number, to: number): Promise<MboxEntry[]> {
  const out: MboxEntry[] = [];
  if (to <= from) return out;
  const scanner = new MboxScanner(from, (e) => out.push(e));
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        scanner.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    final(cb) {
      try {
        scanner.end();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  await pipeline(createReadStream(path, { start: from, end: to - 1, highWaterMark: SCAN_CHUNK }), sink);
  return out;
}

/**
 * The article bytes of one entry (raw range [e.start, end)), as a stream the
 * caller consumes or destroys. Small articles are read at once (file errors
 * reject the promise); large ones are streamed (file errors destroy the stream).
 */
export async function articleStream(files: HandleCache, path: string, e: MboxEntry, end = e.end): Promise<Readable> {
  if (end - e.start <= SMALL_ARTICLE_BYTES) {
    const raw = end > e.start ? await files.read(path, e.start, end) : Buffer.alloc(0);
    const out = unquoteBuffer(raw);
    return Readable.from(out.length > 0 ? [out] : [], { objectMode: false });
  }
  const t = new MboxrdUnquote();
  const src = createReadStream(path, { start: e.start, end: end - 1, highWaterMark: SCAN_CHUNK });
  src.on('error', (err) => t.destroy(err));
  t.on('close', () => src.destroy());
  src.pipe(t);
  return t;
}

/**
 * The base key of each entry: its Message-ID, or for one without, the synthetic
 * `<sha1-of-article-bytes@newsfront.invalid>`, stable while the bytes are.
 */
async function baseIds(files: HandleCache, path: string, entries: readonly MboxEntry[]): Promise<string[]> {
  const out: string[] = [];
  for (const e of entries) {
    if (e.messageId !== '') {
      out.push(e.messageId);
      continue;
    }
    const h = createHash('sha1');
    for await (const chunk of await articleStream(files, path, e)) h.update(chunk as Buffer);
    out.push(syntheticId(h.digest('hex')));
  }
  return out;
}
