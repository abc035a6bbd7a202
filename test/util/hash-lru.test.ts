import { describe, expect, it } from 'vitest';
import { HashLru } from '../../src/util/hash-lru.js';

/** A 40-hex key; `home` fixes its first four bytes (the table position) to force collisions. */
function key(n: number, home?: number): string {
  const tail = n.toString(16).padStart(32, '0');
  const head = (home ?? Math.imul(n, 2654435761) >>> 0).toString(16).padStart(8, '0');
  return head + tail;
}

/** The same contract kept the slow way: insertion order of a Map is recency. */
class Model {
  readonly map = new Map<string, { v: number; c: number }>();
  total = 0;
  evicted: string[] = [];
  constructor(private readonly max: number) {}
  get(k: string, touch: boolean): number | undefined {
    const e = this.map.get(k);
    if (e && touch) {
      this.map.delete(k);
      this.map.set(k, e);
    }
    return e?.v;
  }
  delete(k: string): void {
    const e = this.map.get(k);
    if (!e) return;
    this.map.delete(k);
    this.total -= e.c;
  }
  set(k: string, v: number, c: number): void {
    this.delete(k);
    if (c > this.max) return void this.evicted.push(k);
    this.map.set(k, { v, c });
    this.total += c;
    for (const [ok, oe] of this.map) {
      if (this.total <= this.max) break;
      this.map.delete(ok);
      this.total -= oe.c;
      this.evicted.push(ok);
    }
  }
}

describe('HashLru', () => {
  it('agrees with a Map model over random operations, colliding keys included', () => {
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (const collide of [false, true]) {
      const evicted: string[] = [];
      const lru = new HashLru(5_000, (k) => evicted.push(k));
      const model = new Model(5_000);
      for (let op = 0; op < 20_000; op++) {
        const n = rnd(400);
        const k = key(n, collide ? n % 3 : undefined); // three homes only: long probe runs, deletions inside them
        const r = rnd(10);
        if (r < 5) {
          const c = 10 + rnd(90);
          lru.set(k, n - 200, c);
          model.set(k, n - 200, c);
        } else if (r < 7) expect(lru.get(k)).toBe(model.get(k, true));
        else if (r < 9) expect(lru.peek(k)).toBe(model.get(k, false));
        else lru.delete(k), model.delete(k);
        expect(lru.size).toBe(model.map.size);
        expect(lru.cost).toBe(model.total);
      }
      expect(evicted).toEqual(model.evicted);
      for (const [k, e] of model.map) expect(lru.peek(k)).toBe(e.v);
    }
  });

  it('evicts least recently used first, by cost, and reports the keys', () => {
    const evicted: Array<[string, number]> = [];
    const lru = new HashLru(300, (k, v) => evicted.push([k, v]));
    lru.set(key(1), 1, 100);
    lru.set(key(2), 2, 100);
    lru.set(key(3), 3, 100);
    expect(lru.get(key(1))).toBe(1); // 1 is now the most recently used
    lru.set(key(4), 4, 150);
    expect(evicted).toEqual([[key(2), 2], [key(3), 3]]);
    expect(lru.cost).toBe(250);
    expect(lru.size).toBe(2);
    expect(lru.peek(key(1))).toBe(1);
    lru.set(key(5), 5, 301); // larger than the bound: not kept, reported at once
    expect(evicted.at(-1)).toEqual([key(5), 5]);
    expect(lru.peek(key(5))).toBeUndefined();
    lru.set(key(1), -7, 50); // replaced: new value and cost
    expect(lru.cost).toBe(200);
    expect(lru.get(key(1))).toBe(-7);
    lru.delete(key(1));
    expect(lru.peek(key(1))).toBeUndefined();
    expect(evicted).toHaveLength(3); // delete reports nothing
  });

  it('keeps 100,000 entries through growth and finds each', () => {
    const lru = new HashLru(1e12);
    for (let i = 0; i < 100_000; i++) lru.set(key(i), i, 1);
    for (let i = 0; i < 100_000; i += 7) lru.delete(key(i));
    for (let i = 0; i < 100_000; i++) expect(lru.peek(key(i))).toBe(i % 7 === 0 ? undefined : i);
    expect(lru.size).toBe(100_000 - Math.ceil(100_000 / 7));
  });

  it('refuses keys that are not 40 lowercase hex digits, and finds none', () => {
    const lru = new HashLru(100);
    expect(() => lru.set('ABCDEF'.padEnd(40, '0'), 1, 1)).toThrow(/40-hex/);
    expect(() => lru.set('abc', 1, 1)).toThrow(/40-hex/);
    expect(lru.peek('abc')).toBeUndefined();
    expect(lru.get('z'.repeat(40))).toBeUndefined();
    lru.set('0'.repeat(40), 5, 1);
    expect(lru.peek('0'.repeat(39) + '\u0130')).toBeUndefined(); // beyond ASCII, not a digit by its low bits
    expect(lru.peek('0'.repeat(39) + 'G')).toBeUndefined();
    expect(lru.peek('0'.repeat(40))).toBe(5);
    expect(lru.size).toBe(1);
  });
});
