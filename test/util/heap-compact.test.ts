import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { compactHeap, MIN_GAP_MS, startHeapCompactor, type OldSpace } from '../../src/util/heap-compact.js';
import { silentLogger } from '../../src/util/log.js';

const MB = 1024 * 1024;

/** A fake old generation: compacting makes committed equal to used. */
function fakeHeap(committed: number, used: number) {
  const s: OldSpace = { committed, used };
  let calls = 0;
  return {
    s,
    space: (): OldSpace => ({ ...s }),
    compact: (): void => {
      calls++;
      s.committed = s.used;
    },
    get calls() {
      return calls;
    },
  };
}

describe('startHeapCompactor', () => {
  it('does nothing with interval 0 or threshold 0', () => {
    for (const [ms, min] of [[0, 32 * MB], [2000, 0]] as const) {
      const h = fakeHeap(200 * MB, 90 * MB);
      const c = startHeapCompactor(ms, min, silentLogger(), { space: h.space, compact: h.compact, now: () => 1e9, cpuMs: () => 0 });
      expect(c.checkNow()).toBe(false);
      expect(h.calls).toBe(0);
      c.stop();
    }
  });

  it('compacts when the free space passes both the threshold and a quarter of what is used', () => {
    // 20 MB free: below the threshold
    let h = fakeHeap(120 * MB, 100 * MB);
    let c = startHeapCompactor(2000, 32 * MB, silentLogger(), { space: h.space, compact: h.compact, now: () => 1e9, cpuMs: () => 0 });
    expect(c.checkNow()).toBe(false);
    c.stop();
    // 40 MB free of 200 used: past the threshold, below a quarter of used
    h = fakeHeap(240 * MB, 200 * MB);
    c = startHeapCompactor(2000, 32 * MB, silentLogger(), { space: h.space, compact: h.compact, now: () => 1e9, cpuMs: () => 0 });
    expect(c.checkNow()).toBe(false);
    c.stop();
    // 100 MB free of 90 used
    h = fakeHeap(190 * MB, 90 * MB);
    c = startHeapCompactor(2000, 32 * MB, silentLogger(), { space: h.space, compact: h.compact, now: () => 1e9, cpuMs: () => 0 });
    expect(c.checkNow()).toBe(true);
    expect(h.calls).toBe(1);
    expect(c.compactions).toBe(1);
    c.stop();
  });

  it('does not compact while the process is busy', () => {
    const h = fakeHeap(190 * MB, 90 * MB);
    let now = 1e9;
    let cpu = 0;
    const c = startHeapCompactor(2000, 32 * MB, silentLogger(), { space: h.space, compact: h.compact, now: () => now, cpuMs: () => cpu });
    now += 2000;
    cpu += 0.5 * 2000; // half a CPU over the interval
    expect(c.checkNow()).toBe(false);
    now += 2000;
    cpu += 0.1 * 2000; // quiet again
    expect(c.checkNow()).toBe(true);
    expect(h.calls).toBe(1);
    c.stop();
  });

  it('compacts at most once per MIN_GAP_MS', () => {
    const h = fakeHeap(190 * MB, 90 * MB);
    let now = 1e9;
    const c = startHeapCompactor(2000, 32 * MB, silentLogger(), { space: h.space, compact: h.compact, now: () => now, cpuMs: () => 0 });
    expect(c.checkNow()).toBe(true);
    h.s.committed = 190 * MB; // fragmented again at once
    now += MIN_GAP_MS - 1;
    expect(c.checkNow()).toBe(false);
    now += 1;
    expect(c.checkNow()).toBe(true);
    expect(h.calls).toBe(2);
    c.stop();
  });

  it("with V8's own collection, gives back the holes of a fragmented old generation", () => {
    const old = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_size;
    // objects that survive scattered among many that die, all promoted to the old generation
    const keep: object[] = [];
    let junk: object[] = [];
    for (let i = 0; i < 1_500_000; i++) {
      const o = { i, s: `x${i}` };
      if (i % 50 === 0) keep.push(o);
      else junk.push(o);
      if (junk.length > 200_000) junk = [];
    }
    junk = [];
    const c = startHeapCompactor(60_000, 4 * MB, silentLogger(), { cpuMs: () => 0 });
    const before = old();
    const did = c.checkNow();
    c.stop();
    expect(keep.length).toBe(30_000);
    // when there was nothing to give back the check declined; when it compacted, the old generation kept (almost)
    // no holes (not "shrank": the scavenge that follows the compaction may promote into a fresh page)
    const after = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
    if (did) expect(after.space_size - after.space_used_size).toBeLessThan(Math.max(2 * MB, after.space_used_size / 4));
    else expect(before - getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size).toBeLessThan(4 * MB);
  });

  it('compactHeap runs one compacting collection of this thread\'s heap', () => {
    const old = (): { size: number; used: number } => {
      const s = getHeapSpaceStatistics().find((x) => x.space_name === 'old_space')!;
      return { size: s.space_size, used: s.space_used_size };
    };
    expect(compactHeap()).toBe(true);
    const after = old();
    // right after a compaction the old generation holds (almost) no holes
    expect(after.size - after.used).toBeLessThan(Math.max(2 * MB, after.used / 4));
  });

  it("returns the memory of dead ArrayBuffers before it returns (not after V8's background sweep)", () => {
    let bufs: Buffer[] | undefined = [];
    for (let i = 0; i < 48; i++) bufs.push(Buffer.alloc(MB, i));
    expect(compactHeap()).toBe(true); // now in the old generation
    bufs = undefined;
    const before = process.memoryUsage().arrayBuffers;
    expect(compactHeap()).toBe(true);
    expect(before - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(40 * MB);
  });
});
