import { describe, expect, it } from 'vitest';
import { getHeapSpaceStatistics } from 'node:v8';
import { LONG_COMMAND_MS, MAX_RECHECK_GAP_MS, MIN_GAP_MS, oldGeneration, PAUSE_SHARE, startLeftoverCollector } from '../../src/util/heap-leftovers.js';
import { fullGc, type OldSpace } from '../../src/util/heap-compact.js';
import { silentLogger } from '../../src/util/log.js';

const MB = 1024 * 1024;

/** A fake old generation: collecting brings used back to `live`. */
function fakeHeap(used: number, live: number) {
  const s = { used, live };
  let calls = 0;
  return {
    s,
    space: (): OldSpace => ({ committed: s.used, used: s.used }),
    collect: (): void => {
      calls++;
      s.used = s.live;
    },
    get calls() {
      return calls;
    },
  };
}

describe('startLeftoverCollector', () => {
  it('does nothing with interval 0 or threshold 0', () => {
    for (const [ms, min] of [[0, 32 * MB], [2000, 0]] as const) {
      const h = fakeHeap(30 * MB, 30 * MB);
      const c = startLeftoverCollector(ms, min, silentLogger(), { space: h.space, collect: h.collect, now: () => 1e9 });
      h.s.used = 200 * MB;
      expect(c.checkNow()).toBe(false);
      expect(c.checkNow()).toBe(false);
      expect(h.calls).toBe(0);
      c.stop();
    }
  });

  it('waits while the old generation grows fast, collects once the growth slows', () => {
    const h = fakeHeap(30 * MB, 30 * MB);
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect: h.collect, now: () => 1e9 });
    // a burst: 40 MB promoted since the last check
    h.s.used = 70 * MB;
    expect(c.checkNow()).toBe(false);
    // the burst goes on
    h.s.used = 110 * MB;
    expect(c.checkNow()).toBe(false);
    // over: 2 MB more, 82 MB above the start
    h.s.used = 112 * MB;
    expect(c.checkNow()).toBe(true);
    expect(h.calls).toBe(1);
    expect(h.s.used).toBe(30 * MB);
    expect(c.collections).toBe(1);
    c.stop();
  });

  it('does not collect below the threshold, counted from the last collection V8 ran itself', () => {
    const h = fakeHeap(100 * MB, 30 * MB);
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect: h.collect, now: () => 1e9 });
    // V8 collected: used dropped to 40 MB, then grows slowly by 30 MB
    h.s.used = 40 * MB;
    expect(c.checkNow()).toBe(false);
    for (let used = 46; used <= 70; used += 6) {
      h.s.used = used * MB;
      expect(c.checkNow()).toBe(false);
    }
    // 34 MB above 40, 4 MB since the last check
    h.s.used = 74 * MB;
    expect(c.checkNow()).toBe(true);
    c.stop();
  });

  it('waits for garbage of half the live heap when that is more than the threshold', () => {
    const h = fakeHeap(200 * MB, 200 * MB);
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect: h.collect, now: () => 1e9 });
    for (let used = 205; used <= 295; used += 5) {
      h.s.used = used * MB;
      expect(c.checkNow()).toBe(false);
    }
    h.s.used = 300 * MB;
    expect(c.checkNow()).toBe(true);
    c.stop();
  });

  it("counts the holes V8's own collections left as garbage", () => {
    const h = fakeHeap(30 * MB, 30 * MB);
    let committed = 30 * MB;
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), {
      space: () => ({ used: h.s.used, committed: Math.max(committed, h.s.used) }),
      collect: () => {
        h.collect();
        committed = h.s.used;
      },
      now: () => 1e9,
    });
    // V8 collected a 100 MB old generation down to 35 MB used but kept the pages
    committed = 100 * MB;
    h.s.used = 35 * MB;
    expect(c.checkNow()).toBe(true);
    expect(committed).toBe(30 * MB);
    c.stop();
  });

  it('collects at most once per MIN_GAP_MS', () => {
    const h = fakeHeap(30 * MB, 30 * MB);
    let now = 1e9;
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect: h.collect, now: () => now });
    h.s.used = 100 * MB;
    c.checkNow();
    expect(c.checkNow()).toBe(true);
    h.s.used = 100 * MB;
    c.checkNow();
    now += MIN_GAP_MS - 1;
    expect(c.checkNow()).toBe(false);
    now += 1;
    expect(c.checkNow()).toBe(true);
    expect(h.calls).toBe(2);
    c.stop();
  });

  it('looks again at a heap a collection left large, backing off while it stays large', () => {
    const h = fakeHeap(30 * MB, 30 * MB);
    let now = 1e9;
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect: h.collect, now: () => now });
    // a burst keeps 74 MB live: the collection leaves that
    h.s.live = 74 * MB;
    h.s.used = 175 * MB;
    c.checkNow();
    expect(c.checkNow()).toBe(true);
    // the burst ends (26 MB live), 10 MB promoted: far below the threshold, but the heap is looked at again
    h.s.live = 26 * MB;
    h.s.used = 84 * MB;
    now += MIN_GAP_MS - 1;
    expect(c.checkNow()).toBe(false);
    now += 1;
    expect(c.checkNow()).toBe(true);
    expect(h.s.used).toBe(26 * MB);
    // left small: back to the plain threshold
    h.s.used = 40 * MB;
    now += MIN_GAP_MS;
    expect(c.checkNow()).toBe(false);
    // a heap that stays large: looked at after 10, 20, 40 s … at most MAX_RECHECK_GAP_MS
    h.s.live = 200 * MB;
    h.s.used = 330 * MB;
    c.checkNow();
    now += MIN_GAP_MS;
    expect(c.checkNow()).toBe(true);
    const gaps: number[] = [];
    let t0 = now;
    for (let k = 0; k < 1000; k++) {
      now += 2000;
      h.s.used += MB / 2;
      if (c.checkNow()) {
        gaps.push(now - t0);
        t0 = now;
      }
    }
    // each waits for a quarter of the threshold too (32 s at this rate), then for its gap
    expect(gaps.slice(0, 5)).toEqual([32_000, 32_000, 40_000, 80_000, 160_000]);
    expect(gaps.slice(5).every((g) => g === MAX_RECHECK_GAP_MS)).toBe(true);
    c.stop();
  });

  it('after a long command: collects at once while the heap still grows, not after a short one', () => {
    const h = fakeHeap(30 * MB, 30 * MB);
    let now = 1e9;
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect: h.collect, now: () => now });
    // a listing promoted 60 MB since the last check: the timer would wait for the growth to slow
    h.s.used = 90 * MB;
    expect(c.checkNow()).toBe(false);
    h.s.used = 150 * MB;
    expect(c.afterCommand(LONG_COMMAND_MS - 1)).toBe(false);
    expect(h.calls).toBe(0);
    expect(c.afterCommand(LONG_COMMAND_MS)).toBe(true);
    expect(h.s.used).toBe(30 * MB);
    // below the threshold: nothing, however long the command
    h.s.used = 60 * MB;
    now += MIN_GAP_MS;
    expect(c.afterCommand(60_000)).toBe(false);
    expect(h.calls).toBe(1);
    c.stop();
  });

  it('after a burst: what it held no longer counts as live, collected at once', () => {
    const h = fakeHeap(30 * MB, 30 * MB);
    let now = 1e9;
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect: h.collect, now: () => now });
    // an ingest: the timer collects once the growth slows, while the feed still holds 50 MB of records
    h.s.used = 150 * MB;
    h.s.live = 80 * MB;
    expect(c.checkNow()).toBe(false);
    now += 2000;
    expect(c.checkNow()).toBe(true);
    expect(h.s.used).toBe(80 * MB);
    // the writer took them: dead now, 6 MB more promoted meanwhile; the timer would wait MIN_GAP_MS
    h.s.live = 30 * MB;
    h.s.used = 86 * MB;
    now += 3000;
    expect(c.checkNow()).toBe(false);
    expect(c.afterBurst(50 * MB)).toBe(true);
    expect(h.s.used).toBe(30 * MB);
    expect(h.calls).toBe(2);
    // nothing held and no garbage: nothing to do
    now += 3000;
    expect(c.afterBurst(0)).toBe(false);
    c.stop();
  });

  it('after long commands: at most one collection per PAUSE_SHARE times the last pause, none sooner than MIN_GAP_MS by the timer', () => {
    let now = 1e9;
    const h = fakeHeap(30 * MB, 30 * MB);
    // each collection takes 50 ms of the (fake) clock
    const collect = (): void => {
      h.collect();
      now += 50;
    };
    const c = startLeftoverCollector(2000, 32 * MB, silentLogger(), { space: h.space, collect, now: () => now });
    h.s.used = 100 * MB;
    expect(c.afterCommand(1500)).toBe(true);
    // another long command ended 0.4 s later with as much garbage: the gap is 10 × 50 ms counted from the last start
    now += 400;
    h.s.used = 100 * MB;
    expect(c.afterCommand(1500)).toBe(false);
    now += PAUSE_SHARE * 50 - 450;
    expect(c.afterCommand(1500)).toBe(true);
    expect(h.calls).toBe(2);
    // the timer keeps its own gap from that collection
    h.s.used = 100 * MB;
    now += 2000;
    c.checkNow();
    now += 2000;
    expect(c.checkNow()).toBe(false);
    now += MIN_GAP_MS;
    expect(c.checkNow()).toBe(true);
    c.stop();
  });

  it("counts V8's large-object space as part of the old generation", () => {
    // 2M entries, 16 MB: far above V8's largest regular object
    const big = new Array<number>(2_000_000).fill(1);
    // born in the young generation's large-object space; a full collection moves it to the old one's
    const gc = fullGc();
    if (gc instanceof Error) throw gc;
    gc();
    const old = getHeapSpaceStatistics().find((sp) => sp.space_name === 'old_space')!;
    expect(oldGeneration().used - old.space_used_size).toBeGreaterThanOrEqual(16_000_000);
    expect(big.length).toBe(2_000_000);
  });
});
