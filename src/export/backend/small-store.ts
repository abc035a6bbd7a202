/**
 * Small cached articles (up to SMALL_ARTICLE_BYTES) as values of one LMDB
 * environment, `<dir>/small.lmdb`, instead of a file each: a read is one
 * synchronous lookup in a memory map (no open/read/close on the thread
 * pool), a write joins lmdb-js's one transaction per event turn, and the
 * mapped pages are the page cache's, not the process's anonymous memory.
 *
 * Two databases, written together in one event turn (one transaction):
 * - `bytes`: hash → CRC-32 (4 bytes, LE) + the article. The CRC is checked on
 *   a read unless the caller says it was checked before in this process
 *   (`get`), so bytes damaged on disk are not served (at least not once the
 *   process restarted).
 * - `order`: hash → size (u32 LE) + time of writing (f64 LE ms), so `open`
 *   lists the entries in recency order with their sizes without reading articles.
 *
 * A `put` is visible to `get` at once: it is held in memory, queued for up to
 * STORE_WRITE_DELAY_MS or STORE_WRITE_BATCH_BYTES and written with the others
 * in one event turn (one transaction: lmdb-js starts one per event turn that
 * writes, a measurable main-thread cost per article otherwise), then dropped
 * from memory once committed.
 *
 * Durability: commits are flushed to disk (lmdb-js's default, in the
 * background: `overlappingSync`), not `noSync` as the metadata cache: a
 * killed process or an OS crash loses at most the last transactions, and the
 * environment stays readable (with `noSync` an OS crash can leave it damaged,
 * and lmdb-js reading a damaged environment can end the process). A file that
 * is not an LMDB environment at all (no magic number), or that LMDB reports
 * damaged, is deleted and created afresh: it is a cache. Other errors (no
 * permission, …) are thrown: the owner cannot start.
 *
 * Errors: `get` returns undefined for anything missing or damaged; write
 * failures are logged (they cost a refetch). The owner calls `close()`.
 */
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from '../../util/log.js';
import { Slab } from '../../util/slab.js';
import { STORE_FRAME_BYTES, STORE_WRITE_BATCH_BYTES, STORE_WRITE_DELAY_MS } from './limits.js';

const CRC_BYTES = STORE_FRAME_BYTES;
const ORDER_BYTES = 12;

export interface StoredEntry {
  hash: string;
  size: number;
  /** When it was written (ms since the epoch). */
  at: number;
}

export class SmallStore {
  private readonly env: RootDatabase;
  private readonly bytesDb: Database<Buffer, string>;
  private readonly orderDb: Database<Buffer, string>;
  /** Puts lmdb-js has not committed yet (reads see them at once). */
  private readonly pending = new Map<string, Buffer>();
  /** Puts not handed to lmdb-js yet, in order. */
  private queue: { hash: string; bytes: Buffer; framed: boolean }[] = [];
  private queuedBytes = 0;
  /** Where `get` copies articles to. */
  private readonly copies = new Slab();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    path: string,
    private readonly log: Logger,
    /** Milliseconds until clients are quiet (0: now): writes wait for it (see `put`). */
    private readonly untilQuiet: () => number = () => 0,
  ) {
    this.env = openLmdb({ path, maxDbs: 2, compression: false });
    this.bytesDb = this.env.openDB<Buffer, string>('bytes', { encoding: 'binary' });
    this.orderDb = this.env.openDB<Buffer, string>('order', { encoding: 'binary' });
  }

  /**
   * Opens (or creates) the store in `dir` and lists what it holds, least
   * recently written first. Damaged entries are dropped; a damaged
   * environment is replaced by an empty one.
   */
  static open(dir: string, log: Logger, untilQuiet?: () => number): { store: SmallStore; entries: StoredEntry[] } {
    const path = join(dir, 'small.lmdb');
    let store: SmallStore | undefined;
    try {
      if (!looksLikeLmdb(path)) throw new Error('not an LMDB environment');
      store = new SmallStore(path, log, untilQuiet);
      return { store, entries: store.scan() };
    } catch (err) {
      // damage only: a permission problem or a full reader table must not wipe a store other processes may share
      if (!DAMAGED.test((err as Error).message)) throw err;
      log.warn({ err: (err as Error).message }, 'backend: small-article store unreadable; starting it afresh');
      store?.closeSync();
      rmSync(path, { force: true });
      rmSync(`${path}-lock`, { force: true });
      store = new SmallStore(path, log, untilQuiet);
      return { store, entries: [] };
    }
  }

  /** Entries in writing order; drops records without their other half (a write cut short). */
  private scan(): StoredEntry[] {
    const found: StoredEntry[] = [];
    const ordered = new Set<string>();
    for (const { key, value } of this.orderDb.getRange()) {
      if (value.length !== ORDER_BYTES) {
        this.drop(key);
        continue;
      }
      found.push({ hash: key, size: value.readUInt32LE(0), at: value.readDoubleLE(4) });
      ordered.add(key);
    }
    for (const key of this.bytesDb.getKeys()) if (!ordered.has(key)) void this.bytesDb.remove(key);
    return found.sort((a, b) => a.at - b.at);
  }

  /**
   * The article stored under `hash`, if present (and intact, unless
   * `checked`): a copy the caller may keep. Read with lmdb-js's
   * `getBinaryFast` (into its shared buffer, valid until the next read); the
   * CRC is computed over that buffer, and the article copied once, into a
   * slab shared with the copies before and after it (util/slab.ts: one
   * ArrayBuffer per 256 KB, not one of Node's 8 KB pools per three articles;
   * measured in a FETCH of 1,000 cached bodies). A caller keeping it for long
   * should copy it again (it pins its slab).
   *
   * `checked`: the caller already had this entry's CRC checked in this
   * process, or wrote it in this process (article-cache.ts remembers which
   * in its index), so it is not
   * computed again — a FETCH of cached bodies spent ~10% of its time on it.
   * Bytes damaged on disk after that first check (and read back after the
   * page cache dropped them) are served until the process restarts.
   */
  get(hash: string, checked = false): Buffer | undefined {
    const p = this.pending.get(hash);
    if (p !== undefined) return p;
    const body = this.stored(hash, checked);
    return body === undefined ? undefined : this.copies.copy(body);
  }

  /**
   * The stored bytes of an entry as a view of lmdb-js's shared read buffer
   * (CRC checked unless `checked`; a damaged one dropped), or undefined.
   * The view is made with `Buffer.from(arrayBuffer, …)`, not a `subarray` of
   * lmdb-js's buffer: that buffer has a `length` of its own (another hidden
   * class than other Buffers), and `subarray`, shared by every Buffer of the
   * process, went polymorphic on it (V8 threw its optimised code away in the
   * middle of a FETCH of cached bodies).
   */
  private stored(hash: string, checked: boolean): Buffer | undefined {
    if (this.closed) return undefined;
    const v = this.bytesDb.getBinaryFast(hash);
    if (v === undefined) return undefined;
    const n = v.length - CRC_BYTES;
    if (n < 0) return undefined;
    const body = Buffer.from(v.buffer, v.byteOffset + CRC_BYTES, n);
    if (!checked && crc32(body) !== (v[0]! | (v[1]! << 8) | (v[2]! << 16) | (v[3]! << 24)) >>> 0) {
      this.log.warn({ hash }, 'backend: damaged article in the small-article store; dropped');
      this.drop(hash);
      return undefined;
    }
    return body;
  }

  /**
   * As `get`, without the copy: calls `use` synchronously with a view of
   * bytes [start, end) of the stored article — lmdb-js's shared read buffer (or a pending put), valid
   * only during the call: the next read of any LMDB database in the process
   * overwrites it, so `use` reads no LMDB and keeps no reference — and
   * returns true; returns false without calling `use` when the entry is
   * missing or damaged (CRC checked unless `checked`, as in `get`; a damaged
   * one is dropped).
   */
  lend(hash: string, checked: boolean, start: number, end: number, use: (bytes: Buffer) => void): boolean {
    const body = this.pending.get(hash) ?? this.stored(hash, checked);
    if (body === undefined) return false;
    use(start <= 0 && end >= body.length ? body : slice(body, start, end));
    return true;
  }

  /**
   * Stores `bytes` (not to be modified afterwards) under `hash`. `framed`:
   * the CRC_BYTES just before `bytes` in its ArrayBuffer are free for the
   * store (fetch.ts leaves them: limits.ts STORE_FRAME_BYTES); the CRC is
   * written there and that frame stored as is, with no copy of the article.
   */
  put(hash: string, bytes: Buffer, framed = false): void {
    if (this.closed) return;
    this.pending.set(hash, bytes);
    this.queue.push({ hash, bytes, framed: framed && bytes.byteOffset >= CRC_BYTES });
    this.queuedBytes += bytes.length;
    if (this.queuedBytes >= STORE_WRITE_BATCH_BYTES) this.flush();
    else this.timer ??= setTimeout(this.flushWhenQuiet, STORE_WRITE_DELAY_MS).unref();
  }

  /** `flush` once clients are quiet (`untilQuiet`); until then the puts stay queued, up to STORE_WRITE_BATCH_BYTES. */
  private readonly flushWhenQuiet = (): void => {
    this.timer = undefined;
    const wait = this.closed ? 0 : this.untilQuiet();
    if (wait > 0) this.timer = setTimeout(this.flushWhenQuiet, wait).unref();
    else this.flush();
  };

  /** Hands the queued puts to lmdb-js in this event turn (one transaction); skips those dropped or replaced meanwhile. */
  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.closed) return;
    const now = Date.now();
    let last: Promise<boolean> | undefined;
    const written: { hash: string; bytes: Buffer }[] = [];
    for (const q of queue) {
      if (this.pending.get(q.hash) !== q.bytes) continue;
      let value: Buffer;
      if (q.framed) value = Buffer.from(q.bytes.buffer, q.bytes.byteOffset - CRC_BYTES, CRC_BYTES + q.bytes.length);
      else {
        value = Buffer.allocUnsafe(CRC_BYTES + q.bytes.length);
        q.bytes.copy(value, CRC_BYTES);
      }
      value.writeUInt32LE(crc32(q.bytes), 0);
      const order = Buffer.allocUnsafe(ORDER_BYTES);
      order.writeUInt32LE(q.bytes.length, 0);
      order.writeDoubleLE(now, 4);
      void this.bytesDb.put(q.hash, value);
      last = this.orderDb.put(q.hash, order);
      written.push(q);
    }
    // one transaction: its last write settles when all of them are committed
    last
      ?.catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'backend: small-article store write failed'))
      .finally(() => {
        for (const q of written) if (this.pending.get(q.hash) === q.bytes) this.pending.delete(q.hash);
      });
  }

  /**
   * Resolves once every put and removal handed over so far is committed and
   * on disk (lmdb-js `flushed`): from then on LMDB can reuse the pages they
   * freed. For an orderly wait (tests, shutdown), not for the request path.
   */
  async settled(): Promise<void> {
    this.flush();
    if (this.closed) return;
    await this.env.transaction(() => undefined); // queued after every async write so far
    await this.env.flushed;
  }

  /** Removes `hash` (eviction). */
  drop(hash: string): void {
    this.pending.delete(hash);
    if (this.closed) return;
    const fail = (err: unknown): void => this.log.warn({ err: (err as Error).message }, 'backend: small-article store removal failed');
    this.bytesDb.remove(hash).catch(fail);
    this.orderDb.remove(hash).catch(fail);
  }

  /** Commits what is pending and closes the environment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.pending.clear();
    await this.env.close();
  }

  private closeSync(): void {
    this.closed = true;
    try {
      void this.env.close();
    } catch {
      // already unusable
    }
  }
}

/**
 * False when `path` exists but does not start with an LMDB meta page (magic
 * 0xBEEFC0DE at byte 24 in lmdb-js's format): lmdb-js would crash on it.
 * A missing or empty file is fine (a new environment).
 */
function looksLikeLmdb(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return true;
  }
  try {
    const head = Buffer.alloc(28);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === 0 || (n === head.length && head.readUInt32LE(24) === LMDB_MAGIC);
  } finally {
    closeSync(fd);
  }
}
const LMDB_MAGIC = 0xbeefc0de;

/** Bytes [start, end) of `b` (itself when that is all of it), clipped to its length. */
const slice = (b: Buffer, start: number, end: number): Buffer => (start <= 0 && end >= b.length ? b : b.subarray(Math.min(start, b.length), Math.min(end, b.length)));
/** Errors that mean the environment's file is damaged (LMDB's MDB_CORRUPTED, MDB_INVALID, …), not unusable for another reason. */
const DAMAGED = /not an LMDB environment|MDB_CORRUPTED|MDB_INVALID|MDB_PAGE_NOTFOUND|MDB_VERSION_MISMATCH|MDB_BAD_TXN|corrupt|invalid/i;

/** CRC-32 (zlib.crc32 where Node has it: 20.15 and later; a table otherwise). */
const crc32: (b: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (b) => zlib.crc32(b) : tableCrc32;

let table: Int32Array | undefined;
function tableCrc32(b: Uint8Array): number {
  if (table === undefined) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
