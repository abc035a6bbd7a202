/**
 * Turns (turns.ts): waiters go one per loop iteration in arrival order, and
 * after a heavy turn other work queued meanwhile (a stand-in for I/O
 * callbacks: an immediate) runs before the next turn instead of after all.
 */
import { describe, expect, it } from 'vitest';
import { Turns } from '../../../src/export/backend/turns.js';

describe('Turns', () => {
  it('after a heavy turn, lets work queued meanwhile run before the next turn, in arrival order', async () => {
    const turns = new Turns();
    const log: string[] = [];
    const runs = [1, 2, 3].map((i) =>
      turns.take().then(() => {
        log.push(`turn ${i}`);
        setImmediate(() => log.push(`other after ${i}`));
        const t = performance.now();
        while (performance.now() - t < 5); // heavy: more than CHEAP_MS
      }),
    );
    await Promise.all(runs);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['turn 1', 'other after 1', 'turn 2', 'other after 2', 'turn 3', 'other after 3']);
  });

  it('cheap turns go one per loop iteration, in arrival order', async () => {
    const turns = new Turns();
    const log: number[] = [];
    await Promise.all([1, 2, 3, 4].map((i) => turns.take().then(() => log.push(i))));
    expect(log).toEqual([1, 2, 3, 4]);
  });

  it('takes a turn again after going idle', async () => {
    const turns = new Turns();
    await turns.take();
    await new Promise((r) => setImmediate(r));
    await expect(turns.take()).resolves.toBeUndefined();
  });
});
