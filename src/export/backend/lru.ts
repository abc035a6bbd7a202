/**
 * A least-recently-used map bounded by a total cost (bytes), not by a count:
 * header blocks vary from 300 bytes to tens of kilobytes. Built on Map's
 * insertion order: a hit re-inserts the key at the end, eviction takes from
 * the front. An entry costing more than the whole bound is not kept.
 */
export class ByteLru<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private total = 0;

  constructor(private readonly maxCost: number) {}

  get size(): number {
    return this.map.size;
  }

  get cost(): number {
    return this.total;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: K, value: V, cost: number): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.total -= old.cost;
      this.map.delete(key);
    }
    if (cost > this.maxCost) return;
    this.map.set(key, { value, cost });
    this.total += cost;
    for (const [k, e] of this.map) {
      if (this.total <= this.maxCost) break;
      this.map.delete(k);
      this.total -= e.cost;
    }
  }

  delete(key: K): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.map.delete(key);
    this.total -= e.cost;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
