/**
 * Open file handles of cached long articles, kept for the next read: a client
 * reading an attachment in pieces (`BODY.PEEK[2]<0.65536>`, then the next
 * 64 KB, …) costs one positional read per piece, not an open, a read and a
 * close on the thread pool.
 *
 * At most `max` handles stay open when unused (least recently used closed
 * first); a handle in use is closed only once its last user releases it. A
 * handle keeps reading the file it opened even if the file is unlinked or
 * replaced meanwhile, so the owner calls `forget(key)` whenever the file under
 * a key is removed or replaced.
 *
 * Errors: `acquire` rejects with the open error (ENOENT when the file is gone).
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface Held {
  readonly fh: FileHandle;
  /** Gives the handle back; call exactly once. */
  release(): void;
}

interface Slot {
  fh: FileHandle;
  users: number;
  /** Dropped from the map (forgotten or pushed out): close when the last user leaves. */
  retired: boolean;
}

export class FileHandles {
  /** Unused and used handles by key; Map order is recency (re-inserted on use). */
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly max: number) {}

  async acquire(key: string, path: string): Promise<Held> {
    let slot = this.slots.get(key);
    if (slot !== undefined) {
      this.slots.delete(key);
      this.slots.set(key, slot);
    } else {
      const fh = await open(path, 'r');
      slot = this.slots.get(key); // opened by another caller meanwhile?
      if (slot !== undefined) {
        void fh.close().catch(() => undefined);
      } else {
        slot = { fh, users: 0, retired: false };
        this.slots.set(key, slot);
        this.trim();
      }
    }
    slot.users++;
    const s = slot;
    let released = false;
    return {
      fh: s.fh,
      release: () => {
        if (released) return;
        released = true;
        s.users--;
        if (s.retired && s.users === 0) void s.fh.close().catch(() => undefined);
      },
    };
  }

  /** Closes the handle of `key` (now, or when its last user releases it). */
  forget(key: string): void {
    const s = this.slots.get(key);
    if (s === undefined) return;
    this.slots.delete(key);
    this.retire(s);
  }

  /** Closes every handle (those in use once released). */
  closeAll(): void {
    for (const s of this.slots.values()) this.retire(s);
    this.slots.clear();
  }

  private trim(): void {
    for (const [key, s] of this.slots) {
      if (this.slots.size <= this.max) return;
      this.slots.delete(key);
      this.retire(s);
    }
  }

  private retire(s: Slot): void {
    s.retired = true;
    if (s.users === 0) void s.fh.close().catch(() => undefined);
  }
}
