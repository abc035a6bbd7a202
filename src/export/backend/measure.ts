/**
 * Exact size, MIME structure and header block of an article by reading it
 * once from upstream without keeping it: for listings in 'download' size mode, where
 * writing every article into the cache (temp file, write, rename) costs more
 * than the transfer itself (measured over INN: ~0.5 ms CPU per article through
 * the cache). Concurrent requests for one key share one read.
 *
 * The header comes along, so a listing that needs the exact size does not
 * also send HEAD for the article (one upstream request per article, not two).
 *
 * The caller owns nothing: the upstream stream is read to its end (or
 * destroyed on error). Rejects with the raw upstream error.
 */
import type { Readable } from 'node:stream';
import { StructureParser, type MimePart } from '../mime/structure.js';
import { headerEnd } from '../mime/header.js';

/** Longest header block kept from a measured article (a longer one is left to HEAD). */
const HEADER_CAPTURE_MAX = 1024 * 1024;

export interface Measured {
  size: number;
  structure: MimePart;
  /**
   * The header block up to and including its empty line, as HEAD gives it
   * (Source contract); null when the article has no empty line or a longer header.
   */
  header: Buffer | null;
}

export class Measurer {
  private readonly running_ = new Map<string, Promise<Measured>>();

  /** Reads the article from `upstream()` once; `done` is told the result before the promise resolves. */
  measure(key: string, upstream: () => Promise<Readable>, done: (m: Measured) => void): Promise<Measured> {
    let p = this.running_.get(key);
    if (p === undefined) {
      p = read(upstream).then((m) => {
        done(m);
        return m;
      });
      const mine = p;
      this.running_.set(key, mine);
      mine.then(
        () => this.running_.delete(key),
        () => this.running_.delete(key),
      );
    }
    return p;
  }

  /** The read of `key` under way, if any. */
  running(key: string): Promise<Measured> | undefined {
    return this.running_.get(key);
  }
}

async function read(upstream: () => Promise<Readable>): Promise<Measured> {
  const src = await upstream();
  const parser = new StructureParser();
  let size = 0;
  const head = new HeaderCapture();
  try {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      size += chunk.length;
      parser.push(chunk);
      head.push(chunk);
    }
  } catch (err) {
    src.destroy();
    throw err;
  }
  return { size, structure: parser.end(), header: head.header };
}

/** Collects the first chunks of an article until its header block ends. */
class HeaderCapture {
  header: Buffer | null = null;
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;

  push(chunk: Buffer): void {
    if (this.done) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
    const all = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.length);
    this.chunks = [all];
    const end = headerEnd(all);
    if (end >= 0) this.header = Buffer.from(all.subarray(0, end)); // a copy: never pin the whole chunk
    if (end >= 0 || this.length > HEADER_CAPTURE_MAX) {
      this.done = true;
      this.chunks = [];
    }
  }
}
