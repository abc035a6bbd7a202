/**
 * A multimap from 32-bit hashes of Message-IDs to UIDs (open addressing in
 * one Uint32Array of (hash, UID) pairs, 8–16 bytes an entry), for "certainly
 * not there" answers without keeping the strings: `has(h)` is false only for
 * a hash never added; a hit may be a collision, so the caller confirms each
 * candidate UID against the entry it names. Used by the LMDB UID map while it
 * fills a map that was empty (plan-queue.ts: a first ingest reads nothing per
 * Message-ID and hashes each once) and to find ids in its log (lmdb-log.ts).
 */

/**
 * A 32-bit hash of a string, never 0 (0 marks an empty slot). Two UTF-16
 * code units make one 32-bit word; words go alternately into two FNV-style
 * lanes (xor, multiply), so the multiplications of a long id do not wait on
 * each other; the lanes and the length are then mixed (xor-shift-multiply
 * rounds) so every input bit reaches the low bits a table slot is taken from.
 * Kept in memory only: it may change between builds.
 */
export function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  const n = id.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    a = Math.imul(a ^ (id.charCodeAt(i) | (id.charCodeAt(i + 1) << 16)), 0x01000193);
    b = Math.imul(b ^ (id.charCodeAt(i + 2) | (id.charCodeAt(i + 3) << 16)), 0x01000193);
  }
  for (; i < n; i++) a = Math.imul(a ^ id.charCodeAt(i), 0x01000193);
  let h = a ^ Math.imul(b ^ (b >>> 15), 0x85ebca6b) ^ n;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
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
