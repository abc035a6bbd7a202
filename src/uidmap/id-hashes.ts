/**
 * A multimap from 32-bit hashes of Message-IDs to UIDs (open addressing in
 * one Uint32Array of (hash, UID) pairs, 8–16 bytes an entry), for "certainly
 * not there" answers without keeping the strings: `has(h)` is false only for
 * a hash never added; a hit may be a collision, so the caller confirms each
 * candidate UID against the entry it names. Used by the LMDB UID map while it
 * fills a map that was empty (plan-queue.ts: a first ingest reads nothing per
 * Message-ID and hashes each once) and to find ids in its log (lmdb-log.ts).
 */

/** FNV-1a over UTF-16 code units, never 0 (0 marks an empty slot). */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}

export class IdTable {
  private slots = new Uint32Array(2 << 12);
  private used = 0;

  /** Pairs added (a pair added twice counts twice). */
  get size(): number {
    return this.used;
  }

  /** Adds the pair (`h`, `uid`); `h` is an `idHash`. */
  add(h: number, uid: number): void {
    if ((this.used + 1) * 4 > (this.slots.length >>> 1) * 3) this.grow(); // at most 3/4 full
    this.put(this.slots, h, uid);
    this.used++;
  }

  /** False when no pair with hash `h` was added. */
  has(h: number): boolean {
    const s = this.slots;
    const mask = (s.length >>> 1) - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = s[2 * i]!;
      if (v === 0) return false;
      if (v === h) return true;
    }
  }

  /** UIDs added with hash `h`, in no particular order. */
  candidates(h: number): number[] {
    const s = this.slots;
    const mask = (s.length >>> 1) - 1;
    const out: number[] = [];
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = s[2 * i]!;
      if (v === 0) return out;
      if (v === h) out.push(s[2 * i + 1]!);
    }
  }

  private put(s: Uint32Array, h: number, uid: number): void {
    const mask = (s.length >>> 1) - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      if (s[2 * i] === 0) {
        s[2 * i] = h;
        s[2 * i + 1] = uid;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    const next = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.put(next, old[i]!, old[i + 1]!);
    this.slots = next;
  }
}
