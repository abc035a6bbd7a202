/**
 * A least-recently-used index from 40-hex-digit hashes (20 bytes, e.g. the
 * article cache's `hashOf`) to numbers, bounded by a total cost, held in typed
 * arrays only: nothing per entry on V8's heap.
 *
 * Why (issue 14): the article cache's index of 100k articles as a `ByteLru`
 * (a Map of 40-character strings to slots) was ~15 MB of live JS heap — a
 * third of the server's live heap after the bench's rows — and V8 lets its
 * old generation grow to a multiple of what is live before collecting, so
 * each live MB cost several MB at the 50-client peak. Here an entry is ~56
 * bytes outside the JS heap: its 20 key bytes (five 32-bit words), value and cost (f64), LRU
 * links (i32), and two i32 cells of an open-addressing table (linear probing,
 * at most half full, backward-shift deletion: no tombstones).
 *
 * Same contract as `ByteLru` for what it has: `get` marks an entry used,
 * `peek` does not, `set` replaces and evicts least recently used entries
 * beyond `maxCost` (`onEvict` for those, not for `delete`); an entry costing
 * more than the bound is not kept and reported to `onEvict` at once. A key
 * that is not 40 lowercase hex digits is refused by `set` (throws) and never
 * found by `get`/`peek`.
 */

const NONE = -1;
/** A key is 20 bytes, kept as five 32-bit words (8 hex digits each, big-endian order of digits). */
const KEY_WORDS = 5;
const HEX = /^[0-9a-f]{40}$/;
/** Value of a hex digit by character code, -1 for anything else. */
const DIGIT = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) DIGIT[48 + c] = c;
for (let c = 0; c < 6; c++) DIGIT[97 + c] = 10 + c;

export class HashLru {
  private keys = new Uint32Array(16 * KEY_WORDS);
  private values = new Float64Array(16);
  private costs = new Float64Array(16);
  private prevs = new Int32Array(16);
  private nexts = new Int32Array(16);
  /** Open-addressing table: slot + 1, 0 = empty; its length is a power of two ≥ 2 × slots. */
  private table = new Int32Array(32);
  private slots = 0;
  private free = NONE;
  private head = NONE;
  private tail = NONE;
  private count = 0;
  private total = 0;
  /** Scratch for a key being looked up. */
  private readonly probe = new Uint32Array(KEY_WORDS);

  constructor(
    private readonly maxCost: number,
    private readonly onEvict?: (key: string, value: number) => void,
  ) {}

  get size(): number {
    return this.count;
  }

  get cost(): number {
    return this.total;
  }

  get(key: string): number | undefined {
    const s = this.find(key);
    if (s === NONE) return undefined;
    if (s !== this.tail) {
      this.unlink(s);
      this.append(s);
    }
    return this.values[s];
  }

  /** The value without marking it used. */
  peek(key: string): number | undefined {
    const s = this.find(key);
    return s === NONE ? undefined : this.values[s];
  }

  set(key: string, value: number, cost: number): void {
    if (!HEX.test(key)) throw new Error(`HashLru: not a 40-hex-digit key: ${key.slice(0, 60)}`);
    this.delete(key);
    if (cost > this.maxCost) {
      this.onEvict?.(key, value);
      return;
    }
    const s = this.slot();
    this.keys.set(this.probe, s * KEY_WORDS); // find() (through delete) parsed the key into probe
    this.values[s] = value;
    this.costs[s] = cost;
    this.insert(s);
    this.append(s);
    this.count++;
    this.total += cost;
    while (this.total > this.maxCost && this.head !== NONE) {
      const h = this.head;
      const k = this.keyAt(h);
      const v = this.values[h]!;
      this.remove(h);
      this.onEvict?.(k, v);
    }
  }

  delete(key: string): void {
    const s = this.find(key);
    if (s !== NONE) this.remove(s);
  }

  /** The slot holding `key`, or NONE; leaves the key's words in `probe`. */
  private find(key: string): number {
    if (key.length !== 8 * KEY_WORDS) return NONE;
    const p = this.probe;
    let bad = 0;
    for (let w = 0, c = 0; w < KEY_WORDS; w++) {
      let v = 0;
      for (let j = 0; j < 8; j++, c++) {
        const code = key.charCodeAt(c);
        const d = code < 128 ? DIGIT[code]! : -1;
        bad |= d;
        v = (v << 4) | (d & 15);
      }
      p[w] = v;
    }
    if (bad < 0) return NONE; // some character was no hex digit
    const k = this.keys;
    const mask = this.table.length - 1;
    for (let i = p[0]! & mask; ; i = (i + 1) & mask) {
      const t = this.table[i]!;
      if (t === 0) return NONE;
      const o = (t - 1) * KEY_WORDS;
      if (k[o] === p[0] && k[o + 1] === p[1] && k[o + 2] === p[2] && k[o + 3] === p[3] && k[o + 4] === p[4]) return t - 1;
    }
  }

  /** Table position of slot `s`'s key: its first word (a hash already). */
  private home(s: number): number {
    return this.keys[s * KEY_WORDS]!;
  }

  private keyAt(s: number): string {
    let out = '';
    for (let w = 0; w < KEY_WORDS; w++) out += this.keys[s * KEY_WORDS + w]!.toString(16).padStart(8, '0');
    return out;
  }

  private insert(s: number): void {
    const mask = this.table.length - 1;
    let i = this.home(s) & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = s + 1;
  }

  /** Unlinks slot `s`, takes it out of the table (backward shift) and frees it. */
  private remove(s: number): void {
    const mask = this.table.length - 1;
    let i = this.home(s) & mask;
    while (this.table[i] !== s + 1) i = (i + 1) & mask;
    // backward-shift deletion: move up later entries of the run whose home is not in (i, j]
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const t = this.table[j]!;
      if (t === 0) break;
      const h = this.home(t - 1) & mask;
      const between = i <= j ? h > i && h <= j : h > i || h <= j;
      if (!between) {
        this.table[i] = t;
        i = j;
      }
    }
    this.table[i] = 0;
    this.unlink(s);
    this.count--;
    this.total -= this.costs[s]!;
    this.nexts[s] = this.free;
    this.free = s;
  }

  /** A free slot (a freed one, else a new one; arrays and table grown as needed). */
  private slot(): number {
    if (this.free !== NONE) {
      const s = this.free;
      this.free = this.nexts[s]!;
      return s;
    }
    if (this.slots === this.values.length) {
      const n = this.slots * 2;
      this.keys = grow(this.keys, n * KEY_WORDS);
      this.values = grow(this.values, n);
      this.costs = grow(this.costs, n);
      this.prevs = grow(this.prevs, n);
      this.nexts = grow(this.nexts, n);
    }
    if (2 * (this.slots + 1) > this.table.length) {
      // rehash every slot in use (free slots are not in the list)
      this.table = new Int32Array(this.table.length * 2);
      for (let s = this.head; s !== NONE; s = this.nexts[s]!) this.insert(s);
    }
    return this.slots++;
  }

  private unlink(s: number): void {
    const p = this.prevs[s]!;
    const n = this.nexts[s]!;
    if (p !== NONE) this.nexts[p] = n;
    else this.head = n;
    if (n !== NONE) this.prevs[n] = p;
    else this.tail = p;
  }

  private append(s: number): void {
    this.prevs[s] = this.tail;
    this.nexts[s] = NONE;
    if (this.tail !== NONE) this.nexts[this.tail] = s;
    else this.head = s;
    this.tail = s;
  }
}

function grow<T extends Uint32Array | Int32Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
