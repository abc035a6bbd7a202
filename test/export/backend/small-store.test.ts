/**
 * The small-article store on its own: writes seen at once and after a
 * reopen, damaged values never served, half records dropped at open, an
 * unreadable environment replaced by an empty one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { SmallStore } from '../../../src/export/backend/small-store.js';
import { STORE_FRAME_BYTES, STORE_WRITE_BATCH_BYTES, STORE_WRITE_DELAY_MS } from '../../../src/export/backend/limits.js';
import { silentLogger } from '../../../src/util/log.js';

let dirs: string[] = [];
let stores: SmallStore[] = [];
afterEach(async () => {
  for (const s of stores) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  stores = [];
  dirs = [];
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nf-small-'));
  dirs.push(d);
  return d;
}

function open(dir: string): ReturnType<typeof SmallStore.open> {
  const r = SmallStore.open(dir, silentLogger());
  stores.push(r.store);
  return r;
}

const pause = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
const bytes = (n: number, size = 3000): Buffer => Buffer.alloc(size, `article ${n} `);

/** Writes raw records into the store's databases, as damage or a cut write would leave them. */
async function writeRaw(dir: string, records: { db: 'bytes' | 'order'; key: string; value: Buffer }[]): Promise<void> {
  const env = openLmdb({ path: join(dir, 'small.lmdb'), maxDbs: 2, compression: false });
  for (const r of records) await env.openDB<Buffer, string>(r.db, { encoding: 'binary' }).put(r.key, r.value);
  await env.close();
}

/** Flips one bit of the stored value of `key` at `offset` (same length: only the checksum can tell); the damaged value. */
async function damage(dir: string, key: string, offset: number): Promise<Buffer> {
  const env = openLmdb({ path: join(dir, 'small.lmdb'), maxDbs: 2, compression: false });
  const value = env.openDB<Buffer, string>('bytes', { encoding: 'binary' }).getBinary(key)!;
  await env.close();
  value[offset] = value[offset]! ^ 1;
  await writeRaw(dir, [{ db: 'bytes', key, value }]);
  return value;
}

describe('SmallStore', () => {
  it('writes once clients are quiet (untilQuiet), serving the puts from memory meanwhile; a full batch is written at once', async () => {
    const dir = tempDir();
    let busy = true;
    const { store } = SmallStore.open(dir, silentLogger(), () => (busy ? 10 : 0));
    stores.push(store);
    // what is committed, through a handle of our own (same environment)
    const env = openLmdb({ path: join(dir, 'small.lmdb'), maxDbs: 2, compression: false });
    const committed = (key: string): boolean => env.openDB<Buffer, string>('bytes', { encoding: 'binary' }).getBinary(key) !== undefined;
    const settle = async (ms: number): Promise<void> => {
      await pause(ms);
      await env.transaction(() => undefined); // after any write already handed to lmdb-js
    };
    try {
      store.put('a', bytes(1));
      await settle(STORE_WRITE_DELAY_MS * 6);
      expect(committed('a')).toBe(false);
      expect(store.get('a', false)).toEqual(bytes(1));
      busy = false;
      await settle(STORE_WRITE_DELAY_MS * 4);
      expect(committed('a')).toBe(true);
      // busy again: a batch's worth of puts is written without waiting
      busy = true;
      const size = Math.ceil(STORE_WRITE_BATCH_BYTES / 3);
      for (let i = 0; i < 3; i++) store.put(`big${i}`, bytes(i, size));
      await settle(0);
      expect([0, 1, 2].map((i) => committed(`big${i}`))).toEqual([true, true, true]);
    } finally {
      await env.close();
    }
    await store.settled();
    const again = SmallStore.open(dir, silentLogger());
    stores.push(again.store);
    expect(again.entries.map((e) => e.hash).sort()).toEqual(['a', 'big0', 'big1', 'big2']);
  });

  it('serves a put at once, and after a reopen lists its entries oldest first', async () => {
    const dir = tempDir();
    const { store, entries } = open(dir);
    expect(entries).toEqual([]);
    store.put('aa', bytes(1));
    expect(store.get('aa')).toEqual(bytes(1)); // before lmdb-js committed it
    await pause(STORE_WRITE_DELAY_MS * 3);
    store.put('bb', bytes(2, 100));
    store.put('cc', bytes(3, 70_000));
    store.drop('bb'); // dropped before it was written: never written
    await store.close();
    stores = [];
    const again = open(dir);
    expect(again.entries.map((e) => [e.hash, e.size])).toEqual([
      ['aa', 3000],
      ['cc', 70_000],
    ]);
    expect(again.store.get('aa')).toEqual(bytes(1));
    expect(again.store.get('bb')).toBeUndefined();
    expect(again.store.get('cc')).toEqual(bytes(3, 70_000));
  });

  it('never serves a damaged value, and forgets it', async () => {
    const dir = tempDir();
    const { store } = open(dir);
    store.put('good', bytes(1));
    store.put('bad', bytes(2));
    await store.close();
    stores = [];
    // the same length, one byte of the article changed: only the checksum can tell
    await damage(dir, 'bad', 100);
    const again = open(dir);
    expect(again.entries.map((e) => e.hash).sort()).toEqual(['bad', 'good']);
    expect(again.store.get('bad')).toBeUndefined();
    expect(again.store.get('good')).toEqual(bytes(1));
    await pause(STORE_WRITE_DELAY_MS * 3);
    await again.store.close();
    stores = [];
    expect(open(dir).entries.map((e) => e.hash)).toEqual(['good']);
  });

  it('framed puts store the same bytes as plain ones, in the room before the article; damage still refused', async () => {
    const dir = tempDir();
    const { store } = open(dir);
    const framedOf = (b: Buffer): Buffer => {
      const frame = Buffer.alloc(STORE_FRAME_BYTES + b.length, 0xee); // the room holds junk before the put
      b.copy(frame, STORE_FRAME_BYTES);
      return frame.subarray(STORE_FRAME_BYTES);
    };
    store.put('plain', bytes(1));
    store.put('framed', framedOf(bytes(1)), true);
    store.put('bad', framedOf(bytes(2)), true);
    const atStart = bytes(3);
    store.put('nofree', atStart, true); // no room before it in its buffer: copied, as a plain put
    await store.close();
    stores = [];
    const env = openLmdb({ path: join(dir, 'small.lmdb'), maxDbs: 2, compression: false });
    const db = env.openDB<Buffer, string>('bytes', { encoding: 'binary' });
    const [plain, framed, nofree] = [db.getBinary('plain')!, db.getBinary('framed')!, db.getBinary('nofree')!];
    await env.close();
    expect(framed).toEqual(plain); // CRC + article, byte for byte
    expect(nofree.subarray(STORE_FRAME_BYTES)).toEqual(bytes(3));
    await damage(dir, 'bad', 100);
    const again = open(dir);
    expect(again.store.get('framed')).toEqual(bytes(1));
    expect(again.store.get('nofree')).toEqual(bytes(3));
    expect(again.store.get('bad')).toBeUndefined();
  });

  it('skips the checksum only when the caller had it checked before ("checked")', async () => {
    const dir = tempDir();
    const { store } = open(dir);
    store.put('bad', bytes(2));
    await store.close();
    stores = [];
    const value = await damage(dir, 'bad', 200);
    const again = open(dir).store;
    const asStored = again.get('bad', true);
    expect(asStored).toEqual(value.subarray(4)); // the damaged bytes, as the caller asked
    expect(again.get('bad')).toBeUndefined(); // checked: refused
  });

  it('hands out copies: an article stays intact through later reads, and writing to it changes nothing stored', async () => {
    const dir = tempDir();
    const { store } = open(dir);
    for (let n = 0; n < 40; n++) store.put(`k${n}`, bytes(n, 1000 + n * 37));
    await store.close();
    stores = [];
    const again = open(dir).store;
    const got = Array.from({ length: 40 }, (_, n) => again.get(`k${n}`)!);
    got.forEach((b, n) => expect(b).toEqual(bytes(n, 1000 + n * 37)));
    got[3]!.fill(0);
    expect(again.get('k3')).toEqual(bytes(3, 1000 + 3 * 37));
    expect(got[4]).toEqual(bytes(4, 1000 + 4 * 37)); // a neighbour in the same slab is untouched
  });

  it('lend: a view of the stored bytes (or of a pending put) during the call only; a damaged value refused as by get', async () => {
    const dir = tempDir();
    const { store } = open(dir);
    const seen: Buffer[] = [];
    const keep = (b: Buffer): void => void seen.push(Buffer.from(b));
    store.put('p', bytes(7, 500));
    expect(store.lend('p', false, 10, 20, keep)).toBe(true); // before lmdb-js committed it
    store.put('good', bytes(1));
    store.put('bad', bytes(2));
    await store.close();
    stores = [];
    await damage(dir, 'bad', 100);
    const again = open(dir).store;
    expect(again.lend('good', false, 0, Infinity, keep)).toBe(true);
    expect(again.lend('good', true, 2990, 5000, keep)).toBe(true); // clipped to the article
    expect(again.lend('nothing', false, 0, Infinity, keep)).toBe(false);
    expect(again.lend('bad', false, 0, Infinity, keep)).toBe(false); // damaged: not lent, and dropped
    await again.settled();
    expect(again.lend('bad', true, 0, Infinity, keep)).toBe(false); // gone
    expect(seen).toEqual([bytes(7, 500).subarray(10, 20), bytes(1), bytes(1).subarray(2990)]);
    // the view is lmdb-js's read buffer: the next read reuses its memory (what the contract warns of)
    let view: Buffer | undefined;
    again.put('other', bytes(3));
    await again.settled();
    again.lend('good', true, 0, Infinity, (b) => (view = b));
    again.lend('other', true, 0, Infinity, () => undefined);
    expect(view!.equals(bytes(1))).toBe(false);
  });

  it('drops half records at open: an order record without bytes, bytes without an order record', async () => {
    const dir = tempDir();
    const { store } = open(dir);
    store.put('whole', bytes(1));
    await store.close();
    stores = [];
    const order = Buffer.alloc(12);
    order.writeUInt32LE(10, 0);
    order.writeDoubleLE(Date.now(), 4);
    await writeRaw(dir, [
      { db: 'order', key: 'no-bytes', value: order },
      { db: 'bytes', key: 'no-order', value: Buffer.alloc(20) },
      { db: 'order', key: 'bad-order', value: Buffer.alloc(3) },
    ]);
    const first = open(dir);
    // an order record without bytes is listed, but its get finds nothing (the cache then drops it)
    expect(first.entries.map((e) => e.hash).sort()).toEqual(['no-bytes', 'whole']);
    expect(first.store.get('no-bytes')).toBeUndefined();
    expect(first.store.get('no-order')).toBeUndefined();
    await pause(STORE_WRITE_DELAY_MS * 3);
    await first.store.close();
    stores = [];
    const env = openLmdb({ path: join(dir, 'small.lmdb'), maxDbs: 2, compression: false });
    expect([...env.openDB<Buffer, string>('bytes', { encoding: 'binary' }).getKeys()]).toEqual(['whole']);
    await env.close();
  });

  it('replaces a file that is no LMDB environment by an empty one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'small.lmdb'), Buffer.alloc(64 * 1024, 0x5a));
    const { store, entries } = open(dir);
    expect(entries).toEqual([]);
    store.put('x', bytes(1));
    expect(store.get('x')).toEqual(bytes(1));
  });
});
