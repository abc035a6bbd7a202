/**
 * Per-message data of one group (`MessageReader`), shared by every handle on
 * the group's view.
 *
 * - `read`: planned batches for FETCH and SEARCH (batches.ts), made of the
 *   steps below.
 * - `meta`: header and envelope from the metadata cache, else from the article
 *   when it is read for its exact size, else HEAD upstream (HEAD_WINDOW
 *   requests in flight, answers yielded in the caller's order); size and date
 *   from the article table (see `sizeOf` for exactness).
 * - `content`: the article cache (one upstream fetch per article however many
 *   readers, ranges read from disk).
 * - `structure`: the metadata cache, else a structure read under way
 *   (`prefetchStructures`), else computed from a download (during it when the
 *   article is fetched now, or by parsing the cached file).
 *
 * Rows are looked up in the view's *latest* table: a UID that expired is
 * skipped by `meta` and NONEXISTENT for `content`/`structure`.
 * Errors are `BackendError`s (see errors.ts).
 */
import type { Readable } from 'node:stream';
import type { ByteRange, ByteSource, MessageBatch, MessageMeta, MessageReader, MetaOptions, ReadNeeds, SectionText } from '../interface.js';
import { BackendError } from '../interface.js';
import { articleInto } from '../source.js';
import { findField, parseHeader, parseStructure, type MimePart } from '../../mime/index.js';
import { parseSource } from './parse-source.js';
import type { Upstream } from './article-cache.js';
import { readBatches } from './batches.js';
import type { Carrier } from './carrier.js';
import { internalDateOf, parseDate } from './dates.js';
import { isGone, toBackendError } from './errors.js';
import { HEAD_WINDOW, PREFETCH_WINDOW, SMALL_ARTICLE_BYTES, STRUCTURE_WINDOW } from './limits.js';
import { Measurer, type Measured } from './measure.js';
import { articleKey, type HeaderEntry } from './meta-store.js';
import { rowOf } from './table.js';
import type { ViewSnapshot } from './view.js';
import { carrierOf, rowAfter, upstreamOf, type ReaderDeps } from './reader-deps.js';
import { knownMetas, LazyMeta } from './lazy-meta.js';
import { lender, sectionLocator, takeBytes } from './reader-bytes.js';

export type { ReaderDeps, ReaderIndexHooks, SizePolicy } from './reader-deps.js';

/** What one read of a whole article tells a slot: a measuring read (measure.ts) or a download (fetch.ts `Fetched`). */
type ReadOnce = Pick<Measured, 'size' | 'header' | 'entry'>;

interface Slot {
  uid: number;
  row: number;
  key: string;
  entry: HeaderEntry | Promise<HeaderEntry | null> | null;
  size: number | Promise<number | null> | null;
  /** A cold article read once (or being downloaded) for its size and header (then `entry` and `size` are unset). */
  measured: Promise<ReadOnce> | null;
}

export class GroupReader implements MessageReader {
  private readonly measurer = new Measurer();
  /** See MessageReader.lend (reader-bytes.ts `lender`): a function property, which handles pass on as is. */
  readonly lend: (uid: number, range: ByteRange | undefined, use: (bytes: Buffer) => void) => boolean;
  /** See MessageReader.sectionRange and binaryRange (reader-bytes.ts `sectionLocator`). */
  readonly sectionRange: (uid: number, path: readonly number[], text: SectionText, want: number) => Promise<ByteRange>;
  readonly binaryRange: (uid: number, path: readonly number[], want: number) => Promise<ByteRange | undefined>;

  constructor(private readonly d: ReaderDeps) {
    this.lend = lender(d);
    ({ section: this.sectionRange, binary: this.binaryRange } = sectionLocator(d, (uid) => this.structure(uid), (key) => this.measurer.running(key, true) !== undefined));
  }

  read(uids: readonly number[], needs: ReadNeeds): AsyncIterable<MessageBatch> {
    return readBatches(this, uids, needs);
  }

  async *meta(uids: readonly number[], opts: MetaOptions = {}): AsyncIterable<MessageMeta> {
    this.d.activity?.touch();
    const exact = opts.exactSize ?? true;
    const t = this.d.view();
    const slots: Slot[] = [];
    let row = -1;
    for (const uid of uids) {
      row = rowAfter(t.table, uid, row);
      if (row >= 0) slots.push({ uid, row, key: '', entry: null, size: null, measured: null });
    }
    const bulk = slots.length > 1; // a listing: its reads may share one deep pipeline (NntpPool.use)
    let ahead = 0;
    for (let i = 0; i < slots.length; i++) {
      while (ahead < slots.length && ahead - i < HEAD_WINDOW) this.start(t, slots[ahead++]!, exact, bulk);
      const s = slots[i]!;
      if (s.measured !== null) {
        const got = await this.measuredSlot(t, s);
        if (got === null) continue;
        yield new LazyMeta(s.uid, got.size, this.dateOf(t, s.row, got.entry.header), got.entry);
        continue;
      }
      const entry = s.entry instanceof Promise ? await s.entry : s.entry;
      const size = s.size instanceof Promise ? await s.size : s.size;
      if ((i & 63) === 63) this.d.activity?.touch(); // a long listing is still reading
      if (entry === null || size === null) continue;
      yield new LazyMeta(s.uid, size, this.dateOf(t, s.row, entry.header), entry);
    }
  }

  /** The metas that need no await and no record read, and the rest (lazy-meta.ts `knownMetas`). */
  known(uids: readonly number[], opts: MetaOptions = {}): { metas: Map<number, MessageMeta>; rest: number[] } {
    return knownMetas(this.d, uids, opts);
  }

  async structure(uid: number): Promise<MimePart> {
    this.d.activity?.touch();
    const t = this.d.view();
    const row = this.row(t, uid);
    const key = this.key(t, row);
    const known = this.d.meta.structure(key);
    if (known !== undefined) return known;
    const reading = this.measurer.running(key, true);
    if (reading !== undefined) {
      try {
        const m = await reading;
        if (m.structure !== null) return m.structure;
      } catch (err) {
        throw toBackendError(err, `${this.d.group} UID ${uid}`);
      }
    }
    let fetched;
    try {
      fetched = await this.d.cache.ensure(key, upstreamOf(this.d, t, row));
    } catch (err) {
      throw toBackendError(err, `${this.d.group} UID ${uid}`);
    }
    if (fetched !== null) {
      if (fetched.structure !== null) return fetched.structure;
      const part = parseStructure(fetched.bytes!); // a small article: the download leaves it unparsed
      this.d.meta.putStructure(key, part);
      return part;
    }
    // cached: a short article is one Buffer at hand (no stream, no promise), a long one is read in pieces
    const got = this.bytes(uid);
    const part = Buffer.isBuffer(got) ? parseStructure(got) : await parseSource(await got);
    this.d.meta.putStructure(key, part);
    return part;
  }

  /**
   * Starts downloading the articles of `uids` that are not cached, up to
   * PREFETCH_WINDOW at once (pipelined on the upstream connection), so a FETCH
   * of many bodies does not wait one round trip per article. Never throws;
   * a failure shows up when the article's content is asked for.
   */
  prefetch(uids: readonly number[]): void {
    this.d.activity?.touch();
    const t = this.d.view();
    const todo: Array<{ key: string; upstream: Upstream }> = [];
    let row = -1;
    for (const uid of uids) {
      row = rowAfter(t.table, uid, row);
      if (row < 0) continue;
      const key = this.key(t, row);
      if (!this.d.cache.has(key)) todo.push({ key, upstream: upstreamOf(this.d, t, row, true) });
    }
    // all of them count as in flight at once: `meta` takes sizes and headers from these downloads
    this.d.cache.prefetch(todo, PREFETCH_WINDOW);
  }

  /**
   * Starts reading the articles of `uids` whose structure is not known, up to
   * STRUCTURE_WINDOW at once, parsing each as it streams by without keeping
   * it (a BODYSTRUCTURE listing fills no cache). `structure(uid)` then joins
   * the read. Never throws; a failure shows up from `structure`.
   */
  prefetchStructures(uids: readonly number[]): void {
    this.d.activity?.touch();
    const t = this.d.view();
    const todo: Array<{ row: number; key: string }> = [];
    for (const uid of uids) {
      const row = rowOf(t.table, uid);
      if (row < 0) continue;
      const key = this.key(t, row);
      // a stored structure first (one LMDB lookup; the cache's questions hash the key)
      if (!this.d.meta.hasStructure(key) && !this.d.cache.has(key) && this.d.cache.inflight(key) === undefined) todo.push({ row, key });
    }
    let next = 0;
    const run = async (): Promise<void> => {
      while (next < todo.length) {
        const { row, key } = todo[next++]!;
        await this.measure(t, row, key, true, todo.length > 1).catch(() => undefined);
      }
    };
    for (let i = 0; i < Math.min(STRUCTURE_WINDOW, todo.length); i++) void run();
  }

  async content(uid: number, range?: ByteRange): Promise<Readable> {
    this.d.activity?.touch();
    const t = this.d.view();
    const row = this.row(t, uid);
    try {
      return await this.d.cache.open(this.key(t, row), upstreamOf(this.d, t, row), range?.start ?? 0, range?.end ?? Infinity);
    } catch (err) {
      throw toBackendError(err, `${this.d.group} UID ${uid}`);
    }
  }

  bytes(uid: number, range?: ByteRange): Buffer | Promise<Buffer | ByteSource | Readable> {
    return takeBytes(this.d, uid, range);
  }

  /**
   * The exact size, or a promise of it (null: the article vanished); `known`:
   * what the meta cache holds (looked up by the caller). In
   * 'exact' mode the overview size; in 'download' mode the size recorded
   * after a download, else — for articles whose overview size is at most
   * `downloadSizesUpTo` — the size found by reading the article now (not
   * cached: see measure.ts; its header is kept); above that the overview
   * size (see BackendOptions.sizes for what that risks).
   */
  private sizeOf(t: ViewSnapshot, row: number, key: string, known: number | undefined, bulk: boolean): number | Promise<number | null> {
    const overview = t.table.sizes[row]!;
    if (this.d.sizes === 'exact' && overview >= 0) return overview;
    const exact = known ?? this.d.cache.cachedSize(key);
    if (exact !== undefined) return exact;
    const reading = this.measurer.running(key);
    if (reading !== undefined) {
      const p = reading.then(
        (m) => m.size,
        (err: unknown) => {
          if (isGone(err)) return null;
          throw toBackendError(err, `${this.d.group} article ${t.table.numbers[row]}`);
        },
      );
      p.catch(() => undefined);
      return p;
    }
    const downloading = this.d.cache.inflight(key);
    if (downloading !== undefined) {
      // a download is under way (prefetch for a FETCH of bodies): its size is exact, no second read
      const p = downloading.then(
        (f) => f.size,
        (err: unknown) => {
          if (isGone(err)) return null;
          throw toBackendError(err, `${this.d.group} article ${t.table.numbers[row]}`);
        },
      );
      p.catch(() => undefined);
      return p;
    }
    if (overview >= 0 && overview > this.d.downloadSizesUpTo) return overview;
    const p = this.measure(t, row, key, false, bulk).then(
      (m) => m.size,
      (err: unknown) => {
        if (isGone(err)) return null;
        throw toBackendError(err, `${this.d.group} article ${t.table.numbers[row]}`);
      },
    );
    p.catch(() => undefined); // observed when the consumer reaches the slot
    return p;
  }

  /** Reads the article once (see measure.ts) and records what the read learnt. */
  private measure(t: ViewSnapshot, row: number, key: string, structure: boolean, bulk: boolean): Promise<Measured> {
    const store = (m: Measured): void => {
      const inMemory = m.header !== null ? this.d.meta.headerInMemory(key) : undefined;
      if (m.header !== null && inMemory === undefined) m.entry = this.d.meta.putHeader(key, m.header, m.size);
      else {
        m.entry = inMemory;
        this.d.meta.putExactSize(key, m.size);
      }
      if (m.structure !== null) this.d.meta.putStructure(key, m.structure);
      const hooks = this.d.index;
      if (hooks !== undefined && m.header !== null) {
        const date = this.dateOf(t, row, m.header).getTime();
        if (m.article) hooks.article(uid, m.article, date);
        else hooks.header(uid, m.header, date, m.size);
      }
    };
    const number = t.table.numbers[row]!;
    const source = carrierOf(this.d.group, t).source;
    const uid = t.table.uids[row]!;
    const messageId = this.d.messageIdOf?.(uid);
    return this.measurer.measure(key, (sink) => articleInto(source, this.d.group, number, messageId, sink, bulk), store, structure, this.d.index?.keepBytes ?? 0);
  }

  /**
   * RFC822.SIZE of a row as `meta` reports it, when that needs no article
   * read (the overview size in 'exact' mode, a size learnt before, or an
   * overview size above `downloadSizesUpTo`); undefined otherwise.
   */
  knownSize(t: ViewSnapshot, row: number): number | undefined {
    const overview = t.table.sizes[row]!;
    if (this.d.sizes === 'exact' && overview >= 0) return overview;
    if (t.carrier === null) return undefined;
    const key = this.key(t, row);
    const exact = this.d.meta.exactSize(key) ?? this.d.cache.cachedSize(key);
    if (exact !== undefined) return exact;
    return overview >= 0 && overview > this.d.downloadSizesUpTo ? overview : undefined;
  }

  /** INTERNALDATE of a row as `meta` reports it: the overview date, else the header's Date, else the epoch. */
  dateOf(t: ViewSnapshot, row: number, header: Buffer): Date {
    const ms = t.table.dates[row]!;
    if (Number.isFinite(ms)) return internalDateOf(ms);
    const f = findField(parseHeader(header), 'date');
    return internalDateOf(f === undefined ? NaN : parseDate(f.value.toString('latin1')));
  }

  /** The download under way of a row's article when `sizeOf` would take the exact size from it (nothing known, no read running). */
  private sizeFromDownload(t: ViewSnapshot, row: number, key: string): Promise<ReadOnce> | undefined {
    if (this.d.sizes === 'exact' && t.table.sizes[row]! >= 0) return undefined;
    if (this.measurer.running(key) !== undefined || this.d.cache.cachedSize(key) !== undefined) return undefined;
    return this.d.cache.inflight(key);
  }

  /** Header entry and size of a slot whose article was read (`start`); null when it vanished. */
  private async measuredSlot(t: ViewSnapshot, s: Slot): Promise<{ entry: HeaderEntry; size: number } | null> {
    let m: ReadOnce;
    try {
      m = await s.measured!;
    } catch (err) {
      if (isGone(err)) return null;
      throw toBackendError(err, `${this.d.group} article ${t.table.numbers[s.row]}`);
    }
    // the read's `store` has put the header in memory; a header too long to capture is left to HEAD
    const entry = m.header !== null ? (m.entry ?? this.d.meta.headerInMemory(s.key) ?? this.d.meta.putHeader(s.key, m.header, m.size)) : await this.head(t, s);
    return entry === null ? null : { entry, size: m.size };
  }

  /**
   * True when the exact size of a slot's article must be learnt by reading it
   * (see `sizeOf`), and nothing known or under way gives it.
   */
  private mustRead(t: ViewSnapshot, row: number, key: string): boolean {
    const overview = t.table.sizes[row]!;
    if (this.d.sizes === 'exact' && overview >= 0) return false;
    if (overview >= 0 && overview > this.d.downloadSizesUpTo) return false;
    return this.d.cache.cachedSize(key) === undefined && this.d.cache.inflight(key) === undefined;
  }

  /** Starts (or answers from cache) the header and size of one slot; its promises never reject unobserved. */
  private start(t: ViewSnapshot, s: Slot, exactSize: boolean, bulk: boolean): void {
    const key = this.key(t, s.row);
    s.key = key;
    const known = this.d.meta.lookup(key, exactSize && this.d.sizes === 'download');
    if (exactSize && known.entry === undefined && known.size === undefined) {
      // a cold article: one read gives both its size and header (its download under way, e.g. a FETCH of bodies; else a read)
      const downloading = this.sizeFromDownload(t, s.row, key);
      if (downloading !== undefined || this.mustRead(t, s.row, key)) {
        s.measured = downloading ?? this.measurer.running(key) ?? this.measure(t, s.row, key, false, bulk);
        return;
      }
    }
    // without a need for the exact size, the overview's (or what is known) will do: no article read
    s.size = exactSize ? this.sizeOf(t, s.row, key, known.size, bulk) : (known.size ?? this.d.cache.cachedSize(key) ?? Math.max(t.table.sizes[s.row]!, 0));
    const hit = known.entry;
    if (hit !== undefined) {
      s.entry = hit;
      return;
    }
    // the article is being read for its size, or downloaded (a FETCH of bodies): its header comes with it (no HEAD)
    const reading: Promise<{ header: Buffer | null; size: number }> | undefined = this.measurer.running(key) ?? this.d.cache.inflight(key);
    if (reading !== undefined) {
      const p = reading.then(
        (m) => (m.header !== null ? (this.d.meta.headerInMemory(key) ?? this.d.meta.putHeader(key, m.header, m.size)) : this.head(t, s)),
        (err: unknown) => {
          if (isGone(err)) return null;
          throw toBackendError(err, `${this.d.group} article ${t.table.numbers[s.row]}`);
        },
      );
      p.catch(() => undefined);
      s.entry = p;
      return;
    }
    s.entry = this.head(t, s);
  }

  /** HEAD upstream for a slot's header; the promise never rejects unobserved. */
  private head(t: ViewSnapshot, s: Slot): Promise<HeaderEntry | null> {
    const key = this.key(t, s.row);
    const number = t.table.numbers[s.row]!;
    const p = carrierOf(this.d.group, t).source.head(this.d.group, number, this.d.messageIdOf?.(s.uid)).then(
      (h) => {
        const entry = this.d.meta.putHeader(key, h);
        this.d.index?.header(s.uid, h, this.dateOf(t, s.row, h).getTime(), Math.max(t.table.sizes[s.row]!, 0));
        return entry;
      },
      (err: unknown) => {
        if (isGone(err)) return null;
        throw toBackendError(err, `${this.d.group} HEAD ${number}`);
      },
    );
    p.catch(() => undefined); // the consumer may stop early; it sees the error when it reaches the slot
    return p;
  }

  private row(t: ViewSnapshot, uid: number): number {
    const row = rowOf(t.table, uid);
    if (row < 0) throw new BackendError('NONEXISTENT', `${this.d.group}: no message with UID ${uid}`);
    return row;
  }

  private key(t: ViewSnapshot, row: number): string {
    return articleKey(carrierOf(this.d.group, t).id, this.d.group, t.table.numbers[row]!);
  }
}
