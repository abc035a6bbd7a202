/**
 * Coalescer (src/stateagent/stores/coalesce.ts): a quiet caller's item goes
 * out at once and alone; items arriving while the flushes in flight are at
 * the limit go out together in order, in batches of at most maxBatch; a
 * failed flush rejects exactly its own items, and the queue goes on.
 */
import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/stateagent/stores/coalesce.js';

/** A flush whose calls are recorded and finished by hand. */
function manual(): { calls: number[][]; finish: (i: number, err?: Error) => void; flush: (items: number[]) => Promise<string[]> } {
  const calls: number[][] = [];
  const done: Array<{ res: (v: string[]) => void; rej: (e: Error) => void; items: number[] }> = [];
  return {
    calls,
    finish: (i, err) => (err ? done[i]!.rej(err) : done[i]!.res(done[i]!.items.map((x) => `r${x}`))),
    flush: (items) =>
      new Promise<string[]>((res, rej) => {
        calls.push(items);
        done.push({ res, rej, items });
      }),
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('sends a quiet caller at once, alone', async () => {
    const m = manual();
    const c = new Coalescer(2, 10, m.flush);
    const p = c.submit(1);
    expect(m.calls).toEqual([[1]]); // no timer, no wait
    m.finish(0);
    expect(await p).toBe('r1');
    expect(c.flushing).toBe(0);
  });

  it('groups what arrives while the flushes in flight are at the limit, in order, maxBatch at a time', async () => {
    const m = manual();
    const c = new Coalescer(2, 3, m.flush);
    const ps = [1, 2, 3, 4, 5, 6, 7, 8].map((x) => c.submit(x));
    expect(m.calls).toEqual([[1], [2]]);
    m.finish(0);
    await tick();
    expect(m.calls).toEqual([[1], [2], [3, 4, 5]]);
    m.finish(1);
    await tick();
    expect(m.calls).toEqual([[1], [2], [3, 4, 5], [6, 7, 8]]);
    m.finish(2);
    m.finish(3);
    expect(await Promise.all(ps)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']);
  });

  it('a failed flush rejects its own items only; later items still go out', async () => {
    const m = manual();
    const c = new Coalescer(1, 10, m.flush);
    const a = c.submit(1);
    const b = c.submit(2);
    const d = c.submit(3);
    m.finish(0, new Error('database away'));
    await expect(a).rejects.toThrow('database away');
    await tick();
    expect(m.calls).toEqual([[1], [2, 3]]);
    m.finish(1);
    expect([await b, await d]).toEqual(['r2', 'r3']);
  });

  it('a flush that answers the wrong number of items rejects them', async () => {
    const c = new Coalescer<number, number>(1, 10, async () => [1]);
    const first = c.submit(1);
    await expect(Promise.all([c.submit(2), c.submit(3)])).rejects.toThrow(/1 results for 2 items/);
    expect(await first).toBe(1);
  });
});
