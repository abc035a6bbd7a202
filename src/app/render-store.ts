/**
 * The IMAP render cache's store on disk (`RenderStore`, src/imap/render/
 * page-cache.ts): packed pages of rendered ENVELOPEs and BODY/BODYSTRUCTUREs
 * in an LMDB environment `<cache dir>/render.lmdb` (one database; the keys
 * start with the kind and format), so a group larger than the memory bound is
 * rendered once, not on every listing, and a restart renders nothing
 * again. Reads are LMDB map reads (file-backed pages: the page cache, not the
 * process' anonymous memory); the one copy a read makes is what the memory
 * cache keeps.
 *
 * A cache like the metadata one (export/backend/meta-store.ts): `noSync`
 * (an OS crash may lose its last writes, which are then rendered again),
 * writes fire-and-forget in lmdb-js's batched transactions, a value written
 * but not committed yet is answered from `pending`.
 *
 * Bounded by `maxBytes` (config `cache.renderStoreBytes`), counted as the
 * bytes of the pages stored: one page per 1,024 articles of a mailbox and form
 * (~250 KB), ~250 MB for a 1M-article group. Pages are dropped a shelf at a
 * time (all pages of one mailbox, UIDVALIDITY and form: the part of a key
 * before its last NUL), least recently used shelf first, never the shelf just
 * written (so one shelf bigger than the bound stays whole). Shelves of an old
 * UIDVALIDITY or page format are never used again, so they go first. Each
 * shelf's bytes and last use are kept in a second database (`shelves`); a
 * store written before it existed is counted once at open (its pages' lengths
 * read). The counts are this process' view: two processes sharing a cache
 * directory each keep theirs. The owner calls `close()`.
 */
import { mkdirSync } from 'node:fs';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from '../util/log.js';
import { readSlot, type RenderStore } from '../imap/render/cache.js';

/** A shelf's last use is written back at most this often while it is only read (always at a write and at close). */
const USED_SAVE_MS = 60_000;

interface ShelfRecord {
  /** Bytes of its pages in the store. */
  bytes: number;
  /** Last read or write, ms since the epoch. */
  used: number;
}

/** The shelf of a page key: everything before its last NUL (envelope-cache.ts `storeKey`). */
const shelfOf = (key: string): string => key.slice(0, Math.max(0, key.lastIndexOf('\u0000')));

export class LmdbRenderStore implements RenderStore {
  private readonly env: RootDatabase;
  private readonly pages: Database<Buffer, string>;
  private readonly records: Database<ShelfRecord, string>;
  private readonly pending = new Map<string, Buffer>();
  /** Shelves whose pages are being removed (not committed yet), with the removals in flight: their old pages are not answered. */
  private readonly removing = new Map<string, number>();
  /** Every shelf in the store, with when its last use was written back. */
  private readonly shelves = new Map<string, ShelfRecord & { saved: number }>();
  private total = 0;
  private closed = false;
  /** Pages dropped to stay under the bound (stats). */
  dropped = 0;

  constructor(
    dir: string,
    private readonly log: Logger,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    mkdirSync(dir, { recursive: true });
    this.env = openLmdb({ path: `${dir}/render.lmdb`, compression: false, noSync: true, maxDbs: 2 });
    this.pages = this.env.openDB<Buffer, string>('envelopes', { encoding: 'binary' });
    this.records = this.env.openDB<ShelfRecord, string>('shelves', { encoding: 'json' });
    this.loadShelves();
  }

  /** Bytes of the pages stored (as counted here). */
  get bytes(): number {
    return this.total;
  }

  get(key: string): Buffer | undefined {
    if (this.closed) return undefined;
    try {
      const v = this.pending.get(key) ?? (this.removing.size > 0 && this.removing.has(shelfOf(key)) ? undefined : this.pages.get(key));
      if (v !== undefined) this.used(shelfOf(key), 0, false);
      return v;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'render store: read failed');
      return undefined;
    }
  }

  /**
   * One rendering of a stored page: the page is read into lmdb-js's shared
   * buffer (`getBinaryFast`: no buffer of its own, ~250 KB less to allocate
   * and free per call) and only the slot's bytes are copied out.
   */
  getOne(key: string, slot: number): Buffer | undefined {
    if (this.closed) return undefined;
    try {
      const pending = this.pending.get(key);
      if (pending === undefined && this.removing.size > 0 && this.removing.has(shelfOf(key))) return undefined;
      const page = pending ?? this.pages.getBinaryFast(key);
      const one = page === undefined ? undefined : readSlot(page, slot);
      if (one === undefined) return undefined;
      this.used(shelfOf(key), 0, false);
      return Buffer.from(one); // a copy: the shared buffer is overwritten by the next read
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'render store: read failed');
      return undefined;
    }
  }

  /** The page in lmdb-js's shared buffer (`getBinaryFast`), valid until the next read: for a reader that copies it at once. */
  view(key: string): Uint8Array | undefined {
    if (this.closed) return undefined;
    try {
      const pending = this.pending.get(key);
      if (pending === undefined && this.removing.size > 0 && this.removing.has(shelfOf(key))) return undefined;
      const v = pending ?? this.pages.getBinaryFast(key);
      if (v === undefined) return undefined;
      this.used(shelfOf(key), 0, false);
      return v.subarray(0, v.length); // `length` is the value's, not the shared buffer's
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'render store: read failed');
      return undefined;
    }
  }

  put(key: string, value: Buffer): void {
    if (this.closed) return;
    const shelf = shelfOf(key);
    let old = 0;
    try {
      old = this.pending.get(key)?.length ?? (this.removing.has(shelf) ? undefined : this.pages.get(key)?.length) ?? 0;
    } catch {
      // counted as new: the bound errs on the safe side
    }
    this.pending.set(key, value);
    this.pages
      .put(key, value)
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'render store: write failed'))
      .finally(() => {
        if (this.pending.get(key) === value) this.pending.delete(key);
      });
    this.used(shelf, value.length - old, true);
    if (this.total > this.maxBytes) this.prune(shelf);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const writes: Promise<unknown>[] = [];
    for (const [shelf, r] of this.shelves) if (r.saved < r.used) writes.push(this.records.put(shelf, { bytes: r.bytes, used: r.used }).catch(() => undefined));
    await Promise.all(writes);
    this.closed = true;
    this.pending.clear();
    await this.env.close();
  }

  /** Counts a use of `shelf` (and `delta` bytes more in it); writes its record back at a write, or once a while. */
  private used(shelf: string, delta: number, write: boolean): void {
    const now = Date.now();
    let r = this.shelves.get(shelf);
    if (r === undefined) this.shelves.set(shelf, (r = { bytes: 0, used: now, saved: 0 }));
    r.bytes += delta;
    this.total += delta;
    r.used = now;
    if (write || now - r.saved >= USED_SAVE_MS) {
      r.saved = now;
      this.records.put(shelf, { bytes: r.bytes, used: r.used }).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'render store: write failed'));
    }
  }

  /** Drops least recently used shelves other than `keep` until the store is within its bound. */
  private prune(keep: string): void {
    const order = [...this.shelves].filter(([s]) => s !== keep).sort((a, b) => a[1].used - b[1].used);
    for (const [shelf, r] of order) {
      if (this.total <= this.maxBytes) break;
      let pages = 0;
      try {
        // page keys of a shelf sort between `shelf NUL` and `shelf \u0001`
        // committed pages, and pages still being written (their removal is queued after the write)
        const keys = new Set(this.pages.getKeys({ start: `${shelf}\u0000`, end: `${shelf}\u0001` }));
        for (const key of this.pending.keys()) if (shelfOf(key) === shelf) keys.add(key);
        this.removing.set(shelf, (this.removing.get(shelf) ?? 0) + 1);
        const removed = [...keys].map((key) => this.pages.remove(key).catch(() => undefined));
        void Promise.all(removed).finally(() => {
          const n = this.removing.get(shelf)! - 1;
          if (n === 0) this.removing.delete(shelf);
          else this.removing.set(shelf, n);
        });
        pages = keys.size;
        for (const key of keys) this.pending.delete(key);
        void this.records.remove(shelf).catch(() => undefined);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'render store: dropping a shelf failed');
        return;
      }
      this.shelves.delete(shelf);
      this.total -= r.bytes;
      this.dropped += pages;
      this.log.info({ shelf: shelf.split('\u0000').slice(1, 3).join(' '), pages, bytes: r.bytes, total: this.total }, 'render store: shelf dropped (bound reached)');
    }
  }

  /** Reads every shelf's record; counts the pages of a store written before records existed. */
  private loadShelves(): void {
    for (const { key, value } of this.records.getRange({})) {
      if (typeof value?.bytes !== 'number' || typeof value.used !== 'number') continue;
      this.shelves.set(key, { bytes: value.bytes, used: value.used, saved: value.used });
      this.total += value.bytes;
    }
    if (this.shelves.size > 0) return;
    const found = new Map<string, number>();
    for (const key of this.pages.getKeys({})) {
      const shelf = shelfOf(key);
      found.set(shelf, (found.get(shelf) ?? 0) + (this.pages.get(key)?.length ?? 0));
    }
    for (const [shelf, bytes] of found) {
      // never used since records began: the first to go
      this.shelves.set(shelf, { bytes, used: 0, saved: 0 });
      this.total += bytes;
      this.records.put(shelf, { bytes, used: 0 }).catch(() => undefined);
    }
  }
}
