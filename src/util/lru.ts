/**
 * A least-recently-used map bounded by a total cost (bytes), not by a count:
 * header blocks vary from 300 bytes to tens of kilobytes. A Map for lookup plus
 * an intrusive doubly linked list for recency, so get/set/evict are O(1)
 * (evicting by iterating a Map from the front is not: V8 leaves deleted
 * entries as holes that every new iteration skips again). An entry costing more
 * than the whole bound is not kept (and is reported to `onEvict` at once).
 */
interface Node<K, V> {
  key: K;
  value: V;
  cost: number;
  prev: Node<K, V> | null;
  next: Node<K, V> | null;
}

export class ByteLru<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  /** Least recently used. */
  private head: Node<K, V> | null = null;
  /** Most recently used. */
  private tail: Node<K, V> | null = null;
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
    const n = this.map.get(key);
    if (n === undefined) return undefined;
    if (n !== this.tail) {
      this.unlink(n);
      this.append(n);
    }
    return n.value;
  }

  /** The value without marking it used. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  set(key: K, value: V, cost: number): void {
    this.delete(key);
    if (cost > this.maxCost) {
      this.onEvict?.(key, value);
      return;
    }
    const n: Node<K, V> = { key, value, cost, prev: null, next: null };
    this.map.set(key, n);
    this.append(n);
    this.total += cost;
    while (this.total > this.maxCost && this.head !== null) {
      const old = this.head;
      this.delete(old.key);
      this.onEvict?.(old.key, old.value);
    }
  }

  /** Adds `delta` to an entry's cost (it grew in memory), evicting others if needed. */
  addCost(key: K, delta: number): void {
    const n = this.map.get(key);
    if (n === undefined) return;
    n.cost += delta;
    this.total += delta;
    while (this.total > this.maxCost && this.head !== null) {
      const old = this.head;
      this.delete(old.key);
      this.onEvict?.(old.key, old.value);
    }
  }

  delete(key: K): void {
    const n = this.map.get(key);
    if (n === undefined) return;
    this.map.delete(key);
    this.unlink(n);
    this.total -= n.cost;
  }

  clear(): void {
    this.map.clear();
    this.head = this.tail = null;
    this.total = 0;
  }

  private unlink(n: Node<K, V>): void {
    if (n.prev !== null) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next !== null) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = n.next = null;
  }

  private append(n: Node<K, V>): void {
    n.prev = this.tail;
    n.next = null;
    if (this.tail !== null) this.tail.next = n;
    else this.head = n;
    this.tail = n;
  }
}
