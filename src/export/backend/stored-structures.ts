/**
 * The MIME structures of the metadata store (meta-store.ts): one LMDB
 * database, `structures`, article key → the structure in structure-codec.ts's
 * binary form, or in the msgpack form of earlier versions (still read, and
 * still written for a tree the binary form cannot hold), told apart by the
 * first byte.
 *
 * A `put` is visible to `get` at once (held in memory) and queued; the owner
 * hands the queue to lmdb-js with its other queued writes in one event turn
 * (`writeQueued`: one transaction, one wake-up of lmdb-js's writer thread per
 * batch instead of one per structure, which cost more than the rest of a put
 * in a BODYSTRUCTURE listing computed from cached articles). A structure stays
 * in memory until its transaction committed.
 *
 * Errors: a value that cannot be read is answered as missing (parsed again);
 * write failures go to the owner's `report`.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { MimePart } from '../../mime/index.js';
import { decodeStructure, encodeStructure, STRUCTURE_MAGIC } from './structure-codec.js';

export class StoredStructures {
  /** The database with lmdb-js's msgpack encoding (values of earlier versions). */
  private readonly packed: Database<MimePart, string>;
  /** The same database, raw. */
  private readonly raw: Database<Buffer, string>;
  private readonly pending = new Map<string, MimePart>();
  private queue: { key: string; part: MimePart }[] = [];

  /** `report`: observes a write's promise (logs its failure), then calls `settled`. */
  constructor(
    env: RootDatabase,
    private readonly report: (p: Promise<unknown>, settled?: () => void) => void,
  ) {
    // msgpack records (lmdb-js's default) would need a record definition per value shape
    this.packed = env.openDB<MimePart, string>('structures', { useRecords: false } as never);
    this.raw = env.openDB<Buffer, string>('structures', { encoding: 'binary' });
  }

  /** Structures queued and not handed to lmdb-js yet. */
  get queued(): number {
    return this.queue.length;
  }

  get(key: string): MimePart | undefined {
    const pending = this.pending.get(key);
    if (pending !== undefined) return pending;
    const raw = this.raw.getBinaryFast(key); // valid until the next read: decoded (copied) at once
    if (raw === undefined) return undefined;
    try {
      return raw[0] === STRUCTURE_MAGIC ? decodeStructure(raw) : this.packed.get(key);
    } catch {
      return undefined;
    }
  }

  /** True when `get` would answer (nothing decoded). */
  has(key: string): boolean {
    return this.pending.has(key) || this.raw.doesExist(key);
  }

  /** Queues `part` (not to be modified afterwards); the owner calls `writeQueued` soon. */
  put(key: string, part: MimePart): void {
    this.pending.set(key, part);
    this.queue.push({ key, part });
  }

  /** Hands the queued structures to lmdb-js (call in the event turn of the owner's other writes). */
  writeQueued(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    // lmdb-js answers every write of one transaction with the same promise: one handler per distinct promise
    let p: Promise<unknown> | undefined;
    let from = 0;
    const settle = (lo: number, hi: number) => (): void => {
      for (let i = lo; i < hi; i++) {
        const { key, part } = queue[i]!;
        if (this.pending.get(key) === part) this.pending.delete(key);
      }
    };
    for (let i = 0; i < queue.length; i++) {
      const { key, part } = queue[i]!;
      if (this.pending.get(key) !== part) continue; // forgotten or replaced meanwhile
      const bytes = encodeStructure(part);
      const q = bytes !== null ? this.raw.put(key, bytes) : this.packed.put(key, part);
      if (p !== undefined && q !== p) {
        this.report(p, settle(from, i));
        from = i;
      }
      p = q;
    }
    if (p !== undefined) this.report(p, settle(from, queue.length));
  }

  /** Removes `key`'s structure (queued or stored). */
  forget(key: string): void {
    this.pending.delete(key);
    this.report(this.raw.remove(key));
  }

  /** Drops what is held in memory (the store is closing, after `writeQueued`). */
  clear(): void {
    this.pending.clear();
    this.queue = [];
  }
}
