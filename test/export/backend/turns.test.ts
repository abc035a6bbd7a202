/**
 * Turns (turns.ts): waiters go one per loop iteration in arrival order, and
 * other work queued meanwhile (a stand-in for I/O callbacks: an immediate)
 * runs between two turns instead of after all of them.
 */
import { describe, expect, it } from 'vitest';
import { Turns } from '../../../src/export/backend/turns.js';

describe('Turns', () => {
  it('lets work queued during a turn run before the next turn, in arrival order', async () => {
    const turns = new Turns();
    const log: string[] = [];
    const runs = [1, 2, 3].map((i) =>
      turns.take().then(() => {
        log.push(`turn ${i}`);
        setImmediate(() => log.push(`other after ${i}`));
      }),
    );
    await Promise.all(runs);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['turn 1', 'other after 1', 'turn 2', 'other after 2', 'turn 3', 'other after 3']);
  });

  it('takes a turn again after going idle', async () => {
    const turns = new Turns();
    await turns.take();
    await new Promise((r) => setImmediate(r));
    await expect(turns.take()).resolves.toBeUndefined();
  });
});
