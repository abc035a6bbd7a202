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
 * but not committed yet is answered from `pending`. Pages are never removed:
 * one per 1,024 articles of a mailbox and form (~250 KB); a mailbox whose
 * UIDVALIDITY changed leaves its old pages unread. The owner calls `close()`.
 */
import { mkdirSync } from 'node:fs';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from '../util/log.js';
import type { RenderStore } from '../imap/render/cache.js';

export class LmdbRenderStore implements RenderStore {
  private readonly env: RootDatabase;
  private readonly pages: Database<Buffer, string>;
  private readonly pending = new Map<string, Buffer>();
  private closed = false;

  constructor(dir: string, private readonly log: Logger) {
    mkdirSync(dir, { recursive: true });
    this.env = openLmdb({ path: `${dir}/render.lmdb`, compression: false, noSync: true, maxDbs: 2 });
    this.pages = this.env.openDB<Buffer, string>('envelopes', { encoding: 'binary' });
  }

  get(key: string): Buffer | undefined {
    if (this.closed) return undefined;
    try {
      return this.pending.get(key) ?? this.pages.get(key);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'render store: read failed');
      return undefined;
    }
  }

  put(key: string, value: Buffer): void {
    if (this.closed) return;
    this.pending.set(key, value);
    this.pages
      .put(key, value)
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'render store: write failed'))
      .finally(() => {
        if (this.pending.get(key) === value) this.pending.delete(key);
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    await this.env.close();
  }
}
