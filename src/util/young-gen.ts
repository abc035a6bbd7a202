/**
 * Caps V8's young generation of the main thread after start.
 *
 * V8 sizes the young generation (two semi-spaces) at start-up: up to 16 MiB
 * per semi-space on a 64-bit host, so ~34 MB committed and resident once a
 * busy server has grown it, whatever the work. `--max-semi-space-size` can
 * only be given on the command line (the heap is configured before any code
 * runs). What V8 does read while it runs is `--semi-space-growth-factor`: a
 * semi-space grows from its initial 1 MiB by that factor, after a scavenge
 * that found enough survivors. So the cap lets it grow by 2 while two more
 * doublings stay within `maxSemiBytes` and sets the factor to 1 (no growth)
 * once they would not, checked after every collection of the main thread (a
 * GC performance observer). It settles at half the cap, and may reach the
 * cap, never more: the observer's callback comes after the collection, and
 * under load (bench runs at load average 25) a second growth came before it,
 * so a cap checked at one doubling overshot to V8's own 16 MiB. V8 may still
 * shrink the young generation when allocation is slow; it then grows again.
 *
 * The factor is a process-wide flag; a worker thread's young generation
 * (the index writer's: bounded by its own resource limits, 12 MB) still grew
 * to its bound with the factor at 1 (tried: 2.1 → 8.4 MB).
 *
 * Measured (issue 14, bench/memory.js --lite, 100k group, node's
 * `--max-semi-space-size`): 8 MiB semi-spaces committed 16.8 MB instead of
 * 33.6 MB with the same server CPU for the cold and warm ENVELOPE listings
 * and the 50 clients within noise; 4 MiB (8.4 MB) cost the cold listing ~11%
 * more CPU in one run. Hence the default cap of 16 MiB, V8's own maximum:
 * semi-spaces settle at 8 MiB and never pass V8's default.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

export interface YoungGenerationCap {
  /** Stops checking and gives V8 its default growth back. */
  stop(): void;
  /** The factor set now (1: no growth, 2: V8's default), or 0 when off. */
  readonly factor: number;
}

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Starts the cap at `maxSemiBytes` per semi-space (0: off; V8 grows the young
 * generation as it likes). `space` replaces V8's figure of the new space
 * (committed bytes, two semi-spaces), `setFlag` V8's flag setter, `observe:
 * false` leaves the checks to the caller (tests).
 */
export function startYoungGenerationCap(
  maxSemiBytes: number,
  deps: { space?: () => number; setFlag?: (flag: string) => void; observe?: boolean } = {},
): YoungGenerationCap & { check(): void } {
  let factor = 0;
  if (maxSemiBytes <= 0) return { stop: () => undefined, check: () => undefined, factor: 0 };
  const space = deps.space ?? newSpaceBytes;
  const setFlag = deps.setFlag ?? setFlagsFromString;
  // the new space is two semi-spaces plus a little (V8 reports 16.8 MB for two of 8 MiB)
  const limit = 2 * maxSemiBytes * 1.01;
  const check = (): void => {
    // growth is allowed only while two more doublings stay within the cap: the observer's
    // callback comes after the collection, and under load a second growth came first
    const f = space() * 4 <= limit ? 2 : 1;
    if (f !== factor) {
      setFlag(`--semi-space-growth-factor=${f}`);
      factor = f;
    }
  };
  check();
  let observer: PerformanceObserver | undefined;
  if (deps.observe !== false) {
    observer = new PerformanceObserver(() => check());
    observer.observe({ entryTypes: ['gc'] });
  }
  return {
    // V8's default again: the process is left as it was found (tests start and stop servers in one process)
    stop: () => {
      observer?.disconnect();
      if (factor !== 2) setFlag('--semi-space-growth-factor=2');
      factor = 0;
    },
    check,
    get factor() {
      return factor;
    },
  };
}
