/**
 * Caps V8's young generation of the main thread after start, best effort
 * only, for a server started without `--max-semi-space-size` (newsfront's
 * launchers give it 8 MiB: bench/server.ts NODE_FLAGS; this cap is for a
 * process started by hand without one).
 *
 * V8 sizes the young generation (two semi-spaces) at start-up: up to 16 MiB
 * per semi-space on a 64-bit host, so ~34 MB committed and resident once a
 * busy server has grown it, whatever the work. `--max-semi-space-size` is
 * read only when the heap is made: `v8.setFlagsFromString` of it later
 * changes nothing (Node 20: a semi-space still grew to 16 MiB). What V8 does
 * read while it runs is `--semi-space-growth-factor`: a semi-space grows from
 * its initial 1 MiB by that factor, after a scavenge that found enough
 * survivors. So the cap lets it grow by 2 while two more doublings stay
 * within `maxSemiBytes` and sets the factor to 1 (no growth) once they would
 * not, checked after every collection of the main thread (a GC performance
 * observer).
 *
 * Why it failed in some runs (issue 14): the observer's callback runs only
 * when the event loop turns, while V8 grows a semi-space after any scavenge
 * with enough survivors. One task that builds tens of MB of long-lived
 * objects (reading a saved view or ingesting a group at start, a batch of a
 * listing) runs several scavenges and so several growths, 1 → 2 → 4 → 8 →
 * 16 MiB, before the first check: a loop allocating 100k objects per turn
 * of the event loop reached 2 × 16 MiB under a 4 MiB cap. Nothing in JS
 * runs between two scavenges of one task, so no runtime cap can be
 * reliable; the command line is. When the process has a
 * `--max-semi-space-size` (`semiSpaceFlagMiB`), the server does not start
 * this cap.
 *
 * The factor is a process-wide flag; a worker thread's young generation
 * (the index writer's: bounded by its own resource limits, 12 MB) still grew
 * to its bound with the factor at 1 (tried: 2.1 → 8.4 MB).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

export interface YoungGenerationCap {
  /** Stops checking and gives V8 its default growth back. */
  stop(): void;
  /** The factor set now (1: no growth, 2: V8's default), or 0 when off. */
  readonly factor: number;
}

/**
 * Switches V8's allocation-site pretenuring on or off for the process (V8's
 * `--allocation-site-pretenuring`, on by default; read while the process
 * runs, so setting it at start is enough). With it on, V8 watches which
 * allocation sites' objects mostly survive scavenges and from then on
 * allocates theirs in the old generation directly. newsfront's cold listings
 * and start-up ingest make hundreds of long-lived objects per batch at sites a
 * one-message FETCH shares (the batch's meta map, its stored metas, the
 * command's closures): after them, those sites were pretenured for good, and
 * a FETCH's short-lived objects went straight to the old generation — ~850
 * bytes per command with 50 clients, ~10 MB/s of garbage that only a major
 * collection frees (issue 14: bench/README.md). Off, what reaches the old
 * generation is what really survives two scavenges (~90 bytes per command).
 */
export function setPretenuring(on: boolean, setFlag: (flag: string) => void = setFlagsFromString): void {
  setFlag(on ? '--allocation-site-pretenuring' : '--no-allocation-site-pretenuring');
}

/**
 * The semi-space size (MiB) the process was started with: the last
 * `--max-semi-space-size` in node's own arguments or in NODE_OPTIONS (either
 * spelling, `=N` or ` N`), else undefined.
 */
export function semiSpaceFlagMiB(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): number | undefined {
  let found: number | undefined;
  const args = [...nodeOptions.split(/\s+/).filter(Boolean), ...execArgv];
  for (let i = 0; i < args.length; i++) {
    const m = /^--max[-_]semi[-_]space[-_]size(?:=(.*))?$/.exec(args[i]!);
    if (!m) continue;
    const v = Number(m[1] ?? args[i + 1]);
    if (Number.isFinite(v) && v > 0) found = v;
  }
  return found;
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
