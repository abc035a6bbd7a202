/**
 * A compact set of 32-bit hashes of Message-IDs (open addressing in a
 * Uint32Array, 4–8 bytes an id), for "certainly not seen" answers: `mayHave`
 * is false only for an id never added; true may be a collision, and the
 * caller then looks the id up for real. Used by the LMDB UID map while it
 * fills a map that was empty (lmdb.ts `Fresh`), so a first ingest reads
 * nothing per Message-ID.
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

export class IdHashes {
  private slots = new Uint32Array(1 << 12);
  private used = 0;

  get size(): number {
    return this.used;
  }

  add(id: string): void {
    if ((this.used + 1) * 2 > this.slots.length) this.grow();
    if (this.put(this.slots, idHash(id))) this.used++;
  }

  mayHave(id: string): boolean {
    const h = idHash(id);
    const s = this.slots;
    const mask = s.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = s[i]!;
      if (v === 0) return false;
      if (v === h) return true;
    }
  }

  /** Inserts hash `h` (linear probing); false when it was there already. */
  private put(s: Uint32Array, h: number): boolean {
    const mask = s.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = s[i]!;
      if (v === h) return false;
      if (v === 0) {
        s[i] = h;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    const next = new Uint32Array(old.length * 2);
    for (const h of old) if (h !== 0) this.put(next, h);
    this.slots = next;
  }
}
