/**
 * Rendered ENVELOPEs shared by every session, so a warm listing renders no
 * article twice. Keyed by (mailbox, UIDVALIDITY, UID), which names one article
 * forever (DESIGN invariant 1), with the two renderings (plain and with
 * UTF8=ACCEPT) kept apart. Bounded by bytes: least recently used renderings
 * go first once ENVELOPE_CACHE_BYTES is reached, each charged its length plus
 * ENTRY_OVERHEAD.
 *
 * Built for the listing hot path: a command takes the shelf of its mailbox
 * once (`shelf`), then each message costs one Map lookup by number and a few
 * pointer moves; nothing is allocated on a hit.
 */
import type { Envelope } from '../../mime/envelope.js';
import { envelopeBytes } from './envelope.js';

/**
 * Memory charged per entry besides the rendering's bytes: the entry object,
 * its Map slot and the Buffer view (measured: ~190 bytes per entry over
 * 100,000 entries, heapUsed).
 */
export const ENTRY_OVERHEAD = 192;

interface Entry {
  readonly uid: number;
  readonly value: Buffer;
  readonly shelf: EnvelopeShelf;
  prev: Entry | null;
  next: Entry | null;
}

/** The renderings of one mailbox in one form; take one per command (`EnvelopeCache.shelf`). */
export class EnvelopeShelf {
  /** UID → entry; kept by the cache. */
  readonly entries = new Map<number, Entry>();

  constructor(
    private readonly cache: EnvelopeCache,
    readonly key: string,
    private readonly utf8: boolean,
  ) {}

  /** The rendered ENVELOPE of `m`; `m.envelope` is read (parsed) only when it is not cached. */
  get(m: { readonly uid: number; readonly envelope: Envelope }): Buffer {
    const e = this.entries.get(m.uid);
    if (e !== undefined) {
      this.cache.touch(e);
      return e.value;
    }
    const b = envelopeBytes(m.envelope, this.utf8);
    this.cache.add(this, m.uid, b);
    return b;
  }
}

export class EnvelopeCache {
  private readonly shelves = new Map<string, EnvelopeShelf>();
  /** Least recently used. */
  private head: Entry | null = null;
  /** Most recently used. */
  private tail: Entry | null = null;
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes charged now (renderings plus ENTRY_OVERHEAD each). */
  get bytes(): number {
    return this.total;
  }

  /** The shelf of `mailbox` at `uidValidity`, for renderings with UTF8=ACCEPT or without. */
  shelf(mailbox: string, uidValidity: number, utf8: boolean): EnvelopeShelf {
    const key = `${mailbox}\u0000${uidValidity}\u0000${utf8 ? 'u' : 'a'}`;
    let s = this.shelves.get(key);
    if (s === undefined) this.shelves.set(key, (s = new EnvelopeShelf(this, key, utf8)));
    return s;
  }

  /** Marks `e` most recently used. */
  touch(e: Entry): void {
    if (e === this.tail) return;
    this.unlink(e);
    this.append(e);
  }

  add(shelf: EnvelopeShelf, uid: number, value: Buffer): void {
    const cost = value.length + ENTRY_OVERHEAD;
    if (cost > this.maxBytes) return;
    // a shelf emptied by eviction was dropped; a command still holding it puts it back
    if (shelf.entries.size === 0 && !this.shelves.has(shelf.key)) this.shelves.set(shelf.key, shelf);
    const e: Entry = { uid, value, shelf, prev: null, next: null };
    shelf.entries.set(uid, e);
    this.append(e);
    this.total += cost;
    while (this.total > this.maxBytes && this.head !== null) this.evict(this.head);
  }

  private evict(e: Entry): void {
    this.unlink(e);
    this.total -= e.value.length + ENTRY_OVERHEAD;
    const s = e.shelf;
    s.entries.delete(e.uid);
    if (s.entries.size === 0 && this.shelves.get(s.key) === s) this.shelves.delete(s.key);
  }

  private unlink(e: Entry): void {
    if (e.prev !== null) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = null;
  }

  private append(e: Entry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail !== null) this.tail.next = e;
    else this.head = e;
    this.tail = e;
  }
}
