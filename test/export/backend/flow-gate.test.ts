/**
 * flow-gate.ts: a source paused for several reasons resumes only when none
 * holds it; the bytes handled per turn of the event loop stop at the budget
 * (the chunk that reaches it is the last of the turn) and go on at the next
 * turn, every byte once and in order, with a real stream whose buffers hold
 * far more than the budget.
 */
import { turnCounter } from '../../harness/turns.js';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FlowGate } from '../../../src/export/backend/flow-gate.js';

const nextTurn = (): Promise<void> => new Promise((res) => setImmediate(res));

function fakeSource(): { paused: boolean; calls: string[]; pause(): void; resume(): void } {
  const s = {
    paused: false,
    calls: [] as string[],
    pause() {
      s.paused = true;
      s.calls.push('pause');
    },
    resume() {
      s.paused = false;
      s.calls.push('resume');
    },
  };
  return s;
}

describe('FlowGate', () => {
  it('resumes only when every reason released; a reason held twice counts once; nothing after close', () => {
    const src = fakeSource();
    const gate = new FlowGate(src, 1000);
    gate.hold('write');
    gate.hold('write');
    gate.hold('other');
    expect(src.calls).toEqual(['pause']);
    gate.release('write');
    expect(src.paused).toBe(true);
    gate.release('nothing held');
    gate.release('other');
    expect(src.calls).toEqual(['pause', 'resume']);
    gate.hold('x');
    gate.close();
    gate.release('x');
    gate.hold('y');
    expect(src.calls).toEqual(['pause', 'resume', 'pause']);
  });

  it('pauses once a turn handled the budget, resumes the next turn with the count from 0', async () => {
    const src = fakeSource();
    const gate = new FlowGate(src, 100);
    gate.spend(60);
    expect(src.paused).toBe(false);
    gate.spend(60); // 120 ≥ 100: the turn is over
    expect(src.paused).toBe(true);
    await nextTurn();
    expect(src.paused).toBe(false);
    gate.spend(99);
    expect(src.paused).toBe(false);
    await nextTurn();
    gate.spend(99); // a new turn: counted from 0 again
    expect(src.paused).toBe(false);
    gate.hold('write');
    await nextTurn();
    expect(src.paused).toBe(true); // the turn's release does not lift another hold
    gate.release('write');
    expect(src.paused).toBe(false);
  });

  it('a stream holding many chunks hands over at most the budget per turn, every byte once and in order', async () => {
    for (const [chunk, budget] of [
      [16 * 1024, 64 * 1024],
      [1000, 4096],
      [5000, 5000],
      [7, 1],
    ] as const) {
      const total = 40 * chunk;
      const all = Buffer.alloc(total);
      for (let i = 0; i < total; i++) all[i] = (i * 7919) & 0xff;
      const src = new PassThrough({ highWaterMark: total * 2 });
      for (let at = 0; at < total; at += chunk) src.write(all.subarray(at, at + chunk));
      src.end();
      const gate = new FlowGate(src, budget);
      const turns = turnCounter();
      const perTurn = new Map<number, number>();
      const got: Buffer[] = [];
      await new Promise<void>((res) => {
        src.on('data', (c: Buffer) => {
          got.push(c);
          perTurn.set(turns.turn, (perTurn.get(turns.turn) ?? 0) + c.length);
          gate.spend(c.length);
        });
        src.once('end', res);
      });
      turns.stop();
      expect(Buffer.concat(got).equals(all)).toBe(true);
      // the chunk that reaches the budget ends the turn's share: at most budget - 1 + one chunk
      expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(budget - 1 + chunk);
      expect(perTurn.size).toBeGreaterThanOrEqual(Math.ceil(total / (budget - 1 + chunk)));
    }
  });
});
