/**
 * Exact size, header block and (when asked) MIME structure of an article by
 * reading it once from upstream without keeping it: for listings (sizes in
 * 'download' mode, BODYSTRUCTURE), where writing every article into the
 * cache (temp file, write, rename) costs more than the transfer itself
 * (measured over INN: ~0.5 ms CPU per article through the cache).
 * Concurrent requests for one key share one read.
 *
 * The header comes along, so a listing that needs the exact size does not
 * also send HEAD for the article (one upstream request per article, not two).
 *
 * Articles come through `Source.articleInto` (no stream per article where the
 * source supports it). Rejects with the raw upstream error.
 */
import type { ArticleSink } from '../source.js';
import type { HeaderEntry } from './meta-store.js';
import { StructureParser, headerEnd, type MimePart } from '../../mime/index.js';
import { Slab } from '../../util/slab.js';

/** Longest header block kept from a measured article (a longer one is left to HEAD). */
const HEADER_CAPTURE_MAX = 1024 * 1024;

export interface Measured {
  size: number;
  /** The MIME structure, when the read was asked to parse it (else null). */
  structure: MimePart | null;
  /**
   * The header block up to and including its empty line, as HEAD gives it
   * (Source contract); null when the article has no empty line or a longer header.
   */
  header: Buffer | null;
  /** The header entry the reader's `done` callback made of `header` (so its waiters need not look it up). */
  entry?: HeaderEntry;
  /**
   * The whole article, when the read was asked to keep it (`keep`) and it was
   * no longer: only the `done` callback sees it (it is dropped afterwards, so a
   * listing's pending reads do not hold articles).
   */
  article?: Buffer | null;
}

export class Measurer {
  /** Reads under way, by key; a read that parses the structure serves every purpose. */
  private readonly reads = new Map<string, { p: Promise<Measured>; structure: boolean }>();

  /**
   * Reads the article from `upstream()` once (joining a read of `key` under
   * way that gives what is asked); `done` is told the result before the
   * promise resolves. `structure`: parse the MIME structure too (~40 µs per
   * article here, so a listing of sizes and headers leaves it out). `keep`:
   * hand articles up to this many bytes to `done` whole (`Measured.article`).
   */
  measure(key: string, upstream: (sink: ArticleSink) => Promise<void>, done: (m: Measured) => void, structure = false, keep = 0): Promise<Measured> {
    const known = this.reads.get(key);
    if (known !== undefined && (known.structure || !structure)) return known.p;
    const entry = { p: undefined as unknown as Promise<Measured>, structure };
    // one promise per read (a listing makes one read per article): the
    // bookkeeping happens inside it, not in chained handlers
    entry.p = (async (): Promise<Measured> => {
      try {
        const m = await read(upstream, structure, keep);
        done(m);
        m.article = null;
        return m;
      } finally {
        if (this.reads.get(key) === entry) this.reads.delete(key);
      }
    })();
    entry.p.catch(() => undefined); // a caller may stop waiting (a listing cut short): never an unhandled rejection
    this.reads.set(key, entry);
    return entry.p;
  }

  /** The read of `key` under way, if any (`structure`: only one that parses it). */
  running(key: string, structure = false): Promise<Measured> | undefined {
    const r = this.reads.get(key);
    return r !== undefined && (r.structure || !structure) ? r.p : undefined;
  }
}

async function read(upstream: (sink: ArticleSink) => Promise<void>, structure: boolean, keep: number): Promise<Measured> {
  let parser: StructureParser | null = null;
  let size = 0;
  let head = new HeaderCapture();
  const kept = new KeptArticle(keep);
  await upstream({
    begin: () => {
      parser = structure ? new StructureParser() : null;
      size = 0;
      head = new HeaderCapture();
      kept.reset();
    },
    data: (chunk) => {
      size += chunk.length;
      parser?.push(chunk);
      head.push(chunk);
      kept.push(chunk);
    },
  });
  return { size, structure: (parser as StructureParser | null)?.end() ?? null, header: head.header, article: kept.take() };
}

/**
 * The copy of an article of at most `keep` bytes that a measured read hands
 * on (to the search index feed, which holds it until the writer thread has
 * it). Bytes are copied once, into a buffer of its own that grows by doubling
 * and is trimmed to size at the end: never a slice of Node's shared 8 KB
 * Buffer pool, where one queued 2–3 KB article kept the whole pool chunk
 * alive (a cold 100k listing's feed queue, counted 16 MB, held ~3× that in
 * pool chunks: heap snapshot, issue 14), and no copy per chunk then a concat.
 */
class KeptArticle {
  private buf: Buffer | null = null;
  private length = 0;
  private over = false;

  constructor(private readonly keep: number) {}

  reset(): void {
    this.buf = null;
    this.length = 0;
    this.over = false;
  }

  /** Appends a copy of `chunk` (the source may reuse it), or gives up once the article is longer than `keep`. */
  push(chunk: Buffer): void {
    if (this.over) return;
    const need = this.length + chunk.length;
    if (need > this.keep) {
      this.over = true;
      this.buf = null;
      return;
    }
    if (this.buf === null || need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.min(this.keep, Math.max(need, 2 * (this.buf?.length ?? 0)))); // the first chunk exactly: most articles come in one
      if (this.buf !== null) this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.length);
    this.length = need;
  }

  /** The article (null when longer than `keep`, or when nothing is kept), in a buffer of exactly its length. */
  take(): Buffer | null {
    if (this.keep <= 0 || this.over) return null;
    if (this.buf === null) return Buffer.alloc(0);
    if (this.buf.length === this.length) return this.buf;
    const exact = Buffer.allocUnsafeSlow(this.length);
    this.buf.copy(exact, 0, 0, this.length);
    return exact;
  }
}

/** Captured headers go to the header cache: copies share slabs (see slab.ts). */
const headers = new Slab();

/**
 * Collects the first chunks of an article until its header block ends
 * (`header`: a copy, up to and including the empty line; null when there is
 * none within HEADER_CAPTURE_MAX bytes). Also used by downloads (fetch.ts).
 */
export class HeaderCapture {
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
    if (end >= 0) this.header = headers.copy(all.subarray(0, end)); // a copy: never pin the whole chunk
    if (end >= 0 || this.length > HEADER_CAPTURE_MAX) {
      this.done = true;
      this.chunks = [];
    } else if (all === chunk) {
      this.chunks = [Buffer.from(chunk)]; // a header that goes on in the next chunk: the source may reuse this one
    }
  }
}
