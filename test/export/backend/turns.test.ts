/**
 * Turns (turns.ts), on an injected clock (a turn "takes" the milliseconds it
 * adds to it): waiters go in arrival order; turns run back to back while the
 * window's budget lasts, the whole promise chain of one turn before the next;
 * after the budget the loop gets iterations (I/O callbacks; stand-in: an
 * immediate) in proportion to the window's length before the next window.
 */
import { describe, expect, it } from 'vitest';
import { Turns } from '../../../src/export/backend/turns.js';

/** A clock that moves only when a turn says it worked. */
function fakeClock(): { now: () => number; spend: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, spend: (ms) => void (t += ms) };
}

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Counts loop iterations (an immediate that queues itself again) until stopped. */
function iterationCounter(): { count: () => number; stop: () => void } {
  let n = 0;
  let on = true;
  const tick = (): void => {
    if (!on) return;
    n++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { count: () => n, stop: () => void (on = false) };
}

describe('Turns', () => {
  it('runs turns back to back while the budget lasts, then lets work queued meanwhile run first', async () => {
    const clock = fakeClock();
    const turns = new Turns({ budgetMs: 5, now: clock.now });
    const log: string[] = [];
    const runs = [1, 2, 3, 4, 5].map((i) =>
      turns.take().then(() => {
        log.push(`turn ${i}`);
        setImmediate(() => log.push(`other after ${i}`));
        clock.spend(2);
      }),
    );
    await Promise.all(runs);
    for (let i = 0; i < 3; i++) await immediate();
    // window 1: 0, 2, 4 ms < 5 → turns 1–3; then 6 ms ≥ 5 → the loop runs what they queued
    expect(log).toEqual(['turn 1', 'turn 2', 'turn 3', 'other after 1', 'other after 2', 'other after 3', 'turn 4', 'turn 5', 'other after 4', 'other after 5']);
  });

  it('a turn is its whole promise chain: the next turn starts after it', async () => {
    const clock = fakeClock();
    const turns = new Turns({ budgetMs: 5, now: clock.now });
    const log: string[] = [];
    const turn = async (i: number): Promise<void> => {
      await turns.take();
      log.push(`${i} start`);
      for (let k = 0; k < 5; k++) await Promise.resolve(); // continuations (no real I/O)
      log.push(`${i} end`);
    };
    await Promise.all([turn(1), turn(2), turn(3)]);
    expect(log).toEqual(['1 start', '1 end', '2 start', '2 end', '3 start', '3 end']);
  });

  it('waiters go in arrival order, also those that arrive during a window', async () => {
    const clock = fakeClock();
    const turns = new Turns({ budgetMs: 5, now: clock.now });
    const log: number[] = [];
    const all: Promise<unknown>[] = [];
    const add = (i: number): void => {
      all.push(
        turns.take().then(() => {
          log.push(i);
          clock.spend(1);
          if (i <= 3) add(i + 10); // a new waiter behind everyone already waiting
        }),
      );
    };
    for (const i of [1, 2, 3, 4]) add(i);
    while (log.length < 7) await immediate();
    await Promise.all(all);
    expect(log).toEqual([1, 2, 3, 4, 11, 12, 13]);
  });

  it('after a long window the loop gets one iteration per budget it took (at least one)', async () => {
    const clock = fakeClock();
    const turns = new Turns({ budgetMs: 5, now: clock.now });
    const counter = iterationCounter();
    const seen: number[] = [];
    const costs = [15, 1, 6]; // windows: [15] → 3 iterations, [1, 6] = 7 ms → 2 iterations
    await Promise.all(
      costs.map((ms) =>
        turns.take().then(() => {
          seen.push(counter.count());
          clock.spend(ms);
        }),
      ),
    );
    const last = turns.take().then(() => seen.push(counter.count()));
    await last;
    counter.stop();
    expect(seen[1]! - seen[0]!).toBe(3);
    expect(seen[2]).toBe(seen[1]); // same window
    expect(seen[3]! - seen[2]!).toBe(2);
  });

  it('a long turn does not hold the queue for more than MAX_PAUSE iterations', async () => {
    const clock = fakeClock();
    const turns = new Turns({ budgetMs: 5, now: clock.now });
    const counter = iterationCounter();
    const seen: number[] = [];
    await Promise.all(
      [10_000, 1].map((ms) =>
        turns.take().then(() => {
          seen.push(counter.count());
          clock.spend(ms);
        }),
      ),
    );
    counter.stop();
    expect(seen[1]! - seen[0]!).toBe(16);
  });

  it('a search alone goes in the next iteration, and takes a turn again after going idle', async () => {
    const clock = fakeClock();
    const turns = new Turns({ budgetMs: 5, now: clock.now });
    const counter = iterationCounter();
    const first = counter.count();
    await turns.take();
    const second = counter.count();
    clock.spend(100);
    await immediate();
    await expect(turns.take()).resolves.toBeUndefined();
    counter.stop();
    expect(second - first).toBeLessThanOrEqual(1);
  });
});
