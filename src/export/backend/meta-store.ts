/**
 * Durable per-article facts that are expensive to get again: the raw header
 * block (one HEAD upstream) and the exact size (known once the article was
 * read), in one record; the MIME structure (one full parse; stored-structures.ts). Kept in an LMDB
 * environment next to the article cache (`<cacheDir>/meta.lmdb`), so they
 * survive both the eviction of the article bytes and a restart, plus a
 * byte-bounded memory LRU of headers in front of it.
 *
 * The envelope is lazy (`HeaderEntry.envelope` is a getter): a listing of
 * FLAGS and sizes reads only header bytes (binary LMDB values, no decoding).
 * An envelope is parsed from the header each time it is read (~15 µs); the
 * IMAP layer keeps its rendering in a cache of its own. It is not
 * stored: a msgpack put of it cost ~30 µs in a cold listing (more than parsing
 * it again after a restart).
 *
 * Keys are article keys (see `articleKey`). Values are binary (article
 * records, see encodeRecord) or msgpack (lmdb-js default; keeps Buffers binary).
 *
 * Writes are fire-and-forget (lmdb-js batches them into one transaction per
 * event turn); a failed write is logged and only costs a refetch later. Reads
 * are synchronous. The environment is opened with `noSync`: it is a cache, an
 * OS crash may cost its last transactions (refetched), and an fsync per commit
 * cost CPU on every cold listing. The owner calls `close()`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from '../../util/log.js';
import { ENVELOPE_FIELDS, envelopeOf, parseHeader, type Envelope, type MimePart } from '../../mime/index.js';
import { ByteLru } from '../../util/lru.js';
import { FACTS_MEMORY_BYTES, META_WRITE_BATCH, META_WRITE_DELAY_MS } from './limits.js';
import { ArticleFacts, type GroupFacts } from './facts.js';
import { decodeView, decodeViewBytes, encodeViewBytes, type SavedView, type SavedViewRecord } from './table-codec.js';
import { decodeRecord, encodeRecord, StoredSinceEmpty, type ArticleRecord } from './meta-keys.js';
import { StoredStructures } from './stored-structures.js';

/**
 * Memory charged per cached header: its bytes plus a fixed overhead for the
 * Buffer, entry, key and LRU node. Measured with heapUsed + arrayBuffers over
 * 50k test-corpus headers (avg 397 bytes): 722 bytes per entry.
 */
const ENTRY_OVERHEAD = 336;
const costOf = (header: Buffer): number => header.length + ENTRY_OVERHEAD;

export { articleKey, articlePrefix, prefixedKey, viewKey } from './meta-keys.js';

/**
 * Databases of earlier versions of this store, now unused: headers (`hdr`),
 * exact sizes (`sizes`) and parsed envelopes (`env`) became the `articles`
 * records. Emptied at open so an old data directory does not keep them.
 */
const RETIRED_DBS: readonly string[] = ['hdr', 'sizes', 'env'];

export interface HeaderEntry {
  readonly header: Buffer;
  /** Computed (or read from disk) on first access. */
  readonly envelope: Envelope;
  /** The article's exact size, when known. */
  readonly size: number | undefined;
}

class LazyEntry implements HeaderEntry {
  constructor(
    readonly header: Buffer,
    public size: number | undefined,
  ) {}

  /** Parsed on each read, not kept: callers cache what they make of it (the IMAP render cache). */
  get envelope(): Envelope {
    return envelopeOf(parseHeader(this.header, ENVELOPE_FIELDS));
  }
}

export interface MetaStoreOptions {
  /** LMDB data file; parent directories are created. */
  path: string;
  logger: Logger;
  /** Bound of the memory LRU, in bytes. */
  memoryBytes: number;
}

export class MetaStore {
  private readonly env: RootDatabase;
  /** Article key → ArticleRecord (encodeRecord). */
  private readonly articles: Database<Buffer, string>;
  private readonly structures: StoredStructures;
  /** Saved view tables (table-codec.ts format 4); `oldViews`: format 3, read until a view is saved again. */
  private readonly views: Database<Buffer, string>;
  private readonly oldViews: Database<SavedViewRecord, string>;
  /** Message-ID → the groups a crossposted article was posted to (from Xref at ingest). */
  private readonly xposts: Database<string[], string>;
  private readonly pendingXposts = new Map<string, string[]>();
  /**
   * Groups with at least one crossposted article (kept as keys of their own
   * database, all in memory): a \Seen STORE of 50,000 UIDs in a group without
   * any skips 50,000 UID-map and crosspost lookups (crossposts.ts).
   */
  private readonly xpostGroups: Database<boolean, string>;
  private readonly groupsWithXposts = new Set<string>();
  private readonly mem: ByteLru<string, HeaderEntry>;
  /**
   * Entries written but maybe not committed yet (lmdb-js commits in a background
   * thread; until then a read does not see the write): reads see them at once.
   */
  private readonly pending = new Map<string, ArticleRecord>();
  /** Exact sizes and header presence per article, compactly (facts.ts). */
  private readonly facts: ArticleFacts;
  /** Article records not handed to lmdb-js yet (see `store`). */
  private queuedKeys: string[] = [];
  private queuedRecords: ArticleRecord[] = [];
  private writeTimer: NodeJS.Timeout | undefined;
  /** Set when the store opened without article records: which keys may have one (no disk read for the others). */
  private readonly storedSince: StoredSinceEmpty | null;
  private readonly log: Logger;
  private closed = false;

  constructor(opts: MetaStoreOptions) {
    mkdirSync(dirname(opts.path), { recursive: true });
    this.env = openLmdb({ path: opts.path, maxDbs: 12, compression: false, noSync: true });
    this.articles = this.env.openDB<Buffer, string>('articles', { encoding: 'binary' });
    this.structures = new StoredStructures(this.env, (p, settled) => this.write(p, 'structure', settled));
    this.views = this.env.openDB<Buffer, string>('view-tables', { encoding: 'binary' });
    this.oldViews = this.env.openDB<SavedViewRecord, string>('views', {});
    this.xposts = this.env.openDB<string[], string>('xposts', {});
    this.xpostGroups = this.env.openDB<boolean, string>('xpost-groups', {});
    this.facts = new ArticleFacts(this.env.openDB<Buffer, string>('facts', { encoding: 'binary' }), FACTS_MEMORY_BYTES, () => this.scheduleWrite());
    this.mem = new ByteLru(opts.memoryBytes);
    this.storedSince = [...this.articles.getKeys({ limit: 1 })].length === 0 ? new StoredSinceEmpty() : null;
    this.log = opts.logger;
    this.dropRetired();
    this.loadXpostGroups();
  }

  /** The groups with crossposts; in a data dir of an earlier version, found once from the records. */
  private loadXpostGroups(): void {
    for (const g of this.xpostGroups.getKeys()) if (typeof g === 'string') this.groupsWithXposts.add(g);
    if (this.groupsWithXposts.size > 0 || this.xposts.getKeysCount() === 0) return;
    for (const { value } of this.xposts.getRange()) for (const g of value) this.markXpostGroup(g);
  }

  private markXpostGroup(group: string): void {
    if (this.groupsWithXposts.has(group)) return;
    this.groupsWithXposts.add(group);
    this.write(this.xpostGroups.put(group, true), 'crosspost groups');
  }

  /** False when no article of `group` is known to be crossposted (then `crossposts` is undefined for all of them). */
  hasCrossposts(group: string): boolean {
    return this.groupsWithXposts.has(group);
  }

  /** Empties the databases earlier versions kept (see RETIRED_DBS); a failure only costs disk space. */
  private dropRetired(): void {
    try {
      // named databases are the keys of the root database, which holds nothing else here
      const names = [...this.env.getKeys()].filter((k): k is string => typeof k === 'string' && RETIRED_DBS.includes(k));
      for (const name of names) {
        const db = this.env.openDB<unknown, string>(name, { encoding: 'binary' });
        if (db.getKeysCount() === 0) continue;
        db.dropSync();
        this.log.info({ db: name }, 'backend: emptied a metadata database of an earlier version');
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'backend: could not empty retired metadata databases');
    }
  }

  /**
   * What is known of an article: its header entry (with lazy envelope and, if
   * known, exact size) and exact size, from memory or one disk read
   * (`wantSize` false: a header in memory will do, its size need not be looked up).
   */
  lookup(key: string, wantSize = true): { entry: HeaderEntry | undefined; size: number | undefined } {
    const hit = this.mem.get(key) as LazyEntry | undefined;
    if (hit !== undefined && (hit.size !== undefined || !wantSize)) return { entry: hit, size: hit.size };
    const r = this.record(key);
    if (r !== undefined) this.note(key, r.size, r.header !== undefined);
    if (hit !== undefined) {
      if (r?.size !== undefined) hit.size = r.size;
      return { entry: hit, size: hit.size };
    }
    if (r?.header === undefined) return { entry: undefined, size: r?.size };
    const entry = new LazyEntry(r.header, r.size);
    this.mem.set(key, entry, costOf(entry.header));
    return { entry, size: r.size };
  }

  /** Header (and lazy envelope) from memory or disk, or undefined when never fetched. */
  header(key: string): HeaderEntry | undefined {
    return this.mem.get(key) ?? this.lookup(key).entry;
  }

  exactSize(key: string): number | undefined {
    return (this.mem.peek(key) as LazyEntry | undefined)?.size ?? this.record(key)?.size;
  }

  /** The header entry if it is in memory (no disk read). */
  headerInMemory(key: string): HeaderEntry | undefined {
    return this.mem.peek(key);
  }

  /** Stores a header fetched upstream (and the exact size, when known); returns it with a lazy envelope. */
  putHeader(key: string, header: Buffer, size?: number): HeaderEntry {
    const known = size ?? (this.mem.peek(key) as LazyEntry | undefined)?.size ?? this.pending.get(key)?.size;
    const entry = new LazyEntry(header, known);
    this.mem.set(key, entry, costOf(header));
    this.store(key, { size: known, header });
    this.note(key, known, true);
    return entry;
  }

  putExactSize(key: string, size: number): void {
    const inMem = this.mem.peek(key) as LazyEntry | undefined;
    if (inMem !== undefined) inMem.size = size;
    const header = inMem !== undefined ? inMem.header : this.record(key)?.header;
    this.store(key, { size, header });
    this.note(key, size, header !== undefined);
  }

  /**
   * The compact facts of one group on one source (`articlePrefix`): exact
   * sizes and which headers are stored, for a run of lookups (a listing batch).
   */
  factsOf(prefix: string): GroupFacts {
    return this.facts.of(prefix);
  }

  private note(key: string, size: number | undefined, header: boolean): void {
    if (this.closed) return;
    const i = key.lastIndexOf('\u0000');
    this.facts.note(key.slice(0, i), Number(key.slice(i + 1)), size, header);
  }

  private scheduleWrite(): void {
    this.writeTimer ??= setTimeout(() => this.writeQueued(), META_WRITE_DELAY_MS).unref();
  }

  /** The stored record: pending writes first (lmdb-js commits in the background). */
  private record(key: string): ArticleRecord | undefined {
    if (this.closed) return undefined;
    const p = this.pending.get(key);
    if (p !== undefined || this.storedSince?.ruledOut(key) === true) return p;
    return decodeRecord(this.articles.get(key));
  }

  /** Queues an article record (see META_WRITE_BATCH); reads see it in `pending` at once. */
  private store(key: string, r: ArticleRecord): void {
    if (this.closed) return;
    this.storedSince?.mark(key);
    this.pending.set(key, r);
    this.queuedKeys.push(key);
    this.queuedRecords.push(r);
    if (this.queuedKeys.length >= META_WRITE_BATCH) this.writeQueued();
    else this.scheduleWrite();
  }

  /** Writes the queued article records, then the facts about them, in one event turn: one lmdb-js transaction. */
  private writeQueued(): void {
    if (this.writeTimer !== undefined) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    if (this.closed) return;
    this.writeRecords();
    this.structures.writeQueued();
    this.facts.writeDirty();
  }

  private writeRecords(): void {
    const keys = this.queuedKeys;
    const records = this.queuedRecords;
    if (keys.length === 0) return;
    this.queuedKeys = [];
    this.queuedRecords = [];
    // lmdb-js answers every write of one transaction with the same promise:
    // one handler per distinct promise clears the pending records it covers
    let p: Promise<unknown> | undefined;
    let from = 0;
    const settle = (lo: number, hi: number) => (): void => {
      for (let i = lo; i < hi; i++) if (this.pending.get(keys[i]!) === records[i]) this.pending.delete(keys[i]!);
    };
    for (let i = 0; i < keys.length; i++) {
      const r = records[i]!;
      const q = this.articles.put(keys[i]!, encodeRecord(r.size, r.header));
      if (p !== undefined && q !== p) {
        this.write(p, 'article', settle(from, i));
        from = i;
      }
      p = q;
    }
    this.write(p!, 'article', settle(from, keys.length));
  }

  /** Records the groups of a crossposted article (idempotent). */
  putCrossposts(messageId: string, groups: string[]): void {
    if (this.closed) return;
    for (const g of groups) this.markXpostGroup(g);
    const known = this.crossposts(messageId);
    if (known && known.length === groups.length && known.every((g, i) => g === groups[i])) return;
    this.pendingXposts.set(messageId, groups);
    this.write(this.xposts.put(messageId, groups), 'crossposts', () => {
      if (this.pendingXposts.get(messageId) === groups) this.pendingXposts.delete(messageId);
    });
  }

  crossposts(messageId: string): string[] | undefined {
    if (this.closed) return undefined;
    return this.pendingXposts.get(messageId) ?? this.xposts.get(messageId);
  }

  /** The stored structure of an article; undefined when none is stored or it cannot be read (it is parsed again then). */
  structure(key: string): MimePart | undefined {
    if (this.closed) return undefined;
    return this.structures.get(key);
  }

  /** True when `structure(key)` would answer (the stored value is not decoded). */
  hasStructure(key: string): boolean {
    if (this.closed) return false;
    return this.structures.has(key);
  }

  /** Stores `part` (see stored-structures.ts): readable at once, written with the next batch of records. */
  putStructure(key: string, part: MimePart): void {
    if (this.closed) return;
    this.structures.put(key, part);
    if (this.structures.queued >= META_WRITE_BATCH) this.writeQueued();
    else this.scheduleWrite();
  }

  /** The saved table of a group's view (key: see `viewKey`), if any and readable. */
  loadView(key: string): SavedView | undefined {
    if (this.closed) return undefined;
    try {
      const v = this.views.get(key);
      return v !== undefined ? decodeViewBytes(v) : decodeView(this.oldViews.get(key));
    } catch {
      return undefined;
    }
  }

  /** Saves a view's table; resolves when committed (errors are logged, never thrown). */
  async saveView(key: string, v: SavedView): Promise<void> {
    if (this.closed) return;
    const saved = this.views.put(key, encodeViewBytes(v));
    if (this.oldViews.doesExist(key)) void this.oldViews.remove(key).catch(() => undefined);
    await saved.catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'backend: saving a view failed');
    });
  }

  /** Drops what is known about an article (it changed or vanished upstream). */
  forget(key: string): void {
    this.writeQueued(); // a queued record of `key` must not land after its removal
    this.mem.delete(key);
    this.pending.delete(key);
    if (this.closed) return;
    this.note(key, undefined, false);
    this.facts.writeDirty(); // in the removals' transaction: no saved fact outlives its record
    this.write(this.articles.remove(key), 'article');
    this.structures.forget(key);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.writeQueued();
    this.closed = true;
    this.facts.clear();
    this.mem.clear();
    this.pending.clear();
    this.structures.clear();
    await this.env.close();
  }

  private write(p: Promise<unknown>, what: string, settled?: () => void): void {
    p.catch((err: unknown) => this.log.warn({ err: (err as Error).message, what }, 'backend: metadata cache write failed')).finally(settled);
  }
}
