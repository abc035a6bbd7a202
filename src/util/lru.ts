/**
 * A least-recently-used map bounded by a total cost (bytes), not by a count:
 * header blocks vary from 300 bytes to tens of kilobytes. A Map for lookup plus
 * an intrusive doubly linked list for recency, so get/set/evict are O(1)
 * (evicting by iterating a Map from the front is not: V8 leaves deleted
 * entries as holes that every new iteration skips again). An entry costing more
 * than the whole bound is not kept (and is reported to `onEvict` at once).
 *
 * Compact: an entry is a slot number in parallel arrays (key, value, cost,
 * links), not an object — ~30 bytes less each, which counts for indexes of
 * 100,000s of entries (the article cache's: issue 14). Freed slots are reused.
 */

const NONE = -1;

export class ByteLru<K, V> {
  /** Key → slot. */
  private readonly map = new Map<K, number>();
  private keys: Array<K | undefined> = [];
  private values: Array<V | undefined> = [];
  private costs = new Float64Array(16);
  private prevs = new Int32Array(16);
  private nexts = new Int32Array(16);
  /** Slots in use or freed so far (the arrays' filled length). */
  private slots = 0;
  /** Freed slots, linked through `nexts`. */
  private free = NONE;
  /** Least recently used. */
  private head = NONE;
  /** Most recently used. */
  private tail = NONE;
  private total = 0;

  /** `onEvict` is called for entries pushed out by the bound (not for `delete`/`clear`). */
  constructor(
    private readonly maxCost: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get cost(): number {
    return this.total;
  }

  get(key: K): V | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    if (s !== this.tail) {
      this.unlink(s);
      this.append(s);
    }
    return this.values[s];
  }

  /** The value without marking it used. */
  peek(key: K): V | undefined {
    const s = this.map.get(key);
    return s === undefined ? undefined : this.values[s];
  }

  set(key: K, value: V, cost: number): void {
    this.delete(key);
    if (cost > this.maxCost) {
      this.onEvict?.(key, value);
      return;
    }
    const s = this.slot();
    this.keys[s] = key;
    this.values[s] = value;
    this.costs[s] = cost;
    this.map.set(key, s);
    this.append(s);
    this.total += cost;
    this.shrink();
  }

  /** Adds `delta` to an entry's cost (it grew in memory), evicting others if needed. */
  addCost(key: K, delta: number): void {
    const s = this.map.get(key);
    if (s === undefined) return;
    this.costs[s] += delta;
    this.total += delta;
    this.shrink();
  }

  delete(key: K): void {
    const s = this.map.get(key);
    if (s === undefined) return;
    this.map.delete(key);
    this.unlink(s);
    this.total -= this.costs[s]!;
    this.release(s);
  }

  clear(): void {
    this.map.clear();
    this.keys = [];
    this.values = [];
    this.costs = new Float64Array(16);
    this.prevs = new Int32Array(16);
    this.nexts = new Int32Array(16);
    this.slots = 0;
    this.free = this.head = this.tail = NONE;
    this.total = 0;
  }

  private shrink(): void {
    while (this.total > this.maxCost && this.head !== NONE) {
      const s = this.head;
      const key = this.keys[s] as K;
      const value = this.values[s] as V;
      this.delete(key);
      this.onEvict?.(key, value);
    }
  }

  /** A free slot (a freed one, else a new one, the arrays grown as needed). */
  private slot(): number {
    if (this.free !== NONE) {
      const s = this.free;
      this.free = this.nexts[s]!;
      return s;
    }
    if (this.slots === this.costs.length) {
      const n = this.slots * 2;
      const costs = new Float64Array(n);
      costs.set(this.costs);
      this.costs = costs;
      const prevs = new Int32Array(n);
      prevs.set(this.prevs);
      this.prevs = prevs;
      const nexts = new Int32Array(n);
      nexts.set(this.nexts);
      this.nexts = nexts;
    }
    this.keys.push(undefined);
    this.values.push(undefined);
    return this.slots++;
  }

  private release(s: number): void {
    this.keys[s] = undefined;
    this.values[s] = undefined;
    this.nexts[s] = this.free;
    this.free = s;
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
