/**
 * Exact size (and MIME structure) of an article by reading it once from
 * upstream without keeping it: for listings in 'download' size mode, where
 * writing every article into the cache (temp file, write, rename) costs more
 * than the transfer itself (measured over INN: ~0.5 ms CPU per article through
 * the cache). Concurrent requests for one key share one read.
 *
 * The caller owns nothing: the upstream stream is read to its end (or
 * destroyed on error). Rejects with the raw upstream error.
 */
import type { Readable } from 'node:stream';
import { StructureParser, type MimePart } from '../mime/structure.js';

export interface Measured {
  size: number;
  structure: MimePart;
}

export class Measurer {
  private readonly running = new Map<string, Promise<Measured>>();

  /** Reads the article from `upstream()` once; `done` is told the result before the promise resolves. */
  measure(key: string, upstream: () => Promise<Readable>, done: (m: Measured) => void): Promise<Measured> {
    let p = this.running.get(key);
    if (p === undefined) {
      p = read(upstream).then((m) => {
        done(m);
        return m;
      });
      const mine = p;
      this.running.set(key, mine);
      mine.then(
        () => this.running.delete(key),
        () => this.running.delete(key),
      );
    }
    return p;
  }
}

async function read(upstream: () => Promise<Readable>): Promise<Measured> {
  const src = await upstream();
  const parser = new StructureParser();
  let size = 0;
  try {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      size += chunk.length;
      parser.push(chunk);
    }
  } catch (err) {
    src.destroy();
    throw err;
  }
  return { size, structure: parser.end() };
}
